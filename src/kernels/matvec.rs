//! The dot products of [`Path::Simple`] (`A·Bᵀ`, and `A·b`) with AVX2
//! intrinsics, several rows of B at once, rounded exactly as the plain loops
//! of `simple.rs` round them; and a dense layer's product and bias in one
//! pass ([`dot_products_with_bias`]).
//!
//! The plain loops give every dot product eight partial sums (lane `l` adds
//! the products of the elements `l`, `l + 8`, `l + 16`, … in that order), then
//! add the partial sums in lane order to a total that starts from zero, then
//! the products of the tail (`k % 8` elements) one by one, and finally add the
//! total to C (zeroed first unless the product accumulates). That order is
//! the bit contract of the path on every target; written for one row, the
//! lane-order sum is eight dependent scalar additions per output. Here the
//! partial sums of 8 rows (f32; 4 for f64) are built as vectors, transposed
//! in registers, and the lane-order sum, the tail and the addition to C run
//! as vertical vector additions, 8 (or 4) outputs per instruction: the same
//! roundings in the same order. Multiplies and adds stay separate
//! instructions (no fused multiply-adds, whatever the CPU has).
//!
//! Only on x86_64, where the CPU has AVX2 (detected at run time with `std`,
//! the compile-time target features without); elsewhere, and for the rows
//! left over after the blocks, the plain loops run. The tests compare the two
//! bit for bit.
//!
//! Unsafe code: the intrinsics need the feature, and the loads and stores go
//! through raw pointers. Both entries ([`dot_products`], [`dot_products_with_bias`])
//! go through one function that checks the feature and every length before
//! it calls the `#[target_feature]` functions.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

use core::any::TypeId;
use core::arch::x86_64::{
    __m128, __m256, __m256d, _mm_add_ps, _mm_loadu_ps, _mm_mul_ps, _mm_set1_ps, _mm_setzero_ps, _mm_storeu_ps,
    _mm256_add_pd, _mm256_add_ps, _mm256_castps256_ps128, _mm256_extractf128_ps, _mm256_loadu_pd, _mm256_loadu_ps,
    _mm256_mul_pd, _mm256_mul_ps, _mm256_permute2f128_pd, _mm256_permute2f128_ps, _mm256_set1_pd, _mm256_set1_ps,
    _mm256_setzero_pd, _mm256_setzero_ps, _mm256_shuffle_ps, _mm256_storeu_pd, _mm256_storeu_ps, _mm256_unpackhi_pd,
    _mm256_unpackhi_ps, _mm256_unpacklo_pd, _mm256_unpacklo_ps,
};

use super::gemm::Form;
use super::simd::has_avx2_fma;
use super::simple;
use crate::Scalar;

/// `C (+)= A·Bᵀ` with A `m x k`, B `n x k`, C `m x n` (row-major), rounded
/// as `simple.rs`'s loops round it (see the module docs), if this CPU has
/// AVX2 and the shape is not empty; returns whether it ran.
///
/// # Panics
/// If a slice's length does not fit the shape.
#[inline]
pub(super) fn dot_products<T: Scalar>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
) -> bool {
    products(m, n, k, a, b, c, accumulate, None)
}

/// [`dot_products`] for the `A·Bᵀ` (or `A·b`) of a Simple-path product
/// `op(A)·op(B)` written into C, then `bias` added to every row, in one pass
/// (`(0 + a·b) + bias`, each addition rounded: the bits of the plain loops
/// into a zeroed C followed by [`add_row_to_each`](super::add_row_to_each)),
/// if the loops compute it as dot products and this CPU has AVX2; returns
/// whether it ran. `gemm_bias`'s Simple path (a dense layer's forward).
///
/// # Panics
/// If a slice's length does not fit the shape.
#[inline]
pub(super) fn dot_products_with_bias<T: Scalar>(
    form: Form,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    bias: &[T],
) -> bool {
    match simple::dot_product_operands(form, m, n, k, a, b) {
        Some((m, n, k, a, b)) => products(m, n, k, a, b, c, false, Some(bias)),
        None => false,
    }
}

