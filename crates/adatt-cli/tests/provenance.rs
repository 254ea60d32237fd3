//! What a run says about itself, whatever the directory it was started from: the code
//! revision of the project's own checkout (not of a repository the caller stands in, and not
//! `unrecorded` outside any repository), and overrides blamed on the variable that carried them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tiny Census grid: one entry, one seed, one epoch on 1024 rows, written into `dir`.
fn write_config(dir: &Path) -> PathBuf {
    let text = adatt_testkit::config_head("rev", true, 1024, "", "seeds = [0]\nthreads = 1")
        + "[[entries]]\nname = \"SB\"\nmodel = { kind = \"shared_bottom\", bottom = [8], tower = [4] }\n";
    let p = dir.join("c.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn adatt(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = adatt_testkit::command(env!("CARGO_BIN_EXE_adatt"), cwd);
    c.args(args).env("ADATT_JOBS", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("adatt runs")
}

/// `git` in `dir`, its trimmed stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// The revision git gives for this project's checkout (the oracle): `describe`, plus `-dirty`
/// when a tracked file outside `results/` differs from HEAD.
fn project_revision() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let rev = git(&root, &["describe", "--always", "--abbrev=12"]);
    let changed = git(
        &root,
        &[
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ":(top)",
            ":(top,exclude)results",
        ],
    );
    if changed.is_empty() {
        rev
    } else {
        format!("{rev}-dirty")
    }
}

fn recorded_revision(out: &Path) -> Option<String> {
    let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    let rec: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    rec["git_revision"].as_str().map(str::to_owned)
}

#[test]
fn records_carry_the_projects_revision_wherever_the_command_runs() {
    let want = project_revision();
    // A caller standing in another git repository, with a commit of its own.
    let other = tempfile::tempdir().unwrap();
    git(other.path(), &["init", "-q"]);
    std::fs::write(other.path().join("f"), "x").unwrap();
    git(other.path(), &["add", "f"]);
    git(
        other.path(),
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "other",
        ],
    );
    let theirs = git(other.path(), &["describe", "--always", "--abbrev=12"]);
    // ... and a caller outside any repository.
    let outside = tempfile::tempdir().unwrap();
    for cwd in [other.path(), outside.path()] {
        let cfg = write_config(cwd);
        let out = cwd.join("out");
        let o = adatt(
            cwd,
            &[
                "run",
                "--config",
                cfg.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--no-analysis",
            ],
            &[],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let got = recorded_revision(&out);
        assert_eq!(
            got.as_deref(),
            Some(want.as_str()),
            "run from {}",
            cwd.display()
        );
        assert_ne!(got.as_deref(), Some(theirs.as_str()));
    }
}

/// A bad override is one line naming the variable that carried it, before anything is
/// allocated or written: a repeated seed, seed counts no machine could plan, a non-number in
/// `ADATT_JOBS`.
#[test]
fn bad_overrides_are_blamed_on_their_variable() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write_config(d.path());
    let out = d.path().join("out");
    let args = [
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    for (var, value, code, fragment) in [
        (
            "ADATT_SEEDS",
            "1,1,2",
            1,
            "`--seeds / ADATT_SEEDS` is invalid: `1,1,2`: seed 1 is listed twice",
        ),
        (
            "ADATT_SEEDS",
            "18446744073709551615",
            1,
            "a grid takes at most 1000000 seeds",
        ),
        (
            "ADATT_SEEDS",
            "4294967296",
            1,
            "a grid takes at most 1000000 seeds",
        ),
        (
            "ADATT_JOBS",
            "abc",
            2,
            "invalid value 'abc' for ADATT_JOBS (read for --jobs)",
        ),
        (
            "ADATT_THREADS",
            "-1",
            2,
            "for ADATT_THREADS (read for --threads)",
        ),
    ] {
        let o = adatt(d.path(), &args, &[(var, value)]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(code), "{var}={value}: {err}");
        assert!(err.contains(fragment), "{var}={value}: {err}");
        assert!(
            !err.contains("config "),
            "{var}={value} blamed on the config: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{var}={value}: {err}");
        assert!(!out.exists(), "{var}={value} wrote {}", out.display());
    }
    // The same value typed as a flag is blamed on the flag.
    let o = adatt(d.path(), &[&args[..], &["--jobs", "abc"]].concat(), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("'--jobs <JOBS>'"), "{err}");
}
