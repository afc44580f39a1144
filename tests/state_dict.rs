//! Networks to and from safetensors with PyTorch's names: round trips, the
//! nn.Sequential naming, and an error naming the first tensor that does not fit.

use tinymlp::safetensors::{SafeTensors, Writer};
use tinymlp::{Act, DynMlp, Error, Identity, Init, Linear, Mlp, Name, Rng, Shape, Tanh};

fn dyn_net<T: tinymlp::Scalar>(widths: &[usize]) -> DynMlp<T> {
    DynMlp::from_widths(widths, Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(9)).unwrap()
}

fn file(tensors: &[(&str, &[usize], &[f32])]) -> Vec<u8> {
    let mut writer = Writer::new();
    for (name, shape, data) in tensors {
        writer.add(name, shape, data).unwrap();
    }
    writer.to_bytes()
}

#[test]
fn round_trips_are_bit_exact_for_both_kinds_and_dtypes() {
    let net = dyn_net::<f64>(&[3, 7, 1, 2]);
    let bytes = net.to_safetensors();
    let back = DynMlp::<f64>::from_safetensors(&bytes, Act::Tanh, Act::Identity).unwrap();
    assert_eq!(back.widths(), vec![3, 7, 1, 2]);
    let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
    assert_eq!(bits(back.parameters_to_vec()), bits(net.parameters_to_vec()));

    let mut rng = Rng::new(1);
    let fixed = Mlp::new((Linear::<f32, 3, 7, Tanh>::new(&mut rng), Linear::<f32, 7, 2, Identity>::new(&mut rng)));
    let mut other = Mlp::new((Linear::<f32, 3, 7, Tanh>::new(&mut rng), Linear::<f32, 7, 2, Identity>::new(&mut rng)));
    assert_ne!(other.parameters_to_vec(), fixed.parameters_to_vec());
    other.load_safetensors(&fixed.to_safetensors()).unwrap();
    assert_eq!(other.parameters_to_vec(), fixed.parameters_to_vec());
}

#[test]
fn names_shapes_dtypes_and_metadata_are_pytorchs() {
    let net = dyn_net::<f32>(&[2, 3, 1]);
    let bytes = net.to_safetensors_with_metadata(&[("format", "pt")]);
    let parsed = SafeTensors::parse(&bytes).unwrap();
    let names: Vec<&str> = parsed.names().collect();
    assert_eq!(names, ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]);
    assert_eq!(parsed.get("layers.0.weight").unwrap().shape(), &[3, 2]);
    assert_eq!(parsed.get("layers.1.bias").unwrap().shape(), &[1]);
    assert_eq!(parsed.get("layers.0.weight").unwrap().dtype().name(), "F32");
    assert_eq!(parsed.metadata_value("format"), Some("pt"));
}

#[test]
fn sequential_state_dicts_load_in_module_order() {
    // nn.Sequential(Linear(2,3), Tanh(), Linear(3,1)): keys 0.* and 2.*; key 10
    // sorts after 2 numerically, not as text.
    let w0 = [0.1f32, 0.2, 0.3, 0.4, 0.5, 0.6];
    let w2 = [1.0f32, 2.0, 3.0];
    let w10 = [-1.0f32];
    let bytes = file(&[
        ("10.weight", &[1, 1], &w10),
        ("10.bias", &[1], &[0.5]),
        ("0.weight", &[3, 2], &w0),
        ("0.bias", &[3], &[0.0, 0.0, 0.0]),
        ("2.weight", &[1, 3], &w2),
        ("2.bias", &[1], &[0.25]),
    ]);
    let net = DynMlp::<f32>::from_safetensors(&bytes, Act::Tanh, Act::Identity).unwrap();
    assert_eq!(net.widths(), vec![2, 3, 1, 1]);
    assert_eq!(net.layers()[0].weight(), &w0);
    assert_eq!(net.layers()[2].weight(), &w10);
}

#[test]
fn f32_files_widen_into_f64_networks_but_f64_files_do_not_narrow() {
    let small = dyn_net::<f32>(&[2, 2]);
    let wide = DynMlp::<f64>::from_safetensors(&small.to_safetensors(), Act::Tanh, Act::Identity).unwrap();
    let widened: Vec<f64> = small.parameters_to_vec().iter().map(|&p| f64::from(p)).collect();
    assert_eq!(wide.parameters_to_vec(), widened);
    let err = DynMlp::<f32>::from_safetensors(&wide.to_safetensors(), Act::Tanh, Act::Identity).unwrap_err();
    assert!(err.to_string().contains("F64"), "{err}");
}

