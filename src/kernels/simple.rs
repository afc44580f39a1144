//! The small-shape path ([`Path::Simple`](super::Path::Simple)): plain loops
//! over the stored rows, with no packing and no set-up cost.
//!
//! For tiny products (a handful of rows, or a width of a few elements) any
//! packing costs more than the multiply-adds, so these loops win. Every element
//! is computed with separate multiplies and adds in a fixed order (row `axpy`s,
//! or dot products with eight fixed partial sums), so the results are the same
//! bits on every target, whatever vector width the compiler picks.

use super::Form;
use crate::Scalar;

/// The plain loops' `C (+)= op(A)·op(B)`, as statements: the body of `gemm`
/// and of `plain` (a macro rather than a function, so that off x86_64 `gemm`
/// compiles exactly as it did before `matvec.rs`).
macro_rules! plain_loops {
    ($form:ident, $m:ident, $n:ident, $k:ident, $a:ident, $b:ident, $c:ident, $accumulate:ident) => {
        if !$accumulate {
            $c.fill(T::zero());
        }
        if $m == 0 || $n == 0 || $k == 0 {
            return;
        }
        // Degenerate shapes whose loop would run along a length-1 dimension are the
        // same memory read as another form with a long inner loop.
        match $form {
            // C (m x 1) = A·b: one dot product per row, as A·Bᵀ with B = bᵀ (1 x k).
            Form::AB if $n == 1 => loops(Form::ABt, $m, 1, $k, $a, $b, $c),
            // C (m x 1) = Aᵀ·b is the row Cᵀ (1 x m) = bᵀ·A: axpys along m.
            Form::AtB if $n == 1 => loops(Form::AB, 1, $m, $k, $b, $a, $c),
            // C = a·bᵀ with columns a, b: an outer product, axpys along n.
            Form::ABt if $k == 1 => loops(Form::AB, $m, $n, 1, $a, $b, $c),
            _ => loops($form, $m, $n, $k, $a, $b, $c),
        }
    };
}

/// `C (+)= op(A)·op(B)`; lengths are checked by the caller. On x86_64 CPUs
/// with AVX2 the products that the loops compute as dot products (those
/// [`dot_product_operands`] names) run through `matvec.rs` instead, many
/// rows at a time with the same bits.
#[inline(always)]
pub(super) fn gemm<T: Scalar>(
    form: Form,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if let Some((m, n, k, a, b)) = dot_product_operands(form, m, n, k, a, b)
        && super::matvec::dot_products(m, n, k, a, b, c, accumulate)
    {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if is_outer(form, n, k) {
        outer(n, a, b, c, accumulate, None);
        return;
    }
    plain_loops! { form, m, n, k, a, b, c, accumulate }
}

/// Whether the loops compute `op(A)·op(B)` as an outer product `a·bᵀ` whose
/// elements are `c + a[i]·b[j]` (`C` zeroed first when not accumulating):
/// every form with `k = 1`, with `a` and `b` as stored, except `A·b`
/// (`n = 1`), which the loops compute as dot products, `c + (0 + a·b)`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn is_outer(form: Form, n: usize, k: usize) -> bool {
    k == 1 && !(form == Form::AB && n == 1)
}

/// The outer product `C (+)= a·bᵀ` (`a` one value per row of C, `b` one per
/// column; see [`is_outer`]), with `bias` added to every row after it, in one
/// pass over C: `c = ((c or 0) + a[i]·b[j]) + bias[j]`, the roundings of the
/// loops (zero C, add the product) and of `add_row_to_each` after them.
/// Lengths are checked by the caller.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn outer<T: Scalar>(n: usize, a: &[T], b: &[T], c: &mut [T], accumulate: bool, bias: Option<&[T]>) {
    if n == 0 {
        return;
    }
    // One loop per case, so that each is straight-line and vectorises.
    let b = &b[..n];
    match (accumulate, bias) {
        (false, None) => outer_rows(a, b, c, |_, t, _| T::zero() + t),
        (true, None) => outer_rows(a, b, c, |c, t, _| c + t),
        (false, Some(bias)) => outer_rows(a, b, c, |_, t, j| (T::zero() + t) + bias[j]),
        (true, Some(bias)) => outer_rows(a, b, c, |c, t, j| (c + t) + bias[j]),
    }
}

