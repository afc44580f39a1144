//! Every available `kernels::Path` x every form x accumulate, against the naive
//! reference, on shapes chosen to hit every edge of the blocking: empty and
//! tiny sizes, primes, one more and one less than each micro-kernel tile,
//! depths across the depth blocks, and sizes that need several row blocks.
//!
//! The tolerance is the textbook bound for a dot product of length k: each of
//! the two computations (the path and the reference) is within
//! `γ(k+1)·(Σₚ|aᵢₚ·bₚⱼ| + |c₀|)` of the exact value, `γ(n) = n·u/(1 - n·u)`.

use tinymlp::Scalar;
use tinymlp::kernels::{Form, Path, available_paths, gemm, gemm_with, path_for, reference};

const FORMS: [Form; 3] = [Form::AB, Form::AtB, Form::ABt];

fn filled<T: Scalar>(len: usize, seed: u64) -> Vec<T> {
    let mut rng = tinymlp::Rng::new(seed);
    (0..len).map(|_| T::from_f64(rng.uniform(-1.0, 1.0))).collect()
}

/// `γ(k+1)` for `T`, doubled (path and reference), with some slack for the
/// final additions.
fn rounding_factor<T: Scalar>(k: usize) -> f64 {
    let unit = Scalar::as_f64(T::epsilon()) / 2.0;
    let steps = (k + 2) as f64;
    2.0 * steps * unit / (1.0 - steps * unit)
}

/// Runs `path` and the reference on one shape and checks every element
/// against the rounding bound.
fn check_shape<T: Scalar>(path: Path, form: Form, m: usize, n: usize, k: usize, accumulate: bool) {
    let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
    let a: Vec<T> = filled(ar * ac, 1 + m as u64);
    let b: Vec<T> = filled(br * bc, 2 + n as u64);
    let c0: Vec<T> = filled(m * n, 3 + k as u64);

    let mut got = c0.clone();
    gemm_with(path, form, m, n, k, &a, &b, &mut got, accumulate);
    let mut expected = c0.clone();
    reference::gemm(form, m, n, k, &a, &b, &mut expected, accumulate);

    // Σ|a·b| (+ |c₀|), in f64 so that the bound itself is not rounded away.
    let abs = |v: &[T]| v.iter().map(|x| Scalar::as_f64(*x).abs()).collect::<Vec<f64>>();
    let mut magnitude = if accumulate { abs(&c0) } else { vec![0.0; m * n] };
    reference::gemm(form, m, n, k, &abs(&a), &abs(&b), &mut magnitude, true);

    let factor = rounding_factor::<T>(k);
    for (index, ((g, e), mag)) in got.iter().zip(&expected).zip(&magnitude).enumerate() {
        let error = (Scalar::as_f64(*g) - Scalar::as_f64(*e)).abs();
        let bound = factor * mag + f64::from(f32::MIN_POSITIVE);
        assert!(
            error <= bound,
            "{path} {form:?} {m}x{n}x{k} accumulate={accumulate} {}: C[{},{}] = {g:?}, reference {e:?} (error {error:e} > bound {bound:e})",
            T::NAME,
            index / n,
            index % n,
        );
    }
}

fn check_shapes<T: Scalar>(shapes: &[(usize, usize, usize)]) {
    for path in available_paths() {
        for form in FORMS {
            for &(m, n, k) in shapes {
                for accumulate in [false, true] {
                    check_shape::<T>(path, form, m, n, k, accumulate);
                }
            }
        }
    }
}

/// All combinations of small sizes around every tile edge (4, 6, 8, 12, 16, 32).
fn small_cube() -> Vec<(usize, usize, usize)> {
    let sizes = [0, 1, 2, 3, 5, 7, 11, 12, 13];
    let wide = [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33];
    let mut shapes = Vec::new();
    for &m in &sizes {
        for &n in &wide {
            for &k in &sizes {
                shapes.push((m, n, k));
            }
        }
    }
    shapes
}

/// Primes, the shapes matrixmultiply tests, depths around the depth block (128)
/// and its multiples, row counts beyond one A block, and training shapes.
fn awkward_shapes() -> Vec<(usize, usize, usize)> {
    vec![
        (17, 257, 3),
        (17, 257, 17),
        (257, 17, 13),
        (63, 63, 63),
        (65, 65, 65),
        (67, 67, 67),
        (63, 65, 67),
        (67, 63, 65),
        (23, 29, 127),
        (23, 29, 128),
        (23, 29, 129),
        (13, 33, 255),
        (13, 33, 256),
        (13, 33, 257),
        (25, 49, 383),
        (5, 7, 1000),
        (3, 2, 4099),
        (300, 19, 7),
        (311, 37, 29),
        (1100, 5, 3),
        (200, 32, 32),
        (32, 32, 200),
        (2, 4, 1),
        (4, 1, 2),
        (130, 36, 300),
    ]
}

