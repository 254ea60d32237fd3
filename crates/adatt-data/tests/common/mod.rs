//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root (the tests run from the crate directory).
pub fn repo_root() -> PathBuf {
    // Read at run time, not compile time: a test binary built in another checkout that shares
    // the target dir (CI's fresh clone) must still look in the checkout it runs for.
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
    )
    .join("../..")
}

/// Reads a fixture file under `fixtures/`, with a clear message when it is missing.
pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    let path = repo_root().join("fixtures").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read fixture {} ({e}); generate the fixtures with `make fixtures` \
             (or `~/.cache/adatt-rs/venv/bin/python scripts/make_fixtures.py` from the repo root)",
            path.display()
        )
    })
}

/// Parses a JSON fixture under `fixtures/`.
pub fn fixture_json(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture_bytes(rel))
        .unwrap_or_else(|e| panic!("fixture {rel} is not valid JSON ({e}); run `make fixtures`"))
}
