use super::*;

fn small() -> SimConfig {
    let mut cfg = presets::preset("group3").unwrap();
    cfg.users = 2000;
    cfg.items = 500;
    cfg.calibration_rows = 50_000;
    cfg
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn rows_are_the_same_for_any_thread_count_and_any_split_into_calls() {
    let cfg = small();
    let one = in_pool(1, || {
        let s = Simulator::new(&cfg, 3).unwrap();
        s.rows(SimStream::Train, 100, 5000)
    });
    let (two, parts) = in_pool(2, || {
        let s = Simulator::new(&cfg, 3).unwrap();
        (
            s.rows(SimStream::Train, 100, 5000),
            [
                s.rows(SimStream::Train, 100, 1),
                s.rows(SimStream::Train, 101, 1500),
                s.rows(SimStream::Train, 1601, 3499),
            ],
        )
    });
    assert_eq!(one, two);
    let mut joined = parts[0].clone();
    for p in &parts[1..] {
        joined.n += p.n;
        joined.ids.extend(&p.ids);
        joined.dense.extend(&p.dense);
        joined.labels.extend(&p.labels);
    }
    assert_eq!(one, joined);
    // One example alone, seeked directly, is the same example.
    let s = Simulator::new(&cfg, 3).unwrap();
    let e = s.trace_example(SimStream::Train, 100 + 4321);
    let w = 2 + cfg.contexts.len();
    assert_eq!(e.ids, one.ids[4321 * w..4322 * w]);
    let t = cfg.tasks.len();
    let labels: Vec<f32> = e.label.iter().map(|&y| y as f32).collect();
    assert_eq!(labels, one.labels[4321 * t..4322 * t]);
}

#[test]
fn streams_and_world_seeds_are_disjoint() {
    let cfg = small();
    let s = Simulator::new(&cfg, 3).unwrap();
    let n = 2000;
    let rows: Vec<SimRows> = [SimStream::Train, SimStream::Valid, SimStream::Test]
        .into_iter()
        .map(|st| s.rows(st, 0, n))
        .collect();
    let d = cfg.dense;
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        let same = (0..n)
            .filter(|&i| rows[a].dense[i * d..(i + 1) * d] == rows[b].dense[i * d..(i + 1) * d])
            .count();
        assert_eq!(same, 0, "streams {a} and {b} share rows");
    }
    let other = Simulator::new(&cfg, 4)
        .unwrap()
        .rows(SimStream::Train, 0, n);
    assert_ne!(other.dense, rows[0].dense);
}

/// On 1M examples every binary task's positive rate is within 4 binomial standard errors plus
/// 2 % (relative, the calibration's own sampling error on its 200k rows) of the target;
/// regression labels have the configured mean and standard deviation within 0.02.
#[test]
fn positive_rates_and_regression_moments_hit_their_targets_on_a_million_examples() {
    let cfg = presets::preset("group3").unwrap();
    let s = Simulator::new(&cfg, 1).unwrap();
    let rows = s.rows(SimStream::Train, 0, 1_000_000);
    let stats = SimStats::of(&cfg, &rows);
    for t in &stats.tasks {
        match t.kind {
            TaskKind::Binary => {
                let se = (t.target * (1.0 - t.target) / rows.n as f64).sqrt();
                let tol = 4.0 * se + 0.02 * t.target;
                assert!(
                    (t.mean - t.target).abs() < tol,
                    "{}: rate {} vs {} (tol {tol})",
                    t.name,
                    t.mean,
                    t.target
                );
            }
            TaskKind::Regression => {
                assert!((t.mean - t.target).abs() < 0.02, "{}: {}", t.name, t.mean);
                assert!((t.std - 1.0).abs() < 0.02, "{}: std {}", t.name, t.std);
            }
        }
    }
}

/// Task directions have the configured cosines, and the latent scores z_t = w_t · h (whose
/// components are uncorrelated with unit variance) have them as correlations.
#[test]
fn directions_have_the_configured_cosines_and_scores_their_correlations() {
    let cfg = small();
    let s = Simulator::new(&cfg, 2).unwrap();
    let w = s.directions();
    let t = cfg.tasks.len();
    for i in 0..t {
        for j in 0..t {
            let dot: f64 = w[i].iter().zip(&w[j]).map(|(a, b)| a * b).sum();
            assert!((dot - cfg.relations[i][j]).abs() < 1e-10, "{i},{j}: {dot}");
        }
    }
    let n = 100_000u64;
    let z: Vec<Vec<f64>> = (0..n)
        .map(|i| s.trace_example(SimStream::Valid, i).z)
        .collect();
    let corr = |a: usize, b: usize| {
        let m = |k: usize| z.iter().map(|r| r[k]).sum::<f64>() / n as f64;
        let (ma, mb) = (m(a), m(b));
        let c = |x: usize, mx: f64, y: usize, my: f64| {
            z.iter().map(|r| (r[x] - mx) * (r[y] - my)).sum::<f64>() / n as f64
        };
        c(a, ma, b, mb) / (c(a, ma, a, ma) * c(b, mb, b, mb)).sqrt()
    };
    for i in 0..t {
        for j in i + 1..t {
            // The sampled users and items repeat (2000 users, 500 items): allow 0.03.
            let c = corr(i, j);
            assert!((c - cfg.relations[i][j]).abs() < 0.03, "{i},{j}: {c}");
        }
    }
}