/// [`dot_products`] with an optional bias added to every row of C after the
/// product (`bias.len() == n`).
#[inline]
fn products<T: Scalar>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
    bias: Option<&[T]>,
) -> bool {
    if m == 0 || n == 0 || k == 0 || !has_avx2_fma() {
        return false;
    }
    assert!(
        m.checked_mul(k) == Some(a.len())
            && n.checked_mul(k) == Some(b.len())
            && m.checked_mul(n) == Some(c.len())
            && bias.is_none_or(|bias| bias.len() == n),
        "dot products {m}x{n}x{k}: slices of {}, {} and {} values",
        a.len(),
        b.len(),
        c.len()
    );
    if let (Some(a), Some(b), Some(c), Some(bias)) = (cast(a), cast(b), cast_mut(c), cast_option(bias)) {
        // SAFETY: the CPU has AVX2 and FMA, and the lengths fit the shape
        // (both checked above).
        unsafe { products_f32(m, n, k, a, b, c, accumulate, bias) };
        true
    } else if let (Some(a), Some(b), Some(c), Some(bias)) = (cast(a), cast(b), cast_mut(c), cast_option(bias)) {
        // SAFETY: as above.
        unsafe { products_f64(m, n, k, a, b, c, accumulate, bias) };
        true
    } else {
        false
    }
}

/// `values` as a slice of `U` if `T` is `U` (the comparison is decided at
/// compile time).
#[inline(always)]
fn cast<T: 'static, U: 'static>(values: &[T]) -> Option<&[U]> {
    (TypeId::of::<T>() == TypeId::of::<U>()).then(|| {
        // SAFETY: `T` and `U` are the same type, so the pointer, the length
        // and the lifetime describe the same values.
        unsafe { core::slice::from_raw_parts(values.as_ptr().cast::<U>(), values.len()) }
    })
}

/// [`cast`] for an optional slice: `None` unless `T` is `U`.
#[inline(always)]
fn cast_option<T: 'static, U: 'static>(values: Option<&[T]>) -> Option<Option<&[U]>> {
    match values {
        Some(values) => cast(values).map(Some),
        None => (TypeId::of::<T>() == TypeId::of::<U>()).then_some(None),
    }
}

/// [`cast`] for a mutable slice.
#[inline(always)]
fn cast_mut<T: 'static, U: 'static>(values: &mut [T]) -> Option<&mut [U]> {
    (TypeId::of::<T>() == TypeId::of::<U>()).then(|| {
        // SAFETY: as in `cast`; the borrow of `values` moves into the result.
        unsafe { core::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<U>(), values.len()) }
    })
}

/// What each output gets after its dot product has been added to it (or to
/// zero): nothing, its own bias, or one bias for all.
#[derive(Clone, Copy)]
enum Addend<'x, T> {
    None,
    /// One value per output (as long as the outputs).
    Each(&'x [T]),
    Same(T),
}

/// Defines the `#[target_feature]` entry for one element type: each row of A
/// against the rows of B, or, for a single column of C (`n = 1`, the layout
/// of `A·b`), the rows of A against the one row of B, so that the blocks run
/// along the long side. The same bits either way: a product `x·y` is `y·x`,
/// and the additions are the same.
macro_rules! products {
    ($name:ident, $elem:ty, $rows:ident) => {
        /// # Safety
        /// The CPU has AVX2 and FMA; `a` is `m x k`, `b` `n x k`, `c` `m x
        /// n`, `bias` (if any) `n` long, `k > 0`.
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $name(
            m: usize,
            n: usize,
            k: usize,
            a: &[$elem],
            b: &[$elem],
            c: &mut [$elem],
            accumulate: bool,
            bias: Option<&[$elem]>,
        ) {
            // `vectors` of `k` values, each against the `width` rows of
            // `rows`, into `width` values of C. (One call site: the loops are
            // compiled once.)
            let (rows, vectors, count, width, addend) = if n == 1 {
                (a, b, 1, m, bias.map_or(Addend::None, |bias| Addend::Same(bias[0])))
            } else {
                (b, a, m, n, bias.map_or(Addend::None, Addend::Each))
            };
            for v in 0..count {
                // SAFETY: this function's contract: `vectors` holds `count`
                // vectors of `k` values, `c` as many rows of `width` values,
                // `rows` `width` rows of `k`, and an `Each` addend is `width
                // = n` long.
                unsafe {
                    let x = core::slice::from_raw_parts(vectors.as_ptr().add(v * k), k);
                    let out = core::slice::from_raw_parts_mut(c.as_mut_ptr().add(v * width), width);
                    let rows = rows.as_ptr();
                    // A copy of the loops for each case that a layer or a
                    // product needs, so that no block of rows tests for it.
                    match (accumulate, addend) {
                        (false, Addend::Each(values)) => $rows(rows, x, out, false, Addend::Each(values)),
                        (false, Addend::Same(value)) => $rows(rows, x, out, false, Addend::Same(value)),
                        (false, Addend::None) => $rows(rows, x, out, false, Addend::None),
                        (true, Addend::None) => $rows(rows, x, out, true, Addend::None),
                        (true, addend) => $rows(rows, x, out, true, addend),
                    }
                }
            }
        }
    };
}

