//! One grid config from the command line to its results: [`run`] trains its missing runs and
//! analyses, [`analyze`] only analyses. [`train_grid`] is the training step both `run` and
//! the studies (`crate::study`) use.

use std::path::Path;
use std::process::ExitCode;

use adatt_spec::{consolidate_records, Consolidation, ExperimentConfig};

use crate::jobs::{resolve_jobs, run_shards};
use crate::overrides::resolve_threads;
use crate::runner::GridOptions;

use crate::args::{GridArgs, TrainArgs};
use crate::{context, Result};

/// How this process takes part in training one grid.
pub(crate) struct Participation<'a> {
    /// How to train it.
    pub train: &'a TrainArgs,
    /// The arguments that make this executable train a grid, before `--config` (`["run"]` for
    /// `adatt`, none for an experiment or study binary).
    pub head: &'a [&'a str],
}

/// Trains the missing runs of `cfg`: as `--jobs` shard processes of this executable, or in this
/// process (the whole grid, or its `--shard`). Unless this is one shard, the records are then
/// merged into one `runs.jsonl`. Takes no lock: the caller holds the results directory.
/// Returns whether runs failed or diverged.
pub(crate) fn train_grid(cfg: &ExperimentConfig, p: &Participation<'_>) -> Result<bool> {
    let device = adatt_engine::resolve_device(cfg.run.device)?;
    let jobs = resolve_jobs(p.train.jobs, device);
    let training = || format!("training grid {}", cfg.name);
    let revision = code_revision(cfg, p.train)?;
    let revision = revision.as_deref();
    if let Some(shard) = p.train.shard {
        return train_here(cfg, p, Some(shard), revision);
    }
    let runs_failed = if jobs > 1 {
        // One error here rather than the same one from every shard.
        context(cfg.data.spec().check_inputs(), training)?;
        let per_job = (resolve_threads(cfg.run.threads) / jobs).max(1);
        crate::term::line(format!(
            "{}: {jobs} shard processes, {per_job} intra-op thread(s) each",
            cfg.name
        ));
        context(shard_processes(cfg, p, revision, jobs, per_job), training)? > 0
    } else {
        train_here(cfg, p, None, revision)?
    };
    let dir = cfg.output_dir();
    match context(consolidate_records(&dir), || {
        format!("merging the records of {}", cfg.name)
    })? {
        Consolidation::Merged(n) => crate::term::line(format!(
            "{}: {n} records in {}",
            cfg.name,
            dir.join("runs.jsonl").display()
        )),
        Consolidation::Busy => crate::term::line(format!(
            "{}: another process is using the records in {}; the shard files stay (they are \
             read as they are) and a later run merges them",
            cfg.name,
            dir.display()
        )),
    }
    Ok(runs_failed)
}

/// The code revision that the runs `cfg` is about to train are stamped with (see
/// [`crate::provenance`]): none is asked for when nothing is left to train, so a checkout with
/// changes can still analyse and resume finished grids.
fn code_revision(cfg: &ExperimentConfig, t: &TrainArgs) -> Result<Option<String>> {
    let dir = cfg.output_dir();
    if crate::runner::runs_to_train(cfg, &dir, t.shard, t.retry_failed)? == 0 {
        return Ok(None);
    }
    let state = adatt_spec::code::CodeState::of_this_binary();
    context(
        crate::provenance::stamp(
            state.as_ref(),
            crate::provenance::BUILD_COMMIT,
            t.allow_dirty,
            &dir,
        ),
        || format!("training grid {}", cfg.name),
    )
}

/// Trains `cfg` as `jobs` shard processes of this executable with `threads` intra-op threads
/// each. They are given the config as resolved here (overrides applied, their thread count
/// set), saved as `.shards.toml` in the results directory while they run, not the overrides:
/// every shard trains exactly the grid this process validated. Returns how many shards
/// recorded failed or diverged runs.
fn shard_processes(
    cfg: &ExperimentConfig,
    p: &Participation<'_>,
    revision: Option<&str>,
    jobs: usize,
    threads: usize,
) -> Result<usize> {
    let out = cfg.output_dir();
    let mut resolved = cfg.clone();
    resolved.run.threads = threads;
    resolved.output_dir = None;
    let text = toml::to_string(&resolved).expect("config serializes");
    std::fs::create_dir_all(&out).map_err(|source| adatt_spec::SpecError::Io {
        path: out.clone(),
        source,
    })?;
    let file = out.join(".shards.toml");
    adatt_spec::atomic::write(&file, text.as_bytes())?;
    let argv = |s: adatt_spec::Shard| {
        let mut v: Vec<String> = p.head.iter().map(|s| s.to_string()).collect();
        v.extend([
            "--config".into(),
            file.display().to_string(),
            "--resolved".into(),
        ]);
        v.extend([
            "--no-analysis".into(),
            "--out".into(),
            out.display().to_string(),
        ]);
        v.extend(["--shard".into(), format!("{}/{}", s.k, s.n)]);
        if let Some(r) = revision {
            v.extend(["--code-revision".into(), r.to_owned()]);
        }
        if p.train.retry_failed {
            v.push("--retry-failed".into());
        }
        v.extend([
            "--snapshot-minutes".into(),
            p.train.snapshot_minutes.to_string(),
        ]);
        v
    };
    let result = run_shards(jobs, argv);
    // The file is the children's input only; a failed removal leaves a hidden file behind.
    let _ = std::fs::remove_file(&file);
    result
}

