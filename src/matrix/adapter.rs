//! The seam between the harness and the other crates: building a profile,
//! compiling and asking the model, a probe's footprint, and launching a probe
//! under a backend. Everything the matrix needs from outside goes through
//! here, so an API change is fixed in one place.

use super::cell::{Access, ModelOutcome};
use profile::{BuildOptions, Config, Profile, ValueMode};
use runner::launch::{Availability, Backend, CommandSpec, LaunchVerdict, Launcher, Sandbox};
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Builds the SBPL profile for a config (param mode, the current user).
/// A panic in the builder becomes an error: one bad config must not take
/// the whole run down.
pub fn build_profile(config: &Config) -> Result<Profile, String> {
    let opts = BuildOptions {
        mode: ValueMode::Param,
        env: profile::path::HostEnv::current(),
    };
    match catch_unwind(AssertUnwindSafe(|| profile::build(config, &opts))) {
        Ok(Ok(p)) => Ok(p),
        Ok(Err(e)) => Err(format!("builder refused the config: {e}")),
        Err(panic) => Err(format!("builder panicked: {}", panic_text(&panic))),
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic".into())
}

/// What a probe's footprint depends on: the fixture values its arguments
/// carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeContext {
    pub unix_socket: String,
    pub tcp_port: u16,
    /// The probe's arguments after placeholder expansion.
    pub args: Vec<String>,
}

/// A profile compiled once for the model, reused for every probe of a
/// config.
pub struct CompiledModel {
    _profile: Profile,
}

/// Compiles a profile for the model evaluator.
pub fn compile_model(profile: &Profile) -> Result<CompiledModel, String> {
    Ok(CompiledModel {
        _profile: profile.clone(),
    })
}

/// The model's verdict for a probe: the conjunction over its footprint.
pub fn model_verdict(model: &CompiledModel, probe: &str, ctx: &ProbeContext) -> ModelOutcome {
    let _ = (model, ctx);
    ModelOutcome {
        decision: None::<Access>,
        rule: None,
        reason: format!("no footprint for probe {probe:?} yet"),
    }
}

/// The backend the matrix launches probes under, resolved once.
pub struct BackendHandle {
    pub backend: Backend,
    pub launcher: Option<Box<dyn Launcher>>,
    pub availability: Availability,
}

impl BackendHandle {
    /// Resolves a backend on this host.
    pub fn resolve(backend: Backend) -> BackendHandle {
        match backend {
            Backend::None => BackendHandle {
                backend,
                launcher: None,
                availability: Availability::Unavailable {
                    reason: "backend none enforces nothing".into(),
                },
            },
            other => BackendHandle {
                backend: other,
                launcher: None,
                availability: Availability::Unavailable {
                    reason: format!("the {other} launcher is not available in this build"),
                },
            },
        }
    }

    pub fn enforcing(&self) -> bool {
        matches!(self.availability, Availability::Enforcing { .. }) && self.launcher.is_some()
    }
}

/// How a launched probe process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Exited(i32),
    Signaled(i32),
    TimedOut(Duration),
    Interrupted,
    SpawnFailed(String),
}

/// One launch: its output, how it ended, and what the launcher made of it.
#[derive(Debug, Clone)]
pub struct LaunchResult {
    pub output: Vec<u8>,
    pub end: End,
    pub launch: LaunchVerdict,
    pub denials: Vec<String>,
}

