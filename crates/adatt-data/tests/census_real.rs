//! Tests on the real UCI files, both protocols. Each dataset is loaded once per test binary.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use adatt_data::{
    load_census, CensusConfig, Dataset, Protocol, RawTable, Split, TaskKind, CLEAN_CATEGORICAL,
    PAPER_APPENDED_COLUMN, PAPER_CATEGORICAL, TEST_FILE, TEST_SHA256, TRAIN_FILE, TRAIN_SHA256,
};
use common::{fixture_bytes, fixture_json, repo_root};

fn load(protocol: Protocol) -> Dataset {
    let cfg = CensusConfig {
        data_dir: repo_root().join("data/census-income"),
        protocol,
        split_seed: 1,
    };
    load_census(&cfg).unwrap_or_else(|e| panic!("loading census-income ({protocol}): {e}"))
}

fn paper() -> &'static Dataset {
    static D: OnceLock<Dataset> = OnceLock::new();
    D.get_or_init(|| load(Protocol::Paper))
}

fn clean() -> &'static Dataset {
    static D: OnceLock<Dataset> = OnceLock::new();
    D.get_or_init(|| load(Protocol::Clean))
}

/// The raw (train, test) files, for tests that rebuild categories from the strings.
fn raw() -> &'static (RawTable, RawTable) {
    static R: OnceLock<(RawTable, RawTable)> = OnceLock::new();
    R.get_or_init(|| {
        let dir = repo_root().join("data/census-income");
        (
            RawTable::read(&dir.join(TRAIN_FILE), Some(TRAIN_SHA256)).unwrap(),
            RawTable::read(&dir.join(TEST_FILE), Some(TEST_SHA256)).unwrap(),
        )
    })
}

fn both() -> [&'static Dataset; 2] {
    [paper(), clean()]
}

fn positives(s: &Split, task: usize) -> usize {
    let t = s.n_tasks();
    (0..s.n_rows)
        .filter(|&r| s.labels[r * t + task] == 1.0)
        .count()
}

#[test]
fn row_counts_tasks_and_income_rates() {
    for d in both() {
        assert_eq!(d.name, "census-income");
        assert_eq!(d.task_names, ["education", "income", "never_married"]);
        assert_eq!(d.task_kinds, [TaskKind::Binary; 3]);
        assert_eq!(d.train.n_rows, 199_523);
        assert_eq!(d.valid.n_rows, 49_881);
        assert_eq!(d.test.n_rows, 49_881);
        for s in [&d.train, &d.valid, &d.test] {
            assert_eq!(s.n_tasks(), 3);
            assert!(s.labels.iter().all(|&v| v == 0.0 || v == 1.0));
        }
        // UCI label counts (SOURCE.md): 12,382 / 199,523 and 6,186 / 99,762 are `50000+.`.
        assert_eq!(positives(&d.train, 1), 12_382);
        assert_eq!(positives(&d.valid, 1) + positives(&d.test, 1), 6_186);
        assert!((d.train.positive_rate(1) - 0.0621).abs() < 5e-5);
        let all = (positives(&d.valid, 1) + positives(&d.test, 1)) as f64 / 99_762.0;
        assert!((all - 0.0620).abs() < 5e-5);
        // validation and test partition the test file
        let mut rows: Vec<u32> = d
            .valid
            .source_rows
            .iter()
            .chain(&d.test.source_rows)
            .copied()
            .collect();
        rows.sort_unstable();
        assert_eq!(rows, (0..99_762).collect::<Vec<u32>>());
        assert_eq!(d.train.source_rows, (0..199_523).collect::<Vec<u32>>());
    }
}

