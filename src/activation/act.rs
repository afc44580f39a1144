//! [`Act`], the run-time choice among the built-ins, and the ONE table of
//! built-ins it is generated from.
//!
//! Each row of the `builtins!` table below names a built-in once: its `Act`
//! variant, its struct (with the struct's parameter fields, if it has any),
//! its PyTorch functional name, its `torch.nn.init.calculate_gain`, and the
//! Rust expression that rebuilds it in exported source. From the table come
//! the `Act` enum and its docs, [`Act::ALL`], [`Act::name`],
//! [`Act::torch_gain`], `Act::spec` and [`Act::from_spec`] (the name with
//! its parameters, as model files record it), `impl Activation<T> for Act` (one match per method,
//! forwarding to the struct), `From<Struct> for Act`, [`FromStr`] and
//! [`Display`](fmt::Display) (through the name), and `Act::rust_source` for
//! `Mlp::to_rust_source`.
//!
//! In a row, the gain and source expressions see the struct's parameter
//! fields as local `f64`s (`negative_slope`, `alpha`, ...).

use super::sealed::Token;
use super::{Activation, Elu, Gelu, Identity, LeakyRelu, Relu, Sigmoid, Silu, Softplus, Tanh};
use crate::{Error, Result, Scalar};
use core::fmt;
use core::str::FromStr;
use num_traits::Float;

/// Expands to its tokens after the bracketed parameter list: used inside
/// `$( .. )?` groups that must exist only for the rows with parameters (a
/// repetition needs a metavariable of its own depth to count by).
macro_rules! if_parameters {
    ([$($param:ident)+] $($then:tt)*) => {
        $($then)*
    };
}

/// `concat!` of the literals or identifiers given, with `$sep` between them:
/// the table's names and parameter lists as one `&'static str`.
macro_rules! joined {
    ($sep:literal; $($item:ident),+) => {
        joined!($sep; $(stringify!($item)),+)
    };
    ($sep:literal; $first:expr $(, $rest:expr)*) => {
        concat!($first $(, $sep, $rest)*)
    };
}

