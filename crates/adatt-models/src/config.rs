//! [`ModelConfig`]: one architecture of the paper with its sizes, as a config file writes it
//! (serde, TOML-friendly): a table tagged by `kind` whose other fields are those of the kind's
//! config struct, e.g. `{ kind = "mmoe", experts = 6, expert_dims = [[128], [64]], tower = [32] }`.
//!
//! The serialized form is that of the struct-variant enum this type was before the per-kind
//! structs: `kind` first, then the struct's fields in declaration order; unknown fields are
//! refused (each struct denies them). A record's key hashes it, so it must not change
//! (`tests/serde_form.rs` pins it to committed records).

use serde::{Deserialize, Serialize};

use crate::arch::{self, check_dims, ArchConfig};
use crate::error::{config_err, ModelError};

/// Declares [`ModelConfig`] from one line per kind (`Variant(Config)`, serialized as
/// `kind = "variant"` in snake case), with the one match that dispatches to the kind's
/// [`ArchConfig`] (shared and mutable) and `From<Config> for ModelConfig`.
macro_rules! model_kinds {
    ($($(#[$doc:meta])* $kind:ident($config:ty),)+) => {
        /// One architecture of the paper with its sizes: the kind's config struct, tagged by
        /// `kind`. Everything kind-specific goes through [`ModelConfig::arch`].
        #[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum ModelConfig {
            $($(#[$doc])* $kind($config),)+
        }

        impl ModelConfig {
            /// The kind's config, through the interface every architecture implements.
            pub fn arch(&self) -> &dyn ArchConfig {
                match self {
                    $(ModelConfig::$kind(c) => c,)+
                }
            }

            /// [`ModelConfig::arch`], mutable (the sweep axes).
            pub fn arch_mut(&mut self) -> &mut dyn ArchConfig {
                match self {
                    $(ModelConfig::$kind(c) => c,)+
                }
            }
        }

        $(impl From<$config> for ModelConfig {
            fn from(c: $config) -> ModelConfig {
                ModelConfig::$kind(c)
            }
        })+
    };
}

// The order of the kinds is that of the `expected one of ...` message for an unknown kind.
model_kinds! {
    /// One MLP shared by all task towers (official `share_bottom`).
    SharedBottom(arch::shared_bottom::SharedBottomConfig),
    /// Multi-level MMoE (official `mmoe`).
    Mmoe(arch::mmoe::MmoeConfig),
    /// Cross-stitch (official `cross_st`).
    CrossStitch(arch::cross_stitch::CrossStitchConfig),
    /// PLE (official `ple`; one level = CGC).
    Ple(arch::ple::PleConfig),
    /// AdaTT-sp (official `att_sp`).
    AdattSp(arch::adatt::AdattSpConfig),
    /// AdaTT with a shared unit (official `att_g`).
    Adatt(arch::adatt::AdattConfig),
    /// T independent networks.
    SingleTask(arch::single_task::SingleTaskConfig),
}

impl ModelConfig {
    /// Checks the sizes for `n_tasks` tasks; the error names the offending field.
    pub fn validate(&self, n_tasks: usize) -> Result<(), ModelError> {
        if n_tasks == 0 {
            return Err(config_err("n_tasks", "must be >= 1"));
        }
        check_dims("tower", self.tower())?;
        self.arch().validate()
    }

    /// The task-tower hidden widths.
    pub fn tower(&self) -> &[usize] {
        self.arch().tower()
    }

    /// `true` for the kinds with fused expert weights (AdaTT and AdaTT-sp): those with an
    /// expert layout ([`ArchConfig::expert_layout`]).
    pub fn is_adatt(&self) -> bool {
        self.arch().expert_layout().is_some()
    }

    /// A short human-readable name, e.g. `AdaTT-sp(2/task)` or `PLE(1/task+3 shared)`.
    pub fn label(&self) -> String {
        self.arch().label()
    }
}
