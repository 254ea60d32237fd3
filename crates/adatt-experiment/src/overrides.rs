//! Command-line / environment overrides shared by every binary (`--seeds` or `ADATT_SEEDS=`,
//! `--protocol` / `ADATT_PROTOCOL=`, `--threads` / `ADATT_THREADS=`, `--device` /
//! `ADATT_DEVICE=`, `--replicas` / `ADATT_REPLICAS=`). The environment variables carry the
//! project prefix, so that a `SEEDS` or `THREADS` a shell sets for something else is not read;
//! the Makefile passes its `SEEDS=`/`PROTOCOL=` variables on under these names.

use std::path::{Path, PathBuf};

use adatt_data::Protocol;

use adatt_spec::config::{DataConfig, DeviceChoice, RunConfig, Seeds, MAX_SEEDS};
use adatt_spec::{Result, SpecError};

/// Parsed overrides; `None` keeps the config's value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// Seeds.
    pub seeds: Option<Seeds>,
    /// Protocol.
    pub protocol: Option<Protocol>,
    /// Threads.
    pub threads: Option<usize>,
    /// Device.
    pub device: Option<DeviceChoice>,
    /// Replicas per group.
    pub replicas: Option<usize>,
}

fn bad(name: &str, message: String) -> SpecError {
    SpecError::Override {
        name: name.into(),
        message,
    }
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl Overrides {
    /// The overrides as given: the seeds as text (a count `N` for seeds 0..N, or a list
    /// `0,3,7`; empty counts as absent, so `ADATT_SEEDS= make …` is harmless), the rest typed
    /// (the binaries parse them with clap, which names the flag on a bad value).
    pub fn parse(
        seeds: Option<&str>,
        protocol: Option<Protocol>,
        threads: Option<usize>,
        device: Option<DeviceChoice>,
        replicas: Option<usize>,
    ) -> Result<Self> {
        let seeds = nonempty(seeds)
            .map(|s| -> Result<Seeds> {
                const KEY: &str = "--seeds / ADATT_SEEDS";
                if s.contains(',') {
                    let v = s
                        .split(',')
                        .map(|x| x.trim().parse::<u64>())
                        .collect::<std::result::Result<Vec<u64>, _>>()
                        .map_err(|e| bad(KEY, format!("`{s}`: {e}")))?;
                    let mut seen = std::collections::BTreeSet::new();
                    if let Some(d) = v.iter().find(|x| !seen.insert(**x)) {
                        return Err(bad(KEY, format!("`{s}`: seed {d} is listed twice")));
                    }
                    Ok(Seeds::List(v))
                } else {
                    let n: u64 = s.parse().map_err(|e| bad(KEY, format!("`{s}`: {e}")))?;
                    if n == 0 {
                        return Err(bad(KEY, "must be at least 1".into()));
                    }
                    if n > MAX_SEEDS {
                        return Err(bad(
                            KEY,
                            format!("{n} seeds: a grid takes at most {MAX_SEEDS} seeds"),
                        ));
                    }
                    Ok(Seeds::Range { start: 0, count: n })
                }
            })
            .transpose()?;
        Ok(Overrides {
            seeds,
            protocol,
            threads,
            device,
            replicas,
        })
    }

    /// Apply to a data and run config.
    pub fn apply(&self, data: &mut DataConfig, run: &mut RunConfig) {
        if let Some(s) = &self.seeds {
            run.seeds = s.clone();
        }
        if let Some(p) = self.protocol {
            data.set_protocol(p);
        }
        if let Some(t) = self.threads {
            run.threads = t;
        }
        if let Some(d) = self.device {
            run.device = d;
        }
        if let Some(r) = self.replicas {
            run.replicas = r;
        }
    }
}

/// Where the analysis of a seed override goes: `None` when `used` are the config's own seeds,
/// else a subdirectory name such as `seeds-0-4` (seeds 0..5) or `seeds-1_5-7` (1, 5, 6, 7).
/// Records are keyed by config and seed, so an override shares the results directory's records
/// (and adds to them), but its tables must not overwrite the full run's.
pub fn seeds_subdir(configured: &Seeds, used: &Seeds) -> Option<String> {
    let mut v = used.to_vec();
    if v == configured.to_vec() {
        return None;
    }
    v.sort_unstable();
    v.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        parts.push(if j == i {
            v[i].to_string()
        } else {
            format!("{}-{}", v[i], v[j])
        });
        i = j + 1;
    }
    Some(format!("seeds-{}", parts.join("_")))
}

