//! The columns of one main file with its side tables joined: each main row takes the columns
//! of the side row whose key (compared as text) equals its own. A column the schema names is
//! looked up in the main file, then in each side table; one that two of them hold (other than
//! a join's key) is refused as ambiguous. A side table holds each key once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polars::prelude::{DataFrame, Series};

use super::read::{column, numbers, read_frame, texts, Interned};
use super::schema::{TableJoin, Unmatched};
use crate::error::DataError;

type Result<T> = std::result::Result<T, DataError>;

/// What locating a column needs of a side table: which join it is, its key, its files (for
/// errors) and its columns.
pub(super) struct SideColumns {
    /// Which `data.joins[k]` it is.
    pub(super) k: usize,
    /// Its key column.
    pub(super) on: String,
    /// Its files, for errors.
    pub(super) files: String,
    /// Its columns (its first file's).
    pub(super) columns: Vec<String>,
}

impl SideColumns {
    /// `data.joins[k]` (`join`), read from `files`, with `columns`.
    pub(super) fn new(k: usize, join: &TableJoin, files: &[PathBuf], columns: Vec<String>) -> Self {
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        SideColumns {
            k,
            on: join.on.clone(),
            files: names.join(", "),
            columns,
        }
    }
}

/// Where a column of the schema is.
#[derive(Clone, Copy)]
pub(super) enum Home {
    Main,
    Side(usize),
}

/// Where `name` is: the main file (`main_file`, which has it if `in_main`) or the one side
/// table that has it (a join's key column counts as the main file's); in two of them it is an
/// error naming both, in none `None`.
pub(super) fn locate(
    name: &str,
    in_main: bool,
    main_file: &Path,
    sides: &[&SideColumns],
) -> Result<Option<Home>> {
    let mut home = in_main.then_some(Home::Main);
    for (i, side) in sides.iter().enumerate() {
        if side.on == name || !side.columns.iter().any(|c| c == name) {
            continue;
        }
        if let Some(first) = home {
            let first = match first {
                Home::Main => main_file.display().to_string(),
                Home::Side(j) => sides[j].files.clone(),
            };
            return Err(DataError::Parse {
                file: side.files.clone(),
                message: format!(
                    "column `{name}` is also in {first}: rename it in one of them \
                     (data.joins[{}])",
                    side.k
                ),
            });
        }
        home = Some(Home::Side(i));
    }
    Ok(home)
}

/// A side table read whole (its files in order), indexed by its key.
pub(super) struct Side<'a> {
    join: &'a TableJoin,
    cols: SideColumns,
    parts: Vec<(PathBuf, DataFrame)>,
    /// Key → (part, row).
    index: HashMap<String, (usize, usize)>,
}

impl<'a> Side<'a> {
    /// Reads `files` (already resolved; the columns in `wanted`) and indexes them by the join's
    /// key; a key without a value or held twice is an error naming the file and row.
    pub(super) fn read(
        join: &'a TableJoin,
        k: usize,
        files: &[PathBuf],
        wanted: &[&str],
    ) -> Result<Side<'a>> {
        let mut parts = Vec::new();
        let mut index = HashMap::new();
        for (p, f) in files.iter().enumerate() {
            let df = read_frame(f, wanted)?;
            for (row, key) in texts(&column(&df, &join.on, f)?).into_iter().enumerate() {
                let at = |message: String| DataError::Parse {
                    file: f.display().to_string(),
                    message: format!("row {}: {message} (data.joins[{k}])", row + 1),
                };
                let key = key.ok_or_else(|| at(format!("key column `{}` is empty", join.on)))?;
                if let Some((q, r)) = index.insert(key.clone(), (p, row)) {
                    return Err(at(format!(
                        "key `{}` = {key:?} is also on row {} of {}; a side table holds each \
                         key once",
                        join.on,
                        r + 1,
                        files[q].display()
                    )));
                }
            }
            parts.push((f.clone(), df));
        }
        let columns = parts[0].1.get_column_names();
        let cols = SideColumns::new(
            k,
            join,
            files,
            columns.into_iter().map(|n| n.to_string()).collect(),
        );
        Ok(Side {
            join,
            cols,
            parts,
            index,
        })
    }

    /// A column over the side rows, each part converted by `convert`.
    fn values<T>(
        &self,
        name: &str,
        convert: impl Fn(&Series, &Path) -> Result<Vec<T>>,
    ) -> Result<Vec<Vec<T>>> {
        self.parts
            .iter()
            .map(|(f, df)| convert(&column(df, name, f)?, f))
            .collect()
    }
}

