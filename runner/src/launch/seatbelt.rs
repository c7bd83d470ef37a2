//! Backend `seatbelt`: `/usr/bin/sandbox-exec -f PROFILE -D K=V ... --
//! beltcheck-stage -- CMD`. sandbox-exec exits 71 both when it cannot apply
//! the profile and when its exec fails, so it execs our stage, which
//! reports "started" or the workload's exec errno on the status channel
//! (see [`crate::channel`]); the stage's absence from the channel means
//! sandbox-exec failed first.
//!
//! The argument vector and the classification of a finished launch are plain
//! functions, tested on any host. Running them needs macOS: elsewhere
//! [`SeatbeltLauncher::availability`] is `Unavailable` and `prepare` refuses.
//!
//! What sandbox-exec's exit codes mean, as reported publicly: 65 with
//! `sandbox-exec: <message> at <input string>, line N` is a profile error
//! (https://github.com/ZaxbyHub/opencode-swarm/issues/2590, "unbound
//! variable: setenv at <input string>, line 5 ... exit code 65"); 71 with
//! `sandbox_apply: Operation not permitted` is a refused nested sandbox
//! (https://github.com/anthropic-experimental/sandbox-runtime/issues/67,
//! logged as `forbidden-sandbox-reinit`). Those are expectations about
//! macOS, checked by the matrix on real runners.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{
    Availability, Backend, CommandSpec, Ctty, LaunchError, LaunchVerdict, Launcher, Prepared,
};
use crate::channel::StageStatus;
use crate::pty::StatusChannel;
use profile::path::HostEnv;
use profile::{BuildOptions, Config, Policy, Program, ValueMode};

/// Always this binary, never one found on PATH.
pub const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";
/// sandbox-exec's exit code when the profile does not compile.
pub const EXIT_PROFILE_ERROR: i32 = 65;
/// sandbox-exec's exit code when applying the profile (or exec) failed.
pub const EXIT_APPLY_FAILED: i32 = 71;
const NESTED_MARKER: &str = "sandbox_apply: Operation not permitted";

/// Runs workloads under `sandbox-exec`.
#[derive(Debug, Clone)]
pub struct SeatbeltLauncher {
    sandbox_exec: PathBuf,
}

impl Default for SeatbeltLauncher {
    fn default() -> Self {
        SeatbeltLauncher {
            sandbox_exec: PathBuf::from(SANDBOX_EXEC),
        }
    }
}

impl SeatbeltLauncher {
    pub fn new() -> SeatbeltLauncher {
        SeatbeltLauncher::default()
    }
}

/// The full argument vector (program first) that runs `cmd` under the
/// profile in `profile_file` with `params` as `-D KEY=VALUE`, in key order.
/// Refuses keys that are empty or contain `=` (sandbox-exec splits at the
/// first `=`, so such a key would silently change meaning).
pub fn sandbox_exec_argv(
    sandbox_exec: &Path,
    profile_file: &Path,
    params: &BTreeMap<String, String>,
    cmd: &CommandSpec,
) -> Result<Vec<OsString>, LaunchError> {
    let mut argv: Vec<OsString> = vec![sandbox_exec.into(), "-f".into(), profile_file.into()];
    for (key, value) in params {
        if key.is_empty() || key.contains('=') {
            return Err(LaunchError::Config {
                message: format!("parameter name {key:?} is empty or contains '='"),
            });
        }
        argv.push("-D".into());
        argv.push(format!("{key}={value}").into());
    }
    argv.push("--".into());
    argv.push(cmd.program.clone().into_os_string());
    argv.extend(cmd.args.iter().cloned());
    Ok(argv)
}

