/work/main/.ci/nostd-check/target/debug/deps/tinymlp_nostd_check-2b96959a1f54a875.d: src/lib.rs

/work/main/.ci/nostd-check/target/debug/deps/libtinymlp_nostd_check-2b96959a1f54a875.a: src/lib.rs

src/lib.rs:
