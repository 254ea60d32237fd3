//! `[simulator.peer]` of `make bench`: whole one-pass runs of one model on a simulated task
//! group with embedding tables, ours (`adatt_engine::train_group` on the stream, generated on a
//! thread while it trains) and a plain PyTorch loop (`scripts/bench/peer_sim.py`: one
//! `nn.Embedding` per id feature in front of the reference modules, Adam, the same rows in the
//! same order, written for it beforehand and loaded before its clock starts), back to back on
//! the same machine, threads and processes; and their ratio.

use std::path::Path;
use std::process::Command;

use adatt_data::sim::{SimStream, Simulator};
use adatt_engine::{SimData, TrainData};
use adatt_experiment::jobs::resolve_jobs;
use adatt_spec::metrics::MetricKind;
use adatt_spec::TrainConfig;
use tch::{Device, Tensor};

use crate::child::{run_all_json, this_exe};
use crate::config::{SimBench, SimPeer};
use crate::peer::WholeRun;
use crate::{BenchError, BenchModel, Result};

/// The `[simulator.peer]` section and the model it names.
fn setting(cfg: &SimBench) -> Result<(&SimPeer, &BenchModel)> {
    let p = cfg
        .peer
        .as_ref()
        .ok_or_else(|| BenchError::Unexpected("no [simulator.peer] section".into()))?;
    let bm = cfg
        .models
        .iter()
        .find(|m| m.name == p.model)
        .expect("validated: the peer's model is one of the models");
    Ok((p, bm))
}

/// The rows both programs train on.
fn sim_data(cfg: &SimBench, p: &SimPeer) -> Result<SimData> {
    Ok(SimData {
        sim: Simulator::new(&cfg.preset.config()?, cfg.world_seed)?,
        train_rows: p.train_rows,
        valid_rows: p.eval_rows,
        test_rows: p.eval_rows,
        embedding_dim: cfg.embedding_dim,
    })
}

/// The training config of both programs: `[train]`'s batch size and weight decay, one epoch,
/// the peer's learning rate, constant.
fn train_config(train: &TrainConfig, p: &SimPeer) -> TrainConfig {
    TrainConfig {
        epochs: 1,
        lr: p.lr,
        lr_schedule: Default::default(),
        checkpoints: Vec::new(),
        ..train.clone()
    }
}

/// Our whole run (a child's hidden `--whole-sim-run`).
pub fn ours(cfg: &SimBench, train: &TrainConfig) -> Result<WholeRun> {
    let (p, bm) = setting(cfg)?;
    let data = TrainData::simulated(&sim_data(cfg, p)?, Device::Cpu)?;
    crate::peer::whole_run(&data, bm, &train_config(train, p), p.seed)
}

/// The rows of both programs as a safetensors file at `path`:
/// `{train,valid,test}.{ids,dense,labels}`, ids as i64, the rest as f32, row-major.
fn write_rows(sd: &SimData, path: &Path) -> Result<()> {
    let sim_cfg = sd.sim.config();
    let (n_ids, n_dense, t) = (
        2 + sim_cfg.contexts.len(),
        sim_cfg.dense,
        sim_cfg.tasks.len(),
    );
    let mut named = Vec::new();
    for (split, stream, n) in [
        ("train", SimStream::Train, sd.train_rows),
        ("valid", SimStream::Valid, sd.valid_rows),
        ("test", SimStream::Test, sd.test_rows),
    ] {
        let rows = sd.sim.rows(stream, 0, n);
        let ids: Vec<i64> = rows.ids.iter().map(|&i| i64::from(i)).collect();
        let n = rows.n as i64;
        named.push((
            format!("{split}.ids"),
            Tensor::from_slice(&ids).view([n, n_ids as i64]),
        ));
        named.push((
            format!("{split}.dense"),
            Tensor::from_slice(&rows.dense).view([n, n_dense as i64]),
        ));
        named.push((
            format!("{split}.labels"),
            Tensor::from_slice(&rows.labels).view([n, t as i64]),
        ));
    }
    let bytes = adatt_models::tensor_file::to_bytes(&named)
        .map_err(|e| BenchError::Unexpected(format!("the simulated rows: {e}")))?;
    adatt_spec::atomic::write(path, &bytes)?;
    Ok(())
}

/// The peer's whole run on the rows at `rows` (`scripts/bench/peer_sim.py`).
fn peer_command(
    cfg: &SimBench,
    train: &TrainConfig,
    rows: &Path,
    kinds: &[MetricKind],
    cards: &[usize],
    threads: usize,
) -> Result<Command> {
    let (p, bm) = setting(cfg)?;
    let python = crate::child::venv_python();
    let model = serde_json::to_string(&bm.model)
        .map_err(|e| BenchError::Unexpected(format!("the model of {}: {e}", bm.name)))?;
    let join = |v: Vec<String>| v.join(",");
    let mut c = Command::new(python);
    c.arg("scripts/bench/peer_sim.py")
        .arg("--rows")
        .arg(rows)
        .args(["--model", &model])
        .args([
            "--kinds",
            &join(
                kinds
                    .iter()
                    .map(|k| format!("{k:?}").to_lowercase())
                    .collect(),
            ),
        ])
        .args([
            "--cardinalities",
            &join(cards.iter().map(ToString::to_string).collect()),
        ])
        .args(["--embedding-dim", &cfg.embedding_dim.to_string()])
        .args(["--batch-size", &train.batch_size.to_string()])
        .args(["--lr", &p.lr.to_string()])
        .args(["--weight-decay", &train.weight_decay.to_string()])
        .args(["--threads", &threads.to_string()])
        .args(["--seed", &p.seed.to_string()]);
    Ok(c)
}

