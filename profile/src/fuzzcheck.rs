//! The invariants the fuzz targets check, shared with the test that replays
//! their seed corpora (`tests/fuzz_corpus.rs`), so a corpus file that once
//! found a bug keeps guarding against it in plain `cargo test`.
//!
//! Each function takes arbitrary bytes and **panics** when an invariant is
//! broken: that is how libFuzzer and the test harness learn of it. They
//! never panic for input that is merely invalid.

use crate::ast::{same_shape, strip_spans, Arena, Node, NodeKind};
use crate::config::{Baseline, Clipboard, Config, Outbound, OutboundMode, ResolvedConfig};
use crate::escape::{self, Anchor, EscapeError};
use crate::path::HostEnv;
use crate::reader::{read, read_bytes};
use crate::sbpl::{build, BuildOptions, Profile, ValueMode};
use crate::writer::write;

/// Reader: no panic on any bytes; whatever reads, the writer prints as text
/// that reads back to the same tree, and printing that again changes nothing.
pub fn reader(data: &[u8]) {
    let arena = Arena::new();
    let Ok(nodes) = read_bytes(data, &arena) else {
        return;
    };
    let written = write(&nodes);
    let again = read(&written, &arena)
        .unwrap_or_else(|e| panic!("writer output does not read: {e}\n{written}"));
    assert!(
        same_shape(&nodes, &again),
        "round-trip changed the tree\ninput: {:?}\nwritten: {written}",
        String::from_utf8_lossy(data)
    );
    assert_eq!(write(&again), written, "writing is not a fixed point");
}

/// Escapers: on any UTF-8 input, the string escaper accepts exactly the
/// non-empty printable ASCII strings, and what it writes reads back as that
/// one string, also inside a rule (no injection). The regex escaper's output
/// has no `"`, reads back as one raw string, and is a plain literal under
/// [`LiteralRegex`] (an oracle written apart from the escaper) that matches
/// the input, not its siblings, and its children only when anchored as a
/// directory.
pub fn escape(data: &[u8]) {
    escape_with(data, escape::regex_literal);
}

/// [`escape`] with the regex escaper given, so a test can show that a
/// seeded escaper bug is caught.
pub fn escape_with(data: &[u8], regex_escaper: fn(&str, Anchor) -> Result<String, EscapeError>) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let printable = !s.is_empty() && s.bytes().all(|b| (0x20..0x7f).contains(&b));
    match escape::string_literal(s) {
        Ok(body) => {
            assert!(printable, "escaper accepted {s:?}");
            string_reads_back(s, &body);
        }
        Err(e) => assert!(!printable, "escaper refused printable {s:?}: {e}"),
    }
    for anchor in [Anchor::Exact, Anchor::Directory] {
        match regex_escaper(s, anchor) {
            Ok(re) => {
                assert!(
                    printable && !s.contains('"'),
                    "regex escaper accepted {s:?}"
                );
                regex_reads_back(s, &re, anchor);
            }
            Err(e) => assert!(
                !printable || s.contains('"'),
                "regex escaper refused {s:?}: {e}"
            ),
        }
    }
}

fn string_reads_back(s: &str, body: &str) {
    assert!(body.bytes().all(|b| (0x20..0x7f).contains(&b)));
    let arena = Arena::new();
    let quoted = format!("\"{body}\"");
    let alone =
        read(&quoted, &arena).unwrap_or_else(|e| panic!("escaped {s:?} does not read: {e}"));
    assert_eq!(
        strip_spans(&alone, &arena),
        [plain(NodeKind::Str(s.as_bytes()))],
        "escaped {s:?} reads as something else"
    );
    let rule = format!("(allow file-read* (literal \"{body}\"))");
    let literal = list(
        &arena,
        &[symbol("literal"), plain(NodeKind::Str(s.as_bytes()))],
    );
    let expected = list(&arena, &[symbol("allow"), symbol("file-read*"), literal]);
    let nodes =
        read(&rule, &arena).unwrap_or_else(|e| panic!("rule with {s:?} does not read: {e}"));
    assert_eq!(
        strip_spans(&nodes, &arena),
        [expected],
        "injection through {s:?}"
    );
}

fn regex_reads_back(s: &str, re: &str, anchor: Anchor) {
    assert!(!re.contains('"'), "regex for {s:?} contains a quote: {re}");
    let rule = format!("(allow file-read* (regex #\"{re}\"))");
    let arena = Arena::new();
    let nodes =
        read(&rule, &arena).unwrap_or_else(|e| panic!("regex rule for {s:?} does not read: {e}"));
    let regex = list(&arena, &[symbol("regex"), plain(NodeKind::RawStr(re))]);
    let expected = list(&arena, &[symbol("allow"), symbol("file-read*"), regex]);
    assert_eq!(
        strip_spans(&nodes, &arena),
        [expected],
        "injection through regex {re}"
    );
    let compiled = LiteralRegex::parse(re)
        .unwrap_or_else(|e| panic!("regex {re} for {s:?} is not a plain literal: {e}"));
    let matches = |t: &str| compiled.is_match(t);
    assert!(matches(s), "regex {re} does not match its own input {s:?}");
    let sibling = format!("{s}x");
    if !s.ends_with('/') {
        assert!(!matches(&sibling), "regex {re} matches sibling {sibling:?}");
    }
    let child = format!("{s}/x");
    match anchor {
        Anchor::Exact => assert!(!matches(&child), "exact regex {re} matches {child:?}"),
        Anchor::Directory => assert!(matches(&child), "directory regex {re} misses {child:?}"),
    }
}

