//! The ground truth of a simulated task group, written beside every result that uses the
//! simulator (`task_relations.json` and a `table.md` section): each task's kind, family, role
//! and target rate, and the configured cosines between the task directions.

use std::fmt::Write as _;

use adatt_data::sim::{SimStream, Simulator, TaskFamily, TaskRole};
use adatt_data::TaskKind;
use adatt_spec::{DataConfig, ExperimentConfig, SpecError};
use serde::Serialize;

use crate::report::Report;
use crate::AnalysisError;

/// One simulated task.
#[derive(Debug, Clone, Serialize)]
pub struct TruthTask {
    /// Name.
    pub name: String,
    /// Binary or regression.
    pub kind: TaskKind,
    /// Consumption, engagement or negative.
    pub family: TaskFamily,
    /// Reported or auxiliary.
    pub role: TaskRole,
    /// Target positive rate (binary) or label mean (regression).
    pub target: f64,
}

/// The task relations a simulated grid was trained on.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    /// The preset.
    pub preset: String,
    /// The world seed.
    pub world_seed: u64,
    /// The tasks, in order.
    pub tasks: Vec<TruthTask>,
    /// Cosines between the task directions (= correlations of the latent scores), T×T.
    pub relations: Vec<Vec<f64>>,
    /// The world's users and items.
    pub users: usize,
    /// See `users`.
    pub items: usize,
    /// The grid's test rows.
    pub test_rows: usize,
    /// The Bayes limit on the grid's test rows, per task in order.
    pub oracle: Vec<OracleTask>,
}

/// The best possible prediction's test metric of one task (`adatt_spec::oracle::oracle_metrics`
/// on the same test rows the models are evaluated on).
#[derive(Debug, Clone, Serialize)]
pub struct OracleTask {
    /// Name.
    pub name: String,
    /// Test NE (binary) or MSE (regression): the metric the tables show.
    pub value: f64,
    /// Test AUC (binary; NaN, written `null`, for regression).
    pub auc: f64,
}

/// The ground truth of `cfg`'s data, if it is simulated.
pub fn of(cfg: &ExperimentConfig) -> Result<Option<Truth>, AnalysisError> {
    let DataConfig::Simulator(data) = &cfg.data else {
        return Ok(None);
    };
    let (preset, world_seed, test_rows) = (&data.preset, &data.world_seed, data.test_rows);
    let sim = data.world().map_err(AnalysisError::from)?;
    let world = Simulator::new(&sim, *world_seed).map_err(SpecError::from)?;
    let oracle = adatt_spec::oracle::oracle_metrics(&world, SimStream::Test, test_rows)
        .into_iter()
        .zip(&sim.tasks)
        .map(|(m, t)| OracleTask {
            name: t.name.clone(),
            value: match t.kind {
                TaskKind::Binary => m.ne,
                TaskKind::Regression => m.loss,
            },
            auc: m.auc,
        })
        .collect();
    Ok(Some(Truth {
        preset: preset.name().to_owned(),
        world_seed: *world_seed,
        tasks: sim
            .tasks
            .iter()
            .map(|t| TruthTask {
                name: t.name.clone(),
                kind: t.kind,
                family: t.family,
                role: t.role,
                target: t.target(),
            })
            .collect(),
        relations: sim.relations,
        users: sim.users,
        items: sim.items,
        test_rows,
        oracle,
    }))
}

/// The `table.md` section on the Bayes limit: per reported task the oracle's test NE (MSE for
/// a regression task) and each entry's mean gap to it in % (`100 · (model − oracle) / oracle`).
pub fn oracle_markdown(t: &Truth, report: &Report) -> String {
    let reported: Vec<&OracleTask> = t
        .oracle
        .iter()
        .filter(|o| report.tasks.contains(&o.name))
        .collect();
    let mut s = format!(
        "\n## Bayes limit (the best possible prediction from the ids and dense features)\n\n\
         On the same {} test rows ({} users, {} items): the oracle's test NE (MSE for a \
         regression task), and each entry's mean test NE (MSE) with its gap to the oracle in \
         % (lower is closer).\n\n| entry |",
        t.test_rows, t.users, t.items
    );
    for o in &reported {
        write!(s, " {} | gap % |", o.name).expect("write");
    }
    writeln!(s, "\n|---|{}", "---|---|".repeat(reported.len())).expect("write");
    write!(s, "| oracle |").expect("write");
    for o in &reported {
        write!(s, " {:.4} | 0 |", o.value).expect("write");
    }
    s.push('\n');
    for row in crate::report::rows(report) {
        write!(s, "| {} |", row[0].entry).expect("write");
        for o in &reported {
            let cell = row.iter().find(|c| c.task == o.name);
            match cell.map(|c| c.headline_value()) {
                Some(v) if v.n > 0 => write!(
                    s,
                    " {:.4} | {:+.2} |",
                    v.mean,
                    100.0 * (v.mean - o.value) / o.value
                ),
                _ => write!(s, " – | – |"),
            }
            .expect("write");
        }
        s.push('\n');
    }
    s
}

/// The `table.md` section.
pub fn markdown(t: &Truth) -> String {
    let mut s = format!(
        "\n## Ground truth: task relations (simulator preset `{}`, world seed {})\n\nCosines \
         between the task directions, which are the correlations of the tasks' latent scores \
         (docs/simulator.md); the labels' own correlations are smaller.\n\n| task | kind | \
         family | role | target |",
        t.preset, t.world_seed
    );
    for task in &t.tasks {
        write!(s, " {} |", task.name).expect("write");
    }
    writeln!(s, "\n|---|---|---|---|---|{}", "---|".repeat(t.tasks.len())).expect("write");
    for (i, task) in t.tasks.iter().enumerate() {
        write!(
            s,
            "| {} | {:?} | {:?} | {:?} | {} |",
            task.name, task.kind, task.family, task.role, task.target
        )
        .expect("write");
        for c in &t.relations[i] {
            write!(s, " {c:+.2} |").expect("write");
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The truth beside a `group1` grid is the preset file's (configs/sim/group1.toml: click
    /// 0.46, like 0.019, cosine 0.2); a Census grid has none.
    #[test]
    fn a_simulated_grid_carries_its_presets_relations() {
        let cfg = ExperimentConfig::from_toml_str(
            r#"
name = "t"
[data]
source = "simulator"
preset = "group1"
world_seed = 3
train_rows = 10
valid_rows = 10
test_rows = 10
embedding_dim = 4
[train]
batch_size = 8
epochs = 1
lr = 1e-3
[run]
seeds = [0]
[[entries]]
name = "SB"
model = { kind = "shared_bottom", bottom = [4], tower = [2] }
"#,
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let t = of(&cfg).unwrap().unwrap();
        assert_eq!((t.preset.as_str(), t.world_seed), ("group1", 3));
        assert_eq!(t.relations, vec![vec![1.0, 0.2], vec![0.2, 1.0]]);
        let md = markdown(&t);
        assert!(
            md.contains("| click | Binary | Consumption | Reported | 0.46 | +1.00 | +0.20 |"),
            "{md}"
        );
        assert!(
            md.contains("| like | Binary | Engagement | Reported | 0.019 | +0.20 | +1.00 |"),
            "{md}"
        );
        let census = ExperimentConfig::from_toml_str(
            &(adatt_testkit::config_head("c", false, 0, "", "seeds = [0]")
                + "[[entries]]\nname = \"SB\"\nmodel = { kind = \"shared_bottom\", bottom = [4], tower = [2] }\n"),
            std::path::Path::new("c.toml"),
        )
        .unwrap();
        assert!(of(&census).unwrap().is_none());
    }
}
