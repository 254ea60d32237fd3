//! The shell scripts around the binaries, run with fake binaries that print or record their
//! arguments: the Slurm array (`scripts/slurm/array.sh`: every shard of the grid exactly once,
//! whatever the array's ids) and its analysis step (`analyze.sh`), the binary both find, and
//! `make figures` (`scripts/figures.sh`: only folders named after a protocol are analysed).

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `bash script args` in `cwd`, without the caller's `ADATT_*`, `SLURM_*` or
/// `CARGO_TARGET_DIR`, with `env` set.
fn script(script: &str, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = adatt_testkit::command("bash", cwd);
    c.arg(repo().join(script)).args(args);
    c.env_remove("CARGO_TARGET_DIR");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("SLURM_") {
            c.env_remove(k);
        }
    }
    c.envs(env.iter().copied());
    c.output().unwrap()
}

/// An executable shell script at `path` with `body`.
fn fake(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A fake binary that prints its path and arguments.
const ECHO: &str = r#"echo "$0 $*""#;

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

/// The `--shard k/N` that array.sh passes for task `id` of an array with Slurm's variables.
fn shard_of(bin: &Path, id: u32, min: u32, max: u32, step: u32, count: u32) -> (u32, u32) {
    let vars = [
        ("SLURM_ARRAY_TASK_ID", id),
        ("SLURM_ARRAY_TASK_MIN", min),
        ("SLURM_ARRAY_TASK_MAX", max),
        ("SLURM_ARRAY_TASK_STEP", step),
        ("SLURM_ARRAY_TASK_COUNT", count),
    ]
    .map(|(k, v)| (k, v.to_string()));
    let mut env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("ADATT_BIN", bin.to_str().unwrap()));
    let o = script("scripts/slurm/array.sh", &["c.toml"], Path::new("/"), &env);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "task {id}: {}", text(&o.stderr));
    let args: Vec<&str> = out.split_whitespace().collect();
    let at = args.iter().position(|a| *a == "--shard").expect("--shard");
    let (k, n) = args[at + 1].split_once('/').unwrap();
    assert_eq!(
        &args[1..at],
        ["run", "--config", "c.toml"],
        "task {id}: {out}"
    );
    (k.parse().unwrap(), n.parse().unwrap())
}