#[test]
fn every_path_matches_the_reference_on_small_shapes_f64() {
    check_shapes::<f64>(&small_cube());
}

#[test]
fn every_path_matches_the_reference_on_small_shapes_f32() {
    check_shapes::<f32>(&small_cube());
}

#[test]
fn every_path_matches_the_reference_on_awkward_shapes_f64() {
    check_shapes::<f64>(&awkward_shapes());
}

#[test]
fn every_path_matches_the_reference_on_awkward_shapes_f32() {
    check_shapes::<f32>(&awkward_shapes());
}

/// Several depth blocks, column strips with an edge, and (1100 x 20 x 390:
/// A blocks of 512 KiB hold 1008 f32 or 504 f64 rows at depth 130) several
/// row blocks.
#[test]
fn every_path_matches_the_reference_on_large_shapes() {
    let shapes = [(301, 45, 390), (97, 530, 260), (1100, 20, 390)];
    for path in available_paths().filter(|&path| path != Path::Simple) {
        for form in FORMS {
            for &(m, n, k) in &shapes {
                check_shape::<f32>(path, form, m, n, k, true);
                check_shape::<f64>(path, form, m, n, k, false);
            }
            check_shape::<f64>(path, form, 1100, 20, 390, true);
        }
    }
}

/// `gemm` gives exactly what `gemm_with(path_for(..))` gives.
#[test]
fn gemm_takes_the_path_path_for_names() {
    for &(m, n, k) in &[(2, 4, 1), (200, 32, 32), (128, 256, 784), (64, 64, 64), (1, 1000, 1000)] {
        for form in FORMS {
            let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
            let a: Vec<f32> = filled(ar * ac, 4);
            let b: Vec<f32> = filled(br * bc, 5);
            let mut auto = filled::<f32>(m * n, 6);
            let mut pinned = auto.clone();
            gemm(form, m, n, k, &a, &b, &mut auto, true);
            gemm_with(path_for::<f32>(form, m, n, k), form, m, n, k, &a, &b, &mut pinned, true);
            assert_eq!(bits(&auto), bits(&pinned), "{form:?} {m}x{n}x{k}");
        }
    }
}

/// `gemm_bias` gives the bits of `gemm` followed by `add_row_to_each`, on
/// every path and shape class: partial tiles, several depth blocks, `k = 0`,
/// and biases of `-0` on products of `-0`.
#[test]
fn the_bias_added_on_the_way_out_gives_the_bits_of_adding_it_after() {
    fn check<T: Scalar>(path: Path, form: Form, m: usize, n: usize, k: usize) {
        let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
        let mut a: Vec<T> = filled(ar * ac, 11);
        let b: Vec<T> = filled(br * bc, 12);
        let mut bias: Vec<T> = filled(n, 13);
        if let (Some(first), Some(b0)) = (a.first_mut(), bias.first_mut()) {
            // Row 0 of op(A) all -0 for AB/ABt: the products of column 0 are -0.
            *first = T::from_f64(-0.0);
            *b0 = T::from_f64(-0.0);
        }
        if form != Form::AtB && k > 0 {
            a[..k].fill(T::from_f64(-0.0));
        }
        let start: Vec<T> = filled(m * n, 14);
        let mut expected = start.clone();
        gemm_with(path, form, m, n, k, &a, &b, &mut expected, false);
        tinymlp::kernels::add_row_to_each(&mut expected, &bias);
        let mut fused = start;
        tinymlp::kernels::gemm_bias_with(path, form, m, n, k, &a, &b, &mut fused, &bias);
        assert_eq!(bits(&fused), bits(&expected), "{path} {form:?} {m}x{n}x{k} {}", T::NAME);
    }
    let shapes = [(200, 32, 32), (200, 32, 1), (1, 4, 16), (13, 17, 5), (7, 33, 400), (37, 9, 0), (64, 64, 64)];
    for path in available_paths() {
        for form in FORMS {
            for &(m, n, k) in &shapes {
                check::<f32>(path, form, m, n, k);
                check::<f64>(path, form, m, n, k);
            }
        }
    }
    // Through the dispatching entry point as well.
    let (x, w, bias) = (filled::<f64>(200 * 32, 1), filled::<f64>(32 * 32, 2), filled::<f64>(32, 3));
    let (mut fused, mut expected) = (vec![0.0; 200 * 32], vec![0.0; 200 * 32]);
    tinymlp::kernels::gemm_bias(Form::ABt, 200, 32, 32, &x, &w, &mut fused, &bias);
    gemm(Form::ABt, 200, 32, 32, &x, &w, &mut expected, false);
    tinymlp::kernels::add_row_to_each(&mut expected, &bias);
    assert_eq!(bits(&fused), bits(&expected));
}

