//! What the networks share. At build: the column allocator of a bank's output, the registration
//! of an expert's official MLP, the last level's width. In the forward: a bank's output
//! `[.., O]` split into column blocks, expert activations `[R, units*k, B, h]` and softmax gates
//! `[R, B, units*g, n]` from those blocks, and the mixing of experts `[R, E, B, h]` by weights
//! `[R, B, U, E]` into `[R, U, B, h]`.

use tch::{Kind, Tensor};

use crate::bank::{Bank, Stack};
use crate::params::Builder;

/// The output width of the last fusion level: its experts' last layer width.
pub(crate) fn last_width(expert_dims: &[Vec<usize>]) -> i64 {
    *expert_dims.last().unwrap().last().unwrap() as i64
}

/// Column allocator of a bank's output.
pub(crate) struct Cols(pub i64);

impl Cols {
    pub fn take(&mut self, n: i64) -> i64 {
        let c = self.0;
        self.0 += n;
        c
    }
}

/// Splits bank output `y [.., O]` into consecutive column blocks of the given widths (summing
/// to `O`; a width may be 0).
///
/// One `split_with_sizes` rather than a `narrow` per block: the backward of each `narrow`
/// allocated a zero-filled gradient of the whole `y` and autograd then added these up, while
/// the split's backward writes each block's gradient once. The gradients are the same values
/// (each element has one contribution); a training step of AdaTT-sp (6) went from 8.85 to 8.36
/// ms (medians of 4, 1 thread).
pub(crate) fn split_cols(y: &Tensor, widths: &[i64]) -> Vec<Tensor> {
    y.split_with_sizes(widths, -1)
}

/// `x` cut along `dim` into its first `a` entries and the rest, for the same reason as
/// [`split_cols`]; PLE and AdaTT cut their task/shared units with it, and PLE its own/shared
/// experts and gates. Against a `narrow` per part, a training step of PLE (6, m_s = 3) at R = 10
/// takes 184.2 instead of 202.6 ms (means of 5 alternated runs, 1 thread), and the results are
/// bitwise the same.
pub(crate) fn split_at(x: &Tensor, dim: i64, a: i64) -> (Tensor, Tensor) {
    let rest = x.size()[dim as usize] - a;
    let mut parts = x.split_with_sizes([a, rest], dim).into_iter();
    match (parts.next(), parts.next()) {
        (Some(head), Some(tail)) => (head, tail),
        _ => unreachable!("split_with_sizes with two sizes returns two parts"),
    }
}

/// A level's input `x [R, U, B, h]` as its `T` task units and, when the level has a shared
/// unit (`U = T + 1`), that unit.
pub(crate) fn task_and_shared_units(x: &Tensor, t: i64, shared: bool) -> (Tensor, Option<Tensor>) {
    if shared {
        let (tasks, shared) = split_at(x, 1, t);
        (tasks, Some(shared))
    } else {
        (x.shallow_clone(), None)
    }
}

/// Expert first-layer activations from bank output columns `y [R, S, B, k*h]`: `k` experts of
/// width `h` per unit; returns `relu` of them as `[R, S*k, B, h]` (unit-major: the experts of
/// unit 0, then of unit 1, ...).
pub(crate) fn expert_cols(y: &Tensor, k: i64, h: i64) -> Tensor {
    let s = y.size();
    debug_assert_eq!(s[3], k * h, "expert columns");
    let (r, units, batch) = (s[0], s[1], s[2]);
    y.reshape([r, units, batch, k, h])
        .permute([0, 1, 3, 2, 4])
        .reshape([r, units * k, batch, h])
        .relu()
}