#[test]
fn slurm_array_tasks_train_every_shard_exactly_once() {
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("adatt");
    fake(&bin, ECHO);
    // `--array=` spec: (ids, min, max, step); Slurm's COUNT is the number of ids.
    let arrays: [(&str, Vec<u32>, u32, u32, u32); 4] = [
        ("0-2", (0..=2).collect(), 0, 2, 1),
        ("1-8", (1..=8).collect(), 1, 8, 1),
        ("1-7:2", vec![1, 3, 5, 7], 1, 7, 2),
        ("5-8", (5..=8).collect(), 5, 8, 1),
    ];
    for (spec, ids, min, max, step) in arrays {
        let count = ids.len() as u32;
        let shards: Vec<(u32, u32)> = ids
            .iter()
            .map(|&id| shard_of(&bin, id, min, max, step, count))
            .collect();
        let ks: BTreeSet<u32> = shards.iter().map(|s| s.0).collect();
        assert_eq!(
            ks.len(),
            shards.len(),
            "--array={spec}: a shard twice: {shards:?}"
        );
        assert_eq!(ks, (1..=count).collect(), "--array={spec}: {shards:?}");
        assert!(
            shards.iter().all(|s| s.1 == count),
            "--array={spec}: {shards:?}"
        );
    }
    // A list of ids with gaps is refused, naming the range form to submit instead.
    let env = [
        ("SLURM_ARRAY_TASK_ID", "4"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_MAX", "9"),
        ("SLURM_ARRAY_TASK_STEP", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
        ("ADATT_BIN", bin.to_str().unwrap()),
    ];
    let o = script("scripts/slurm/array.sh", &["c.toml"], d.path(), &env);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "{}", text(&o.stdout));
    assert!(
        text(&o.stderr).contains("--array=1-3"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn slurm_scripts_run_the_binary_of_cargo_target_dir_or_adatt_cache() {
    let d = tempfile::tempdir().unwrap();
    let home = d.path().join("home");
    let home_s = home.to_str().unwrap();
    let (target, cache) = (d.path().join("target"), d.path().join("cache"));
    let (target_s, cache_s) = (target.to_str().unwrap(), cache.to_str().unwrap());
    let explicit = d.path().join("bin/adatt");
    // (environment, the binary that must run)
    let cases: [(Vec<(&str, &str)>, PathBuf); 4] = [
        (vec![], home.join(".cache/adatt-rs/target/debug/adatt")),
        (
            vec![("ADATT_CACHE", cache_s)],
            cache.join("target/debug/adatt"),
        ),
        (
            vec![("ADATT_CACHE", cache_s), ("CARGO_TARGET_DIR", target_s)],
            target.join("debug/adatt"),
        ),
        (
            vec![
                ("CARGO_TARGET_DIR", target_s),
                ("ADATT_BIN", explicit.to_str().unwrap()),
            ],
            explicit.clone(),
        ),
    ];
    for (env, want) in cases {
        let _ = std::fs::remove_dir_all(&home);
        for p in [&target, &cache, &explicit.parent().unwrap().to_owned()] {
            let _ = std::fs::remove_dir_all(p);
        }
        fake(&want, ECHO);
        let mut env = env.clone();
        env.extend([
            ("HOME", home_s),
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ]);
        for (s, sub) in [("array.sh", "run"), ("analyze.sh", "analyze")] {
            let o = script(&format!("scripts/slurm/{s}"), &["c.toml"], d.path(), &env);
            let out = text(&o.stdout);
            assert_eq!(o.status.code(), Some(0), "{s} {env:?}: {}", text(&o.stderr));
            assert!(
                out.starts_with(&format!("{} {sub} --config c.toml", want.display())),
                "{s} {env:?}: {out}"
            );
        }
    }
}

/// A results folder of `experiment` named `folder`, holding a records file.
fn results(root: &Path, experiment: &str, folder: &str) {
    let d = root.join("results").join(experiment).join(folder);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("runs.jsonl"), "").unwrap();
}

#[test]
fn figures_analyses_each_protocol_folder_and_skips_the_others_by_name() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let bin = root.join("bin");
    let log = root.join("calls.log");
    // Each fake binary records its protocol and arguments; `adatt analyze` of table6 fails.
    let record = format!(
        r#"echo "$(basename $0) ${{ADATT_PROTOCOL:--}} ${{ADATT_SEEDS:--}} $*" >> '{}'"#,
        log.display()
    );
    fake(&bin.join("table5"), &record);
    fake(
        &bin.join("adatt"),
        &format!("{record}\ncase \"$*\" in *table6*) exit 1;; esac"),
    );
    results(root, "table6", "clean");
    results(root, "table6", "quick");
    results(root, "table6", "paper");
    results(root, "table7", "clean");
    std::fs::create_dir_all(root.join("results/table8/clean")).unwrap(); // no records
    results(root, "sim_group1", "group1");
    let run = |protocols: &str| {
        let _ = std::fs::remove_file(&log);
        let o = script(
            "scripts/figures.sh",
            &[
                bin.to_str().unwrap(),
                protocols,
                "table6 table7 table8 figure3",
                "sim_group1",
            ],
            root,
            &[("ADATT_SEEDS", "5")],
        );
        let calls = std::fs::read_to_string(&log).unwrap();
        (o, calls.lines().map(str::to_owned).collect::<Vec<_>>())
    };
    let (o, calls) = run("paper clean");
    let out = text(&o.stdout);
    assert_eq!(
        calls,
        [
            "table5 paper 5 --config configs/table5.toml --phase analyze",
            "table5 clean 5 --config configs/table5.toml --phase analyze",
            "adatt clean 5 analyze --config configs/table6.toml",
            "adatt paper 5 analyze --config configs/table6.toml",
            "adatt clean 5 analyze --config configs/table7.toml",
            "adatt - 5 analyze --config configs/sim_group1.toml",
        ],
        "{out}"
    );
    assert!(
        out.contains("skipped results/table6/quick: not named after a protocol"),
        "{out}"
    );
    // The failed analyses did not stop the later ones; they are named, with their exit code.
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("failed: results/table6/clean results/table6/paper"),
        "{err}"
    );
    // PROTOCOL=clean: only the clean folders (and the simulated grid).
    let (o, calls) = run("clean");
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert!(calls.iter().all(|c| !c.contains("paper")), "{calls:?}");
    assert!(text(&o.stdout).contains("skipped results/table6/quick"));

    // `make figures` runs this script with the Makefile's binaries and lists.
    let o = Command::new("make")
        .args(["-n", "figures", "PROTOCOL=clean", "SEEDS=3"])
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", "/t")
        .output()
        .unwrap();
    let plan = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let line = plan
        .lines()
        .find(|l| l.contains("scripts/figures.sh"))
        .unwrap_or_else(|| panic!("{plan}"));
    assert!(line.starts_with("ADATT_SEEDS=\"3\" "), "{line}");
    assert!(
        line.ends_with(
            "scripts/figures.sh \"/t/debug\" \"clean\" \"table6 table7 table8 figure3\" \
             \"sim_group1\""
        ),
        "{line}"
    );
}
