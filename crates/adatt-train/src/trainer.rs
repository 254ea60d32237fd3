//! The one training loop. R replicas (one per seed) of one model configuration train together
//! through the model's replica dimension: each replica has its own initialisation and its own
//! shuffle order, and the total loss is the sum of the replicas' losses, so each replica's
//! gradient (and Adam update, which is elementwise) is mathematically that of a separate run;
//! batched ops may round differently from R = 1 (ARCHITECTURE.md, "Replicas never interact").

use std::time::Instant;

use adatt_data::{Dataset, Split, TaskKind};
use adatt_models::{InputSpec, Model, ModelConfig, ModelInput};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Reduction, Tensor};

use crate::config::{InputMode, Selection, TaskWeighting, TrainConfig};
use crate::error::Result;
use crate::metrics::{evaluate_many, MetricKind, TaskMetrics};
use crate::optim::{Adam, AdamConfig, AdamImpl};

/// ChaCha stream used for the shuffle order (the model's init uses its own stream 0 inside the
/// models crate), so shuffles never depend on libtorch's RNG.
pub const SHUFFLE_STREAM: u64 = 1;

/// The model input for rows gathered from a [`DeviceSplit`]: dense where the split holds the
/// dense matrix, else sparse.
pub fn model_input<'a>(
    numeric: &'a Tensor,
    active: &'a Tensor,
    dense: Option<&'a Tensor>,
) -> ModelInput<'a> {
    match dense {
        Some(d) => ModelInput::Dense(d),
        None => ModelInput::Sparse { numeric, active },
    }
}

/// A dataset split resident on the training device.
pub struct DeviceSplit {
    /// Rows.
    pub n: usize,
    numeric: Tensor,
    active: Tensor,
    dense: Option<Tensor>,
    labels: Tensor,
    /// Labels on the host, row-major [n, T], for the metrics.
    pub labels_host: Vec<f32>,
}

impl DeviceSplit {
    fn new(s: &Split, n_tasks: usize, mode: InputMode, device: Device) -> Self {
        let n = s.n_rows as i64;
        let n_num = s.numeric_cols.len() as i64;
        let numeric = Tensor::from_slice(&s.numeric).view([n, n_num]).to(device);
        let active = Tensor::from_slice(&s.active)
            .view([n, s.n_cat as i64])
            .to(device);
        // `mode` is resolved (`TrainData::new`): only the dense path needs the dense matrix.
        let dense = (mode == InputMode::Dense).then(|| {
            Tensor::from_slice(&s.dense)
                .view([n, s.n_features as i64])
                .to(device)
        });
        let labels = Tensor::from_slice(&s.labels)
            .view([n, n_tasks as i64])
            .to(device);
        DeviceSplit {
            n: s.n_rows,
            numeric,
            active,
            dense,
            labels,
            labels_host: s.labels.clone(),
        }
    }

    /// Gather rows `idx` (i64 [R, b]) into model inputs (numeric, active, dense, labels), each [R, b, ·].
    pub fn gather(&self, idx: &Tensor) -> (Tensor, Tensor, Option<Tensor>, Tensor) {
        let sz = idx.size();
        let flat = idx.reshape([-1]);
        let shape = |t: &Tensor| {
            let c = t.size()[1];
            t.index_select(0, &flat).view([sz[0], sz[1], c])
        };
        (
            shape(&self.numeric),
            shape(&self.active),
            self.dense.as_ref().map(shape),
            shape(&self.labels),
        )
    }

    /// Contiguous rows [start, start+len) with a leading broadcast dim of 1.
    fn chunk(&self, start: i64, len: i64) -> (Tensor, Tensor, Option<Tensor>) {
        (
            self.numeric.narrow(0, start, len).unsqueeze(0),
            self.active.narrow(0, start, len).unsqueeze(0),
            self.dense
                .as_ref()
                .map(|d| d.narrow(0, start, len).unsqueeze(0)),
        )
    }
}

