//! Self-describing model files: `to_safetensors` records each layer's
//! activation (with its parameters), the dtype and the format version, and
//! `DynMlp::from_described` rebuilds a network that computes the same outputs
//! bit for bit with no other argument. Custom activations load through a
//! mapping by name; files without a description (PyTorch's own) still load with
//! `from_safetensors`; every malformed entry is an error naming its key.

use tinymlp::safetensors::{Dtype, SafeTensors, Writer};
use tinymlp::{
    Act, Activation, DynMlp, Elu, Error, HalfMse, Identity, Init, LeakyRelu, Linear, Matrix, Mlp, Name, Rng, Scalar,
    Softplus, Tanh, TensorNames,
};

/// Every built-in, the parameterised ones with PyTorch's defaults and with
/// parameters of their own (not round decimals, so a lossy print would show).
fn every_builtin() -> Vec<Act> {
    let mut acts = Act::ALL.to_vec();
    acts.push(Act::LeakyRelu(LeakyRelu::new(0.173_205_080_756_887_72)));
    acts.push(Act::LeakyRelu(LeakyRelu::new(-0.0)));
    acts.push(Act::Elu(Elu::new(1.0 / 3.0)));
    acts.push(Act::Softplus(Softplus::new(2.471_828_182_845_904, 7.5e-3)));
    acts
}

/// Random inputs with wide magnitudes (negative ones too, where the
/// parameterised branches are).
fn inputs<T: Scalar>(rows: usize, cols: usize, seed: u64) -> Matrix<T> {
    let mut rng = Rng::new(seed);
    Matrix::from_fn(rows, cols, |_, _| T::from_f64(rng.normal() * 3.0))
}

fn bits<T: Scalar>(values: &[T]) -> Vec<u64> {
    values.iter().map(|v| v.as_f64().to_bits()).collect()
}

/// The parameters' bits of an activation, so that -0.0 and 0.0 differ.
fn parameter_bits(act: Act) -> Vec<u64> {
    match act {
        Act::LeakyRelu(LeakyRelu { negative_slope }) => vec![negative_slope.to_bits()],
        Act::Elu(Elu { alpha }) => vec![alpha.to_bits()],
        Act::Softplus(Softplus { beta, threshold }) => vec![beta.to_bits(), threshold.to_bits()],
        _ => vec![],
    }
}

