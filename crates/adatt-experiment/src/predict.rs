//! A run a grid trained on a user's table, used again: its best-epoch weights
//! (`weights/<key>.safetensors`) and the encodings fitted on its training rows (`inputs.json`,
//! [`adatt_spec::saved`]) loaded from the results directory, or the same from a directory
//! `adatt export` wrote (`model.safetensors`, `model.json`), to predict on new rows of the same
//! schema (`adatt predict`) or to be exported for PyTorch (`adatt export`).

use std::path::{Path, PathBuf};

use adatt_data::table::{EncodedRows, Encoding, TableData, TableRows};
use adatt_engine::trainer::{predict_split, DeviceSplit};
use adatt_models::{tensor_file, EmbeddingSpec, Model, ModelConfig};
use adatt_spec::config::{DataConfig, ExperimentConfig};
use adatt_spec::metrics::{evaluate_many, MetricKind, TaskMetrics};
use adatt_spec::saved::{inputs_path, weights_path, SavedInputs};
use serde::{Deserialize, Serialize};
use tch::Device;

use crate::{ExperimentError, Result};

/// Rows per forward pass when predicting.
const CHUNK: usize = 4096;

/// Version of an export's `model.json`.
pub const EXPORT_VERSION: u32 = 1;

fn refused(message: String) -> ExperimentError {
    ExperimentError::Saved(message)
}

/// One trained run of a results directory, its model on the CPU with its best-epoch weights.
pub struct TrainedRun {
    /// The results directory, or the export's.
    pub dir: PathBuf,
    /// The table schema the model trained on (the config's `[data]`).
    pub table: TableData,
    /// The architecture.
    pub model_config: ModelConfig,
    /// The entry's name.
    pub entry: String,
    /// The run's seed.
    pub seed: u64,
    /// The run's record key.
    pub key: String,
    /// What the model needs of its inputs.
    pub inputs: SavedInputs,
    model: Model,
}

impl TrainedRun {
    /// The run of `entry` (may be omitted when the grid has one entry) and `seed` (default: the
    /// grid's first) in results directory `dir`, or the run an export directory holds (whose
    /// entry and seed, if given, must be its own); an error says what is missing.
    pub fn open(dir: &Path, entry: Option<&str>, seed: Option<u64>) -> Result<TrainedRun> {
        if dir.join("model.json").is_file() {
            return Self::open_export(dir, entry, seed);
        }
        let config = ExperimentConfig::load_saved(&dir.join("config.toml"))?;
        let DataConfig::Table(table) = &config.data else {
            return Err(refused(format!(
                "{}: trained on {}, not on a table: predict and export read models trained \
                 on `[data] source = \"table\"`",
                dir.display(),
                config.data.label()
            )));
        };
        let e = pick_entry(&config, entry, dir)?;
        let seeds = config.run.seeds.to_vec();
        let seed = seed.unwrap_or(seeds[0]);
        let planned = adatt_spec::plan(&config)
            .into_iter()
            .find(|p| p.entry == e && p.seed == seed)
            .ok_or_else(|| {
                refused(format!(
                    "{}: seed {seed} is not one of the grid's seeds {seeds:?}",
                    dir.display()
                ))
            })?;
        let entry = config.entries[e].name.clone();
        let path = weights_path(dir, &planned.key);
        let bytes = std::fs::read(&path).map_err(|_| {
            refused(format!(
                "{}: no weights for {entry}, seed {seed} (run {}): the run did not finish, or \
                 the grid saved no weights (`[run] weights = \"best\"`)",
                path.display(),
                planned.key
            ))
        })?;
        let inputs = SavedInputs::read(&inputs_path(dir))?;
        let model_config = config.entries[e].model.clone();
        let model = build_model(&model_config, &inputs, seed, &bytes, &path)?;
        Ok(TrainedRun {
            dir: dir.to_owned(),
            table: table.clone(),
            model_config,
            entry,
            seed,
            key: planned.key,
            inputs,
            model,
        })
    }