products!(products_f32, f32, rows_f32);
products!(products_f64, f64, rows_f64);

/// `out[r] = (out[r] or 0) + x · row r (+ addend)` for the `out.len()` rows
/// of length `x.len()` stored one after another from `rows`: blocks of 8
/// rows, then ([`rest_f32`]) one of 4 and single rows.
///
/// # Safety
/// The CPU has AVX2; `rows` is readable for `out.len() · x.len()` values;
/// `x` is not empty; an [`Addend::Each`] is as long as `out`.
#[inline(always)]
unsafe fn rows_f32(rows: *const f32, x: &[f32], out: &mut [f32], accumulate: bool, addend: Addend<'_, f32>) {
    let (k, count) = (x.len(), out.len());
    let out = out.as_mut_ptr();
    let mut r = 0;
    while r + 8 <= count {
        // SAFETY: rows `r..r + 8` are readable (`r + 8 <= count`), and so
        // are outputs `r..r + 8` (and the addend's) for reading and writing;
        // the CPU has AVX2 (this function's contract).
        unsafe {
            let total = dots8_f32(rows.add(r * k), x);
            let prior = if accumulate { _mm256_loadu_ps(out.add(r)) } else { _mm256_setzero_ps() };
            let mut value = _mm256_add_ps(prior, total);
            match addend {
                Addend::None => {}
                Addend::Each(values) => value = _mm256_add_ps(value, _mm256_loadu_ps(values.as_ptr().add(r))),
                Addend::Same(v) => value = _mm256_add_ps(value, _mm256_set1_ps(v)),
            }
            _mm256_storeu_ps(out.add(r), value);
        }
        r += 8;
    }
    if r < count {
        // SAFETY: passed on from this function's contract.
        unsafe { rest_f32(rows, x, out, r, count, accumulate, addend) };
    }
}

/// The rows `from..count` of [`rows_f32`] (fewer than 8): a block of 4, then
/// single rows. A function of its own, so that its set-up is not paid where
/// the rows come in blocks of 8.
///
/// # Safety
/// The CPU has AVX2; `rows` is readable for `count · x.len()` values, `out`
/// readable and writable for `count`; an [`Addend::Each`] is `count` long;
/// `from <= count`.
#[target_feature(enable = "avx2,fma")]
#[inline(never)]
unsafe fn rest_f32(
    rows: *const f32,
    x: &[f32],
    out: *mut f32,
    from: usize,
    count: usize,
    accumulate: bool,
    addend: Addend<'_, f32>,
) {
    let (k, mut r) = (x.len(), from);
    if r + 4 <= count {
        // SAFETY: rows and outputs `r..r + 4` are inside (`r + 4 <= count`).
        unsafe {
            let total = dots4_f32(rows.add(r * k), x);
            let prior = if accumulate { _mm_loadu_ps(out.add(r)) } else { _mm_setzero_ps() };
            let mut value = _mm_add_ps(prior, total);
            match addend {
                Addend::None => {}
                Addend::Each(values) => value = _mm_add_ps(value, _mm_loadu_ps(values.as_ptr().add(r))),
                Addend::Same(v) => value = _mm_add_ps(value, _mm_set1_ps(v)),
            }
            _mm_storeu_ps(out.add(r), value);
        }
        r += 4;
    }
    // SAFETY: passed on from this function's contract.
    unsafe { singles(rows, x, out, r, count, accumulate, addend) };
}

