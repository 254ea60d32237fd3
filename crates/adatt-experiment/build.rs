// adatt-experiment's build script: libtorch's rpath and version (build/libtorch.rs, as every
// crate that links libtorch), and the commit and checkout this build is made from,
// ADATT_BUILD_COMMIT and ADATT_BUILD_CHECKOUT (empty outside a git checkout), which
// `provenance::stamp` compares with the checkout's HEAD before a grid trains. It reruns when HEAD
// moves, so only this crate and the binaries above it rebuild after a commit, and when
// ADATT_CHECKOUT changes: the Makefile sets it to its directory, because two checkouts that share
// one CARGO_TARGET_DIR share this script's unit, whose watched files are the other checkout's.
#[path = "../../build/libtorch.rs"]
mod libtorch;

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    libtorch::main();
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=ADATT_BUILD_COMMIT={commit}");
    let checkout = git(&["rev-parse", "--show-toplevel"]).unwrap_or_default();
    println!("cargo:rustc-env=ADATT_BUILD_CHECKOUT={checkout}");
    println!("cargo:rerun-if-env-changed=ADATT_CHECKOUT");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../../build/libtorch.rs");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    // A path that does not exist would rerun the script on every build: only existing ones.
    let watch = |path: String| {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    };
    let dir = |which: &str| git(&["rev-parse", "--path-format=absolute", which]);
    if let Some(d) = dir("--git-dir") {
        watch(format!("{d}/HEAD"));
    }
    if let (Some(r), Some(common)) = (
        git(&["symbolic-ref", "-q", "HEAD"]),
        dir("--git-common-dir"),
    ) {
        watch(format!("{common}/{r}"));
        watch(format!("{common}/packed-refs"));
    }
}
