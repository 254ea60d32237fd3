//! The PyTorch peer of `make bench` trains the same model on the same rows: a tiny `--peer-only`
//! run (one epoch on 2,048 rows, one process) finishes only if the peer's PyTorch model
//! (scripts/pylib/reference_models.py, built from our model config) has exactly our
//! parameter count and the peer read as many training rows as we did; then its table row has
//! both ratios.

#[test]
fn the_peer_builds_our_model_on_our_rows_and_the_ratios_are_printed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shipped = std::fs::read_to_string(root.join("configs/bench.toml")).unwrap();
    let tiny: String = shipped
        .lines()
        .map(|l| {
            if l.starts_with("epochs = 10 ") {
                "epochs = 1".to_owned()
            } else if l.starts_with("models = [\"AdaTT-sp (6)\", ") {
                "models = [\"PLE (6, m_s=3)\"]".to_owned()
            } else if l.starts_with("jobs = [1, 0]") {
                "jobs = [1]".to_owned()
            } else if l.starts_with("max_rows = 0") {
                "max_rows = 2048".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bench.toml");
    std::fs::write(&cfg, tiny).unwrap();
    let out = adatt_testkit::command(env!("CARGO_BIN_EXE_bench"), &root)
        .arg("--config")
        .arg(&cfg)
        .args(["--peer-only", "--threads", "1", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| PLE (6, m_s=3) | 1 × 1 |"))
        .unwrap_or_else(|| panic!("no peer row in {stdout}"));
    assert_eq!(row.matches("×** |").count(), 2, "{row}");
    assert!(
        stdout.contains("Census `paper` protocol, 2048 training rows"),
        "{stdout}"
    );
}
