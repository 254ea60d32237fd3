//! What a user sees on the terminal: log lines and per-run lines printed above the progress
//! bars (never through them), colours only when stderr is a terminal (not in Slurm logs), the
//! process exit codes, and an error as one line with each cause once.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::OnceLock;

use indicatif::MultiProgress;

/// Exit code of a command that failed (bad input, I/O, ...).
pub const EXIT_ERROR: u8 = 1;
/// Exit code of a grid that ran to its end but recorded failed or diverged runs (they are in
/// the records; `--retry-failed` trains them again).
pub const EXIT_RUNS_FAILED: u8 = 3;

/// The process's progress bars; everything printed to stderr goes above them.
pub fn bars() -> &'static MultiProgress {
    static MULTI: OnceLock<MultiProgress> = OnceLock::new();
    MULTI.get_or_init(MultiProgress::new)
}

/// Whether stderr is a terminal (bars and colours are drawn only then).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Prints one line to stderr above the progress bars.
pub fn line(msg: impl AsRef<str>) {
    let text = format!("{}\n", msg.as_ref());
    bars().suspend(|| {
        let _ = std::io::stderr().write_all(text.as_bytes());
    });
}

/// A log event, buffered and written above the bars in one piece when dropped.
pub struct LogLine(Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            bars().suspend(|| {
                let _ = std::io::stderr().write_all(&self.0);
            });
        }
    }
}

/// The tracing writer that prints above the bars.
#[derive(Clone, Copy, Debug, Default)]
pub struct BarWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BarWriter {
    type Writer = LogLine;
    fn make_writer(&'a self) -> LogLine {
        LogLine(Vec::new())
    }
}

/// Process set-up of every binary: [`adatt_engine::runtime::init`] (before any libtorch or rayon
/// thread exists, so that every worker inherits it), then logging at `RUST_LOG` (default
/// `info`) through [`BarWriter`], with ANSI colours only on a terminal.
pub fn init() {
    adatt_engine::runtime::init();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(BarWriter)
        .with_ansi(stderr_is_terminal())
        .try_init();
}

/// An error and its causes on one line, `a: b: c`, leaving out a cause whose text the line
/// already contains (a message that quotes its source). No backtrace: a user's mistake is not
/// a crash, whatever `RUST_BACKTRACE` says.
pub fn error_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    line
}

/// The end of every binary's `main`: the exit code of a run, or `error: <one line>` on stderr
/// and [`EXIT_ERROR`].
pub fn finish<E>(result: std::result::Result<ExitCode, E>) -> ExitCode
where
    E: AsRef<dyn std::error::Error + Send + Sync + 'static>,
{
    match result {
        Ok(code) => code,
        Err(e) => {
            let e: &(dyn std::error::Error + 'static) = e.as_ref();
            line(format!("error: {}", error_line(e)));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for E {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn an_error_chain_is_one_line_with_each_cause_once() {
        let chain = |v: &[&'static str]| {
            v.iter()
                .rev()
                .fold(None, |inner, m| Some(Box::new(E(m, inner))))
                .unwrap()
        };
        let cases: [(&[&str], &str); 3] = [
            (
                &["running c.toml", "no such file"],
                "running c.toml: no such file",
            ),
            // a message that quotes its source: the source is not repeated
            (
                &["running c.toml", "model `x`: bad dims", "bad dims"],
                "running c.toml: model `x`: bad dims",
            ),
            (&["only"], "only"),
        ];
        for (v, want) in cases {
            let e = chain(v);
            assert_eq!(error_line(e.as_ref()), want);
        }
    }
}