/// Everything the loop needs from a dataset, on the device.
pub struct TrainData {
    /// Device.
    pub device: Device,
    /// Task names.
    pub task_names: Vec<String>,
    /// Metric kind per task.
    pub kinds: Vec<MetricKind>,
    /// Training base rate per task (NE denominator).
    pub train_base_rates: Vec<f64>,
    /// Model input description.
    pub spec: InputSpec,
    /// Input path.
    pub mode: InputMode,
    /// Rows per evaluation chunk (default: `config::auto_eval_batch`).
    pub eval_batch: usize,
    /// Splits.
    pub train: DeviceSplit,
    /// Validation.
    pub valid: DeviceSplit,
    /// Test.
    pub test: DeviceSplit,
}

impl TrainData {
    /// Move a dataset to `device` (keeping at most `max_train_rows` training rows if > 0).
    pub fn new(ds: &Dataset, mode: InputMode, device: Device, max_train_rows: usize) -> Self {
        let t = ds.task_names.len();
        let mode = mode.resolve(device);
        let train_split;
        let train = if max_train_rows > 0 && max_train_rows < ds.train.n_rows {
            let rows: Vec<usize> = (0..max_train_rows).collect();
            train_split = ds.train.select(&rows);
            &train_split
        } else {
            &ds.train
        };
        let kinds = ds
            .task_kinds
            .iter()
            .map(|k| match k {
                TaskKind::Binary => MetricKind::Binary,
                TaskKind::Regression => MetricKind::Regression,
            })
            .collect();
        TrainData {
            device,
            task_names: ds.task_names.clone(),
            kinds,
            train_base_rates: (0..t).map(|i| train.positive_rate(i)).collect(),
            spec: InputSpec {
                n_features: train.n_features,
                numeric_cols: train.numeric_cols.clone(),
                n_cat: train.n_cat,
                n_tasks: t,
            },
            mode,
            eval_batch: crate::config::auto_eval_batch(device),
            train: DeviceSplit::new(train, t, mode, device),
            valid: DeviceSplit::new(&ds.valid, t, mode, device),
            test: DeviceSplit::new(&ds.test, t, mode, device),
        }
    }

    fn n_tasks(&self) -> usize {
        self.task_names.len()
    }
}

/// Evaluation of one split at one point of training, for one replica.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitEval {
    /// Per task, in task order.
    pub valid: Vec<TaskMetrics>,
    /// Per task, in task order.
    pub test: Vec<TaskMetrics>,
}

/// One point of the training curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Epoch (0-based) the point is in; for end-of-epoch points, the epoch just finished.
    pub epoch: usize,
    /// Fraction of the whole training stream seen (1.0 = end of training).
    pub fraction: f64,
    /// Training examples seen.
    pub examples: u64,
    /// Mean training loss over the epoch (end-of-epoch points only).
    pub train_loss: Option<f64>,
    /// Metrics.
    pub eval: SplitEval,
}

/// Final state of one replica.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Trained to the end.
    Ok,
    /// Its training loss became non-finite.
    Failed {
        /// Why.
        reason: String,
    },
    /// Trained to the end with a finite loss, but diverged by the rule of
    /// [`crate::divergence`] (exploding loss, or validation AUC never off chance).
    Diverged {
        /// Which part of the rule, with the numbers.
        reason: String,
    },
}

impl Status {
    /// The reason of a run that did not finish well.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Status::Ok => None,
            Status::Failed { reason } | Status::Diverged { reason } => Some(reason),
        }
    }
}

/// Result of one replica (= one seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// Seed.
    pub seed: u64,
    /// Status.
    pub status: Status,
    /// Best epoch (0-based) by the selection criterion, if any epoch finished finite.
    pub best_epoch: Option<usize>,
    /// Metrics at the best epoch.
    pub best: Option<SplitEval>,
    /// End-of-epoch curve.
    pub epochs: Vec<CurvePoint>,
    /// Mid-training checkpoints.
    pub checkpoints: Vec<CurvePoint>,
    /// Task weights used in each epoch.
    pub task_weights: Vec<Vec<f64>>,
    /// Fused expert weights at the best epoch, test-set mean, `[level][unit][expert]` (only
    /// with `train.record_expert_weights`).
    pub expert_weights: Option<Vec<Vec<Vec<f64>>>>,
}

