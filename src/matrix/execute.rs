//! Running a plan: each config's profile built once, a control run per probe
//! outside any sandbox, then every cell in parallel, each killed at its time
//! limit. Results come back in plan order whatever the parallelism.

use super::adapter::{self, BackendHandle, CompiledModel, End, LaunchResult, Nofile, ProbeContext};
use super::canary::{self, Canaries};
use super::cell::{self, Access, Enforcement, ModelOutcome, Observation, Status};
use super::dimension::{self, DimensionEnv};
use super::expect::UserDimension;
use super::fixtures::{interrupt, Fixtures};
use super::plan::{CellIndex, Plan};
use probes::{ProbeReport, Verdict};
use profile::{Config, Policy, Profile, Program};
use runner::launch::denials::DenialCapture;
use runner::launch::{Availability, Backend, CommandSpec, LaunchVerdict};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where each config's profile comes from.
#[derive(Debug, Clone)]
pub enum ProfileSource {
    /// Built by beltcheck from `base` with the built-in dimensions applied.
    Builtin { base: Config },
    /// A user's SBPL text: dimensions only change the `-D` parameters.
    User {
        text: String,
        params: BTreeMap<String, String>,
        dimensions: Vec<UserDimension>,
    },
}

/// Whether to draw a progress bar (only ever on a terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    BarOnTerminal,
    Quiet,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub jobs: usize,
    pub timeout: Duration,
    pub probe_bin: PathBuf,
    pub progress: Progress,
    /// "linux 6.1.0 (debian 12)" / "macos 15.4.1 (24E263)": what an
    /// observation is evidence about.
    pub release: String,
}

/// A probe's run outside any sandbox.
#[derive(Debug, Clone)]
pub struct Control {
    pub probe: String,
    /// The report, or why there is none.
    pub result: Result<ProbeReport, String>,
}

impl Control {
    fn allowed(&self) -> bool {
        matches!(&self.result, Ok(r) if r.verdict == Verdict::Allowed)
    }

    fn describe(&self) -> String {
        match &self.result {
            Ok(r) => format!(
                "control run (unsandboxed): {} at step {:?}: {}",
                cell::verdict_name(r.verdict),
                r.step,
                r.detail
            ),
            Err(e) => format!("control run (unsandboxed): {e}"),
        }
    }
}

/// One finished cell.
#[derive(Debug, Clone)]
pub struct CellResult {
    pub index: CellIndex,
    pub expected: Access,
    pub model: ModelOutcome,
    pub observation: Observation,
    pub status: Status,
    pub reason: String,
    /// The sandboxed probe's pid, when it ran (to attribute logged denials).
    pub pid: Option<u32>,
}

/// Everything a run produced, in plan order.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub cells: Vec<CellResult>,
    pub controls: Vec<Control>,
    pub wall: Duration,
    /// Set when Ctrl-C cut the run short.
    pub interrupted: bool,
}

/// A config ready to run: its SBPL built once (what the model predicts
/// from), the policy the backend enforces, and the model's verdict for
/// every probe. The compiled model is dropped right after, so at most
/// `jobs` of them are alive at a time (they are the harness's biggest
/// allocation).
struct Prepared {
    profile: Result<Profile, String>,
    /// Compiled by the backend's launcher; its limitations say which cells
    /// an observation cannot speak to.
    policy: Result<Policy, String>,
    nofile: Nofile,
    /// One per probe, in plan order.
    models: Vec<ModelOutcome>,
}

