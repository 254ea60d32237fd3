//! The `adatt` command as a user meets it: refused inputs as one error line with exit code 1
//! (a usage error: 2), exit code 3 for a grid with diverged runs, byte-identical re-analysis, no
//! half-written file when the disk fills up during an analysis or while weights or outputs are
//! written, a missing CUDA device refused before anything is created, records carrying the
//! project's own code revision wherever the command runs, and bad overrides blamed on the
//! variable that carried them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tiny grid: 2 entries × 2 seeds, one epoch on 4096 rows.
fn config(edit: impl Fn(String) -> String) -> String {
    edit(
        adatt_testkit::config_head(
            "tiny",
            true,
            4096,
            "",
            "seeds = [0, 1]\ndevice = \"auto\"\nthreads = 1",
        ) + r#"
[[entries]]
name = "SB"
setting = "tiny"
model = { kind = "shared_bottom", bottom = [16, 8], tower = [8] }
[[entries]]
name = "AdaTT-sp"
setting = "tiny"
model = { kind = "adatt_sp", task_experts = 1, expert_dims = [[16], [8]], tower = [8] }
"#,
    )
}

/// Runs `adatt` with `args` in `cwd`, without the caller's ADATT_* variables, with
/// RUST_BACKTRACE=1 (a user's mistake must not print a backtrace even then).
fn adatt(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = adatt_testkit::command(env!("CARGO_BIN_EXE_adatt"), cwd);
    c.args(args).env("RUST_BACKTRACE", "1");
    // One process unless a test asks for shard processes.
    c.env("ADATT_JOBS", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("adatt runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("c.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Every file under `dir` (relative path -> bytes), lock files left out.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.file_name().unwrap().to_string_lossy().ends_with(".lock") {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// An edit of the tiny grid's config.
type Edit = Box<dyn Fn(String) -> String>;

/// Refused `adatt run` inputs: (config edit, extra args, what the one error line must say).
/// `uncreatable` is an output directory that cannot be made; the last case is a bad
/// `ADATT_SEEDS` (see `refused_inputs_are_one_error_line_naming_the_key_and_exit_1`).
fn refused_runs(uncreatable: &Path) -> Vec<(Edit, Vec<String>, &'static str)> {
    vec![
        (
            Box::new(|c| c.replace("seeds = [0, 1]", "seeds = [0, -1]")),
            vec![],
            "seeds must be integers >= 0, got -1",
        ),
        (
            Box::new(|c| c.replace("threads = 1", "threads = 100000")),
            vec![],
            "run.threads",
        ),
        (
            Box::new(|c| c.replace("name = \"tiny\"", "name = \"../../x\"")),
            vec![],
            "`name`",
        ),
        (
            Box::new(|c| c.replace("lr = 5e-3", "lr = 5e-3\neps = -1")),
            vec![],
            "train.eps",
        ),
        (
            Box::new(|c| {
                c.replace(
                    "name = \"tiny\"",
                    "name = \"tiny\"\noutput_dir = \"/tmp/x\"",
                )
            }),
            vec![],
            "output_dir",
        ),
        // A bad model is reported (with its entry) before the data load: the data directory
        // does not even exist here.
        (
            Box::new(|c| {
                c.replace("task_experts = 1", "task_experts = 0").replace(
                    &format!("data_dir = \"{}\"", adatt_testkit::census_dir().display()),
                    "data_dir = \"/nonexistent\"",
                )
            }),
            vec![],
            "model `AdaTT-sp`",
        ),
        (
            Box::new(|c| c),
            vec!["--out".into(), uncreatable.display().to_string()],
            "a-file/results",
        ),
        (Box::new(|c| c), vec![], "--seeds / ADATT_SEEDS"),
    ]
}

/// `o` failed with exit code 1 and one error line containing `want`: no backtrace, no colour,
/// no cause printed twice (`i` numbers the case in messages).
fn check_one_error_line(o: &Output, want: &str, i: usize) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "case {i}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "case {i}: one error line: {err}");
    assert!(lines[0].contains(want), "case {i}: want `{want}` in {err}");
    for bad in ["backtrace", "Caused by", "\u{1b}["] {
        assert!(!err.contains(bad), "case {i}: `{bad}` in {err}");
    }
    // no cause printed twice
    let parts: Vec<&str> = lines[0].trim_start_matches("error: ").split(": ").collect();
    for (j, p) in parts.iter().enumerate() {
        assert!(
            parts[j + 1..].iter().all(|q| q != p) || p.len() < 4,
            "case {i}: `{p}` twice in {err}"
        );
    }
}

#[test]
fn refused_inputs_are_one_error_line_naming_the_key_and_exit_1() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let uncreatable = file.join("results");
    for (i, (edit, extra, want)) in refused_runs(&uncreatable).into_iter().enumerate() {
        let cfg = write_config(d.path(), &config(edit));
        let out = d.path().join("out");
        let mut args = vec!["run", "--config", cfg.to_str().unwrap()];
        let extra_refs: Vec<&str> = extra.iter().map(String::as_str).collect();
        if extra.is_empty() {
            args.extend(["--out", out.to_str().unwrap()]);
        }
        args.extend(extra_refs);
        // the last case: a bad ADATT_SEEDS; a plain SEEDS from the user's shell is not read
        let env: &[(&str, &str)] = if i == 7 {
            &[("ADATT_SEEDS", "x"), ("SEEDS", "also bad")]
        } else {
            &[("SEEDS", "not ours"), ("THREADS", "100000")]
        };
        let o = adatt(d.path(), &args, env);
        check_one_error_line(&o, want, i);
        assert!(!out.exists(), "case {i}: nothing may be written");
    }
}

/// `analyze` of a mistyped output directory is an error, not empty tables.
#[test]
fn analyzing_a_mistyped_output_directory_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write_config(d.path(), &config(|c| c));
    let typo = d.path().join("reslts");
    let o = adatt(
        d.path(),
        &[
            "analyze",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            typo.to_str().unwrap(),
        ],
        &[],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no records of any of the 4 planned runs"),
        "{err}"
    );
    assert!(!typo.join("table.md").exists());
}

#[test]
fn reanalysis_is_byte_identical_and_a_full_disk_leaves_no_partial_file() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write_config(d.path(), &config(|c| c));
    let cfg = cfg.to_str().unwrap();
    let a = d.path().join("a");
    // Trained with a device override: the grid saves the resolved config (device = "cpu").
    let o = adatt(
        d.path(),
        &["run", "--config", cfg, "--out", a.to_str().unwrap()],
        &[("ADATT_DEVICE", "cpu")],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    // What a user sees: the plan, one line per run, a results table; no colours off a terminal.
    assert!(
        err.contains("tiny: 4 planned, 0 recorded, 4 to train"),
        "{err}"
    );
    assert!(
        err.contains("[4/4] AdaTT-sp, seed 1: test AUC education "),
        "{err}"
    );
    assert!(
        err.contains("over the finished runs; 4 of 4 planned runs recorded)"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "{err}");
    let first = files(&a);
    assert!(first["config.toml"]
        .windows(14)
        .any(|w| w == b"device = \"cpu\""));
    for name in [
        "table.md",
        "manifest.json",
        "auc_distributions.png",
        "runs.jsonl",
    ] {
        assert!(first.contains_key(name), "{name}: {:?}", first.keys());
    }
    // Re-analysing unchanged records (without the override) rewrites no byte.
    let o = adatt(
        d.path(),
        &["analyze", "--config", cfg, "--out", a.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let second = files(&a);
    for (name, bytes) in &first {
        assert!(
            second.get(name) == Some(bytes),
            "{name} changed on re-analysis"
        );
    }
    assert_eq!(first.len(), second.len());
    check_a_full_disk_leaves_no_partial_file(d.path(), cfg, &a);
}

/// A disk that fills up during the analysis of the records in `a` (a file size limit above
/// every table and below the largest figure): the command fails, and every file is complete
/// or absent. `c` is the same analysis of the same records without the limit.
fn check_a_full_disk_leaves_no_partial_file(dir: &Path, cfg: &str, a: &Path) {
    let copy_records = |to: &Path| {
        std::fs::create_dir(to).unwrap();
        for f in ["runs.jsonl", "invocation.json"] {
            std::fs::copy(a.join(f), to.join(f)).unwrap();
        }
    };
    let (b, c) = (dir.join("b"), dir.join("c"));
    copy_records(&c);
    let o = adatt(
        dir,
        &["analyze", "--config", cfg, "--out", c.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let complete = files(&c);
    let size = |n: &str| complete[n].len();
    let tables = [
        "config.toml",
        "manifest.json",
        "summary.csv",
        "summary.json",
        "table.md",
    ];
    let limit_kib = tables.iter().map(|n| size(n)).max().unwrap() / 1024 + 1;
    let sizes: Vec<(&String, usize)> = complete.iter().map(|(n, b)| (n, b.len())).collect();
    assert!(
        size("auc_distributions.png") > limit_kib * 1024,
        "no figure above the limit of {limit_kib} KiB: {sizes:?}"
    );
    copy_records(&b);
    let script = format!(
        "trap '' XFSZ; ulimit -f {limit_kib}; exec '{}' analyze --config '{cfg}' --out '{}'",
        env!("CARGO_BIN_EXE_adatt"),
        b.display()
    );
    let o = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("File too large"), "{err}");
    let partial = files(&b);
    assert!(
        !partial.contains_key("auc_distributions.png"),
        "{:?}",
        partial.keys()
    );
    // (the tables name their directory: b's path in b's files, c's in c's)
    let (bs, cs) = (b.display().to_string(), c.display().to_string());
    for (name, bytes) in &partial {
        assert!(!name.contains(".tmp"), "temporary file left: {name}");
        let same = match (std::str::from_utf8(bytes), complete.get(name)) {
            (Ok(text), Some(want)) => text.replace(&bs, &cs).as_bytes() == want.as_slice(),
            (Err(_), Some(want)) => bytes == want,
            (_, None) => false,
        };
        assert!(same, "{name} is not the complete file");
    }
    assert!(partial.len() >= tables.len(), "{:?}", partial.keys());
}

#[test]
fn a_grid_with_diverged_runs_exits_3_and_says_so() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write_config(
        d.path(),
        &config(|c| {
            c.replace("lr = 5e-3", "lr = 1e6")
                .replace("seeds = [0, 1]", "seeds = [0]")
        }),
    );
    let out = d.path().join("out");
    // Two shard processes (one run each): their exit code 3 reaches the parent's.
    let args = [
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let o = adatt(d.path(), &args, &[("ADATT_JOBS", "2")]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("tiny: 2 shard processes, 1 intra-op thread(s) each"),
        "{err}"
    );
    assert!(
        err.contains("[1/1] SB, seed 0: DIVERGED (diverged: "),
        "{err}"
    );
    let table = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(table.contains("| 0 | 0 | 1 |"), "{table}");
    // The parent merged the shards' records into one file.
    let records: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("runs"))
        .collect();
    assert_eq!(records, ["runs.jsonl"]);
    let lines = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2);
    assert!(out.join("invocation.shard-2-of-2.json").exists());
}

/// Shard processes train the grid their parent resolved: the parent's seed override (given
/// as a flag the children are not given) decides which runs train, every shard's manifest
/// records the resolved config it read, and the file passing it on is gone afterwards.
#[test]
fn shard_processes_train_the_grid_their_parent_resolved() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write_config(d.path(), &config(|c| c));
    let out = d.path().join("out");
    let args = [
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--seeds",
        "2,5",
        "--no-analysis",
    ];
    let o = adatt(d.path(), &args, &[("ADATT_JOBS", "2")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    let mut seeds: Vec<(String, u64)> = text
        .lines()
        .map(|l| {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                r["entry"].as_str().unwrap().to_owned(),
                r["seed"].as_u64().unwrap(),
            )
        })
        .collect();
    seeds.sort();
    let entries: std::collections::BTreeSet<&str> = seeds.iter().map(|(e, _)| e.as_str()).collect();
    let want: Vec<(String, u64)> = entries
        .iter()
        .flat_map(|e| [2, 5].map(|s| (e.to_string(), s)))
        .collect();
    assert_eq!(seeds, want);
    for k in 1..=2 {
        let path = out.join(format!("invocation.shard-{k}-of-2.json"));
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let argv: Vec<&str> = m["command_line"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(
            argv.contains(&"--resolved") && !argv.contains(&"--seeds"),
            "{argv:?}"
        );
        assert_eq!(
            m["config"]["run"]["seeds"],
            serde_json::json!([2, 5]),
            "{path:?}"
        );
        assert_eq!(m["config"]["run"]["threads"], 1, "{path:?}");
    }
    assert!(!out.join(".shards.toml").exists());
}

/// The Slurm path (scripts/slurm/): array tasks 1 and 2 of 2, run here with the variables Slurm
/// sets, each train their shard; the analysis step then reads both shards' records.
#[test]
fn slurm_array_tasks_and_the_analysis_step_cover_the_grid() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write_config(d.path(), &config(|c| c));
    let out = d.path().join("out");
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/slurm");
    let run = |script: &str, env: &[(&str, &str)]| {
        let mut c = Command::new("bash");
        c.arg(scripts.join(script))
            .args([cfg.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .env("ADATT_BIN", env!("CARGO_BIN_EXE_adatt"))
            // As `adatt_testkit::command`: the developer's checkout may have changes.
            .env("ADATT_ALLOW_DIRTY", "1")
            .env_remove("SLURM_CPUS_PER_TASK");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    for k in ["1", "2"] {
        let o = run(
            "array.sh",
            &[
                ("SLURM_ARRAY_TASK_ID", k),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "2"),
            ],
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "task {k}: {err}");
        assert!(
            err.contains(&format!("tiny (shard {k}/2): 2 planned")),
            "{err}"
        );
    }
    assert!(out.join("runs.shard-1-of-2.jsonl").exists());
    assert!(out.join("runs.shard-2-of-2.jsonl").exists());
    let o = run("analyze.sh", &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("4 of 4 planned runs recorded"), "{err}");
    // Outside an array the script refuses, naming what is missing.
    let o = run("array.sh", &[]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("not in a Slurm job array"));
}

/// A model file for `adatt weights` / `forward`: 8 inputs, 2 tasks (2,864 bytes of weights).
const MODEL: &str = "input_dim = 8\nn_tasks = 2\n[model]\nkind = \"shared_bottom\"\n\
                     bottom = [16, 8]\ntower = [8]\n";

/// `adatt args` under a 2 KiB file size limit (`ulimit -f 2`; SIGXFSZ ignored, so a write
/// beyond it fails with "File too large").
fn adatt_with_2_kib_files(cwd: &Path, args: &[&str]) -> Output {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        "trap '' XFSZ; ulimit -f 2; exec '{}' {}",
        env!("CARGO_BIN_EXE_adatt"),
        quoted.join(" ")
    );
    adatt_testkit::command("bash", cwd)
        .args(["-c", &script])
        .output()
        .unwrap()
}

/// The one `error: ` line of a failed command (and that there is only one).
fn error_line(o: &Output) -> String {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    for bad in ["IoError", "Os {", "Caused by", "backtrace"] {
        assert!(!err.contains(bad), "`{bad}` in {err}");
    }
    lines[0].to_owned()
}

#[test]
fn a_write_that_fails_keeps_the_old_weights_and_outputs_whole() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("m.toml"), MODEL).unwrap();
    let x = tch::Tensor::from_slice(&(0..300 * 8).map(|i| i as f32 / 1e3).collect::<Vec<_>>());
    tch::Tensor::write_safetensors(&[("input", x.view([300, 8]))], dir.join("x.safetensors"))
        .unwrap();
    let init = |seed: &'static str| ["weights", "init", "--model", "m.toml", "--seed", seed];
    let o = adatt(
        dir,
        &[&init("0")[..], &["--out", "w.safetensors"]].concat(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let forward = [
        "forward",
        "--model",
        "m.toml",
        "--weights",
        "w.safetensors",
        "--input",
        "x.safetensors",
        "--out",
        "y.safetensors",
    ];
    let o = adatt(dir, &forward, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let check = [
        "weights",
        "check",
        "--model",
        "m.toml",
        "--weights",
        "w.safetensors",
        "--out",
        "w2.safetensors",
    ];
    let o = adatt(dir, &check, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before: Vec<Vec<u8>> = ["w.safetensors", "y.safetensors", "w2.safetensors"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    assert_eq!(before[0].len(), 2864);
    assert_eq!(before[0], before[2], "the round trip writes the same file");
    assert!(before[1].len() > 2400, "{}", before[1].len());
    // Each command again, writing over its old file under a limit below the file's size.
    let init1 = [&init("1")[..], &["--out", "w.safetensors"]].concat();
    for (args, file) in [
        (&init1[..], "w.safetensors"),
        (&forward[..], "y.safetensors"),
        (&check[..], "w2.safetensors"),
    ] {
        let o = adatt_with_2_kib_files(dir, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        let line = error_line(&o);
        assert!(
            line.starts_with(&format!("error: cannot write {file}: File too large")),
            "{line}"
        );
    }
    let after: Vec<Vec<u8>> = ["w.safetensors", "y.safetensors", "w2.safetensors"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    assert!(before == after, "an old file changed");
    assert_eq!(
        adatt_testkit::dir_names(dir),
        [
            "m.toml",
            "w.safetensors",
            "w2.safetensors",
            "x.safetensors",
            "y.safetensors"
        ]
    );
}

#[test]
fn weights_and_inputs_that_cannot_be_read_are_one_line_naming_the_flag() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("m.toml"), MODEL).unwrap();
    std::fs::create_dir(dir.join("a-dir")).unwrap();
    let o = adatt(
        dir,
        &[
            "weights",
            "init",
            "--model",
            "m.toml",
            "--out",
            "w.safetensors",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let forward = |weights: &str, input: &str| {
        let args = [
            "forward",
            "--model",
            "m.toml",
            "--weights",
            weights,
            "--input",
            input,
            "--out",
            "y.safetensors",
        ];
        adatt(dir, &args, &[])
    };
    let cases = [
        (
            forward("/nonexistent/w.safetensors", "x"),
            "error: cannot read --weights /nonexistent/w.safetensors: No such file or directory",
        ),
        (
            forward("a-dir", "x"),
            "error: cannot read --weights a-dir: Is a directory",
        ),
        (
            forward("m.toml", "x"),
            "error: --weights m.toml: not a safetensors file (",
        ),
        (
            forward("w.safetensors", "nope.safetensors"),
            "error: cannot read --input nope.safetensors: No such file or directory",
        ),
        (
            forward("w.safetensors", "w.safetensors"),
            "error: --input w.safetensors: no tensor named `input`",
        ),
        (
            adatt(
                dir,
                &[
                    "weights",
                    "check",
                    "--model",
                    "m.toml",
                    "--weights",
                    "gone.safetensors",
                ],
                &[],
            ),
            "error: cannot read --weights gone.safetensors: No such file or directory",
        ),
    ];
    for (o, want) in cases {
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let line = error_line(&o);
        assert!(line.starts_with(want), "want `{want}`: {line}");
    }
    assert_eq!(
        adatt_testkit::dir_names(dir),
        ["a-dir", "m.toml", "w.safetensors"]
    );
}

#[test]
fn parity_refuses_a_tolerance_or_row_count_it_cannot_use() {
    let d = tempfile::tempdir().unwrap();
    // The flags are checked before the config is read: it does not exist.
    let parity = |extra: &[&str]| {
        let args = [&["parity", "--config", "/nonexistent/c.toml"][..], extra].concat();
        adatt(d.path(), &args, &[])
    };
    for (extra, flag) in [
        (&["--tolerance", "nan"][..], "--tolerance"),
        (&["--tolerance", "NaN"], "--tolerance"),
        (&["--tolerance", "inf"], "--tolerance"),
        (&["--tolerance=-1e-4"], "--tolerance"),
        (&["--rows", "0"], "--rows"),
    ] {
        let o = parity(extra);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        let first = err.lines().next().unwrap_or("");
        assert!(
            first.starts_with(&format!(
                "error: invalid value '{}' for '{flag} ",
                extra.last().unwrap().trim_start_matches("--tolerance=")
            )),
            "{extra:?}: {err}"
        );
        assert!(!err.contains("cannot read config"), "{err}");
    }
    // Values it can use pass on to the config, which is then read.
    let o = parity(&["--tolerance", "0", "--rows", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        error_line(&o).starts_with("error: cannot read config /nonexistent/c.toml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_usage_error_exits_2_and_an_error_1_as_the_readme_and_make_help_say() {
    let d = tempfile::tempdir().unwrap();
    for args in [&["run", "--no-such-flag"][..], &["no-such-command"], &[]] {
        let o = adatt(d.path(), args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("Usage: adatt"), "{}", stderr(&o));
    }
    let o = adatt(d.path(), &["run", "--config", "missing.toml"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(error_line(&o).starts_with("error: cannot read config missing.toml"));
    // Each exit code is documented where users look.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let makefile = std::fs::read_to_string(root.join("Makefile")).unwrap();
    for (text, want) in [
        (&readme, "0 success; 1 an error, printed as one line"),
        (&readme, "2 a command-line usage error"),
        (
            &readme,
            "3 the grid ran to its end but recorded failed or diverged runs",
        ),
        (
            &makefile,
            "0 ok, 1 error (one line on stderr), 2 command-line usage error,",
        ),
        (&makefile, "3 runs recorded as failed or diverged"),
    ] {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(want), "`{want}` is not documented");
    }
}

#[test]
fn cuda_without_a_cuda_device_is_refused_before_anything_is_created() {
    let d = tempfile::tempdir().unwrap();
    let no_cuda = [("CUDA_VISIBLE_DEVICES", "")];
    let cfg = write_config(d.path(), &config(|c| c));
    let out = d.path().join("new/results");
    let o = adatt(
        d.path(),
        &[
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--device",
            "cuda",
            "--out",
            out.to_str().unwrap(),
        ],
        &no_cuda,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        error_line(&o).ends_with("device `cuda` requested but libtorch sees no CUDA device"),
        "{}",
        stderr(&o)
    );
    assert!(!d.path().join("new").exists());
    // parity: refused before its data is loaded (there is none here) or anything written.
    let cfg = write_config(
        d.path(),
        &config(|c| {
            c.replace(
                &format!("data_dir = \"{}\"", adatt_testkit::census_dir().display()),
                "data_dir = \"/nonexistent\"",
            )
        }),
    );
    let o = adatt(
        d.path(),
        &[
            "parity",
            "--config",
            cfg.to_str().unwrap(),
            "--device",
            "cuda",
            "--out",
            "p.json",
        ],
        &no_cuda,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        error_line(&o),
        "error: device `cuda` requested but libtorch sees no CUDA device"
    );
    assert_eq!(adatt_testkit::dir_names(d.path()), ["c.toml"]);
}

/// The tiny grid with one seed (two runs).
fn one_seed() -> String {
    config(|c| c.replace("seeds = [0, 1]", "seeds = [0]"))
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

/// This project's checkout as git describes it (the oracle): `describe`, and whether a file
/// outside `results/` differs from HEAD or is untracked and not ignored.
fn project_revision() -> (String, bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let rev = git(&root, &["describe", "--always", "--abbrev=12"]);
    let changed = git(
        &root,
        &[
            "status",
            "--porcelain",
            "--untracked-files=all",
            "--",
            ":(top)",
            ":(top,exclude)results",
        ],
    );
    (rev, !changed.is_empty())
}

/// The revision a run from this checkout must record in `out`: the revision, or, for a tree
/// with changes, `<revision>-dirty-<hash>` with `out/code-<hash>.patch` whose sha256 (the
/// oracle: `sha256sum`) starts with the hash.
fn assert_recorded_code(out: &Path, got: Option<&str>) {
    let (rev, dirty) = project_revision();
    let got = got.expect("a revision is recorded");
    if !dirty {
        assert_eq!(got, rev);
        assert!(!adatt_testkit::dir_names(out)
            .iter()
            .any(|n| n.ends_with(".patch")));
        return;
    }
    let hash = got
        .strip_prefix(&format!("{rev}-dirty-"))
        .unwrap_or_else(|| panic!("{got} is not {rev}-dirty-<hash>"));
    let patch = out.join(format!("code-{hash}.patch"));
    let sum = Command::new("sha256sum").arg(&patch).output().unwrap();
    assert!(sum.status.success(), "{}", patch.display());
    assert_eq!(&String::from_utf8_lossy(&sum.stdout)[..12], hash);
}

fn recorded_revision(out: &Path) -> Option<String> {
    let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    let rec: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    rec["git_revision"].as_str().map(str::to_owned)
}

#[test]
fn records_carry_the_projects_revision_wherever_the_command_runs() {
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
        let cfg = write_config(cwd, &one_seed());
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
        assert!(o.status.success(), "{}", stderr(&o));
        let got = recorded_revision(&out);
        assert_recorded_code(&out, got.as_deref());
        assert_ne!(got.as_deref(), Some(theirs.as_str()));
    }
}

/// Without `--allow-dirty` a checkout with changes outside `results/` trains nothing: one
/// line names the checkout and the flag, and the output directory is not created. A clean
/// checkout trains as usual (which of the two applies depends on the checkout the test runs
/// in; CI's is clean). With nothing left to train, a changed checkout still analyses.
#[test]
fn a_checkout_with_changes_trains_only_when_allowed() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write_config(d.path(), &one_seed());
    let out = d.path().join("out");
    let args = [
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let strict = [("ADATT_ALLOW_DIRTY", "0")];
    let (rev, dirty) = project_revision();
    let o = adatt(d.path(), &args, &strict);
    if dirty {
        let err = error_line(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains("outside results/") && err.contains("--allow-dirty"),
            "{err}"
        );
        assert!(err.contains(&rev), "{err}");
        assert!(!out.exists());
        let o = adatt(d.path(), &args, &[]);
        assert!(o.status.success(), "{}", stderr(&o));
    } else {
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_recorded_code(&out, recorded_revision(&out).as_deref());
    // Everything recorded: no code is asked for, the analysis runs.
    let o = adatt(d.path(), &args, &strict);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("table.md").exists());
}

/// A bad override is one line naming the variable that carried it, before anything is
/// allocated or written: a repeated seed, seed counts no machine could plan, a non-number in
/// `ADATT_JOBS`.
#[test]
fn bad_overrides_are_blamed_on_their_variable() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write_config(d.path(), &one_seed());
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
        let err = stderr(&o);
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
    let err = stderr(&o);
    assert!(err.contains("'--jobs <JOBS>'"), "{err}");
}

/// `adatt data-summary` without `--data-dir`, run from the repository root, reads
/// `data/census-income` (its `--help` names that default) and splits the test file as the
/// paper's code does (seed 1): each split's rows and positive rates are those of the pandas
/// oracle (fixtures/census/paper.json: rows and label sums per split).
#[test]
fn data_summary_reads_the_default_directory_with_the_papers_split() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let help = adatt(&root, &["data-summary", "--help"], &[]);
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    assert!(help.contains("[default: data/census-income]"), "{help}");
    let o = adatt(&root, &["data-summary", "--protocol", "paper"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let oracle: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("fixtures/census/paper.json")).unwrap(),
    )
    .unwrap();
    for split in ["train", "valid", "test"] {
        let n = oracle[split]["n_rows"].as_u64().unwrap();
        let mut want = vec![split.to_owned(), n.to_string()];
        for sum in oracle[split]["label_sum"].as_array().unwrap() {
            want.push(format!("{:.2}%", 100.0 * sum.as_f64().unwrap() / n as f64));
        }
        let line = stdout
            .lines()
            .find(|l| l.starts_with(split))
            .unwrap_or_else(|| panic!("no {split} line in {stdout}"));
        assert_eq!(
            line.split_whitespace().collect::<Vec<_>>(),
            want,
            "{stdout}"
        );
    }
}
