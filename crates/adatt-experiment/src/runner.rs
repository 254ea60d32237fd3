//! Expanding an experiment into runs, skipping finished ones, sharding, and executing the rest in
//! replica groups, appending one record per run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use adatt_engine::source::DataRef;
use adatt_engine::trainer::{train_group_model, Progress, TrainData};
use adatt_spec::config::{DataConfig, ExperimentConfig};
use adatt_spec::manifest::{self, Manifest};
use adatt_spec::metrics::MetricKind;
use adatt_spec::plan::{execution_order, plan, replica_groups, PlannedRun};
use adatt_spec::run::SavedWeights;
use adatt_spec::saved::SavedInputs;
use adatt_spec::{SpecError, Status};
use indicatif::{ProgressBar, ProgressStyle};
use tch::Tensor;

use crate::snapshots::FileSnapshots;
use crate::Result;
use adatt_spec::records::{
    read_all_records, records_file, RecordWriter, RunRecord, Shard, UnixTime, RECORD_VERSION,
};

/// Options of one grid invocation.
#[derive(Clone, Debug)]
pub struct GridOptions {
    /// Output directory.
    pub out_dir: PathBuf,
    /// Shard.
    pub shard: Option<Shard>,
    /// Device.
    pub device: tch::Device,
    /// Intra-op threads.
    pub threads: usize,
    /// Replicas per group.
    pub replicas: usize,
    /// Command line for the manifest.
    pub command_line: Vec<String>,
    /// Code revision stamped on the manifest and every record ([`crate::provenance::stamp`]).
    /// Shard processes get their parent's (taken once, before they start), so that all shards
    /// of one invocation agree even if the checkout changes while they start.
    pub code_revision: Option<String>,
    /// Draw progress bars (only if stderr is a terminal).
    pub progress: bool,
    /// Train runs recorded as failed or diverged again (a finished retry supersedes them).
    pub retry_failed: bool,
    /// Save a one-pass stream's group this often while it trains, to resume it if the process
    /// stops ([`crate::snapshots`]); `None`: no snapshots. Needs a code revision.
    pub snapshot_every: Option<std::time::Duration>,
}

/// What an invocation did.
#[derive(Clone, Debug, PartialEq)]
pub struct GridSummary {
    /// Runs in this shard of the grid.
    pub planned: usize,
    /// Already recorded before (and not trained again).
    pub skipped: usize,
    /// Of those, recorded as failed or diverged (not retried).
    pub skipped_unfinished: usize,
    /// Trained now.
    pub trained: usize,
    /// Of those, failed (non-finite loss).
    pub failed: usize,
    /// Of those, diverged ([`crate::divergence`]).
    pub diverged: usize,
    /// Records file written.
    pub records: PathBuf,
    /// Wall time (s).
    pub wall_s: f64,
}

impl GridSummary {
    /// The process exit code for this grid: [`crate::term::EXIT_RUNS_FAILED`] when runs trained
    /// now failed or diverged, else success.
    pub fn exit_code(&self) -> std::process::ExitCode {
        if self.failed + self.diverged > 0 {
            std::process::ExitCode::from(crate::term::EXIT_RUNS_FAILED)
        } else {
            std::process::ExitCode::SUCCESS
        }
    }
}

/// Progress of the grid (over the training steps of all runs to train, so that its ETA is
/// sensible from the first steps) and of the current replica group (over an epoch's steps).
struct Bars {
    grid: Option<ProgressBar>,
    run: Option<ProgressBar>,
}
impl Progress for Bars {
    fn step(&mut self, epoch: usize, step: usize, steps: usize) {
        if let Some(b) = &self.run {
            if step == 0 {
                b.set_length(steps as u64);
                b.set_position(0);
                b.set_prefix(format!("epoch {}", epoch + 1));
            }
            b.inc(1);
        }
        if let Some(b) = &self.grid {
            b.inc(1);
        }
    }
    fn epoch(&mut self, epoch: usize, mean_loss: f64, train_s: f64, eval_s: f64) {
        if let Some(b) = &self.run {
            b.set_message(format!(
                "loss {mean_loss:.4}, train {train_s:.1} s, eval {eval_s:.1} s"
            ));
        } else {
            tracing::debug!(epoch = epoch + 1, mean_loss, train_s, eval_s, "epoch done");
        }
    }
}

