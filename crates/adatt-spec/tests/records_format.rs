//! The record format is the committed records' format: every line of a sample of committed
//! `runs.jsonl` files (Census and simulated grids, studies, checkpoints, expert weights,
//! failed runs) parses and writes back byte for byte, so records the code writes now read
//! and merge exactly as the ones already committed.

use std::path::{Path, PathBuf};

use adatt_spec::RunRecord;

fn committed_records() -> Vec<PathBuf> {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
    let mut files = Vec::new();
    let mut stack = vec![results];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("runs") && n.ends_with(".jsonl"))
            {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn committed_records_write_back_byte_for_byte() {
    let files = committed_records();
    assert!(files.len() >= 10, "{} records files", files.len());
    let (mut lines, mut with_checkpoints, mut with_weights, mut not_ok) = (0, 0, 0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        // The first and last lines of each file: enough to meet every kind of record, without
        // reading the 100-seed files whole.
        let all: Vec<&str> = text.lines().collect();
        let sample = [all.first(), all.last()];
        for line in sample.into_iter().flatten() {
            let r: RunRecord =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let back = serde_json::to_string(&r).unwrap();
            if back != *line {
                let at = back
                    .bytes()
                    .zip(line.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(back.len().min(line.len()));
                panic!(
                    "{}: differs at byte {at}:\n{}\n{}",
                    f.display(),
                    &back[at.saturating_sub(120)..(at + 80).min(back.len())],
                    &line[at.saturating_sub(120)..(at + 80).min(line.len())]
                );
            }
            lines += 1;
            with_checkpoints += usize::from(!r.outcome.checkpoints.is_empty());
            with_weights += usize::from(r.outcome.expert_weights.is_some());
            not_ok += usize::from(!r.is_ok());
        }
    }
    assert!(
        lines >= 20 && with_checkpoints > 0 && with_weights > 0,
        "{lines} lines"
    );
    // Whether a failed run is among the sample depends on the files; the count is reported.
    eprintln!("{lines} lines, {with_checkpoints} with checkpoints, {with_weights} with expert weights, {not_ok} not ok");
}
