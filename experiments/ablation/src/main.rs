//! `ablation`: the paper's Table 6 (NativeExpertLF ablation) on Census-Income. Thin:
//! `configs/table6.toml` (or `--config`) through the experiment layer (`adatt_experiment`): trains
//! its missing runs as one shard process per core, resumably, then writes
//! `results/table6/<protocol>/`; `--analyze` only rewrites the tables and figures.

fn main() -> std::process::ExitCode {
    adatt_experiment::experiment_main(
        "AdaTT Table 6 on Census: NativeExpertLF learned vs ablated (configs/table6.toml)",
        "configs/table6.toml",
    )
}
