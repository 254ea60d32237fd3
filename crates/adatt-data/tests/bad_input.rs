//! Corrupted inputs, written to temporary files: every failure is the right `DataError` variant
//! and names the file.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use adatt_data::{
    load_census, load_census_files, CensusConfig, DataError, Protocol, TEST_FILE, TRAIN_FILE,
};
use common::repo_root;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

/// The first `n` lines of a real file.
fn first_lines(file: &str, n: usize) -> Vec<String> {
    let f = std::fs::File::open(repo_root().join("data/census-income").join(file)).unwrap();
    BufReader::new(MultiGzDecoder::new(f))
        .lines()
        .take(n)
        .map(|l| l.unwrap())
        .collect()
}

fn gz(lines: &[String]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    for l in lines {
        e.write_all(l.as_bytes()).unwrap();
        e.write_all(b"\n").unwrap();
    }
    e.finish().unwrap()
}

/// A temp dir with small train (200 rows) and test (100 rows) files; `edit` may change them.
struct Files {
    _dir: tempfile::TempDir,
    train: PathBuf,
    test: PathBuf,
}

fn files(edit: impl FnOnce(&mut Vec<String>, &mut Vec<String>)) -> Files {
    let mut train = first_lines(TRAIN_FILE, 200);
    let mut test = first_lines(TEST_FILE, 100);
    edit(&mut train, &mut test);
    let dir = tempfile::tempdir().unwrap();
    let (tr, te) = (dir.path().join(TRAIN_FILE), dir.path().join(TEST_FILE));
    std::fs::write(&tr, gz(&train)).unwrap();
    std::fs::write(&te, gz(&test)).unwrap();
    Files {
        _dir: dir,
        train: tr,
        test: te,
    }
}

fn load(f: &Files, protocol: Protocol) -> Result<adatt_data::Dataset, DataError> {
    load_census_files(&f.train, &f.test, None, protocol, 1)
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn small_valid_files_load() {
    let f = files(|_, _| {});
    let d = load(&f, Protocol::Clean).unwrap();
    assert_eq!(
        (d.train.n_rows, d.valid.n_rows, d.test.n_rows),
        (200, 50, 50)
    );
    let sha = hex::encode(Sha256::digest(std::fs::read(&f.test).unwrap()));
    assert_eq!(d.sha256[TEST_FILE], sha);
    // with the right checksums given explicitly it loads too
    let sha_tr = hex::encode(Sha256::digest(std::fs::read(&f.train).unwrap()));
    let d2 =
        load_census_files(&f.train, &f.test, Some((&sha_tr, &sha)), Protocol::Clean, 1).unwrap();
    assert_eq!(d2.train.dense, d.train.dense);
}

#[test]
fn paper_protocol_refuses_mismatched_layouts() {
    // The first 200 training rows have no Grandchild row, so the framework's appended column
    // would make the val/test matrix one column wider than the training one.
    let f = files(|_, _| {});
    match load(&f, Protocol::Paper) {
        Err(e @ DataError::Layout { .. }) => assert!(e.to_string().contains(&name(&f.test)), "{e}"),
        other => panic!("expected a Layout error, got {other:?}"),
    }
}

#[test]
fn missing_file() {
    let f = files(|_, _| {});
    let gone = f.train.with_file_name("nope.data.gz");
    match load_census_files(&gone, &f.test, None, Protocol::Clean, 1) {
        Err(e @ DataError::MissingFile { .. }) => {
            assert!(e.to_string().contains("nope.data.gz"), "{e}")
        }
        other => panic!("expected MissingFile, got {other:?}"),
    }
    let cfg = CensusConfig {
        data_dir: f.train.with_file_name("no-such-dir"),
        ..Default::default()
    };
    assert!(matches!(
        load_census(&cfg),
        Err(DataError::MissingFile { .. })
    ));
}

#[test]
fn wrong_checksum() {
    // load_census verifies the UCI checksums: the small files cannot pass.
    let f = files(|_, _| {});
    let cfg = CensusConfig {
        data_dir: f.train.parent().unwrap().to_path_buf(),
        protocol: Protocol::Paper,
        split_seed: 1,
    };
    match load_census(&cfg) {
        Err(e @ DataError::Checksum { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(TRAIN_FILE) || msg.contains(TEST_FILE), "{msg}");
            if let DataError::Checksum { expected, got, .. } = &e {
                assert_ne!(expected, got);
                assert_eq!(got.len(), 64);
            }
        }
        other => panic!("expected Checksum, got {other:?}"),
    }
    let bad = "0".repeat(64);
    match load_census_files(&f.train, &f.test, Some((&bad, &bad)), Protocol::Clean, 1) {
        Err(DataError::Checksum { file, expected, .. }) => {
            assert!(file.contains(TRAIN_FILE) || file.contains(TEST_FILE));
            assert_eq!(expected, bad);
        }
        other => panic!("expected Checksum, got {other:?}"),
    }
}

#[test]
fn truncated_gzip() {
    let f = files(|_, _| {});
    let bytes = std::fs::read(&f.test).unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 4] {
        std::fs::write(&f.test, &bytes[..cut]).unwrap();
        match load(&f, Protocol::Clean) {
            Err(e @ DataError::Gzip { .. }) => assert!(e.to_string().contains(TEST_FILE), "{e}"),
            other => panic!("cut at {cut}: expected Gzip, got {other:?}"),
        }
    }
}

