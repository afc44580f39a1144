//! tinymlp against the Rust peers (candle, burn, dfdx) on the workloads of
//! `benches/train_step.rs`, one thread, in one run.
//!
//! ```text
//! cargo run --release                                # 5 rounds, every workload and crate
//! cargo run --release -- --rounds 3 --filter sine    # workloads whose id contains "sine"
//! cargo run --release -- --peers candle,dfdx         # a subset of the peers (tinymlp always runs)
//! ./run.sh                                           # build (timed), then default malloc and GLIBC_TUNABLES
//! ```
//!
//! Every crate starts from the same data and the same initial weights
//! (tinymlp's, built with train_step.rs's seeds). A sanity phase runs first:
//! each crate's first loss (or inference output) must equal tinymlp's to
//! rounding, and each crate must lower the sine workload's loss over 200 Adam
//! steps; a crate that fails is reported as broken and not timed.
//!
//! Then `--rounds` rounds: within a round every workload is timed on every
//! crate, in an order that rotates from round to round. A measurement warms
//! up, then takes samples of many calls and keeps the median time per call.
//! The time is the timing thread's own CPU time (`CLOCK_THREAD_CPUTIME_ID`): on a
//! machine shared with other processes it leaves out the time another
//! process held the CPU, and on an idle one it equals the wall-clock time
//! (printed per round beside it). It covers all the work because every crate
//! runs on that one thread: the CPU time of any other thread is reported. The
//! table shows each crate's median over the rounds and, in parentheses, the
//! median over rounds of the ratio crate / tinymlp measured within the round.

mod burn_peer;
mod candle_peer;
mod dfdx_peer;
mod measure;
mod sysinfo;
mod tinymlp_peer;
mod workload;

use std::time::Instant;

use measure::{Plan, median};
use workload::{Dtype, Id, Problem, Runner, SPECS, Spec};

/// The crates, as named in the table (versions as pinned in Cargo.toml).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    Tinymlp,
    Candle,
    BurnNdArray,
    BurnFlex,
    Dfdx,
}

const PEERS: [Peer; 5] = [Peer::Tinymlp, Peer::Candle, Peer::BurnNdArray, Peer::BurnFlex, Peer::Dfdx];

impl Peer {
    /// Short name for `--peers`.
    fn key(self) -> &'static str {
        match self {
            Peer::Tinymlp => "tinymlp",
            Peer::Candle => "candle",
            Peer::BurnNdArray => "burn-ndarray",
            Peer::BurnFlex => "burn-flex",
            Peer::Dfdx => "dfdx",
        }
    }

    /// Column header: crate, version and backend.
    fn header(self) -> &'static str {
        match self {
            Peer::Tinymlp => "tinymlp 0.1.0",
            Peer::Candle => "candle 0.11.1 (CPU)",
            Peer::BurnNdArray => "burn 0.22.1 ndarray",
            Peer::BurnFlex => "burn 0.22.1 flex",
            Peer::Dfdx => "dfdx 0.13.0 (CPU)",
        }
    }

    fn build(self, problem: &Problem) -> Result<Box<dyn Runner>, String> {
        // A peer that panics while building is reported, not fatal.
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match self {
            Peer::Tinymlp => tinymlp_peer::build(problem),
            Peer::Candle => candle_peer::build(problem),
            Peer::BurnNdArray => burn_peer::build(problem, burn_peer::Backend::NdArray),
            Peer::BurnFlex => burn_peer::build(problem, burn_peer::Backend::Flex),
            Peer::Dfdx => dfdx_peer::build(problem),
        }));
        built.unwrap_or_else(|panic| Err(format!("panicked: {}", panic_text(&panic))))
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// Runs `f`, turning a panic into an error.
fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| format!("panicked: {}", panic_text(&p)))
}

