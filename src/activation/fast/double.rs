//! The f64 kernels. The method and the accuracy table are in the parent module.
//!
//! Every function is straight-line code: branches are `if`s between two
//! already computed values, which compile to compare-and-blend, so a loop over a
//! slice vectorises. Clamping with `if x < lo { lo } else { x }` (rather than
//! `f64::max`) keeps a NaN input flowing through to a NaN result.

/// The sign bit.
const SIGN: u64 = 1 << 63;
/// ln 2 split into a high part whose low 21 significand bits are zero, so that
/// `k · LN2_HI` is exact for `|k| < 2^21`, and the rest (fdlibm's split).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1.5 · 2^52: `(x + ROUND) - ROUND` rounds `|x| < 2^51` to an integer (ties to
/// even), and the sum holds that integer in its low significand bits.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// `ROUND` plus the exponent bias 1023, for [`pow2`].
const ROUND_BIASED: f64 = ROUND + 1023.0;

/// `e^r − 1 = r + r²·S(r)`: minimax fits of `S` (Remez exchange in mpmath,
/// relative error weight). `NARROW` serves `|r| ≤ ln 2/2` with relative error
/// below 2^-58.3, `WIDE` serves `|r| ≤ ln 2` with relative error below 2^-58.1.
const EXPM1_NARROW: [f64; 11] = [
    0.5,
    0.166_666_666_666_666_7,
    0.041_666_666_666_666_616,
    0.008_333_333_333_326_14,
    0.001_388_888_888_891_807_2,
    0.000_198_412_698_748_212_4,
    2.480_158_724_557_834_6e-5,
    2.755_725_538_674_195_3e-6,
    2.755_734_967_712_877_7e-7,
    2.510_522_671_446_335e-8,
    2.088_938_752_130_291_6e-9,
];
const EXPM1_WIDE: [f64; 13] = [
    0.5,
    0.166_666_666_666_666_63,
    0.041_666_666_666_666_71,
    0.008_333_333_333_335_063,
    0.001_388_888_888_887_907,
    0.000_198_412_698_383_797_5,
    2.480_158_730_946_974_6e-5,
    2.755_732_129_190_141e-6,
    2.755_731_662_465_322e-7,
    2.505_138_987_091_418_6e-8,
    2.087_702_823_401_992_3e-9,
    1.617_873_626_167_194e-10,
    1.149_556_288_925_271_5e-11,
];

/// fdlibm's `log1p` coefficients (`Lg1`..`Lg7`, Sun Microsystems 1993):
/// `ln((1+s)/(1−s)) = 2s + 2s/3·s² + s·R(s²)` with `R(z) = Σ LG[i]·z^(i+1)`,
/// `|error| < 2^-58.45` for `|s| ≤ 0.1716`.
const LG: [f64; 7] = [
    f64::from_bits(0x3fe5_5555_5555_5593),
    f64::from_bits(0x3fd9_9999_9997_fa04),
    f64::from_bits(0x3fd2_4924_9422_9359),
    f64::from_bits(0x3fcc_71c5_1d8e_78af),
    f64::from_bits(0x3fc7_4664_96cb_03de),
    f64::from_bits(0x3fc3_9a09_d078_c69f),
    f64::from_bits(0x3fc2_f112_df3e_5244),
];

/// `erf(t) = t + t·P(t²)` for `|t| < 1`: a weighted minimax polynomial fitted
/// with mpmath's Remez exchange; relative error of `1 + P` below 2^-56.9.
const ERF_SMALL: [f64; 12] = [
    0.128_379_167_095_512_56,
    -0.376_126_389_031_835_2,
    0.112_837_916_709_441_85,
    -0.026_866_170_643_111_47,
    0.005_223_977_606_118_483,
    -0.000_854_832_592_931_508_6,
    0.000_120_552_935_769_223_6,
    -1.492_471_230_249_454_7e-5,
    1.644_713_157_798_695_4e-6,
    -1.620_631_381_472_967e-7,
    1.371_098_065_963_082_2e-8,
    -7.779_469_007_200_023e-10,
];

/// `erfc(t) = e^(−t²) · G(1/(t + 3) − ERFC_CENTRE)` for `1 ≤ t < 5.95`: a
/// minimax fit of `G` weighted by `e^(−t²)`, so the absolute error of `erfc`
/// is below 2^-59.4 (what `erf = 1 − erfc` needs near 1).
const ERFC_BIG: [f64; 15] = [
    0.208_674_167_509_565_36,
    2.229_208_832_266_053_7,
    10.340_876_990_209_491,
    38.093_801_094_521_26,
    106.924_867_231_040_4,
    205.644_005_915_332,
    173.751_525_839_492_64,
    -313.965_117_798_573_1,
    -1_024.138_388_337_849_8,
    134.016_397_521_255_7,
    4_351.979_847_174_882,
    1_380.166_217_153_917_2,
    -20_443.920_793_041_02,
    -6_482.304_399_933_201,
    98_770.504_695_826_15,
];
/// The centre of `1/(t + 3)` over `[1, 5.95]`, as rounded in the fit.
const ERFC_CENTRE: f64 = 0.180_865_921_787_709_5;

/// Bits of the significand below the implicit one.
const MANTISSA_BITS: U = 52;
/// `exp` clamps its argument to `[EXP_LO, EXP_HI]`: below, the result is 0;
/// above, `+∞` (`e^x` is 0 below −745.14, infinite above ln(f64::MAX)).
const EXP_LO: F = -746.0;
const EXP_HI: F = 710.0;
/// `expm1` is −1 (rounded) below this.
const EXPM1_LO: F = -40.0;
/// The largest exponent of a finite power of two.
const MAX_EXPONENT: F = 1023.0;
/// `tanh` is exactly ±1 from `|2x|` ≥ this on.
const TANH_CLAMP: F = 40.0;
/// The erfc approximation works in `1/(|x| + ERFC_SHIFT) − ERFC_CENTRE`.
const ERFC_SHIFT: F = 3.0;
/// `erf` is exactly ±1 from `|x|` ≥ this on.
const ERF_ONE_FROM: F = 5.95;

type F = f64;
type U = u64;
use core::f64::consts;

include!("body.rs");
