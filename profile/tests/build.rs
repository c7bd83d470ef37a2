//! The builder: snapshots of the default profile and of each option toggled
//! alone, structural guarantees, and no injection through any value.

use profile::ast::{Node, NodeKind};
use profile::config::{Baseline, Clipboard, Config, Outbound, OutboundMode};
use profile::path::HostEnv;
use profile::sbpl::{assemble, Assembled, Block, ORDER};
mod common;

use common::{arena, read};
use profile::{build, BuildOptions, ValueMode};
use proptest::prelude::*;
use rstest::rstest;

fn env() -> HostEnv {
    HostEnv {
        home: Some("/Users/u".into()),
        user: Some("u".into()),
        uid: 501,
    }
}

fn opts(mode: ValueMode) -> BuildOptions {
    BuildOptions {
        mode,
        env: env(),
        program: None,
    }
}

fn baseline_config(baseline: Baseline) -> Config {
    Config {
        baseline,
        ..Config::default()
    }
}

fn blocks_of(config: &Config, mode: ValueMode) -> Assembled {
    assemble(&config.validate(&env()).unwrap(), mode).unwrap()
}

fn name(b: Baseline) -> &'static str {
    match b {
        Baseline::Strict => "strict",
        Baseline::Permissive => "permissive",
    }
}

#[rstest]
fn default_profile(#[values(Baseline::Strict, Baseline::Permissive)] baseline: Baseline) {
    let p = build(&baseline_config(baseline), &opts(ValueMode::Param)).unwrap();
    // The only user values of a default config: the permissive baseline's
    // secret stores, under the test HOME.
    let secrets: Vec<String> = match baseline {
        Baseline::Strict => Vec::new(),
        Baseline::Permissive => profile::secrets::SECRETS
            .iter()
            .map(|(p, _)| p.replace('~', "/Users/u"))
            .collect(),
    };
    let mut got: Vec<String> = p.params.values().cloned().collect();
    got.sort();
    let mut want = secrets;
    want.sort();
    assert_eq!(got, want);
    insta::assert_snapshot!(format!("default_{}", name(baseline)), p.sbpl);
}

/// Changes one option of a config.
type Toggle = fn(&mut Config);

/// Each option changed alone from the defaults.
fn toggles() -> Vec<(&'static str, Toggle)> {
    vec![
        ("nested_pty_off", |c| c.nested_pty = false),
        ("keychain_access_on", |c| c.keychain_access = true),
        ("gui_access_on", |c| c.gui_access = true),
        ("unix_socket_connects", |c| {
            c.unix_socket_connects = vec!["/tmp/<USER>/agent.sock".into()]
        }),
        ("extra_mach_lookups", |c| {
            c.extra_mach_lookups = vec!["com.example.helper".into()]
        }),
        ("ui_disable_off", |c| c.ui.disable = false),
        ("ui_injection_on", |c| c.ui.injection = true),
        ("ui_clipboard_read", |c| c.ui.clipboard = Clipboard::Read),
        ("posix_semaphores_off", |c| c.posix_ipc.semaphores = false),
        ("posix_shared_memory_on", |c| {
            c.posix_ipc.shared_memory = true
        }),
        ("fs_read_only", |c| {
            c.filesystem.read_only = vec!["/opt/data".into()]
        }),
        ("fs_read_write", |c| {
            c.filesystem.read_write = vec!["~/work".into(), "/tmp".into()]
        }),
        ("fs_denied", |c| c.filesystem.denied = vec!["~/.ssh".into()]),
        ("network_allow", |c| {
            c.network.outbound = Outbound::Mode(OutboundMode::Allow)
        }),
        ("network_proxy", |c| {
            c.network.outbound = Outbound::Proxy { proxy_port: 8080 }
        }),
    ]
}

/// The blocks a toggle changes, added or removed, as reviewable text.
fn changed_blocks(before: &[Block], after: &[Block]) -> String {
    let mut out = String::new();
    for name in ORDER {
        let a = before.iter().find(|b| b.name == name);
        let b = after.iter().find(|b| b.name == name);
        match (a, b) {
            (x, y) if x == y => {}
            (_, Some(b)) => out.push_str(&b.text),
            (Some(_), None) => out.push_str(&format!(";; {name}: removed\n")),
            (None, None) => unreachable!(),
        }
    }
    out
}

