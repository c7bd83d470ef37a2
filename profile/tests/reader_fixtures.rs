//! Real-world-shaped profiles read completely, and (on macOS) every profile
//! the OS ships reads too.

mod common;

use profile::ast::{Node, NodeKind};

use common::{read, read_bytes};

fn fixture(name: &str) -> Vec<Node<'static>> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    read(&text).unwrap_or_else(|e| panic!("{path}:{e}"))
}

/// Heads (first symbol) of the top-level forms.
fn heads<'a>(nodes: &[Node<'a>]) -> Vec<&'a str> {
    nodes
        .iter()
        .map(|n| match n.kind {
            NodeKind::List(items) => items.first().and_then(Node::as_symbol).unwrap_or("?"),
            NodeKind::Quote(_) => "'",
            _ => "atom",
        })
        .collect()
}

/// Every node of the tree, depth first.
fn walk<'a>(nodes: &'a [Node<'a>], out: &mut Vec<&'a Node<'a>>) {
    for n in nodes {
        out.push(n);
        match n.kind {
            NodeKind::List(items) => walk(items, out),
            NodeKind::Quote(inner) => walk(std::slice::from_ref(inner), out),
            _ => {}
        }
    }
}

fn all_nodes<'a>(nodes: &'a [Node<'a>]) -> Vec<&'a Node<'a>> {
    let mut out = Vec::new();
    walk(nodes, &mut out);
    out
}

#[test]
fn apple_system_style_profile() {
    let nodes = fixture("apple_system_style.sb");
    let h = heads(&nodes);
    assert_eq!(&h[..4], ["version", "deny", "import", "import"]);
    assert!(h.contains(&"define") && h.contains(&"define-once"));
    assert!(h.contains(&"if") && h.contains(&"cond"));
    assert_eq!(h.last(), Some(&"quasiquote"));
    let all = all_nodes(&nodes);
    assert!(all.iter().any(|n| n.kind == NodeKind::Symbol("lambda")));
    assert!(all
        .iter()
        .any(|n| n.kind == NodeKind::RawStr(r"^com\.apple\.example\.xpc\.[0-9]+$")));
    assert!(all.iter().any(|n| n.kind == NodeKind::Int(0x2000_746f)));
    assert!(all.iter().any(|n| matches!(&n.kind, NodeKind::Quote(_))));
}

#[test]
fn codex_like_profile() {
    let nodes = fixture("codex_like.sb");
    assert_eq!(nodes.len(), 15);
    let last = nodes.last().unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/codex_like.sb"
    ))
    .unwrap();
    assert_eq!(last.span.line_col(&text).0, 47);
    let params: Vec<&[u8]> = all_nodes(&nodes)
        .into_iter()
        .filter_map(|n| match n.as_list() {
            Some(
                [head, Node {
                    kind: NodeKind::Str(s),
                    ..
                }],
            ) if head.as_symbol() == Some("param") => Some(*s),
            _ => None,
        })
        .collect();
    assert_eq!(
        params,
        [
            &b"WRITABLE_ROOT_0"[..],
            b"WRITABLE_ROOT_1",
            b"WRITABLE_ROOT_1_RO_0",
            b"UNIX_SOCKET_0"
        ]
    );
}

#[test]
fn bazel_like_profile() {
    let nodes = fixture("bazel_like.sb");
    assert_eq!(
        heads(&nodes),
        ["version", "debug", "allow", "deny", "allow", "allow", "allow", "deny", "allow"]
    );
    let all = all_nodes(&nodes);
    assert!(all
        .iter()
        .any(|n| n.kind == NodeKind::Str(b"/Users/someone/Library/Caches/bazel cache")));
}

#[test]
fn scheme_odds() {
    let nodes = fixture("scheme_odds.sb");
    let all = all_nodes(&nodes);
    let has = |k: NodeKind| all.iter().any(|n| n.kind == k);
    assert!(has(NodeKind::Str(b"oct\x41\x42\0")));
    assert!(has(NodeKind::Str(b"otherbq")));
    assert!(has(NodeKind::Str(b"raw\nnewline")));
    assert!(has(NodeKind::Str("/Users/someone/café".as_bytes())));
    assert!(has(NodeKind::RawStr(r"[^/]+\\")));
    assert!(has(NodeKind::Int(255)) && has(NodeKind::Int(-1)) && has(NodeKind::Int(5)));
    assert!(has(NodeKind::Symbol("1+")) && has(NodeKind::Symbol(".")));
    assert_eq!(heads(&nodes).len(), 9);
}

/// Apple's shipped profiles. They exist only on macOS, so this test only
/// exists there: on Linux there is nothing to read and no test is claimed.
#[cfg(target_os = "macos")]
#[test]
fn every_shipped_system_profile_reads() {
    let dirs = ["/System/Library/Sandbox/Profiles", "/usr/share/sandbox"];
    let mut read_count = 0;
    let mut failures = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            match read_bytes(&bytes) {
                Ok(_) => read_count += 1,
                Err(e) => failures.push(format!("{}:{e}", path.display())),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "shipped profiles that do not read:\n{}",
        failures.join("\n")
    );
    assert!(read_count > 0, "no shipped profiles found in {dirs:?}");
}

#[test]
fn bytes_entry_point_agrees_with_str() {
    let text = std::fs::read(format!(
        "{}/tests/fixtures/codex_like.sb",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(
        read_bytes(&text).unwrap(),
        read(std::str::from_utf8(&text).unwrap()).unwrap()
    );
}