    /// The run an export directory holds.
    fn open_export(dir: &Path, entry: Option<&str>, seed: Option<u64>) -> Result<TrainedRun> {
        let path = dir.join("model.json");
        let text = std::fs::read_to_string(&path).map_err(|source| adatt_spec::SpecError::Io {
            path: path.clone(),
            source,
        })?;
        let e: Exported = serde_json::from_str(&text)
            .map_err(|err| refused(format!("{}: not an adatt export ({err})", path.display())))?;
        if e.format != EXPORT_FORMAT || e.version != EXPORT_VERSION {
            return Err(refused(format!(
                "{}: format {} version {}, this build reads {EXPORT_FORMAT} version \
                 {EXPORT_VERSION}",
                path.display(),
                e.format,
                e.version
            )));
        }
        if let Some(asked) = entry.filter(|a| *a != e.entry) {
            return Err(refused(format!(
                "{}: holds {}, not `{asked}`",
                dir.display(),
                e.entry
            )));
        }
        if let Some(asked) = seed.filter(|a| *a != e.seed) {
            return Err(refused(format!(
                "{}: holds seed {}, not seed {asked}",
                dir.display(),
                e.seed
            )));
        }
        let inputs = SavedInputs {
            version: adatt_spec::saved::INPUTS_VERSION,
            tasks: e.tasks.iter().map(|t| t.name.clone()).collect(),
            kinds: e.tasks.iter().map(|t| t.kind).collect(),
            train_base_rates: e.train_base_rates,
            embedding_dim: e.embeddings.first().map_or(e.data.embedding_dim, |x| x.dim),
            encoding: e.encoding,
        };
        let weights = dir.join("model.safetensors");
        let bytes = std::fs::read(&weights).map_err(|source| adatt_spec::SpecError::Io {
            path: weights.clone(),
            source,
        })?;
        let model = build_model(&e.model, &inputs, e.seed, &bytes, &weights)?;
        Ok(TrainedRun {
            dir: dir.to_owned(),
            table: e.data,
            model_config: e.model,
            entry: e.entry,
            seed: e.seed,
            key: e.record_key,
            inputs,
            model,
        })
    }

    /// The table schema the model trained on.
    pub fn table(&self) -> &TableData {
        &self.table
    }

    /// The feature encodings fitted on the training rows.
    pub fn encoding(&self) -> &Encoding {
        &self.inputs.encoding
    }

    /// Per row of `rows`, every task's output, row-major `[n, T]`: a probability for a binary
    /// task, the value for a regression task (in the label's space: ln(1 + y) under `log1p`).
    pub fn predict(&self, rows: &TableRows) -> Result<Vec<f32>> {
        if rows.n == 0 {
            return Err(refused("no rows to predict on".into()));
        }
        let t = self.inputs.tasks.len();
        let widths = [
            self.inputs.encoding.categorical.len(),
            self.inputs.encoding.dense_names().len(),
            t,
        ];
        let split = DeviceSplit::table(rows, widths, Device::Cpu);
        let mut out = predict_split(&self.model, &self.inputs.kinds, &split, CHUNK);
        Ok(out.swap_remove(0))
    }

    /// The metrics of `outputs` (from [`TrainedRun::predict`]) against the rows' labels, as the
    /// trainer measures them (NE against the training base rates).
    pub fn metrics(&self, outputs: &[f32], labels: &[f32]) -> Vec<TaskMetrics> {
        let i = &self.inputs;
        let mut m = evaluate_many(
            &[outputs.to_vec()],
            labels,
            i.tasks.len(),
            &i.kinds,
            &i.train_base_rates,
        );
        m.swap_remove(0)
    }

    /// The predictions of `rows` as named columns: the kept columns, then one per task.
    pub fn columns(
        &self,
        rows: EncodedRows,
        outputs: &[f32],
    ) -> Vec<(String, adatt_data::table::OutColumn)> {
        use adatt_data::table::OutColumn;
        let t = self.inputs.tasks.len();
        let kept = rows
            .keep
            .into_iter()
            .map(|(name, v)| (name, OutColumn::Text(v)));
        let tasks = self.inputs.tasks.iter().enumerate().map(|(k, name)| {
            let v = outputs.iter().skip(k).step_by(t).copied().collect();
            (name.clone(), OutColumn::Float(v))
        });
        kept.chain(tasks).collect()
    }