/// The only regexes the escaper may produce: `^`, then literal characters
/// (an operator character only after `\\`), then `$` (exact) or `(/|$)`
/// (the path or anything beneath it). Written from POSIX ERE's list of
/// operator characters, not from the escaper's, so the two can disagree: a
/// character the escaper forgets to escape is an operator here and fails the
/// parse. `regex_oracle_agrees_with_a_regex_engine` checks this reading
/// against the `regex` crate on the seed corpus, once, outside the fuzz loop
/// (building a regex per input cost most of the fuzzer's time).
#[derive(Debug, PartialEq, Eq)]
pub struct LiteralRegex {
    literal: String,
    anchor: Anchor,
}

/// POSIX ERE's operator characters (IEEE 1003.1, 9.4.3), plus `{}` and the
/// backslash, which most engines also treat as special.
const ERE_OPERATORS: &[char] = &[
    '.', '[', ']', '(', ')', '*', '+', '?', '{', '}', '|', '^', '$', '\\',
];

impl LiteralRegex {
    pub fn parse(re: &str) -> Result<LiteralRegex, String> {
        let body = re.strip_prefix('^').ok_or("not anchored at the start")?;
        let (body, anchor) = if let Some(b) = body.strip_suffix("(/|$)") {
            (b, Anchor::Directory)
        } else if let Some(b) = body.strip_suffix('$') {
            (b, Anchor::Exact)
        } else {
            return Err("not anchored at the end".into());
        };
        let mut literal = String::with_capacity(body.len());
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e) if ERE_OPERATORS.contains(&e) => literal.push(e),
                    // `\d`, `\w`, `\<`...: classes or assertions somewhere.
                    Some(e) => return Err(format!("escape of a non-operator {e:?}")),
                    None => return Err("a trailing backslash".into()),
                },
                c if ERE_OPERATORS.contains(&c) => {
                    return Err(format!("unescaped operator {c:?}"));
                }
                c => literal.push(c),
            }
        }
        Ok(LiteralRegex { literal, anchor })
    }

    pub fn is_match(&self, text: &str) -> bool {
        match text.strip_prefix(self.literal.as_str()) {
            None => false,
            Some(rest) => match self.anchor {
                Anchor::Exact => rest.is_empty(),
                Anchor::Directory => rest.is_empty() || rest.starts_with('/'),
            },
        }
    }
}

