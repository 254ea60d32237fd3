//! The experiment config (TOML, `deny_unknown_fields` everywhere): `[data]`, `[train]`, `[run]`,
//! the model `[[entries]]` (and `[[sweeps]]` expanded into entries) that, crossed with the seeds,
//! form the grid, and `[analysis]`; loading, validation and where results go. The sections'
//! types live in their own modules and are re-exported here.

use std::path::{Component, Path, PathBuf};

use adatt_data::Protocol;
use serde::{Deserialize, Serialize};

pub use crate::analysis::{AnalysisSpec, Claim, Comparison, Figure, NeDirection, PaperSeries};
pub use crate::data::{CensusData, DataConfig, DataSpec, DataTask, SimulatorData};
pub use crate::entry::{Entry, PaperValues};
pub use crate::error::{Result, SpecError};
pub use crate::run::{
    check_threads, max_threads, DeviceChoice, InputMode, RunConfig, Seeds, MAX_SEEDS,
};
pub use crate::train::{LrSchedule, Selection, TaskWeighting, TrainConfig};

/// Refuse an `output_dir` of a config file that would write outside the project: an absolute
/// path, or one with a `..` component (`key` names the field). An explicit `--out` on the command
/// line is the way to write elsewhere; binaries do not pass it through here.
pub fn check_output_dir(dir: &Path, key: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(SpecError::ConfigValue {
            key: key.into(),
            message: format!(
                "{why}, got {:?}; a config may only write inside the project (like \
                 \"results/x\"); pass --out to write elsewhere",
                dir.display().to_string()
            ),
        })
    };
    if dir.as_os_str().is_empty() {
        return bad("must not be empty");
    }
    if dir.has_root()
        || dir.is_absolute()
        || matches!(dir.components().next(), Some(Component::Prefix(_)))
    {
        return bad("must be a relative path");
    }
    if dir.components().any(|c| c == Component::ParentDir) {
        return bad("must not contain `..`");
    }
    Ok(())
}

/// Why `name` is not a plain file name (one path component, no control characters), if it is not.
fn plain_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name == "." || name == ".." {
        Some("`.` and `..` are not names")
    } else if name.contains('/') || name.contains('\\') {
        Some("it contains a path separator (`/` or `\\`)")
    } else if name.chars().any(char::is_control) {
        Some("it contains a control character")
    } else {
        None
    }
}

/// A whole experiment.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Experiment name; records go to `results/<name>/<protocol>/` unless `output_dir` says
    /// otherwise.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Output directory.
    #[serde(default)]
    pub output_dir: Option<PathBuf>,
    /// Data.
    pub data: DataConfig,
    /// Training hyperparameters.
    pub train: TrainConfig,
    /// Execution.
    pub run: RunConfig,
    /// Model entries (those of `sweeps` appended when the config is loaded).
    #[serde(default)]
    pub entries: Vec<Entry>,
    /// Sweeps of one model axis, expanded into `entries` when the config is loaded (so a saved
    /// config lists their entries, with their sweep points, and no sweeps).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sweeps: Vec<crate::sweep::Sweep>,
    /// What the analysis step compares.
    #[serde(default)]
    pub analysis: AnalysisSpec,
}

