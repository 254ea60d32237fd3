//! A user's own multi-task table: its schema ([`schema`]: what the experiment config's
//! `[data]` says of the files) and its rows read, checked, split and encoded for training
//! ([`load`]: ids per categorical column, scaled numeric columns with missing-value
//! indicators, labels; [`encoding`]: the feature encodings, fitted on the training rows and
//! saved beside a trained model for the rows it predicts on).

pub mod encoding;
mod join;
pub mod load;
mod read;
pub mod schema;
pub mod write;

pub use encoding::{CategoricalEncoding, Encoding, NumericEncoding};
pub use load::{check_columns, load, load_rows, EncodedRows, RowRequest, TableRows, TableSet};
pub use schema::*;
pub use write::{write_columns, OutColumn};