/// Result of a replica group.
#[derive(Clone, Debug)]
pub struct GroupOutcome {
    /// One per seed, in seed order.
    pub runs: Vec<RunOutcome>,
    /// Wall time of the whole group (s).
    pub wall_s: f64,
    /// Training examples processed per replica.
    pub examples_per_replica: u64,
}

/// Progress callbacks (the CLI draws bars; tests pass `()`).
pub trait Progress {
    /// Called after every training step with (epoch, step in epoch, steps per epoch).
    fn step(&mut self, _epoch: usize, _step: usize, _steps: usize) {}
    /// Called at each epoch end with the mean loss over replicas and the seconds spent in the
    /// epoch's training steps and in its end-of-epoch evaluation.
    fn epoch(&mut self, _epoch: usize, _mean_loss: f64, _train_s: f64, _eval_s: f64) {}
}
impl Progress for () {}

/// Hook to corrupt training on purpose (tests of the failure path): called with the replica
/// losses before backward; return a tensor to use instead.
pub type LossHook<'a> = &'a mut dyn FnMut(usize, &Tensor) -> Option<Tensor>;

/// Evaluate all replicas on a split: returns per replica the row-major [n, T] outputs
/// (sigmoid probabilities for binary tasks, raw values for regression).
pub fn predict(
    model: &Model,
    data: &TrainData,
    split: &DeviceSplit,
    chunk: usize,
) -> Vec<Vec<f32>> {
    let _g = tch::no_grad_guard();
    let r = model.replicas();
    let t = data.n_tasks();
    let binary_mask = Tensor::from_slice(
        &data
            .kinds
            .iter()
            .map(|k| *k == MetricKind::Binary)
            .collect::<Vec<_>>(),
    )
    .to(data.device)
    .view([1, 1, t as i64]);
    let mut outs = Vec::new();
    let mut start = 0i64;
    while start < split.n as i64 {
        let len = (chunk as i64).min(split.n as i64 - start);
        let (num, act, dense) = split.chunk(start, len);
        let input = model_input(&num, &act, dense.as_ref());
        let logits = model
            .forward_eval(&input)
            .unwrap_or_else(|e| panic!("evaluation forward: {e}"));
        let y = logits.sigmoid().where_self(&binary_mask, &logits);
        outs.push(y.to_kind(Kind::Float));
        start += len;
    }
    let all = Tensor::cat(&outs, 1).to(Device::Cpu).contiguous(); // [R, n, T]
    (0..r)
        .map(|i| {
            let v = all.get(i as i64).reshape([-1]);
            Vec::<f32>::try_from(&v).expect("f32 outputs")
        })
        .collect()
}

fn evaluate(model: &Model, data: &TrainData, chunk: usize) -> Vec<SplitEval> {
    let v = predict(model, data, &data.valid, chunk);
    let t = predict(model, data, &data.test, chunk);
    let n_t = data.n_tasks();
    let mv = evaluate_many(
        &v,
        &data.valid.labels_host,
        n_t,
        &data.kinds,
        &data.train_base_rates,
    );
    let mt = evaluate_many(
        &t,
        &data.test.labels_host,
        n_t,
        &data.kinds,
        &data.train_base_rates,
    );
    mv.into_iter()
        .zip(mt)
        .map(|(valid, test)| SplitEval { valid, test })
        .collect()
}

