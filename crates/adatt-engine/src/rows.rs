//! The rows the loop reads, on the training device: the splits (tables gathered by row index),
//! and the training rows, which are either a table read in a new order by every replica each
//! epoch (Census) or a simulated stream generated batch by batch while earlier batches train
//! (one pass per epoch, in stream order, the same for every replica).
//!
//! Shapes: a table batch is `[R, b, ·]` (every replica its own rows), a stream batch `[1, b, ·]`
//! (broadcast over the replicas); labels `[R or 1, b, T]`.

use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::Scope;

use adatt_data::sim::{SimRows, SimStream, Simulator};
use adatt_data::Split;
use adatt_models::ModelInput;
use tch::{Device, Tensor};

use adatt_spec::config::InputMode;

/// Rows of a split on the device, as the model reads them (see [`ModelInput`]).
pub enum InputRows {
    /// The dense Census matrix, `[R or 1, b, D]`.
    Dense(Tensor),
    /// Census numeric values and active one-hot columns.
    Sparse {
        /// `[R or 1, b, n_num]`.
        numeric: Tensor,
        /// `[R or 1, b, n_cat]`.
        active: Tensor,
    },
    /// Id features and dense features (simulated data).
    Ids {
        /// `[R or 1, b, F]` i64.
        ids: Tensor,
        /// `[R or 1, b, Dd]`.
        dense: Tensor,
    },
}

impl InputRows {
    /// The model input.
    pub fn as_input(&self) -> ModelInput<'_> {
        match self {
            InputRows::Dense(x) => ModelInput::Dense(x),
            InputRows::Sparse { numeric, active } => ModelInput::Sparse { numeric, active },
            InputRows::Ids { ids, dense } => ModelInput::Ids { ids, dense },
        }
    }
}

/// How a split's inputs are stored on the device.
enum SplitInput {
    /// Census: numeric values and active one-hot columns, plus the dense matrix on the dense
    /// path.
    OneHot {
        numeric: Tensor,
        active: Tensor,
        dense: Option<Tensor>,
    },
    /// Ids `[n, F]` and dense features `[n, Dd]`.
    Ids { ids: Tensor, dense: Tensor },
}

/// A dataset split resident on the training device.
pub struct DeviceSplit {
    /// Rows.
    pub n: usize,
    input: SplitInput,
    labels: Tensor,
    /// Labels on the host, row-major [n, T], for the metrics.
    pub labels_host: Vec<f32>,
}

impl DeviceSplit {
    pub(crate) fn new(s: &Split, n_tasks: usize, mode: InputMode, device: Device) -> Self {
        let n = s.n_rows as i64;
        let n_num = s.numeric_cols.len() as i64;
        let numeric = Tensor::from_slice(&s.numeric).view([n, n_num]).to(device);
        let active = Tensor::from_slice(&s.active)
            .view([n, s.n_cat as i64])
            .to(device);
        // `mode` is resolved (`TrainData::new`): only the dense path needs the dense matrix.
        let dense = (mode == InputMode::Dense).then(|| {
            Tensor::from_slice(&s.dense)
                .view([n, s.n_features as i64])
                .to(device)
        });
        let labels = Tensor::from_slice(&s.labels)
            .view([n, n_tasks as i64])
            .to(device);
        DeviceSplit {
            n: s.n_rows,
            input: SplitInput::OneHot {
                numeric,
                active,
                dense,
            },
            labels,
            labels_host: s.labels.clone(),
        }
    }

    /// Simulated rows (`n_ids` id features, `n_dense` dense features, `n_tasks` labels).
    pub(crate) fn simulated(
        rows: &SimRows,
        n_ids: usize,
        n_dense: usize,
        n_tasks: usize,
        device: Device,
    ) -> Self {
        let host = rows.labels.clone();
        Self::simulated_with_host(rows, n_ids, n_dense, n_tasks, device, host)
    }

    /// [`DeviceSplit::simulated`] with `labels_host` given (empty where no metrics read them).
    fn simulated_with_host(
        rows: &SimRows,
        n_ids: usize,
        n_dense: usize,
        n_tasks: usize,
        device: Device,
        labels_host: Vec<f32>,
    ) -> Self {
        let n = rows.n as i64;
        let ids: Vec<i64> = rows.ids.iter().map(|&i| i64::from(i)).collect();
        DeviceSplit {
            n: rows.n,
            input: SplitInput::Ids {
                ids: Tensor::from_slice(&ids).view([n, n_ids as i64]).to(device),
                dense: Tensor::from_slice(&rows.dense)
                    .view([n, n_dense as i64])
                    .to(device),
            },
            labels: Tensor::from_slice(&rows.labels)
                .view([n, n_tasks as i64])
                .to(device),
            labels_host,
        }
    }