struct Args {
    rounds: usize,
    filters: Vec<String>,
    peers: Vec<Peer>,
    plan: Plan,
    sanity_steps: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args =
        Args { rounds: 5, filters: Vec::new(), peers: PEERS.to_vec(), plan: Plan::default(), sanity_steps: 200 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--rounds" => {
                let v = value("--rounds")?;
                args.rounds = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--rounds takes a positive number, not {v:?}"))?;
            }
            "--filter" => args.filters.extend(value("--filter")?.split(',').map(str::to_owned)),
            "--peers" => {
                let list = value("--peers")?;
                let mut peers = vec![Peer::Tinymlp];
                for key in list.split(',') {
                    let peer = PEERS.iter().find(|p| p.key() == key).ok_or_else(|| {
                        let keys: Vec<_> = PEERS.iter().map(|p| p.key()).collect();
                        format!("unknown peer {key:?} (known: {})", keys.join(", "))
                    })?;
                    if !peers.contains(peer) {
                        peers.push(*peer);
                    }
                }
                args.peers = PEERS.iter().copied().filter(|p| peers.contains(p)).collect();
            }
            "--budget-ms" => {
                let v = value("--budget-ms")?;
                let ms: u64 = v.parse().map_err(|_| format!("--budget-ms takes a number, not {v:?}"))?;
                args.plan = Plan::with_budget_ms(ms);
            }
            "--sanity-steps" => {
                let v = value("--sanity-steps")?;
                args.sanity_steps = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--sanity-steps takes a positive number, not {v:?}"))?;
            }
            "-h" | "--help" => {
                println!(
                    "usage: tinymlp-peers [--rounds N] [--filter SUBSTR[,..]] [--peers candle,burn-ndarray,burn-flex,dfdx] [--budget-ms MS] [--sanity-steps N]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
}

/// Relative tolerances for a first loss: (the same number up to the order of
/// summation, the same function at a lower precision somewhere).
fn tolerances(dtype: Dtype) -> (f64, f64) {
    match dtype {
        Dtype::F32 => (1e-5, 1e-3),
        Dtype::F64 => (1e-10, 1e-6),
    }
}

fn rel_diff(a: f64, b: f64) -> f64 {
    if a == b { 0.0 } else { (a - b).abs() / a.abs().max(b.abs()) }
}

/// A crate's runner for one workload, or why it has none.
type Slot = Result<Box<dyn Runner>, String>;

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    // One thread everywhere. candle reads RAYON_NUM_THREADS for its products'
    // parallelism, dfdx asks rayon's pool (sized by it), burn is built
    // without rayon. Set before any thread or pool exists.
    if std::env::var("RAYON_NUM_THREADS").as_deref() != Ok("1") {
        // SAFETY: no other thread exists yet (nothing has been spawned).
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    }
    let specs: Vec<Spec> = SPECS
        .iter()
        .copied()
        .filter(|s| args.filters.is_empty() || args.filters.iter().any(|f| s.name.contains(f.as_str())))
        .collect();
    if specs.is_empty() {
        eprintln!("error: no workload matches {:?}", args.filters);
        std::process::exit(2);
    }
    let load_before = sysinfo::load_average();
    println!("# tinymlp against the Rust peers, 1 thread");
    println!();
    println!("- date: {} UTC", sysinfo::utc_now());
    println!("- cpu: {}", sysinfo::cpu_model());
    println!(
        "- RAYON_NUM_THREADS=1; GLIBC_TUNABLES={}",
        std::env::var("GLIBC_TUNABLES").unwrap_or_else(|_| "(unset: glibc's default malloc)".into())
    );
    println!("- target features at build: {}", sysinfo::target_features());
    println!("- load average before: {load_before}");
    println!("- rounds: {}, about {} ms of samples per measurement", args.rounds, args.plan.budget.as_millis());
    println!();

    let problems: Vec<Problem> = specs.iter().map(|&s| Problem::new(s)).collect();
    let mut slots: Vec<Vec<Slot>> =
        problems.iter().map(|p| args.peers.iter().map(|&peer| peer.build(p)).collect()).collect();

    // Sanity 1: the same function. The first step's loss (computed before
    // the update) or the inference output must match tinymlp's.
    println!("## Sanity");
    println!();
    let tiny = args.peers.iter().position(|&p| p == Peer::Tinymlp).expect("tinymlp always runs");
    // (workload, peer, text): footnotes of the table.
    let mut notes: Vec<(usize, usize, String)> = Vec::new();
    for (w, problem) in problems.iter().enumerate() {
        let reference = match &mut slots[w][tiny] {
            Ok(runner) => runner.step_value(),
            Err(e) => panic!("tinymlp cannot run {}: {e}", problem.spec.name),
        };
        let what = if problem.spec.id == Id::Infer { "sum of outputs" } else { "first loss" };
        println!("- {}: tinymlp {what} {reference:.12e}", problem.spec.name);
        for (p, &peer) in args.peers.iter().enumerate() {
            if p == tiny {
                continue;
            }
            let (same, close) = tolerances(problem.spec.dtype);
            let verdict = match &mut slots[w][p] {
                Err(e) => Err(format!("cannot build: {e}")),
                Ok(runner) => match guarded(|| runner.step_value()) {
                    Err(e) => Err(format!("step failed: {e}")),
                    Ok(v) => {
                        let diff = rel_diff(v, reference);
                        if diff <= same {
                            Ok(format!("{v:.12e} (relative difference {diff:.1e}) ok"))
                        } else if diff <= close {
                            let note = format!(
                                "{} on {}: first loss differs from tinymlp's by {diff:.1e} (relative), more than \
                                 rounding in {:?}: part of it runs at a lower precision",
                                peer.key(),
                                problem.spec.name,
                                problem.spec.dtype
                            );
                            notes.push((w, p, note));
                            Ok(format!(
                                "{v:.12e} (relative difference {diff:.1e}) ok, lower precision [{}]",
                                notes.len()
                            ))
                        } else {
                            Err(format!("{v:.12e}: differs from tinymlp by {diff:.1e}, not the same workload"))
                        }
                    }
                },
            };
            match verdict {
                Ok(text) => println!("  - {}: {text}", peer.key()),
                Err(e) => {
                    println!("  - {}: {e}; not timed", peer.key());
                    slots[w][p] = Err(e);
                }
            }
        }
    }
    // Sanity 2: training works. Fresh runners on the sine workload.
    let sine = Problem::new(*SPECS.iter().find(|s| s.id == Id::Sine).expect("the sine workload"));
    println!(
        "- sine training, {} steps of Adam (lr 0.01) from the same start; the loss must fall below 0.9x its start:",
        args.sanity_steps
    );
    let mut sine_losses = Vec::new();
    for (p, &peer) in args.peers.iter().enumerate() {
        let outcome = peer.build(&sine).and_then(|mut runner| {
            guarded(|| {
                let first = runner.step_value();
                let mut last = first;
                for _ in 1..args.sanity_steps {
                    last = runner.step_value();
                }
                (first, last)
            })
        });
        let verdict = match outcome {
            Err(e) => Err(e),
            Ok((first, last)) if first.is_finite() && last.is_finite() && last < 0.9 * first => {
                sine_losses.push((peer, last));
                Ok(format!("loss {first:.6e} -> {last:.6e}"))
            }
            Ok((first, last)) => Err(format!("loss {first:.6e} -> {last:.6e}: training does not lower the loss")),
        };
        match verdict {
            Ok(text) => println!("  - {}: {text} ok", peer.key()),
            Err(e) => {
                println!("  - {}: BROKEN, not timed: {e}", peer.key());
                assert!(p != tiny, "tinymlp's own sine training fails: {e}");
                for row in &mut slots {
                    row[p] = Err(format!("broken: {e}"));
                }
            }
        }
    }
    if let Some(&(_, reference)) = sine_losses.iter().find(|(p, _)| *p == Peer::Tinymlp) {
        let diffs: Vec<String> = sine_losses
            .iter()
            .filter(|(p, _)| *p != Peer::Tinymlp)
            .map(|&(p, l)| format!("{} {:.1e}", p.key(), rel_diff(l, reference)))
            .collect();
        println!("  - loss after {} steps, relative difference to tinymlp's: {}", args.sanity_steps, diffs.join(", "));
    }
    println!();

    // Timing.
    let started = Instant::now();
    let (n_w, n_p) = (problems.len(), args.peers.len());
    // times[w][p][round] in microseconds
    let mut times = vec![vec![Vec::<f64>::new(); n_p]; n_w];
    let mut wall = times.clone();
    let mut other_thread_cpu = vec![0.0f64; n_p];
    for round in 0..args.rounds {
        for w in 0..n_w {
            for k in 0..n_p {
                let p = (k + round + w) % n_p;
                let Ok(runner) = &mut slots[w][p] else { continue };
                let cpu_before = sysinfo::cpu_seconds();
                match guarded(|| measure::time(args.plan, || runner.step())) {
                    Ok(timing) => {
                        times[w][p].push(timing.cpu * 1e6);
                        wall[w][p].push(timing.wall * 1e6);
                    }
                    Err(e) => {
                        println!("- {} on {}: {e}; dropped", args.peers[p].key(), problems[w].spec.name);
                        slots[w][p] = Err(e);
                    }
                }
                if let (Some(a), Some(b)) = (cpu_before, sysinfo::cpu_seconds()) {
                    other_thread_cpu[p] += (b.process - a.process) - (b.thread - a.thread);
                }
            }
        }
        eprintln!("round {}/{} done ({:.0} s)", round + 1, args.rounds, started.elapsed().as_secs_f64());
    }
    let load_after = sysinfo::load_average();

    println!(
        "## Time per training step (inference: per sample), µs of the timing thread's CPU time, median of {} \
         rounds; (x) = crate / tinymlp",
        args.rounds
    );
    println!();
    let mut header = String::from("| workload |");
    let mut rule = String::from("|---|");
    for peer in &args.peers {
        header += &format!(" {} |", peer.header());
        rule += "---:|";
    }
    println!("{header}\n{rule}");
    for (w, problem) in problems.iter().enumerate() {
        let mut line = format!("| {} |", problem.spec.label);
        for p in 0..n_p {
            let cell = match &slots[w][p] {
                Err(e) if times[w][p].is_empty() => format!("n/a ({})", short(e)),
                _ if p == tiny => fmt_us(median(&times[w][p])),
                _ => {
                    let ratios: Vec<f64> = times[w][p].iter().zip(&times[w][tiny]).map(|(t, r)| t / r).collect();
                    format!("{} ({})", fmt_us(median(&times[w][p])), fmt_ratio(median(&ratios)))
                }
            };
            let marks: String = notes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.0 == w && n.1 == p)
                .map(|(i, _)| format!(" [{}]", i + 1))
                .collect();
            let cell = cell + &marks;
            line += &format!(" {cell} |");
        }
        println!("{line}");
    }
    println!();
    for (i, (_, _, text)) in notes.iter().enumerate() {
        println!("[{}] {text}", i + 1);
    }
    if !notes.is_empty() {
        println!();
    }
    println!("Per round, µs of the timing thread's CPU time (and of wall-clock time):");
    println!();
    for (w, problem) in problems.iter().enumerate() {
        for (p, peer) in args.peers.iter().enumerate() {
            if times[w][p].is_empty() {
                continue;
            }
            let rounds: Vec<String> =
                times[w][p].iter().zip(&wall[w][p]).map(|(&t, &c)| format!("{} ({})", fmt_us(t), fmt_us(c))).collect();
            println!("- {} {}: {}", problem.spec.name, peer.key(), rounds.join(", "));
        }
    }
    println!();
    let others: Vec<String> =
        args.peers.iter().zip(&other_thread_cpu).map(|(p, s)| format!("{} {:.2} s", p.key(), s.max(0.0))).collect();
    println!("- CPU time spent on threads other than the timing one, while timing each crate: {}", others.join(", "));
    println!("- threads in the process at the end: {}", sysinfo::thread_count().map_or("?".into(), |n| n.to_string()));
    println!("- load average after: {load_after}");
    println!("- timing took {:.0} s", started.elapsed().as_secs_f64());
}

/// The first clause of an error, for a table cell.
fn short(e: &str) -> String {
    let first = e.split([':', '\n']).next().unwrap_or(e);
    first.chars().take(40).collect()
}

/// Microseconds with three significant digits (at least two decimals below 1).
fn fmt_us(us: f64) -> String {
    if us < 1.0 {
        format!("{us:.3}")
    } else if us < 10.0 {
        format!("{us:.2}")
    } else if us < 100.0 {
        format!("{us:.1}")
    } else {
        let n = us.round() as u64;
        if n >= 1000 { format!("{},{:03}", n / 1000, n % 1000) } else { n.to_string() }
    }
}

fn fmt_ratio(r: f64) -> String {
    if r < 10.0 { format!("{r:.2}x") } else { format!("{:.0}x", r.round()) }
}