/// Per replica, the fused expert weights of every level (`Model::fused_expert_weights`,
/// `[R, B, units, experts]`) averaged over the rows of `split`: `[replica][level][unit][expert]`.
pub fn mean_fused_weights(
    model: &Model,
    split: &DeviceSplit,
    chunk: usize,
) -> Result<Vec<Vec<Vec<Vec<f64>>>>> {
    let _g = tch::no_grad_guard();
    let mut sums: Vec<Tensor> = Vec::new();
    let mut start = 0i64;
    while start < split.n as i64 {
        let len = (chunk as i64).min(split.n as i64 - start);
        let (num, act, dense) = split.chunk(start, len);
        let input = model_input(&num, &act, dense.as_ref());
        let fused = model
            .fused_expert_weights(&input)
            .map_err(crate::TrainError::Kernel)?;
        for (l, w) in fused.iter().enumerate() {
            let s = w
                .to_kind(Kind::Double)
                .sum_dim_intlist(1, false, Kind::Double);
            if l < sums.len() {
                sums[l] += s;
            } else {
                sums.push(s);
            }
        }
        start += len;
    }
    let r = model.replicas();
    let mut out = vec![Vec::new(); r];
    for s in sums {
        let s = (s / split.n as f64).to(Device::Cpu).contiguous(); // [R|1, U, E]
        let size = s.size();
        let (units, experts) = (size[1] as usize, size[2] as usize);
        let flat = Vec::<f64>::try_from(&s.reshape([-1]))?;
        for (i, o) in out.iter_mut().enumerate() {
            // A leading dim of 1 (replica-independent weights) serves every replica.
            let base = if size[0] == 1 { 0 } else { i * units * experts };
            o.push(
                (0..units)
                    .map(|u| flat[base + u * experts..base + (u + 1) * experts].to_vec())
                    .collect(),
            );
        }
    }
    Ok(out)
}

fn criterion(sel: Selection, e: &SplitEval) -> f64 {
    match sel {
        // np.nansum: NaN AUCs count as 0.
        Selection::SumValidAuc => e
            .valid
            .iter()
            .map(|m| if m.auc.is_nan() { 0.0 } else { m.auc })
            .sum(),
        Selection::MeanValidNe => {
            -e.valid.iter().map(|m| m.ne).sum::<f64>() / e.valid.len().max(1) as f64
        }
    }
}

/// DWA state of one replica (see [`TaskWeighting::Dwa`]).
fn dwa_update(history: &[Vec<f64>], epoch: usize, n_tasks: usize) -> Vec<f64> {
    let k = n_tasks as f64;
    let temp = n_tasks as f64;
    let ratios: Vec<f64> = (0..n_tasks)
        .map(|i| {
            if epoch <= 1 || history.len() < 2 {
                1.0
            } else {
                let last = history[history.len() - 1][i];
                let mut before = history[history.len() - 2][i];
                if before > -0.01 && before < 0.01 {
                    before = 0.01;
                }
                last / before
            }
        })
        .collect();
    let denom: f64 = ratios.iter().map(|r| (r / temp).exp()).sum();
    ratios
        .iter()
        .map(|r| (k * (r / temp).exp() / denom).clamp(0.5, 1.5))
        .collect()
}

