//! CPU kernels of the sparse first layer, outside autograd (issue 6's "sparse one-hot" lever).
//!
//! The level-0 bank computes `y[r, b, :] = bias[r] + Σ_j x_num[b, j] · W[r, numeric_cols[j], :]
//! + Σ_f W[r, active[b, f], :]`. libtorch's `embedding_bag` computes the same thing, but its CPU
//! backward (sort + `index_add`) made it no faster than the dense 482-wide matmul. Here:
//!
//! * forward: each output row is a sum of ~40 weight rows (vectorised row adds, rows split
//!   across rayon threads);
//! * backward: one counting sort per replica turns the batch into, per weight row, the list of
//!   (batch row, value) pairs that touch it; each weight row's gradient is then accumulated
//!   contiguously, rows split across threads, with no atomics and a fixed summation order
//!   (deterministic).
//!
//! [`crate::Model::forward_train`] runs the forward, the rest of the model runs under autograd
//! from a leaf `y0`, and [`crate::Model::backward_input`] turns `y0.grad` into the bank's
//! weight and bias gradients. Results equal the dense path up to float summation order (tested
//! to 1e-5 in `tests/sparse_kernels.rs`).
//!
//! The row loops are compiled three times, for the x86-64 baseline, AVX2 + FMA and AVX-512F,
//! and picked at run time ([`super::isa`]).

use rayon::prelude::*;
use tch::{Device, Kind, Tensor};

use super::{for_chunks, isa, view, view_mut};
use crate::error::ModelError;

/// Shapes shared by forward and backward.
#[derive(Clone, Copy)]
struct Dims {
    r: usize,
    d: usize,
    o: usize,
    batch: usize,
    n_num: usize,
    n_cat: usize,
    /// Whether numeric / active carry one batch per replica (else one shared batch).
    num_per_replica: bool,
    act_per_replica: bool,
}

impl Dims {
    fn num_row<'a>(&self, num: &'a [f32], r: usize, b: usize) -> &'a [f32] {
        let rr = if self.num_per_replica { r } else { 0 };
        &num[(rr * self.batch + b) * self.n_num..][..self.n_num]
    }
    fn act_row<'a>(&self, act: &'a [i64], r: usize, b: usize) -> &'a [i64] {
        let rr = if self.act_per_replica { r } else { 0 };
        &act[(rr * self.batch + b) * self.n_cat..][..self.n_cat]
    }
}

fn dims(
    w: &Tensor,
    numeric: &Tensor,
    active: &Tensor,
    numeric_cols: &[usize],
) -> Result<Dims, ModelError> {
    let ws = w.size();
    let (ns, as_) = (numeric.size(), active.size());
    let (r, d, o) = (ws[0] as usize, ws[1] as usize, ws[2] as usize);
    let dims = Dims {
        r,
        d,
        o,
        batch: ns[1] as usize,
        n_num: ns[2] as usize,
        n_cat: as_[2] as usize,
        num_per_replica: ns[0] as usize == r && r > 1,
        act_per_replica: as_[0] as usize == r && r > 1,
    };
    if numeric_cols.len() != dims.n_num || numeric_cols.iter().any(|&c| c >= d) {
        return Err(ModelError::Input(format!(
            "numeric columns {numeric_cols:?} do not fit {} numeric inputs and D = {d}",
            dims.n_num
        )));
    }
    Ok(dims)
}

fn check_active(act: &[i64], d: usize) -> Result<(), ModelError> {
    if let Some(&a) = act.iter().find(|&&a| a < -1 || a >= d as i64) {
        return Err(ModelError::Input(format!(
            "active column {a} is outside [-1, {d})"
        )));
    }
    Ok(())
}

#[inline(always)]
fn axpy(acc: &mut [f32], a: f32, x: &[f32]) {
    for (y, &v) in acc.iter_mut().zip(x) {
        *y += a * v;
    }
}

#[inline(always)]
fn add(acc: &mut [f32], x: &[f32]) {
    for (y, &v) in acc.iter_mut().zip(x) {
        *y += v;
    }
}

/// Output columns per register tile: each tile of an output row is summed in a fixed-size
/// local array (vector registers) over all of the row's inputs and stored once, so the loop
/// streams weight rows from L2 without loading and storing the accumulator for every input
/// (measured: 2.1 ms -> see docs/performance.md for a batch of 512 at the Table 5 sizes).
const TILE: usize = 64;

