//! Evidence from real Macs (issue 17): public facts, checked in as data
//! (`tests/evidence/facts.toml`), hold for the built profiles and the model.
//!
//! (a) With each option on, the built profile grants what real programs
//!     were seen to need for that capability; with it off, the strict
//!     profile denies it. (b) The model reproduces every measured
//!     precedence fact. Nothing here runs a sandbox.

#[path = "evidence/loader.rs"]
mod loader;

use loader::{Check, Fact, Status, CAPABILITIES};
use profile::config::{Baseline, Config, Outbound, OutboundMode};
use profile::model::{Decision, Model, Request};
use profile::path::HostEnv;
use profile::{build, BuildOptions, ValueMode};
use std::collections::BTreeMap;

const HOME: &str = "/Users/u";

fn env() -> HostEnv {
    HostEnv {
        home: Some(HOME.into()),
        user: Some("u".into()),
        uid: 501,
    }
}

fn facts() -> Vec<Fact> {
    loader::load().unwrap().fact
}

/// `config` with the fact's option set to `on`.
fn with_option(mut c: Config, check: &Check, on: bool) -> Config {
    let value = || check.value.clone().expect("this option needs a value");
    match check.option.as_str() {
        "keychain_access" => c.keychain_access = on,
        "nested_pty" => c.nested_pty = on,
        "posix_ipc.semaphores" => c.posix_ipc.semaphores = on,
        "posix_ipc.shared_memory" => c.posix_ipc.shared_memory = on,
        "unix_socket_connects" => c.unix_socket_connects = if on { vec![value()] } else { vec![] },
        "ui.injection" => c.ui.injection = on,
        "gui_access" => c.gui_access = on,
        "network.allow" => {
            c.network.outbound = Outbound::Mode(if on {
                OutboundMode::Allow
            } else {
                OutboundMode::Deny
            })
        }
        "network.proxy" => {
            c.network.outbound = match on {
                true => Outbound::Proxy {
                    proxy_port: value().parse().unwrap(),
                },
                false => Outbound::Mode(OutboundMode::Deny),
            }
        }
        other => panic!("unknown option {other:?} in facts.toml"),
    }
    c
}

/// Every option on at once.
fn everything(baseline: Baseline) -> Config {
    let mut c = Config {
        baseline,
        keychain_access: true,
        nested_pty: true,
        gui_access: true,
        unix_socket_connects: vec!["/tmp/s.sock".into()],
        ..Config::default()
    };
    c.ui.injection = true;
    c.posix_ipc.semaphores = true;
    c.posix_ipc.shared_memory = true;
    c.network.outbound = Outbound::Mode(OutboundMode::Allow);
    c
}

fn model_of(config: &Config) -> Model {
    let opts = BuildOptions {
        mode: ValueMode::Param,
        env: env(),
        program: None,
    };
    let p = build(config, &opts).unwrap();
    Model::compile(&p.sbpl, &p.params).unwrap()
}

fn requests(check: &Check) -> Vec<Request> {
    check
        .requests
        .iter()
        .map(|r| r.request(HOME).unwrap())
        .collect()
}

fn decisions(model: &Model, reqs: &[Request]) -> Vec<(String, Decision)> {
    reqs.iter()
        .map(|r| (format!("{} {:?}", r.op, r.arg), model.verdict(r)))
        .collect()
}

#[test]
fn facts_cover_every_capability_with_sources_and_quotes() {
    let facts = facts();
    assert!(facts.len() >= 40, "{} facts", facts.len());
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ids = Vec::new();
    for f in &facts {
        assert!(
            CAPABILITIES.contains(&f.capability.as_str()),
            "{}: capability {}",
            f.id,
            f.capability
        );
        *per.entry(f.capability.as_str()).or_default() += 1;
        assert!(!ids.contains(&&f.id), "duplicate id {}", f.id);
        ids.push(&f.id);
        assert!(
            f.source.starts_with("https://github.com/") || f.source.contains(':'),
            "{}",
            f.id
        );
        for s in f.also.iter().chain(&f.disputed_by) {
            assert!(
                s.starts_with("https://") || s.contains(':'),
                "{}: {s}",
                f.id
            );
        }
        assert!(
            !f.quote.trim().is_empty() && f.quote.len() <= 300,
            "{}: quote",
            f.id
        );
        assert!(
            !f.claim.trim().is_empty() && !f.release.is_empty(),
            "{}",
            f.id
        );
        match f.status {
            Status::Agreed => assert!(!f.also.is_empty(), "{}: agreed by whom?", f.id),
            Status::Contested => assert!(
                !f.disputed_by.is_empty() && f.builder_side.is_some(),
                "{}: a contested fact names who disputes it and the builder's side",
                f.id
            ),
            Status::Single => {}
        }
        assert!(
            f.check.is_none() || f.precedence.is_none(),
            "{}: one kind of check per fact",
            f.id
        );
    }
    for cap in CAPABILITIES {
        assert!(per.get(cap).copied().unwrap_or(0) >= 4, "{cap}: {per:?}");
    }
}

