//! Process set-up: flush-to-zero reaches libtorch's worker threads when set first thing in `main`,
//! and glibc accepts the malloc settings.
//! Its own test binary: the mode has to be set before any libtorch op creates the thread pool.
#![cfg(target_arch = "x86_64")]

use adatt_engine::runtime::{flush_denormals, flushing_denormals, keep_freed_memory};
use std::hint::black_box;

#[test]
fn subnormals_become_zero_on_every_thread() {
    let tiny = 1e-39_f32;
    assert!(tiny.is_subnormal());
    assert!(!flushing_denormals());
    assert!((black_box(tiny) * black_box(1.0f32)).is_subnormal());

    assert!(flush_denormals());
    assert!(flushing_denormals());
    assert_eq!(black_box(tiny) * black_box(1.0f32), 0.0);
    assert!(std::thread::spawn(flushing_denormals).join().unwrap());

    // 4 intra-op threads over 4M elements: every chunk must flush, not only the caller's.
    tch::set_num_threads(4);
    let x = tch::Tensor::full(
        [1 << 22],
        f64::from(tiny),
        (tch::Kind::Float, tch::Device::Cpu),
    );
    let y = &x * 1.0f64;
    let nonzero = i64::try_from(y.ne(0.0).sum(tch::Kind::Int64)).unwrap();
    assert_eq!(
        nonzero, 0,
        "{nonzero} subnormals survived a multiplication by 1"
    );
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_accepts_the_malloc_settings() {
    assert!(keep_freed_memory());
}