/// Runs `cmd` under the handle's backend (or unsandboxed when `sandbox` is
/// `None`), killed at `limit` or on Ctrl-C.
pub fn launch(
    handle: &BackendHandle,
    sandbox: Option<&Sandbox<'_>>,
    cmd: &CommandSpec,
    limit: Duration,
) -> LaunchResult {
    let (spec, env, keep_alive) = match (sandbox, &handle.launcher) {
        (Some(sb), Some(l)) => match l.prepare(sb, cmd) {
            Ok(p) => (p.command, p.env, p.keep_alive),
            Err(e) => return not_launched(e.to_string()),
        },
        (Some(_), None) => {
            return not_launched(format!("backend {} has no launcher", handle.backend))
        }
        (None, _) => (cmd.clone(), Vec::new(), Vec::new()),
    };
    let result = spawn_with_limit(&spec, &env, limit);
    drop(keep_alive);
    let launch = match (sandbox, &handle.launcher, &result.1) {
        (Some(_), Some(l), End::Exited(code)) => l.classify(*code, &result.0),
        (Some(_), Some(l), End::Signaled(sig)) => l.classify(128 + sig, &result.0),
        (Some(_), Some(_), _) => LaunchVerdict::Enforced,
        _ => LaunchVerdict::NotEnforced,
    };
    LaunchResult {
        output: result.0,
        end: result.1,
        launch,
        denials: Vec::new(),
    }
}

fn not_launched(message: String) -> LaunchResult {
    LaunchResult {
        output: Vec::new(),
        end: End::SpawnFailed(message),
        launch: LaunchVerdict::NotEnforced,
        denials: Vec::new(),
    }
}

/// Spawns in its own process group with stdout+stderr captured; the whole
/// group is killed at the limit so a hung probe cannot hold the run.
fn spawn_with_limit(
    spec: &CommandSpec,
    env: &[(std::ffi::OsString, std::ffi::OsString)],
    limit: Duration,
) -> (Vec<u8>, End) {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.process_group(0);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return (
                Vec::new(),
                End::SpawnFailed(format!("cannot start {}: {e}", spec.program.display())),
            )
        }
    };
    let pgid = child.id() as libc::pid_t;
    let readers = [
        child.stdout.take().map(drain),
        child.stderr.take().map(drain),
    ];
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let started = Instant::now();
    let mut killed: Option<End> = None;
    let status = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(s) => break s,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err(std::io::Error::other("waiter vanished"))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let reason = if super::fixtures::interrupt::requested() {
                    Some(End::Interrupted)
                } else if started.elapsed() >= limit {
                    Some(End::TimedOut(limit))
                } else {
                    None
                };
                if let (Some(r), None) = (reason, &killed) {
                    // SAFETY: kill has no memory-safety preconditions; the
                    // group is ours (process_group(0) above).
                    unsafe { libc::kill(-pgid, libc::SIGKILL) };
                    killed = Some(r);
                }
            }
        }
    };
    let _ = waiter.join();
    // The group is gone (or exited); anything still holding the pipes was
    // killed with it, so these joins end.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    let mut output = Vec::new();
    for r in readers.into_iter().flatten() {
        output.extend(r.join().unwrap_or_default());
    }
    let end = match (killed, status) {
        (Some(k), _) => k,
        (None, Ok(s)) => match (s.code(), s.signal()) {
            (Some(c), _) => End::Exited(c),
            (None, Some(sig)) => End::Signaled(sig),
            _ => End::SpawnFailed("unknown exit status".into()),
        },
        (None, Err(e)) => End::SpawnFailed(format!("wait failed: {e}")),
    };
    (output, end)
}

fn drain<R: Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// Where `beltcheck-probe` is: `--probe-bin`, else `BELTCHECK_PROBE`, else
/// next to the running executable (or its parent dir, for test binaries in
/// `target/<profile>/deps/`).
pub fn locate_probe(explicit: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("--probe-bin: {} is not a file", p.display()))
        };
    }
    if let Some(p) = std::env::var_os("BELTCHECK_PROBE") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("BELTCHECK_PROBE: {} is not a file", p.display()))
        };
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the running executable: {e}"))?;
    let mut tried = Vec::new();
    for dir in exe.ancestors().skip(1).take(2) {
        let candidate = dir.join("beltcheck-probe");
        if candidate.is_file() {
            return Ok(candidate);
        }
        tried.push(candidate.display().to_string());
    }
    Err(format!(
        "beltcheck-probe not found (tried {}); build it (`cargo build --workspace --bins`) or pass --probe-bin / BELTCHECK_PROBE",
        tried.join(", ")
    ))
}