    /// A user table's rows (`adatt_data::table`): ids, dense features and labels (rows read
    /// only to be predicted on have none: their label tensor is zeros, which nothing reads).
    pub fn table(rows: &adatt_data::table::TableRows, widths: [usize; 3], device: Device) -> Self {
        let [n_ids, n_dense, n_tasks] = widths.map(|w| w as i64);
        let n = rows.n as i64;
        DeviceSplit {
            n: rows.n,
            input: SplitInput::Ids {
                ids: Tensor::from_slice(&rows.ids).view([n, n_ids]).to(device),
                dense: Tensor::from_slice(&rows.dense)
                    .view([n, n_dense])
                    .to(device),
            },
            labels: if rows.labels.is_empty() {
                Tensor::zeros([n, n_tasks], (tch::Kind::Float, device))
            } else {
                Tensor::from_slice(&rows.labels)
                    .view([n, n_tasks])
                    .to(device)
            },
            labels_host: rows.labels.clone(),
        }
    }

    /// Gather rows `idx` (i64 [R, b]) into model inputs and labels, each [R, b, ·].
    pub fn gather(&self, idx: &Tensor) -> (InputRows, Tensor) {
        let sz = idx.size();
        let flat = idx.reshape([-1]);
        let shape = |t: &Tensor| {
            let c = t.size()[1];
            t.index_select(0, &flat).view([sz[0], sz[1], c])
        };
        (self.rows(shape), shape(&self.labels))
    }

    /// The inputs with `f` applied to every stored `[n, ·]` tensor the model reads.
    fn rows(&self, f: impl Fn(&Tensor) -> Tensor) -> InputRows {
        match &self.input {
            SplitInput::OneHot { dense: Some(d), .. } => InputRows::Dense(f(d)),
            SplitInput::OneHot {
                numeric, active, ..
            } => InputRows::Sparse {
                numeric: f(numeric),
                active: f(active),
            },
            SplitInput::Ids { ids, dense } => InputRows::Ids {
                ids: f(ids),
                dense: f(dense),
            },
        }
    }

    /// The `(start, len)` of consecutive chunks of at most `chunk` rows covering the split.
    pub(crate) fn chunk_ranges(&self, chunk: usize) -> impl Iterator<Item = (i64, i64)> {
        let (n, chunk) = (self.n as i64, chunk as i64);
        (0..n)
            .step_by(chunk.max(1) as usize)
            .map(move |start| (start, chunk.min(n - start)))
    }

    /// Contiguous rows [start, start+len) with a leading broadcast dim of 1.
    pub(crate) fn chunk(&self, start: i64, len: i64) -> InputRows {
        self.rows(|t| t.narrow(0, start, len).unsqueeze(0))
    }
}

/// Batches of a simulated stream generated ahead of the loop: blocks of
/// [`StreamRows::BLOCK_BATCHES`] batches (one parallel [`Simulator::rows`] call each), at most
/// [`StreamRows::AHEAD`] batches waiting.
pub struct StreamRows {
    sim: Simulator,
    /// Rows per pass: examples `0..n` of the training stream.
    pub n: usize,
    n_ids: usize,
    n_dense: usize,
    n_tasks: usize,
}

impl StreamRows {
    /// Batches generated per call of the simulator (its rows are generated in parallel in
    /// chunks of 1,024).
    pub const BLOCK_BATCHES: usize = 16;
    /// Batches generated ahead of the one training.
    pub const AHEAD: usize = 32;

    /// The first `n` examples of `sim`'s training stream.
    pub fn new(sim: &Simulator, n: usize) -> Self {
        let cfg = sim.config();
        StreamRows {
            sim: sim.clone(),
            n,
            n_ids: 2 + cfg.contexts.len(),
            n_dense: cfg.dense,
            n_tasks: cfg.tasks.len(),
        }
    }

