//! The Figure 3 binary end to end on a tiny grid: it trains, records the fused expert weights
//! and writes their heatmaps and matrices; `--analyze` rewrites them from the records alone.

use std::path::Path;
use std::process::Command;

#[test]
fn expert_weights_trains_records_weights_and_draws_heatmaps() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/census-income");
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("f3.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
name = "f3tiny"
[data]
source = "census"
protocol = "clean"
data_dir = "{}"
[train]
batch_size = 256
epochs = 1
lr = 5e-3
max_train_rows = 2048
record_expert_weights = true
[run]
seeds = [0, 1]
threads = 1
[[sweeps]]
name = "AdaTT-sp"
model = {{ kind = "adatt_sp", task_experts = 1, expert_dims = [[8], [4]], tower = [4] }}
axis = {{ task_experts = [1, 2] }}
"#,
            data.display()
        ),
    )
    .unwrap();
    let out = d.path().join("out");
    let run = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_expert_weights"));
        c.args([
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(extra)
        .env("ADATT_JOBS", "1");
        c.output().unwrap()
    };
    let o = run(&[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let md = std::fs::read_to_string(out.join("table.md")).unwrap();
    for want in [
        "### AdaTT-sp, 1 expert per task, fusion level 1 (2 seeds)",
        "### AdaTT-sp, 2 experts per task, fusion level 2 (2 seeds)",
    ] {
        assert!(md.contains(want), "{want} not in {md}");
    }
    for f in [
        "expert_weights_1.png",
        "expert_weights_2.svg",
        "sweep_1_auc.png",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    std::fs::remove_file(out.join("expert_weights_1.png")).unwrap();
    let o = run(&["--analyze"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.join("expert_weights_1.png").exists());
}
