//! Two-phase studies: tune a discrete choice (e.g. the number of shared experts m_s) on
//! validation with a few seeds, then train the chosen candidate of every group with all seeds.
//! Each phase is an ordinary [`ExperimentConfig`] grid, so both are resumable and shardable.

use std::path::{Path, PathBuf};

use adatt_models::ModelConfig;
use serde::{Deserialize, Serialize};

use crate::config::{
    AnalysisSpec, DataConfig, Entry, ExperimentConfig, PaperValues, RunConfig, Seeds, TrainConfig,
};
use crate::error::{Result, SpecError};
use crate::records::RunRecord;

/// One candidate configuration of a group.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    /// Short label, e.g. "m_s=3".
    pub label: String,
    /// The model.
    pub model: ModelConfig,
}

/// A row of the final table: one or more candidates, of which the tuning phase picks one.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Row name (entry name of the final phase).
    pub name: String,
    /// Setting label.
    #[serde(default)]
    pub setting: String,
    /// The paper's values.
    #[serde(default)]
    pub paper: Option<PaperValues>,
    /// The paper's test NE differences against the reference (see
    /// [`Entry::paper_ne_diff`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_ne_diff: Option<PaperValues>,
    /// Candidates (one = nothing to tune).
    pub candidates: Vec<Candidate>,
}

/// How the tuning phase picks a group's candidate from its tuning runs' validation metrics
/// (`[tuning] criterion`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TuningCriterion {
    /// The highest mean, over the tuning seeds, of the sum of validation AUCs (Table 5).
    #[default]
    SumValidAuc,
    /// The lowest mean, over the reported tasks, of the candidate's mean validation NE (MSE for
    /// a regression task) divided by the mean of all the group's candidates on that task: the
    /// relative scale of the paper's industrial tables, on which an MSE and an NE weigh alike.
    MeanRelativeValidNe,
}

impl TuningCriterion {
    /// Whether this is the default (left out of the saved config).
    pub fn is_default(&self) -> bool {
        *self == TuningCriterion::SumValidAuc
    }

    /// The score of each candidate (NaN without finished runs) from its finished tuning runs;
    /// `reported[t]`: whether task t counts.
    fn scores(&self, finished: &[Vec<&RunRecord>], reported: &[bool]) -> Vec<f64> {
        let mean = |v: &[f64]| {
            if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        let best_valid = |r: &RunRecord| r.outcome.best.as_ref().map(|b| b.valid.clone());
        match self {
            TuningCriterion::SumValidAuc => finished
                .iter()
                .map(|ok| {
                    let sums: Vec<f64> = ok
                        .iter()
                        .filter_map(|r| best_valid(r))
                        .map(|v| {
                            v.iter()
                                .map(|m| if m.auc.is_nan() { 0.0 } else { m.auc })
                                .sum()
                        })
                        .collect();
                    mean(&sums)
                })
                .collect(),
            TuningCriterion::MeanRelativeValidNe => {
                // Per candidate and task: the mean over runs of NE, or of the MSE where there is
                // no NE (a regression task).
                let per_task: Vec<Vec<f64>> = finished
                    .iter()
                    .map(|ok| {
                        let valid: Vec<_> = ok.iter().filter_map(|r| best_valid(r)).collect();
                        (0..reported.len())
                            .map(|t| {
                                let v: Vec<f64> = valid
                                    .iter()
                                    .map(|v| if v[t].ne.is_nan() { v[t].loss } else { v[t].ne })
                                    .collect();
                                mean(&v)
                            })
                            .collect()
                    })
                    .collect();
                let task_mean: Vec<f64> = (0..reported.len())
                    .map(|t| {
                        let v: Vec<f64> = per_task
                            .iter()
                            .map(|c| c[t])
                            .filter(|x| x.is_finite())
                            .collect();
                        mean(&v)
                    })
                    .collect();
                per_task
                    .iter()
                    .map(|c| {
                        let rel: Vec<f64> = (0..reported.len())
                            .filter(|&t| reported[t])
                            .map(|t| c[t] / task_mean[t])
                            .collect();
                        mean(&rel)
                    })
                    .collect()
            }
        }
    }

    /// A score as the tuning table shows it: an AUC sum to 4 decimals, a relative NE to 6
    /// (candidates of one group differ in the 4th or 5th).
    fn format(&self, score: f64) -> String {
        match self {
            TuningCriterion::SumValidAuc => format!("{score:.4}"),
            TuningCriterion::MeanRelativeValidNe => format!("{score:.6}"),
        }
    }

    /// The column header of the tuning table.
    fn header(&self) -> &'static str {
        match self {
            TuningCriterion::SumValidAuc => "mean validation AUC sum",
            TuningCriterion::MeanRelativeValidNe => {
                "mean validation NE (MSE) / the group's candidate mean"
            }
        }
    }
}