/// `acc[..T] (+)= Σ_j vals[j] · src(j)[..T]` with the accumulator held in registers.
#[inline(always)]
fn tile_sum<const T: usize>(
    acc: &mut [f32],
    terms: impl Iterator<Item = (f32, usize)>,
    src: &[f32],
) {
    let mut a: [f32; T] = acc[..T].try_into().expect("tile length");
    for (v, at) in terms {
        let x: &[f32; T] = src[at..at + T].try_into().expect("tile length");
        if v == 1.0 {
            for i in 0..T {
                a[i] += x[i];
            }
        } else {
            for i in 0..T {
                a[i] += v * x[i];
            }
        }
    }
    acc[..T].copy_from_slice(&a);
}

/// The same for a tile narrower than [`TILE`] (the last one of a row).
#[inline(always)]
fn slice_sum(acc: &mut [f32], terms: impl Iterator<Item = (f32, usize)>, src: &[f32]) {
    let n = acc.len();
    for (v, at) in terms {
        let x = &src[at..at + n];
        if v == 1.0 {
            add(acc, x);
        } else {
            axpy(acc, v, x);
        }
    }
}

/// `row (+)= Σ v · src[at..]` over `terms(t0)` = (v, at) pairs for the tile starting at column
/// `t0`, tile by tile.
#[inline(always)]
fn row_sum<I: Iterator<Item = (f32, usize)>>(
    row: &mut [f32],
    terms: impl Fn(usize) -> I,
    src: &[f32],
) {
    for (ti, tile) in row.chunks_mut(TILE).enumerate() {
        let t0 = ti * TILE;
        if tile.len() == TILE {
            tile_sum::<TILE>(tile, terms(t0), src);
        } else {
            slice_sum(tile, terms(t0), src);
        }
    }
}

/// Output rows `first_row..` of the forward (rows of the flattened `[R * B, O]` output).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn forward_rows(
    dm: Dims,
    w: &[f32],
    bias: &[f32],
    num: &[f32],
    act: &[i64],
    cols: &[usize],
    first_row: usize,
    out: &mut [f32],
) {
    let o = dm.o;
    for (k, row) in out.chunks_mut(o).enumerate() {
        let g = first_row + k;
        let (r, b) = (g / dm.batch, g % dm.batch);
        let wr = &w[r * dm.d * o..][..dm.d * o];
        row.copy_from_slice(&bias[r * o..][..o]);
        let (nrow, arow) = (dm.num_row(num, r, b), dm.act_row(act, r, b));
        // (value, offset of the weight row) of every nonzero input of this row
        let terms = move |t0: usize| {
            nrow.iter()
                .zip(cols)
                .map(move |(&x, &c)| (x, c * o + t0))
                .chain(
                    arow.iter()
                        .filter(|&&a| a >= 0)
                        .map(move |&a| (1.0, a as usize * o + t0)),
                )
        };
        row_sum(row, terms, wr);
    }
}

isa_dispatch!(forward_rows_isa => forward_rows(
    dm: Dims,
    w: &[f32],
    bias: &[f32],
    num: &[f32],
    act: &[i64],
    cols: &[usize],
    first_row: usize,
    out: &mut [f32],
));

/// Rows of output per rayon task.
const ROWS_PER_TASK: usize = 64;

/// `[R, B, O]` level-0 pre-activations; `w [R, D, O]`, `bias [R, O]` (any shape with R·O
/// elements), `numeric [R|1, B, n_num]` f32, `active [R|1, B, n_cat]` i64 (-1 = none).
pub(crate) fn forward(
    w: &Tensor,
    bias: &Tensor,
    numeric: &Tensor,
    numeric_cols: &[usize],
    active: &Tensor,
) -> Result<Tensor, ModelError> {
    let numeric = numeric.contiguous();
    let active = active.contiguous();
    let dm = dims(w, &numeric, &active, numeric_cols)?;
    let (wv, bv) = (view::<f32>(w, "weight")?, view::<f32>(bias, "bias")?);
    let (nv, av) = (
        view::<f32>(&numeric, "numeric input")?,
        view::<i64>(&active, "active input")?,
    );
    check_active(av, dm.d)?;
    let mut out = Tensor::empty(
        [dm.r as i64, dm.batch as i64, dm.o as i64],
        (Kind::Float, Device::Cpu),
    );
    {
        let ov = view_mut(&mut out, "output")?;
        let isa = isa();
        for_chunks(ov, dm.o * ROWS_PER_TASK, |t, chunk| {
            let first = t * ROWS_PER_TASK;
            forward_rows_isa(isa, dm, wv, bv, nv, av, numeric_cols, first, chunk);
        });
    }
    Ok(out)
}

