//! The state of the code a run is trained from: the checkout's `git describe` and the changes
//! outside `results/` (tracked files that differ from HEAD, untracked files that git does not
//! ignore). A record names its code by [`CodeState::label`]; a run from a changed tree
//! carries the hash of the patch saved beside its records ([`CodeState::patch`]).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The checkout this binary was built from: the workspace root, two levels above this crate.
pub const SOURCE_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// A checkout's revision and its changes outside `results/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeState {
    /// The checkout.
    pub root: PathBuf,
    /// `git describe --always --abbrev=12` of HEAD.
    pub revision: String,
    /// HEAD's full commit id.
    pub commit: String,
    /// Changed tracked files and untracked files outside `results/`, as `git status
    /// --porcelain` lists them (e.g. ` M crates/x.rs`, `?? notes.txt`).
    pub changes: Vec<String>,
}

/// `git -C root args…`, its stdout if it exited with one of `ok_codes`. The caller's
/// repository (GIT_DIR and friends) is never read instead of `root`'s.
fn git(root: &Path, args: &[&str], ok_codes: &[i32]) -> Option<Vec<u8>> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .ok()?;
    out.status
        .code()
        .is_some_and(|c| ok_codes.contains(&c))
        .then_some(out.stdout)
}

/// The pathspec of everything but `results/`.
const OUTSIDE_RESULTS: [&str; 3] = ["--", ":(top)", ":(top,exclude)results"];