    /// Examples `start .. start + len` of the stream as model inputs and labels `[1, len, ·]`.
    pub fn batch(&self, start: usize, len: usize, device: Device) -> (InputRows, Tensor) {
        self.to_device(&self.sim.rows(SimStream::Train, start as u64, len), device)
    }

    fn to_device(&self, rows: &SimRows, device: Device) -> (InputRows, Tensor) {
        // a training batch: its labels are read on the device only
        let s = DeviceSplit::simulated_with_host(
            rows,
            self.n_ids,
            self.n_dense,
            self.n_tasks,
            device,
            Vec::new(),
        );
        (s.chunk(0, s.n as i64), s.labels.unsqueeze(0))
    }

    /// Starts generating the pass from example `from` on (a multiple of `bs`) in batches of
    /// `bs` rows on a thread of `scope`; the receiver yields them in order. Dropping it stops
    /// the generation.
    pub fn generate<'s>(
        &'s self,
        scope: &'s Scope<'s, '_>,
        bs: usize,
        from: usize,
    ) -> Receiver<SimRows> {
        let (tx, rx) = sync_channel(Self::AHEAD);
        let block = bs * Self::BLOCK_BATCHES;
        scope.spawn(move || {
            for start in (from..self.n).step_by(block.max(1)) {
                let len = block.min(self.n - start);
                let rows = self.sim.rows(SimStream::Train, start as u64, len);
                for k in (0..len).step_by(bs.max(1)) {
                    if tx.send(rows.slice(k, bs.min(len - k))).is_err() {
                        return;
                    }
                }
            }
        });
        rx
    }

    /// A generated batch (from [`StreamRows::generate`]) as model inputs and labels.
    pub fn receive(&self, rx: &Receiver<SimRows>, device: Device) -> (InputRows, Tensor) {
        let rows = rx
            .recv()
            .expect("the generating thread yields one batch per step");
        self.to_device(&rows, device)
    }
}

/// The training rows.
pub enum TrainRows {
    /// A table on the device, read in a new random order by every replica each epoch.
    Table(DeviceSplit),
    /// A simulated training stream generated on the fly (boxed: it holds the simulator).
    Stream(Box<StreamRows>),
}

impl TrainRows {
    /// Rows per epoch.
    pub fn n(&self) -> usize {
        match self {
            TrainRows::Table(s) => s.n,
            TrainRows::Stream(s) => s.n,
        }
    }

    /// The table, if the rows are one.
    pub fn table(&self) -> Option<&DeviceSplit> {
        match self {
            TrainRows::Table(s) => Some(s),
            TrainRows::Stream(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batches the generating thread yields, in order, are the stream's rows as one call
    /// of the simulator gives them (the pass ends in a partial block and a partial batch).
    #[test]
    fn generated_batches_are_the_streams_rows_in_order() {
        let mut cfg = adatt_data::sim::presets::preset("group3").unwrap();
        cfg.calibration_rows = 20_000;
        let sim = Simulator::new(&cfg, 3).unwrap();
        let (n, bs) = (2 * 16 * 100 + 250, 100);
        let stream = StreamRows::new(&sim, n);
        let whole = sim.rows(SimStream::Train, 0, n);
        let got: Vec<SimRows> = std::thread::scope(|scope| {
            let rx = stream.generate(scope, bs, 0);
            rx.iter().collect()
        });
        let lens: Vec<usize> = got.iter().map(|b| b.n).collect();
        assert_eq!(lens.len(), 35);
        assert!(lens[..34].iter().all(|&l| l == bs) && lens[34] == 50);
        let mut cat = SimRows {
            n: 0,
            ids: vec![],
            dense: vec![],
            labels: vec![],
        };
        for b in got {
            cat.n += b.n;
            cat.ids.extend(b.ids);
            cat.dense.extend(b.dense);
            cat.labels.extend(b.labels);
        }
        assert_eq!(cat, whole);
        // A batch fetched directly equals the same rows of the stream.
        let (rows, y) = stream.batch(1234, 7, Device::Cpu);
        let InputRows::Ids { ids, .. } = rows else {
            panic!("simulated rows are ids")
        };
        assert_eq!(ids.size(), [1, 7, 5]);
        let want = whole.slice(1234, 7);
        let got_y = Vec::<f32>::try_from(&y.reshape([-1])).unwrap();
        assert_eq!(got_y, want.labels);
    }
}
