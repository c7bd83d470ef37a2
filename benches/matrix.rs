//! Matrix throughput on this host: full-matrix wall time and cells/s, the
//! per-cell cost against launching the same probe directly through the same
//! backend, --jobs 2 against --jobs 1, and the harness's peak RSS.
//!
//! A bench binary (harness = false) rather than criterion sampling: one full
//! matrix takes tens of seconds, so it is timed a few times, not hundreds.
//! The full matrix runs as the real `beltcheck matrix` process, so its peak
//! RSS is the harness's own (this bench process also holds the in-process
//! runs above it). Needs the bins built next to it:
//!   cargo build --release --workspace --bins && cargo bench --bench matrix
//! Env: BENCH_FULL=0 skips the full matrix; BENCH_DIRECT_N (default 128).

use beltcheck::cmd::matrix::{run_request, Request};
use beltcheck::matrix::{adapter, execute::Progress};
use runner::launch::{Backend, CommandSpec};
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
    let report = run_request(&req).expect("matrix runs");
    (started.elapsed(), report.cells.len())
}

/// The same probe, same backend, same config, launched `n` times in a row
/// without the harness: the floor a cell cannot go below.
fn direct_per_launch(n: usize) -> Duration {
    let handle = adapter::BackendHandle::resolve(Backend::host_default());
    let probe = adapter::locate_probe(None).expect("beltcheck-probe built next to the bench");
    let config = profile::Config::default();
    let policy = handle
        .launcher
        .compile(&config, profile::Program::at(&probe))
        .expect("default config compiles");
    let cmd = CommandSpec {
        program: probe,
        args: vec!["sem".into()],
    };
    let mut opts = SessionOptions::detached();
    opts.timeout = Some(Duration::from_secs(10));
    let started = Instant::now();
    for _ in 0..n {
        runner::run_sandboxed(handle.launcher.as_ref(), &policy, &cmd, &opts)
            .expect("direct launch");
    }
    started.elapsed() / n as u32
}

/// `beltcheck matrix --jobs N` as its own process: wall time, cells (from
/// the report) and the process's peak RSS in MB.
// Reaped by wait4 below (which also returns its rusage), not Child::wait.
#[allow(clippy::zombie_processes)]
fn cli_matrix(jobs: usize) -> (Duration, usize, f64) {
    let out = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(["matrix", "--quiet", "--jobs", &jobs.to_string(), "--out"])
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn beltcheck matrix");
    let mut status = 0;
    // SAFETY: rusage is plain data filled by wait4 for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes `status` and `usage`, both ours, for our own child.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert!(pid > 0, "wait4: {}", std::io::Error::last_os_error());
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.path().join("report.json")).expect("report.json written"),
    )
    .expect("report.json parses");
    let cells = report["cells"].as_array().map_or(0, Vec::len);
    let kb = if cfg!(target_os = "macos") {
        usage.ru_maxrss / 1024
    } else {
        usage.ru_maxrss
    };
    (wall, cells, kb as f64 / 1024.0)
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
    if std::env::var("BENCH_FULL").as_deref() == Ok("0") {
        return;
    }
    let (f1, cells, rss1) = cli_matrix(1);
    let (f2, _, rss2) = cli_matrix(2);
    println!(
        "full matrix --jobs 1: {cells} cells in {:.1} s = {:.1} cells/s",
        f1.as_secs_f64(),
        cells as f64 / f1.as_secs_f64()
    );
    println!(
        "full matrix --jobs 2: {:.1} s = {:.1} cells/s; speed-up over --jobs 1: {:.2}x (target >= 1.7x)",
        f2.as_secs_f64(),
        cells as f64 / f2.as_secs_f64(),
        f1.as_secs_f64() / f2.as_secs_f64()
    );
    println!(
        "peak RSS of the `beltcheck matrix` process: {:.1} MB at --jobs 1, {:.1} MB at --jobs 2 (target <= 50 MB)",
        rss1, rss2
    );
}
