//! Helpers shared by the fuzz targets: a small deterministic generator for filling large inputs
//! from a few fuzzer bytes, value distributions that reach the interesting parts of the float
//! range, and ULP distances.

#![allow(dead_code)] // each target uses a different subset

use tinymlp::Scalar;

/// xorshift64*: fills matrices from an 8-byte seed, so that a short fuzzer input can still drive
/// a 40x40 product while the fuzzer controls the seed and the distribution.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// How the generated values are spread. Every distribution gives finite values of `T`.
#[derive(Debug, Clone, Copy)]
pub enum Dist {
    /// Uniform in [-1, 1].
    Unit,
    /// Whole numbers in [-8, 8]: products and sums of up to a few thousand of them are exact,
    /// so every summation order gives the same bits.
    SmallInts,
    /// Random significand, sign and a binary exponent in [-60, 60].
    WideExponents,
    /// Any finite bit pattern of `T` (subnormals, huge values, signed zeros).
    RawBits,
    /// Zeros, ±1, powers of two and values that cancel each other.
    Awkward,
}

impl Dist {
    pub fn from_byte(byte: u8) -> Self {
        match byte % 5 {
            0 => Dist::Unit,
            1 => Dist::SmallInts,
            2 => Dist::WideExponents,
            3 => Dist::RawBits,
            _ => Dist::Awkward,
        }
    }

    pub fn sample<T: Float2>(self, g: &mut Gen) -> T {
        match self {
            Dist::Unit => T::from_f64(2.0 * g.unit() - 1.0),
            Dist::SmallInts => T::from_f64(g.below(17) as f64 - 8.0),
            Dist::WideExponents => {
                let sign = if g.below(2) == 0 { 1.0 } else { -1.0 };
                let e = g.below(121) as i32 - 60;
                T::from_f64(sign * (1.0 + g.unit()) * 2f64.powi(e))
            }
            Dist::RawBits => T::finite_from_bits(g.next_u64()),
            Dist::Awkward => {
                let big = 2f64.powi(g.below(40) as i32);
                let choices = [0.0, -0.0, 1.0, -1.0, big, -big, 0.5, 3.0, 1.0 + f64::EPSILON, 1e-3];
                T::from_f64(choices[g.below(choices.len() as u64) as usize])
            }
        }
    }
}

/// What the targets need beyond [`Scalar`]: bit access for ULP distances and raw patterns.
pub trait Float2: Scalar + core::fmt::LowerExp {
    const MANTISSA_BITS: u32;
    /// `Scalar::as_f64` (exact), named apart from `num_traits::ToPrimitive::to_f64`.
    fn to64(self) -> f64 {
        Scalar::as_f64(self)
    }
    /// A finite value with the bit pattern `bits` (truncated to the type's width); the pattern
    /// with its exponent cleared (a subnormal or zero) if `bits` encodes an infinity or NaN.
    fn finite_from_bits(bits: u64) -> Self;
    /// Ordered integer image: adjacent floats differ by one; -0 and +0 map to the same value.
    fn ordered(self) -> i64;
}

impl Float2 for f32 {
    const MANTISSA_BITS: u32 = 24;
    fn finite_from_bits(bits: u64) -> Self {
        let x = f32::from_bits(bits as u32);
        if x.is_finite() { x } else { f32::from_bits(bits as u32 & 0x807f_ffff) }
    }
    fn ordered(self) -> i64 {
        let b = self.to_bits() as i32;
        i64::from(if b < 0 { i32::MIN - b } else { b })
    }
}

impl Float2 for f64 {
    const MANTISSA_BITS: u32 = 53;
    fn finite_from_bits(bits: u64) -> Self {
        let x = f64::from_bits(bits);
        if x.is_finite() { x } else { f64::from_bits(bits & 0x800f_ffff_ffff_ffff) }
    }
    fn ordered(self) -> i64 {
        let b = self.to_bits() as i64;
        if b < 0 { i64::MIN - b } else { b }
    }
}

/// Distance in units in the last place between two finite values (0 for equal values,
/// including -0 and +0).
pub fn ulps<T: Float2>(a: T, b: T) -> u64 {
    a.ordered().abs_diff(b.ordered())
}

/// Unit roundoff of `T`: half its machine epsilon.
pub fn unit_roundoff<T: Scalar>() -> f64 {
    Scalar::as_f64(T::epsilon()) / 2.0
}

/// Higham's γ_n = n·u / (1 - n·u): the relative error bound of any summation order of n terms
/// (and of a length-n dot product, products included) in precision u.
pub fn gamma(n: usize, u: f64) -> f64 {
    let nu = n as f64 * u;
    assert!(nu < 0.5, "gamma({n}) is only meaningful for n·u < 1");
    nu / (1.0 - nu)
}