/// Runs every cell of `plan`.
pub fn run(
    plan: &Plan,
    source: &ProfileSource,
    handle: &BackendHandle,
    fixtures: &Fixtures,
    opts: &Options,
) -> Outcome {
    let started = Instant::now();
    let jobs = opts.jobs.max(1);
    let env = DimensionEnv {
        unix_socket: fixtures.unix_socket().to_string_lossy().into_owned(),
    };
    let home = profile::path::HostEnv::current()
        .home
        .unwrap_or_else(|| "/".into());
    let contexts: Vec<ProbeContext> = plan
        .probes
        .iter()
        .map(|p| ProbeContext {
            args: p.args.iter().map(|a| fixtures.expand(a)).collect(),
            home: home.clone(),
        })
        .collect();
    let prepared = par_map(jobs, plan.assignments.len(), |c| {
        prepare(
            &plan.assignments[c],
            source,
            &env,
            plan,
            &contexts,
            handle,
            &opts.probe_bin,
        )
    });
    let none = BackendHandle::resolve(Backend::None);
    let controls = par_map(jobs, plan.probes.len(), |p| {
        let spec = &plan.probes[p];
        let result = launch_probe(
            &none,
            None,
            &spec.name,
            &command(opts, fixtures, &spec.args),
            opts.timeout,
            Nofile::Raise,
        );
        let result = match observation_of(&spec.name, result, "unsandboxed") {
            Observation::Reported { report, .. } => Ok(report),
            Observation::NoVerdict { reason, .. } => Err(reason),
            Observation::NotRun { reason } | Observation::ProfileRejected { message: reason } => {
                Err(reason)
            }
        };
        Control {
            probe: spec.name.clone(),
            result,
        }
    });
    let cells = plan.cells();
    let bar = progress_bar(opts.progress, cells.len());
    let canaries = Canaries::new(plan.assignments.len());
    let ctx = RunCtx {
        canaries: &canaries,
        plan,
        source,
        handle,
        fixtures,
        opts,
        prepared: &prepared,
        controls: &controls,
    };
    // One denial log for the whole run (macOS): a `log stream` per cell
    // would cost more than the cells.
    let capture = (handle.backend == Backend::Seatbelt && handle.enforcing())
        .then(DenialCapture::start)
        .and_then(|started| {
            started
                .map_err(|e| eprintln!("beltcheck matrix: no denial log for this run: {e}"))
                .ok()
        });
    let mut results = par_map(jobs, cells.len(), |i| {
        let r = ctx.cell(cells[i]);
        if let Some(b) = &bar {
            b.inc(1);
        }
        r
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(capture) = capture {
        attribute_denials(&mut results, capture);
    }
    Outcome {
        cells: results,
        controls,
        wall: started.elapsed(),
        interrupted: interrupt::requested(),
    }
}

fn prepare(
    bits: &[bool],
    source: &ProfileSource,
    env: &DimensionEnv,
    plan: &Plan,
    contexts: &[ProbeContext],
    handle: &BackendHandle,
    probe_bin: &Path,
) -> Prepared {
    let (profile, policy, nofile) = match source {
        ProfileSource::Builtin { base } => {
            let config = dimension::config_for(base, bits, env);
            let profile = adapter::build_profile(&config, probe_bin);
            let policy = match (handle.backend, &profile) {
                // The SBPL just built for the model is what seatbelt enforces.
                (Backend::Seatbelt, Ok(p)) => Ok(Policy::Seatbelt(p.clone())),
                (Backend::Seatbelt, Err(e)) => Err(e.clone()),
                _ => handle
                    .launcher
                    .compile(&config, Program::at(probe_bin))
                    .map_err(|e| e.to_string()),
            };
            let nofile = if config.limits.raise_nofile {
                Nofile::Raise
            } else {
                Nofile::Keep
            };
            (profile, policy, nofile)
        }
        ProfileSource::User {
            text,
            params,
            dimensions,
        } => {
            let mut params = params.clone();
            for (d, &on) in dimensions.iter().zip(bits) {
                params.extend(if on {
                    d.when_true.clone()
                } else {
                    d.when_false.clone()
                });
            }
            let profile = Profile {
                sbpl: text.clone(),
                params,
            };
            // A user's SBPL has no config: the runner's own default applies
            // to the descriptor limit (raising it is not a sandbox rule).
            let nofile = Nofile::Raise;
            (Ok(profile.clone()), Ok(Policy::Seatbelt(profile)), nofile)
        }
    };
    let model: Result<CompiledModel, String> = match &profile {
        Ok(p) => adapter::compile_model(p),
        Err(e) => Err(e.clone()),
    };
    let models = plan
        .probes
        .iter()
        .zip(contexts)
        .map(|(spec, ctx)| match &model {
            Ok(m) => adapter::model_verdict(m, &spec.name, ctx),
            Err(e) => ModelOutcome {
                decision: None,
                rule: None,
                reason: e.clone(),
            },
        })
        .collect();
    Prepared {
        profile,
        policy,
        nofile,
        models,
    }
}

struct RunCtx<'a> {
    plan: &'a Plan,
    source: &'a ProfileSource,
    handle: &'a BackendHandle,
    fixtures: &'a Fixtures,
    opts: &'a Options,
    prepared: &'a [Prepared],
    controls: &'a [Control],
    canaries: &'a Canaries,
}

impl RunCtx<'_> {
    fn cell(&self, index: CellIndex) -> CellResult {
        let spec = &self.plan.probes[index.probe];
        let prepared = &self.prepared[index.config];
        let expected = Access::from_allowed(self.plan.expected(index));
        let args: Vec<String> = spec.args.iter().map(|a| self.fixtures.expand(a)).collect();
        let model = prepared.models[index.probe].clone();
        let meaningless = self.meaningless(index, prepared);
        let (observation, pid) = self.observe(index, prepared, &args, meaningless.is_some());
        let (status, reason) = match &prepared.profile {
            // A config the builder cannot build is a builder bug.
            Err(e) => (Status::Fail, e.clone()),
            Ok(_) => cell::judge(&cell::Inputs {
                expected,
                model: &model,
                observation: &observation,
                meaningless,
            }),
        };
        CellResult {
            index,
            expected,
            model,
            observation,
            status,
            reason,
            pid,
        }
    }

    /// A config key this cell speaks to that the backend's policy cannot
    /// enforce as set: a dimension the spec for this cell hinges on, or a key
    /// the probe itself observes (see [`dimension::observed_keys`]).
    fn meaningless(&self, index: CellIndex, prepared: &Prepared) -> Option<String> {
        if !matches!(self.source, ProfileSource::Builtin { .. }) || !self.handle.enforcing() {
            return None;
        }
        let Ok(policy) = &prepared.policy else {
            return None;
        };
        let spec = &self.plan.probes[index.probe];
        let hinged = dimension::BUILTIN
            .iter()
            .enumerate()
            .filter(|(d, _)| self.plan.hinges_on(index, *d))
            .map(|(_, dim)| dim.key);
        let backend = self.handle.backend;
        hinged
            .chain(dimension::observed_keys(&spec.name).iter().copied())
            .find_map(|key| {
                policy.limitation(key).map(|reason| {
                    format!("backend {backend} cannot enforce {key} as set: {reason}")
                })
            })
    }

    fn observe(
        &self,
        index: CellIndex,
        prepared: &Prepared,
        args: &[String],
        meaningless: bool,
    ) -> (Observation, Option<u32>) {
        match self.why_not_run(index, meaningless) {
            Some(reason) => (Observation::NotRun { reason }, None),
            None => self.run_sandboxed(index, prepared, args),
        }
    }

    /// Why a cell's probe is not started under the sandbox, if it is not.
    fn why_not_run(&self, index: CellIndex, meaningless: bool) -> Option<String> {
        let control = &self.controls[index.probe];
        if interrupt::requested() {
            return Some("not run: interrupted (Ctrl-C)".into());
        }
        if !control.allowed() {
            return Some(control.describe());
        }
        if let Availability::Unavailable { reason } = &self.handle.availability {
            return Some(format!("not enforced: {reason}"));
        }
        let user = matches!(self.source, ProfileSource::User { .. });
        if user && self.handle.backend != Backend::Seatbelt {
            let backend = self.handle.backend;
            return Some(format!(
                "not enforced: backend {backend} cannot enforce a raw SBPL profile"
            ));
        }
        meaningless.then(|| "not run".into())
    }

    fn run_sandboxed(
        &self,
        index: CellIndex,
        prepared: &Prepared,
        args: &[String],
    ) -> (Observation, Option<u32>) {
        let policy = match &prepared.policy {
            Ok(policy) => policy,
            Err(e) => {
                let reason = format!(
                    "backend {} cannot compile the config: {e}",
                    self.handle.backend
                );
                return (Observation::NotRun { reason }, None);
            }
        };
        let spec = &self.plan.probes[index.probe];
        let cmd = command(self.opts, self.fixtures, &spec.args);
        let limit = self.opts.timeout;
        let result = launch_probe(
            self.handle,
            Some(policy),
            &spec.name,
            &cmd,
            limit,
            prepared.nofile,
        );
        let pid = result.pid;
        let signaled = canary::died_by_signal(&result.end).is_some();
        let evidence = format!("{} on {}", self.handle.backend, self.opts.release);
        let mut obs = observation_of(&spec.name, result, &evidence);
        if signaled {
            obs = canary::explain(self.canaries, index.config, obs, || {
                let canary = CommandSpec {
                    program: self.opts.probe_bin.clone(),
                    args: vec![canary::CANARY_ARG.into()],
                };
                adapter::launch(self.handle, Some(policy), &canary, limit, prepared.nofile).end
            });
        }
        (self.unhide(obs, args), pid)
    }

    /// A harness-created path the probe cannot find inside the sandbox was
    /// hidden from it (the Linux backend leaves unlisted paths out of the
    /// view): that is a denial, and the detail says so.
    fn unhide(&self, obs: Observation, args: &[String]) -> Observation {
        match obs {
            Observation::Reported {
                mut report,
                denials,
                enforcement: enforcement @ Enforcement::Enforced { .. },
            } if report.verdict == Verdict::Error
                && report.errno == Some(libc::ENOENT as i64)
                && args.iter().any(|a| self.fixtures.owns_path(a)) =>
            {
                report.verdict = Verdict::Denied;
                report.detail = format!(
                    "hidden: the harness-created path exists outside but not inside the sandbox (probe said error: {})",
                    report.detail
                );
                Observation::Reported {
                    report,
                    denials,
                    enforcement,
                }
            }
            other => other,
        }
    }
}

