//! The portable micro-kernel ([`Path::Portable`](super::Path::Portable)):
//! plain Rust, for every target.
//!
//! A 4 x 8 tile of accumulators in fixed-size arrays, which compilers keep in
//! vector registers where the target has them. Multiplies and adds are
//! separate operations (Rust never fuses them), so this path gives the same
//! bits on every target. Its packing space is small (at most 8 KiB for f32,
//! 16 KiB for f64), to suit small stacks.

use super::blocked::MicroKernel;
use crate::Scalar;

const MR: usize = 4;
const NR: usize = 8;

/// The portable kernel (a zero-sized token: always available).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable;

impl<T: Scalar> MicroKernel<T> for Portable {
    const MR: usize = MR;
    const NR: usize = NR;
    const KC: usize = 128;

    #[inline]
    fn tile(
        self,
        rows: usize,
        a: &[T],
        row_stride: usize,
        depth_stride: usize,
        b: &[T],
        c: &mut [T],
        ldc: usize,
        accumulate: bool,
        bias: Option<&[T]>,
    ) {
        let kc = b.len() / NR;
        assert!(kc > 0 && b.len() == kc * NR && (1..=MR).contains(&rows));
        assert!(a.len() > (rows - 1) * row_stride + (kc - 1) * depth_stride);
        assert!(ldc >= NR && c.len() >= (rows - 1) * ldc + NR);
        // A partial panel as tiles of 2 and 1 rows: the same chain per element.
        let mut done = 0;
        for part in [MR, 2, 1] {
            if rows - done >= part {
                let (a, c) = (&a[done * row_stride..], &mut c[done * ldc..]);
                match part {
                    MR => tile_rows::<T, MR>(a, row_stride, depth_stride, b, c, ldc, accumulate, bias),
                    2 => tile_rows::<T, 2>(a, row_stride, depth_stride, b, c, ldc, accumulate, bias),
                    _ => tile_rows::<T, 1>(a, row_stride, depth_stride, b, c, ldc, accumulate, bias),
                }
                done += part;
            }
        }
    }
}

/// An `R x NR` tile (lengths checked by the caller).
#[inline(always)]
fn tile_rows<T: Scalar, const R: usize>(
    a: &[T],
    row_stride: usize,
    depth_stride: usize,
    b: &[T],
    c: &mut [T],
    ldc: usize,
    accumulate: bool,
    bias: Option<&[T]>,
) {
    let mut acc = [[T::zero(); NR]; R];
    for (p, b_step) in b.chunks_exact(NR).enumerate() {
        let a_step: [T; R] = core::array::from_fn(|i| a[i * row_stride + p * depth_stride]);
        step(&mut acc, &a_step, b_step);
    }
    store(&acc, c, ldc, accumulate, bias);
}

/// One depth step: `acc[i][j] += a[i]·b[j]`, rounding the product and the sum.
#[inline(always)]
fn step<T: Scalar, const R: usize>(acc: &mut [[T; NR]; R], a_step: &[T; R], b_step: &[T]) {
    let b_step: &[T; NR] = b_step.try_into().unwrap_or_else(|_| unreachable!());
    for (acc_row, &a_ip) in acc.iter_mut().zip(a_step) {
        for (acc_ij, &b_pj) in acc_row.iter_mut().zip(b_step) {
            *acc_ij = *acc_ij + a_ip * b_pj;
        }
    }
}

/// Adds (or stores) the tile into C, then the bias.
#[inline(always)]
fn store<T: Scalar, const R: usize>(acc: &[[T; NR]; R], c: &mut [T], ldc: usize, accumulate: bool, bias: Option<&[T]>) {
    assert!(ldc >= NR && c.len() >= (R - 1) * ldc + NR);
    let bias: Option<&[T; NR]> = bias.map(|bias| bias[..NR].try_into().unwrap_or_else(|_| unreachable!()));
    for (c_row, acc_row) in c.chunks_mut(ldc).zip(acc) {
        for (j, (c_ij, &t)) in c_row[..NR].iter_mut().zip(acc_row).enumerate() {
            let sum = if accumulate { *c_ij + t } else { t };
            *c_ij = match bias {
                Some(bias) => sum + bias[j],
                None => sum,
            };
        }
    }
}
