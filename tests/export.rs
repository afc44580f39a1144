//! Export to Rust source: the committed `examples/embed/src/sine_net.rs` is
//! what the exporter writes for the committed trained weights (freshness), it
//! compiles (it is included below) and reproduces the trained network's
//! outputs bit for bit; errors for what cannot be exported.

use tinymlp::{
    Act, Activation, DynMlp, Error, Identity, Init, Linear, Matrix, Mlp, Predict, Rng, Scalar, StaticLinear, Tanh,
};

include!("../examples/embed/src/sine_net.rs");

const WEIGHTS: &[u8] = include_bytes!("../examples/embed/sine_net.safetensors");

fn trained() -> DynMlp<f32> {
    DynMlp::from_safetensors(WEIGHTS, Act::Tanh, Act::Identity).unwrap()
}

#[test]
fn the_committed_source_is_what_the_exporter_writes_for_the_committed_weights() {
    let source = trained().to_rust_source("SINE_NET").unwrap();
    let committed = include_str!("../examples/embed/src/sine_net.rs");
    assert!(
        source == committed,
        "examples/embed/src/sine_net.rs is stale: run `cargo run --release --example export_sine`"
    );
}

#[test]
fn the_exported_static_network_reproduces_the_trained_outputs_bit_for_bit() {
    let net = trained();
    for i in 0..=500 {
        let x = i as f32 / 500.0 * 1.5 - 0.25;
        let [ours] = SINE_NET.predict(&[x]);
        let theirs = net.try_predict(&Matrix::column(&[x])).unwrap().as_slice()[0];
        assert_eq!(ours.to_bits(), theirs.to_bits(), "x = {x}");
    }
    let mut batch = [[0.0f32]; 3];
    SINE_NET.predict_batch(&[[0.1], [0.2], [0.3]], &mut batch).unwrap();
    assert_eq!(batch[1], SINE_NET.predict(&[0.2]));
    assert!(SINE_NET.predict_batch(&[[0.1]], &mut batch).is_err());
}

#[test]
fn memory_budget_constants_add_up() {
    const PARAMETERS: usize = <SineNet as Predict<f32, 1, 1>>::PARAMETERS;
    const _: () = assert!(SINE_NET_BYTES == PARAMETERS * 4);
    assert_eq!(PARAMETERS, trained().parameter_count());
    assert_eq!(<SineNet as Predict<f32, 1, 1>>::SCRATCH_BYTES, (2 * 32 + 2 * 32 + 2) * 4);
    assert_eq!(StaticLinear::<f64, 3, 2, Tanh>::WEIGHT_BYTES, 8 * 8);
}

/// Every built-in round-trips through the generated source's constructors.
#[test]
fn every_builtin_activation_and_both_network_kinds_export() {
    for act in Act::ALL {
        let net =
            DynMlp::<f64>::from_widths(&[2, 3, 1], act, Act::Identity, Init::TorchDefault, &mut Rng::new(1)).unwrap();
        let source = net.to_rust_source("NET").unwrap();
        let expected = match act {
            Act::LeakyRelu(_) => "::tinymlp::LeakyRelu::new(0.01)".to_owned(),
            Act::Elu(_) => "::tinymlp::Elu::new(1.0)".to_owned(),
            Act::Softplus(_) => "::tinymlp::Softplus::new(1.0, 20.0)".to_owned(),
            // A unit variant's Debug form is its struct's name.
            unit => format!("::tinymlp::{unit:?}"),
        };
        assert!(source.contains(&expected), "{act}: {expected} missing from\n{source}");
    }
    let mut rng = Rng::new(2);
    let fixed = Mlp::new((Linear::<f32, 1, 2, Tanh>::new(&mut rng), Linear::<f32, 2, 1, Identity>::new(&mut rng)));
    let source = fixed.to_rust_source("FIXED").unwrap();
    assert!(source.contains("pub type Fixed = ("));
}

#[derive(Clone)]
struct Custom;

impl<T: Scalar> Activation<T> for Custom {
    fn value(&self, x: T) -> T {
        x
    }
    fn derivative(&self, _x: T, _y: T) -> T {
        T::one()
    }
}

#[test]
fn what_cannot_be_exported_is_an_error() {
    let mut rng = Rng::new(3);
    let net = DynMlp::<f32, _>::from_widths(&[1, 2, 1], Custom, Custom, Init::TorchDefault, &mut rng).unwrap();
    assert_eq!(net.to_rust_source("NET").unwrap_err(), Error::CustomActivation { layer: 0 });
    let mut net = trained();
    assert!(matches!(net.to_rust_source("sine_net"), Err(Error::InvalidIdentifier { .. })));
    assert!(matches!(net.to_rust_source("1NET"), Err(Error::InvalidIdentifier { .. })));
    let mut values = net.parameters_to_vec();
    values[5] = f32::NAN;
    net.set_parameters(&values).unwrap();
    assert!(matches!(net.to_rust_source("NET"), Err(Error::NonFinite { index: 5, .. })));
    let deep = DynMlp::<f32>::from_widths(&[1; 10], Act::Tanh, Act::Tanh, Init::TorchDefault, &mut rng).unwrap();
    assert_eq!(deep.to_rust_source("NET"), Err(Error::TooManyLayers { layers: 9, max: 8 }));
}
