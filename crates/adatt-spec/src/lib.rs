//! What an experiment is and what it leaves behind, without tensors: the experiment TOML schema
//! and its validation, the runs a grid expands into, records, invocation manifests, exact
//! metrics, and the files and locks every writer goes through. Every crate above reads configs
//! and records through this one; it does not link libtorch.
//!
//! * [`config`]: the experiment TOML schema (`deny_unknown_fields`), validated with key names;
//!   its sections in [`data`], [`train`], [`run`], [`entry`] and [`analysis`].
//! * [`sweep`]: one model axis over a list of values, expanded into entries.
//! * [`study`]: a two-phase study (tune a choice on validation, then train the chosen configs).
//! * [`plan`]: entries × seeds → runs with their record keys; execution order, replica groups.
//! * [`schedule`]: the steps of a run and where its checkpoints fall.
//! * [`divergence`]: when a finished run counts as diverged.
//! * [`outcome`]: what training a run gives (status, metrics along the way).
//! * [`records`]: append-only JSONL records (one line per run, never half a line).
//! * [`device`]: the device a run trained on, as records name it.
//! * [`manifest`]: provenance of each invocation.
//! * [`metrics`]: exact f64 metrics (AUC as scikit-learn, NE, MSE), parallel with rayon.
//! * [`oracle`]: the Bayes limit of a simulated task group, measured as the models are.
//! * [`atomic`]: outputs written to a temporary file and renamed into place.
//! * [`lock`]: one writing invocation per results directory.
//! * [`saved`]: the weights and input encodings a grid leaves for prediction and export.

pub mod analysis;
pub mod atomic;
pub mod code;
pub mod config;
pub mod data;
pub mod device;
pub mod divergence;
pub mod entry;
pub mod error;
pub mod lock;
pub mod manifest;
pub mod metrics;
pub mod oracle;
pub mod outcome;
pub mod plan;
pub mod records;
pub mod run;
pub mod saved;
pub mod schedule;
pub mod study;
pub mod sweep;
pub mod train;

pub use adatt_data::Protocol;
pub use config::{
    AnalysisSpec, CensusData, Claim, Comparison, DataConfig, DataSpec, DataTask, DeviceChoice,
    Entry, ExperimentConfig, Figure, InputMode, LrSchedule, NeDirection, PaperSeries, RunConfig,
    Seeds, Selection, SimulatorData, TaskWeighting, TrainConfig,
};
pub use device::RunDevice;
pub use error::{toml_message, Result, SpecError};
pub use lock::{lock_results_dir, DirLock};
pub use outcome::{CurvePoint, RunOutcome, SplitEval, Status};
pub use plan::{config_hash, entry_keys, plan, PlannedRun};
pub use records::{
    consolidate_records, read_all_records, Consolidation, RunRecord, Shard, UnixTime,
};
pub use schedule::Schedule;
pub use study::{Choice, StudyConfig, TuningCriterion};