#[test]
fn label_counts_per_split_equal_pandas() {
    // Counted once with pandas 3.1.1 (columns named as in the crate, tr/te = read_csv(..., delimiter=","),
    // v = te.sample(frac=0.5, replace=False, random_state=1).index, t = sorted(set(te.index) - set(v))):
    //   (df.income_50k == " 50000+.").sum(); (df.marital_stat == " Never married").sum();
    //   df.education.isin(EDU3).sum() with EDU3 = Bachelors, Masters, Doctorate; EDU4 = EDU3 + Prof school
    // train: income 12382, never married 86485, EDU3 27669, EDU4 29462
    // valid: income  3104, never married 21667, EDU3  6897, EDU4  7318
    // test:  income  3082, never married 21476, EDU3  6914, EDU4  7369
    // whole test file: never married 43143 (43.25%), EDU3 13811 (13.84%), EDU4 14687 (14.72%)
    let expect: [(&Dataset, [[usize; 3]; 3]); 2] = [
        (
            paper(),
            [
                [27_669, 12_382, 86_485],
                [6_897, 3_104, 21_667],
                [6_914, 3_082, 21_476],
            ],
        ),
        (
            clean(),
            [
                [29_462, 12_382, 86_485],
                [7_318, 3_104, 21_667],
                [7_369, 3_082, 21_476],
            ],
        ),
    ];
    for (d, counts) in expect {
        for (s, c) in [&d.train, &d.valid, &d.test].into_iter().zip(counts) {
            let got: Vec<usize> = (0..3).map(|t| positives(s, t)).collect();
            assert_eq!(got, c, "{} protocol", d.protocol);
        }
        let nm = positives(&d.valid, 2) + positives(&d.test, 2);
        assert!((nm as f64 / 99_762.0 - 0.4325).abs() < 5e-5);
    }
    let edu = |d: &Dataset| (positives(&d.valid, 0) + positives(&d.test, 0)) as f64 / 99_762.0;
    assert!((edu(paper()) - 0.1384).abs() < 5e-5);
    assert!((edu(clean()) - 0.1472).abs() < 5e-5);
}

#[test]
fn checksums_are_recorded() {
    for d in both() {
        let want = BTreeMap::from([
            (TRAIN_FILE.to_string(), TRAIN_SHA256.to_string()),
            (TEST_FILE.to_string(), TEST_SHA256.to_string()),
        ]);
        assert_eq!(d.sha256, want);
    }
    assert_eq!(raw().0.n_rows(), 199_523);
    assert_eq!(raw().1.n_rows(), 99_762);
}

/// `dense` == numeric at numeric_cols + 1.0 at each active column >= 0, zeros elsewhere.
fn check_sparse_reconstructs_dense(s: &Split, what: &str) {
    let d = s.n_features;
    let nn = s.numeric_cols.len();
    assert_eq!(s.dense.len(), s.n_rows * d, "{what}");
    assert_eq!(s.numeric.len(), s.n_rows * nn, "{what}");
    assert_eq!(s.active.len(), s.n_rows * s.n_cat, "{what}");
    let mut row = vec![0f32; d];
    for r in 0..s.n_rows {
        row.iter_mut().for_each(|v| *v = 0.0);
        for (j, &c) in s.numeric_cols.iter().enumerate() {
            row[c] = s.numeric[r * nn + j];
        }
        for &a in &s.active[r * s.n_cat..(r + 1) * s.n_cat] {
            assert!(a >= -1 && a < d as i64, "{what}: row {r} active {a}");
            if a >= 0 {
                assert_eq!(row[a as usize], 0.0, "{what}: row {r} column {a} set twice");
                row[a as usize] = 1.0;
            }
        }
        assert!(
            row == s.row(r),
            "{what}: row {r} dense differs from its sparse view"
        );
    }
}

#[test]
fn sparse_view_reconstructs_dense_exactly() {
    for d in both() {
        for (s, name) in [(&d.train, "train"), (&d.valid, "valid"), (&d.test, "test")] {
            check_sparse_reconstructs_dense(s, &format!("{} {name}", d.protocol));
        }
    }
}

