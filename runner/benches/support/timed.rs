//! Timing shared by the launch benchmarks (`runner/benches/linux_cell.rs`,
//! `benches/run_linux.rs`): one command run to completion, and a paired
//! pass that runs two commands alternately so each pair shares the
//! machine's load (criterion's sequential groups do not).

use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One command line with its extra environment and the descriptor it
/// inherits (the stage's policy), if any.
pub struct Cmd {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    pub pass_fd: Option<Arc<OwnedFd>>,
}

impl Cmd {
    /// Runs it to completion with null stdio; panics unless it exits 0.
    pub fn run(&self) -> Duration {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(fd) = &self.pass_fd {
            let fd = fd.as_raw_fd();
            // SAFETY: fcntl on a descriptor we own, in the forked child.
            unsafe {
                command.pre_exec(move || {
                    libc::fcntl(fd, libc::F_SETFD, 0);
                    Ok(())
                });
            }
        }
        let start = Instant::now();
        let status = command.status().expect("spawn");
        let took = start.elapsed();
        assert!(status.success(), "{:?} failed: {status}", self.program);
        took
    }
}

/// Seconds, from a paired pass.
pub struct Paired {
    pub pairs: usize,
    pub base_median: f64,
    pub base_min: f64,
    pub other_median: f64,
    pub other_min: f64,
    /// The median of the per-pair ratios other/base.
    pub ratio_median: f64,
}

/// Runs `base` and `other` alternately `BENCH_PAIRS` times (default 200;
/// 0 skips the pass and returns `None`).
pub fn paired(base: &Cmd, other: &Cmd) -> Option<Paired> {
    let pairs: usize = std::env::var("BENCH_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    if pairs == 0 {
        return None;
    }
    let (mut b, mut o, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..pairs {
        // Alternate which goes first so neither always follows the other.
        let (tb, to) = if i % 2 == 0 {
            let tb = base.run();
            (tb, other.run())
        } else {
            let to = other.run();
            (base.run(), to)
        };
        ratio.push(to.as_secs_f64() / tb.as_secs_f64());
        b.push(tb.as_secs_f64());
        o.push(to.as_secs_f64());
    }
    Some(Paired {
        pairs,
        base_median: median(&mut b),
        base_min: b[0],
        other_median: median(&mut o),
        other_min: o[0],
        ratio_median: median(&mut ratio),
    })
}

/// Sorts `v` and returns its median.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
