//! The cache-blocked product shared by every packed path.
//!
//! `C (+)= op(A)·op(B)` is cut into depth blocks (`k` split evenly into blocks
//! of at most `KC`), row blocks of `op(A)` (as many rows as keep the block of A
//! within [`A_BLOCK_BYTES`], so that it stays in L2), and column strips of
//! `NR`. Each strip of `op(B)` is packed into one panel, `NR` values per depth
//! step: packing reads the stored layout of every [`Form`], so a single
//! micro-kernel serves all three. The panel stays in L1 while the micro-kernel
//! runs down the row block, `MR` rows at a time, reading those rows of `op(A)`
//! in place (its strides absorb the form). The micro-kernel keeps the `MR x NR`
//! tile of C in registers for a whole depth block, then adds it to C (or stores
//! it, for the first block of a product that does not accumulate).
//!
//! A is not packed: each of its panels is used once per column strip, straight
//! from L1/L2, and a packed copy would cost a stack buffer the size of the row
//! block. Measured on AVX-512, reading A in place was as fast as packing it at
//! every size up to 1024³, and much faster for narrow products (with few
//! strips, a packed A panel is barely reused). A partial last panel (fewer than
//! `MR` rows) runs as a tile of fewer rows, not as a padded full one. While the
//! tiles of one strip run, the kernel prefetches the stored values of B that
//! the next strip packs: they are a row apart in memory and would otherwise be
//! fetched from L3 one at a time.
//!
//! Determinism: each element of C is `C₀ + t₁ + t₂ + ...`, one term per depth
//! block, each term a multiply-add chain over that block's depth in increasing
//! order, starting from zero (then `+ bias`, when the product carries one).
//! Block boundaries depend only on `k` and `KC`, so a path gives the same bits
//! for an element whatever `m`, `n`, the form, the element's position in its
//! tile, the number of rows of its tile or the alignment of the caller's
//! slices.
//!
//! Packing space lives on the stack (no allocation, so `no_std` without `alloc`
//! works and training steps stay allocation-free), 64-byte aligned, in size
//! classes so that small products do not pay for zeroing the largest buffer.

use super::Form;
use super::product::Product;
use crate::Scalar;

/// A register-tiled micro-kernel for element type `T`.
pub(crate) trait MicroKernel<T: Copy>: Copy {
    /// Rows of C per tile: the width of a packed A panel.
    const MR: usize;
    /// Columns of C per tile: the width of a packed B panel.
    const NR: usize;
    /// Deepest depth block.
    const KC: usize;
    /// `c[i·ldc + j] = (c[i·ldc + j] +) Σₚ a[i·row_stride + p·depth_stride]·b[p·NR + j] (+ bias[j])`
    /// for the first `rows` rows (at most `MR`) of an `MR x NR` tile, with the
    /// depth `b.len() / NR`; stores without reading C when `accumulate` is
    /// false, and adds `bias` (if any) to the result, rounding the sum and then
    /// the bias addition. Each element is the same chain of operations however
    /// many rows the call has (a partial panel is computed as fewer rows, not
    /// as a full tile of padding).
    ///
    /// Implementations panic unless `1 <= rows <= MR`, the depth is at least 1,
    /// `b.len()` is a multiple of `NR`, `a` holds the element
    /// (rows - 1, depth - 1), `ldc >= NR`, `c.len() >= (rows - 1)·ldc + NR` and
    /// `bias` holds `NR` values.
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
    );

    /// Packs `cols` (at most `NR`) stored rows of `src`, row `r` starting at
    /// `src[r·ld]`, `kc` values each, transposed into the first `cols` columns
    /// of the `kc x NR` panel `dst`: `dst[p·NR + r] = src[r·ld + p]` (the
    /// other columns are left as they are). The default is the plain loop; a
    /// kernel may transpose blocks in vector registers: the same values.
    ///
    /// # Panics
    /// If `cols > NR`, `src` does not hold `(cols - 1)·ld + kc` values (for
    /// `cols > 0`) or `dst` does not hold `kc·NR`.
    #[inline(always)]
    fn pack_transposed(self, src: &[T], ld: usize, kc: usize, cols: usize, dst: &mut [T]) {
        pack_transposed_plain(src, ld, kc, cols, Self::NR, dst);
    }

    /// Asks the CPU to start loading `data` into cache (a hint: no effect on
    /// results). The default does nothing.
    #[inline(always)]
    fn prefetch(self, data: &[T]) {
        let _ = data;
    }
}

/// `N` values aligned to a cache line, so that vector loads from packed panels
/// never straddle two lines.
#[repr(C, align(64))]
pub(crate) struct Aligned<T, const N: usize>([T; N]);