#[test]
fn wrong_field_count_names_the_line() {
    let f = files(|train, _| {
        // drop the last field of line 57
        let l = &train[56];
        train[56] = l[..l.rfind(',').unwrap()].to_string();
    });
    match load(&f, Protocol::Clean) {
        Err(
            e @ DataError::FieldCount {
                line: 57, got: 41, ..
            },
        ) => {
            let msg = e.to_string();
            assert!(msg.contains(TRAIN_FILE) && msg.contains("line 57"), "{msg}");
        }
        other => panic!("expected FieldCount at line 57, got {other:?}"),
    }
    let f = files(|_, test| test[9].push_str(", extra"));
    match load(&f, Protocol::Paper) {
        Err(
            e @ DataError::FieldCount {
                line: 10, got: 43, ..
            },
        ) => {
            assert!(e.to_string().contains(TEST_FILE), "{e}")
        }
        other => panic!("expected FieldCount at line 10, got {other:?}"),
    }
}

#[test]
fn unknown_income_label() {
    let f = files(|_, test| {
        let l = &test[9];
        test[9] = format!("{}, 50000++.", &l[..l.rfind(',').unwrap()]);
    });
    match load(&f, Protocol::Clean) {
        Err(e @ DataError::UnknownLabel { line: 10, .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains(TEST_FILE) && msg.contains("income_50k"),
                "{msg}"
            );
            assert!(msg.contains("50000++."), "{msg}");
        }
        other => panic!("expected UnknownLabel at line 10, got {other:?}"),
    }
}

#[test]
fn bad_number() {
    let f = files(|train, _| {
        let l = &train[2];
        train[2] = format!("abc{}", &l[l.find(',').unwrap()..]);
    });
    for protocol in [Protocol::Clean, Protocol::Paper] {
        match load(&f, protocol) {
            Err(e @ DataError::BadNumber { line: 3, .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(TRAIN_FILE) && msg.contains("age"), "{msg}");
            }
            other => panic!("{protocol}: expected BadNumber at line 3, got {other:?}"),
        }
    }
}

// ---- load_census on a given data directory: which problem, in which file ----

/// The bytes of a real UCI file.
fn real_bytes(file: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("data/census-income").join(file)).unwrap()
}

/// A fresh data directory (not the default one) holding a copy of the real test file and,
/// as the training file, `train` (no training file for `None`).
fn given_dir(train: Option<&[u8]>) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("adatt-given-dir-")
        .tempdir()
        .unwrap();
    std::fs::write(dir.path().join(TEST_FILE), real_bytes(TEST_FILE)).unwrap();
    if let Some(bytes) = train {
        std::fs::write(dir.path().join(TRAIN_FILE), bytes).unwrap();
    }
    dir
}

fn load_dir(dir: &Path) -> Result<adatt_data::Dataset, DataError> {
    load_census(&CensusConfig {
        data_dir: dir.to_path_buf(),
        protocol: Protocol::Clean,
        split_seed: 1,
    })
}

/// The message names `path` (in the given directory) and never the default directory
/// (the README's path aside).
fn assert_names_path(msg: &str, path: &Path) {
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(
        !msg.replace("data/census-income/README.md", "")
            .contains("data/census-income"),
        "names the default directory: {msg}"
    );
}

