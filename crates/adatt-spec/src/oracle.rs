//! The Bayes limit of a simulated task group, measured as the models are.

use adatt_data::sim::{SimStream, Simulator};
use adatt_data::TaskKind;

use crate::metrics::{self, TaskMetrics};

/// The metrics of the best possible prediction ([`Simulator::oracle`]) on the first `rows`
/// examples of `stream`: per task, in task order, NE, AUC and log loss for a binary task (NE
/// against the task's target rate, as the models' NE), MSE for a regression task.
pub fn oracle_metrics(sim: &Simulator, stream: SimStream, rows: usize) -> Vec<TaskMetrics> {
    let cfg = sim.config();
    let t = cfg.tasks.len();
    let data = sim.rows(stream, 0, rows);
    let best = sim.oracle(stream, 0, rows);
    cfg.tasks
        .iter()
        .enumerate()
        .map(|(k, task)| {
            let labels: Vec<f32> = (0..rows).map(|i| data.labels[i * t + k]).collect();
            let pred: Vec<f32> = (0..rows).map(|i| best[i * t + k] as f32).collect();
            match task.kind {
                TaskKind::Binary => TaskMetrics {
                    auc: metrics::roc_auc(&labels, &pred),
                    ne: metrics::normalized_entropy(&labels, &pred, task.target()),
                    loss: metrics::log_loss(&labels, &pred),
                },
                TaskKind::Regression => TaskMetrics {
                    auc: f64::NAN,
                    ne: f64::NAN,
                    loss: metrics::mse(&labels, &pred),
                },
            }
        })
        .collect()
}
