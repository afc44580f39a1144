//! x86_64 micro-kernels with AVX-512F and AVX2 + FMA intrinsics
//! ([`Path::Avx512`](super::Path::Avx512), [`Path::Avx2`](super::Path::Avx2)).
//!
//! The only module of the crate that uses `unsafe`: intrinsics are `unsafe` to
//! call (the CPU must have the feature) and read and write through raw
//! pointers. The pattern is matrixmultiply's: one `#[inline(always)]` kernel
//! body, generic over a vector type, instantiated inside thin
//! `#[target_feature]` wrappers so that the whole body is compiled for the
//! feature. A wrapper is only reachable through a token ([`Avx512`], [`Avx2`])
//! that can only be made after the feature was detected, and through a safe
//! method that checks every slice bound first.
//!
//! Tiles (rows x columns of C, in registers): AVX-512 12 x 32 f32 and 12 x 16
//! f64 (24 of the 32 zmm registers, plus two for a row of the B panel and one
//! for a broadcast element of A), AVX2 6 x 16 f32 and 6 x 8 f64 (12 of the 16
//! ymm registers). Each depth step is two vector loads from the packed B panel,
//! `MR` broadcasts from A and `2·MR` fused multiply-adds, so the loop is bound by
//! the FMA units. Both paths use the same depth blocks, so they give the same
//! bits; they differ from the portable path, which rounds every multiply and
//! add separately.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

use core::arch::x86_64::{
    __m256, __m256d, __m512, __m512d, _MM_HINT_T0, _mm_prefetch, _mm256_add_pd, _mm256_add_ps, _mm256_fmadd_pd,
    _mm256_fmadd_ps, _mm256_loadu_pd, _mm256_loadu_ps, _mm256_permute2f128_pd, _mm256_permute2f128_ps, _mm256_set1_pd,
    _mm256_set1_ps, _mm256_setzero_pd, _mm256_setzero_ps, _mm256_shuffle_ps, _mm256_storeu_pd, _mm256_storeu_ps,
    _mm256_unpackhi_pd, _mm256_unpackhi_ps, _mm256_unpacklo_pd, _mm256_unpacklo_ps, _mm512_add_pd, _mm512_add_ps,
    _mm512_fmadd_pd, _mm512_fmadd_ps, _mm512_loadu_pd, _mm512_loadu_ps, _mm512_set1_pd, _mm512_set1_ps,
    _mm512_setzero_pd, _mm512_setzero_ps, _mm512_storeu_pd, _mm512_storeu_ps,
};

use super::blocked::{MicroKernel, pack_transposed_plain};

/// Whether the CPU has AVX-512F (run-time detection with `std`, the compile-time
/// target features without).
pub(crate) fn has_avx512() -> bool {
    #[cfg(feature = "std")]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(feature = "std"))]
    {
        cfg!(target_feature = "avx512f")
    }
}

/// Whether the CPU has AVX2 and FMA (as [`has_avx512`]).
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(feature = "std")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(feature = "std"))]
    {
        cfg!(all(target_feature = "avx2", target_feature = "fma"))
    }
}

/// Asks the CPU to load the cache lines of `data` into L1.
#[inline(always)]
fn prefetch<T>(data: &[T]) {
    let Some(last) = data.len().checked_sub(1) else { return };
    let bytes = core::mem::size_of_val(data);
    let start = data.as_ptr().cast::<i8>();
    for offset in (0..bytes).step_by(64) {
        // SAFETY: `start + offset` is inside `data` (offset < its size in
        // bytes); a prefetch never faults and never changes memory.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(offset)) }
    }
    // SAFETY: as above, the last element of `data` (the loop may have stopped
    // one line short when `data` does not start on a line boundary).
    unsafe { _mm_prefetch::<_MM_HINT_T0>(data.as_ptr().add(last).cast::<i8>()) }
}

/// Whether `len >= Σ factor·stride`, computed without overflow (an overflowing
/// sum is larger than any length): the bound checks before raw-pointer access
/// must not wrap, whatever strides a caller passes.
#[inline(always)]
fn holds<const N: usize>(len: usize, terms: [(usize, usize); N]) -> bool {
    terms
        .iter()
        .try_fold(0usize, |sum, &(factor, stride)| factor.checked_mul(stride).and_then(|term| sum.checked_add(term)))
        .is_some_and(|need| len >= need)
}

/// Proof that the CPU has AVX-512F: only [`Avx512::detect`] makes one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx512(());

impl Avx512 {
    pub(crate) fn detect() -> Option<Self> {
        has_avx512().then_some(Self(()))
    }
}

