//! Analysis of run records: aggregation over seeds (mean, std, Student-t 95% CI), paired t-tests
//! and MTL gain, and the writers every experiment uses (`summary.csv`, `table.md`,
//! `comparisons.csv`, `manifest.json`, figures as PNG + SVG). [`analyze`] regenerates everything
//! from the records alone, without training.

pub mod claims;
pub mod ne_diff;
pub mod numbers;
pub mod plots;
pub mod progress;
pub mod provenance;
pub mod relations;
pub mod report;
pub mod stats;
pub mod sweep;
pub mod truth;
pub mod weights;

use std::path::{Path, PathBuf};

use adatt_spec::{read_all_records, ExperimentConfig, Figure, RunRecord};

pub use provenance::{Provenance, StageRef};
pub use report::{
    build_report, records_by_entry, terminal_table, Cell, ComparisonKind, ComparisonRow, Metric,
    Report,
};

/// Errors of the analysis step.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// Reading records failed.
    #[error(transparent)]
    Train(#[from] adatt_spec::SpecError),
    /// Writing an output failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Inputs that contradict each other (e.g. two versions of a data file).
    #[error("{0}")]
    Inconsistent(String),
    /// The results directory has no record of any planned run (a mistyped `output_dir`, or
    /// nothing trained yet).
    #[error(
        "{dir}: no records of any of the {planned} planned runs of `{experiment}` (is the output \
         directory right? has the grid run?)"
    )]
    NoRecords {
        /// The records directory.
        dir: PathBuf,
        /// Experiment name.
        experiment: String,
        /// Planned runs.
        planned: usize,
    },
    /// A figure could not be drawn.
    #[error("figure {path}: {message}")]
    Plot {
        /// File.
        path: PathBuf,
        /// Cause.
        message: String,
    },
}

fn write(path: &Path, text: &str) -> Result<(), AnalysisError> {
    plots::write_atomic(path, text.as_bytes())
}

/// Writes `config.toml` of a report: `cfg`, unless the file there already describes the same
/// experiment and differs only in how runs were executed (`[run]` device, threads, replicas,
/// input, eval_batch: they never change a number). Then it is left as it is, so that
/// re-analysing unchanged records rewrites no file.
fn write_config(path: &Path, cfg: &ExperimentConfig) -> Result<(), AnalysisError> {
    let same_experiment = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| toml::from_str::<ExperimentConfig>(&text).ok())
        .is_some_and(|mut old| {
            old.run = adatt_spec::RunConfig {
                seeds: old.run.seeds.clone(),
                ..cfg.run.clone()
            };
            old == *cfg
        });
    if same_experiment {
        return Ok(());
    }
    write(path, &toml::to_string(cfg).expect("config serializes"))
}

/// Where an analysis reads and writes.
#[derive(Clone, Copy, Debug)]
pub struct Dirs<'a> {
    /// The grid's results directory, with its records and invocation manifests.
    pub records: &'a Path,
    /// Where the tables, figures, `manifest.json` and `config.toml` go: `records` for the
    /// config's own seeds, a subdirectory for a seed override (see
    /// [`adatt_spec::seeds_subdir`]), so that a partial look never overwrites the full result.
    pub report: &'a Path,
}

impl<'a> Dirs<'a> {
    /// Records and report in one directory.
    pub fn same(dir: &'a Path) -> Self {
        Dirs {
            records: dir,
            report: dir,
        }
    }
}

/// What an analysis wrote, and the report it wrote it from.
#[derive(Debug)]
pub struct Analysis {
    /// The files written.
    pub files: Vec<PathBuf>,
    /// The aggregated results (e.g. for [`terminal_table`]).
    pub report: Report,
}

/// Regenerate tables, figures, `manifest.json` and `config.toml` of `cfg` from the records in
/// `dirs.records`, into `dirs.report`.
pub fn analyze(
    cfg: &ExperimentConfig,
    dirs: Dirs<'_>,
    title: &str,
    notes: &str,
) -> Result<Analysis, AnalysisError> {
    analyze_with(cfg, dirs, title, notes, &[])
}