/// Reads a finished sandbox-exec launch. Once the stage reported, its
/// status decides (see [`super::stage_verdict`]). Without a stage record
/// sandbox-exec failed first: exit 71 with `sandbox_apply: Operation not
/// permitted` means we were already sandboxed; otherwise the profile was
/// refused, with sandbox-exec's `... line N` message when it gave one.
pub fn classify_launch(
    cmd: &CommandSpec,
    stage: &StageStatus,
    code: i32,
    output: &[u8],
) -> LaunchVerdict {
    if let Some(verdict) = super::stage_verdict(cmd, stage) {
        return verdict;
    }
    let text = String::from_utf8_lossy(output);
    let lines = || text.lines().map(|l| l.trim_end_matches('\r'));
    if code == EXIT_PROFILE_ERROR {
        if let Some(line) = lines().find(|l| l.starts_with("sandbox-exec:") && names_a_line(l)) {
            return LaunchVerdict::ProfileError {
                message: line.to_string(),
            };
        }
    }
    if code == EXIT_APPLY_FAILED {
        if let Some(line) = lines().find(|l| l.contains(NESTED_MARKER)) {
            return LaunchVerdict::Nested {
                message: line.to_string(),
            };
        }
    }
    let said = lines()
        .find(|l| l.starts_with("sandbox-exec:"))
        .map_or(String::new(), |l| format!(": {l}"));
    LaunchVerdict::ProfileError {
        message: format!("sandbox-exec exited {code} before the exec stage ran{said}"),
    }
}

/// `STAGE -- CMD ARGS...`: the workload run through the exec stage.
pub fn staged(stage: &Path, cmd: &CommandSpec) -> CommandSpec {
    let mut args = vec![OsString::from("--"), cmd.program.clone().into_os_string()];
    args.extend(cmd.args.iter().cloned());
    CommandSpec {
        program: stage.to_path_buf(),
        args,
    }
}