/// With every task binary at a 50 % rate, the measured label correlations are ordered like the
/// configured relations.
#[test]
fn label_correlations_are_ordered_like_the_relations() {
    let mut cfg = small();
    cfg.tasks.truncate(4);
    for t in &mut cfg.tasks {
        t.kind = TaskKind::Binary;
        t.positive_rate = Some(0.5);
        t.mean = None;
        t.std = None;
    }
    cfg.relations = vec![
        vec![1.0, 0.9, 0.5, 0.0],
        vec![0.9, 1.0, 0.45, 0.1],
        vec![0.5, 0.45, 1.0, -0.6],
        vec![0.0, 0.1, -0.6, 1.0],
    ];
    let s = Simulator::new(&cfg, 5).unwrap();
    let stats = SimStats::of(&cfg, &s.rows(SimStream::Test, 0, 200_000));
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    for i in 0..4 {
        for j in i + 1..4 {
            pairs.push((cfg.relations[i][j], stats.label_correlation[i][j]));
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w in pairs.windows(2) {
        assert!(w[0].1 < w[1].1, "{pairs:?}");
    }
    let md = stats.markdown();
    assert!(md.contains("200000 rows."), "{md}");
}

#[test]
fn popular_ids_are_drawn_more_often() {
    let cfg = small();
    let s = Simulator::new(&cfg, 1).unwrap();
    let stats = SimStats::of(&cfg, &s.rows(SimStream::Train, 0, 100_000));
    // Zipf 0.8 over 2000 users: the top 20 carry Σ_{k≤20} k^-0.8 / Σ_{k≤2000} k^-0.8.
    let z = Zipf::new(cfg.users, cfg.user_zipf);
    let want: f64 = (0..20).map(|k| z.probability(k)).sum();
    assert!(
        (stats.top_1pct_user_share - want).abs() < 0.01,
        "{} vs {want}",
        stats.top_1pct_user_share
    );
    assert!(stats.top_1pct_item_share > stats.top_1pct_user_share);
}

fn refused(edit: impl FnOnce(&mut SimConfig)) -> String {
    let mut cfg = small();
    edit(&mut cfg);
    cfg.validate("test").unwrap_err().to_string()
}

#[test]
fn bad_configs_are_refused_with_their_key() {
    let cases: Vec<(String, &str)> = vec![
        (
            refused(|c| c.tasks[1].positive_rate = Some(0.0)),
            "tasks.click.positive_rate: must be in (0, 1)",
        ),
        (
            refused(|c| c.tasks[1].positive_rate = Some(1.0)),
            "tasks.click.positive_rate: must be in (0, 1)",
        ),
        (
            refused(|c| c.tasks[1].positive_rate = None),
            "tasks.click.positive_rate: a binary task needs one",
        ),
        (
            refused(|c| {
                c.relations[0][1] = 0.1;
            }),
            "relations: must be symmetric",
        ),
        (
            refused(|c| {
                c.relations.pop();
            }),
            "relations: must be 5×5",
        ),
        (
            refused(|c| {
                c.relations[0][2] = -0.9;
                c.relations[2][0] = -0.9;
            }),
            "relations: must be positive semi-definite",
        ),
        (refused(|c| c.users = 0), "users: must be at least 1"),
        (refused(|c| c.items = 0), "items: must be at least 1"),
    ];
    for (err, want) in cases {
        assert!(err.contains(want), "{err:?} lacks {want:?}");
        assert!(err.starts_with("simulator config test: "), "{err}");
    }
    let e = presets::preset("group9").unwrap_err().to_string();
    assert!(
        e.contains("unknown preset `group9`; the presets are group1, group2, group3, fig3"),
        "{e}"
    );
    let e = SimConfig::from_toml_str(
        &presets::PRESETS[0]
            .1
            .replace("kind = \"binary\"", "kind = \"ordinal\""),
        "x.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("simulator config x.toml: toml:") && e.contains("ordinal"),
        "{e}"
    );
}

#[test]
fn every_preset_parses_and_task_1_is_the_same_task_in_group1_and_group2() {
    for (name, _) in presets::PRESETS {
        presets::preset(name).unwrap();
    }
    let mut g1 = presets::preset("group1").unwrap();
    let mut g2 = presets::preset("group2").unwrap();
    g1.calibration_rows = 20_000;
    g2.calibration_rows = 20_000;
    let (a, b) = (
        Simulator::new(&g1, 1).unwrap(),
        Simulator::new(&g2, 1).unwrap(),
    );
    assert_eq!(a.directions()[0], b.directions()[0]);
    let (ea, eb) = (
        a.trace_example(SimStream::Test, 7),
        b.trace_example(SimStream::Test, 7),
    );
    assert_eq!((ea.ids, ea.hidden), (eb.ids, eb.hidden));
    assert_eq!(ea.z[0], eb.z[0]);
}
