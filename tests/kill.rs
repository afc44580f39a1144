//! The kill test: a training process that checkpoints every epoch is killed
//! with SIGKILL at random moments, as a save starts and while a save writes
//! its temporary file, restarted from its last checkpoint, and must end with
//! the same weights, bit for bit, as a run that was never interrupted.
//!
//! The child process is this test binary itself, running the ignored test
//! `kill_test_child` with `TINYMLP_KILL_TEST_DIR` set.

use core::ops::ControlFlow;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tinymlp::{Act, Adam, DynMlp, Fit, HalfMse, Init, Matrix, Rng};

const DIR_ENV: &str = "TINYMLP_KILL_TEST_DIR";
const EPOCHS: usize = 12;

/// The training run: resumes from `dir/run.ckpt` if it exists, checkpoints
/// after every epoch, prints `epoch N` before each save; returns the weights.
fn train(dir: &Path, quiet: bool) -> Vec<f64> {
    let x = Matrix::from_fn(512, 8, |i, j| ((i * 31 + j * 17) % 97) as f64 / 96.0 - 0.5);
    let y = Matrix::from_fn(512, 2, |i, j| (((i * 13 + j * 7) % 29) as f64 / 28.0).sin());
    let mut net =
        DynMlp::<f64>::from_widths(&[8, 96, 96, 2], Act::Tanh, Act::Identity, Init::TorchDefault, &mut Rng::new(4))
            .unwrap();
    let mut adam = Adam::with_lr(0.003).unwrap();
    let path = dir.join("run.ckpt");
    let mut fit = Fit::new(EPOCHS, 32).seed(8).checkpoint(&path, 1);
    if path.exists() {
        let progress = net.read_checkpoint(&path, &mut adam).unwrap().expect("Fit's checkpoints carry progress");
        fit = fit.resume(progress);
    }
    fit.run(&mut net, &mut adam, &HalfMse, &x, &y, |report, _| {
        if !quiet {
            // The parent reads this line; the save follows right after.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "epoch {}", report.epoch);
            let _ = out.flush();
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    net.parameters_to_vec()
}

#[test]
#[ignore = "the kill test's child process, started by killed_training_resumes_bit_for_bit"]
fn kill_test_child() {
    let Some(dir) = std::env::var_os(DIR_ENV) else { return };
    let dir = PathBuf::from(dir);
    let weights = train(&dir, false);
    let bytes: Vec<u8> = weights.iter().flat_map(|w| w.to_bits().to_le_bytes()).collect();
    tinymlp::write_atomically(&dir.join("final.bin"), &bytes).unwrap();
}

fn spawn(dir: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["kill_test_child", "--exact", "--ignored", "--nocapture", "--test-threads=1", "-q"])
        .env(DIR_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// How a run is interrupted.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// SIGKILL this long after the start.
    After(Duration),
    /// SIGKILL as soon as the child reports this epoch, i.e. as its save starts
    /// (while it builds the checkpoint's bytes).
    AtSave(usize),
    /// SIGKILL while that save writes its temporary file (as soon as the file
    /// appears).
    AtWrite(usize),
}

/// Runs the child, killing it as `kill` says; returns whether it was killed
/// before finishing and whether a save was in progress (temporary file left).
fn run_killed(dir: &Path, kill: Kill) -> (bool, bool) {
    let mut child = spawn(dir);
    let stdout = child.stdout.take().unwrap();
    match kill {
        Kill::After(delay) => {
            let reader = std::thread::spawn(move || BufReader::new(stdout).lines().count());
            let start = Instant::now();
            while start.elapsed() < delay {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            let _ = child.kill(); // SIGKILL on Unix
            reader.join().unwrap();
        }
        Kill::AtSave(epoch) | Kill::AtWrite(epoch) => {
            let target = format!("epoch {epoch}");
            let temporary = dir.join("run.ckpt.tmp");
            for line in BufReader::new(stdout).lines() {
                if line.unwrap() == target {
                    if matches!(kill, Kill::AtWrite(_)) {
                        let start = Instant::now();
                        while !temporary.exists() && start.elapsed() < Duration::from_millis(200) {
                            std::hint::spin_loop();
                        }
                    }
                    let _ = child.kill();
                    break;
                }
            }
        }
    }
    let status = child.wait().unwrap();
    let killed = !status.success();
    (killed, dir.join("run.ckpt.tmp").exists())
}

fn finish(dir: &Path) -> Vec<u64> {
    let mut child = spawn(dir);
    let stdout = child.stdout.take().unwrap();
    BufReader::new(stdout).lines().for_each(drop);
    assert!(child.wait().unwrap().success(), "the restarted run failed");
    let bytes = std::fs::read(dir.join("final.bin")).unwrap();
    bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
}

#[cfg(unix)]
#[test]
fn killed_training_resumes_bit_for_bit() {
    let root = std::env::temp_dir().join(format!("tinymlp-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);

    // The uninterrupted run, in its own process, timed for the kill points.
    let reference_dir = root.join("reference");
    std::fs::create_dir_all(&reference_dir).unwrap();
    let start = Instant::now();
    let reference = finish(&reference_dir);
    let duration = start.elapsed();
    let in_process: Vec<u64> = {
        let dir = root.join("in-process");
        std::fs::create_dir_all(&dir).unwrap();
        train(&dir, true).iter().map(|w| w.to_bits()).collect()
    };
    assert_eq!(reference, in_process, "the child process trains as this one does");

    let mut rng = Rng::new(2026);
    let mut kills = Vec::new();
    for point in 0..6 {
        kills.push(vec![Kill::After(duration.mul_f64(rng.uniform(0.02, 0.98)))]);
        kills.push(vec![Kill::AtSave(point * 2)]);
        kills.push(vec![Kill::AtWrite(point * 2 + 1)]);
    }
    // Two kills in one run: restarted, then killed again before finishing.
    kills.push(vec![Kill::AtSave(3), Kill::AtSave(7), Kill::After(duration / 3)]);
    let (mut killed, mut during_save) = (0, 0);
    for (index, plan) in kills.iter().enumerate() {
        for (order, kill) in plan.iter().enumerate() {
            // Each plan entry is its own trial, except the last plan's chain.
            let dir = root.join(format!("trial-{index}-{order}"));
            let chained = index == kills.len() - 1;
            let dir = if chained { root.join(format!("trial-{index}")) } else { dir };
            std::fs::create_dir_all(&dir).unwrap();
            let (was_killed, in_save) = run_killed(&dir, *kill);
            killed += usize::from(was_killed);
            during_save += usize::from(in_save);
            if !chained {
                assert_eq!(finish(&dir), reference, "killed {kill:?}: the resumed run's weights differ");
            }
        }
    }
    let chained = root.join(format!("trial-{}", kills.len() - 1));
    assert_eq!(finish(&chained), reference, "killed three times: the resumed run's weights differ");
    // Until one kill has hit a save in the middle (its temporary file left behind).
    let mut extra = 0;
    while during_save == 0 && extra < 30 {
        let dir = root.join(format!("extra-{extra}"));
        std::fs::create_dir_all(&dir).unwrap();
        let (was_killed, in_save) = run_killed(&dir, Kill::AtWrite(rng.below(EPOCHS as u64) as usize));
        killed += usize::from(was_killed);
        during_save += usize::from(in_save);
        assert_eq!(finish(&dir), reference, "killed at a save: the resumed run's weights differ");
        extra += 1;
    }
    eprintln!(
        "kill test: {} kills ({killed} before the end, {during_save} during a save); uninterrupted run {duration:?}",
        kills.iter().map(Vec::len).sum::<usize>() + extra
    );
    assert!(killed >= 6, "too few kills landed before the end: {killed}");
    assert!(during_save > 0, "no kill landed during a save in {extra} extra tries");
    std::fs::remove_dir_all(&root).unwrap();
}
