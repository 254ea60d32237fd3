//! `adatt simulate` as a user meets it: worlds and samples that cannot be made are refused as
//! one error line with exit code 1 and nothing written; a reader that closes stdout early is
//! not an error; two runs writing the same file leave one complete sample.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const GROUP1: &str = include_str!("../../../configs/sim/group1.toml");

fn simulate(cwd: &Path, args: &[&str]) -> Command {
    let mut c = adatt_testkit::command(env!("CARGO_BIN_EXE_adatt"), cwd);
    c.arg("simulate").args(args).env("RUST_BACKTRACE", "1");
    c
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    simulate(cwd, args).output().expect("adatt runs")
}

/// group1's TOML with `from` replaced by `to` (which must occur).
fn group1_with(from: &str, to: &str) -> String {
    assert!(GROUP1.contains(from), "{from:?} is not in group1.toml");
    GROUP1.replacen(from, to, 1)
}

/// Worlds and samples that cannot be made: (group1 edited, or none for the preset group1,
/// --rows, what the one error line must say).
fn unmakeable() -> Vec<(Option<String>, &'static str, String)> {
    let users = "users = 50000";
    let like = "name = \"like\"";
    vec![
        (
            Some(group1_with("sharpness = 2.0", "sharpness = 100.0")),
            "1000",
            "tasks.like.positive_rate: this world cannot reach it: after calibration the task's \
             rate on the calibration stream (its mean label probability over 200000 rows) is 0.2"
                .into(),
        ),
        (
            Some(group1_with(users, "users = 3")),
            "1000",
            "users: at least latent_dim + 1 = 9 are needed to whiten 8-dimensional latents over \
             them, got 3"
                .into(),
        ),
        (
            Some(group1_with(users, "users = 1")),
            "1000",
            "users: at least latent_dim + 1 = 9".into(),
        ),
        (
            Some(group1_with("user_zipf = 0.8", "user_zipf = 20.0")),
            "1000",
            "user_zipf: 20 puts the popularity of the 50000 users on 1.00 effective ids (1 / Σ \
             p²); whitening 8-dimensional latents needs at least latent_dim + 1 = 9"
                .into(),
        ),
        (
            Some(group1_with(like, "name = \"click\"")),
            "1000",
            "tasks: two tasks are named `click`: the sample's columns".into(),
        ),
        (
            Some(group1_with(like, "name = \"hour\"")),
            "1000",
            "tasks: task `hour` has the name of context feature".into(),
        ),
        (
            Some(group1_with(like, "name = \"user_id\"")),
            "1000",
            "tasks: task `user_id` has the name of the user id column".into(),
        ),
        (
            Some(group1_with(like, "name = \"dense_0\"")),
            "1000",
            "tasks: task `dense_0` has the name of the dense feature column".into(),
        ),
        (
            Some(group1_with("name = \"device\"", "name = \"hour\"")),
            "1000",
            "contexts: two context features are named `hour`".into(),
        ),
        (
            Some(group1_with(users, "users = 1000000000000")),
            "1000",
            "users: must be at most 4294967296 (ids are 32-bit), got 1000000000000".into(),
        ),
        // 4·10^9 users with latents of 10,000 floats: 160 TB before anything is drawn.
        (
            Some(
                group1_with(users, "users = 4000000000")
                    .replace("latent_dim = 8", "latent_dim = 10000")
                    .replace("item_zipf = 1.1", "item_zipf = 0.0"),
            ),
            "1000",
            format!(
                "users: would need about {:.1} GB of memory (user popularity and latents \
                 160064.0 GB, sample 4.0 GB, item popularity and latents 0.8 GB",
                // users and items of 16 + 4 · 10^4 bytes, contexts, 2 tasks' calibration rows;
                // the sample: 1000 rows of 11 columns of 4 bytes, three copies, and a byte per
                // user and item
                ((4e9 + 2e4) * 40_017.0 + 456.0 + 200_000.0 * 64.0 + 3.0 * 1000.0 * 44.0) / 1e9
            ),
        ),
        // 10^12 rows of 11 columns of 4 bytes, three copies: 132,000 GB.
        (
            None,
            "1000000000000",
            "simulator config preset group1: --rows: would need about 132000.0 GB of memory \
             (sample 132000.0 GB"
                .into(),
        ),
        (None, "0", "--rows: must be at least 1".into()),
    ]
}

#[test]
fn worlds_and_samples_that_cannot_be_made_are_one_error_line_and_write_nothing() {
    for (spec, rows, want) in unmakeable() {
        check_refused(spec.as_deref(), rows, &want);
    }
}