/// Softmax gates from bank output columns `y [R, S, B, g*n]`: `g` gates of `n` logits per
/// unit; returns `[R, B, S*g, n]`.
///
/// On the CPU with one intra-op thread (how `make table5` trains: one process per core), the
/// softmax runs over dimension 1 of a contiguous `[R, n, B, S*g]` copy and the result is a
/// permuted view of it. libtorch's softmax over a last dimension of 6 or 9 handles each row
/// alone: 203 µs forward for one `[1, 512, 3, 6]` gate tensor, against 12 µs over an outer
/// dimension, where it vectorises across rows (1 thread; forward plus backward 282 against
/// 33 µs). The values agree to float rounding (largest difference 3e-8).
///
/// With more threads that kernel splits its rows between threads at points that depend on R,
/// and the rows at a split get scalar `exp` instead of the vectorised one. Replica r's result
/// would then depend on how many replicas run beside it, which the crate rules out. So with
/// several threads (and on CUDA) the softmax stays over the last dimension. `make test` runs
/// the model tests at both thread counts.
pub(crate) fn gate_cols(y: &Tensor, g: i64, n: i64) -> Tensor {
    let s = y.size();
    debug_assert_eq!(s[3], g * n, "gate columns");
    let (r, units, batch) = (s[0], s[1], s[2]);
    let y = y.reshape([r, units, batch, g, n]);
    if y.device() == tch::Device::Cpu && tch::get_num_threads() == 1 {
        y.permute([0, 4, 2, 1, 3])
            .reshape([r, n, batch, units * g])
            .softmax(1, Kind::Float)
            .permute([0, 2, 3, 1])
    } else {
        y.permute([0, 2, 1, 3, 4])
            .reshape([r, batch, units * g, n])
            .softmax(-1, Kind::Float)
    }
}

/// `out[r, u, b, :] = sum_e w[r, b, u, e] * experts[r, e, b, :]`: `[R, U, B, h]`.
pub(crate) fn mix(w: &Tensor, experts: &Tensor) -> Tensor {
    Tensor::einsum("rbue,rebh->rubh", &[w, experts], None::<&[i64]>)
}

/// Registers the official MLP `{prefix}` of expert `e` whose first layer is at
/// `(first_bank, first_unit, first_col)` and whose later layers are unit `e` of `rest`.
pub(crate) fn expert_mlp(
    b: &mut Builder,
    prefix: &str,
    dims: &[usize],
    first: (&Bank, i64, i64),
    rest: &Stack,
    e: i64,
) {
    let layers = std::iter::once(first).chain(rest.banks.iter().map(|bank| (bank, e, 0)));
    b.mlp(prefix, layers, dims);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn gate_cols_are_distributions_in_unit_major_order() {
        tch::manual_seed(0);
        // R = 2, S = 3 units, B = 4, columns: 5 junk + 2 gates of 6 logits each
        let y = Tensor::randn([2, 3, 4, 5 + 12], (Kind::Float, Device::Cpu)) * 3.0;
        let g = gate_cols(&split_cols(&y, &[5, 12])[1], 2, 6);
        assert_eq!(g.size(), vec![2, 4, 6, 6]);
        let sums = g.sum_dim_intlist([-1].as_slice(), false, Kind::Float);
        let d = (sums - 1.0).abs().max().double_value(&[]);
        assert!(d < 1e-6, "gate rows sum to 1 (off by {d})");
        // gate 1 of unit 2 = softmax of y[:, 2, :, 11..17]
        let want = y.get(1).get(2).narrow(-1, 11, 6).softmax(-1, Kind::Float);
        let got = g.get(1).select(1, 2 * 2 + 1);
        assert!(want.allclose(&got, 1e-6, 1e-7, false));
    }

    #[test]
    fn expert_cols_layout() {
        tch::manual_seed(1);
        let y = Tensor::randn([2, 3, 4, 1 + 2 * 5], (Kind::Float, Device::Cpu));
        let e = expert_cols(&split_cols(&y, &[1, 10])[1], 2, 5);
        assert_eq!(e.size(), vec![2, 6, 4, 5]);
        // expert 1 of unit 2 = relu(y[:, 2, :, 6..11])
        let want = y.get(0).get(2).narrow(-1, 6, 5).relu();
        assert!(want.equal(&e.get(0).get(5)));
    }
}
