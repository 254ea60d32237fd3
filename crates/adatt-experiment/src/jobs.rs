//! Process-parallel grids: `N` shard processes with one intra-op thread each.
//!
//! On a 2-core CPU two processes with one libtorch thread each trained 1.6× more steps per
//! second than one process with two threads (docs/performance.md): at batch 512 most ops are
//! too small to split well across threads, and libgomp's idle workers spin between ops. Threads
//! inside one process did not give the gain (measured: 19 ms per step each, the same total), so
//! the unit of parallelism is a process running `--shard k/N` of the grid; records of all
//! shards merge on read ([`crate::records::read_all_records`]).

use std::process::Command;

use tch::Device;

use adatt_spec::records::Shard;

use crate::{ExperimentError, Result};

/// Number of shard processes for `jobs` (0 = auto: one per core on the CPU, 1 on CUDA).
pub fn resolve_jobs(jobs: usize, device: Device) -> usize {
    match (jobs, device) {
        (0, Device::Cpu) => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        (0, _) => 1,
        (j, _) => j,
    }
}

/// Runs this executable `jobs` times at once, child `k` with `args(Shard { k, n: jobs })`, and
/// waits for all of them. Fails if any child fails (after all have finished), naming each;
/// otherwise returns how many children exited with [`crate::term::EXIT_RUNS_FAILED`] (their
/// grids ran to the end but recorded failed or diverged runs).
pub fn run_shards(jobs: usize, args: impl Fn(Shard) -> Vec<String>) -> Result<usize> {
    let exe = current_exe()?;
    let mut children = Vec::with_capacity(jobs);
    for k in 1..=jobs {
        let shard = Shard { k, n: jobs };
        let a = args(shard);
        tracing::info!(shard = %format!("{k}/{jobs}"), args = ?a, "starting shard process");
        let child = Command::new(&exe)
            .args(&a)
            .spawn()
            .map_err(|e| ExperimentError::Jobs(format!("starting {} {a:?}: {e}", exe.display())))?;
        children.push((shard, child));
    }
    let mut failed = Vec::new();
    let mut with_failed_runs = 0;
    for (shard, mut child) in children {
        match child.wait() {
            Ok(s) if s.success() => {}
            Ok(s) if s.code() == Some(i32::from(crate::term::EXIT_RUNS_FAILED)) => {
                with_failed_runs += 1
            }
            Ok(s) => failed.push(format!("shard {}/{}: {s}", shard.k, shard.n)),
            Err(e) => failed.push(format!("shard {}/{}: {e}", shard.k, shard.n)),
        }
    }
    if failed.is_empty() {
        Ok(with_failed_runs)
    } else {
        Err(ExperimentError::Jobs(format!(
            "{} of {jobs} shard processes failed ({}); their finished runs are recorded, rerun \
             to resume",
            failed.len(),
            failed.join("; ")
        )))
    }
}

/// This executable's path. If it was rebuilt while running (Linux then reports
/// `<path> (deleted)`), the shard processes run the new build at the same path.
fn current_exe() -> Result<std::path::PathBuf> {
    let exe =
        std::env::current_exe().map_err(|e| ExperimentError::Jobs(format!("current_exe: {e}")))?;
    let s = exe.to_string_lossy();
    Ok(match s.strip_suffix(" (deleted)") {
        Some(live) => std::path::PathBuf::from(live),
        None => exe,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_jobs_are_one_per_core_on_cpu_and_one_on_cuda() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(resolve_jobs(0, Device::Cpu), cores);
        assert_eq!(resolve_jobs(0, Device::Cuda(0)), 1);
        assert_eq!(resolve_jobs(3, Device::Cpu), 3);
        assert_eq!(resolve_jobs(3, Device::Cuda(0)), 3);
    }
}
