//! Timing, with the scheme of tinymlp's `benches/train_step.rs`: warm up,
//! then samples of many calls, the median time per call over the samples.

use std::time::{Duration, Instant};

/// How long to measure one (crate, workload) pair in one round.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub warmup: Duration,
    /// Target length of one sample (a sample is at least one call).
    pub sample: Duration,
    /// At least this many clean samples, then more until `budget` is spent.
    pub min_samples: usize,
    pub max_samples: usize,
    pub budget: Duration,
}

impl Default for Plan {
    fn default() -> Self {
        Self::with_budget_ms(400)
    }
}

impl Plan {
    /// A plan spending about `ms` milliseconds on samples (and a quarter of
    /// that warming up).
    pub fn with_budget_ms(ms: u64) -> Self {
        Self {
            warmup: Duration::from_millis(ms / 4),
            sample: Duration::from_millis((ms / 30).max(1)),
            min_samples: 7,
            max_samples: 61,
            budget: Duration::from_millis(ms),
        }
    }
}

/// For the wall-clock median, a sample is kept only if the thread ran for at
/// least this share of it (when at least three such samples exist).
const MIN_ON_CPU: f64 = 0.95;

/// CPU time of `clock` (a POSIX CPU-time clock) in nanoseconds.
///
/// Not `/proc/thread-self/schedstat`: read by the running thread it lags by
/// up to a scheduler tick (4 ms here), which snaps short samples to multiples
/// of the tick; `clock_gettime` brings the running thread's time up to date.
pub fn cpu_clock_ns(clock: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// Nanoseconds of CPU time this thread has used.
fn thread_on_cpu_ns() -> Option<u64> {
    cpu_clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// The median of `values` (NaN for none).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Seconds per call of `call`: the median over samples of the thread's own
/// CPU time (`CLOCK_THREAD_CPUTIME_ID`), and of the wall-clock time.
///
/// On a machine shared with other processes the wall-clock time also counts
/// the time another process held the CPU; the thread's CPU time does not, and
/// equals the wall-clock time when the thread runs alone. It measures the
/// whole of the work only when no other thread helps, which `main` checks (it
/// reports the CPU time of the other threads).
pub struct Timing {
    pub cpu: f64,
    pub wall: f64,
}

pub fn time(plan: Plan, mut call: impl FnMut()) -> Timing {
    let start = Instant::now();
    let mut warm_calls = 0u32;
    while warm_calls < 3 || start.elapsed() < plan.warmup {
        call();
        warm_calls += 1;
    }
    let per_call = start.elapsed().as_secs_f64() / f64::from(warm_calls);
    let calls = if per_call > 0.0 { (plan.sample.as_secs_f64() / per_call).ceil().max(1.0) as u64 } else { 1 };
    // (wall seconds per call, CPU seconds per call, share of the sample spent on a CPU)
    let mut samples: Vec<(f64, f64, f64)> = Vec::with_capacity(plan.max_samples);
    let clean = |samples: &[(f64, f64, f64)]| samples.iter().filter(|s| s.2 >= MIN_ON_CPU).count();
    let started = Instant::now();
    while samples.len() < plan.max_samples
        && (clean(&samples) < plan.min_samples || started.elapsed() < plan.budget)
        && (samples.len() < plan.min_samples || started.elapsed() < 4 * plan.budget)
    {
        let cpu_before = thread_on_cpu_ns();
        let t = Instant::now();
        for _ in 0..calls {
            call();
        }
        let wall = t.elapsed();
        let cpu = match (cpu_before, thread_on_cpu_ns()) {
            (Some(a), Some(b)) => b.saturating_sub(a) as f64 * 1e-9,
            _ => wall.as_secs_f64(),
        };
        let wall = wall.as_secs_f64();
        let on_cpu = if wall > 0.0 { cpu / wall } else { 1.0 };
        samples.push((wall / calls as f64, cpu / calls as f64, on_cpu));
    }
    let wall: Vec<f64> = samples.iter().map(|s| s.0).collect();
    let cpu: Vec<f64> = samples.iter().map(|s| s.1).collect();
    let clean_wall: Vec<f64> = samples.iter().filter(|s| s.2 >= MIN_ON_CPU).map(|s| s.0).collect();
    // Wall-clock: the clean samples when there are enough, else all of them.
    Timing { cpu: median(&cpu), wall: median(if clean_wall.len() >= 3 { &clean_wall } else { &wall }) }
}
