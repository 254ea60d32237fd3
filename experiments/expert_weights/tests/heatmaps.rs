//! The Figure 3 binary end to end on a tiny grid: it trains, records the fused expert weights
//! and writes their heatmaps and matrices; `--analyze` rewrites them from the records alone.

#[test]
fn expert_weights_trains_records_weights_and_draws_heatmaps() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("f3.toml");
    std::fs::write(
        &cfg,
        adatt_testkit::config_head(
            "f3tiny",
            true,
            2048,
            "record_expert_weights = true",
            "seeds = [0, 1]\nthreads = 1",
        ) + r#"
[[sweeps]]
name = "AdaTT-sp"
model = { kind = "adatt_sp", task_experts = 1, expert_dims = [[8], [4]], tower = [4] }
axis = { task_experts = [1, 2] }
"#,
    )
    .unwrap();
    let out = d.path().join("out");
    let run = |extra: &[&str]| {
        let mut c = adatt_testkit::command(env!("CARGO_BIN_EXE_expert_weights"), d.path());
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
