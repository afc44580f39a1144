/work/main/.ci/nostd-check/target/debug/deps/tinymlp-97ba070b90218176.d: /work/main/src/lib.rs /work/main/src/activation/mod.rs /work/main/src/activation/builtin.rs /work/main/src/error.rs /work/main/src/gradcheck.rs /work/main/src/init.rs /work/main/src/kernels/mod.rs /work/main/src/kernels/reference.rs /work/main/src/loss.rs /work/main/src/rng.rs /work/main/src/scalar.rs /work/main/src/special.rs

/work/main/.ci/nostd-check/target/debug/deps/libtinymlp-97ba070b90218176.rlib: /work/main/src/lib.rs /work/main/src/activation/mod.rs /work/main/src/activation/builtin.rs /work/main/src/error.rs /work/main/src/gradcheck.rs /work/main/src/init.rs /work/main/src/kernels/mod.rs /work/main/src/kernels/reference.rs /work/main/src/loss.rs /work/main/src/rng.rs /work/main/src/scalar.rs /work/main/src/special.rs

/work/main/.ci/nostd-check/target/debug/deps/libtinymlp-97ba070b90218176.rmeta: /work/main/src/lib.rs /work/main/src/activation/mod.rs /work/main/src/activation/builtin.rs /work/main/src/error.rs /work/main/src/gradcheck.rs /work/main/src/init.rs /work/main/src/kernels/mod.rs /work/main/src/kernels/reference.rs /work/main/src/loss.rs /work/main/src/rng.rs /work/main/src/scalar.rs /work/main/src/special.rs

/work/main/src/lib.rs:
/work/main/src/activation/mod.rs:
/work/main/src/activation/builtin.rs:
/work/main/src/error.rs:
/work/main/src/gradcheck.rs:
/work/main/src/init.rs:
/work/main/src/kernels/mod.rs:
/work/main/src/kernels/reference.rs:
/work/main/src/loss.rs:
/work/main/src/rng.rs:
/work/main/src/scalar.rs:
/work/main/src/special.rs:
