//! Safetensors bytes into `DynMlp::from_safetensors`, then forward, loss and backward passes
//! with fuzzer-chosen activations, batch, loss and target, any of which may be wrong.
//!
//! Input layout: byte 0 picks the mode.
//! - even: RAW mode. Bit 1 picks the network's type (f32/f64). The next `CHOICES` bytes drive
//!   the choices below; everything after them is the file, as is. Seeds are a model file from
//!   `tests/fixtures` behind a 16-byte prefix.
//! - odd: STRUCTURED mode. The rest of the input builds a valid (or deliberately slightly
//!   broken) file with `Writer` from small fuzzer-chosen widths and values, so that the
//!   fuzzer gets past the parser into the network code; then the same choices follow.
//!
//! Checks: nothing panics; an error is returned exactly when the inputs are wrong (wrong batch
//! width, empty batch, wrong target shape, a value the loss rejects, no forward pass);
//! `predict` equals `try_forward`; `loss` equals what `backward_loss` returns; a second
//! `backward_loss` without `zero_grad` doubles the gradients exactly; writing the network with
//! `to_safetensors` and reading it back gives the same parameters, bit for bit; a network built
//! with `from_widths` and filled with `load_safetensors` from the same file has the same
//! parameters as `from_safetensors` gave.
//!
//! The same bytes also go to `DynMlp::from_described` (the file's own description in
//! `__metadata__`) and to `from_described_with` with a mapping that accepts every custom name.
//! Structured mode sometimes writes a description, usually right, sometimes damaged (another
//! format or dtype, a garbage or NaN-parameter spec, a custom name, a layer key missing or
//! extra). Checks: no panic; an accepted file's layers have exactly the activations its
//! metadata names, its parameters are those `load_safetensors` reads, and it writes and reads
//! back the same; a refusal for anything but the description is the error `from_safetensors`
//! gives; the mapping loader refuses exactly what `from_described` refuses, except custom
//! names, which it asks for.
#![no_main]

mod common;

use common::{Dist, Float2, Gen};
use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use tinymlp::safetensors::{SafeTensors, Writer};
use tinymlp::{
    Act, Activation, Bce, BceWithLogits, CrossEntropy, CrossEntropyIndex, DynMlp, Error, HalfMse, Huber, Init, L1,
    Loss, Matrix, Mse, Rng,
};

/// Bytes of choices in raw mode, before the file.
const CHOICES: usize = 15;
/// Largest width the structured mode builds.
const MAX_WIDTH: usize = 64;
/// Largest batch.
const MAX_BATCH: usize = 8;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        let (choices, file) = rest.split_at(rest.len().min(CHOICES));
        let plan = Plan::new(&mut Unstructured::new(choices)).unwrap_or_default();
        if mode & 2 == 0 { run::<f32>(file, &plan) } else { run::<f64>(file, &plan) }
    } else {
        let mut u = Unstructured::new(rest);
        let Ok((file, net_f64)) = build_file(&mut u) else { return };
        let plan = Plan::new(&mut u).unwrap_or_default();
        if net_f64 { run::<f64>(&file, &plan) } else { run::<f32>(&file, &plan) }
    }
});

/// Everything the fuzzer chooses besides the file.
#[derive(Debug, Default)]
struct Plan {
    hidden: usize,
    output: usize,
    batch: usize,
    /// 0: the network's input width; otherwise a wrong width.
    width_error: u8,
    input_dist: u8,
    input_seed: u16,
    loss: u8,
    huber_delta: u8,
    /// 0, 1: the right shape; 2: a row too many; 3: a column too many; 4: empty.
    target_shape: u8,
    /// Even: values in the loss's domain; odd: anything.
    target_values: u8,
    target_seed: u16,
    input_grad: bool,
    step: bool,
}