#[test]
fn widths_and_groups() {
    let p = paper();
    assert_eq!(p.feature_names.len(), 482);
    for s in [&p.train, &p.valid, &p.test] {
        assert_eq!(s.n_features, 482);
        assert_eq!(s.n_cat, 28);
        assert_eq!(s.numeric_cols, (0..11).collect::<Vec<_>>());
    }
    assert_eq!(p.eval_feature_names().len(), 482);
    let c = clean();
    assert_eq!(c.feature_names.len(), 485);
    assert!(!c
        .feature_names
        .iter()
        .any(|n| n.contains("instance_weight")));
    for s in [&c.train, &c.valid, &c.test] {
        assert_eq!(s.n_features, 485);
        assert_eq!(s.n_cat, 30);
        assert_eq!(s.numeric_cols, (0..8).collect::<Vec<_>>());
    }
    // names are unique
    for d in both() {
        let set: BTreeSet<&String> = d.feature_names.iter().collect();
        assert_eq!(set.len(), d.feature_names.len());
    }
}

/// For every row and categorical group, the active column is the one whose name is built from
/// the row's raw value, looked up in the layout the split's matrix actually has. For the paper
/// protocol's val/test that is the shifted layout; for clean it is the training layout.
fn check_active_matches_raw(
    d: &Dataset,
    groups: &[&str],
    name: impl Fn(&str, &str) -> String,
    check_clean_eval_equals_train: bool,
) {
    let (tr, te) = raw();
    let eval = d.eval_feature_names();
    if check_clean_eval_equals_train {
        assert_eq!(eval, d.feature_names);
    }
    for (s, file, layout) in [
        (&d.train, tr, &d.feature_names),
        (&d.valid, te, &eval),
        (&d.test, te, &eval),
    ] {
        let index: BTreeMap<&str, usize> = layout
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        for (g, col) in groups.iter().enumerate() {
            let values = file.column(col);
            for r in 0..s.n_rows {
                let want = index.get(name(col, values[s.source_rows[r] as usize]).as_str());
                let got = s.active[r * s.n_cat + g];
                assert_eq!(
                    got,
                    want.map_or(-1, |&i| i as i64),
                    "{} row {r} (source {}) group {col}",
                    d.protocol,
                    s.source_rows[r]
                );
            }
        }
    }
}

#[test]
fn paper_active_columns_follow_the_raw_strings_in_the_shifted_layout() {
    let name = |col: &str, v: &str| {
        let v = match col {
            "det_ind_code" | "det_occ_code" => v.trim().parse::<i64>().unwrap().to_string(),
            _ => v.to_string(),
        };
        format!("{col}_{v}")
    };
    check_active_matches_raw(paper(), &PAPER_CATEGORICAL, name, false);
}

#[test]
fn clean_active_columns_follow_the_raw_strings_without_shift() {
    let name = |col: &str, v: &str| format!("{col}={}", v.trim());
    check_active_matches_raw(clean(), &CLEAN_CATEGORICAL, name, true);
    // no value of the test file is unseen in training
    for s in [&clean().valid, &clean().test] {
        assert!(s.active.iter().all(|&a| a >= 0));
    }
}

#[test]
fn paper_shift_quirk() {
    let d = paper();
    let p = d
        .feature_names
        .iter()
        .position(|n| n == PAPER_APPENDED_COLUMN)
        .unwrap();
    assert_eq!(p, 274);
    assert!(d.feature_names[p].starts_with("det_hh_fam_stat_"));
    let eval = d.eval_feature_names();
    assert_eq!(eval[481], PAPER_APPENDED_COLUMN);
    for j in 0..481 {
        let want = if j < p {
            &d.feature_names[j]
        } else {
            &d.feature_names[j + 1]
        };
        assert_eq!(&eval[j], want, "val/test column {j}");
    }
    // the appended column is all zero in val/test; the training column has its 2 rows
    for s in [&d.valid, &d.test] {
        assert!((0..s.n_rows).all(|r| s.row(r)[481] == 0.0));
    }
    assert_eq!(
        (0..d.train.n_rows)
            .filter(|&r| d.train.row(r)[p] == 1.0)
            .count(),
        2
    );
    // A concrete row: find a validation row whose det_hh_fam_stat is beyond p in the training
    // layout; its dense 1.0 sits one column to the left of that training column.
    let g = PAPER_CATEGORICAL
        .iter()
        .position(|c| *c == "det_hh_fam_stat")
        .unwrap();
    let values = raw().1.column("det_hh_fam_stat");
    let r = (0..d.valid.n_rows)
        .find(|&r| {
            let name = format!(
                "det_hh_fam_stat_{}",
                values[d.valid.source_rows[r] as usize]
            );
            d.feature_names.iter().position(|n| *n == name).unwrap() > p
        })
        .expect("some validation row has a det_hh_fam_stat category after Grandchild");
    let name = format!(
        "det_hh_fam_stat_{}",
        values[d.valid.source_rows[r] as usize]
    );
    let train_col = d.feature_names.iter().position(|n| *n == name).unwrap();
    assert_eq!(d.valid.row(r)[train_col - 1], 1.0);
    assert_eq!(d.valid.active[r * 28 + g], (train_col - 1) as i64);
    // every column after p holds train feature j+1: e.g. the last real feature (vet_question_ Yes)
    assert_eq!(d.feature_names[481], "vet_question_ Yes");
    assert_eq!(eval[480], "vet_question_ Yes");
}