/// [`rows_f32`] for f64: blocks of 4 rows, then single rows.
///
/// # Safety
/// As [`rows_f32`].
#[inline(always)]
unsafe fn rows_f64(rows: *const f64, x: &[f64], out: &mut [f64], accumulate: bool, addend: Addend<'_, f64>) {
    let (k, count) = (x.len(), out.len());
    let out = out.as_mut_ptr();
    let mut r = 0;
    while r + 4 <= count {
        // SAFETY: as in `rows_f32`.
        unsafe {
            let total = dots4_f64(rows.add(r * k), x);
            let prior = if accumulate { _mm256_loadu_pd(out.add(r)) } else { _mm256_setzero_pd() };
            let mut value = _mm256_add_pd(prior, total);
            match addend {
                Addend::None => {}
                Addend::Each(values) => value = _mm256_add_pd(value, _mm256_loadu_pd(values.as_ptr().add(r))),
                Addend::Same(v) => value = _mm256_add_pd(value, _mm256_set1_pd(v)),
            }
            _mm256_storeu_pd(out.add(r), value);
        }
        r += 4;
    }
    if r < count {
        // SAFETY: as above, for the rows `r..count` left.
        unsafe { singles(rows, x, out, r, count, accumulate, addend) };
    }
}

/// Rows `from..count` one at a time through the plain loops (a single row's
/// lane-order sum is a chain of scalar additions anyway).
///
/// # Safety
/// `rows` is readable for `count · x.len()` values, `out` readable and
/// writable for `count`; an [`Addend::Each`] is `count` long.
#[inline(always)]
unsafe fn singles<T: Scalar>(
    rows: *const T,
    x: &[T],
    out: *mut T,
    from: usize,
    count: usize,
    accumulate: bool,
    addend: Addend<'_, T>,
) {
    let k = x.len();
    for r in from..count {
        // SAFETY: row `r < count` is the `k` values at `r·k`, output `r` is
        // inside `out` (this function's contract).
        let (row, out_r) = unsafe { (core::slice::from_raw_parts(rows.add(r * k), k), &mut *out.add(r)) };
        let [dot] = simple::dots::<T, 1>(x, row);
        let prior = if accumulate { *out_r } else { T::zero() };
        *out_r = match addend {
            Addend::None => prior + dot,
            Addend::Each(values) => (prior + dot) + values[r],
            Addend::Same(v) => (prior + dot) + v,
        };
    }
}

/// The dot products of `x` with the 8 rows of `k = x.len()` values stored
/// one after another from `block`, lane `i` for row `i`, each rounded as the
/// plain loops do it (before the addition to C).
///
/// # Safety
/// The CPU has AVX2; `block` is readable for `8·k` values.
#[inline(always)]
unsafe fn dots8_f32(block: *const f32, x: &[f32]) -> __m256 {
    let k = x.len();
    let (x_pairs, x_rest) = x.as_chunks::<16>();
    // SAFETY: the CPU has AVX2 (this function's contract). Row `i`'s chunk
    // `j` is the 8 values at `i·k + 8·j`, and `i·k + 8·j + 8 <= i·k + k <=
    // 8·k` for `i < 8`, `j < k / 8`.
    unsafe {
        let mut partial = [_mm256_setzero_ps(); 8];
        // Two chunks per step: the address of a row's values then serves
        // two loads.
        for (pair, x_pair) in x_pairs.iter().enumerate() {
            let x_j = _mm256_loadu_ps(x_pair.as_ptr());
            let x_next = _mm256_loadu_ps(x_pair.as_ptr().add(8));
            for (i, partial_i) in partial.iter_mut().enumerate() {
                let row_pair = block.add(i * k + 16 * pair);
                *partial_i = _mm256_add_ps(*partial_i, _mm256_mul_ps(x_j, _mm256_loadu_ps(row_pair)));
                *partial_i = _mm256_add_ps(*partial_i, _mm256_mul_ps(x_next, _mm256_loadu_ps(row_pair.add(8))));
            }
        }
        if x_rest.len() >= 8 {
            let j = 2 * x_pairs.len();
            let x_j = _mm256_loadu_ps(x_rest.as_ptr());
            for (i, partial_i) in partial.iter_mut().enumerate() {
                let row_chunk = _mm256_loadu_ps(block.add(i * k + 8 * j));
                *partial_i = _mm256_add_ps(*partial_i, _mm256_mul_ps(x_j, row_chunk));
            }
        }
        // With no full chunk every partial sum is +0, and so is their sum.
        let total = if k < 8 { _mm256_setzero_ps() } else { lane_order_sum_8x8(partial) };
        if k.is_multiple_of(8) { total } else { tail8_f32(block, x, total) }
    }
}