fn command(opts: &Options, fixtures: &Fixtures, args: &[String]) -> CommandSpec {
    let mut argv: Vec<std::ffi::OsString> = Vec::with_capacity(args.len() + 1);
    argv.push(String::new().into());
    argv.extend(args.iter().map(|a| fixtures.expand(a).into()));
    CommandSpec {
        program: opts.probe_bin.clone(),
        args: argv,
    }
}

/// Launches `beltcheck-probe NAME ARGS...` (the name goes first).
fn launch_probe(
    handle: &BackendHandle,
    policy: Option<&Policy>,
    name: &str,
    cmd: &CommandSpec,
    limit: Duration,
    nofile: Nofile,
) -> LaunchResult {
    let mut cmd = cmd.clone();
    cmd.args[0] = name.into();
    adapter::launch(handle, policy, &cmd, limit, nofile)
}

/// Gives each cell the logged denials that name its probe's pid. Logging
/// is lossy: these are evidence, never proof that nothing was denied. A
/// probe error the log explains becomes a denial ([`refusal::confirm`]) and
/// its cell is judged again.
fn attribute_denials(results: &mut [CellResult], capture: DenialCapture) {
    let pids: Vec<u32> = results.iter().filter_map(|r| r.pid).collect();
    let captured = capture.finish_all(&pids);
    if !captured.stderr.trim().is_empty() {
        eprintln!(
            "beltcheck matrix: log stream said: {}",
            captured.stderr.trim()
        );
    }
    let messages = captured.messages;
    for r in results.iter_mut() {
        let (Some(pid), Observation::Reported { denials, .. }) = (r.pid, &mut r.observation) else {
            continue;
        };
        let tag = format!("({pid})");
        denials.extend(messages.iter().filter(|m| m.contains(&tag)).cloned());
        if super::refusal::confirm(&mut r.observation) {
            // It ran under the sandbox, so no dimension was meaningless.
            (r.status, r.reason) = cell::judge(&cell::Inputs {
                expected: r.expected,
                model: &r.model,
                observation: &r.observation,
                meaningless: None,
            });
        }
    }
}