/// Outer products (`k = 1`) give the same bits on every path, with and
/// without accumulation, signed zeros included: one rounded multiply, added
/// to zero or to C. (Except the sign of a product that underflows to zero: a
/// fused multiply-add keeps it, `0 + (-0)` does not. Not tested here.)
#[test]
fn outer_products_give_the_same_bits_on_every_path() {
    fn check<T: Scalar>() {
        for &(m, n) in &[(200, 32), (7, 13), (64, 64), (1, 5), (33, 1)] {
            for form in FORMS {
                let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, 1);
                let mut a: Vec<T> = filled(ar * ac, 7);
                let mut b: Vec<T> = filled(br * bc, 8);
                a[0] = T::from_f64(-0.0);
                b[bc - 1] = T::from_f64(-0.0);
                for accumulate in [false, true] {
                    let start: Vec<T> = filled(m * n, 9)
                        .into_iter()
                        .map(|v: T| if accumulate { v } else { T::from_f64(-0.0) })
                        .collect();
                    let run = |path: Path| {
                        let mut c = start.clone();
                        gemm_with(path, form, m, n, 1, &a, &b, &mut c, accumulate);
                        bits(&c)
                    };
                    let simple = run(Path::Simple);
                    for path in available_paths() {
                        assert_eq!(run(path), simple, "{path} {form:?} {m}x{n}x1 accumulate {accumulate}");
                    }
                }
            }
        }
    }
    check::<f32>();
    check::<f64>();
}

fn bits<T: Scalar>(values: &[T]) -> Vec<u64> {
    values.iter().map(|v| Scalar::as_f64(*v).to_bits()).collect()
}

/// Same inputs, same bits: on repeated calls, and when the caller's slices sit
/// at a different alignment.
#[test]
fn every_path_is_deterministic_and_alignment_independent() {
    let (m, n, k) = (37, 70, 300);
    for path in available_paths() {
        for form in FORMS {
            let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
            let a: Vec<f32> = filled(ar * ac, 7);
            let b: Vec<f32> = filled(br * bc, 8);
            let mut first = vec![0.0f32; m * n];
            gemm_with(path, form, m, n, k, &a, &b, &mut first, false);
            let mut again = vec![1.0f32; m * n];
            gemm_with(path, form, m, n, k, &a, &b, &mut again, false);
            assert_eq!(bits(&first), bits(&again), "{path} {form:?}: repeated call");

            // Shift every slice by one element inside larger buffers.
            let mut a_shifted = vec![0.0f32; a.len() + 1];
            a_shifted[1..].copy_from_slice(&a);
            let mut b_shifted = vec![0.0f32; b.len() + 1];
            b_shifted[1..].copy_from_slice(&b);
            let mut c_shifted = vec![0.0f32; m * n + 1];
            gemm_with(path, form, m, n, k, &a_shifted[1..], &b_shifted[1..], &mut c_shifted[1..], false);
            assert_eq!(bits(&first), bits(&c_shifted[1..]), "{path} {form:?}: shifted slices");
        }
    }
}

