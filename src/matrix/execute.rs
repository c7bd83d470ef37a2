//! Running a plan: each config's profile built once, a control run per probe
//! outside any sandbox, then every cell in parallel, each killed at its time
//! limit. Results come back in plan order whatever the parallelism.

use super::adapter::{self, BackendHandle, CompiledModel, End, LaunchResult, Nofile, ProbeContext};
use super::canary::{self, Canaries};
use super::cell::{
    self, Access, BackendState, Control, Enforcement, FixturePaths, Judgement, Launch, LaunchFacts,
    LaunchRef, Limitation, ModelOutcome, NotLaunched, Observation, ProfileState, Run, Sandboxing,
};
use super::dimension::{self, DimensionEnv};
use super::expect::UserDimension;
use super::fixtures::{interrupt, Fixtures};
use super::plan::{CellIndex, Plan};
use probes::ProbeReport;
use profile::{Config, Policy, Profile, Program};
use runner::launch::denials::DenialCapture;
use runner::launch::{Availability, Backend, CommandSpec, LaunchVerdict};
use std::collections::{BTreeMap, HashMap};
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
    /// Runs of each distinct launch (`--repeat`, at least 1).
    pub repeat: usize,
}

/// One decided cell.
#[derive(Debug, Clone)]
pub struct CellResult {
    pub index: CellIndex,
    pub expected: Access,
    pub model: ModelOutcome,
    pub judgement: Judgement,
}

/// Everything a run produced, in plan order.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub cells: Vec<CellResult>,
    pub controls: Vec<Control>,
    pub wall: Duration,
    /// Sandboxed launches made (distinct launches times `--repeat`).
    pub launches: usize,
    /// Distinct (policy, probe, arguments) launched.
    pub distinct_launches: usize,
    /// Runs of each distinct launch.
    pub repeat: usize,
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
    /// What makes a launch under this config distinct on the backend.
    policy_key: String,
}

impl Prepared {
    /// A config the builder refused, or one the backend cannot compile, is
    /// a refused profile (the backend's reason names the config key).
    fn state(&self) -> ProfileState {
        match (&self.profile, &self.policy) {
            (Err(e), _) | (Ok(_), Err(e)) => ProfileState::Refused { message: e.clone() },
            (Ok(_), Ok(_)) => ProfileState::Built,
        }
    }
}

/// A distinct sandboxed launch and the cells that share it.
struct Distinct {
    /// A config whose profile it runs (every sharer has the same policy).
    config: usize,
    probe: usize,
    cells: usize,
}

