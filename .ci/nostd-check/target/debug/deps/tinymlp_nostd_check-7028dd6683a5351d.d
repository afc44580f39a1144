/work/main/.ci/nostd-check/target/debug/deps/tinymlp_nostd_check-7028dd6683a5351d.d: src/lib.rs

/work/main/.ci/nostd-check/target/debug/deps/libtinymlp_nostd_check-7028dd6683a5351d.a: src/lib.rs

src/lib.rs:
