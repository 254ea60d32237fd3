//! Our Adam (fused CPU kernel and tensor-op path) against libtorch's `torch::optim::Adam`
//! (through `tch::nn::Adam`) over several steps with the same gradients.

use adatt_engine::optim::{Adam, AdamConfig, AdamImpl};
use adatt_models::kernels::{force_isa, Isa};
use tch::nn::OptimizerConfig;
use tch::{nn, Device, Kind, Tensor};

/// The tests draw from libtorch's global RNG (`manual_seed`), which the test harness's threads
/// share: hold this for the whole test.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// lr 1e-2 so that parameters move visibly in a few steps.
const CFG: AdamConfig = AdamConfig {
    lr: 1e-2,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weight_decay: 0.01,
};

const SHAPES: [&[i64]; 3] = [&[3, 1, 70, 33], &[3, 1, 33], &[40_000]];

fn store() -> nn::VarStore {
    tch::manual_seed(7);
    let vs = nn::VarStore::new(Device::Cpu);
    for (i, s) in SHAPES.iter().enumerate() {
        let _ = vs.root().randn(&format!("p{i}"), s, 0.0, 0.5);
    }
    vs
}

fn set_grads(params: &[Tensor], grads: &[Tensor]) {
    let loss = params
        .iter()
        .zip(grads)
        .map(|(p, g)| (p * g).sum(Kind::Float))
        .fold(Tensor::zeros([], (Kind::Float, Device::Cpu)), |a, b| a + b);
    loss.backward();
}

fn sorted(vs: &nn::VarStore) -> Vec<Tensor> {
    let mut v = vs.variables().into_iter().collect::<Vec<_>>();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.into_iter().map(|(_, t)| t).collect()
}

#[test]
fn matches_libtorch_adam_with_weight_decay() {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    for isa in [Isa::Baseline, Isa::Avx2, Isa::Avx512] {
        if isa.supported() {
            force_isa(Some(isa));
            matches_libtorch_adam(isa, &[CFG.lr; 6]);
        }
    }
    force_isa(None);
}

/// A learning rate set before each step (as `[train] lr_schedule` does) is the one libtorch's
/// Adam uses after `set_lr`: the moments and the bias correction's step count carry on.
#[test]
fn a_learning_rate_changed_between_steps_matches_libtorch() {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    force_isa(Some(Isa::Baseline));
    matches_libtorch_adam(Isa::Baseline, &[1e-2, 8e-3, 5e-3, 2e-3, 1e-3, 4e-4]);
    force_isa(None);
}

/// Six steps with learning rates `lrs`.
fn matches_libtorch_adam(isa: Isa, lrs: &[f64; 6]) {
    let cfg = CFG;
    let reference = store();
    let mut opt_ref = nn::Adam {
        beta1: cfg.beta1,
        beta2: cfg.beta2,
        wd: cfg.weight_decay,
        eps: cfg.eps,
        amsgrad: false,
    }
    .build(&reference, cfg.lr)
    .unwrap();
    let ref_params = sorted(&reference);
    let ours: Vec<(nn::VarStore, Adam)> = [AdamImpl::Auto, AdamImpl::TensorOps]
        .into_iter()
        .map(|imp| {
            let vs = store();
            let opt = Adam::new(sorted(&vs), cfg, imp);
            (vs, opt)
        })
        .collect();
    let mut ours = ours;
    for step in 0..6 {
        opt_ref.set_lr(lrs[step]);
        for (_, opt) in ours.iter_mut() {
            opt.set_lr(lrs[step]);
        }
        tch::manual_seed(100 + step as i64);
        // Sparse-ish gradients: many exact zeros, as the one-hot first layer produces.
        let grads: Vec<Tensor> = SHAPES
            .iter()
            .map(|s| {
                let g = Tensor::randn(*s, (Kind::Float, Device::Cpu));
                let keep = Tensor::rand(*s, (Kind::Float, Device::Cpu)).gt(0.7);
                g * keep
            })
            .collect();
        opt_ref.zero_grad();
        set_grads(&ref_params, &grads);
        opt_ref.step();
        for (vs, opt) in ours.iter_mut() {
            let params = sorted(vs);
            opt.zero_grad();
            set_grads(&params, &grads);
            opt.step().unwrap();
            for (i, (a, b)) in params.iter().zip(&ref_params).enumerate() {
                let d = (a - b).abs().max().double_value(&[]);
                let moved = (b - store_param(i)).abs().max().double_value(&[]);
                assert!(
                    moved > 1e-3,
                    "parameters must move for the test to mean anything"
                );
                assert!(
                    d < 2e-6,
                    "{isa:?} step {step}, param {i}: {d} from libtorch's Adam"
                );
            }
        }
    }
}

fn store_param(i: usize) -> Tensor {
    sorted(&store())[i].detach().copy()
}

#[test]
fn parameters_without_gradient_are_left_alone() {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let vs = store();
    let params = sorted(&vs);
    let before: Vec<Tensor> = params.iter().map(|p| p.detach().copy()).collect();
    let cfg = CFG;
    let mut opt = Adam::new(
        params.iter().map(Tensor::shallow_clone).collect(),
        cfg,
        AdamImpl::Auto,
    );
    // only p0 gets a gradient
    (params[0].sum(Kind::Float)).backward();
    opt.step().unwrap();
    assert!(!params[0].equal(&before[0]));
    assert!(params[1].equal(&before[1]) && params[2].equal(&before[2]));
}
