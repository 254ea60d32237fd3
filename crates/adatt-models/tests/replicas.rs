//! Replica semantics: a model with seeds [3, 5, 7] is three independent single-seed models.

mod common;

use adatt_models::{Model, ModelInput};
use common::{all_kinds, bitwise_equal, max_abs_diff, one_hot_input, small_spec};
use tch::{Device, Kind, Tensor};

const SEEDS: [u64; 3] = [3, 5, 7];

#[test]
fn replicas_equal_single_seed_models() {
    let spec = small_spec();
    for cfg in all_kinds() {
        let label = cfg.label();
        let multi = Model::new(&cfg, &spec, &SEEDS, Device::Cpu).unwrap();
        assert_eq!(multi.replicas(), 3);
        let (x, numeric, active) = one_hot_input(&spec, 3, 9, 11);
        let out = multi.forward(&ModelInput::Dense(&x));
        assert_eq!(out.size(), vec![3, 9, 3], "{label}");
        let out_sparse = multi.forward(&ModelInput::Sparse {
            numeric: &numeric,
            active: &active,
        });
        for (r, &seed) in SEEDS.iter().enumerate() {
            let single = Model::new(&cfg, &spec, &[seed], Device::Cpu).unwrap();
            for ((n1, t1), (n2, t2)) in multi.export_replica(r).iter().zip(single.export_replica(0))
            {
                assert_eq!(n1, &n2);
                assert!(
                    bitwise_equal(t1, &t2),
                    "{label}: replica {r} {n1} != seed {seed} model"
                );
            }
            let xr = x.get(r as i64).unsqueeze(0);
            let want = single.forward(&ModelInput::Dense(&xr));
            let d = max_abs_diff(&out.get(r as i64).unsqueeze(0), &want);
            assert!(
                d < 1e-6,
                "{label}: replica {r} output differs from single model by {d}"
            );
            let d = max_abs_diff(&out_sparse.get(r as i64).unsqueeze(0), &want);
            assert!(
                d < 1e-5,
                "{label}: sparse replica {r} differs from single dense by {d}"
            );
        }
        // different seeds give different replicas
        assert!(!bitwise_equal(
            &multi.export_replica(0)[0].1,
            &multi.export_replica(1)[0].1
        ));
    }
}

#[test]
fn broadcast_input_equals_repeated_input() {
    let spec = small_spec();
    for cfg in all_kinds() {
        let m = Model::new(&cfg, &spec, &SEEDS, Device::Cpu).unwrap();
        let (x, numeric, active) = one_hot_input(&spec, 1, 6, 4);
        let a = m.forward(&ModelInput::Dense(&x));
        let b = m.forward(&ModelInput::Dense(
            &x.expand([3, 6, 13], false).contiguous(),
        ));
        assert!(max_abs_diff(&a, &b) < 1e-6, "{}", cfg.label());
        let s = m.forward(&ModelInput::Sparse {
            numeric: &numeric,
            active: &active,
        });
        assert!(
            max_abs_diff(&a, &s) < 1e-5,
            "{}: sparse broadcast",
            cfg.label()
        );
    }
}

#[test]
fn replicas_never_interact() {
    let spec = small_spec();
    for cfg in all_kinds() {
        let label = cfg.label();
        let m = Model::new(&cfg, &spec, &SEEDS, Device::Cpu).unwrap();
        let (x, numeric, active) = one_hot_input(&spec, 3, 8, 5);
        let before = m.forward(&ModelInput::Dense(&x));
        let before_s = m.forward(&ModelInput::Sparse {
            numeric: &numeric,
            active: &active,
        });
        tch::manual_seed(9);
        tch::no_grad(|| {
            for v in m.var_store().trainable_variables() {
                let mut slice = v.get(1);
                let noise = slice.randn_like();
                let _ = slice.g_add_(&noise);
            }
        });
        let after = m.forward(&ModelInput::Dense(&x));
        let after_s = m.forward(&ModelInput::Sparse {
            numeric: &numeric,
            active: &active,
        });
        for r in [0, 2] {
            assert!(
                bitwise_equal(&before.get(r), &after.get(r)),
                "{label}: replica {r} moved"
            );
            assert!(
                bitwise_equal(&before_s.get(r), &after_s.get(r)),
                "{label}: sparse {r}"
            );
        }
        assert!(
            max_abs_diff(&before.get(1), &after.get(1)) > 1e-4,
            "{label}: no effect"
        );
    }
}