/// Runs every cell of `plan`: each distinct (policy, probe, arguments) is
/// launched `repeat` times and its runs shared by every cell that has it.
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
    let controls = par_map(jobs, plan.probes.len(), |p| {
        control_run(plan, p, fixtures, opts)
    });
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
    let cells = plan.cells();
    // Which distinct launch each cell reads, or why it has none.
    let mut distinct: Vec<Distinct> = Vec::new();
    let mut keys: HashMap<(&str, usize), usize> = HashMap::new();
    let plans: Vec<Result<usize, NotLaunched>> = cells
        .iter()
        .map(|&index| {
            if let Some(why) = ctx.why_not_launch(index) {
                return Err(why);
            }
            let key = (prepared[index.config].policy_key.as_str(), index.probe);
            let id = *keys.entry(key).or_insert_with(|| {
                distinct.push(Distinct {
                    config: index.config,
                    probe: index.probe,
                    cells: 0,
                });
                distinct.len() - 1
            });
            distinct[id].cells += 1;
            Ok(id)
        })
        .collect();
    let repeat = opts.repeat.max(1);
    let bar = progress_bar(opts.progress, distinct.len() * repeat);
    // One denial log for the whole run (macOS): a `log stream` per cell
    // would cost more than the cells.
    let capture = (handle.backend == Backend::Seatbelt && handle.enforcing())
        .then(DenialCapture::start)
        .and_then(|started| {
            started
                .map_err(|e| eprintln!("beltcheck matrix: no denial log for this run: {e}"))
                .ok()
        });
    let mut runs = par_map(jobs, distinct.len() * repeat, |i| {
        let d = &distinct[i / repeat];
        let r = ctx.launch(d.config, d.probe);
        if let Some(b) = &bar {
            b.inc(1);
        }
        r
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(capture) = capture {
        attribute_denials(&mut runs, capture);
    }
    let launches = runs.len();
    let mut runs = runs.into_iter().map(|(o, _)| o);
    let by_launch: Vec<Vec<Observation>> = (0..distinct.len())
        .map(|_| runs.by_ref().take(repeat).collect())
        .collect();
    let results = cells
        .iter()
        .zip(plans)
        .map(|(&index, plan)| {
            let launch = match plan {
                Err(why) => Launch::NotLaunched(why),
                Ok(id) => Launch::Launched {
                    launch: LaunchRef {
                        id: id + 1,
                        shared_by: distinct[id].cells,
                        runs: repeat,
                    },
                    runs: by_launch[id].clone(),
                },
            };
            ctx.judge(index, &launch)
        })
        .collect();
    Outcome {
        cells: results,
        controls,
        wall: started.elapsed(),
        launches,
        distinct_launches: distinct.len(),
        repeat,
        interrupted: interrupt::requested(),
    }
}

/// A probe's run with no sandbox: a probe that cannot get `allowed` there
/// can say nothing about a sandbox.
fn control_run(plan: &Plan, p: usize, fixtures: &Fixtures, opts: &Options) -> Control {
    let none = BackendHandle::resolve(Backend::None);
    let spec = &plan.probes[p];
    let result = launch_probe(
        &none,
        None,
        &spec.name,
        &command(opts, fixtures, &spec.args),
        opts.timeout,
        Nofile::Raise,
    );
    let result = match observation_of(&spec.name, result, None) {
        Observation::Reported { report, .. } => Ok(report),
        Observation::NoVerdict { reason, .. } => Err(reason),
        Observation::ProfileRejected { message } => Err(message),
    };
    Control {
        probe: spec.name.clone(),
        result,
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
    let policy_key = match &policy {
        Ok(p) => adapter::policy_key(p, nofile),
        Err(e) => format!("refused {e}"),
    };
    Prepared {
        profile,
        policy,
        nofile,
        models,
        policy_key,
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
    fn judge(&self, index: CellIndex, launch: &Launch) -> CellResult {
        let prepared = &self.prepared[index.config];
        let expected = Access::from_allowed(self.plan.expected(index));
        let model = prepared.models[index.probe].clone();
        let spec = &self.plan.probes[index.probe];
        let fixtures = if spec
            .args
            .iter()
            .any(|a| self.fixtures.owns_path(&self.fixtures.expand(a)))
        {
            FixturePaths::Referenced
        } else {
            FixturePaths::None
        };
        let judgement = cell::judge(&cell::Inputs {
            expected,
            model: &model,
            profile: &prepared.state(),
            launch,
            fixtures,
        });
        CellResult {
            index,
            expected,
            model,
            judgement,
        }
    }

    fn why_not_launch(&self, index: CellIndex) -> Option<NotLaunched> {
        let run = if interrupt::requested() {
            Run::Interrupted
        } else {
            Run::Going
        };
        let backend = match &self.handle.availability {
            Availability::Unavailable { reason } => BackendState::Unavailable {
                reason: reason.clone(),
            },
            Availability::Enforcing { .. } => match self.source {
                ProfileSource::User { .. } if self.handle.backend != Backend::Seatbelt => {
                    BackendState::CannotEnforceRawProfile {
                        backend: self.handle.backend.name().into(),
                    }
                }
                _ => BackendState::Enforcing,
            },
        };
        let limitation = self.limitation(index, &self.prepared[index.config]);
        cell::why_not_launch(&LaunchFacts {
            run,
            control: &self.controls[index.probe],
            backend: &backend,
            profile: &self.prepared[index.config].state(),
            limitation: limitation.as_ref(),
        })
    }

    /// A config key this cell speaks to that the backend's policy cannot
    /// enforce as set: a dimension the spec for this cell hinges on, or a key
    /// the probe itself observes (see [`dimension::observed_keys`]).
    fn limitation(&self, index: CellIndex, prepared: &Prepared) -> Option<Limitation> {
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
        hinged
            .chain(dimension::observed_keys(&spec.name).iter().copied())
            .find_map(|key| {
                policy
                    .limitation(key)
                    .map(|reason| Limitation::Unenforceable {
                        backend: self.handle.backend.name().into(),
                        key: key.into(),
                        reason,
                    })
            })
    }

    /// One sandboxed run of `probe` under `config`'s policy. A probe that
    /// dies by a signal is checked against the config's canary: a profile
    /// that kills every process is one finding, not one crash per probe.
    fn launch(&self, config: usize, probe: usize) -> (Observation, Option<u32>) {
        let prepared = &self.prepared[config];
        let policy = match &prepared.policy {
            Ok(policy) => policy,
            Err(message) => {
                let message = message.clone();
                return (Observation::ProfileRejected { message }, None);
            }
        };
        if interrupt::requested() {
            let reason = "interrupted".to_string();
            let output_tail = String::new();
            return (
                Observation::NoVerdict {
                    reason,
                    output_tail,
                },
                None,
            );
        }
        let spec = &self.plan.probes[probe];
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
        let at = (self.handle.backend.name(), self.opts.release.as_str());
        let mut obs = observation_of(&spec.name, result, Some(at));
        if signaled {
            obs = canary::explain(self.canaries, config, obs, || {
                let canary = CommandSpec {
                    program: self.opts.probe_bin.clone(),
                    args: vec![canary::CANARY_ARG.into()],
                };
                adapter::launch(self.handle, Some(policy), &canary, limit, prepared.nofile).end
            });
        }
        (obs, pid)
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

/// Gives each run the logged denials that name its probe's pid. Logging
/// is lossy: these are evidence, never proof that nothing was denied. A
/// probe error the log explains becomes a denial ([`super::refusal::confirm`])
/// before any cell is judged.
fn attribute_denials(runs: &mut [(Observation, Option<u32>)], capture: DenialCapture) {
    let pids: Vec<u32> = runs.iter().filter_map(|r| r.1).collect();
    let captured = capture.finish_all(&pids);
    if !captured.stderr.trim().is_empty() {
        eprintln!(
            "beltcheck matrix: log stream said: {}",
            captured.stderr.trim()
        );
    }
    let messages = captured.messages;
    for (obs, pid) in runs.iter_mut() {
        let (Some(pid), Observation::Reported { denials, .. }) = (*pid, &mut *obs) else {
            continue;
        };
        let tag = format!("({pid})");
        denials.extend(messages.iter().filter(|m| m.contains(&tag)).cloned());
        super::refusal::confirm(obs);
    }
}

/// Reads a launch: the probe's JSON line, or why there is none. `at`: the
/// backend and release a sandboxed launch is evidence about (`None`: the
/// unsandboxed control run).
fn observation_of(probe: &str, result: LaunchResult, at: Option<(&str, &str)>) -> Observation {
    let tail = tail_of(&result.output);
    let no_verdict = |reason: String| Observation::NoVerdict {
        reason,
        output_tail: tail.clone(),
    };
    match &result.end {
        End::TimedOut(limit) => {
            return no_verdict(format!(
                "probe hung: killed after {:.1}s",
                limit.as_secs_f64()
            ))
        }
        End::Interrupted => return no_verdict("interrupted".into()),
        End::SpawnFailed(m) => return no_verdict(m.clone()),
        End::Exited(_) | End::Signaled(_) => {}
    }
    // The probe never ran: its exec failed (the stage said so), or the
    // sandbox could not be built on this host.
    match &result.launch {
        LaunchVerdict::ExecFailed(failure) => return no_verdict(failure.to_string()),
        LaunchVerdict::Unavailable { reason } => {
            return no_verdict(format!("backend unavailable: {reason}"))
        }
        _ => {}
    }
    let report = match result.verdict.as_deref().and_then(parse_report) {
        Some(report) if report.probe == probe => report,
        Some(report) => {
            return no_verdict(format!(
                "asked for probe {probe:?}, got a report for {:?}",
                report.probe
            ))
        }
        None => {
            if let LaunchVerdict::ProfileError { message } = &result.launch {
                return Observation::ProfileRejected {
                    message: message.clone(),
                };
            }
            return no_verdict(format!(
                "probe {} without a verdict",
                describe_end(&result.end)
            ));
        }
    };
    let sandboxing = match (&result.launch, at) {
        (LaunchVerdict::ProfileError { message }, _) => {
            return Observation::ProfileRejected {
                message: message.clone(),
            }
        }
        (LaunchVerdict::Enforced, Some((backend, release))) => Sandboxing::Enforced {
            backend: backend.into(),
            release: release.into(),
            enforcement: Enforcement::from_stage_status(report.stage.as_deref()),
        },
        (LaunchVerdict::Enforced, None) | (LaunchVerdict::NotEnforced, _) => {
            Sandboxing::NotEnforced {
                reason: "no sandbox applied".into(),
            }
        }
        (LaunchVerdict::Nested { message }, _) => Sandboxing::NotEnforced {
            reason: format!("nested sandbox: {message}"),
        },
        (LaunchVerdict::ExecFailed(failure), _) => return no_verdict(failure.to_string()),
        (LaunchVerdict::Unavailable { reason }, _) => return no_verdict(reason.clone()),
    };
    Observation::Reported {
        report,
        denials: Vec::new(),
        sandboxing,
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
        assert_eq!(r.verdict, probes::Verdict::Denied);
        assert_eq!(r.errno, Some(13));
        assert!(parse_report("{not json}").is_none());
    }
}
