//! `expert_count`: the paper's Table 7 (experts per task) on Census-Income. Thin:
//! `configs/table7.toml` (or `--config`) through the experiment layer (`adatt_experiment`): trains
//! its missing runs as one shard process per core, resumably, then writes
//! `results/table7/<protocol>/`; `--analyze` only rewrites the tables and figures.

fn main() -> std::process::ExitCode {
    adatt_experiment::experiment_main(
        "AdaTT Table 7 on Census: experts per task (configs/table7.toml)",
        "configs/table7.toml",
    )
}