/// Reads a launch: the probe's JSON line, or why there is none.
fn observation_of(probe: &str, result: LaunchResult, evidence: &str) -> Observation {
    let tail = tail_of(&result.output);
    match &result.end {
        End::TimedOut(limit) => {
            return Observation::NoVerdict {
                reason: format!("probe hung: killed after {:.1}s", limit.as_secs_f64()),
                output_tail: tail,
            }
        }
        End::Interrupted => {
            return Observation::NoVerdict {
                reason: "interrupted (Ctrl-C)".into(),
                output_tail: tail,
            }
        }
        End::SpawnFailed(m) => {
            return Observation::NoVerdict {
                reason: m.clone(),
                output_tail: tail,
            }
        }
        End::Exited(_) | End::Signaled(_) => {}
    }
    let enforcement = match &result.launch {
        LaunchVerdict::ProfileError { message } => {
            return Observation::ProfileRejected {
                message: message.clone(),
            }
        }
        LaunchVerdict::Enforced => Enforcement::Enforced {
            evidence: evidence.to_string(),
        },
        LaunchVerdict::Nested { message } => Enforcement::NotEnforced {
            reason: format!("nested sandbox: {message}"),
        },
        LaunchVerdict::NotEnforced => Enforcement::NotEnforced {
            reason: "no sandbox applied".into(),
        },
        LaunchVerdict::ExecFailed(failure) => {
            return Observation::NoVerdict {
                reason: failure.to_string(),
                output_tail: tail,
            }
        }
    };
    match result.verdict.as_deref().and_then(parse_report) {
        Some(report) if report.probe == probe => Observation::Reported {
            report,
            denials: Vec::new(),
            enforcement,
        },
        Some(report) => Observation::NoVerdict {
            reason: format!(
                "asked for probe {probe:?}, got a report for {:?}",
                report.probe
            ),
            output_tail: tail,
        },
        None => Observation::NoVerdict {
            reason: format!("probe {} without a verdict", describe_end(&result.end)),
            output_tail: tail,
        },
    }
}