impl Plan {
    fn new(u: &mut Unstructured<'_>) -> ArbResult<Self> {
        Ok(Self {
            hidden: u.choose_index(Act::ALL.len())?,
            output: u.choose_index(Act::ALL.len())?,
            batch: u.int_in_range(0..=MAX_BATCH)?,
            width_error: u.int_in_range(0u8..=7)?.saturating_sub(4),
            input_dist: u.arbitrary()?,
            input_seed: u.arbitrary()?,
            loss: u.arbitrary()?,
            huber_delta: u.arbitrary()?,
            target_shape: u.int_in_range(0..=4)?,
            target_values: u.arbitrary()?,
            target_seed: u.arbitrary()?,
            input_grad: u.arbitrary()?,
            step: u.arbitrary()?,
        })
    }
}

/// The crate's losses, by index.
fn loss<T: Float2>(index: u8, huber_delta: u8) -> Box<dyn Loss<T>> {
    match index % 8 {
        0 => Box::new(HalfMse),
        1 => Box::new(Mse),
        2 => Box::new(L1),
        3 => Box::new(Huber { delta: [1.0, 0.5, 2.0, 1e-3, 1e3][usize::from(huber_delta % 5)] }),
        4 => Box::new(Bce),
        5 => Box::new(BceWithLogits),
        6 => Box::new(CrossEntropy),
        _ => Box::new(CrossEntropyIndex),
    }
}

/// A matrix of `rows x cols` values drawn from `dist`, with NaN and infinities mixed in when
/// `specials` is set.
fn matrix<T: Float2>(rows: usize, cols: usize, dist: u8, seed: u16, specials: bool) -> Matrix<T> {
    let mut g = Gen::new(u64::from(seed));
    let dist = Dist::from_byte(dist);
    Matrix::from_fn(rows, cols, |_, _| {
        if specials && g.below(16) == 0 {
            [T::nan(), T::infinity(), T::neg_infinity()][g.below(3) as usize]
        } else {
            dist.sample(&mut g)
        }
    })
}

fn run<T: Float2>(file: &[u8], plan: &Plan) {
    check_described::<T>(file);
    let (hidden, output) = (Act::ALL[plan.hidden], Act::ALL[plan.output]);
    let net = match DynMlp::<T>::from_safetensors(file, hidden, output) {
        Ok(net) => net,
        Err(err) => {
            assert!(!err.to_string().is_empty());
            return;
        }
    };
    check_file_round_trips(file, &net, hidden, output);
    exercise(net, plan);
}

/// `to_safetensors` → `from_safetensors` and `from_widths` + `load_safetensors` agree with the
/// network read from `file`.
fn check_file_round_trips<T: Float2>(file: &[u8], net: &DynMlp<T>, hidden: Act, output: Act) {
    let widths = net.widths();
    assert!(widths.iter().all(|&w| w > 0));
    let params = bits(&net.parameters_to_vec());

    let written = net.to_safetensors();
    let back = DynMlp::<T>::from_safetensors(&written, hidden, output).expect("a written network reads back");
    assert_eq!(back.widths(), widths);
    assert_eq!(bits(&back.parameters_to_vec()), params, "to_safetensors/from_safetensors changed parameters");

    let mut fresh = DynMlp::<T>::from_widths(&widths, hidden, output, Init::TorchDefault, &mut Rng::new(0))
        .expect("widths of a loaded network are valid");
    fresh.load_safetensors(file).expect("load_safetensors accepts what from_safetensors accepted");
    assert_eq!(bits(&fresh.parameters_to_vec()), params, "load_safetensors and from_safetensors disagree");
}

/// The description's errors: what only `from_described` can refuse.
fn is_description_error(err: &Error) -> bool {
    matches!(
        err,
        Error::MissingMetadata { .. }
            | Error::InvalidMetadata { .. }
            | Error::UnknownActivation { .. }
            | Error::UnnamedActivation { .. }
    )
}

