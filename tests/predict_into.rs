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
