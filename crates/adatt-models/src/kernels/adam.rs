//! One fused Adam step for a contiguous f32 CPU parameter: a single pass over parameter,
//! gradient and both moments, instead of the ~8 memory-bound passes of libtorch's per-tensor
//! ops (the parameters of a Table 5 model are ~1.8 MB per replica, beyond L2).
//!
//! The math is libtorch's `torch::optim::Adam` (= PyTorch `Adam(foreach=False)`, L2 weight
//! decay): `g += wd·p; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
//! p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)`. Tested against `tch::nn::Adam`.

use rayon::prelude::*;
use tch::Tensor;

use super::{isa, view, view_mut};
use crate::error::ModelError;

/// Adam's hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl AdamConfig {
    /// For step `step` (counting from 1): the step size `lr / (1 - β1^t)` and the divisor
    /// `sqrt(1 - β2^t)` of `sqrt(v)`, as libtorch computes them (in f64).
    pub fn bias_corrections(&self, step: u64) -> (f64, f64) {
        let bc1 = 1.0 - self.beta1.powi(step as i32);
        let bc2 = 1.0 - self.beta2.powi(step as i32);
        (self.lr / bc1, bc2.sqrt())
    }
}

#[derive(Clone, Copy)]
struct Scalars {
    b1: f32,
    omb1: f32,
    b2: f32,
    omb2: f32,
    wd: f32,
    eps: f32,
    step_size: f32,
    bc2_sqrt: f32,
}

#[inline(always)]
fn update(s: Scalars, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = g + s.wd * *p;
        *m = *m * s.b1 + g * s.omb1;
        *v = *v * s.b2 + g * g * s.omb2;
        let denom = v.sqrt() / s.bc2_sqrt + s.eps;
        *p -= s.step_size * (*m / denom);
    }
}

isa_dispatch!(update_isa => update(
    s: Scalars,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
));

/// Elements per rayon task.
const CHUNK: usize = 1 << 14;

/// Updates `param`, `exp_avg` and `exp_avg_sq` in place from `grad` (all contiguous f32 CPU
/// tensors of one shape, four distinct storages).
pub fn adam_step(
    param: &mut Tensor,
    grad: &Tensor,
    exp_avg: &mut Tensor,
    exp_avg_sq: &mut Tensor,
    h: &AdamConfig,
    step: u64,
) -> Result<(), ModelError> {
    let n = param.numel();
    for (t, what) in [
        (grad, "gradient"),
        (&*exp_avg, "exp_avg"),
        (&*exp_avg_sq, "exp_avg_sq"),
    ] {
        if t.numel() != n {
            return Err(ModelError::Input(format!(
                "Adam: {what} has {} elements, the parameter {n}",
                t.numel()
            )));
        }
    }
    let ranges: Vec<(usize, usize)> = [&*param, grad, &*exp_avg, &*exp_avg_sq]
        .iter()
        .map(|t| (t.data_ptr() as usize, t.data_ptr() as usize + 4 * n))
        .collect();
    for (i, a) in ranges.iter().enumerate() {
        if ranges[i + 1..].iter().any(|b| a.0 < b.1 && b.0 < a.1) {
            return Err(ModelError::Input(
                "Adam: parameter, gradient and moments must not share memory".into(),
            ));
        }
    }
    if step == 0 {
        return Err(ModelError::Input("Adam: steps count from 1".into()));
    }
    let (step_size, bc2_sqrt) = h.bias_corrections(step);
    let s = Scalars {
        b1: h.beta1 as f32,
        omb1: (1.0 - h.beta1) as f32,
        b2: h.beta2 as f32,
        omb2: (1.0 - h.beta2) as f32,
        wd: h.weight_decay as f32,
        eps: h.eps as f32,
        step_size: step_size as f32,
        bc2_sqrt: bc2_sqrt as f32,
    };
    let g = view::<f32>(grad, "gradient")?;
    let p = view_mut(param, "parameter")?;
    let m = view_mut(exp_avg, "exp_avg")?;
    let v = view_mut(exp_avg_sq, "exp_avg_sq")?;
    let isa = isa();
    let run = |(((p, g), m), v): (((&mut [f32], &[f32]), &mut [f32]), &mut [f32])| {
        update_isa(isa, s, p, g, m, v)
    };
    if tch::get_num_threads() > 1 {
        p.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .for_each(run);
    } else {
        p.chunks_mut(CHUNK)
            .zip(g.chunks(CHUNK))
            .zip(m.chunks_mut(CHUNK))
            .zip(v.chunks_mut(CHUNK))
            .for_each(run);
    }
    Ok(())
}
