//! Shared helpers of the integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use adatt_models::{
    AdattConfig, AdattSpConfig, CrossStitchConfig, InputSpec, MmoeConfig, Model, ModelConfig,
    ModelInput, NativeFusion, PleConfig, SharedBottomConfig, SingleTaskConfig,
};
use tch::{Device, Kind, Tensor};

pub fn fixtures_dir() -> PathBuf {
    // Run-time value (see adatt-data's tests/common): the checkout this test runs for.
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"),
    )
    .join("../../fixtures/models")
}

/// One golden case written by scripts/fixtures/models_golden.py.
pub struct Case {
    pub name: String,
    pub cfg: ModelConfig,
    pub spec: InputSpec,
    pub sparse: bool,
    pub param_count: usize,
    pub params: Vec<(String, Vec<i64>)>,
    pub fused_levels: usize,
    pub ablation_base: Option<String>,
    pub tensors: HashMap<String, Tensor>,
}

impl Case {
    pub fn load(name: &str) -> Case {
        let dir = fixtures_dir();
        let meta: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.json")))
                .unwrap_or_else(|e| panic!("{name}.json: {e} (run scripts/make_fixtures.py)")),
        )
        .unwrap();
        let cfg: ModelConfig = serde_json::from_value(meta["config"].clone()).unwrap();
        let n_features = meta["n_features"].as_u64().unwrap() as usize;
        let n_tasks = meta["n_tasks"].as_u64().unwrap() as usize;
        let (spec, sparse) = match meta["sparse"].as_object() {
            Some(s) => (
                InputSpec {
                    n_features,
                    numeric_cols: s["numeric_cols"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_u64().unwrap() as usize)
                        .collect(),
                    n_cat: s["n_cat"].as_u64().unwrap() as usize,
                    n_tasks,
                },
                true,
            ),
            None => (InputSpec::dense(n_features, n_tasks), false),
        };
        let params = meta["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let name = p[0].as_str().unwrap().to_string();
                let shape = p[1]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_i64().unwrap())
                    .collect();
                (name, shape)
            })
            .collect();
        let tensors: HashMap<String, Tensor> =
            Tensor::read_safetensors(dir.join(format!("{name}.safetensors")))
                .unwrap()
                .into_iter()
                .collect();
        Case {
            name: name.to_string(),
            cfg,
            spec,
            sparse,
            param_count: meta["param_count"].as_u64().unwrap() as usize,
            params,
            fused_levels: meta["fused_levels"].as_u64().unwrap() as usize,
            ablation_base: meta["ablation_base"].as_str().map(str::to_string),
            tensors,
        }
    }

    pub fn t(&self, key: &str) -> &Tensor {
        self.tensors
            .get(key)
            .unwrap_or_else(|| panic!("{}: no tensor {key}", self.name))
    }

    /// The official-named parameters of the case, in state_dict order.
    pub fn named_params(&self) -> Vec<(String, Tensor)> {
        self.params
            .iter()
            .map(|(n, _)| (n.clone(), self.t(n).shallow_clone()))
            .collect()
    }
}

pub fn case_names() -> Vec<String> {
    let idx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures_dir().join("index.json"))
            .expect("fixtures/models/index.json (run scripts/make_fixtures.py)"),
    )
    .unwrap();
    idx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size(), "shape mismatch");
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double))
        .abs()
        .max()
        .double_value(&[])
}

pub fn bitwise_equal(a: &Tensor, b: &Tensor) -> bool {
    a.size() == b.size() && a.kind() == b.kind() && a.equal(b)
}

