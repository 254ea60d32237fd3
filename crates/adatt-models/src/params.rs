//! The mapping between official (PyTorch `state_dict`) parameters and slices of our batched
//! variables, and the init / export / import that are generic over it. The [`Builder`] creates
//! those variables (banks `[R, U, in, out]` + `[R, U, out]`, stacks of banks, free variables)
//! and records the mapping as the architectures name their slices.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, Device, Kind, Tensor};

use crate::bank::{Bank, InputBank, Stack};
use crate::spec::InputSpec;

/// How an official parameter's values are drawn at init.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Init {
    /// `(2u − 1) · bound`, PyTorch's default for Linear layers.
    Uniform { bound: f64 },
    /// `std · √(−2 ln(1 − u₁)) · cos(2π u₂)` (Box–Muller from two uniforms), PyTorch's
    /// `N(0, 1)` default for `nn.Embedding` with `std = 1`.
    Normal { std: f64 },
}

/// One official parameter: its name and shape, its init, and where it lives.
///
/// For replica `r` the official tensor is `target[r]`, then `[unit]` when `unit` is set, then the
/// last-dim column range `cols` when set, then transposed when `transpose` (a Linear weight
/// `[out, in]` is stored as `[in, out]` columns of a bank).
pub(crate) struct Entry {
    pub name: String,
    pub shape: Vec<i64>,
    pub init: Init,
    target: Tensor,
    unit: Option<i64>,
    cols: Option<(i64, i64)>,
    transpose: bool,
}

impl Entry {
    /// A view of replica `r`'s slice (shares storage with the variable).
    pub fn view(&self, r: i64) -> Tensor {
        let mut t = self.target.get(r);
        if let Some(u) = self.unit {
            t = t.get(u);
        }
        if let Some((c, n)) = self.cols {
            t = t.narrow(-1, c, n);
        }
        if self.transpose {
            t = t.transpose(0, 1);
        }
        t
    }

    pub fn numel(&self) -> usize {
        self.shape.iter().product::<i64>() as usize
    }
}

