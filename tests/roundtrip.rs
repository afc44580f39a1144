//! tinymlp → safetensors → PyTorch → safetensors → tinymlp keeps every weight
//! bit for bit. The PyTorch half is a committed fixture:
//! `tests/fixtures/roundtrip/tinymlp_{dtype}.safetensors` is what this crate
//! writes for a seeded network, and `torch_{dtype}.safetensors` is what
//! `scripts/roundtrip_fixture.py` got back from PyTorch after
//! `load_state_dict` and `state_dict()` → `safetensors.torch.save_file`.
//!
//! The tinymlp files carry the network's description in `__metadata__`
//! (`tinymlp.version` among it), so the comparison with the committed file is
//! of the parts that must not change between versions: the tensors' names,
//! dtypes, shapes and data bytes, bit for bit, and every metadata entry but the
//! crate version, in order.
//!
//! `TINYMLP_WRITE_FIXTURES=1 cargo test --test roundtrip` rewrites the tinymlp
//! files (then rerun the script).

use std::path::PathBuf;

use tinymlp::safetensors::SafeTensors;
use tinymlp::{Act, DynMlp, Init, Rng, Scalar};

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/roundtrip").join(name)
}

/// The network both halves start from: odd widths, width 1, values of every
/// sign and magnitude the initialiser gives.
fn network<T: Scalar>() -> DynMlp<T> {
    DynMlp::from_widths(&[3, 17, 1, 5], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(2024)).unwrap()
}

/// Each tensor's name, dtype, shape and data bytes, in file order.
fn tensors<'a>(file: &SafeTensors<'a>) -> Vec<(String, &'static str, Vec<usize>, &'a [u8])> {
    file.tensors().iter().map(|t| (t.name().to_string(), t.dtype().name(), t.shape().to_vec(), t.bytes())).collect()
}

/// The metadata entries in order, but the crate version.
fn description<'f>(file: &'f SafeTensors<'_>) -> Vec<(&'f str, &'f str)> {
    file.metadata().iter().filter(|(k, _)| k != "tinymlp.version").map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn check<T: Scalar>(bits: impl Fn(T) -> u64) {
    let net = network::<T>();
    let ours = net.to_safetensors();
    let tinymlp_file = path(&format!("tinymlp_{}.safetensors", T::NAME));
    if std::env::var_os("TINYMLP_WRITE_FIXTURES").is_some() {
        std::fs::write(&tinymlp_file, &ours).unwrap();
    }
    let committed = std::fs::read(&tinymlp_file).unwrap();
    let stale = format!("{} is stale: the writer's output changed", tinymlp_file.display());
    let (committed, ours) = (SafeTensors::parse(&committed).unwrap(), SafeTensors::parse(&ours).unwrap());
    assert_eq!(tensors(&committed), tensors(&ours), "{stale}");
    assert_eq!(ours.metadata_value("tinymlp.version"), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(description(&committed), description(&ours), "{stale}");
    assert_eq!(description(&ours)[0], ("tinymlp.format", "1"));

    let from_torch = std::fs::read(path(&format!("torch_{}.safetensors", T::NAME))).unwrap();
    let back = DynMlp::<T>::from_safetensors(&from_torch, Act::Tanh, Act::Identity).unwrap();
    assert_eq!(back.widths(), net.widths());
    let original: Vec<u64> = net.parameters_to_vec().into_iter().map(&bits).collect();
    let returned: Vec<u64> = back.parameters_to_vec().into_iter().map(&bits).collect();
    assert_eq!(original, returned, "a weight changed on the way through PyTorch");
    // PyTorch's state_dict carries no description; ours loads without arguments.
    assert!(DynMlp::<T>::from_described(&from_torch).is_err());
    let described = DynMlp::<T>::from_described(&std::fs::read(&tinymlp_file).unwrap()).unwrap();
    assert_eq!(described.parameters_to_vec().into_iter().map(&bits).collect::<Vec<_>>(), original);
}

#[test]
fn f64_weights_survive_a_trip_through_pytorch_bit_for_bit() {
    check::<f64>(f64::to_bits);
}

#[test]
fn f32_weights_survive_a_trip_through_pytorch_bit_for_bit() {
    check::<f32>(|v| u64::from(v.to_bits()));
}
