//! The one training loop. R replicas (one per seed) of one model configuration train together
//! through the model's replica dimension: each replica has its own initialisation and, on a
//! table, its own shuffle order (a simulated stream is read in stream order by all replicas:
//! `rows`), and the total loss is the sum of the replicas' losses, so each replica's
//! gradient (and Adam update, which is elementwise) is mathematically that of a separate run;
//! batched ops may round differently from R = 1 (ARCHITECTURE.md, "Replicas never interact").

use std::time::{Duration, Instant};

use adatt_models::{Model, ModelConfig};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use tch::{Device, Kind, Reduction, Tensor};

use crate::error::Result;
use crate::optim::{Adam, AdamConfig, AdamImpl};
pub use crate::rows::{DeviceSplit, InputRows, StreamRows, TrainRows};
use crate::snapshot::{Identity, Position, SnapshotStore};
pub use crate::source::TrainData;
use adatt_spec::config::{Selection, TaskWeighting, TrainConfig};
use adatt_spec::metrics::{evaluate_many, MetricKind, TaskMetrics};
use adatt_spec::outcome::{CurvePoint, RunOutcome, SplitEval, Status};
use adatt_spec::schedule::Schedule;

/// ChaCha stream used for the shuffle order (the model's init uses its own stream 0 inside the
/// models crate), so shuffles never depend on libtorch's RNG.
pub const SHUFFLE_STREAM: u64 = 1;

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

/// Called at every training step with the model, the global step and the replica losses `[R]`
/// before backward; a returned tensor is used instead (an extra loss term added to them, or, in
/// tests of the failure path, a non-finite value).
pub type LossHook<'a> = &'a mut dyn FnMut(&Model, usize, &Tensor) -> Option<Tensor>;

/// Evaluate all replicas on a split: returns per replica the row-major [n, T] outputs
/// (sigmoid probabilities for binary tasks, raw values for regression).
pub fn predict(
    model: &Model,
    data: &TrainData,
    split: &DeviceSplit,
    chunk: usize,
) -> Vec<Vec<f32>> {
    predict_split(model, &data.kinds, split, chunk)
}

/// [`predict`] for a model whose tasks are `kinds` (one per output), `chunk` rows at a time:
/// what a trained model predicts on rows outside its training data.
pub fn predict_split(
    model: &Model,
    kinds: &[MetricKind],
    split: &DeviceSplit,
    chunk: usize,
) -> Vec<Vec<f32>> {
    let _g = tch::no_grad_guard();
    let r = model.replicas();
    let t = kinds.len();
    let binary_mask = Tensor::from_slice(
        &kinds
            .iter()
            .map(|k| *k == MetricKind::Binary)
            .collect::<Vec<_>>(),
    )
    .to(model.device())
    .view([1, 1, t as i64]);
    let mut outs = Vec::new();
    for (start, len) in split.chunk_ranges(chunk) {
        let rows = split.chunk(start, len);
        let input = rows.as_input();
        let logits = model
            .forward_eval(&input)
            .unwrap_or_else(|e| panic!("evaluation forward: {e}"));
        let y = logits.sigmoid().where_self(&binary_mask, &logits);
        outs.push(y.to_kind(Kind::Float));
    }
    let all = Tensor::cat(&outs, 1).to(Device::Cpu).contiguous(); // [R, n, T]
    (0..r)
        .map(|i| {
            let v = all.get(i as i64).reshape([-1]);
            Vec::<f32>::try_from(&v).expect("f32 outputs")
        })
        .collect()
}

/// Per replica, the metrics of every task on `split`.
fn evaluate_split(
    model: &Model,
    data: &TrainData,
    split: &DeviceSplit,
    chunk: usize,
) -> Vec<Vec<TaskMetrics>> {
    let outputs = predict(model, data, split, chunk);
    evaluate_many(
        &outputs,
        &split.labels_host,
        data.n_tasks(),
        &data.kinds,
        &data.train_base_rates,
    )
}

/// Per replica, validation and test metrics.
fn evaluate(model: &Model, data: &TrainData, chunk: usize) -> Vec<SplitEval> {
    let valid = evaluate_split(model, data, &data.valid, chunk);
    let test = evaluate_split(model, data, &data.test, chunk);
    valid
        .into_iter()
        .zip(test)
        .map(|(valid, test)| SplitEval { valid, test })
        .collect()
}