/// An error as its `Debug` text, to compare two: `Error`'s `==` compares the
/// values it carries, and an `Error::NonFinite` holding NaN is not `==` itself.
fn debug(err: Option<&Error>) -> String {
    format!("{err:?}")
}

/// `from_described` and `from_described_with` on any bytes; see the module docs.
fn check_described<T: Float2>(file: &[u8]) {
    let described = DynMlp::<T>::from_described(file);
    let mut asked = 0;
    let mapped = DynMlp::<T, Box<dyn Activation<T>>>::from_described_with(file, |name| {
        assert!(!name.is_empty(), "an empty custom name reached the mapping");
        asked += 1;
        Some(Box::new(Act::Identity))
    });
    let net = match described {
        Ok(net) => net,
        Err(err) => {
            assert!(!err.to_string().is_empty());
            let mapped = mapped.err();
            if let Error::UnknownActivation { .. } = err {
                assert!(asked > 0, "{err} without a custom name");
                assert!(!matches!(mapped, Some(Error::UnknownActivation { .. })), "the mapping accepts every name");
            } else {
                assert_eq!(debug(mapped.as_ref()), debug(Some(&err)), "the two described loaders disagree");
            }
            if !is_description_error(&err) {
                let plain = DynMlp::<T>::from_safetensors(file, Act::Identity, Act::Identity).err();
                assert_eq!(
                    debug(plain.as_ref()),
                    debug(Some(&err)),
                    "from_described refused the tensors, from_safetensors did not"
                );
            }
            return;
        }
    };
    assert_eq!(asked, 0, "a file with a custom layer loaded without a mapping");
    let mapped = mapped.expect("the mapping loader accepts what from_described accepts");
    let params = bits(&net.parameters_to_vec());
    assert_eq!(bits(&mapped.parameters_to_vec()), params);

    // Each layer has exactly the activation the metadata names.
    let parsed = SafeTensors::parse(file).expect("an accepted file parses");
    let acts: Vec<Act> = net.layers().iter().map(|layer| *layer.activation()).collect();
    for (layer, act) in acts.iter().enumerate() {
        let spec = parsed.metadata_value(&format!("tinymlp.layers.{layer}.activation")).expect("a described layer");
        assert_eq!(Act::from_spec(spec).as_ref(), Ok(act), "layer {layer}: {spec}");
    }

    // The parameters are what load_safetensors reads, and the network writes and reads back.
    let widths = net.widths();
    let mut fresh = DynMlp::<T>::from_widths_with(&widths, |layer| acts[layer], Init::Zeros, &mut Rng::new(0))
        .expect("widths of a loaded network are valid");
    fresh.load_safetensors(file).expect("load_safetensors accepts what from_described accepted");
    assert_eq!(bits(&fresh.parameters_to_vec()), params, "from_described and load_safetensors disagree");
    let back = DynMlp::<T>::from_described(&net.to_safetensors()).expect("a written network reads back described");
    assert_eq!(bits(&back.parameters_to_vec()), params);
    let back_acts: Vec<Act> = back.layers().iter().map(|layer| *layer.activation()).collect();
    assert_eq!(back_acts, acts);
}

