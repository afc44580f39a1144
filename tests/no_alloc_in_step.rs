//! After the first step at a batch size, a training step (zero_grad, forward,
//! backward_loss, optimizer step) allocates nothing, for both network kinds and
//! both optimizers; a smaller batch afterwards allocates nothing either.
//!
//! A counting global allocator counts the allocations made on this test's
//! thread while counting is switched on.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tinymlp::{Act, Adam, DynMlp, HalfMse, Identity, Init, Layers, Linear, Matrix, Mlp, Optimizer, Rng, Sgd, Tanh};

struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// bookkeeping only touches const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: as for `dealloc`, and the caller guarantees `new_size` is valid.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations made by `f` on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

fn data(rows: usize) -> (Matrix<f32>, Matrix<f32>) {
    let x = Matrix::from_fn(rows, 1, |i, _| i as f32 / rows as f32);
    let y = Matrix::from_fn(rows, 1, |i, _| (i as f32 / rows as f32).sin());
    (x, y)
}

fn train_steps<L: Layers<f32>, O: Optimizer<f32>>(
    net: &mut Mlp<f32, L>,
    opt: &mut O,
    x: &Matrix<f32>,
    y: &Matrix<f32>,
) {
    for _ in 0..3 {
        net.zero_grad();
        net.forward(x);
        net.backward_loss(&HalfMse, y).unwrap();
        opt.step(net).unwrap();
        net.step(1e-3);
    }
}

fn assert_steady_state_allocates_nothing<L: Layers<f32>, O: Optimizer<f32>>(net: &mut Mlp<f32, L>, opt: &mut O) {
    let (big_x, big_y) = data(64);
    let (small_x, small_y) = data(17);
    train_steps(net, opt, &big_x, &big_y); // warm-up: buffers and moments are created here
    assert_eq!(allocations_in(|| train_steps(net, opt, &big_x, &big_y)), 0, "same batch size");
    assert_eq!(allocations_in(|| train_steps(net, opt, &small_x, &small_y)), 0, "smaller batch");
    net.set_input_grad(true);
    train_steps(net, opt, &big_x, &big_y);
    assert_eq!(allocations_in(|| train_steps(net, opt, &big_x, &big_y)), 0, "with input gradients");
}

#[test]
fn training_steps_allocate_nothing_after_warm_up() {
    let mut runtime =
        DynMlp::<f32>::from_widths(&[1, 32, 32, 1], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(1))
            .unwrap();
    assert_steady_state_allocates_nothing(&mut runtime, &mut Adam::with_lr(0.01).unwrap());
    assert_steady_state_allocates_nothing(&mut runtime, &mut Sgd::new(0.01).unwrap());

    let mut rng = Rng::new(2);
    let mut fixed = Mlp::new((
        Linear::<f32, 1, 16, Tanh>::new(&mut rng),
        Linear::<f32, 16, 16, Tanh>::new(&mut rng),
        Linear::<f32, 16, 1, Identity>::new(&mut rng),
    ));
    assert_steady_state_allocates_nothing(&mut fixed, &mut Adam::with_lr(0.01).unwrap());

    // The counter itself works: a Vec allocates.
    assert_eq!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 16]))), 1);
}
