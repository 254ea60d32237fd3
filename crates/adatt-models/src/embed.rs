//! The embedding input layer, shared by all tasks: one table per categorical id feature
//! (`nn.Embedding(cardinality, dim)`, exported as `embeddings.{f}.weight [cardinality, dim]`,
//! before the architecture's own parameters), looked up and concatenated with the dense
//! features into the raw input every architecture reads.
//!
//! Shapes: ids `[R or 1, B, F]` (i64), dense `[R or 1, B, Dd]` (f32) → `[R, B, Σ_f dim_f + Dd]`.
//! Tables carry the replica dimension (`[R, cardinality, dim]`); replica r's lookups read only
//! table r (per-replica ids are offset by `r · cardinality` into the flattened table). The
//! gradient of a lookup is dense (`index_select`'s backward), which the fused Adam updates like
//! any other parameter.

use tch::{Kind, Tensor};

use crate::bank::check_lead;
use crate::error::ModelError;
use crate::params::Builder;
use crate::spec::EmbeddingSpec;

/// The tables of a model.
pub(crate) struct Embeddings {
    tables: Vec<Tensor>,
    cardinalities: Vec<i64>,
    n_dense: i64,
    replicas: i64,
}

impl Embeddings {
    /// The width of the raw input the architecture reads: Σ dims + `n_dense`.
    pub fn width(specs: &[EmbeddingSpec], n_dense: usize) -> usize {
        specs.iter().map(|s| s.dim).sum::<usize>() + n_dense
    }

    /// Creates the tables (registered first: they lead the `state_dict` order).
    pub fn new(b: &mut Builder, specs: &[EmbeddingSpec], n_dense: usize) -> Embeddings {
        let r = b.replicas();
        let tables = specs
            .iter()
            .enumerate()
            .map(|(f, s)| {
                let (c, d) = (s.cardinality as i64, s.dim as i64);
                let t = b.var(&format!("embedding_{f}"), &[r, c, d]);
                b.embedding(format!("embeddings.{f}.weight"), &t, c, d);
                t
            })
            .collect();
        Embeddings {
            tables,
            cardinalities: specs.iter().map(|s| s.cardinality as i64).collect(),
            n_dense: n_dense as i64,
            replicas: r,
        }
    }

    /// The raw input `[R, B, width]` for `ids` and `dense`.
    pub fn forward(&self, ids: &Tensor, dense: &Tensor) -> Result<Tensor, ModelError> {
        let r = self.replicas;
        let f = self.tables.len() as i64;
        let b = check_lead(ids, "ids", r, f, Kind::Int64)?;
        let bd = check_lead(dense, "dense", r, self.n_dense, Kind::Float)?;
        if bd != b {
            return Err(ModelError::Input(format!(
                "ids have {b} rows but dense has {bd}"
            )));
        }
        let lead = ids.size()[0];
        let mut parts = Vec::with_capacity(self.tables.len() + 1);
        for (k, (table, &card)) in self.tables.iter().zip(&self.cardinalities).enumerate() {
            let idx = ids.select(2, k as i64); // [lead, B]
            let (lo, hi) = (idx.min().int64_value(&[]), idx.max().int64_value(&[]));
            if b > 0 && (lo < 0 || hi >= card) {
                return Err(ModelError::Input(format!(
                    "ids of feature {k} must be in 0..{card}, got {lo}..={hi}"
                )));
            }
            let dim = table.size()[2];
            let out = if lead == 1 {
                table.index_select(1, &idx.get(0)) // [R, B, dim]
            } else {
                let offsets = Tensor::arange(r, (Kind::Int64, idx.device())).view([r, 1]) * card;
                table
                    .view([r * card, dim])
                    .index_select(0, &(idx + offsets).view([-1]))
                    .view([r, b, dim])
            };
            parts.push(out);
        }
        parts.push(dense.expand([r, b, self.n_dense], false));
        Ok(Tensor::cat(&parts, 2))
    }
}
