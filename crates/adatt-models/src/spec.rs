//! What a model's input looks like: the dense / sparse columns ([`InputSpec`]) and the id
//! features' embedding tables ([`EmbeddingSpec`]).

use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// What the model's input looks like.
///
/// The dense input has `n_features` columns; in the sparse view `numeric_cols` (indices into
/// the dense columns) carry real values and every other column is a one-hot column of one of
/// `n_cat` categorical groups, given per row by the index of its active column (or -1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSpec {
    pub n_features: usize,
    pub numeric_cols: Vec<usize>,
    pub n_cat: usize,
    pub n_tasks: usize,
}

impl InputSpec {
    /// A spec for purely dense input (all columns numeric, no categorical groups).
    pub fn dense(n_features: usize, n_tasks: usize) -> InputSpec {
        InputSpec {
            n_features,
            numeric_cols: (0..n_features).collect(),
            n_cat: 0,
            n_tasks,
        }
    }

    /// Checks the spec; errors name the offending field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let err = |field: &str, msg: String| ModelError::Spec {
            field: field.into(),
            msg,
        };
        if self.n_features == 0 {
            return Err(err("n_features", "must be >= 1".into()));
        }
        if self.n_tasks == 0 {
            return Err(err("n_tasks", "must be >= 1".into()));
        }
        let mut seen = vec![false; self.n_features];
        for &c in &self.numeric_cols {
            if c >= self.n_features {
                return Err(err(
                    "numeric_cols",
                    format!("column {c} out of range (n_features = {})", self.n_features),
                ));
            }
            if std::mem::replace(&mut seen[c], true) {
                return Err(err("numeric_cols", format!("column {c} listed twice")));
            }
        }
        Ok(())
    }
}

/// One categorical feature's table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingSpec {
    /// Number of ids (values 0..cardinality).
    pub cardinality: usize,
    /// Embedding dimension.
    pub dim: usize,
}