/// [`analyze`], where the result also depends on `earlier` grids (e.g. a tuning grid that chose
/// the configs of `cfg`): their runs count in `manifest.json`'s compute and provenance.
pub fn analyze_with(
    cfg: &ExperimentConfig,
    dirs: Dirs<'_>,
    title: &str,
    notes: &str,
    earlier: &[StageRef<'_>],
) -> Result<Analysis, AnalysisError> {
    let records = read_all_records(dirs.records)?;
    let planned = adatt_spec::plan(cfg);
    let keys: std::collections::BTreeSet<&str> = planned.iter().map(|p| p.key.as_str()).collect();
    if !records.iter().any(|r| keys.contains(r.key.as_str())) {
        return Err(AnalysisError::NoRecords {
            dir: dirs.records.to_owned(),
            experiment: cfg.name.clone(),
            planned: planned.len(),
        });
    }
    let dir = dirs.report;
    std::fs::create_dir_all(dir).map_err(|source| AnalysisError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let report = build_report(cfg, &records);
    let matrices = weights::expert_weight_matrices(
        cfg,
        &report::records_by_entry(cfg, &records),
        &report.all_tasks,
    );
    let mut stages = earlier.to_vec();
    stages.push(StageRef {
        name: if earlier.is_empty() { "grid" } else { "final" },
        cfg,
        dir: dirs.records,
        records: &records,
    });
    let prov = provenance::provenance(&cfg.name, &cfg.data.label(), &stages)?;
    let texts = Texts {
        report: &report,
        provenance: &prov,
        matrices: &matrices,
        title,
        notes,
    };
    let mut out = write_texts(cfg, dir, &texts)?;
    out.extend(write_figures(cfg, &report, &records, dir, &matrices)?);
    Ok(Analysis { files: out, report })
}

/// What the text files of an analysis are written from.
struct Texts<'a> {
    report: &'a Report,
    provenance: &'a Provenance,
    matrices: &'a [weights::WeightMatrix],
    title: &'a str,
    notes: &'a str,
}

/// Writes into `dir`, in this order, `config.toml`, `task_relations.json` (simulated data
/// only), `manifest.json`, `summary.csv`, `comparisons.csv`, `table.md` and `summary.json`,
/// and returns their paths.
fn write_texts(
    cfg: &ExperimentConfig,
    dir: &Path,
    texts: &Texts<'_>,
) -> Result<Vec<PathBuf>, AnalysisError> {
    let (report, prov) = (texts.report, texts.provenance);
    let mut out = Vec::new();
    // The config this report describes (the grid saves the one it last trained with beside
    // the records; after a seed override that is not this one).
    let p = dir.join("config.toml");
    write_config(&p, cfg)?;
    out.push(p);
    // The ground truth of simulated data, beside its results.
    let truth = truth::of(cfg)?;
    if let Some(t) = &truth {
        let p = dir.join("task_relations.json");
        write(
            &p,
            &serde_json::to_string_pretty(t).expect("the truth serializes"),
        )?;
        out.push(p);
    }
    let p = dir.join("manifest.json");
    write(
        &p,
        &serde_json::to_string_pretty(prov).expect("provenance serializes"),
    )?;
    out.push(p);
    let p = dir.join("summary.csv");
    write(&p, &report::summary_csv(report))?;
    out.push(p);
    let p = dir.join("comparisons.csv");
    write(&p, &report::comparisons_csv(report))?;
    out.push(p);
    let p = dir.join("table.md");
    write(
        &p,
        &format!(
            "{}{}{}\n{}{}",
            report::table_md(report, texts.title, texts.notes),
            weights::markdown(texts.matrices),
            truth
                .as_ref()
                .map(|t| relations::markdown(&relations::fits(texts.matrices, t))
                    + &truth::markdown(t)
                    + &truth::oracle_markdown(t, report))
                .unwrap_or_default(),
            provenance::markdown(prov),
            claims::markdown(&report.verdicts, &report.tasks)
        ),
    )?;
    out.push(p);
    let p = dir.join("summary.json");
    write(
        &p,
        &serde_json::to_string_pretty(report).expect("report serializes"),
    )?;
    out.push(p);
    Ok(out)
}

/// Draws the figures `analysis.figures` asks for into `dir` from the finished runs of each
/// entry (none when no run finished), and returns their paths.
fn write_figures(
    cfg: &ExperimentConfig,
    report: &Report,
    records: &[RunRecord],
    dir: &Path,
    matrices: &[weights::WeightMatrix],
) -> Result<Vec<PathBuf>, AnalysisError> {
    // The finished runs of each entry, selected by key (see `report::records_by_entry`).
    let per_entry: Vec<Vec<&RunRecord>> = report::records_by_entry(cfg, records)
        .into_iter()
        .map(|v| v.into_iter().filter(|r| r.is_ok()).collect())
        .collect();
    let mut out = Vec::new();
    if per_entry.iter().all(Vec::is_empty) {
        return Ok(out);
    }
    for figure in &cfg.analysis.figures {
        out.extend(match figure {
            Figure::AucDistributions => auc_distributions(cfg, report, &per_entry, dir)?,
            Figure::TrainingCurves => training_curves(cfg, report, &per_entry, dir)?,
            Figure::Sweep => sweep::figures(cfg, report, dir)?,
            Figure::ExpertWeights => expert_weight_figures(cfg, dir, matrices)?,
            Figure::NeDiffByExamples => progress::figure(cfg, report, &per_entry, dir)?,
        });
    }
    Ok(out)
}

/// `auc_distributions`: per task, every finished seed's test AUC per entry, with the paper's.
fn auc_distributions(
    cfg: &ExperimentConfig,
    report: &Report,
    per_entry: &[Vec<&RunRecord>],
    dir: &Path,
) -> Result<Vec<PathBuf>, AnalysisError> {
    let panels: Vec<plots::Distribution> = report
        .columns
        .iter()
        .filter(|c| !c.regression)
        .map(|c| (c.index, &c.task))
        .map(|(t, task)| plots::Distribution {
            task: task.clone(),
            groups: cfg
                .entries
                .iter()
                .zip(per_entry)
                .map(|(e, mine)| {
                    let vals = mine
                        .iter()
                        .filter_map(|r| Metric::TestAuc.of(r, t))
                        .collect();
                    (
                        e.name.clone(),
                        vals,
                        e.paper.as_ref().and_then(|p| p.get(task).copied()),
                    )
                })
                .collect(),
        })
        .collect();
    plots::distributions(&dir.join("auc_distributions"), &panels, "test AUC")
}

/// `training_curves`: per reported task, each entry's mean validation AUC (MSE of a regression
/// task) per epoch.
fn training_curves(
    cfg: &ExperimentConfig,
    report: &Report,
    per_entry: &[Vec<&RunRecord>],
    dir: &Path,
) -> Result<Vec<PathBuf>, AnalysisError> {
    let curves: Vec<plots::LinePanel> = report
        .columns
        .iter()
        .map(|c| (c.index, &c.task, c.regression))
        .map(|(t, task, regression)| plots::LinePanel {
            title: format!(
                "{task}: validation {}",
                if regression { "MSE" } else { "AUC" }
            ),
            series: cfg
                .entries
                .iter()
                .zip(per_entry)
                .map(|(e, mine)| {
                    let epochs = mine
                        .iter()
                        .map(|r| r.outcome.epochs.len())
                        .max()
                        .unwrap_or(0);
                    let points = (0..epochs)
                        .filter_map(|ep| {
                            let v: Vec<f64> = mine
                                .iter()
                                .filter_map(|r| r.outcome.epochs.get(ep))
                                .map(|c| &c.eval.valid[t])
                                .map(|m| if regression { m.loss } else { m.auc })
                                .filter(|x| x.is_finite())
                                .collect();
                            (!v.is_empty())
                                .then(|| ((ep + 1) as f64, v.iter().sum::<f64>() / v.len() as f64))
                        })
                        .collect();
                    plots::Series::line(e.name.clone(), points)
                })
                .collect(),
            zero_line: false,
        })
        .collect();
    plots::lines(
        &dir.join("training_curves"),
        &curves,
        "epoch",
        if report.columns.iter().any(|c| c.regression) {
            "mean validation AUC (MSE)"
        } else {
            "mean validation AUC"
        },
    )
}

/// One figure of heatmaps per entry with recorded expert weights, one panel per fusion level:
/// `expert_weights_<k>.png` for the k-th entry (1-based, in config order).
fn expert_weight_figures(
    cfg: &ExperimentConfig,
    dir: &Path,
    matrices: &[weights::WeightMatrix],
) -> Result<Vec<PathBuf>, AnalysisError> {
    let mut out = Vec::new();
    for (k, e) in cfg.entries.iter().enumerate() {
        let maps: Vec<plots::Heatmap> = matrices
            .iter()
            .filter(|m| m.entry == e.name)
            .map(|m| plots::Heatmap {
                title: format!("{}: level {} ({} seeds)", m.entry, m.level + 1, m.n),
                rows: m.rows.clone(),
                cols: m.cols.clone(),
                values: m.mean.clone(),
                spread: m.std.clone(),
            })
            .collect();
        if !maps.is_empty() {
            out.extend(plots::heatmaps(
                &dir.join(format!("expert_weights_{}", k + 1)),
                &maps,
            )?);
        }
    }
    Ok(out)
}
