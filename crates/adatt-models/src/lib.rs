//! # adatt-models
//!
//! The multi-task architectures of AdaTT (Li et al., KDD 2023) and its baselines --
//! Shared-bottom, (ML-)MMoE, Cross-stitch, PLE/CGC, AdaTT-sp, AdaTT and single-task -- computing
//! exactly what the official `CentralTaskArch` (facebookresearch/AdaTT `mtl_lib.py`) computes,
//! and exchanging weights under its `state_dict()` names and shapes.
//!
//! ## Configs
//! A [`ModelConfig`] is one kind's config struct ([`MmoeConfig`], [`AdattConfig`], ...) tagged by
//! `kind` in TOML / JSON. Everything kind-specific -- checks, label, towers, the layout of fused
//! expert weights, the axes a sweep varies, the build of the network -- goes through
//! [`ArchConfig`] ([`ModelConfig::arch`]); each kind's file under `arch/` holds its config, that
//! implementation and its network.
//!
//! ## Feature `torch`
//! On by default: everything that needs libtorch ([`Model`], the networks, [`kernels`],
//! [`tensor_file`], `ModelError::Torch`). With `default-features = false` the crate is the
//! configs only -- [`ModelConfig`], the per-kind structs, [`ArchConfig`] without `build`,
//! [`NativeFusion`], [`InputSpec`], [`EmbeddingSpec`], [`ModelError`] -- and depends on neither
//! tch nor torch-sys.
//!
//! ## Replicas
//! A [`Model`] holds `R = seeds.len()` independent replicas. Every parameter tensor has a leading
//! replica dim and every op is batched over it; replicas never interact (no op mixes entries of
//! different replicas, the sparse first layer included: its embedding-bag indices are offset by
//! `r * D` into the replica-flattened weight). Inputs may carry a leading dim of `R` (one input
//! per replica) or `1` (shared). [`Model::forward`] returns logits `[R, B, T]`.
//!
//! ## Layout
//! All parameters are [`tch::nn::VarStore`] variables, grouped in *banks*: a bank of `U` linear
//! units has weight `[R, U, in, out]` and bias `[R, U, out]`, and maps `[R|1, U|1, B, in]` to
//! `[R, U, B, out]` with one batched matmul. Several official Linear layers that read the same
//! input sit side by side in the columns of one unit:
//! - **input bank** (`input_w [R, 1, D, O0]`): the first layer of every module that reads the raw
//!   input -- all level-0 experts and level-0 gates (for ML-MMoE also the gates of every level),
//!   the shared bottom's / single-task nets' first layers. Its output is sliced by columns:
//!   ReLU for expert columns, softmax per gate.
//! - **level banks** (`l{l}_task`, U = T; `l{l}_shared`, U = 1; `l{l}_first`, U = E or T): at a
//!   level `l > 0` the first layer of the experts and the gate of each unit, which read that
//!   unit's previous output.
//! - **rest stacks** (`l{l}_rest{j}`, U = experts of the level): expert layers after the first.
//! - **towers** (`tower_h{j}`, `tower_out`, U = T): `MLP(tower) + Linear(., 1)` per task.
//! - free variables: cross-stitch `l{l}_stitch [R, T, T]`; NativeExpertLF weights
//!   `native_l{l} [R, T, m]` (AdaTT-sp) or `native_tasks [R, T, L, m_t]`,
//!   `native_shared [R, L-1, m_s]` (AdaTT).
//!
//! The mixing of experts is one einsum per level over fused weights `[R, B, units, experts]`.
//!
//! ## Id input
//! [`Model::with_embeddings`] puts one embedding table per categorical feature in front of any
//! architecture (`embeddings.{f}.weight`, `[cardinality, dim]` per replica): ids are looked up,
//! concatenated with the dense features, and the result is the architecture's dense input
//! ([`ModelInput::Ids`]).
//!
//! ## Mapping
//! A table lists, in `state_dict` order, every official parameter with its shape and its place:
//! (variable, unit, last-dim column range, transposed) -- a Linear weight `[out, in]` is the
//! transpose of `in x out` columns of a bank unit. Init, [`Model::export_replica`],
//! [`Model::import_replica`] and so the safetensors files ([`tensor_file`]) all go through this one
//! table.
//!
//! ## Init
//! Replica with seed `s` = the official-named tensors, in `state_dict` order, each row-major,
//! every value `(2u - 1) * bound` with `u: f64` uniform in `[0, 1)` drawn from
//! `rand_chacha::ChaCha8Rng::seed_from_u64(s)` (`rng.random::<f64>()`) and rounded to f32
//! (embedding tables, which come first: `√(−2 ln(1 − u₁)) · cos(2π u₂)` from two such draws,
//! PyTorch's N(0, 1) for `nn.Embedding`);
//! `bound = 1/sqrt(fan_in)` for Linear weights and biases (PyTorch's default; the cross-stitch
//! `Linear(T, T)` has `fan_in = T`), `sqrt(1/m)` for `self_exp_weights` with `m` experts. This
//! does not depend on the device nor on the number of replicas.
//!
//! ## Semantics notes
//! - PLE with 0 shared experts: no shared unit at all, task gates over their own experts only
//!   (the official code fails for this setting; its unused shared gate is not created).
//! - AdaTT (`adatt`) requires `shared_experts >= 1` (the official code divides by zero); use
//!   `adatt_sp` instead.
//! - [`NativeFusion::Ablated`] = official `self_exp_res_connect=False`: the native term is removed
//!   and `self_exp_weights` do not exist.
//! - The sparse first layer computes `numeric · W[numeric_cols] + Σ_active W[active]` (an
//!   embedding bag), the same math as the dense `x · W` for one-hot inputs.
//!
//! ## Training fast on a CPU
//! [`Model::forward`] is differentiable through libtorch on any device. For training, use
//! [`Model::forward_train`] + [`Model::backward_input`]: with sparse input on the CPU, the
//! input bank runs the hand-written kernels of `kernels::sparse` (the one module besides
//! `adatt_engine::runtime` with `unsafe`), outside autograd, and `backward_input` writes its
//! gradients after `loss.backward()`. [`Model::forward_eval`] (no gradients) uses the same
//! forward kernel.

// The configs (torch-free).
mod arch;
mod config;
mod error;
mod spec;

// Feature `torch`: everything that needs libtorch.
#[cfg(feature = "torch")]
mod bank;
#[cfg(feature = "torch")]
mod embed;
#[cfg(feature = "torch")]
pub mod kernels;
#[cfg(feature = "torch")]
mod model;
#[cfg(feature = "torch")]
mod params;
#[cfg(feature = "torch")]
pub mod tensor_file;
#[cfg(feature = "torch")]
mod towers;

pub use arch::{ArchConfig, ExpertLayout, NativeFusion};
// The kinds' config structs.
pub use arch::{
    adatt::{AdattConfig, AdattSpConfig},
    cross_stitch::CrossStitchConfig,
    mmoe::MmoeConfig,
    ple::PleConfig,
    shared_bottom::SharedBottomConfig,
    single_task::SingleTaskConfig,
};
#[cfg(feature = "torch")]
pub use bank::ModelInput;
pub use config::ModelConfig;
pub use error::ModelError;
#[cfg(feature = "torch")]
pub use model::{InputTape, Model};
pub use spec::{EmbeddingSpec, InputSpec};