/// Train R replicas of `model_cfg` (one per seed) on `data` and evaluate them.
pub fn train_group(
    data: &TrainData,
    model_cfg: &ModelConfig,
    cfg: &TrainConfig,
    seeds: &[u64],
    progress: &mut dyn Progress,
    mut loss_hook: Option<LossHook<'_>>,
) -> Result<GroupOutcome> {
    let started = Instant::now();
    let device = data.device;
    let r = seeds.len();
    let t = data.n_tasks();
    let model = Model::new(model_cfg, &data.spec, seeds, device).map_err(|source| {
        crate::TrainError::Model {
            entry: model_cfg.label(),
            source,
        }
    })?;
    let mut opt = Adam::new(
        model.var_store().trainable_variables(),
        AdamConfig {
            lr: cfg.lr,
            beta1: cfg.beta1,
            beta2: cfg.beta2,
            eps: cfg.eps,
            weight_decay: cfg.weight_decay,
        },
        AdamImpl::Auto,
    );

    let n = data.train.n;
    let bs = cfg.batch_size.min(n);
    let steps = n.div_ceil(bs);
    let total_steps = steps * cfg.epochs;
    let mut ckpts: Vec<(usize, f64)> = cfg
        .checkpoints
        .iter()
        .map(|f| {
            (
                ((f * total_steps as f64).round() as usize).clamp(1, total_steps),
                *f,
            )
        })
        .collect();
    ckpts.sort_by_key(|a| a.0);

    let regression_mask = Tensor::from_slice(
        &data
            .kinds
            .iter()
            .map(|k| *k == MetricKind::Regression)
            .collect::<Vec<_>>(),
    )
    .to(device)
    .view([1, 1, t as i64]);

    let mut rngs: Vec<ChaCha8Rng> = seeds
        .iter()
        .map(|s| {
            let mut g = ChaCha8Rng::seed_from_u64(*s);
            g.set_stream(SHUFFLE_STREAM);
            g
        })
        .collect();
    let fixed: Vec<f64> = match &cfg.task_weighting {
        TaskWeighting::Fixed { weights } => weights.clone(),
        _ => vec![1.0; t],
    };
    let mut weights: Vec<Vec<f64>> = vec![fixed.clone(); r];
    let mut dwa_hist: Vec<Vec<Vec<f64>>> = vec![Vec::new(); r];

    let mut outcomes: Vec<RunOutcome> = seeds
        .iter()
        .map(|&seed| RunOutcome {
            seed,
            status: Status::Ok,
            best_epoch: None,
            best: None,
            epochs: Vec::new(),
            checkpoints: Vec::new(),
            task_weights: Vec::new(),
            expert_weights: None,
        })
        .collect();
    let mut best_score = vec![f64::NEG_INFINITY; r];
    let mut global_step = 0usize;
    let mut next_ckpt = 0usize;

    for epoch in 0..cfg.epochs {
        let mut perm: Vec<i64> = Vec::with_capacity(r * n);
        for g in rngs.iter_mut() {
            let mut p: Vec<i64> = (0..n as i64).collect();
            p.shuffle(g);
            perm.extend_from_slice(&p);
        }
        let perm = Tensor::from_slice(&perm)
            .view([r as i64, n as i64])
            .to(device);
        let w_flat: Vec<f32> = weights.iter().flatten().map(|&w| w as f32).collect();
        let w = Tensor::from_slice(&w_flat)
            .view([r as i64, t as i64])
            .to(device);
        for (i, wr) in weights.iter().enumerate() {
            outcomes[i].task_weights.push(wr.clone());
        }
        let epoch_start = Instant::now();
        let mut loss_sum = Tensor::zeros([r as i64], (Kind::Float, device));
        let mut last_weighted = None;
        for step in 0..steps {
            let start = (step * bs) as i64;
            let len = (bs as i64).min(n as i64 - start);
            let idx = perm.narrow(1, start, len);
            let (num, act, dense, y) = data.train.gather(&idx);
            let input = model_input(&num, &act, dense.as_ref());
            let (logits, tape) = model
                .forward_train(&input)
                .map_err(crate::TrainError::Kernel)?;
            let bce =
                logits.binary_cross_entropy_with_logits::<Tensor>(&y, None, None, Reduction::None);
            let sq = (&logits - &y).square();
            let per_task = sq
                .where_self(&regression_mask, &bce)
                .mean_dim(1, false, Kind::Float);
            let weighted = &per_task * &w; // [R, T]
            let mut loss_r = weighted.sum_dim_intlist(1, false, Kind::Float); // [R]
            if let Some(h) = loss_hook.as_mut() {
                if let Some(l) = h(global_step, &loss_r) {
                    loss_r = l;
                }
            }
            opt.zero_grad();
            loss_r.sum(Kind::Float).backward();
            if let Some(tape) = tape {
                model
                    .backward_input(tape)
                    .map_err(crate::TrainError::Kernel)?;
            }
            opt.step()?;
            loss_sum += loss_r.detach();
            if step + 1 == steps {
                last_weighted = Some(weighted.detach().to(Device::Cpu));
            }
            global_step += 1;
            progress.step(epoch, step, steps);
            while next_ckpt < ckpts.len() && ckpts[next_ckpt].0 == global_step {
                let f = ckpts[next_ckpt].1;
                for (i, e) in evaluate(&model, data, data.eval_batch)
                    .into_iter()
                    .enumerate()
                {
                    outcomes[i].checkpoints.push(CurvePoint {
                        epoch,
                        fraction: f,
                        examples: (epoch * n + ((step + 1) * bs).min(n)) as u64,
                        train_loss: None,
                        eval: e,
                    });
                }
                next_ckpt += 1;
            }
        }
        let losses = Vec::<f32>::try_from(&(loss_sum / steps as f64).to(Device::Cpu))?;
        let train_s = epoch_start.elapsed().as_secs_f64();
        let eval_start = Instant::now();
        let evals = evaluate(&model, data, data.eval_batch);
        let eval_s = eval_start.elapsed().as_secs_f64();
        let mut mean_loss = 0.0;
        let mut improved = vec![false; r];
        for (i, e) in evals.into_iter().enumerate() {
            let l = losses[i] as f64;
            mean_loss += l / r as f64;
            let o = &mut outcomes[i];
            if o.status == Status::Ok && !l.is_finite() {
                o.status = Status::Failed {
                    reason: format!("non-finite training loss ({l}) in epoch {epoch}"),
                };
            }
            if o.status == Status::Ok {
                let score = criterion(cfg.selection, &e);
                if score > best_score[i] {
                    best_score[i] = score;
                    o.best_epoch = Some(epoch);
                    o.best = Some(e.clone());
                    improved[i] = true;
                }
            }
            o.epochs.push(CurvePoint {
                epoch,
                fraction: (epoch + 1) as f64 / cfg.epochs as f64,
                examples: ((epoch + 1) * n) as u64,
                train_loss: Some(l),
                eval: e,
            });
        }
        if cfg.record_expert_weights && improved.contains(&true) {
            let w = mean_fused_weights(&model, &data.test, data.eval_batch)?;
            for (i, w) in w.into_iter().enumerate().filter(|(i, _)| improved[*i]) {
                outcomes[i].expert_weights = Some(w);
            }
        }
        progress.epoch(epoch, mean_loss, train_s, eval_s);
        if matches!(cfg.task_weighting, TaskWeighting::Dwa) {
            let lw =
                Vec::<f32>::try_from(&last_weighted.expect("at least one step").reshape([-1]))?;
            for i in 0..r {
                dwa_hist[i].push((0..t).map(|k| lw[i * t + k] as f64).collect());
                weights[i] = dwa_update(&dwa_hist[i], epoch, t);
            }
        }
    }
    for o in outcomes.iter_mut().filter(|o| o.status == Status::Ok) {
        if let Some(reason) = cfg.divergence.check(&o.epochs, &data.kinds) {
            o.status = Status::Diverged { reason };
        }
    }
    Ok(GroupOutcome {
        runs: outcomes,
        wall_s: started.elapsed().as_secs_f64(),
        examples_per_replica: (n * cfg.epochs) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dwa_is_one_for_first_epochs_and_clipped_after() {
        let h = vec![vec![0.5, 0.2, 0.1], vec![0.4, 0.2, 0.2]];
        assert_eq!(dwa_update(&h[..1], 0, 3), vec![1.0, 1.0, 1.0]);
        assert_eq!(dwa_update(&h, 1, 3), vec![1.0, 1.0, 1.0]);
        let w = dwa_update(&h, 2, 3);
        // ratios 0.8, 1.0, 2.0 with T = K = 3
        let e: Vec<f64> = [0.8f64, 1.0, 2.0].iter().map(|r| (r / 3.0).exp()).collect();
        let s: f64 = e.iter().sum();
        for k in 0..3 {
            let want = (3.0 * e[k] / s).clamp(0.5, 1.5);
            assert!((w[k] - want).abs() < 1e-15, "{k}: {} vs {want}", w[k]);
        }
        assert!(w[2] > w[1] && w[1] > w[0]);
    }

    #[test]
    fn dwa_clamps_small_previous_losses() {
        let h = vec![vec![0.001, 1.0], vec![1.0, 1.0]];
        let w = dwa_update(&h, 5, 2);
        // ratio of task 0 is 1.0/0.01 = 100 -> weight clipped at 1.5, task 1 at the lower clip
        assert_eq!(w, vec![1.5, 0.5]);
    }
}
