//! Model configuration (serde, TOML-friendly) and the input description.

use serde::{Deserialize, Serialize};

use crate::error::{config_err, ModelError};

/// NativeExpertLF of AdaTT / AdaTT-sp (the official `self_exp_res_connect`).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NativeFusion {
    /// The native experts' linear combination is added (official `self_exp_res_connect=True`).
    #[default]
    Learned,
    /// Ablation: the native term is removed (and `self_exp_weights` do not exist).
    Ablated,
}

/// One architecture of the paper with its sizes.
///
/// `expert_dims[l]` lists the layer widths of every expert at fusion level `l`; `tower` the hidden
/// widths of every task tower (followed by a `Linear(., 1)`); `bottom` the widths of the
/// shared-bottom (or single-task) MLP.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelConfig {
    /// One MLP shared by all task towers (official `share_bottom`, with the expert dims
    /// flattened into `bottom`).
    SharedBottom {
        bottom: Vec<usize>,
        tower: Vec<usize>,
    },
    /// Multi-level MMoE (official `mmoe`): `experts` experts per level, every gate reads the input.
    Mmoe {
        experts: usize,
        expert_dims: Vec<Vec<usize>>,
        tower: Vec<usize>,
    },
    /// Cross-stitch (official `cross_st`).
    CrossStitch {
        expert_dims: Vec<Vec<usize>>,
        tower: Vec<usize>,
    },
    /// PLE (official `ple`; one level = CGC). `shared_experts = 0` is allowed (no shared unit).
    Ple {
        task_experts: usize,
        shared_experts: usize,
        expert_dims: Vec<Vec<usize>>,
        tower: Vec<usize>,
    },
    /// AdaTT-sp (official `att_sp`).
    AdattSp {
        task_experts: usize,
        expert_dims: Vec<Vec<usize>>,
        tower: Vec<usize>,
        #[serde(default)]
        native: NativeFusion,
    },
    /// AdaTT with a shared unit (official `att_g`); needs `shared_experts >= 1`.
    Adatt {
        task_experts: usize,
        shared_experts: usize,
        expert_dims: Vec<Vec<usize>>,
        tower: Vec<usize>,
        #[serde(default)]
        native: NativeFusion,
    },
    /// T independent networks (our own names: `task_nets.{t}`, `task_modules.{t}`).
    SingleTask {
        bottom: Vec<usize>,
        tower: Vec<usize>,
    },
}

/// What the model's input looks like.
///
/// The dense input has `n_features` columns; in the sparse view `numeric_cols` (indices into
/// the dense columns) carry real values and every other column is a one-hot column of one of
/// `n_cat` categorical groups, given per row by the index of its active column (or -1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSpec {
    pub n_features: usize,
    pub numeric_cols: Vec<usize>,
    pub n_cat: usize,
    pub n_tasks: usize,
}

impl InputSpec {
    /// A spec for purely dense input (all columns numeric, no categorical groups).
    pub fn dense(n_features: usize, n_tasks: usize) -> InputSpec {
        InputSpec {
            n_features,
            numeric_cols: (0..n_features).collect(),
            n_cat: 0,
            n_tasks,
        }
    }

    /// Checks the spec; errors name the offending field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let err = |field: &str, msg: String| ModelError::Spec {
            field: field.into(),
            msg,
        };
        if self.n_features == 0 {
            return Err(err("n_features", "must be >= 1".into()));
        }
        if self.n_tasks == 0 {
            return Err(err("n_tasks", "must be >= 1".into()));
        }
        let mut seen = vec![false; self.n_features];
        for &c in &self.numeric_cols {
            if c >= self.n_features {
                return Err(err(
                    "numeric_cols",
                    format!("column {c} out of range (n_features = {})", self.n_features),
                ));
            }
            if std::mem::replace(&mut seen[c], true) {
                return Err(err("numeric_cols", format!("column {c} listed twice")));
            }
        }
        Ok(())
    }
}

fn check_dims(field: &str, dims: &[usize]) -> Result<(), ModelError> {
    if dims.is_empty() {
        return Err(config_err(field, "must list at least one layer width"));
    }
    if let Some(i) = dims.iter().position(|&d| d == 0) {
        return Err(config_err(
            format!("{field}[{i}]"),
            "layer width must be >= 1",
        ));
    }
    Ok(())
}