impl<T: Scalar, const N: usize> Aligned<T, N> {
    /// A zeroed buffer.
    #[inline(always)]
    fn new() -> Self {
        Aligned([T::zero(); N])
    }
    /// The buffer as a slice.
    #[inline(always)]
    fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.0
    }
}

/// Packing space size classes, in elements: a product takes the smallest that
/// holds a B panel and an edge tile, so small products zero little memory. The
/// largest holds every kernel's `KC·NR + MR·NR`.
const SPACE_CLASSES: [usize; 5] = [512, 1024, 2048, 4096, 8192];

/// Bytes of A one row block may span at one depth block: its rows are re-read
/// once per column strip, so the block should stay in L2 (1-2 MiB per core on
/// current x86 CPUs; half of a 1 MiB L2 leaves room for B and C).
const A_BLOCK_BYTES: usize = 512 * 1024;

/// Depth-block size: `k` split into equal blocks of at most `kc_max`.
#[inline]
fn depth_block(k: usize, kc_max: usize) -> usize {
    k.div_ceil(k.div_ceil(kc_max))
}

/// `C (+)= op(A)·op(B)` with `kernel` for `product`; `c` holds `m x n`
/// values (checked by the caller).
pub(crate) fn gemm<T: Scalar, K: MicroKernel<T>>(kernel: K, product: Product<'_, T>, c: &mut [T]) {
    let Product { m, n, k, accumulate, bias, .. } = product;
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(T::zero());
        }
        if let Some(bias) = bias {
            for c_row in c.chunks_exact_mut(n) {
                for (c_ij, &b_j) in c_row.iter_mut().zip(bias) {
                    *c_ij = *c_ij + b_j;
                }
            }
        }
        return;
    }
    // The space for the deepest block (checked at compile time); classes above
    // it are never needed and fold away, keeping the stack frame down to what
    // the kernel can use.
    let most = const {
        let most = K::KC * K::NR + K::MR * K::NR;
        assert!(most <= SPACE_CLASSES[4], "KC too deep for the packing space");
        most
    };
    let kc = depth_block(k, K::KC);
    let needed = kc * K::NR + K::MR * K::NR;
    let mut run = |space: &mut [T]| run(kernel, product, c, space);
    // Each class is a separate stack array (LLVM gives them one slot, the size
    // of the largest), so a product only zeroes the class it uses.
    if needed <= SPACE_CLASSES[0] {
        run(Aligned::<T, { SPACE_CLASSES[0] }>::new().as_mut_slice());
    } else if needed <= SPACE_CLASSES[1] {
        run(Aligned::<T, { SPACE_CLASSES[1] }>::new().as_mut_slice());
    } else if needed <= SPACE_CLASSES[2] || most <= SPACE_CLASSES[2] {
        run(Aligned::<T, { SPACE_CLASSES[2] }>::new().as_mut_slice());
    } else if needed <= SPACE_CLASSES[3] || most <= SPACE_CLASSES[3] {
        run(Aligned::<T, { SPACE_CLASSES[3] }>::new().as_mut_slice());
    } else {
        run(Aligned::<T, { SPACE_CLASSES[4] }>::new().as_mut_slice());
    }
}

