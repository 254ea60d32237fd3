//! The validation/test split: a bit-exact re-implementation of
//! `DataFrame.sample(frac=0.5, replace=False, random_state=seed)` from pandas, which calls
//! numpy's legacy `RandomState(seed).permutation(n)[:k]`.

use rand_mt::Mt;

/// numpy's legacy `RandomState(seed).permutation(n)`.
///
/// `RandomState(seed)` with an integer seed initialises MT19937 with `init_genrand(seed)`
/// ([`Mt::new`]). `permutation(n)` shuffles `arange(n)` with the legacy Fisher–Yates loop:
/// for `i` from `n - 1` down to 1, swap `x[i]` with `x[j]`, `j = random_interval(i)`, where
/// `random_interval(max)` draws 32-bit outputs masked to the smallest all-ones mask `>= max`
/// and rejects values `> max`.
///
/// # Panics
/// If `n` does not fit in a `u32`.
pub fn numpy_permutation(n: usize, seed: u32) -> Vec<u32> {
    let n32 = u32::try_from(n).expect("permutation size must fit in u32");
    let mut x: Vec<u32> = (0..n32).collect();
    let mut rng = Mt::new(seed);
    for i in (1..n).rev() {
        let j = random_interval(&mut rng, i as u32) as usize;
        x.swap(i, j);
    }
    x
}

/// numpy's `random_interval(max)` for `max < 2^32`: a uniform draw from `0..=max`.
fn random_interval(rng: &mut Mt, max: u32) -> u32 {
    if max == 0 {
        return 0;
    }
    let mut mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    loop {
        let v = rng.next_u32() & mask;
        if v <= max {
            return v;
        }
    }
}

/// Python's `round(x)` for a non-negative float: round half to even.
fn round_half_even(x: f64) -> usize {
    let f = x.floor();
    let diff = x - f;
    let r = if diff > 0.5 || (diff == 0.5 && (f as u64) % 2 == 1) {
        f + 1.0
    } else {
        f
    };
    r as usize
}

/// Splits `n` rows into (validation, test) like the AdaTT/MMoEEx code:
/// validation = `sample(frac=0.5, random_state=seed).index` (in sampled order, size
/// `round(0.5 * n)` with Python's rounding), test = the remaining rows in ascending order
/// (what `list(set(index) - set(validation))` yields for these integer indices).
pub fn half_split(n: usize, seed: u32) -> (Vec<u32>, Vec<u32>) {
    let k = round_half_even(0.5 * n as f64);
    let mut perm = numpy_permutation(n, seed);
    perm.truncate(k);
    let mut in_valid = vec![false; n];
    for &i in &perm {
        in_valid[i as usize] = true;
    }
    let test = (0..n as u32).filter(|&i| !in_valid[i as usize]).collect();
    (perm, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_reference_output() {
        // Reference values of MT19937 init_genrand(5489) (the C reference implementation's
        // default seed): first output 3499211612, 10000th output 4123659995.
        let mut rng = Mt::new(5489);
        assert_eq!(rng.next_u32(), 3_499_211_612);
        let mut last = 0;
        for _ in 1..10_000 {
            last = rng.next_u32();
        }
        assert_eq!(last, 4_123_659_995);
    }

    #[test]
    fn python_rounding() {
        assert_eq!(round_half_even(5.5), 6);
        assert_eq!(round_half_even(6.5), 6);
        assert_eq!(round_half_even(49881.0), 49881);
        assert_eq!(round_half_even(0.5), 0);
        assert_eq!(round_half_even(1.5), 2);
    }

    #[test]
    fn half_split_partitions() {
        for n in [0usize, 1, 2, 3, 10, 13, 1000] {
            let (v, t) = half_split(n, 3);
            let mut all: Vec<u32> = v.iter().chain(&t).copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..n as u32).collect::<Vec<_>>(), "n={n}");
            assert!(t.windows(2).all(|w| w[0] < w[1]));
        }
        let p = numpy_permutation(50, 1);
        let mut s = p.clone();
        s.sort_unstable();
        assert_eq!(s, (0..50).collect::<Vec<u32>>());
        assert_ne!(
            p, s,
            "a permutation of 50 elements should not be the identity"
        );
    }
}
