//! Config parsing, validation errors (naming the field), labels, import errors, Table 5 counts.

mod common;

use adatt_models::{
    AdattConfig, AdattSpConfig, CrossStitchConfig, InputSpec, MmoeConfig, Model, ModelConfig,
    ModelError, ModelInput, NativeFusion, PleConfig, SharedBottomConfig, SingleTaskConfig,
};
use common::{fixtures_dir, small_spec};
use tch::{Device, Kind, Tensor};

fn parse(s: &str) -> Result<ModelConfig, toml::de::Error> {
    toml::from_str(s)
}

#[test]
fn toml_parses_every_kind() {
    let cfg =
        parse("kind = \"adatt_sp\"\ntask_experts = 2\nexpert_dims = [[128],[64]]\ntower = [32]")
            .unwrap();
    assert_eq!(
        cfg,
        ModelConfig::AdattSp(AdattSpConfig {
            task_experts: 2,
            expert_dims: vec![vec![128], vec![64]],
            tower: vec![32],
            native: NativeFusion::Learned
        })
    );
    assert_eq!(cfg.label(), "AdaTT-sp(2/task)");
    let cfg = parse(
        "kind = \"adatt\"\ntask_experts = 1\nshared_experts = 3\nexpert_dims = [[128],[64]]\n\
         tower = [32]\nnative = \"ablated\"",
    )
    .unwrap();
    assert!(matches!(
        cfg,
        ModelConfig::Adatt(AdattConfig {
            shared_experts: 3,
            native: NativeFusion::Ablated,
            ..
        })
    ));
    assert_eq!(cfg.label(), "AdaTT(1/task+3 shared, no NativeExpertLF)");
    let cases = [
        ("kind = \"shared_bottom\"\nbottom = [128, 64]\ntower = [32]", "Shared-bottom"),
        ("kind = \"single_task\"\nbottom = [128, 64]\ntower = [32]", "Single-task"),
        ("kind = \"mmoe\"\nexperts = 6\nexpert_dims = [[128],[64]]\ntower = [32]", "ML-MMoE(6)"),
        ("kind = \"mmoe\"\nexperts = 6\nexpert_dims = [[128, 64]]\ntower = [32]", "MMoE(6)"),
        ("kind = \"cross_stitch\"\nexpert_dims = [[128],[64]]\ntower = [32]", "Cross-stitch"),
        (
            "kind = \"ple\"\ntask_experts = 2\nshared_experts = 0\nexpert_dims = [[128],[64]]\ntower = [32]",
            "PLE(2/task+0 shared)",
        ),
    ];
    for (s, label) in cases {
        let cfg = parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(cfg.label(), label);
        cfg.validate(3).unwrap();
        // serde round trip (the fixtures use JSON)
        let json = serde_json::to_string(&cfg).unwrap();
        assert_eq!(serde_json::from_str::<ModelConfig>(&json).unwrap(), cfg);
    }
}

#[test]
fn toml_rejects_unknown_kind_and_fields() {
    let e = parse("kind = \"moe\"\nexperts = 6\nexpert_dims = [[8]]\ntower = [4]").unwrap_err();
    assert!(e.to_string().contains("moe"), "{e}");
    // shared experts do not exist in AdaTT-sp or ML-MMoE
    let e = parse("kind = \"adatt_sp\"\ntask_experts = 2\nshared_experts = 1\nexpert_dims = [[8]]\ntower = [4]")
        .unwrap_err();
    assert!(e.to_string().contains("shared_experts"), "{e}");
    let e =
        parse("kind = \"mmoe\"\nexperts = 2\nshared_experts = 1\nexpert_dims = [[8]]\ntower = [4]")
            .unwrap_err();
    assert!(e.to_string().contains("shared_experts"), "{e}");
    let e = parse(
        "kind = \"adatt_sp\"\ntask_experts = 2\nexpert_dims = [[8]]\ntower = [4]\nnative = \"off\"",
    )
    .unwrap_err();
    assert!(e.to_string().contains("off"), "{e}");
    let e =
        parse("kind = \"ple\"\ntask_experts = 2\nexpert_dims = [[8]]\ntower = [4]").unwrap_err();
    assert!(e.to_string().contains("shared_experts"), "{e}");
}

fn field_of(cfg: &ModelConfig) -> String {
    let spec = small_spec();
    let err = cfg.validate(3).unwrap_err();
    // Model::new reports the same error
    let err2 = Model::new(cfg, &spec, &[1], Device::Cpu).err().unwrap();
    assert_eq!(err.to_string(), err2.to_string());
    match err {
        ModelError::Config { field, .. } => field,
        other => panic!("unexpected error {other}"),
    }
}

#[test]
fn bad_configs_name_the_field() {
    let dims = || vec![vec![8], vec![6]];
    let t = || vec![4];
    let c = ModelConfig::Mmoe(MmoeConfig {
        experts: 0,
        expert_dims: dims(),
        tower: t(),
    });
    assert_eq!(field_of(&c), "experts");
    let c = ModelConfig::Ple(PleConfig {
        task_experts: 0,
        shared_experts: 1,
        expert_dims: dims(),
        tower: t(),
    });
    assert_eq!(field_of(&c), "task_experts");
    let c = ModelConfig::AdattSp(AdattSpConfig {
        task_experts: 0,
        expert_dims: dims(),
        tower: t(),
        native: NativeFusion::Learned,
    });
    assert_eq!(field_of(&c), "task_experts");
    let c = ModelConfig::Adatt(AdattConfig {
        task_experts: 2,
        shared_experts: 0,
        expert_dims: dims(),
        tower: t(),
        native: NativeFusion::Learned,
    });
    assert_eq!(field_of(&c), "shared_experts");
    let msg = c.validate(3).unwrap_err().to_string();
    assert!(msg.contains("adatt_sp"), "{msg}");
    let c = ModelConfig::CrossStitch(CrossStitchConfig {
        expert_dims: vec![],
        tower: t(),
    });
    assert_eq!(field_of(&c), "expert_dims");
    let c = ModelConfig::CrossStitch(CrossStitchConfig {
        expert_dims: vec![vec![8], vec![]],
        tower: t(),
    });
    assert_eq!(field_of(&c), "expert_dims[1]");
    let c = ModelConfig::Mmoe(MmoeConfig {
        experts: 2,
        expert_dims: vec![vec![8, 0]],
        tower: t(),
    });
    assert_eq!(field_of(&c), "expert_dims[0][1]");
    let c = ModelConfig::Mmoe(MmoeConfig {
        experts: 2,
        expert_dims: dims(),
        tower: vec![],
    });
    assert_eq!(field_of(&c), "tower");
    let c = ModelConfig::Mmoe(MmoeConfig {
        experts: 2,
        expert_dims: dims(),
        tower: vec![4, 0],
    });
    assert_eq!(field_of(&c), "tower[1]");
    let c = ModelConfig::SharedBottom(SharedBottomConfig {
        bottom: vec![],
        tower: t(),
    });
    assert_eq!(field_of(&c), "bottom");
    let c = ModelConfig::SingleTask(SingleTaskConfig {
        bottom: vec![0],
        tower: t(),
    });
    assert_eq!(field_of(&c), "bottom[0]");
    // allowed: PLE without shared experts, AdaTT with shared experts
    ModelConfig::Ple(PleConfig {
        task_experts: 2,
        shared_experts: 0,
        expert_dims: dims(),
        tower: t(),
    })
    .validate(3)
    .unwrap();
    ModelConfig::Adatt(AdattConfig {
        task_experts: 1,
        shared_experts: 1,
        expert_dims: dims(),
        tower: t(),
        native: NativeFusion::Learned,
    })
    .validate(3)
    .unwrap();
    let ok = ModelConfig::CrossStitch(CrossStitchConfig {
        expert_dims: dims(),
        tower: t(),
    });
    assert!(matches!(ok.validate(0), Err(ModelError::Config { field, .. }) if field == "n_tasks"));
}

#[test]
fn bad_spec_and_seeds() {
    let cfg = ModelConfig::CrossStitch(CrossStitchConfig {
        expert_dims: vec![vec![8]],
        tower: vec![4],
    });
    let spec = InputSpec {
        n_features: 5,
        numeric_cols: vec![0, 5],
        n_cat: 1,
        n_tasks: 2,
    };
    let e = Model::new(&cfg, &spec, &[1], Device::Cpu).err().unwrap();
    assert!(
        matches!(e, ModelError::Spec { ref field, .. } if field == "numeric_cols"),
        "{e}"
    );
    let e = Model::new(&cfg, &InputSpec::dense(5, 2), &[], Device::Cpu)
        .err()
        .unwrap();
    assert!(matches!(e, ModelError::NoSeeds));
}

