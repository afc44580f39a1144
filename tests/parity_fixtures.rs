//! The golden PyTorch fixtures in `tests/fixtures/parity/` (written by
//! `scripts/make_fixtures.py`), run through the `torch_parity` tool's own code
//! in-process: outputs, losses and gradients at the initial parameters, and
//! weights after 20 SGD or Adam steps, against PyTorch's.
//!
//! Error of an entry: `|ours - torch| / max(|torch|, FLOOR · max|torch tensor|)`,
//! i.e. relative, except for entries far below the tensor's scale, which are
//! sums whose terms cancel and are compared relative to the tensor's scale.

#[path = "../examples/torch_parity/run.rs"]
#[allow(dead_code)]
mod run;

use std::path::{Path, PathBuf};

use tinymlp::safetensors::{Dtype, SafeTensors};

/// Entries below FLOOR × the tensor's largest magnitude are judged against that scale
/// (measured worst errors: f64 3.7e-13, f32 4.1e-5, all with this floor).
const FLOOR: f64 = 1e-8;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parity")
}

fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("fixture directory")
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

fn compare(case: &str) -> (Dtype, Worst) {
    let dir = fixture_dir();
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
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let error = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs() / y.abs().max(FLOOR * scale).max(f64::MIN_POSITIVE))
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

#[test]
fn every_fixture_matches_pytorch() {
    let cases = cases();
    assert!(cases.len() >= 30, "expected the committed fixtures, found {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let (dtype, worst) = compare(case);
        // The bounds: f64 outputs and gradients 1e-10, weights after 20
        // steps 1e-9; f32 1e-4 (and 1e-3 for f32 weights after steps).
        let (initial_bound, trained_bound) = if dtype == Dtype::F64 { (1e-10, 1e-9) } else { (1e-4, 1e-3) };
        println!(
            "{case:28} {dtype}  initial {:9.2e} ({})  trained {:9.2e} ({})",
            worst.initial, worst.where_initial, worst.trained, worst.where_trained
        );
        if worst.initial > initial_bound || worst.trained > trained_bound {
            failures.push(case.clone());
        }
    }
    assert!(failures.is_empty(), "fixtures beyond the bounds: {failures:?}");
}