impl ExperimentConfig {
    /// Parse TOML text (the path is used in messages). Also refuses an `output_dir` outside the
    /// project ([`check_output_dir`]): that is a rule for what a file may say, checked here and
    /// not in [`ExperimentConfig::validate`], because an explicit `--out` replaces the field
    /// before validation and may point anywhere.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self> {
        let mut cfg: Self =
            toml::from_str(text).map_err(|e| SpecError::config_parse(path, text, &e))?;
        if let Some(dir) = &cfg.output_dir {
            check_output_dir(dir, "output_dir").map_err(|e| match e {
                SpecError::ConfigValue { key, message } => SpecError::ConfigValue {
                    key,
                    message: format!("{message} (in {})", path.display()),
                },
                other => other,
            })?;
        }
        for sweep in std::mem::take(&mut cfg.sweeps) {
            cfg.entries.extend(sweep.entries()?);
        }
        Ok(cfg)
    }

    /// The config a grid saved beside its results (`config.toml`): parsed like
    /// [`ExperimentConfig::load`], its `output_dir` left unchecked (it says where those results
    /// were written, `--out` included, which may be outside the project).
    pub fn load_saved(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::ConfigIo {
            path: path.to_owned(),
            source,
        })?;
        let mut cfg: Self =
            toml::from_str(&text).map_err(|e| SpecError::config_parse(path, &text, &e))?;
        for sweep in std::mem::take(&mut cfg.sweeps) {
            cfg.entries.extend(sweep.entries()?);
        }
        Ok(cfg)
    }

    /// Read and parse a TOML file (not validated; call [`ExperimentConfig::validate`]).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::ConfigIo {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }
    /// The best-epoch criterion is defined for every task: a regression task has no NE, so
    /// `mean_valid_ne` would be NaN and keep whichever epoch came first.
    fn validate_selection(&self) -> Result<()> {
        if self.train.selection != Selection::MeanValidNe {
            return Ok(());
        }
        match self
            .data
            .spec()
            .tasks()
            .into_iter()
            .find(|t| t.kind == adatt_data::TaskKind::Regression)
        {
            Some(t) => Err(SpecError::ConfigValue {
                key: "train.selection".into(),
                message: format!(
                    "\"mean_valid_ne\" needs an NE for every task, and the regression task `{}` \
                     has none (its metric is the MSE): use \"mean_valid_normalized_loss\" (NE, \
                     and MSE over the label variance for a regression task)",
                    t.name
                ),
            }),
            None => Ok(()),
        }
    }

    /// Validate everything that can be checked without data.
    pub fn validate(&self, n_tasks: usize) -> Result<()> {
        self.data.validate()?;
        self.data.spec().validate_train(&self.train)?;
        self.validate_selection()?;
        if let Some(why) = plain_name_problem(&self.name) {
            return Err(SpecError::ConfigValue {
                key: "name".into(),
                message: format!(
                    "must be a plain directory name (records go to results/<name>/), got {:?}: \
                     {why}",
                    self.name
                ),
            });
        }
        self.train.validate(n_tasks)?;
        self.run.validate()?;
        let names = self.validate_entries(n_tasks)?;
        self.analysis.validate(&names, &self.train.checkpoints)?;
        if self.train.record_expert_weights {
            if let Some(e) = self.entries.iter().find(|e| !e.model.is_adatt()) {
                return Err(SpecError::ConfigValue {
                    key: "train.record_expert_weights".into(),
                    message: format!(
                        "fused expert weights exist only for AdaTT and AdaTT-sp, not entry `{}` ({})",
                        e.name,
                        e.model.label()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The entries: at least one, each with a plain unique label and a valid model for
    /// `n_tasks` tasks, no two with the same model. Returns their names.
    fn validate_entries(&self, n_tasks: usize) -> Result<std::collections::BTreeSet<&str>> {
        if self.entries.is_empty() {
            return Err(SpecError::ConfigValue {
                key: "entries".into(),
                message: "no model entries".into(),
            });
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, e) in self.entries.iter().enumerate() {
            if e.name.trim().is_empty() || e.name.chars().any(char::is_control) {
                return Err(SpecError::ConfigValue {
                    key: "entries.name".into(),
                    message: format!(
                        "must be a non-empty label without control characters, got {:?} \
                         (entry {} of {})",
                        e.name,
                        i + 1,
                        self.entries.len()
                    ),
                });
            }
            if !names.insert(e.name.as_str()) {
                return Err(SpecError::ConfigValue {
                    key: "entries.name".into(),
                    message: format!("duplicate entry name `{}`", e.name),
                });
            }
            e.model
                .validate(n_tasks)
                .map_err(|source| SpecError::Model {
                    entry: e.name.clone(),
                    source,
                })?;
        }
        // A run's record key is its config hash and seed, without the entry name: two entries
        // with the same model would share their records.
        for (i, a) in self.entries.iter().enumerate() {
            if let Some(b) = self.entries[..i].iter().find(|b| b.model == a.model) {
                return Err(SpecError::ConfigValue {
                    key: "entries.model".into(),
                    message: format!(
                        "entries `{}` and `{}` have the same model; they would be the same runs",
                        b.name, a.name
                    ),
                });
            }
        }
        Ok(names)
    }
}

impl ExperimentConfig {
    /// Which weights the grid saves: `[run] weights`, by default `best` for a user's table and
    /// `none` for the paper's data.
    pub fn saved_weights(&self) -> crate::run::SavedWeights {
        use crate::run::SavedWeights;
        self.run.weights.unwrap_or(match self.data {
            DataConfig::Table(_) => SavedWeights::Best,
            _ => SavedWeights::None,
        })
    }

    /// Where results go ([`results_dir`], one folder per protocol).
    pub fn output_dir(&self) -> PathBuf {
        results_dir(
            self.output_dir.as_deref(),
            &self.name,
            &self.data,
            ResultsLayout::PerProtocol,
        )
    }
}

/// Where a config's results go when it names no `output_dir`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultsLayout {
    /// `results/<name>/<protocol>/` (every grid; a simulated grid's "protocol" is its preset).
    PerProtocol,
    /// `results/<name>/` for the `paper` protocol and `results/<name>/<protocol>/` for any other
    /// (the Table 5 study, whose paper-protocol results came first).
    PaperAtTop,
}

/// The one rule for where results go: `output_dir` when the config gives one, else under
/// `results/<name>/` as `layout` says.
pub fn results_dir(
    output_dir: Option<&Path>,
    name: &str,
    data: &DataConfig,
    layout: ResultsLayout,
) -> PathBuf {
    if let Some(dir) = output_dir {
        return dir.to_owned();
    }
    let base = PathBuf::from("results").join(name);
    match (layout, data.protocol()) {
        (ResultsLayout::PaperAtTop, Some(Protocol::Paper)) => base,
        _ => base.join(data.label()),
    }
}
