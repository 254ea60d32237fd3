//! Errors of reading and checking configs, records and manifests, and of writing outputs.

use std::path::PathBuf;

/// Everything that can go wrong with a config, a record, a manifest or an output file.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A config file could not be read.
    #[error("cannot read config {path}: {source}")]
    ConfigIo {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A config file is not valid TOML for the experiment schema (unknown key, wrong type, ...).
    #[error("invalid config {path}: {message}")]
    ConfigParse {
        /// The file.
        path: PathBuf,
        /// toml's message, which names the key and line.
        message: String,
    },
    /// A config value is out of range.
    #[error("invalid config: `{key}` {message}")]
    ConfigValue {
        /// The dotted key, e.g. `train.lr`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A command-line or environment override is refused (named as the user gave it, e.g.
    /// `--seeds / ADATT_SEEDS`).
    #[error("`{name}` is invalid: {message}")]
    Override {
        /// The flag and its variable.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The model config was rejected by the models crate.
    #[error("model `{entry}`: {source}")]
    Model {
        /// The experiment entry name.
        entry: String,
        /// The cause.
        source: adatt_models::ModelError,
    },
    /// Another process is writing to this results directory.
    #[error(
        "{0} is in use by another run (it holds {0}/.lock); wait for it to finish, or stop it"
    )]
    Locked(PathBuf),
    /// Loading data failed.
    #[error(transparent)]
    Data(#[from] adatt_data::DataError),
    /// Reading results, or creating or locking their directory, failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing a file failed.
    #[error("{path}: {message}")]
    Saved {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A records file has a corrupt line that is not the (possibly interrupted) last one.
    #[error("{path}:{line}: corrupt record: {message}")]
    CorruptRecord {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// serde's message.
        message: String,
    },
    /// An invocation manifest does not parse.
    #[error("{path}:{line}: corrupt invocation manifest: {message}")]
    CorruptManifest {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// serde's message.
        message: String,
    },
    /// A bad `--shard k/N` argument.
    #[error("invalid shard `{0}`: expected k/N with 1 <= k <= N")]
    Shard(String),
    /// The final grid of a study was asked for before its tuning grid is complete.
    #[error(
        "the tuning is not complete: {0}. The final grid trains only with choices from the \
         complete tuning: run the tuning first (all its shards, or without --shard), then the \
         final grid"
    )]
    TuningIncomplete(String),
}

impl SpecError {
    /// A TOML parse error of `text` (read from `path`), its message as [`toml_message`].
    pub fn config_parse(path: &std::path::Path, text: &str, e: &toml::de::Error) -> Self {
        let message = toml_message(text, e);
        SpecError::ConfigParse {
            path: path.to_owned(),
            message,
        }
    }
}

/// A TOML error of `text` as one line: `line L, column C, `table.key`: what` (toml's own
/// Display spans several lines, with a drawing of the offending line).
pub fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let what = e.message().trim();
    let Some(span) = e.span() else {
        return what.to_owned();
    };
    let at = span.start.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count() + 1;
    let column = at - line_start + 1;
    match key_of_line(text, line_start) {
        Some(key) => format!("line {line}, column {column}, `{key}`: {what}"),
        None => format!("line {line}, column {column}: {what}"),
    }
}

/// The dotted key of the `key = value` line starting at byte `line_start` of `text`: the nearest
/// table header above it (`[peer]`, `[[models]]`) and the key before its `=`; `None` for any
/// other line.
fn key_of_line(text: &str, line_start: usize) -> Option<String> {
    let line = text[line_start..].lines().next().unwrap_or("");
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || key.starts_with(['#', '[']) {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .and_then(|l| l.trim_start_matches('[').split(']').next())
        .map(str::trim)
        .filter(|t| !t.is_empty());
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_owned(),
    })
}

/// Result alias.
pub type Result<T, E = SpecError> = std::result::Result<T, E>;
