//! The throughput rows of `make bench`: the training loop's own step (`adatt_engine::Learner`)
//! per device × processes × input path × architecture × R, measured in this process or in
//! `jobs` child processes at once, and their tables.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use adatt_engine::{Learner, TrainData};
use adatt_experiment::jobs::resolve_jobs;
use adatt_models::Model;
use adatt_spec::InputMode;
use tch::{Device, Kind, Tensor};

use crate::child::{run_all_json, this_exe};
use crate::{BenchConfig, BenchError, BenchModel, Result};

/// What one process measured for one configuration.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Measured {
    samples_per_s_per_replica: f64,
    flops_per_sample: f64,
    peak_mem_mib: f64,
    fwd_ms: f64,
    fwd_bwd_ms: f64,
    step_ms: f64,
}

/// Runs `jobs` copies of this executable at once on one configuration (`--one INPUT MODEL R`,
/// indices into the config's `inputs` and `models`) and collects their results.
fn measure_in_processes(
    config: &Path,
    jobs: usize,
    threads: usize,
    idx: [usize; 3],
) -> Result<Vec<Measured>> {
    let what = "a bench process";
    let exe = this_exe(what)?;
    let commands = (0..jobs)
        .map(|_| {
            let mut c = std::process::Command::new(&exe);
            c.arg("--config")
                .arg(config)
                .args(["--threads", &threads.to_string(), "--one"])
                .args(idx.iter().map(|i| i.to_string()));
            c
        })
        .collect();
    run_all_json(commands, what)
}

/// One measured configuration (a table row).
pub struct Row {
    device: String,
    jobs: usize,
    model: String,
    input: InputMode,
    replicas: usize,
    samples_per_s_per_replica: f64,
    s_per_replica_epoch: f64,
    gflops: f64,
    peak_mem_mib: f64,
    breakdown: Breakdown,
}

/// Dense-equivalent training FLOPs per sample: every Linear is applied once per sample, so
/// forward MACs = Σ numel(2-D weights); training ≈ 3× forward (forward + two backward matmuls);
/// 2 FLOPs per MAC. Gate/expert fusion products are omitted (< 1% at these sizes).
fn train_flops_per_sample(m: &Model) -> f64 {
    let macs: i64 = m
        .official_param_names()
        .iter()
        .filter(|(n, s)| s.len() == 2 && n.ends_with("weight"))
        .map(|(_, s)| s[0] * s[1])
        .sum();
    6.0 * macs as f64
}

/// Milliseconds per step of: forward only, forward + backward, and the full step (+ Adam).
struct Breakdown {
    fwd_ms: f64,
    fwd_bwd_ms: f64,
    step_ms: f64,
}

/// One configuration measured in this process: the training loop's own step
/// (`adatt_engine::Learner`: gather, forward, weighted losses, backward, Adam) on random batches.
pub fn measure(data: &TrainData, bm: &BenchModel, cfg: &BenchConfig, r: usize) -> Result<Measured> {
    let seeds: Vec<u64> = (0..r as u64).collect();
    let mut learner = Learner::new(data, &bm.model, &cfg.train, &seeds)?;
    let train = data
        .train
        .table()
        .ok_or_else(|| BenchError::Unexpected("the bench trains on Census tables".into()))?;
    let n = train.n as i64;
    let b = cfg.train.batch_size as i64;
    let idx = Tensor::randint(n, [r as i64, b], (Kind::Int64, data.device));
    let w = Tensor::ones(
        [r as i64, data.kinds.len() as i64],
        (Kind::Float, data.device),
    );
    // Above R = 10 a step already averages over R replicas: time proportionally fewer steps.
    let steps = if r > 10 {
        (cfg.steps * 10 / r).max(5)
    } else {
        cfg.steps
    };
    let (warmup, device) = (cfg.warmup_steps, data.device);
    let fwd = seconds_per_call(warmup, steps, device, &mut || {
        learner.forward(train, &idx, &w)?;
        Ok(())
    })?;
    let fwd_bwd_s = seconds_per_call(warmup, steps, device, &mut || {
        let f = learner.forward(train, &idx, &w)?;
        Ok(learner.backward(f)?)
    })?;
    let step = seconds_per_call(warmup, steps, device, &mut || {
        let f = learner.forward(train, &idx, &w)?;
        learner.backward(f)?;
        Ok(learner.update()?)
    })?;
    Ok(Measured {
        samples_per_s_per_replica: cfg.train.batch_size as f64 / step,
        flops_per_sample: train_flops_per_sample(learner.model()),
        peak_mem_mib: adatt_engine::runtime::peak_rss_mib(),
        fwd_ms: fwd * 1e3,
        fwd_bwd_ms: fwd_bwd_s * 1e3,
        step_ms: step * 1e3,
    })
}

/// Seconds per call of `f` after `warmup` untimed calls (on CUDA, synchronised before and after
/// the timed calls).
pub fn seconds_per_call(
    warmup: usize,
    steps: usize,
    device: Device,
    f: &mut dyn FnMut() -> Result<()>,
) -> Result<f64> {
    let sync = || {
        if let Device::Cuda(i) = device {
            tch::Cuda::synchronize(i as i64);
        }
    };
    for _ in 0..warmup {
        f()?;
    }
    sync();
    let t = Instant::now();
    for _ in 0..steps {
        f()?;
    }
    sync();
    Ok(t.elapsed().as_secs_f64() / steps.max(1) as f64)
}

/// Which rows to measure.
pub struct Selection<'a> {
    /// The bench config's file (passed on to child processes).
    pub config: &'a Path,
    /// Devices.
    pub devices: &'a [Device],
    /// Process counts on the CPU (0 = one per core).
    pub job_counts: &'a [usize],
    /// Only R up to this.
    pub max_replicas: Option<usize>,
    /// Intra-op threads in all.
    pub threads: usize,
}

