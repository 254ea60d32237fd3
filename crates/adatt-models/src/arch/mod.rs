//! The architectures: one file per kind, holding its config struct (the fields of its
//! `kind = "..."` table), that config's [`ArchConfig`] implementation, and the network it builds.
//!
//! [`ArchConfig`] is everything the rest of the workspace asks of a kind: the checks of its
//! sizes, its label, its towers, the layout of its fused expert weights (for the analysis of
//! AdaTT's Figure 3), the axes a sweep may vary, and the build of its network. Every method is
//! required, so a new kind states each answer (`None` where it has no such axis) instead of
//! falling through a wildcard somewhere else.
//!
//! A network maps the level-0 bank output `[R, B, O0]` to the task-tower inputs `[R, T|1, B, h]`
//! ([`Body`]); its build registers its official parameters (in `state_dict` order) with the
//! [`Builder`] and owns its banks.

use serde::{Deserialize, Serialize};
#[cfg(feature = "torch")]
use tch::Tensor;

#[cfg(feature = "torch")]
use crate::bank::InputBank;
use crate::error::{config_err, ModelError};
#[cfg(feature = "torch")]
use crate::params::Builder;
#[cfg(feature = "torch")]
use crate::spec::InputSpec;

pub(crate) mod adatt;
pub(crate) mod cross_stitch;
pub(crate) mod mmoe;
#[cfg(feature = "torch")]
mod ops;
pub(crate) mod ple;
pub(crate) mod shared_bottom;
pub(crate) mod single_task;

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

/// How the expert columns of a kind's fused expert weights (`Model::fused_expert_weights`,
/// `[R, B, units, experts]` per level) group by source: `task_experts` experts per task in task
/// order (task `t`'s at `t * task_experts .. (t + 1) * task_experts`), then `shared_experts`
/// shared ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpertLayout {
    pub task_experts: usize,
    pub shared_experts: usize,
}

/// What every architecture's config provides; [`crate::ModelConfig::arch`] dispatches to it.
pub trait ArchConfig {
    /// A short human-readable name, e.g. `AdaTT-sp(2/task)` or `PLE(1/task+3 shared)`.
    fn label(&self) -> String;

    /// The task-tower hidden widths.
    fn tower(&self) -> &[usize];

    /// Checks the kind's own sizes (the tower and the task count are checked by
    /// `ModelConfig::validate`); the error names the offending field.
    fn validate(&self) -> Result<(), ModelError>;

    /// The grouping of the fused expert weights' columns, for the kinds that have fused expert
    /// weights (AdaTT, AdaTT-sp); `None` for the others.
    fn expert_layout(&self) -> Option<ExpertLayout>;

    /// Sweep axis "experts per task": the field, or `None` when the kind has no such count.
    fn task_experts_mut(&mut self) -> Option<&mut usize>;

    /// Sweep axis "fusion levels": the per-level expert widths, or `None` when the kind has no
    /// fusion levels.
    fn expert_dims_mut(&mut self) -> Option<&mut Vec<Vec<usize>>>;

    /// Sweep axis "NativeExpertLF": the field, or `None` when the kind has no native experts.
    fn native_mut(&mut self) -> Option<&mut NativeFusion>;

    /// Creates the input bank and the network of a validated config, registering the official
    /// parameters in `state_dict` order (the torch part: feature `torch`). Only the crate can
    /// call it ([`Builder`] cannot be made outside).
    #[cfg(feature = "torch")]
    #[doc(hidden)]
    fn build(&self, b: &mut Builder, spec: &InputSpec) -> Built;
}

/// What [`ArchConfig::build`] returns.
#[cfg(feature = "torch")]
pub struct Built {
    /// The level-0 bank (first layer of every module reading the raw input).
    pub(crate) input: InputBank,
    /// The network from the level-0 bank output to the tower input.
    pub(crate) body: Box<dyn Body>,
    /// The width `h` of the tower input.
    pub(crate) width: i64,
}

/// The network between the raw input and the towers.
#[cfg(feature = "torch")]
pub(crate) trait Body: Send {
    /// `y0`: level-0 bank pre-activations `[R, B, O0]`. Returns `[R, T|1, B, h]`. Kinds with an
    /// [`ExpertLayout`] push each level's fused expert weights `[R, B, units, experts]` into
    /// `fused` when it is given; the others ignore it.
    fn forward(&self, y0: &Tensor, fused: Option<&mut Vec<Tensor>>) -> Tensor;
}

/// A list of layer widths: at least one, none zero.
pub(crate) fn check_dims(field: &str, dims: &[usize]) -> Result<(), ModelError> {
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

/// `expert_dims`: at least one fusion level, each a valid list of widths.
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

/// A count that must be at least 1.
fn check_count(field: &str, n: usize) -> Result<(), ModelError> {
    if n == 0 {
        return Err(config_err(field, "must be >= 1"));
    }
    Ok(())
}