/// The section: for each process count, ours then the peer, their whole-run seconds and ratio;
/// `config` is the bench config's file (our runs are child processes that read it).
pub fn section(
    config: &Path,
    cfg: &SimBench,
    train: &TrainConfig,
    threads: usize,
) -> Result<String> {
    let (p, _) = setting(cfg)?;
    let sd = sim_data(cfg, p)?;
    let rows = std::env::temp_dir().join(format!(
        "adatt-bench-sim-rows-{}.safetensors",
        std::process::id()
    ));
    write_rows(&sd, &rows)?;
    let kinds: Vec<MetricKind> = sd
        .sim
        .config()
        .tasks
        .iter()
        .map(|t| MetricKind::from(t.kind))
        .collect();
    let peer = Peer {
        rows: &rows,
        kinds: &kinds,
        cards: &sd.sim.cardinalities(),
    };
    let md = runs(config, cfg, train, threads, &peer);
    let _ = std::fs::remove_file(&rows);
    md
}

/// What the peer's command reads: the rows' file, the tasks' kinds, the tables' rows.
struct Peer<'a> {
    rows: &'a Path,
    kinds: &'a [MetricKind],
    cards: &'a [usize],
}

/// [`section`] with the rows written for the peer.
fn runs(
    config: &Path,
    cfg: &SimBench,
    train: &TrainConfig,
    threads: usize,
    peer: &Peer<'_>,
) -> Result<String> {
    let (p, bm) = setting(cfg)?;
    let mut md = format!(
        "\n### Whole one-pass runs against a PyTorch peer with `nn.Embedding`\n\n{} on {} \
         training rows of the stream (one pass, batch {}, Adam lr {}, weight decay {}; \
         validation after the pass, test once), {} validation and {} test rows: ours \
         (`adatt_engine::train_group`, the stream generated on a thread while it trains) and \
         a plain PyTorch loop (`scripts/bench/peer_sim.py`: one `nn.Embedding` per id feature \
         in front of the reference modules, Adam, the same rows in the same order, loaded \
         before its clock starts, with `torch.set_flush_denormal(True)`), back to back; seed \
         {}. With `jobs` processes at once, each has {threads}/jobs threads and the seconds \
         are the mean over the processes. Ratio = peer's seconds / ours.\n\n| model | jobs × \
         threads | ours s | peer s | **ratio** | train / eval s: ours | peer |\n\
         |---|---|---|---|---|---|---|\n",
        bm.name,
        p.train_rows,
        train.batch_size,
        p.lr,
        train.weight_decay,
        p.eval_rows,
        p.eval_rows,
        p.seed
    );
    for &j in &p.jobs {
        let jobs = resolve_jobs(j, Device::Cpu);
        let per = (threads / jobs).max(1);
        let ours_cmds = (0..jobs)
            .map(|_| -> Result<Command> {
                let mut c = Command::new(this_exe("ours")?);
                c.arg("--config")
                    .arg(config)
                    .args(["--threads", &per.to_string()])
                    .arg("--whole-sim-run");
                Ok(c)
            })
            .collect::<Result<_>>()?;
        let ours: Vec<WholeRun> = run_all_json(ours_cmds, &format!("ours for {}", bm.name))?;
        let peer_cmds = (0..jobs)
            .map(|_| peer_command(cfg, train, peer.rows, peer.kinds, peer.cards, per))
            .collect::<Result<_>>()?;
        let peer: Vec<WholeRun> = run_all_json(peer_cmds, &format!("peer for {}", bm.name))?;
        crate::peer::check_same_model(bm, &ours[0], &peer)?;
        let total = |r: &[WholeRun]| crate::peer::mean(r, |w| w.total_s);
        let split = |r: &[WholeRun]| {
            format!(
                "{:.1} / {:.1}",
                crate::peer::mean(r, |w| w.epochs.iter().map(|e| e.train_s).sum()),
                crate::peer::mean(r, |w| w.epochs.iter().map(|e| e.eval_s).sum())
            )
        };
        let ratio = total(&peer) / total(&ours);
        eprintln!(
            "simulator peer: {} jobs={jobs} x {per}: ours {:.1} s, peer {:.1} s, {ratio:.2}x",
            bm.name,
            total(&ours),
            total(&peer)
        );
        md.push_str(&format!(
            "| {} | {jobs} × {per} | {:.1} | {:.1} | **{ratio:.2}×** | {} | {} |\n",
            bm.name,
            total(&ours),
            total(&peer),
            split(&ours),
            split(&peer)
        ));
    }
    Ok(md)
}
