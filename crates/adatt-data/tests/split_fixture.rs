//! The validation/test split against numpy / pandas (fixtures from scripts/fixtures/split.py).

mod common;

use adatt_data::split::{half_split, numpy_permutation};
use common::{fixture_bytes, fixture_json};

fn as_u32s(v: &serde_json::Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn census_validation_rows_equal_pandas_sample_seed1() {
    let bytes = fixture_bytes("split/census_valid_idx_seed1.u32");
    let expected: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(
        expected.len(),
        49_881,
        "fixture has the wrong length; run `make fixtures`"
    );
    let (valid, test) = half_split(99_762, 1);
    assert_eq!(valid.len(), 49_881);
    if let Some(i) = (0..valid.len()).find(|&i| valid[i] != expected[i]) {
        panic!(
            "validation row {i}: got {}, pandas has {}",
            valid[i], expected[i]
        );
    }
    let mut in_valid = vec![false; 99_762];
    for &r in &expected {
        in_valid[r as usize] = true;
    }
    let rest: Vec<u32> = (0..99_762u32).filter(|&r| !in_valid[r as usize]).collect();
    assert_eq!(
        test, rest,
        "test rows must be the non-validation rows in ascending order"
    );
}

#[test]
fn small_cases_equal_pandas() {
    let fx = fixture_json("split/small_cases.json");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for c in cases {
        let n = c["n"].as_u64().unwrap() as usize;
        let seed = c["seed"].as_u64().unwrap() as u32;
        let (valid, test) = half_split(n, seed);
        assert_eq!(
            valid,
            as_u32s(&c["valid"]),
            "validation rows, n={n} seed={seed}"
        );
        assert_eq!(test, as_u32s(&c["test"]), "test rows, n={n} seed={seed}");
    }
}

#[test]
fn full_size_seed2_ends_equal_numpy() {
    let fx = fixture_json("split/census_seed2_ends.json");
    let n = fx["n"].as_u64().unwrap() as usize;
    let k = fx["k"].as_u64().unwrap() as usize;
    let perm = numpy_permutation(n, fx["seed"].as_u64().unwrap() as u32);
    let head = as_u32s(&fx["valid_head"]);
    let tail = as_u32s(&fx["valid_tail"]);
    assert_eq!(&perm[..head.len()], &head[..]);
    assert_eq!(&perm[k - tail.len()..k], &tail[..]);
}