/// A shard process of a parent's `--jobs` (`--resolved`): trains its shard of the config the
/// parent resolved. Returns the exit code.
pub(crate) fn train_resolved(g: &GridArgs, t: &TrainArgs) -> Result<ExitCode> {
    let cfg = context(g.load_resolved(), || {
        format!("shard process of {}", g.config.display())
    })?;
    let p = Participation {
        train: t,
        head: &[],
    };
    let revision = t.code_revision.as_deref();
    Ok(exit_code(train_here(&cfg, &p, t.shard, revision)?))
}

/// Trains `shard` of the grid (all of it for `None`) in this process, stamping `revision` on
/// its records.
fn train_here(
    cfg: &ExperimentConfig,
    p: &Participation<'_>,
    shard: Option<adatt_spec::Shard>,
    revision: Option<&str>,
) -> Result<bool> {
    let device = adatt_engine::resolve_device(cfg.run.device)?;
    let ds = context(adatt_engine::load_data(&cfg.data), || "loading data".into())?;
    let opts = GridOptions {
        out_dir: cfg.output_dir(),
        shard,
        device,
        threads: resolve_threads(cfg.run.threads),
        replicas: adatt_engine::resolve_replicas(&cfg.run, device),
        command_line: std::env::args().collect(),
        // A shard started by a parent shares its terminal: per-run lines, no bars.
        progress: !p.train.is_child(),
        code_revision: revision.map(str::to_owned),
        retry_failed: p.train.retry_failed,
        snapshot_every: p.train.snapshot_every(),
    };
    let s = context(crate::runner::run_grid(cfg, &ds, &opts), || {
        format!("training grid {}", cfg.name)
    })?;
    crate::term::line(format!(
        "{}: {} trained ({} failed, {} diverged) in {:.1} s -> {}",
        cfg.name,
        s.trained,
        s.failed,
        s.diverged,
        s.wall_s,
        s.records.display()
    ));
    Ok(s.failed + s.diverged > 0)
}

/// The exit code of an invocation: success, or `EXIT_RUNS_FAILED` when runs failed or diverged.
pub(crate) fn exit_code(runs_failed: bool) -> ExitCode {
    if runs_failed {
        ExitCode::from(crate::term::EXIT_RUNS_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Trains the grid's missing runs (see [`train_grid`]; one invocation holds the results
/// directory, `--shard` processes do not take it), then analyses unless `--no-analysis`.
/// `head` is the argument list that makes this executable run a grid again (`["run"]` for
/// `adatt`, empty for an experiment binary), for its shard processes. Returns the exit code.
pub fn run(g: &GridArgs, t: &TrainArgs, head: &[&str]) -> Result<ExitCode> {
    if t.resolved {
        return train_resolved(g, t);
    }
    let (cfg, report_dir) = g.load()?;
    // A device that is not there is refused before the results directory is created.
    context(adatt_engine::resolve_device(cfg.run.device), || {
        format!("running {}", g.config.display())
    })?;
    let out_dir = cfg.output_dir();
    // A checkout whose changes are not allowed is refused before the results directory is
    // created (training would stamp and save them under the lock, in `train_grid`).
    if !t.allow_dirty && crate::runner::runs_to_train(&cfg, &out_dir, t.shard, t.retry_failed)? > 0
    {
        let state = adatt_spec::code::CodeState::of_this_binary();
        context(
            crate::provenance::stamp(
                state.as_ref(),
                crate::provenance::BUILD_COMMIT,
                false,
                &out_dir,
            ),
            || format!("running {}", g.config.display()),
        )?;
    }
    let _lock = match t.shard {
        None => Some(adatt_spec::lock_results_dir(&out_dir)?),
        Some(_) => None,
    };
    let p = Participation { train: t, head };
    let runs_failed = context(train_grid(&cfg, &p), || {
        format!("running {}", g.config.display())
    })?;
    if !t.no_analysis {
        write_analysis(&cfg, &out_dir, &report_dir)?;
    }
    Ok(exit_code(runs_failed))
}

/// The tables and figures of a grid from its records only (no training).
pub fn analyze(g: &GridArgs) -> Result<()> {
    let (cfg, report_dir) = g.load()?;
    write_analysis(&cfg, &cfg.output_dir(), &report_dir)
}

/// Writes the tables and figures of `cfg` from the records, then prints the short results
/// table.
fn write_analysis(cfg: &ExperimentConfig, records: &Path, report: &Path) -> Result<()> {
    let dirs = adatt_analysis::Dirs { records, report };
    let a = adatt_analysis::analyze(cfg, dirs, &cfg.name, &cfg.description)?;
    print_analysis(&a);
    Ok(())
}

/// The files an analysis wrote and its short results table, on the terminal.
pub(crate) fn print_analysis(a: &adatt_analysis::Analysis) {
    for f in &a.files {
        crate::term::line(format!("wrote {}", f.display()));
    }
    crate::term::line(adatt_analysis::terminal_table(&a.report));
}
