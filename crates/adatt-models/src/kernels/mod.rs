//! Hand-written CPU kernels over raw tensor memory: the sparse first layer ([`sparse`]) and a
//! fused Adam step ([`adam`]). With `adatt_train::runtime`, this is the only code with `unsafe`:
//! the two view functions below and the calls into AVX2-compiled loops.

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

pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
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
