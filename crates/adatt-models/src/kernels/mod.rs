//! Hand-written CPU kernels over raw tensor memory: the sparse first layer ([`sparse`]) and a
//! fused Adam step ([`adam`]). With `adatt_engine::runtime`, this is the only code with `unsafe`:
//! the two view functions below and the calls into AVX2-compiled loops.

/// `isa_dispatch!(name => body(arg: Type, ...))` defines `name(isa, arg, ...)`, which runs `body`
/// compiled for `isa`: AVX-512F, AVX2 + FMA or the baseline. `body` must be `#[inline(always)]`
/// so that each copy is compiled with its target features. This macro holds the only calls into
/// target-feature code.
macro_rules! isa_dispatch {
    ($name:ident => $body:ident ($($arg:ident: $ty:ty),* $(,)?)) => {
        #[allow(clippy::too_many_arguments)]
        fn $name(isa: $crate::kernels::Isa, $($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            #[allow(clippy::too_many_arguments)]
            fn avx512($($arg: $ty),*) {
                $body($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            fn avx2($($arg: $ty),*) {
                $body($($arg),*)
            }
            match isa {
                // SAFETY (both arms): `isa()` and `force_isa` only yield what the CPU supports.
                #[cfg(target_arch = "x86_64")]
                #[allow(unsafe_code)]
                $crate::kernels::Isa::Avx512 => unsafe { avx512($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                #[allow(unsafe_code)]
                $crate::kernels::Isa::Avx2 => unsafe { avx2($($arg),*) },
                _ => $body($($arg),*),
            }
        }
    };
}

pub mod adam;
pub(crate) mod sparse;

use tch::kind::Element;
use tch::{Device, Kind, Tensor};

use crate::error::ModelError;

/// A read-only view of a contiguous CPU tensor of element type `T`.
#[allow(unsafe_code)]
pub(crate) fn view<'a, T: Element>(t: &'a Tensor, what: &str) -> Result<&'a [T], ModelError> {
    check(t, T::KIND, what)?;
    let n = t.numel();
    if n == 0 {
        return Ok(&[]);
    }
    // SAFETY: `check` established a defined, contiguous CPU tensor of `n` elements of type `T`
    // starting at `data_ptr` (which includes the storage offset). The storage lives at least as
    // long as `t`, and the kernels below never write through another handle while this view is
    // alive (the only mutable views are of freshly allocated outputs or of `.grad` tensors,
    // which share no storage with their inputs).
    Ok(unsafe { std::slice::from_raw_parts(t.data_ptr() as *const T, n) })
}

/// A mutable view; see [`view`]. The caller guarantees no other view of the same storage.
#[allow(unsafe_code)]
pub(crate) fn view_mut<'a>(t: &'a mut Tensor, what: &str) -> Result<&'a mut [f32], ModelError> {
    check(t, Kind::Float, what)?;
    let n = t.numel();
    if n == 0 {
        return Ok(&mut []);
    }
    // SAFETY: as in `view`; exclusivity: see the callers (fresh outputs and `.grad` tensors).
    Ok(unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, n) })
}

fn check(t: &Tensor, kind: Kind, what: &str) -> Result<(), ModelError> {
    if !t.defined() {
        return Err(ModelError::Input(format!("{what} is undefined")));
    }
    if t.device() != Device::Cpu || t.kind() != kind || !t.is_contiguous() {
        return Err(ModelError::Input(format!(
            "{what} must be a contiguous {kind:?} CPU tensor, got {:?} on {:?} (contiguous: {})",
            t.kind(),
            t.device(),
            t.is_contiguous()
        )));
    }
    Ok(())
}

/// Instruction set the kernel loops are compiled for, chosen at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// The x86-64 (or other target's) baseline.
    Baseline,
    /// AVX2 + FMA.
    Avx2,
    /// AVX-512F (measured ~15% faster than AVX2 on the sparse forward's gather-sum).
    Avx512,
}

impl Isa {
    /// The best the CPU supports.
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }

    /// Whether this CPU can run it.
    pub fn supported(self) -> bool {
        matches!(
            (self, Isa::detect()),
            (Isa::Baseline, _) | (Isa::Avx2, Isa::Avx2 | Isa::Avx512) | (Isa::Avx512, Isa::Avx512)
        )
    }
}

/// 0 = detect; else `Isa as u8 + 1`.
static FORCED: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Use `isa` for every kernel from now on (`None`: the detected best). For tests of each code
/// path; all paths compute the same values up to float summation order. Panics if the CPU
/// cannot run `isa`.
pub fn force_isa(isa: Option<Isa>) {
    if let Some(i) = isa {
        assert!(i.supported(), "this CPU cannot run {i:?}");
    }
    let v = isa.map_or(0, |i| i as u8 + 1);
    FORCED.store(v, std::sync::atomic::Ordering::Relaxed);
}

/// The instruction set to use now.
pub(crate) fn isa() -> Isa {
    match FORCED.load(std::sync::atomic::Ordering::Relaxed) {
        1 => Isa::Baseline,
        2 => Isa::Avx2,
        3 => Isa::Avx512,
        _ => {
            static BEST: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
            *BEST.get_or_init(Isa::detect)
        }
    }
}

/// Runs `f(chunk index, chunk)` over `chunk`-sized pieces of `data`: on rayon's pool when
/// libtorch may use more than one intra-op thread, else on the calling thread (with one thread
/// per process, as `table5 --jobs` runs, extra threads would only contend for the cores).
pub(crate) fn for_chunks<F>(data: &mut [f32], chunk: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Send + Sync,
{
    use rayon::prelude::*;
    if tch::get_num_threads() > 1 {
        data.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| f(i, c));
    } else {
        data.chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| f(i, c));
    }
}
