// The build script of every crate that links libtorch (each Cargo.toml names this file): embed
// libtorch's lib dir (reported by torch-sys as DEP_TCH_LIBTORCH_LIB) as an rpath, so binaries and
// tests run without LD_LIBRARY_PATH; and record the linked libtorch's version (torch/version.py of
// a PyTorch install, or build-version of a libtorch zip) for the invocation manifests. Public so
// that a crate's own build script can call it (`crates/adatt-experiment/build.rs`).
pub fn main() {
    let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    let root = std::path::Path::new(&dir)
        .parent()
        .map(|p| p.to_owned())
        .unwrap_or_default();
    let from_py = std::fs::read_to_string(root.join("version.py"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("__version__"))
                .and_then(|l| l.split('\'').nth(1).map(str::to_owned))
        });
    let from_zip = std::fs::read_to_string(root.join("build-version"))
        .ok()
        .map(|s| s.trim().to_owned());
    if let Some(v) = from_py.or(from_zip) {
        println!("cargo:rustc-env=ADATT_LIBTORCH_VERSION={v}");
    }
}
