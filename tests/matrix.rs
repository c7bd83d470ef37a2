//! The matrix as a cargo test: the spec, the model and (where the host has
//! an enforcing backend) the OS must agree, and the harness must be able to
//! fail. Needs `beltcheck-probe` (and on Linux `beltcheck-stage`) built next
//! to the test binary: run `cargo test --workspace`, which builds every bin.

use beltcheck::cmd::matrix::{run_request, Request};
use beltcheck::matrix::{self, execute::Progress};
use beltcheck::report::{self, Report};
use runner::launch::Backend;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn request(backend: Backend) -> Request {
    Request {
        backend,
        jobs: 2,
        progress: Progress::Quiet,
        ..Request::new()
    }
}

fn run(req: &Request) -> Report {
    run_request(req).unwrap_or_else(|e| panic!("matrix could not run: {e}"))
}

fn failures(r: &Report) -> String {
    r.cells
        .iter()
        .filter(|c| c.status.is_fail())
        .map(|c| {
            format!(
                "  {} [{}]: {}",
                c.probe,
                r.config_label(&c.config),
                c.reason
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn keep(r: &Report, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    report::write_all(r, &dir).expect("write report");
    eprintln!("report written to {}", dir.display());
}

/// The full built-in matrix on the host's backend: no cell may fail.
#[test]
fn builtin_matrix_has_no_failed_cell() {
    let r = run(&request(Backend::host_default()));
    keep(&r, "matrix-host");
    assert_eq!(r.cells.len(), 128 * r.probes.len());
    assert!(
        !r.failed(),
        "{} failed cells:\n{}",
        r.summary.fail,
        failures(&r)
    );
    if !enforcement_required("builtin_matrix_has_no_failed_cell") {
        return;
    }
    // Where a backend enforces, every probe that runs on this host (its
    // control run is allowed) must have observed passes: 0 pass / all
    // inconclusive is not a green matrix.
    for c in r.controls.iter().filter(|c| c.verdict == "allowed") {
        let passes = r
            .cells
            .iter()
            .filter(|x| x.probe == c.probe && x.status.is_pass())
            .filter(|x| matches!(x.evidence, matrix::cell::Evidence::Observed { .. }))
            .count();
        assert!(
            passes > 0,
            "probe {} runs here but has no observed pass",
            c.probe
        );
    }
}

/// Whether this host has an enforcing backend. Without one the tests that
/// need enforcement say so, and fail in CI (which always has one).
fn enforcement_required(test: &str) -> bool {
    if host_enforces() {
        return true;
    }
    eprintln!("{test}: no enforcing backend on this host: observation not checked");
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: CI must have an enforcing backend"
    );
    false
}

/// Model against spec for every config the builder accepts (all 2^7
/// combinations of the dimensions), with no enforcement at all: this is
/// where a builder ordering bug (a later allow re-granting HID) shows up.
#[test]
fn model_matches_the_spec_for_every_config() {
    let r = run(&request(Backend::None));
    assert_eq!(r.summary.pass, 0, "backend none must never produce a pass");
    let undecided: Vec<String> = r
        .cells
        .iter()
        .filter(|c| c.model.is_none())
        .map(|c| {
            format!(
                "{} [{}]: {}",
                c.probe,
                r.config_label(&c.config),
                c.model_reason
            )
        })
        .collect();
    eprintln!(
        "model undecided in {} cells (first: {:?})",
        undecided.len(),
        undecided.first()
    );
    assert!(
        !r.failed(),
        "{} cells where the model disagrees with the spec:\n{}",
        r.summary.fail,
        failures(&r)
    );
}

/// Flipping one allowed_when in a copy of the spec makes the matrix fail,
/// even with no enforcement (expected vs model).
#[test]
fn flipping_one_expectation_fails() {
    let flipped = matrix::expect::BUILTIN.replace(
        "allowed_when = \"posix_ipc.semaphores\"",
        "allowed_when = \"!posix_ipc.semaphores\"",
    );
    assert_ne!(
        flipped,
        matrix::expect::BUILTIN,
        "the sem entry moved; update this test"
    );
    let mut req = request(Backend::None);
    req.expectations = Some((flipped, "flipped copy".into()));
    req.probes = Some(vec!["sem".into()]);
    let r = run(&req);
    assert_eq!(
        r.summary.fail,
        128,
        "every sem cell must fail:\n{}",
        failures(&r)
    );
    assert!(r.cells.iter().all(|c| c.reason.contains("model predicts")));
}

/// A fake probe: a bash script standing in for beltcheck-probe (bash, not
/// sh: the verdict channel's descriptor number may be above 9, which dash
/// refuses in a redirection), alone in its own directory. It is kept outside
/// /tmp so the Linux backend's private /tmp does not hide it.
struct FakeProbe {
    path: PathBuf,
    dir: PathBuf,
}

fn fake_probe_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fake-probe-dirs")
        .join(name)
}

fn fake_probe(name: &str, body: &str) -> FakeProbe {
    let dir = fake_probe_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("probe");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "#!/bin/bash\n{body}").unwrap();
    drop(f);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    FakeProbe { path, dir }
}

/// A request on the host's backend that runs `fake` and grants the strict
/// profile exactly the fake's own directory (the shell must read the
/// script; macOS's strict profile reads nothing under target/ otherwise).
fn fake_request(fake: &FakeProbe) -> Request {
    let mut req = request(Backend::host_default());
    req.probe_bin = Some(fake.path.clone());
    req.base.filesystem.read_only = vec![fake.dir.to_string_lossy().into_owned()];
    req
}

/// Sends a report on the verdict channel, as beltcheck-probe does.
fn verdict_json(verdict: &str) -> String {
    format!(
        "echo 'verdict {{\"probe\":\"'\"$1\"'\",\"verdict\":\"{verdict}\",\"errno\":null,\"step\":\"fake\",\"detail\":\"fake probe\",\"duration_us\":1}}' >&\"$BELTCHECK_VERDICT_FD\""
    )
}

/// The single config where every dimension is on.
const ALL_ON: &str = "nested_pty && keychain_access && gui_access && ui.injection && posix_ipc.semaphores && unix_socket && network.outbound";
const ALL_OFF: &str = "!nested_pty && !keychain_access && !gui_access && !ui.injection && !posix_ipc.semaphores && !unix_socket && !network.outbound";

/// Whether the host backend enforces; when it does not, the observation
/// tests say so and check the inconclusive path instead of claiming a pass.
fn host_enforces() -> bool {
    matrix::adapter::BackendHandle::resolve(Backend::host_default()).enforcing()
}

/// Each distinct sandbox is launched once and shared: on Linux the
/// `gui_access` twins of a config compile to the same policy.
#[test]
fn distinct_launches_are_shared() {
    let mut req = request(Backend::host_default());
    req.probes = Some(vec!["sem".into()]);
    let r = run(&req);
    assert_eq!(r.launches, r.distinct_launches * r.repeat);
    if !enforcement_required("distinct_launches_are_shared") {
        eprintln!("no enforcing backend here: nothing is launched");
        assert_eq!(r.launches, 0);
        return;
    }
    assert!(r.distinct_launches > 0);
    let shared = r.cells.iter().filter(|c| {
        matches!(&c.evidence, matrix::cell::Evidence::Observed { launch, .. } if launch.shared_by > 1)
    });
    if Backend::host_default() == Backend::Linux {
        assert_eq!(r.distinct_launches, 64, "128 sem configs, gui_access twins");
        assert!(shared.count() > 0);
        assert!(r
            .cells
            .iter()
            .any(|c| c.evidence.to_string().contains("shared by 2 cells")));
    }
}

/// `--cover 2`: a pairwise covering array of the 128 configs runs far
/// fewer cells, every pair of options still meets, and the report says
/// which coverage it used.
#[test]
fn a_pairwise_cover_runs_few_configs_and_says_so() {
    let mut req = request(Backend::host_default());
    req.probes = Some(vec!["sem".into()]);
    req.cover = "2".parse().unwrap();
    let r = run(&req);
    assert_eq!(r.meta.coverage, "2-wise");
    let configs: Vec<&report::ConfigValues> = r.cells.iter().map(|c| &c.config).collect();
    assert!(configs.len() < 16, "{} configs", configs.len());
    let dims = &r.dimensions;
    use report::ConfigValue::Bool;
    for a in 0..dims.len() {
        for b in a + 1..dims.len() {
            for (va, vb) in [(false, false), (false, true), (true, false), (true, true)] {
                assert!(
                    configs
                        .iter()
                        .any(|c| c[&dims[a]] == Bool(va) && c[&dims[b]] == Bool(vb)),
                    "{}={va} with {}={vb} never runs",
                    dims[a],
                    dims[b]
                );
            }
        }
    }
    if enforcement_required("a_pairwise_cover_runs_few_configs_and_says_so") {
        assert_eq!(r.summary.fail, 0, "{}", failures(&r));
        assert!(r.summary.pass > 0);
    }
    let md = report::markdown::render(&r);
    assert!(md.contains("2-wise covering array"), "{md}");
}

/// `--repeat`: runs of one launch that disagree are reported as flaky,
/// never as a pass or a fail.
#[test]
fn disagreeing_repeats_are_flaky() {
    // Allowed where it can write next to itself (outside the sandbox: the
    // control run; inside, its directory is read-only); inside, a coin toss
    // per run from /dev/urandom. The directory is the one `fake_probe`
    // creates, so a clean checkout has it too.
    let dir = fake_probe_dir("coin");
    let body = format!(
        "if touch {w} 2>/dev/null; then {allowed}; exit; fi\n\
         b=$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')\n\
         if [ $((b % 2)) = 0 ]; then {allowed}; else {denied}; fi",
        w = dir.join(".coin-writable").display(),
        allowed = verdict_json("allowed"),
        denied = verdict_json("denied"),
    );
    let coin = fake_probe("coin", &body);
    let mut req = fake_request(&coin);
    req.probes = Some(vec!["sem".into()]);
    req.configs = Some(ALL_OFF.into());
    req.repeat = 24;
    let r = run(&req);
    let cell = &r.cells[0];
    assert_eq!(
        cell.status.kind(),
        matrix::cell::StatusKind::Inconclusive,
        "{}",
        cell.reason
    );
    if enforcement_required("disagreeing_repeats_are_flaky") {
        assert_eq!(r.launches, 24);
        assert!(
            cell.reason
                .contains("flaky: 24 runs of the same launch disagree"),
            "{}",
            cell.reason
        );
    }
}

#[test]
fn a_lying_probe_fails_its_cell() {
    let liar = fake_probe("liar", &verdict_json("allowed"));
    let mut req = fake_request(&liar);
    req.probes = Some(vec!["sem".into()]);
    req.configs = Some(ALL_OFF.into());
    let r = run(&req);
    let cell = &r.cells[0];
    assert_eq!(cell.expected, matrix::cell::Access::Deny);
    if enforcement_required("a_lying_probe_fails_its_cell") {
        assert_eq!(
            cell.status.kind(),
            matrix::cell::StatusKind::Fail,
            "{}",
            cell.reason
        );
        assert!(cell.reason.contains("observed allowed"), "{}", cell.reason);
    } else {
        eprintln!("inconclusive: no enforcing backend on this host, so a lie cannot be caught by observation");
        assert_eq!(
            cell.status.kind(),
            matrix::cell::StatusKind::Inconclusive,
            "{}",
            cell.reason
        );
    }
}

/// A probe that hangs inside the sandbox only (the control run, outside,
/// sees the marker file in the host's /tmp; the sandbox's /tmp is private on
/// Linux) is killed at the limit and reported inconclusive with the reason.
#[test]
fn a_hanging_probe_is_killed_and_inconclusive() {
    let marker = tempfile::NamedTempFile::new_in("/tmp").unwrap();
    let body = format!(
        "if [ -e {} ]; then {}; else exec sleep 30; fi",
        marker.path().display(),
        verdict_json("allowed")
    );
    let hang = fake_probe("hang", &body);
    let mut req = fake_request(&hang);
    req.probes = Some(vec!["sem".into()]);
    req.configs = Some(ALL_ON.into());
    req.timeout = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let r = run(&req);
    let cell = &r.cells[0];
    assert_eq!(
        cell.status.kind(),
        matrix::cell::StatusKind::Inconclusive,
        "{}",
        cell.reason
    );
    if enforcement_required("a_hanging_probe_is_killed_and_inconclusive") {
        assert!(
            cell.reason.contains("probe hung: killed after 1.0s"),
            "{}",
            cell.reason
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the run did not go on: {:?}",
        started.elapsed()
    );
}

#[test]
fn a_crashing_probe_is_inconclusive_with_the_signal() {
    let crash = fake_probe("crash", "kill -SEGV $$");
    let mut req = fake_request(&crash);
    req.probes = Some(vec!["sem".into()]);
    req.configs = Some(ALL_ON.into());
    let r = run(&req);
    let cell = &r.cells[0];
    assert_eq!(
        cell.status.kind(),
        matrix::cell::StatusKind::Inconclusive,
        "{}",
        cell.reason
    );
    // The control run crashes too, so the reason names it there.
    assert!(
        cell.reason.contains("crashed (signal 11)"),
        "{}",
        cell.reason
    );
}

/// A fake probe that reports `allowed` outside the sandbox (it sees the
/// marker file in the host's /tmp) and inside it dies by `signal` in the
/// modes `crash_when` names (a `case` pattern over its first argument).
fn crashes_inside(name: &str, marker: &Path, crash_when: &str) -> FakeProbe {
    let body = format!(
        "if [ -e {} ]; then {}; else case \"$1\" in {crash_when}) kill -ABRT $$;; esac; {}; fi",
        marker.display(),
        verdict_json("allowed"),
        verdict_json("allowed"),
    );
    fake_probe(name, &body)
}

/// A profile under which even the do-nothing canary dies is reported as
/// that one finding in every crashed cell, not as N probe crashes.
#[test]
fn a_profile_that_kills_every_process_is_one_finding() {
    let marker = tempfile::NamedTempFile::new_in("/tmp").unwrap();
    let fake = crashes_inside("kills-all", marker.path(), "*");
    let mut req = fake_request(&fake);
    req.probes = Some(vec!["sem".into(), "pty".into()]);
    req.configs = Some("nested_pty && posix_ipc.semaphores && !network.outbound".into());
    let r = run(&req);
    assert_eq!(r.cells.len(), 32);
    if !host_enforces() {
        eprintln!("inconclusive: no enforcing backend on this host, so no cell ran sandboxed");
        return;
    }
    for c in &r.cells {
        assert!(c.status.is_inconclusive(), "{}", c.reason);
        assert!(
            c.reason.contains(matrix::canary::KILLS_EVERY_PROCESS),
            "{}",
            c.reason
        );
    }
    let reasons: std::collections::BTreeSet<&str> =
        r.cells.iter().map(|c| c.reason.as_str()).collect();
    assert_eq!(
        reasons.len(),
        1,
        "one finding, not one per cell: {reasons:?}"
    );
}

/// A probe that crashes while the canary lives keeps its own crash reason.
#[test]
fn a_probe_crash_with_a_living_canary_stays_a_probe_crash() {
    let marker = tempfile::NamedTempFile::new_in("/tmp").unwrap();
    let fake = crashes_inside("crash-alone", marker.path(), "sem");
    let mut req = fake_request(&fake);
    req.probes = Some(vec!["sem".into()]);
    req.configs = Some(ALL_ON.into());
    let r = run(&req);
    let cell = &r.cells[0];
    assert!(cell.status.is_inconclusive(), "{}", cell.reason);
    if host_enforces() {
        // Linux's bwrap reports the death as exit 134, macOS as the signal.
        assert!(
            cell.reason.contains("crashed (signal 6)") || cell.reason.contains("exited 134"),
            "{}",
            cell.reason
        );
        assert!(
            !cell.reason.contains(matrix::canary::KILLS_EVERY_PROCESS),
            "{}",
            cell.reason
        );
    }
}

/// Cells of a probe that fails unsandboxed are inconclusive, never passes.
#[test]
fn a_failed_control_run_makes_cells_inconclusive() {
    let broken = fake_probe("unsupported", &verdict_json("unsupported"));
    let mut req = fake_request(&broken);
    req.probes = Some(vec!["pty".into()]);
    req.configs = Some("nested_pty && !gui_access && keychain_access".into());
    let r = run(&req);
    assert!(!r.cells.is_empty());
    for c in &r.cells {
        assert_eq!(c.status.kind(), matrix::cell::StatusKind::Inconclusive);
        assert!(
            c.reason
                .starts_with("control run (unsandboxed): unsupported"),
            "{}",
            c.reason
        );
        assert!(c.observed.is_none());
    }
}

#[test]
fn bad_input_is_named() {
    let mut req = request(Backend::None);
    req.probes = Some(vec!["nope".into()]);
    assert!(run_request(&req).unwrap_err().contains("\"nope\""));
    let mut req = request(Backend::None);
    req.expectations = Some((
        "[[probe]]\nname = \"sem\"\nallowed_when = \"sem &&\"\n".into(),
        "x.toml".into(),
    ));
    let e = run_request(&req).unwrap_err();
    assert!(
        e.contains("x.toml") && e.contains("\"sem\"") && e.contains("column"),
        "{e}"
    );
}

/// The verdict travels on its own channel: a report the probe prints on the
/// pty (where the workload's own output goes) is no verdict at all.
#[test]
fn a_report_printed_on_the_pty_is_not_a_verdict() {
    let on_pty = verdict_json("allowed")
        .replace(" >&\"$BELTCHECK_VERDICT_FD\"", "")
        .replace("'verdict {", "'{");
    let printer = fake_probe("printer", &on_pty);
    let mut req = request(Backend::None);
    req.probe_bin = Some(printer.path);
    req.probes = Some(vec!["sem".into()]);
    req.configs = Some(ALL_ON.into());
    let r = run(&req);
    let cell = &r.cells[0];
    assert!(cell.status.is_inconclusive(), "{}", cell.reason);
    assert!(cell.reason.contains("without a verdict"), "{}", cell.reason);
}

#[test]
fn repeat_out_of_range_is_named() {
    for bad in ["0", "101"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_beltcheck"))
            .args(["matrix", "--backend", "none", "--repeat", bad, "--out"])
            .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("never-written"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("--repeat: {bad} ")), "{err}");
    }
}

/// The probe reads the stage's status under the same name the stage sets.
#[test]
fn stage_status_names_agree() {
    assert_eq!(runner::stage::STATUS_ENV, probes::report::STAGE_STATUS_ENV);
}
