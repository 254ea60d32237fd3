//! What each kind answers through `ArchConfig` beyond its serde form: the sweep axes it has and
//! the layout of its fused expert weights. The expected table is the one the callers spelled
//! out before the trait existed (adatt-train's sweep setters matched AdaTT, AdaTT-sp and PLE for
//! `task_experts`; those plus ML-MMoE and Cross-stitch for `expert_dims`; AdaTT and AdaTT-sp for
//! `native`; adatt-analysis grouped the expert columns of AdaTT-sp and AdaTT only).
//!
//! Torch-free: only the config part of the crate is used.

use adatt_models::{ExpertLayout, ModelConfig, NativeFusion};

fn parse(s: &str) -> ModelConfig {
    toml::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// (config, has task_experts, has expert_dims, has native, expert layout)
fn table() -> Vec<(ModelConfig, bool, bool, bool, Option<ExpertLayout>)> {
    let layout = |task_experts, shared_experts| {
        Some(ExpertLayout {
            task_experts,
            shared_experts,
        })
    };
    vec![
        (
            parse("kind = \"shared_bottom\"\nbottom = [8, 6]\ntower = [4]"),
            false,
            false,
            false,
            None,
        ),
        (
            parse("kind = \"single_task\"\nbottom = [8, 6]\ntower = [4]"),
            false,
            false,
            false,
            None,
        ),
        (
            parse("kind = \"mmoe\"\nexperts = 3\nexpert_dims = [[8], [6]]\ntower = [4]"),
            false,
            true,
            false,
            None,
        ),
        (
            parse("kind = \"cross_stitch\"\nexpert_dims = [[8], [6]]\ntower = [4]"),
            false,
            true,
            false,
            None,
        ),
        (
            parse(
                "kind = \"ple\"\ntask_experts = 2\nshared_experts = 1\nexpert_dims = [[8], [6]]\n\
                 tower = [4]",
            ),
            true,
            true,
            false,
            None,
        ),
        (
            parse("kind = \"adatt_sp\"\ntask_experts = 2\nexpert_dims = [[8], [6]]\ntower = [4]"),
            true,
            true,
            true,
            layout(2, 0),
        ),
        (
            parse(
                "kind = \"adatt\"\ntask_experts = 3\nshared_experts = 2\n\
                 expert_dims = [[8], [6]]\ntower = [4]",
            ),
            true,
            true,
            true,
            layout(3, 2),
        ),
    ]
}

#[test]
fn sweep_axes_and_expert_layouts_per_kind() {
    for (mut cfg, task_experts, expert_dims, native, layout) in table() {
        let label = cfg.label();
        assert_eq!(cfg.arch().expert_layout(), layout, "{label}");
        assert_eq!(cfg.is_adatt(), layout.is_some(), "{label}");
        let arch = cfg.arch_mut();
        assert_eq!(arch.task_experts_mut().is_some(), task_experts, "{label}");
        assert_eq!(arch.expert_dims_mut().is_some(), expert_dims, "{label}");
        assert_eq!(arch.native_mut().is_some(), native, "{label}");
    }
}

/// The axes hand out the config's own fields: a write shows in the serialized config.
#[test]
fn sweep_axes_write_the_named_fields() {
    for (mut cfg, ..) in table() {
        let before = serde_json::to_value(&cfg).unwrap();
        let arch = cfg.arch_mut();
        if let Some(k) = arch.task_experts_mut() {
            *k = 7;
        }
        if let Some(dims) = arch.expert_dims_mut() {
            dims.insert(0, vec![16]);
        }
        if let Some(n) = arch.native_mut() {
            *n = NativeFusion::Ablated;
        }
        let mut want = before.clone();
        if before.get("task_experts").is_some() {
            want["task_experts"] = 7.into();
        }
        if let Some(d) = before.get("expert_dims") {
            let mut d = d.as_array().unwrap().clone();
            d.insert(0, serde_json::json!([16]));
            want["expert_dims"] = d.into();
        }
        if before.get("native").is_some() {
            want["native"] = "ablated".into();
        }
        assert_eq!(serde_json::to_value(&cfg).unwrap(), want, "{}", cfg.label());
    }
}

/// The checks that do not need a model: the kind's own fields through `validate`, the tower
/// and the task count before them.
#[test]
fn validation_names_the_field_in_order() {
    let field = |cfg: &ModelConfig, n_tasks| match cfg.validate(n_tasks) {
        Err(adatt_models::ModelError::Config { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    let bad = parse(
        "kind = \"adatt\"\ntask_experts = 0\nshared_experts = 0\nexpert_dims = []\ntower = []",
    );
    assert_eq!(field(&bad, 0), "n_tasks");
    assert_eq!(field(&bad, 3), "tower");
    let bad = parse(
        "kind = \"adatt\"\ntask_experts = 0\nshared_experts = 0\nexpert_dims = []\ntower = [4]",
    );
    assert_eq!(field(&bad, 3), "task_experts");
    let bad = parse(
        "kind = \"adatt\"\ntask_experts = 1\nshared_experts = 0\nexpert_dims = []\ntower = [4]",
    );
    assert_eq!(field(&bad, 3), "shared_experts");
    let bad = parse(
        "kind = \"adatt\"\ntask_experts = 1\nshared_experts = 1\nexpert_dims = []\ntower = [4]",
    );
    assert_eq!(field(&bad, 3), "expert_dims");
    for (cfg, ..) in table() {
        cfg.validate(3).unwrap();
    }
}
