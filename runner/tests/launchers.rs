//! `run_sandboxed` over the launchers that run on this host, and the
//! launcher table.

use profile::{Config, Policy};
use runner::launch::none::NoneLauncher;
use runner::launch::{
    self, Availability, Backend, CommandSpec, LaunchError, LaunchVerdict, Launcher, Prepared,
};
use runner::pty::{RunError, SessionOptions};

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
    fn compile(&self, _config: &Config) -> Result<Policy, LaunchError> {
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
            keep_alive: Vec::new(),
        })
    }
    fn classify(&self, code: i32, output: &[u8]) -> LaunchVerdict {
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
