//! `expert_weights`: the paper's Figure 3 (fused expert weights) on Census-Income. Thin:
//! `configs/figure3.toml` (or `--config`) through the experiment layer (`adatt_experiment`): trains
//! its missing runs as one shard process per core, resumably, then writes
//! `results/figure3/<protocol>/`; `--analyze` only rewrites the tables and figures.

fn main() -> std::process::ExitCode {
    adatt_experiment::experiment_main(
        "AdaTT Figure 3 on Census: fused expert-weight heatmaps (configs/figure3.toml)",
        "configs/figure3.toml",
    )
}