/// `c[i][j] = f(c[i][j], a[i]·b[j], j)` over the rows of C.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn outer_rows<T: Scalar>(a: &[T], b: &[T], c: &mut [T], f: impl Fn(T, T, usize) -> T) {
    for (c_row, &a_i) in c.chunks_exact_mut(b.len()).zip(a) {
        for (j, (c_ij, &b_j)) in c_row.iter_mut().zip(b).enumerate() {
            *c_ij = f(*c_ij, a_i * b_j, j);
        }
    }
}

/// [`gemm`] with the plain loops on every CPU: the reference the tests
/// compare `matvec.rs` with.
#[cfg(all(target_arch = "x86_64", test))]
pub(super) fn plain<T: Scalar>(
    form: Form,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
) {
    plain_loops! { form, m, n, k, a, b, c, accumulate }
}

/// `(m, n, k, A, B)` of an `A·Bᵀ`.
#[cfg(target_arch = "x86_64")]
pub(super) type DotOperands<'x, T> = (usize, usize, usize, &'x [T], &'x [T]);

/// The operands `(m, n, k, A, B)` of the `A·Bᵀ` whose dot products the loops
/// compute for `op(A)·op(B)`, if they compute it as dot products: `A·Bᵀ`
/// itself, except outer products (`k = 1`: one rounded multiply per element,
/// as on the packed paths), and `A·b` (`n = 1`), as `A·Bᵀ` with `B = bᵀ`
/// (`1 x k`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn dot_product_operands<'x, T>(
    form: Form,
    m: usize,
    n: usize,
    k: usize,
    a: &'x [T],
    b: &'x [T],
) -> Option<DotOperands<'x, T>> {
    match form {
        Form::AB if n == 1 => Some((m, 1, k, a, b)),
        Form::ABt if k != 1 => Some((m, n, k, a, b)),
        _ => None,
    }
}

/// [`gemm`] compiled for the baseline, as a function of its own: tiny products
/// call it directly, so that the inlined copies stay in the `#[target_feature]`
/// wrappers and the caller stays small enough for the optimiser to inline the
/// rest.
#[inline(never)]
pub(super) fn gemm_baseline<T: Scalar>(
    form: Form,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
) {
    gemm(form, m, n, k, a, b, c, accumulate);
}

/// `C += op(A)·op(B)` for non-empty shapes.
#[inline(always)]
fn loops<T: Scalar>(form: Form, m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T]) {
    match form {
        Form::AB => {
            for (c_row, a_row) in c.chunks_exact_mut(n).zip(a.chunks_exact(k)) {
                for (&a_ip, b_row) in a_row.iter().zip(b.chunks_exact(n)) {
                    axpy(c_row, a_ip, b_row);
                }
            }
        }
        Form::AtB => {
            for (a_row, b_row) in a.chunks_exact(m).zip(b.chunks_exact(n)) {
                for (&a_pi, c_row) in a_row.iter().zip(c.chunks_exact_mut(n)) {
                    axpy(c_row, a_pi, b_row);
                }
            }
        }
        Form::ABt => {
            for (c_row, a_row) in c.chunks_exact_mut(n).zip(a.chunks_exact(k)) {
                let b_blocks = b.chunks_exact(DOT_ROWS * k);
                let b_rest = b_blocks.remainder();
                let mut c_blocks = c_row.chunks_exact_mut(DOT_ROWS);
                for (c_block, b_block) in (&mut c_blocks).zip(b_blocks) {
                    for (c_ij, d) in c_block.iter_mut().zip(dots::<T, DOT_ROWS>(a_row, b_block)) {
                        *c_ij = *c_ij + d;
                    }
                }
                for (c_ij, b_row) in c_blocks.into_remainder().iter_mut().zip(b_rest.chunks_exact(k)) {
                    let [d] = dots::<T, 1>(a_row, b_row);
                    *c_ij = *c_ij + d;
                }
            }
        }
    }
}

/// Rows of B per block of [`dots`] in `A·Bᵀ`.
const DOT_ROWS: usize = 4;