/// Tuning phase settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tuning {
    /// Seeds of the tuning runs (keep them disjoint from the final seeds).
    pub seeds: Seeds,
    /// How a candidate is chosen.
    #[serde(default, skip_serializing_if = "TuningCriterion::is_default")]
    pub criterion: TuningCriterion,
    /// What is tuned and how it is chosen, for the report (e.g. "Shared experts m_s tuned on
    /// validation").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A study config (e.g. `configs/table5.toml`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StudyConfig {
    /// Name; see [`StudyConfig::output_dir`].
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The report's title (default: the name), e.g. "Table 5".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Output directory (default `results/<name>/<protocol>`).
    #[serde(default)]
    pub output_dir: Option<PathBuf>,
    /// Data.
    pub data: DataConfig,
    /// Training hyperparameters (both phases).
    pub train: TrainConfig,
    /// Final phase execution (its seeds are the final seeds).
    pub run: RunConfig,
    /// Tuning phase.
    pub tuning: Tuning,
    /// Rows.
    pub groups: Vec<Group>,
    /// Analysis of the final phase.
    #[serde(default)]
    pub analysis: AnalysisSpec,
}

/// The choice made for one group.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Choice {
    /// Group name.
    pub group: String,
    /// Chosen candidate label.
    pub chosen: String,
    /// Per candidate: (label, finished tuning runs, its score by the tuning criterion).
    pub scores: Vec<(String, usize, f64)>,
    /// Tuning runs planned per candidate (the tuning seeds); 0 for a single-candidate group.
    /// A candidate with fewer recorded runs (finished or failed) makes the choice provisional.
    #[serde(default)]
    pub planned_runs: usize,
    /// Per candidate (in `scores` order): tuning runs recorded as failed. They are not retried
    /// and do not count in the mean; `tuning.md` names them.
    #[serde(default)]
    pub failed_runs: Vec<usize>,
}

impl Choice {
    /// Whether every candidate has all its planned tuning runs recorded (finished or failed).
    pub fn is_final(&self) -> bool {
        self.scores
            .iter()
            .enumerate()
            .all(|(i, s)| s.1 + self.failed_of(i) >= self.planned_runs)
    }
    /// Failed tuning runs of candidate `i` (0 in choices saved before the field existed).
    fn failed_of(&self, i: usize) -> usize {
        self.failed_runs.get(i).copied().unwrap_or(0)
    }
    /// Tuning runs recorded as failed, over all candidates.
    pub fn failed(&self) -> usize {
        self.failed_runs.iter().sum()
    }
}

