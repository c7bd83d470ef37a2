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
mod imp {
    use criterion::{Criterion, SamplingMode};
    use profile::linux::{LinuxPolicy, Paths};
    use profile::path::HostEnv;
    use profile::Config;
    use runner::launch::linux::{LinuxLauncher, NetNamespace};
    use runner::launch::{CommandSpec, Launcher};
    use std::ffi::OsString;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// One command line and the descriptor it inherits, if any.
    struct Cmd {
        program: PathBuf,
        args: Vec<OsString>,
        pass_fd: Option<Arc<OwnedFd>>,
    }

    impl Cmd {
        /// Runs it to completion; panics unless it exits 0.
        fn run(&self) -> Duration {
            let mut command = Command::new(&self.program);
            command
                .args(&self.args)
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
        paired(&direct, &cli);
    }

    /// Runs the two alternately and prints medians and ratios.
    fn paired(direct: &Cmd, cli: &Cmd) {
        let pairs: usize = std::env::var("BENCH_PAIRS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200);
        if pairs == 0 {
            return;
        }
        let (mut d, mut r, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..pairs {
            // Alternate which goes first so neither always follows the other.
            let (td, tr) = if i % 2 == 0 {
                let td = direct.run();
                (td, cli.run())
            } else {
                let tr = cli.run();
                (direct.run(), tr)
            };
            ratio.push(tr.as_secs_f64() / td.as_secs_f64());
            d.push(td.as_secs_f64());
            r.push(tr.as_secs_f64());
        }
        let (md, mr) = (median(&mut d), median(&mut r));
        println!(
            "run_linux paired ({pairs} pairs): bwrap_direct median {:.2} ms; \
             beltcheck_run median {:.2} ms; median of ratios {:.2}x; \
             ratio of medians {:.2}x (target <= 1.5x)",
            md * 1e3,
            mr * 1e3,
            median(&mut ratio),
            mr / md,
        );
    }

    /// Sorts `v` and returns its median.
    fn median(v: &mut [f64]) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
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
