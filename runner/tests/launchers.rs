//! `run_sandboxed` over the launchers that run on this host, and the
//! launcher table.

use profile::{Config, Policy, Program};
use runner::channel::StageStatus;
use runner::launch::none::NoneLauncher;
use runner::launch::{
    self, Availability, Backend, CommandSpec, Ctty, LaunchError, LaunchVerdict, Launcher, Prepared,
};
use runner::pty::{RunError, SessionOptions, StatusChannel, VerdictChannel};

fn sh(script: &str) -> CommandSpec {
    CommandSpec {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
    }
}

#[test]
fn none_runs_the_command_unchanged_and_never_claims_enforcement() {
    let sandbox = Policy::Unsandboxed;
    let (out, verdict) = runner::run_sandboxed(
        &NoneLauncher,
        &sandbox,
        &sh("printf hi; exit 4"),
        &SessionOptions::detached(),
    )
    .unwrap();
    assert_eq!((out.code, out.output.as_slice()), (4, &b"hi"[..]));
    assert_eq!(verdict, LaunchVerdict::NotEnforced);
    assert!(matches!(
        NoneLauncher.availability(),
        Availability::Unavailable { .. }
    ));
}

#[test]
fn launcher_table_returns_each_backend() {
    for b in [Backend::Seatbelt, Backend::Linux, Backend::None] {
        assert_eq!(launch::launcher(b).backend(), b);
    }
}

/// A launcher that wraps the command in `env VAR=…`, adds environment, and
/// may fail or carry a preflight verdict, to observe what run_sandboxed does.
struct Fake {
    fail: bool,
    preflight: Option<LaunchVerdict>,
}

impl Launcher for Fake {
    fn backend(&self) -> Backend {
        Backend::Seatbelt
    }
    fn availability(&self) -> Availability {
        Availability::Enforcing {
            detail: "fake".into(),
        }
    }
    fn compile(&self, _config: &Config, _program: Option<Program>) -> Result<Policy, LaunchError> {
        Ok(Policy::Unsandboxed)
    }

    fn prepare(&self, _policy: &Policy, cmd: &CommandSpec) -> Result<Prepared, LaunchError> {
        if self.fail {
            return Err(LaunchError::Unavailable {
                reason: "no fake today".into(),
            });
        }
        let mut args = vec!["WRAPPED=yes".into(), cmd.program.clone().into_os_string()];
        args.extend(cmd.args.iter().cloned());
        Ok(Prepared {
            command: CommandSpec {
                program: "/usr/bin/env".into(),
                args,
            },
            env: vec![("FROM_LAUNCHER".into(), "1".into())],
            status: StatusChannel::Off,
            ctty: Ctty::Spawned,
            pass_fd: None,
            keep_alive: Vec::new(),
        })
    }
    fn classify(
        &self,
        _cmd: &CommandSpec,
        _stage: &StageStatus,
        code: i32,
        output: &[u8],
    ) -> LaunchVerdict {
        if code == 65 {
            LaunchVerdict::ProfileError {
                message: String::from_utf8_lossy(output).into_owned(),
            }
        } else {
            LaunchVerdict::Enforced
        }
    }
    fn preflight(&self) -> Option<LaunchVerdict> {
        self.preflight.clone()
    }
}

#[test]
fn run_sandboxed_runs_the_prepared_command_with_its_env_and_classifies() {
    let sandbox = Policy::Unsandboxed;
    let fake = Fake {
        fail: false,
        preflight: None,
    };
    let script = sh("printf '%s %s' \"$WRAPPED\" \"$FROM_LAUNCHER\"; exit 65");
    let (out, verdict) =
        runner::run_sandboxed(&fake, &sandbox, &script, &SessionOptions::detached()).unwrap();
    assert_eq!(out.output, b"yes 1");
    assert_eq!(
        verdict,
        LaunchVerdict::ProfileError {
            message: "yes 1".into()
        }
    );

    let nested = Fake {
        fail: false,
        preflight: Some(LaunchVerdict::Nested {
            message: "inside".into(),
        }),
    };
    let (_, verdict) = runner::run_sandboxed(
        &nested,
        &sandbox,
        &sh("exit 0"),
        &SessionOptions::detached(),
    )
    .unwrap();
    assert_eq!(
        verdict,
        LaunchVerdict::Nested {
            message: "inside".into()
        }
    );
}

