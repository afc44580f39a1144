//! Uses tinymlp without std (and, with the `alloc` feature, with only `alloc`).
#![no_std]

use tinymlp::{Activation, Identity, Predict, StaticLinear, Tanh};

/// A network in a `static`, built in a const context: inference needs no heap.
static NET: (StaticLinear<f32, 2, 3, Tanh>, StaticLinear<f32, 3, 1, Identity>) = (
    StaticLinear::new([[0.5, -0.25], [1.0, 0.0], [0.0, 1.0]], [0.0, 0.1, -0.1], Tanh),
    StaticLinear::new([[1.0, -1.0, 0.5]], [0.25], Identity),
);

/// Inference from the static network.
#[unsafe(no_mangle)]
pub extern "C" fn tinymlp_check_predict(a: f32, b: f32) -> f32 {
    NET.predict(&[a, b])[0]
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// An activation and the slice kernels work without any heap.
#[unsafe(no_mangle)]
pub extern "C" fn tinymlp_check_tanh(x: f32) -> f32 {
    let mut out = [0.0f32; 1];
    Tanh.forward_slice(&[x], &mut out);
    out[0] + tinymlp::Activation::<f32>::value(&tinymlp::Gelu, x)
}

#[cfg(feature = "alloc")]
mod with_alloc {
    extern crate alloc;
    use core::alloc::{GlobalAlloc, Layout};
    use tinymlp::{Act, DynMlp, HalfMse, Init, Matrix, Rng};

    /// A bump allocator over a static arena, enough to link and run a tiny net.
    struct Arena;

    const ARENA_SIZE: usize = 1 << 16;
    static mut ARENA: [u8; ARENA_SIZE] = [0; ARENA_SIZE];
    static mut NEXT: usize = 0;

    // SAFETY: single-threaded check crate; allocations never overlap and
    // never exceed the arena (null is returned instead).
    unsafe impl GlobalAlloc for Arena {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the arena is only touched here, from one thread.
            unsafe {
                let start = (NEXT + layout.align() - 1) & !(layout.align() - 1);
                if start + layout.size() > ARENA_SIZE {
                    return core::ptr::null_mut();
                }
                NEXT = start + layout.size();
                (&raw mut ARENA).cast::<u8>().add(start)
            }
        }
        unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
    }

    #[global_allocator]
    static GLOBAL: Arena = Arena;

    /// Training works with only `alloc`.
    #[unsafe(no_mangle)]
    pub extern "C" fn tinymlp_check_train(x: f64) -> f64 {
        let Ok(mut net) =
            DynMlp::<f64>::from_widths(&[1, 4, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(0))
        else {
            return f64::NAN;
        };
        let input = Matrix::column(&[x]);
        net.forward(&input);
        net.try_backward_loss(&HalfMse, &input).unwrap_or(f64::NAN)
    }
}
