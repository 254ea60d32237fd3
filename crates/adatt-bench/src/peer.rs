//! The same-run PyTorch peer of `make bench`: whole training runs of ours and of a plain
//! PyTorch loop (`scripts/bench/peer.py`: the reference modules, a DataLoader, Adam), as
//! released and with `torch.set_flush_denormal(True)`, back to back on the same machine, data
//! (the config's `[census]` rows, `paper` protocol), batch size, epochs, threads and processes;
//! and their ratios.

use std::path::Path;
use std::process::Command;

use adatt_engine::trainer::Progress;
use adatt_engine::{train_group, Learner, TrainData};
use adatt_experiment::jobs::resolve_jobs;
use adatt_spec::TrainConfig;
use tch::Device;

use crate::child::{run_all_json, this_exe};
use crate::config::{BenchConfig, PeerBench};
use crate::{BenchError, BenchModel, Result};

/// One whole run, as ours and the peer report it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct WholeRun {
    /// Parameters of the model.
    pub params: i64,
    /// Training rows.
    pub train_rows: usize,
    /// Per epoch.
    pub epochs: Vec<EpochTime>,
    /// Seconds of the whole run (training, every epoch's validation, the test evaluation
    /// after training), after the data are loaded.
    pub total_s: f64,
}

/// One epoch's seconds.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct EpochTime {
    /// In the training steps.
    pub train_s: f64,
    /// In the end-of-epoch evaluation (the validation set).
    pub eval_s: f64,
}

/// The seconds of every epoch of a run, as its progress reports them.
struct EpochTimes(Vec<EpochTime>);

impl Progress for EpochTimes {
    fn epoch(&mut self, _epoch: usize, _mean_loss: f64, train_s: f64, eval_s: f64) {
        self.0.push(EpochTime { train_s, eval_s });
    }
}

/// Our whole run of `bm` in this process (a child of [`section`], `--whole-run`).
pub fn ours(
    ds: &adatt_data::Dataset,
    bm: &BenchModel,
    train: &TrainConfig,
    p: &PeerBench,
) -> Result<WholeRun> {
    let cfg = TrainConfig {
        epochs: p.epochs,
        ..train.clone()
    };
    let data = TrainData::new(ds, adatt_spec::InputMode::Auto, Device::Cpu, p.max_rows);
    whole_run(&data, bm, &cfg, p.seed)
}

/// One whole run of `bm` on `data` with seed `seed`, timed from the start of training.
pub(crate) fn whole_run(
    data: &TrainData,
    bm: &BenchModel,
    cfg: &TrainConfig,
    seed: u64,
) -> Result<WholeRun> {
    let params = Learner::new(data, &bm.model, cfg, &[seed])?
        .model()
        .params_per_replica() as i64;
    let mut times = EpochTimes(Vec::new());
    let started = std::time::Instant::now();
    train_group(data, &bm.model, cfg, &[seed], &mut times, None)?;
    Ok(WholeRun {
        params,
        train_rows: data.train.n(),
        epochs: times.0,
        total_s: started.elapsed().as_secs_f64(),
    })
}

/// Which program a run is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Program {
    Ours,
    Peer { flush: bool },
}

impl Program {
    fn label(self) -> &'static str {
        match self {
            Program::Ours => "ours",
            Program::Peer { flush: false } => "PyTorch, as released",
            Program::Peer { flush: true } => "PyTorch + flush_denormal",
        }
    }
}

/// What every whole run of a section shares: the config's file (our runs are child processes
/// that read it), the config and its `[peer]`.
#[derive(Clone, Copy)]
struct Setting<'a> {
    config: &'a Path,
    cfg: &'a BenchConfig,
    peer: &'a PeerBench,
}

/// Our whole run of `[[models]]` entry `mi`: this executable with `--whole-run`.
fn our_command(s: Setting<'_>, mi: usize, threads: usize) -> Result<Command> {
    let mut c = Command::new(this_exe(Program::Ours.label())?);
    c.arg("--config")
        .arg(s.config)
        .args(["--threads", &threads.to_string()])
        .args(["--whole-run", &mi.to_string()]);
    Ok(c)
}

/// The peer's whole run of `bm` (`scripts/bench/peer.py`), with `--flush-denormal` when `flush`,
/// on the config's Census rows.
fn peer_command(s: Setting<'_>, bm: &BenchModel, flush: bool, threads: usize) -> Result<Command> {
    let program = Program::Peer { flush };
    let python = crate::child::venv_python();
    let model = serde_json::to_string(&bm.model).map_err(|e| BenchError::Child {
        command: program.label().to_owned(),
        message: format!("cannot pass the model of {}: {e}", bm.name),
    })?;
    let (train, p, census) = (&s.cfg.train, s.peer, &s.cfg.census);
    let mut c = Command::new(python);
    c.arg("scripts/bench/peer.py")
        .args(["--model", &model])
        .args(["--epochs", &p.epochs.to_string()])
        .args(["--batch-size", &train.batch_size.to_string()])
        .args(["--lr", &train.lr.to_string()])
        .args(["--weight-decay", &train.weight_decay.to_string()])
        .args(["--threads", &threads.to_string()])
        .args(["--seed", &p.seed.to_string()])
        .args(["--max-rows", &p.max_rows.to_string()])
        .arg("--data-dir")
        .arg(&census.data_dir)
        .args(["--split-seed", &census.split_seed.to_string()]);
    if flush {
        c.arg("--flush-denormal");
    }
    Ok(c)
}