fn bar(len: u64, template: &str) -> ProgressBar {
    let b = crate::term::bars().add(ProgressBar::new(len));
    b.set_style(
        ProgressStyle::with_template(template)
            .expect("template")
            .progress_chars("=> "),
    );
    b
}

/// Test hook: may replace the replica losses of a group (given its seeds) at a global step.
pub type GroupHook<'a> = &'a mut dyn FnMut(&[u64], usize, &Tensor) -> Option<Tensor>;

/// Run (the remaining part of) a grid and append records. See [`run_grid_with_hook`].
pub fn run_grid<'a>(
    cfg: &ExperimentConfig,
    data: impl Into<DataRef<'a>>,
    opts: &GridOptions,
) -> Result<GridSummary> {
    run_grid_with_hook(cfg, data, opts, None)
}

/// One line for a finished run: its test AUC per binary task and MSE per regression task
/// (`kinds`) at the best epoch, or why it did not finish well.
fn run_line(
    done: usize,
    total: usize,
    entry: &str,
    rec: &RunRecord,
    kinds: &[MetricKind],
    wall_s: f64,
) -> String {
    let head = format!("[{done}/{total}] {entry}, seed {}:", rec.seed);
    match (&rec.outcome.status, &rec.outcome.best) {
        (Status::Ok, Some(b)) => {
            let mut parts = Vec::new();
            for (name, kind) in [("AUC", MetricKind::Binary), ("MSE", MetricKind::Regression)] {
                let v: Vec<String> = rec
                    .tasks
                    .iter()
                    .zip(&b.test)
                    .zip(kinds)
                    .filter(|(_, k)| **k == kind)
                    .map(|((t, m), _)| match kind {
                        MetricKind::Binary => format!("{t} {:.4}", m.auc),
                        MetricKind::Regression => format!("{t} {:.4}", m.loss),
                    })
                    .collect();
                if !v.is_empty() {
                    parts.push(format!("{name} {}", v.join(", ")));
                }
            }
            format!(
                "{head} test {} (best epoch {} of {}), {wall_s:.0} s",
                parts.join("; "),
                rec.outcome.best_epoch.map_or(0, |e| e + 1),
                rec.outcome.epochs.len()
            )
        }
        (s, _) => format!(
            "{head} {} ({})",
            match s {
                Status::Diverged { .. } => "DIVERGED",
                _ => "FAILED",
            },
            s.reason().unwrap_or("no best epoch")
        ),
    }
}

/// The runs of one invocation's shard that are still to train, in execution order, and what
/// was found recorded.
struct Todo {
    /// Runs of this shard of the grid.
    planned: usize,
    /// Recorded as failed or diverged.
    unfinished: usize,
    /// To train, in execution order.
    runs: Vec<PlannedRun>,
}

impl Todo {
    /// Plans `cfg`, keeps `opts.shard`'s runs and drops those recorded in `opts.out_dir` (runs
    /// recorded as failed or diverged stay with `--retry-failed`), in execution order.
    fn new(cfg: &ExperimentConfig, opts: &GridOptions) -> Result<Todo> {
        let mut todo = Todo::select(cfg, &opts.out_dir, opts.shard, opts.retry_failed)?;
        execution_order(&mut todo.runs, cfg.run.seeds.to_vec().len(), opts.replicas);
        Ok(todo)
    }

    /// The runs of `shard` of `cfg` (all for `None`) that `out_dir` does not record, in plan
    /// order.
    fn select(
        cfg: &ExperimentConfig,
        out_dir: &std::path::Path,
        shard: Option<Shard>,
        retry_failed: bool,
    ) -> Result<Todo> {
        let recorded: BTreeMap<String, bool> = read_all_records(out_dir)?
            .into_iter()
            .map(|r| (r.key.clone(), r.is_ok()))
            .collect();
        let mine: Vec<PlannedRun> = plan(cfg)
            .into_iter()
            .filter(|p| shard.is_none_or(|s| s.owns(p.index)))
            .collect();
        let planned = mine.len();
        let unfinished = mine
            .iter()
            .filter(|p| recorded.get(&p.key) == Some(&false))
            .count();
        let runs: Vec<PlannedRun> = mine
            .into_iter()
            .filter(|p| match recorded.get(&p.key) {
                None => true,
                Some(ok) => !ok && retry_failed,
            })
            .collect();
        Ok(Todo {
            planned,
            unfinished,
            runs,
        })
    }

