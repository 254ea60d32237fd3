//! Structural invariants on random models: gates are distributions, NativeExpertLF adds the
//! expected mass, the sparse first layer equals the dense one.

mod common;

use adatt_models::{AdattConfig, AdattSpConfig, Model, ModelConfig, ModelInput, NativeFusion};
use common::{all_kinds, max_abs_diff, one_hot_input, small_spec};
use tch::{Device, Kind, Tensor};

fn row_sums(t: &Tensor) -> Tensor {
    t.sum_dim_intlist([-1].as_slice(), false, Kind::Float)
}

#[test]
fn sparse_equals_dense_for_every_kind() {
    let spec = small_spec();
    for cfg in all_kinds() {
        let m = Model::new(&cfg, &spec, &[1, 2], Device::Cpu).unwrap();
        for lead in [1, 2] {
            let (x, numeric, active) = one_hot_input(&spec, lead, 33, 7 + lead);
            assert!(Vec::<i64>::try_from(active.reshape([-1]))
                .unwrap()
                .contains(&-1));
            let d = m.forward(&ModelInput::Dense(&x));
            let s = m.forward(&ModelInput::Sparse {
                numeric: &numeric,
                active: &active,
            });
            let diff = max_abs_diff(&d, &s);
            assert!(diff < 1e-5, "{}: sparse vs dense {diff}", cfg.label());
            assert!(d.abs().max().double_value(&[]) > 1e-3);
        }
    }
}

#[test]
fn fused_weights_mass_and_diagonal() {
    let spec = small_spec();
    let (x, _, _) = one_hot_input(&spec, 2, 17, 3);
    for cfg in all_kinds().into_iter().filter(ModelConfig::is_adatt) {
        let label = cfg.label();
        let m = Model::new(&cfg, &spec, &[8, 9], Device::Cpu).unwrap();
        let fused = m.fused_expert_weights(&ModelInput::Dense(&x)).unwrap();
        let names: Vec<(String, Tensor)> = m.export_replica(1);
        let get = |n: &str| {
            names
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, t)| t.shallow_clone())
        };
        let t = 3;
        for (l, f) in fused.iter().enumerate() {
            let sums = row_sums(f).get(1); // replica 1: [B, U]
            let (native, m_t, m_s, units) = match &cfg {
                ModelConfig::AdattSp(AdattSpConfig {
                    native,
                    task_experts,
                    ..
                }) => (*native, *task_experts, 0, t),
                ModelConfig::Adatt(AdattConfig {
                    native,
                    task_experts,
                    shared_experts,
                    ..
                }) => {
                    let units = if l + 1 < fused.len() { t + 1 } else { t };
                    (*native, *task_experts, *shared_experts, units)
                }
                _ => unreachable!(),
            };
            assert_eq!(
                f.size(),
                vec![2, 17, units as i64, (t * m_t + m_s) as i64],
                "{label}"
            );
            // expected native mass per unit
            let mass: Vec<f64> = (0..units)
                .map(|u| match native {
                    NativeFusion::Ablated => 0.0,
                    NativeFusion::Learned => {
                        let cnt = if u < t { m_t } else { m_s };
                        let unit_w = m_t == 1 && (m_s == 0 || m_s == 1);
                        if unit_w {
                            1.0
                        } else if m_s == 0 {
                            get(&format!("mtl_arch.self_exp_weights.{l}"))
                                .unwrap()
                                .get(u as i64)
                                .sum(Kind::Double)
                                .double_value(&[])
                        } else {
                            let w = get(&format!("mtl_arch.self_exp_weights.{u}")).unwrap();
                            assert_eq!(w.size()[1], cnt as i64);
                            w.get(l as i64).sum(Kind::Double).double_value(&[])
                        }
                    }
                })
                .collect();
            let want = Tensor::from_slice(&mass.iter().map(|v| 1.0 + v).collect::<Vec<f64>>())
                .to_kind(Kind::Float)
                .unsqueeze(0)
                .expand_as(&sums);
            let d = max_abs_diff(&sums, &want);
            assert!(
                d < 1e-5,
                "{label}: level {l}: fused rows sum to 1 + native mass ({d})"
            );
            // gate part in [0, 1]; m = 1 AdaTT-sp: own-expert weight >= 1
            if native == NativeFusion::Ablated {
                assert!(f.min().double_value(&[]) >= 0.0 && f.max().double_value(&[]) <= 1.0);
            }
            if matches!(
                cfg,
                ModelConfig::AdattSp(AdattSpConfig {
                    task_experts: 1,
                    native: NativeFusion::Learned,
                    ..
                })
            ) {
                let diag = f.diagonal(0, -2, -1); // [R, B, T]
                assert!(diag.min().double_value(&[]) >= 1.0, "{label}: diagonal < 1");
                let off = f - diag.diag_embed(0, -2, -1);
                assert!(off.max().double_value(&[]) < 1.0, "{label}");
            }
        }
    }
}