/// `y += alpha * x`, element by element.
#[inline(always)]
fn axpy<T: Scalar>(y: &mut [T], alpha: T, x: &[T]) {
    for (y_i, &x_i) in y.iter_mut().zip(x) {
        *y_i = *y_i + alpha * x_i;
    }
}

/// `R` dot products of `a` with the `R` rows of length `a.len()` stored one
/// after another in `rows`, at once: each with eight independent partial sums
/// (so the compiler can keep them in vector lanes) added in lane order, then
/// the tail, so the same bits for any `R`. Several rows give the CPU
/// independent chains of additions to overlap. (Plain indexed loops: the
/// iterator adapters and `array::from_fn` were left as calls in the baseline
/// build.)
#[inline(always)]
pub(super) fn dots<T: Scalar, const R: usize>(a: &[T], rows: &[T]) -> [T; R] {
    let k = a.len();
    let (a_chunks, a_tail) = a.as_chunks::<8>();
    let chunks = a_chunks.len();
    // Each row cut to its chunks and tail up front, so that the loop below
    // indexes within lengths the compiler knows (no bounds checks in it).
    let row_parts: [(&[[T; 8]], &[T]); R] = core::array::from_fn(|r| {
        let (row_chunks, row_tail) = rows[r * k..(r + 1) * k].as_chunks::<8>();
        (&row_chunks[..chunks], row_tail)
    });
    let mut partial = [[T::zero(); 8]; R];
    for (p, ca) in a_chunks.iter().enumerate() {
        for (partial_r, (row_chunks, _)) in partial.iter_mut().zip(&row_parts) {
            let cb = &row_chunks[p];
            for lane in 0..8 {
                partial_r[lane] = partial_r[lane] + ca[lane] * cb[lane];
            }
        }
    }
    // Without this barrier LLVM fuses the loop above with the sums below and
    // vectorises across the rows instead of the lanes, gathering every chunk
    // element by element (a third more instructions for a one-sample
    // inference with AVX2). Only where that was measured: on targets without
    // wide vectors the barrier would only move the sums through memory.
    #[cfg(target_arch = "x86_64")]
    let partial = core::hint::black_box(partial);
    let mut sums = [T::zero(); R];
    for (sum, (partial_r, (_, row_tail))) in sums.iter_mut().zip(partial.iter().zip(&row_parts)) {
        // In lane order: a tree here makes LLVM's SLP vectoriser split the
        // eight lanes into pairs and shuffle them on every step of the loop.
        let mut total = T::zero();
        for &lane in partial_r {
            total = total + lane;
        }
        for (&x, &y) in a_tail.iter().zip(*row_tail) {
            total = total + x * y;
        }
        *sum = total;
    }
    sums
}