/// Saves a network whose layers take the built-ins in turn, loads it back with
/// no argument, and compares activations, parameters and outputs bit for bit.
fn round_trip_every_builtin<T: Scalar>() {
    let acts = every_builtin();
    let mut checked = 0;
    for depth in 1..=4 {
        for start in 0..acts.len() {
            let widths: Vec<usize> = (0..=depth).map(|i| 1 + (start + 3 * i) % 6).collect();
            let layer_act = |layer: usize| acts[(start + layer) % acts.len()];
            let seed = (depth * 100 + start) as u64;
            let mut net =
                DynMlp::<T>::from_widths_with(&widths, layer_act, Init::TorchDefault, &mut Rng::new(seed)).unwrap();
            let bytes = net.to_safetensors();
            let mut back = DynMlp::<T>::from_described(&bytes).unwrap();

            assert_eq!(back.widths(), widths);
            for (layer, dense) in back.layers().iter().enumerate() {
                let expected = layer_act(layer);
                assert_eq!(*dense.activation(), expected, "layer {layer}");
                assert_eq!(parameter_bits(*dense.activation()), parameter_bits(expected));
            }
            assert_eq!(bits(&back.parameters_to_vec()), bits(&net.parameters_to_vec()));
            let x = inputs::<T>(7, widths[0], seed);
            let (ours, theirs) = (net.try_predict(&x).unwrap(), back.try_predict(&x).unwrap());
            assert_eq!(bits(theirs.as_slice()), bits(ours.as_slice()), "depth {depth}, start {start}");
            // Training runs identically too: the same gradients, bit for bit.
            let target = inputs::<T>(7, widths[depth], seed + 1);
            for network in [&mut net, &mut back] {
                network.zero_grad();
                network.try_forward(&x).unwrap();
                network.try_backward_loss(&HalfMse, &target).unwrap();
            }
            assert_eq!(bits(&back.gradients_to_vec()), bits(&net.gradients_to_vec()));
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * acts.len());
}

#[test]
fn every_builtin_loads_with_no_arguments_and_computes_the_same_bits_f32() {
    round_trip_every_builtin::<f32>();
}

#[test]
fn every_builtin_loads_with_no_arguments_and_computes_the_same_bits_f64() {
    round_trip_every_builtin::<f64>();
}

#[test]
fn no_builtin_name_can_be_mistaken_for_a_custom_activation() {
    assert!(Act::ALL.iter().all(|act| !act.name().starts_with("custom")));
}

#[test]
fn the_description_holds_format_version_dtype_and_specs() {
    let leaky = Act::LeakyRelu(LeakyRelu::new(0.2));
    let net =
        DynMlp::<f32>::from_widths(&[2, 3, 3, 1], leaky, Act::Sigmoid, Init::TorchDefault, &mut Rng::new(0)).unwrap();
    let bytes = net.to_safetensors();
    let file = SafeTensors::parse(&bytes).unwrap();
    let metadata: Vec<(&str, &str)> = file.metadata().iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        metadata,
        [
            ("tinymlp.format", "1"),
            ("tinymlp.version", env!("CARGO_PKG_VERSION")),
            ("tinymlp.dtype", "F32"),
            ("tinymlp.layers.0.activation", "leaky_relu(0.2)"),
            ("tinymlp.layers.1.activation", "leaky_relu(0.2)"),
            ("tinymlp.layers.2.activation", "sigmoid"),
        ]
    );
    let wide =
        DynMlp::<f64>::from_widths(&[1, 1], Act::Tanh, Act::Softplus(Softplus::DEFAULT), Init::Zeros, &mut Rng::new(0))
            .unwrap();
    let file_bytes = wide.to_safetensors();
    let file = SafeTensors::parse(&file_bytes).unwrap();
    assert_eq!(file.metadata_value("tinymlp.dtype"), Some("F64"));
    assert_eq!(file.metadata_value("tinymlp.layers.0.activation"), Some("softplus(1.0, 20.0)"));
}

#[test]
fn const_generic_networks_write_the_description_too() {
    let mut rng = Rng::new(5);
    let net = Mlp::new((
        Linear::<f64, 3, 8, Tanh>::new(&mut rng),
        Linear::<f64, 8, 8, LeakyRelu>::with(LeakyRelu::new(0.3), Init::TorchDefault, &mut rng),
        Linear::<f64, 8, 2, Identity>::new(&mut rng),
    ));
    let back = DynMlp::<f64>::from_described(&net.to_safetensors()).unwrap();
    let acts: Vec<Act> = back.layers().iter().map(|layer| *layer.activation()).collect();
    assert_eq!(acts, [Act::Tanh, Act::LeakyRelu(LeakyRelu::new(0.3)), Act::Identity]);
    let x = inputs::<f64>(5, 3, 1);
    assert_eq!(bits(back.try_predict(&x).unwrap().as_slice()), bits(net.try_predict(&x).unwrap().as_slice()));
}

#[test]
fn sequential_names_carry_the_description() {
    let net =
        DynMlp::<f32>::from_widths(&[2, 4, 1], Act::Relu, Act::Sigmoid, Init::TorchDefault, &mut Rng::new(3)).unwrap();
    let bytes = net.to_safetensors_with(TensorNames::Sequential, &[("note", "kept")]);
    let back = DynMlp::<f32>::from_described(&bytes).unwrap();
    assert_eq!(bits(&back.parameters_to_vec()), bits(&net.parameters_to_vec()));
    assert_eq!(*back.layers()[0].activation(), Act::Relu);
    assert_eq!(SafeTensors::parse(&bytes).unwrap().metadata_value("note"), Some("kept"));
}

/// x / (1 + |x|), which names itself.
#[derive(Clone, Copy)]
struct Softsign;

impl<T: Scalar> Activation<T> for Softsign {
    fn value(&self, x: T) -> T {
        x / (T::one() + x.abs())
    }
    fn derivative(&self, x: T, _y: T) -> T {
        let d = T::one() + x.abs();
        T::one() / (d * d)
    }
    fn name(&self) -> Option<&str> {
        Some("softsign")
    }
}

/// The same function with no name.
#[derive(Clone, Copy)]
struct Nameless;