/// Every capability but precedence has a fact the built profiles are
/// checked against, and precedence facts all carry a profile.
#[test]
fn every_capability_is_checked_against_the_builder_or_the_model() {
    let facts = facts();
    for cap in CAPABILITIES {
        let checked = facts
            .iter()
            .filter(|f| f.capability == cap)
            .any(|f| match cap {
                "precedence" => f.precedence.is_some(),
                _ => f.check.is_some(),
            });
        assert!(checked, "{cap}: no checked fact");
    }
}

/// (a) for options: on grants every request under both baselines; off
/// leaves the capability denied under the strict baseline.
#[test]
fn options_grant_what_real_programs_needed_and_deny_it_when_off() {
    let mut failures = Vec::new();
    for f in facts() {
        let Some(check) = &f.check else { continue };
        let reqs = requests(check);
        match check.option.as_str() {
            "baseline" => {
                let m = model_of(&Config::default());
                for (what, d) in decisions(&m, &reqs) {
                    if d != Decision::Allow {
                        failures.push(format!("{}: strict default: {what} -> {d}", f.id));
                    }
                }
            }
            "always-denied" => {
                for b in [Baseline::Strict, Baseline::Permissive] {
                    let m = model_of(&everything(b));
                    for (what, d) in decisions(&m, &reqs) {
                        if d != Decision::Deny {
                            failures
                                .push(format!("{}: everything on ({b:?}): {what} -> {d}", f.id));
                        }
                    }
                }
            }
            _ => {
                for b in [Baseline::Strict, Baseline::Permissive] {
                    let base = Config {
                        baseline: b,
                        ..Config::default()
                    };
                    let m = model_of(&with_option(base, check, true));
                    for (what, d) in decisions(&m, &reqs) {
                        if d != Decision::Allow {
                            failures.push(format!(
                                "{}: {} on ({b:?}): {what} -> {d}",
                                f.id, check.option
                            ));
                        }
                    }
                }
                let off = model_of(&with_option(Config::default(), check, false));
                let got = decisions(&off, &reqs);
                if !got.iter().any(|(_, d)| *d == Decision::Deny) {
                    failures.push(format!(
                        "{}: {} off (strict) denies nothing: {got:?}",
                        f.id, check.option
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (b) the model reproduces every measured precedence fact.
#[test]
fn model_reproduces_every_precedence_fact() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for f in facts() {
        for p in f.precedence.iter().chain(&f.precedence_more) {
            let m = Model::compile(&p.profile, &BTreeMap::new()).unwrap();
            for r in &p.expect {
                cases += 1;
                let req = r.request(HOME).unwrap();
                let got = m.decide(&req);
                if got.decision != r.expected().unwrap() {
                    failures.push(format!(
                        "{}: {} {:?}: {}",
                        f.id, req.op, req.arg, got.reason
                    ));
                }
            }
        }
    }
    assert!(cases >= 10, "{cases} precedence cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Contested facts: the builder's side must hold on both readings. For the
/// socket spelling that means the text names both spellings, whichever the
/// kernel matches.
#[test]
fn contested_socket_spelling_is_covered_on_both_readings() {
    let config = Config {
        unix_socket_connects: vec![
            "/tmp/a.sock".into(),
            "/private/tmp/a.sock".into(),
            "/var/run/b.sock".into(),
        ],
        ..Config::default()
    };
    let opts = BuildOptions {
        mode: ValueMode::Inline,
        env: env(),
        program: None,
    };
    let text = build(&config, &opts).unwrap().sbpl;
    for spelled in [
        "/tmp/a.sock",
        "/private/tmp/a.sock",
        "/var/run/b.sock",
        "/private/var/run/b.sock",
    ] {
        let rule = format!("(allow network-outbound (literal \"{spelled}\"))");
        assert_eq!(text.matches(&rule).count(), 1, "{rule} once in\n{text}");
    }
    assert_eq!(
        text.matches("(allow system-socket (socket-domain AF_UNIX))")
            .count(),
        1
    );
}

/// The contested-facts list the report needs, kept honest: every
/// contested fact is listed here, so adding one means deciding its side.
#[test]
fn contested_facts_are_the_known_ones() {
    let contested: Vec<String> = facts()
        .into_iter()
        .filter(|f| f.status == Status::Contested)
        .map(|f| f.id)
        .collect();
    assert_eq!(
        contested,
        [
            "sem-processpool-sysctl",
            "unix-logged-in-private-form",
            "unix-tmp-spelling-differs",
            "tiocsti-refused-by-deny-default",
        ]
    );
}

/// bare-private-traversal and unix-tmp-spelling-differs: the links
/// `/tmp`, `/var`, `/etc` are read as themselves (lstat does not follow
/// them). The model resolves every request path, so this is a text check.
#[test]
fn strict_baseline_reads_the_private_links_themselves() {
    let opts = BuildOptions {
        mode: ValueMode::Param,
        env: env(),
        program: None,
    };
    let text = build(&Config::default(), &opts).unwrap().sbpl;
    assert!(
        text.contains(r#"(allow file-read* (literal "/tmp") (literal "/var") (literal "/etc"))"#),
        "{text}"
    );
}

#[test]
fn a_request_with_two_arguments_is_an_error() {
    let r: loader::RawRequest =
        toml::from_str("op = \"x\"\npath = \"/a\"\nglobal_name = \"b\"").unwrap();
    assert!(r.request(HOME).unwrap_err().contains("more than one"));
}
