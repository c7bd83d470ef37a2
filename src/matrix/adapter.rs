//! The seam between the harness and the other crates: building a profile,
//! compiling and asking the model, a probe's footprint, and launching a probe
//! under a backend. Everything the matrix needs from outside goes through
//! here, so an API change is fixed in one place.

use super::cell::{Access, ModelOutcome};
use probes::FootprintContext;
use profile::model::{Decision, Model};
use profile::{BuildOptions, Config, Profile, ValueMode};
use runner::launch::{Availability, Backend, CommandSpec, LaunchVerdict, Launcher, Sandbox};
use runner::pty::{ExitKind, RaiseNofile, SessionOptions};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Duration;

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
    /// The probe's arguments after placeholder expansion.
    pub args: Vec<String>,
    pub home: String,
}

impl ProbeContext {
    fn flag(&self, name: &str) -> Option<String> {
        self.args
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.args.get(i + 1))
            .cloned()
    }
}

/// A profile compiled once for the model, reused for every probe of a
/// config.
pub struct CompiledModel {
    model: Model,
}

/// Compiles a profile for the model evaluator.
pub fn compile_model(profile: &Profile) -> Result<CompiledModel, String> {
    match catch_unwind(AssertUnwindSafe(|| {
        Model::compile(&profile.sbpl, &profile.params)
    })) {
        Ok(Ok(model)) => Ok(CompiledModel { model }),
        Ok(Err(e)) => Err(format!("the model cannot read the profile: {e}")),
        Err(panic) => Err(format!("the model panicked: {}", panic_text(&panic))),
    }
}

/// The model's verdict for a probe: the conjunction over its footprint.
pub fn model_verdict(model: &CompiledModel, probe: &str, ctx: &ProbeContext) -> ModelOutcome {
    let fctx = FootprintContext {
        path: ctx.flag("--path"),
        name: ctx.flag("--name"),
        host: ctx.flag("--host"),
        // A port that does not parse leaves `{port}` unfilled: the
        // footprint then reports it missing, so the cell stays undecided.
        port: ctx.flag("--port").and_then(|p| p.parse().ok()),
        home: ctx.home.clone(),
        pid: 4242,
    };
    let requests = match probes::footprint_items(probe, &fctx) {
        Ok(items) => items.into_iter().map(|i| i.request).collect::<Vec<_>>(),
        Err(e) => {
            return ModelOutcome {
                decision: None,
                rule: None,
                reason: e.to_string(),
            }
        }
    };
    let exp = model.model.decide_all(&requests);
    let decision = match exp.decision {
        Decision::Allow => Some(Access::Allow),
        Decision::Deny => Some(Access::Deny),
        Decision::Unknown => None,
    };
    ModelOutcome {
        decision,
        rule: exp.rule.map(|r| format!("line {}: {}", r.line, r.text)),
        reason: exp.reason,
    }
}

/// What makes two launches the same sandbox on `backend`: the policy the
/// backend would apply (the SBPL and its parameters for Seatbelt, the
/// compiled Linux policy for Linux) and the NOFILE setting. Configs that
/// differ only in options the backend cannot express share a key.
pub fn policy_key(backend: Backend, config: &Config, profile: &Profile) -> String {
    let nofile = config.limits.raise_nofile;
    match backend {
        Backend::Linux => {
            match profile::linux::LinuxPolicy::compile(config, &profile::path::HostEnv::current()) {
                Ok(policy) => match serde_json::to_string(&policy) {
                    Ok(json) => format!("linux nofile={nofile} {json}"),
                    Err(e) => format!("linux unserialisable {e} {config:?}"),
                },
                // Refused configs stay distinct: each reports its own error.
                Err(e) => format!("linux refused {e} {config:?}"),
            }
        }
        Backend::Seatbelt | Backend::None => {
            format!("sbpl nofile={nofile} {:?} {}", profile.params, profile.sbpl)
        }
    }
}

/// The backend the matrix launches probes under, resolved once.
pub struct BackendHandle {
    pub backend: Backend,
    pub launcher: Box<dyn Launcher>,
    pub availability: Availability,
}

impl BackendHandle {
    /// Resolves a backend on this host. Backend `none` never enforces.
    pub fn resolve(backend: Backend) -> BackendHandle {
        let launcher = runner::launch::launcher(backend);
        let availability = match backend {
            Backend::None => Availability::Unavailable {
                reason: "backend none enforces nothing".into(),
            },
            _ => launcher.availability(),
        };
        BackendHandle {
            backend,
            launcher,
            availability,
        }
    }

    pub fn enforcing(&self) -> bool {
        matches!(self.availability, Availability::Enforcing { .. })
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
    /// The session leader (for attributing logged denials).
    pub pid: Option<u32>,
}

/// Whether the runner raises the soft NOFILE limit for the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nofile {
    Raise,
    Keep,
}

/// Runs `cmd` on a fresh pty (Detached) under the handle's backend, or
/// unsandboxed when `sandbox` is `None`; killed at `limit`.
pub fn launch(
    handle: &BackendHandle,
    sandbox: Option<&Sandbox<'_>>,
    cmd: &CommandSpec,
    limit: Duration,
    nofile: Nofile,
) -> LaunchResult {
    let mut opts = SessionOptions::detached();
    opts.timeout = Some(limit);
    opts.grace = Duration::from_millis(200);
    opts.raise_nofile = match nofile {
        Nofile::Raise => RaiseNofile::SoftToHard,
        Nofile::Keep => RaiseNofile::Keep,
    };
    let result = match sandbox {
        Some(sb) => runner::run_sandboxed(handle.launcher.as_ref(), sb, cmd, &opts),
        None => runner::pty::run(cmd, &opts).map(|o| (o, LaunchVerdict::NotEnforced)),
    };
    match result {
        Ok((outcome, launch)) => {
            let end = if outcome.timed_out {
                End::TimedOut(limit)
            } else if outcome.interrupted.is_some() {
                End::Interrupted
            } else {
                match outcome.exit {
                    ExitKind::Exited(c) => End::Exited(c),
                    ExitKind::Signaled(s) => End::Signaled(s),
                }
            };
            LaunchResult {
                output: outcome.output,
                end,
                launch,
                pid: Some(outcome.pid),
            }
        }
        Err(e) => LaunchResult {
            output: Vec::new(),
            end: End::SpawnFailed(e.to_string()),
            launch: LaunchVerdict::NotEnforced,
            pid: None,
        },
    }
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
