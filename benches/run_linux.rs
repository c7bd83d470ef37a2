//! `beltcheck run --backend linux -- true` against a direct bubblewrap
//! launch of the same policy, in the same run ("Speed kept", issue 13).
//!
//! - `bwrap_direct`: bubblewrap with the very view the launcher builds for
//!   the default config (namespaces, read-only root, private `/tmp` and
//!   `/dev/shm`), running `true` itself: bubblewrap's own cost.
//! - `bwrap_stage`: the launcher's prepared command (bubblewrap, then the
//!   exec stage applying Landlock and seccomp, then `true`), started
//!   directly.
//! - `beltcheck_run`: the whole CLI, `beltcheck run --backend linux -- true`
//!   (config, pty session, the prepared command, exit status).
//!
//! After criterion's group a paired pass runs `bwrap_direct` and
//! `beltcheck_run` alternately and prints both medians and the median of
//! the per-pair ratios (a pair shares the machine's load; criterion's
//! sequential groups do not). Target: `beltcheck_run` <= 1.5x
//! `bwrap_direct`.
//!
//! Needs the stage next to the benchmarked `beltcheck`: `cargo build
//! --release -p beltcheck-runner --bins` first. `BENCH_PAIRS` sets the
//! paired pass's size (default 200; 0 skips it).

use criterion::{criterion_group, criterion_main, Criterion};

#[cfg(target_os = "linux")]
#[path = "../runner/benches/support/timed.rs"]
mod timed;

#[cfg(target_os = "linux")]
mod imp {
    use super::timed;
    use criterion::{Criterion, SamplingMode};
    use profile::linux::{LinuxPolicy, Paths};
    use profile::path::HostEnv;
    use profile::Config;
    use runner::launch::linux::{LinuxLauncher, NetNamespace};
    use runner::launch::{CommandSpec, Launcher};
    use std::path::{Path, PathBuf};
    use std::time::Duration;
    use timed::{paired, Cmd};

    fn beltcheck() -> &'static Path {
        Path::new(env!("CARGO_BIN_EXE_beltcheck"))
    }

    fn stage() -> PathBuf {
        beltcheck().with_file_name("beltcheck-stage")
    }

    /// The launcher's prepared command for the default config.
    fn with_stage() -> Cmd {
        let launcher = LinuxLauncher::new().with_stage(stage());
        let policy = launcher.compile(&Config::default(), None).expect("compile");
        let cmd = CommandSpec {
            program: "/bin/true".into(),
            args: Vec::new(),
        };
        let prepared = launcher.prepare(&policy, &cmd).expect("prepare");
        Cmd {
            program: prepared.command.program,
            args: prepared.command.args,
            env: prepared.env,
            pass_fd: prepared.pass_fd,
        }
    }

    /// The same view, with bubblewrap running `true` itself.
    fn direct(bwrap: &Path) -> Cmd {
        let policy = LinuxPolicy::compile(
            &Config::default(),
            &HostEnv::current(),
            Paths::ResolvedOnHost,
        )
        .expect("compile");
        let netns = NetNamespace::for_policy(&policy, runner::stage::landlock_abi().ok());
        let cmd = CommandSpec {
            program: "/bin/true".into(),
            args: Vec::new(),
        };
        let mut args = LinuxLauncher::new().bwrap_args(&policy, netns, &stage(), 3, &cmd);
        let end = args
            .iter()
            .position(|a| a == "--")
            .expect("-- in bwrap args");
        args.truncate(end);
        args.extend(["--".into(), "/bin/true".into()]);
        Cmd {
            program: bwrap.to_path_buf(),
            args,
            env: Vec::new(),
            pass_fd: None,
        }
    }

    fn run_cli() -> Cmd {
        Cmd {
            program: beltcheck().to_path_buf(),
            args: ["run", "--backend", "linux", "--", "/bin/true"]
                .iter()
                .map(Into::into)
                .collect(),
            env: Vec::new(),
            pass_fd: None,
        }
    }

    pub fn bench(c: &mut Criterion) {
        assert!(
            stage().is_file(),
            "{} missing: cargo build --release -p beltcheck-runner --bins",
            stage().display()
        );
        let staged = with_stage();
        let direct = direct(&staged.program);
        let cli = run_cli();
        let mut group = c.benchmark_group("run_linux");
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(60);
        group.measurement_time(Duration::from_secs(10));
        group.bench_function("bwrap_direct", |b| b.iter(|| direct.run()));
        group.bench_function("bwrap_stage", |b| b.iter(|| staged.run()));
        group.bench_function("beltcheck_run", |b| b.iter(|| cli.run()));
        group.finish();
        report_paired(&direct, &cli);
    }

    /// Prints the paired pass's medians and ratios.
    fn report_paired(direct: &Cmd, cli: &Cmd) {
        let Some(p) = paired(direct, cli) else {
            return;
        };
        println!(
            "run_linux paired ({} pairs): bwrap_direct median {:.2} ms min {:.2} ms; \
             beltcheck_run median {:.2} ms min {:.2} ms; median of ratios {:.2}x; \
             ratio of medians {:.2}x (target <= 1.5x)",
            p.pairs,
            p.base_median * 1e3,
            p.base_min * 1e3,
            p.other_median * 1e3,
            p.other_min * 1e3,
            p.ratio_median,
            p.other_median / p.base_median,
        );
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
