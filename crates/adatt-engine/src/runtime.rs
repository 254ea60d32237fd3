//! Process set-up: [`init`] = [`flush_denormals`] + [`keep_freed_memory`] (fast CPU training) +
//! [`load_cuda`] (CUDA, where an NVIDIA driver is present).
//!
//! ## Denormals
//!
//! Training on the `paper` protocol drives some gate and sigmoid outputs into the subnormal range
//! (below 1.2e-38). x86 CPUs process subnormal operands through a microcode assist that is tens of
//! times slower, so without this a replica group's epochs slowed down about 4× between the first
//! and the tenth epoch (measured on a Table 5 tuning group of 5 replicas: 36 s → 140–255 s per
//! epoch). PyTorch offers the same switch as `torch.set_flush_denormal(True)`; tch does not
//! expose it.
//!
//! The MXCSR register is per thread, and a new thread inherits its creator's. So
//! [`flush_denormals`] must run on the main thread before libtorch or rayon start their worker
//! pools: every binary calls [`init`] first thing (the experiment layer's grid runner calls it too, for
//! library callers). The numerical effect is limited to values below 1.2e-38, which become 0.
//!
//! ## Freed memory
//! A training step allocates and frees dozens of 0.1–2 MB activation buffers. glibc serves such
//! sizes with fresh `mmap`s and returns them on free, so every step page-faults its buffers in
//! again and the kernel zeroes them: `perf` showed 20% of a step's cycles in `clear_page_erms`.
//! [`keep_freed_memory`] raises glibc's mmap threshold to its maximum (32 MiB) and stops heap
//! trimming, so freed buffers are reused. No numerical effect.

/// Every set-up; call first thing in `main`.
pub fn init() {
    flush_denormals();
    keep_freed_memory();
    load_cuda();
}

/// Load libtorch's CUDA backend (`libtorch_cuda.so`) when the machine has an NVIDIA driver, and
/// return whether it is loaded. Our binaries call no symbol of it, so the linker leaves it out
/// (`--as-needed`) and libtorch would report no CUDA device; loading it registers the backend.
/// It is looked up like any library (the binary's rpath to the libtorch it was built with, then
/// `LD_LIBRARY_PATH`, e.g. another PyTorch install's `torch/lib` of the same version). Without a
/// driver nothing is loaded, so CPU machines do not pay for the CUDA libraries.
#[allow(unsafe_code)]
pub fn load_cuda() -> bool {
    #[cfg(target_os = "linux")]
    {
        let driver = ["/proc/driver/nvidia/version", "/dev/nvidiactl"]
            .iter()
            .any(|p| std::path::Path::new(p).exists());
        if !driver {
            return false;
        }
        extern "C" {
            fn dlopen(filename: *const std::ffi::c_char, flag: i32) -> *mut std::ffi::c_void;
        }
        const RTLD_NOW: i32 = 2;
        const RTLD_GLOBAL: i32 = 0x100;
        // SAFETY: the name is a NUL-terminated literal; dlopen either returns a handle, which is
        // kept for the life of the process (the library registers its backend in its static
        // initialisers), or null.
        unsafe { !dlopen(c"libtorch_cuda.so".as_ptr(), RTLD_NOW | RTLD_GLOBAL).is_null() }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// glibc's `mallopt` parameters (malloc.h).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_TRIM_THRESHOLD: i32 = -1;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_MMAP_THRESHOLD: i32 = -3;

/// Keep freed heap memory for reuse (glibc; a no-op elsewhere). Returns whether it applied.
#[allow(unsafe_code)]
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt only changes allocator tunables; both values are in glibc's accepted
        // ranges (the mmap threshold's maximum is 32 MiB on 64-bit), and it returns 0 on error.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, i32::MAX) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// FTZ (bit 15) and DAZ (bit 6) of MXCSR.
#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = 0x8040;

/// Set flush-to-zero and denormals-are-zero on the calling thread (x86-64; a no-op elsewhere).
/// Returns whether the mode is now on.
#[allow(unsafe_code)]
pub fn flush_denormals() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let csr = read_mxcsr() | FTZ_DAZ;
        // SAFETY: ldmxcsr only reads the 32-bit value behind the pointer into MXCSR; setting
        // FTZ/DAZ cannot fault (the reserved bits are kept as read).
        unsafe {
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags, readonly));
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the calling thread flushes denormals.
pub fn flushing_denormals() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        read_mxcsr() & FTZ_DAZ == FTZ_DAZ
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The calling thread's MXCSR.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn read_mxcsr() -> u32 {
    let mut csr: u32 = 0;
    // SAFETY: stmxcsr only stores the 32-bit MXCSR into the local behind the pointer.
    unsafe {
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
    }
    csr
}

/// libtorch's version string as seen at run time (from the linked library).
pub fn libtorch_version() -> String {
    // torch.__version__ is not exposed by the C API; the build pins 2.11.0 (torch-sys checks it).
    option_env!("ADATT_LIBTORCH_VERSION")
        .unwrap_or("2.11.0")
        .to_owned()
}

/// This process's peak resident memory so far in MiB (Linux `VmHWM`; NaN where unknown).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}
