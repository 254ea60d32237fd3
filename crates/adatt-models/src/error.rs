//! Error type of the crate.

/// Everything that can go wrong when building, running or exchanging weights of a [`crate::Model`].
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A [`crate::ModelConfig`] field has an unusable value; `field` names it.
    #[error("invalid model config: `{field}`: {msg}")]
    Config { field: String, msg: String },
    /// The [`crate::InputSpec`] is inconsistent; `field` names the offending field.
    #[error("invalid input spec: `{field}`: {msg}")]
    Spec { field: String, msg: String },
    /// `Model::new` got no seeds (the number of seeds is the number of replicas).
    #[error("a model needs at least one seed (one per replica)")]
    NoSeeds,
    /// A replica index `r >= replicas`.
    #[error("replica {r} out of range: the model has {replicas} replica(s)")]
    Replica { r: usize, replicas: usize },
    /// Weight exchange: a named parameter is missing, unexpected, or mis-shaped.
    #[error("parameter `{key}`: {msg}")]
    Param { key: String, msg: String },
    /// The input tensors do not match the model.
    #[error("bad model input: {0}")]
    Input(String),
    /// The operation does not exist for this architecture.
    #[error("{0}")]
    Unsupported(String),
    /// Bytes that are not a safetensors file, or tensors that cannot be written as one.
    #[error("{0}")]
    Safetensors(String),
    /// An error reported by libtorch / tch.
    #[cfg(feature = "torch")]
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

pub(crate) fn config_err(field: impl Into<String>, msg: impl Into<String>) -> ModelError {
    ModelError::Config {
        field: field.into(),
        msg: msg.into(),
    }
}
