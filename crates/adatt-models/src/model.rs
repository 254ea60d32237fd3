//! [`Model`]: an architecture with `R` independent replicas batched in every tensor.

use std::collections::HashMap;

use tch::{nn, Device, Tensor};

use crate::arch::{Body, Built};
use crate::bank::{InputBank, ModelInput};
use crate::config::ModelConfig;
use crate::embed::Embeddings;
use crate::error::ModelError;
use crate::params::{draw_init, read_slice, write_slice, Builder, Entry};
use crate::spec::{EmbeddingSpec, InputSpec};
use crate::towers::Towers;

/// What [`Model::backward_input`] needs from a [`Model::forward_train`] call.
pub struct InputTape {
    y0: Tensor,
    numeric: Tensor,
    active: Tensor,
}

/// A multi-task model with `R = seeds.len()` replicas (see the crate docs for the layout).
pub struct Model {
    cfg: ModelConfig,
    spec: InputSpec,
    seeds: Vec<u64>,
    device: Device,
    vs: nn::VarStore,
    /// The embedding tables in front of the input bank (id input only).
    embed: Option<Embeddings>,
    input: InputBank,
    body: Box<dyn Body>,
    towers: Towers,
    entries: Vec<Entry>,
}

impl Model {
    /// Builds the model on `device` with one replica per seed; replica `r` is initialised from
    /// `ChaCha8Rng::seed_from_u64(seeds[r])` (see the crate docs for the exact definition).
    pub fn new(
        cfg: &ModelConfig,
        spec: &InputSpec,
        seeds: &[u64],
        device: Device,
    ) -> Result<Model, ModelError> {
        Model::build(cfg, spec, None, seeds, device)
    }

    /// A model on id features: the tables of `embeddings` (one per categorical feature, see
    /// `embed`) concatenated with `n_dense` dense features form the raw input of the
    /// architecture; inputs are [`ModelInput::Ids`]. The tables' parameters come first in the
    /// official order (`embeddings.{f}.weight`) and are drawn N(0, 1) like `nn.Embedding`.
    pub fn with_embeddings(
        cfg: &ModelConfig,
        embeddings: &[EmbeddingSpec],
        n_dense: usize,
        n_tasks: usize,
        seeds: &[u64],
        device: Device,
    ) -> Result<Model, ModelError> {
        for (f, e) in embeddings.iter().enumerate() {
            if e.cardinality == 0 || e.dim == 0 {
                return Err(ModelError::Spec {
                    field: format!("embeddings[{f}]"),
                    msg: format!(
                        "cardinality and dim must be at least 1, got {} and {}",
                        e.cardinality, e.dim
                    ),
                });
            }
        }
        let spec = InputSpec::dense(Embeddings::width(embeddings, n_dense), n_tasks);
        Model::build(cfg, &spec, Some((embeddings, n_dense)), seeds, device)
    }

    fn build(
        cfg: &ModelConfig,
        spec: &InputSpec,
        embeddings: Option<(&[EmbeddingSpec], usize)>,
        seeds: &[u64],
        device: Device,
    ) -> Result<Model, ModelError> {
        cfg.validate(spec.n_tasks)?;
        spec.validate()?;
        if seeds.is_empty() {
            return Err(ModelError::NoSeeds);
        }
        let vs = nn::VarStore::new(device);
        let (embed, input, body, towers, entries) = {
            let mut b = Builder::new(vs.root(), seeds.len() as i64);
            let embed = embeddings.map(|(e, n_dense)| Embeddings::new(&mut b, e, n_dense));
            let Built { input, body, width } = cfg.arch().build(&mut b, spec);
            let towers = Towers::new(&mut b, spec.n_tasks as i64, width, cfg.tower());
            (embed, input, body, towers, b.entries)
        };
        let model = Model {
            cfg: cfg.clone(),
            spec: spec.clone(),
            seeds: seeds.to_vec(),
            device,
            vs,
            embed,
            input,
            body,
            towers,
            entries,
        };
        for (r, &seed) in seeds.iter().enumerate() {
            for (e, v) in model.entries.iter().zip(draw_init(&model.entries, seed)) {
                write_slice(e, r as i64, &v);
            }
        }
        Ok(model)
    }

