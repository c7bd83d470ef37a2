//! Per-cell cost of the Linux backend against bubblewrap alone, same run.
//!
//! - `bwrap_alone`: `bwrap --ro-bind / / --dev /dev true`, the floor.
//! - `linux_backend`: the full prepared command for the default config
//!   (user and IPC namespaces, private /tmp and /dev/shm, the exec stage
//!   applying Landlock and seccomp) running `true`.
//! - After the criterion group, a paired pass runs the two alternately and
//!   prints the median of the per-pair ratios: on a loaded machine the
//!   load drifts between criterion's two sequential measurements, while a
//!   pair shares it.
//!
//! Target: linux_backend <= 1.3x bwrap_alone. Needs the stage binary: run
//! `cargo build --release -p beltcheck-runner --bins` first (or set
//! BELTCHECK_STAGE). `BENCH_PAIRS` sets the paired pass's size
//! (default 200).

use criterion::{criterion_group, criterion_main, Criterion};

#[cfg(target_os = "linux")]
#[path = "support/timed.rs"]
mod timed;

#[cfg(target_os = "linux")]
mod imp {
    use super::timed::{paired, Cmd};
    use criterion::{Criterion, SamplingMode};
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    fn backend_cmd() -> Cmd {
        use profile::Config;
        use runner::launch::linux::LinuxLauncher;
        use runner::launch::{CommandSpec, Launcher};

        let launcher = LinuxLauncher::new().with_stage(stage_path());
        let config = Config::default();
        let cmd = CommandSpec {
            program: "/bin/true".into(),
            args: vec![],
        };
        let policy = launcher.compile(&config, None).expect("compile");
        let prepared = launcher.prepare(&policy, &cmd).expect("prepare");
        Cmd {
            program: prepared.command.program,
            args: prepared.command.args,
            env: prepared.env,
            pass_fd: prepared.pass_fd,
        }
    }

    pub fn bench(c: &mut Criterion) {
        let backend = backend_cmd();
        let floor = Cmd {
            program: backend.program.clone(),
            args: ["--ro-bind", "/", "/", "--dev", "/dev", "true"]
                .iter()
                .map(Into::into)
                .collect(),
            env: Vec::new(),
            pass_fd: None,
        };
        eprintln!("linux_backend: {:?} {:?}", backend.program, backend.args);

        let mut group = c.benchmark_group("linux_cell");
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(100);
        group.measurement_time(Duration::from_secs(15));
        group.bench_function("bwrap_alone", |b| b.iter(|| floor.run()));
        group.bench_function("linux_backend", |b| b.iter(|| backend.run()));
        group.finish();

        report_paired(&floor, &backend);
    }

    /// Prints the paired pass's medians, minima and ratios.
    fn report_paired(floor: &Cmd, backend: &Cmd) {
        let Some(p) = paired(floor, backend) else {
            return;
        };
        eprintln!(
            "linux_cell paired ({} pairs): bwrap_alone median {:.2} ms min {:.2} ms; \
             linux_backend median {:.2} ms min {:.2} ms; median of ratios {:.2}x; \
             ratio of medians {:.2}x; ratio of minima {:.2}x (target <= 1.3x)",
            p.pairs,
            p.base_median * 1e3,
            p.base_min * 1e3,
            p.other_median * 1e3,
            p.other_min * 1e3,
            p.ratio_median,
            p.other_median / p.base_median,
            p.other_min / p.base_min,
        );
    }

    fn stage_path() -> PathBuf {
        if let Some(p) = std::env::var_os("BELTCHECK_STAGE") {
            return p.into();
        }
        // target/<profile>/deps/linux_cell-* -> target/<profile>/beltcheck-stage,
        // falling back to the debug build.
        let exe = std::env::current_exe().expect("current exe");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
        let here = profile_dir.join("beltcheck-stage");
        if here.is_file() {
            return here;
        }
        profile_dir
            .parent()
            .expect("target root")
            .join("debug/beltcheck-stage")
    }
}

#[cfg(target_os = "linux")]
fn bench(c: &mut Criterion) {
    imp::bench(c)
}

#[cfg(not(target_os = "linux"))]
fn bench(_c: &mut Criterion) {}

criterion_group!(benches, bench);
criterion_main!(benches);
