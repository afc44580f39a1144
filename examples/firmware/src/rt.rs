//! The bare-metal side: vector table, reset path, semihosting, the marker
//! functions `measure.sh` counts instructions between, stack painting, and the
//! firmware's `main`. Everything `unsafe` in the firmware is in this module.
//!
//! No `core::fmt` here: numbers are printed by hand, so that whether
//! `core::fmt` is linked says something about tinymlp, not about this harness.

use core::arch::{asm, global_asm};
#[cfg(not(feature = "train"))]
use core::hint::black_box;

#[cfg(not(feature = "train"))]
use crate::net::{Infer, POINTS, infer_plain, infer_tinymlp, point};

// The training firmware (`--features train`): its own `fw_main`.
#[cfg(feature = "train")]
mod training;

// Reset: turn the FPU on (CPACR CP10 and CP11 full access, bits 20-23) before
// any Rust code runs, since Rust code for thumbv7em-none-eabihf may use the FPU
// registers anywhere (even to save them in a prologue); then zero .bss, copy
// .data from its load address, and call `fw_main`. Written in assembly so that
// no compiled code runs before the FPU is on.
global_asm!(
    ".section .text.fw_reset, \"ax\"",
    ".global fw_reset",
    ".type fw_reset, %function",
    ".thumb_func",
    "fw_reset:",
    "    ldr r0, =0xE000ED88", // CPACR
    "    ldr r1, [r0]",
    "    orr r1, r1, #0x00F00000",
    "    str r1, [r0]",
    "    dsb",
    "    isb",
    "    ldr r0, =__sbss",
    "    ldr r1, =__ebss",
    "    movs r2, #0",
    "2:  cmp r0, r1",
    "    bhs 3f",
    "    str r2, [r0], #4",
    "    b 2b",
    "3:  ldr r0, =__sdata",
    "    ldr r1, =__edata",
    "    ldr r2, =__sidata",
    "4:  cmp r0, r1",
    "    bhs 5f",
    "    ldr r3, [r2], #4",
    "    str r3, [r0], #4",
    "    b 4b",
    "5:  bl fw_main",
    "    udf #0",
    ".ltorg",
    ".size fw_reset, . - fw_reset",
);

unsafe extern "C" {
    fn fw_reset();
}

/// The exception vectors after the initial stack pointer (which `link.x`
/// places first): reset, then every fault and system exception to `fw_fault`.
#[unsafe(link_section = ".vector_table.exceptions")]
#[used]
static EXCEPTIONS: [Option<unsafe extern "C" fn()>; 15] = [
    Some(fw_reset), // Reset
    Some(fw_fault), // NMI
    Some(fw_fault), // HardFault
    Some(fw_fault), // MemManage
    Some(fw_fault), // BusFault
    Some(fw_fault), // UsageFault
    None,
    None,
    None,
    None,
    Some(fw_fault), // SVCall
    Some(fw_fault), // DebugMonitor
    None,
    Some(fw_fault), // PendSV
    Some(fw_fault), // SysTick
];

/// Any exception is a failure of the run: say so and exit non-zero.
unsafe extern "C" fn fw_fault() {
    write(b"fault: exception taken\n\0");
    exit(false);
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // The message is not printed: that would link core::fmt.
    write(b"panic\n\0");
    exit(false);
}

/// Semihosting call `op` with argument `arg` (`bkpt 0xab`; QEMU runs with
/// `-semihosting`); returns the host's result.
fn semihosting(op: u32, arg: usize) -> u32 {
    let result: u32;
    // SAFETY: the semihosting ABI: r0 the operation, r1 its argument (an address
    // or a value), r0 the result; the host reads and writes memory only through
    // r1 (SYS_GET_CMDLINE writes the buffer that the block r1 points to names).
    unsafe { asm!("bkpt 0xab", inout("r0") op => result, in("r1") arg, options(nostack, preserves_flags)) };
    result
}

/// Writes a NUL-terminated string to the host's console (SYS_WRITE0).
fn write(text: &[u8]) {
    assert_eq!(text.last(), Some(&0), "SYS_WRITE0 needs a NUL-terminated string");
    semihosting(0x04, text.as_ptr() as usize);
}

/// Ends the run (SYS_EXIT): QEMU exits 0 for ADP_Stopped_ApplicationExit and
/// 1 for any other reason.
fn exit(success: bool) -> ! {
    semihosting(0x18, if success { 0x2_0026 } else { 0x2_0024 });
    loop {
        core::hint::spin_loop();
    }
}

/// A line built without `core::fmt`.
struct Line {
    bytes: [u8; 96],
    len: usize,
}

impl Line {
    fn new() -> Self {
        Self { bytes: [0; 96], len: 0 }
    }

    fn text(&mut self, text: &str) -> &mut Self {
        for &b in text.as_bytes() {
            self.bytes[self.len] = b;
            self.len += 1;
        }
        self
    }