#[rstest]
fn toggled_blocks(
    #[values(Baseline::Strict, Baseline::Permissive)] baseline: Baseline,
    #[values(ValueMode::Param, ValueMode::Inline)] mode: ValueMode,
) {
    let base = blocks_of(&baseline_config(baseline), mode);
    for (toggle, apply) in toggles() {
        let mut config = baseline_config(baseline);
        apply(&mut config);
        let after = blocks_of(&config, mode);
        let mut text = changed_blocks(&base.blocks, &after.blocks);
        if !after.params.is_empty() {
            text.push_str(&format!("params: {:?}\n", after.params));
        }
        let mode_name = match mode {
            ValueMode::Param => "param",
            ValueMode::Inline => "inline",
        };
        let param = blocks_of(&config, ValueMode::Param);
        // Param and inline only differ for options with user values.
        if mode == ValueMode::Param || !param.params.is_empty() {
            insta::assert_snapshot!(format!("{}_{toggle}_{mode_name}", name(baseline)), text);
        } else {
            assert_eq!(
                after.blocks, param.blocks,
                "{toggle}: inline differs without values"
            );
        }
    }
}

/// Every config worth checking structurally: defaults and each toggle, in
/// both baselines, plus everything on at once.
fn all_configs() -> Vec<(String, Config)> {
    let mut out = Vec::new();
    for baseline in [Baseline::Strict, Baseline::Permissive] {
        out.push((
            format!("{}_default", name(baseline)),
            baseline_config(baseline),
        ));
        let mut everything = baseline_config(baseline);
        for (toggle, apply) in toggles() {
            let mut c = baseline_config(baseline);
            apply(&mut c);
            apply(&mut everything);
            out.push((format!("{}_{toggle}", name(baseline)), c));
        }
        out.push((format!("{}_everything", name(baseline)), everything));
    }
    out
}

fn rules(nodes: &[Node]) -> Vec<(String, String)> {
    nodes
        .iter()
        .filter_map(|n| {
            let items = n.as_list()?;
            let head = items.first()?.as_symbol()?.to_string();
            let op = items
                .get(1)
                .and_then(|x| x.as_symbol())
                .unwrap_or("")
                .to_string();
            Some((head, op))
        })
        .collect()
}

#[test]
fn every_profile_is_printable_ascii_and_reads_back() {
    for mode in [ValueMode::Param, ValueMode::Inline] {
        for (label, config) in all_configs() {
            let p = build(&config, &opts(mode)).unwrap();
            assert!(
                p.sbpl
                    .bytes()
                    .all(|b| b == b'\n' || (0x20..0x7f).contains(&b)),
                "{label}: not printable ASCII"
            );
            let nodes = read(&p.sbpl).unwrap_or_else(|e| panic!("{label}: {e}"));
            let rules = rules(&nodes);
            assert_eq!(rules[0], ("version".into(), String::new()), "{label}");
            let (first_head, first_op) = &rules[1];
            assert_eq!(first_op, "default", "{label}");
            let want = if config.baseline == Baseline::Strict {
                "deny"
            } else {
                "allow"
            };
            assert_eq!(first_head, want, "{label}");
        }
    }
}

