//! [`Fit`]: mini-batch training of an [`Mlp`] with any [`Optimizer`] and any
//! [`Loss`], with a report after every epoch.
//!
//! Each step is PyTorch's loop: `zero_grad`, forward on the batch,
//! `backward_loss`, optimizer step. Batches follow `DataLoader(batch_size,
//! shuffle, drop_last=False)`: the last, partial batch is kept, and the sample
//! order is reshuffled every epoch from a seed, identically on every platform.

use alloc::vec::Vec;
use core::ops::ControlFlow;
use core::time::Duration;

use super::checkpoint::{CheckpointError, Progress};
use crate::{Error, Layers, Loss, Matrix, Mlp, Optimizer, Result, Rng, Scalar, Schedule};

/// How to train: epochs, batch size, shuffling, validation data. [`Fit::run`]
/// trains a network with it.
///
/// ```
/// use core::ops::ControlFlow;
/// use tinymlp::{Adam, Fit, HalfMse, Identity, Linear, Matrix, Mlp, Rng, Tanh};
///
/// let mut rng = Rng::new(0);
/// let mut net = Mlp::new((Linear::<f64, 1, 16, Tanh>::new(&mut rng), Linear::<f64, 16, 1, Identity>::new(&mut rng)));
/// let x = Matrix::from_fn(64, 1, |i, _| i as f64 / 63.0);
/// let y = Matrix::from_fn(64, 1, |i, _| (3.0 * i as f64 / 63.0).sin());
/// let xv = Matrix::from_fn(16, 1, |i, _| (i as f64 + 0.5) / 16.0);
/// let yv = Matrix::from_fn(16, 1, |i, _| (3.0 * (i as f64 + 0.5) / 16.0).sin());
/// let mut adam = Adam::with_lr(0.01)?;
///
/// let history = Fit::new(300, 16).seed(7).validation(&xv, &yv).run(&mut net, &mut adam, &HalfMse, &x, &y, |report, _net| {
///     // Stop as soon as the validation loss is small enough.
///     match report.validation_loss {
///         Some(loss) if loss < 1e-4 => ControlFlow::Break(()),
///         _ => ControlFlow::Continue(()),
///     }
/// })?;
/// assert!(history.len() <= 300);
/// assert!(history.last().unwrap().train_loss < history[0].train_loss / 10.0);
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Clone, Copy)]
#[must_use = "a Fit trains nothing until `run` is called"]
pub struct Fit<'v, T: Scalar> {
    epochs: usize,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    validation: Option<(&'v Matrix<T>, &'v Matrix<T>)>,
    schedule: Option<&'v dyn Schedule>,
    resume: Option<Progress>,
    #[cfg(feature = "std")]
    checkpoint: Option<(&'v std::path::Path, usize)>,
}

impl<T: Scalar> core::fmt::Debug for Fit<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut debug = f.debug_struct("Fit");
        debug
            .field("epochs", &self.epochs)
            .field("batch_size", &self.batch_size)
            .field("shuffle", &self.shuffle)
            .field("seed", &self.seed)
            .field("validation", &self.validation.map(|(x, y)| (x.shape(), y.shape())))
            .field("schedule", &self.schedule.map(|_| "dyn Schedule"))
            .field("resume", &self.resume);
        #[cfg(feature = "std")]
        debug.field("checkpoint", &self.checkpoint);
        debug.finish()
    }
}

