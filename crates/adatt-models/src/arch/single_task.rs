//! Single-task: T independent networks `MLP(bottom)` (our own names
//! `task_nets.{t}.mlp_net.{2k}.*`), each followed by its task tower. Banks: the input bank holds
//! the T first layers (`[T*h1]`), a stack with U = T the others. Output `[R, T, B, h]`.

use serde::{Deserialize, Serialize};
#[cfg(feature = "torch")]
use tch::Tensor;

#[cfg(feature = "torch")]
use super::ops::{expert_cols, expert_mlp};
use super::{check_dims, ArchConfig, ExpertLayout, NativeFusion};
#[cfg(feature = "torch")]
use super::{Body, Built};
#[cfg(feature = "torch")]
use crate::bank::Stack;
use crate::error::ModelError;
#[cfg(feature = "torch")]
use crate::params::Builder;
#[cfg(feature = "torch")]
use crate::spec::InputSpec;

/// `kind = "single_task"`: the widths of every task's own MLP (`bottom`) and of its tower.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SingleTaskConfig {
    pub bottom: Vec<usize>,
    pub tower: Vec<usize>,
}

impl ArchConfig for SingleTaskConfig {
    fn label(&self) -> String {
        "Single-task".into()
    }

    fn tower(&self) -> &[usize] {
        &self.tower
    }

    fn validate(&self) -> Result<(), ModelError> {
        check_dims("bottom", &self.bottom)
    }

    fn expert_layout(&self) -> Option<ExpertLayout> {
        None
    }

    fn task_experts_mut(&mut self) -> Option<&mut usize> {
        None
    }

    fn expert_dims_mut(&mut self) -> Option<&mut Vec<Vec<usize>>> {
        None
    }

    fn native_mut(&mut self) -> Option<&mut NativeFusion> {
        None
    }

    #[cfg(feature = "torch")]
    fn build(&self, b: &mut Builder, spec: &InputSpec) -> Built {
        let (t, dims) = (spec.n_tasks as i64, &self.bottom);
        let h1 = dims[0] as i64;
        let input = b.input_bank(spec, t * h1);
        let rest = b.stack("task_rest", t, h1, &dims[1..]);
        for x in 0..t {
            let prefix = format!("task_nets.{x}.mlp_net");
            expert_mlp(b, &prefix, dims, (&input.bank, 0, x * h1), &rest, x);
        }
        Built {
            input,
            body: Box::new(SingleTask { t, h1, rest }),
            width: *dims.last().unwrap() as i64,
        }
    }
}

#[cfg(feature = "torch")]
struct SingleTask {
    t: i64,
    h1: i64,
    rest: Stack,
}

#[cfg(feature = "torch")]
impl Body for SingleTask {
    fn forward(&self, y0: &Tensor, _fused: Option<&mut Vec<Tensor>>) -> Tensor {
        self.rest
            .forward(&expert_cols(&y0.unsqueeze(1), self.t, self.h1))
    }
}
