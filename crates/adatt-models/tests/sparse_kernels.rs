//! The sparse CPU kernels (`forward_train` / `backward_input` / `forward_eval`) against the dense
//! path under libtorch autograd: same outputs and same gradients for every parameter.

mod common;

use adatt_models::kernels::{force_isa, Isa};
use adatt_models::{AdattSpConfig, InputSpec, Model, ModelConfig, ModelInput, NativeFusion};
use common::{all_kinds, max_abs_diff, one_hot_input, small_spec};
use tch::{Device, Kind, Tensor};

/// Gradients of every variable for `loss = Σ logits · probe`, by name.
fn grads(m: &Model) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = m
        .var_store()
        .variables()
        .into_iter()
        .map(|(n, t)| (n, t.grad().copy()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn zero_grads(m: &Model) {
    for mut t in m.var_store().trainable_variables() {
        t.zero_grad();
    }
}

/// Dense autograd vs sparse kernels on the same weights, for shared (lead 1) and per-replica
/// (lead R) inputs; also checks that gradients accumulate like libtorch's.
fn check(cfg: &ModelConfig, spec: &InputSpec, batch: i64) {
    let label = cfg.label();
    let seeds = [3, 4, 5];
    let r = seeds.len() as i64;
    let dense_m = Model::new(cfg, spec, &seeds, Device::Cpu).unwrap();
    let sparse_m = Model::new(cfg, spec, &seeds, Device::Cpu).unwrap();
    for lead in [1, r] {
        let (x, numeric, active) = one_hot_input(spec, lead, batch, 17 + lead);
        assert!(Vec::<i64>::try_from(active.reshape([-1]))
            .unwrap()
            .contains(&-1));
        let probe = Tensor::randn([r, batch, spec.n_tasks as i64], (Kind::Float, Device::Cpu));
        let sparse_in = ModelInput::Sparse {
            numeric: &numeric,
            active: &active,
        };

        zero_grads(&dense_m);
        let want = dense_m.forward(&ModelInput::Dense(&x));
        (&want * &probe).sum(Kind::Float).backward();
        let want_g = grads(&dense_m);

        let eval = sparse_m.forward_eval(&sparse_in).unwrap();
        let d = max_abs_diff(&eval, &want);
        assert!(d < 1e-5, "{label} lead {lead}: forward_eval vs dense {d}");
        assert!(
            !eval.requires_grad(),
            "{label}: forward_eval output requires grad"
        );

        // Twice without zeroing: gradients must accumulate to 2x, as libtorch's do.
        zero_grads(&sparse_m);
        for pass in 1..=2 {
            let (got, tape) = sparse_m.forward_train(&sparse_in).unwrap();
            let d = max_abs_diff(&got, &want);
            assert!(d < 1e-5, "{label} lead {lead}: forward_train vs dense {d}");
            (&got * &probe).sum(Kind::Float).backward();
            sparse_m
                .backward_input(tape.expect("sparse CPU input gives a tape"))
                .unwrap();
            for ((n1, g1), (n2, g2)) in grads(&sparse_m).iter().zip(&want_g) {
                assert_eq!(n1, n2);
                assert!(g1.defined(), "{label}: {n1} has no gradient");
                let want = g2 * f64::from(pass);
                let scale = want.abs().max().double_value(&[]).max(1e-3);
                let d = max_abs_diff(g1, &want) / scale;
                assert!(
                    d < 1e-5,
                    "{label} lead {lead} pass {pass}: grad of {n1} off by {d} (rel.)"
                );
            }
        }
    }
}

#[test]
fn kernels_equal_dense_autograd_for_every_kind() {
    let spec = small_spec();
    for cfg in all_kinds() {
        check(&cfg, &spec, 37); // 3 x 37 = 111 rows: several parallel chunks, a partial last one
    }
}

#[test]
fn kernels_equal_dense_autograd_at_census_like_sizes() {
    // D = 130 with 9 numeric columns and 24 one-hot groups; O = 2*3*40 + 3*6 = 258 (not a
    // multiple of the SIMD width).
    let spec = InputSpec {
        n_features: 130,
        numeric_cols: vec![0, 5, 17, 40, 41, 77, 100, 128, 129],
        n_cat: 24,
        n_tasks: 3,
    };
    let cfg = ModelConfig::AdattSp(AdattSpConfig {
        task_experts: 2,
        expert_dims: vec![vec![40], vec![16]],
        tower: vec![8],
        native: NativeFusion::Learned,
    });
    check(&cfg, &spec, 300);
}

#[test]
fn every_instruction_set_path_gives_the_same_results() {
    // Other tests may run meanwhile under the forced path: all paths agree, so they stay valid.
    let spec = InputSpec {
        n_features: 60,
        numeric_cols: vec![0, 7, 59],
        n_cat: 8,
        n_tasks: 3,
    };
    let cfg = ModelConfig::AdattSp(AdattSpConfig {
        task_experts: 2,
        expert_dims: vec![vec![70], vec![9]],
        tower: vec![5],
        native: NativeFusion::Learned,
    });
    for isa in [Isa::Baseline, Isa::Avx2, Isa::Avx512] {
        if isa.supported() {
            force_isa(Some(isa));
            check(&cfg, &spec, 70);
        }
    }
    force_isa(None);
}

#[test]
fn dense_input_gives_no_tape_and_backward_before_backward_fails() {
    let spec = small_spec();
    let cfg = &all_kinds()[0];
    let m = Model::new(cfg, &spec, &[1], Device::Cpu).unwrap();
    let (x, numeric, active) = one_hot_input(&spec, 1, 5, 1);
    let (_, tape) = m.forward_train(&ModelInput::Dense(&x)).unwrap();
    assert!(tape.is_none());
    let (_, tape) = m
        .forward_train(&ModelInput::Sparse {
            numeric: &numeric,
            active: &active,
        })
        .unwrap();
    let err = m.backward_input(tape.unwrap()).unwrap_err().to_string();
    assert!(err.contains("before backward"), "{err}");
}

#[test]
fn out_of_range_active_column_is_an_error() {
    let spec = small_spec();
    let m = Model::new(&all_kinds()[0], &spec, &[1], Device::Cpu).unwrap();
    let (_, numeric, active) = one_hot_input(&spec, 1, 4, 2);
    let bad = active.fill(spec.n_features as i64);
    let err = m
        .forward_eval(&ModelInput::Sparse {
            numeric: &numeric,
            active: &bad,
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("outside [-1,"), "{err}");
}