/// One main file with, per side table, the side row of each of its rows.
pub(super) struct Joined<'a> {
    pub(super) df: &'a DataFrame,
    pub(super) file: &'a Path,
    sides: &'a [Side<'a>],
    /// Per side, per main row: (part, row), or none (unmatched, `unmatched = "missing"`).
    rows: Vec<Vec<Option<(usize, usize)>>>,
}

impl<'a> Joined<'a> {
    /// Matches every row of `df` (from `file`) with each side table; a row whose key a side
    /// table lacks is an error naming the file, row, key column and value, unless that join
    /// says `unmatched = "missing"`.
    pub(super) fn new(df: &'a DataFrame, file: &'a Path, sides: &'a [Side<'a>]) -> Result<Self> {
        let mut rows = Vec::with_capacity(sides.len());
        for side in sides {
            let keys = texts(&column(df, &side.join.on, file)?);
            let mut matched = Vec::with_capacity(keys.len());
            for (row, key) in keys.iter().enumerate() {
                let hit = key.as_ref().and_then(|k| side.index.get(k).copied());
                if hit.is_none() && side.join.unmatched == Unmatched::Error {
                    return Err(DataError::Unmatched {
                        file: file.display().to_string(),
                        line: row + 1,
                        column: side.join.on.clone(),
                        value: key.clone().unwrap_or_default(),
                        side: side.cols.files.clone(),
                        join: side.cols.k,
                    });
                }
                matched.push(hit);
            }
            rows.push(matched);
        }
        Ok(Joined {
            df,
            file,
            sides,
            rows,
        })
    }

    /// Where `name` is: the main file, or the one side table that holds it.
    fn home(&self, name: &str) -> Result<Home> {
        let sides: Vec<&SideColumns> = self.sides.iter().map(|s| &s.cols).collect();
        match locate(name, self.df.column(name).is_ok(), self.file, &sides)? {
            Some(h) => Ok(h),
            // The main file's error, which lists its columns.
            None => column(self.df, name, self.file).map(|_| Home::Main),
        }
    }

    /// Column `name` per main row, converted by `convert` (from the side row where it is a side
    /// table's; none for an unmatched row).
    fn gather<T: Clone>(
        &self,
        name: &str,
        convert: impl Fn(&Series, &Path) -> Result<Vec<Option<T>>>,
    ) -> Result<Vec<Option<T>>> {
        match self.home(name)? {
            Home::Main => convert(&column(self.df, name, self.file)?, self.file),
            Home::Side(k) => {
                let values = self.sides[k].values(name, &convert)?;
                Ok(self.rows[k]
                    .iter()
                    .map(|hit| hit.and_then(|(p, r)| values[p][r].clone()))
                    .collect())
            }
        }
    }

    /// Column `name` as numbers (an error names a value that is not one).
    pub(super) fn numbers(&self, name: &str) -> Result<Vec<Option<f64>>> {
        self.gather(name, numbers)
    }

    /// Column `name` as text.
    pub(super) fn texts(&self, name: &str) -> Result<Vec<Option<String>>> {
        self.gather(name, |s, _| Ok(texts(s)))
    }

    /// Column `name`, as text, appended to `out`.
    pub(super) fn intern(&self, name: &str, out: &mut Interned) -> Result<()> {
        match self.home(name)? {
            Home::Main => out.extend(&column(self.df, name, self.file)?),
            Home::Side(k) => {
                let values = self.sides[k].values(name, |s, _| Ok(texts(s)))?;
                for hit in &self.rows[k] {
                    out.push(hit.and_then(|(p, r)| values[p][r].as_deref()));
                }
            }
        }
        Ok(())
    }

    /// Rows of the main file.
    pub(super) fn height(&self) -> usize {
        self.df.height()
    }
}