fn exercise<T: Float2>(mut net: DynMlp<T>, plan: &Plan) {
    let (inputs, outputs) = (net.inputs(), net.outputs());
    net.set_input_grad(plan.input_grad);
    let loss = loss::<T>(plan.loss, plan.huber_delta);

    // Backward before any forward pass is an error, not a panic.
    let early = matrix::<T>(1, outputs, 0, 0, false);
    assert!(matches!(net.try_backward_loss(&*loss, &early), Err(Error::NoForwardPass | Error::ShapeMismatch { .. })));
    assert!(matches!(net.try_backward(&early), Err(Error::NoForwardPass)));

    let cols = match plan.width_error {
        0 => inputs,
        1 => inputs + 1,
        2 => inputs - 1,
        _ => 0,
    };
    let x = matrix::<T>(plan.batch, cols, plan.input_dist, plan.input_seed, plan.input_dist & 0x80 != 0);
    let predicted = net.try_predict(&x);
    let forward = net.try_forward(&x).cloned();
    match (&forward, cols == inputs, plan.batch > 0) {
        (Ok(out), true, true) => {
            assert_eq!(out.shape(), (plan.batch, outputs));
            let predicted = predicted.expect("predict accepts what try_forward accepts");
            assert_eq!(bits(predicted.as_slice()), bits(out.as_slice()), "predict and try_forward differ");
            assert_eq!(net.output().map(Matrix::shape), Some((plan.batch, outputs)));
        }
        (Err(Error::ShapeMismatch { .. }), false, _) | (Err(Error::EmptyBatch { .. }), true, false) => return,
        (result, right_width, non_empty) => {
            panic!(
                "try_forward: {result:?} for a {}x{cols} batch into {inputs} inputs ({right_width}, {non_empty})",
                plan.batch
            )
        }
    }

    // The target: the right shape or a wrong one; values in the loss's domain or anything.
    let (rows, width) = (plan.batch, loss.target_width(outputs));
    let (t_rows, t_cols) = match plan.target_shape {
        0 | 1 => (rows, width),
        2 => (rows + 1, width),
        3 => (rows, width + 1),
        _ => (0, 0),
    };
    let in_domain = plan.target_values & 1 == 0;
    let mut target = matrix::<T>(t_rows, t_cols, plan.target_values >> 1, plan.target_seed, !in_domain);
    if in_domain {
        let mut g = Gen::new(u64::from(plan.target_seed));
        for t in target.as_mut_slice() {
            if plan.loss % 8 == 7 {
                *t = T::from_f64(g.below(outputs as u64) as f64); // a valid class index
            } else if plan.loss % 8 == 4 || plan.loss % 8 == 6 {
                *t = T::from_f64(g.unit()); // a probability
            }
        }
    }

    let value = net.try_loss(&*loss, &target);
    net.zero_grad();
    let result = net.try_backward_loss(&*loss, &target);
    match (&value, &result) {
        (Ok(a), Ok(b)) => assert!(a.to_bits_eq(*b), "loss() = {a} but backward_loss() = {b}"),
        (Err(_), Err(_)) => {}
        _ => panic!("loss() and backward_loss() disagree: {value:?} vs {result:?}"),
    }
    let right_shape = (t_rows, t_cols) == (rows, width);
    match &result {
        Ok(_) => assert!(right_shape, "backward_loss accepted a {t_rows}x{t_cols} target for {rows}x{width}"),
        Err(Error::ShapeMismatch { .. }) => assert!(!right_shape),
        // Only for a NaN or infinite target or output (a huge input can overflow it).
        Err(Error::NonFinite { .. }) => {
            let non_finite = |m: &Matrix<T>| m.as_slice().iter().any(|v| !v.is_finite());
            assert!(right_shape && (non_finite(&target) || net.output().is_some_and(non_finite)), "{result:?}");
        }
        Err(Error::InvalidHyperParameter { .. } | Error::OutOfRange { .. } | Error::ClassOutOfRange { .. }) => {
            assert!(right_shape);
            assert!(!in_domain || plan.loss % 8 == 4, "a valid target was rejected: {result:?}");
        }
        Err(other) => panic!("unexpected error from backward_loss: {other}"),
    }
    if result.is_err() {
        return;
    }
    if plan.input_grad {
        let grad = net.input_grad().expect("input gradient was asked for");
        assert_eq!(grad.shape(), (rows, inputs));
    }

    // A second backward without zero_grad adds the same gradients: exactly twice the first.
    let once = net.gradients_to_vec();
    net.try_backward_loss(&*loss, &target).expect("the same backward succeeds twice");
    for (g1, g2) in once.iter().zip(net.gradients_to_vec()) {
        assert!((*g1 + *g1).to_bits_eq(g2), "accumulated gradient {g2} is not 2 x {g1}");
    }

    // A wrong-shaped output gradient is an error; the right shape is accepted.
    let wrong = matrix::<T>(rows, outputs + 1, 0, 1, false);
    assert!(matches!(net.try_backward(&wrong), Err(Error::ShapeMismatch { .. })));
    net.try_backward(&matrix::<T>(rows, outputs, 0, 2, false)).expect("a right-shaped output gradient");

    if plan.step {
        // A step is refused exactly when a gradient is NaN or infinite, and then changes nothing.
        let (before, finite) = (net.parameters_to_vec(), net.check_gradients().is_ok());
        match net.try_step(T::from_f64(0.01)) {
            Ok(()) => assert!(finite, "try_step accepted a non-finite gradient"),
            Err(Error::NonFinite { .. }) => {
                assert!(!finite, "try_step refused finite gradients");
                assert!(net.parameters_to_vec().iter().zip(&before).all(|(a, b)| a.to_bits_eq(*b)));
            }
            Err(other) => panic!("unexpected error from try_step: {other}"),
        }
        let _ = net.try_forward(&x).expect("forward after a step");
    }
}

