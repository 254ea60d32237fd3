//! The figures through the public API: complete PNG + SVG pairs, no temporary files left, and
//! a rewrite that replaces the previous pair. Set `ADATT_PLOT_SAMPLES_DIR` to also keep the
//! rendered samples there for a look.

use std::path::Path;

use adatt_analysis::plots::{self, Distribution, LinePanel, Series};

fn no_temps(dir: &Path) {
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

fn panels(shift: f64) -> Vec<Distribution> {
    let models = [
        "shared-bottom",
        "mmoe",
        "ple",
        "cross-stitch",
        "adatt-sp",
        "adatt",
    ];
    ["income", "never married"]
        .iter()
        .enumerate()
        .map(|(t, task)| Distribution {
            task: task.to_string(),
            groups: models
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let base = 0.93 + 0.002 * i as f64 - 0.01 * t as f64 + shift;
                    let vals = (0..10)
                        .map(|s| base + 0.003 * ((s * 7 % 10) as f64 / 10.0 - 0.5))
                        .collect();
                    let paper = (i % 3 != 1).then_some(base + 0.0015);
                    (m.to_string(), vals, paper)
                })
                .collect(),
        })
        .collect()
}

fn curves(epochs: usize) -> Vec<LinePanel> {
    ["income", "never married"]
        .iter()
        .map(|task| LinePanel {
            title: format!("{task}: validation AUC"),
            series: ["mmoe", "ple", "adatt"]
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let points = (1..=epochs)
                        .map(|e| {
                            let e = e as f64;
                            (e, 0.90 + 0.004 * i as f64 + 0.04 * (1.0 - (-e / 3.0).exp()))
                        })
                        .collect();
                    Series::line(m.to_string(), points)
                })
                .collect(),
            zero_line: false,
        })
        .collect()
}

#[test]
fn figures_are_complete_pairs_and_rewrites_replace_them() {
    let d = tempfile::tempdir().unwrap();
    let dist = d.path().join("auc_distributions");
    let train = d.path().join("training_curves");
    let a = plots::distributions(&dist, &panels(0.0), "test AUC").unwrap();
    let b = plots::lines(&train, &curves(10), "epoch", "mean validation AUC").unwrap();
    for f in a.iter().chain(&b) {
        let bytes = std::fs::read(f).unwrap();
        match f.extension().and_then(|e| e.to_str()) {
            Some("png") => assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{f:?}"),
            Some("svg") => assert!(String::from_utf8(bytes)
                .unwrap()
                .trim_end()
                .ends_with("</svg>")),
            other => panic!("unexpected file {f:?} ({other:?})"),
        }
    }
    no_temps(d.path());
    let before = std::fs::read(&b[1]).unwrap();
    plots::lines(&train, &curves(5), "epoch", "mean validation AUC").unwrap();
    assert_ne!(std::fs::read(&b[1]).unwrap(), before);
    no_temps(d.path());
    let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
    assert_eq!(names.len(), 4);

    if let Some(out) = std::env::var_os("ADATT_PLOT_SAMPLES_DIR") {
        let out = Path::new(&out);
        std::fs::create_dir_all(out).unwrap();
        plots::distributions(&out.join("auc_distributions"), &panels(0.0), "test AUC").unwrap();
        plots::lines(
            &out.join("training_curves"),
            &curves(10),
            "epoch",
            "mean validation AUC",
        )
        .unwrap();
        plots::lines(
            &out.join("training_curves_40"),
            &curves(40),
            "epoch",
            "mean validation AUC",
        )
        .unwrap();
        plots::distributions(
            &out.join("auc_distributions_one"),
            &panels(0.0)[..1],
            "test AUC",
        )
        .unwrap();
    }
}

#[test]
fn write_atomic_writes_text_outputs() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("summary.csv");
    plots::write_atomic(&p, b"a,b\n1,2\n").unwrap();
    plots::write_atomic(&p, b"a,b\n3,4\n").unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "a,b\n3,4\n");
    no_temps(d.path());
    // A target in a missing directory is an error naming the target, and creates nothing.
    let q = d.path().join("missing").join("table.md");
    let err = plots::write_atomic(&q, b"x").unwrap_err();
    assert!(err.to_string().contains("table.md"), "{err}");
    assert!(!d.path().join("missing").exists());
}