#[test]
fn hid_deny_is_last_when_injection_is_off() {
    for (label, config) in all_configs() {
        if config.ui.injection {
            continue;
        }
        let p = build(&config, &opts(ValueMode::Param)).unwrap();
        let nodes = read(&p.sbpl).unwrap();
        let last = nodes.last().unwrap().as_list().unwrap();
        assert_eq!(last[0].as_symbol(), Some("deny"), "{label}");
        assert_eq!(last[1].as_symbol(), Some("iokit-open"), "{label}");
        assert_eq!(
            last[2].as_symbol(),
            Some("iokit-open-user-client"),
            "{label}"
        );
        let classes: Vec<_> = last[3..]
            .iter()
            .map(|f| match &f.as_list().unwrap()[1].kind {
                NodeKind::Str(s) => String::from_utf8(s.to_vec()).unwrap(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            classes,
            ["IOHIDLibUserClient", "IOHIDParamUserClient"],
            "{label}"
        );
    }
}

/// The emission order documented in `build/blocks.rs`, written out here
/// rather than read from `build::ORDER` (which the builder emits from, so
/// comparing with it proves nothing). Each block carries a rule text that
/// only its own body contains, so a header cannot drift from its body.
const DOCUMENTED_ORDER: [(&str, &str); 13] = [
    ("baseline", " default)"),
    ("program", "file-map-executable"),
    ("nested_pty", "pseudo-tty"),
    ("keychain_access", "\"com.apple.securityd\""),
    ("posix_ipc", "ipc-posix-"),
    ("unix_socket_connects", "(socket-domain AF_UNIX)"),
    ("extra_mach_lookups", "(allow mach-lookup (global-name "),
    ("filesystem", "(subpath "),
    ("network", "network-outbound"),
    ("gui_access", "(allow iokit-get-properties)"),
    ("ui", "mach-lookup"),
    ("tiocsti", "(deny file-ioctl (ioctl-command #x80017472))"),
    ("hid", "(iokit-user-client-class \"IOHIDLibUserClient\")"),
];

/// The emitted profile cut at its `;; name` block headers.
fn emitted_blocks(sbpl: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = sbpl;
    while let Some(header) = rest.strip_prefix(";; ") {
        let (name, body) = header.split_once('\n').unwrap_or((header, ""));
        let end = body.find("\n;; ").map_or(body.len(), |i| i + 1);
        out.push((name, &body[..end]));
        rest = &body[end..];
    }
    assert!(rest.is_empty(), "text outside any block: {rest:?}");
    out
}

#[test]
fn blocks_follow_the_documented_order() {
    let program = profile::Program {
        path: "/opt/tool/bin/tool".into(),
        real: None,
    };
    for (label, config) in all_configs() {
        let opts = BuildOptions {
            program: Some(program.clone()),
            ..opts(ValueMode::Param)
        };
        let p = build(&config, &opts).unwrap();
        let blocks = emitted_blocks(&p.sbpl);
        let mut last = None;
        for (name, body) in &blocks {
            let at = DOCUMENTED_ORDER.iter().position(|(n, _)| n == name);
            let Some(at) = at else {
                panic!("{label}: block {name:?} is not in the documented order")
            };
            assert!(
                last.is_none_or(|l| l < at),
                "{label}: {name} out of the documented order in {:?}",
                blocks.iter().map(|b| b.0).collect::<Vec<_>>()
            );
            last = Some(at);
            let signature = DOCUMENTED_ORDER[at].1;
            assert!(
                body.contains(signature),
                "{label}: block {name} lacks {signature:?}:\n{body}"
            );
        }
        // The blocks every config emits (program: under the strict
        // baseline), so the checks above always bite where it matters.
        let strict = config.baseline == Baseline::Strict;
        let always = ["baseline", "tiocsti", "hid"]
            .into_iter()
            .chain(strict.then_some("program"));
        for name in always {
            assert!(blocks.iter().any(|b| b.0 == name), "{label}: no {name}");
        }
    }
}

#[test]
fn gui_access_skips_nested_pty_and_lifts_ui_disable() {
    let c = Config {
        gui_access: true,
        ..Config::default()
    };
    let names: Vec<_> = blocks_of(&c, ValueMode::Param)
        .blocks
        .iter()
        .map(|b| b.name)
        .collect();
    assert!(!names.contains(&"nested_pty"), "{names:?}");
    let ui = blocks_of(&c, ValueMode::Param)
        .blocks
        .into_iter()
        .find(|b| b.name == "ui")
        .unwrap();
    assert!(!ui.text.contains("windowserver"), "{}", ui.text);
}

#[test]
fn denied_comes_after_read_write_within_filesystem() {
    let mut c = Config::default();
    c.filesystem.denied = vec!["/w/secret".into()];
    c.filesystem.read_write = vec!["/w".into()];
    c.filesystem.read_only = vec!["/w/ro".into()];
    let p = build(&c, &opts(ValueMode::Inline)).unwrap();
    let ro = p.sbpl.find("\"/w/ro\"").unwrap();
    let rw = p.sbpl.find("\"/w\"").unwrap();
    let denied = p.sbpl.find("\"/w/secret\"").unwrap();
    assert!(ro < rw && rw < denied, "{}", p.sbpl);
}

/// Param mode keeps values' exact bytes (after /private mapping), whatever
/// they are, and never writes them into the text.
#[test]
fn param_mode_carries_awkward_values_exactly() {
    let awkward = [
        "/tmp/caf\u{e9}",
        "/a\"b",
        "/a\\b",
        "/x\n) (allow default) (",
        "/t\tab",
    ];
    let mut c = Config::default();
    c.filesystem.read_write = awkward.iter().map(|s| s.to_string()).collect();
    let p = build(&c, &opts(ValueMode::Param)).unwrap();
    assert_eq!(p.params["READ_WRITE_0"], "/private/tmp/caf\u{e9}");
    for (i, raw) in awkward.iter().enumerate().skip(1) {
        assert_eq!(p.params[&format!("READ_WRITE_{i}")], *raw);
        assert!(p
            .sbpl
            .contains(&format!("(subpath (param \"READ_WRITE_{i}\"))")));
    }
    assert!(!p.sbpl.contains("caf"));
}

/// Inline mode refuses, naming the key path and value, what param mode takes.
#[rstest]
#[case::non_ascii("/caf\u{e9}", "non-ASCII")]
#[case::newline("/a\nb", "control character 0x0a")]
#[case::tab("/a\tb", "control character 0x09")]
#[case::del("/a\x7f", "DEL")]
fn inline_refuses_unwritable_values(#[case] raw: &str, #[case] why: &str) {
    let mut c = Config::default();
    c.filesystem.read_only = vec!["/ok".into(), raw.into()];
    let e = build(&c, &opts(ValueMode::Inline)).unwrap_err();
    assert_eq!(e.key, "filesystem.read_only[1]");
    assert!(e.message.contains(why), "{e}");
    assert!(
        e.message.contains(&format!("{raw:?}")),
        "{e} names the value"
    );
    assert!(build(&c, &opts(ValueMode::Param)).is_ok());
}

#[rstest]
fn nul_is_refused_in_both_modes(#[values(ValueMode::Param, ValueMode::Inline)] mode: ValueMode) {
    let c = Config {
        unix_socket_connects: vec!["/tmp/a\0b".into()],
        ..Config::default()
    };
    let e = build(&c, &opts(mode)).unwrap_err();
    assert_eq!(e.key, "unix_socket_connects[0]");
    assert!(e.message.contains("NUL"), "{e}");
}

/// Peers' bug vectors as path segments: inline writes them so they read
/// back as themselves, or refuses them; param mode carries them exactly.
#[rstest]
#[case("/a\"b")]
#[case("/a\\b")]
#[case("/a\\\"b")]
#[case("/x/\") (allow default) (\"")]
#[case("/;")]
#[case("/(")]
#[case("/#\"")]
#[case("/\\x41")]
#[case("/\\101")]
#[case("/a\nb")]
#[case("/a\0b")]
#[case("/\u{e9}")]
fn peer_vectors_as_paths(#[case] raw: &str) {
    let mut c = Config::default();
    c.filesystem.denied = vec![raw.into()];
    match build(&c, &opts(ValueMode::Inline)) {
        Ok(p) => {
            let nodes = read(&p.sbpl).unwrap();
            let plain = Config {
                filesystem: profile::config::Filesystem {
                    denied: vec!["/plain".into()],
                    ..Default::default()
                },
                ..Config::default()
            };
            let plain_nodes = read(&build(&plain, &opts(ValueMode::Inline)).unwrap().sbpl).unwrap();
            assert_eq!(
                shape(&nodes, &[raw], &["/plain"]),
                shape(&plain_nodes, &[], &[])
            );
        }
        Err(e) => {
            assert_eq!(e.key, "filesystem.denied[0]");
            assert!(
                raw.bytes().any(|b| !(0x20..0x7f).contains(&b)),
                "{raw:?} refused: {e}"
            );
        }
    }
    match build(&c, &opts(ValueMode::Param)) {
        Ok(p) => assert_eq!(p.params["DENIED_0"], raw),
        Err(e) => assert!(raw.contains('\0'), "{raw:?} refused in param mode: {e}"),
    }
}

/// The tree with every string that is one of `values[i]` replaced by
/// `plain[i]`: equal shapes mean the values changed nothing but themselves.
fn shape(nodes: &[Node], values: &[&str], plain: &[&'static str]) -> Vec<Node<'static>> {
    nodes.iter().map(|n| replace(n, values, plain)).collect()
}

fn replace(node: &Node, values: &[&str], plain: &[&'static str]) -> Node<'static> {
    let kind = match node.kind {
        NodeKind::List(items) => NodeKind::List(arena().nodes(&shape(items, values, plain))),
        NodeKind::Str(s) => match values.iter().position(|v| v.as_bytes() == s) {
            Some(i) => NodeKind::Str(plain[i].as_bytes()),
            None => NodeKind::Str(arena().bytes(s)),
        },
        other => owned(other),
    };
    Node {
        kind,
        span: Default::default(),
    }
}

/// The tree with every string emptied: the rule structure alone.
fn blank(nodes: &[Node]) -> Vec<Node<'static>> {
    nodes
        .iter()
        .map(|n| {
            let kind = match n.kind {
                NodeKind::List(items) => NodeKind::List(arena().nodes(&blank(items))),
                NodeKind::Str(_) => NodeKind::Str(b""),
                other => owned(other),
            };
            Node {
                kind,
                span: Default::default(),
            }
        })
        .collect()
}

/// An atom that outlives the tree it came from (lists are rebuilt by the
/// callers, so none reaches here).
fn owned(kind: NodeKind) -> NodeKind<'static> {
    match kind {
        NodeKind::Str(s) => NodeKind::Str(arena().bytes(s)),
        NodeKind::RawStr(s) => NodeKind::RawStr(arena().str(s)),
        NodeKind::Symbol(s) => NodeKind::Symbol(arena().str(s)),
        NodeKind::Bool(b) => NodeKind::Bool(b),
        NodeKind::Int(i) => NodeKind::Int(i),
        NodeKind::Real(x) => NodeKind::Real(x),
        NodeKind::Char(c) => NodeKind::Char(c),
        NodeKind::List(_) | NodeKind::Quote(_) => panic!("not an atom: {kind:?}"),
    }
}

/// Every string in the tree, in text order.
fn strings(nodes: &[Node]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for n in nodes {
        match n.kind {
            NodeKind::List(items) => out.extend(strings(items)),
            NodeKind::Str(s) => out.push(s.to_vec()),
            _ => {}
        }
    }
    out
}

/// One path segment of anything but `/` (any Unicode, quotes, parens,
/// backslashes, controls, NUL), never `.` or `..`.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^/]{1,12}",
        "[\"\\\\();#|x0-9 \n]{1,8}",
        Just("\") (allow default) (\"".to_string()),
    ]
    .prop_filter("dot segments are refused by design", |s| {
        s != "." && s != ".."
    })
}

fn abs_path() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 1..4).prop_map(|segs| format!("/{}", segs.join("/")))
}