    fn hex(&mut self, value: u32) -> &mut Self {
        for shift in (0..8).rev() {
            self.bytes[self.len] = b"0123456789abcdef"[(value >> (4 * shift)) as usize & 0xf];
            self.len += 1;
        }
        self
    }

    /// At least `width` digits (zero-padded).
    fn decimal(&mut self, value: usize, width: usize) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut count = 0;
        let mut rest = value;
        while rest > 0 || count < width.max(1) {
            digits[count] = b'0' + (rest % 10) as u8;
            rest /= 10;
            count += 1;
        }
        for &d in digits[..count].iter().rev() {
            self.bytes[self.len] = d;
            self.len += 1;
        }
        self
    }

    fn print(&mut self) {
        self.text("\n\0");
        write(&self.bytes[..self.len]);
        self.len = 0;
    }
}

/// Marks the start of a measured region: `measure.sh` counts the instructions
/// from this function's first instruction to `fw_mark_end`'s, and subtracts an
/// empty region's count. (Different bodies so the two are never merged.)
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn fw_mark_begin() {
    // SAFETY: a no-op.
    unsafe { asm!("nop", options(nomem, nostack, preserves_flags)) };
}

/// Marks the end of a measured region (see [`fw_mark_begin`]).
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn fw_mark_end() {
    // SAFETY: no-ops.
    unsafe { asm!("nop", "nop", options(nomem, nostack, preserves_flags)) };
}

/// Bytes of stack painted below the caller's stack pointer (the training
/// firmware measures its whole run, network included: more).
const PAINTED: usize = if cfg!(feature = "train") { 32 * 1024 } else { 8 * 1024 };
/// The paint: a word no float or address here is likely to equal.
const PAINT: u32 = 0xA5C3_5A3C;

/// Stack bytes that `infer(x)` uses, its call included (see [`stack_used`]).
#[cfg(not(feature = "train"))]
fn stack_bytes(infer: Infer, x: f32) -> usize {
    stack_used(|| {
        black_box(black_box(infer)(black_box(x)));
    })
}

/// Stack bytes that `run` uses, its calls included: paints `PAINTED` bytes
/// below the stack pointer, runs it, and finds the deepest word that changed.
/// Painting and scanning are assembly loops that use no stack themselves.
#[inline(never)]
fn stack_used(run: impl FnOnce()) -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer.
    unsafe { asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    let bottom = sp - PAINTED;
    // SAFETY: writes the free stack below sp (no interrupts are enabled, and
    // this function's own frame is above sp), which the call below may use.
    unsafe {
        asm!(
            "2:",
            "str {paint}, [{cursor}], #4",
            "cmp {cursor}, {top}",
            "blo 2b",
            cursor = inout(reg) bottom => _,
            top = in(reg) sp,
            paint = in(reg) PAINT,
            options(nostack),
        );
    }
    run();
    let deepest: usize;
    // SAFETY: reads the region painted above.
    unsafe {
        asm!(
            "2:",
            "ldr {word}, [{cursor}]",
            "cmp {word}, {paint}",
            "bne 3f",
            "adds {cursor}, {cursor}, #4",
            "cmp {cursor}, {top}",
            "blo 2b",
            "3:",
            cursor = inout(reg) bottom => deepest,
            word = out(reg) _,
            top = in(reg) sp,
            paint = in(reg) PAINT,
            options(nostack, readonly),
        );
    }
    sp - deepest
}

/// One measured inference: between the markers, nothing but the call.
#[cfg(not(feature = "train"))]
#[inline(always)]
fn measured(infer: Infer, x: f32) -> f32 {
    let x = black_box(x);
    fw_mark_begin();
    let y = infer(x);
    fw_mark_end();
    black_box(y)
}

/// The firmware. The order of the marked regions is what `measure.sh`
/// expects: one empty region (the markers' own cost), then tinymlp on each
/// input, then the plain loops on each input.
#[cfg(not(feature = "train"))]
#[unsafe(no_mangle)]
extern "C" fn fw_main() -> ! {
    fw_mark_begin();
    fw_mark_end();
    let mut outputs = [[0.0f32; POINTS]; 2];
    let runs: [(&str, Infer); 2] = [("tinymlp", infer_tinymlp), ("plain", infer_plain)];
    for ((_, infer), ys) in runs.iter().zip(&mut outputs) {
        for (i, y) in ys.iter_mut().enumerate() {
            *y = measured(*infer, point(i));
        }
    }
    let mut line = Line::new();
    for ((name, _), ys) in runs.iter().zip(&outputs) {
        for (i, y) in ys.iter().enumerate() {
            line.text("out ").text(name).text(" ").decimal(i, 2).text(" ");
            line.hex(point(i).to_bits()).text(" ").hex(y.to_bits()).print();
        }
    }
    for (name, infer) in runs {
        let bytes = stack_bytes(infer, point(5));
        line.text("stack ").text(name).text(" ").decimal(bytes, 1);
        if bytes >= PAINTED {
            line.text(" (all of the painted region: more than measured)");
        }
        line.print();
    }
    exit(true);
}
