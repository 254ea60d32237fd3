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

/// What a parent `bench` started this process to measure (its hidden arguments); the answer
/// is one JSON line on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Child {
    /// `--whole-run MODEL`: our whole run of `[[models]]` entry MODEL with `[peer]`'s settings.
    WholeRun(usize),
    /// `--whole-sim-run`: our whole run of `[simulator.peer]`.
    WholeSimRun,
    /// `--one INPUT MODEL R`: one CPU measurement of `[[models]]` entry MODEL on input path
    /// INPUT (indices into the config's lists) at R replicas.
    One([usize; 3]),
}

/// The hidden arguments with which a parent `bench` starts its child processes.
#[derive(clap::Args, Debug, Default)]
pub struct ChildArgs {
    /// Internal: our whole run of model MODEL (index in `[[models]]`) with `[peer]`'s settings,
    /// as JSON on stdout.
    #[arg(long, hide = true, value_name = "MODEL")]
    whole_run: Option<usize>,
    /// Internal: our whole run of `[simulator.peer]`, as JSON on stdout.
    #[arg(long, hide = true)]
    whole_sim_run: bool,
    /// Internal: measure one (input index, model index, R) on the CPU and print it as JSON.
    #[arg(long, hide = true, num_args = 3, value_names = ["INPUT", "MODEL", "R"])]
    one: Option<Vec<usize>>,
}

impl ChildArgs {
    /// The request these arguments carry, if any.
    pub fn request(&self) -> Result<Option<Child>> {
        Ok(if let Some(model) = self.whole_run {
            Some(Child::WholeRun(model))
        } else if self.whole_sim_run {
            Some(Child::WholeSimRun)
        } else if let Some(one) = &self.one {
            let idx = one.as_slice().try_into().map_err(|_| {
                BenchError::Unexpected(format!("--one takes 3 values, not {}", one.len()))
            })?;
            Some(Child::One(idx))
        } else {
            None
        })
    }
}

/// Answers `child` for the config at `config`: its measurement as one line of JSON.
pub fn child(cfg: &BenchConfig, config: &Path, child: Child) -> Result<String> {
    let json = match child {
        Child::WholeSimRun => serde_json::to_string(&whole_sim_run(cfg, config)?),
        Child::WholeRun(model) => {
            let ds = census(cfg, config)?;
            serde_json::to_string(&whole_run(cfg, config, &ds, model)?)
        }
        Child::One(idx) => serde_json::to_string(&one(cfg, &census(cfg, config)?, idx)?),
    };
    json.map_err(|e| BenchError::Unexpected(format!("{child:?}: {e}")))
}

fn whole_sim_run(cfg: &BenchConfig, config: &Path) -> Result<WholeRun> {
    let sb = cfg
        .simulator
        .as_ref()
        .ok_or_else(|| missing(config, "simulator"))?;
    crate::sim_peer::ours(sb, &cfg.train)
}

fn one(cfg: &BenchConfig, ds: &Dataset, [input, model, r]: [usize; 3]) -> Result<Measured> {
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

fn whole_run(cfg: &BenchConfig, config: &Path, ds: &Dataset, model: usize) -> Result<WholeRun> {
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
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        child: ChildArgs,
    }

    fn request(args: &[&str]) -> Option<Child> {
        let cli = Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied()));
        cli.unwrap().child.request().unwrap()
    }

    /// The hidden arguments the parents pass (peer.rs, sim_peer.rs, step.rs) read back as the
    /// request they stand for; no hidden argument is no request.
    #[test]
    fn hidden_arguments_read_back_as_their_requests() {
        assert_eq!(request(&[]), None);
        assert_eq!(request(&["--whole-run", "3"]), Some(Child::WholeRun(3)));
        assert_eq!(request(&["--whole-sim-run"]), Some(Child::WholeSimRun));
        assert_eq!(
            request(&["--one", "1", "0", "10"]),
            Some(Child::One([1, 0, 10]))
        );
        assert!(Cli::try_parse_from(["bench", "--one", "1", "0"]).is_err());
    }

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