    /// The input bank's pre-activations for `x` (through the embedding tables for id input).
    fn bank_input(&self, x: &ModelInput) -> Result<Tensor, ModelError> {
        match (x, &self.embed) {
            (ModelInput::Ids { ids, dense }, Some(e)) => {
                let raw = e.forward(ids, dense)?;
                self.input.forward(&ModelInput::Dense(&raw))
            }
            (_, Some(_)) => Err(ModelError::Input(
                "a model with embedding tables takes id input (ModelInput::Ids)".into(),
            )),
            (_, None) => self.input.forward(x),
        }
    }

    pub fn replicas(&self) -> usize {
        self.seeds.len()
    }

    pub fn seeds(&self) -> &[u64] {
        &self.seeds
    }

    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    pub fn spec(&self) -> &InputSpec {
        &self.spec
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// Logits `[R, B, T]`. Inputs with a leading dim of 1 are shared by all replicas.
    ///
    /// Panics on inputs of the wrong shape, kind or device; see [`Model::f_forward`].
    pub fn forward(&self, x: &ModelInput) -> Tensor {
        self.f_forward(x)
            .unwrap_or_else(|e| panic!("Model::forward: {e}"))
    }

    /// [`Model::forward`] returning an error for bad inputs.
    pub fn f_forward(&self, x: &ModelInput) -> Result<Tensor, ModelError> {
        let y0 = self.bank_input(x)?;
        Ok(self.head(&y0))
    }

    /// Logits from the input bank's pre-activations `y0 [R, B, O]`: body, then towers.
    fn head(&self, y0: &Tensor) -> Tensor {
        self.towers.forward(&self.body.forward(y0, None))
    }

    /// Logits for training, plus the tape that [`Model::backward_input`] needs after
    /// `loss.backward()`. With sparse input on the CPU the input bank runs outside autograd
    /// (see the crate docs): without the `backward_input` call its variables get no gradient.
    /// Otherwise this is [`Model::f_forward`] and the tape is `None`.
    pub fn forward_train(&self, x: &ModelInput) -> Result<(Tensor, Option<InputTape>), ModelError> {
        match x {
            ModelInput::Sparse { numeric, active } if self.input.kernel_applies(x) => {
                let y0 = self
                    .input
                    .forward_kernel(numeric, active)?
                    .set_requires_grad(true);
                let logits = self.head(&y0);
                let tape = InputTape {
                    y0,
                    numeric: numeric.shallow_clone(),
                    active: active.shallow_clone(),
                };
                Ok((logits, Some(tape)))
            }
            _ => Ok((self.f_forward(x)?, None)),
        }
    }

    /// Completes the backward pass of [`Model::forward_train`]: accumulates the input bank's
    /// weight and bias gradients from the tape's output gradient. Call after `loss.backward()`.
    pub fn backward_input(&self, tape: InputTape) -> Result<(), ModelError> {
        let g = tape.y0.grad();
        if !g.defined() {
            return Err(ModelError::Input(
                "backward_input before backward: the tape's output has no gradient".into(),
            ));
        }
        self.input.backward_kernel(&g, &tape.numeric, &tape.active)
    }

    /// Logits without gradients (evaluation); uses the sparse CPU kernel where it applies.
    pub fn forward_eval(&self, x: &ModelInput) -> Result<Tensor, ModelError> {
        let _g = tch::no_grad_guard();
        match x {
            ModelInput::Sparse { numeric, active } if self.input.kernel_applies(x) => {
                let y0 = self.input.forward_kernel(numeric, active)?;
                Ok(self.head(&y0))
            }
            _ => self.f_forward(x),
        }
    }

    /// AdaTT / AdaTT-sp only: per fusion level the fused expert weights `[R, B, units, experts]`
    /// = NativeExpertLF weight + gate (the paper's Figure 3); units are the T tasks (plus the
    /// shared unit at non-final AdaTT levels), experts in official order.
    pub fn fused_expert_weights(&self, x: &ModelInput) -> Result<Vec<Tensor>, ModelError> {
        if !self.cfg.is_adatt() {
            return Err(ModelError::Unsupported(format!(
                "fused expert weights exist only for AdaTT / AdaTT-sp, not {}",
                self.cfg.label()
            )));
        }
        let y0 = self.bank_input(x)?;
        let mut fused = Vec::new();
        let _ = self.body.forward(&y0, Some(&mut fused));
        Ok(fused)
    }

    /// All trainable parameters (each with a leading replica dim).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    fn check_replica(&self, r: usize) -> Result<(), ModelError> {
        if r >= self.replicas() {
            return Err(ModelError::Replica {
                r,
                replicas: self.replicas(),
            });
        }
        Ok(())
    }

