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
        &presets::Preset::Group1
            .text()
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
    for p in presets::Preset::ALL {
        p.config().unwrap();
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

/// Latents are whitened under the ids' popularity: fewer than latent_dim + 1 ids, or a
/// popularity concentrated on fewer effective ids (1 / Σ p²), is refused with the minimum; the
/// smallest world allowed is built.
#[test]
fn worlds_too_concentrated_to_whiten_are_refused_with_the_minimum() {
    for users in [1, 2, 3, 8] {
        let e = refused(|c| c.users = users);
        assert!(
            e.ends_with(&format!(
                "users: at least latent_dim + 1 = 9 are needed to whiten 8-dimensional latents \
                 over them, got {users}"
            )),
            "{e}"
        );
    }
    assert!(refused(|c| c.items = 1).contains("items: at least latent_dim + 1 = 9"));
    // Zipf 20 over 2000 users: 1 / Σ p² = 1.0000019 (numpy), far below 9.
    let e = refused(|c| c.user_zipf = 20.0);
    assert!(
        e.contains("user_zipf: 20 puts the popularity of the 2000 users on 1.00 effective ids")
            && e.contains("needs at least latent_dim + 1 = 9: lower user_zipf"),
        "{e}"
    );
    assert!(refused(|c| c.item_zipf = 400.0).contains("item_zipf: 400 puts"));
    // 9 users drawn uniformly: exactly the minimum; the world is built and its user latents
    // have mean 0 and unit variance over the 9 users.
    let mut cfg = small();
    cfg.users = 9;
    cfg.user_zipf = 0.0;
    cfg.calibration_rows = 20_000;
    let s = Simulator::new(&cfg, 1).unwrap();
    let d = cfg.latent_dim;
    for j in 0..d {
        let col: Vec<f64> = (0..9)
            .map(|u| f64::from(s.user_latent[u * d + j]))
            .collect();
        let mean = col.iter().sum::<f64>() / 9.0;
        let var = col.iter().map(|x| x * x).sum::<f64>() / 9.0;
        assert!(
            mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
            "{j}: {mean} {var}"
        );
    }
}

/// Every column of a sample needs its own name: no two tasks or contexts alike, none named like
/// the writer's columns (user_id, item_id, dense_k) or like a context.
#[test]
fn names_that_would_clash_in_the_sample_are_refused() {
    let tail = ": the sample's columns (user_id, item_id, the contexts, dense_0 …, the tasks) \
                need distinct names";
    let cases: Vec<(String, &str)> = vec![
        (
            refused(|c| c.tasks[2].name = "click".into()),
            "tasks: two tasks are named `click`",
        ),
        (
            refused(|c| c.tasks[3].name = "user_id".into()),
            "tasks: task `user_id` has the name of the user id column",
        ),
        (
            refused(|c| c.tasks[3].name = "item_id".into()),
            "tasks: task `item_id` has the name of the item id column",
        ),
        (
            refused(|c| c.tasks[0].name = "hour".into()),
            "tasks: task `hour` has the name of context feature",
        ),
        (
            refused(|c| c.tasks[4].name = "dense_3".into()),
            "tasks: task `dense_3` has the name of the dense feature column",
        ),
        (
            refused(|c| c.contexts[1].name = "hour".into()),
            "contexts: two context features are named `hour`",
        ),
        (
            refused(|c| c.contexts[2].name = "dense_0".into()),
            "contexts: context feature `dense_0` has the name of the dense feature column",
        ),
    ];
    for (err, want) in cases {
        assert!(
            err.ends_with(&format!("{want}{tail}")),
            "{err:?} lacks {want:?}"
        );
    }
    // dense_4 is no column of a world with 4 dense features (dense_0 … dense_3).
    let mut cfg = small();
    cfg.tasks[4].name = "dense_4".into();
    cfg.validate("test").unwrap();
    let names: Vec<String> = sample::column_names(&cfg)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "user_id",
            "item_id",
            "hour",
            "device",
            "surface",
            "dense_0",
            "dense_1",
            "dense_2",
            "dense_3",
            "watch_time",
            "click",
            "long_view",
            "like",
            "dense_4"
        ]
    );
}

/// Ids are 32-bit: 2^32 users are the most.
#[test]
fn more_ids_than_32_bits_hold_are_refused() {
    let e = refused(|c| c.users = 1_000_000_000_000);
    assert!(
        e.ends_with("users: must be at most 4294967296 (ids are 32-bit), got 1000000000000"),
        "{e}"
    );
    let e = refused(|c| c.contexts[0].cardinality = (1 << 32) + 1);
    assert!(
        e.contains("contexts.hour.cardinality: must be at most 4294967296"),
        "{e}"
    );
}

/// [[1, a, a], [a, 1, a], [a, a, 1]] has eigenvalues 1 + 2a, 1 − a, 1 − a: a = −0.50006 makes
/// the smallest −1.2e-4, printed as such.
#[test]
fn a_nearly_semi_definite_relation_prints_its_eigenvalue_readably() {
    let e = refused(|c| {
        c.tasks.truncate(3);
        let a = -0.50006;
        c.relations = vec![vec![1.0, a, a], vec![a, 1.0, a], vec![a, a, 1.0]];
    });
    assert!(
        e.ends_with(
            "relations: must be positive semi-definite (cosines of real directions); its \
             smallest eigenvalue is -1.20e-4"
        ),
        "{e}"
    );
}