#[test]
fn launcher_failure_names_the_backend_and_reason() {
    let sandbox = Policy::Unsandboxed;
    let err = runner::run_sandboxed(
        &Fake {
            fail: true,
            preflight: None,
        },
        &sandbox,
        &sh("true"),
        &SessionOptions::detached(),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        RunError::Launch {
            backend: Backend::Seatbelt,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "backend seatbelt: backend unavailable: no fake today"
    );
}

/// `bash -c SCRIPT`: POSIX sh may refuse descriptor numbers above 9 in
/// redirections (dash does), and concurrent tests open many.
fn bash(script: &str) -> CommandSpec {
    CommandSpec {
        program: "bash".into(),
        args: vec!["-c".into(), script.into()],
    }
}

/// A launcher that runs the workload through the real exec stage with no
/// policy (`beltcheck-stage -- CMD`), as the seatbelt launcher does under
/// sandbox-exec, so the stage's status channel is exercised on every host.
struct Staged;

impl Launcher for Staged {
    fn backend(&self) -> Backend {
        Backend::Seatbelt
    }
    fn availability(&self) -> Availability {
        Availability::Enforcing {
            detail: "stage only".into(),
        }
    }
    fn compile(&self, _config: &Config, _program: Option<Program>) -> Result<Policy, LaunchError> {
        Ok(Policy::Unsandboxed)
    }
    fn prepare(&self, _policy: &Policy, cmd: &CommandSpec) -> Result<Prepared, LaunchError> {
        Ok(Prepared {
            command: launch::seatbelt::staged(env!("CARGO_BIN_EXE_beltcheck-stage").as_ref(), cmd),
            env: Vec::new(),
            status: StatusChannel::FromStage,
            ctty: Ctty::Spawned,
            pass_fd: None,
            keep_alive: Vec::new(),
        })
    }
    fn classify(
        &self,
        cmd: &CommandSpec,
        stage: &StageStatus,
        code: i32,
        output: &[u8],
    ) -> LaunchVerdict {
        launch::seatbelt::classify_launch(cmd, stage, code, output)
    }
}

fn staged_run(
    cmd: &CommandSpec,
    opts: &SessionOptions,
) -> (runner::pty::SessionOutcome, LaunchVerdict) {
    runner::run_sandboxed(&Staged, &Policy::Unsandboxed, cmd, opts).unwrap()
}

#[test]
fn the_stage_reports_a_missing_and_a_non_executable_command() {
    let missing = CommandSpec {
        program: "beltcheck-no-such-command".into(),
        args: Vec::new(),
    };
    let (out, verdict) = staged_run(&missing, &SessionOptions::detached());
    assert_eq!(out.code, 127);
    assert!(
        matches!(&verdict, LaunchVerdict::ExecFailed(f) if f.errno == libc::ENOENT),
        "{verdict:?}"
    );
    // Nothing on the pty: the message is the runner's to print.
    assert_eq!(out.output, b"");
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    std::fs::write(&plain, b"data").unwrap();
    let (out, verdict) = staged_run(
        &CommandSpec {
            program: plain,
            args: Vec::new(),
        },
        &SessionOptions::detached(),
    );
    assert_eq!(out.code, 126);
    assert!(
        matches!(&verdict, LaunchVerdict::ExecFailed(f) if f.errno == libc::EACCES),
        "{verdict:?}"
    );
}

#[test]
fn what_the_workload_prints_is_never_the_stage_status() {
    let (out, verdict) = staged_run(
        &bash("echo 'beltcheck-stage: boom'; echo 'sandbox-exec: x line 3'; echo 'exec-failed 2'; exit 65"),
        &SessionOptions::detached(),
    );
    assert_eq!(out.code, 65);
    assert_eq!(verdict, LaunchVerdict::Enforced);
    assert_eq!(out.channel.stage, StageStatus::Started);
}

#[test]
fn the_status_channel_does_not_reach_the_workload_unless_it_carries_the_verdict() {
    let probe = bash("echo \"fd=${BELTCHECK_STATUS_FD:-none}\"; if [ -n \"$BELTCHECK_VERDICT_FD\" ]; then echo 'verdict {\"x\":1}' >&\"$BELTCHECK_VERDICT_FD\"; fi; echo 'verdict {\"fake\":1}'");
    let (out, _) = staged_run(&probe, &SessionOptions::detached());
    assert_eq!(out.output, b"fd=none\nverdict {\"fake\":1}\n");
    assert_eq!(out.channel.verdict, None);
    let mut opts = SessionOptions::detached();
    opts.channel.verdict = VerdictChannel::ToWorkload;
    let (out, verdict) = staged_run(&probe, &opts);
    assert_eq!(verdict, LaunchVerdict::Enforced);
    assert_eq!(out.channel.verdict.as_deref(), Some("{\"x\":1}"));
}

#[test]
fn none_gets_the_verdict_channel_without_a_stage() {
    let mut opts = SessionOptions::detached();
    opts.channel.verdict = VerdictChannel::ToWorkload;
    let out = runner::pty::run(
        &bash("echo 'verdict {\"probe\":\"p\"}' >&\"$BELTCHECK_VERDICT_FD\"; echo 'verdict {}'"),
        &opts,
    )
    .unwrap();
    assert_eq!(out.channel.verdict.as_deref(), Some("{\"probe\":\"p\"}"));
    assert_eq!(out.channel.stage, StageStatus::NotReached);
}

/// The matrix's path: a descriptor this process holds without
/// close-on-exec does not reach a session's child.
#[test]
fn a_session_child_inherits_no_descriptor_of_ours() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outside");
    let file = std::fs::File::create(&path).unwrap();
    // SAFETY: dup gives a new descriptor without close-on-exec, ours to close.
    let leaked = unsafe { libc::dup(std::os::fd::AsRawFd::as_raw_fd(&file)) };
    assert!(leaked > 2);
    let out = runner::pty::run(
        &bash(&format!(
            "echo LEAK >&{leaked} && echo WROTE || echo CLOSED"
        )),
        &SessionOptions::detached(),
    )
    .unwrap();
    // SAFETY: closing the descriptor dup gave us.
    unsafe { libc::close(leaked) };
    assert!(
        String::from_utf8_lossy(&out.output).contains("CLOSED"),
        "{:?}",
        String::from_utf8_lossy(&out.output)
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"");
}
