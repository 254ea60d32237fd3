//! `adatt load-table --config C.toml`: a table config's data read, split and encoded, and its
//! rows made into the tensors training reads, without training: what a user checks before a
//! grid (rows per split, each task's training rate or mean, vocabulary sizes, dense columns),
//! and how fast and in how much memory the loading runs.

use std::path::Path;
use std::time::Instant;

use adatt_engine::source::{Source, TableSource};
use adatt_spec::{DataConfig, ExperimentConfig, InputMode};
use anyhow::{bail, Context, Result};
use tch::Device;

/// Loads the table of the config at `path` and prints what it holds and what loading cost.
pub fn load_table(path: &Path) -> Result<()> {
    let cfg = ExperimentConfig::load(path)?;
    let DataConfig::Table(table) = &cfg.data else {
        bail!(
            "{}: [data] source is not \"table\" (load-table reads a user's table)",
            path.display()
        );
    };
    let t0 = Instant::now();
    let source = TableSource::load(table).with_context(|| format!("loading {}", table.name))?;
    let read_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let data = source.to_device(InputMode::Dense, Device::Cpu, 0)?;
    let tensors_s = t1.elapsed().as_secs_f64();
    let s = &source.set;
    let rows = s.train.n + s.valid.n + s.test.n;
    println!(
        "{}: {rows} rows from {} file(s): {} train, {} valid, {} test",
        table.name,
        s.files.len(),
        s.train.n,
        s.valid.n,
        s.test.n
    );
    for (k, name) in s.task_names.iter().enumerate() {
        println!(
            "  task {name} ({:?}): training rate or mean {:.4}",
            s.task_kinds[k], data.train_base_rates[k]
        );
    }
    let vocab: Vec<String> = table
        .categorical
        .iter()
        .zip(&s.cardinalities)
        .map(|(c, n)| format!("{} {n}", c.column))
        .collect();
    println!(
        "  categorical (indices, out-of-vocabulary 0 included): {}",
        vocab.join(", ")
    );
    println!("  dense: {}", s.dense_names.join(", "));
    let total = read_s + tensors_s;
    println!(
        "  read, split and encoded in {read_s:.2} s, tensors in {tensors_s:.2} s: {:.0} rows/s; \
         peak resident memory {:.0} MiB",
        rows as f64 / total,
        adatt_engine::runtime::peak_rss_mib()
    );
    Ok(())
}
