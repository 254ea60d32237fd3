//! The embedding input layer against PyTorch: `nn.Embedding` tables looked up and concatenated
//! with dense features in front of the architecture (`scripts/fixtures/models_golden.py`,
//! `embed_*` cases), with the same official parameter names and order; replicas stay
//! independent; the init draws N(0, 1).

mod common;

use adatt_models::{EmbeddingSpec, Model, ModelConfig, ModelInput};
use tch::{Device, Kind, Tensor};

struct EmbedCase {
    cfg: ModelConfig,
    specs: Vec<EmbeddingSpec>,
    n_dense: usize,
    params: Vec<(String, Vec<i64>)>,
    tensors: Vec<(String, Tensor)>,
}

fn load(name: &str) -> EmbedCase {
    let dir = common::fixtures_dir();
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap())
            .unwrap();
    EmbedCase {
        cfg: serde_json::from_value(meta["config"].clone()).unwrap(),
        specs: serde_json::from_value(meta["embeddings"].clone()).unwrap(),
        n_dense: meta["n_dense"].as_u64().unwrap() as usize,
        params: serde_json::from_value(meta["params"].clone()).unwrap(),
        tensors: Tensor::read_safetensors(dir.join(format!("{name}.safetensors"))).unwrap(),
    }
}

fn get<'a>(c: &'a EmbedCase, name: &str) -> &'a Tensor {
    &c.tensors.iter().find(|(n, _)| n == name).unwrap().1
}

const CASES: [&str; 2] = ["embed_adatt_sp_m2", "embed_shared_bottom"];

#[test]
fn outputs_and_names_match_pytorch_embedding_and_concat() {
    for name in CASES {
        let c = load(name);
        let mut m =
            Model::with_embeddings(&c.cfg, &c.specs, c.n_dense, 3, &[0], Device::Cpu).unwrap();
        assert_eq!(
            m.official_param_names(),
            c.params,
            "{name}: names, shapes, order"
        );
        let weights: Vec<(String, Tensor)> = c
            .tensors
            .iter()
            .filter(|(n, _)| !matches!(n.as_str(), "ids" | "dense" | "output"))
            .map(|(n, t)| (n.clone(), t.shallow_clone()))
            .collect();
        m.import_replica(0, &weights).unwrap();
        let ids = get(&c, "ids").unsqueeze(0);
        let dense = get(&c, "dense").unsqueeze(0);
        let y = m.forward(&ModelInput::Ids {
            ids: &ids,
            dense: &dense,
        });
        let want = get(&c, "output").unsqueeze(0);
        let d = (y - &want).abs().max().double_value(&[]);
        assert!(d < 1e-5, "{name}: output differs by {d}");
        assert!(
            want.abs().max().double_value(&[]) > 1e-2,
            "{name}: a trivial output"
        );
    }
}

/// Two replicas: each reads only its own tables, shared ids ([1, B, F]) and per-replica ids
/// ([R, B, F]) agree, and replica 1 equals a one-replica model with seed 1.
#[test]
fn replicas_look_up_only_their_own_tables() {
    let c = load("embed_adatt_sp_m2");
    let m2 = Model::with_embeddings(&c.cfg, &c.specs, c.n_dense, 3, &[0, 1], Device::Cpu).unwrap();
    let m1 = Model::with_embeddings(&c.cfg, &c.specs, c.n_dense, 3, &[1], Device::Cpu).unwrap();
    let ids = get(&c, "ids").unsqueeze(0);
    let dense = get(&c, "dense").unsqueeze(0);
    let shared = m2.forward(&ModelInput::Ids {
        ids: &ids,
        dense: &dense,
    });
    let (ids2, dense2) = (ids.repeat([2, 1, 1]), dense.repeat([2, 1, 1]));
    let per = m2.forward(&ModelInput::Ids {
        ids: &ids2,
        dense: &dense2,
    });
    assert!((&shared - &per).abs().max().double_value(&[]) < 1e-6);
    let one = m1.forward(&ModelInput::Ids {
        ids: &ids,
        dense: &dense,
    });
    let d = (shared.get(1) - one.get(0)).abs().max().double_value(&[]);
    assert!(d < 1e-6, "replica 1 vs its own model: {d}");
    // Out-of-range ids and a dense input are refused.
    let bad = ids.full_like(11);
    let e = m2
        .f_forward(&ModelInput::Ids {
            ids: &bad,
            dense: &dense,
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("ids of feature 0 must be in 0..11"), "{e}");
    let x = Tensor::zeros([1, 7, 11], (Kind::Float, Device::Cpu));
    let e = m2
        .f_forward(&ModelInput::Dense(&x))
        .unwrap_err()
        .to_string();
    assert!(e.contains("takes id input"), "{e}");
}

/// The tables are drawn N(0, 1) (PyTorch's `nn.Embedding` default): on a 200 × 50 table the
/// mean is within 5 standard errors of 0 and the variance within 5 of 1.
#[test]
fn embedding_tables_are_drawn_standard_normal() {
    let cfg: ModelConfig = serde_json::from_value(serde_json::json!(
        { "kind": "shared_bottom", "bottom": [4], "tower": [2] }
    ))
    .unwrap();
    let specs = [EmbeddingSpec {
        cardinality: 200,
        dim: 50,
    }];
    let m = Model::with_embeddings(&cfg, &specs, 0, 2, &[7], Device::Cpu).unwrap();
    let (name, t) = &m.export_replica(0)[0];
    assert_eq!(name, "embeddings.0.weight");
    let n = t.numel() as f64;
    let mean = t.mean(Kind::Double).double_value(&[]);
    let var = t.var(false).double_value(&[]);
    assert!(mean.abs() < 5.0 / n.sqrt(), "{mean}");
    assert!((var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "{var}");
}
