//! The training engine of adatt-rs: a config's data on the device and the one training loop.
//! It writes no files and knows no command-line flag: the experiment layer
//! (`adatt-experiment`) decides what to train and records what it returns.
//!
//! * [`source`]: the data a grid trains on (Census tables or a simulated task group).
//! * [`rows`]: training, validation and test rows on the device (tables shuffled per replica,
//!   or a simulated stream generated on a thread while earlier batches train).
//! * [`trainer`]: the one training loop; R seeds train together as replicas of one model.
//! * [`optim`]: Adam (fused single-pass step on CPU).
//! * [`snapshot`]: a group's state part-way through a one-pass stream, to resume from.
//! * [`device`]: the device and the `[run]` settings that depend on it, resolved.
//! * [`parity`]: one training step compared across devices or input paths.
//! * [`runtime`]: process set-up (flush denormals, keep freed memory): `unsafe` FFI.

pub mod device;
pub mod error;
pub mod optim;
pub mod parity;
pub mod rows;
pub mod runtime;
pub mod snapshot;
pub mod source;
pub mod trainer;

pub use device::{resolve_device, resolve_eval_batch, resolve_input, resolve_replicas};
pub use error::{EngineError, Result};
pub use source::{load_data, DataRef, LoadedData, SimData};
pub use trainer::{
    predict_split, train_group, train_group_model, DeviceSplit, Forward, GroupOutcome, InputRows,
    Learner, StreamRows, TrainData, TrainRows,
};