    /// The line announcing what this invocation trains.
    fn line(&self, cfg: &ExperimentConfig, opts: &GridOptions) -> String {
        let who = match opts.shard {
            Some(s) => format!("{} (shard {}/{})", cfg.name, s.k, s.n),
            None => cfg.name.clone(),
        };
        format!(
            "{who}: {} planned, {} recorded, {} to train{}",
            self.planned,
            self.planned - self.runs.len(),
            self.runs.len(),
            match (self.unfinished, opts.retry_failed) {
                (0, _) => String::new(),
                (n, true) => format!(" ({n} failed or diverged, trained again)"),
                (n, false) => format!(
                    " ({n} recorded as failed or diverged; --retry-failed trains them again)"
                ),
            }
        )
    }
}

/// How many runs of `shard` of `cfg` (all for `None`) `out_dir` does not record yet (with
/// `retry_failed`, those recorded as failed or diverged count too).
pub fn runs_to_train(
    cfg: &ExperimentConfig,
    out_dir: &std::path::Path,
    shard: Option<Shard>,
    retry_failed: bool,
) -> Result<usize> {
    Ok(Todo::select(cfg, out_dir, shard, retry_failed)?.runs.len())
}

/// Saves the resolved config beside the results and starts this invocation's manifest.
fn start_invocation(
    cfg: &ExperimentConfig,
    data: DataRef<'_>,
    opts: &GridOptions,
    skipped: usize,
) -> Result<(Manifest, PathBuf)> {
    adatt_spec::atomic::write(
        &opts.out_dir.join("config.toml"),
        toml::to_string(cfg).expect("config serializes").as_bytes(),
    )?;
    let shard_tag = opts.shard.map(|s| format!("{}-of-{}", s.k, s.n));
    let path = manifest::new_invocation_path(&opts.out_dir, shard_tag.as_deref());
    let man = Manifest {
        experiment: cfg.name.clone(),
        git_revision: opts.code_revision.clone(),
        tch_version: "0.24".into(),
        libtorch_version: adatt_engine::runtime::libtorch_version(),
        device: adatt_engine::device::run_device(opts.device),
        threads: opts.threads,
        host: manifest::host_description(),
        data_sha256: data.fingerprint(),
        command_line: opts.command_line.clone(),
        shard: shard_tag,
        started_at: manifest::now_unix(),
        finished_at: None,
        wall_s: None,
        runs_trained: 0,
        runs_skipped: skipped,
        runs_failed: 0,
        config: serde_json::to_value(cfg).expect("config serializes"),
    };
    man.write(&path)?;
    Ok((man, path))
}

/// Counts of the runs trained so far by an invocation.
#[derive(Default)]
struct Trained {
    runs: usize,
    failed: usize,
    diverged: usize,
}

/// What one replica group's records share.
struct GroupRecords<'a> {
    cfg: &'a ExperimentConfig,
    opts: &'a GridOptions,
    revision: Option<String>,
    host: String,
    tasks: &'a [String],
    kinds: &'a [MetricKind],
    total: usize,
}

impl GroupRecords<'_> {
    /// Appends one record per run of `group` (entry `e`, outcomes `out`) and prints its line.
    fn append(
        &self,
        writer: &mut RecordWriter,
        group: &[PlannedRun],
        out: adatt_engine::GroupOutcome,
        done: &mut Trained,
    ) -> Result<()> {
        let e = &self.cfg.entries[group[0].entry];
        // One end time for the whole group: its runs share the interval [end - wall, end].
        let end = UnixTime::now();
        for (p, o) in group.iter().zip(out.runs) {
            match o.status {
                Status::Ok => {}
                Status::Failed { .. } => done.failed += 1,
                Status::Diverged { .. } => done.diverged += 1,
            }
            let rec = RunRecord {
                version: RECORD_VERSION,
                key: p.key.clone(),
                config_hash: p.config_hash.clone(),
                experiment: self.cfg.name.clone(),
                entry: e.name.clone(),
                setting: e.setting.clone(),
                model: e.model.label(),
                model_config: serde_json::to_value(&e.model).expect("model config serializes"),
                protocol: self.cfg.data.label(),
                seed: p.seed,
                tasks: self.tasks.to_vec(),
                outcome: o,
                group_wall_s: out.wall_s,
                group_replicas: group.len(),
                device: adatt_engine::device::run_device(self.opts.device),
                threads: self.opts.threads,
                finished_at: end,
                git_revision: self.revision.clone(),
                host: Some(self.host.clone()),
            };
            writer.append(&rec)?;
            done.runs += 1;
            crate::term::line(run_line(
                done.runs, self.total, &e.name, &rec, self.kinds, out.wall_s,
            ));
        }
        Ok(())
    }
}

