//! A replica group's training state part-way through a one-pass stream, as the bytes of one
//! safetensors file: a process stopped mid-run resumes the group at the step the state was saved
//! at and ends with the numbers an uninterrupted run gives, bit for bit on the same machine,
//! device and thread count (the stream is addressed by example index; everything else that
//! changes during the pass is saved).
//!
//! The engine writes no files: the caller's [`SnapshotStore`] keeps the bytes (the experiment
//! layer keeps them under the results directory's `.snapshots/`). Snapshots are taken only on a
//! simulated stream read once (`train.epochs = 1`), the regime whose runs last hours: part-way
//! through it there is no shuffle order, task-weight history or best epoch to save.
//!
//! The file holds the model's variables (`param.<name>`), Adam's moments (`exp_avg.<i>`,
//! `exp_avg_sq.<i>`, in the optimizer's parameter order), the replicas' summed training loss so
//! far (`loss_sum`, `[R]`) and, in its header under `adatt.snapshot` (JSON), the steps taken, the
//! checkpoint evaluations so far, the training seconds spent, and what the run is (seeds, model
//! and training configs, the schedule, the caller's `origin`), checked when it is read back.

use std::collections::HashMap;
use std::time::Duration;

use adatt_models::ModelConfig;
use adatt_spec::config::TrainConfig;
use adatt_spec::outcome::CurvePoint;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use adatt_models::Model;

use crate::error::{EngineError, Result};
use crate::optim::Adam;

/// Where a replica group's snapshots go, given by the caller of
/// [`crate::trainer::train_group_model`]: one store per group.
pub trait SnapshotStore {
    /// The training time between two saves.
    fn every(&self) -> Duration;
    /// What made the snapshot besides its configs (the code revision): a snapshot of another
    /// origin is not resumed from, and the run starts over.
    fn origin(&self) -> &str;
    /// The bytes saved last for this group, if any.
    fn load(&mut self) -> Result<Option<Vec<u8>>>;
    /// Keeps `bytes`, replacing the previous save (the group's state after `step` steps).
    fn save(&mut self, step: usize, bytes: &[u8]) -> Result<()>;
}

const HEADER_KEY: &str = "adatt.snapshot";
const VERSION: u32 = 1;

/// What a snapshot belongs to: it is resumed only by the run it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Identity {
    seeds: Vec<u64>,
    model: serde_json::Value,
    train: serde_json::Value,
    total_steps: usize,
    batch_size: usize,
    origin: String,
}

impl Identity {
    pub(crate) fn new(
        seeds: &[u64],
        model: &ModelConfig,
        train: &TrainConfig,
        schedule: (usize, usize),
        origin: &str,
    ) -> Result<Self> {
        let json = |e: serde_json::Error| EngineError::Snapshot(format!("cannot describe: {e}"));
        Ok(Identity {
            seeds: seeds.to_vec(),
            model: serde_json::to_value(model).map_err(json)?,
            train: serde_json::to_value(train).map_err(json)?,
            total_steps: schedule.0,
            batch_size: schedule.1,
            origin: origin.to_owned(),
        })
    }
}

/// The header: where the group stands.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Position {
    version: u32,
    identity: Identity,
    /// Training steps taken.
    pub global_step: usize,
    /// Checkpoint evaluations done.
    pub next_ckpt: usize,
    /// Seconds spent so far (training and checkpoint evaluations).
    pub elapsed_s: f64,
    /// Each replica's checkpoint evaluations so far.
    pub checkpoints: Vec<Vec<CurvePoint>>,
}

/// A snapshot read back.
pub(crate) struct Snapshot {
    pub position: Position,
    /// The replicas' summed training loss over the steps taken, `[R]`.
    pub loss_sum: Tensor,
    params: HashMap<String, Tensor>,
    adam_step: u64,
    exp_avg: Vec<Tensor>,
    exp_avg_sq: Vec<Tensor>,
}

/// The bytes of the state of `model` and `adam` at `position`, with the loss summed so far.
pub(crate) fn encode(
    position: &Position,
    (model, adam): (&Model, &Adam),
    loss_sum: &Tensor,
) -> Result<Vec<u8>> {
    let (adam_step, m, v) = adam.state();
    let mut named: Vec<(String, Tensor)> = model
        .var_store()
        .variables()
        .into_iter()
        .map(|(n, t)| (format!("param.{n}"), t))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (m, v)) in m.iter().zip(v).enumerate() {
        named.push((format!("exp_avg.{i}"), m.shallow_clone()));
        named.push((format!("exp_avg_sq.{i}"), v.shallow_clone()));
    }
    named.push(("loss_sum".into(), loss_sum.shallow_clone()));
    named.push(("adam_step".into(), Tensor::from_slice(&[adam_step as i64])));
    let header = serde_json::to_string(position)
        .map_err(|e| EngineError::Snapshot(format!("cannot write the header: {e}")))?;
    adatt_models::tensor_file::to_bytes_with_metadata(
        &named,
        Some(HashMap::from([(HEADER_KEY.to_owned(), header)])),
    )
    .map_err(|e| EngineError::Snapshot(e.to_string()))
}

