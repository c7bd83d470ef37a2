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
//! BELTCHECK_STAGE). `BELTCHECK_BENCH_PAIRS` sets the paired pass's size
//! (default 200).

use criterion::{criterion_group, criterion_main, Criterion};

#[cfg(target_os = "linux")]
mod imp {
    use criterion::{Criterion, SamplingMode};
    use std::ffi::OsString;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// One command line with its extra environment and the descriptor it
    /// inherits (the stage's policy).
    struct Cmd {
        program: PathBuf,
        args: Vec<OsString>,
        env: Vec<(OsString, OsString)>,
        pass_fd: Option<Arc<OwnedFd>>,
    }

    impl Cmd {
        /// Runs it to completion; panics unless it exits 0.
        fn run(&self) -> Duration {
            let start = Instant::now();
            let mut command = Command::new(&self.program);
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
            let status = command
                .args(&self.args)
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .status()
                .expect("spawn");
            let took = start.elapsed();
            assert!(status.success(), "{:?} failed: {status}", self.program);
            took
        }
    }

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

        paired(&floor, &backend);
    }

    /// Runs floor and backend alternately and prints the median per-pair ratio
    /// and both medians.
    fn paired(floor: &Cmd, backend: &Cmd) {
        let pairs: usize = std::env::var("BELTCHECK_BENCH_PAIRS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200);
        if pairs == 0 {
            return;
        }
        let (mut f, mut b, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..pairs {
            // Alternate which goes first so neither always runs after the other.
            let (tf, tb) = if i % 2 == 0 {
                let tf = floor.run();
                (tf, backend.run())
            } else {
                let tb = backend.run();
                (floor.run(), tb)
            };
            ratio.push(tb.as_secs_f64() / tf.as_secs_f64());
            f.push(tf.as_secs_f64());
            b.push(tb.as_secs_f64());
        }
        let (mf, mb) = (median(&mut f), median(&mut b));
        eprintln!(
            "linux_cell paired ({pairs} pairs): bwrap_alone median {:.2} ms min {:.2} ms; \
             linux_backend median {:.2} ms min {:.2} ms; median of ratios {:.2}x; \
             ratio of medians {:.2}x; ratio of minima {:.2}x (target <= 1.3x)",
            mf * 1e3,
            f[0] * 1e3,
            mb * 1e3,
            b[0] * 1e3,
            median(&mut ratio),
            mb / mf,
            b[0] / f[0],
        );
    }

    /// Sorts `v` and returns its median.
    fn median(v: &mut [f64]) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
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
