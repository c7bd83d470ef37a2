//! The matrix on the Linux backend reads what the backend cannot enforce
//! from the compiled policy, value by value: a dimension with no Linux
//! meaning makes a cell inconclusive only when it is set to grant.
#![cfg(target_os = "linux")]

mod common;

use beltcheck::cmd::matrix::{run_request, Request};
use beltcheck::matrix::cell::StatusKind;
use beltcheck::matrix::execute::Progress;
use beltcheck::report::ConfigValue;
use runner::launch::Backend;

#[test]
fn pty_is_observed_denied_when_gui_access_is_off_and_inconclusive_when_on() {
    let probe = common::bin_dir().join("beltcheck-probe");
    let req = Request {
        backend: Backend::Linux,
        jobs: 2,
        progress: Progress::Quiet,
        probes: Some(vec!["pty".into()]),
        configs: Some("!nested_pty && !keychain_access && !ui.injection && !unix_socket".into()),
        probe_bin: Some(probe),
        ..Request::new()
    };
    let r = run_request(&req).unwrap_or_else(|e| panic!("matrix could not run: {e}"));
    assert!(!r.cells.is_empty());
    for c in &r.cells {
        let gui = c.config["gui_access"] == ConfigValue::Bool(true);
        let observed = c.observed.as_ref().map(|o| o.verdict.as_str());
        if gui {
            assert_eq!(c.status.kind(), StatusKind::Inconclusive, "{c:?}");
            assert!(c.reason.contains("gui_access"), "{c:?}");
        } else {
            // Nothing to express: gui_access = false is enforced trivially,
            // and the backend's pty denial is observed.
            assert_eq!(
                (c.status.kind(), observed),
                (StatusKind::Pass, Some("denied")),
                "{c:?}"
            );
        }
    }
}
