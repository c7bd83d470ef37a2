//! Matrix throughput on this host: full-matrix wall time and cells/s, the
//! per-cell cost against launching the same probe directly through the same
//! backend, --jobs 2 against --jobs 1, and the harness's peak RSS.
//!
//! A bench binary (harness = false) rather than criterion sampling: one full
//! matrix takes tens of seconds, so it is timed a few times, not hundreds.
//! Needs the bins built next to it:
//!   cargo build --release --workspace --bins && cargo bench --bench matrix
//! Env: BENCH_FULL=0 skips the full matrix; BENCH_DIRECT_N (default 128).

use beltcheck::matrix::{self, adapter, execute::Progress, Request};
use runner::launch::{Backend, CommandSpec, Sandbox};
use runner::pty::SessionOptions;
use std::time::{Duration, Instant};

fn matrix_wall(jobs: usize, probes: Option<Vec<String>>) -> (Duration, usize) {
    let req = Request {
        jobs,
        probes,
        progress: Progress::Quiet,
        ..Request::new()
    };
    let started = Instant::now();
    let report = matrix::run(&req).expect("matrix runs");
    (started.elapsed(), report.cells.len())
}

/// The same probe, same backend, same config, launched `n` times in a row
/// without the harness: the floor a cell cannot go below.
fn direct_per_launch(n: usize) -> Duration {
    let handle = adapter::BackendHandle::resolve(Backend::host_default());
    let probe = adapter::locate_probe(None).expect("beltcheck-probe built next to the bench");
    let config = profile::Config::default();
    let built = adapter::build_profile(&config).expect("default config builds");
    let sandbox = Sandbox {
        config: &config,
        profile: &built,
    };
    let cmd = CommandSpec {
        program: probe,
        args: vec!["sem".into()],
    };
    let mut opts = SessionOptions::detached();
    opts.timeout = Some(Duration::from_secs(10));
    let started = Instant::now();
    for _ in 0..n {
        runner::run_sandboxed(handle.launcher.as_ref(), &sandbox, &cmd, &opts)
            .expect("direct launch");
    }
    started.elapsed() / n as u32
}

fn peak_rss_mb() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let kb = if cfg!(target_os = "macos") {
        usage.ru_maxrss / 1024
    } else {
        usage.ru_maxrss
    };
    kb as f64 / 1024.0
}

fn main() {
    // `cargo bench` passes --bench; nothing to parse.
    let n: usize = std::env::var("BENCH_DIRECT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    let backend = Backend::host_default();
    println!(
        "backend: {backend}; cores: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    let direct = direct_per_launch(n);
    println!(
        "direct launch of `sem` through {backend}: {:.2} ms each ({n} runs)",
        direct.as_secs_f64() * 1e3
    );

    let sem = Some(vec!["sem".to_string()]);
    let (w1, cells) = matrix_wall(1, sem.clone());
    let per_cell = w1 / cells as u32;
    println!(
        "matrix --probes sem --jobs 1: {cells} cells in {:.2} s = {:.2} ms/cell; overhead vs direct: {:.2}x (target <= 1.3x)",
        w1.as_secs_f64(),
        per_cell.as_secs_f64() * 1e3,
        per_cell.as_secs_f64() / direct.as_secs_f64()
    );
    let (w2, _) = matrix_wall(2, sem);
    println!(
        "matrix --probes sem --jobs 2: {:.2} s; speed-up over --jobs 1: {:.2}x (target >= 1.7x)",
        w2.as_secs_f64(),
        w1.as_secs_f64() / w2.as_secs_f64()
    );

    if std::env::var("BENCH_FULL").as_deref() != Ok("0") {
        let (wf, cells) = matrix_wall(2, None);
        println!(
            "full matrix --jobs 2: {cells} cells in {:.1} s = {:.1} cells/s",
            wf.as_secs_f64(),
            cells as f64 / wf.as_secs_f64()
        );
    }
    println!(
        "peak RSS of the harness process: {:.1} MB (target <= 50 MB)",
        peak_rss_mb()
    );
}
