//! Timing, with the scheme of tinymlp's `benches/train_step.rs`: warm up,
//! then samples of many calls, the median time per call over the samples,
//! dropping samples during which the thread was descheduled.

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

/// A sample is kept only if the thread ran for at least this share of it.
const MIN_ON_CPU: f64 = 0.95;

/// Nanoseconds this thread has run, from Linux's schedstat.
fn thread_on_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
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

/// Median seconds per call of `call`.
pub fn time(plan: Plan, mut call: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut warm_calls = 0u32;
    while warm_calls < 3 || start.elapsed() < plan.warmup {
        call();
        warm_calls += 1;
    }
    let per_call = start.elapsed().as_secs_f64() / f64::from(warm_calls);
    let calls = if per_call > 0.0 { (plan.sample.as_secs_f64() / per_call).ceil().max(1.0) as u64 } else { 1 };
    // (seconds per call, share of the sample spent on a CPU)
    let mut samples: Vec<(f64, f64)> = Vec::with_capacity(plan.max_samples);
    let clean = |samples: &[(f64, f64)]| samples.iter().filter(|s| s.1 >= MIN_ON_CPU).count();
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
        let on_cpu = match (cpu_before, thread_on_cpu_ns()) {
            (Some(a), Some(b)) if !wall.is_zero() => b.saturating_sub(a) as f64 / wall.as_nanos() as f64,
            _ => 1.0,
        };
        samples.push((wall.as_secs_f64() / calls as f64, on_cpu));
    }
    let mut kept: Vec<f64> = samples.iter().filter(|s| s.1 >= MIN_ON_CPU).map(|s| s.0).collect();
    if kept.len() < 3 {
        // Too few clean samples: use them all rather than report nothing.
        kept = samples.iter().map(|s| s.0).collect();
    }
    median(&kept)
}