    /// Writes the model for PyTorch into `out`: `model.safetensors` (official names; embedding
    /// tables `embeddings.{f}.weight`, f in the order of `model.json`'s `embeddings`) and
    /// `model.json` ([`Exported`]): the architecture, the inputs and their encodings.
    pub fn export(&self, out: &Path) -> Result<()> {
        std::fs::create_dir_all(out).map_err(|source| adatt_spec::SpecError::Io {
            path: out.to_owned(),
            source,
        })?;
        let i = &self.inputs;
        let manifest = Exported {
            format: EXPORT_FORMAT.to_owned(),
            version: EXPORT_VERSION,
            entry: self.entry.clone(),
            seed: self.seed,
            record_key: self.key.clone(),
            model: self.model_config.clone(),
            tasks: i
                .tasks
                .iter()
                .zip(&i.kinds)
                .map(|(name, kind)| ExportedTask {
                    name: name.clone(),
                    kind: *kind,
                })
                .collect(),
            embeddings: i
                .encoding
                .categorical
                .iter()
                .enumerate()
                .map(|(f, c)| ExportedEmbedding {
                    name: format!("embeddings.{f}.weight"),
                    column: c.column().to_owned(),
                    cardinality: c.cardinality(),
                    dim: i.embedding_dim,
                })
                .collect(),
            dense: i.encoding.dense_names(),
            train_base_rates: i.train_base_rates.clone(),
            encoding: i.encoding.clone(),
            data: self.table.clone(),
        };
        let bytes = tensor_file::to_bytes(&self.model.export_replica(0)).map_err(|source| {
            adatt_spec::SpecError::Model {
                entry: self.entry.clone(),
                source,
            }
        })?;
        adatt_spec::atomic::write(&out.join("model.safetensors"), &bytes)?;
        let text = serde_json::to_string_pretty(&manifest).expect("export manifest serializes");
        adatt_spec::atomic::write(&out.join("model.json"), text.as_bytes())?;
        Ok(())
    }
}

/// The entry `entry` names, or the grid's only one.
fn pick_entry(config: &ExperimentConfig, entry: Option<&str>, dir: &Path) -> Result<usize> {
    let names: Vec<&str> = config.entries.iter().map(|e| e.name.as_str()).collect();
    match entry {
        Some(name) => names.iter().position(|n| *n == name).ok_or_else(|| {
            refused(format!(
                "{}: no entry `{name}` (its entries: {names:?})",
                dir.display()
            ))
        }),
        None if names.len() == 1 => Ok(0),
        None => Err(refused(format!(
            "{}: the grid has {} entries {names:?}: name one with --entry",
            dir.display(),
            names.len()
        ))),
    }
}

/// The model of `cfg` with the inputs `inputs` describes, one replica holding the weights of
/// the safetensors `bytes` (read from `path`).
fn build_model(
    cfg: &ModelConfig,
    inputs: &SavedInputs,
    seed: u64,
    bytes: &[u8],
    path: &Path,
) -> Result<Model> {
    let e = &inputs.encoding;
    let tables: Vec<EmbeddingSpec> = e
        .cardinalities()
        .into_iter()
        .map(|cardinality| EmbeddingSpec {
            cardinality,
            dim: inputs.embedding_dim,
        })
        .collect();
    let model_err = |source| adatt_spec::SpecError::Model {
        entry: cfg.label(),
        source,
    };
    let mut model = Model::with_embeddings(
        cfg,
        &tables,
        e.dense_names().len(),
        inputs.tasks.len(),
        &[seed],
        Device::Cpu,
    )
    .map_err(model_err)?;
    let named = tensor_file::from_bytes(bytes).map_err(model_err)?;
    model.import_replica(0, &named).map_err(|e| {
        refused(format!(
            "{}: does not hold this model's weights ({e})",
            path.display()
        ))
    })?;
    Ok(model)
}

/// What an export's `model.json` says it is.
pub const EXPORT_FORMAT: &str = "adatt-export";

/// An export's `model.json`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exported {
    /// [`EXPORT_FORMAT`].
    pub format: String,
    /// [`EXPORT_VERSION`].
    pub version: u32,
    /// The grid's entry.
    pub entry: String,
    /// The run's seed.
    pub seed: u64,
    /// The run's record key.
    pub record_key: String,
    /// The architecture (the experiment config's `model` of the entry).
    pub model: ModelConfig,
    /// The outputs, in order: sigmoid of a binary task's logit is its probability.
    pub tasks: Vec<ExportedTask>,
    /// The embedding tables, in the order their lookups are concatenated.
    pub embeddings: Vec<ExportedEmbedding>,
    /// The dense columns, concatenated after the lookups.
    pub dense: Vec<String>,
    /// Per task, the mean training label (NE's reference).
    pub train_base_rates: Vec<f64>,
    /// How a raw row becomes the ids and dense values.
    pub encoding: Encoding,
    /// The table schema the model trained on (the config's `[data]`): its columns, joins and
    /// split, which `adatt predict --run <export>` reads rows with.
    pub data: TableData,
}

/// A task of an export.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedTask {
    /// Name.
    pub name: String,
    /// Binary (a logit) or regression (a value).
    pub kind: MetricKind,
}

/// An embedding table of an export.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedEmbedding {
    /// Its tensor's name in `model.safetensors`.
    pub name: String,
    /// The categorical column it embeds.
    pub column: String,
    /// Rows (index 0: out of vocabulary or missing).
    pub cardinality: usize,
    /// Width.
    pub dim: usize,
}
