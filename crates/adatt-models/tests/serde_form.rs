//! The serialized form of [`ModelConfig`], pinned to literal strings.
//!
//! A record's key is a hash of the JSON of its model config (`adatt_spec::plan::config_hash`
//! hashes a `serde_json::Value`, whose keys are sorted), so this form must never change. The
//! sorted ("record") strings below are copied from committed records (`model_config` of
//! `results/*/*/runs*.jsonl`, file named per case); the declaration-order JSON and the TOML are
//! what the code wrote when these tests were added, before the per-kind config structs existed.
//! The refusals of unknown kinds and fields are pinned the same way, whole messages included.
//!
//! Torch-free: only the config part of the crate is used.

use adatt_models::ModelConfig;

/// One kind: the TOML a user writes (no `native` for AdaTT-sp: its default), the record form,
/// serde_json's declaration-order form, and the TOML the config serializes to.
struct Form {
    toml_in: &'static str,
    record: &'static str,
    json: &'static str,
    toml_out: &'static str,
}

const FORMS: &[Form] = &[
    // results/table5/clean/runs.jsonl (key 54710e66fddd3300-s0)
    Form {
        toml_in: "kind = \"shared_bottom\"\nbottom = [128, 64]\ntower = [32]",
        record: r#"{"bottom":[128,64],"kind":"shared_bottom","tower":[32]}"#,
        json: r#"{"kind":"shared_bottom","bottom":[128,64],"tower":[32]}"#,
        toml_out: "kind = \"shared_bottom\"\nbottom = [128, 64]\ntower = [32]\n",
    },
    // results/table5/clean/runs.jsonl (key 3515f6ad09a81ce9-s0)
    Form {
        toml_in: "kind = \"single_task\"\nbottom = [128, 64]\ntower = [32]",
        record: r#"{"bottom":[128,64],"kind":"single_task","tower":[32]}"#,
        json: r#"{"kind":"single_task","bottom":[128,64],"tower":[32]}"#,
        toml_out: "kind = \"single_task\"\nbottom = [128, 64]\ntower = [32]\n",
    },
    // results/table5/clean/runs.jsonl (key 1f4fefac7fe118f9-s0)
    Form {
        toml_in: "kind = \"mmoe\"\nexperts = 6\nexpert_dims = [[128], [64]]\ntower = [32]",
        record: r#"{"expert_dims":[[128],[64]],"experts":6,"kind":"mmoe","tower":[32]}"#,
        json: r#"{"kind":"mmoe","experts":6,"expert_dims":[[128],[64]],"tower":[32]}"#,
        toml_out: "kind = \"mmoe\"\nexperts = 6\nexpert_dims = [[128], [64]]\ntower = [32]\n",
    },
    // results/table5/clean/runs.jsonl (key 8c61f7372023e4bb-s0)
    Form {
        toml_in: "kind = \"cross_stitch\"\nexpert_dims = [[128], [64]]\ntower = [32]",
        record: r#"{"expert_dims":[[128],[64]],"kind":"cross_stitch","tower":[32]}"#,
        json: r#"{"kind":"cross_stitch","expert_dims":[[128],[64]],"tower":[32]}"#,
        toml_out: "kind = \"cross_stitch\"\nexpert_dims = [[128], [64]]\ntower = [32]\n",
    },
    // results/table5/clean/runs.jsonl (key 563cf5d63cca1b7e-s0)
    Form {
        toml_in: "kind = \"ple\"\ntask_experts = 1\nshared_experts = 3\n\
                  expert_dims = [[128], [64]]\ntower = [32]",
        record: r#"{"expert_dims":[[128],[64]],"kind":"ple","shared_experts":3,"task_experts":1,"tower":[32]}"#,
        json: r#"{"kind":"ple","task_experts":1,"shared_experts":3,"expert_dims":[[128],[64]],"tower":[32]}"#,
        toml_out: "kind = \"ple\"\ntask_experts = 1\nshared_experts = 3\n\
                   expert_dims = [[128], [64]]\ntower = [32]\n",
    },
    // results/table5/clean/runs.jsonl (key 965e5bfbd7be4cff-s0)
    Form {
        toml_in: "kind = \"adatt_sp\"\ntask_experts = 2\nexpert_dims = [[128], [64]]\ntower = [32]",
        record: r#"{"expert_dims":[[128],[64]],"kind":"adatt_sp","native":"learned","task_experts":2,"tower":[32]}"#,
        json: r#"{"kind":"adatt_sp","task_experts":2,"expert_dims":[[128],[64]],"tower":[32],"native":"learned"}"#,
        toml_out: "kind = \"adatt_sp\"\ntask_experts = 2\nexpert_dims = [[128], [64]]\n\
                   tower = [32]\nnative = \"learned\"\n",
    },
    // results/table6/clean/runs.shard-*-of-2.jsonl
    Form {
        toml_in:
            "kind = \"adatt_sp\"\ntask_experts = 2\nexpert_dims = [[128], [64]]\ntower = [32]\n\
                  native = \"ablated\"",
        record: r#"{"expert_dims":[[128],[64]],"kind":"adatt_sp","native":"ablated","task_experts":2,"tower":[32]}"#,
        json: r#"{"kind":"adatt_sp","task_experts":2,"expert_dims":[[128],[64]],"tower":[32],"native":"ablated"}"#,
        toml_out: "kind = \"adatt_sp\"\ntask_experts = 2\nexpert_dims = [[128], [64]]\n\
                   tower = [32]\nnative = \"ablated\"\n",
    },
    // results/table5/tuning/runs.jsonl (key 08605abc783c67d9-s1000)
    Form {
        toml_in: "kind = \"adatt\"\ntask_experts = 1\nshared_experts = 3\n\
                  expert_dims = [[128], [64]]\ntower = [32]",
        record: r#"{"expert_dims":[[128],[64]],"kind":"adatt","native":"learned","shared_experts":3,"task_experts":1,"tower":[32]}"#,
        json: r#"{"kind":"adatt","task_experts":1,"shared_experts":3,"expert_dims":[[128],[64]],"tower":[32],"native":"learned"}"#,
        toml_out: "kind = \"adatt\"\ntask_experts = 1\nshared_experts = 3\n\
                   expert_dims = [[128], [64]]\ntower = [32]\nnative = \"learned\"\n",
    },
    // results/table6/clean/runs.shard-*-of-2.jsonl
    Form {
        toml_in: "kind = \"adatt\"\ntask_experts = 2\nshared_experts = 3\n\
                  expert_dims = [[96], [48]]\ntower = [32]\nnative = \"ablated\"",
        record: r#"{"expert_dims":[[96],[48]],"kind":"adatt","native":"ablated","shared_experts":3,"task_experts":2,"tower":[32]}"#,
        json: r#"{"kind":"adatt","task_experts":2,"shared_experts":3,"expert_dims":[[96],[48]],"tower":[32],"native":"ablated"}"#,
        toml_out: "kind = \"adatt\"\ntask_experts = 2\nshared_experts = 3\n\
                   expert_dims = [[96], [48]]\ntower = [32]\nnative = \"ablated\"\n",
    },
];