/// The table's expansion; see the module docs. A row is
/// `Variant: Struct { parameter fields } => { name, gain, source }`, the
/// braces after `Struct` left out for a unit struct.
macro_rules! builtins {
    // The rows twice: once to take apart here, once whole for `@dispatch`.
    ($(#[$enum_attr:meta])* pub enum Act $rows:tt) => {
        builtins!(@expand [$(#[$enum_attr])*] $rows $rows);
    };

    (
        @expand [$(#[$enum_attr:meta])*]
        {
            $(
                $(#[$attr:meta])*
                $variant:ident : $ty:ident $({ $($param:ident),+ $(,)? })? => {
                    name: $name:literal,
                    gain: $gain:expr,
                    source: $source:expr $(,)?
                }
            ),+ $(,)?
        }
        $rows:tt
    ) => {
        $(#[$enum_attr])*
        pub enum Act {
            $(
                $(#[$attr])*
                #[doc = concat!("\n\nName: `\"", $name, "\"`.")]
                $variant $( (if_parameters!([$($param)+] $ty)) )?,
            )+
        }

        impl Act {
            /// Every built-in with PyTorch's default parameters, in the
            /// table's order.
            ///
            /// ```
            /// use tinymlp::Act;
            ///
            /// assert_eq!(Act::ALL[0], Act::Identity);
            /// assert!(Act::ALL.iter().all(|act| act.name().parse::<Act>() == Ok(*act)));
            /// ```
            pub const ALL: [Act; [$(stringify!($variant)),+].len()] = [
                $( Act::$variant $( (if_parameters!([$($param)+] $ty::DEFAULT)) )? ),+
            ];

            /// The name used by [`FromStr`] and [`Display`](fmt::Display)
            /// (PyTorch's functional name, as in `torch.nn.functional`).
            ///
            /// ```
            /// assert_eq!(tinymlp::Act::LeakyRelu(tinymlp::LeakyRelu::new(0.2)).name(), "leaky_relu");
            /// ```
            #[must_use]
            pub const fn name(&self) -> &'static str {
                match self {
                    $( Act::$variant $( (if_parameters!([$($param)+] _)) )? => $name, )+
                }
            }

            /// The gain `torch.nn.init.calculate_gain` recommends for this
            /// function, or `None` where PyTorch defines none (ELU, SiLU,
            /// softplus, GELU).
            ///
            /// ```
            /// assert_eq!(tinymlp::Act::Tanh.torch_gain(), Some(5.0 / 3.0));
            /// ```
            #[must_use]
            // Rows without a gain leave their parameters unused.
            #[allow(unused_variables)]
            pub fn torch_gain(&self) -> Option<f64> {
                match *self {
                    $( Act::$variant $( ($ty { $($param),+ }) )? => $gain, )+
                }
            }

            /// The activation with its parameters, as a saved model file records
            /// it (see [`DynMlp::from_described`](crate::DynMlp::from_described)): the
            /// name alone for a built-in without parameters (`"tanh"`), the name
            /// and every parameter in the struct's field order otherwise
            /// (`"leaky_relu(0.2)"`, `"softplus(1.0, 20.0)"`). Parameters are
            /// printed in the shortest form that parses back to the same bits, so
            /// [`Act::from_spec`] returns exactly this activation (for parameters
            /// in the range each struct's `new` documents: `from_spec` refuses
            /// others, such as NaN, infinities or a softplus beta of 0).
            ///
            /// ```
            /// use tinymlp::{Act, LeakyRelu};
            ///
            /// assert_eq!(Act::Tanh.spec(), "tanh");
            /// let leaky = Act::LeakyRelu(LeakyRelu::new(0.2));
            /// assert_eq!(leaky.spec(), "leaky_relu(0.2)");
            /// assert_eq!(Act::from_spec(&leaky.spec())?, leaky);
            /// # Ok::<(), tinymlp::Error>(())
            /// ```
            #[cfg(any(feature = "alloc", test))]
            #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
            #[must_use]
            pub fn spec(&self) -> alloc::string::String {
                match *self {
                    $(
                        Act::$variant $( ($ty { $($param),+ }) )? => {
                            #[allow(unused_mut)]
                            let mut spec = alloc::string::String::from($name);
                            $( write_parameters(&mut spec, &[$($param),+]); )?
                            spec
                        }
                    )+
                }
            }

            /// The activation a spec names, as `Act::spec` writes it: a name
            /// (with PyTorch's default parameters, as [`FromStr`] parses it), or
            /// a name with every parameter in parentheses, separated by commas
            /// (spaces around the numbers are allowed). Parameters must be finite
            /// and in the range each struct's `new` documents
            /// ([`Softplus::new`]: `beta > 0`; [`LeakyRelu::new`], [`Elu::new`]:
            /// finite in f32), so that the activation is finite in f32 and f64.
            ///
            /// ```
            /// use tinymlp::{Act, Elu, Softplus};
            ///
            /// assert_eq!(Act::from_spec("elu(0.5)")?, Act::Elu(Elu::new(0.5)));
            /// assert_eq!(Act::from_spec("softplus")?, Act::Softplus(Softplus::DEFAULT));
            /// assert!(Act::from_spec("softplus(2)").is_err()); // beta and threshold, both
            /// assert!(Act::from_spec("leaky_relu(NaN)").is_err());
            /// let zero_beta = Act::from_spec("softplus(0.0, 20.0)").unwrap_err().to_string();
            /// assert!(zero_beta.contains("\"softplus(0.0, 20.0)\": expected softplus(beta, threshold) with beta > 0"));
            /// # Ok::<(), tinymlp::Error>(())
            /// ```
            ///
            /// # Errors
            /// [`Error::InvalidSpec`] saying what was expected: for an unknown name, a
            /// parameter list on a built-in without parameters, a wrong number of
            /// parameters, a parameter that is not a finite number or is outside
            /// its range (the message names the parameter and its range; the spec
            /// holds the value), or a missing closing parenthesis.
            pub fn from_spec(spec: &str) -> Result<Act> {
                let invalid = |expected| Error::InvalidSpec { spec: crate::error::Name::new(spec), expected };
                let (name, parameters) = match spec.split_once('(') {
                    None => (spec, None),
                    Some((name, rest)) => match rest.strip_suffix(')') {
                        Some(list) => (name, Some(list)),
                        None => return Err(invalid("a ')' at the end after a '('")),
                    },
                };
                match name {
                    $( $name => builtins!(@from_spec invalid, parameters, $name, $variant, $ty $({ $($param),+ })?), )+
                    _ => Err(invalid(concat!(
                        "one of ",
                        joined!(", "; $($name),+),
                        ", with parameters in parentheses if the activation has any"
                    ))),
                }
            }

            /// The activation in exported Rust source: its type path (as in
            /// `"::tinymlp::Tanh"`) and an expression for its value (as in
            /// `"::tinymlp::LeakyRelu::new(0.01)"`).
            #[cfg(any(feature = "alloc", test))]
            #[allow(unused_variables)]
            pub(crate) fn rust_source(&self) -> (&'static str, alloc::string::String) {
                match *self {
                    $(
                        Act::$variant $( ($ty { $($param),+ }) )? => {
                            (concat!("::tinymlp::", stringify!($ty)), $source)
                        }
                    )+
                }
            }
        }

        /// Forwards each method to the variant's struct; the match is on the
        /// variant only, so inlined into a loop it is hoisted out of it.
        impl<T: Scalar> Activation<T> for Act {
            #[inline(always)]
            fn value(&self, x: T) -> T {
                builtins!(@dispatch self, act => Activation::<T>::value(act, x); $rows)
            }
            #[inline(always)]
            fn derivative(&self, x: T, y: T) -> T {
                builtins!(@dispatch self, act => Activation::<T>::derivative(act, x, y); $rows)
            }
            fn piece(&self, x: T) -> u32 {
                builtins!(@dispatch self, act => Activation::<T>::piece(act, x); $rows)
            }
            fn builtin(&self, _: Token) -> Option<Act> {
                Some(*self)
            }
            fn name(&self) -> Option<&str> {
                Some(Act::name(self))
            }
            fn forward_slice(&self, x: &[T], y: &mut [T]) {
                builtins!(@dispatch self, act => Activation::<T>::forward_slice(act, x, y); $rows)
            }
            fn backward_slice(&self, x: &[T], y: &[T], grad: &mut [T]) {
                builtins!(@dispatch self, act => Activation::<T>::backward_slice(act, x, y, grad); $rows)
            }
            fn backward_slice_and_sums(&self, x: &[T], y: &[T], grad: &mut [T], sums: &mut [T], token: Token) {
                builtins!(@dispatch self, act => Activation::<T>::backward_slice_and_sums(act, x, y, grad, sums, token); $rows)
            }
        }

        $(
            impl From<$ty> for Act {
                fn from(builtin: $ty) -> Self {
                    let $ty $({ $($param),+ })? = builtin;
                    Act::$variant $( ($ty { $($param),+ }) )?
                }
            }
        )+
    };

    // `Act::from_spec` for one row: a unit struct takes no parameter list; a
    // struct with parameters takes none (its defaults) or all of them.
    (@from_spec $invalid:ident, $parameters:ident, $name:literal, $variant:ident, $ty:ident) => {
        match $parameters {
            None => Ok(Act::$variant),
            Some(_) => Err($invalid(concat!($name, " alone: it takes no parameters"))),
        }
    };
    (@from_spec $invalid:ident, $parameters:ident, $name:literal, $variant:ident, $ty:ident { $($param:ident),+ }) => {
        match $parameters {
            None => Ok(Act::$variant($ty::DEFAULT)),
            Some(list) => {
                let wrong = concat!(
                    $name, "(", joined!(", "; $($param),+), ") with finite numbers, or ",
                    $name, " alone for PyTorch's defaults"
                );
                let mut values = list.split(',');
                $( let $param = finite_parameter(values.next()).ok_or_else(|| $invalid(wrong))?; )+
                if values.next().is_some() {
                    return Err($invalid(wrong));
                }
                let act = $ty { $($param),+ };
                match act.invalid() {
                    None => Ok(Act::$variant(act)),
                    Some(expected) => Err($invalid(expected)),
                }
            }
        }
    };

    // `$call` with `$act` bound to a reference to the variant's struct, rebuilt
    // from the fields the pattern took apart (a unit struct is its own value).
    (
        @dispatch $self:ident, $act:ident => $call:expr;
        {
            $( $(#[$attr:meta])* $variant:ident : $ty:ident $({ $($param:ident),+ $(,)? })? => { $($row:tt)* } ),+ $(,)?
        }
    ) => {
        match *$self {
            $(
                Act::$variant $( ($ty { $($param),+ }) )? => {
                    let $act: &$ty = &$ty $({ $($param),+ })?;
                    $call
                }
            )+
        }
    };
}

builtins! {
    /// A built-in activation chosen at run time, for networks whose shape and
    /// functions come from a file or a command line.
    ///
    /// Dispatch on the variant happens once per slice, so an `Act` costs the
    /// same as the concrete type. Names follow PyTorch's functional names;
    /// parameterised built-ins carry their parameters in the variant.
    ///
    /// The default is [`Act::Identity`], the crate's one rule for every layer
    /// type: a layer without a named activation is affine, as
    /// `torch.nn.Linear` is ([`Identity`] is also the default type parameter
    /// of `Linear` and [`StaticLinear`](crate::StaticLinear)).
    ///
    /// ```
    /// use tinymlp::{Act, Activation};
    ///
    /// let act: Act = "leaky_relu".parse()?;
    /// assert_eq!(act.to_string(), "leaky_relu");
    /// assert_eq!(Activation::<f64>::value(&act, -2.0), -0.02);
    /// assert_eq!(Act::default(), Act::Identity);
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    #[non_exhaustive]
    pub enum Act {
        /// [`Identity`], `x`, what a layer without a named activation applies.
        #[default]
        Identity: Identity => {
            name: "identity",
            gain: Some(1.0),
            source: "::tinymlp::Identity".into(),
        },
        /// [`Sigmoid`], `1/(1 + e^(−x))`.
        Sigmoid: Sigmoid => {
            name: "sigmoid",
            gain: Some(1.0),
            source: "::tinymlp::Sigmoid".into(),
        },
        /// [`Tanh`], `tanh(x)`.
        Tanh: Tanh => {
            name: "tanh",
            gain: Some(5.0 / 3.0),
            source: "::tinymlp::Tanh".into(),
        },
        /// [`Relu`], `max(0, x)`.
        Relu: Relu => {
            name: "relu",
            gain: Some(core::f64::consts::SQRT_2),
            source: "::tinymlp::Relu".into(),
        },
        /// [`LeakyRelu`] with its negative slope: `x`, or `negative_slope · x` below 0.
        LeakyRelu: LeakyRelu { negative_slope } => {
            name: "leaky_relu",
            gain: Some(Float::sqrt(2.0 / (1.0 + negative_slope * negative_slope))),
            source: alloc::format!("::tinymlp::LeakyRelu::new({negative_slope:?})"),
        },
        /// [`Elu`] with its alpha: `x`, or `alpha · (e^x − 1)` below 0.
        Elu: Elu { alpha } => {
            name: "elu",
            gain: None,
            source: alloc::format!("::tinymlp::Elu::new({alpha:?})"),
        },
        /// [`Silu`], `x · σ(x)`.
        Silu: Silu => {
            name: "silu",
            gain: None,
            source: "::tinymlp::Silu".into(),
        },
        /// [`Softplus`] with its beta and threshold: `ln(1 + e^(beta·x))/beta`.
        Softplus: Softplus { beta, threshold } => {
            name: "softplus",
            gain: None,
            source: alloc::format!("::tinymlp::Softplus::new({beta:?}, {threshold:?})"),
        },
        /// [`Gelu`], the exact erf form: `x · Φ(x)`.
        Gelu: Gelu => {
            name: "gelu",
            gain: None,
            source: "::tinymlp::Gelu".into(),
        },
    }
}

/// Appends `(p0, p1, ..)` to `spec`, each parameter in Rust's `{:?}` form: the
/// shortest decimal that parses back to the same bits (with an exponent for very
/// large and very small magnitudes, `-0.0` for negative zero).
#[cfg(any(feature = "alloc", test))]
fn write_parameters(spec: &mut alloc::string::String, parameters: &[f64]) {
    use core::fmt::Write as _;
    spec.push('(');
    for (i, parameter) in parameters.iter().enumerate() {
        // Writing to a String never fails.
        let _ = write!(spec, "{}{parameter:?}", if i == 0 { "" } else { ", " });
    }
    spec.push(')');
}

/// One parameter of a spec: a finite number, with ASCII spaces around it allowed.
fn finite_parameter(text: Option<&str>) -> Option<f64> {
    text?.trim_matches(' ').parse::<f64>().ok().filter(|value| value.is_finite())
}

impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Act {
    type Err = Error;

    /// Parses a PyTorch functional name with PyTorch's default parameters
    /// ([`Act::from_spec`] also reads parameters: `"leaky_relu(0.2)"`).
    fn from_str(name: &str) -> Result<Self> {
        Act::ALL
            .into_iter()
            .find(|act| act.name() == name)
            .ok_or(Error::UnknownName { kind: "activation", name: crate::error::Name::new(name) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for act in Act::ALL {
            assert_eq!(act.name().parse::<Act>().unwrap(), act);
            assert_eq!(act.to_string(), act.name());
        }
        let err = "swish".parse::<Act>().unwrap_err();
        assert!(err.to_string().starts_with("unknown activation name \"swish\" (known: identity, sigmoid, tanh,"));
    }

    #[test]
    fn the_default_is_identity() {
        assert_eq!(Act::default(), Act::Identity);
    }

    #[test]
    fn from_struct_keeps_parameters_and_gains_follow_pytorch() {
        assert_eq!(Act::from(LeakyRelu::new(0.2)), Act::LeakyRelu(LeakyRelu::new(0.2)));
        assert_eq!(Act::from(Softplus::new(2.0, 10.0)), Act::Softplus(Softplus::new(2.0, 10.0)));
        assert_eq!(Act::from(Gelu), Act::Gelu);
        // calculate_gain('leaky_relu', 0.2) = sqrt(2 / (1 + 0.2²)).
        let gain = Act::LeakyRelu(LeakyRelu::new(0.2)).torch_gain().unwrap();
        assert!((gain - 1.386_750_490_563_073).abs() < 1e-15);
        assert_eq!(Act::Elu(Elu::DEFAULT).torch_gain(), None);
    }

    /// Every parameterised built-in with `value` in each of its parameters.
    fn with_parameter(value: f64) -> [Act; 4] {
        [
            Act::LeakyRelu(LeakyRelu::new(value)),
            Act::Elu(Elu::new(value)),
            Act::Softplus(Softplus::new(value, 20.0)),
            Act::Softplus(Softplus::new(1.0, value)),
        ]
    }

    /// Why `act`'s parameters are outside their documented range, if they are.
    fn invalid(act: Act) -> Option<&'static str> {
        match act {
            Act::LeakyRelu(leaky) => leaky.invalid(),
            Act::Elu(elu) => elu.invalid(),
            Act::Softplus(softplus) => softplus.invalid(),
            _ => None,
        }
    }

    /// The parameters' bits, so that -0.0 and 0.0 differ.
    fn parameter_bits(act: Act) -> alloc::vec::Vec<u64> {
        match act {
            Act::LeakyRelu(LeakyRelu { negative_slope }) => alloc::vec![negative_slope.to_bits()],
            Act::Elu(Elu { alpha }) => alloc::vec![alpha.to_bits()],
            Act::Softplus(Softplus { beta, threshold }) => alloc::vec![beta.to_bits(), threshold.to_bits()],
            _ => alloc::vec![],
        }
    }

    #[test]
    fn specs_round_trip_every_builtin_bit_for_bit() {
        for act in Act::ALL {
            assert_eq!(Act::from_spec(&act.spec()).unwrap(), act, "{}", act.spec());
            // The name alone is the default, as FromStr reads it.
            assert_eq!(Act::from_spec(act.name()).unwrap(), act);
        }
        let mut rng = crate::Rng::new(7);
        let mut values = alloc::vec![
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            f64::from_bits(1),                      // the smallest subnormal
            -f64::from_bits(0x000f_ffff_ffff_ffff), // the largest subnormal
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            0.1,
            1.0 / 3.0,
            1e16,
            1e-5,
            123_456_789.123_456_79,
        ];
        // Random bit patterns over the whole finite range, subnormals included.
        while values.len() < 20_000 {
            let value = f64::from_bits(rng.next_u64());
            if value.is_finite() {
                values.push(value);
            }
        }
        let mut refused = 0;
        for value in values {
            for act in with_parameter(value) {
                let spec = act.spec();
                match invalid(act) {
                    None => {
                        let back = Act::from_spec(&spec).unwrap();
                        assert_eq!(parameter_bits(back), parameter_bits(act), "{spec}");
                    }
                    // Outside the documented range: refused with the reason.
                    Some(expected) => {
                        let err = Act::from_spec(&spec).unwrap_err();
                        assert!(matches!(err, Error::InvalidSpec { expected: e, .. } if e == expected), "{spec}");
                        refused += 1;
                    }
                }
            }
        }
        // Most random bit patterns are beyond f32's range, or too small for a beta.
        assert!(refused > 10_000, "{refused}");
        assert_eq!(Act::LeakyRelu(LeakyRelu::new(-0.0)).spec(), "leaky_relu(-0.0)");
        assert_eq!(Act::Elu(Elu::new(5e-324)).spec(), "elu(5e-324)");
        assert_eq!(Act::Softplus(Softplus::DEFAULT).spec(), "softplus(1.0, 20.0)");
    }

    #[test]
    fn malformed_specs_are_errors_with_the_reason() {
        let reason = |spec: &str| match Act::from_spec(spec) {
            Err(Error::InvalidSpec { spec: named, expected }) => {
                assert_eq!(named.as_str(), crate::Name::new(spec).as_str());
                expected
            }
            other => panic!("{spec}: {other:?}"),
        };
        assert!(reason("swish").starts_with("one of identity, sigmoid, tanh, relu, leaky_relu, elu,"));
        assert!(reason("Tanh").starts_with("one of"));
        assert!(reason("").starts_with("one of"));
        assert!(reason("tanh(1)").contains("tanh alone: it takes no parameters"));
        assert!(reason("tanh()").contains("tanh alone: it takes no parameters"));
        assert!(reason("leaky_relu(0.2").contains("')' at the end"));
        let leaky = "leaky_relu(negative_slope) with finite numbers, or leaky_relu alone for PyTorch's defaults";
        for bad in [
            "leaky_relu()",
            "leaky_relu(x)",
            "leaky_relu(0.2, 1)",
            "leaky_relu(NaN)",
            "leaky_relu(inf)",
            "leaky_relu(-inf)",
            "leaky_relu(1e999)",
            "leaky_relu(0.2,)",
            "leaky_relu(,0.2)",
            "leaky_relu(0x1)",
        ] {
            assert_eq!(reason(bad), leaky, "{bad}");
        }
        assert!(reason("softplus(1)").starts_with("softplus(beta, threshold) with finite numbers"));
        assert!(reason("softplus(1, 2, 3)").starts_with("softplus(beta, threshold)"));
        assert!(reason("elu(1)(2)").starts_with("elu(alpha)"));
        // Finite numbers outside a parameter's range: the reason names the
        // parameter and its range, the spec the value.
        let beta =
            "softplus(beta, threshold) with beta > 0 and beta, ln(2)/beta finite in f32 (2.04e-39 <= beta <= 3.4e38)";
        for bad in [
            "softplus(0.0, 20.0)",
            "softplus(-0.0, 20.0)",
            "softplus(-1, 20)",
            "softplus(1e-300, 20)",
            "softplus(1e39, 20)",
        ] {
            assert_eq!(reason(bad), beta, "{bad}");
        }
        assert_eq!(
            Act::from_spec("softplus(0.0, 20.0)").unwrap_err().to_string(),
            alloc::format!("invalid activation spec \"softplus(0.0, 20.0)\": expected {beta}")
        );
        assert!(reason("softplus(1, 1e39)").starts_with("softplus(beta, threshold) with threshold finite in f32"));
        assert!(
            reason("leaky_relu(-1e39)").starts_with("leaky_relu(negative_slope) with negative_slope finite in f32")
        );
        assert!(reason("elu(1e300)").starts_with("elu(alpha) with alpha finite in f32"));
        // The edges of the ranges are accepted.
        assert_eq!(
            Act::from_spec("softplus(2.04e-39, -3.4e38)").unwrap(),
            Act::Softplus(Softplus::new(2.04e-39, -3.4e38))
        );
        assert_eq!(Act::from_spec("elu(-3.4e38)").unwrap(), Act::Elu(Elu::new(-3.4e38)));
        // Spaces around numbers are fine; a space in the name is not.
        assert_eq!(Act::from_spec("softplus( 2 ,3 )").unwrap(), Act::Softplus(Softplus::new(2.0, 3.0)));
        assert!(reason(" tanh").starts_with("one of"));
        assert_eq!(
            Act::from_spec("leaky_relu(NaN)").unwrap_err().to_string(),
            alloc::format!("invalid activation spec \"leaky_relu(NaN)\": expected {leaky}")
        );
    }

    #[test]
    fn rust_source_names_the_struct_and_its_parameters() {
        assert_eq!(Act::Tanh.rust_source(), ("::tinymlp::Tanh", "::tinymlp::Tanh".to_string()));
        let (path, value) = Act::Softplus(Softplus::new(2.0, 10.0)).rust_source();
        assert_eq!((path, value.as_str()), ("::tinymlp::Softplus", "::tinymlp::Softplus::new(2.0, 10.0)"));
    }
}