impl Position {
    /// A group of `identity` after `global_step` steps and `next_ckpt` checkpoint evaluations.
    pub(crate) fn at(
        identity: Identity,
        global_step: usize,
        next_ckpt: usize,
        elapsed_s: f64,
        checkpoints: Vec<Vec<CurvePoint>>,
    ) -> Self {
        Position {
            version: VERSION,
            identity,
            global_step,
            next_ckpt,
            elapsed_s,
            checkpoints,
        }
    }
}

/// The snapshot in `bytes` if it belongs to the run `identity` describes. One of another origin
/// (the code changed) gives `None`; one of another run, or bytes that are not a snapshot, an
/// error.
pub(crate) fn decode(bytes: &[u8], identity: &Identity) -> Result<Option<Snapshot>> {
    let bad = |msg: String| EngineError::Snapshot(msg);
    let (named, header) = adatt_models::tensor_file::from_bytes_with_metadata(bytes)
        .map_err(|e| bad(e.to_string()))?;
    let text = header
        .get(HEADER_KEY)
        .ok_or_else(|| bad(format!("no `{HEADER_KEY}` header")))?;
    let position: Position =
        serde_json::from_str(text).map_err(|e| bad(format!("header `{HEADER_KEY}`: {e}")))?;
    if position.version != VERSION {
        return Err(bad(format!(
            "version {}, this build reads version {VERSION}",
            position.version
        )));
    }
    let saved = &position.identity;
    if saved.origin != identity.origin {
        tracing::warn!(
            saved = %saved.origin,
            now = %identity.origin,
            "a snapshot of this group was saved by other code; the group starts over"
        );
        return Ok(None);
    }
    if saved != identity {
        return Err(bad(
            "it was saved by another run (seeds, model, training config or schedule differ)".into(),
        ));
    }
    let mut named: HashMap<String, Tensor> = named.into_iter().collect();
    let mut take = |name: &str| {
        named
            .remove(name)
            .ok_or_else(|| bad(format!("tensor `{name}` is missing")))
    };
    let loss_sum = take("loss_sum")?;
    let adam_step = take("adam_step")?.int64_value(&[0]) as u64;
    let (mut exp_avg, mut exp_avg_sq) = (Vec::new(), Vec::new());
    while let (Ok(m), Ok(v)) = (
        take(&format!("exp_avg.{}", exp_avg.len())),
        take(&format!("exp_avg_sq.{}", exp_avg_sq.len())),
    ) {
        exp_avg.push(m);
        exp_avg_sq.push(v);
    }
    let params = named
        .into_iter()
        .map(|(n, t)| match n.strip_prefix("param.") {
            Some(p) => Ok((p.to_owned(), t)),
            None => Err(bad(format!("unexpected tensor `{n}`"))),
        })
        .collect::<Result<_>>()?;
    Ok(Some(Snapshot {
        position,
        loss_sum,
        params,
        adam_step,
        exp_avg,
        exp_avg_sq,
    }))
}

impl Snapshot {
    /// Puts the saved weights and optimizer state into `model` and `adam` (fresh ones of the
    /// same run); every tensor must match in name and shape.
    pub(crate) fn restore(&self, (model, adam): (&mut Model, &mut Adam)) -> Result<()> {
        let bad = |msg: String| EngineError::Snapshot(msg);
        let same = |what: &str, mine: &Tensor, saved: &Tensor| {
            if mine.size() == saved.size() {
                Ok(())
            } else {
                Err(bad(format!(
                    "{what}: shape {:?}, the model's is {:?}",
                    saved.size(),
                    mine.size()
                )))
            }
        };
        let vars = model.var_store().variables();
        if vars.len() != self.params.len() {
            return Err(bad(format!(
                "{} model tensors, the model has {}",
                self.params.len(),
                vars.len()
            )));
        }
        let (_, m, _) = adam.state();
        if m.len() != self.exp_avg.len() {
            return Err(bad(format!(
                "{} optimizer moments, the optimizer has {}",
                self.exp_avg.len(),
                m.len()
            )));
        }
        for (i, (mine, saved)) in m.iter().zip(&self.exp_avg).enumerate() {
            same(&format!("exp_avg.{i}"), mine, saved)?;
        }
        for (name, mine) in &vars {
            let saved = self
                .params
                .get(name)
                .ok_or_else(|| bad(format!("the model's `{name}` is missing")))?;
            same(name, mine, saved)?;
        }
        let _g = tch::no_grad_guard();
        for (name, mut mine) in vars {
            mine.copy_(&self.params[&name]);
        }
        adam.restore(self.adam_step, &self.exp_avg, &self.exp_avg_sq);
        Ok(())
    }
}