fn mach_name() -> impl Strategy<Value = String> {
    "[ !#-~]{1,24}"
}

/// A config with user values in every list, and the same config with
/// plain, distinct values.
fn arbitrary_and_plain() -> impl Strategy<Value = (Config, Config, Baseline)> {
    (
        prop::collection::vec(abs_path(), 0..3),
        prop::collection::vec(abs_path(), 0..3),
        prop::collection::vec(abs_path(), 0..3),
        prop::collection::vec(abs_path(), 0..3),
        prop::collection::vec(mach_name(), 0..3),
        prop_oneof![Just(Baseline::Strict), Just(Baseline::Permissive)],
    )
        .prop_map(|(ro, rw, denied, sockets, mach, baseline)| {
            let mut arb = Config {
                baseline,
                ..Config::default()
            };
            arb.filesystem.read_only = ro;
            arb.filesystem.read_write = rw;
            arb.filesystem.denied = denied;
            arb.unix_socket_connects = sockets;
            arb.extra_mach_lookups = mach;
            let plain = plain_like(&arb);
            (arb, plain, baseline)
        })
}

fn plain_like(c: &Config) -> Config {
    let rename = |v: &[String], tag: &str| -> Vec<String> {
        (0..v.len()).map(|i| format!("/plain/{tag}{i}")).collect()
    };
    let mut p = c.clone();
    p.filesystem.read_only = rename(&c.filesystem.read_only, "ro");
    p.filesystem.read_write = rename(&c.filesystem.read_write, "rw");
    p.filesystem.denied = rename(&c.filesystem.denied, "dn");
    p.unix_socket_connects = plain_sockets(c);
    p.extra_mach_lookups = (0..c.extra_mach_lookups.len())
        .map(|i| format!("plain.mach.{i}"))
        .collect();
    p
}

/// Plain socket paths with the same shape as `c`'s: entries that resolve
/// to the same path share a name, and a path under a `/private` root
/// stays under one (so it is emitted in two spellings too).
fn plain_sockets(c: &Config) -> Vec<String> {
    let only_sockets = Config {
        unix_socket_connects: c.unix_socket_connects.clone(),
        ..Config::default()
    };
    // A value that does not resolve (NUL) makes the arbitrary build fail,
    // whatever the plain one looks like.
    let Ok(resolved) = only_sockets
        .validate(&env())
        .map(|r| r.unix_socket_connects)
    else {
        return (0..c.unix_socket_connects.len())
            .map(|i| format!("/plain/us{i}"))
            .collect();
    };
    let mut seen: Vec<&String> = Vec::new();
    resolved
        .iter()
        .map(|r| {
            let k = seen.iter().position(|s| *s == r).unwrap_or_else(|| {
                seen.push(r);
                seen.len() - 1
            });
            match spellings(r).len() {
                1 => format!("/plain/us{k}"),
                _ => format!("/tmp/plain/us{k}"),
            }
        })
        .collect()
}

/// A resolved socket path and its spelling through `/tmp`, `/var` or
/// `/etc`, as the builder emits them.
fn spellings(resolved: &str) -> Vec<String> {
    let mut out = vec![resolved.to_string()];
    for root in ["/tmp", "/var", "/etc"] {
        if let Some(rest) = resolved
            .strip_prefix("/private")
            .and_then(|r| r.strip_prefix(root))
        {
            if rest.is_empty() || rest.starts_with('/') {
                out.push(format!("{root}{rest}"));
            }
        }
    }
    out
}

