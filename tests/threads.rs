//! Products split over several threads (`kernels::set_threads`) give the same
//! bits as one thread, for every form, path and element type, on shapes whose
//! row count does not divide evenly into blocks. A separate test binary: the
//! thread setting is process-wide.

use tinymlp::kernels::{self, Form, PARALLEL_MIN, Path, gemm, gemm_with};

/// The thread setting is process-wide and tests run in parallel: each test
/// holds this while it changes the setting.
static SETTING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn filled(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// C for every (path, threads) of interest, checked against the 1-thread run.
fn check<T: tinymlp::Scalar>(form: Form, m: usize, n: usize, k: usize) {
    let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
    let a: Vec<T> = filled(ar * ac, 1).into_iter().map(T::from_f64).collect();
    let b: Vec<T> = filled(br * bc, 2).into_iter().map(T::from_f64).collect();
    let c0: Vec<T> = filled(m * n, 3).into_iter().map(T::from_f64).collect();
    let paths: Vec<Path> = kernels::available_paths().filter(|&p| p != Path::Simple).collect();
    for path in paths {
        for accumulate in [false, true] {
            kernels::set_threads(1);
            let mut one = c0.clone();
            gemm_with(path, form, m, n, k, &a, &b, &mut one, accumulate);
            for threads in [2, 3, 5] {
                kernels::set_threads(threads);
                let mut many = c0.clone();
                gemm_with(path, form, m, n, k, &a, &b, &mut many, accumulate);
                let bits = |v: &T| tinymlp::Scalar::as_f64(*v).to_bits();
                let same = one.iter().zip(&many).all(|(x, y)| bits(x) == bits(y));
                assert!(
                    same,
                    "{path} {form:?} {m}x{n}x{k} {} accumulate={accumulate}: {threads} threads differ",
                    T::NAME
                );
            }
        }
        // With a bias added on the way out: the bits of the product, then the
        // row added, on one thread.
        let bias: Vec<T> = filled(n, 4).into_iter().map(T::from_f64).collect();
        kernels::set_threads(1);
        let mut expected = c0.clone();
        gemm_with(path, form, m, n, k, &a, &b, &mut expected, false);
        kernels::add_row_to_each(&mut expected, &bias);
        for threads in [1, 2, 3] {
            kernels::set_threads(threads);
            let mut fused = c0.clone();
            kernels::gemm_bias_with(path, form, m, n, k, &a, &b, &mut fused, &bias);
            let bits = |v: &[T]| v.iter().map(|x| tinymlp::Scalar::as_f64(*x).to_bits()).collect::<Vec<_>>();
            assert!(bits(&fused) == bits(&expected), "{path} {form:?} {m}x{n}x{k} {} bias, {threads} threads", T::NAME);
        }
    }
    kernels::set_threads(1);
}

#[test]
fn several_threads_give_the_bits_of_one() {
    let _setting = SETTING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Each has at least 2·PARALLEL_MIN multiply-adds, so it splits.
    // By columns without accumulating and by rows with; by rows; by columns.
    let shapes = [(263, 257, 520), (520, 300, 230), (60, 1400, 420)];
    for (m, n, k) in shapes {
        assert!(m * n * k >= 2 * PARALLEL_MIN);
        for form in [Form::AB, Form::AtB, Form::ABt] {
            check::<f32>(form, m, n, k);
            check::<f64>(form, m, n, k);
        }
    }
}

#[test]
fn the_default_path_splits_too_and_the_setting_is_clamped() {
    let _setting = SETTING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (m, n, k) = (400, 300, 300);
    let a: Vec<f32> = filled(m * k, 4).into_iter().map(|v| v as f32).collect();
    let b: Vec<f32> = filled(k * n, 5).into_iter().map(|v| v as f32).collect();
    kernels::set_threads(0);
    assert_eq!(kernels::threads(), 1);
    let mut one = vec![0.0f32; m * n];
    gemm(Form::AB, m, n, k, &a, &b, &mut one, false);
    kernels::set_threads(1000);
    assert_eq!(kernels::threads(), kernels::MAX_THREADS);
    let mut many = vec![0.0f32; m * n];
    gemm(Form::AB, m, n, k, &a, &b, &mut many, false);
    kernels::set_threads(1);
    assert_eq!(one, many);
}