#[test]
fn import_errors_name_the_key() {
    let spec = small_spec();
    let cfg = ModelConfig::AdattSp(AdattSpConfig {
        task_experts: 2,
        expert_dims: vec![vec![8], vec![6]],
        tower: vec![4],
        native: NativeFusion::Learned,
    });
    let mut m = Model::new(&cfg, &spec, &[1, 2], Device::Cpu).unwrap();
    let good = m.export_replica(0);
    let before = m.export_replica(1);

    let missing: Vec<_> = good
        .iter()
        .filter(|(n, _)| n != "mtl_arch.self_exp_weights.1")
        .map(|(n, t)| (n.clone(), t.shallow_clone()))
        .collect();
    let e = m.import_replica(1, &missing).unwrap_err().to_string();
    assert!(
        e.contains("mtl_arch.self_exp_weights.1") && e.contains("missing"),
        "{e}"
    );

    let mut extra: Vec<_> = good
        .iter()
        .map(|(n, t)| (n.clone(), t.shallow_clone()))
        .collect();
    extra.push((
        "mtl_arch.bogus.weight".into(),
        Tensor::zeros([2], (Kind::Float, Device::Cpu)),
    ));
    let e = m.import_replica(1, &extra).unwrap_err().to_string();
    assert!(e.contains("mtl_arch.bogus.weight"), "{e}");

    let mut shaped: Vec<_> = good
        .iter()
        .map(|(n, t)| (n.clone(), t.shallow_clone()))
        .collect();
    let k = shaped
        .iter()
        .position(|(n, _)| n == "mtl_arch.gate_weights.1.2.0.weight")
        .unwrap();
    shaped[k].1 = shaped[k].1.tr().contiguous();
    let e = m.import_replica(1, &shaped).unwrap_err().to_string();
    assert!(
        e.contains("mtl_arch.gate_weights.1.2.0.weight") && e.contains("shape"),
        "{e}"
    );

    // nothing was written by the failed imports
    for ((n, a), (_, b)) in before.iter().zip(m.export_replica(1)) {
        assert!(a.equal(&b), "{n} changed by a failed import");
    }
    assert!(matches!(
        m.import_replica(2, &good),
        Err(ModelError::Replica { r: 2, replicas: 2 })
    ));
}

#[test]
fn fused_weights_only_for_adatt() {
    let spec = small_spec();
    let x = Tensor::zeros([1, 2, 13], (Kind::Float, Device::Cpu));
    let cfg = ModelConfig::Ple(PleConfig {
        task_experts: 1,
        shared_experts: 1,
        expert_dims: vec![vec![8]],
        tower: vec![4],
    });
    let m = Model::new(&cfg, &spec, &[1], Device::Cpu).unwrap();
    assert!(matches!(
        m.fused_expert_weights(&ModelInput::Dense(&x)),
        Err(ModelError::Unsupported(_))
    ));
}

/// Parameter counts at the paper's Table 5 sizes (D = 482, T = 3) equal PyTorch's.
#[test]
fn table5_parameter_counts_match_pytorch() {
    let idx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join("index.json")).unwrap())
            .unwrap();
    let rows = idx["table5"].as_array().unwrap();
    assert!(rows.len() >= 12);
    for row in rows {
        let cfg: ModelConfig = serde_json::from_value(row["config"].clone()).unwrap();
        let spec = InputSpec::dense(
            row["n_features"].as_u64().unwrap() as usize,
            row["n_tasks"].as_u64().unwrap() as usize,
        );
        let m = Model::new(&cfg, &spec, &[0], Device::Cpu).unwrap();
        let want = row["param_count"].as_u64().unwrap() as usize;
        println!(
            "{:<14} {:<32} {}",
            row["label"].as_str().unwrap(),
            cfg.label(),
            want
        );
        assert_eq!(m.params_per_replica(), want, "{}", row["label"]);
        let vs_numel: i64 = m
            .var_store()
            .trainable_variables()
            .iter()
            .map(|v| v.numel() as i64)
            .sum();
        assert_eq!(
            vs_numel as usize, want,
            "{}: VarStore holds extra parameters",
            row["label"]
        );
    }
}
