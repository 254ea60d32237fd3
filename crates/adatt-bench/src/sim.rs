//! The simulated-data section of `make bench`: the task-group simulator's generation speed
//! against the training speed of the models that read it (one process, R = 1: the most rows per
//! second a training run asks of the stream, which every replica of a group shares), and the
//! embedding tables' gradient and update, dense (what the loop does) against sparse.

use std::fmt::Write as _;
use std::time::Instant;

use adatt_data::sim::{SimStream, Simulator};
use adatt_engine::optim::{Adam, AdamConfig, AdamImpl};
use adatt_engine::{Learner, SimData, TrainData, TrainRows};
use adatt_spec::TrainConfig;
use tch::{Device, Kind, Tensor};

use crate::config::SimBench;
use crate::step::seconds_per_call;
use crate::{BenchError, BenchModel, Result};

/// Rows per second of the training step of `model` on batches of the stream (generated
/// beforehand, so that only training is timed).
fn training_rows_per_s(
    sim: &Simulator,
    cfg: &SimBench,
    train: &TrainConfig,
    bm: &BenchModel,
    warmup: usize,
) -> Result<f64> {
    let bs = train.batch_size;
    let sd = SimData {
        sim: sim.clone(),
        train_rows: (warmup + cfg.steps) * bs,
        // Evaluation sets large enough to hold a positive of group3's 0.1 % task (they are
        // generated, not timed).
        valid_rows: 20_000,
        test_rows: 20_000,
        embedding_dim: cfg.embedding_dim,
    };
    let data = TrainData::simulated(&sd, Device::Cpu)?;
    let TrainRows::Stream(stream) = &data.train else {
        return Err(BenchError::Unexpected(
            "simulated training rows are a stream".into(),
        ));
    };
    let batches: Vec<_> = (0..warmup + cfg.steps)
        .map(|k| stream.batch(k * bs, bs, Device::Cpu))
        .collect();
    let mut learner = Learner::new(&data, &bm.model, train, &[0])?;
    let w = Tensor::ones([1, data.kinds.len() as i64], (Kind::Float, Device::Cpu));
    let mut k = 0;
    let s = seconds_per_call(warmup, cfg.steps, Device::Cpu, &mut || {
        let (rows, y) = &batches[k];
        k += 1;
        let f = learner.forward_rows(rows, y, &w)?;
        learner.backward(f)?;
        learner.update()?;
        Ok(())
    })?;
    Ok(bs as f64 / s)
}

