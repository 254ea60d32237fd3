//! Shared-bottom (official `SharedBottom`): one MLP (the expert dims flattened) read by every
//! tower. Banks: the input bank holds the first layer, a stack with U = 1 the others.

use tch::Tensor;

use super::expert_mlp;
use crate::bank::{InputBank, Stack};
use crate::config::InputSpec;
use crate::params::Builder;

pub(crate) struct SharedBottom {
    rest: Stack,
}

impl SharedBottom {
    pub fn build(b: &mut Builder, spec: &InputSpec, dims: &[usize]) -> (InputBank, SharedBottom) {
        let h1 = dims[0] as i64;
        let input = b.input_bank(spec, h1);
        let rest = b.stack("bottom_rest", 1, h1, &dims[1..]);
        let prefix = "mtl_arch.bottom_projection.mlp_net";
        expert_mlp(b, prefix, dims, (&input.bank, 0, 0), &rest, 0);
        (input, SharedBottom { rest })
    }

    /// `[R, 1, B, h]`: the towers broadcast over the unit dim.
    pub fn forward(&self, y0: &Tensor) -> Tensor {
        self.rest.forward(&y0.unsqueeze(1).relu())
    }
}