trait BitsEq: Copy {
    fn to_bits_eq(self, other: Self) -> bool;
}

impl<T: Float2> BitsEq for T {
    /// Equal bits, or both NaN (NaN payloads may differ between code paths).
    fn to_bits_eq(self, other: Self) -> bool {
        (self.is_nan() && other.is_nan()) || self.to64().to_bits() == other.to64().to_bits()
    }
}

fn bits<T: Float2>(values: &[T]) -> Vec<u64> {
    values.iter().map(|v| v.to64().to_bits()).collect()
}

/// Builds a network file from fuzzer choices: returns the file and whether the network
/// should be f64.
fn build_file(u: &mut Unstructured<'_>) -> ArbResult<(Vec<u8>, bool)> {
    let file_f64: bool = u.arbitrary()?;
    // Mostly the file's own type; an f64 file into an f32 network must be refused.
    let net_f64 = if u.ratio(1, 8)? { !file_f64 } else { file_f64 };
    let depth = u.int_in_range(1..=4)?;
    let max_width = if u.ratio(1, 4)? { MAX_WIDTH } else { 8 };
    let mut widths = Vec::with_capacity(depth + 1);
    for _ in 0..=depth {
        widths.push(u.int_in_range(1..=max_width)?);
    }
    let naming: u8 = u.int_in_range(0..=2)?;
    let dist: u8 = u.arbitrary()?;
    let seed: u64 = u.arbitrary()?;
    let mutation: u8 = u.int_in_range(0..=15)?; // 0..=7: none; 8..: one kind of damage
    let victim = u.choose_index(depth)?;
    let reversed: bool = u.arbitrary()?;

    let name = |layer: usize, kind: &str| match naming {
        0 => format!("layers.{layer}.{kind}"),
        1 => format!("{}.{kind}", 2 * layer), // nn.Sequential(Linear, act, Linear, ...)
        _ => format!("{layer}.{kind}"),
    };
    let mut g = Gen::new(seed);
    let dist = Dist::from_byte(dist);
    let mut tensors: Vec<(String, Vec<usize>, Vec<f64>)> = Vec::new();
    for layer in 0..depth {
        let (inputs, outputs) = (widths[layer], widths[layer + 1]);
        let weight: Vec<f64> = (0..inputs * outputs).map(|_| dist.sample::<f64>(&mut g)).collect();
        let bias: Vec<f64> = (0..outputs).map(|_| dist.sample::<f64>(&mut g)).collect();
        tensors.push((name(layer, "weight"), vec![outputs, inputs], weight));
        tensors.push((name(layer, "bias"), vec![outputs], bias));
    }
    // Let the fuzzer overwrite a few values with bit patterns of its own (NaN, inf, ...).
    while !u.is_empty() && u.ratio(3, 4)? {
        let t = u.choose_index(tensors.len())?;
        if tensors[t].2.is_empty() {
            continue;
        }
        let i = u.choose_index(tensors[t].2.len())?;
        tensors[t].2[i] = f64::from_bits(u.arbitrary()?);
    }

    let (w, b) = (2 * victim, 2 * victim + 1);
    match mutation {
        8 => {
            tensors.remove(if u.arbitrary()? { w } else { b });
        }
        9 => tensors[b].1[0] += 1, // bias length differs from the data: Writer refuses it
        10 => {
            tensors[b].2.push(0.0);
            tensors[b].1[0] += 1; // bias one longer than the weight's outputs
        }
        11 => tensors[w].1 = vec![tensors[w].2.len()], // 1-D weight
        12 => tensors[w].1.push(1),                    // 3-D weight
        13 => tensors.push((name(depth, "weight"), vec![1, widths[depth]], vec![0.5; widths[depth]])),
        14 => tensors.push(("layers.00.weight".into(), vec![widths[1], widths[0]], vec![1.0; widths[0] * widths[1]])),
        15 => tensors[w].0 = format!("extra.{}", tensors[w].0),
        _ => {}
    }
    if reversed {
        tensors.reverse();
    }
    let mut writer = Writer::new();
    for (name, shape, values) in &tensors {
        // Errors (a shape that does not fit the data, a repeated name) leave the tensor out.
        let _ = if file_f64 {
            writer.add(name, shape, values).map(|_| ())
        } else {
            let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            writer.add(name, shape, &values).map(|_| ())
        };
    }
    if u.arbitrary()? {
        writer.metadata("format", "pt");
    }
    if u.ratio(1, 2)? {
        describe(&mut writer, u, depth, file_f64)?;
    }
    Ok((writer.to_bytes(), net_f64))
}

