//! Sweeps: one axis of a model config (experts per task, fusion levels, NativeExpertLF) over a
//! list of values. A config's `[[sweeps]]` expand, when it is loaded, into ordinary entries that
//! carry their [`SweepPoint`], so that the axis and the x value travel into the saved config,
//! the tables and the plots, and a record's key is that of the entry's model as always.
//!
//! ```toml
//! [[sweeps]]
//! name = "AdaTT-sp"
//! model = { kind = "adatt_sp", task_experts = 1, expert_dims = [[128], [64]], tower = [32] }
//! axis = { task_experts = [1, 2, 3, 4] }   # or { levels = [2, 3, 4, 5] }, { native = [...] }
//! ```

use adatt_models::{ModelConfig, NativeFusion};
use serde::{Deserialize, Serialize};

use crate::entry::{AxisKind, Entry, SweepPoint};
use crate::error::{Result, SpecError};

/// The swept axis and its values.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SweepAxis {
    /// Experts per task (`task_experts`) of an AdaTT, AdaTT-sp or PLE model.
    TaskExperts(Vec<usize>),
    /// Fusion levels. Fewer levels than the model's keep its last ones; each added level goes
    /// below the first and doubles its widths, as the paper's Table 8 grows [256, 128] into
    /// [512, 256, 128], ... (single-layer experts per level).
    Levels(Vec<usize>),
    /// NativeExpertLF learned or ablated (AdaTT, AdaTT-sp).
    Native(Vec<NativeFusion>),
}

/// One sweep of a config.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// Name; the entries are named `<name>, <value label>`.
    pub name: String,
    /// The model every point starts from.
    pub model: ModelConfig,
    /// The axis and its values.
    pub axis: SweepAxis,
}

impl Sweep {
    /// The key of this sweep in messages.
    fn key(&self) -> String {
        format!("sweeps.{}.axis", self.name)
    }

    fn bad(&self, message: String) -> SpecError {
        SpecError::ConfigValue {
            key: self.key(),
            message,
        }
    }

    /// The entries of this sweep, one per value, in the order given.
    pub fn entries(&self) -> Result<Vec<Entry>> {
        let points: Vec<(ModelConfig, String, f64)> = match &self.axis {
            SweepAxis::TaskExperts(v) => v
                .iter()
                .map(|&k| {
                    let plural = if k == 1 { "" } else { "s" };
                    Ok((
                        self.with_task_experts(k)?,
                        format!("{k} expert{plural} per task"),
                        k as f64,
                    ))
                })
                .collect::<Result<_>>()?,
            SweepAxis::Levels(v) => v
                .iter()
                .map(|&l| Ok((self.with_levels(l)?, format!("{l} levels"), l as f64)))
                .collect::<Result<_>>()?,
            SweepAxis::Native(v) => v
                .iter()
                .map(|&n| {
                    let (label, x) = match n {
                        NativeFusion::Learned => ("NativeExpertLF learned", 1.0),
                        NativeFusion::Ablated => ("NativeExpertLF ablated", 0.0),
                    };
                    Ok((self.with_native(n)?, label.to_owned(), x))
                })
                .collect::<Result<_>>()?,
        };
        if points.is_empty() {
            return Err(self.bad("has no values".into()));
        }
        let axis = match self.axis {
            SweepAxis::TaskExperts(_) => AxisKind::TaskExperts,
            SweepAxis::Levels(_) => AxisKind::Levels,
            SweepAxis::Native(_) => AxisKind::Native,
        };
        Ok(points
            .into_iter()
            .map(|(model, label, x)| Entry {
                name: format!("{}, {label}", self.name),
                setting: label,
                model,
                paper: None,
                paper_ne_diff: None,
                sweep: Some(SweepPoint {
                    sweep: self.name.clone(),
                    axis,
                    x,
                }),
            })
            .collect())
    }

    fn with_task_experts(&self, k: usize) -> Result<ModelConfig> {
        let mut m = self.model.clone();
        match m.arch_mut().task_experts_mut() {
            Some(task_experts) => *task_experts = k,
            None => {
                return Err(self.bad(format!(
                    "task_experts needs an AdaTT, AdaTT-sp or PLE model, not {}",
                    self.model.label()
                )))
            }
        }
        Ok(m)
    }