#[test]
fn given_dir_missing_file_names_the_directory_searched() {
    let dir = given_dir(None);
    let want = dir.path().join(TRAIN_FILE);
    match load_dir(dir.path()) {
        Err(
            e @ DataError::MissingFile {
                dir_exists: true, ..
            },
        ) => {
            let msg = e.to_string();
            assert_names_path(&msg, &want);
            assert!(msg.contains("not found"), "{msg}");
            assert!(
                msg.contains(&format!("looked in {})", dir.path().display())),
                "{msg}"
            );
            assert!(msg.contains("data/census-income/README.md"), "{msg}");
            assert!(!msg.contains("checksum"), "{msg}");
            if let DataError::MissingFile { path, dir: d, .. } = &e {
                assert_eq!(path, &want);
                assert_eq!(d, dir.path());
            }
        }
        other => panic!("expected MissingFile, got {other:?}"),
    }
    // a data directory that does not exist is named as such
    let gone = dir.path().join("no-such-dir");
    match load_dir(&gone) {
        Err(
            e @ DataError::MissingFile {
                dir_exists: false, ..
            },
        ) => {
            let msg = e.to_string();
            assert_names_path(&msg, &gone.join(TRAIN_FILE));
            assert!(
                msg.contains(&format!(
                    "looked in {}, which does not exist",
                    gone.display()
                )),
                "{msg}"
            );
        }
        other => panic!("expected MissingFile, got {other:?}"),
    }
}

#[test]
fn given_dir_empty_file_is_not_a_checksum_mismatch() {
    let dir = given_dir(Some(&[]));
    let want = dir.path().join(TRAIN_FILE);
    match load_dir(dir.path()) {
        Err(e @ DataError::EmptyFile { .. }) => {
            let msg = e.to_string();
            assert_names_path(&msg, &want);
            assert!(msg.contains("is empty (0 bytes)"), "{msg}");
            assert!(!msg.contains("checksum"), "{msg}");
        }
        other => panic!("expected EmptyFile, got {other:?}"),
    }
}

#[test]
fn given_dir_truncated_gzip_is_not_a_checksum_mismatch() {
    let real = real_bytes(TRAIN_FILE);
    // the real file's first half, and the real file without the last 4 bytes of its trailer
    for cut in [real.len() / 2, real.len() - 4] {
        let dir = given_dir(Some(&real[..cut]));
        let want = dir.path().join(TRAIN_FILE);
        match load_dir(dir.path()) {
            Err(
                e @ DataError::Gzip {
                    truncated: true, ..
                },
            ) => {
                let msg = e.to_string();
                assert_names_path(&msg, &want);
                assert!(msg.contains("is truncated"), "{msg}");
                assert!(msg.contains("gzip stream ends early"), "{msg}");
                assert!(!msg.contains("checksum"), "{msg}");
                // the cause is printed once, by the error chain, not inside the message
                let source = std::error::Error::source(&e).expect("a gzip error has a source");
                assert!(!msg.contains(&source.to_string()), "{msg} / {source}");
            }
            other => panic!("cut at {cut}: expected a truncated Gzip error, got {other:?}"),
        }
    }
    // bytes that are not gzip at all are not "truncated"
    let dir = given_dir(Some(b"age, class_worker\n"));
    match load_dir(dir.path()) {
        Err(
            e @ DataError::Gzip {
                truncated: false, ..
            },
        ) => {
            let msg = e.to_string();
            assert_names_path(&msg, &dir.path().join(TRAIN_FILE));
            assert!(msg.contains("is not a valid gzip file"), "{msg}");
            assert!(!msg.contains("checksum"), "{msg}");
        }
        other => panic!("expected a non-truncated Gzip error, got {other:?}"),
    }
}

#[test]
fn given_dir_different_content_is_a_checksum_mismatch() {
    let other = gz(&first_lines(TRAIN_FILE, 200));
    let dir = given_dir(Some(&other));
    let want = dir.path().join(TRAIN_FILE);
    let got_sha = hex::encode(Sha256::digest(&other));
    match load_dir(dir.path()) {
        Err(e @ DataError::Checksum { .. }) => {
            let msg = e.to_string();
            assert_names_path(&msg, &want);
            assert!(msg.contains("checksum mismatch"), "{msg}");
            assert!(msg.contains("complete gzip file"), "{msg}");
            assert!(msg.contains("content differs"), "{msg}");
            assert!(
                msg.contains(&format!("expected sha256 {}", adatt_data::TRAIN_SHA256)),
                "{msg}"
            );
            assert!(msg.contains(&format!("got {got_sha}")), "{msg}");
            if let DataError::Checksum {
                file,
                expected,
                got,
            } = &e
            {
                assert_eq!(file, &want.display().to_string());
                assert_eq!(expected, adatt_data::TRAIN_SHA256);
                assert_eq!(got, &got_sha);
            }
        }
        other => panic!("expected Checksum, got {other:?}"),
    }
}
