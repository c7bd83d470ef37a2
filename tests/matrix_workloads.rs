//! The workload probes (real programs: python3 multiprocessing, `script`,
//! a python3 socket client) under the Linux backend with bubblewrap: every
//! cell is observed, allowed or denied exactly as the spec says, never
//! unsupported or inconclusive. Runs as root and, through
//! `ci/test-as-user.sh`, as an ordinary user (who must be able to read and
//! exec /usr/bin/python3 inside the sandbox). `.ci/run` installs Debian's
//! python3 and bubblewrap; a host without them fails here, it does not skip.
#![cfg(target_os = "linux")]

mod common;

use beltcheck::cmd::matrix::{run_request, Request};
use beltcheck::matrix::cell::{Access, StatusKind};
use beltcheck::matrix::execute::Progress;
use runner::launch::Backend;

/// The workload probes that have a program on Linux.
const LINUX_WORKLOADS: [&str; 3] = ["workload-sem", "workload-pty", "workload-unix-connect"];

/// Only the dimensions these probes hinge on vary (8 configs): the others
/// would repeat the same launches.
const CONFIGS: &str = "!keychain_access && !gui_access && !ui.injection && !network.outbound";

#[test]
fn workload_cells_are_observed_allowed_or_denied_as_the_spec_says() {
    assert!(
        probes::workload::installed(probes::workload::PYTHON),
        "{} missing: .ci/run installs Debian's python3",
        probes::workload::PYTHON
    );
    let mut probes: Vec<String> = LINUX_WORKLOADS.iter().map(|p| p.to_string()).collect();
    probes.push("workload-keychain".into());
    let req = Request {
        backend: Backend::Linux,
        jobs: 2,
        progress: Progress::Quiet,
        probes: Some(probes),
        configs: Some(CONFIGS.into()),
        probe_bin: Some(common::bin_dir().join("beltcheck-probe")),
        ..Request::new()
    };
    let r = run_request(&req).unwrap_or_else(|e| panic!("matrix could not run: {e}"));
    for probe in LINUX_WORKLOADS {
        let cells: Vec<_> = r.cells.iter().filter(|c| c.probe == probe).collect();
        assert_eq!(cells.len(), 8, "{probe}");
        for c in &cells {
            let observed = c.observed.as_ref().map(|o| o.verdict.as_str());
            let want = match c.expected {
                Access::Allow => "allowed",
                Access::Deny => "denied",
            };
            assert_eq!(
                (c.status.kind(), observed),
                (StatusKind::Pass, Some(want)),
                "{probe}: {c:#?}"
            );
        }
        for access in [Access::Allow, Access::Deny] {
            assert!(
                cells.iter().any(|c| c.expected == access),
                "{probe}: no cell expects {access:?}"
            );
        }
    }
    // security(1) is macOS's: the control run says so, and no cell of it
    // claims an answer.
    let control = r
        .controls
        .iter()
        .find(|c| c.probe == "workload-keychain")
        .expect("a control run of workload-keychain");
    assert_eq!(control.verdict, "unsupported", "{control:?}");
    for c in r.cells.iter().filter(|c| c.probe == "workload-keychain") {
        assert_eq!(c.status.kind(), StatusKind::Inconclusive, "{c:#?}");
    }
}
