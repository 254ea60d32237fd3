//! A user's own multi-task table: its schema ([`schema`]: what the experiment config's
//! `[data]` says of the files) and its rows read, checked, split and encoded for training
//! ([`load`]: ids per categorical column, scaled numeric columns with missing-value
//! indicators, labels).

mod join;
pub mod load;
mod read;
pub mod schema;

pub use load::{check_columns, load, TableRows, TableSet};
pub use schema::*;
