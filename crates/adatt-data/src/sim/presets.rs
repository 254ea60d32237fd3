//! The task-group presets, compiled in from `configs/sim/*.toml` (so they need no working
//! directory): `group1` (Tables 1-2), `group2` (Table 3), `group3` (Tables 4, 6-8) and `fig3`
//! (Figure 3).

use super::SimConfig;
use crate::DataError;

/// Every preset: name and TOML text.
pub const PRESETS: [(&str, &str); 4] = [
    (
        "group1",
        include_str!("../../../../configs/sim/group1.toml"),
    ),
    (
        "group2",
        include_str!("../../../../configs/sim/group2.toml"),
    ),
    (
        "group3",
        include_str!("../../../../configs/sim/group3.toml"),
    ),
    ("fig3", include_str!("../../../../configs/sim/fig3.toml")),
];

/// The preset `name`, parsed and validated.
pub fn preset(name: &str) -> Result<SimConfig, DataError> {
    match PRESETS.iter().find(|(n, _)| *n == name) {
        Some((n, text)) => SimConfig::from_toml_str(text, &format!("preset {n}")),
        None => Err(DataError::Simulator {
            source_name: format!("preset {name}"),
            key: "preset".into(),
            message: format!(
                "unknown preset `{name}`; the presets are {}",
                PRESETS.map(|(n, _)| n).join(", ")
            ),
        }),
    }
}