#[test]
fn gradient_of_one_replica_stays_in_that_replica() {
    let spec = small_spec();
    for cfg in all_kinds() {
        let label = cfg.label();
        let m = Model::new(&cfg, &spec, &SEEDS, Device::Cpu).unwrap();
        let (_, numeric, active) = one_hot_input(&spec, 1, 8, 6);
        for sparse in [false, true] {
            m.var_store().trainable_variables().iter().for_each(|v| {
                let mut g = v.grad();
                if g.defined() {
                    let _ = g.zero_();
                }
            });
            let out = if sparse {
                m.forward(&ModelInput::Sparse {
                    numeric: &numeric,
                    active: &active,
                })
            } else {
                let (x, _, _) = one_hot_input(&spec, 1, 8, 6);
                m.forward(&ModelInput::Dense(&x))
            };
            out.get(0).sum(Kind::Float).backward();
            let mut nonzero0 = 0;
            for v in m.var_store().trainable_variables() {
                if v.numel() == 0 {
                    continue;
                }
                let g = v.grad();
                assert!(g.defined(), "{label}: a variable gets no gradient");
                for r in [1, 2] {
                    let a = g.get(r).abs().max().double_value(&[]);
                    assert_eq!(
                        a, 0.0,
                        "{label} (sparse={sparse}): grad leaks into replica {r}"
                    );
                }
                if g.get(0).abs().max().double_value(&[]) > 0.0 {
                    nonzero0 += 1;
                }
            }
            let n_vars = m.var_store().trainable_variables().len();
            assert!(
                nonzero0 * 2 > n_vars,
                "{label}: too few replica-0 gradients"
            );
        }
    }
}

#[test]
fn export_import_round_trip_and_safetensors() {
    let spec = small_spec();
    for cfg in all_kinds() {
        let src = Model::new(&cfg, &spec, &SEEDS, Device::Cpu).unwrap();
        let mut dst = Model::new(&cfg, &spec, &[100, 101], Device::Cpu).unwrap();
        let exported = src.export_replica(2);
        dst.import_replica(1, &exported).unwrap();
        for ((n, a), (_, b)) in exported.iter().zip(dst.export_replica(1)) {
            assert!(bitwise_equal(a, &b), "{}: {n}", cfg.label());
        }
        // replica 0 of dst untouched
        let fresh = Model::new(&cfg, &spec, &[100], Device::Cpu).unwrap();
        for ((n, a), (_, b)) in fresh.export_replica(0).iter().zip(dst.export_replica(0)) {
            assert!(
                bitwise_equal(a, &b),
                "{}: replica 0 changed at {n}",
                cfg.label()
            );
        }
        let bytes = adatt_models::tensor_file::to_bytes(&src.export_replica(1)).unwrap();
        let named = adatt_models::tensor_file::from_bytes(&bytes).unwrap();
        dst.import_replica(0, &named).unwrap();
        for ((n, a), (_, b)) in src.export_replica(1).iter().zip(dst.export_replica(0)) {
            assert!(bitwise_equal(a, &b), "{}: safetensors {n}", cfg.label());
        }
        let (x, _, _) = one_hot_input(&spec, 1, 5, 1);
        let a = src.forward(&ModelInput::Dense(&x)).get(1);
        let b = dst.forward(&ModelInput::Dense(&x)).get(0);
        assert!(bitwise_equal(&a, &b), "{}", cfg.label());
    }
}

