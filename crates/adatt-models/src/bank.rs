//! Batched building blocks: a *bank* of linear units with a leading replica dim, stacks of banks
//! with ReLU, and the level-0 input bank (dense and sparse first layer). Their variables are
//! created, and their slices named after the official parameters, by `params::Builder`.

use tch::{Device, Kind, Tensor};

use crate::error::ModelError;

/// `U` independent linear units for `R` replicas: weight `[R, U, in, out]`, bias `[R, U, out]`.
///
/// `forward(x [R|1, U|1, B, in]) = x.matmul(W) + b.unsqueeze(2)`, shape `[R, U, B, out]`.
pub(crate) struct Bank {
    pub w: Tensor,
    pub b: Tensor,
    pub inp: i64,
}

impl Bank {
    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.matmul(&self.w) + self.b.unsqueeze(2)
    }
}

/// Consecutive banks with the same number of units, each followed by ReLU (the layers after the
/// first one of every expert / MLP of a level).
pub(crate) struct Stack {
    pub banks: Vec<Bank>,
}

impl Stack {
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = x.shallow_clone();
        for bank in &self.banks {
            h = bank.forward(&h).relu();
        }
        h
    }
}

/// Input of a forward pass (see [`crate::Model::forward`]).
pub enum ModelInput<'a> {
    /// f32 `[R or 1, B, D]`.
    Dense(&'a Tensor),
    /// f32 `[R or 1, B, n_num]` numeric values (in `InputSpec::numeric_cols` order) and i64
    /// `[R or 1, B, n_cat]` active one-hot column (an index into the D dense columns, or -1).
    Sparse {
        numeric: &'a Tensor,
        active: &'a Tensor,
    },
    /// i64 `[R or 1, B, F]` categorical ids and f32 `[R or 1, B, Dd]` dense features, for a
    /// model with embedding tables ([`crate::Model::with_embeddings`]).
    Ids { ids: &'a Tensor, dense: &'a Tensor },
}

/// The level-0 bank: one unit (`[R, 1, D, O]`) holding, side by side in its columns, the first
/// layer of every module that reads the raw input.
pub(crate) struct InputBank {
    pub bank: Bank,
    replicas: i64,
    n_features: i64,
    numeric_cols: Tensor,
    numeric_cols_host: Vec<usize>,
    n_num: i64,
    n_cat: i64,
    /// `r * D` per replica, `[R, 1, 1]` (index offsets into the replica-flattened weight).
    replica_offsets: Tensor,
}

pub(crate) fn check_lead(
    t: &Tensor,
    what: &str,
    r: i64,
    last: i64,
    kind: Kind,
) -> Result<i64, ModelError> {
    let s = t.size();
    if s.len() != 3 || (s[0] != r && s[0] != 1) || s[2] != last {
        return Err(ModelError::Input(format!(
            "{what} must have shape [{r} or 1, B, {last}], got {s:?}"
        )));
    }
    if t.kind() != kind {
        return Err(ModelError::Input(format!(
            "{what} must be {kind:?}, got {:?}",
            t.kind()
        )));
    }
    Ok(s[1])
}

impl InputBank {
    /// The input bank over `bank` (one unit, `[R, 1, D, O]`) for an input whose columns
    /// `numeric_cols` are numeric and the others one-hot columns of `n_cat` groups.
    pub fn new(bank: Bank, numeric_cols: &[usize], n_cat: usize) -> InputBank {
        let r = bank.w.size()[0];
        let d = bank.inp;
        let dev = bank.w.device();
        let cols: Vec<i64> = numeric_cols.iter().map(|&c| c as i64).collect();
        InputBank {
            bank,
            replicas: r,
            n_features: d,
            numeric_cols: Tensor::from_slice(&cols).to_device(dev),
            numeric_cols_host: numeric_cols.to_vec(),
            n_num: cols.len() as i64,
            n_cat: n_cat as i64,
            replica_offsets: (Tensor::arange(r, (Kind::Int64, dev)) * d).view([r, 1, 1]),
        }
    }

    fn check_device(&self, t: &Tensor, what: &str) -> Result<(), ModelError> {
        let dev: Device = self.bank.w.device();
        if t.device() != dev {
            return Err(ModelError::Input(format!(
                "{what} is on {:?}, the model on {dev:?}",
                t.device()
            )));
        }
        Ok(())
    }