/// Runs `jobs` copies of `program` at once on `[[models]]` entry `mi`, each with `threads`
/// threads.
fn runs(
    s: Setting<'_>,
    program: Program,
    mi: usize,
    jobs: usize,
    threads: usize,
) -> Result<Vec<WholeRun>> {
    let bm = &s.cfg.models[mi];
    let commands = (0..jobs)
        .map(|_| match program {
            Program::Ours => our_command(s, mi, threads),
            Program::Peer { flush } => peer_command(s, bm, flush, threads),
        })
        .collect::<Result<_>>()?;
    run_all_json(commands, &format!("{} for {}", program.label(), bm.name))
}

/// The mean of `f` over `runs`.
pub(crate) fn mean(runs: &[WholeRun], f: impl Fn(&WholeRun) -> f64) -> f64 {
    runs.iter().map(f).sum::<f64>() / runs.len().max(1) as f64
}

/// The section of `bench.md` for the config at `config` (`cfg`, its `[peer]` `p`): for each
/// process count and model, ours and the two peers back to back, and the ratios of the peers'
/// whole-run seconds to ours; `threads` threads in all.
pub fn section(config: &Path, cfg: &BenchConfig, p: &PeerBench, threads: usize) -> Result<String> {
    let s = Setting {
        config,
        cfg,
        peer: p,
    };
    let mut md = section_head(cfg, p, threads);
    for &j in &p.jobs {
        let jobs = resolve_jobs(j, Device::Cpu);
        let per = (threads / jobs).max(1);
        for name in &p.models {
            let mi = cfg
                .models
                .iter()
                .position(|m| &m.name == name)
                .expect("validated");
            md.push_str(&model_row(s, mi, jobs, per)?);
        }
    }
    Ok(md)
}

/// The section's title, what it measures, and the head of its table.
fn section_head(cfg: &BenchConfig, p: &PeerBench, threads: usize) -> String {
    let train = &cfg.train;
    format!(
        "\n## Same-run ratios against a PyTorch peer\n\nWhole {}-epoch runs (training, validation \
         after every epoch, test once with the best epoch's weights), back to back on this \
         machine: ours \
         (`adatt_engine::train_group`) and a plain PyTorch loop (`scripts/bench/peer.py`: the \
         reference modules of the official model code, a shuffled DataLoader, Adam lr {}, weight \
         decay {}, batch {}), as released and with `torch.set_flush_denormal(True)`; Census \
         `{}` protocol, {} training rows; seed {}. With `jobs` processes at once, each has \
         {threads}/jobs threads and the seconds are the mean over the processes. Ratio = peer's \
         seconds / ours. Train / eval s: the seconds of all epochs' training steps and of \
         their end-of-epoch evaluations (the rest of a run is set-up).\n\n| model | jobs × \
         threads | ours s | as released s | + flush s | **ratio vs released** | **ratio vs \
         flushing** | epoch 1 / last train s: ours | as released | + flush | train / eval s: \
         ours | as released | + flush |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        p.epochs,
        train.lr,
        train.weight_decay,
        train.batch_size,
        cfg.census.protocol,
        if p.max_rows > 0 {
            p.max_rows.to_string()
        } else {
            "all".into()
        },
        p.seed
    )
}

/// The peer's runs are of our model (its parameter count) on our rows (their count).
pub(crate) fn check_same_model<'a>(
    bm: &BenchModel,
    ours: &WholeRun,
    peers: impl IntoIterator<Item = &'a WholeRun>,
) -> Result<()> {
    for r in peers {
        if r.params != ours.params || r.train_rows != ours.train_rows {
            return Err(BenchError::PeerMismatch {
                model: bm.name.clone(),
                params: r.params,
                rows: r.train_rows,
                our_params: ours.params,
                our_rows: ours.train_rows,
            });
        }
    }
    Ok(())
}

/// One row of the section: `jobs` processes of `per` threads each, ours, then the peer as
/// released, then flushing denormals, on `[[models]]` entry `mi`.
fn model_row(s: Setting<'_>, mi: usize, jobs: usize, per: usize) -> Result<String> {
    let bm = &s.cfg.models[mi];
    let mut got = Vec::new();
    for program in [
        Program::Ours,
        Program::Peer { flush: false },
        Program::Peer { flush: true },
    ] {
        let r = runs(s, program, mi, jobs, per)?;
        eprintln!(
            "peer: {} jobs={jobs} x {per} threads, {}: {:.1} s",
            bm.name,
            program.label(),
            mean(&r, |w| w.total_s)
        );
        got.push(r);
    }
    let (ours, released, flushing) = (&got[0], &got[1], &got[2]);
    check_same_model(bm, &ours[0], released.iter().chain(flushing))?;
    let total = |r: &[WholeRun]| mean(r, |w| w.total_s);
    let first_last = |r: &[WholeRun]| {
        format!(
            "{:.1} / {:.1}",
            mean(r, |w| w.epochs[0].train_s),
            mean(r, |w| w.epochs[w.epochs.len() - 1].train_s)
        )
    };
    eprintln!(
        "peer: {} jobs={jobs}: ratio {:.2}x vs released, {:.2}x vs flushing",
        bm.name,
        total(released) / total(ours),
        total(flushing) / total(ours)
    );
    let train_eval = |r: &[WholeRun]| {
        format!(
            "{:.1} / {:.1}",
            mean(r, |w| w.epochs.iter().map(|e| e.train_s).sum()),
            mean(r, |w| w.epochs.iter().map(|e| e.eval_s).sum())
        )
    };
    Ok(format!(
        "| {} | {jobs} × {per} | {:.1} | {:.1} | {:.1} | **{:.2}×** | **{:.2}×** | {} | {} | {} | {} | {} | {} |\n",
        bm.name,
        total(ours),
        total(released),
        total(flushing),
        total(released) / total(ours),
        total(flushing) / total(ours),
        first_last(ours),
        first_last(released),
        first_last(flushing),
        train_eval(ours),
        train_eval(released),
        train_eval(flushing)
    ))
}
