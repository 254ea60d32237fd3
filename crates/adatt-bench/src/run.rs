//! One `bench` invocation, as the binary asks for it: the Census rows, each section, the
//! hidden child-process answers, and the whole bench as the text of `bench.{csv,md}`.

use std::path::Path;

use adatt_data::Dataset;
use adatt_engine::TrainData;
use tch::Device;

use crate::config::invalid;
use crate::peer::{self, WholeRun};
use crate::step::{self, Measured, Selection};
use crate::{sim, BenchConfig, BenchError, Result};

/// The devices the throughput rows cover (CUDA only where present).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Devices {
    /// The CPU only.
    Cpu,
    /// CUDA device 0 only.
    Cuda,
    /// The CPU, then CUDA device 0.
    Both,
}

impl Devices {
    /// The devices to measure on this machine.
    pub fn present(self) -> Vec<Device> {
        let mut devices = Vec::new();
        if self != Devices::Cuda {
            devices.push(Device::Cpu);
        }
        if self != Devices::Cpu && tch::Cuda::is_available() {
            devices.push(Device::Cuda(0));
        }
        devices
    }
}

/// The Census rows every Census measurement trains on: `[census]` of the config at `config`
/// (data directory, protocol, split seed). A failure to load them names the file and the
/// section.
pub fn census(cfg: &BenchConfig, config: &Path) -> Result<Dataset> {
    adatt_data::load_census(&cfg.census).map_err(|e| invalid(config, "census", e.to_string()))
}

/// The section the config at `config` lacks, as an error naming it.
fn missing(config: &Path, section: &str) -> BenchError {
    invalid(
        config,
        section,
        format!("the config has no [{section}] section"),
    )
}

/// The `[peer]` section of `bench.md`, on `threads` threads in all.
pub fn peer_section(cfg: &BenchConfig, config: &Path, threads: usize) -> Result<String> {
    let pb = cfg.peer.as_ref().ok_or_else(|| missing(config, "peer"))?;
    peer::section(config, cfg, pb, threads)
}

/// The `[simulator]` section of `bench.md`, on `threads` threads.
pub fn simulator_section(cfg: &BenchConfig, config: &Path, threads: usize) -> Result<String> {
    let sb = cfg
        .simulator
        .as_ref()
        .ok_or_else(|| missing(config, "simulator"))?;
    sim::section(config, sb, &cfg.train, threads, cfg.warmup_steps)
}

/// A child's hidden `--whole-sim-run`: our whole run of `[simulator.peer]`.
pub fn whole_sim_run(cfg: &BenchConfig, config: &Path) -> Result<WholeRun> {
    let sb = cfg
        .simulator
        .as_ref()
        .ok_or_else(|| missing(config, "simulator"))?;
    crate::sim_peer::ours(sb, &cfg.train)
}

/// A child's hidden `--one INPUT MODEL R`: one CPU measurement of `[[models]]` entry MODEL on
/// input path INPUT (indices into the config's lists) at R replicas.
pub fn one(cfg: &BenchConfig, ds: &Dataset, [input, model, r]: [usize; 3]) -> Result<Measured> {
    let input = *cfg
        .inputs
        .get(input)
        .ok_or_else(|| BenchError::Unexpected(format!("--one: no input {input}")))?;
    let bm = cfg
        .models
        .get(model)
        .ok_or_else(|| BenchError::Unexpected(format!("--one: no model {model}")))?;
    let data = TrainData::new(ds, input, Device::Cpu, 0);
    step::measure(&data, bm, cfg, r)
}

/// A child's hidden `--whole-run MODEL`: our whole run of `[[models]]` entry MODEL with
/// `[peer]`'s settings.
pub fn whole_run(cfg: &BenchConfig, config: &Path, ds: &Dataset, model: usize) -> Result<WholeRun> {
    let pb = cfg.peer.as_ref().ok_or_else(|| missing(config, "peer"))?;
    let bm = cfg
        .models
        .get(model)
        .ok_or_else(|| BenchError::Unexpected(format!("--whole-run: no model {model}")))?;
    peer::ours(ds, bm, &cfg.train, pb)
}

/// The whole bench: the throughput rows `sel` selects, then the peer and simulator sections
/// the config has; `bench.csv` and `bench.md` as text.
pub fn full(cfg: &BenchConfig, ds: &Dataset, sel: &Selection<'_>) -> Result<(String, String)> {
    let rows = step::rows(cfg, ds, sel)?;
    let (csv, mut md) = step::tables(&rows, cfg, sel.threads, ds.train.n_rows);
    if cfg.peer.is_some() {
        md.push_str(&peer_section(cfg, sel.config, sel.threads)?);
    }
    if cfg.simulator.is_some() {
        md.push_str(&simulator_section(cfg, sel.config, sel.threads)?);
    }
    Ok((csv, md))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Census files that cannot be loaded are one error naming the config's file and its
    /// `[census]` section, with the loader's reason.
    #[test]
    fn census_rows_that_cannot_be_loaded_name_the_config_and_its_section() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/bench.toml");
        let mut cfg = BenchConfig::load(&shipped).unwrap();
        let dir = tempfile::tempdir().unwrap();
        cfg.census.data_dir = dir.path().join("nowhere");
        let Err(e) = census(&cfg, Path::new("my-bench.toml")) else {
            panic!("no Census files there");
        };
        let e = e.to_string();
        assert!(
            e.starts_with("my-bench.toml: `census`: data file not found: "),
            "{e}"
        );
        assert!(e.contains("nowhere, which does not exist"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}
