//! Shared-bottom (official `SharedBottom`): one MLP (the expert dims flattened) read by every
//! tower. Banks: the input bank holds the first layer, a stack with U = 1 the others. Output
//! `[R, 1, B, h]`: the towers broadcast over the unit dim.

use serde::{Deserialize, Serialize};
#[cfg(feature = "torch")]
use tch::Tensor;

#[cfg(feature = "torch")]
use super::ops::expert_mlp;
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

/// `kind = "shared_bottom"`: the widths of the shared MLP (`bottom`) and of every task tower.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SharedBottomConfig {
    pub bottom: Vec<usize>,
    pub tower: Vec<usize>,
}

impl ArchConfig for SharedBottomConfig {
    fn label(&self) -> String {
        "Shared-bottom".into()
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
        let dims = &self.bottom;
        let h1 = dims[0] as i64;
        let input = b.input_bank(spec, h1);
        let rest = b.stack("bottom_rest", 1, h1, &dims[1..]);
        let prefix = "mtl_arch.bottom_projection.mlp_net";
        expert_mlp(b, prefix, dims, (&input.bank, 0, 0), &rest, 0);
        Built {
            input,
            body: Box::new(SharedBottom { rest }),
            width: *dims.last().unwrap() as i64,
        }
    }
}

#[cfg(feature = "torch")]
struct SharedBottom {
    rest: Stack,
}

#[cfg(feature = "torch")]
impl Body for SharedBottom {
    fn forward(&self, y0: &Tensor, _fused: Option<&mut Vec<Tensor>>) -> Tensor {
        self.rest.forward(&y0.unsqueeze(1).relu())
    }
}