/// The directory a grid's analysis writes to: `records_dir` itself for the config's own seeds,
/// else its [`seeds_subdir`].
pub fn report_dir(records_dir: &Path, configured: &Seeds, used: &Seeds) -> PathBuf {
    match seeds_subdir(configured, used) {
        Some(sub) => records_dir.join(sub),
        None => records_dir.to_owned(),
    }
}

/// Intra-op threads to use: `n`, or all cores for 0.
pub fn resolve_threads(n: usize) -> usize {
    if n == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_reject() {
        let o = Overrides::parse(
            Some("3"),
            Some(Protocol::Clean),
            Some(2),
            Some(DeviceChoice::Cpu),
            Some(4),
        )
        .unwrap();
        assert_eq!(o.seeds, Some(Seeds::Range { start: 0, count: 3 }));
        assert_eq!(o.protocol, Some(Protocol::Clean));
        let o = Overrides::parse(Some("1, 5"), None, None, None, None).unwrap();
        assert_eq!(o.seeds, Some(Seeds::List(vec![1, 5])));
        assert_eq!(
            Overrides::parse(Some(" "), None, None, None, None)
                .unwrap()
                .seeds,
            None
        );
        for s in ["x", "0", "1,-2"] {
            assert!(
                Overrides::parse(Some(s), None, None, None, None).is_err(),
                "{s}"
            );
        }
        // REPLICAS=0 means auto (see `RunConfig::resolve_replicas`).
        let o = Overrides::parse(None, None, None, None, Some(0)).unwrap();
        assert_eq!(o.replicas, Some(0));
        // what clap parses the typed overrides with
        assert_eq!("cuda".parse::<DeviceChoice>(), Ok(DeviceChoice::Cuda));
        assert!("tpu".parse::<DeviceChoice>().is_err());
        assert!("dirty".parse::<Protocol>().is_err());
    }

    /// A repeated seed or a count no machine could plan is refused at once, blaming the
    /// override (the config file is not at fault).
    #[test]
    fn seed_overrides_refuse_repeats_and_counts_past_the_limit() {
        for (s, fragment) in [
            ("1,1,2", "seed 1 is listed twice"),
            ("18446744073709551615", "a grid takes at most 1000000 seeds"),
            ("4294967296", "a grid takes at most 1000000 seeds"),
            ("1000001", "a grid takes at most 1000000 seeds"),
        ] {
            let e = Overrides::parse(Some(s), None, None, None, None).unwrap_err();
            match &e {
                SpecError::Override { name, message } => {
                    assert_eq!(name, "--seeds / ADATT_SEEDS", "{s}");
                    assert!(message.contains(fragment), "{s}: {message}");
                }
                other => panic!("{s}: {other:?}"),
            }
        }
        let o = Overrides::parse(Some("1000000"), None, None, None, None).unwrap();
        assert_eq!(
            o.seeds,
            Some(Seeds::Range {
                start: 0,
                count: 1_000_000
            })
        );
    }

    #[test]
    fn a_seed_override_names_its_own_report_directory() {
        let hundred = Seeds::Range {
            start: 0,
            count: 100,
        };
        let range = |start, count| Seeds::Range { start, count };
        let cases = [
            (range(0, 100), None),
            (Seeds::List((0..100).collect()), None),
            (range(0, 5), Some("seeds-0-4")),
            (range(7, 1), Some("seeds-7")),
            (Seeds::List(vec![7, 1, 5, 6]), Some("seeds-1_5-7")),
            (Seeds::List(vec![0, 1, 2, 9, 10]), Some("seeds-0-2_9-10")),
        ];
        for (used, want) in cases {
            assert_eq!(seeds_subdir(&hundred, &used).as_deref(), want, "{used:?}");
        }
    }
}
