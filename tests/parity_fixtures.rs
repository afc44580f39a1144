//! The golden PyTorch fixtures in `tests/fixtures/parity/` and
//! `tests/fixtures/breadth/` (every loss and optimizer configuration; both
//! written by `scripts/make_fixtures.py`), run through the `torch_parity` tool's own code
//! in-process: outputs, losses and gradients at the initial parameters, and
//! weights after 20 SGD or Adam steps, against PyTorch's.
//!
//! Error of an entry: `|ours - torch| / max(|torch|, floor · max|torch tensor|)`,
//! i.e. relative, except for entries far below the tensor's scale, which are
//! sums whose terms cancel and are compared relative to the tensor's scale.

#[path = "../examples/torch_parity/run.rs"]
#[allow(dead_code)]
mod run;

use std::path::{Path, PathBuf};

use tinymlp::safetensors::{Dtype, SafeTensors};

/// Entries below `floor` × the tensor's largest magnitude are judged against that
/// scale. In f64 the floor is tiny (every entry is judged relatively; measured
/// worst 8.8e-13 on an AVX2 machine, 2026-12-01). In f32 an entry that is a sum
/// over the batch with heavy cancellation keeps only the absolute accuracy of
/// the sum's terms, so entries under 1% of the tensor's largest are judged
/// against that 1% (measured worst 1.2e-5).
fn floor(dtype: Dtype) -> f64 {
    if dtype == Dtype::F64 { 1e-8 } else { 1e-2 }
}

fn fixture_dir(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(set)
}

fn cases(set: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(fixture_dir(set)) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".expected.safetensors").map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// Worst error per group of tensors in one case.
#[derive(Debug, Default)]
struct Worst {
    initial: f64,
    trained: f64,
    where_initial: String,
    where_trained: String,
}

fn compare(set: &str, case: &str) -> (Dtype, Worst) {
    let dir = fixture_dir(set);
    let path = |kind: &str| dir.join(format!("{case}.{kind}.safetensors"));
    let expected_bytes = std::fs::read(path("expected")).unwrap();
    let expected = SafeTensors::parse(&expected_bytes).unwrap();
    let mut args: Vec<String> = ["--model", "m", "--data", "d", "--out", "o"].iter().map(|s| s.to_string()).collect();
    args.extend(expected.metadata_value("args").unwrap_or("").split_whitespace().map(str::to_owned));
    let options = run::parse_args(&args).unwrap_or_else(|e| panic!("{case}: {e}"));
    let model = std::fs::read(path("model")).unwrap();
    let data = std::fs::read(path("data")).unwrap();
    let ours_bytes = run::run(&options, &model, &data).unwrap_or_else(|e| panic!("{case}: {e}"));
    let ours = SafeTensors::parse(&ours_bytes).unwrap();

    let ours_names: Vec<&str> = ours.names().collect();
    let expected_names: Vec<&str> = expected.names().collect();
    assert_eq!(ours_names.len(), expected_names.len(), "{case}: tensors {ours_names:?} vs {expected_names:?}");
    let mut worst = Worst::default();
    let dtype = expected.tensors()[0].dtype();
    for theirs in expected.tensors() {
        let mine = ours.get(theirs.name()).unwrap_or_else(|| panic!("{case}: we wrote no {}", theirs.name()));
        assert_eq!(mine.shape(), theirs.shape(), "{case}: {}", theirs.name());
        assert_eq!(mine.dtype(), theirs.dtype(), "{case}: {}", theirs.name());
        let (a, b) = (mine.to_f64_vec(), theirs.to_f64_vec());
        // A NaN of ours would vanish in the `f64::max` fold below.
        assert!(a.iter().all(|v| v.is_finite()), "{case}: {} holds a NaN or infinity", theirs.name());
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let error = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs() / y.abs().max(floor(theirs.dtype()) * scale).max(f64::MIN_POSITIVE))
            .fold(0.0, f64::max);
        let trained = !theirs.name().ends_with(".grad") && theirs.name().starts_with("layers.");
        let (slot, place) = if trained {
            (&mut worst.trained, &mut worst.where_trained)
        } else {
            (&mut worst.initial, &mut worst.where_initial)
        };
        if error >= *slot {
            *slot = error;
            *place = theirs.name().to_owned();
        }
    }
    (dtype, worst)
}

/// Runs every case of a fixture set; returns the failures.
fn check_set(set: &str) -> (usize, Vec<String>) {
    let cases = cases(set);
    let mut failures = Vec::new();
    for case in &cases {
        let (dtype, worst) = compare(set, case);
        // The bounds: f64 outputs and gradients 1e-10, weights after 20
        // steps 1e-9; f32 1e-4 (and 1e-3 for f32 weights after steps).
        let (initial_bound, trained_bound) = if dtype == Dtype::F64 { (1e-10, 1e-9) } else { (1e-4, 1e-3) };
        println!(
            "{set}/{case:28} {dtype}  initial {:9.2e} ({})  trained {:9.2e} ({})",
            worst.initial, worst.where_initial, worst.trained, worst.where_trained
        );
        if worst.initial > initial_bound || worst.trained > trained_bound {
            failures.push(format!("{set}/{case}"));
        }
    }
    (cases.len(), failures)
}

#[test]
fn every_parity_fixture_matches_pytorch() {
    let (count, failures) = check_set("parity");
    assert!(count >= 30, "expected the committed fixtures, found {count}");
    assert!(failures.is_empty(), "fixtures beyond the bounds: {failures:?}");
}

#[test]
fn every_loss_and_optimizer_fixture_matches_pytorch() {
    let (count, failures) = check_set("breadth");
    assert!(count >= 40, "expected the committed breadth fixtures, found {count}");
    assert!(failures.is_empty(), "fixtures beyond the bounds: {failures:?}");
}
