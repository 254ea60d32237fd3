//! AdaTT-sp (official `AdaTTSp`, `shared = 0`) and AdaTT (official `AdaTTWSharedExps`).
//!
//! Per level: every task unit has `m_t` experts, the shared unit (AdaTT only) `m_s`; expert
//! order is task 0's, task 1's, ..., then the shared ones (`E` in all). Every gated unit (the T
//! tasks, plus the shared unit except at the last level) has a gate `Linear(in, E) + softmax`
//! reading the unit's previous output. Fused weights `W = gate + N` (`N`: NativeExpertLF) and the
//! unit output is `W · experts`.
//!
//! Banks: level 0 = the input bank `[E*h1 expert columns | U0 gates * E]`; level `l > 0` = a task
//! bank (U = T, `[m_t*h1 | E]`) and a shared bank (U = 1, `[m_s*h1 | E if not last]`); the later
//! layers of all experts of a level = one stack with U = E.

use serde::{Deserialize, Serialize};
#[cfg(feature = "torch")]
use tch::{Kind, Tensor};

#[cfg(feature = "torch")]
use super::ops::{
    expert_cols, expert_mlp, gate_cols, last_width, mix, split_cols, task_and_shared_units,
};
use super::{check_count, check_levels, ArchConfig, ExpertLayout, NativeFusion};
#[cfg(feature = "torch")]
use super::{Body, Built};
#[cfg(feature = "torch")]
use crate::bank::{Bank, InputBank, Stack};
use crate::error::{config_err, ModelError};
#[cfg(feature = "torch")]
use crate::params::Builder;
#[cfg(feature = "torch")]
use crate::spec::InputSpec;

/// `kind = "adatt_sp"`: `task_experts` experts per task, `expert_dims[l]` the layer widths of
/// every expert of level `l`, `tower` the task towers' hidden widths, `native` the
/// NativeExpertLF (default learned).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdattSpConfig {
    pub task_experts: usize,
    pub expert_dims: Vec<Vec<usize>>,
    pub tower: Vec<usize>,
    #[serde(default)]
    pub native: NativeFusion,
}

/// `kind = "adatt"`: as [`AdattSpConfig`] plus `shared_experts >= 1` shared experts per level
/// (the official code divides by zero without; AdaTT-sp is that case).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdattConfig {
    pub task_experts: usize,
    pub shared_experts: usize,
    pub expert_dims: Vec<Vec<usize>>,
    pub tower: Vec<usize>,
    #[serde(default)]
    pub native: NativeFusion,
}

/// The label's suffix for the NativeExpertLF setting.
fn ablated(native: NativeFusion) -> &'static str {
    match native {
        NativeFusion::Learned => "",
        NativeFusion::Ablated => ", no NativeExpertLF",
    }
}

impl ArchConfig for AdattSpConfig {
    fn label(&self) -> String {
        format!(
            "AdaTT-sp({}/task{})",
            self.task_experts,
            ablated(self.native)
        )
    }

    fn tower(&self) -> &[usize] {
        &self.tower
    }

    fn validate(&self) -> Result<(), ModelError> {
        check_count("task_experts", self.task_experts)?;
        check_levels(&self.expert_dims)
    }

    fn expert_layout(&self) -> Option<ExpertLayout> {
        Some(ExpertLayout {
            task_experts: self.task_experts,
            shared_experts: 0,
        })
    }

    fn task_experts_mut(&mut self) -> Option<&mut usize> {
        Some(&mut self.task_experts)
    }

    fn expert_dims_mut(&mut self) -> Option<&mut Vec<Vec<usize>>> {
        Some(&mut self.expert_dims)
    }

    fn native_mut(&mut self) -> Option<&mut NativeFusion> {
        Some(&mut self.native)
    }

    #[cfg(feature = "torch")]
    fn build(&self, b: &mut Builder, spec: &InputSpec) -> Built {
        let m_t = self.task_experts as i64;
        let (input, body) = Adatt::build(b, spec, m_t, 0, &self.expert_dims, self.native);
        Built {
            input,
            body: Box::new(body),
            width: last_width(&self.expert_dims),
        }
    }
}

impl ArchConfig for AdattConfig {
    fn label(&self) -> String {
        let (m_t, m_s) = (self.task_experts, self.shared_experts);
        format!("AdaTT({m_t}/task+{m_s} shared{})", ablated(self.native))
    }

    fn tower(&self) -> &[usize] {
        &self.tower
    }

