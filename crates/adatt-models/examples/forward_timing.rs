//! Quick CPU forward timing (not a test): AdaTT-sp m=2, [[128],[64]], tower [32], D = 482
//! (8 numeric columns + 32 one-hot groups), dense vs sparse input, R = 1 and R = 10.
//!
//! `cargo run -p adatt-models --example forward_timing [batch] [iters] [threads]`

use std::time::Instant;

use adatt_models::{AdattSpConfig, InputSpec, Model, ModelConfig, ModelInput, NativeFusion};
use tch::{Device, Kind, Tensor};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let batch: i64 = args.get(1).map_or(512, |s| s.parse().unwrap());
    let iters: u32 = args.get(2).map_or(10, |s| s.parse().unwrap());
    if let Some(n) = args.get(3) {
        tch::set_num_threads(n.parse().unwrap());
    }
    let (d, n_num, n_cat) = (482usize, 8usize, 32usize);
    let spec = InputSpec {
        n_features: d,
        numeric_cols: (0..n_num).collect(),
        n_cat,
        n_tasks: 3,
    };
    let cfg = ModelConfig::AdattSp(AdattSpConfig {
        task_experts: 2,
        expert_dims: vec![vec![128], vec![64]],
        tower: vec![32],
        native: NativeFusion::Learned,
    });
    let per = (d - n_num) / n_cat;
    println!("threads: {}", tch::get_num_threads());
    for r in [1usize, 10] {
        let seeds: Vec<u64> = (0..r as u64).collect();
        let m = Model::new(&cfg, &spec, &seeds, Device::Cpu).unwrap();
        tch::manual_seed(0);
        let numeric = Tensor::randn([r as i64, batch, n_num as i64], (Kind::Float, Device::Cpu));
        let group = Tensor::randint(
            per as i64,
            [r as i64, batch, n_cat as i64],
            (Kind::Int64, Device::Cpu),
        );
        let base =
            Tensor::arange(n_cat as i64, (Kind::Int64, Device::Cpu)) * per as i64 + n_num as i64;
        let active = group + base;
        let dense = Tensor::zeros([r as i64, batch, d as i64], (Kind::Float, Device::Cpu));
        let dense = dense.scatter_value(2, &active, 1.0).index_copy(
            2,
            &Tensor::arange(n_num as i64, (Kind::Int64, Device::Cpu)),
            &numeric,
        );
        let sparse = ModelInput::Sparse {
            numeric: &numeric,
            active: &active,
        };
        let dense_in = ModelInput::Dense(&dense);
        let a = m.forward(&dense_in);
        let b = m.forward(&sparse);
        let diff = (a - b).abs().max().double_value(&[]);
        for (name, x) in [("dense", &dense_in), ("sparse", &sparse)] {
            for grad in [false, true] {
                let run = || {
                    let y = m.forward(x);
                    if grad {
                        y.sum(Kind::Float).backward();
                    }
                };
                let t_run = || {
                    if grad {
                        run()
                    } else {
                        tch::no_grad(run)
                    }
                };
                for _ in 0..3 {
                    t_run();
                }
                // min over blocks: robust to other processes sharing the CPU
                let mut best = f64::INFINITY;
                for _ in 0..15 {
                    let t0 = Instant::now();
                    for _ in 0..iters {
                        t_run();
                    }
                    best = best.min(t0.elapsed().as_secs_f64() * 1e3 / iters as f64);
                }
                let ms = best;
                let what = if grad { "fwd+bwd" } else { "fwd (no_grad)" };
                println!("R={r:>2} B={batch} {name:<6} {what:<14} {ms:8.3} ms/iter");
            }
        }
        println!("R={r:>2} max |dense - sparse| = {diff:.2e}");
    }
}
