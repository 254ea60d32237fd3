//! The command-line arguments every grid binary shares: which grid with which overrides
//! ([`GridArgs`]) and how to train it ([`TrainArgs`]).

use std::path::PathBuf;

use adatt_spec::{DeviceChoice, ExperimentConfig, Protocol, Shard};

use crate::overrides::Overrides;

use crate::{context, Result};

/// Which grid, with which overrides.
#[derive(clap::Args, Clone, Debug)]
pub struct GridArgs {
    /// Experiment config (TOML).
    #[arg(long)]
    pub config: PathBuf,
    /// Override the seeds: a count N (seeds 0..N) or a list "0,1,5".
    #[arg(long, env = "ADATT_SEEDS")]
    pub seeds: Option<String>,
    /// Override the data protocol: paper or clean.
    #[arg(long, env = "ADATT_PROTOCOL")]
    pub protocol: Option<Protocol>,
    /// Override the output directory (may be anywhere; a config's own `output_dir` must stay
    /// inside the project).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Intra-op threads (default: config, else all cores).
    #[arg(long, env = "ADATT_THREADS")]
    pub threads: Option<usize>,
    /// Device: cpu, cuda or auto.
    #[arg(long, env = "ADATT_DEVICE")]
    pub device: Option<DeviceChoice>,
    /// Replicas per group.
    #[arg(long, env = "ADATT_REPLICAS")]
    pub replicas: Option<usize>,
}

/// How to train a grid.
#[derive(clap::Args, Clone, Debug)]
pub struct TrainArgs {
    /// Only this slice of the grid: k/N (1-based).
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Skip the analysis step.
    #[arg(long)]
    pub no_analysis: bool,
    /// Train runs recorded as failed or diverged again (a finished retry supersedes them).
    #[arg(long)]
    pub retry_failed: bool,
    /// Shard processes, each with THREADS/JOBS intra-op threads (0 = auto: one per core on
    /// the CPU, 1 on CUDA). Ignored with --shard.
    #[arg(long, env = "ADATT_JOBS", default_value_t = 0)]
    pub jobs: usize,
    /// Train from a checkout with changes outside results/ (refused without it): the changes
    /// are saved beside the records as code-<hash>.patch and the records name the code
    /// `<revision>-dirty-<hash>`.
    #[arg(long, env = "ADATT_ALLOW_DIRTY", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub allow_dirty: bool,
    /// Minutes of training between two snapshots of a one-pass run's replica group (a simulated
    /// stream read once), from which the same grid run again from the same commit continues a
    /// stopped run; 0: no snapshots.
    #[arg(long, env = "ADATT_SNAPSHOT_MINUTES", default_value_t = 10.0, value_parser = minutes, allow_negative_numbers = true)]
    pub snapshot_minutes: f64,
    /// Internal (shard processes of --jobs): the parent's code revision.
    #[arg(long, hide = true)]
    pub code_revision: Option<String>,
    /// Internal (shard processes of --jobs): `--config` is the grid config the parent resolved
    /// (its overrides applied, the shard's threads set), trained as it is: overrides given on
    /// the command line or in `ADATT_*` are not applied again.
    #[arg(long, hide = true)]
    pub resolved: bool,
}

impl GridArgs {
    /// The overrides given on the command line or in `ADATT_*`.
    pub(crate) fn overrides(&self) -> Result<Overrides> {
        Ok(Overrides::parse(
            self.seeds.as_deref(),
            self.protocol,
            self.threads,
            self.device,
            self.replicas,
        )?)
    }

    /// The config with the overrides applied and validated (model configs included, before
    /// any data is loaded), and the directory its analysis goes to (a `seeds-…` subdirectory
    /// of the results for a seed override; see `crate::overrides::seeds_subdir`).
    pub fn load(&self) -> Result<(ExperimentConfig, PathBuf)> {
        let mut cfg = ExperimentConfig::load(&self.config)?;
        let configured_seeds = cfg.run.seeds.clone();
        let configured = cfg.data.label();
        context(
            cfg.data
                .check_protocol_override(self.protocol, "--protocol / ADATT_PROTOCOL"),
            || format!("config {}", self.config.display()),
        )?;
        self.overrides()?.apply(&mut cfg.data, &mut cfg.run);
        // Another protocol's results go to their own subdirectory (the default output directory
        // names the protocol already).
        if let (true, Some(dir)) = (cfg.data.label() != configured, &cfg.output_dir) {
            cfg.output_dir = Some(dir.join(cfg.data.label()));
        }
        context(cfg.validate(cfg.data.n_tasks()), || {
            format!("config {}", self.config.display())
        })?;
        // An explicit --out may point anywhere (checked after the config's own output_dir).
        if let Some(o) = &self.out {
            cfg.output_dir = Some(o.clone());
        }
        let report =
            crate::overrides::report_dir(&cfg.output_dir(), &configured_seeds, &cfg.run.seeds);
        Ok((cfg, report))
    }

    /// The grid config a parent resolved for its shard processes (`--resolved`): loaded and
    /// validated as it is, with no override applied, writing to `--out`.
    pub(crate) fn load_resolved(&self) -> Result<ExperimentConfig> {
        let mut cfg = ExperimentConfig::load(&self.config)?;
        if let Some(o) = &self.out {
            cfg.output_dir = Some(o.clone());
        }
        Ok(cfg)
    }
}

impl TrainArgs {
    /// Whether this process is a shard process started by a parent.
    pub(crate) fn is_child(&self) -> bool {
        self.resolved
    }

    /// The training time between two snapshots, if any are taken.
    pub(crate) fn snapshot_every(&self) -> Option<std::time::Duration> {
        (self.snapshot_minutes > 0.0)
            .then(|| std::time::Duration::from_secs_f64(self.snapshot_minutes * 60.0))
    }
}

/// A number of minutes: finite and not negative.
fn minutes(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(m) if m.is_finite() && m >= 0.0 => Ok(m),
        _ => Err(format!(
            "`{s}` is not a number of minutes (0 or more; 0 takes no snapshots)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        train: TrainArgs,
    }

    #[test]
    fn snapshot_minutes_are_a_non_negative_number_and_zero_turns_snapshots_off() {
        let every = |args: &[&str]| {
            Cli::try_parse_from([&["bin"], args].concat())
                .map(|c| c.train.snapshot_every())
                .map_err(|e| e.to_string())
        };
        assert_eq!(every(&[]), Ok(Some(std::time::Duration::from_secs(600))));
        assert_eq!(
            every(&["--snapshot-minutes", "0.5"]),
            Ok(Some(std::time::Duration::from_secs(30)))
        );
        assert_eq!(every(&["--snapshot-minutes", "0"]), Ok(None));
        for bad in ["-1", "NaN", "ten"] {
            let e = every(&["--snapshot-minutes", bad]).unwrap_err();
            assert!(
                e.contains(&format!(
                    "`{bad}` is not a number of minutes (0 or more; 0 takes no snapshots)"
                )) && e.contains("--snapshot-minutes"),
                "{e}"
            );
        }
    }
}