/// Packing absorbs the transposes: the three forms of the same product give
/// the same bits on a packed path; and an element's value does not depend on
/// how many rows the product has (a batch of one row gives the row's bits).
#[test]
fn packed_paths_agree_across_forms_and_batch_sizes() {
    let (m, n, k) = (29, 41, 260);
    let a: Vec<f64> = filled(m * k, 9); // m x k
    let b: Vec<f64> = filled(k * n, 10); // k x n
    let transpose = |v: &[f64], rows: usize, cols: usize| -> Vec<f64> {
        (0..rows * cols).map(|index| v[(index % rows) * cols + index / rows]).collect()
    };
    let a_t = transpose(&a, m, k); // k x m
    let b_t = transpose(&b, k, n); // n x k
    for path in available_paths().filter(|&path| path != Path::Simple) {
        let mut ab = vec![0.0; m * n];
        gemm_with(path, Form::AB, m, n, k, &a, &b, &mut ab, false);
        let mut atb = vec![0.0; m * n];
        gemm_with(path, Form::AtB, m, n, k, &a_t, &b, &mut atb, false);
        let mut abt = vec![0.0; m * n];
        gemm_with(path, Form::ABt, m, n, k, &a, &b_t, &mut abt, false);
        assert_eq!(bits(&ab), bits(&atb), "{path}: AB vs AtB");
        assert_eq!(bits(&ab), bits(&abt), "{path}: AB vs ABt");

        // Each row alone (a one-row tile) against its place in the product: in
        // full tiles, and in the last panel, whose rows run as smaller tiles
        // (5 = 4 + 1 rows on AVX2, 1 row on the portable kernel).
        for row in 0..m {
            let mut single = vec![0.0; n];
            gemm_with(path, Form::AB, 1, n, k, &a[row * k..(row + 1) * k], &b, &mut single, false);
            assert_eq!(bits(&single), bits(&ab[row * n..(row + 1) * n]), "{path}: row {row} alone");
        }
    }
}

/// The two fused-multiply-add paths share depth blocks, so they agree bitwise.
#[test]
fn simd_paths_agree_bitwise() {
    let paths: Vec<Path> = available_paths().filter(|&p| p == Path::Avx2 || p == Path::Avx512).collect();
    if paths.len() < 2 {
        return;
    }
    for &(m, n, k) in &[(13, 33, 257), (50, 70, 129), (7, 9, 1)] {
        for form in FORMS {
            let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
            let a: Vec<f32> = filled(ar * ac, 11);
            let b: Vec<f32> = filled(br * bc, 12);
            let mut results = paths.iter().map(|&path| {
                let mut c = filled::<f32>(m * n, 13);
                gemm_with(path, form, m, n, k, &a, &b, &mut c, true);
                bits(&c)
            });
            let first = results.next();
            assert!(results.all(|r| Some(r) == first), "{form:?} {m}x{n}x{k}");
        }
    }
}

/// Without `accumulate`, C is never read: NaN or infinity in it do not leak.
#[test]
fn overwrite_ignores_old_contents_of_c() {
    let (m, n, k) = (14, 35, 20);
    for path in available_paths() {
        for form in FORMS {
            let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
            let a: Vec<f64> = filled(ar * ac, 14);
            let b: Vec<f64> = filled(br * bc, 15);
            let mut c = vec![f64::NAN; m * n];
            gemm_with(path, form, m, n, k, &a, &b, &mut c, false);
            assert!(c.iter().all(|x| x.is_finite()), "{path} {form:?}");
            let mut empty_depth = vec![f64::INFINITY; m * n];
            gemm_with(path, form, m, n, 0, &[], &[], &mut empty_depth, false);
            assert!(empty_depth.iter().all(|&x| x == 0.0), "{path} {form:?}: k = 0");
        }
    }
}

#[test]
fn portable_and_simple_are_always_available() {
    let paths: Vec<Path> = available_paths().collect();
    assert!(paths.contains(&Path::Simple) && paths.contains(&Path::Portable));
    assert!(paths.iter().all(|path| path.is_available()));
    assert_eq!(path_for::<f64>(Form::ABt, 2, 4, 1), Path::Simple);
    assert_eq!(path_for::<f32>(Form::AB, 1024, 1024, 1024), *paths.last().unwrap_or(&Path::Portable));
}

#[test]
#[should_panic(expected = "not available")]
fn unavailable_path_panics() {
    let missing = [Path::Avx2, Path::Avx512].into_iter().find(|path| !path.is_available());
    // On a CPU with every path there is nothing to test; fail the same way.
    let path = missing.unwrap_or_else(|| panic!("every path is available on this CPU: nothing not available"));
    let mut c = [0.0f32; 1];
    gemm_with(path, Form::AB, 1, 1, 1, &[1.0], &[1.0], &mut c, false);
}

/// A shape whose sizes wrap around `usize` to the slices' lengths must not
/// pass the length checks (it would let a kernel write far past C): with
/// `n = (2^64 + 358) / 11`, B (`n x 11`) "holds" 358 values and C (`22 x n`) 716.
#[test]
#[cfg(target_pointer_width = "64")]
fn shapes_whose_sizes_overflow_are_refused() {
    let n = ((1u128 << 64) + 358) / 11;
    let n = usize::try_from(n).unwrap();
    for path in available_paths() {
        let result = std::panic::catch_unwind(|| {
            let (a, b, mut c) = (vec![1.0f32; 242], vec![1.0f32; 358], vec![0.0f32; 716]);
            gemm_with(path, Form::ABt, 22, n, 11, &a, &b, &mut c, false);
        });
        assert!(result.is_err(), "{path}: an overflowing shape was accepted");
    }
}

