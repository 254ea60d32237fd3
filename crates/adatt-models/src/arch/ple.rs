//! PLE (official `PLE`; one level = CGC).
//!
//! Per level: `m_t` experts per task unit and `m_s` shared experts (order: task 0's, ..., shared;
//! `E` in all). Task gate `t`: `Linear(in, m_t + m_s) + softmax` over its own and the shared
//! experts; the shared gate (not at the last level) over all `E`. Each unit's experts and gate
//! read that unit's previous output. `m_s = 0`: no shared unit at all (task gates over their own
//! experts only) -- the intended semantics; the official code fails there.
//!
//! Banks: level 0 = the input bank `[E*h1 | T*(m_t+m_s) | E if shared gate]`; level `l > 0` = a
//! task bank (U = T, `[m_t*h1 | m_t+m_s]`) and a shared bank (U = 1, `[m_s*h1 | E if shared
//! gate]`); later expert layers = one stack with U = E.

use serde::{Deserialize, Serialize};
#[cfg(feature = "torch")]
use tch::{Kind, Tensor};

#[cfg(feature = "torch")]
use super::ops::{
    expert_cols, expert_mlp, gate_cols, last_width, mix, split_at, split_cols,
    task_and_shared_units, Cols,
};
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

/// `kind = "ple"`: `task_experts` experts per task and `shared_experts` shared ones per level
/// (0 allowed: no shared unit), `expert_dims[l]` the layer widths of every expert of level `l`,
/// `tower` the task towers' hidden widths.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PleConfig {
    pub task_experts: usize,
    pub shared_experts: usize,
    pub expert_dims: Vec<Vec<usize>>,
    pub tower: Vec<usize>,
}

impl ArchConfig for PleConfig {
    /// `PLE(m_t/task+m_s shared)` with several levels, `CGC(...)` with one.
    fn label(&self) -> String {
        let name = if self.expert_dims.len() > 1 {
            "PLE"
        } else {
            "CGC"
        };
        let (m_t, m_s) = (self.task_experts, self.shared_experts);
        format!("{name}({m_t}/task+{m_s} shared)")
    }

    fn tower(&self) -> &[usize] {
        &self.tower
    }

    fn validate(&self) -> Result<(), ModelError> {
        check_count("task_experts", self.task_experts)?;
        check_levels(&self.expert_dims)
    }

    fn expert_layout(&self) -> Option<ExpertLayout> {
        None
    }

    fn task_experts_mut(&mut self) -> Option<&mut usize> {
        Some(&mut self.task_experts)
    }

    fn expert_dims_mut(&mut self) -> Option<&mut Vec<Vec<usize>>> {
        Some(&mut self.expert_dims)
    }

    fn native_mut(&mut self) -> Option<&mut NativeFusion> {
        None
    }

    #[cfg(feature = "torch")]
    fn build(&self, b: &mut Builder, spec: &InputSpec) -> Built {
        let (t, m_t, m_s) = (
            spec.n_tasks as i64,
            self.task_experts as i64,
            self.shared_experts as i64,
        );
        let (input, body) = Ple::build(b, spec, t, m_t, m_s, &self.expert_dims);
        Built {
            input,
            body: Box::new(body),
            width: last_width(&self.expert_dims),
        }
    }
}

#[cfg(feature = "torch")]
struct Level {
    task_bank: Option<Bank>,
    shared_bank: Option<Bank>,
    rest: Stack,
    h1: i64,
    /// Whether this level has the shared gate (m_s > 0 and not the last level).
    shared_gate: bool,
}

#[cfg(feature = "torch")]
struct Ple {
    t: i64,
    m_t: i64,
    m_s: i64,
    levels: Vec<Level>,
}