    fn validate(&self) -> Result<(), ModelError> {
        check_count("task_experts", self.task_experts)?;
        if self.shared_experts == 0 {
            return Err(config_err(
                "shared_experts",
                "kind \"adatt\" needs at least one shared expert; for AdaTT without \
                 shared experts use kind = \"adatt_sp\"",
            ));
        }
        check_levels(&self.expert_dims)
    }

    fn expert_layout(&self) -> Option<ExpertLayout> {
        Some(ExpertLayout {
            task_experts: self.task_experts,
            shared_experts: self.shared_experts,
        })
    }

    fn task_experts_mut(&mut self) -> Option<&mut usize> {
        Some(&mut self.task_experts)
    }

    fn expert_dims_mut(&mut self) -> Option<&mut Vec<Vec<usize>>> {
        Some(&mut self.expert_dims)
    }

    fn native_mut(&mut self) -> Option<&mut NativeFusion> {
        Some(&mut self.native)
    }

    #[cfg(feature = "torch")]
    fn build(&self, b: &mut Builder, spec: &InputSpec) -> Built {
        let (m_t, m_s) = (self.task_experts as i64, self.shared_experts as i64);
        let (input, body) = Adatt::build(b, spec, m_t, m_s, &self.expert_dims, self.native);
        Built {
            input,
            body: Box::new(body),
            width: last_width(&self.expert_dims),
        }
    }
}

#[cfg(feature = "torch")]
enum Native {
    /// Ablated: no native term.
    Off,
    /// Every unit has one expert: weight 1 on it (`eye(U, E)` per level, a constant).
    Unit(Vec<Tensor>),
    /// AdaTT-sp, m > 1: per level `[R, T, m]` (official `self_exp_weights.{l}`).
    Sp(Vec<Tensor>),
    /// AdaTT: tasks `[R, T, L, m_t]` (official `self_exp_weights.{t}` = `[L, m_t]`), shared
    /// `[R, L-1, m_s]` (official `self_exp_weights.{T}`).
    General { tasks: Tensor, shared: Tensor },
}

#[cfg(feature = "torch")]
struct Level {
    /// `None` at level 0 (the input bank).
    task_bank: Option<Bank>,
    shared_bank: Option<Bank>,
    rest: Stack,
    h1: i64,
    /// Gated units at this level (T, or T+1 for AdaTT except at the last level).
    units: i64,
}

#[cfg(feature = "torch")]
struct Adatt {
    t: i64,
    m_t: i64,
    m_s: i64,
    levels: Vec<Level>,
    native: Native,
}

/// `v [R, T, m]` -> `[R, T, T*m]` with `v[t]` at columns `t*m..(t+1)*m` of row `t`.
#[cfg(feature = "torch")]
fn block_diag(v: &Tensor) -> Tensor {
    let s = v.size();
    let (r, t, m) = (s[0], s[1], s[2]);
    let eye = Tensor::eye(t, (Kind::Float, v.device())).view([1, t, t, 1]);
    (eye * v.view([r, t, 1, m])).view([r, t, t * m])
}

#[cfg(feature = "torch")]
impl Adatt {
    /// Creates the banks and registers the official parameters in `state_dict` order: experts,
    /// gate_weights, self_exp_weights. `m_s = 0`: AdaTT-sp.
    fn build(
        b: &mut Builder,
        spec: &InputSpec,
        m_t: i64,
        m_s: i64,
        expert_dims: &[Vec<usize>],
        native: NativeFusion,
    ) -> (InputBank, Adatt) {
        let t = spec.n_tasks as i64;
        let (input, levels) = Adatt::banks(b, spec, t, m_t, m_s, expert_dims);
        let mut net = Adatt {
            t,
            m_t,
            m_s,
            levels,
            native: Native::Off,
        };
        net.register_experts(b, &input, expert_dims);
        net.register_gates(b, &input);
        net.native = net.native_weights(b, native);
        (input, net)
    }

    /// Experts per level (`E`).
    fn experts(&self) -> i64 {
        self.t * self.m_t + self.m_s
    }