/// The rounding recipe of [`Path::Simple`]'s dot products, written out as
/// plain scalar code: eight partial sums (lane `l` adds the products of the
/// elements `l`, `l + 8`, `l + 16`, … in that order), added in lane order to a
/// total that starts from zero, then the products of the tail (`k % 8`
/// elements) one by one.
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

/// Inputs that exercise every rounding case: magnitudes over many binades,
/// zeros of both signs, subnormals, and (with `specials`) infinities and NaN.
fn awkward<T: Scalar>(len: usize, rng: &mut tinymlp::Rng, specials: bool) -> Vec<T> {
    let tiny = Scalar::as_f64(T::min_positive_value());
    (0..len)
        .map(|_| match rng.next_u64() % 16 {
            0 => T::from_f64(-0.0),
            1 => T::zero(),
            2 => T::from_f64(tiny * rng.uniform(-1.0, 1.0)),
            3 if specials => [T::infinity(), T::neg_infinity(), T::nan()][(rng.next_u64() % 3) as usize],
            4 => T::from_f64(rng.uniform(-1.0, 1.0) * 1e6),
            _ => T::from_f64(rng.uniform(-1.0, 1.0) * rng.uniform(0.5, 4.0)),
        })
        .collect()
}

/// Bits with every NaN as one NaN: which NaN an operation on NaNs returns
/// depends on the operand order the compiler picks (Rust leaves it open).
fn bits_any_nan<T: Scalar>(values: &[T]) -> Vec<u64> {
    values.iter().map(|v| if v.is_nan() { u64::MAX } else { Scalar::as_f64(*v).to_bits() }).collect()
}

/// `A·Bᵀ` (`k > 1`) and `A·b` on [`Path::Simple`] give, bit for bit, the
/// recipe above added to C (or to zero): whatever implementation this CPU
/// runs (with AVX2, many rows at a time; elsewhere the plain loops), through
/// `gemm_with` and through `gemm` where it picks the Simple path, on batches of
/// 1 to 9 rows, 1 to 40 columns and depths 2 to 70 (sampled), every block of
/// rows and every tail length, with signed zeros, subnormals, infinities and
/// NaN.
#[test]
fn simple_dot_products_round_as_documented() {
    fn check<T: Scalar>(rng: &mut tinymlp::Rng) {
        for m in 1..=9 {
            for n in 1..=40 {
                for k in 2..=70 {
                    if (m * 31 + n * 7 + k) % 13 != 0 && k % 16 != 0 {
                        continue;
                    }
                    for specials in [false, true] {
                        for form in [Form::ABt, Form::AB] {
                            // A·b: B is one column (`k x 1`), stored as the
                            // one row of Bᵀ.
                            let cols = if form == Form::AB { 1 } else { n };
                            let a: Vec<T> = awkward(m * k, rng, specials);
                            let b: Vec<T> = awkward(cols * k, rng, specials);
                            let c0: Vec<T> = awkward(m * cols, rng, specials);
                            for accumulate in [false, true] {
                                let mut expected = c0.clone();
                                for (i, c_i) in expected.chunks_mut(cols).enumerate() {
                                    for (j, c_ij) in c_i.iter_mut().enumerate() {
                                        let start = if accumulate { *c_ij } else { T::zero() };
                                        *c_ij = start + lane_order_dot(&a[i * k..(i + 1) * k], &b[j * k..(j + 1) * k]);
                                    }
                                }
                                let mut found = c0.clone();
                                gemm_with(Path::Simple, form, m, cols, k, &a, &b, &mut found, accumulate);
                                let what = (T::NAME, form, m, cols, k, accumulate, specials);
                                assert_eq!(bits_any_nan(&found), bits_any_nan(&expected), "gemm_with {what:?}");
                                if path_for::<T>(form, m, cols, k) == Path::Simple {
                                    let mut found = c0.clone();
                                    gemm(form, m, cols, k, &a, &b, &mut found, accumulate);
                                    assert_eq!(bits_any_nan(&found), bits_any_nan(&expected), "gemm {what:?}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let mut rng = tinymlp::Rng::new(15);
    check::<f32>(&mut rng);
    check::<f64>(&mut rng);
}