/// The tolerance on a calibrated rate: 3 binomial standard errors of the calibration sample,
/// at least 1e-6.
#[test]
fn the_rate_tolerance_is_three_standard_errors_with_a_floor() {
    let want = 3.0 * (0.019f64 * 0.981 / 200_000.0).sqrt();
    assert!((rate_tolerance(0.019, 200_000) - want).abs() < 1e-15);
    assert!((want - 9.156e-4).abs() < 1e-6);
    assert!((rate_tolerance(0.001, 200_000) - 2.120e-4).abs() < 1e-6);
    assert_eq!(
        rate_tolerance(0.5, 1_000_000_000_000_000),
        RATE_TOLERANCE_FLOOR
    );
}

/// With sharpness 100 the like task (1.9 %) needs a logit bias near −207, outside the searched
/// [−60, 60]: the world is refused with the rate it reaches, which is (independently) the mean
/// of sigmoid(100 · s − 60) over the like scores s of the calibration stream, the same
/// standardised scores as in the world of sharpness 2.
#[test]
fn a_world_that_cannot_reach_a_rate_is_refused_with_target_and_measured_rate() {
    let mut cfg = small();
    cfg.sharpness = 100.0;
    let e = Simulator::named(&cfg, 1, "test").unwrap_err().to_string();
    let prefix = "simulator config test: tasks.like.positive_rate: this world cannot reach it: \
                  after calibration the task's rate on the calibration stream (its mean label \
                  probability over 50000 rows) is ";
    assert!(e.starts_with(prefix), "{e}");
    let measured: f64 = e[prefix.len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        e.contains("against the target 0.019, a miss over the tolerance 1.8e-3 (3 binomial"),
        "{e}"
    );
    cfg.sharpness = 2.0;
    let twin = Simulator::new(&cfg, 1).unwrap();
    let n = cfg.calibration_rows;
    let want = (0..n as u64)
        .map(|i| labels::sigmoid(100.0 * twin.trace_at(CALIBRATION_STREAM, i).score[3] - 60.0))
        .sum::<f64>()
        / n as f64;
    assert!(want > 0.2, "{want}");
    assert!((measured - want).abs() < 6e-5, "{measured} vs {want}");
}

/// Every preset with its defaults (200,000 calibration rows, world seed 1) is built: each
/// binary task's mean label probability on the calibration stream, recomputed from the traced
/// examples, is its target to rounding, and the labels drawn there are within the tolerance.
#[test]
fn every_preset_reaches_its_rates_on_the_calibration_stream() {
    for p in presets::Preset::ALL {
        let (cfg, name) = (p.config().unwrap(), p.name());
        let s = Simulator::named(&cfg, 1, name).unwrap();
        let n = cfg.calibration_rows;
        let traces: Vec<ExampleTrace> = (0..n as u64)
            .into_par_iter()
            .map(|i| s.trace_at(CALIBRATION_STREAM, i))
            .collect();
        for (k, task) in cfg.tasks.iter().enumerate() {
            let Some(rate) = task.positive_rate else {
                continue;
            };
            let b = s.task_model().bias[k];
            let p = traces
                .iter()
                .map(|e| labels::sigmoid(cfg.sharpness * e.score[k] + b))
                .sum::<f64>()
                / n as f64;
            let drawn = traces.iter().map(|e| e.label[k]).sum::<f64>() / n as f64;
            assert!((p - rate).abs() < 1e-9, "{name} {}: {p}", task.name);
            let tol = rate_tolerance(rate, n);
            assert!((drawn - rate).abs() < tol, "{name} {}: {drawn}", task.name);
        }
    }
}

/// A regression task whose scores do not vary cannot have the configured standard deviation:
/// refused with its measured moments; standardised scores pass.
#[test]
fn a_regression_task_without_its_moments_is_refused() {
    let cfg = small();
    let task = &cfg.tasks[0];
    let constant = vec![0.0; 1000];
    let e = check_regression(task, &constant).unwrap_err();
    assert_eq!(e.0, "tasks.watch_time");
    assert!(
        e.1.contains("have mean 3.0000 (target 3, tolerance 9.5e-2) and standard deviation 0.0000 (target 1, tolerance 6.7e-2)"),
        "{}",
        e.1
    );
    let nan = vec![f64::NAN; 1000];
    assert!(check_regression(task, &nan).is_err());
    // ±1 alternating: mean 0, standard deviation 1.
    let standard: Vec<f64> = (0..1000)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    assert!(check_regression(task, &standard).is_ok());
}

/// A world needing more memory than any machine has is refused before anything is allocated
/// (4·10^9 users with latents of 10,000 floats: 160 TB).
#[test]
fn a_world_larger_than_the_memory_is_refused_before_allocating() {
    let mut cfg = small();
    cfg.users = 4_000_000_000;
    cfg.latent_dim = 10_000;
    cfg.item_zipf = 0.0;
    cfg.items = 20_000;
    let e = Simulator::named(&cfg, 1, "test").unwrap_err().to_string();
    assert!(
        e.starts_with(
            "simulator config test: users: would need about 160064.8 GB of memory (user \
             popularity and latents 160064.0 GB, item popularity and latents 0.8 GB"
        ) && e.contains("nothing was allocated"),
        "{e}"
    );
}
