//! The training and evaluation engine of adatt-rs.
//!
//! * [`atomic`]: outputs written to a temporary file and renamed into place.
//! * [`config`]: the experiment TOML schema (`deny_unknown_fields`), validated with key names.
//! * [`trainer`]: the one training loop; R seeds train together as replicas of one model.
//! * [`divergence`]: when a finished run counts as diverged.
//! * [`optim`]: Adam (fused single-pass step on CPU).
//! * [`metrics`]: exact f64 metrics (AUC as scikit-learn, NE, MSE), parallel with rayon.
//! * [`grid`]: entries × seeds → runs; resume by record key; `--shard k/N`.
//! * [`jobs`]: a grid as N shard processes (one intra-op thread each).
//! * [`lock`]: one writing invocation per results directory.
//! * [`records`]: append-only JSONL records (one line per run, never half a line).
//! * [`manifest`]: provenance of each invocation.
//! * [`sweep`]: one model axis over a list of values, expanded into entries.
//! * [`term`]: log lines above progress bars, exit codes, one-line errors.
//! * [`runtime`]: process set-up (flush denormals, keep freed memory): `unsafe` FFI.

pub mod atomic;
pub mod config;
pub mod divergence;
pub mod error;
pub mod grid;
pub mod jobs;
pub mod lock;
pub mod manifest;
pub mod metrics;
pub mod optim;
pub mod overrides;
pub mod parity;
pub mod records;
pub mod rows;
pub mod runtime;
pub mod schedule;
pub mod source;
pub mod study;
pub mod sweep;
pub mod term;
pub mod trainer;

pub use adatt_data::Protocol;
pub use config::{
    AnalysisSpec, Claim, Comparison, DataConfig, DataTask, DeviceChoice, Entry, ExperimentConfig,
    Figure, InputMode, NeDirection, PaperSeries, RunConfig, Seeds, Selection, TaskWeighting,
    TrainConfig,
};
pub use error::{toml_message, Result, TrainError};
pub use grid::{
    config_hash, entry_keys, plan, run_grid, run_grid_with_hook, GridOptions, GridSummary,
};
pub use jobs::{resolve_jobs, run_shards, ChildArgs};
pub use lock::{lock_results_dir, DirLock};
pub use overrides::{report_dir, resolve_threads, seeds_subdir, Overrides};
pub use records::{
    consolidate_records, read_all_records, Consolidation, RunRecord, Shard, UnixTime,
};
pub use source::{load_data, DataRef, LoadedData, SimData};
pub use study::{Choice, StudyConfig};
pub use trainer::{
    train_group, DeviceSplit, Forward, GroupOutcome, InputRows, Learner, RunOutcome, Status,
    StreamRows, TrainData, TrainRows,
};
