//! Errors of the bench.

use std::path::PathBuf;

/// Everything that can go wrong while reading the bench config, measuring, or running the
/// bench's child processes.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A config file could not be read.
    #[error("reading {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A config file is not valid TOML for the bench schema (wrong type, unknown or missing
    /// key, ...).
    #[error("parsing {}: {message}", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// One line: where (line, column, dotted key) and toml's message.
        message: String,
    },
    /// A config value is out of range or names nothing.
    #[error("{}: `{key}`: {message}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// The dotted key, e.g. `peer.epochs`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A child process (this executable with a hidden argument, or the PyTorch peer) could
    /// not start, failed, or printed no result.
    #[error("{command}: {message}")]
    Child {
        /// What it runs and its program, e.g. `a bench process (/path/to/bench)`.
        command: String,
        /// What went wrong.
        message: String,
    },
    /// The peer's whole run is not of our model on our rows.
    #[error(
        "the peer's {model} has {params} parameters and {rows} training rows, ours {our_params} \
         and {our_rows}"
    )]
    PeerMismatch {
        /// The `[[models]]` name.
        model: String,
        /// The peer model's parameters.
        params: i64,
        /// The peer's training rows.
        rows: usize,
        /// Our model's parameters.
        our_params: i64,
        /// Our training rows.
        our_rows: usize,
    },
    /// Data of another shape than the one measured (a stream where the step times a table, or
    /// the reverse; a simulator call returning another row count).
    #[error("{0}")]
    Unexpected(String),
    /// Building a model, training or evaluating failed.
    #[error(transparent)]
    Spec(#[from] adatt_spec::SpecError),
    /// Training failed.
    #[error(transparent)]
    Engine(#[from] adatt_engine::EngineError),
    /// Shard processes failed.
    #[error(transparent)]
    Experiment(#[from] adatt_experiment::ExperimentError),
    /// The simulator (its preset, or its world) failed.
    #[error(transparent)]
    Data(#[from] adatt_data::DataError),
    /// The simulator section's thread pool could not start.
    #[error("thread pool: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
}

/// Result alias.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;