/// What one epoch of [`Fit::run`] measured; the history holds one per
/// completed epoch.
///
/// Losses have the network's element type, as [`Mlp::loss`] returns them.
///
/// ```
/// use core::ops::ControlFlow;
/// use tinymlp::{Act, DynMlp, Fit, HalfMse, Init, Matrix, Rng, Sgd};
///
/// let mut net = DynMlp::<f32>::from_widths(&[1, 4, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(0))?;
/// let x = Matrix::column(&[0.0, 0.5, 1.0]);
/// let y = Matrix::column(&[1.0, 0.0, 1.0]);
/// let history = Fit::new(3, 2).validation(&x, &y).run(&mut net, &mut Sgd::with_lr(0.1)?, &HalfMse, &x, &y, |_, _| {
///     ControlFlow::Continue(())
/// })?;
/// let report = history[2];
/// assert_eq!(report.epoch, 2);
/// assert!(report.train_loss.is_finite() && report.validation_loss.is_some());
/// assert_eq!(report.elapsed.is_some(), cfg!(feature = "std"));
/// # Ok::<(), tinymlp::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct EpochReport<T> {
    /// The epoch, from 0.
    pub epoch: usize,
    /// The learning rate of the epoch's steps (set by [`Fit::schedule`], else
    /// the optimizer's own).
    pub lr: f64,
    /// The mean over the epoch's samples of the loss of the batch each sample
    /// was in: `Σ loss_b · rows_b / rows`, summed in f64 (so a smaller last
    /// batch counts for less), each `loss_b` taken before its optimizer step.
    pub train_loss: T,
    /// The loss on the whole validation set after the epoch's last step, if
    /// validation data was given.
    pub validation_loss: Option<T>,
    /// Time since [`Fit::run`] started; `None` without the `std` feature (or on
    /// `wasm32-unknown-unknown`, which has no clock).
    pub elapsed: Option<Duration>,
    /// Where the run stands after this epoch: with the network and the
    /// optimizer, all [`Fit::resume`] needs to continue after it (what
    /// [`Fit::checkpoint`] saves, which also records whether `on_epoch` then
    /// stopped the run).
    pub progress: Progress,
}

/// History capacity reserved up front, so that pushing a report allocates
/// nothing in ordinary runs, without reserving for `epochs = usize::MAX`.
const RESERVED_EPOCHS: usize = 1024;

