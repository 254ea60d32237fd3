//! Multi-level MMoE (official `MLMMoE`; one level = MMoE).
//!
//! `E` experts per level; every gate is `Linear(D, E) + softmax` of the RAW input (E gates at
//! non-final levels, T at the last); expert `i` of level `l > 0` reads the `i`-th gated mixture
//! of level `l - 1`.
//!
//! Banks: the input bank holds the level-0 experts' first layers and the gates of every level
//! (`[E*h1 | G_0*E | G_1*E | ...]`); level `l > 0`: a first-layer bank with U = E; later expert
//! layers: a stack with U = E.

use serde::{Deserialize, Serialize};
#[cfg(feature = "torch")]
use tch::Tensor;

#[cfg(feature = "torch")]
use super::ops::{expert_cols, expert_mlp, gate_cols, last_width, mix, split_cols, Cols};
use super::{check_count, check_levels, ArchConfig, ExpertLayout, NativeFusion};
#[cfg(feature = "torch")]
use super::{Body, Built};
#[cfg(feature = "torch")]
use crate::bank::{Bank, InputBank, Stack};
use crate::error::ModelError;
#[cfg(feature = "torch")]
use crate::params::Builder;
#[cfg(feature = "torch")]
use crate::spec::InputSpec;

/// `kind = "mmoe"`: `experts` experts per level, `expert_dims[l]` the layer widths of every
/// expert of level `l`, `tower` the task towers' hidden widths.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MmoeConfig {
    pub experts: usize,
    pub expert_dims: Vec<Vec<usize>>,
    pub tower: Vec<usize>,
}

impl ArchConfig for MmoeConfig {
    /// `ML-MMoE(E)` with several levels, `MMoE(E)` with one.
    fn label(&self) -> String {
        let name = if self.expert_dims.len() > 1 {
            "ML-MMoE"
        } else {
            "MMoE"
        };
        format!("{name}({})", self.experts)
    }

    fn tower(&self) -> &[usize] {
        &self.tower
    }

    fn validate(&self) -> Result<(), ModelError> {
        check_count("experts", self.experts)?;
        check_levels(&self.expert_dims)
    }

    fn expert_layout(&self) -> Option<ExpertLayout> {
        None
    }

    fn task_experts_mut(&mut self) -> Option<&mut usize> {
        None
    }

    fn expert_dims_mut(&mut self) -> Option<&mut Vec<Vec<usize>>> {
        Some(&mut self.expert_dims)
    }

    fn native_mut(&mut self) -> Option<&mut NativeFusion> {
        None
    }

    #[cfg(feature = "torch")]
    fn build(&self, b: &mut Builder, spec: &InputSpec) -> Built {
        let t = spec.n_tasks as i64;
        let (input, body) = Mmoe::build(b, spec, t, self.experts as i64, &self.expert_dims);
        Built {
            input,
            body: Box::new(body),
            width: last_width(&self.expert_dims),
        }
    }
}

#[cfg(feature = "torch")]
struct Level {
    first: Option<Bank>,
    rest: Stack,
    h1: i64,
    gate_col: i64,
    gates: i64,
}

#[cfg(feature = "torch")]
struct Mmoe {
    e: i64,
    levels: Vec<Level>,
}

#[cfg(feature = "torch")]
impl Mmoe {
    fn build(
        b: &mut Builder,
        spec: &InputSpec,
        t: i64,
        e: i64,
        expert_dims: &[Vec<usize>],
    ) -> (InputBank, Mmoe) {
        let n_levels = expert_dims.len();
        let mut c0 = Cols(0);
        let exp_col0 = c0.take(e * expert_dims[0][0] as i64);
        let gate_cols_at: Vec<(i64, i64)> = (0..n_levels)
            .map(|l| {
                let gates = if l + 1 < n_levels { e } else { t };
                (c0.take(gates * e), gates)
            })
            .collect();
        let input = b.input_bank(spec, c0.0);
        let mut levels = Vec::with_capacity(n_levels);
        let mut d_in = spec.n_features as i64;
        for (l, dims) in expert_dims.iter().enumerate() {
            let h1 = dims[0] as i64;
            let first = (l > 0).then(|| b.bank(&format!("l{l}_first"), e, d_in, h1));
            let rest = b.stack(&format!("l{l}_rest"), e, h1, &dims[1..]);
            let (gate_col, gates) = gate_cols_at[l];
            levels.push(Level {
                first,
                rest,
                h1,
                gate_col,
                gates,
            });
            d_in = *dims.last().unwrap() as i64;
        }

        // Official order: experts (all levels), then gates.
        for (l, (lv, dims)) in levels.iter().zip(expert_dims).enumerate() {
            for x in 0..e {
                let first = match &lv.first {
                    None => (&input.bank, 0, exp_col0 + x * lv.h1),
                    Some(fb) => (fb, x, 0),
                };
                let prefix = format!("mtl_arch.experts.{l}.{x}.mlp_net");
                expert_mlp(b, &prefix, dims, first, &lv.rest, x);
            }
        }
        for (l, lv) in levels.iter().enumerate() {
            for g in 0..lv.gates {
                let prefix = format!("mtl_arch.gates.{l}.{g}.1");
                b.linear(&prefix, &input.bank, 0, lv.gate_col + g * e, e);
            }
        }
        (input, Mmoe { e, levels })
    }
}

#[cfg(feature = "torch")]
impl Body for Mmoe {
    fn forward(&self, y0: &Tensor, _fused: Option<&mut Vec<Tensor>>) -> Tensor {
        // [R, 1, B, O0] = level-0 experts, then every level's gates (all read the raw input)
        let widths: Vec<i64> = std::iter::once(self.e * self.levels[0].h1)
            .chain(self.levels.iter().map(|lv| lv.gates * self.e))
            .collect();
        let y = split_cols(&y0.unsqueeze(1), &widths);
        let mut x = Tensor::new();
        for (l, lv) in self.levels.iter().enumerate() {
            let first = match &lv.first {
                None => expert_cols(&y[0], self.e, lv.h1),
                Some(fb) => fb.forward(&x).relu(),
            };
            let experts = lv.rest.forward(&first); // [R, E, B, h]
            let gates = gate_cols(&y[l + 1], lv.gates, self.e); // [R, B, G, E]
            x = mix(&gates, &experts);
        }
        x
    }
}