    /// Replica `r`'s parameters with official names and shapes, as CPU f32 copies, in
    /// `state_dict` order. Panics if `r >= replicas()`.
    pub fn export_replica(&self, r: usize) -> Vec<(String, Tensor)> {
        if let Err(e) = self.check_replica(r) {
            panic!("Model::export_replica: {e}");
        }
        self.entries
            .iter()
            .map(|e| (e.name.clone(), read_slice(e, r as i64)))
            .collect()
    }

    /// Overwrites replica `r` with official-named tensors; every official name must be present
    /// exactly once with its exact shape, and no other name may appear. Nothing is written on
    /// error.
    pub fn import_replica(
        &mut self,
        r: usize,
        named: &[(String, Tensor)],
    ) -> Result<(), ModelError> {
        self.check_replica(r)?;
        let mut by_name: HashMap<&str, &Tensor> = HashMap::with_capacity(named.len());
        for (name, t) in named {
            if by_name.insert(name.as_str(), t).is_some() {
                return Err(ModelError::Param {
                    key: name.clone(),
                    msg: "given twice".into(),
                });
            }
        }
        for e in &self.entries {
            let t = by_name
                .remove(e.name.as_str())
                .ok_or_else(|| ModelError::Param {
                    key: e.name.clone(),
                    msg: format!("missing (expected shape {:?})", e.shape),
                })?;
            if t.size() != e.shape {
                return Err(ModelError::Param {
                    key: e.name.clone(),
                    msg: format!("shape {:?}, expected {:?}", t.size(), e.shape),
                });
            }
            if !t.is_floating_point() {
                return Err(ModelError::Param {
                    key: e.name.clone(),
                    msg: format!("kind {:?} is not floating point", t.kind()),
                });
            }
        }
        if let Some(extra) = named.iter().find(|(n, _)| by_name.contains_key(n.as_str())) {
            return Err(ModelError::Param {
                key: extra.0.clone(),
                msg: format!("not a parameter of {}", self.cfg.label()),
            });
        }
        let lookup: HashMap<&str, &Tensor> = named.iter().map(|(n, t)| (n.as_str(), t)).collect();
        for e in &self.entries {
            write_slice(e, r as i64, lookup[e.name.as_str()]);
        }
        Ok(())
    }

    /// Number of scalar parameters of one replica (= the PyTorch `state_dict` numel).
    pub fn params_per_replica(&self) -> usize {
        self.entries.iter().map(Entry::numel).sum()
    }

    /// Official names and shapes, in `state_dict` order.
    pub fn official_param_names(&self) -> Vec<(String, Vec<i64>)> {
        self.entries
            .iter()
            .map(|e| (e.name.clone(), e.shape.clone()))
            .collect()
    }
}