/// Milliseconds per step of the embedding tables alone (lookup of a batch, backward of a
/// random upstream gradient, Adam): dense gradients and Adam over every row (what the loop
/// does), against sparse gradients (`embedding(.., sparse = true)`, coalesced) and a lazy Adam
/// over the rows of the batch (a different optimizer: rows not in the batch keep their moments
/// and get no weight decay).
fn embedding_steps(
    cards: &[usize],
    dim: usize,
    train: &TrainConfig,
    warmup: usize,
    steps: usize,
) -> Result<(f64, f64)> {
    let bs = train.batch_size as i64;
    let opts = (Kind::Float, Device::Cpu);
    let tables: Vec<Tensor> = cards
        .iter()
        .map(|&c| Tensor::randn([c as i64, dim as i64], opts).set_requires_grad(true))
        .collect();
    let ids: Vec<Tensor> = cards
        .iter()
        .map(|&c| Tensor::randint(c as i64, [bs], (Kind::Int64, Device::Cpu)))
        .collect();
    let upstream = Tensor::randn([bs, dim as i64], opts);
    let adam_cfg = AdamConfig {
        lr: train.lr,
        beta1: train.beta1,
        beta2: train.beta2,
        eps: train.eps,
        weight_decay: train.weight_decay,
    };
    let mut adam = Adam::new(
        tables.iter().map(Tensor::shallow_clone).collect(),
        adam_cfg,
        AdamImpl::Auto,
    );
    let dense = seconds_per_call(warmup, steps, Device::Cpu, &mut || {
        adam.zero_grad();
        let loss = tables
            .iter()
            .zip(&ids)
            .map(|(t, i)| (t.index_select(0, i) * &upstream).sum(Kind::Float))
            .fold(Tensor::zeros([], opts), |a, b| a + b);
        loss.backward();
        adam.step()?;
        Ok(())
    })?;
    let sparse_tables: Vec<Tensor> = tables
        .iter()
        .map(|t| t.detach().copy().set_requires_grad(true))
        .collect();
    let moments: Vec<(Tensor, Tensor)> = sparse_tables
        .iter()
        .map(|t| (t.zeros_like(), t.zeros_like()))
        .collect();
    let mut step = 0;
    let sparse = seconds_per_call(warmup, steps, Device::Cpu, &mut || {
        step += 1;
        for t in &sparse_tables {
            let mut g = t.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
        let loss = sparse_tables
            .iter()
            .zip(&ids)
            .map(|(t, i)| (Tensor::embedding(t, i, -1, false, true) * &upstream).sum(Kind::Float))
            .fold(Tensor::zeros([], opts), |a, b| a + b);
        loss.backward();
        let _g = tch::no_grad_guard();
        for (t, (m, v)) in sparse_tables.iter().zip(&moments) {
            let g = t.grad().coalesce();
            let (rows, gv) = (g.indices().get(0), g.values());
            lazy_adam_rows(t, m, v, &rows, &gv, &adam_cfg, step);
        }
        Ok(())
    })?;
    Ok((dense * 1e3, sparse * 1e3))
}

/// The training loop's Adam (L2 weight decay added to the gradient, as libtorch's `Adam`) on
/// `rows` of `p` only, with their gradient `g` (`[rows, dim]`).
fn lazy_adam_rows(
    p: &Tensor,
    m: &Tensor,
    v: &Tensor,
    rows: &Tensor,
    g: &Tensor,
    c: &AdamConfig,
    step: i32,
) {
    let (mut p, mut m, mut v) = (p.shallow_clone(), m.shallow_clone(), v.shallow_clone());
    let pr = p.index_select(0, rows);
    let g = g + &pr * c.weight_decay;
    let mr = m.index_select(0, rows) * c.beta1 + &g * (1.0 - c.beta1);
    let vr = v.index_select(0, rows) * c.beta2 + g.square() * (1.0 - c.beta2);
    let (bc1, bc2) = (1.0 - c.beta1.powi(step), 1.0 - c.beta2.powi(step));
    let upd = (&mr / bc1) / ((&vr / bc2).sqrt() + c.eps) * c.lr;
    let _ = p.index_copy_(0, rows, &(pr - upd));
    let _ = m.index_copy_(0, rows, &mr);
    let _ = v.index_copy_(0, rows, &vr);
}

/// The section of `bench.md`, measured on `threads` threads (`config`: the bench config's
/// file, which the whole runs of `[simulator.peer]` read in child processes).
pub fn section(
    config: &std::path::Path,
    cfg: &SimBench,
    train: &TrainConfig,
    threads: usize,
    warmup: usize,
) -> Result<String> {
    let preset = cfg.preset.config()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let (sim, setup_s, gen_rows_per_s) = pool.install(|| -> Result<(Simulator, f64, f64)> {
        let t = Instant::now();
        let sim = Simulator::new(&preset, cfg.world_seed)?;
        let setup_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let rows = sim.rows(SimStream::Train, 0, cfg.rows);
        let s = t.elapsed().as_secs_f64();
        if rows.n != cfg.rows {
            return Err(BenchError::Unexpected(format!(
                "simulator returned {} rows",
                rows.n
            )));
        }
        Ok((sim, setup_s, cfg.rows as f64 / s))
    })?;
    eprintln!(
        "simulator {}: set-up {setup_s:.2} s, {gen_rows_per_s:.0} rows/s on {threads} threads",
        cfg.preset
    );
    let mut md = format!(
        "\n## Simulated data (adatt_data::sim, preset {})\n\nWorld set-up (latents, calibration \
         on {} rows): {setup_s:.2} s. Generation of {} training rows: **{gen_rows_per_s:.0} \
         rows/s** on {threads} threads. Training: the loop's step (`Learner`) on stream batches \
         of {} generated beforehand, one process, R = 1, {threads} threads, embedding dimension \
         {}; {} timed steps after {warmup}. A training run's stream is shared by its R replicas, \
         so R = 1 asks the most rows per second of it.\n\n| model | training rows/s | generation \
         / training |\n|---|---|---|\n",
        cfg.preset,
        preset.calibration_rows,
        cfg.rows,
        train.batch_size,
        cfg.embedding_dim,
        cfg.steps
    );
    for bm in &cfg.models {
        let train_rows_per_s = training_rows_per_s(&sim, cfg, train, bm, warmup)?;
        let ratio = gen_rows_per_s / train_rows_per_s;
        eprintln!(
            "simulator {}: {} trains {train_rows_per_s:.0} rows/s; generation is {ratio:.1}x",
            cfg.preset, bm.name
        );
        writeln!(md, "| {} | {train_rows_per_s:.0} | {ratio:.1}× |", bm.name).expect("write");
    }
    let cards = sim.cardinalities();
    let (dense_ms, sparse_ms) =
        embedding_steps(&cards, cfg.embedding_dim, train, warmup, cfg.steps)?;
    eprintln!("embedding tables: dense {dense_ms:.2} ms/step, sparse {sparse_ms:.2} ms/step");
    write!(
        md,
        "\nEmbedding tables alone ({} tables, {} rows in all, dimension {}; batch {}): lookup, \
         backward and Adam per step **{dense_ms:.2} ms** with dense gradients and Adam over every \
         row (what the training loop does), **{sparse_ms:.2} ms** with sparse gradients \
         (`embedding(sparse = true)`, coalesced) and a lazy Adam over the batch's rows only (a \
         different optimizer: rows not in the batch keep their moments and get no weight \
         decay).\n",
        cards.len(),
        cards.iter().sum::<usize>(),
        cfg.embedding_dim,
        train.batch_size
    )
    .expect("write");
    if cfg.peer.is_some() {
        md.push_str(&crate::sim_peer::section(config, cfg, train, threads)?);
    }
    Ok(md)
}
