//! `Mlp::predict_into` with the caller's buffers gives the same bits as
//! `predict` and `forward`, for both network kinds, several batch sizes (tiny
//! products and packed ones), reused and mis-shaped buffers; a bad input is
//! refused with nothing changed. (That it allocates nothing is in
//! `no_alloc_in_step.rs`.)

use tinymlp::{
    Act, DynMlp, Error, Identity, Init, Layers, Linear, Matrix, Mlp, PredictScratch, Relu, Rng, Scalar, Tanh,
};

fn bits<T: Scalar>(values: &Matrix<T>) -> Vec<u64> {
    values.as_slice().iter().map(|v| v.as_f64().to_bits()).collect()
}

fn inputs<T: Scalar>(rows: usize, cols: usize, seed: u64) -> Matrix<T> {
    let mut rng = Rng::new(seed);
    Matrix::from_fn(rows, cols, |_, _| T::from_f64(rng.uniform(-2.0, 2.0)))
}

/// For each batch size: `predict_into` (one scratch and one output matrix
/// kept across all calls, so they are reused at other shapes), `predict` and
/// a fresh `forward` agree bit for bit.
fn agree<T: Scalar, L: Layers<T> + Clone>(net: &Mlp<T, L>, scratch: &mut PredictScratch<T>, out: &mut Matrix<T>) {
    for (seed, rows) in [1usize, 2, 7, 64, 200, 3, 1].into_iter().enumerate() {
        let x = inputs::<T>(rows, net.inputs(), seed as u64);
        net.try_predict_into(&x, out, scratch).unwrap();
        assert_eq!(out.shape(), (rows, net.outputs()));
        let predicted = net.predict(&x);
        let mut training = net.clone();
        let forward = training.forward(&x).clone();
        assert_eq!(bits(out), bits(&predicted), "predict_into vs predict, {rows} rows");
        assert_eq!(bits(out), bits(&forward), "predict_into vs forward, {rows} rows");
        // The panicking twin writes the same.
        let mut again = Matrix::zeros(0, 0);
        net.predict_into(&x, &mut again, scratch);
        assert_eq!(bits(&again), bits(out));
    }
}

#[test]
fn predict_into_is_predict_and_forward_bit_for_bit() {
    let mut rng = Rng::new(7);
    let tuple = Mlp::new((
        Linear::<f32, 16, 32, Tanh>::new(&mut rng),
        Linear::<f32, 32, 32, Tanh>::new(&mut rng),
        Linear::<f32, 32, 4, Tanh>::new(&mut rng),
    ));
    let (mut scratch, mut out) = (PredictScratch::new(), Matrix::zeros(5, 5));
    agree(&tuple, &mut scratch, &mut out);
    let deep =
        DynMlp::<f32>::from_widths(&[3, 40, 8, 40, 2], Act::Relu, Act::Identity, Init::TorchDefault, &mut rng).unwrap();
    // The same scratch serves a network of other widths.
    agree(&deep, &mut scratch, &mut out);

    let sine =
        DynMlp::<f64>::from_widths(&[1, 32, 32, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut rng).unwrap();
    agree(&sine, &mut PredictScratch::new(), &mut Matrix::zeros(0, 0));
    let single = Mlp::new(Linear::<f64, 5, 3, Relu>::new(&mut rng));
    agree(&single, &mut PredictScratch::new(), &mut Matrix::zeros(1, 3));
    let two = Mlp::new((Linear::<f64, 2, 9, Tanh>::new(&mut rng), Linear::<f64, 9, 1, Identity>::new(&mut rng)));
    agree(&two, &mut PredictScratch::new(), &mut Matrix::zeros(1, 1));
}

#[test]
fn a_wrong_input_width_is_refused_and_changes_nothing() {
    let net =
        DynMlp::<f64>::from_widths(&[2, 5, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(4)).unwrap();
    let mut scratch = PredictScratch::new();
    let mut out = Matrix::from_fn(2, 3, |i, j| (i * 3 + j) as f64);
    let before = out.clone();
    let err = net.try_predict_into(&Matrix::zeros(4, 3), &mut out, &mut scratch).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { op: "predict", expected: (4, 2), found: (4, 3) }), "{err}");
    assert_eq!(out, before);
    assert!(scratch.is_empty());
    let message =
        std::panic::catch_unwind(move || net.predict_into(&Matrix::zeros(4, 3), &mut out, &mut scratch)).unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(message.starts_with("Mlp::predict_into: predict: expected a 4x2 matrix, got 4x3"), "{message}");
}