/// Writes each finished run's weights (its replica of `model`, at its best epoch) to
/// `weights/<key>.safetensors`, before its record: a record of a finished run then has its
/// weights.
fn save_weights(
    dir: &std::path::Path,
    group: &[PlannedRun],
    out: &adatt_engine::GroupOutcome,
    model: &adatt_models::Model,
) -> Result<()> {
    for (r, (p, o)) in group.iter().zip(&out.runs).enumerate() {
        if o.status != Status::Ok {
            continue;
        }
        let path = adatt_spec::saved::weights_path(dir, &p.key);
        let bytes =
            adatt_models::tensor_file::to_bytes(&model.export_replica(r)).map_err(|source| {
                SpecError::Model {
                    entry: p.key.clone(),
                    source,
                }
            })?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| SpecError::Io {
                path: parent.to_owned(),
                source,
            })?;
        }
        adatt_spec::atomic::write(&path, &bytes)?;
    }
    Ok(())
}

/// What a model trained on `data` (a user's table: its encodings) needs to predict new rows,
/// written once per results directory (nothing for the paper's data).
fn save_inputs(
    cfg: &ExperimentConfig,
    data_ref: DataRef<'_>,
    data: &TrainData,
    dir: &std::path::Path,
) -> Result<()> {
    let (Some(encoding), DataConfig::Table(t)) = (data_ref.encoding(), &cfg.data) else {
        return Ok(());
    };
    SavedInputs {
        version: adatt_spec::saved::INPUTS_VERSION,
        tasks: data.task_names.clone(),
        kinds: data.kinds.clone(),
        train_base_rates: data.train_base_rates.clone(),
        embedding_dim: t.embedding_dim,
        encoding: encoding.clone(),
    }
    .write(&adatt_spec::saved::inputs_path(dir))?;
    Ok(())
}

