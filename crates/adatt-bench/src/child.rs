//! The bench's child processes: started together, each printing one JSON result on stdout.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{BenchError, Result};

fn failed(command: &str, message: String) -> BenchError {
    BenchError::Child {
        command: command.to_owned(),
        message,
    }
}

/// The project venv's python (`make` exports both variables), else `python3`: what runs the
/// PyTorch peers.
pub(crate) fn venv_python() -> PathBuf {
    ["ADATT_VENV", "VIRTUAL_ENV"]
        .iter()
        .find_map(std::env::var_os)
        .map(|v| std::path::Path::new(&v).join("bin/python"))
        .unwrap_or_else(|| "python3".into())
}

/// This executable, to start again with a hidden argument; `what` names it in the error.
pub(crate) fn this_exe(what: &str) -> Result<PathBuf> {
    std::env::current_exe().map_err(|e| failed(what, format!("cannot find this executable: {e}")))
}

/// Starts every command at once (stdout piped, stderr inherited), waits for all, and parses
/// each one's stdout as JSON; `what` and the program name them in errors.
pub(crate) fn run_all_json<T: serde::de::DeserializeOwned>(
    commands: Vec<Command>,
    what: &str,
) -> Result<Vec<T>> {
    let children: Vec<_> = commands
        .into_iter()
        .map(|mut c| {
            let command = format!("{what} ({})", c.get_program().to_string_lossy());
            match c.stderr(Stdio::inherit()).stdout(Stdio::piped()).spawn() {
                Ok(child) => Ok((child, command)),
                Err(e) => Err(failed(&command, format!("cannot start: {e}"))),
            }
        })
        .collect::<Result<_>>()?;
    children
        .into_iter()
        .map(|(c, command)| {
            let out = c
                .wait_with_output()
                .map_err(|e| failed(&command, format!("cannot read its output: {e}")))?;
            if !out.status.success() {
                return Err(failed(&command, format!("failed: {}", out.status)));
            }
            serde_json::from_slice(&out.stdout)
                .map_err(|e| failed(&command, format!("its result does not parse: {e}")))
        })
        .collect()
}