/// Proof that the CPU has AVX2 and FMA: only [`Avx2::detect`] makes one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2(());

impl Avx2 {
    pub(crate) fn detect() -> Option<Self> {
        has_avx2_fma().then_some(Self(()))
    }
}

/// The vector operations a kernel body needs.
///
/// Every method is `unsafe`: the CPU must have the vector type's feature, and
/// pointers must be valid for `LANES` elements.
trait Lanes: Copy {
    type Elem: Copy;
    const LANES: usize;
    unsafe fn zero() -> Self;
    unsafe fn splat(x: Self::Elem) -> Self;
    unsafe fn load(src: *const Self::Elem) -> Self;
    unsafe fn store(dst: *mut Self::Elem, v: Self);
    /// `a·b + c` with one rounding.
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self;
    unsafe fn add(a: Self, b: Self) -> Self;
}

macro_rules! lanes {
    ($vector:ty, $elem:ty, $lanes:expr, $zero:ident, $splat:ident, $load:ident, $store:ident, $fma:ident, $add:ident) => {
        impl Lanes for $vector {
            type Elem = $elem;
            const LANES: usize = $lanes;
            #[inline(always)]
            unsafe fn zero() -> Self {
                // SAFETY: the caller guarantees the CPU has this feature.
                unsafe { $zero() }
            }
            #[inline(always)]
            unsafe fn splat(x: $elem) -> Self {
                // SAFETY: the caller guarantees the CPU has this feature.
                unsafe { $splat(x) }
            }
            #[inline(always)]
            unsafe fn load(src: *const $elem) -> Self {
                // SAFETY: the caller guarantees the feature and `LANES` readable
                // elements at `src`; the load has no alignment requirement.
                unsafe { $load(src) }
            }
            #[inline(always)]
            unsafe fn store(dst: *mut $elem, v: Self) {
                // SAFETY: the caller guarantees the feature and `LANES` writable
                // elements at `dst`; the store has no alignment requirement.
                unsafe { $store(dst, v) }
            }
            #[inline(always)]
            unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
                // SAFETY: the caller guarantees the CPU has this feature.
                unsafe { $fma(a, b, c) }
            }
            #[inline(always)]
            unsafe fn add(a: Self, b: Self) -> Self {
                // SAFETY: the caller guarantees the CPU has this feature.
                unsafe { $add(a, b) }
            }
        }
    };
}

lanes!(
    __m512,
    f32,
    16,
    _mm512_setzero_ps,
    _mm512_set1_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_fmadd_ps,
    _mm512_add_ps
);
lanes!(
    __m512d,
    f64,
    8,
    _mm512_setzero_pd,
    _mm512_set1_pd,
    _mm512_loadu_pd,
    _mm512_storeu_pd,
    _mm512_fmadd_pd,
    _mm512_add_pd
);
lanes!(
    __m256,
    f32,
    8,
    _mm256_setzero_ps,
    _mm256_set1_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps
);
lanes!(
    __m256d,
    f64,
    4,
    _mm256_setzero_pd,
    _mm256_set1_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_fmadd_pd,
    _mm256_add_pd
);

/// The kernel body: an `MR x (NV·LANES)` tile of C (+)= A panel · packed B
/// panel, over depth `kc`, with A's element (i, p) at `a + i·row_stride +
/// p·depth_stride` (a packed panel has strides 1 and MR).
///
/// # Safety
/// The CPU has `V`'s feature; `a` is readable at every `i·row_stride +
/// p·depth_stride` (i < MR, p < kc), `b` for `kc·NV·LANES` elements, and `c`
/// readable and writable at `c + i·ldc + j` for every `i < MR`, `j < NV·LANES`.
#[inline(always)]
unsafe fn tile_body<V: Lanes, const MR: usize, const NV: usize>(
    kc: usize,
    a: *const V::Elem,
    row_stride: usize,
    depth_stride: usize,
    b: *const V::Elem,
    c: *mut V::Elem,
    ldc: usize,
    accumulate: bool,
    bias: Option<*const V::Elem>,
) {
    // SAFETY: every pointer offset below stays inside the ranges the caller
    // guarantees (p < kc, i < MR, v < NV, and NR values of `bias`), and the
    // feature is present.
    unsafe {
        let nr = NV * V::LANES;
        // The tile of C is read (or written) only after the depth loop: ask
        // for its lines now so they arrive meanwhile.
        for i in 0..MR {
            let c_row = c.add(i * ldc).cast::<i8>().cast_const();
            _mm_prefetch::<_MM_HINT_T0>(c_row);
            _mm_prefetch::<_MM_HINT_T0>(c.add(i * ldc + nr - 1).cast::<i8>().cast_const());
        }
        let mut acc = [[V::zero(); NV]; MR];
        for p in 0..kc {
            let b_step = b.add(p * nr);
            let mut b_vectors = [V::zero(); NV];
            for (v, b_vector) in b_vectors.iter_mut().enumerate() {
                *b_vector = V::load(b_step.add(v * V::LANES));
            }
            let a_step = a.add(p * depth_stride);
            for (i, acc_row) in acc.iter_mut().enumerate() {
                let a_ip = V::splat(*a_step.add(i * row_stride));
                for (acc_iv, &b_vector) in acc_row.iter_mut().zip(&b_vectors) {
                    *acc_iv = V::mul_add(a_ip, b_vector, *acc_iv);
                }
            }
        }
        for (i, acc_row) in acc.iter().enumerate() {
            let c_row = c.add(i * ldc);
            for (v, &sum) in acc_row.iter().enumerate() {
                let c_iv = c_row.add(v * V::LANES);
                let value = if accumulate { V::add(V::load(c_iv), sum) } else { sum };
                let value = match bias {
                    Some(bias) => V::add(value, V::load(bias.add(v * V::LANES))),
                    None => value,
                };
                V::store(c_iv, value);
            }
        }
    }
}