impl<'v, T: Scalar> Fit<'v, T> {
    /// `epochs` passes over the data in batches of `batch_size` rows, shuffled
    /// with seed 0 and without validation data. A `batch_size` above the number
    /// of rows means one batch of all of them.
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        Self {
            epochs,
            batch_size,
            shuffle: true,
            seed: 0,
            validation: None,
            schedule: None,
            resume: None,
            #[cfg(feature = "std")]
            checkpoint: None,
        }
    }

    /// Seeds the shuffling (default 0); the same seed gives the same order on
    /// every platform.
    pub fn seed(self, seed: u64) -> Self {
        Self { seed, ..self }
    }

    /// Whether to reshuffle the samples every epoch (default `true`); off, the
    /// batches take the rows in order.
    pub fn shuffle(self, shuffle: bool) -> Self {
        Self { shuffle, ..self }
    }

    /// Data to compute [`EpochReport::validation_loss`] on after every epoch.
    pub fn validation(self, x: &'v Matrix<T>, y: &'v Matrix<T>) -> Self {
        Self { validation: Some((x, y)), ..self }
    }

    /// Sets the optimizer's learning rate before every epoch to
    /// `schedule.lr(base_lr, epoch)`, `base_lr` being the optimizer's rate when
    /// [`Fit::run`] starts (as a `torch.optim.lr_scheduler` stepped once per
    /// epoch). The rate each epoch used is in [`EpochReport::lr`]; after the
    /// run the optimizer keeps the last epoch's rate.
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// use tinymlp::{Act, CosineAnnealing, DynMlp, Fit, HalfMse, Init, Matrix, Rng, Sgd};
    ///
    /// let mut net = DynMlp::<f64>::from_widths(&[1, 8, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(0))?;
    /// let x = Matrix::from_fn(16, 1, |i, _| i as f64 / 15.0);
    /// let y = Matrix::from_fn(16, 1, |i, _| (i as f64 / 15.0).powi(2));
    /// let cosine = CosineAnnealing { t_max: 10, eta_min: 0.0 };
    /// let history = Fit::new(10, 4).schedule(&cosine).run(&mut net, &mut Sgd::with_lr(0.1)?, &HalfMse, &x, &y, |_, _| {
    ///     ControlFlow::Continue(())
    /// })?;
    /// assert_eq!(history[0].lr, 0.1);
    /// assert!((history[5].lr - 0.05).abs() < 1e-12);
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    pub fn schedule(self, schedule: &'v dyn Schedule) -> Self {
        Self { schedule: Some(schedule), ..self }
    }

    /// Continues a run from `progress` (read from a checkpoint by
    /// [`Mlp::load_checkpoint`] or [`Mlp::read_checkpoint`] together with the
    /// network and the optimizer): [`run`](Fit::run) starts at epoch
    /// `progress.epochs_done()`, with the shuffling generator where the
    /// checkpointed run left it and the schedule's base rate it had, so the run
    /// continues exactly as if it had never stopped. The other settings (data,
    /// schedule, shuffling, validation) must be those of the first run; a
    /// different seed or batch size is refused (see Errors in
    /// [`run`](Fit::run)). A run that `on_epoch` stopped early is over
    /// ([`Progress::stopped`]): resuming it trains nothing, as the run that
    /// stopped; `epochs` may be raised to train longer than first planned.
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// use tinymlp::{Act, Adam, DynMlp, Fit, HalfMse, Init, Matrix, Rng};
    ///
    /// let x = Matrix::from_fn(32, 1, |i, _| i as f64 / 31.0);
    /// let y = Matrix::from_fn(32, 1, |i, _| (i as f64 / 31.0).powi(2));
    /// let make = || DynMlp::<f64>::from_widths(&[1, 8, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(5));
    /// let fit = Fit::new(6, 8).seed(1);
    ///
    /// // Six epochs in one go.
    /// let (mut net, mut adam) = (make()?, Adam::with_lr(0.01)?);
    /// fit.run(&mut net, &mut adam, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(()))?;
    ///
    /// // Four epochs, a checkpoint, and the last two from it in fresh objects.
    /// let (mut first, mut first_adam) = (make()?, Adam::with_lr(0.01)?);
    /// let mut checkpoint = None;
    /// fit.run(&mut first, &mut first_adam, &HalfMse, &x, &y, |report, _| {
    ///     checkpoint = Some(report.progress);
    ///     if report.epoch == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    /// })?;
    /// let bytes = first.checkpoint_to_bytes(&first_adam, checkpoint.as_ref())?;
    /// let (mut resumed, mut resumed_adam) = (make()?, Adam::with_lr(0.01)?);
    /// let progress = resumed.load_checkpoint(&bytes, &mut resumed_adam)?.unwrap();
    /// let rest = fit.resume(progress).run(&mut resumed, &mut resumed_adam, &HalfMse, &x, &y, |_, _| ControlFlow::Continue(()))?;
    /// assert_eq!(rest.iter().map(|r| r.epoch).collect::<Vec<_>>(), [4, 5]);
    /// assert_eq!(resumed.parameters_to_vec(), net.parameters_to_vec());
    /// # Ok::<(), tinymlp::Error>(())
    /// ```
    pub fn resume(self, progress: Progress) -> Self {
        Self { resume: Some(progress), ..self }
    }

    /// Saves a checkpoint (network, optimizer state, [`Progress`]) to `path`
    /// after every `every` epochs and after the last epoch (also when
    /// `on_epoch` stops the run), each save atomic
    /// ([`Mlp::save_checkpoint`]), after `on_epoch` has seen the epoch. A run
    /// killed at any moment resumes from the last checkpoint with
    /// [`Mlp::read_checkpoint`] and [`Fit::resume`] to the same weights, bit for
    /// bit, as a run that was never interrupted. `every = 0` is treated as 1.
    /// A run that trains no epoch (`epochs` 0, or resumed at its end) saves
    /// nothing.
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn checkpoint(self, path: &'v std::path::Path, every: usize) -> Self {
        Self { checkpoint: Some((path, every.max(1))), ..self }
    }

    /// Trains `net` on inputs `x` and targets `y` (one sample per row), calling
    /// `on_epoch` with each epoch's report and the network; it returns
    /// [`ControlFlow::Break`] to stop early. Returns the reports of the
    /// completed epochs.
    ///
    /// The validation loss comes from a forward pass, so afterwards
    /// [`Mlp::output`] holds the validation output; gradients hold the last
    /// training batch's. After the first epoch no step allocates.
    ///
    /// # Errors
    /// Before anything changes: [`Error::ShapeMismatch`] if `x` does not have
    /// [`Mlp::inputs`] columns or `y` is not `x.rows() x loss.target_width(outputs)`
    /// (likewise for the validation data), [`Error::EmptyBatch`] if either has
    /// no rows, [`Error::NonFinite`] for a NaN or infinite target (named by its
    /// row and column in `y`, e.g. `fit targets row 7 col 0`),
    /// [`Error::InvalidHyperParameter`] for a batch size of 0.
    ///
    /// At the start of an epoch: [`Error::ScheduleRate`] naming the epoch if
    /// the [`schedule`](Fit::schedule) gives a rate the optimizer refuses
    /// (NaN, negative, ...; see [`Optimizer::try_set_lr`]): the epochs before
    /// it were trained (and checkpointed, as configured), and the optimizer
    /// keeps their rate.
    ///
    /// During training, with the weights as they were before the failing step:
    /// [`Error::NonFiniteLoss`] for a NaN or infinite batch loss (also when it
    /// comes from a NaN or infinite output, as a NaN input gives); a
    /// non-finite output whose loss is finite (a `-inf` logit under
    /// cross-entropy) is [`Error::NonFinite`] naming the output's row and
    /// column (see [`Mlp::try_loss`]);
    /// [`Error::NonFinite`] naming the first NaN or infinite gradient (e.g.
    /// `"gradient of layer 1 weight"`) when the loss is finite, and any error
    /// of the loss's [`validate`](Loss::validate) (such as a class index out of
    /// range) or of the optimizer's step. The loss's errors on the validation
    /// set come after the epoch's steps.
    ///
    /// With [`resume`](Fit::resume): [`Error::Checkpoint`] if the progress is
    /// beyond `epochs`, or its seed or batch size differs from this `Fit`'s
    /// ([`CheckpointError::ResumeMismatch`](crate::CheckpointError::ResumeMismatch)). With [`checkpoint`](Fit::checkpoint): any error of
    /// [`Mlp::save_checkpoint`] (the run stops there; the previous checkpoint
    /// is intact).
    pub fn run<L, O, F, C>(
        &self,
        net: &mut Mlp<T, L>,
        optimizer: &mut O,
        loss: &F,
        x: &Matrix<T>,
        y: &Matrix<T>,
        mut on_epoch: C,
    ) -> Result<Vec<EpochReport<T>>>
    where
        L: Layers<T>,
        O: Optimizer<T> + ?Sized,
        F: Loss<T> + ?Sized,
        C: FnMut(&EpochReport<T>, &Mlp<T, L>) -> ControlFlow<()>,
    {
        self.check(net, loss, x, y)?;
        let rows = x.rows();
        let batch_size = self.batch_size.min(rows);
        // Every buffer is made here; the loop only reshapes them within their capacity.
        let mut order: Vec<usize> = (0..rows).collect();
        let mut batch_x = Matrix::zeros(batch_size, x.cols());
        let mut batch_y = Matrix::zeros(batch_size, y.cols());
        let mut history = Vec::with_capacity(self.epochs.min(RESERVED_EPOCHS));
        let (start, mut rng, base_lr) = match self.resume {
            Some(progress) if progress.epoch > self.epochs => {
                return Err(Error::Checkpoint(CheckpointError::ResumeBeyondEnd {
                    epochs_done: progress.epoch,
                    epochs: self.epochs,
                }));
            }
            Some(progress) => {
                for (setting, checkpoint, fit) in [
                    ("seed", progress.seed, self.seed),
                    ("batch_size", progress.batch_size as u64, self.batch_size as u64),
                ] {
                    if checkpoint != fit {
                        return Err(Error::Checkpoint(CheckpointError::ResumeMismatch { setting, checkpoint, fit }));
                    }
                }
                if progress.stopped {
                    // The run this continues was over: so is this one.
                    return Ok(history);
                }
                (progress.epoch, Rng::from_state(progress.rng), progress.base_lr())
            }
            None => (0, Rng::new(self.seed), optimizer.lr()),
        };
        let clock = Clock::start();
        for epoch in start..self.epochs {
            if let Some(schedule) = self.schedule {
                let lr = schedule.lr(base_lr, epoch);
                // Whatever the optimizer names (AdamW's check of
                // lr · weight_decay names weight_decay), the rate is what changed.
                optimizer.try_set_lr(lr).map_err(|err| match err {
                    Error::InvalidHyperParameter { expected, .. } => Error::ScheduleRate { epoch, lr, expected },
                    other => other,
                })?;
            }
            let lr = optimizer.lr();
            if self.shuffle {
                // A fresh permutation of 0..rows every epoch, as PyTorch's
                // RandomSampler: the order depends on the seed and epoch only.
                order.iter_mut().enumerate().for_each(|(i, slot)| *slot = i);
                rng.shuffle(&mut order);
            }
            let mut weighted_sum = 0.0f64;
            for (batch, indices) in order.chunks(batch_size).enumerate() {
                gather(x, indices, &mut batch_x);
                gather(y, indices, &mut batch_y);
                let value = train_step(net, optimizer, loss, &batch_x, &batch_y, (epoch, batch))?;
                weighted_sum += value.as_f64() * indices.len() as f64;
            }
            let validation_loss = match self.validation {
                Some((xv, yv)) => {
                    net.try_forward(xv)?;
                    // A diverged network's validation loss is reported, not refused.
                    match loss_of_non_finite_output(net, loss, yv)? {
                        Some(value) => Some(value),
                        None => Some(net.try_loss(loss, yv)?),
                    }
                }
                None => None,
            };
            let train_loss = T::from_f64(weighted_sum / rows as f64);
            let mut progress = Progress::new(epoch + 1, base_lr, self.seed, self.batch_size, &rng, false);
            let report = EpochReport { epoch, lr, train_loss, validation_loss, elapsed: clock.elapsed(), progress };
            history.push(report);
            let stop = on_epoch(&report, net).is_break();
            progress.stopped = stop;
            #[cfg(feature = "std")]
            if let Some((path, every)) = self.checkpoint
                && (stop || (epoch + 1) % every == 0 || epoch + 1 == self.epochs)
            {
                net.save_checkpoint(path, &*optimizer, Some(&progress))?;
            }
            if stop {
                break;
            }
        }
        Ok(history)
    }

    /// Checks everything that can be checked before the first step.
    fn check<L: Layers<T>, F: Loss<T> + ?Sized>(
        &self,
        net: &Mlp<T, L>,
        loss: &F,
        x: &Matrix<T>,
        y: &Matrix<T>,
    ) -> Result<()> {
        let target_width = loss.target_width(net.outputs());
        let mut sets = [Some((x, y, "fit inputs", "fit targets", "fit")), None];
        if let Some((xv, yv)) = self.validation {
            sets[1] = Some((xv, yv, "fit validation inputs", "fit validation targets", "fit validation"));
        }
        for (x, y, x_op, y_op, op) in sets.into_iter().flatten() {
            if x.cols() != net.inputs() {
                return Err(Error::ShapeMismatch { op: x_op, expected: (x.rows(), net.inputs()), found: x.shape() });
            }
            if y.shape() != (x.rows(), target_width) {
                return Err(Error::ShapeMismatch { op: y_op, expected: (x.rows(), target_width), found: y.shape() });
            }
            if x.rows() == 0 {
                return Err(Error::EmptyBatch { op });
            }
            // Named by the row of `y`, which a batch's own row would not be.
            super::check_finite_cells(y_op, y)?;
        }
        if self.batch_size == 0 {
            return Err(Error::InvalidHyperParameter { name: "batch_size", value: 0.0, expected: "at least 1" });
        }
        Ok(())
    }
}

