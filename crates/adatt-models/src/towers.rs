//! The T task towers: `MLP(tower) + Linear(., 1)` per task (official `task_modules.{t}`), as
//! banks with U = T. Input `[R, T|1, B, in]` (one unit per task, or one unit all towers read),
//! logits `[R, B, T]`.

use tch::Tensor;

use crate::bank::{Bank, Stack};
use crate::params::Builder;

/// The towers' banks.
pub(crate) struct Towers {
    hidden: Stack,
    out: Bank,
}

impl Towers {
    /// Registers `task_modules.{t}.0.mlp_net.{2j}.*` and `task_modules.{t}.1.*`.
    pub fn new(builder: &mut Builder, n_tasks: i64, inp: i64, dims: &[usize]) -> Towers {
        let hidden = builder.stack("tower_h", n_tasks, inp, dims);
        let last = *dims.last().expect("validated: tower not empty") as i64;
        let out = builder.bank("tower_out", n_tasks, last, 1);
        for t in 0..n_tasks {
            let layers = hidden.banks.iter().map(|b| (b, t, 0));
            builder.mlp(&format!("task_modules.{t}.0.mlp_net"), layers, dims);
            builder.linear(&format!("task_modules.{t}.1"), &out, t, 0, 1);
        }
        Towers { hidden, out }
    }

    /// `h [R, T|1, B, in]` -> logits `[R, B, T]`.
    pub fn forward(&self, h: &Tensor) -> Tensor {
        self.out
            .forward(&self.hidden.forward(h))
            .squeeze_dim(-1)
            .permute([0, 2, 1])
            .contiguous()
    }
}
