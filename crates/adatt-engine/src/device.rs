//! The `[run]` settings that depend on the device, resolved: which device `device = "auto"` is,
//! and what `replicas = 0`, `eval_batch = 0` and `input = "auto"` mean on it.

use adatt_spec::{DeviceChoice, InputMode, RunConfig};
use tch::Device;

use crate::error::{EngineError, Result};

/// How records and manifests name `device`.
pub fn run_device(device: Device) -> adatt_spec::RunDevice {
    match device {
        Device::Cpu => adatt_spec::RunDevice::Cpu,
        Device::Cuda(n) => adatt_spec::RunDevice::Cuda(n),
        Device::Mps => adatt_spec::RunDevice::Mps,
        Device::Vulkan => adatt_spec::RunDevice::Vulkan,
    }
}

/// The tch device of `choice`; `cuda` is refused when libtorch sees no CUDA device.
pub fn resolve_device(choice: DeviceChoice) -> Result<Device> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Cuda if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        DeviceChoice::Cuda => Err(EngineError::NoCuda),
        DeviceChoice::Auto => Ok(Device::cuda_if_available()),
    }
}

/// The input path used on `device`: `auto` is `sparse` on the CPU, `dense` on CUDA (the faster
/// of the two on each, docs/performance.md).
pub fn resolve_input(mode: InputMode, device: Device) -> InputMode {
    match (mode, device) {
        (InputMode::Auto, Device::Cpu) => InputMode::Sparse,
        (InputMode::Auto, _) => InputMode::Dense,
        (m, _) => m,
    }
}

/// Rows per evaluation chunk for `eval_batch = 0` (see [`RunConfig::eval_batch`]): 1024 on the
/// CPU, 4096 on CUDA.
pub fn auto_eval_batch(device: Device) -> usize {
    match device {
        Device::Cpu => 1024,
        _ => 4096,
    }
}

/// Rows per evaluation chunk of `run` on `device` (`0` resolved).
pub fn resolve_eval_batch(run: &RunConfig, device: Device) -> usize {
    match run.eval_batch {
        0 => auto_eval_batch(device),
        b => b,
    }
}

/// Replicas per group of `run` on `device` (`0` resolved: 1 on the CPU, 100 on CUDA).
pub fn resolve_replicas(run: &RunConfig, device: Device) -> usize {
    match (run.replicas, device) {
        (0, Device::Cpu) => 1,
        (0, _) => 100,
        (r, _) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adatt_spec::Seeds;

    #[test]
    fn auto_run_settings_resolve_per_device() {
        // (replicas, eval_batch, input) as configured -> resolved on CPU and on CUDA
        let cases = [
            (
                (0, 0, InputMode::Auto),
                (1, 1024, InputMode::Sparse),
                (100, 4096, InputMode::Dense),
            ),
            (
                (7, 333, InputMode::Dense),
                (7, 333, InputMode::Dense),
                (7, 333, InputMode::Dense),
            ),
            (
                (2, 9, InputMode::Sparse),
                (2, 9, InputMode::Sparse),
                (2, 9, InputMode::Sparse),
            ),
        ];
        for ((r, e, i), cpu, cuda) in cases {
            let run = RunConfig {
                seeds: Seeds::Range { start: 0, count: 1 },
                replicas: r,
                device: DeviceChoice::Cpu,
                threads: 0,
                input: i,
                eval_batch: e,
                weights: None,
            };
            for (dev, want) in [(Device::Cpu, cpu), (Device::Cuda(0), cuda)] {
                let got = (
                    resolve_replicas(&run, dev),
                    resolve_eval_batch(&run, dev),
                    resolve_input(run.input, dev),
                );
                assert_eq!(got, want, "{dev:?}");
            }
        }
    }
}