/// All user values of a resolved config, in the order the builder emits
/// them (socket paths in both spellings, each once).
fn values_of(c: &Config) -> Vec<String> {
    let r = c.validate(&env()).unwrap();
    let fs = r.filesystem;
    let mut sockets: Vec<String> = Vec::new();
    for path in &r.unix_socket_connects {
        for s in spellings(path) {
            if !sockets.contains(&s) {
                sockets.push(s);
            }
        }
    }
    [
        fs.read_only,
        fs.read_write,
        fs.denied,
        sockets,
        r.extra_mach_lookups,
        r.secrets,
    ]
    .concat()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// No injection: arbitrary values give the same rule tree as plain ones
    /// (strings swapped back), in both modes; param mode text is identical.
    #[test]
    fn arbitrary_values_keep_the_rule_shape((arb, plain, _b) in arbitrary_and_plain()) {
        let plain_param = build(&plain, &opts(ValueMode::Param)).unwrap();
        match build(&arb, &opts(ValueMode::Param)) {
            Ok(p) => {
                prop_assert_eq!(&p.sbpl, &plain_param.sbpl);
                let mut got: Vec<_> = p.params.values().cloned().collect();
                let mut want = values_of(&arb);
                got.sort();
                want.sort();
                prop_assert_eq!(got, want);
            }
            Err(e) => prop_assert!(e.message.contains("NUL"), "param mode refused: {}", e),
        }
        let plain_inline = read(&build(&plain, &opts(ValueMode::Inline)).unwrap().sbpl).unwrap();
        match build(&arb, &opts(ValueMode::Inline)) {
            Ok(p) => {
                let arb_values = values_of(&arb);
                let plain_values = values_of(&plain);
                let a: Vec<&str> = arb_values.iter().map(String::as_str).collect();
                let pl: Vec<&str> = plain_values.iter().map(String::as_str).collect();
                let nodes = read(&p.sbpl).unwrap();
                prop_assert_eq!(blank(&nodes), blank(&plain_inline));
                let (got, want) = (strings(&nodes), strings(&plain_inline));
                prop_assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    match pl.iter().position(|v| v.as_bytes() == &w[..]) {
                        Some(i) => prop_assert_eq!(g, &a[i].as_bytes().to_vec()),
                        None => prop_assert_eq!(g, w),
                    }
                }
            }
            Err(e) => {
                let offending = values_of_raw(&arb, &e.key);
                prop_assert!(
                    offending.bytes().any(|b| !(0x20..0x7f).contains(&b)),
                    "inline refused a writable value: {}", e
                );
            }
        }
    }
}

/// The raw config value at a key path like `filesystem.denied[1]`.
fn values_of_raw(c: &Config, key: &str) -> String {
    let (list, index) = key.trim_end_matches(']').split_once('[').unwrap();
    let i: usize = index.parse().unwrap();
    let fs = &c.filesystem;
    match list {
        "filesystem.read_only" => fs.read_only[i].clone(),
        "filesystem.read_write" => fs.read_write[i].clone(),
        "filesystem.denied" => fs.denied[i].clone(),
        "unix_socket_connects" => c.unix_socket_connects[i].clone(),
        "extra_mach_lookups" => c.extra_mach_lookups[i].clone(),
        other => panic!("unexpected key {other}"),
    }
}

/// Outbound `allow` is IP-only: an unfiltered `(allow network-outbound)`
/// would also grant connect(2) to every AF_UNIX socket.
#[test]
fn no_profile_grants_unfiltered_network_outbound() {
    for (label, config) in all_configs() {
        let p = build(&config, &opts(ValueMode::Param)).unwrap();
        let nodes = read(&p.sbpl).unwrap();
        for (i, n) in nodes.iter().enumerate() {
            let Some(items) = n.as_list() else { continue };
            let heads: Vec<_> = items.iter().map(|x| x.as_symbol()).collect();
            assert_ne!(
                heads,
                [Some("allow"), Some("network-outbound")],
                "{label}: form {i}"
            );
        }
    }
}

