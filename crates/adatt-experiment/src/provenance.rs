//! Which code trains a grid's runs. A checkout with changes outside `results/` trains only
//! with `--allow-dirty`: the changes are then saved beside the records as `code-<hash>.patch`
//! (`git diff` of the tracked files, each untracked file as a new file) and every record and
//! manifest names the code `<revision>-dirty-<hash>`, so that a record always leads to the
//! exact code that made it.

use std::path::Path;

use adatt_spec::code::CodeState;

use crate::{ExperimentError, Result};

/// How many changed files a refusal lists.
const LISTED: usize = 10;

/// The commit this binary was built from (empty outside a git checkout; `build.rs`).
pub const BUILD_COMMIT: &str = env!("ADATT_BUILD_COMMIT");

/// The checkout this binary was built in (its top-level directory; empty outside a git
/// checkout; `build.rs`).
pub const BUILD_CHECKOUT: &str = env!("ADATT_BUILD_CHECKOUT");

/// Where the binary was built in another checkout than the one it trains in (two checkouts
/// sharing one CARGO_TARGET_DIR), says so: a plain `cargo build` there may reuse the other
/// checkout's build script output; `make build` reruns it.
fn other_checkout_hint(built_in: &str, root: &Path) -> String {
    let same = built_in.is_empty()
        || Path::new(built_in)
            .canonicalize()
            .is_ok_and(|b| root.canonicalize().is_ok_and(|r| r == b));
    if same {
        String::new()
    } else {
        format!(
            "; it was built in the checkout {built_in}, which shares this build directory: \
             build with `make build` here, or give each checkout its own CARGO_TARGET_DIR"
        )
    }
}