impl<T: Scalar> Activation<T> for Nameless {
    fn value(&self, x: T) -> T {
        x / (T::one() + x.abs())
    }
    fn derivative(&self, x: T, _y: T) -> T {
        let d = T::one() + x.abs();
        T::one() / (d * d)
    }
}

type Boxed = DynMlp<f64, Box<dyn Activation<f64>>>;

fn mixed_network(custom: impl Fn() -> Box<dyn Activation<f64>>) -> Boxed {
    Boxed::from_widths_with(
        &[3, 6, 6, 2],
        |layer| match layer {
            0 => custom(),
            1 => Box::new(Elu::new(0.7)),
            _ => custom(),
        },
        Init::TorchDefault,
        &mut Rng::new(11),
    )
    .unwrap()
}

#[test]
fn a_named_custom_activation_loads_through_the_callers_mapping() {
    let net = mixed_network(|| Box::new(Softsign));
    let bytes = net.to_safetensors();
    let file = SafeTensors::parse(&bytes).unwrap();
    assert_eq!(file.metadata_value("tinymlp.layers.0.activation"), Some("custom:softsign"));
    assert_eq!(file.metadata_value("tinymlp.layers.1.activation"), Some("elu(0.7)"));

    let mut asked = Vec::new();
    let back = Boxed::from_described_with(&bytes, |name| {
        asked.push(name.to_string());
        (name == "softsign").then(|| Box::new(Softsign) as Box<dyn Activation<f64>>)
    })
    .unwrap();
    assert_eq!(asked, ["softsign", "softsign"]);
    let x = inputs::<f64>(9, 3, 4);
    assert_eq!(bits(back.try_predict(&x).unwrap().as_slice()), bits(net.try_predict(&x).unwrap().as_slice()));

    // Without a mapping for the name, the error names the layer and the name.
    let refused = Boxed::from_described_with(&bytes, |_| None).err().unwrap();
    assert_eq!(refused, Error::UnknownActivation { layer: 0, name: Name::new("softsign") });
    assert_eq!(DynMlp::<f64>::from_described(&bytes).unwrap_err(), refused);
    assert!(refused.to_string().contains("\"softsign\""), "{refused}");
}

#[test]
fn an_unnamed_custom_activation_is_recorded_but_refused_with_its_layer() {
    let net = mixed_network(|| Box::new(Nameless));
    let bytes = net.to_safetensors();
    assert_eq!(SafeTensors::parse(&bytes).unwrap().metadata_value("tinymlp.layers.2.activation"), Some("custom"));
    let err = Boxed::from_described_with(&bytes, |_| Some(Box::new(Nameless))).err().unwrap();
    assert_eq!(err, Error::UnnamedActivation { layer: 0 });
    // The file still loads with the activations given.
    let back = DynMlp::<f64, Nameless>::from_safetensors(&bytes, Nameless, Nameless).unwrap();
    assert_eq!(bits(&back.parameters_to_vec()), bits(&net.parameters_to_vec()));
}

#[test]
fn pytorch_files_without_a_description_load_as_before_and_name_the_missing_key() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/roundtrip/torch_f32.safetensors");
    let bytes = std::fs::read(path).unwrap();
    assert!(SafeTensors::parse(&bytes).unwrap().metadata().is_empty());
    let net = DynMlp::<f32>::from_safetensors(&bytes, Act::Tanh, Act::Identity).unwrap();
    assert_eq!(net.widths(), [3, 17, 1, 5]);
    let err = DynMlp::<f32>::from_described(&bytes).unwrap_err();
    assert_eq!(err, Error::MissingMetadata { key: Name::new("tinymlp.format") });
    assert!(err.to_string().contains("from_safetensors"), "{err}");
}

#[test]
fn f32_files_widen_into_f64_networks_and_f64_files_do_not_narrow() {
    let small =
        DynMlp::<f32>::from_widths(&[2, 3], Act::Gelu, Act::Gelu, Init::TorchDefault, &mut Rng::new(1)).unwrap();
    let wide = DynMlp::<f64>::from_described(&small.to_safetensors()).unwrap();
    let widened: Vec<f64> = small.parameters_to_vec().iter().map(|&p| f64::from(p)).collect();
    assert_eq!(wide.parameters_to_vec(), widened);
    assert!(matches!(DynMlp::<f32>::from_described(&wide.to_safetensors()), Err(Error::Safetensors(_))));
}