/// `total` plus the products of the tail of `x` (the `k % 8` values after
/// the chunks) with those of the 8 rows from `block`, one element at a time.
///
/// # Safety
/// The CPU has AVX2; `block` is readable for `8·k` values, `k = x.len()`.
#[target_feature(enable = "avx2,fma")]
#[inline(never)]
unsafe fn tail8_f32(block: *const f32, x: &[f32], mut total: __m256) -> __m256 {
    let k = x.len();
    for (t, &x_t) in x.iter().enumerate().skip(k - k % 8) {
        // SAFETY: value `t < k` of row `i < 8` is at `i·k + t`, inside.
        let column: [f32; 8] = core::array::from_fn(|i| unsafe { *block.add(i * k + t) });
        // SAFETY: `column` holds 8 values.
        let values = unsafe { _mm256_loadu_ps(column.as_ptr()) };
        total = _mm256_add_ps(total, _mm256_mul_ps(_mm256_set1_ps(x_t), values));
    }
    total
}

/// `0 + p[·][0] + p[·][1] + … + p[·][7]` for 8 rows of partial sums, row `i`
/// in lane `i` of the result: an 8 x 8 transpose (lane `l` of every row in
/// one vector), then the additions in lane order.
///
/// # Safety
/// The CPU has AVX2.
#[inline(always)]
unsafe fn lane_order_sum_8x8(p: [__m256; 8]) -> __m256 {
    // SAFETY: register-only intrinsics; the CPU has AVX (this function's
    // contract).
    unsafe {
        // Pairs of rows interleaved: [r0_0 r1_0 r0_1 r1_1 | r0_4 r1_4 r0_5 r1_5], …
        let t0 = _mm256_unpacklo_ps(p[0], p[1]);
        let t1 = _mm256_unpackhi_ps(p[0], p[1]);
        let t2 = _mm256_unpacklo_ps(p[2], p[3]);
        let t3 = _mm256_unpackhi_ps(p[2], p[3]);
        let t4 = _mm256_unpacklo_ps(p[4], p[5]);
        let t5 = _mm256_unpackhi_ps(p[4], p[5]);
        let t6 = _mm256_unpacklo_ps(p[6], p[7]);
        let t7 = _mm256_unpackhi_ps(p[6], p[7]);
        // Lane l of rows 0-3 in the low half, lane l + 4 in the high half.
        let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        // The same for rows 4-7.
        let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        let lanes = [
            _mm256_permute2f128_ps::<0x20>(s0, s4),
            _mm256_permute2f128_ps::<0x20>(s1, s5),
            _mm256_permute2f128_ps::<0x20>(s2, s6),
            _mm256_permute2f128_ps::<0x20>(s3, s7),
            _mm256_permute2f128_ps::<0x31>(s0, s4),
            _mm256_permute2f128_ps::<0x31>(s1, s5),
            _mm256_permute2f128_ps::<0x31>(s2, s6),
            _mm256_permute2f128_ps::<0x31>(s3, s7),
        ];
        let mut total = _mm256_setzero_ps();
        for lane in lanes {
            total = _mm256_add_ps(total, lane);
        }
        total
    }
}

/// [`dots8_f32`] for 4 rows.
///
/// # Safety
/// The CPU has AVX2; `block` is readable for `4·k` values.
#[inline(always)]
unsafe fn dots4_f32(block: *const f32, x: &[f32]) -> __m128 {
    let k = x.len();
    let (x_chunks, x_tail) = x.as_chunks::<8>();
    // SAFETY: as in `dots8_f32`, with `i < 4`.
    unsafe {
        let row: [*const f32; 4] = core::array::from_fn(|i| block.add(i * k));
        let mut p = [_mm256_setzero_ps(); 4];
        for (j, x_chunk) in x_chunks.iter().enumerate() {
            let x_j = _mm256_loadu_ps(x_chunk.as_ptr());
            for (partial_i, row_i) in p.iter_mut().zip(&row) {
                let row_chunk = _mm256_loadu_ps(row_i.add(8 * j));
                *partial_i = _mm256_add_ps(*partial_i, _mm256_mul_ps(x_j, row_chunk));
            }
        }
        let mut total = _mm_setzero_ps();
        if !x_chunks.is_empty() {
            // A 4 x 8 transpose: lane l of the 4 rows in the low half of s_l,
            // lane l + 4 in the high half.
            let t0 = _mm256_unpacklo_ps(p[0], p[1]);
            let t1 = _mm256_unpackhi_ps(p[0], p[1]);
            let t2 = _mm256_unpacklo_ps(p[2], p[3]);
            let t3 = _mm256_unpackhi_ps(p[2], p[3]);
            let s = [
                _mm256_shuffle_ps::<0x44>(t0, t2),
                _mm256_shuffle_ps::<0xEE>(t0, t2),
                _mm256_shuffle_ps::<0x44>(t1, t3),
                _mm256_shuffle_ps::<0xEE>(t1, t3),
            ];
            for s_l in s {
                total = _mm_add_ps(total, _mm256_castps256_ps128(s_l));
            }
            for s_l in s {
                total = _mm_add_ps(total, _mm256_extractf128_ps::<1>(s_l));
            }
        }
        for (t, &x_t) in (k - x_tail.len()..).zip(x_tail) {
            let column = row.map(|row_i| *row_i.add(t));
            total = _mm_add_ps(total, _mm_mul_ps(_mm_set1_ps(x_t), _mm_loadu_ps(column.as_ptr())));
        }
        total
    }
}