/// `dst[p·nr + r] = src[r·ld + p]` for `r < cols`, `p < kc` (see
/// [`MicroKernel::pack_transposed`]), `L x L` blocks at a time transposed in
/// registers by `transpose`, the rest element by element.
///
/// # Safety
/// The CPU has AVX2; `src` holds `(cols - 1)·ld + kc` values (for
/// `cols > 0`), `dst` holds `kc·nr`, and `cols <= nr`.
#[inline(always)]
unsafe fn pack_transposed_body<V: Lanes, const L: usize>(
    src: *const V::Elem,
    ld: usize,
    kc: usize,
    cols: usize,
    nr: usize,
    dst: *mut V::Elem,
    transpose: impl Fn([V; L]) -> [V; L],
) {
    // SAFETY: every offset below is `r·ld + p` with r < cols, p < kc (inside
    // `src`) or `p·nr + r` with the same bounds (inside `dst`); a vector load
    // of L values at `r·ld + p` has p + L <= kc, a vector store at `p·nr + c0`
    // has c0 + L <= cols <= nr.
    unsafe {
        let full_cols = cols / L * L;
        let full_depth = kc / L * L;
        for c0 in (0..full_cols).step_by(L) {
            for p in (0..full_depth).step_by(L) {
                let rows: [V; L] = core::array::from_fn(|i| V::load(src.add((c0 + i) * ld + p)));
                for (q, column) in transpose(rows).into_iter().enumerate() {
                    V::store(dst.add((p + q) * nr + c0), column);
                }
            }
            for p in full_depth..kc {
                for i in 0..L {
                    *dst.add(p * nr + c0 + i) = *src.add((c0 + i) * ld + p);
                }
            }
        }
        for col in full_cols..cols {
            for p in 0..kc {
                *dst.add(p * nr + col) = *src.add(col * ld + p);
            }
        }
    }
}

/// Transposes 8 vectors of 8 f32.
#[inline(always)]
fn transpose_8x8(r: [__m256; 8]) -> [__m256; 8] {
    // SAFETY: register shuffles, on a CPU with AVX (its caller's contract).
    unsafe {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ]
    }
}

/// Transposes 4 vectors of 4 f64.
#[inline(always)]
fn transpose_4x4(r: [__m256d; 4]) -> [__m256d; 4] {
    // SAFETY: register shuffles, on a CPU with AVX (its caller's contract).
    unsafe {
        let t0 = _mm256_unpacklo_pd(r[0], r[1]);
        let t1 = _mm256_unpackhi_pd(r[0], r[1]);
        let t2 = _mm256_unpacklo_pd(r[2], r[3]);
        let t3 = _mm256_unpackhi_pd(r[2], r[3]);
        [
            _mm256_permute2f128_pd::<0x20>(t0, t2),
            _mm256_permute2f128_pd::<0x20>(t1, t3),
            _mm256_permute2f128_pd::<0x31>(t0, t2),
            _mm256_permute2f128_pd::<0x31>(t1, t3),
        ]
    }
}

/// The transposing packs with AVX2, for both element types.
trait PackTransposed: Sized {
    /// See [`pack_transposed_body`] (same contract).
    unsafe fn pack_avx2(src: *const Self, ld: usize, kc: usize, cols: usize, nr: usize, dst: *mut Self);
}

