//! Adam with L2 weight decay, as libtorch's `torch::optim::Adam` (which the framework's
//! `torch.optim.Adam` matches), with a fused single-pass step for CPU parameters
//! ([`adatt_models::kernels::adam`]) and libtorch tensor ops elsewhere (CUDA).
//!
//! Parameters whose gradient is undefined are skipped (PyTorch semantics). `zero_grad` zeroes
//! gradients in place rather than dropping them, so the sparse first layer's gradients
//! (written by `Model::backward_input`) always have a buffer to land in.

use adatt_models::kernels::adam::adam_step;
pub use adatt_models::kernels::adam::AdamConfig;
use tch::{Device, Tensor};

use crate::error::Result;

/// How a step is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdamImpl {
    /// Fused kernel for CPU parameters, tensor ops for the others.
    Auto,
    /// libtorch tensor ops everywhere (the CUDA path; on CPU, for tests).
    TensorOps,
}

/// The optimizer state.
pub struct Adam {
    params: Vec<Tensor>,
    exp_avg: Vec<Tensor>,
    exp_avg_sq: Vec<Tensor>,
    step: u64,
    cfg: AdamConfig,
    imp: AdamImpl,
}

impl Adam {
    /// Adam over `params` (e.g. `VarStore::trainable_variables()`).
    pub fn new(params: Vec<Tensor>, cfg: AdamConfig, imp: AdamImpl) -> Adam {
        let _g = tch::no_grad_guard();
        let exp_avg = params.iter().map(Tensor::zeros_like).collect();
        let exp_avg_sq = params.iter().map(Tensor::zeros_like).collect();
        Adam {
            params,
            exp_avg,
            exp_avg_sq,
            step: 0,
            cfg,
            imp,
        }
    }

    /// Sets the learning rate of the next steps (a schedule's; the step count and moments stay).
    pub fn set_lr(&mut self, lr: f64) {
        self.cfg.lr = lr;
    }

    /// The steps taken and the first and second moments, one per parameter in the order
    /// [`Adam::new`] got them.
    pub fn state(&self) -> (u64, &[Tensor], &[Tensor]) {
        (self.step, &self.exp_avg, &self.exp_avg_sq)
    }

    /// Continues from a [`Adam::state`] of an optimizer over parameters of the same shapes: the
    /// moments are copied in (onto this optimizer's device). The caller checks the shapes.
    pub fn restore(&mut self, step: u64, exp_avg: &[Tensor], exp_avg_sq: &[Tensor]) {
        let _g = tch::no_grad_guard();
        for (mine, saved) in self.exp_avg.iter_mut().zip(exp_avg) {
            mine.copy_(saved);
        }
        for (mine, saved) in self.exp_avg_sq.iter_mut().zip(exp_avg_sq) {
            mine.copy_(saved);
        }
        self.step = step;
    }

    /// Zero every defined gradient in place.
    pub fn zero_grad(&mut self) {
        for p in &self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
    }

    /// One update from the current gradients.
    pub fn step(&mut self) -> Result<()> {
        let _g = tch::no_grad_guard();
        self.step += 1;
        for ((p, m), v) in self
            .params
            .iter()
            .zip(self.exp_avg.iter_mut())
            .zip(self.exp_avg_sq.iter_mut())
        {
            let g = p.grad();
            if !g.defined() {
                continue;
            }
            if self.imp == AdamImpl::Auto && p.device() == Device::Cpu {
                adam_step(&mut p.shallow_clone(), &g, m, v, &self.cfg, self.step)
                    .map_err(crate::EngineError::Kernel)?;
            } else {
                tensor_ops_step(p, &g, m, v, &self.cfg, self.step);
            }
        }
        Ok(())
    }
}

/// libtorch's `Adam::step` for one parameter, op for op.
fn tensor_ops_step(
    p: &Tensor,
    g: &Tensor,
    m: &mut Tensor,
    v: &mut Tensor,
    h: &AdamConfig,
    step: u64,
) {
    let g = if h.weight_decay != 0.0 {
        g + p * h.weight_decay
    } else {
        g.shallow_clone()
    };
    let (step_size, bc2_sqrt) = h.bias_corrections(step);
    let _ = m.g_mul_scalar_(h.beta1).g_add_(&(&g * (1.0 - h.beta1)));
    let _ = v
        .g_mul_scalar_(h.beta2)
        .g_add_(&(&g * &g * (1.0 - h.beta2)));
    let denom = v.sqrt() / bc2_sqrt + h.eps;
    let _ = p.shallow_clone().g_sub_(&(&*m / denom * step_size));
}
