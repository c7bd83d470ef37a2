//! Session overhead: `runner::pty::run` of `/bin/true` against spawning
//! `/bin/true` directly with std, in the same run. Target (issue 5): at most
//! 2 ms more per launch, median.

use std::process::{Command, Stdio};

use criterion::{criterion_group, criterion_main, Criterion};
use runner::launch::CommandSpec;
use runner::pty::{self, SessionOptions, SignalPolicy};

fn overhead(c: &mut Criterion) {
    let truth = CommandSpec {
        program: "/bin/true".into(),
        args: vec![],
    };
    let mut group = c.benchmark_group("session_overhead");
    group.bench_function("std_command_true", |b| {
        b.iter(|| {
            let status = Command::new("/bin/true")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
        })
    });
    group.bench_function("pty_run_true_detached", |b| {
        let opts = SessionOptions::detached();
        b.iter(|| assert_eq!(pty::run(&truth, &opts).unwrap().code, 0))
    });
    group.bench_function("pty_run_true_signal_registration", |b| {
        let opts = SessionOptions {
            signals: SignalPolicy::TerminateSession,
            ..SessionOptions::detached()
        };
        b.iter(|| assert_eq!(pty::run(&truth, &opts).unwrap().code, 0))
    });
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