    /// The input bank `[E*h1 expert columns | U0 gates * E]` and the banks of every level.
    fn banks(
        b: &mut Builder,
        spec: &InputSpec,
        t: i64,
        m_t: i64,
        m_s: i64,
        expert_dims: &[Vec<usize>],
    ) -> (InputBank, Vec<Level>) {
        let n_levels = expert_dims.len();
        let e = t * m_t + m_s;
        let has_shared = m_s > 0;
        let units_at = |l: usize| {
            if has_shared && l + 1 < n_levels {
                t + 1
            } else {
                t
            }
        };
        let h1_0 = expert_dims[0][0] as i64;
        let input = b.input_bank(spec, e * h1_0 + units_at(0) * e);
        let mut levels = Vec::with_capacity(n_levels);
        let mut d_in = spec.n_features as i64;
        for (l, dims) in expert_dims.iter().enumerate() {
            let h1 = dims[0] as i64;
            let units = units_at(l);
            let (task_bank, shared_bank) = if l == 0 {
                (None, None)
            } else {
                let tb = b.bank(&format!("l{l}_task"), t, d_in, m_t * h1 + e);
                let shared_gate = if units > t { e } else { 0 };
                let sb = has_shared
                    .then(|| b.bank(&format!("l{l}_shared"), 1, d_in, m_s * h1 + shared_gate));
                (Some(tb), sb)
            };
            let rest = b.stack(&format!("l{l}_rest"), e, h1, &dims[1..]);
            levels.push(Level {
                task_bank,
                shared_bank,
                rest,
                h1,
                units,
            });
            d_in = *dims.last().unwrap() as i64;
        }
        (input, levels)
    }

    /// `mtl_arch.experts.{l}.{x}`: the first layer of expert `x` is in the input bank's expert
    /// columns at level 0, else in its unit's task or shared bank.
    fn register_experts(&self, b: &mut Builder, input: &InputBank, expert_dims: &[Vec<usize>]) {
        let (t, m_t) = (self.t, self.m_t);
        for (l, (lv, dims)) in self.levels.iter().zip(expert_dims).enumerate() {
            for x in 0..self.experts() {
                let first = match (&lv.task_bank, &lv.shared_bank) {
                    (None, _) => (&input.bank, 0, x * lv.h1),
                    (Some(tb), _) if x < t * m_t => (tb, x / m_t, (x % m_t) * lv.h1),
                    (Some(_), Some(sb)) => (sb, 0, (x - t * m_t) * lv.h1),
                    (Some(_), None) => unreachable!("shared expert without shared bank"),
                };
                let prefix = format!("mtl_arch.experts.{l}.{x}.mlp_net");
                expert_mlp(b, &prefix, dims, first, &lv.rest, x);
            }
        }
    }

    /// `mtl_arch.gate_weights.{l}.{u}.0`: at level 0 in the input bank's gate columns (after
    /// the experts'), else after the experts' columns of the unit's task or shared bank.
    fn register_gates(&self, b: &mut Builder, input: &InputBank) {
        let (t, m_t, m_s, e) = (self.t, self.m_t, self.m_s, self.experts());
        let gate_col0 = e * self.levels[0].h1;
        for (l, lv) in self.levels.iter().enumerate() {
            for u in 0..lv.units {
                let prefix = format!("mtl_arch.gate_weights.{l}.{u}.0");
                match (&lv.task_bank, &lv.shared_bank) {
                    (None, _) => b.linear(&prefix, &input.bank, 0, gate_col0 + u * e, e),
                    (Some(tb), _) if u < t => b.linear(&prefix, tb, u, m_t * lv.h1, e),
                    (Some(_), Some(sb)) => b.linear(&prefix, sb, 0, m_s * lv.h1, e),
                    (Some(_), None) => unreachable!("shared gate without shared bank"),
                }
            }
        }
    }

