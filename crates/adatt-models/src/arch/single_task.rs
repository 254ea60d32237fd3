//! Single-task: T independent networks `MLP(bottom)` (our own names
//! `task_nets.{t}.mlp_net.{2k}.*`), each followed by its task tower. Banks: the input bank holds
//! the T first layers (`[T*h1]`), a stack with U = T the others.

use tch::Tensor;

use super::{expert_cols, expert_mlp};
use crate::bank::{InputBank, Stack};
use crate::config::InputSpec;
use crate::params::Builder;

pub(crate) struct SingleTask {
    t: i64,
    h1: i64,
    rest: Stack,
}

impl SingleTask {
    pub fn build(
        b: &mut Builder,
        spec: &InputSpec,
        t: i64,
        dims: &[usize],
    ) -> (InputBank, SingleTask) {
        let h1 = dims[0] as i64;
        let input = b.input_bank(spec, t * h1);
        let rest = b.stack("task_rest", t, h1, &dims[1..]);
        for x in 0..t {
            let prefix = format!("task_nets.{x}.mlp_net");
            expert_mlp(b, &prefix, dims, (&input.bank, 0, x * h1), &rest, x);
        }
        (input, SingleTask { t, h1, rest })
    }

    pub fn forward(&self, y0: &Tensor) -> Tensor {
        self.rest
            .forward(&expert_cols(&y0.unsqueeze(1), self.t, self.h1))
    }
}
