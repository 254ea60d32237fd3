//! The same training step computed two ways, compared: a model initialised from one seed (our
//! init is device independent) takes the loop's forward and backward on the first rows of the
//! training set on a reference (device, input path) and on another; the outputs, the weighted
//! task losses and every parameter's gradient must agree. `make device-check` runs it for CUDA
//! against the CPU; on the CPU it compares the sparse kernels with the dense path.

use std::collections::BTreeMap;

use adatt_data::Dataset;
use adatt_models::ModelConfig;
use tch::{Device, Kind, Tensor};

use crate::error::Result;
use crate::trainer::{Learner, TrainData};
use adatt_spec::config::{InputMode, TrainConfig};

/// Where a step runs.
#[derive(Clone, Copy, Debug)]
pub struct Side {
    /// Device.
    pub device: Device,
    /// Input path (resolved on the device).
    pub input: InputMode,
}

/// The largest absolute differences between the two sides.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Parity {
    /// Model outputs (logits), `[rows, T]`.
    pub outputs: f64,
    /// Weighted task losses, `[T]`.
    pub losses: f64,
    /// Gradients, over every parameter.
    pub gradients: f64,
    /// The parameter with the largest gradient difference.
    pub worst_parameter: String,
}

/// What one side computed, on the CPU.
struct Step {
    outputs: Tensor,
    losses: Tensor,
    grads: BTreeMap<String, Tensor>,
}

fn step(
    ds: &Dataset,
    model: &ModelConfig,
    train: &TrainConfig,
    side: Side,
    rows: usize,
) -> Result<Step> {
    let data = TrainData::new(ds, side.input, side.device, rows);
    let mut learner = Learner::new(&data, model, train, &[0])?;
    let table = data
        .train
        .table()
        .expect("Census training rows are a table");
    let n = table.n as i64;
    let idx = Tensor::arange(n, (Kind::Int64, side.device)).view([1, n]);
    let w = Tensor::ones([1, data.kinds.len() as i64], (Kind::Float, side.device));
    let outputs = tch::no_grad(|| {
        learner
            .model()
            .forward_eval(&table.chunk(0, n).as_input())
            .map_err(crate::EngineError::Kernel)
    })?;
    let f = learner.forward(table, &idx, &w)?;
    let losses = f.weighted.detach().to(Device::Cpu);
    learner.backward(f)?;
    let grads = learner
        .model()
        .var_store()
        .variables()
        .into_iter()
        .map(|(name, v)| {
            let g = v.grad();
            let g = if g.defined() { g } else { v.zeros_like() };
            (name, g.to(Device::Cpu))
        })
        .collect();
    Ok(Step {
        outputs: outputs.to(Device::Cpu),
        losses,
        grads,
    })
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

/// Compares one training step of `model` on the first `rows` training rows of `ds` on `a` and
/// on `b`.
pub fn parity(
    ds: &Dataset,
    model: &ModelConfig,
    train: &TrainConfig,
    a: Side,
    b: Side,
    rows: usize,
) -> Result<Parity> {
    let (x, y) = (
        step(ds, model, train, a, rows)?,
        step(ds, model, train, b, rows)?,
    );
    let mut worst = (0.0f64, String::new());
    for (name, gx) in &x.grads {
        let gy = y
            .grads
            .get(name)
            .ok_or_else(|| adatt_spec::SpecError::ConfigValue {
                key: name.clone(),
                message: "a parameter of one side is missing on the other".into(),
            })?;
        let d = max_abs_diff(gx, gy);
        if d > worst.0 || worst.1.is_empty() {
            worst = (d, name.clone());
        }
    }
    Ok(Parity {
        outputs: max_abs_diff(&x.outputs, &y.outputs),
        losses: max_abs_diff(&x.losses, &y.losses),
        gradients: worst.0,
        worst_parameter: worst.1,
    })
}