    /// The NativeExpertLF weights, registered as `mtl_arch.self_exp_weights.*` when learned
    /// and not all constant (one expert per unit).
    fn native_weights(&self, b: &mut Builder, native: NativeFusion) -> Native {
        let (t, m_t, m_s) = (self.t, self.m_t, self.m_s);
        let n_levels = self.levels.len();
        let has_shared = m_s > 0;
        let all_single = m_t == 1 && (!has_shared || m_s == 1);
        match native {
            NativeFusion::Ablated => Native::Off,
            NativeFusion::Learned if all_single => Native::Unit(
                self.levels
                    .iter()
                    .map(|lv| Tensor::eye_m(lv.units, self.experts(), (Kind::Float, b.device())))
                    .collect(),
            ),
            NativeFusion::Learned if !has_shared => {
                let r = b.replicas();
                let vars: Vec<Tensor> = (0..n_levels)
                    .map(|l| b.var(&format!("native_l{l}"), &[r, t, m_t]))
                    .collect();
                let bound = (1.0 / m_t as f64).sqrt();
                for (l, v) in vars.iter().enumerate() {
                    b.param(
                        format!("mtl_arch.self_exp_weights.{l}"),
                        v,
                        None,
                        vec![t, m_t],
                        bound,
                    );
                }
                Native::Sp(vars)
            }
            NativeFusion::Learned => {
                let r = b.replicas();
                let l_all = n_levels as i64;
                let tasks = b.var("native_tasks", &[r, t, l_all, m_t]);
                let shared = b.var("native_shared", &[r, l_all - 1, m_s]);
                let bt = (1.0 / m_t as f64).sqrt();
                for i in 0..t {
                    let name = format!("mtl_arch.self_exp_weights.{i}");
                    b.param(name, &tasks, Some(i), vec![l_all, m_t], bt);
                }
                let name = format!("mtl_arch.self_exp_weights.{t}");
                b.param(
                    name,
                    &shared,
                    None,
                    vec![l_all - 1, m_s],
                    (1.0 / m_s as f64).sqrt(),
                );
                Native::General { tasks, shared }
            }
        }
    }

    /// The native weights `N` of level `l`, `[R|1, U, E]` (None when ablated).
    fn native_matrix(&self, l: usize) -> Option<Tensor> {
        match &self.native {
            Native::Off => None,
            Native::Unit(eyes) => Some(eyes[l].unsqueeze(0)),
            Native::Sp(vars) => Some(block_diag(&vars[l])),
            Native::General { tasks, shared } => {
                let (t, m_t, m_s) = (self.t, self.m_t, self.m_s);
                let r = tasks.size()[0];
                let opts = (Kind::Float, tasks.device());
                let task_rows = Tensor::cat(
                    &[
                        block_diag(&tasks.select(2, l as i64)),
                        Tensor::zeros([r, t, m_s], opts),
                    ],
                    2,
                );
                if self.levels[l].units == t {
                    return Some(task_rows);
                }
                let shared_row = Tensor::cat(
                    &[
                        Tensor::zeros([r, 1, t * m_t], opts),
                        shared.narrow(1, l as i64, 1),
                    ],
                    2,
                );
                Some(Tensor::cat(&[task_rows, shared_row], 1))
            }
        }
    }
}

#[cfg(feature = "torch")]
impl Body for Adatt {
    fn forward(&self, y0: &Tensor, mut fused: Option<&mut Vec<Tensor>>) -> Tensor {
        let (t, m_t, m_s) = (self.t, self.m_t, self.m_s);
        let e = t * m_t + m_s;
        let mut x = Tensor::new();
        for (l, lv) in self.levels.iter().enumerate() {
            let (first, gates) = match &lv.task_bank {
                None => {
                    let y = split_cols(&y0.unsqueeze(1), &[e * lv.h1, lv.units * e]);
                    (expert_cols(&y[0], e, lv.h1), gate_cols(&y[1], lv.units, e))
                }
                Some(tb) => {
                    let (x_task, x_shared) = task_and_shared_units(&x, t, lv.shared_bank.is_some());
                    let yt = tb.forward(&x_task); // [R, T, B, m_t*h1 + E]
                    let yt = split_cols(&yt, &[m_t * lv.h1, e]);
                    let mut experts = expert_cols(&yt[0], m_t, lv.h1);
                    let mut gates = gate_cols(&yt[1], 1, e);
                    if let (Some(sb), Some(xs)) = (&lv.shared_bank, &x_shared) {
                        let shared_gate = if lv.units > t { e } else { 0 };
                        let ys = sb.forward(xs);
                        let ys = split_cols(&ys, &[m_s * lv.h1, shared_gate]);
                        experts = Tensor::cat(&[experts, expert_cols(&ys[0], m_s, lv.h1)], 1);
                        if lv.units > t {
                            gates = Tensor::cat(&[gates, gate_cols(&ys[1], 1, e)], 2);
                        }
                    }
                    (experts, gates)
                }
            };
            let experts = lv.rest.forward(&first); // [R, E, B, h]
            let w = match self.native_matrix(l) {
                Some(n) => gates + n.unsqueeze(1),
                None => gates,
            }; // [R, B, U, E]
            if let Some(f) = fused.as_deref_mut() {
                f.push(w.shallow_clone());
            }
            x = mix(&w, &experts);
        }
        x
    }
}