#[cfg(feature = "torch")]
impl Ple {
    fn build(
        b: &mut Builder,
        spec: &InputSpec,
        t: i64,
        m_t: i64,
        m_s: i64,
        expert_dims: &[Vec<usize>],
    ) -> (InputBank, Ple) {
        let n_levels = expert_dims.len();
        let e = t * m_t + m_s;
        let g = m_t + m_s;
        let shared_gate_at = |l: usize| m_s > 0 && l + 1 < n_levels;

        let h1_0 = expert_dims[0][0] as i64;
        let mut c0 = Cols(0);
        let exp_col0 = c0.take(e * h1_0);
        let gate_col0 = c0.take(t * g);
        let shared_gate_col0 = c0.take(if shared_gate_at(0) { e } else { 0 });
        let input = b.input_bank(spec, c0.0);
        let mut levels = Vec::with_capacity(n_levels);
        let mut d_in = spec.n_features as i64;
        for (l, dims) in expert_dims.iter().enumerate() {
            let h1 = dims[0] as i64;
            let shared_gate = shared_gate_at(l);
            let (task_bank, shared_bank) = if l == 0 {
                (None, None)
            } else {
                let tb = b.bank(&format!("l{l}_task"), t, d_in, m_t * h1 + g);
                let sg = if shared_gate { e } else { 0 };
                let sb = (m_s > 0).then(|| b.bank(&format!("l{l}_shared"), 1, d_in, m_s * h1 + sg));
                (Some(tb), sb)
            };
            let rest = b.stack(&format!("l{l}_rest"), e, h1, &dims[1..]);
            levels.push(Level {
                task_bank,
                shared_bank,
                rest,
                h1,
                shared_gate,
            });
            d_in = *dims.last().unwrap() as i64;
        }

        // Official order: experts (all levels), then gate_weights.
        for (l, (lv, dims)) in levels.iter().zip(expert_dims).enumerate() {
            for x in 0..e {
                let first = match (&lv.task_bank, &lv.shared_bank) {
                    (None, _) => (&input.bank, 0, exp_col0 + x * lv.h1),
                    (Some(tb), _) if x < t * m_t => (tb, x / m_t, (x % m_t) * lv.h1),
                    (Some(_), Some(sb)) => (sb, 0, (x - t * m_t) * lv.h1),
                    (Some(_), None) => unreachable!("shared expert without shared bank"),
                };
                let prefix = format!("mtl_arch.experts.{l}.{x}.mlp_net");
                expert_mlp(b, &prefix, dims, first, &lv.rest, x);
            }
        }
        for (l, lv) in levels.iter().enumerate() {
            for u in 0..t {
                let prefix = format!("mtl_arch.gate_weights.{l}.{u}.0");
                match &lv.task_bank {
                    None => b.linear(&prefix, &input.bank, 0, gate_col0 + u * g, g),
                    Some(tb) => b.linear(&prefix, tb, u, m_t * lv.h1, g),
                }
            }
            if lv.shared_gate {
                let prefix = format!("mtl_arch.gate_weights.{l}.{t}.0");
                match &lv.shared_bank {
                    None => b.linear(&prefix, &input.bank, 0, shared_gate_col0, e),
                    Some(sb) => b.linear(&prefix, sb, 0, m_s * lv.h1, e),
                }
            }
        }
        (
            input,
            Ple {
                t,
                m_t,
                m_s,
                levels,
            },
        )
    }
}

#[cfg(feature = "torch")]
impl Body for Ple {
    fn forward(&self, y0: &Tensor, _fused: Option<&mut Vec<Tensor>>) -> Tensor {
        let (t, m_t, m_s) = (self.t, self.m_t, self.m_s);
        let e = t * m_t + m_s;
        let g = m_t + m_s;
        let mut x = Tensor::new();
        for lv in &self.levels {
            // the shared gate's logit columns (after the experts' of its bank)
            let sg_width = if lv.shared_gate { e } else { 0 };
            let (first, task_gates, shared_gate) = match &lv.task_bank {
                None => {
                    let y = split_cols(&y0.unsqueeze(1), &[e * lv.h1, t * g, sg_width]);
                    (
                        expert_cols(&y[0], e, lv.h1),
                        gate_cols(&y[1], t, g),
                        lv.shared_gate.then(|| gate_cols(&y[2], 1, e)),
                    )
                }
                Some(tb) => {
                    let (x_task, x_shared) = task_and_shared_units(&x, t, lv.shared_bank.is_some());
                    let yt = tb.forward(&x_task); // [R, T, B, m_t*h1 + g]
                    let yt = split_cols(&yt, &[m_t * lv.h1, g]);
                    let mut experts = expert_cols(&yt[0], m_t, lv.h1);
                    let gates = gate_cols(&yt[1], 1, g);
                    let mut sg = None;
                    if let (Some(sb), Some(xs)) = (&lv.shared_bank, &x_shared) {
                        let ys = sb.forward(xs);
                        let ys = split_cols(&ys, &[m_s * lv.h1, sg_width]);
                        experts = Tensor::cat(&[experts, expert_cols(&ys[0], m_s, lv.h1)], 1);
                        sg = lv.shared_gate.then(|| gate_cols(&ys[1], 1, e));
                    }
                    (experts, gates, sg)
                }
            };
            // on one thread `gate_cols` returns permuted views, on which PLE's einsums ran 23%
            // slower per step (measured, PLE (6) with m_s = 3), so its gates are made contiguous
            let task_gates = task_gates.contiguous();
            let experts = lv.rest.forward(&first); // [R, E, B, h]
            let s = experts.size();
            let (r, batch, h) = (s[0], s[2], s[3]);
            // task units: own experts + shared experts
            let (own, gates_own, shared) = if m_s > 0 {
                let (own, shared) = split_at(&experts, 1, t * m_t);
                let (gates_own, gates_shared) = split_at(&task_gates, 3, m_t);
                (own, gates_own, Some((gates_shared, shared)))
            } else {
                (experts.shallow_clone(), task_gates, None)
            };
            let own = own.reshape([r, t, m_t, batch, h]);
            // Σ_k gate[r, b, t, k] · own[r, t, k, b, h] as a broadcast product and a sum over k:
            // as an einsum, libtorch ran it as R·T·B tiny matrix products (contraction m_t ≤ 3),
            // below the size where it calls BLAS, in a scalar loop
            let gk = gates_own.permute([0, 2, 3, 1]).unsqueeze(-1);
            let own_part = (own * gk).sum_dim_intlist(2, false, Kind::Float);
            let out = match shared {
                Some((gs, sh)) => {
                    own_part + Tensor::einsum("rbts,rsbh->rtbh", &[gs, sh], None::<&[i64]>)
                }
                None => own_part,
            };
            x = match shared_gate {
                Some(sg) => Tensor::cat(&[out, mix(&sg.contiguous(), &experts)], 1),
                None => out,
            };
        }
        x
    }
}