#[test]
fn an_empty_batch_gives_an_empty_output() {
    let net =
        DynMlp::<f32>::from_widths(&[2, 5, 3], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(4)).unwrap();
    let mut out = Matrix::zeros(4, 3);
    net.predict_into(&Matrix::zeros(0, 2), &mut out, &mut PredictScratch::new());
    assert_eq!(out.shape(), (0, 3));
    assert_eq!(net.predict(&Matrix::zeros(0, 2)).shape(), (0, 3));
}

/// The recipe a dense layer's dot products follow on small batches (the
/// Simple path of `kernels`): eight partial sums, lane `l` adding the
/// products of the elements `l`, `l + 8`, … in order, added in lane order to
/// zero, then the tail's products one by one.
fn lane_order_dot<T: Scalar>(x: &[T], y: &[T]) -> T {
    let chunks = x.len() / 8;
    let mut partial = [T::zero(); 8];
    for p in 0..chunks {
        for (lane, sum) in partial.iter_mut().enumerate() {
            *sum = *sum + x[8 * p + lane] * y[8 * p + lane];
        }
    }
    let mut total = T::zero();
    for sum in partial {
        total = total + sum;
    }
    for i in 8 * chunks..x.len() {
        total = total + x[i] * y[i];
    }
    total
}

/// Small batches (one sample, and up to 4 rows: the Simple path of the
/// products) give, bit for bit, each layer written out in scalar code:
/// `f((0 + w·x) + b)` per output, through every layer. Whatever the CPU
/// runs for the products (with AVX2, 8 rows at a time, the bias added in the
/// same pass), this is what must come out.
fn matches_the_scalar_recipe<T: Scalar, L: Layers<T>>(net: &Mlp<T, L>) {
    for rows in 1..=4 {
        let x = inputs::<T>(rows, net.inputs(), rows as u64 + 40);
        let mut values: Vec<T> = x.as_slice().to_vec();
        for layer in net.iter_layers() {
            let (inputs, outputs) = (layer.inputs(), layer.outputs());
            let mut next = Vec::with_capacity(rows * outputs);
            for sample in values.chunks(inputs) {
                for (w, &b) in layer.weight().chunks(inputs).zip(layer.bias()) {
                    let pre = (T::zero() + lane_order_dot(sample, w)) + b;
                    next.push(layer.activation().value(pre));
                }
            }
            values = next;
        }
        let mut out = Matrix::zeros(0, 0);
        net.try_predict_into(&x, &mut out, &mut PredictScratch::new()).unwrap();
        let got: Vec<u64> = out.as_slice().iter().map(|v| v.as_f64().to_bits()).collect();
        let expected: Vec<u64> = values.iter().map(|v| v.as_f64().to_bits()).collect();
        assert_eq!(got, expected, "{rows} rows through {:?}", net.widths());
    }
}

#[test]
fn small_batches_give_the_bits_of_the_layers_written_out() {
    let mut rng = Rng::new(11);
    matches_the_scalar_recipe(&Mlp::new((
        Linear::<f32, 16, 32, Tanh>::new(&mut rng),
        Linear::<f32, 32, 32, Tanh>::new(&mut rng),
        Linear::<f32, 32, 4, Tanh>::new(&mut rng),
    )));
    for widths in [[1, 32, 32, 1], [17, 9, 40, 3], [8, 12, 5, 2]] {
        matches_the_scalar_recipe(
            &DynMlp::<f64>::from_widths(&widths, Act::Tanh, Act::Identity, Init::TorchDefault, &mut rng).unwrap(),
        );
        matches_the_scalar_recipe(
            &DynMlp::<f32>::from_widths(&widths, Act::Relu, Act::Sigmoid, Init::TorchDefault, &mut rng).unwrap(),
        );
    }
}
