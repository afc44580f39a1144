//! The f32 kernels, computed in f32 (four or more lanes per vector). They
//! mirror the f64 ones in `double.rs` with shorter approximations; the method
//! and the accuracy table are in the parent module.

/// The sign bit.
const SIGN: u32 = 1 << 31;
/// ln 2 split as in musl's `expf`: `LN2_HI` has 15 significant bits, so
/// `k · LN2_HI` is exact for `|k| < 512`; `LN2_LO` is positive, so that the
/// reduction keeps the sign of a zero.
const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
/// 1.5 · 2^23: `(x + ROUND) - ROUND` rounds `|x| < 2^22` to an integer.
const ROUND: f32 = 12_582_912.0;
/// `ROUND` plus the exponent bias 127, for [`pow2`].
const ROUND_BIASED: f32 = ROUND + 127.0;

/// `e^r − 1 = r + r²·S(r)` (minimax fits as in `double.rs`): `NARROW` for
/// `|r| ≤ ln 2/2` (relative error of `S` below 2^-28.4), `WIDE` for `|r| ≤ ln 2`
/// (below 2^-27.1).
const EXPM1_NARROW: [f32; 6] = [0.5, 0.166_666_67, 0.041_666_467, 0.008_333_361, 0.001_393_364_3, 0.000_198_578_17];
const EXPM1_WIDE: [f32; 7] =
    [0.5, 0.166_666_7, 0.041_666_65, 0.008_332_777, 0.001_388_945, 0.000_200_736_58, 2.487_854_5e-5];

/// musl's `log1pf` coefficients (`Lg1`..`Lg4`, from fdlibm's `e_logf.c`).
const LG: [f32; 4] = [
    f32::from_bits(0x3f2a_aaaa),
    f32::from_bits(0x3ecc_ce13),
    f32::from_bits(0x3e91_e9ee),
    f32::from_bits(0x3e78_9e26),
];

/// `erf(t) = t + t·P(t²)` for `|t| < 1` (Remez fit, relative error of `1 + P`
/// below 2^-29.6 before rounding the coefficients).
const ERF_SMALL: [f32; 7] =
    [0.128_379_17, -0.376_126_26, 0.112_835_85, -0.026_853_811, 0.005_188_327_7, -0.000_801_019_4, 7.853_861e-5];

/// `erfc(t) = e^(−t²) · G(1/(t + 2) − 1/4)` for `1 ≤ t < 4`, weighted minimax
/// (absolute error of `erfc` below 2^-29.6).
const ERFC_BIG: [f32; 6] = [0.255_395_68, 1.708_741_8, 3.866_563_3, 5.055_74, 0.931_027_4, -7.229_597_6];

/// Bits of the significand below the implicit one.
const MANTISSA_BITS: U = 23;
/// `exp` clamps its argument to `[EXP_LO, EXP_HI]` (0 below, `+∞` above).
const EXP_LO: F = -104.0;
const EXP_HI: F = 89.0;
/// `expm1` is −1 (rounded) below this.
const EXPM1_LO: F = -18.0;
/// The largest exponent of a finite power of two.
const MAX_EXPONENT: F = 127.0;
/// `tanh` is exactly ±1 from `|2x|` ≥ this on.
const TANH_CLAMP: F = 20.0;
/// The erfc approximation works in `1/(|x| + ERFC_SHIFT) − ERFC_CENTRE`.
const ERFC_SHIFT: F = 2.0;
const ERFC_CENTRE: F = 0.25;
/// `erf` is exactly ±1 from `|x|` ≥ this on.
const ERF_ONE_FROM: F = 4.0;

type F = f32;
type U = u32;
use core::f32::consts;

include!("body.rs");
