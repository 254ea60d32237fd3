//! `fusion_levels`: the paper's Table 8 (fusion levels) on Census-Income. Thin:
//! `configs/table8.toml` (or `--config`) through the experiment layer (`adatt_experiment`): trains
//! its missing runs as one shard process per core, resumably, then writes
//! `results/table8/<protocol>/`; `--analyze` only rewrites the tables and figures.

fn main() -> std::process::ExitCode {
    adatt_experiment::experiment_main(
        "AdaTT Table 8 on Census: fusion levels (configs/table8.toml)",
        "configs/table8.toml",
    )
}