fn plain(kind: NodeKind<'_>) -> Node<'_> {
    Node {
        kind,
        span: Default::default(),
    }
}

fn list<'a>(arena: &'a Arena, items: &[Node<'a>]) -> Node<'a> {
    plain(NodeKind::List(arena.nodes(items)))
}

fn symbol(name: &str) -> Node<'_> {
    plain(NodeKind::Symbol(name))
}

/// The host the build check pretends to run on (hermetic: no environment).
pub fn fuzz_env() -> HostEnv {
    HostEnv {
        home: Some("/Users/fuzz".to_string()),
        user: Some("fuzz".to_string()),
        uid: 501,
    }
}

/// Decodes a config from bytes: two flag bytes, a proxy port, then values
/// separated by 0xFF (never part of UTF-8), each led by a byte choosing its
/// list. Every byte string decodes to some config.
pub fn config_from_bytes(data: &[u8]) -> Config {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let bit = |b: u8, n: u8| b & (1 << n) != 0;
    let (f0, f1) = (byte(0), byte(1));
    let mut c = Config {
        baseline: if bit(f0, 0) {
            Baseline::Permissive
        } else {
            Baseline::Strict
        },
        nested_pty: bit(f0, 1),
        keychain_access: bit(f0, 2),
        gui_access: bit(f0, 3),
        ..Config::default()
    };
    c.ui.disable = bit(f0, 4);
    c.ui.injection = bit(f0, 5);
    c.posix_ipc.semaphores = bit(f0, 6);
    c.posix_ipc.shared_memory = bit(f0, 7);
    c.ui.clipboard = match f1 & 3 {
        0 => Clipboard::None,
        1 => Clipboard::Read,
        2 => Clipboard::Write,
        _ => Clipboard::All,
    };
    c.network.outbound = match (f1 >> 2) & 3 {
        0 | 3 => Outbound::Mode(OutboundMode::Deny),
        1 => Outbound::Mode(OutboundMode::Allow),
        _ => Outbound::Proxy {
            proxy_port: u16::from_le_bytes([byte(2), byte(3)]),
        },
    };
    c.limits.raise_nofile = bit(f1, 4);
    for piece in data.get(4..).unwrap_or_default().split(|&b| b == 0xff) {
        let Some((&which, value)) = piece.split_first() else {
            continue;
        };
        let value = String::from_utf8_lossy(value).into_owned();
        match which % 5 {
            0 => c.filesystem.read_only.push(value),
            1 => c.filesystem.read_write.push(value),
            2 => c.filesystem.denied.push(value),
            3 => c.unix_socket_connects.push(value),
            _ => c.extra_mach_lookups.push(value),
        }
    }
    c
}

/// Builder: for the config decoded from `data`, both modes agree with
/// validation; every profile is printable ASCII and reads back; in param
/// mode every param value is exactly the resolved value it stands for; and
/// the inline profile is the param profile with each `(param "K")` replaced
/// by the string it names (so no value changed the rules' shape).
pub fn build_config(data: &[u8]) {
    let config = config_from_bytes(data);
    let env = fuzz_env();
    let resolved = config.validate(&env);
    let opts = |mode| BuildOptions {
        mode,
        env: env.clone(),
        program: None,
    };
    let param = build(&config, &opts(ValueMode::Param));
    let inline = build(&config, &opts(ValueMode::Inline));
    let resolved = match resolved {
        Err(_) => {
            assert!(
                param.is_err() && inline.is_err(),
                "built a config that does not validate"
            );
            return;
        }
        Ok(r) => r,
    };
    let param = param.unwrap_or_else(|e| panic!("param mode refused a valid config: {e:?}"));
    let arena = Arena::new();
    let param_nodes = profile_reads(&param, &arena);
    check_params(&param, &resolved);
    check_param_refs(&param_nodes, &param);
    let inline_ok = user_values(&resolved)
        .iter()
        .all(|(_, v)| escape::string_literal(v).is_ok());
    match inline {
        Err(e) => assert!(!inline_ok, "inline mode refused writable values: {e:?}"),
        Ok(inline) => {
            assert!(inline_ok, "inline mode wrote a value the escaper refuses");
            let inline_nodes = profile_reads(&inline, &arena);
            let substituted = substitute_params(&param_nodes, &param, &arena);
            assert!(
                same_shape(&substituted, &inline_nodes),
                "inline profile differs from the param profile with values substituted\n{}",
                inline.sbpl
            );
        }
    }
}

fn profile_reads<'a>(p: &'a Profile, arena: &'a Arena) -> Vec<Node<'a>> {
    assert!(
        p.sbpl
            .bytes()
            .all(|b| b == b'\n' || (0x20..0x7f).contains(&b)),
        "profile is not printable ASCII"
    );
    read(&p.sbpl, arena).unwrap_or_else(|e| panic!("built profile does not read: {e}\n{}", p.sbpl))
}

/// Every user value with the param key the builder gives it.
fn user_values(r: &ResolvedConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let sockets: Vec<String> = crate::sbpl::socket_paths(&r.unix_socket_connects)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let lists: [(&str, &[String]); 6] = [
        ("READ_ONLY", &r.filesystem.read_only),
        ("READ_WRITE", &r.filesystem.read_write),
        ("DENIED", &r.filesystem.denied),
        ("UNIX_SOCKET", &sockets),
        ("MACH_LOOKUP", &r.extra_mach_lookups),
        ("SECRET", &r.secrets),
    ];
    for (prefix, values) in lists {
        for (i, v) in values.iter().enumerate() {
            out.push((format!("{prefix}_{i}"), v.clone()));
        }
    }
    if r.keychain_access {
        if let Some(dir) = &r.keychain_dir {
            out.push(("KEYCHAIN_DIR".to_string(), dir.clone()));
        }
    }
    out
}

fn check_params(p: &Profile, r: &ResolvedConfig) {
    let expected = user_values(r);
    for (key, value) in &expected {
        assert_eq!(p.params.get(key), Some(value), "param {key}");
    }
    assert_eq!(
        p.params.len(),
        expected.len(),
        "unexpected params {:?}",
        p.params
    );
}

/// `(param "K")` nodes, each with its key.
fn param_key<'a>(node: &Node<'a>) -> Option<&'a [u8]> {
    match node.as_list()? {
        [head, Node {
            kind: NodeKind::Str(key),
            ..
        }] if head.as_symbol() == Some("param") => Some(key),
        _ => None,
    }
}

fn check_param_refs(nodes: &[Node], p: &Profile) {
    for node in nodes {
        if let Some(key) = param_key(node) {
            let key = String::from_utf8_lossy(key);
            assert!(p.params.contains_key(key.as_ref()), "undefined param {key}");
        } else if let NodeKind::List(items) = node.kind {
            check_param_refs(items, p);
        }
    }
}

fn substitute_params<'a>(nodes: &[Node<'a>], p: &'a Profile, arena: &'a Arena) -> Vec<Node<'a>> {
    nodes
        .iter()
        .map(|node| {
            if let Some(value) = param_key(node)
                .and_then(|k| std::str::from_utf8(k).ok())
                .and_then(|k| p.params.get(k))
            {
                return plain(NodeKind::Str(value.as_bytes()));
            }
            match node.kind {
                NodeKind::List(items) => plain(NodeKind::List(
                    arena.nodes(&substitute_params(items, p, arena)),
                )),
                other => plain(other),
            }
        })
        .collect()
}