impl StudyConfig {
    /// Read and parse.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::ConfigIo {
            path: path.to_owned(),
            source,
        })?;
        let cfg: Self =
            toml::from_str(&text).map_err(|e| SpecError::config_parse(path, &text, &e))?;
        if let Some(dir) = &cfg.output_dir {
            crate::config::check_output_dir(dir, "output_dir")?;
        }
        Ok(cfg)
    }

    /// The report's title: `title`, else the name.
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }

    /// Output directory of the final phase ([`crate::config::results_dir`]: `output_dir`,
    /// else `results/<name>/` for the `paper` protocol and `results/<name>/<protocol>/` for any
    /// other).
    pub fn output_dir(&self) -> PathBuf {
        crate::config::results_dir(
            self.output_dir.as_deref(),
            &self.name,
            &self.data,
            crate::config::ResultsLayout::PaperAtTop,
        )
    }

    fn base(
        &self,
        name: String,
        entries: Vec<Entry>,
        run: RunConfig,
        out: PathBuf,
    ) -> ExperimentConfig {
        ExperimentConfig {
            name,
            description: self.description.clone(),
            output_dir: Some(out),
            data: self.data.clone(),
            train: self.train.clone(),
            run,
            entries,
            sweeps: Vec::new(),
            analysis: AnalysisSpec::default(),
        }
    }

    fn candidate_entry(g: &Group, c: &Candidate) -> Entry {
        Entry {
            name: format!("{} [{}]", g.name, c.label),
            setting: g.setting.clone(),
            model: c.model.clone(),
            paper: None,
            paper_ne_diff: None,
            sweep: None,
        }
    }

    /// The tuning grid: every candidate of every group with more than one candidate.
    pub fn tuning_experiment(&self) -> ExperimentConfig {
        let entries = self
            .groups
            .iter()
            .filter(|g| g.candidates.len() > 1)
            .flat_map(|g| {
                g.candidates
                    .iter()
                    .map(move |c| Self::candidate_entry(g, c))
            })
            .collect();
        let run = RunConfig {
            seeds: self.tuning.seeds.clone(),
            ..self.run.clone()
        };
        self.base(
            format!("{}-tuning", self.name),
            entries,
            run,
            self.output_dir().join("tuning"),
        )
    }

    /// Everything that can be checked without data: the tuning grid and every candidate of every
    /// group (`n_tasks` tasks), so that a bad model config is reported before the data load.
    pub fn validate(&self, n_tasks: usize) -> Result<()> {
        let tuning = self.tuning_experiment();
        if !tuning.entries.is_empty() {
            tuning.validate(n_tasks)?;
        }
        for g in &self.groups {
            if g.candidates.is_empty() {
                return Err(SpecError::ConfigValue {
                    key: format!("groups.{}.candidates", g.name),
                    message: "no candidates".into(),
                });
            }
        }
        let firsts = self.final_experiment(&[]);
        firsts.validate(n_tasks)
    }

    /// Pick, per group, the candidate with the best score by `tuning.criterion` over its
    /// finished tuning runs (single-candidate groups need no runs). Records are matched by key
    /// (config hash and seed), not by their entry label.
    pub fn choose(&self, tuning_records: &[RunRecord]) -> Result<Vec<Choice>> {
        let tuning = self.tuning_experiment();
        let keys = crate::plan::entry_keys(&tuning);
        let reported: Vec<bool> = self.data.tasks().iter().map(|t| t.reported).collect();
        let mut entry_index = 0;
        let mut out = Vec::new();
        for g in &self.groups {
            if g.candidates.len() == 1 {
                out.push(Choice {
                    group: g.name.clone(),
                    chosen: g.candidates[0].label.clone(),
                    scores: vec![],
                    planned_runs: 0,
                    failed_runs: vec![],
                });
                continue;
            }
            let mut finished = Vec::new();
            let mut failed_runs = Vec::new();
            for _ in &g.candidates {
                let mine = &keys[entry_index];
                entry_index += 1;
                let (ok, failed): (Vec<&RunRecord>, Vec<&RunRecord>) = tuning_records
                    .iter()
                    .filter(|r| mine.contains(&r.key))
                    .partition(|r| r.is_ok());
                failed_runs.push(failed.len());
                finished.push(ok);
            }
            let values = self.tuning.criterion.scores(&finished, &reported);
            let scores: Vec<(String, usize, f64)> = g
                .candidates
                .iter()
                .zip(&finished)
                .zip(values)
                .map(|((c, ok), v)| (c.label.clone(), ok.len(), v))
                .collect();
            let better = |a: f64, b: f64| match self.tuning.criterion {
                TuningCriterion::SumValidAuc => a.total_cmp(&b),
                TuningCriterion::MeanRelativeValidNe => b.total_cmp(&a),
            };
            let best = scores
                .iter()
                .filter(|s| s.2.is_finite())
                .max_by(|a, b| better(a.2, b.2))
                .ok_or_else(|| SpecError::ConfigValue {
                    key: format!("groups.{}", g.name),
                    message: "no finished tuning run for any candidate".into(),
                })?;
            out.push(Choice {
                group: g.name.clone(),
                chosen: best.0.clone(),
                scores: scores.clone(),
                planned_runs: self.tuning.seeds.to_vec().len(),
                failed_runs,
            });
        }
        Ok(out)
    }

    /// The choices, if every one is final; otherwise the error that says how much of the tuning
    /// is missing. The final grid trains only with final choices: a choice from a partial tuning
    /// (e.g. one `--shard` of it) could differ from the one the complete tuning makes.
    pub fn require_final(choices: &[Choice]) -> Result<&[Choice]> {
        let missing: Vec<String> = choices
            .iter()
            .filter(|c| !c.is_final())
            .map(|c| {
                let recorded: usize = (0..c.scores.len())
                    .map(|i| (c.scores[i].1 + c.failed_of(i)).min(c.planned_runs))
                    .sum();
                format!(
                    "{} ({recorded} of {} tuning runs recorded)",
                    c.group,
                    c.planned_runs * c.scores.len()
                )
            })
            .collect();
        if missing.is_empty() {
            Ok(choices)
        } else {
            Err(SpecError::TuningIncomplete(missing.join(", ")))
        }
    }

    /// The final grid: the chosen candidate of every group, all final seeds.
    pub fn final_experiment(&self, choices: &[Choice]) -> ExperimentConfig {
        let entries = self
            .groups
            .iter()
            .map(|g| {
                let label = choices
                    .iter()
                    .find(|c| c.group == g.name)
                    .map(|c| c.chosen.as_str())
                    .unwrap_or(&g.candidates[0].label);
                let c = g
                    .candidates
                    .iter()
                    .find(|c| c.label == label)
                    .unwrap_or(&g.candidates[0]);
                Entry {
                    name: g.name.clone(),
                    setting: g.setting.clone(),
                    model: c.model.clone(),
                    paper: g.paper.clone(),
                    paper_ne_diff: g.paper_ne_diff.clone(),
                    sweep: None,
                }
            })
            .collect();
        let mut e = self.base(
            self.name.clone(),
            entries,
            self.run.clone(),
            self.output_dir(),
        );
        e.analysis = self.analysis.clone();
        e
    }

    /// The tuning table as Markdown: per candidate its finished runs (of those planned), its
    /// score by `criterion` and whether it was chosen. While some planned runs are missing, the
    /// choices are marked provisional and a note under the table says how many runs are recorded.
    pub fn choices_md(choices: &[Choice], criterion: TuningCriterion) -> String {
        let mut s = format!(
            "| group | candidate | tuning runs | {} | chosen |\n|---|---|---|---|---|\n",
            criterion.header()
        );
        let (mut done, mut planned, mut failed) = (0, 0, 0);
        for c in choices {
            let mark = if c.is_final() { "yes" } else { "provisional" };
            for (i, (label, n, mean)) in c.scores.iter().enumerate() {
                let f = c.failed_of(i);
                done += (*n + f).min(c.planned_runs);
                planned += c.planned_runs;
                failed += f;
                s.push_str(&format!(
                    "| {} | {} | {} of {}{} | {} | {} |\n",
                    c.group,
                    label,
                    n,
                    c.planned_runs,
                    if f > 0 {
                        format!(" ({f} failed)")
                    } else {
                        String::new()
                    },
                    criterion.format(*mean),
                    if *label == c.chosen { mark } else { "" }
                ));
            }
        }
        if done < planned {
            s.push_str(&format!(
                "\n**Tuning incomplete: {done} of {planned} runs recorded.** The choices are provisional; \
                 `make table5` finishes the tuning before the final grid uses them.\n"
            ));
        }
        if failed > 0 {
            s.push_str(&format!(
                "\n**{failed} tuning run(s) failed** (their records say why). They are not \
                 retried; the means are over the finished runs only.\n"
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;

    fn study() -> StudyConfig {
        StudyConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/table5.toml"))
            .unwrap()
    }

    /// A finished tuning record whose three validation AUCs sum to `valid_sum`.
    fn record(entry: &str, p: &crate::plan::PlannedRun, valid_sum: f64) -> RunRecord {
        let m = |auc: f64| serde_json::json!({ "auc": auc, "ne": 0.5, "loss": 0.3 });
        serde_json::from_value(serde_json::json!({
            "version": 1, "key": p.key, "config_hash": p.config_hash, "experiment": "t",
            "entry": entry, "setting": "", "model": "", "model_config": {}, "protocol": "paper",
            "seed": p.seed, "tasks": ["a", "b", "c"], "status": "ok", "best_epoch": 9,
            "best": { "valid": [m(valid_sum / 3.0), m(valid_sum / 3.0), m(valid_sum / 3.0)],
                      "test": [m(0.9), m(0.9), m(0.9)] },
            "epochs": [], "checkpoints": [], "task_weights": [], "group_wall_s": 1.0,
            "group_replicas": 1, "device": "Cpu", "threads": 1, "finished_at": 0
        }))
        .unwrap()
    }

    /// Records for every planned tuning run: candidates whose label ends in "=3" score 2.8,
    /// the others 2.7; `keep(entry, seed)` drops runs to simulate an unfinished tuning.
    fn records(s: &StudyConfig, keep: impl Fn(&str, u64) -> bool) -> Vec<RunRecord> {
        let tuning = s.tuning_experiment();
        crate::plan(&tuning)
            .iter()
            .filter_map(|p| {
                let entry = &tuning.entries[p.entry].name;
                let score = if entry.ends_with("=3]") { 2.8 } else { 2.7 };
                keep(entry, p.seed).then(|| record(entry, p, score))
            })
            .collect()
    }

    #[test]
    fn complete_tuning_picks_the_best_mean_and_is_final() {
        let s = study();
        let choices = s.choose(&records(&s, |_, _| true)).unwrap();
        let ple6 = choices.iter().find(|c| c.group == "PLE (6)").unwrap();
        assert_eq!(ple6.chosen, "m_s=3");
        assert_eq!(ple6.planned_runs, 5);
        assert!(ple6.scores.iter().all(|sc| sc.1 == 5));
        assert!(choices.iter().all(Choice::is_final));
        let md = StudyConfig::choices_md(&choices, TuningCriterion::SumValidAuc);
        assert!(
            md.contains("| PLE (6) | m_s=3 | 5 of 5 | 2.8000 | yes |"),
            "{md}"
        );
        assert!(
            !md.contains("provisional") && !md.contains("incomplete"),
            "{md}"
        );
    }

    #[test]
    fn unfinished_tuning_is_marked_provisional_with_its_count() {
        let s = study();
        // PLE (6) m_s=3 has only seed 1000 so far
        let recs = records(&s, |e, seed| !(e == "PLE (6) [m_s=3]" && seed != 1000));
        let choices = s.choose(&recs).unwrap();
        let ple6 = choices.iter().find(|c| c.group == "PLE (6)").unwrap();
        assert!(!ple6.is_final());
        assert!(choices
            .iter()
            .filter(|c| c.group != "PLE (6)")
            .all(Choice::is_final));
        let md = StudyConfig::choices_md(&choices, TuningCriterion::SumValidAuc);
        assert!(
            md.contains("| PLE (6) | m_s=3 | 1 of 5 | 2.8000 | provisional |"),
            "{md}"
        );
        let total = s.tuning_experiment().entries.len() * 5;
        assert!(
            md.contains(&format!(
                "Tuning incomplete: {} of {total} runs recorded.",
                total - 4
            )),
            "{md}"
        );
        // The final grid is refused a provisional choice, naming what is missing.
        let err = StudyConfig::require_final(&choices)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the tuning is not complete: PLE (6) (6 of 10 tuning runs recorded)"),
            "{err}"
        );
        let complete = s.choose(&records(&s, |_, _| true)).unwrap();
        assert_eq!(
            StudyConfig::require_final(&complete).unwrap(),
            &complete[..]
        );
    }

    #[test]
    fn failed_tuning_runs_are_recorded_not_missing_and_are_named() {
        let s = study();
        let mut recs = records(&s, |_, _| true);
        // PLE (6) m_s=3 failed at seeds 1001 and 1002 (non-finite loss)
        for r in recs
            .iter_mut()
            .filter(|r| r.entry == "PLE (6) [m_s=3]" && (r.seed == 1001 || r.seed == 1002))
        {
            r.outcome.status = Status::Failed {
                reason: "non-finite loss".into(),
            };
            r.outcome.best = None;
        }
        let choices = s.choose(&recs).unwrap();
        let ple6 = choices.iter().find(|c| c.group == "PLE (6)").unwrap();
        let (label, n, mean) = &ple6.scores[1];
        assert_eq!((label.as_str(), *n), ("m_s=3", 3));
        assert!((mean - 2.8).abs() < 1e-12, "{mean}");
        assert_eq!((ple6.failed_runs.clone(), ple6.failed()), (vec![0, 2], 2));
        assert!(choices.iter().all(Choice::is_final));
        let md = StudyConfig::choices_md(&choices, TuningCriterion::SumValidAuc);
        assert!(
            md.contains("| PLE (6) | m_s=3 | 3 of 5 (2 failed) | 2.8000 | yes |"),
            "{md}"
        );
        assert!(
            md.contains("**2 tuning run(s) failed**") && !md.contains("incomplete"),
            "{md}"
        );
    }

    /// `mean_relative_valid_ne` on group3 (watch_time regression, click, long_view, like
    /// reported; dislike auxiliary), against values worked out by hand: candidate A has the
    /// better AUC sum and the worse relative NE; the MSE counts on the same relative scale and
    /// the auxiliary task not at all.
    #[test]
    fn relative_ne_weighs_the_mse_like_an_ne_and_leaves_the_auxiliary_task_out() {
        let text = r#"
name = "t"
[data]
source = "simulator"
preset = "group3"
users = 100
items = 40
train_rows = 1000
valid_rows = 1000
test_rows = 1000
embedding_dim = 4
[train]
batch_size = 100
epochs = 1
lr = 1e-3
[run]
seeds = [0]
[tuning]
seeds = [10, 11]
criterion = "mean_relative_valid_ne"
[[groups]]
name = "MMoE"
candidates = [
  { label = "A", model = { kind = "mmoe", experts = 2, expert_dims = [[8]], tower = [4] } },
  { label = "B", model = { kind = "mmoe", experts = 3, expert_dims = [[8]], tower = [4] } },
]
"#;
        let s: StudyConfig = toml::from_str(text).unwrap();
        assert_eq!(s.tuning.criterion, TuningCriterion::MeanRelativeValidNe);
        // (MSE or NE, AUC) per task: watch_time, click, long_view, like, dislike.
        let a = [
            (0.20, f64::NAN),
            (0.50, 0.9),
            (0.30, 0.9),
            (0.60, 0.9),
            (0.10, 0.9),
        ];
        let b = [
            (0.19, f64::NAN),
            (0.51, 0.8),
            (0.29, 0.8),
            (0.59, 0.8),
            (0.90, 0.8),
        ];
        let tuning = s.tuning_experiment();
        let records: Vec<RunRecord> = crate::plan(&tuning)
            .iter()
            .map(|p| {
                let v = if p.entry == 0 { &a } else { &b };
                let m = |(x, auc): (f64, f64)| {
                    if auc.is_nan() {
                        serde_json::json!({ "auc": null, "ne": null, "loss": x })
                    } else {
                        serde_json::json!({ "auc": auc, "ne": x, "loss": 9.0 })
                    }
                };
                let valid: Vec<_> = v.iter().map(|x| m(*x)).collect();
                serde_json::from_value(serde_json::json!({
                    "version": 1, "key": p.key, "config_hash": p.config_hash,
                    "experiment": "t", "entry": "e", "setting": "", "model": "",
                    "model_config": {}, "protocol": "group3", "seed": p.seed,
                    "tasks": ["watch_time", "click", "long_view", "like", "dislike"],
                    "status": "ok", "best_epoch": 0,
                    "best": { "valid": valid.clone(), "test": valid },
                    "epochs": [], "checkpoints": [], "task_weights": [], "group_wall_s": 1.0,
                    "group_replicas": 1, "device": "Cpu", "threads": 1, "finished_at": 0
                }))
                .unwrap()
            })
            .collect();
        assert_eq!(records.len(), 4);
        let c = &s.choose(&records).unwrap()[0];
        assert_eq!(c.chosen, "B");
        // By hand: task means 0.195, 0.505, 0.295, 0.595; A: (0.20/0.195 + 0.50/0.505
        // + 0.30/0.295 + 0.60/0.595) / 4 = 1.0102731..., B: 0.9897268...
        let want = [("A", 1.010_273_1), ("B", 0.989_726_9)];
        for ((label, n, score), (l, w)) in c.scores.iter().zip(want) {
            assert_eq!((label.as_str(), *n), (l, 2));
            assert!((score - w).abs() < 1e-6, "{label}: {score} vs {w}");
        }
        let md = StudyConfig::choices_md(std::slice::from_ref(c), s.tuning.criterion);
        assert!(
            md.contains("mean validation NE (MSE) / the group's candidate mean"),
            "{md}"
        );
    }
}
