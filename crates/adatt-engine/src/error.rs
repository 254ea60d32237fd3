//! Errors of the training engine.

use adatt_spec::SpecError;

/// Everything that can go wrong while loading data for, or training, a replica group.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A config, or what it asks of the data, is refused.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Loading or generating data failed.
    #[error(transparent)]
    Data(#[from] adatt_data::DataError),
    /// A kernel (sparse first layer, fused Adam) rejected its tensors.
    #[error("kernel: {0}")]
    Kernel(#[source] adatt_models::ModelError),
    /// A libtorch error.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// A snapshot cannot be saved, read or resumed from.
    #[error("snapshot: {0}")]
    Snapshot(String),
    /// CUDA was requested but is not available.
    #[error("device `cuda` requested but libtorch sees no CUDA device")]
    NoCuda,
}

/// Result alias.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
