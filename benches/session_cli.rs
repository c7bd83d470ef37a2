//! Session overhead as a user sees it (issue 5): `beltcheck run --backend
//! none -- true` against spawning `true` directly, in alternating pairs on
//! the same machine in the same run. Target: at most 1.5 ms extra, median (issues 13 and 14).
//!
//! A bench binary (harness = false): the figure is a median over many
//! interleaved pairs, which is steadier on a shared host than means of
//! separate batches. Env: BENCH_PAIRS (default 1000).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn time(cmd: &mut Command) -> Duration {
    let started = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn");
    let took = started.elapsed();
    assert!(status.success(), "{cmd:?}: {status}");
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let pairs: usize = std::env::var("BENCH_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let beltcheck = env!("CARGO_BIN_EXE_beltcheck");
    let run = || {
        let mut c = Command::new(beltcheck);
        c.args(["run", "--backend", "none", "--", "true"]);
        c
    };
    // Warm the page cache and the dynamic loader for both.
    for _ in 0..20 {
        time(&mut run());
        time(&mut Command::new("true"));
    }
    let (mut direct, mut session, mut extra) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..pairs {
        // Alternate which goes first so neither always follows the other.
        let (d, s) = if i % 2 == 0 {
            let d = time(&mut Command::new("true"));
            (d, time(&mut run()))
        } else {
            let s = time(&mut run());
            (time(&mut Command::new("true")), s)
        };
        direct.push(d);
        session.push(s);
        extra.push(s.saturating_sub(d));
    }
    let (d, s, e) = (median(direct), median(session), median(extra));
    println!("{pairs} interleaved pairs");
    println!(
        "`true` directly:                        median {:.3} ms",
        ms(d)
    );
    println!(
        "`beltcheck run --backend none -- true`: median {:.3} ms",
        ms(s)
    );
    println!(
        "extra per launch: median of pair differences {:.3} ms, difference of medians {:.3} ms (target <= 1.5 ms)",
        ms(e),
        ms(s.saturating_sub(d))
    );
}
