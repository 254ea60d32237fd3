//! The steps of a run: the batch size, the steps of an epoch, and the global steps after which
//! a checkpoint evaluation runs. One formula, used by the loop, by the progress bars and by
//! config validation (which refuses checkpoints that would be evaluated twice or not at all).

use crate::error::{Result, SpecError};
use crate::train::TrainConfig;

/// The schedule of a run over `n` training rows per epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Rows per batch (the config's batch size, at most `n`).
    pub batch_size: usize,
    /// Steps per epoch (the last batch of an epoch may be smaller).
    pub steps_per_epoch: usize,
    /// Steps of the whole run.
    pub total_steps: usize,
    /// Checkpoints: the global step (1-based: after that many steps) and the fraction of the
    /// run it stands for, in step order.
    pub checkpoints: Vec<(usize, f64)>,
}

impl Schedule {
    /// The schedule of `cfg` over `n` rows per epoch. Refused, naming `train.checkpoints`:
    /// a fraction listed twice, two fractions that land on the same step, and a fraction that
    /// lands on the last step (the end of training is evaluated anyway); the message gives the
    /// step each lands on.
    pub fn new(n: usize, cfg: &TrainConfig) -> Result<Self> {
        let batch_size = cfg.batch_size.min(n).max(1);
        let steps_per_epoch = n.div_ceil(batch_size).max(1);
        let total_steps = steps_per_epoch * cfg.epochs.max(1);
        let step_of = |f: f64| ((f * total_steps as f64).round() as usize).clamp(1, total_steps);
        let mut checkpoints: Vec<(usize, f64)> =
            cfg.checkpoints.iter().map(|&f| (step_of(f), f)).collect();
        checkpoints.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let bad = |message: String| {
            Err(SpecError::ConfigValue {
                key: "train.checkpoints".into(),
                message,
            })
        };
        let of_run = format!(
            "of {total_steps} ({} epoch(s) of {steps_per_epoch} batches of {batch_size} over \
             {n} rows)",
            cfg.epochs
        );
        for w in checkpoints.windows(2) {
            let ((sa, fa), (sb, fb)) = (w[0], w[1]);
            if fa == fb {
                return bad(format!("{fa} is listed twice"));
            }
            if sa == sb {
                return bad(format!(
                    "{fa} and {fb} both land on step {sa} {of_run}; evaluate once there"
                ));
            }
        }
        if let Some((s, f)) = checkpoints.iter().find(|(s, _)| *s == total_steps) {
            return bad(format!(
                "{f} lands on step {s} {of_run}, the end of training, which is evaluated anyway"
            ));
        }
        Ok(Schedule {
            batch_size,
            steps_per_epoch,
            total_steps,
            checkpoints,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn train(batch_size: usize, epochs: usize, checkpoints: &[f64]) -> TrainConfig {
        let text = format!(
            "batch_size = {batch_size}\nepochs = {epochs}\nlr = 1e-3\ncheckpoints = {checkpoints:?}"
        );
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn steps_follow_the_batches_of_every_epoch() {
        // 1000 rows in batches of 300: 4 steps per epoch (the last of 100 rows), 8 in 2 epochs.
        let s = Schedule::new(1000, &train(300, 2, &[0.5, 0.125])).unwrap();
        assert_eq!(
            (s.batch_size, s.steps_per_epoch, s.total_steps),
            (300, 4, 8)
        );
        assert_eq!(s.checkpoints, vec![(1, 0.125), (4, 0.5)]);
        // A batch larger than the data is the whole data.
        let s = Schedule::new(100, &train(512, 3, &[])).unwrap();
        assert_eq!(
            (s.batch_size, s.steps_per_epoch, s.total_steps),
            (100, 1, 3)
        );
    }

    #[test]
    fn checkpoints_evaluated_twice_or_never_are_refused_with_their_steps() {
        let refused = |n, bs, epochs, c: &[f64]| {
            Schedule::new(n, &train(bs, epochs, c))
                .unwrap_err()
                .to_string()
        };
        let e = refused(10_000, 100, 1, &[0.25, 0.25]);
        assert!(
            e.contains("train.checkpoints") && e.contains("0.25 is listed twice"),
            "{e}"
        );
        // 1367 steps: 0.001 and 0.002 round to steps 1 and 3, but 0.0005 and 0.001 both to 1.
        let e = refused(699_904, 512, 1, &[0.0005, 0.001]);
        assert!(
            e.contains("0.0005 and 0.001 both land on step 1 of 1367"),
            "{e}"
        );
        assert!(Schedule::new(699_904, &train(512, 1, &[0.001, 0.002])).is_ok());
        // Fewer rows than a batch: one step, so every checkpoint is the end.
        let e = refused(300, 512, 1, &[0.5]);
        assert!(e.contains("0.5 lands on step 1 of 1"), "{e}");
        assert!(e.contains("the end of training"), "{e}");
    }
}
