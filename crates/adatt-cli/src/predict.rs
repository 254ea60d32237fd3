//! `adatt predict` and `adatt export`: a run trained on a user's table, used again. `predict`
//! reads rows of the trained schema (the config's own files, or `--data`), encodes them with
//! the encodings saved at training, and writes each row's outputs per task (with `--keep`
//! columns beside them); rows with labels also get the trainer's metrics. `export` writes the
//! run's weights and `model.json` for PyTorch (`scripts/pylib/adatt_export.py` loads them).

use std::path::PathBuf;

use adatt_data::sim::sample::SampleFormat;
use adatt_data::table::{load_rows, Part, RowRequest};
use adatt_experiment::predict::TrainedRun;
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};

/// Which trained run.
#[derive(Args)]
pub struct RunArgs {
    /// Results directory of a grid trained on a table (its config.toml, inputs.json, weights/),
    /// or a directory `adatt export` wrote (model.json, model.safetensors).
    #[arg(long)]
    run: PathBuf,
    /// The grid's entry (may be omitted when it has one).
    #[arg(long)]
    entry: Option<String>,
    /// The run's seed (default: the grid's first).
    #[arg(long)]
    seed: Option<u64>,
}

/// A split of the trained config.
#[derive(Clone, Copy, ValueEnum)]
pub enum SplitArg {
    Train,
    Valid,
    Test,
}

/// What to predict on and where the predictions go.
#[derive(Args)]
pub struct PredictArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Files to predict on (globs, CSV or Parquet, with the trained schema's feature columns;
    /// side tables are joined as in training). Default: the trained config's files.
    #[arg(long, num_args = 1..)]
    data: Vec<String>,
    /// Only the rows the trained config's split puts here (`--split test` with the config's
    /// own files gives the rows the run's test metrics were measured on).
    #[arg(long, value_enum)]
    split: Option<SplitArg>,
    /// Columns copied beside the predictions, comma-separated (e.g. user_id,item_id).
    #[arg(long, value_delimiter = ',')]
    keep: Vec<String>,
    /// Predictions: .parquet or .csv.
    #[arg(long)]
    out: PathBuf,
    /// Where the metrics go as JSON, when the rows have labels.
    #[arg(long)]
    metrics: Option<PathBuf>,
}

/// `adatt predict`.
pub fn predict(a: &PredictArgs) -> Result<()> {
    let format = SampleFormat::of(&a.out)?;
    let run = open(&a.run)?;
    if let Some(k) = a.keep.iter().find(|k| run.inputs.tasks.contains(k)) {
        bail!(
            "--keep {k}: a task's predictions are written under that name; keep it under another"
        );
    }
    let req = RowRequest {
        files: (!a.data.is_empty()).then(|| a.data.clone()),
        part: a.split.map(|s| match s {
            SplitArg::Train => Part::Train,
            SplitArg::Valid => Part::Valid,
            SplitArg::Test => Part::Test,
        }),
        keep: a.keep.clone(),
    };
    let rows = load_rows(run.table(), run.encoding(), std::path::Path::new("."), &req)?;
    if let (Some(path), false) = (&a.metrics, rows.has_labels) {
        bail!(
            "--metrics {}: the rows have no labels (the files lack a label column); nothing \
             written",
            path.display()
        );
    }
    let outputs = run.predict(&rows.rows)?;
    println!(
        "{} {}, seed {} (run {}): {} rows from {} file(s)",
        run.dir.display(),
        run.entry,
        run.seed,
        run.key,
        rows.rows.n,
        rows.files.len()
    );
    let metrics = rows
        .has_labels
        .then(|| run.metrics(&outputs, &rows.rows.labels));
    if let Some(m) = &metrics {
        for ((name, kind), m) in run.inputs.tasks.iter().zip(&run.inputs.kinds).zip(m) {
            match kind {
                adatt_spec::metrics::MetricKind::Binary => {
                    println!("  {name}: AUC {:.4}, NE {:.4}", m.auc, m.ne)
                }
                adatt_spec::metrics::MetricKind::Regression => {
                    println!("  {name}: MSE {:.4}", m.loss)
                }
            }
        }
    }
    let n = rows.rows.n;
    let columns = run.columns(rows, &outputs);
    adatt_spec::atomic::write_with(&a.out, |f| {
        adatt_data::table::write_columns(columns, format, f)
    })?;
    println!("  predictions -> {}", a.out.display());
    if let Some(path) = &a.metrics {
        let m = metrics.expect("--metrics is refused above for unlabelled rows");
        let v = serde_json::json!({
            "run": run.key, "entry": run.entry, "seed": run.seed, "rows": n,
            "tasks": run.inputs.tasks, "metrics": m,
        });
        let text = serde_json::to_string_pretty(&v).expect("metrics serialize");
        adatt_spec::atomic::write(path, text.as_bytes())?;
    }
    Ok(())
}

/// `adatt export`.
pub fn export(run: &RunArgs, out: &std::path::Path) -> Result<()> {
    let r = open(run)?;
    r.export(out)?;
    println!(
        "{} {}, seed {} (run {}) -> {}/model.safetensors, model.json",
        r.dir.display(),
        r.entry,
        r.seed,
        r.key,
        out.display()
    );
    Ok(())
}

fn open(a: &RunArgs) -> Result<TrainedRun> {
    Ok(TrainedRun::open(&a.run, a.entry.as_deref(), a.seed)?)
}
