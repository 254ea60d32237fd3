//! The workspace's layering, checked (ARCHITECTURE.md, "Invariants"): the crates below the
//! experiment layer know none of its flags or environment variables, the analysis and the spec
//! crates do not link libtorch, and no crate has files that use each other in a cycle.

use std::path::{Path, PathBuf};
use std::process::Command;

use adatt_experiment::{ExperimentArgs, StudyArgs};
use clap::CommandFactory;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The crates the experiment layer sits on.
const BELOW: [&str; 5] = [
    "adatt-data",
    "adatt-models",
    "adatt-spec",
    "adatt-engine",
    "adatt-analysis",
];

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

/// `--flag` and `ADATT_*` names of every argument of the grid and study binaries.
fn layer_names() -> Vec<String> {
    let mut names = Vec::new();
    for cmd in [ExperimentArgs::command(), StudyArgs::command()] {
        for a in cmd.get_arguments() {
            if let Some(long) = a.get_long() {
                names.push(format!("\"--{long}"));
            }
            if let Some(env) = a.get_env() {
                names.push(env.to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[test]
fn no_flag_or_variable_of_the_experiment_layer_appears_below_it() {
    let names = layer_names();
    assert!(names.contains(&"\"--seeds".to_owned()) && names.contains(&"ADATT_JOBS".to_owned()));
    let mut found = Vec::new();
    for krate in BELOW {
        for f in rust_files(&root().join("crates").join(krate).join("src")) {
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for n in names.iter().filter(|n| code.contains(n.as_str())) {
                    found.push(format!("{}:{}: {n}", f.display(), i + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

/// The packages in `krate`'s dependency tree (normal, build and dev dependencies).
fn dependency_tree(krate: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let o = Command::new(cargo)
        .current_dir(root())
        .args(["tree", "--offline", "-p", krate, "-e", "normal,build,dev"])
        .args(["--prefix", "none", "--format", "{p}"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn the_analysis_and_spec_crates_do_not_link_libtorch() {
    for krate in ["adatt-analysis", "adatt-spec"] {
        let tree = dependency_tree(krate);
        assert!(
            tree.iter().any(|p| p == "adatt-models"),
            "{krate}: {tree:?}"
        );
        let torch: Vec<&String> = tree
            .iter()
            .filter(|p| *p == "tch" || *p == "torch-sys")
            .collect();
        assert!(torch.is_empty(), "{krate} depends on {torch:?}");
    }
    // The check sees libtorch where it is.
    assert!(dependency_tree("adatt-engine").iter().any(|p| p == "tch"));
}

#[test]
fn no_crate_has_files_that_use_each_other_in_a_cycle() {
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .chain(std::fs::read_dir(root().join("experiments")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("src").is_dir())
        .collect();
    crates.sort();
    assert!(crates.len() >= 14, "{crates:?}");
    let o = Command::new("python3")
        .arg(root().join("scripts/check_cycles.py"))
        .args(&crates)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains(&format!("no module cycles in {} crate(s)", crates.len())),
        "{out}"
    );
}
