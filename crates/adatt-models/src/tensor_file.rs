//! Named tensors as the bytes of a safetensors file, the format weights are exchanged in with
//! the official PyTorch code (`safetensors.torch.load_file` reads them). Files themselves are the
//! caller's: the `adatt` binary reads them, and writes them whole through a temporary file.

use std::borrow::Cow;
use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensors, View};
use tch::{Device, Tensor};

use crate::error::ModelError;

/// One tensor's row-major bytes, copied to the CPU.
struct CpuBytes {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl CpuBytes {
    fn of(t: &Tensor) -> Result<Self, ModelError> {
        let t = t.to_device(Device::Cpu).contiguous();
        let dtype = Dtype::try_from(t.kind())?;
        let numel = t.numel();
        let mut data = vec![0u8; numel * t.kind().elt_size_in_bytes()];
        t.f_copy_data_u8(&mut data, numel)?;
        let shape = t.size().iter().map(|&d| d as usize).collect();
        Ok(CpuBytes { dtype, shape, data })
    }
}

impl View for &CpuBytes {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// The bytes of a safetensors file holding `named` (the bytes `tch::Tensor::write_safetensors`
/// writes).
pub fn to_bytes(named: &[(String, Tensor)]) -> Result<Vec<u8>, ModelError> {
    to_bytes_with_metadata(named, None)
}

/// [`to_bytes`] with string metadata in the file's header (`__metadata__`).
pub fn to_bytes_with_metadata(
    named: &[(String, Tensor)],
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>, ModelError> {
    let tensors = named
        .iter()
        .map(|(name, t)| Ok((name.as_str(), CpuBytes::of(t)?)))
        .collect::<Result<Vec<_>, ModelError>>()?;
    safetensors::tensor::serialize(tensors.iter().map(|(n, b)| (*n, b)), &metadata)
        .map_err(|e| ModelError::Safetensors(format!("cannot serialize the tensors ({e:?})")))
}

/// The named tensors of a safetensors file's bytes, on the CPU.
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, ModelError> {
    from_bytes_with_metadata(bytes).map(|(named, _)| named)
}

/// [`from_bytes`], also giving the header's metadata (empty if it has none).
pub fn from_bytes_with_metadata(
    bytes: &[u8],
) -> Result<(Vec<(String, Tensor)>, HashMap<String, String>), ModelError> {
    let not_safetensors = |e: safetensors::SafeTensorError| {
        ModelError::Safetensors(format!("not a safetensors file ({e:?})"))
    };
    let file = SafeTensors::deserialize(bytes).map_err(not_safetensors)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(not_safetensors)?;
    let named = file
        .tensors()
        .into_iter()
        .map(|(name, view)| Ok((name, Tensor::try_from(view)?)))
        .collect::<Result<Vec<_>, ModelError>>()?;
    Ok((named, header.metadata().clone().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_are_tchs_file_and_read_back_exactly() {
        let named = vec![
            ("b".to_owned(), Tensor::from_slice(&[1.5f32, -2.0, 3.25])),
            (
                "a.weight".to_owned(),
                Tensor::from_slice(&[0.5f32, 1.0, 2.0, 4.0, 8.0, 16.0]).view([3, 2]),
            ),
            // Not contiguous: written row-major all the same.
            (
                "a.t".to_owned(),
                Tensor::from_slice(&[1f32, 2.0, 3.0, 4.0, 5.0, 6.0])
                    .view([2, 3])
                    .tr(),
            ),
        ];
        let bytes = to_bytes(&named).unwrap();
        let path = std::env::temp_dir().join(format!("adatt-tensor-file-{}", std::process::id()));
        let contiguous: Vec<(String, Tensor)> = named
            .iter()
            .map(|(n, t)| (n.clone(), t.contiguous()))
            .collect();
        Tensor::write_safetensors(&contiguous, &path).unwrap();
        let tch_bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(bytes, tch_bytes);

        let mut back = from_bytes(&bytes).unwrap();
        back.sort_by(|a, b| a.0.cmp(&b.0));
        let names: Vec<&str> = back.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a.t", "a.weight", "b"]);
        assert_eq!(back[0].1.size(), [3, 2]);
        let at: Vec<f32> = Vec::try_from(back[0].1.reshape([-1])).unwrap();
        assert_eq!(at, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let b: Vec<f32> = Vec::try_from(&back[2].1).unwrap();
        assert_eq!(b, [1.5, -2.0, 3.25]);
    }

    #[test]
    fn metadata_is_read_back_with_the_tensors() {
        let named = vec![("x".to_owned(), Tensor::from_slice(&[0.25f32, -1.0]))];
        let meta = HashMap::from([("state".to_owned(), "{\"step\": 3}".to_owned())]);
        let bytes = to_bytes_with_metadata(&named, Some(meta.clone())).unwrap();
        // safetensors' own reader (the format PyTorch users read) sees the same header.
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(header.metadata().as_ref(), Some(&meta));
        let (back, got) = from_bytes_with_metadata(&bytes).unwrap();
        assert_eq!(got, meta);
        assert_eq!(Vec::<f32>::try_from(&back[0].1).unwrap(), [0.25, -1.0]);
        let (_, none) = from_bytes_with_metadata(&to_bytes(&named).unwrap()).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn bytes_that_are_not_safetensors_are_refused_in_one_line() {
        for bad in [&b""[..], b"{\"a\": 1}", &[0xff; 64][..]] {
            let e = from_bytes(bad).unwrap_err().to_string();
            assert!(e.starts_with("not a safetensors file ("), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