/// Writes a description of a `depth`-layer file: usually what `to_safetensors` would write,
/// sometimes with one entry damaged.
fn describe(writer: &mut Writer, u: &mut Unstructured<'_>, depth: usize, file_f64: bool) -> ArbResult<()> {
    let damage: u8 = u.int_in_range(0..=15)?; // 0..=7: none; 8..: one kind
    let victim = u.choose_index(depth)?;
    let dtype = if file_f64 { "F64" } else { "F32" };
    writer.metadata("tinymlp.format", if damage == 8 { "2" } else { "1" });
    writer.metadata("tinymlp.version", "0.1.0");
    writer.metadata(
        "tinymlp.dtype",
        match damage {
            9 if file_f64 => "F32",
            9 => "F64",
            10 => "BF16",
            _ => dtype,
        },
    );
    for layer in 0..depth {
        let mut act = Act::ALL[u.choose_index(Act::ALL.len())?];
        if u.ratio(1, 4)? {
            // A parameter from any bit pattern: NaN and infinities must be refused.
            let value = f64::from_bits(u.arbitrary()?);
            act = match act {
                Act::LeakyRelu(_) => Act::LeakyRelu(tinymlp::LeakyRelu::new(value)),
                Act::Elu(_) => Act::Elu(tinymlp::Elu::new(value)),
                Act::Softplus(softplus) => Act::Softplus(tinymlp::Softplus::new(softplus.beta, value)),
                other => other,
            };
        }
        let mut spec = act.spec();
        if layer == victim {
            match damage {
                11 => spec = String::from(u.arbitrary::<&str>()?),
                12 => spec = format!("custom:{}", u.arbitrary::<&str>()?),
                13 => spec = String::from("custom"),
                14 => continue, // the key is missing
                _ => {}
            }
        }
        writer.metadata(&format!("tinymlp.layers.{layer}.activation"), &spec);
    }
    if damage == 15 {
        writer.metadata(&format!("tinymlp.layers.{}.activation", depth + victim), "tanh");
    }
    Ok(())
}
