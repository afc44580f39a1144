//! What the process can learn about the machine and itself (Linux: /proc and
//! the POSIX CPU-time clocks).

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

pub fn cpu_model() -> String {
    let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = text
        .lines()
        .find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned()));
    let field = |name: &str| {
        text.lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
            .and_then(|l| l.split(':').nth(1))
            .map_or("?".to_owned(), |v| v.trim().to_owned())
    };
    let cores = text.lines().filter(|l| l.starts_with("processor")).count();
    let flags = field("flags");
    let simd: Vec<&str> =
        ["avx2", "fma", "avx512f"].into_iter().filter(|f| flags.split_whitespace().any(|g| g == *f)).collect();
    format!(
        "{} (family {}, model {}), {cores} logical CPUs, {}",
        model.unwrap_or_else(|| "?".into()),
        field("cpu family"),
        field("model"),
        simd.join("+")
    )
}

pub fn target_features() -> String {
    let on: Vec<&str> = [
        ("sse2", cfg!(target_feature = "sse2")),
        ("avx", cfg!(target_feature = "avx")),
        ("avx2", cfg!(target_feature = "avx2")),
        ("fma", cfg!(target_feature = "fma")),
        ("avx512f", cfg!(target_feature = "avx512f")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    format!(
        "{} (no -C target-cpu; the matrix products of all five crates pick their SIMD kernels at run time)",
        on.join(",")
    )
}

pub fn thread_count() -> Option<usize> {
    std::fs::read_dir("/proc/self/task").ok().map(|d| d.count())
}

/// CPU seconds used by the whole process and by the calling thread.
pub struct Cpu {
    pub process: f64,
    pub thread: f64,
}

pub fn cpu_seconds() -> Option<Cpu> {
    let seconds = |clock| crate::measure::cpu_clock_ns(clock).map(|ns| ns as f64 * 1e-9);
    Some(Cpu { process: seconds(libc::CLOCK_PROCESS_CPUTIME_ID)?, thread: seconds(libc::CLOCK_THREAD_CPUTIME_ID)? })
}

/// The current UTC date and time, `YYYY-MM-DD HH:MM`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", rem / 3600, rem % 3600 / 60)
}