#[test]
fn paper_only_category_difference_is_grandchild() {
    let (tr, te) = raw();
    let mut diff = Vec::new();
    for col in PAPER_CATEGORICAL {
        let a: BTreeSet<&str> = tr.column(col).into_iter().collect();
        let b: BTreeSet<&str> = te.column(col).into_iter().collect();
        for v in a.symmetric_difference(&b) {
            diff.push(format!("{col}_{v}"));
        }
    }
    assert_eq!(diff, [PAPER_APPENDED_COLUMN]);
    // so the test file's own get_dummies has 481 columns, 482 with the appended one
    let te_width: usize = 11
        + PAPER_CATEGORICAL
            .iter()
            .map(|c| te.column(c).into_iter().collect::<BTreeSet<_>>().len())
            .sum::<usize>();
    assert_eq!(te_width, 481);
}

#[test]
fn scaling_ranges() {
    let col_range = |splits: &[&Split], j: usize| {
        let mut lo = f32::INFINITY;
        let mut hi = f32::NEG_INFINITY;
        for s in splits {
            for r in 0..s.n_rows {
                let v = s.row(r)[j];
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        (lo, hi)
    };
    let p = paper();
    for j in 0..11 {
        let name = p.feature_names[j].as_str();
        let raw_int = name == "own_or_self" || name == "vet_benefits";
        let want = if raw_int { (0.0, 2.0) } else { (0.0, 1.0) };
        assert_eq!(col_range(&[&p.train], j), want, "paper train {name}");
        // the quirk: refitted on the whole test file, so valid ∪ test spans exactly [0, 1]
        assert_eq!(
            col_range(&[&p.valid, &p.test], j),
            want,
            "paper valid+test {name}"
        );
    }
    let c = clean();
    for j in 0..8 {
        assert_eq!(
            col_range(&[&c.train], j),
            (0.0, 1.0),
            "clean train {}",
            c.feature_names[j]
        );
    }
    // clean reuses training statistics: age 90 (the maximum in both files) maps to 1
    let age_tr = raw().1.numeric_column("age").unwrap();
    let r = (0..c.test.n_rows).find(|&r| age_tr[c.test.source_rows[r] as usize] == 90.0);
    assert_eq!(
        c.test.row(r.expect("a 90-year-old in the test rows"))[0],
        1.0
    );
}

fn assert_close(got: f64, want: f64, rel: f64, abs: f64, what: &str) {
    assert!(
        (got - want).abs() <= abs + rel * want.abs().max(got.abs()),
        "{what}: got {got}, want {want}"
    );
}

fn compare_to_pandas(d: &Dataset, fixture: &str) {
    let fx = fixture_json(fixture);
    let names = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        d.feature_names,
        names(&fx["train_columns"]),
        "{fixture}: train columns"
    );
    assert_eq!(
        d.eval_feature_names(),
        names(&fx["eval_columns"]),
        "{fixture}: val/test columns"
    );
    let head = |v: &serde_json::Value| -> Vec<u32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect()
    };
    let vh = head(&fx["valid_source_rows_head"]);
    assert_eq!(&d.valid.source_rows[..vh.len()], &vh[..]);
    let th = head(&fx["test_source_rows_head"]);
    assert_eq!(&d.test.source_rows[..th.len()], &th[..]);
    for (s, key) in [(&d.train, "train"), (&d.valid, "valid"), (&d.test, "test")] {
        let f = &fx[key];
        assert_eq!(s.n_rows as u64, f["n_rows"].as_u64().unwrap());
        let rows = f["rows"].as_array().unwrap();
        for (i, r) in rows.iter().enumerate() {
            let r = r.as_u64().unwrap() as usize;
            let want = f["dense"][i].as_array().unwrap();
            assert_eq!(want.len(), s.n_features);
            for (j, w) in want.iter().enumerate() {
                let w = w.as_f64().unwrap();
                let g = f64::from(s.row(r)[j]);
                assert!(
                    (g - w).abs() <= 1e-6,
                    "{fixture} {key} row {r} col {j}: {g} vs {w}"
                );
            }
            let labels: Vec<f32> = f["labels"][i]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            assert_eq!(
                &s.labels[r * 3..r * 3 + 3],
                &labels[..],
                "{fixture} {key} row {r} labels"
            );
        }
        let mut sums = vec![0f64; s.n_features];
        for r in 0..s.n_rows {
            for (acc, v) in sums.iter_mut().zip(s.row(r)) {
                *acc += f64::from(*v);
            }
        }
        for (j, w) in f["colsum"].as_array().unwrap().iter().enumerate() {
            assert_close(
                sums[j],
                w.as_f64().unwrap(),
                1e-3,
                1e-9,
                &format!("{fixture} {key} colsum {j}"),
            );
        }
        let ls: Vec<usize> = (0..3).map(|t| positives(s, t)).collect();
        let want: Vec<usize> = f["label_sum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(ls, want, "{fixture} {key} label sums");
    }
}

#[test]
fn paper_matches_pandas_pipeline() {
    compare_to_pandas(paper(), "census/paper.json");
}

#[test]
fn clean_matches_pandas_pipeline() {
    compare_to_pandas(clean(), "census/clean.json");
}

#[test]
fn validation_rows_equal_the_split_fixture() {
    let bytes = fixture_bytes("split/census_valid_idx_seed1.u32");
    let want: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    for d in both() {
        assert_eq!(d.valid.source_rows, want, "{} validation rows", d.protocol);
    }
}

#[test]
fn summary_and_slicing() {
    let d = paper();
    let s = d.summary();
    assert_eq!(s.n_features, 482);
    assert_eq!(
        s.splits.iter().map(|x| x.rows).collect::<Vec<_>>(),
        [199_523, 49_881, 49_881]
    );
    assert_close(
        s.splits[0].positive_rate[1],
        12_382.0 / 199_523.0,
        1e-12,
        0.0,
        "train income",
    );
    let text = s.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].contains("482 features"), "{text}");
    assert!(
        lines[1].starts_with("split") && lines[1].ends_with("never_married"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("train") && lines[2].contains("199523"),
        "{text}"
    );
    assert!(lines[2].contains("6.21%"), "{text}");
    // aligned: every table line has the same width
    assert!(
        lines[1..].iter().all(|l| l.len() == lines[1].len()),
        "{text}"
    );

    let small = d.slice_train(100);
    assert_eq!(small.train.n_rows, 100);
    assert_eq!(small.train.dense[..], d.train.dense[..100 * 482]);
    assert_eq!(small.train.active[..], d.train.active[..100 * 28]);
    assert_eq!(small.valid, d.valid);
    let sel = d.valid.select(&[5, 0, 5]);
    assert_eq!(sel.n_rows, 3);
    assert_eq!(sel.row(0), d.valid.row(5));
    assert_eq!(sel.row(1), d.valid.row(0));
    assert_eq!(
        sel.source_rows,
        [
            d.valid.source_rows[5],
            d.valid.source_rows[0],
            d.valid.source_rows[5]
        ]
    );
    assert_eq!(&sel.labels[3..6], &d.valid.labels[0..3]);
}