impl PackTransposed for f32 {
    #[target_feature(enable = "avx2")]
    unsafe fn pack_avx2(src: *const f32, ld: usize, kc: usize, cols: usize, nr: usize, dst: *mut f32) {
        // SAFETY: passed on (this function's contract; AVX2 is enabled here).
        unsafe { pack_transposed_body::<__m256, 8>(src, ld, kc, cols, nr, dst, transpose_8x8) }
    }
}

impl PackTransposed for f64 {
    #[target_feature(enable = "avx2")]
    unsafe fn pack_avx2(src: *const f64, ld: usize, kc: usize, cols: usize, nr: usize, dst: *mut f64) {
        // SAFETY: passed on (this function's contract; AVX2 is enabled here).
        unsafe { pack_transposed_body::<__m256d, 4>(src, ld, kc, cols, nr, dst, transpose_4x4) }
    }
}

/// [`MicroKernel::pack_transposed`] with AVX2 when the CPU has it (always, for
/// the AVX2 kernels; for the AVX-512 ones, every CPU known), else the plain
/// loop: the same values either way.
#[inline]
fn pack_transposed<T: crate::Scalar + PackTransposed>(
    src: &[T],
    ld: usize,
    kc: usize,
    cols: usize,
    nr: usize,
    dst: &mut [T],
) {
    assert!(cols <= nr && dst.len() >= kc * nr);
    if cols == 0 || kc == 0 {
        return;
    }
    assert!(holds(src.len(), [(cols - 1, ld), (1, kc)]));
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 (checked), and the assertions give the
        // bounds `pack_transposed_body` needs.
        unsafe { T::pack_avx2(src.as_ptr(), ld, kc, cols, nr, dst.as_mut_ptr()) }
    } else {
        pack_transposed_plain(src, ld, kc, cols, nr, dst);
    }
}

/// `#[target_feature]` wrappers around [`tile_body`] (packed A, and A read in
/// place) and the safe [`MicroKernel`] impl that reaches them through a
/// detection token.
macro_rules! kernel {
    ($token:ty, $elem:ty, $vector:ty, $feature:literal, $rows:ident, mr = $mr:expr, parts = [$($part:literal),+],
     nv = $nv:expr, kc = $kc:expr) => {
        /// # Safety
        /// As [`tile_body`] with `R` rows.
        #[target_feature(enable = $feature)]
        unsafe fn $rows<const R: usize>(
            kc: usize,
            a: *const $elem,
            row_stride: usize,
            depth_stride: usize,
            b: *const $elem,
            c: *mut $elem,
            ldc: usize,
            accumulate: bool,
            bias: Option<*const $elem>,
        ) {
            // SAFETY: passed on from this function's contract; the feature is
            // enabled for this function.
            unsafe { tile_body::<$vector, R, $nv>(kc, a, row_stride, depth_stride, b, c, ldc, accumulate, bias) }
        }

        impl MicroKernel<$elem> for $token {
            const MR: usize = $mr;
            const NR: usize = $nv * <$vector as Lanes>::LANES;
            const KC: usize = $kc;

            #[inline]
            fn tile(
                self,
                rows: usize,
                a: &[$elem],
                row_stride: usize,
                depth_stride: usize,
                b: &[$elem],
                c: &mut [$elem],
                ldc: usize,
                accumulate: bool,
                bias: Option<&[$elem]>,
            ) {
                let (mr, nr) = (<Self as MicroKernel<$elem>>::MR, <Self as MicroKernel<$elem>>::NR);
                let kc = b.len() / nr;
                assert!(kc > 0 && b.len() == kc * nr && (1..=mr).contains(&rows));
                assert!(ldc >= nr && holds(c.len(), [(rows - 1, ldc), (1, nr)]));
                assert!(holds(a.len(), [(rows - 1, row_stride), (kc - 1, depth_stride), (1, 1)]));
                assert!(bias.is_none_or(|bias| bias.len() >= nr));
                let bias = bias.map(<[$elem]>::as_ptr);
                // A full tile, or a partial panel as tiles of fewer rows (each
                // part a power of two, each at most once): the same chain of
                // operations per element.
                let mut done = 0;
                for part in [$mr, $($part),+] {
                    if rows - done >= part {
                        // SAFETY: the token exists only if the CPU has the
                        // feature (`detect`). The assertions give `b` kc·NR
                        // elements, `bias` NR values, C every `i·ldc + j` with
                        // i < rows, j < NR, and put the last element of A the
                        // body reads, (rows - 1, kc - 1), inside `a` (every
                        // other one is at a smaller offset); this part covers
                        // rows `done..done + part` of those.
                        unsafe {
                            let (a, c) = (a.as_ptr().add(done * row_stride), c.as_mut_ptr().add(done * ldc));
                            let b = b.as_ptr();
                            match part {
                                $mr => $rows::<{ $mr }>(kc, a, row_stride, depth_stride, b, c, ldc, accumulate, bias),
                                $($part => $rows::<$part>(kc, a, row_stride, depth_stride, b, c, ldc, accumulate, bias),)+
                                _ => unreachable!(),
                            }
                        }
                        done += part;
                    }
                }
            }

            #[inline]
            fn pack_transposed(self, src: &[$elem], ld: usize, kc: usize, cols: usize, dst: &mut [$elem]) {
                pack_transposed(src, ld, kc, cols, <Self as MicroKernel<$elem>>::NR, dst);
            }

            #[inline(always)]
            fn prefetch(self, data: &[$elem]) {
                prefetch(data);
            }
        }
    };
}