#[test]
fn the_callers_entries_under_the_tinymlp_prefix_are_not_written() {
    let net =
        DynMlp::<f32>::from_widths(&[2, 2, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(2)).unwrap();
    let bytes = net.to_safetensors_with_metadata(&[
        ("tinymlp.layers.0.activation", "relu"),
        ("tinymlp.format", "2"),
        ("tinymlp.note", "mine"),
        ("note", "mine"),
    ]);
    let file = SafeTensors::parse(&bytes).unwrap();
    assert_eq!(file.metadata_value("tinymlp.layers.0.activation"), Some("tanh"));
    assert_eq!(file.metadata_value("tinymlp.format"), Some("1"));
    assert_eq!(file.metadata_value("tinymlp.note"), None);
    assert_eq!(file.metadata_value("note"), Some("mine"));
    let back = DynMlp::<f32>::from_described(&bytes).unwrap();
    assert_eq!(*back.layers()[0].activation(), Act::Tanh);
}

/// `bytes` with its metadata edited by `edit` (tensors copied unchanged).
fn edited(bytes: &[u8], edit: impl FnOnce(&mut Vec<(String, String)>)) -> Vec<u8> {
    let file = SafeTensors::parse(bytes).unwrap();
    let mut metadata = file.metadata().to_vec();
    edit(&mut metadata);
    let mut writer = Writer::new();
    for tensor in file.tensors() {
        match tensor.dtype() {
            Dtype::F32 => writer.add(tensor.name(), tensor.shape(), &tensor.to_vec::<f32>().unwrap()),
            _ => writer.add(tensor.name(), tensor.shape(), &tensor.to_vec::<f64>().unwrap()),
        }
        .unwrap();
    }
    for (key, value) in &metadata {
        writer.metadata(key, value);
    }
    writer.to_bytes()
}

fn set(key: &str, value: &str) -> impl FnOnce(&mut Vec<(String, String)>) {
    let (key, value) = (key.to_string(), value.to_string());
    move |metadata| match metadata.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => metadata.push((key, value)),
    }
}

fn remove(key: &str) -> impl FnOnce(&mut Vec<(String, String)>) {
    let key = key.to_string();
    move |metadata| metadata.retain(|(k, _)| *k != key)
}

fn invalid(key: &str, value: &str) -> (Name, Name) {
    (Name::new(key), Name::new(value))
}