impl CodeState {
    /// The state of the checkout at `root`; `None` where it is not a git checkout (a binary
    /// copied to another machine) or git is missing.
    pub fn of(root: &Path) -> Option<CodeState> {
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).trim_end().to_owned();
        let revision = text(git(root, &["describe", "--always", "--abbrev=12"], &[0])?);
        let commit = text(git(root, &["rev-parse", "HEAD"], &[0])?);
        let mut args = vec!["status", "--porcelain", "--untracked-files=all"];
        args.extend(OUTSIDE_RESULTS);
        let changes = text(git(root, &args, &[0])?)
            .lines()
            .map(str::to_owned)
            .collect();
        Some(CodeState {
            // As a reader names it: `/…/crates/adatt-spec/../..` becomes the checkout's path.
            root: std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()),
            revision,
            commit,
            changes,
        })
    }

    /// The state of the checkout this binary was built from.
    pub fn of_this_binary() -> Option<CodeState> {
        CodeState::of(Path::new(SOURCE_ROOT))
    }

    /// Whether anything outside `results/` differs from HEAD.
    pub fn is_dirty(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The revision, with `-dirty` when the tree has changes.
    pub fn label(&self) -> String {
        if self.is_dirty() {
            format!("{}-dirty", self.revision)
        } else {
            self.revision.clone()
        }
    }

    /// The changes as one patch (`git diff --binary HEAD` of the tracked files, then each
    /// untracked file as a new file), and the first 12 hex digits of its sha256.
    pub fn patch(&self) -> Option<(Vec<u8>, String)> {
        let mut args = vec!["diff", "--binary", "HEAD"];
        args.extend(OUTSIDE_RESULTS);
        let mut patch = git(&self.root, &args, &[0])?;
        let mut others = vec!["ls-files", "--others", "--exclude-standard", "-z"];
        others.extend(OUTSIDE_RESULTS);
        let names = git(&self.root, &others, &[0])?;
        for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let name = String::from_utf8_lossy(name).into_owned();
            // `git diff --no-index` exits with 1 when the files differ, as they do here.
            let args = ["diff", "--binary", "--no-index", "--", "/dev/null", &name];
            patch.extend(git(&self.root, &args, &[0, 1])?);
        }
        let hash = Sha256::digest(&patch)
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        Some((patch, hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(root: &Path, args: &[&str]) {
        let mut all = vec!["-c", "user.name=t", "-c", "user.email=t@t"];
        all.extend(args);
        assert!(git(root, &all, &[0]).is_some(), "git {args:?}");
    }

    fn repo() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        run(d.path(), &["init", "-q"]);
        std::fs::write(d.path().join("code.rs"), "fn a() {}\n").unwrap();
        std::fs::create_dir(d.path().join("results")).unwrap();
        std::fs::write(d.path().join("results/runs.jsonl"), "{}\n").unwrap();
        std::fs::write(d.path().join(".gitignore"), "/target\n").unwrap();
        run(d.path(), &["add", "."]);
        run(d.path(), &["commit", "-qm", "first"]);
        d
    }

    #[test]
    fn results_and_ignored_files_leave_a_tree_clean() {
        let d = repo();
        std::fs::write(d.path().join("results/runs.jsonl"), "{}\n{}\n").unwrap();
        std::fs::write(d.path().join("results/new.json"), "{}").unwrap();
        std::fs::create_dir(d.path().join("target")).unwrap();
        std::fs::write(d.path().join("target/bin"), "x").unwrap();
        let s = CodeState::of(d.path()).unwrap();
        assert!(!s.is_dirty(), "{:?}", s.changes);
        assert_eq!(s.revision.len(), 12);
        assert!(
            s.commit.starts_with(&s.revision) && s.commit.len() == 40,
            "{}",
            s.commit
        );
        assert_eq!(s.label(), s.revision);
    }

    #[test]
    fn a_changed_or_new_file_makes_it_dirty_and_goes_into_the_patch() {
        let d = repo();
        std::fs::write(d.path().join("code.rs"), "fn a() { b() }\n").unwrap();
        std::fs::write(d.path().join("new.rs"), "fn b() {}\n").unwrap();
        let s = CodeState::of(d.path()).unwrap();
        assert_eq!(s.changes, [" M code.rs", "?? new.rs"]);
        assert_eq!(s.label(), format!("{}-dirty", s.revision));
        let (patch, hash) = s.patch().unwrap();
        let text = String::from_utf8(patch.clone()).unwrap();
        assert!(
            text.contains("+fn a() { b() }") && text.contains("-fn a() {}"),
            "{text}"
        );
        assert!(text.contains("+fn b() {}"), "{text}");
        // The patch re-creates the tree: applied to a clean copy of HEAD it gives the files.
        let copy = tempfile::tempdir().unwrap();
        let src = d.path().to_str().unwrap();
        run(copy.path(), &["clone", "-q", src, "."]);
        std::fs::write(copy.path().join("p.patch"), &patch).unwrap();
        run(copy.path(), &["apply", "p.patch"]);
        for f in ["code.rs", "new.rs"] {
            assert_eq!(
                std::fs::read(copy.path().join(f)).unwrap(),
                std::fs::read(d.path().join(f)).unwrap()
            );
        }
        // The hash is sha256's (the oracle: `sha256sum`), first 12 hex digits.
        let out = std::process::Command::new("sha256sum")
            .arg(copy.path().join("p.patch"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout)[..12], hash);
    }

    /// The checkout is named by its own path, not by the crate's path and `..`: the root of
    /// this workspace, where Cargo.lock is.
    #[test]
    fn the_checkout_is_named_by_its_canonical_path() {
        let state = CodeState::of_this_binary();
        if !Path::new(SOURCE_ROOT).join(".git").exists() {
            // Built outside a git checkout (e.g. from an archive): nothing to name.
            assert_eq!(state, None);
            return;
        }
        let s = state.expect("a git checkout has a state");
        assert!(
            !s.root
                .components()
                .any(|c| c == std::path::Component::ParentDir),
            "{}",
            s.root.display()
        );
        assert!(s.root.join("Cargo.lock").is_file(), "{}", s.root.display());
    }

    #[test]
    fn outside_a_checkout_there_is_no_state() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(CodeState::of(d.path()), None);
    }
}
