//! What a sample of simulated rows looks like: per task the positive rate (binary) or mean and
//! standard deviation (regression) beside the target, the measured label correlations beside
//! the configured relations, and how concentrated the ids are.

use std::fmt::Write as _;

use serde::Serialize;

use super::{SimConfig, SimRows, TaskFamily, TaskRole};
use crate::TaskKind;

/// One task's labels in a sample.
#[derive(Debug, Clone, Serialize)]
pub struct TaskStat {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: TaskKind,
    /// Family.
    pub family: TaskFamily,
    /// Role.
    pub role: TaskRole,
    /// Mean label (the positive rate for a binary task).
    pub mean: f64,
    /// Standard deviation of the labels.
    pub std: f64,
    /// The configured positive rate (binary) or mean (regression).
    pub target: f64,
}

/// Statistics of a sample.
#[derive(Debug, Clone, Serialize)]
pub struct SimStats {
    /// Rows.
    pub rows: usize,
    /// Per task.
    pub tasks: Vec<TaskStat>,
    /// Pearson correlation of the labels, T×T.
    pub label_correlation: Vec<Vec<f64>>,
    /// The configured relations (cosines of the task directions), T×T.
    pub relations: Vec<Vec<f64>>,
    /// Distinct users and items in the sample.
    pub distinct_users: usize,
    /// Distinct items.
    pub distinct_items: usize,
    /// Share of the rows whose user is among the 1 % most popular users (at least one).
    pub top_1pct_user_share: f64,
    /// The same for items.
    pub top_1pct_item_share: f64,
}

fn share_of_top(ids: impl Iterator<Item = u32>, cardinality: usize, n: usize) -> (usize, f64) {
    let top = (cardinality / 100).max(1) as u32;
    let mut seen = vec![false; cardinality];
    let mut in_top = 0usize;
    for id in ids {
        seen[id as usize] = true;
        if id < top {
            in_top += 1;
        }
    }
    (
        seen.iter().filter(|&&s| s).count(),
        in_top as f64 / n.max(1) as f64,
    )
}

impl SimStats {
    /// The statistics of `rows` generated from `cfg`.
    pub fn of(cfg: &SimConfig, rows: &SimRows) -> Self {
        let t = cfg.tasks.len();
        let n = rows.n;
        let col = |k: usize| rows.labels.iter().skip(k).step_by(t).map(|&y| f64::from(y));
        let means: Vec<f64> = (0..t).map(|k| col(k).sum::<f64>() / n as f64).collect();
        let cov = |a: usize, b: usize| {
            col(a)
                .zip(col(b))
                .map(|(x, y)| (x - means[a]) * (y - means[b]))
                .sum::<f64>()
                / n as f64
        };
        let var: Vec<f64> = (0..t).map(|k| cov(k, k)).collect();
        let label_correlation = (0..t)
            .map(|a| {
                (0..t)
                    .map(|b| cov(a, b) / (var[a] * var[b]).sqrt())
                    .collect()
            })
            .collect();
        let tasks = cfg
            .tasks
            .iter()
            .enumerate()
            .map(|(k, task)| TaskStat {
                name: task.name.clone(),
                kind: task.kind,
                family: task.family,
                role: task.role,
                mean: means[k],
                std: var[k].sqrt(),
                target: task.target(),
            })
            .collect();
        let width = 2 + cfg.contexts.len();
        let (distinct_users, top_1pct_user_share) =
            share_of_top(rows.ids.iter().step_by(width).copied(), cfg.users, n);
        let (distinct_items, top_1pct_item_share) = share_of_top(
            rows.ids.iter().skip(1).step_by(width).copied(),
            cfg.items,
            n,
        );
        SimStats {
            rows: n,
            tasks,
            label_correlation,
            relations: cfg.relations.clone(),
            distinct_users,
            distinct_items,
            top_1pct_user_share,
            top_1pct_item_share,
        }
    }

    /// A Markdown summary.
    pub fn markdown(&self) -> String {
        let mut s = format!("{} rows.\n\n| task | kind | family | role | mean (rate) | std | target |\n|---|---|---|---|---|---|---|\n", self.rows);
        for t in &self.tasks {
            writeln!(
                s,
                "| {} | {:?} | {:?} | {:?} | {:.4} | {:.4} | {:.4} |",
                t.name, t.kind, t.family, t.role, t.mean, t.std, t.target
            )
            .expect("write");
        }
        s.push_str("\nLabel correlation (measured) / task relation (configured cosine):\n\n|  |");
        for t in &self.tasks {
            write!(s, " {} |", t.name).expect("write");
        }
        write!(s, "\n|---|{}\n", "---|".repeat(self.tasks.len())).expect("write");
        for (i, t) in self.tasks.iter().enumerate() {
            write!(s, "| {} |", t.name).expect("write");
            for j in 0..self.tasks.len() {
                write!(
                    s,
                    " {:+.3} / {:+.2} |",
                    self.label_correlation[i][j], self.relations[i][j]
                )
                .expect("write");
            }
            s.push('\n');
        }
        writeln!(
            s,
            "\nIds: {} distinct users, {} distinct items; the 1 % most popular users account for \
             {:.1} % of the rows, the 1 % most popular items for {:.1} %.",
            self.distinct_users,
            self.distinct_items,
            100.0 * self.top_1pct_user_share,
            100.0 * self.top_1pct_item_share
        )
        .expect("write");
        s
    }
}
