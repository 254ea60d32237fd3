//! `[[entries]]`: the model configurations of a grid, each with its label and, for entries a
//! `[[sweeps]]` made ([`crate::sweep`]), its point on the sweep.

use adatt_models::ModelConfig;
use serde::{Deserialize, Serialize};

/// Paper values for one entry, by task name.
pub type PaperValues = std::collections::BTreeMap<String, f64>;

/// One model configuration of the grid.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Display name, unique in the experiment (e.g. "AdaTT").
    pub name: String,
    /// Setting label for grouping in tables (e.g. "6 experts").
    #[serde(default)]
    pub setting: String,
    /// The model.
    pub model: ModelConfig,
    /// The paper's values (test AUC per task name), when the paper reports this cell.
    #[serde(default)]
    pub paper: Option<PaperValues>,
    /// The paper's test NE difference against `analysis.reference` in % (of the MSE for a
    /// regression task), by task name, shown beside ours in the NE-difference table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_ne_diff: Option<PaperValues>,
    /// Where the entry sits on a sweep, for entries a `[[sweeps]]` made ([`crate::sweep`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepPoint>,
}

/// Which axis, without its values (the label of a sweep point and of a plot's x axis).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AxisKind {
    /// See [`SweepAxis::TaskExperts`].
    TaskExperts,
    /// See [`SweepAxis::Levels`].
    Levels,
    /// See [`SweepAxis::Native`]; x is 1 for learned, 0 for ablated.
    Native,
}

impl AxisKind {
    /// The axis as a reader names it.
    pub fn label(self) -> &'static str {
        match self {
            AxisKind::TaskExperts => "experts per task",
            AxisKind::Levels => "fusion levels",
            AxisKind::Native => "NativeExpertLF (1 learned, 0 ablated)",
        }
    }
}

/// Where an entry sits on a sweep.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SweepPoint {
    /// The sweep's name.
    pub sweep: String,
    /// Its axis.
    pub axis: AxisKind,
    /// The value on the axis.
    pub x: f64,
}