/// Per replica, the batch transposed: for weight row `c`, the pairs `(b, value)` with
/// `x[b, c] = value != 0` (one-hot entries have value 1), in increasing `b`.
struct Csr {
    starts: Vec<u32>,
    rows: Vec<u32>,
    vals: Vec<f32>,
}

fn transpose(dm: Dims, num: &[f32], act: &[i64], cols: &[usize], r: usize) -> Csr {
    let mut counts = vec![0u32; dm.d + 1];
    for b in 0..dm.batch {
        for &a in dm.act_row(act, r, b) {
            if a >= 0 {
                counts[a as usize + 1] += 1;
            }
        }
    }
    for &c in cols {
        counts[c + 1] += dm.batch as u32;
    }
    for c in 0..dm.d {
        counts[c + 1] += counts[c];
    }
    let nnz = counts[dm.d] as usize;
    let mut next = counts.clone();
    let mut rows = vec![0u32; nnz];
    let mut vals = vec![0f32; nnz];
    for b in 0..dm.batch {
        for (&x, &c) in dm.num_row(num, r, b).iter().zip(cols) {
            let p = next[c] as usize;
            (rows[p], vals[p]) = (b as u32, x);
            next[c] += 1;
        }
        for &a in dm.act_row(act, r, b) {
            if a >= 0 {
                let p = next[a as usize] as usize;
                (rows[p], vals[p]) = (b as u32, 1.0);
                next[a as usize] += 1;
            }
        }
    }
    Csr {
        starts: counts,
        rows,
        vals,
    }
}

/// Weight-gradient rows `first_row..` (rows of the flattened `[R * D, O]` gradient),
/// accumulated, with the same register tiles as the forward.
#[inline(always)]
fn backward_rows(dm: Dims, g: &[f32], csr: &[Csr], first_row: usize, dw: &mut [f32]) {
    let o = dm.o;
    for (k, row) in dw.chunks_mut(o).enumerate() {
        let idx = first_row + k;
        let (r, c) = (idx / dm.d, idx % dm.d);
        let t = &csr[r];
        let gr = &g[r * dm.batch * o..][..dm.batch * o];
        let range = t.starts[c] as usize..t.starts[c + 1] as usize;
        if range.is_empty() {
            continue;
        }
        let (rows, vals) = (&t.rows[range.clone()], &t.vals[range]);
        let terms = move |t0: usize| {
            vals.iter()
                .zip(rows)
                .map(move |(&v, &b)| (v, b as usize * o + t0))
        };
        row_sum(row, terms, gr);
    }
}

isa_dispatch!(backward_rows_isa => backward_rows(
    dm: Dims,
    g: &[f32],
    csr: &[Csr],
    first_row: usize,
    dw: &mut [f32],
));

/// Accumulates the level-0 gradients into `grad_w [R, D, O]` and `grad_b` (R·O elements) from
/// `grad_y [R, B, O]` and the forward's inputs.
pub(crate) fn backward(
    grad_y: &Tensor,
    numeric: &Tensor,
    numeric_cols: &[usize],
    active: &Tensor,
    grad_w: &mut Tensor,
    grad_b: &mut Tensor,
) -> Result<(), ModelError> {
    let numeric = numeric.contiguous();
    let active = active.contiguous();
    let grad_y = grad_y.contiguous();
    let dm = dims(grad_w, &numeric, &active, numeric_cols)?;
    let gs = grad_y.size();
    if gs != [dm.r as i64, dm.batch as i64, dm.o as i64] {
        return Err(ModelError::Input(format!(
            "output gradient has shape {gs:?}, expected [{}, {}, {}]",
            dm.r, dm.batch, dm.o
        )));
    }
    let gv = view::<f32>(&grad_y, "output gradient")?;
    let (nv, av) = (
        view::<f32>(&numeric, "numeric input")?,
        view::<i64>(&active, "active input")?,
    );
    check_active(av, dm.d)?;
    let one = |r| transpose(dm, nv, av, numeric_cols, r);
    let csr: Vec<Csr> = if tch::get_num_threads() > 1 {
        (0..dm.r).into_par_iter().map(one).collect()
    } else {
        (0..dm.r).map(one).collect()
    };
    let rows_per_task = 32;
    let isa = isa();
    for_chunks(
        view_mut(grad_w, "weight gradient")?,
        dm.o * rows_per_task,
        |t, chunk| {
            let first = t * rows_per_task;
            backward_rows_isa(isa, dm, gv, &csr, first, chunk);
        },
    );
    let o = dm.o;
    for_chunks(view_mut(grad_b, "bias gradient")?, o, |r, acc| {
        for b in 0..dm.batch {
            add(acc, &gv[(r * dm.batch + b) * o..][..o]);
        }
    });
    Ok(())
}