/// Whether `text` contains `line N` with N a number.
fn names_a_line(text: &str) -> bool {
    text.match_indices("line ")
        .any(|(i, m)| text[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

/// Writes the profile to a private temp file (mode 0600, unique name),
/// removed when the returned path is dropped.
fn write_profile(sbpl: &str) -> Result<tempfile::TempPath, LaunchError> {
    let io_err = |e: std::io::Error| LaunchError::Io {
        message: format!("cannot write the profile file: {e}"),
    };
    let mut file = tempfile::Builder::new()
        .prefix("beltcheck-profile-")
        .suffix(".sb")
        .tempfile()
        .map_err(io_err)?;
    file.write_all(sbpl.as_bytes()).map_err(io_err)?;
    file.flush().map_err(io_err)?;
    Ok(file.into_temp_path())
}

impl Launcher for SeatbeltLauncher {
    fn backend(&self) -> Backend {
        Backend::Seatbelt
    }

    fn availability(&self) -> Availability {
        availability(&self.sandbox_exec)
    }

    /// The SBPL for `config` (parameter mode, the current user).
    fn compile(&self, config: &Config, program: Option<Program>) -> Result<Policy, LaunchError> {
        let opts = BuildOptions {
            mode: ValueMode::Param,
            env: HostEnv::current(),
            program,
        };
        profile::build(config, &opts)
            .map(Policy::Seatbelt)
            .map_err(|e| LaunchError::Config {
                message: e.to_string(),
            })
    }

    fn prepare(&self, policy: &Policy, cmd: &CommandSpec) -> Result<Prepared, LaunchError> {
        let Policy::Seatbelt(profile) = policy else {
            return Err(LaunchError::wrong_policy(Backend::Seatbelt, policy));
        };
        if let Availability::Unavailable { reason } = self.availability() {
            return Err(LaunchError::Unavailable { reason });
        }
        let stage = super::linux::LinuxLauncher::new()
            .stage_path()
            .map_err(|reason| LaunchError::Unavailable { reason })?;
        let profile_file = write_profile(&profile.sbpl)?;
        let mut argv = sandbox_exec_argv(
            &self.sandbox_exec,
            &profile_file,
            &profile.params,
            &staged(&stage, cmd),
        )?;
        let args = argv.split_off(1);
        Ok(Prepared {
            command: CommandSpec {
                program: self.sandbox_exec.clone(),
                args,
            },
            env: Vec::new(),
            status: StatusChannel::FromStage,
            ctty: Ctty::Spawned,
            pass_fd: None,
            keep_alive: vec![Box::new(profile_file)],
        })
    }

    fn classify(
        &self,
        cmd: &CommandSpec,
        stage: &StageStatus,
        code: i32,
        output: &[u8],
    ) -> LaunchVerdict {
        classify_launch(cmd, stage, code, output)
    }

    fn preflight(&self) -> Option<LaunchVerdict> {
        already_sandboxed().map(|message| LaunchVerdict::Nested { message })
    }
}

#[cfg(target_os = "macos")]
fn availability(sandbox_exec: &Path) -> Availability {
    if let Some(message) = already_sandboxed() {
        return Availability::Unavailable {
            reason: format!("nested: no enforcement ({message})"),
        };
    }
    match std::fs::metadata(sandbox_exec) {
        Ok(m) if m.is_file() => Availability::Enforcing {
            detail: format!("{}", sandbox_exec.display()),
        },
        Ok(_) => Availability::Unavailable {
            reason: format!("{} is not a file", sandbox_exec.display()),
        },
        Err(e) => Availability::Unavailable {
            reason: format!("{}: {e}", sandbox_exec.display()),
        },
    }
}

#[cfg(not(target_os = "macos"))]
fn availability(_sandbox_exec: &Path) -> Availability {
    Availability::Unavailable {
        reason: "sandbox-exec exists only on macOS".into(),
    }
}

#[cfg(target_os = "macos")]
mod ffi {
    /// `SANDBOX_FILTER_NONE` from <sandbox.h> (enum sandbox_filter_type).
    pub const SANDBOX_FILTER_NONE: libc::c_int = 0;

    extern "C" {
        /// Declared in libsandbox's <sandbox.h> (private but stable since
        /// 10.7); with a NULL operation it answers "is this process
        /// sandboxed at all" (non-zero = yes). Variadic in the header.
        pub fn sandbox_check(
            pid: libc::pid_t,
            operation: *const libc::c_char,
            filter: libc::c_int,
            ...
        ) -> libc::c_int;
    }
}

/// `Some(reason)` when this process already runs inside a sandbox (a nested
/// sandbox-exec would be refused or enforce nothing new).
#[cfg(target_os = "macos")]
pub fn already_sandboxed() -> Option<String> {
    // SAFETY: sandbox_check only reads its arguments; NULL operation is the
    // documented "any sandbox" query.
    let rc =
        unsafe { ffi::sandbox_check(libc::getpid(), std::ptr::null(), ffi::SANDBOX_FILTER_NONE) };
    (rc != 0).then(|| "sandbox_check reports this process is already sandboxed".to_string())
}

/// `Some(reason)` when this process already runs inside a sandbox; never on
/// hosts without Seatbelt.
#[cfg(not(target_os = "macos"))]
pub fn already_sandboxed() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(program: &str, args: &[&str]) -> CommandSpec {
        CommandSpec {
            program: program.into(),
            args: args.iter().map(OsString::from).collect(),
        }
    }

    fn strs(v: &[OsString]) -> Vec<&str> {
        v.iter().map(|s| s.to_str().unwrap()).collect()
    }

    #[test]
    fn argv_has_absolute_binary_profile_file_params_and_separator() {
        let params = BTreeMap::from([
            ("HOME_DIR".to_string(), "/Users/a b".to_string()),
            ("A".to_string(), "x=y\"z".to_string()),
        ]);
        let argv = sandbox_exec_argv(
            Path::new(SANDBOX_EXEC),
            Path::new("/tmp/p.sb"),
            &params,
            &cmd("/bin/echo", &["--", "-D", "hi"]),
        )
        .unwrap();
        assert_eq!(
            strs(&argv),
            [
                "/usr/bin/sandbox-exec",
                "-f",
                "/tmp/p.sb",
                "-D",
                "A=x=y\"z",
                "-D",
                "HOME_DIR=/Users/a b",
                "--",
                "/bin/echo",
                "--",
                "-D",
                "hi"
            ]
        );
    }

    #[test]
    fn argv_without_params_or_args() {
        let argv = sandbox_exec_argv(
            Path::new(SANDBOX_EXEC),
            Path::new("/p"),
            &BTreeMap::new(),
            &cmd("true", &[]),
        )
        .unwrap();
        assert_eq!(
            strs(&argv),
            ["/usr/bin/sandbox-exec", "-f", "/p", "--", "true"]
        );
    }

    #[test]
    fn argv_refuses_bad_param_names() {
        for key in ["", "A=B"] {
            let params = BTreeMap::from([(key.to_string(), "v".to_string())]);
            let err = sandbox_exec_argv(
                Path::new(SANDBOX_EXEC),
                Path::new("/p"),
                &params,
                &cmd("true", &[]),
            )
            .unwrap_err();
            assert!(
                matches!(err, LaunchError::Config { ref message } if message.contains(&format!("{key:?}")))
            );
        }
    }

    #[test]
    fn non_utf8_arguments_pass_through() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(vec![b'a', 0xff, b'b']);
        let spec = CommandSpec {
            program: "/bin/cat".into(),
            args: vec![odd.clone()],
        };
        let argv = sandbox_exec_argv(
            Path::new(SANDBOX_EXEC),
            Path::new("/p"),
            &BTreeMap::new(),
            &spec,
        )
        .unwrap();
        assert_eq!(argv.last(), Some(&odd));
    }

    fn not_reached(code: i32, out: &[u8]) -> LaunchVerdict {
        classify_launch(&cmd("x", &[]), &StageStatus::NotReached, code, out)
    }

    #[test]
    fn exit_65_with_line_is_a_profile_error() {
        let out =
            b"sandbox-exec: unbound variable: TIOCSTI at (ioctl-command TIOCSTI), line 12\r\n";
        assert_eq!(
            not_reached(65, out),
            LaunchVerdict::ProfileError {
                message:
                    "sandbox-exec: unbound variable: TIOCSTI at (ioctl-command TIOCSTI), line 12"
                        .into()
            }
        );
    }

    #[test]
    fn exit_71_with_apply_refusal_is_nested() {
        let out = b"noise\nsandbox_apply: Operation not permitted\n";
        assert_eq!(
            not_reached(71, out),
            LaunchVerdict::Nested {
                message: "sandbox_apply: Operation not permitted".into()
            }
        );
    }

    #[test]
    fn without_the_stage_sandbox_exec_failed_first() {
        for (code, out) in [(71, &b"sandbox-exec: execvp() failed\n"[..]), (1, b"")] {
            assert!(matches!(
                not_reached(code, out),
                LaunchVerdict::ProfileError { message } if message.contains("before the exec stage ran")
            ));
        }
    }

    #[test]
    fn once_the_stage_ran_its_status_decides_whatever_the_output() {
        let c = cmd("/bin/nope", &[]);
        for (code, out) in [
            (65, &b"sandbox-exec: x line 3\n"[..]),
            (71, b"sandbox_apply: Operation not permitted\n"),
            (1, b""),
        ] {
            assert_eq!(
                classify_launch(&c, &StageStatus::Started, code, out),
                LaunchVerdict::Enforced
            );
        }
        let enoent = StageStatus::ExecFailed {
            errno: libc::ENOENT,
        };
        assert!(matches!(
            classify_launch(&c, &enoent, 127, b""),
            LaunchVerdict::ExecFailed(f) if f.exit_code() == 127 && f.program == Path::new("/bin/nope")
        ));
    }

    #[test]
    fn the_workload_runs_through_the_stage() {
        let s = staged(
            Path::new("/opt/beltcheck-stage"),
            &cmd("/bin/echo", &["--", "hi"]),
        );
        assert_eq!(s.program, Path::new("/opt/beltcheck-stage"));
        assert_eq!(strs(&s.args), ["--", "/bin/echo", "--", "hi"]);
    }

    #[test]
    fn profile_file_is_private_and_removed_on_drop() {
        use std::os::unix::fs::PermissionsExt;
        let path = write_profile("(version 1)\n(allow default)\n").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "(version 1)\n(allow default)\n"
        );
        let p = path.to_path_buf();
        drop(path);
        assert!(!p.exists());
    }

    #[cfg(not(target_os = "macos"))]
    #[test]
    fn unavailable_off_macos() {
        let l = SeatbeltLauncher::new();
        assert!(matches!(l.availability(), Availability::Unavailable { .. }));
        assert_eq!(l.preflight(), None);
    }
}