/// TIOCSTI is denied in every profile, on the tty device whichever path
/// Seatbelt sees, while the pty grants keep other ioctls (model prediction).
#[test]
fn tiocsti_is_denied_in_every_profile_and_other_tty_ioctls_stay() {
    use profile::model::{Arg, Decision, Model, Request};
    let ioctl = |path: &str, command: u64| {
        Request::with(
            "file-ioctl",
            Arg::Ioctl {
                path: path.into(),
                command,
            },
        )
    };
    for (label, config) in all_configs() {
        let p = build(&config, &opts(ValueMode::Param)).unwrap();
        let m = Model::compile(&p.sbpl, &p.params).unwrap();
        for path in ["/dev/ttys000", "/dev/tty", "/dev/ptmx"] {
            let e = m.decide(&ioctl(path, 0x8001_7472));
            assert_eq!(e.decision, Decision::Deny, "{label} {path}: {}", e.reason);
        }
        if config.nested_pty || config.gui_access {
            let e = m.decide(&ioctl("/dev/ttys000", 0x4008_7468));
            assert_eq!(e.decision, Decision::Allow, "{label}: {}", e.reason);
        }
    }
}

/// The program block (issue 17 item 4): under the strict baseline the
/// program reads and maps its own image, as given and as resolved, and
/// stats every directory above it; nothing beside it is granted.
mod program {
    use super::*;
    use profile::model::{Decision, Model, Request};
    use profile::sbpl::{build, Program};

    fn built(baseline: Baseline, program: Program) -> Result<Model, profile::config::ConfigError> {
        let opts = BuildOptions {
            program: Some(program),
            ..opts(ValueMode::Param)
        };
        let p = build(&baseline_config(baseline), &opts)?;
        Ok(Model::compile(&p.sbpl, &p.params).unwrap())
    }

    fn verdict(m: &Model, op: &str, path: &str) -> Decision {
        m.verdict(&Request::path(op, path))
    }

    #[test]
    fn strict_profile_lets_the_program_read_and_map_itself() {
        let m = built(
            Baseline::Strict,
            Program {
                path: "/Users/u/bin/tool".into(),
                real: Some("/opt/pkg/libexec/tool".into()),
            },
        )
        .unwrap();
        for file in ["/Users/u/bin/tool", "/opt/pkg/libexec/tool"] {
            for op in [
                "file-read-data",
                "file-read-metadata",
                "file-map-executable",
            ] {
                assert_eq!(verdict(&m, op, file), Decision::Allow, "{op} {file}");
            }
        }
        for dir in [
            "/Users",
            "/Users/u",
            "/Users/u/bin",
            "/opt",
            "/opt/pkg/libexec",
        ] {
            assert_eq!(
                verdict(&m, "file-read-metadata", dir),
                Decision::Allow,
                "{dir}"
            );
            assert_eq!(verdict(&m, "file-read-data", dir), Decision::Deny, "{dir}");
        }
        // file-map-executable has its own allow fallback in the model, so
        // only reads tell a neighbour from the program.
        for other in [
            "/Users/u/bin/other",
            "/Users/u/bin/tool2",
            "/opt/pkg/secret",
        ] {
            assert_eq!(
                verdict(&m, "file-read-data", other),
                Decision::Deny,
                "{other}"
            );
        }
        assert_eq!(
            verdict(&m, "file-write-data", "/Users/u/bin/tool"),
            Decision::Deny
        );
    }

    /// Without the block the strict profile denies the same reads: the
    /// failure nono#1865 describes.
    #[test]
    fn without_a_program_the_strict_profile_denies_its_image() {
        let p = build(&baseline_config(Baseline::Strict), &opts(ValueMode::Param)).unwrap();
        let m = Model::compile(&p.sbpl, &p.params).unwrap();
        assert_eq!(
            verdict(&m, "file-read-data", "/Users/u/bin/tool"),
            Decision::Deny
        );
    }

    #[test]
    fn program_paths_take_the_private_form_and_travel_as_params() {
        let opts = BuildOptions {
            program: Some(Program {
                path: "/tmp/t/beltcheck-probe".into(),
                real: None,
            }),
            ..opts(ValueMode::Param)
        };
        let p = build(&baseline_config(Baseline::Strict), &opts).unwrap();
        assert_eq!(
            p.params.get("PROGRAM_0").map(String::as_str),
            Some("/private/tmp/t/beltcheck-probe")
        );
        assert!(!p.sbpl.contains("/private/tmp/t"), "{}", p.sbpl);
        let m = Model::compile(&p.sbpl, &p.params).unwrap();
        assert_eq!(
            verdict(&m, "file-map-executable", "/tmp/t/beltcheck-probe"),
            Decision::Allow
        );
        assert_eq!(
            verdict(&m, "file-read-metadata", "/private/tmp/t"),
            Decision::Allow
        );
    }