#[test]
fn every_malformed_entry_is_an_error_naming_its_key() {
    let net =
        DynMlp::<f32>::from_widths(&[2, 3, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(8)).unwrap();
    let good = net.to_safetensors();
    assert!(DynMlp::<f32>::from_described(&edited(&good, |_| {})).is_ok(), "the editing itself keeps the file valid");
    let layer0 = "tinymlp.layers.0.activation";

    // (edit, key, value, what the message's expectation starts with)
    type Edit = Box<dyn FnOnce(&mut Vec<(String, String)>)>;
    let cases: Vec<(Edit, &str, &str, &str)> = vec![
        (Box::new(set(layer0, "swish")), layer0, "swish", "one of identity, sigmoid"),
        (Box::new(set(layer0, "leaky_relu(abc)")), layer0, "leaky_relu(abc)", "leaky_relu(negative_slope)"),
        (Box::new(set(layer0, "leaky_relu(NaN)")), layer0, "leaky_relu(NaN)", "leaky_relu(negative_slope)"),
        (Box::new(set(layer0, "elu(inf)")), layer0, "elu(inf)", "elu(alpha)"),
        (Box::new(set(layer0, "softplus(1.0)")), layer0, "softplus(1.0)", "softplus(beta, threshold)"),
        (Box::new(set(layer0, "tanh(1)")), layer0, "tanh(1)", "tanh alone"),
        (Box::new(set(layer0, "elu(1.0")), layer0, "elu(1.0", "a ')'"),
        (Box::new(set(layer0, "")), layer0, "", "one of"),
        (Box::new(set("tinymlp.dtype", "F16")), "tinymlp.dtype", "F16", "F32 or F64"),
        (Box::new(set("tinymlp.dtype", "F64")), "tinymlp.dtype", "F64", "F32, the dtype of the file's tensors"),
        (Box::new(set("tinymlp.format", "2")), "tinymlp.format", "2", "1, the only format"),
        (Box::new(set("tinymlp.format", "")), "tinymlp.format", "", "1, the only format"),
        (Box::new(set("tinymlp.layers.2.activation", "tanh")), "tinymlp.layers.2.activation", "tanh", "no such key"),
        (Box::new(set("tinymlp.layers.01.activation", "tanh")), "tinymlp.layers.01.activation", "tanh", "no such key"),
        (Box::new(set("tinymlp.layers.0.act", "tanh")), "tinymlp.layers.0.act", "tanh", "no such key"),
    ];
    for (edit, key, value, expected_start) in cases {
        let bytes = edited(&good, edit);
        match DynMlp::<f32>::from_described(&bytes) {
            Err(Error::InvalidMetadata { key: k, value: v, expected }) => {
                assert_eq!((k, v), invalid(key, value));
                assert!(expected.starts_with(expected_start), "{key} = {value}: {expected}");
                let message = DynMlp::<f32>::from_described(&bytes).unwrap_err().to_string();
                assert!(message.contains(key) && message.contains(&format!("{value:?}")), "{message}");
            }
            other => panic!("{key} = {value:?}: {other:?}"),
        }
    }

    for key in ["tinymlp.format", "tinymlp.dtype", "tinymlp.layers.1.activation"] {
        let err = DynMlp::<f32>::from_described(&edited(&good, remove(key))).unwrap_err();
        assert_eq!(err, Error::MissingMetadata { key: Name::new(key) });
        assert!(err.to_string().contains(key), "{err}");
    }
    // The crate version is for people: a file without it, or with another, loads.
    assert!(DynMlp::<f32>::from_described(&edited(&good, remove("tinymlp.version"))).is_ok());
    assert!(DynMlp::<f32>::from_described(&edited(&good, set("tinymlp.version", "9.9.9"))).is_ok());
    // `custom:` with an empty name is as unnamed as `custom`.
    let err = DynMlp::<f32>::from_described(&edited(&good, set(layer0, "custom:"))).unwrap_err();
    assert_eq!(err, Error::UnnamedActivation { layer: 0 });
}

#[test]
fn a_file_with_mixed_dtypes_disagrees_with_any_single_dtype() {
    let net =
        DynMlp::<f32>::from_widths(&[2, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(8)).unwrap();
    let mut writer = Writer::new();
    writer.add("layers.0.weight", &[1, 2], net.layers()[0].weight()).unwrap();
    writer.add("layers.0.bias", &[1], &[0.5f64]).unwrap();
    writer
        .metadata("tinymlp.format", "1")
        .metadata("tinymlp.dtype", "F32")
        .metadata("tinymlp.layers.0.activation", "tanh");
    let err = DynMlp::<f64>::from_described(&writer.to_bytes()).unwrap_err();
    assert_eq!(
        err,
        Error::InvalidMetadata {
            key: Name::new("tinymlp.dtype"),
            value: Name::new("F32"),
            expected: "F64, the dtype of the file's tensors"
        }
    );
}

/// A file whose activation would not be finite (softplus with beta 0: ln(2)/0
/// at the origin) is refused, naming the layer's key, the spec and the range;
/// it used to load and predict -inf.
#[test]
fn an_activation_outside_its_range_is_refused_with_its_layer() {
    let softplus = Act::Softplus(Softplus::new(0.0, 20.0));
    let acts = |layer| if layer == 1 { softplus } else { Act::Tanh };
    let net = DynMlp::<f64>::from_widths_with(&[2, 3, 3, 1], acts, Init::TorchDefault, &mut Rng::new(0)).unwrap();
    let err = DynMlp::<f64>::from_described(&net.to_safetensors()).err().unwrap();
    match &err {
        Error::InvalidMetadata { key, value, expected } => {
            assert_eq!(key.as_str(), "tinymlp.layers.1.activation");
            assert_eq!(value.as_str(), "softplus(0.0, 20.0)");
            assert!(expected.starts_with("softplus(beta, threshold) with beta > 0"), "{expected}");
        }
        other => panic!("{other:?}"),
    }
}
