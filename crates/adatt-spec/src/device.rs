//! The device a run trained on, as records and manifests name it (`Cpu`, `Cuda(0)`, the names
//! libtorch's devices print as).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A device that trained runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunDevice {
    /// The CPU.
    Cpu,
    /// CUDA device `n`.
    Cuda(usize),
    /// Apple's Metal.
    Mps,
    /// Vulkan.
    Vulkan,
}

impl std::fmt::Display for RunDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunDevice::Cpu => f.write_str("Cpu"),
            RunDevice::Cuda(n) => write!(f, "Cuda({n})"),
            RunDevice::Mps => f.write_str("Mps"),
            RunDevice::Vulkan => f.write_str("Vulkan"),
        }
    }
}

impl std::str::FromStr for RunDevice {
    type Err = String;
    fn from_str(s: &str) -> Result<RunDevice, String> {
        let cuda = s
            .strip_prefix("Cuda(")
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|n| n.parse().ok());
        match (s, cuda) {
            (_, Some(n)) => Ok(RunDevice::Cuda(n)),
            ("Cpu", _) => Ok(RunDevice::Cpu),
            ("Mps", _) => Ok(RunDevice::Mps),
            ("Vulkan", _) => Ok(RunDevice::Vulkan),
            _ => Err(format!(
                "unknown device {s:?} (expected Cpu, Cuda(<n>), Mps or Vulkan)"
            )),
        }
    }
}

impl Serialize for RunDevice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RunDevice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RunDevice, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names are those tch's `Device` prints with `{:?}` (what records held before this
    /// type), so every committed record reads and writes back the same.
    #[test]
    fn devices_read_and_write_as_libtorch_prints_them() {
        for (text, d) in [
            ("Cpu", RunDevice::Cpu),
            ("Cuda(0)", RunDevice::Cuda(0)),
            ("Cuda(7)", RunDevice::Cuda(7)),
            ("Mps", RunDevice::Mps),
            ("Vulkan", RunDevice::Vulkan),
        ] {
            assert_eq!(text.parse::<RunDevice>(), Ok(d));
            assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{text}\""));
        }
        for bad in ["cpu", "Cuda(x)", "Cuda(1", "Tpu"] {
            assert!(bad.parse::<RunDevice>().is_err(), "{bad}");
        }
    }
}
