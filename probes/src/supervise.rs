//! Runs a probe body on a worker thread under a deadline.
//!
//! A call that hangs (a mach message nobody answers, a blocking read) must
//! come back as `error` / `timeout`, never hang the harness. The body runs on
//! its own thread; on timeout the supervisor runs the cleanups the body
//! registered and reports, leaving the stuck thread behind. The binary then
//! exits the process, which ends that thread.

use std::sync::mpsc;
use std::time::Instant;

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::Outcome;
use crate::report::{ProbeReport, Verdict};

/// A probe body: does the work, reports steps and cleanups through `Ctx`.
pub type Body = fn(&ProbeArgs, &Ctx) -> Outcome;

/// Run `body` with `args.timeout` as its limit and build the report.
///
/// Guarantees: returns within about `args.timeout` (plus the time abandoned
/// cleanups take); a timeout is `error` with detail `timeout` and the step the
/// body was at; a panicking body is `error` with detail `probe panicked`.
pub fn supervise(probe: &'static str, body: Body, args: &ProbeArgs) -> ProbeReport {
    let start = Instant::now();
    let ctx = Ctx::new(args.timeout);
    let (tx, rx) = mpsc::channel();
    let worker_ctx = ctx.clone();
    let worker_args = args.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("probe-{probe}"))
        .spawn(move || {
            let outcome = body(&worker_args, &worker_ctx);
            // The supervisor may have given up already; nothing to do then.
            let _ = tx.send(outcome);
        });
    let outcome = match spawned {
        Err(e) => Err(crate::sys::io_failure("spawn-worker", &e, "thread spawn")),
        Ok(_) => match rx.recv_timeout(args.timeout) {
            Ok(outcome) => outcome,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let step = ctx.current_step();
                ctx.run_abandoned_cleanups();
                Err(crate::outcome::Failure::plain(
                    Verdict::Error,
                    step,
                    "timeout",
                ))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let step = ctx.current_step();
                ctx.run_abandoned_cleanups();
                Err(crate::outcome::Failure::plain(
                    Verdict::Error,
                    step,
                    "probe panicked",
                ))
            }
        },
    };
    let duration_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    match outcome {
        Ok(s) => ProbeReport {
            probe: probe.to_string(),
            verdict: Verdict::Allowed,
            errno: None,
            step: s.step.to_string(),
            detail: s.detail,
            duration_us,
            stage: crate::report::stage_status(),
        },
        Err(f) => ProbeReport {
            probe: probe.to_string(),
            verdict: f.verdict,
            errno: f.code,
            step: f.step.to_string(),
            detail: f.detail,
            duration_us,
            stage: crate::report::stage_status(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    static CLEANED: AtomicBool = AtomicBool::new(false);

    fn hangs(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
        ctx.step("hang");
        let _guard = ctx.cleanup(|| CLEANED.store(true, Ordering::SeqCst));
        std::thread::sleep(Duration::from_secs(30));
        crate::outcome::allowed("hang", "")
    }

    #[test]
    fn a_hanging_body_times_out_and_cleans_up() {
        let args = ProbeArgs {
            timeout: Duration::from_millis(100),
            ..ProbeArgs::default()
        };
        let started = Instant::now();
        let r = supervise("hang", hangs, &args);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(r.verdict, Verdict::Error);
        assert_eq!(r.detail, "timeout");
        assert_eq!(r.step, "hang");
        assert!(CLEANED.load(Ordering::SeqCst));
    }

    #[test]
    fn a_cleanup_runs_once_when_the_guard_drops() {
        let ctx = Ctx::new(Duration::from_secs(1));
        let count = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let c = count.clone();
        drop(ctx.cleanup(move || {
            c.fetch_add(1, Ordering::SeqCst);
        }));
        ctx.run_abandoned_cleanups();
        assert_eq!(count.load(Ordering::SeqCst), 1);
        let c = count.clone();
        ctx.cleanup(move || {
            c.fetch_add(1, Ordering::SeqCst);
        })
        .dismiss();
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
}