/// Every selected row, measured.
pub fn rows(cfg: &BenchConfig, ds: &adatt_data::Dataset, sel: &Selection<'_>) -> Result<Vec<Row>> {
    let n_train = ds.train.n_rows as f64;
    let mut rows = Vec::new();
    for (&device, jobs) in sel.devices.iter().flat_map(|d| {
        let js: Vec<usize> = match d {
            Device::Cpu => sel
                .job_counts
                .iter()
                .map(|&j| resolve_jobs(j, *d))
                .collect(),
            _ => vec![1],
        };
        js.into_iter().map(move |j| (d, j))
    }) {
        for (ii, &input) in cfg.inputs.iter().enumerate() {
            let data = (jobs == 1).then(|| TrainData::new(ds, input, device, 0));
            for (mi, bm) in cfg.models.iter().enumerate() {
                for &r in cfg
                    .replicas
                    .iter()
                    .filter(|&&r| sel.max_replicas.is_none_or(|m| r <= m))
                {
                    let ms: Vec<Measured> = match &data {
                        Some(data) => vec![measure(data, bm, cfg, r)?],
                        None => measure_in_processes(
                            sel.config,
                            jobs,
                            (sel.threads / jobs).max(1),
                            [ii, mi, r],
                        )?,
                    };
                    let n = ms.len() as f64;
                    let mean = |f: fn(&Measured) -> f64| ms.iter().map(f).sum::<f64>() / n;
                    // All processes together: replica-samples per second.
                    let total_sps: f64 = ms.iter().map(|m| m.samples_per_s_per_replica).sum();
                    let row = Row {
                        device: format!("{device:?}"),
                        jobs,
                        model: bm.name.clone(),
                        input: adatt_engine::resolve_input(input, device),
                        replicas: r,
                        samples_per_s_per_replica: mean(|m| m.samples_per_s_per_replica),
                        // Wall time for the training set to be seen once per replica, divided by
                        // the replicas trained at once (R per process, all processes).
                        s_per_replica_epoch: n_train / (total_sps * r as f64),
                        gflops: total_sps * r as f64 * ms[0].flops_per_sample / 1e9,
                        peak_mem_mib: ms.iter().map(|m| m.peak_mem_mib).fold(0.0, f64::max),
                        breakdown: Breakdown {
                            fwd_ms: mean(|m| m.fwd_ms),
                            fwd_bwd_ms: mean(|m| m.fwd_bwd_ms),
                            step_ms: mean(|m| m.step_ms),
                        },
                    };
                    eprintln!(
                        "{:<8} jobs={} {:<16} {:<7?} R={:<4} {:>10.0} samples/s/replica {:>7.2} s/replica-epoch {:>7.1} GFLOP/s | ms/step fwd {:.1} fwd+bwd {:.1} +adam {:.1}",
                        row.device, jobs, row.model, row.input, r, row.samples_per_s_per_replica, row.s_per_replica_epoch, row.gflops,
                        row.breakdown.fwd_ms, row.breakdown.fwd_bwd_ms, row.breakdown.step_ms
                    );
                    rows.push(row);
                }
            }
        }
    }
    Ok(rows)
}

/// `bench.csv` and the head of `bench.md` (its throughput table).
pub fn tables(
    rows: &[Row],
    cfg: &BenchConfig,
    threads: usize,
    n_train_rows: usize,
) -> (String, String) {
    let host = adatt_spec::manifest::host_description();
    let mut csv = String::from("device,jobs,model,input,replicas,samples_per_s_per_replica,s_per_replica_epoch,gflops,peak_rss_mib,fwd_ms,fwd_bwd_ms,step_ms\n");
    let mut md = format!(
        "# Training throughput (make bench)\n\nHost: {host}; {threads} intra-op threads in all (divided among the `jobs` processes measured at once, each training its own R replicas); batch {}; {} timed steps after {} warm-up (steps × 10 / R, at least 5, above R = 10); Census train = {} rows.\nEach step is the training loop's own (`adatt_engine::Learner`: gather of a random batch, forward, task losses, backward, Adam). samples/s per replica and ms/step are per process; s per replica-epoch and GFLOP/s are for all processes together.\nGFLOP/s counts the dense-equivalent model (6 FLOPs per weight per sample), so the sparse path can exceed the hardware's dense rate.\nPeak memory is the process's peak RSS so far (CPU).\n\n| device | jobs | model | input | R | samples/s per replica | s per replica-epoch | GFLOP/s | peak RSS MiB | ms/step: forward | + backward | + Adam |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        cfg.train.batch_size, cfg.steps, cfg.warmup_steps, n_train_rows
    );
    for r in rows {
        // One list of cells per row, written to both files, so the columns cannot diverge.
        let b = &r.breakdown;
        let cells = [
            r.device.clone(),
            r.jobs.to_string(),
            r.model.clone(),
            format!("{:?}", r.input),
            r.replicas.to_string(),
            format!("{:.1}", r.samples_per_s_per_replica),
            format!("{:.3}", r.s_per_replica_epoch),
            format!("{:.2}", r.gflops),
            format!("{:.0}", r.peak_mem_mib),
            format!("{:.2}", b.fwd_ms),
            format!("{:.2}", b.fwd_bwd_ms),
            format!("{:.2}", b.step_ms),
        ];
        let quoted: Vec<String> = cells
            .iter()
            .map(|c| {
                if c.contains(',') {
                    format!("\"{c}\"")
                } else {
                    c.clone()
                }
            })
            .collect();
        writeln!(csv, "{}", quoted.join(",")).expect("write");
        writeln!(md, "| {} |", cells.join(" | ")).expect("write");
    }
    (csv, md)
}