/// One training step on a batch; returns its loss, which is finite. `at` is
/// (epoch, batch), for the error.
fn train_step<T, L, O, F>(
    net: &mut Mlp<T, L>,
    optimizer: &mut O,
    loss: &F,
    x: &Matrix<T>,
    y: &Matrix<T>,
    (epoch, batch): (usize, usize),
) -> Result<T>
where
    T: Scalar,
    L: Layers<T>,
    O: Optimizer<T> + ?Sized,
    F: Loss<T> + ?Sized,
{
    net.zero_grad();
    net.try_forward(x)?;
    // Backward refuses a non-finite output (a NaN input, or weights that
    // diverged); its loss, non-finite too, says where training was.
    if let Some(value) = loss_of_non_finite_output(net, loss, y)?
        && !value.is_finite()
    {
        return Err(Error::NonFiniteLoss { epoch, batch, value: value.as_f64() });
    }
    let value = net.try_backward_loss(loss, y)?;
    // The loss is known before the step, so a bad one leaves the weights alone.
    if !value.is_finite() {
        return Err(Error::NonFiniteLoss { epoch, batch, value: value.as_f64() });
    }
    // Overflow in backward can give infinite or NaN gradients under a finite
    // loss; stepping on them would spoil every weight they touch.
    net.check_gradients()?;
    optimizer.step(net)?;
    Ok(value)
}