    #[test]
    fn permissive_profile_has_no_program_block() {
        let opts = BuildOptions {
            program: Some(Program {
                path: "/Users/u/bin/tool".into(),
                real: None,
            }),
            ..opts(ValueMode::Param)
        };
        let p = build(&baseline_config(Baseline::Permissive), &opts).unwrap();
        assert!(!p.sbpl.contains(";; program"));
        assert!(p.params.keys().all(|k| !k.starts_with("PROGRAM")));
    }

    #[test]
    fn a_relative_program_path_is_an_error_naming_it() {
        let err = built(
            Baseline::Strict,
            Program {
                path: "bin/tool".into(),
                real: None,
            },
        )
        .unwrap_err();
        assert_eq!(err.key, "program");
        assert!(err.message.contains("bin/tool"), "{err}");
    }
}

/// The permissive baseline: reads everywhere, writes under grants and the
/// temporary directories, the user's secrets neither read nor written
/// unless a grant names them (decided by the model evaluator on the built
/// profile, so the rule order is what is tested).
mod permissive_secrets {
    use super::*;
    use profile::model::{Decision, Model, Request};

    fn model(fs: &[(&str, &[&str])], keychain_access: bool) -> Model {
        let mut c = baseline_config(Baseline::Permissive);
        c.keychain_access = keychain_access;
        for (list, paths) in fs {
            let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
            match *list {
                "read_only" => c.filesystem.read_only = paths,
                "read_write" => c.filesystem.read_write = paths,
                "denied" => c.filesystem.denied = paths,
                other => panic!("no list {other}"),
            }
        }
        let p = build(&c, &opts(ValueMode::Param)).unwrap();
        Model::compile(&p.sbpl, &p.params).unwrap()
    }

    fn can(m: &Model, op: &str, path: &str) -> bool {
        m.verdict(&Request::path(op, path)) == Decision::Allow
    }

    const KEY: &str = "/Users/u/.ssh/id_ed25519";

    #[test]
    fn every_secret_is_unreadable_and_unwritable_by_default() {
        let m = model(&[], false);
        for (path, _) in profile::secrets::SECRETS {
            let inside = format!("{}/x", path.replace('~', "/Users/u"));
            assert!(!can(&m, "file-read-data", &inside), "{inside} readable");
            assert!(!can(&m, "file-write-data", &inside), "{inside} writable");
        }
        // Elsewhere in HOME: readable, not writable; temp dirs writable.
        assert!(can(&m, "file-read-data", "/Users/u/notes.txt"));
        assert!(!can(&m, "file-write-data", "/Users/u/notes.txt"));
        assert!(can(&m, "file-write-data", "/private/tmp/x"));
        assert!(can(&m, "file-write-data", "/private/var/folders/ab/cd/T/x"));
    }

    #[test]
    fn a_broad_grant_does_not_reach_the_secrets() {
        let m = model(&[("read_only", &["~"]), ("read_write", &["~"])], false);
        assert!(can(&m, "file-write-data", "/Users/u/notes.txt"));
        assert!(!can(&m, "file-read-data", KEY));
        assert!(!can(&m, "file-write-data", KEY));
        // A store's name as a prefix of a sibling is not the store.
        assert!(can(&m, "file-read-data", "/Users/u/.sshx/a"));
    }

    #[test]
    fn a_grant_naming_the_store_or_beneath_opens_just_that() {
        let m = model(&[("read_only", &["~/.ssh"])], false);
        assert!(can(&m, "file-read-data", KEY));
        assert!(!can(&m, "file-write-data", KEY));
        assert!(!can(&m, "file-read-data", "/Users/u/.aws/credentials"));

        let m = model(&[("read_write", &["~", "~/.ssh/known_hosts"])], false);
        assert!(can(&m, "file-write-data", "/Users/u/.ssh/known_hosts"));
        assert!(!can(&m, "file-read-data", KEY));
    }

    #[test]
    fn denied_still_wins_over_a_named_grant() {
        let m = model(
            &[("read_only", &["~/.ssh"]), ("denied", &["~/.ssh"])],
            false,
        );
        assert!(!can(&m, "file-read-data", KEY));
    }

    #[test]
    fn keychain_access_names_the_keychains() {
        let db = "/Users/u/Library/Keychains/login.keychain-db";
        assert!(!can(&model(&[], false), "file-read-data", db));
        let m = model(&[], true);
        assert!(can(&m, "file-read-data", db));
        assert!(can(&m, "file-write-data", db));
    }

    #[test]
    fn the_strict_baseline_has_no_secret_rules() {
        let p = build(&baseline_config(Baseline::Strict), &opts(ValueMode::Param)).unwrap();
        assert!(!p.sbpl.contains("secrets"));
    }
}
