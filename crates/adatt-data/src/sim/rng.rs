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
}
