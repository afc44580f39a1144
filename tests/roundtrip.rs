//! tinymlp → safetensors → PyTorch → safetensors → tinymlp keeps every weight
//! bit for bit. The PyTorch half is a committed fixture:
//! `tests/fixtures/roundtrip/tinymlp_{dtype}.safetensors` is what this crate
//! writes for a seeded network, and `torch_{dtype}.safetensors` is what
//! `scripts/roundtrip_fixture.py` got back from PyTorch after
//! `load_state_dict` and `state_dict()` → `safetensors.torch.save_file`.
//!
//! `TINYMLP_WRITE_FIXTURES=1 cargo test --test roundtrip` rewrites the tinymlp
//! files (then rerun the script).

use std::path::PathBuf;

use tinymlp::{Act, DynMlp, Init, Rng, Scalar};

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/roundtrip").join(name)
}

/// The network both halves start from: odd widths, width 1, values of every
/// sign and magnitude the initialiser gives.
fn network<T: Scalar>() -> DynMlp<T> {
    DynMlp::from_widths(&[3, 17, 1, 5], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(2024)).unwrap()
}

fn check<T: Scalar>(bits: impl Fn(T) -> u64) {
    let net = network::<T>();
    let ours = net.to_safetensors();
    let tinymlp_file = path(&format!("tinymlp_{}.safetensors", T::NAME));
    if std::env::var_os("TINYMLP_WRITE_FIXTURES").is_some() {
        std::fs::write(&tinymlp_file, &ours).unwrap();
    }
    let committed = std::fs::read(&tinymlp_file).unwrap();
    assert_eq!(committed, ours, "{} is stale: the writer's output changed", tinymlp_file.display());

    let from_torch = std::fs::read(path(&format!("torch_{}.safetensors", T::NAME))).unwrap();
    let back = DynMlp::<T>::from_safetensors(&from_torch, Act::Tanh, Act::Identity).unwrap();
    assert_eq!(back.widths(), net.widths());
    let original: Vec<u64> = net.parameters_to_vec().into_iter().map(&bits).collect();
    let returned: Vec<u64> = back.parameters_to_vec().into_iter().map(&bits).collect();
    assert_eq!(original, returned, "a weight changed on the way through PyTorch");
}

#[test]
fn f64_weights_survive_a_trip_through_pytorch_bit_for_bit() {
    check::<f64>(f64::to_bits);
}

#[test]
fn f32_weights_survive_a_trip_through_pytorch_bit_for_bit() {
    check::<f32>(|v| u64::from(v.to_bits()));
}