/// One-hot-structured input for `spec`: D = numeric columns + one-hot groups (the remaining
/// columns, split into `spec.n_cat` contiguous groups, each row with one active column or none).
/// Returns dense `[lead, B, D]`, numeric `[lead, B, n_num]`, active `[lead, B, n_cat]`.
pub fn one_hot_input(
    spec: &InputSpec,
    lead: i64,
    batch: i64,
    seed: i64,
) -> (Tensor, Tensor, Tensor) {
    tch::manual_seed(seed);
    let d = spec.n_features;
    let n_num = spec.numeric_cols.len();
    let n_cat = spec.n_cat;
    let cat_cols: Vec<usize> = (0..d).filter(|c| !spec.numeric_cols.contains(c)).collect();
    let per = cat_cols.len() / n_cat;
    let rows = (lead * batch) as usize;
    let numeric = Tensor::randn([lead, batch, n_num as i64], (Kind::Float, Device::Cpu));
    let num_vals: Vec<f32> = Vec::try_from(numeric.reshape([-1])).unwrap();
    let picks = Tensor::randint(1 << 20, [(rows * n_cat) as i64], (Kind::Int64, Device::Cpu));
    let picks: Vec<i64> = Vec::try_from(picks).unwrap();
    let mut dense = vec![0f32; rows * d];
    let mut active = vec![-1i64; rows * n_cat];
    for row in 0..rows {
        for (j, &c) in spec.numeric_cols.iter().enumerate() {
            dense[row * d + c] = num_vals[row * n_num + j];
        }
        for g in 0..n_cat {
            let lo = g * per;
            let hi = if g + 1 == n_cat {
                cat_cols.len()
            } else {
                lo + per
            };
            let k = picks[row * n_cat + g] as usize % (hi - lo + 1);
            if k < hi - lo {
                let c = cat_cols[lo + k];
                active[row * n_cat + g] = c as i64;
                dense[row * d + c] = 1.0;
            }
        }
    }
    let dense = Tensor::from_slice(&dense).view([lead, batch, d as i64]);
    let active = Tensor::from_slice(&active).view([lead, batch, n_cat as i64]);
    (dense, numeric, active)
}

/// Small configs of every kind (and the native variants) for property tests.
pub fn all_kinds() -> Vec<ModelConfig> {
    let dims = vec![vec![8, 6], vec![5]];
    let tower = vec![4];
    let mut v = vec![
        ModelConfig::SharedBottom(SharedBottomConfig {
            bottom: vec![8, 6],
            tower: tower.clone(),
        }),
        ModelConfig::SingleTask(SingleTaskConfig {
            bottom: vec![8, 6],
            tower: tower.clone(),
        }),
        ModelConfig::Mmoe(MmoeConfig {
            experts: 3,
            expert_dims: dims.clone(),
            tower: tower.clone(),
        }),
        ModelConfig::CrossStitch(CrossStitchConfig {
            expert_dims: dims.clone(),
            tower: tower.clone(),
        }),
        ModelConfig::Ple(PleConfig {
            task_experts: 2,
            shared_experts: 2,
            expert_dims: dims.clone(),
            tower: tower.clone(),
        }),
        ModelConfig::Ple(PleConfig {
            task_experts: 2,
            shared_experts: 0,
            expert_dims: dims.clone(),
            tower: tower.clone(),
        }),
    ];
    for native in [NativeFusion::Learned, NativeFusion::Ablated] {
        for m in [1, 2] {
            v.push(ModelConfig::AdattSp(AdattSpConfig {
                task_experts: m,
                expert_dims: dims.clone(),
                tower: tower.clone(),
                native,
            }));
        }
        for (mt, ms) in [(1, 1), (2, 1), (1, 3)] {
            v.push(ModelConfig::Adatt(AdattConfig {
                task_experts: mt,
                shared_experts: ms,
                expert_dims: dims.clone(),
                tower: tower.clone(),
                native,
            }));
        }
    }
    v
}

/// D = 13 with 4 numeric columns and 3 one-hot groups; 3 tasks.
pub fn small_spec() -> InputSpec {
    InputSpec {
        n_features: 13,
        numeric_cols: vec![0, 4, 5, 11],
        n_cat: 3,
        n_tasks: 3,
    }
}

pub fn dense_forward(m: &Model, x: &Tensor) -> Tensor {
    m.forward(&ModelInput::Dense(x))
}