// Depth blocks: the two paths must share them (per type) to give the same bits.
// A B panel is then at most 24 KiB (KC x NR), most of L1; depths are split
// evenly (k = 1024 gives 6 blocks of 171). 192 was a little faster than 128 and
// 256 at 1024³, and as fast elsewhere, in interleaved runs.
const KC_F32: usize = 192;
const KC_F64: usize = 192;

kernel!(Avx512, f32, __m512, "avx512f", tile_f32_avx512, mr = 12, parts = [8, 4, 2, 1], nv = 2, kc = KC_F32);
kernel!(Avx512, f64, __m512d, "avx512f", tile_f64_avx512, mr = 12, parts = [8, 4, 2, 1], nv = 2, kc = KC_F64);
kernel!(Avx2, f32, __m256, "avx2,fma", tile_f32_avx2, mr = 6, parts = [4, 2, 1], nv = 2, kc = KC_F32);
kernel!(Avx2, f64, __m256d, "avx2,fma", tile_f64_avx2, mr = 6, parts = [4, 2, 1], nv = 2, kc = KC_F64);

/// Code compiled for a feature: a `#[target_feature]` function that calls a
/// closure, so that an `#[inline(always)]` closure (and everything it inlines)
/// is compiled with the feature's vector width, up to 8 f64 or 16 f32 lanes
/// with AVX-512 instead of SSE2's 2 or 4. The kernels run this way (the
/// element-wise loops, the small-shape products) are written so that their
/// results do not depend on the vector width: the same operations in the same
/// order, and Rust never contracts `a·b + c` into a fused multiply-add on its
/// own.
macro_rules! compiled_for {
    ($token:ty, $feature:literal, $call:ident) => {
        #[target_feature(enable = $feature)]
        fn $call<R>(body: impl FnOnce() -> R) -> R {
            body()
        }

        impl $token {
            /// Runs `body`, compiled for this token's feature where it is inlined.
            #[inline]
            pub(crate) fn run<R>(self, body: impl FnOnce() -> R) -> R {
                // SAFETY: the token exists only if the CPU has the feature
                // (`detect`); the function is otherwise safe.
                unsafe { $call(body) }
            }
        }
    };
}

compiled_for!(Avx512, "avx512f", call_avx512);
compiled_for!(Avx2, "avx2,fma", call_avx2);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// The transposing pack (AVX2 blocks where the CPU has them) writes the
    /// panel of the plain loop, for every column count up to the panel width,
    /// depths around the block size, and row distances longer than the depth;
    /// columns past `cols` are left alone.
    #[test]
    fn transposing_pack_matches_the_plain_loop() {
        fn check<T: crate::Scalar + PackTransposed>() {
            for nr in [8, 16, 32] {
                for cols in 0..=nr {
                    for kc in [0, 1, 3, 4, 7, 8, 9, 16, 17, 40] {
                        let ld = kc + 5;
                        let src: Vec<T> = (0..cols.max(1) * ld).map(|i| T::from_f64(i as f64 + 0.5)).collect();
                        let mut fast = alloc::vec![T::from_f64(-1.0); kc * nr];
                        let mut plain = fast.clone();
                        pack_transposed(&src, ld, kc, cols, nr, &mut fast);
                        pack_transposed_plain(&src, ld, kc, cols, nr, &mut plain);
                        let bits = |v: &[T]| v.iter().map(|t| t.as_f64().to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&fast), bits(&plain), "{} nr {nr} cols {cols} kc {kc}", T::NAME);
                    }
                }
            }
        }
        check::<f32>();
        check::<f64>();
    }
}
