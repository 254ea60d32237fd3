//! The small dense linear algebra the simulator needs: the symmetric eigendecomposition of a
//! task-relation matrix (cyclic Jacobi, for its smallest eigenvalue), its semi-definite
//! Cholesky factor, and an orthonormal set of directions (Gram–Schmidt).
//! Matrices are row-major `Vec<Vec<f64>>`; sizes are the number of tasks (≤ a few dozen).

/// Eigenvalues and eigenvectors of the symmetric matrix `a`: `(values, vectors)` with
/// `a = V · diag(values) · Vᵀ`, `vectors[i][k]` the i-th component of eigenvector k.
pub fn symmetric_eigen(a: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a.to_vec();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i][j] * m[i][j])
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if m[p][q].abs() < 1e-300 {
                    continue;
                }
                // The rotation that zeroes m[p][q].
                let theta = (m[q][q] - m[p][p]) / (2.0 * m[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k][p], m[k][q]);
                    m[k][p] = c * mkp - s * mkq;
                    m[k][q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p][k], m[q][k]);
                    m[p][k] = c * mpk - s * mqk;
                    m[q][k] = s * mpk + c * mqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| m[i][i]).collect(), v)
}

/// The lower-triangular factor `L` of the positive semi-definite `c` (`c = L·Lᵀ`, Cholesky
/// with zero pivots allowed): row i of `L` only uses the first i + 1 basis directions, so task 1
/// is always the first basis direction whatever the other tasks are. `None` if `c` is not
/// positive semi-definite within `tol`.
pub fn cholesky_psd(c: &[Vec<f64>], tol: f64) -> Option<Vec<Vec<f64>>> {
    let n = c.len();
    let mut l = vec![vec![0.0; n]; n];
    for j in 0..n {
        let d = c[j][j] - (0..j).map(|k| l[j][k] * l[j][k]).sum::<f64>();
        if d < -tol {
            return None;
        }
        let pivot = d.max(0.0).sqrt();
        l[j][j] = pivot;
        for i in j + 1..n {
            let r = c[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if pivot <= tol.sqrt() {
                // A zero pivot: the rest of the column must vanish too.
                if r.abs() > tol.sqrt() {
                    return None;
                }
            } else {
                l[i][j] = r / pivot;
            }
        }
    }
    Some(l)
}

/// Whitens the rows of `table` (`[n, dim]`, row-major) under the probabilities `weights` (one per
/// row, summing to 1): afterwards their weighted mean is 0 and their weighted covariance the
/// identity (x ← L⁻¹ (x − μ) with Σ = L·Lᵀ). An error, and the table left unspecified, if the
/// weighted covariance is not positive definite or a whitened value is not a finite f32 (a
/// covariance so close to singular that the rare rows blow up).
pub fn whiten(table: &mut [f32], dim: usize, weights: &[f64]) -> Result<(), String> {
    if dim == 0 {
        return Ok(());
    }
    let rows = || table.chunks(dim).zip(weights);
    let mut mean = vec![0.0; dim];
    for (x, &p) in rows() {
        for (m, &v) in mean.iter_mut().zip(x) {
            *m += p * f64::from(v);
        }
    }
    let mut cov = vec![vec![0.0; dim]; dim];
    for (x, &p) in rows() {
        for i in 0..dim {
            for j in 0..dim {
                cov[i][j] += p * (f64::from(x[i]) - mean[i]) * (f64::from(x[j]) - mean[j]);
            }
        }
    }
    let singular = || "their weighted covariance is singular".to_owned();
    let l = cholesky_psd(&cov, 0.0).ok_or_else(singular)?;
    if (0..dim).any(|i| l[i][i].is_nan() || l[i][i] <= 0.0) {
        return Err(singular());
    }
    for x in table.chunks_mut(dim) {
        // Forward substitution: solve L y = x − μ.
        let mut y = vec![0.0; dim];
        for i in 0..dim {
            let r = f64::from(x[i]) - mean[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>();
            y[i] = r / l[i][i];
        }
        for (v, w) in x.iter_mut().zip(y) {
            *v = w as f32;
        }
    }
    if table.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err("whitened under their weights, some are too large for an f32".into())
    }
}

/// Orthonormalises `rows` in place (modified Gram–Schmidt). The rows must be linearly
/// independent (random Gaussian vectors of a larger dimension are, with probability 1).
pub fn orthonormalize(rows: &mut [Vec<f64>]) {
    for i in 0..rows.len() {
        for j in 0..i {
            let dot: f64 = rows[i].iter().zip(&rows[j]).map(|(a, b)| a * b).sum();
            let rj = rows[j].clone();
            for (a, b) in rows[i].iter_mut().zip(&rj) {
                *a -= dot * b;
            }
        }
        let norm = rows[i].iter().map(|a| a * a).sum::<f64>().sqrt();
        for a in rows[i].iter_mut() {
            *a /= norm;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Oracle: numpy.linalg.eigh([[2, 1, 0], [1, 2, 1], [0, 1, 2]]) gives eigenvalues
    /// 2 − √2, 2, 2 + √2.
    #[test]
    fn eigenvalues_of_a_tridiagonal_matrix_match_numpy() {
        let a = vec![
            vec![2.0, 1.0, 0.0],
            vec![1.0, 2.0, 1.0],
            vec![0.0, 1.0, 2.0],
        ];
        let (mut vals, _) = symmetric_eigen(&a);
        vals.sort_by(f64::total_cmp);
        let s = 2f64.sqrt();
        for (g, w) in vals.iter().zip([2.0 - s, 2.0, 2.0 + s]) {
            assert!((g - w).abs() < 1e-12, "{vals:?}");
        }
    }

    /// Oracle: numpy.linalg.eigvalsh([[1, .9, -.9], [.9, 1, .9], [-.9, .9, 1]]) gives
    /// −0.8, 1.9, 1.9: not positive semi-definite.
    #[test]
    fn an_indefinite_matrix_has_the_numpy_eigenvalues() {
        let bad = vec![
            vec![1.0, 0.9, -0.9],
            vec![0.9, 1.0, 0.9],
            vec![-0.9, 0.9, 1.0],
        ];
        let (mut vals, _) = symmetric_eigen(&bad);
        vals.sort_by(f64::total_cmp);
        for (g, w) in vals.iter().zip([-0.8, 1.9, 1.9]) {
            assert!((g - w).abs() < 1e-10, "{vals:?}");
        }
    }

    #[test]
    fn the_semi_definite_cholesky_factor_is_lower_triangular_and_exact() {
        let c = vec![
            vec![1.0, -1.0, 0.3],
            vec![-1.0, 1.0, -0.3],
            vec![0.3, -0.3, 1.0],
        ];
        let l = cholesky_psd(&c, 1e-9).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let got: f64 = (0..3).map(|k| l[i][k] * l[j][k]).sum();
                assert!((got - c[i][j]).abs() < 1e-10, "{i},{j}: {got}");
                if j > i {
                    assert_eq!(l[i][j], 0.0);
                }
            }
        }
        assert_eq!(l[0], vec![1.0, 0.0, 0.0]);
        let bad = vec![
            vec![1.0, 0.9, -0.9],
            vec![0.9, 1.0, 0.9],
            vec![-0.9, 0.9, 1.0],
        ];
        assert!(cholesky_psd(&bad, 1e-9).is_none());
    }

    #[test]
    fn whitened_rows_have_weighted_mean_0_and_identity_covariance() {
        let mut t: Vec<f32> = vec![1.0, 2.0, 0.5, -1.0, 3.0, 0.0, -2.0, 1.0];
        let w = [0.5, 0.25, 0.125, 0.125];
        whiten(&mut t, 2, &w).unwrap();
        let m0: f64 = t.chunks(2).zip(&w).map(|(x, p)| p * f64::from(x[0])).sum();
        let m1: f64 = t.chunks(2).zip(&w).map(|(x, p)| p * f64::from(x[1])).sum();
        assert!(m0.abs() < 1e-6 && m1.abs() < 1e-6);
        for (i, j, want) in [(0, 0, 1.0), (1, 1, 1.0), (0, 1, 0.0)] {
            let c: f64 = t
                .chunks(2)
                .zip(&w)
                .map(|(x, p)| p * f64::from(x[i]) * f64::from(x[j]))
                .sum();
            assert!((c - want).abs() < 1e-6, "{i},{j}: {c}");
        }
    }

    /// Two rows in two dimensions have a rank-1 covariance; two equal rows of three have 0.
    #[test]
    fn a_singular_weighted_covariance_is_an_error() {
        let mut t: Vec<f32> = vec![1.0, 2.0, 3.0, 4.0];
        assert!(whiten(&mut t, 2, &[0.5, 0.5]).is_err());
        let mut t: Vec<f32> = vec![1.0, 2.0, 1.0, 2.0, 5.0, -1.0];
        assert!(whiten(&mut t, 2, &[0.5, 0.5, 0.0]).is_err());
    }

    #[test]
    fn gram_schmidt_gives_orthonormal_rows() {
        let mut r = vec![
            vec![1.0, 1.0, 0.0],
            vec![1.0, 0.0, 1.0],
            vec![0.0, 1.0, 1.0],
        ];
        orthonormalize(&mut r);
        for i in 0..3 {
            for j in 0..3 {
                let d: f64 = r[i].iter().zip(&r[j]).map(|(a, b)| a * b).sum();
                assert!((d - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
    }
}