/// Trains the replica groups of `todo` in order, appending each group's records as it ends and
/// updating the invocation's manifest (`man`, written to its path); draws the grid's and the
/// group's progress bars.
fn train_groups(
    todo: &[PlannedRun],
    data: &TrainData,
    schedule: &adatt_spec::schedule::Schedule,
    records: &GroupRecords<'_>,
    writer: &mut RecordWriter,
    man: (&mut Manifest, &std::path::Path),
    mut hook: Option<GroupHook<'_>>,
) -> Result<Trained> {
    let (cfg, opts) = (records.cfg, records.opts);
    let show = opts.progress && crate::term::stderr_is_terminal();
    let groups = replica_groups(todo, opts.replicas);
    let grid_bar = show.then(|| {
        let steps = (schedule.total_steps * groups.len()) as u64;
        let b = bar(steps, "{prefix:>10} [{bar:30}] {msg}, ETA {eta}");
        b.set_prefix(cfg.name.clone());
        b.set_message(format!("0/{} runs", todo.len()));
        b
    });
    let mut done = Trained::default();
    for range in groups {
        let group = &todo[range];
        let e = &cfg.entries[group[0].entry];
        let seeds: Vec<u64> = group.iter().map(|p| p.seed).collect();
        tracing::debug!(entry = %e.name, seeds = ?seeds, "training group");
        let run_bar = show.then(|| bar(1, "{prefix:>10} [{bar:30}] {pos}/{len} steps {msg}"));
        let mut bars = Bars {
            grid: grid_bar.clone(),
            run: run_bar.clone(),
        };
        let mut group_hook = hook.as_mut().map(|h| {
            let seeds = seeds.clone();
            move |_: &adatt_models::Model, step: usize, l: &Tensor| h(&seeds, step, l)
        });
        let loss_hook = group_hook
            .as_mut()
            .map(|h| h as adatt_engine::trainer::LossHook<'_>);
        let mut snapshots = match (opts.snapshot_every, &records.revision) {
            (Some(every), Some(origin)) => Some(FileSnapshots {
                path: crate::snapshots::snapshot_path(&opts.out_dir, group),
                origin: origin.clone(),
                every,
            }),
            _ => None,
        };
        let store = snapshots
            .as_mut()
            .map(|s| s as &mut dyn adatt_engine::snapshot::SnapshotStore);
        let (out, model) = train_group_model(
            data, &e.model, &cfg.train, &seeds, &mut bars, loss_hook, store,
        )
        .map_err(|err| match &snapshots {
            Some(s) => s.name_in(err),
            None => err,
        })?;
        if let Some(b) = run_bar {
            b.finish_and_clear();
        }
        if cfg.saved_weights() == SavedWeights::Best {
            save_weights(&opts.out_dir, group, &out, &model)?;
        }
        records.append(writer, group, out, &mut done)?;
        if let Some(s) = &snapshots {
            s.remove()?;
        }
        if let Some(b) = &grid_bar {
            b.set_message(format!("{}/{} runs", done.runs, todo.len()));
        }
        man.0.runs_trained = done.runs;
        man.0.runs_failed = done.failed + done.diverged;
        man.0.write(man.1)?;
    }
    if let Some(b) = grid_bar {
        b.finish_and_clear();
    }
    Ok(done)
}

/// Run a grid; `hook` lets tests inject a non-finite loss.
pub fn run_grid_with_hook<'a>(
    cfg: &ExperimentConfig,
    data: impl Into<DataRef<'a>>,
    opts: &GridOptions,
    hook: Option<GroupHook<'_>>,
) -> Result<GridSummary> {
    let started = Instant::now();
    // Binaries set this first thing; here it covers library callers (see `runtime`).
    adatt_engine::runtime::init();
    let data_ref: DataRef<'_> = data.into();
    let task_names = data_ref.task_names();
    cfg.validate(task_names.len())?;
    // Checkpoints that would be evaluated twice or not at all are refused before anything is
    // written.
    let schedule = adatt_spec::schedule::Schedule::new(
        data_ref.train_rows(cfg.train.max_train_rows),
        &cfg.train,
    )?;
    std::fs::create_dir_all(&opts.out_dir).map_err(|source| SpecError::Io {
        path: opts.out_dir.clone(),
        source,
    })?;
    tch::set_num_threads(opts.threads as i32);

    let todo = Todo::new(cfg, opts)?;
    crate::term::line(todo.line(cfg, opts));
    let skipped = todo.planned - todo.runs.len();
    let mut summary = GridSummary {
        planned: todo.planned,
        skipped,
        skipped_unfinished: if opts.retry_failed {
            0
        } else {
            todo.unfinished
        },
        trained: 0,
        failed: 0,
        diverged: 0,
        records: records_file(&opts.out_dir, opts.shard),
        wall_s: 0.0,
    };
    if todo.runs.is_empty() {
        // Nothing to train: leave the config and the invocation manifests of the invocations
        // that trained the records as they are (they give the records' provenance).
        summary.wall_s = started.elapsed().as_secs_f64();
        return Ok(summary);
    }
    let (mut man, manifest_path) = start_invocation(cfg, data_ref, opts, skipped)?;
    let mut data = TrainData::from_data(
        data_ref,
        cfg.run.input,
        opts.device,
        cfg.train.max_train_rows,
    )?;
    data.eval_batch = adatt_engine::resolve_eval_batch(&cfg.run, opts.device);
    if cfg.saved_weights() == SavedWeights::Best {
        save_inputs(cfg, data_ref, &data, &opts.out_dir)?;
    }
    let mut writer = RecordWriter::open(&summary.records)?;
    let records = GroupRecords {
        cfg,
        opts,
        revision: man.git_revision.clone(),
        host: man.host.clone(),
        tasks: &task_names,
        kinds: &data.kinds,
        total: todo.runs.len(),
    };
    let invocation = (&mut man, manifest_path.as_path());
    let done = train_groups(
        &todo.runs,
        &data,
        &schedule,
        &records,
        &mut writer,
        invocation,
        hook,
    )?;
    let wall_s = started.elapsed().as_secs_f64();
    man.runs_trained = done.runs;
    man.runs_failed = done.failed + done.diverged;
    man.finished_at = Some(manifest::now_unix());
    man.wall_s = Some(wall_s);
    man.write(&manifest_path)?;
    if done.failed + done.diverged > 0 {
        tracing::warn!(
            failed = done.failed,
            diverged = done.diverged,
            "runs did not finish well; they are recorded and left out of the means \
             (--retry-failed trains them again)"
        );
    }
    summary.trained = done.runs;
    summary.failed = done.failed;
    summary.diverged = done.diverged;
    summary.wall_s = wall_s;
    Ok(summary)
}
