//! Parity with the PyTorch reference (fixtures/models, scripts/fixtures/models_golden.py):
//! official names/shapes/order, parameter counts, forward outputs (dense and sparse), fused
//! expert weights, NativeExpertLF ablation.

mod common;

use adatt_models::{AdattConfig, AdattSpConfig, Model, ModelConfig, ModelInput, NativeFusion};
use common::{bitwise_equal, case_names, max_abs_diff, Case};
use tch::{Device, Tensor};

const TOL: f64 = 1e-5;

fn imported(case: &Case) -> Model {
    let mut m = Model::new(&case.cfg, &case.spec, &[0], Device::Cpu).unwrap();
    m.import_replica(0, &case.named_params()).unwrap();
    m
}

#[test]
fn fixture_index_covers_every_architecture() {
    let names = case_names();
    assert!(names.len() >= 15, "too few golden cases: {names:?}");
    let kinds: Vec<String> = names
        .iter()
        .map(|n| {
            let c = Case::load(n);
            serde_json::to_value(&c.cfg).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for k in [
        "shared_bottom",
        "single_task",
        "mmoe",
        "cross_stitch",
        "ple",
        "adatt_sp",
        "adatt",
    ] {
        assert!(kinds.iter().any(|x| x == k), "no golden case of kind {k}");
    }
}

#[test]
fn official_names_shapes_order_and_counts() {
    for name in case_names() {
        let case = Case::load(&name);
        let m = Model::new(&case.cfg, &case.spec, &[1], Device::Cpu).unwrap();
        assert_eq!(
            m.official_param_names(),
            case.params,
            "{name}: official names/shapes/order"
        );
        assert_eq!(
            m.params_per_replica(),
            case.param_count,
            "{name}: parameter count"
        );
    }
}

#[test]
fn forward_matches_pytorch_dense_and_sparse() {
    for name in case_names() {
        let case = Case::load(&name);
        let m = imported(&case);
        let want = case.t("output").unsqueeze(0);
        let x = case.t("input").unsqueeze(0);
        let got = m.forward(&ModelInput::Dense(&x));
        let d = max_abs_diff(&got, &want);
        assert!(d < TOL, "{name}: dense forward differs from PyTorch by {d}");
        if case.sparse {
            let numeric = case.t("numeric").unsqueeze(0);
            let active = case.t("active").unsqueeze(0);
            let got = m.forward(&ModelInput::Sparse {
                numeric: &numeric,
                active: &active,
            });
            let d = max_abs_diff(&got, &want);
            assert!(
                d < TOL,
                "{name}: sparse forward differs from PyTorch by {d}"
            );
        }
        // export gives back exactly what was imported
        for ((n, t), (n2, t2)) in m.export_replica(0).iter().zip(case.named_params()) {
            assert_eq!(n, &n2);
            assert!(
                bitwise_equal(t, &t2),
                "{name}: export of {n} differs from import"
            );
        }
    }
}

#[test]
fn fused_expert_weights_match_pytorch() {
    let mut seen = 0;
    for name in case_names() {
        let case = Case::load(&name);
        if case.fused_levels == 0 {
            let m = imported(&case);
            let x = case.t("input").unsqueeze(0);
            assert!(
                m.fused_expert_weights(&ModelInput::Dense(&x)).is_err(),
                "{name}"
            );
            continue;
        }
        seen += 1;
        let m = imported(&case);
        let x = case.t("input").unsqueeze(0);
        let fused = m.fused_expert_weights(&ModelInput::Dense(&x)).unwrap();
        assert_eq!(fused.len(), case.fused_levels, "{name}: levels");
        for (l, f) in fused.iter().enumerate() {
            let want = case.t(&format!("fused.{l}")).unsqueeze(0);
            let d = max_abs_diff(f, &want);
            assert!(d < TOL, "{name}: fused weights of level {l} differ by {d}");
        }
    }
    assert!(seen >= 8, "only {seen} AdaTT cases with fused weights");
}

/// The ablated fixtures share every weight with their base case except `self_exp_weights`.
#[test]
fn ablation_removes_exactly_the_native_term() {
    let mut seen = 0;
    for name in case_names() {
        let case = Case::load(&name);
        let Some(base_name) = &case.ablation_base else {
            continue;
        };
        seen += 1;
        let base = Case::load(base_name);
        assert!(matches!(
            case.cfg,
            ModelConfig::AdattSp(AdattSpConfig {
                native: NativeFusion::Ablated,
                ..
            }) | ModelConfig::Adatt(AdattConfig {
                native: NativeFusion::Ablated,
                ..
            })
        ));
        // the ablated model takes the base weights minus self_exp_weights ...
        let learned_params = base.named_params();
        let without: Vec<(String, Tensor)> = learned_params
            .iter()
            .filter(|(n, _)| !n.contains("self_exp_weights"))
            .map(|(n, t)| (n.clone(), t.shallow_clone()))
            .collect();
        let mut abl = Model::new(&case.cfg, &case.spec, &[0], Device::Cpu).unwrap();
        abl.import_replica(0, &without).unwrap();
        if without.len() < learned_params.len() {
            // ... and rejects them, naming the key
            let err = abl
                .import_replica(0, &learned_params)
                .unwrap_err()
                .to_string();
            assert!(err.contains("self_exp_weights"), "{name}: {err}");
        }
        let x = base.t("input").unsqueeze(0);
        let got = abl.forward(&ModelInput::Dense(&x));
        let d = max_abs_diff(&got, &case.t("output").unsqueeze(0));
        assert!(
            d < TOL,
            "{name}: ablated forward differs from PyTorch by {d}"
        );

        // At level 0 (same input for both) the fused weights differ by exactly the native matrix
        // (the same for every row of the batch); deeper levels see different inputs.
        let learned = imported(&base);
        let fl = learned
            .fused_expert_weights(&ModelInput::Dense(&x))
            .unwrap();
        let fa = abl.fused_expert_weights(&ModelInput::Dense(&x)).unwrap();
        assert_eq!(fl.len(), fa.len());
        for (l, (a, b)) in fl.iter().zip(&fa).enumerate().take(1) {
            let diff = a - b; // [1, B, U, E]
            let native = diff.get(0).get(0);
            let spread = max_abs_diff(&diff, &native.unsqueeze(0).unsqueeze(0).expand_as(&diff));
            assert!(
                spread < 1e-6,
                "{name}: level {l}: native term depends on the input"
            );
            let want = expected_native(&base, l, native.size());
            let d = max_abs_diff(&native, &want);
            assert!(
                d < 1e-6,
                "{name}: level {l}: learned - ablated != native weights ({d})"
            );
        }
        for (l, b) in fa.iter().enumerate() {
            // ablated: plain softmax gates, rows sum to 1
            let sums = b.sum_dim_intlist([-1].as_slice(), false, tch::Kind::Float);
            assert!(
                max_abs_diff(&sums, &sums.ones_like()) < 1e-6,
                "{name}: level {l} gate rows"
            );
        }
        // and the outputs do differ (the native term matters)
        assert!(
            max_abs_diff(&got, &base.t("output").unsqueeze(0)) > 1e-3,
            "{name}"
        );
    }
    assert!(seen >= 4, "only {seen} ablation cases");
}

/// The NativeExpertLF matrix `[U, E]` of level `l` from the official parameters.
fn expected_native(case: &Case, l: usize, size: Vec<i64>) -> Tensor {
    let (u, e) = (size[0], size[1]);
    let n = Tensor::zeros([u, e], (tch::Kind::Float, Device::Cpu));
    let mut rows: Vec<(i64, i64, Tensor)> = Vec::new(); // (unit, first expert col, weights)
    match case.cfg {
        ModelConfig::AdattSp(AdattSpConfig {
            task_experts: m, ..
        }) => {
            let m = m as i64;
            for t in 0..u {
                let w = if m == 1 {
                    Tensor::ones([1], (tch::Kind::Float, Device::Cpu))
                } else {
                    case.t(&format!("mtl_arch.self_exp_weights.{l}")).get(t)
                };
                rows.push((t, t * m, w));
            }
        }
        ModelConfig::Adatt(AdattConfig {
            task_experts: mt,
            shared_experts: ms,
            ..
        }) => {
            let (mt, ms) = (mt as i64, ms as i64);
            let n_tasks = case.spec.n_tasks as i64;
            for i in 0..u {
                let (start, cnt) = if i < n_tasks {
                    (i * mt, mt)
                } else {
                    (n_tasks * mt, ms)
                };
                let w = if mt == 1 && ms == 1 {
                    Tensor::ones([cnt], (tch::Kind::Float, Device::Cpu))
                } else {
                    case.t(&format!("mtl_arch.self_exp_weights.{i}"))
                        .get(l as i64)
                };
                rows.push((i, start, w));
            }
        }
        _ => unreachable!(),
    }
    for (unit, start, w) in rows {
        n.get(unit).narrow(0, start, w.size()[0]).copy_(&w);
    }
    n
}