/// The revision to stamp on the records that `out_dir` is about to receive, from the state of
/// the code (`None`: not a checkout, nothing to name) and the commit the binary was built from
/// (`built`, [`BUILD_COMMIT`]; empty: unknown). A binary built from another commit than its
/// checkout's HEAD is refused: the checkout would not name its code. A tree with changes is
/// refused unless `allow_dirty`, naming the checkout, its changes and the flag; allowed, its
/// patch is written to `out_dir/code-<hash>.patch` (atomically; the same changes give the same
/// file).
pub fn stamp(
    state: Option<&CodeState>,
    built: &str,
    allow_dirty: bool,
    out_dir: &Path,
) -> Result<Option<String>> {
    let Some(state) = state else {
        return Ok(None);
    };
    if !built.is_empty() && built != state.commit {
        return Err(ExperimentError::DirtyCode(format!(
            "this binary was built from commit {built}, but its checkout {} is now at {} ({}): \
             rebuild it (make build) so that the records name the code that trains them{}",
            state.root.display(),
            state.commit,
            state.revision,
            other_checkout_hint(BUILD_CHECKOUT, &state.root)
        )));
    }
    if !state.is_dirty() {
        return Ok(Some(state.revision.clone()));
    }
    if !allow_dirty {
        let mut listed: Vec<&str> = state
            .changes
            .iter()
            .take(LISTED)
            .map(String::as_str)
            .collect();
        if state.changes.len() > LISTED {
            listed.push("…");
        }
        return Err(ExperimentError::DirtyCode(format!(
            "the code at {} has {} change(s) outside results/ since {} ({}): commit them so that \
             the records name the code that made them, or pass --allow-dirty (ADATT_ALLOW_DIRTY=1) \
             to train anyway with the changes saved beside the records",
            state.root.display(),
            state.changes.len(),
            state.revision,
            listed.join(", ")
        )));
    }
    let (patch, hash) = state.patch().ok_or_else(|| {
        ExperimentError::DirtyCode(format!(
            "git could not write the changes of {} as a patch",
            state.root.display()
        ))
    })?;
    std::fs::create_dir_all(out_dir).map_err(|source| adatt_spec::SpecError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    adatt_spec::atomic::write(&out_dir.join(format!("code-{hash}.patch")), &patch)?;
    Ok(Some(format!("{}-dirty-{hash}", state.revision)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &str = "abc123def4567890abc123def4567890abc123de";

    fn state(changes: &[&str]) -> CodeState {
        CodeState {
            root: "/src/adatt-rs".into(),
            revision: "abc123def456".into(),
            commit: COMMIT.into(),
            changes: changes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_clean_tree_is_named_by_its_revision_and_writes_nothing() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        for allow in [false, true] {
            let got = stamp(Some(&state(&[])), COMMIT, allow, &out).unwrap();
            assert_eq!(got.as_deref(), Some("abc123def456"));
        }
        assert!(!out.exists());
        assert_eq!(stamp(None, COMMIT, false, &out).unwrap(), None);
        // A binary whose build commit is unknown trusts the checkout.
        assert!(stamp(Some(&state(&[])), "", false, &out).is_ok());
    }

    #[test]
    fn a_changed_tree_is_refused_without_the_flag_naming_its_changes() {
        let d = tempfile::tempdir().unwrap();
        let changes: Vec<String> = (0..12).map(|i| format!(" M f{i}.rs")).collect();
        let refs: Vec<&str> = changes.iter().map(String::as_str).collect();
        let e = stamp(Some(&state(&refs)), COMMIT, false, d.path())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/src/adatt-rs") && e.contains("12 change(s)"),
            "{e}"
        );
        assert!(
            e.contains("M f0.rs") && e.contains("M f9.rs") && !e.contains("f10"),
            "{e}"
        );
        assert!(
            e.contains("--allow-dirty") && e.contains("abc123def456"),
            "{e}"
        );
        assert_eq!(adatt_testkit::dir_names(d.path()), Vec::<String>::new());
    }

    #[test]
    fn a_changed_tree_trains_with_the_flag_and_its_patch_beside_the_records() {
        let repo = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let o = std::process::Command::new("git")
                .arg("-C")
                .arg(repo.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .output()
                .unwrap();
            assert!(o.status.success(), "git {args:?}");
        };
        git(&["init", "-q"]);
        std::fs::write(repo.path().join("a.rs"), "old\n").unwrap();
        git(&["add", "."]);
        git(&["commit", "-qm", "c"]);
        std::fs::write(repo.path().join("a.rs"), "new\n").unwrap();
        let s = CodeState::of(repo.path()).unwrap();
        let out = tempfile::tempdir().unwrap();
        let got = stamp(Some(&s), &s.commit, true, out.path())
            .unwrap()
            .unwrap();
        let (patch, hash) = s.patch().unwrap();
        assert_eq!(got, format!("{}-dirty-{hash}", s.revision));
        let file = format!("code-{hash}.patch");
        assert_eq!(
            adatt_testkit::dir_names(out.path()),
            std::slice::from_ref(&file)
        );
        assert_eq!(std::fs::read(out.path().join(file)).unwrap(), patch);
        assert!(String::from_utf8(patch).unwrap().contains("+new"));
    }

    /// A refusal names the other checkout where the binary was built in one: the case of two
    /// checkouts sharing one build directory.
    #[test]
    fn a_binary_built_in_another_checkout_says_so() {
        let here = tempfile::tempdir().unwrap();
        let there = tempfile::tempdir().unwrap();
        let there_s = there.path().to_str().unwrap();
        let hint = other_checkout_hint(there_s, here.path());
        assert!(
            hint.contains(there_s) && hint.contains("CARGO_TARGET_DIR"),
            "{hint}"
        );
        assert_eq!(
            other_checkout_hint(here.path().to_str().unwrap(), here.path()),
            ""
        );
        // The same checkout through another spelling of its path.
        let dotted = here.path().join(".");
        assert_eq!(
            other_checkout_hint(dotted.to_str().unwrap(), here.path()),
            ""
        );
        assert_eq!(other_checkout_hint("", here.path()), "");
    }

    /// A binary built from another commit than its checkout's HEAD trains nothing, with or
    /// without `--allow-dirty` (a patch cannot say what the binary was built from).
    #[test]
    fn a_binary_older_than_its_checkout_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let other = "0123456789012345678901234567890123456789";
        for allow in [false, true] {
            let e = stamp(Some(&state(&[])), other, allow, d.path())
                .unwrap_err()
                .to_string();
            assert!(e.contains(other) && e.contains(COMMIT), "{e}");
            assert!(e.contains("make build"), "{e}");
        }
        assert_eq!(adatt_testkit::dir_names(d.path()), Vec::<String>::new());
    }
}