#[test]
fn errors_name_the_first_tensor_that_does_not_fit() {
    let missing_bias = file(&[("layers.0.weight", &[1, 1], &[1.0])]);
    let err = DynMlp::<f32>::from_safetensors(&missing_bias, Act::Tanh, Act::Tanh).unwrap_err();
    assert_eq!(err, Error::MissingTensor { name: Name::new("layers.0.bias") });

    let gap = file(&[
        ("layers.0.weight", &[1, 1], &[1.0]),
        ("layers.0.bias", &[1], &[1.0]),
        ("layers.2.weight", &[1, 1], &[1.0]),
        ("layers.2.bias", &[1], &[1.0]),
    ]);
    let err = DynMlp::<f32>::from_safetensors(&gap, Act::Tanh, Act::Tanh).unwrap_err();
    assert_eq!(err.to_string(), "the file has no tensor \"layers.1.weight\"");

    let aliased = file(&[
        ("layers.0.weight", &[1, 1], &[1.0]),
        ("layers.0.bias", &[1], &[1.0]),
        ("layers.00.weight", &[1, 1], &[2.0]),
    ]);
    let err = DynMlp::<f32>::from_safetensors(&aliased, Act::Tanh, Act::Tanh).unwrap_err();
    assert_eq!(err, Error::UnexpectedTensor { name: Name::new("layers.00.weight") }, "two names for one layer");

    let stray = file(&[
        ("layers.0.weight", &[1, 1], &[1.0]),
        ("layers.0.bias", &[1], &[1.0]),
        ("1.running_mean", &[1], &[0.0]),
    ]);
    let err = DynMlp::<f32>::from_safetensors(&stray, Act::Tanh, Act::Tanh).unwrap_err();
    assert_eq!(err, Error::UnexpectedTensor { name: Name::new("1.running_mean") });

    let unchained = file(&[
        ("layers.0.weight", &[3, 2], &[0.0; 6]),
        ("layers.0.bias", &[3], &[0.0; 3]),
        ("layers.1.weight", &[1, 4], &[0.0; 4]),
        ("layers.1.bias", &[1], &[0.0]),
    ]);
    let err = DynMlp::<f32>::from_safetensors(&unchained, Act::Tanh, Act::Tanh).unwrap_err();
    assert_eq!(err, Error::LayersDoNotChain { layer: 1, previous_outputs: 3, inputs: 4 });

    let bad_bias = file(&[("layers.0.weight", &[3, 2], &[0.0; 6]), ("layers.0.bias", &[2], &[0.0; 2])]);
    let err = DynMlp::<f32>::from_safetensors(&bad_bias, Act::Tanh, Act::Tanh).unwrap_err();
    assert_eq!(err.to_string(), "tensor \"layers.0.bias\" has shape [2], expected [3]");

    let vector_weight = file(&[("layers.0.weight", &[3], &[0.0; 3]), ("layers.0.bias", &[3], &[0.0; 3])]);
    let err = DynMlp::<f32>::from_safetensors(&vector_weight, Act::Tanh, Act::Tanh).unwrap_err();
    assert!(matches!(err, Error::TensorShape { expected: None, .. }), "{err}");

    let no_outputs = file(&[("layers.0.weight", &[0, 3], &[]), ("layers.0.bias", &[0], &[])]);
    let err = DynMlp::<f32>::from_safetensors(&no_outputs, Act::Tanh, Act::Tanh).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor \"layers.0.weight\" has shape [0, 3], expected a 2-D [outputs, inputs] weight, both at least 1"
    );

    assert!(matches!(DynMlp::<f32>::from_safetensors(b"not a file", Act::Tanh, Act::Tanh), Err(Error::Safetensors(_))));
}

#[test]
fn loading_into_a_const_network_checks_every_shape_and_changes_nothing_on_error() {
    let mut rng = Rng::new(4);
    let mut net = Mlp::new((Linear::<f32, 2, 3, Tanh>::new(&mut rng), Linear::<f32, 3, 1, Identity>::new(&mut rng)));
    let before = net.parameters_to_vec();
    let wrong_second = file(&[
        ("layers.0.weight", &[3, 2], &[9.0; 6]),
        ("layers.0.bias", &[3], &[9.0; 3]),
        ("layers.1.weight", &[2, 3], &[9.0; 6]),
        ("layers.1.bias", &[2], &[9.0; 2]),
    ]);
    let err = net.load_safetensors(&wrong_second).unwrap_err();
    assert_eq!(
        err,
        Error::TensorShape {
            tensor: Name::new("layers.1.weight"),
            expected: Some(Shape::of(&[1, 3])),
            found: Shape::of(&[2, 3])
        }
    );
    assert_eq!(net.parameters_to_vec(), before, "nothing is half-loaded");
    let three_layers = dyn_net::<f32>(&[2, 3, 1, 1]).to_safetensors();
    assert_eq!(net.load_safetensors(&three_layers).unwrap_err(), Error::LayerCount { expected: 2, found: 3 });
    assert_eq!(net.parameters_to_vec(), before);
}