    /// Shapes, kinds and device of a sparse input; returns the batch size.
    fn check_sparse(&self, numeric: &Tensor, active: &Tensor) -> Result<i64, ModelError> {
        let r = self.replicas;
        let bn = check_lead(numeric, "numeric input", r, self.n_num, Kind::Float)?;
        let ba = check_lead(active, "active input", r, self.n_cat, Kind::Int64)?;
        self.check_device(numeric, "numeric input")?;
        self.check_device(active, "active input")?;
        if bn != ba {
            return Err(ModelError::Input(format!(
                "numeric batch {bn} != active batch {ba}"
            )));
        }
        Ok(bn)
    }

    /// `[R, B, O]` pre-activations of the level-0 bank.
    pub fn forward(&self, x: &ModelInput) -> Result<Tensor, ModelError> {
        let r = self.replicas;
        let w = self.bank.w.squeeze_dim(1); // [R, D, O]
        let b = self.bank.b.shallow_clone(); // [R, 1, O]
        match x {
            ModelInput::Ids { .. } => Err(ModelError::Input(
                "id input needs a model with embedding tables (Model::with_embeddings)".into(),
            )),
            ModelInput::Dense(x) => {
                check_lead(x, "dense input", r, self.n_features, Kind::Float)?;
                self.check_device(x, "dense input")?;
                Ok(x.matmul(&w) + b)
            }
            ModelInput::Sparse { numeric, active } => {
                let batch = self.check_sparse(numeric, active)?;
                let out = w.size()[2];
                // out-of-place sums only: `b` is the bias variable itself
                let mut terms: Vec<Tensor> = Vec::with_capacity(2);
                if self.n_num > 0 {
                    terms.push(numeric.matmul(&w.index_select(1, &self.numeric_cols)));
                }
                if self.n_cat > 0 {
                    let act = active.expand([r, batch, self.n_cat], false);
                    let weights = act.ge(0).to_kind(Kind::Float).reshape([-1]);
                    let idx = (act.clamp_min(0) + &self.replica_offsets).reshape([-1]);
                    let offsets = Tensor::arange_start_step(
                        0,
                        r * batch * self.n_cat,
                        self.n_cat,
                        (Kind::Int64, idx.device()),
                    );
                    let (bags, _, _, _) = Tensor::embedding_bag(
                        &w.reshape([r * self.n_features, out]),
                        &idx,
                        &offsets,
                        false,
                        0, // mode sum
                        false,
                        Some(&weights),
                        false,
                    );
                    terms.push(bags.view([r, batch, out]));
                }
                let y = terms.into_iter().fold(b, |acc, t| acc + t);
                Ok(y.expand([r, batch, out], false))
            }
        }
    }
}

impl InputBank {
    /// Whether [`InputBank::forward_kernel`] applies: sparse input on the CPU.
    pub fn kernel_applies(&self, x: &ModelInput) -> bool {
        matches!(x, ModelInput::Sparse { .. }) && self.bank.w.device() == Device::Cpu
    }

    /// The sparse CPU kernel's forward ([`crate::kernels::sparse`]): `[R, B, O]`, outside autograd.
    pub fn forward_kernel(&self, numeric: &Tensor, active: &Tensor) -> Result<Tensor, ModelError> {
        self.check_sparse(numeric, active)?;
        let _g = tch::no_grad_guard();
        crate::kernels::sparse::forward(
            &self.bank.w.squeeze_dim(1),
            &self.bank.b,
            numeric,
            &self.numeric_cols_host,
            active,
        )
    }

    /// Accumulates the weight and bias gradients for `grad_y [R, B, O]` of
    /// [`InputBank::forward_kernel`] into `.grad` of the bank's variables.
    pub fn backward_kernel(
        &self,
        grad_y: &Tensor,
        numeric: &Tensor,
        active: &Tensor,
    ) -> Result<(), ModelError> {
        let (w, b) = (&self.bank.w, &self.bank.b);
        if !w.grad().defined() || !b.grad().defined() {
            // Give both variables a (zero) .grad: libtorch creates it on the first backward.
            (w.sum(Kind::Float) * 0.0 + b.sum(Kind::Float) * 0.0).backward();
        }
        let _g = tch::no_grad_guard();
        let mut gw = w.grad().squeeze_dim(1);
        let mut gb = b.grad();
        crate::kernels::sparse::backward(
            grad_y,
            numeric,
            &self.numeric_cols_host,
            active,
            &mut gw,
            &mut gb,
        )
    }
}