fn describe_end(end: &End) -> String {
    match end {
        End::Exited(c) => format!("exited {c}"),
        End::Signaled(s) => format!("crashed (signal {s})"),
        End::TimedOut(_) | End::Interrupted | End::SpawnFailed(_) => "did not finish".into(),
    }
}

/// The probe's report, as it arrived on the verdict channel.
pub fn parse_report(json: &str) -> Option<ProbeReport> {
    serde_json::from_str(json).ok()
}

fn tail_of(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let start = text
        .char_indices()
        .rev()
        .nth(399)
        .map(|(i, _)| i)
        .unwrap_or(0);
    text[start..].to_string()
}

fn progress_bar(mode: Progress, len: usize) -> Option<indicatif::ProgressBar> {
    if mode == Progress::Quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cells {elapsed} (eta {eta})")
    {
        bar.set_style(style);
    }
    Some(bar)
}

/// Maps `f` over `0..n` on `jobs` threads; results in index order.
fn par_map<T: Send, F: Fn(usize) -> T + Sync>(jobs: usize, n: usize, f: F) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(n.max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let value = f(i);
                slots.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(value);
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|v| v.expect("every index computed"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_order() {
        let v = par_map(3, 100, |i| i * 2);
        assert_eq!(v, (0..100).map(|i| i * 2).collect::<Vec<_>>());
        assert!(par_map(4, 0, |i| i).is_empty());
    }

    #[test]
    fn report_is_read_from_the_channel_record() {
        let json = "{\"probe\":\"sem\",\"verdict\":\"denied\",\"errno\":13,\"step\":\"sem_open\",\"detail\":\"x\",\"duration_us\":5}";
        let r = parse_report(json).unwrap();
        assert_eq!(r.verdict, Verdict::Denied);
        assert_eq!(r.errno, Some(13));
        assert!(parse_report("{not json}").is_none());
    }
}