#[test]
fn sequential_names_round_trip_and_skip_identity_modules() {
    use tinymlp::TensorNames;
    use tinymlp::safetensors::SafeTensors;

    let names = |net: &DynMlp<f64>| {
        let bytes = net.to_safetensors_with(TensorNames::Sequential, &[("k", "v")]);
        let file = SafeTensors::parse(&bytes).unwrap();
        let mut names: Vec<String> = file.tensors().iter().map(|t| t.name().to_string()).collect();
        names.sort();
        let back = DynMlp::<f64>::from_safetensors(&bytes, Act::Tanh, Act::Identity).unwrap();
        assert_eq!(back.parameters_to_vec(), net.parameters_to_vec());
        names
    };
    let mut rng = Rng::new(2);
    // Linear, Tanh, Linear, Tanh, Linear (identity output: no module).
    let net =
        DynMlp::<f64>::from_widths(&[2, 3, 3, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut rng).unwrap();
    assert_eq!(names(&net), ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]);
    // An identity in the middle: Linear, Linear, Relu, Linear.
    let net = DynMlp::<f64>::from_widths_with(
        &[2, 3, 3, 1],
        |layer| [Act::Identity, Act::Relu, Act::Identity][layer],
        Init::TorchDefault,
        &mut rng,
    )
    .unwrap();
    assert_eq!(names(&net), ["0.bias", "0.weight", "1.bias", "1.weight", "3.bias", "3.weight"]);
}

/// A NaN or an infinity in a model file is refused by every loader, naming
/// the tensor and index, before the network changes: such a network could
/// only predict NaN.
#[test]
fn nan_and_infinite_weights_are_refused_naming_the_tensor() {
    fn check<T: tinymlp::Scalar>() {
        let clean = dyn_net::<T>(&[2, 3, 1]);
        for (layer, bias, index, bad) in
            [(0, false, 4, f64::NAN), (1, true, 0, f64::INFINITY), (1, false, 2, -f64::INFINITY)]
        {
            let mut poisoned = clean.clone();
            let tensor = poisoned.layer_mut(layer).unwrap();
            let values = if bias { tensor.bias_mut() } else { tensor.weight_mut() };
            values[index] = T::from_f64(bad);
            let name = format!("layers.{layer}.{}", if bias { "bias" } else { "weight" });
            let is_expected = |err: &Error| {
                matches!(err, Error::NonFinite { what, index: i, value }
                    if what.as_str() == name && *i == index && value.to_bits() == bad.to_bits())
            };
            let bytes = poisoned.to_safetensors();

            let mut target = dyn_net::<T>(&[2, 3, 1]);
            let before = target.parameters_to_vec();
            let err = target.load_safetensors(&bytes).unwrap_err();
            assert!(is_expected(&err), "load_safetensors: {err}");
            assert_eq!(target.parameters_to_vec(), before, "unchanged on error");

            let err = DynMlp::<T>::from_safetensors(&bytes, Act::Tanh, Act::Identity).unwrap_err();
            assert!(is_expected(&err), "from_safetensors: {err}");
            let err = DynMlp::<T>::from_described(&bytes).unwrap_err();
            assert!(is_expected(&err), "from_described: {err}");
            assert!(err.to_string().starts_with(&format!("{name} holds ")), "{err}");
        }
    }
    check::<f32>();
    check::<f64>();

    // F32 data widened into an f64 network is checked too.
    let nan_bias = file(&[("layers.0.weight", &[1, 2], &[0.5, 0.25]), ("layers.0.bias", &[1], &[f32::NAN])]);
    let err = DynMlp::<f64>::from_safetensors(&nan_bias, Act::Tanh, Act::Identity).unwrap_err();
    assert!(matches!(&err, Error::NonFinite { what, index: 0, .. } if what.as_str() == "layers.0.bias"), "{err}");
}