/// Creates variables in a [`nn::VarStore`] and records the official-name mapping, in the
/// official `state_dict` order (the order of the `linear` / `mlp` / `param` calls).
///
/// `pub` only because [`crate::ArchConfig::build`] takes it; outside the crate it cannot be
/// named nor made.
pub struct Builder<'a> {
    path: nn::Path<'a>,
    replicas: i64,
    pub(crate) entries: Vec<Entry>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(path: nn::Path<'a>, replicas: i64) -> Builder<'a> {
        Builder {
            path,
            replicas,
            entries: Vec::new(),
        }
    }

    pub(crate) fn replicas(&self) -> i64 {
        self.replicas
    }

    pub(crate) fn device(&self) -> Device {
        self.path.device()
    }

    /// A trainable zero-filled variable (filled later by init or import).
    pub(crate) fn var(&self, name: &str, dims: &[i64]) -> Tensor {
        self.path.zeros(name, dims)
    }

    /// A bank `{name}` of `units` linear units `inp -> out` (variables `{name}_w`, `{name}_b`).
    pub(crate) fn bank(&self, name: &str, units: i64, inp: i64, out: i64) -> Bank {
        let r = self.replicas;
        let w = self.var(&format!("{name}_w"), &[r, units, inp, out]);
        let b = self.var(&format!("{name}_b"), &[r, units, out]);
        Bank { w, b, inp }
    }

    /// A stack `{name}{j}` of banks with `units` units each: layers `inp -> dims[0] -> dims[1]
    /// ...`.
    pub(crate) fn stack(&self, name: &str, units: i64, inp: i64, dims: &[usize]) -> Stack {
        let mut banks = Vec::with_capacity(dims.len());
        let mut d_in = inp;
        for (j, &d) in dims.iter().enumerate() {
            banks.push(self.bank(&format!("{name}{j}"), units, d_in, d as i64));
            d_in = d as i64;
        }
        Stack { banks }
    }

    /// The input bank (`input`, one unit `spec.n_features -> out`) for input described by `spec`.
    pub(crate) fn input_bank(&self, spec: &InputSpec, out: i64) -> InputBank {
        let bank = self.bank("input", 1, spec.n_features as i64, out);
        InputBank::new(bank, &spec.numeric_cols, spec.n_cat)
    }

    /// `{prefix}.weight` `[out, in]` and `{prefix}.bias` `[out]` = columns `col..col+out` of
    /// `bank`'s unit `unit`.
    pub(crate) fn linear(&mut self, prefix: &str, bank: &Bank, unit: i64, col: i64, out: i64) {
        let init = Init::Uniform {
            bound: 1.0 / (bank.inp as f64).sqrt(),
        };
        self.entries.push(Entry {
            name: format!("{prefix}.weight"),
            shape: vec![out, bank.inp],
            init,
            target: bank.w.shallow_clone(),
            unit: Some(unit),
            cols: Some((col, out)),
            transpose: true,
        });
        self.entries.push(Entry {
            name: format!("{prefix}.bias"),
            shape: vec![out],
            init,
            target: bank.b.shallow_clone(),
            unit: Some(unit),
            cols: Some((col, out)),
            transpose: false,
        });
    }

    /// An official `MLP` (`{prefix}.{2j}.weight|bias`): layer `j` lives at `layers[j]` =
    /// (bank, unit, first column) with width `dims[j]`.
    pub(crate) fn mlp<'b>(
        &mut self,
        prefix: &str,
        layers: impl IntoIterator<Item = (&'b Bank, i64, i64)>,
        dims: &[usize],
    ) {
        let mut n = 0;
        for (j, (bank, unit, col)) in layers.into_iter().enumerate() {
            self.linear(
                &format!("{prefix}.{}", 2 * j),
                bank,
                unit,
                col,
                dims[j] as i64,
            );
            n += 1;
        }
        assert_eq!(n, dims.len(), "mlp {prefix}: layer count");
    }

    /// A free parameter: `target[r]` (then `[unit]`) has the official `shape`.
    pub(crate) fn param(
        &mut self,
        name: String,
        target: &Tensor,
        unit: Option<i64>,
        shape: Vec<i64>,
        bound: f64,
    ) {
        self.entries.push(Entry {
            name,
            shape,
            init: Init::Uniform { bound },
            target: target.shallow_clone(),
            unit,
            cols: None,
            transpose: false,
        });
    }

    /// An `nn.Embedding` weight `{name}` `[cardinality, dim]` = `target[r]`, drawn N(0, 1).
    pub(crate) fn embedding(&mut self, name: String, target: &Tensor, cardinality: i64, dim: i64) {
        self.entries.push(Entry {
            name,
            shape: vec![cardinality, dim],
            init: Init::Normal { std: 1.0 },
            target: target.shallow_clone(),
            unit: None,
            cols: None,
            transpose: false,
        });
    }
}

/// The init of one replica: every official tensor in `state_dict` order, row-major, each value
/// from its [`Init`] with `u: f64` uniforms in [0, 1) from `ChaCha8Rng::seed_from_u64(seed)`
/// (one per uniform value, two per normal value), rounded to f32. Returned as CPU f32 tensors of
/// the official shapes.
pub(crate) fn draw_init(entries: &[Entry], seed: u64) -> Vec<Tensor> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    entries
        .iter()
        .map(|e| {
            let vals: Vec<f32> = (0..e.numel())
                .map(|_| match e.init {
                    Init::Uniform { bound } => {
                        let u: f64 = rng.random();
                        ((2.0 * u - 1.0) * bound) as f32
                    }
                    Init::Normal { std } => {
                        let (u1, u2): (f64, f64) = (rng.random(), rng.random());
                        (std * (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos())
                            as f32
                    }
                })
                .collect();
            Tensor::from_slice(&vals).reshape(e.shape.as_slice())
        })
        .collect()
}

/// Copies `src` (official shape) into replica `r`'s slice of `e`.
pub(crate) fn write_slice(e: &Entry, r: i64, src: &Tensor) {
    tch::no_grad(|| {
        e.view(r).copy_(&src.to_kind(Kind::Float));
    });
}

/// A CPU f32 contiguous copy of replica `r`'s slice of `e`.
pub(crate) fn read_slice(e: &Entry, r: i64) -> Tensor {
    tch::no_grad(|| {
        let mut out = Tensor::zeros(e.shape.as_slice(), (Kind::Float, Device::Cpu));
        out.copy_(&e.view(r));
        out
    })
}