fn check_levels(expert_dims: &[Vec<usize>]) -> Result<(), ModelError> {
    if expert_dims.is_empty() {
        return Err(config_err(
            "expert_dims",
            "must list at least one fusion level",
        ));
    }
    for (l, dims) in expert_dims.iter().enumerate() {
        check_dims(&format!("expert_dims[{l}]"), dims)?;
    }
    Ok(())
}

fn check_count(field: &str, n: usize) -> Result<(), ModelError> {
    if n == 0 {
        return Err(config_err(field, "must be >= 1"));
    }
    Ok(())
}

impl ModelConfig {
    /// Checks the sizes; the error names the offending field.
    pub fn validate(&self, n_tasks: usize) -> Result<(), ModelError> {
        if n_tasks == 0 {
            return Err(config_err("n_tasks", "must be >= 1"));
        }
        check_dims("tower", self.tower())?;
        match self {
            ModelConfig::SharedBottom { bottom, .. } | ModelConfig::SingleTask { bottom, .. } => {
                check_dims("bottom", bottom)
            }
            ModelConfig::Mmoe {
                experts,
                expert_dims,
                ..
            } => {
                check_count("experts", *experts)?;
                check_levels(expert_dims)
            }
            ModelConfig::CrossStitch { expert_dims, .. } => check_levels(expert_dims),
            ModelConfig::Ple {
                task_experts,
                expert_dims,
                ..
            } => {
                check_count("task_experts", *task_experts)?;
                check_levels(expert_dims)
            }
            ModelConfig::AdattSp {
                task_experts,
                expert_dims,
                ..
            } => {
                check_count("task_experts", *task_experts)?;
                check_levels(expert_dims)
            }
            ModelConfig::Adatt {
                task_experts,
                shared_experts,
                expert_dims,
                ..
            } => {
                check_count("task_experts", *task_experts)?;
                if *shared_experts == 0 {
                    return Err(config_err(
                        "shared_experts",
                        "kind \"adatt\" needs at least one shared expert; for AdaTT without \
                         shared experts use kind = \"adatt_sp\"",
                    ));
                }
                check_levels(expert_dims)
            }
        }
    }

    /// The task-tower hidden widths.
    pub fn tower(&self) -> &[usize] {
        match self {
            ModelConfig::SharedBottom { tower, .. }
            | ModelConfig::Mmoe { tower, .. }
            | ModelConfig::CrossStitch { tower, .. }
            | ModelConfig::Ple { tower, .. }
            | ModelConfig::AdattSp { tower, .. }
            | ModelConfig::Adatt { tower, .. }
            | ModelConfig::SingleTask { tower, .. } => tower,
        }
    }

    /// `true` for AdaTT and AdaTT-sp (the kinds with fused expert weights).
    pub fn is_adatt(&self) -> bool {
        matches!(
            self,
            ModelConfig::AdattSp { .. } | ModelConfig::Adatt { .. }
        )
    }

    /// A short human-readable name, e.g. `AdaTT-sp(2/task)` or `PLE(1/task+3 shared)`.
    pub fn label(&self) -> String {
        let ablated = |n: &NativeFusion| match n {
            NativeFusion::Learned => "",
            NativeFusion::Ablated => ", no NativeExpertLF",
        };
        match self {
            ModelConfig::SharedBottom { .. } => "Shared-bottom".into(),
            ModelConfig::SingleTask { .. } => "Single-task".into(),
            ModelConfig::CrossStitch { .. } => "Cross-stitch".into(),
            ModelConfig::Mmoe {
                experts,
                expert_dims,
                ..
            } => {
                let name = if expert_dims.len() > 1 {
                    "ML-MMoE"
                } else {
                    "MMoE"
                };
                format!("{name}({experts})")
            }
            ModelConfig::Ple {
                task_experts,
                shared_experts,
                expert_dims,
                ..
            } => {
                let name = if expert_dims.len() > 1 { "PLE" } else { "CGC" };
                format!("{name}({task_experts}/task+{shared_experts} shared)")
            }
            ModelConfig::AdattSp {
                task_experts,
                native,
                ..
            } => {
                format!("AdaTT-sp({task_experts}/task{})", ablated(native))
            }
            ModelConfig::Adatt {
                task_experts,
                shared_experts,
                native,
                ..
            } => {
                format!(
                    "AdaTT({task_experts}/task+{shared_experts} shared{})",
                    ablated(native)
                )
            }
        }
    }
}
