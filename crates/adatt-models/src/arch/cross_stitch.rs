//! Cross-stitch (official `CrossStitch`): per level a per-task MLP, then
//! `Linear(T, T, bias=False)` mixing the task outputs: `out_t = sum_s S[t, s] * expert_s`.
//!
//! Banks: the input bank holds the level-0 first layers (`[T*h1]`); level `l > 0`: first-layer
//! bank U = T; later layers: stack U = T; the stitch of level `l` is a `[R, T, T]` variable.

use serde::{Deserialize, Serialize};
#[cfg(feature = "torch")]
use tch::Tensor;

#[cfg(feature = "torch")]
use super::ops::{expert_cols, expert_mlp, last_width};
use super::{check_levels, ArchConfig, ExpertLayout, NativeFusion};
#[cfg(feature = "torch")]
use super::{Body, Built};
#[cfg(feature = "torch")]
use crate::bank::{Bank, InputBank, Stack};
use crate::error::ModelError;
#[cfg(feature = "torch")]
use crate::params::Builder;
#[cfg(feature = "torch")]
use crate::spec::InputSpec;

/// `kind = "cross_stitch"`: `expert_dims[l]` the layer widths of every task's MLP at level
/// `l`, `tower` the task towers' hidden widths.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CrossStitchConfig {
    pub expert_dims: Vec<Vec<usize>>,
    pub tower: Vec<usize>,
}

impl ArchConfig for CrossStitchConfig {
    fn label(&self) -> String {
        "Cross-stitch".into()
    }

    fn tower(&self) -> &[usize] {
        &self.tower
    }

    fn validate(&self) -> Result<(), ModelError> {
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
        let (input, body) = CrossStitch::build(b, spec, t, &self.expert_dims);
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
    stitch: Tensor,
}

#[cfg(feature = "torch")]
struct CrossStitch {
    t: i64,
    levels: Vec<Level>,
}

#[cfg(feature = "torch")]
impl CrossStitch {
    fn build(
        b: &mut Builder,
        spec: &InputSpec,
        t: i64,
        expert_dims: &[Vec<usize>],
    ) -> (InputBank, CrossStitch) {
        let r = b.replicas();
        let width0 = t * expert_dims[0][0] as i64;
        let input = b.input_bank(spec, width0);
        let mut levels = Vec::with_capacity(expert_dims.len());
        let mut d_in = spec.n_features as i64;
        for (l, dims) in expert_dims.iter().enumerate() {
            let h1 = dims[0] as i64;
            let first = (l > 0).then(|| b.bank(&format!("l{l}_first"), t, d_in, h1));
            let rest = b.stack(&format!("l{l}_rest"), t, h1, &dims[1..]);
            let stitch = b.var(&format!("l{l}_stitch"), &[r, t, t]);
            levels.push(Level {
                first,
                rest,
                h1,
                stitch,
            });
            d_in = *dims.last().unwrap() as i64;
        }
        // Official order: experts (all levels), then stitchs.
        for (l, (lv, dims)) in levels.iter().zip(expert_dims).enumerate() {
            for x in 0..t {
                let first = match &lv.first {
                    None => (&input.bank, 0, x * lv.h1),
                    Some(fb) => (fb, x, 0),
                };
                let prefix = format!("mtl_arch.experts.{l}.{x}.mlp_net");
                expert_mlp(b, &prefix, dims, first, &lv.rest, x);
            }
        }
        let bound = 1.0 / (t as f64).sqrt();
        for (l, lv) in levels.iter().enumerate() {
            b.param(
                format!("mtl_arch.stitchs.{l}.weight"),
                &lv.stitch,
                None,
                vec![t, t],
                bound,
            );
        }
        (input, CrossStitch { t, levels })
    }
}

#[cfg(feature = "torch")]
impl Body for CrossStitch {
    fn forward(&self, y0: &Tensor, _fused: Option<&mut Vec<Tensor>>) -> Tensor {
        let mut x = Tensor::new();
        for lv in &self.levels {
            let first = match &lv.first {
                None => expert_cols(&y0.unsqueeze(1), self.t, lv.h1),
                Some(fb) => fb.forward(&x).relu(),
            };
            let experts = lv.rest.forward(&first); // [R, T, B, h]
            x = Tensor::einsum("rts,rsbh->rtbh", &[&lv.stitch, &experts], None::<&[i64]>);
        }
        x
    }
}
