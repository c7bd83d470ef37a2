//! Per-cell cost of the Linux backend against bubblewrap alone, same run.
//!
//! - `bwrap_alone`: `bwrap --ro-bind / / --dev /dev true`, the floor.
//! - `linux_backend`: the full prepared command for the default config
//!   (namespaces, private /tmp and /dev/shm, the exec stage applying Landlock
//!   and seccomp) running `true`.
//!
//! Target: linux_backend <= 1.3x bwrap_alone. Needs the stage binary: run
//! `cargo build -p beltcheck-runner --bins` first (or set BELTCHECK_STAGE).

use criterion::{criterion_group, criterion_main, Criterion};
use std::process::{Command, Stdio};

#[cfg(target_os = "linux")]
fn bench(c: &mut Criterion) {
    use profile::{Config, Profile};
    use runner::launch::linux::LinuxLauncher;
    use runner::launch::{CommandSpec, Launcher, Sandbox};

    let launcher = LinuxLauncher::new().with_stage(stage_path());
    let config = Config::default();
    let profile = Profile {
        sbpl: String::new(),
        params: Default::default(),
    };
    let cmd = CommandSpec {
        program: "/bin/true".into(),
        args: vec![],
    };
    let prepared = launcher
        .prepare(
            &Sandbox {
                config: &config,
                profile: &profile,
            },
            &cmd,
        )
        .expect("prepare");
    let run = |program: &std::path::Path,
               args: &[std::ffi::OsString],
               env: &[(std::ffi::OsString, std::ffi::OsString)]| {
        let status = Command::new(program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("spawn");
        assert!(status.success(), "{program:?} failed: {status}");
    };
    let bwrap = prepared.command.program.clone();
    let floor: Vec<std::ffi::OsString> = ["--ro-bind", "/", "/", "--dev", "/dev", "true"]
        .iter()
        .map(Into::into)
        .collect();

    let mut group = c.benchmark_group("linux_cell");
    group.sample_size(30);
    group.bench_function("bwrap_alone", |b| b.iter(|| run(&bwrap, &floor, &[])));
    group.bench_function("linux_backend", |b| {
        b.iter(|| {
            run(
                &prepared.command.program,
                &prepared.command.args,
                &prepared.env,
            )
        })
    });
    group.finish();
}

#[cfg(target_os = "linux")]
fn stage_path() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("BELTCHECK_STAGE") {
        return p.into();
    }
    // target/<profile>/deps/linux_cell-* -> target/<profile>/beltcheck-stage,
    // falling back to the debug build.
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let here = profile_dir.join("beltcheck-stage");
    if here.is_file() {
        return here;
    }
    profile_dir
        .parent()
        .expect("target root")
        .join("debug/beltcheck-stage")
}

#[cfg(not(target_os = "linux"))]
fn bench(_c: &mut Criterion) {}

criterion_group!(benches, bench);
criterion_main!(benches);
