//! The task-group presets, compiled in from `configs/sim/*.toml` (so they need no working
//! directory): `group1` (Tables 1-2), `group2` (Table 3), `group3` (Tables 4, 6-8) and `fig3`
//! (Figure 3).

use serde::{Deserialize, Deserializer, Serialize};

use super::SimConfig;
use crate::DataError;

/// A preset task group. Named in configs and on the command line by its file name in
/// `configs/sim/` (`group1`, `group2`, `group3`, `fig3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// One consumption and one engagement task (the paper's Tables 1-2).
    Group1,
    /// Two consumption tasks and one engagement task (Table 3).
    Group2,
    /// Four main tasks, one of them a regression, and an auxiliary task (Tables 4, 6-8).
    Group3,
    /// Two consumption tasks and one engagement task for the expert-weight heatmaps (Figure 3).
    Fig3,
}

impl Preset {
    /// Every preset, in the order of the paper's tables.
    pub const ALL: [Preset; 4] = [Preset::Group1, Preset::Group2, Preset::Group3, Preset::Fig3];

    /// Its name (the file name in `configs/sim/`).
    pub fn name(self) -> &'static str {
        match self {
            Preset::Group1 => "group1",
            Preset::Group2 => "group2",
            Preset::Group3 => "group3",
            Preset::Fig3 => "fig3",
        }
    }

    /// Its TOML text.
    pub fn text(self) -> &'static str {
        match self {
            Preset::Group1 => include_str!("../../../../configs/sim/group1.toml"),
            Preset::Group2 => include_str!("../../../../configs/sim/group2.toml"),
            Preset::Group3 => include_str!("../../../../configs/sim/group3.toml"),
            Preset::Fig3 => include_str!("../../../../configs/sim/fig3.toml"),
        }
    }

    /// The preset's world, parsed and validated.
    pub fn config(self) -> Result<SimConfig, DataError> {
        SimConfig::from_toml_str(self.text(), &format!("preset {}", self.name()))
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Preset {
    /// The preset named `name`, or what is wrong with the name.
    fn named(name: &str) -> Result<Preset, String> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown preset `{name}`; the presets are {}",
                    Preset::ALL.map(Preset::name).join(", ")
                )
            })
    }
}

impl std::str::FromStr for Preset {
    type Err = DataError;
    fn from_str(name: &str) -> Result<Preset, DataError> {
        Preset::named(name).map_err(|message| DataError::Simulator {
            source_name: format!("preset {name}"),
            key: "preset".into(),
            message,
        })
    }
}

/// By name, refusing an unknown one with the list of presets.
impl<'de> Deserialize<'de> for Preset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Preset, D::Error> {
        let name = String::deserialize(d)?;
        Preset::named(&name).map_err(serde::de::Error::custom)
    }
}

/// The preset named `name`, parsed and validated.
pub fn preset(name: &str) -> Result<SimConfig, DataError> {
    name.parse::<Preset>()?.config()
}