/// Every replica's parameters at its best epoch so far: the test set is evaluated once, after
/// training, on these weights (so every epoch evaluates only the validation set).
struct BestWeights {
    /// (parameter, its copy holding each replica's best-epoch values).
    vars: Vec<(Tensor, Tensor)>,
}

impl BestWeights {
    fn new(model: &Model) -> Self {
        let _g = tch::no_grad_guard();
        BestWeights {
            vars: model
                .var_store()
                .variables()
                .into_values()
                .map(|v| {
                    let copy = v.detach().copy();
                    (v, copy)
                })
                .collect(),
        }
    }

    /// Keep the current weights of the replicas that `improved`.
    fn keep(&mut self, improved: &[bool]) {
        let _g = tch::no_grad_guard();
        for (v, best) in &self.vars {
            for (r, _) in improved.iter().enumerate().filter(|(_, i)| **i) {
                best.get(r as i64).copy_(&v.get(r as i64));
            }
        }
    }

    /// Put the kept weights into the model (whose current weights are lost).
    fn restore(&self) {
        let _g = tch::no_grad_guard();
        for (v, best) in &self.vars {
            v.shallow_clone().copy_(best);
        }
    }
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
    for (start, len) in split.chunk_ranges(chunk) {
        let rows = split.chunk(start, len);
        let input = rows.as_input();
        let fused = model
            .fused_expert_weights(&input)
            .map_err(crate::EngineError::Kernel)?;
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

/// How an epoch's validation metrics become the score a run's best epoch maximises.
struct Scoring {
    selection: Selection,
    /// Per task: reported (counted by `mean_valid_normalized_loss`).
    reported: Vec<bool>,
    /// Per task: the variance of the validation labels of a regression task (NaN for a binary
    /// one).
    valid_var: Vec<f64>,
}

impl Scoring {
    fn new(selection: Selection, data: &TrainData) -> Self {
        let t = data.n_tasks();
        let labels = &data.valid.labels_host;
        let n = (labels.len() / t.max(1)).max(1) as f64;
        let valid_var = (0..t)
            .map(|k| match data.kinds[k] {
                MetricKind::Binary => f64::NAN,
                MetricKind::Regression => {
                    let y = || labels.iter().skip(k).step_by(t).map(|&v| f64::from(v));
                    let mean = y().sum::<f64>() / n;
                    y().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n
                }
            })
            .collect();
        Scoring {
            selection,
            reported: data.reported.clone(),
            valid_var,
        }
    }

    /// The score of `e` (higher is better; NaN where it is not defined).
    fn score(&self, e: &SplitEval) -> f64 {
        match self.selection {
            // np.nansum: NaN AUCs count as 0.
            Selection::SumValidAuc => e
                .valid
                .iter()
                .map(|m| if m.auc.is_nan() { 0.0 } else { m.auc })
                .sum(),
            Selection::MeanValidNe => {
                -e.valid.iter().map(|m| m.ne).sum::<f64>() / e.valid.len().max(1) as f64
            }
            Selection::MeanValidNormalizedLoss => {
                let counted: Vec<f64> = e
                    .valid
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| self.reported[*k])
                    .map(|(k, m)| {
                        if self.valid_var[k].is_nan() {
                            m.ne
                        } else {
                            m.loss / self.valid_var[k]
                        }
                    })
                    .collect();
                -counted.iter().sum::<f64>() / counted.len().max(1) as f64
            }
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

/// Each replica's shuffle order: its own ChaCha stream [`SHUFFLE_STREAM`] of its seed.
struct Shuffles(Vec<ChaCha8Rng>);

impl Shuffles {
    fn new(seeds: &[u64]) -> Self {
        Shuffles(
            seeds
                .iter()
                .map(|s| {
                    let mut g = ChaCha8Rng::seed_from_u64(*s);
                    g.set_stream(SHUFFLE_STREAM);
                    g
                })
                .collect(),
        )
    }

    /// The next epoch's row order of every replica, `[R, n]` on `device`.
    fn next_epoch(&mut self, n: usize, device: Device) -> Tensor {
        let r = self.0.len();
        let mut perm: Vec<i64> = Vec::with_capacity(r * n);
        for g in self.0.iter_mut() {
            let mut p: Vec<i64> = (0..n as i64).collect();
            p.shuffle(g);
            perm.extend_from_slice(&p);
        }
        Tensor::from_slice(&perm)
            .view([r as i64, n as i64])
            .to(device)
    }
}

/// The task weights of every replica (fixed, or updated by DWA after each epoch).
struct TaskWeights {
    rule: TaskWeighting,
    current: Vec<Vec<f64>>,
    dwa_history: Vec<Vec<Vec<f64>>>,
}

impl TaskWeights {
    fn new(rule: &TaskWeighting, replicas: usize, tasks: usize) -> Self {
        let fixed: Vec<f64> = match rule {
            TaskWeighting::Fixed { weights } => weights.clone(),
            _ => vec![1.0; tasks],
        };
        TaskWeights {
            rule: rule.clone(),
            current: vec![fixed; replicas],
            dwa_history: vec![Vec::new(); replicas],
        }
    }

    /// The weights as `[R, T]` on `device`.
    fn tensor(&self, device: Device) -> Tensor {
        let (r, t) = (self.current.len(), self.current[0].len());
        let flat: Vec<f32> = self.current.iter().flatten().map(|&w| w as f32).collect();
        Tensor::from_slice(&flat)
            .view([r as i64, t as i64])
            .to(device)
    }

    /// After `epoch`, from the weighted per-task losses of its last batch (`[R, T]` on the CPU).
    fn end_epoch(&mut self, epoch: usize, last_weighted: &Tensor) -> Result<()> {
        if !matches!(self.rule, TaskWeighting::Dwa) {
            return Ok(());
        }
        let t = self.current[0].len();
        let lw = Vec::<f32>::try_from(&last_weighted.reshape([-1]))?;
        for (i, (hist, w)) in self
            .dwa_history
            .iter_mut()
            .zip(self.current.iter_mut())
            .enumerate()
        {
            hist.push((0..t).map(|k| lw[i * t + k] as f64).collect());
            *w = dwa_update(hist, epoch, t);
        }
        Ok(())
    }
}

/// The per-replica weighted task losses of one batch: mean BCE with logits (binary tasks) or
/// mean squared error (regression tasks) over the batch, times the task weights.
struct Losses {
    regression: Tensor,
}

impl Losses {
    fn new(data: &TrainData) -> Self {
        let mask: Vec<bool> = data
            .kinds
            .iter()
            .map(|k| *k == MetricKind::Regression)
            .collect();
        Losses {
            regression: Tensor::from_slice(&mask).to(data.device).view([
                1,
                1,
                data.n_tasks() as i64,
            ]),
        }
    }

    /// `(weighted [R, T], its sum per replica [R])` for logits and labels `[R, B, T]`.
    fn of(&self, logits: &Tensor, y: &Tensor, w: &Tensor) -> (Tensor, Tensor) {
        let bce = logits.binary_cross_entropy_with_logits::<Tensor>(y, None, None, Reduction::None);
        let sq = (logits - y).square();
        let per_task = sq
            .where_self(&self.regression, &bce)
            .mean_dim(1, false, Kind::Float);
        let weighted = &per_task * w; // [R, T]
        let total = weighted.sum_dim_intlist(1, false, Kind::Float); // [R]
        (weighted, total)
    }
}

/// The runs of a group while they train: their outcomes and best scores so far.
struct Runs {
    outcomes: Vec<RunOutcome>,
    best_score: Vec<f64>,
    scoring: Scoring,
}

impl Runs {
    fn new(seeds: &[u64], scoring: Scoring) -> Self {
        Runs {
            scoring,
            outcomes: seeds
                .iter()
                .map(|_| RunOutcome {
                    status: Status::Ok,
                    best_epoch: None,
                    best: None,
                    epochs: Vec::new(),
                    checkpoints: Vec::new(),
                    task_weights: Vec::new(),
                    expert_weights: None,
                })
                .collect(),
            best_score: vec![f64::NEG_INFINITY; seeds.len()],
        }
    }

    /// Records the end of `epoch` of every replica (mean training loss `losses[i]`, evaluation
    /// `evals[i]`): a non-finite loss fails the run; a finished run keeps the epoch if it is
    /// its best by `cfg.selection`. Returns which replicas improved, and the mean loss.
    fn end_epoch(
        &mut self,
        epoch: usize,
        losses: &[f32],
        evals: Vec<SplitEval>,
        cfg: &TrainConfig,
        n: usize,
    ) -> (Vec<bool>, f64) {
        let r = self.outcomes.len();
        let mut mean_loss = 0.0;
        let mut improved = vec![false; r];
        for (i, e) in evals.into_iter().enumerate() {
            let l = losses[i] as f64;
            mean_loss += l / r as f64;
            let o = &mut self.outcomes[i];
            if o.status == Status::Ok && !l.is_finite() {
                o.status = Status::Failed {
                    reason: format!("non-finite training loss ({l}) in epoch {epoch}"),
                };
            }
            let score = self.scoring.score(&e);
            if o.status == Status::Ok && score.is_nan() {
                o.status = Status::Failed {
                    reason: format!("the validation score is NaN in epoch {epoch}"),
                };
            }
            if o.status == Status::Ok && score > self.best_score[i] {
                self.best_score[i] = score;
                o.best_epoch = Some(epoch);
                o.best = Some(e.clone());
                improved[i] = true;
            }
            o.epochs.push(CurvePoint {
                epoch,
                fraction: (epoch + 1) as f64 / cfg.epochs as f64,
                examples: ((epoch + 1) * n) as u64,
                train_loss: Some(l),
                eval: e,
            });
        }
        (improved, mean_loss)
    }

    /// After the last epoch: finished runs that diverged by `cfg.divergence` say so.
    fn classify_divergence(&mut self, cfg: &TrainConfig, kinds: &[MetricKind]) {
        for o in self.outcomes.iter_mut().filter(|o| o.status == Status::Ok) {
            if let Some(reason) = cfg.divergence.check(&o.epochs, kinds) {
                o.status = Status::Diverged { reason };
            }
        }
    }
}

/// What one epoch's training steps leave behind.
struct EpochSteps {
    /// Sum over steps of each replica's loss, `[R]`.
    loss_sum: Tensor,
    /// The weighted per-task losses of the last batch, `[R, T]` on the CPU (for DWA).
    last_weighted: Tensor,
}

/// R replicas of a model with their optimizer, and the training step [`train_group`] runs on
/// every batch: [`Learner::forward`] (gather, forward, weighted task losses),
/// [`Learner::backward`] (autograd, then the input bank's kernel backward),
/// [`Learner::update`] (Adam). Public so that `make bench` times exactly the loop's step.
pub struct Learner {
    model: Model,
    opt: Adam,
    losses: Losses,
}

/// What one batch's forward pass leaves for [`Learner::backward`].
pub struct Forward {
    /// The per-task losses times the task weights, `[R, T]`.
    pub weighted: Tensor,
    /// Their sum per replica, `[R]`: what the step minimises (a loss hook may replace it).
    pub per_replica: Tensor,
    tape: Option<adatt_models::InputTape>,
}

impl Learner {
    /// Replica r of `model_cfg` initialised from `seeds[r]`, with Adam as `cfg` says.
    pub fn new(
        data: &TrainData,
        model_cfg: &ModelConfig,
        cfg: &TrainConfig,
        seeds: &[u64],
    ) -> Result<Self> {
        let model = match &data.embeddings {
            None => Model::new(model_cfg, &data.spec, seeds, data.device),
            Some((tables, n_dense)) => Model::with_embeddings(
                model_cfg,
                tables,
                *n_dense,
                data.spec.n_tasks,
                seeds,
                data.device,
            ),
        }
        .map_err(|source| adatt_spec::SpecError::Model {
            entry: model_cfg.label(),
            source,
        })?;
        let opt = Adam::new(
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
        Ok(Learner {
            model,
            opt,
            losses: Losses::new(data),
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The model, its optimizer dropped.
    pub fn into_model(self) -> Model {
        self.model
    }

    /// The forward pass on rows `idx` (`[R, B]`) of `split` with task weights `w` (`[R, T]`).
    pub fn forward(&self, split: &DeviceSplit, idx: &Tensor, w: &Tensor) -> Result<Forward> {
        let (rows, y) = split.gather(idx);
        self.forward_rows(&rows, &y, w)
    }

    /// The forward pass on `rows` with labels `y` (`[R or 1, B, T]`) and task weights `w`.
    pub fn forward_rows(&self, rows: &InputRows, y: &Tensor, w: &Tensor) -> Result<Forward> {
        let input = rows.as_input();
        let (logits, tape) = self
            .model
            .forward_train(&input)
            .map_err(crate::EngineError::Kernel)?;
        let (weighted, per_replica) = self.losses.of(&logits, &y.expand_as(&logits), w);
        Ok(Forward {
            weighted,
            per_replica,
            tape,
        })
    }

    /// The gradients of `f.per_replica` summed over replicas (replacing the previous ones).
    pub fn backward(&mut self, f: Forward) -> Result<()> {
        self.opt.zero_grad();
        f.per_replica.sum(Kind::Float).backward();
        if let Some(tape) = f.tape {
            self.model
                .backward_input(tape)
                .map_err(crate::EngineError::Kernel)?;
        }
        Ok(())
    }

    /// Sets the learning rate of the next updates.
    pub fn set_lr(&mut self, lr: f64) {
        self.opt.set_lr(lr);
    }

    /// One Adam step with the current gradients.
    pub fn update(&mut self) -> Result<()> {
        self.opt.step()
    }

    /// The model and its optimizer (what a snapshot saves).
    pub(crate) fn parts(&self) -> (&Model, &Adam) {
        (&self.model, &self.opt)
    }

    /// [`Learner::parts`], to restore them.
    pub(crate) fn parts_mut(&mut self) -> (&mut Model, &mut Adam) {
        (&mut self.model, &mut self.opt)
    }
}

/// Where a group's snapshots go while it trains, and when the last one was taken.
struct Snapshotting<'s> {
    store: &'s mut dyn SnapshotStore,
    identity: Identity,
    every: Duration,
    last: Instant,
}

/// One group's training: the learner and what the loop needs between steps.
struct GroupTraining<'a, 's> {
    data: &'a TrainData,
    cfg: &'a TrainConfig,
    learner: Learner,
    schedule: Schedule,
    global_step: usize,
    next_ckpt: usize,
    /// When this process started the group, and the seconds spent on it before (a resumed
    /// snapshot's).
    started: Instant,
    before_s: f64,
    /// The replicas' loss summed over the steps a resumed snapshot had taken, `[R]`.
    resumed_loss: Option<Tensor>,
    snapshots: Option<Snapshotting<'s>>,
}

impl GroupTraining<'_, '_> {
    /// The training steps of `epoch` with task weights `w`: over `perm` (`[R, n]`) for a table,
    /// in stream order for a stream. Checkpoint evaluations that fall in it go into `runs`.
    fn epoch_steps(
        &mut self,
        epoch: usize,
        perm: Option<&Tensor>,
        w: &Tensor,
        runs: &mut Runs,
        progress: &mut dyn Progress,
        loss_hook: &mut Option<LossHook<'_>>,
    ) -> Result<EpochSteps> {
        let (data, bs) = (self.data, self.schedule.batch_size);
        // The step in `epoch` training starts at: past a resumed snapshot's steps.
        let first = self.global_step - epoch * self.schedule.steps_per_epoch;
        match (&data.train, perm) {
            (TrainRows::Table(table), Some(perm)) => {
                let n = table.n as i64;
                let mut batch = |step: usize| {
                    let start = (step * bs) as i64;
                    let idx = perm.narrow(1, start, (bs as i64).min(n - start));
                    table.gather(&idx)
                };
                self.steps((epoch, first), &mut batch, w, runs, progress, loss_hook)
            }
            (TrainRows::Stream(stream), _) => std::thread::scope(|scope| {
                let rx = stream.generate(scope, bs, first * bs);
                let mut batch = |_| stream.receive(&rx, data.device);
                self.steps((epoch, first), &mut batch, w, runs, progress, loss_hook)
            }),
            (TrainRows::Table(_), None) => unreachable!("a table is read in a shuffled order"),
        }
    }

    /// The steps `first..` of `epoch` on the batches `batch(step)` gives.
    fn steps(
        &mut self,
        (epoch, first): (usize, usize),
        batch: &mut dyn FnMut(usize) -> (InputRows, Tensor),
        w: &Tensor,
        runs: &mut Runs,
        progress: &mut dyn Progress,
        loss_hook: &mut Option<LossHook<'_>>,
    ) -> Result<EpochSteps> {
        let (r, steps) = (runs.outcomes.len(), self.schedule.steps_per_epoch);
        let mut loss_sum = self
            .resumed_loss
            .take()
            .unwrap_or_else(|| Tensor::zeros([r as i64], (Kind::Float, self.data.device)));
        let mut last_weighted = None;
        for step in first..steps {
            let (rows, y) = batch(step);
            let mut f = self.learner.forward_rows(&rows, &y, w)?;
            if let Some(h) = loss_hook.as_mut() {
                if let Some(l) = h(self.learner.model(), self.global_step, &f.per_replica) {
                    f.per_replica = l;
                }
            }
            let loss_r = f.per_replica.detach();
            if step + 1 == steps {
                last_weighted = Some(f.weighted.detach().to(Device::Cpu));
            }
            self.learner.backward(f)?;
            if !self.cfg.lr_schedule.is_default() {
                let factor = self
                    .cfg
                    .lr_schedule
                    .factor(self.global_step, self.schedule.total_steps);
                self.learner.set_lr(self.cfg.lr * factor);
            }
            self.learner.update()?;
            loss_sum += loss_r;
            self.global_step += 1;
            progress.step(epoch, step, steps);
            self.checkpoints(epoch, step, runs);
            self.snapshot_if_due(runs, &loss_sum)?;
        }
        Ok(EpochSteps {
            loss_sum,
            last_weighted: last_weighted.expect("at least one step"),
        })
    }

    /// Runs the checkpoint evaluations due after global step `self.global_step`.
    fn checkpoints(&mut self, epoch: usize, step: usize, runs: &mut Runs) {
        let (n, bs) = (self.data.train.n(), self.schedule.batch_size);
        let ckpts = &self.schedule.checkpoints;
        while self.next_ckpt < ckpts.len() && ckpts[self.next_ckpt].0 == self.global_step {
            let f = ckpts[self.next_ckpt].1;
            for (i, e) in evaluate(self.learner.model(), self.data, self.data.eval_batch)
                .into_iter()
                .enumerate()
            {
                runs.outcomes[i].checkpoints.push(CurvePoint {
                    epoch,
                    fraction: f,
                    examples: (epoch * n + ((step + 1) * bs).min(n)) as u64,
                    train_loss: None,
                    eval: e,
                });
            }
            self.next_ckpt += 1;
        }
    }
}

impl GroupTraining<'_, '_> {
    /// Seconds spent on the group, in this process and before it.
    fn elapsed_s(&self) -> f64 {
        self.before_s + self.started.elapsed().as_secs_f64()
    }

    /// Saves the group's state if the store's interval has passed since the last save (never
    /// after the last step: the group then ends and is recorded).
    fn snapshot_if_due(&mut self, runs: &Runs, loss_sum: &Tensor) -> Result<()> {
        let elapsed_s = self.elapsed_s();
        let Some(s) = self.snapshots.as_mut() else {
            return Ok(());
        };
        if s.last.elapsed() < s.every || self.global_step >= self.schedule.total_steps {
            return Ok(());
        }
        let position = Position::at(
            s.identity.clone(),
            self.global_step,
            self.next_ckpt,
            elapsed_s,
            runs.outcomes
                .iter()
                .map(|o| o.checkpoints.clone())
                .collect(),
        );
        let bytes = crate::snapshot::encode(&position, self.learner.parts(), loss_sum)?;
        s.store.save(self.global_step, &bytes)?;
        s.last = Instant::now();
        Ok(())
    }
}

/// Continues `g` from the snapshot `store` holds for its group, if there is one of this run,
/// and keeps the store for the next saves.
fn resume<'s>(
    g: &mut GroupTraining<'_, 's>,
    runs: &mut Runs,
    seeds: &[u64],
    model_cfg: &ModelConfig,
    store: &'s mut dyn SnapshotStore,
) -> Result<()> {
    let identity = Identity::new(
        seeds,
        model_cfg,
        g.cfg,
        (g.schedule.total_steps, g.schedule.batch_size),
        store.origin(),
    )?;
    let saved = match store.load()? {
        Some(bytes) => crate::snapshot::decode(&bytes, &identity)?,
        None => None,
    };
    if let Some(snap) = saved {
        let p = &snap.position;
        if p.global_step >= g.schedule.total_steps
            || p.next_ckpt > g.schedule.checkpoints.len()
            || p.checkpoints.len() != runs.outcomes.len()
        {
            return Err(crate::EngineError::Snapshot(format!(
                "it stands at step {} and checkpoint {}, of {} steps and {} checkpoints",
                p.global_step,
                p.next_ckpt,
                g.schedule.total_steps,
                g.schedule.checkpoints.len()
            )));
        }
        snap.restore(g.learner.parts_mut())?;
        tracing::info!(
            step = p.global_step,
            steps = g.schedule.total_steps,
            "resuming the group from its snapshot"
        );
        g.global_step = p.global_step;
        g.next_ckpt = p.next_ckpt;
        g.before_s = p.elapsed_s;
        for (o, c) in runs.outcomes.iter_mut().zip(&snap.position.checkpoints) {
            o.checkpoints = c.clone();
        }
        g.resumed_loss = Some(snap.loss_sum.to(g.data.device));
    }
    g.snapshots = Some(Snapshotting {
        every: store.every(),
        store,
        identity,
        last: Instant::now(),
    });
    Ok(())
}

/// Train R replicas of `model_cfg` (one per seed) on `data` and evaluate them. `loss_hook`
/// may replace each step's per-replica losses `[R]` (given the model and the global step):
/// a model-specific extra loss term adds to them; tests inject non-finite values.
pub fn train_group(
    data: &TrainData,
    model_cfg: &ModelConfig,
    cfg: &TrainConfig,
    seeds: &[u64],
    progress: &mut dyn Progress,
    loss_hook: Option<LossHook<'_>>,
) -> Result<GroupOutcome> {
    train_group_model(data, model_cfg, cfg, seeds, progress, loss_hook, None).map(|(out, _)| out)
}

/// [`train_group`], also giving the trained model: each replica holds its best epoch's
/// weights, those its test metrics were evaluated on. With `snapshots`, a one-pass stream
/// (`epochs = 1`) continues from the store's snapshot of this group if it has one, and saves
/// its state there as it trains (module [`crate::snapshot`]); other runs ignore it.
pub fn train_group_model(
    data: &TrainData,
    model_cfg: &ModelConfig,
    cfg: &TrainConfig,
    seeds: &[u64],
    progress: &mut dyn Progress,
    mut loss_hook: Option<LossHook<'_>>,
    snapshots: Option<&mut dyn SnapshotStore>,
) -> Result<(GroupOutcome, Model)> {
    let device = data.device;
    let n = data.train.n();
    let mut g = GroupTraining {
        data,
        cfg,
        started: Instant::now(),
        learner: Learner::new(data, model_cfg, cfg, seeds)?,
        schedule: Schedule::new(n, cfg)?,
        global_step: 0,
        next_ckpt: 0,
        before_s: 0.0,
        resumed_loss: None,
        snapshots: None,
    };
    let mut shuffles = Shuffles::new(seeds);
    let mut weights = TaskWeights::new(&cfg.task_weighting, seeds.len(), data.n_tasks());
    let mut runs = Runs::new(seeds, Scoring::new(cfg.selection, data));
    let one_pass_stream = data.train.table().is_none() && cfg.epochs == 1;
    if let (Some(store), true) = (snapshots, one_pass_stream) {
        resume(&mut g, &mut runs, seeds, model_cfg, store)?;
    }
    let mut best_weights = BestWeights::new(g.learner.model());
    for epoch in 0..cfg.epochs {
        let perm = data.train.table().map(|_| shuffles.next_epoch(n, device));
        let w = weights.tensor(device);
        for (o, wr) in runs.outcomes.iter_mut().zip(&weights.current) {
            o.task_weights.push(wr.clone());
        }
        let epoch_start = Instant::now();
        let done = g.epoch_steps(
            epoch,
            perm.as_ref(),
            &w,
            &mut runs,
            progress,
            &mut loss_hook,
        )?;
        let losses = Vec::<f32>::try_from(
            &(done.loss_sum / g.schedule.steps_per_epoch as f64).to(Device::Cpu),
        )?;
        let train_s = epoch_start.elapsed().as_secs_f64();
        let eval_start = Instant::now();
        let evals = evaluate_split(g.learner.model(), data, &data.valid, data.eval_batch)
            .into_iter()
            .map(|valid| SplitEval {
                valid,
                test: Vec::new(),
            })
            .collect();
        let eval_s = eval_start.elapsed().as_secs_f64();
        let (improved, mean_loss) = runs.end_epoch(epoch, &losses, evals, g.cfg, n);
        best_weights.keep(&improved);
        if cfg.record_expert_weights && improved.contains(&true) {
            let w = mean_fused_weights(g.learner.model(), &data.test, data.eval_batch)?;
            for (i, w) in w.into_iter().enumerate().filter(|(i, _)| improved[*i]) {
                runs.outcomes[i].expert_weights = Some(w);
            }
        }
        progress.epoch(epoch, mean_loss, train_s, eval_s);
        weights.end_epoch(epoch, &done.last_weighted)?;
    }
    best_weights.restore();
    let test = evaluate_split(g.learner.model(), data, &data.test, data.eval_batch);
    for (o, t) in runs.outcomes.iter_mut().zip(test) {
        if let Some(best) = o.best.as_mut() {
            best.test = t;
        }
    }
    runs.classify_divergence(cfg, &data.kinds);
    let out = GroupOutcome {
        runs: runs.outcomes,
        wall_s: g.elapsed_s(),
        examples_per_replica: (n * cfg.epochs) as u64,
    };
    Ok((out, g.learner.into_model()))
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

    /// A NaN validation score never makes a best epoch: the run fails, saying so, and keeps
    /// no best epoch (a one-class validation set gives NaN NE under `mean_valid_ne`).
    #[test]
    fn a_nan_validation_score_fails_the_run_instead_of_picking_an_epoch() {
        let cfg: TrainConfig =
            toml::from_str("batch_size = 8\nepochs = 2\nlr = 1e-3\nselection = \"mean_valid_ne\"")
                .unwrap();
        let m = |ne: f64| TaskMetrics {
            auc: 0.7,
            ne,
            loss: 0.5,
        };
        let eval = |ne: f64| SplitEval {
            valid: vec![m(0.9), m(ne)],
            test: Vec::new(),
        };
        let scoring = Scoring {
            selection: cfg.selection,
            reported: vec![true; 2],
            valid_var: vec![f64::NAN; 2],
        };
        let mut runs = Runs::new(&[0, 1], scoring);
        let (improved, _) =
            runs.end_epoch(0, &[0.5, 0.5], vec![eval(f64::NAN), eval(0.8)], &cfg, 8);
        assert_eq!(improved, vec![false, true]);
        let (improved, _) = runs.end_epoch(1, &[0.5, 0.5], vec![eval(0.7), eval(0.9)], &cfg, 8);
        assert_eq!(improved, vec![false, false]);
        assert_eq!(runs.outcomes[0].best_epoch, None);
        assert_eq!(
            runs.outcomes[0].status,
            Status::Failed {
                reason: "the validation score is NaN in epoch 0".into()
            }
        );
        assert_eq!(
            (runs.outcomes[1].status.clone(), runs.outcomes[1].best_epoch),
            (Status::Ok, Some(0))
        );
    }

    /// `mean_valid_normalized_loss` weighs the regression task by its MSE over the validation
    /// label variance and leaves the auxiliary task out: epoch 0 scores −(0.90 + 2.0/4)/2 =
    /// −0.70, epoch 1 −(0.88 + 2.8/4)/2 = −0.79, so epoch 0 is kept, where AUC (higher in
    /// epoch 1) or a mean that counted the auxiliary task (−0.633 against −0.560) would keep
    /// epoch 1.
    #[test]
    fn the_normalized_loss_criterion_weighs_regression_and_skips_auxiliary_tasks() {
        let cfg: TrainConfig = toml::from_str(
            "batch_size = 8\nepochs = 2\nlr = 1e-3\nselection = \"mean_valid_normalized_loss\"",
        )
        .unwrap();
        let m = |auc: f64, ne: f64, loss: f64| TaskMetrics { auc, ne, loss };
        let eval = |v: Vec<TaskMetrics>| SplitEval {
            valid: v,
            test: Vec::new(),
        };
        let scoring = Scoring {
            selection: cfg.selection,
            reported: vec![true, true, false],
            valid_var: vec![f64::NAN, 4.0, f64::NAN],
        };
        let mut runs = Runs::new(&[0], scoring);
        let e0 = vec![
            m(0.70, 0.90, 0.4),
            m(f64::NAN, f64::NAN, 2.0),
            m(0.6, 0.5, 0.3),
        ];
        let e1 = vec![
            m(0.72, 0.88, 0.39),
            m(f64::NAN, f64::NAN, 2.8),
            m(0.9, 0.1, 0.1),
        ];
        assert_eq!(runs.end_epoch(0, &[0.5], vec![eval(e0)], &cfg, 8).0, [true]);
        assert_eq!(
            runs.end_epoch(1, &[0.5], vec![eval(e1)], &cfg, 8).0,
            [false]
        );
        assert_eq!(runs.outcomes[0].best_epoch, Some(0));
        assert!(
            (runs.best_score[0] + 0.70).abs() < 1e-12,
            "{}",
            runs.best_score[0]
        );
    }

    #[test]
    fn dwa_clamps_small_previous_losses() {
        let h = vec![vec![0.001, 1.0], vec![1.0, 1.0]];
        let w = dwa_update(&h, 5, 2);
        // ratio of task 0 is 1.0/0.01 = 100 -> weight clipped at 1.5, task 1 at the lower clip
        assert_eq!(w, vec![1.5, 0.5]);
    }
}