#[test]
fn every_kind_serializes_as_the_committed_records() {
    let mut kinds = Vec::new();
    for f in FORMS {
        let cfg: ModelConfig =
            toml::from_str(f.toml_in).unwrap_or_else(|e| panic!("{}: {e}", f.toml_in));
        // the record form: what config_hash hashes and what runs.jsonl stores
        let value = serde_json::to_value(&cfg).unwrap();
        assert_eq!(value.to_string(), f.record);
        // declaration order (the saved config.toml and JSON files keep it)
        assert_eq!(serde_json::to_string(&cfg).unwrap(), f.json);
        assert_eq!(toml::to_string(&cfg).unwrap(), f.toml_out);
        // and back: the record, the JSON and the written TOML all read as the same config
        assert_eq!(serde_json::from_str::<ModelConfig>(f.record).unwrap(), cfg);
        assert_eq!(serde_json::from_str::<ModelConfig>(f.json).unwrap(), cfg);
        assert_eq!(toml::from_str::<ModelConfig>(f.toml_out).unwrap(), cfg);
        kinds.push(value["kind"].as_str().unwrap().to_owned());
    }
    kinds.dedup();
    let want = [
        "shared_bottom",
        "single_task",
        "mmoe",
        "cross_stitch",
        "ple",
        "adatt_sp",
        "adatt",
    ];
    assert_eq!(kinds, want, "one pinned form per kind");
}