/// `adatt simulate --rows rows` of the world `spec` (or the preset group1) fails with exit
/// code 1 and the one error line `want`, and leaves nothing but the spec behind.
fn check_refused(spec: Option<&str>, rows: &str, want: &str) {
    let d = tempfile::tempdir().unwrap();
    let mut args = vec!["--rows", rows, "--out", "s.csv"];
    if let Some(text) = spec {
        std::fs::write(d.path().join("w.toml"), text).unwrap();
        args.extend(["--spec", "w.toml"]);
    } else {
        args.extend(["--preset", "group1"]);
    }
    let o = run(d.path(), &args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{want}: {err}");
    assert!(err.contains(want), "{err:?} lacks {want:?}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let source = if spec.is_some() {
        "error: simulator config w.toml: "
    } else {
        "error: "
    };
    assert!(err.starts_with(source), "{err}");
    assert!(o.stdout.is_empty(), "{want}");
    let left = adatt_testkit::dir_names(d.path());
    let expected: Vec<&str> = if spec.is_some() {
        vec!["w.toml"]
    } else {
        vec![]
    };
    assert_eq!(left, expected, "{want}");
}

/// `adatt simulate … | head -1`: the reader has gone when the statistics are printed; the
/// sample is written whole and the command ends quietly with status 0.
#[test]
fn a_reader_that_closes_stdout_early_is_not_an_error() {
    let d = tempfile::tempdir().unwrap();
    let mut child = simulate(d.path(), &["--preset", "group1", "--rows", "2000"])
        .args(["--out", "s.csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before the command prints anything (it prints after writing the sample).
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
    let text = std::fs::read_to_string(d.path().join("s.csv")).unwrap();
    assert_eq!(text.lines().count(), 2001);
}

/// Two runs with different world seeds write the same `--out` at once, several times: both
/// succeed every time, the file is exactly one run's complete sample (the same bytes as that
/// run alone), and no temporary file is left.
#[test]
fn two_runs_writing_one_file_at_once_leave_one_complete_sample() {
    let d = tempfile::tempdir().unwrap();
    let args = |seed: &'static str, out: &'static str| {
        let mut c = simulate(d.path(), &["--preset", "group1", "--rows", "100000"]);
        c.args(["--seed", seed, "--out", out]).stdout(Stdio::null());
        c
    };
    let alone: Vec<Vec<u8>> = [("1", "one.csv"), ("2", "two.csv")]
        .into_iter()
        .map(|(seed, out)| {
            assert!(args(seed, out).status().unwrap().success());
            std::fs::read(d.path().join(out)).unwrap()
        })
        .collect();
    assert_ne!(alone[0], alone[1]);
    for round in 0..4 {
        let children: Vec<_> = ["1", "2"]
            .into_iter()
            .map(|seed| {
                args(seed, "same.csv")
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(o.status.success(), "round {round}: {err}");
        }
        let got = std::fs::read(d.path().join("same.csv")).unwrap();
        assert!(
            got == alone[0] || got == alone[1],
            "round {round}: the file is neither run's sample ({} bytes)",
            got.len()
        );
        assert_eq!(
            adatt_testkit::dir_names(d.path()),
            ["one.csv", "same.csv", "two.csv"],
            "round {round}"
        );
    }
}

/// The report gives the Bayes limit of every task on the sampled rows: binary tasks' oracle NE
/// between 0 and 1 (better than the constant predictor at the rate) with an AUC above chance,
/// and the regression task's MSE below its label variance (1).
#[test]
fn the_report_gives_the_bayes_limit_of_every_task() {
    let d = tempfile::tempdir().unwrap();
    let o = run(
        d.path(),
        &["--preset", "group3", "--rows", "20000", "--out", "s.csv"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<Vec<&str>> = out
        .split("Bayes limit on these rows")
        .nth(1)
        .expect("a Bayes-limit section")
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| task"))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    let tasks: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(
        tasks,
        ["watch_time", "click", "long_view", "like", "dislike"],
        "{out}"
    );
    let mse: f64 = rows[0][1].parse().unwrap();
    assert!(mse > 0.0 && mse < 1.0, "{out}");
    for r in &rows[1..] {
        let (ne, auc): (f64, f64) = (r[1].parse().unwrap(), r[2].parse().unwrap());
        assert!(ne > 0.0 && ne < 1.0 && auc > 0.6, "{out}");
    }
}

/// An output name of no known format is a write refusal naming the file, not a config error,
/// and nothing is written.
#[test]
fn an_unknown_output_extension_is_refused_as_an_output_name() {
    let d = tempfile::tempdir().unwrap();
    let o = run(
        d.path(),
        &["--preset", "group1", "--rows", "100", "--out", "s.foo"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot write s.foo: a sample's file name ends in .parquet or .csv"),
        "{err}"
    );
    assert!(!err.contains("config"), "{err}");
    assert!(
        adatt_testkit::dir_names(d.path()).is_empty(),
        "{:?}",
        adatt_testkit::dir_names(d.path())
    );
}