/// `None` if the last forward pass's output is finite; else its loss against
/// `y` (after the loss's [`validate`](Loss::validate)), which
/// [`Mlp::try_loss`] refuses to compute: `Fit` reports it, as the loss of a
/// batch or of the validation set.
fn loss_of_non_finite_output<T, L, F>(net: &Mlp<T, L>, loss: &F, y: &Matrix<T>) -> Result<Option<T>>
where
    T: Scalar,
    L: Layers<T>,
    F: Loss<T> + ?Sized,
{
    match net.output() {
        Some(output) if crate::first_non_finite(output.as_slice()).is_some() => {
            let (output, target, width) = (output.as_slice(), y.as_slice(), output.cols());
            loss.validate(output, target, width)?;
            Ok(Some(loss.value(output, target, width)))
        }
        _ => Ok(None),
    }
}

/// Copies rows `indices` of `source` into `batch`, in that order.
fn gather<T: Scalar>(source: &Matrix<T>, indices: &[usize], batch: &mut Matrix<T>) {
    batch.reshape_for(indices.len(), source.cols());
    for (k, &i) in indices.iter().enumerate() {
        batch.row_mut(k).copy_from_slice(source.row(i));
    }
}

/// Time since training started, where the platform has a clock.
#[cfg(all(feature = "std", not(all(target_arch = "wasm32", target_os = "unknown"))))]
struct Clock(std::time::Instant);

#[cfg(all(feature = "std", not(all(target_arch = "wasm32", target_os = "unknown"))))]
impl Clock {
    fn start() -> Self {
        Self(std::time::Instant::now())
    }

    #[allow(clippy::unnecessary_wraps)] // the clockless version returns None
    fn elapsed(&self) -> Option<Duration> {
        Some(self.0.elapsed())
    }
}

/// Without `std` (or on `wasm32-unknown-unknown`, where `Instant::now` panics)
/// there is no clock.
#[cfg(not(all(feature = "std", not(all(target_arch = "wasm32", target_os = "unknown")))))]
struct Clock;

#[cfg(not(all(feature = "std", not(all(target_arch = "wasm32", target_os = "unknown")))))]
impl Clock {
    fn start() -> Self {
        Self
    }

    #[allow(clippy::unused_self)] // the same signature as the clock's
    fn elapsed(&self) -> Option<Duration> {
        None
    }
}
