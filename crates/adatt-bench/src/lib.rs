//! `make bench`: what it times, how, and the tables it makes.
//!
//! * [`config`]: `configs/bench.toml` ([`BenchConfig`]), read and checked before anything runs.
//! * [`step`]: throughput of the training loop's own step (`adatt_engine::Learner`) per device ×
//!   processes × input path × architecture × R, and `bench.csv` / the head of `bench.md`.
//! * [`peer`]: whole runs of ours and of a plain PyTorch loop (`scripts/bench/peer.py`) back to
//!   back on this machine, and their same-run ratios.
//! * [`run`]: one invocation as the `bench` binary asks for it (the sections, the hidden
//!   child answers, the whole bench as text).
//! * [`sim`]: the task-group simulator's generation against the training it feeds, and the
//!   embedding tables' step, dense against sparse.
//!
//! Child processes: with `jobs` > 1, [`step::rows`] runs the calling executable again with the
//! hidden arguments `--config C --threads T --one INPUT MODEL R` (it must print one
//! [`step::measure`] as JSON on stdout), and [`peer::section`] with `--config C --threads T
//! --whole-run MODEL` (one [`peer::ours`]); `experiments/bench` is that executable. The peer is
//! `python scripts/bench/peer.py`, relative to the working directory.

mod child;
pub mod config;
pub mod error;
pub mod peer;
pub mod run;
pub mod sim;
pub mod sim_peer;
pub mod step;

pub use config::{BenchConfig, BenchModel};
pub use error::{BenchError, Result};
