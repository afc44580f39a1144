//! The training firmware's `fw_main` (`--features train`): trains the
//! network of `src/train.rs` on the device and prints the `train` lines the
//! host build prints; with the argument `measure`, runs a few steps between
//! the markers instead (for the traced run) and measures a step's stack.
//! No `unsafe` here: it uses the runtime of the parent module.

use core::hint::black_box;

use super::{Line, PAINTED, exit, fw_mark_begin, fw_mark_end, semihosting, stack_used};
use crate::train::{self, ADAM_BYTES, DATA_BYTES, Report, STEPS, TARGET_LOSS, TRAIN_BYTES, Training, train_step};

/// Training steps run between the markers in the `measure` run, after an
/// empty pair (`TRAIN_STEPS` in analyze.py).
const MEASURED_STEPS: usize = 4;

/// The training firmware.
#[unsafe(no_mangle)]
extern "C" fn fw_main() -> ! {
    let mut line = Line::new();
    if last_argument_is(b"measure") { measure(&mut line) } else { train_to_the_end(&mut line) }
}

/// Whether the last word of the semihosting command line (QEMU's
/// `-semihosting-config arg=...`, or else the kernel's path and `-append`)
/// is `word`; false if there is none or it is longer than 256 bytes.
fn last_argument_is(word: &[u8]) -> bool {
    let mut buffer = [0u8; 256];
    // SYS_GET_CMDLINE's argument block: the buffer's address and length; the
    // host writes the NUL-terminated line into the buffer and its length
    // (without the NUL) into the second word, and returns 0.
    let mut block = [buffer.as_mut_ptr() as usize, buffer.len()];
    if semihosting(0x15, block.as_mut_ptr() as usize) != 0 {
        return false;
    }
    let text = &buffer[..block[1].min(buffer.len())];
    text.rsplit(|&b| b == b' ').next() == Some(word)
}

/// The traced run: an empty pair of markers (their own cost), then
/// [`MEASURED_STEPS`] steps each between the markers; then the stack of one
/// more step, and the training state's bytes.
fn measure(line: &mut Line) -> ! {
    let Ok(adam) = train::adam() else { fail(line, "train: Adam refused its configuration") };
    let mut training = Training::new(adam);
    fw_mark_begin();
    fw_mark_end();
    for _ in 0..MEASURED_STEPS {
        fw_mark_begin();
        let loss = train_step(black_box(&mut training));
        fw_mark_end();
        if black_box(loss).is_err() {
            fail(line, "train: a step failed");
        }
    }
    let mut loss = Ok(0.0);
    let bytes = stack_used(|| loss = train_step(black_box(&mut training)));
    if loss.is_err() {
        fail(line, "train: a step failed");
    }
    line.text("train-stack ").decimal(bytes, 1);
    if bytes >= PAINTED {
        line.text(" (all of the painted region: more than measured)");
    }
    line.print();
    line.text("train-bytes ").decimal(TRAIN_BYTES, 1).text(" ").decimal(ADAM_BYTES, 1);
    line.text(" ").decimal(DATA_BYTES, 1).print();
    exit(true);
}

/// Trains for `STEPS` steps and prints the `train` lines (as the host build
/// does), then `train-ram BYTES`: the stack the whole training used, the
/// `Training` value included (the firmware has no `.data` or `.bss`, so this
/// is all the RAM it needs besides `fw_main`'s few bytes). Exits 1 if
/// training fails or misses `TARGET_LOSS`.
fn train_to_the_end(line: &mut Line) -> ! {
    let (mut met, mut trained) = (false, false);
    // The trained state is dropped inside the measured call, so that it is
    // counted wherever the compiler puts it.
    let bytes = stack_used(|| trained = train_and_report(line, &mut met));
    if !trained {
        fail(line, "train: training failed");
    }
    line.text("train-ram ").decimal(bytes, 1);
    if bytes >= PAINTED {
        line.text(" (all of the painted region: more than measured)");
    }
    line.print();
    exit(met);
}

/// [`Training::new`] and [`train::train`], printing its reports; whether
/// both succeeded.
#[inline(never)]
fn train_and_report(line: &mut Line, met: &mut bool) -> bool {
    let Ok(adam) = train::adam() else { return false };
    let mut training = Training::new(adam);
    train::train(&mut training, |report| match report {
        Report::Loss { step, loss } => line.text("train loss ").decimal(step, 4).text(" ").hex(loss.to_bits()).print(),
        Report::Final { loss, met: ok } => {
            *met = ok;
            line.text("train final ").decimal(STEPS, 4).text(" ").hex(loss.to_bits());
            line.text(if ok { " met " } else { " missed " }).hex(TARGET_LOSS.to_bits()).print();
        }
        Report::Parameters(hash) => line.text("train parameters ").hex(hash).print(),
    })
    .is_ok()
}

/// Prints `message` and exits 1.
fn fail(line: &mut Line, message: &str) -> ! {
    line.text(message).print();
    exit(false);
}