/// [`dots8_f32`] for f64 and 4 rows: each row's eight partial sums in two
/// vectors (lanes 0-3 and 4-7).
///
/// # Safety
/// The CPU has AVX2; `block` is readable for `4·k` values.
#[inline(always)]
unsafe fn dots4_f64(block: *const f64, x: &[f64]) -> __m256d {
    let k = x.len();
    let (x_chunks, x_tail) = x.as_chunks::<8>();
    // SAFETY: the CPU has AVX2 (this function's contract). Row `i`'s chunk
    // `j` is the 8 values at `i·k + 8·j` (two loads of 4), and `i·k + 8·j + 8
    // <= i·k + k <= 4·k` for `i < 4`, `j < k / 8`; the tail's values are at
    // `i·k + t` for `t < k`.
    unsafe {
        let row: [*const f64; 4] = core::array::from_fn(|i| block.add(i * k));
        let mut low = [_mm256_setzero_pd(); 4];
        let mut high = [_mm256_setzero_pd(); 4];
        for (j, x_chunk) in x_chunks.iter().enumerate() {
            let x_low = _mm256_loadu_pd(x_chunk.as_ptr());
            let x_high = _mm256_loadu_pd(x_chunk.as_ptr().add(4));
            for ((low_i, high_i), row_i) in low.iter_mut().zip(&mut high).zip(&row) {
                let row_chunk = row_i.add(8 * j);
                *low_i = _mm256_add_pd(*low_i, _mm256_mul_pd(x_low, _mm256_loadu_pd(row_chunk)));
                *high_i = _mm256_add_pd(*high_i, _mm256_mul_pd(x_high, _mm256_loadu_pd(row_chunk.add(4))));
            }
        }
        let mut total = _mm256_setzero_pd();
        if !x_chunks.is_empty() {
            for half in [low, high] {
                for lane in transpose_4x4(half) {
                    total = _mm256_add_pd(total, lane);
                }
            }
        }
        for (t, &x_t) in (k - x_tail.len()..).zip(x_tail) {
            let column = row.map(|row_i| *row_i.add(t));
            total = _mm256_add_pd(total, _mm256_mul_pd(_mm256_set1_pd(x_t), _mm256_loadu_pd(column.as_ptr())));
        }
        total
    }
}