    fn with_levels(&self, levels: usize) -> Result<ModelConfig> {
        let mut m = self.model.clone();
        let dims = match m.arch_mut().expert_dims_mut() {
            Some(expert_dims) => expert_dims,
            None => {
                return Err(self.bad(format!(
                    "levels needs a model with fusion levels (expert_dims), not {}",
                    self.model.label()
                )))
            }
        };
        if levels == 0 || dims.is_empty() {
            return Err(self.bad("levels must be at least 1".into()));
        }
        while dims.len() > levels {
            dims.remove(0);
        }
        while dims.len() < levels {
            let first: Vec<usize> = dims[0].iter().map(|w| w * 2).collect();
            dims.insert(0, first);
        }
        Ok(m)
    }

    fn with_native(&self, n: NativeFusion) -> Result<ModelConfig> {
        let mut m = self.model.clone();
        match m.arch_mut().native_mut() {
            Some(native) => *native = n,
            None => {
                return Err(self.bad(format!(
                    "native needs an AdaTT or AdaTT-sp model, not {}",
                    self.model.label()
                )))
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adatt_models::{AdattSpConfig, MmoeConfig};

    fn sweep(axis: &str) -> Sweep {
        toml::from_str(&format!(
            "name = \"S\"\nmodel = {{ kind = \"adatt_sp\", task_experts = 1, \
             expert_dims = [[128], [64]], tower = [32] }}\naxis = {axis}"
        ))
        .unwrap()
    }

    fn dims(e: &Entry) -> Vec<Vec<usize>> {
        match &e.model {
            ModelConfig::AdattSp(AdattSpConfig { expert_dims, .. }) => expert_dims.clone(),
            m => panic!("{m:?}"),
        }
    }

    /// The expansions as tables: (name, x, expert_dims or task_experts), worked out by hand.
    #[test]
    fn each_axis_expands_into_named_entries_with_their_x() {
        let e = sweep("{ levels = [2, 3, 5, 1] }").entries().unwrap();
        let got: Vec<(&str, f64, Vec<Vec<usize>>)> = e
            .iter()
            .map(|e| (e.name.as_str(), e.sweep.as_ref().unwrap().x, dims(e)))
            .collect();
        let want = vec![
            ("S, 2 levels", 2.0, vec![vec![128], vec![64]]),
            ("S, 3 levels", 3.0, vec![vec![256], vec![128], vec![64]]),
            (
                "S, 5 levels",
                5.0,
                vec![vec![1024], vec![512], vec![256], vec![128], vec![64]],
            ),
            ("S, 1 levels", 1.0, vec![vec![64]]),
        ];
        assert_eq!(got, want);
        assert!(e
            .iter()
            .all(|e| e.sweep.as_ref().unwrap().axis == AxisKind::Levels));

        let e = sweep("{ task_experts = [1, 3] }").entries().unwrap();
        let got: Vec<(&str, &str, f64)> = e
            .iter()
            .map(|e| {
                (
                    e.name.as_str(),
                    e.setting.as_str(),
                    e.sweep.as_ref().unwrap().x,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("S, 1 expert per task", "1 expert per task", 1.0),
                ("S, 3 experts per task", "3 experts per task", 3.0)
            ]
        );
        assert!(matches!(
            e[1].model,
            ModelConfig::AdattSp(AdattSpConfig {
                task_experts: 3,
                ..
            })
        ));

        let e = sweep("{ native = [\"learned\", \"ablated\"] }")
            .entries()
            .unwrap();
        assert!(matches!(
            e[1].model,
            ModelConfig::AdattSp(AdattSpConfig {
                native: NativeFusion::Ablated,
                ..
            })
        ));
        assert_eq!(
            (
                e[0].sweep.as_ref().unwrap().x,
                e[1].sweep.as_ref().unwrap().x
            ),
            (1.0, 0.0)
        );
    }

    #[test]
    fn an_axis_the_model_lacks_is_refused_with_the_sweep_key() {
        let mut s = sweep("{ native = [\"ablated\"] }");
        s.model = ModelConfig::Mmoe(MmoeConfig {
            experts: 3,
            expert_dims: vec![vec![8]],
            tower: vec![4],
        });
        let err = s.entries().unwrap_err().to_string();
        assert!(
            err.contains("sweeps.S.axis") && err.contains("native needs"),
            "{err}"
        );
        let err = sweep("{ levels = [] }").entries().unwrap_err().to_string();
        assert!(err.contains("has no values"), "{err}");
    }
}