#[test]
fn init_follows_the_documented_definition() {
    use rand::{Rng, SeedableRng};
    let spec = small_spec();
    for cfg in all_kinds() {
        let m = Model::new(&cfg, &spec, &[42], Device::Cpu).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
        for (name, t) in m.export_replica(0) {
            let shape = t.size();
            let bound = if name.contains("self_exp_weights") {
                (1.0 / shape[1] as f64).sqrt()
            } else if name.ends_with(".weight") {
                1.0 / (shape[1] as f64).sqrt()
            } else {
                // a bias: fan_in is the matching weight's second dim
                let w = m
                    .official_param_names()
                    .into_iter()
                    .find(|(n, _)| *n == name.replace(".bias", ".weight"))
                    .unwrap();
                1.0 / (w.1[1] as f64).sqrt()
            };
            let want: Vec<f32> = (0..t.numel())
                .map(|_| ((2.0 * rng.random::<f64>() - 1.0) * bound) as f32)
                .collect();
            let got: Vec<f32> = Vec::try_from(t.reshape([-1])).unwrap();
            assert_eq!(got, want, "{}: init of {name}", cfg.label());
        }
    }
}

/// Init and forward are device independent (on a machine with CUDA this compares GPU to CPU).
#[test]
fn device_independent() {
    let spec = small_spec();
    let dev = Device::cuda_if_available();
    for cfg in all_kinds() {
        let cpu = Model::new(&cfg, &spec, &SEEDS, Device::Cpu).unwrap();
        let other = Model::new(&cfg, &spec, &SEEDS, dev).unwrap();
        for r in 0..3 {
            for ((n, a), (_, b)) in cpu.export_replica(r).iter().zip(other.export_replica(r)) {
                assert!(bitwise_equal(a, &b), "{}: {n} on {dev:?}", cfg.label());
            }
        }
        let (x, numeric, active) = one_hot_input(&spec, 3, 16, 2);
        let want = cpu.forward(&ModelInput::Dense(&x));
        let got = other.forward(&ModelInput::Dense(&x.to_device(dev)));
        assert_eq!(got.device(), dev);
        assert!(
            max_abs_diff(&want, &got.to_device(Device::Cpu)) < 1e-4,
            "{}",
            cfg.label()
        );
        let got = other.forward(&ModelInput::Sparse {
            numeric: &numeric.to_device(dev),
            active: &active.to_device(dev),
        });
        assert!(
            max_abs_diff(&want, &got.to_device(Device::Cpu)) < 1e-4,
            "{}",
            cfg.label()
        );
    }
}

#[test]
fn wrong_device_or_shape_is_an_error() {
    let spec = small_spec();
    let cfg = &all_kinds()[0];
    let m = Model::new(cfg, &spec, &SEEDS, Device::Cpu).unwrap();
    let bad = Tensor::zeros([2, 4, 13], (Kind::Float, Device::Cpu)); // R = 3: lead must be 3 or 1
    assert!(m.f_forward(&ModelInput::Dense(&bad)).is_err());
    let bad = Tensor::zeros([1, 4, 12], (Kind::Float, Device::Cpu));
    assert!(m.f_forward(&ModelInput::Dense(&bad)).is_err());
    let bad = Tensor::zeros([1, 4, 13], (Kind::Double, Device::Cpu));
    assert!(m.f_forward(&ModelInput::Dense(&bad)).is_err());
    let numeric = Tensor::zeros([1, 4, 4], (Kind::Float, Device::Cpu));
    let active = Tensor::zeros([1, 5, 3], (Kind::Int64, Device::Cpu));
    assert!(m
        .f_forward(&ModelInput::Sparse {
            numeric: &numeric,
            active: &active
        })
        .is_err());
}

/// `make test` runs the model tests a second time with `OMP_NUM_THREADS=1`, so that they cover
/// the softmax layout `gate_cols` uses on one thread; this checks that the variable reaches
/// libtorch's intra-op thread count.
#[test]
fn intra_op_threads_follow_omp_num_threads() {
    let threads = tch::get_num_threads();
    match std::env::var("OMP_NUM_THREADS") {
        Ok(v) => assert_eq!(threads.to_string(), v.trim(), "OMP_NUM_THREADS={v}"),
        Err(_) => assert!(threads >= 1, "libtorch reports {threads} threads"),
    }
}
