//! The experiment layer: a config (`configs/*.toml`) from the command line to its results.
//! `adatt run` / `adatt analyze`, the grid experiment binaries (`experiments/ablation`,
//! `expert_count`, `fusion_levels`, `expert_weights`) and the study binary (`experiments/table5`)
//! are thin wrappers: parse the arguments ([`GridArgs`], [`TrainArgs`], [`StudyArgs`]), call
//! [`run`] / [`analyze`] / [`run_study`], exit with the code. [`experiment_main`] and
//! [`study_main`] are the whole `main` of an experiment binary.
//!
//! Training a grid (`grid::train_grid`, for a plain grid and for each phase of a study): the
//! config with its overrides is validated (model configs included) before any data is loaded;
//! its missing runs train as `--jobs` shard processes of this executable (the parent holds the
//! results lock and merges the shards' records), as one `--shard k/N` slice, or in this process.

mod args;
mod grid;
pub mod jobs;
pub mod overrides;
pub mod predict;
pub mod provenance;
pub mod runner;
pub mod snapshots;
mod study;
pub mod term;

use std::process::ExitCode;

pub use args::{GridArgs, TrainArgs};
pub use grid::{analyze, run};
pub use study::{run_study, Phase, StudyArgs};

/// Errors of the experiment layer.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A config, override, record or output file is refused or cannot be read or written.
    #[error(transparent)]
    Spec(#[from] adatt_spec::SpecError),
    /// Loading data or training failed.
    #[error(transparent)]
    Engine(#[from] adatt_engine::EngineError),
    /// A shard process could not start or failed.
    #[error("parallel jobs: {0}")]
    Jobs(String),
    /// The code has uncommitted changes and `--allow-dirty` was not given, the binary was built
    /// from another commit than its checkout's HEAD, or the patch could not be written
    /// ([`provenance`]).
    #[error("{0}")]
    DirtyCode(String),
    /// A trained run cannot be used as asked (`predict`): what is missing or does not match.
    #[error("{0}")]
    Saved(String),
    /// Reading rows to predict on failed.
    #[error(transparent)]
    Data(#[from] adatt_data::DataError),
    /// Writing the tables or figures failed.
    #[error(transparent)]
    Analysis(#[from] adatt_analysis::AnalysisError),
    /// A failure with what was being done.
    #[error("{context}")]
    Context {
        /// What was being done, e.g. `running configs/table7.toml`.
        context: String,
        /// The failure.
        #[source]
        source: Box<ExperimentError>,
    },
}

/// Result alias.
pub type Result<T, E = ExperimentError> = std::result::Result<T, E>;

fn context<T, E: Into<ExperimentError>>(
    r: std::result::Result<T, E>,
    what: impl FnOnce() -> String,
) -> Result<T> {
    r.map_err(|e| ExperimentError::Context {
        context: what(),
        source: Box::new(e.into()),
    })
}

/// The command line of a grid experiment binary: its grid (`--config` defaults to the
/// experiment's own config), how to train it, or only its analysis.
#[derive(clap::Parser, Debug)]
pub struct ExperimentArgs {
    /// The grid and its overrides.
    #[command(flatten)]
    pub grid: GridArgs,
    /// How to train it.
    #[command(flatten)]
    pub train: TrainArgs,
    /// Only write the tables and figures from the records (no training).
    #[arg(long)]
    pub analyze: bool,
}

/// Terminal set-up, then `A` parsed from the command line with `about` as the help text and
/// `default_config` as `--config`'s default, then `body`, its errors as one line and its exit
/// code.
fn main_with<A: clap::Parser>(
    about: &'static str,
    default_config: &'static str,
    body: impl FnOnce(A) -> Result<ExitCode>,
) -> ExitCode {
    crate::term::init();
    let cmd = A::command().about(about).mut_arg("config", |a| {
        a.default_value(default_config).required(false)
    });
    let matches = match cmd.clone().try_get_matches() {
        Ok(m) => m,
        Err(e) => exit_on_parse_error(&cmd, e),
    };
    let args = match A::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => exit_on_parse_error(&cmd, e),
    };
    crate::term::finish(body(args).map_err(Box::<dyn std::error::Error + Send + Sync>::from))
}

/// Exits on a command-line error as clap does (usage errors with code 2, help and version
/// with 0), except that a bad value read from an `ADATT_*` environment variable is blamed on
/// the variable, not on the flag the user did not type.
pub fn exit_on_parse_error(cmd: &clap::Command, e: clap::Error) -> ! {
    if let Some(line) = env_value_error(cmd, &e, std::env::args_os()) {
        eprintln!("error: {line}");
        std::process::exit(2);
    }
    e.exit()
}

/// The message of a clap value error whose value came from the environment: the flag's
/// `'--jobs <JOBS>'` replaced by the variable, or `None` when the flag was on the command line
/// or the value is not the variable's.
fn env_value_error(
    cmd: &clap::Command,
    e: &clap::Error,
    argv: impl Iterator<Item = std::ffi::OsString>,
) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let ContextValue::String(arg) = e.get(ContextKind::InvalidArg)? else {
        return None;
    };
    let ContextValue::String(value) = e.get(ContextKind::InvalidValue)? else {
        return None;
    };
    let long = arg.strip_prefix("--")?.split([' ', '=']).next()?;
    let var = env_of(cmd, long)?;
    let typed = argv.skip(1).any(|a| {
        a.to_str()
            .is_some_and(|a| a == format!("--{long}") || a.starts_with(&format!("--{long}=")))
    });
    if typed || std::env::var(&var).ok().as_deref() != Some(value.as_str()) {
        return None;
    }
    let first = e.render().to_string();
    let first = first
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ");
    Some(first.replace(&format!("'{arg}'"), &format!("{var} (read for --{long})")))
}

/// The environment variable of the flag `--{long}` of `cmd` or of one of its subcommands.
fn env_of(cmd: &clap::Command, long: &str) -> Option<String> {
    cmd.get_arguments()
        .find(|a| a.get_long() == Some(long))
        .and_then(|a| a.get_env()?.to_str().map(str::to_owned))
        .or_else(|| cmd.get_subcommands().find_map(|c| env_of(c, long)))
}

/// The whole `main` of a grid experiment binary whose config is `default_config`: [`run`], or
/// [`analyze`] with `--analyze`.
pub fn experiment_main(about: &'static str, default_config: &'static str) -> ExitCode {
    main_with(about, default_config, |a: ExperimentArgs| {
        if a.analyze {
            analyze(&a.grid).map(|()| ExitCode::SUCCESS)
        } else {
            run(&a.grid, &a.train, &[])
        }
    })
}

/// The whole `main` of a study binary whose config is `default_config` ([`run_study`]).
pub fn study_main(about: &'static str, default_config: &'static str) -> ExitCode {
    main_with(about, default_config, |a: StudyArgs| run_study(&a))
}