/// Configs that must be refused, with the whole message from TOML and from JSON (the same
/// document converted).
const REFUSED: &[(&str, &str, &str)] = &[
    (
        "kind = \"moe\"\nexperts = 6\nexpert_dims = [[8]]\ntower = [4]",
        "TOML parse error at line 1, column 8\n  |\n1 | kind = \"moe\"\n  |        ^^^^^\n\
         unknown variant `moe`, expected one of `shared_bottom`, `mmoe`, `cross_stitch`, `ple`, \
         `adatt_sp`, `adatt`, `single_task`\n",
        "unknown variant `moe`, expected one of `shared_bottom`, `mmoe`, `cross_stitch`, `ple`, \
         `adatt_sp`, `adatt`, `single_task` at line 1 column 45",
    ),
    (
        "kind = \"adatt_sp\"\ntask_experts = 2\nshared_experts = 1\nexpert_dims = [[8]]\n\
         tower = [4]",
        "unknown field `shared_experts`, expected one of `task_experts`, `expert_dims`, `tower`, \
         `native`\n",
        "unknown field `shared_experts`, expected one of `task_experts`, `expert_dims`, `tower`, \
         `native`",
    ),
    (
        "kind = \"mmoe\"\nexperts = 2\nshared_experts = 1\nexpert_dims = [[8]]\ntower = [4]",
        "unknown field `shared_experts`, expected one of `experts`, `expert_dims`, `tower`\n",
        "unknown field `shared_experts`, expected one of `experts`, `expert_dims`, `tower`",
    ),
    (
        "kind = \"shared_bottom\"\nbottom = [8]\ntower = [4]\nextra = 1",
        "unknown field `extra`, expected `bottom` or `tower`\n",
        "unknown field `extra`, expected `bottom` or `tower`",
    ),
    (
        "kind = \"ple\"\ntask_experts = 2\nexpert_dims = [[8]]\ntower = [4]",
        "missing field `shared_experts`\n",
        "missing field `shared_experts`",
    ),
    (
        "kind = \"adatt_sp\"\ntask_experts = 2\nexpert_dims = [[8]]\ntower = [4]\nnative = \"off\"",
        "unknown variant `off`, expected `learned` or `ablated`\n",
        "unknown variant `off`, expected `learned` or `ablated`",
    ),
    (
        "bottom = [8]\ntower = [4]",
        "TOML parse error at line 1, column 1\n  |\n1 | bottom = [8]\n  | ^\n\
         missing field `kind`\n",
        "missing field `kind` at line 1 column 26",
    ),
];

#[test]
fn unknown_kinds_and_fields_are_refused_with_the_same_messages() {
    for &(doc, toml_msg, json_msg) in REFUSED {
        let e = toml::from_str::<ModelConfig>(doc).unwrap_err();
        assert_eq!(e.to_string(), toml_msg, "{doc}");
        let value: toml::Value = toml::from_str(doc).unwrap();
        let json = serde_json::to_string(&value).unwrap();
        let e = serde_json::from_str::<ModelConfig>(&json).unwrap_err();
        assert_eq!(e.to_string(), json_msg, "{json}");
    }
}
