//! Property: a decision never rests on a form the model did not evaluate.
//! A profile with an unevaluated form naming an operation of the request's
//! family never yields a definite answer for that family.

use profile::model::{Decision, Model, Request};
use proptest::prelude::*;
use std::collections::BTreeMap;

const OPS: &[&str] = &[
    "file-read-data",
    "file-write-data",
    "file-read*",
    "file*",
    "mach-lookup",
    "mach-register",
    "network-outbound",
    "iokit-open",
    "sysctl-read",
];

const RULES: &[&str] = &[
    "(allow file-read* (subpath \"/a\"))",
    "(deny file-write* (literal \"/a/b\"))",
    "(allow mach-lookup (global-name \"x\"))",
    "(allow network-outbound)",
    "(deny iokit-open)",
    "(allow sysctl-read (sysctl-name \"hw.ncpu\"))",
    "(allow default)",
];

fn family(op: &str) -> &str {
    &op[..op.find(['-', '*']).unwrap_or(op.len())]
}

proptest! {
    #[test]
    fn unevaluated_form_in_the_family_is_never_definite(
        rules in prop::collection::vec(prop::sample::select(RULES), 0..6),
        hidden_op in prop::sample::select(OPS),
        req_op in prop::sample::select(OPS),
        path in prop::sample::select(&["/a/x", "/a/b", "/z"][..]),
    ) {
        let mut text = String::from("(version 1)(deny default)");
        for r in &rules { text.push_str(r); }
        // A rule on `hidden_op` whose filter the model cannot evaluate.
        text.push_str(&format!("(allow {hidden_op} (mystery-filter \"/a\"))"));
        let m = Model::compile(&text, &BTreeMap::new()).expect("compiles");
        let e = m.decide(&Request::path(req_op, path));
        if family(hidden_op) == family(req_op) {
            prop_assert_eq!(e.decision.clone(), Decision::Unknown, "{}", e.reason);
            prop_assert_eq!(m.verdict(&Request::path(req_op, path)), Decision::Unknown);
        }
    }
}