/// The loop nest, with `space` for one B panel and one edge tile.
#[inline(never)]
fn run<T: Scalar, K: MicroKernel<T>>(kernel: K, product: Product<'_, T>, c: &mut [T], space: &mut [T]) {
    let Product { form, m, n, k, a, lda, b, ldb, accumulate, bias } = product;
    let (mr, nr) = (K::MR, K::NR);
    let kc_max = depth_block(k, K::KC);
    let (b_space, rest) = space.split_at_mut(kc_max * nr);
    let edge = &mut rest[..mr * nr];
    // Rows per block: as many whole panels as fit in A_BLOCK_BYTES, balanced.
    let mc_cap = (A_BLOCK_BYTES / core::mem::size_of::<T>() / kc_max / mr).max(1) * mr;
    let mc_max = m.div_ceil(m.div_ceil(mc_cap)).next_multiple_of(mr);
    // op(A)'s element (i, p) is at a[i·row_stride + p·depth_stride].
    let (row_stride, depth_stride) = match form {
        Form::AtB => (1, lda),
        Form::AB | Form::ABt => (lda, 1),
    };

    for (depth_index, p0) in (0..k).step_by(kc_max).enumerate() {
        let kc = kc_max.min(k - p0);
        let add = accumulate || depth_index > 0;
        // The bias goes on with the last depth block's write-back.
        let bias = if p0 + kc == k { bias } else { None };
        for i0 in (0..m).step_by(mc_max) {
            let panels = mc_max.min(m - i0).div_ceil(mr);
            for j0 in (0..n).step_by(nr) {
                let cols = nr.min(n - j0);
                let b_panel = &mut b_space[..kc * nr];
                pack_b(kernel, form, b, ldb, n, p0, kc, j0, nr, b_panel);
                for panel in 0..panels {
                    // Pack B reads its source with a large stride, so it waits on
                    // L3 unless the lines were asked for early: spread the next
                    // panel's requests over this panel's tiles.
                    if j0 + nr < n {
                        prefetch_b(kernel, form, b, ldb, p0, kc, j0 + nr, nr.min(n - j0 - nr), panel, panels);
                    }
                    let i = i0 + panel * mr;
                    let rows = mr.min(m - i);
                    let a_panel = &a[i * row_stride + p0 * depth_stride..];
                    let tile = |c_tile: &mut [T], ldc: usize, add: bool, bias: Option<&[T]>| {
                        kernel.tile(rows, a_panel, row_stride, depth_stride, b_panel, c_tile, ldc, add, bias);
                    };
                    if cols == nr {
                        let bias = bias.map(|bias| &bias[j0..j0 + nr]);
                        tile(&mut c[i * n + j0..(i + rows - 1) * n + j0 + nr], n, add, bias);
                    } else {
                        // Partial strip: same arithmetic into a scratch tile, then
                        // the same final addition (and bias) into the live part of C.
                        tile(edge, nr, false, None);
                        for (c_row, t_row) in c[i * n..].chunks_mut(n).zip(edge.chunks_exact(nr)).take(rows) {
                            for (j, (c_ij, &t)) in c_row[j0..j0 + cols].iter_mut().zip(t_row).enumerate() {
                                let sum = if add { *c_ij + t } else { t };
                                *c_ij = match bias {
                                    Some(bias) => sum + bias[j0 + j],
                                    None => sum,
                                };
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Packs columns `j0..j0 + NR` of `op(B)` at depth `p0..p0 + kc` into one
/// panel: `dst[p][j]`, zero past column `n`.
#[inline(always)]
fn pack_b<T: Scalar, K: MicroKernel<T>>(
    kernel: K,
    form: Form,
    b: &[T],
    ldb: usize,
    n: usize,
    p0: usize,
    kc: usize,
    j0: usize,
    nr: usize,
    dst: &mut [T],
) {
    let cols = nr.min(n - j0);
    match form {
        // B is stored k x n: each depth step is a contiguous run of columns.
        Form::AB | Form::AtB => {
            for (p, step) in dst.chunks_exact_mut(nr).enumerate() {
                let start = (p0 + p) * ldb + j0;
                copy_padded(step, &b[start..start + cols], nr);
            }
        }
        // B is stored n x k: each column of op(B) is a contiguous row; transpose.
        Form::ABt => {
            kernel.pack_transposed(&b[j0 * ldb + p0..], ldb, kc, cols, dst);
            if cols < nr {
                for step in dst.chunks_exact_mut(nr) {
                    step[cols..].fill(T::zero());
                }
            }
        }
    }
}

/// [`MicroKernel::pack_transposed`]'s plain loop, for a panel of width `nr`.
#[inline(always)]
pub(crate) fn pack_transposed_plain<T: Copy>(src: &[T], ld: usize, kc: usize, cols: usize, nr: usize, dst: &mut [T]) {
    assert!(cols <= nr && dst.len() >= kc * nr);
    if kc == 0 {
        return;
    }
    for col in 0..cols {
        let start = col * ld;
        for (d, &v) in dst[col..].iter_mut().step_by(nr).zip(&src[start..start + kc]) {
            *d = v;
        }
    }
}

/// Prefetches part `part` of `parts` of the stored values of B that the panel
/// at columns `j0..j0 + cols` and depth `p0..p0 + kc` packs.
#[inline(always)]
fn prefetch_b<T: Scalar, K: MicroKernel<T>>(
    kernel: K,
    form: Form,
    b: &[T],
    ldb: usize,
    p0: usize,
    kc: usize,
    j0: usize,
    cols: usize,
    part: usize,
    parts: usize,
) {
    // The source is `count` runs of `len` values, `stride` apart.
    let (first, stride, count, len) = match form {
        Form::AB | Form::AtB => (p0 * ldb + j0, ldb, kc, cols),
        Form::ABt => (j0 * ldb + p0, ldb, cols, kc),
    };
    for run in count * part / parts..count * (part + 1) / parts {
        let start = first + run * stride;
        kernel.prefetch(&b[start..start + len]);
    }
}

/// `dst = src` followed by zeros, for a panel row of `width` (a kernel's
/// constant `MR` or `NR` once inlined, so that full rows copy with a few vector
/// moves instead of a call to `memcpy`).
#[inline(always)]
fn copy_padded<T: Scalar>(dst: &mut [T], src: &[T], width: usize) {
    if src.len() == width {
        dst[..width].copy_from_slice(&src[..width]);
    } else {
        dst[..src.len()].copy_from_slice(src);
        dst[src.len()..width].fill(T::zero());
    }
}
