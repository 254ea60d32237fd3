//! One `bench` invocation, as the binary asks for it: the Census rows, each section, the
//! hidden child-process answers, and the whole bench as the text of `bench.{csv,md}`.

use std::path::Path;

use adatt_data::{CensusConfig, Dataset, Protocol};
use adatt_train::TrainData;
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

/// The Census rows every Census measurement trains on: the `paper` protocol, the framework's
/// split (seed 1), from `data/census-income`.
pub fn census() -> Result<Dataset> {
    Ok(adatt_data::load_census(&CensusConfig {
        data_dir: "data/census-income".into(),
        protocol: Protocol::Paper,
        split_seed: 1,
    })?)
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
    sim::section(sb, &cfg.train, threads, cfg.warmup_steps)
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
