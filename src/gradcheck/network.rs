//! Finite-difference check of a whole network's weight, bias and input gradients.

use super::{Location, Options, Report, chosen_indices, estimate};
use crate::{Layers, Loss, Matrix, Mlp, Result, Scalar};

/// Separate reports for the weights, the biases and the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NetworkReport {
    /// All weights of all layers.
    pub weights: Report,
    /// All biases of all layers.
    pub biases: Report,
    /// The input batch.
    pub inputs: Report,
}

impl NetworkReport {
    /// The three reports merged.
    #[must_use]
    pub fn overall(&self) -> Report {
        let mut all = self.weights;
        all.merge(&self.biases);
        all.merge(&self.inputs);
        all
    }
}

/// Checks the gradients `backward_loss` computes for `net` on the batch
/// `(x, target)` against finite differences of the loss, for the weights,
/// the biases and the inputs.
///
/// Each entry is perturbed in place and restored bit for bit, so the network's
/// parameters are unchanged afterwards; its gradient buffers are zeroed and
/// then hold this batch's gradients. The check runs in the network's own type;
/// for an f32 network use [`Options::for_type`]`::<f32>()`, whose looser
/// bounds fit f32's rounding (comparing with the same network in f64 is the
/// sharper test). [`Options::which`] picks the gradients to check.
///
/// ```
/// use tinymlp::{Act, DynMlp, HalfMse, Init, Matrix, Rng, gradcheck};
///
/// let mut net = DynMlp::<f64>::from_widths(&[3, 5, 2], Act::Tanh, Act::Identity,
///     Init::TorchDefault, &mut Rng::new(7))?;
/// let x = Matrix::from_fn(4, 3, |i, j| (i as f64) * 0.3 - (j as f64) * 0.2);
/// let y = Matrix::from_fn(4, 2, |i, j| (i + j) as f64 * 0.1);
/// let report = gradcheck::check_network(&mut net, &x, &y, &HalfMse, &Default::default())?;
/// assert!(report.overall().max_relative_error < 1e-6);
/// # Ok::<(), tinymlp::Error>(())
/// ```
///
/// # Errors
/// As [`Mlp::try_forward`] and [`Mlp::backward_loss`] for shapes that do not
/// fit. After an error the parameters and the input-gradient setting are
/// restored too; the gradient buffers then hold partial results (call
/// [`Mlp::zero_grad`] before using them).
pub fn check_network<T, L, F>(
    net: &mut Mlp<T, L>,
    x: &Matrix<T>,
    target: &Matrix<T>,
    loss: &F,
    options: &Options,
) -> Result<NetworkReport>
where
    T: Scalar,
    L: Layers<T>,
    F: Loss<T> + ?Sized,
{
    let (parameters, input_grad_was) = (net.parameters_to_vec(), net.wants_input_grad());
    let report = check(net, x, target, loss, options);
    if report.is_err() {
        // The same length as the network's own vector: this cannot fail.
        net.set_parameters(&parameters)?;
        net.set_input_grad(input_grad_was);
    }
    report
}

/// [`check_network`], which restores the network if this fails part way.
fn check<T, L, F>(
    net: &mut Mlp<T, L>,
    x: &Matrix<T>,
    target: &Matrix<T>,
    loss: &F,
    options: &Options,
) -> Result<NetworkReport>
where
    T: Scalar,
    L: Layers<T>,
    F: Loss<T> + ?Sized,
{
    let input_grad_was = net.wants_input_grad();
    net.set_input_grad(true);
    net.zero_grad();
    net.try_forward(x)?;
    let loss_value = (net.try_backward_loss(loss, target)?).as_f64();
    let floor = options.floor * loss_value.abs().max(1.0);
    let baseline = net.piece_signature();
    let input_grad = net.input_grad().cloned().unwrap_or_else(|| Matrix::zeros(0, 0));

    let mut report =
        NetworkReport { weights: Report::new(options), biases: Report::new(options), inputs: Report::new(options) };
    let mut parameters = net.parameters_to_vec();
    let gradients = net.gradients_to_vec();
    let h = options.step;
    let mut sub_options = *options;
    for (layer_index, offset, len) in layer_spans(net) {
        let (inputs, outputs) = net.layer(layer_index).map_or((0, 0), |layer| (layer.inputs(), layer.outputs()));
        // The layer's weights, then its bias, each with its own choice of entries.
        let weights = inputs * outputs;
        let kinds = [(options.which.weights, 0, weights), (options.which.biases, weights, len - weights)];
        for (start, count) in kinds.into_iter().filter(|kind| kind.0).map(|kind| (kind.1, kind.2)) {
            sub_options.seed = options.seed.wrapping_add((offset + start) as u64);
            for local in chosen_indices(count, &sub_options).map(|i| start + i) {
                let flat = offset + local;
                let saved = parameters[flat];
                let mut at = |delta: f64, net: &mut Mlp<T, L>| -> Result<(f64, bool)> {
                    parameters[flat] = T::from_f64(saved.as_f64() + delta);
                    net.set_parameters(&parameters)?;
                    net.try_forward(x)?;
                    let value = (net.try_loss(loss, target)?).as_f64();
                    parameters[flat] = saved;
                    Ok((value, net.piece_signature() == baseline))
                };
                let (values, same_pieces) = estimate(|d| at(d, net), h)?;
                net.set_parameters(&parameters)?;
                let (location, into) = if local < weights {
                    let location = Location::Weight { layer: layer_index, row: local / inputs, col: local % inputs };
                    (location, &mut report.weights)
                } else {
                    (Location::Bias { layer: layer_index, index: local - weights }, &mut report.biases)
                };
                if same_pieces {
                    into.record(location, gradients[flat].as_f64(), values, floor);
                } else {
                    into.skipped_kinks += 1;
                }
            }
        }
    }

    let mut perturbed = x.clone();
    let input_count = if options.which.inputs { x.len() } else { 0 };
    for index in chosen_indices(input_count, options) {
        let saved = x.as_slice()[index];
        let mut at = |delta: f64, net: &mut Mlp<T, L>| -> Result<(f64, bool)> {
            perturbed.as_mut_slice()[index] = T::from_f64(saved.as_f64() + delta);
            net.try_forward(&perturbed)?;
            let value = (net.try_loss(loss, target)?).as_f64();
            perturbed.as_mut_slice()[index] = saved;
            Ok((value, net.piece_signature() == baseline))
        };
        let (numeric, same_pieces) = estimate(|d| at(d, net), h)?;
        let location = Location::Input { sample: index / x.cols(), feature: index % x.cols() };
        if same_pieces {
            report.inputs.record(location, input_grad.as_slice()[index].as_f64(), numeric, floor);
        } else {
            report.inputs.skipped_kinks += 1;
        }
    }

    // Leave the network as the caller's forward/backward would have: this batch cached.
    net.set_input_grad(input_grad_was);
    net.zero_grad();
    net.try_forward(x)?;
    net.try_backward_loss(loss, target)?;
    Ok(report)
}

/// `(layer, offset in the flat parameter vector, weights + biases)` per layer.
fn layer_spans<T: Scalar, L: Layers<T>>(net: &Mlp<T, L>) -> alloc::vec::Vec<(usize, usize, usize)> {
    let mut offset = 0;
    (0..net.depth())
        .map(|index| {
            let len = net.layers().layer(index).parameter_count();
            offset += len;
            (index, offset - len, len)
        })
        .collect()
}
