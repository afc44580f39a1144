/work/main/.ci/nostd-check/target/debug/deps/tinymlp-ff403b8b8b9b1a5c.d: /work/main/src/lib.rs /work/main/src/activation/mod.rs /work/main/src/activation/builtin.rs /work/main/src/error.rs /work/main/src/gradcheck.rs /work/main/src/gradcheck/network.rs /work/main/src/init.rs /work/main/src/kernels/mod.rs /work/main/src/kernels/reference.rs /work/main/src/loss.rs /work/main/src/rng.rs /work/main/src/scalar.rs /work/main/src/special.rs /work/main/src/layer.rs /work/main/src/linear.rs /work/main/src/matrix.rs /work/main/src/network.rs /work/main/src/optim/mod.rs /work/main/src/optim/adam.rs /work/main/src/optim/sgd.rs

/work/main/.ci/nostd-check/target/debug/deps/libtinymlp-ff403b8b8b9b1a5c.rlib: /work/main/src/lib.rs /work/main/src/activation/mod.rs /work/main/src/activation/builtin.rs /work/main/src/error.rs /work/main/src/gradcheck.rs /work/main/src/gradcheck/network.rs /work/main/src/init.rs /work/main/src/kernels/mod.rs /work/main/src/kernels/reference.rs /work/main/src/loss.rs /work/main/src/rng.rs /work/main/src/scalar.rs /work/main/src/special.rs /work/main/src/layer.rs /work/main/src/linear.rs /work/main/src/matrix.rs /work/main/src/network.rs /work/main/src/optim/mod.rs /work/main/src/optim/adam.rs /work/main/src/optim/sgd.rs

/work/main/.ci/nostd-check/target/debug/deps/libtinymlp-ff403b8b8b9b1a5c.rmeta: /work/main/src/lib.rs /work/main/src/activation/mod.rs /work/main/src/activation/builtin.rs /work/main/src/error.rs /work/main/src/gradcheck.rs /work/main/src/gradcheck/network.rs /work/main/src/init.rs /work/main/src/kernels/mod.rs /work/main/src/kernels/reference.rs /work/main/src/loss.rs /work/main/src/rng.rs /work/main/src/scalar.rs /work/main/src/special.rs /work/main/src/layer.rs /work/main/src/linear.rs /work/main/src/matrix.rs /work/main/src/network.rs /work/main/src/optim/mod.rs /work/main/src/optim/adam.rs /work/main/src/optim/sgd.rs

/work/main/src/lib.rs:
/work/main/src/activation/mod.rs:
/work/main/src/activation/builtin.rs:
/work/main/src/error.rs:
/work/main/src/gradcheck.rs:
/work/main/src/gradcheck/network.rs:
/work/main/src/init.rs:
/work/main/src/kernels/mod.rs:
/work/main/src/kernels/reference.rs:
/work/main/src/loss.rs:
/work/main/src/rng.rs:
/work/main/src/scalar.rs:
/work/main/src/special.rs:
/work/main/src/layer.rs:
/work/main/src/linear.rs:
/work/main/src/matrix.rs:
/work/main/src/network.rs:
/work/main/src/optim/mod.rs:
/work/main/src/optim/adam.rs:
/work/main/src/optim/sgd.rs:
