//! The seam between the harness and the other crates: building a profile,
//! compiling and asking the model, a probe's footprint, and launching a probe
//! under a backend. Everything the matrix needs from outside goes through
//! here, so an API change is fixed in one place.

use super::cell::{Access, ModelOutcome};
use probes::FootprintContext;
use profile::model::{Decision, Model};
use profile::{BuildOptions, Config, Policy, Profile, Program, ValueMode};
use runner::launch::{Availability, Backend, CommandSpec, LaunchVerdict, Launcher};
use runner::pty::{ExitKind, RaiseNofile, SessionOptions, VerdictChannel};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Builds the SBPL profile for a config (param mode, the current user) that
/// runs `probe_bin`, which must read and map itself under the strict
/// baseline. A panic in the builder becomes an error: one bad config must
/// not take the whole run down.
pub fn build_profile(config: &Config, probe_bin: &Path) -> Result<Profile, String> {
    let program = Program::at(probe_bin)
        .ok_or_else(|| format!("probe path {} is not UTF-8", probe_bin.display()))?;
    let opts = BuildOptions {
        mode: ValueMode::Param,
        env: profile::path::HostEnv::current(),
        program: Some(program),
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

/// What makes two launches the same: the policy the backend enforces (its
/// whole serialised form) and the descriptor limit the runner sets.
pub fn policy_key(policy: &Policy, nofile: Nofile) -> String {
    match policy {
        Policy::Linux(p) => {
            // What the policy says about itself (keys it cannot enforce,
            // spellings it followed) changes nothing the kernel enforces.
            let mut enforced = (**p).clone();
            enforced.unenforced.clear();
            enforced.resolved.clear();
            linux_key(&enforced, nofile)
        }
        Policy::Seatbelt(p) => format!("sbpl {nofile:?} {:?} {}", p.params, p.sbpl),
        Policy::Unsandboxed => format!("none {nofile:?}"),
    }
}

fn linux_key(p: &profile::linux::LinuxPolicy, nofile: Nofile) -> String {
    match serde_json::to_string(p) {
        Ok(json) => format!("linux {nofile:?} {json}"),
        // Unserialisable policies stay distinct: never shared.
        Err(e) => format!("linux unserialisable {e} {p:?}"),
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
    /// The probe's report from the verdict channel (JSON), if it sent one.
    pub verdict: Option<String>,
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
/// unsandboxed when `policy` is `None`; killed at `limit`.
pub fn launch(
    handle: &BackendHandle,
    policy: Option<&Policy>,
    cmd: &CommandSpec,
    limit: Duration,
    nofile: Nofile,
) -> LaunchResult {
    let mut opts = SessionOptions::detached();
    opts.timeout = Some(limit);
    opts.grace = Duration::from_millis(200);
    opts.channel.verdict = VerdictChannel::ToWorkload;
    opts.raise_nofile = match nofile {
        Nofile::Raise => RaiseNofile::SoftToHard,
        Nofile::Keep => RaiseNofile::Keep,
    };
    let result = match policy {
        Some(policy) => runner::run_sandboxed(handle.launcher.as_ref(), policy, cmd, &opts),
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
                verdict: outcome.channel.verdict,
                end,
                launch,
                pid: Some(outcome.pid),
            }
        }
        Err(e) => LaunchResult {
            output: Vec::new(),
            verdict: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use profile::model::Request;

    /// Matrix cells run the probe under the built profile: the strict one
    /// must let it read and map its own binary (issue 17 item 4).
    #[test]
    fn matrix_profile_lets_the_probe_read_and_map_itself() {
        let dir = tempfile::tempdir().unwrap();
        let probe = dir.path().join("beltcheck-probe");
        std::fs::write(&probe, b"").unwrap();
        let built = build_profile(&Config::default(), &probe).unwrap();
        let model = compile_model(&built).unwrap().model;
        let path = probe.to_str().unwrap();
        for op in ["file-read-data", "file-map-executable"] {
            assert_eq!(
                model.verdict(&Request::path(op, path)),
                Decision::Allow,
                "{op}"
            );
        }
        let parent = dir.path().to_str().unwrap();
        assert_eq!(
            model.verdict(&Request::path("file-read-metadata", parent)),
            Decision::Allow
        );
        let sibling = dir.path().join("other");
        assert_eq!(
            model.verdict(&Request::path("file-read-data", sibling.to_str().unwrap())),
            Decision::Deny
        );
    }
}