/// Defines `$name(row, …, x)`: the dot products of `x` with each row (see
/// [`dot_rows_4`]), with one named local per row for each sum, so that they
/// stay in registers at every optimisation level (arrays of sums indexed in a
/// loop stay on the stack at opt-level "s").
macro_rules! dot_rows {
    ($(#[$doc:meta])* $name:ident: $(($row:ident, $sum:ident, $total:ident)),+) => {
        $(#[$doc])*
        #[cfg(any(not(target_arch = "x86_64"), test))]
        #[inline(always)]
        pub(crate) fn $name<T: Scalar, const N: usize>($($row: &[T; N],)+ x: &[T; N]) -> [T; [$(stringify!($row)),+].len()] {
            // Arrays, not slices: every index below is in bounds at compile
            // time, so no bounds check (and no formatting panic) is left.
            let (x_chunks, x_tail) = x.as_chunks::<8>();
            $(let $row = $row.as_chunks::<8>();)+
            $(let mut $total = T::zero();)+
            if !x_chunks.is_empty() {
                for lane in 0..8 {
                    let x_l = x_chunks[0][lane];
                    $(let mut $sum = x_l * $row.0[0][lane];)+
                    for p in 1..x_chunks.len() {
                        let x_pl = x_chunks[p][lane];
                        $($sum = $sum + x_pl * $row.0[p][lane];)+
                    }
                    $($total = $total + $sum;)+
                }
            }
            for (i, &x_i) in x_tail.iter().enumerate() {
                $($total = $total + x_i * $row.1[i];)+
            }
            [$($total),+]
        }
    };
}

dot_rows! {
    /// The dot products of `x` with four rows, each rounded exactly as a row
    /// of [`dots`] (and so as `A·Bᵀ` on [`Path::Simple`](super::Path::Simple)
    /// written into a zeroed C): eight partial sums, lane `l` adding the
    /// products of the elements `l`, `l + 8`, `l + 16`, … in that order, then
    /// the partial sums in lane order, then the tail.
    ///
    /// Written for instruction count and code size on targets without wide
    /// vectors (the fused one-sample path of a static layer off x86_64): the
    /// lanes are summed one after another, so that only one lane's sums and
    /// the running totals live in registers, and each element of `x` is loaded
    /// once for four rows. The order of the roundings is that of [`dots`]; the
    /// only difference, lanes starting from their first product instead of
    /// `0 + product`, can only change the sign of a zero partial sum, and
    /// adding a partial sum to a total that is not `-0` gives the same bits
    /// for `+0` and `-0` (a total starts from `0 + lane 0`, which is never
    /// `-0`, and a sum is `-0` only if both terms are). So no result is ever
    /// `-0` either. The tests check the bits against [`dots`].
    dot_rows_4: (row_0, sum_0, total_0), (row_1, sum_1, total_1), (row_2, sum_2, total_2), (row_3, sum_3, total_3)
}

dot_rows! {
    /// [`dot_rows_4`] for one row.
    dot_rows_1: (row_0, sum_0, total_0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;

    /// Values that exercise the rounding: random magnitudes over several
    /// binades, and exact zeros of both signs (a lane or a whole dot product of
    /// `-0` products is where starting a lane from its first product could
    /// show).
    fn value<T: Scalar>(rng: &mut Rng) -> T {
        match rng.next_u64() % 8 {
            0 => T::from_f64(-0.0),
            1 => T::zero(),
            _ => T::from_f64(rng.uniform(-1.0, 1.0) * rng.uniform(0.5, 1000.0)),
        }
    }

    fn filled<T: Scalar, const N: usize>(rng: &mut Rng) -> [T; N] {
        core::array::from_fn(|_| value(rng))
    }

    /// `dot_rows_4` and `dot_rows_1` give the bits of `dots` (the `A·Bᵀ` loops
    /// on x86_64) for every width around the chunk of eight and for inputs of
    /// all-zero products of either sign.
    fn check_width<T: Scalar, const N: usize>(seed: u64) {
        let mut rng = Rng::new(seed);
        for case in 0..64 {
            let mut x: [T; N] = filled(&mut rng);
            let mut rows: [[T; N]; 4] = core::array::from_fn(|_| filled(&mut rng));
            if case % 8 == 0 {
                // Every product -0 (in one row +0 and -0 mixed).
                x = [T::from_f64(-0.0); N];
                rows[0] = [T::one(); N];
                rows[1] = [T::zero(); N];
            }
            let expected = dots::<T, 4>(&x, rows.as_flattened());
            let found = dot_rows_4(&rows[0], &rows[1], &rows[2], &rows[3], &x);
            let bits = |v: [T; 4]| v.map(|t| t.as_f64().to_bits());
            assert_eq!(bits(found), bits(expected), "width {N}, case {case}");
            for (r, row) in rows.iter().enumerate() {
                let [one] = dot_rows_1(row, &x);
                assert_eq!(one.as_f64().to_bits(), expected[r].as_f64().to_bits(), "width {N}, case {case}, row {r}");
            }
            // No result is -0 (what lets the fused layer skip `0 + dot`).
            assert!(found.iter().all(|d| !(*d == T::zero() && d.is_sign_negative())));
        }
    }

    macro_rules! check_widths {
        ($($n:literal)+) => {$(
            check_width::<f32, $n>($n);
            check_width::<f64, $n>($n + 1000);
        )+};
    }

    #[test]
    fn dot_rows_give_the_bits_of_the_simple_loops() {
        check_widths!(1 2 3 7 8 9 15 16 17 24 31 32 33 40 64 65);
    }
}
