//! Writer: minimal escapes, printable output, and read(write(ast)) == ast.

mod common;

use common::{arena, read};
use profile::ast::{same_shape, strip_spans, Node, NodeKind, Span};
use profile::writer::{string_literal, symbol_is_writable, write, write_node};
use proptest::prelude::*;
use rstest::rstest;

fn node(kind: NodeKind<'_>) -> Node<'_> {
    Node {
        kind,
        span: Span::default(),
    }
}

#[rstest]
#[case::plain(b"/usr/lib", r#""/usr/lib""#)]
#[case::quote(b"/a\"b", r#""/a\"b""#)]
#[case::backslash(b"/a\\b", r#""/a\\b""#)]
#[case::backslash_quote(b"/a\\\"b", r#""/a\\\"b""#)]
#[case::injection(b"\") (allow default) (\"", r#""\") (allow default) (\"""#)]
#[case::semicolon(b";", r#"";""#)]
#[case::paren(b"(", r#""(""#)]
#[case::sharp_quote(b"#\"", r##""#\"""##)]
#[case::looks_like_hex(b"\\x41", r#""\\x41""#)]
#[case::looks_like_octal(b"\\101", r#""\\101""#)]
#[case::newline(b"a\nb", r#""a\x0ab""#)]
#[case::nul(b"\0", r#""\x00""#)]
#[case::e_acute("é".as_bytes(), r#""\xc3\xa9""#)]
#[case::del(b"\x7f", r#""\x7f""#)]
#[case::empty(b"", r#""""#)]
fn string_literals_are_minimal_and_printable(#[case] bytes: &[u8], #[case] expected: &str) {
    let lit = string_literal(bytes);
    assert_eq!(lit, expected);
    assert!(lit.bytes().all(|b| (0x20..=0x7e).contains(&b)));
    let back = read(&lit).unwrap();
    assert_eq!(
        strip_spans(&back, arena()),
        vec![node(NodeKind::Str(bytes))]
    );
}

#[test]
fn writes_each_kind() {
    let regex = [
        node(NodeKind::Symbol("regex")),
        node(NodeKind::RawStr(r"^/dev/ttys[0-9]+$")),
    ];
    let quoted = node(NodeKind::Symbol("x"));
    let items = [
        node(NodeKind::Symbol("allow")),
        node(NodeKind::Symbol("file-read*")),
        node(NodeKind::List(&regex)),
        node(NodeKind::Bool(true)),
        node(NodeKind::Bool(false)),
        node(NodeKind::Int(-12)),
        node(NodeKind::Quote(&quoted)),
        node(NodeKind::Str(b"a\"b")),
    ];
    let tree = node(NodeKind::List(&items));
    assert_eq!(
        write_node(&tree),
        r#"(allow file-read* (regex #"^/dev/ttys[0-9]+$") #t #f -12 'x "a\"b")"#
    );
}

#[test]
fn fixtures_round_trip() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension() != Some(std::ffi::OsStr::new("sb")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let nodes = read(&text).unwrap_or_else(|e| panic!("{}:{e}", path.display()));
        let written = write(&nodes);
        let again = read(&written).unwrap_or_else(|e| panic!("{}: rewritten: {e}", path.display()));
        assert!(
            same_shape(&nodes, &again),
            "{} does not round-trip",
            path.display()
        );
        // Writing is a fixed point after one pass.
        assert_eq!(write(&again), written);
        seen += 1;
    }
    assert!(seen >= 4, "expected the SBPL fixtures, found {seen}");
}

#[rstest]
#[case::plain("file-read*", true)]
#[case::one_plus("1+", true)]
#[case::dot(".", true)]
#[case::empty("", false)]
#[case::space("a b", false)]
#[case::number("12", false)]
#[case::real("1.5", false)]
#[case::sharp("#t", false)]
#[case::quote_start("'a", false)]
#[case::semicolon("a;b", false)]
fn symbol_writability(#[case] name: &str, #[case] writable: bool) {
    assert_eq!(symbol_is_writable(name), writable);
}

fn symbol_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9*+!?<>=/:.-]{0,12}",
        Just("*".to_string()),
        Just("->".to_string()),
        Just("1+".to_string()),
        Just("-".to_string()),
        Just("...".to_string()),
    ]
    .prop_filter("must be a writable symbol", |s| symbol_is_writable(s))
}

fn leaf() -> impl Strategy<Value = Node<'static>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..24)
            .prop_map(|b| NodeKind::Str(arena().bytes(&b))),
        "[ -!#-~]{0,16}".prop_map(|s| NodeKind::RawStr(arena().str(&s))),
        any::<bool>().prop_map(NodeKind::Bool),
        any::<i64>().prop_map(NodeKind::Int),
        // Every finite real, and the infinities `1e999` reads as.
        prop_oneof![
            any::<f64>().prop_filter("NaN has no SBPL spelling", |x| !x.is_nan()),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
        ]
        .prop_map(NodeKind::Real),
        // Every character the reader makes (`#\xff` it refuses, as TinyScheme does).
        (0u8..0xff).prop_map(NodeKind::Char),
        symbol_strategy().prop_map(|s| NodeKind::Symbol(arena().str(&s))),
    ]
    .prop_map(node)
}

fn tree() -> impl Strategy<Value = Node<'static>> {
    leaf().prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8)
                .prop_map(|v| node(NodeKind::List(arena().nodes(&v)))),
            inner.prop_map(|n| node(NodeKind::Quote(arena().node(n)))),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_trees_round_trip(nodes in proptest::collection::vec(tree(), 0..6)) {
        let text = write(&nodes);
        prop_assert!(text.bytes().all(|b| b == b'\n' || (0x20..=0x7e).contains(&b)));
        let back = read(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(strip_spans(&back, arena()), nodes);
    }

    #[test]
    fn arbitrary_strings_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let back = read(&string_literal(&bytes)).unwrap();
        prop_assert_eq!(strip_spans(&back, arena()), vec![node(NodeKind::Str(&bytes))]);
    }
}
