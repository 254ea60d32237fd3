//! Seekable random draws: every number the simulator draws is a pure function of (seed,
//! stream, position), so example i of a stream can be produced alone, in any order, on any
//! thread. The generator is ChaCha8 (`rand_chacha`), whose 64-bit nonce is the stream and
//! whose word counter is the position; each example consumes a fixed number of 64-bit words,
//! so example i starts at word `2 · i · u64s_per_example`.

use rand::RngCore;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A ChaCha8 stream positioned at a given 64-bit draw.
pub struct Draws(ChaCha8Rng);

impl Draws {
    /// Stream `stream` of `seed`, at its `index`-th 64-bit draw.
    pub fn at(seed: u64, stream: u64, index: u128) -> Self {
        let mut g = ChaCha8Rng::seed_from_u64(seed);
        g.set_stream(stream);
        g.set_word_pos(2 * index);
        Draws(g)
    }

    /// A uniform in [0, 1) with 53 random bits (one 64-bit draw).
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal (two 64-bit draws; Box–Muller, the cosine branch).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Zipf-like popularity over ranks 1..=n: P(rank k) ∝ k^(−exponent) (exponent 0 = uniform).
/// Drawn by inverting the cumulative distribution with one uniform.
#[derive(Debug, Clone)]
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// The distribution over `n ≥ 1` ranks.
    pub fn new(n: usize, exponent: f64) -> Self {
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for k in 1..=n {
            acc += (k as f64).powf(-exponent);
            cdf.push(acc);
        }
        for c in cdf.iter_mut() {
            *c /= acc;
        }
        Zipf { cdf }
    }

    /// The 0-based rank for the uniform `u` in [0, 1): the first k with cdf[k] > u.
    pub fn rank(&self, u: f64) -> usize {
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.cdf.len() - 1)
    }

    /// P(rank k) for every rank.
    pub fn probabilities(&self) -> Vec<f64> {
        (0..self.cdf.len()).map(|k| self.probability(k)).collect()
    }

    /// P(rank k) for the 0-based rank `k`.
    pub fn probability(&self, k: usize) -> f64 {
        self.cdf[k] - if k == 0 { 0.0 } else { self.cdf[k - 1] }
    }

    /// The effective number of ranks, 1 / Σ_k P(k)², of the distribution over `n ≥ 1` ranks
    /// with `exponent` (n for a uniform one, 1 when one rank carries everything), without
    /// building it: exact sums over the first 2^20 ranks, the rest by Euler–Maclaurin (the
    /// integral with the end-point and first-derivative terms; the next term is below 1e-18 of
    /// the sum there).
    pub fn effective_ranks(n: usize, exponent: f64) -> f64 {
        let head = n.min(1 << 20);
        let (mut s1, mut s2) = (0.0, 0.0);
        for k in 1..=head {
            let w = (k as f64).powf(-exponent);
            s1 += w;
            s2 += w * w;
        }
        if n > head {
            s1 += power_sum_tail(head as f64, n as f64, exponent);
            s2 += power_sum_tail(head as f64, n as f64, 2.0 * exponent);
        }
        s1 * s1 / s2
    }
}

/// Σ_{k = a + 1}^{b} k^(−s) for integers 1 ≤ a < b, by Euler–Maclaurin:
/// ∫_a^b x^(−s) dx + (f(b) − f(a)) / 2 + (f′(b) − f′(a)) / 12.
fn power_sum_tail(a: f64, b: f64, s: f64) -> f64 {
    let f = |x: f64| x.powf(-s);
    let df = |x: f64| -s * x.powf(-s - 1.0);
    // ∫_a^b x^(−s) dx = a^(1−s) · (e^((1−s)·ln(b/a)) − 1) / (1 − s), → a^(1−s) · ln(b/a) at s = 1.
    let (t, l) = (1.0 - s, (b / a).ln());
    let integral = if (t * l).abs() < 1e-12 {
        a.powf(t) * l
    } else {
        a.powf(t) * (t * l).exp_m1() / t
    };
    integral + (f(b) - f(a)) / 2.0 + (df(b) - df(a)) / 12.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seeked_draw_equals_the_sequential_one() {
        let mut seq = Draws::at(7, 3, 0);
        let all: Vec<f64> = (0..100).map(|_| seq.uniform()).collect();
        for i in [0usize, 1, 17, 63, 64, 99] {
            assert_eq!(Draws::at(7, 3, i as u128).uniform(), all[i], "draw {i}");
        }
        // Other streams and seeds differ.
        assert_ne!(Draws::at(7, 4, 0).uniform(), all[0]);
        assert_ne!(Draws::at(8, 3, 0).uniform(), all[0]);
    }

    #[test]
    fn normals_have_mean_0_and_variance_1() {
        let mut d = Draws::at(1, 1, 0);
        let n = 200_000;
        let x: Vec<f64> = (0..n).map(|_| d.normal()).collect();
        let mean = x.iter().sum::<f64>() / n as f64;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        // 5 standard errors: 5/√n = 0.011 for the mean, 5·√(2/n) = 0.016 for the variance.
        assert!(
            mean.abs() < 0.011 && (var - 1.0).abs() < 0.016,
            "{mean} {var}"
        );
    }

    #[test]
    fn zipf_ranks_follow_the_power_law() {
        let z = Zipf::new(4, 1.0);
        // 1, 1/2, 1/3, 1/4 over H4 = 25/12
        for (k, w) in [12.0 / 25.0, 6.0 / 25.0, 4.0 / 25.0, 3.0 / 25.0]
            .iter()
            .enumerate()
        {
            assert!((z.probability(k) - w).abs() < 1e-12);
        }
        assert_eq!(z.rank(0.0), 0);
        assert_eq!(z.rank(0.47), 0);
        assert_eq!(z.rank(0.49), 1);
        assert_eq!(z.rank(0.999_999), 3);
    }

    /// Against the exact (Σ k^−s)² / Σ k^−2s, also beyond the 2^20 ranks summed
    /// exactly (the Euler–Maclaurin tail), and the closed forms of a uniform and a point mass.
    #[test]
    fn effective_ranks_match_the_exact_sum() {
        for (n, s) in [
            (400, 1.1),
            (50_000, 0.8),
            (3_000_000, 0.8),
            (3_000_000, 1.0),
            (3_000_000, 1.1),
            (3_000_000, 2.0),
        ] {
            let w: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
            let exact = w.iter().sum::<f64>().powi(2) / w.iter().map(|x| x * x).sum::<f64>();
            let got = Zipf::effective_ranks(n, s);
            assert!(
                (got - exact).abs() < 1e-9 * exact,
                "{n} {s}: {got} vs {exact}"
            );
        }
        assert!((Zipf::effective_ranks(5_000_000, 0.0) - 5e6).abs() < 1e-3);
        assert!((Zipf::effective_ranks(50_000, 400.0) - 1.0).abs() < 1e-12);
        // Zipf 20 over 50,000 ids: 1 + 2·2^−20 + …, about 1.0000019 (numpy: 1.0000019079).
        let e = Zipf::effective_ranks(50_000, 20.0);
        assert!((e - 1.000_001_907_9).abs() < 1e-9, "{e}");
    }
}