/// Lane `l` of the 4 rows `p` in vector `l`.
///
/// # Safety
/// The CPU has AVX.
#[inline(always)]
unsafe fn transpose_4x4(p: [__m256d; 4]) -> [__m256d; 4] {
    // SAFETY: register-only intrinsics; the CPU has AVX (this function's
    // contract).
    unsafe {
        // [r0_0 r1_0 | r0_2 r1_2], [r0_1 r1_1 | r0_3 r1_3], and rows 2-3.
        let t0 = _mm256_unpacklo_pd(p[0], p[1]);
        let t1 = _mm256_unpackhi_pd(p[0], p[1]);
        let t2 = _mm256_unpacklo_pd(p[2], p[3]);
        let t3 = _mm256_unpackhi_pd(p[2], p[3]);
        [
            _mm256_permute2f128_pd::<0x20>(t0, t2),
            _mm256_permute2f128_pd::<0x20>(t1, t3),
            _mm256_permute2f128_pd::<0x31>(t0, t2),
            _mm256_permute2f128_pd::<0x31>(t1, t3),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;
    use crate::kernels::Form;
    use crate::kernels::dispatch::{Path, path_for};
    use alloc::vec::Vec;

    /// Values that exercise every rounding case: magnitudes over many binades
    /// (so that sums cancel and round), exact zeros of both signs, subnormals,
    /// and now and then an infinity or a NaN (products and sums of them give
    /// NaN and infinities of either sign).
    fn value<T: Scalar>(rng: &mut Rng, specials: bool) -> T {
        let tiny = T::min_positive_value().as_f64();
        match rng.next_u64() % 16 {
            0 => T::from_f64(-0.0),
            1 => T::zero(),
            2 => T::from_f64(tiny * rng.uniform(-1.0, 1.0)),
            3 if specials => [T::infinity(), T::neg_infinity(), T::nan()][(rng.next_u64() % 3) as usize],
            4 => T::from_f64(rng.uniform(-1.0, 1.0) * 1e6),
            _ => T::from_f64(rng.uniform(-1.0, 1.0) * rng.uniform(0.5, 4.0)),
        }
    }

    fn values<T: Scalar>(len: usize, rng: &mut Rng, specials: bool) -> Vec<T> {
        (0..len).map(|_| value(rng, specials)).collect()
    }

    /// The bits of `values`, with every NaN as one NaN: which NaN an operation
    /// on NaNs returns (its sign and payload) depends on the order of the
    /// operands the compiler picks, and Rust does not specify it.
    fn bits<T: Scalar>(values: &[T]) -> Vec<u64> {
        values.iter().map(|v| if v.is_nan() { u64::MAX } else { v.as_f64().to_bits() }).collect()
    }

    /// `dot_products` against the plain loops, bit for bit, for one shape
    /// and every operand layout the dispatch hands it (`A·Bᵀ`; `A·b`, which
    /// is `A·Bᵀ` with `n = 1`), with and without accumulation.
    fn check<T: Scalar>(m: usize, n: usize, k: usize, rng: &mut Rng) {
        for (specials, zeros) in [(false, false), (true, false), (false, true)] {
            let mut a: Vec<T> = values(m * k, rng, specials);
            let b: Vec<T> = values(n * k, rng, specials);
            let mut c0: Vec<T> = values(m * n, rng, specials);
            if zeros {
                // Every product a signed zero, whole lanes and dot products
                // of `-0` products among them, and `-0` in C.
                a.fill(T::from_f64(-0.0));
                c0.fill(T::from_f64(-0.0));
            }
            for accumulate in [false, true] {
                let mut expected = c0.clone();
                simple::plain(Form::ABt, m, n, k, &a, &b, &mut expected, accumulate);
                let mut found = c0.clone();
                assert!(dot_products(m, n, k, &a, &b, &mut found, accumulate));
                let shape = (T::NAME, m, n, k, accumulate, specials);
                assert_eq!(bits(&found), bits(&expected), "{shape:?}");
                // Where no input is special, NaN cannot appear, so the bits
                // above were compared exactly.
                assert!(specials || found.iter().all(|v| !v.is_nan()), "{shape:?}");
            }
        }
    }

    #[test]
    fn dot_products_give_the_bits_of_the_plain_loops() {
        if !has_avx2_fma() {
            // Nothing to compare: the plain loops run instead.
            assert!(!dot_products(1, 1, 1, &[1.0f32], &[1.0], &mut [0.0], false));
            return;
        }
        let mut rng = Rng::new(15);
        // Under Miri a few shapes that still take every kind of block and
        // tail.
        let (rows, widths, depths): (Vec<usize>, Vec<usize>, Vec<usize>) = if cfg!(miri) {
            (alloc::vec![1, 2], alloc::vec![1, 5, 13], alloc::vec![2, 9, 17])
        } else {
            ((1..=9).collect(), (1..=40).collect(), (2..=70).collect())
        };
        for &m in &rows {
            for &n in &widths {
                for &k in &depths {
                    // Every row-block combination (8, 4, single rows) on
                    // every depth would be 25k shapes: a sample of them,
                    // every width and depth at least once.
                    if cfg!(miri) || (m * 41 + n * 7 + k) % 11 == 0 || m == 1 || k % 8 == 0 {
                        check::<f32>(m, n, k, &mut rng);
                        check::<f64>(m, n, k, &mut rng);
                    }
                }
            }
        }
    }

    /// What the Simple path runs (`simple::gemm`, which hands the dot
    /// products here) gives the bits of the plain loops for every form,
    /// including the shapes it does not hand over (outer products, `Aᵀ·B`,
    /// `A·B` with several columns, empty ones).
    #[test]
    fn the_simple_path_gives_the_bits_of_the_plain_loops_for_every_form() {
        let mut rng = Rng::new(16);
        for form in [Form::AB, Form::AtB, Form::ABt] {
            for (m, n, k) in
                [(1, 32, 16), (3, 1, 17), (9, 1, 8), (2, 5, 1), (1, 1, 1), (4, 4, 0), (0, 3, 5), (5, 12, 33)]
                    .into_iter()
                    .chain([(200, 32, 1), (7, 1, 1), (1, 9, 1), (0, 4, 1), (3, 0, 1)])
            {
                let ((ar, ac), (br, bc)) = form.operand_shapes(m, n, k);
                let a: Vec<f32> = values(ar * ac, &mut rng, true);
                let b: Vec<f32> = values(br * bc, &mut rng, true);
                let c0: Vec<f32> = values(m * n, &mut rng, true);
                for accumulate in [false, true] {
                    let (mut expected, mut found) = (c0.clone(), c0.clone());
                    simple::plain(form, m, n, k, &a, &b, &mut expected, accumulate);
                    simple::gemm(form, m, n, k, &a, &b, &mut found, accumulate);
                    assert_eq!(bits(&found), bits(&expected), "{form:?} {m}x{n}x{k} accumulate={accumulate}");
                }
            }
        }
    }

    /// A dense layer's product and bias in one pass (`gemm_bias`, which hands
    /// the Simple path's dot products here) give the bits of the product into
    /// a zeroed `pre` followed by the bias broadcast, for
    /// batches on and off the Simple path, one input (an outer product, left
    /// to `gemm`), one output (`A·b`, blocks along the batch), and biases of
    /// `-0`.
    #[test]
    fn product_with_bias_gives_the_bits_of_the_product_then_the_bias() {
        fn check<T: Scalar>(rng: &mut Rng) {
            // Under Miri (the raw-pointer accesses, with `-C
            // target-feature=+avx2,+fma`) a few shapes that still take every
            // kind of block.
            let (batches, shapes): (&[usize], &[(usize, usize)]) = if cfg!(miri) {
                (&[1, 2, 5], &[(16, 12), (9, 1), (1, 4), (17, 3)])
            } else {
                (&[1, 2, 3, 4, 5, 9, 64], &[(16, 32), (32, 32), (32, 4), (1, 32), (32, 1), (7, 13), (40, 9), (3, 2)])
            };
            for &batch in batches {
                for &(inputs, outputs) in shapes {
                    for specials in [false, true] {
                        let x: Vec<T> = values(batch * inputs, rng, specials);
                        let weight: Vec<T> = values(outputs * inputs, rng, specials);
                        let mut bias: Vec<T> = values(outputs, rng, specials);
                        if batch == 2 {
                            bias.fill(T::from_f64(-0.0));
                        }
                        let mut expected: Vec<T> = values(batch * outputs, rng, true);
                        let mut found = expected.clone();
                        crate::kernels::gemm(Form::ABt, batch, outputs, inputs, &x, &weight, &mut expected, false);
                        crate::kernels::add_row_to_each(&mut expected, &bias);
                        let simple = path_for::<T>(Form::ABt, batch, outputs, inputs) == Path::Simple;
                        let mut direct = found.clone();
                        let fused = simple
                            && dot_products_with_bias(
                                Form::ABt,
                                batch,
                                outputs,
                                inputs,
                                &x,
                                &weight,
                                &mut direct,
                                &bias,
                            );
                        assert_eq!(fused, has_avx2_fma() && simple && inputs != 1, "{batch}x{inputs}->{outputs}");
                        crate::kernels::gemm_bias(Form::ABt, batch, outputs, inputs, &x, &weight, &mut found, &bias);
                        if fused {
                            assert_eq!(bits(&direct), bits(&found), "{batch}x{inputs}->{outputs}: gemm_bias");
                        }
                        let shape = (T::NAME, batch, inputs, outputs, specials);
                        assert_eq!(bits(&found), bits(&expected), "{shape:?}");
                    }
                }
            }
        }
        let mut rng = Rng::new(17);
        check::<f32>(&mut rng);
        check::<f64>(&mut rng);
    }

    #[test]
    fn empty_shapes_are_left_to_the_plain_loops() {
        let mut c = [1.0f32; 4];
        assert!(!dot_products(2, 2, 0, &[], &[], &mut c, true));
        assert_eq!(c, [1.0; 4]);
        assert!(!dot_products(0, 2, 3, &[], &[0.0; 6], &mut [], false));
    }
}
