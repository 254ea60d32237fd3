//! The memory a simulated world and a sample of it need, estimated from the config before
//! anything is allocated, and compared with the memory the machine has available
//! (`MemAvailable` in `/proc/meminfo`, or [`FALLBACK_AVAILABLE`] where that cannot be read): a
//! world or a sample that cannot fit is refused with both numbers instead of aborting in an
//! allocation or swapping for hours.
//!
//! The estimate counts the large buffers (per id, per calibration row, per sample row), not the
//! few kilobytes of task directions and sine terms.

/// Bytes assumed available where `/proc/meminfo` cannot be read (16 GiB).
pub const FALLBACK_AVAILABLE: u64 = 16 << 30;

/// One part of an estimate: the config key that sizes it, what it holds, and its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The setting that sizes it (`users`, `calibration_rows`, …).
    pub key: String,
    /// What it holds.
    pub what: &'static str,
    /// Its size in bytes (a float: a config can ask for more than `u64::MAX`).
    pub bytes: f64,
}

/// The memory that can be allocated, and where the number comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Available {
    /// Bytes.
    pub bytes: u64,
    /// Where the number comes from, for messages.
    pub from: String,
}

/// The buffers of a world while it is set up (`Simulator::new`), from the config alone:
/// - per user and per item, the Zipf table's cumulative probability and, while its latents are
///   whitened, its probability (8 + 8 bytes), and its latent (d f32: 4d bytes);
/// - per context value, its latent (4 · its dimension);
/// - per calibration row, the per-task raw scores (a vector: 8 bytes per task, 24 of header,
///   16 of allocator overhead) and, during one task's bias search, its standardised score (8).
pub fn world_parts(cfg: &super::SimConfig) -> Vec<Part> {
    let d = cfg.latent_dim as f64;
    let per_id = 16.0 + 4.0 * d;
    let contexts: f64 = cfg
        .contexts
        .iter()
        .zip(cfg.context_dims())
        .map(|(f, c)| 4.0 * f.cardinality as f64 * c as f64)
        .sum();
    let t = cfg.tasks.len() as f64;
    vec![
        part(
            "users",
            "user popularity and latents",
            cfg.users as f64 * per_id,
        ),
        part(
            "items",
            "item popularity and latents",
            cfg.items as f64 * per_id,
        ),
        part("contexts", "context latents", contexts),
        part(
            "calibration_rows",
            "calibration scores",
            cfg.calibration_rows as f64 * (48.0 + 8.0 * t),
        ),
    ]
}

/// The buffers of a sample of `rows` rows (`rows_key` names the setting): a row holds
/// 4 bytes per id feature, dense feature and task; generation holds its parts and the joined
/// rows, writing the rows and their table (the file's columns), so three copies at the peak; the
/// statistics mark each user and item seen (1 byte each).
pub fn sample_part(cfg: &super::SimConfig, rows: usize, rows_key: &str) -> Part {
    let row = 4.0 * (2 + cfg.contexts.len() + cfg.dense + cfg.tasks.len()) as f64;
    part(
        rows_key,
        "sample",
        3.0 * rows as f64 * row + (cfg.users as f64 + cfg.items as f64),
    )
}

fn part(key: &str, what: &'static str, bytes: f64) -> Part {
    Part {
        key: key.into(),
        what,
        bytes,
    }
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
pub fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut words = line.split_whitespace().skip(1);
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => value.checked_mul(1024),
        None => Some(value),
        Some(_) => None,
    }
}

/// The machine's available memory: `MemAvailable` of `/proc/meminfo`, else
/// [`FALLBACK_AVAILABLE`].
pub fn available() -> Available {
    match std::fs::read_to_string("/proc/meminfo")
        .ok()
        .as_deref()
        .and_then(parse_mem_available)
    {
        Some(bytes) => Available {
            bytes,
            from: "MemAvailable in /proc/meminfo".into(),
        },
        None => Available {
            bytes: FALLBACK_AVAILABLE,
            from: "a fixed limit: /proc/meminfo could not be read".into(),
        },
    }
}

/// Gigabytes (10^9 bytes) with one decimal.
fn gb(bytes: f64) -> String {
    format!("{:.1} GB", bytes / 1e9)
}

/// `Ok` if `parts` fit in `available`; otherwise the key of the largest part and a message
/// giving the need, its largest parts and the available memory.
pub fn check(parts: &[Part], available: &Available) -> Result<(), (String, String)> {
    let need: f64 = parts.iter().map(|p| p.bytes).sum();
    if need <= available.bytes as f64 {
        return Ok(());
    }
    let mut sorted: Vec<&Part> = parts.iter().filter(|p| p.bytes > 0.0).collect();
    sorted.sort_by(|a, b| b.bytes.total_cmp(&a.bytes));
    let detail = sorted
        .iter()
        .take(3)
        .map(|p| format!("{} {}", p.what, gb(p.bytes)))
        .collect::<Vec<_>>()
        .join(", ");
    Err((
        sorted[0].key.clone(),
        format!(
            "would need about {} of memory ({detail}), more than the {} available ({}); \
             nothing was allocated",
            gb(need),
            gb(available.bytes as f64),
            available.from
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::presets;

    #[test]
    fn mem_available_is_read_in_bytes() {
        let text = "MemTotal:       24683664 kB\nMemFree:  100 kB\nMemAvailable:   23452916 kB\n";
        assert_eq!(parse_mem_available(text), Some(23_452_916 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 5 kB\n"), None);
        assert_eq!(parse_mem_available("MemAvailable: lots kB\n"), None);
    }

    /// group3 (users 50,000, items 20,000, d = 8; contexts 24, 4 and 3 values with latents of
    /// 4, 3 and 2; 5 tasks, 200,000 calibration rows), by hand.
    #[test]
    fn the_world_estimate_is_the_sum_of_its_buffers() {
        let cfg = presets::preset("group3").unwrap();
        let bytes: Vec<f64> = world_parts(&cfg).iter().map(|p| p.bytes).collect();
        assert_eq!(
            bytes,
            vec![
                50_000.0 * 48.0,
                20_000.0 * 48.0,
                4.0 * (24.0 * 4.0 + 4.0 * 3.0 + 3.0 * 2.0),
                200_000.0 * (48.0 + 40.0),
            ]
        );
        // A row: user, item, 3 contexts, 4 dense, 5 tasks, 4 bytes each; three copies.
        let s = sample_part(&cfg, 1000, "--rows");
        assert_eq!(s.bytes, 3.0 * 1000.0 * 56.0 + 70_000.0);
        assert_eq!(s.key, "--rows");
    }

    /// 10^12 users need 48 TB (16 + 4 · 8 bytes each): refused on any machine, with the need,
    /// its largest part and the available memory in GB.
    #[test]
    fn a_world_over_the_available_memory_is_refused_with_both_numbers() {
        let mut cfg = presets::preset("group1").unwrap();
        cfg.users = 1_000_000_000_000;
        let parts = world_parts(&cfg);
        let available = Available {
            bytes: 64 << 30,
            from: "test".into(),
        };
        let (key, message) = check(&parts, &available).unwrap_err();
        assert_eq!(key, "users");
        let need = 48e12 + 20_000.0 * 48.0 + 4.0 * (24.0 * 4.0 + 12.0 + 6.0) + 200_000.0 * 64.0;
        assert!(
            message.starts_with(&format!(
                "would need about {:.1} GB of memory (user popularity and latents 48000.0 GB, ",
                need / 1e9
            )) && message.contains("more than the 68.7 GB available (test)"),
            "{message}"
        );
        // The same parts fit in as much memory as they need, not in a byte less.
        let exact = Available {
            bytes: need as u64,
            from: "test".into(),
        };
        assert!(check(&parts, &exact).is_ok());
        let less = Available {
            bytes: need as u64 - 1,
            from: "test".into(),
        };
        assert!(check(&parts, &less).is_err());
    }
}
