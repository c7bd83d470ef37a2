//! Reader behaviour: the TinyScheme escape table, atoms, comments, spans and
//! error positions.

mod common;

use profile::ast::{strip_spans, Node, NodeKind, Span};

use common::{arena, read, read_bytes};
use profile::reader::{ReadError, MAX_DEPTH};
use rstest::rstest;

fn one(src: &str) -> NodeKind<'static> {
    let nodes = read(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    assert_eq!(nodes.len(), 1, "{src:?} read as {nodes:?}");
    nodes
        .into_iter()
        .next()
        .map(|n| n.kind)
        .unwrap_or(NodeKind::Bool(false))
}

fn err(src: &str) -> ReadError {
    match read(src) {
        Ok(nodes) => panic!("{src:?} unexpectedly read as {nodes:?}"),
        Err(e) => e,
    }
}

fn sym(s: &str) -> NodeKind<'_> {
    NodeKind::Symbol(s)
}

fn shape(kind: NodeKind<'_>) -> Node<'_> {
    Node {
        kind,
        span: Span::default(),
    }
}

fn list(items: Vec<NodeKind<'static>>) -> NodeKind<'static> {
    let items: Vec<Node> = items.into_iter().map(shape).collect();
    NodeKind::List(arena().nodes(&items))
}

#[rstest]
#[case::plain(r#""abc""#, b"abc")]
#[case::empty(r#""""#, b"")]
#[case::newline(r#""a\nb""#, b"a\nb")]
#[case::tab(r#""a\tb""#, b"a\tb")]
#[case::cr(r#""a\rb""#, b"a\rb")]
#[case::quote(r#""a\"b""#, b"a\"b")]
#[case::backslash(r#""a\\b""#, b"a\\b")]
#[case::backslash_then_quote(r#""/a\\\"b""#, b"/a\\\"b")]
#[case::hex_upper(r#""\x41""#, b"A")]
#[case::hex_lower(r#""\x7e""#, b"~")]
#[case::hex_capital_x(r#""\X4a""#, b"J")]
#[case::hex_high_byte(r#""\xff""#, b"\xff")]
#[case::hex_nul(r#""\x00""#, b"\0")]
#[case::hex_then_digit(r#""\x414""#, b"A4")]
#[case::octal_three(r#""\101""#, b"A")]
#[case::octal_one(r#""\0""#, b"\0")]
#[case::octal_two_then_letter(r#""\12z""#, b"\nz")]
#[case::octal_max(r#""\377""#, b"\xff")]
#[case::octal_stops_after_three(r#""\1011""#, b"A1")]
#[case::octal_stops_at_eight(r#""\18""#, b"\x018")]
#[case::other_b_is_b(r#""\b""#, b"b")]
#[case::other_f_is_f(r#""\f""#, b"f")]
#[case::unicode_escape_is_letters(r#""\u2135""#, b"u2135")]
#[case::slash(r#""\/""#, b"/")]
#[case::escaped_newline("\"a\\\nb\"", b"a\nb")]
#[case::raw_newline("\"a\nb\"", b"a\nb")]
#[case::utf8(r#""é""#, "é".as_bytes())]
#[case::escaped_utf8(r#""\é""#, "é".as_bytes())]
#[case::semicolon(r#"";""#, b";")]
#[case::paren(r#""(""#, b"(")]
#[case::sharp_quote(r##""#""##, b"#")]
fn escape_table(#[case] src: &str, #[case] bytes: &[u8]) {
    assert_eq!(one(src), NodeKind::Str(bytes));
}

#[rstest]
#[case::hex_one_digit(r#""\x4""#, 1, 2)]
#[case::hex_non_hex(r#""ab\xg1""#, 1, 4)]
#[case::hex_at_end("\"\\x", 1, 2)]
#[case::octal_too_big(r#""\400""#, 1, 2)]
#[case::backslash_at_end("\"abc\\", 1, 5)]
fn bad_escapes(#[case] src: &str, #[case] line: u32, #[case] col: u32) {
    let e = err(src);
    assert_eq!((e.line, e.col), (line, col), "{e}");
    assert!(
        e.message.contains("escape") || e.message.contains("unterminated"),
        "{e}"
    );
}

#[rstest]
#[case::t("#t", NodeKind::Bool(true))]
#[case::f("#f", NodeKind::Bool(false))]
#[case::int("42", NodeKind::Int(42))]
#[case::neg("-7", NodeKind::Int(-7))]
#[case::plus("+7", NodeKind::Int(7))]
#[case::hex("#x1F", NodeKind::Int(31))]
#[case::hex_neg("#x-10", NodeKind::Int(-16))]
#[case::octal("#o17", NodeKind::Int(15))]
#[case::binary("#b101", NodeKind::Int(5))]
#[case::decimal("#d12", NodeKind::Int(12))]
#[case::min("-9223372036854775808", NodeKind::Int(i64::MIN))]
#[case::max("9223372036854775807", NodeKind::Int(i64::MAX))]
#[case::star_op("file-read*", sym("file-read*"))]
#[case::star("*", sym("*"))]
#[case::arrow("->", sym("->"))]
#[case::one_plus("1+", sym("1+"))]
#[case::minus("-", sym("-"))]
#[case::plus_sym("+", sym("+"))]
#[case::dot(".", sym("."))]
#[case::ellipsis("...", sym("..."))]
#[case::question("string?", sym("string?"))]
#[case::bang("set!", sym("set!"))]
#[case::inner_quote("a'b", sym("a'b"))]
#[case::inner_sharp("a#b", sym("a#b"))]
#[case::colon("mach-lookup:x", sym("mach-lookup:x"))]
// TinyScheme's mk_atom: an exponent with no digits still makes a real
// (atof reads the digits before it).
#[case::one_e("1e", NodeKind::Real(1.0))]
#[case::real("1.0", NodeKind::Real(1.0))]
#[case::real_point(".5", NodeKind::Real(0.5))]
#[case::real_exp("00e7", NodeKind::Real(0.0))]
#[case::real_neg_exp("-2.5e-1", NodeKind::Real(-0.25))]
#[case::two_points("1.2.3", sym("1.2.3"))]
#[case::hexish("2a", sym("2a"))]
#[case::char_slash("#\\/", NodeKind::Char(b'/'))]
#[case::char_a("#\\a", NodeKind::Char(b'a'))]
#[case::char_x("#\\x", NodeKind::Char(b'x'))]
#[case::char_space("#\\space", NodeKind::Char(b' '))]
#[case::char_newline("#\\newline", NodeKind::Char(b'\n'))]
#[case::char_upper_name("#\\Tab", NodeKind::Char(b'\t'))]
#[case::char_hex("#\\x41", NodeKind::Char(b'A'))]
#[case::char_nul_name("#\\nul", NodeKind::Char(0))]
#[case::char_paren("#\\(", NodeKind::Char(b'('))]
#[case::char_semicolon("#\\;", NodeKind::Char(b';'))]
#[case::raw(r##"#"^/dev/ttys[0-9]+$""##, NodeKind::RawStr("^/dev/ttys[0-9]+$"))]
#[case::raw_backslash(r##"#"a\.b\\""##, NodeKind::RawStr(r"a\.b\\"))]
#[case::raw_empty(r##"#"""##, NodeKind::RawStr(""))]
fn atoms(#[case] src: &str, #[case] kind: NodeKind) {
    assert_eq!(one(src), kind);
}

#[test]
fn lists_quotes_and_quasi_forms() {
    let nodes = read("(allow file-read* (literal \"/a\")) 'x `(a ,b ,@c)").unwrap();
    let expected = vec![
        shape(list(vec![
            sym("allow"),
            sym("file-read*"),
            list(vec![sym("literal"), NodeKind::Str(b"/a")]),
        ])),
        shape(NodeKind::Quote(arena().node(shape(sym("x"))))),
        shape(list(vec![
            sym("quasiquote"),
            list(vec![
                sym("a"),
                list(vec![sym("unquote"), sym("b")]),
                list(vec![sym("unquote-splicing"), sym("c")]),
            ]),
        ])),
    ];
    assert_eq!(strip_spans(&nodes, arena()), expected);
}

#[test]
fn comments_are_skipped() {
    let src = "; head\n#!shebang-ish\n(a ; mid ) still comment\n #| block ( \" |# b #| outer #| inner |# still |# c)";
    let nodes = read(src).unwrap();
    assert_eq!(
        strip_spans(&nodes, arena()),
        vec![shape(list(vec![sym("a"), sym("b"), sym("c")]))]
    );
}

#[test]
fn spans_are_one_based_and_count_characters() {
    let src = "(a\n  \"é\" b)";
    let nodes = read(src).unwrap();
    let items = nodes[0].as_list().unwrap();
    assert_eq!(nodes[0].span.line_col(src), (1, 1));
    assert_eq!(items[0].span.line_col(src), (1, 2));
    assert_eq!(items[1].span.line_col(src), (2, 3));
    // "é" is one character but two bytes: b sits at column 7, byte 10.
    assert_eq!(items[2].span.line_col(src), (2, 7));
    assert_eq!(items[2].span.start, 10);
    assert_eq!(&"(a\n  \"é\" b)"[items[1].span.range()], "\"é\"");
}

#[test]
fn span_after_multiline_string() {
    let src = "(x \"a\nbc\" y)";
    let nodes = read(src).unwrap();
    let y = &nodes[0].as_list().unwrap()[2];
    assert_eq!(y.span.line_col(src), (2, 5));
    let lines = profile::ast::Lines::new(src);
    assert_eq!((lines.line(nodes[0].span), lines.line(y.span)), (1, 2));
}

#[rstest]
#[case::unterminated_list("(allow\n  (x", 2, 3, "never closed")]
#[case::unterminated_outer("(a (b))\n(c", 2, 1, "never closed")]
#[case::stray_close("(a))", 1, 4, "unexpected `)`")]
#[case::unterminated_string("(a \"abc", 1, 4, "unterminated string")]
#[case::unterminated_raw("#\"abc", 1, 1, "unterminated raw string")]
#[case::unterminated_block("a #| x", 1, 3, "block comment")]
#[case::quote_at_end("(a) '", 1, 5, "end of input")]
#[case::quote_before_close("(a ')", 1, 4, "followed by `)`")]
#[case::too_big("99999999999999999999", 1, 1, "64 bits")]
#[case::bad_sharp("#q", 1, 1, "unknown `#` syntax")]
#[case::bad_hex("#xz", 1, 1, "base-16")]
#[case::vector("#(1 2)", 1, 1, "vectors")]
#[case::char_unknown_name("#\\bogus", 1, 1, "unknown character literal")]
#[case::char_hex_ff("#\\xff", 1, 1, "unknown character literal")]
#[case::char_at_end("(a #\\", 1, 4, "end of input")]
#[case::nul_between_forms("(a)\0(b)", 1, 4, "raw NUL byte")]
#[case::nul_in_string("(a \"x\0y\")", 1, 6, "raw NUL byte")]
#[case::after_utf8("; é\n(é ))", 2, 5, "unexpected `)`")]
fn error_positions(#[case] src: &str, #[case] line: u32, #[case] col: u32, #[case] msg: &str) {
    let e = err(src);
    assert_eq!((e.line, e.col), (line, col), "{e}");
    assert!(e.message.contains(msg), "{e}");
}

#[test]
fn non_utf8_bytes_are_refused_with_position() {
    let e = read_bytes(b"(a)\n(b \"\xff\")").unwrap_err();
    assert_eq!((e.line, e.col), (2, 5), "{e}");
    assert!(e.message.contains("UTF-8"), "{e}");
}

#[test]
fn nesting_is_limited_without_recursion() {
    let deep = "(".repeat(MAX_DEPTH + 1);
    assert!(err(&deep).message.contains("nesting"));
    let quotes = "'".repeat(MAX_DEPTH + 1) + "x";
    assert!(err(&quotes).message.contains("nesting"));
    let ok = "(".repeat(MAX_DEPTH) + &")".repeat(MAX_DEPTH);
    assert_eq!(read(&ok).unwrap().len(), 1);
}

#[test]
fn empty_and_blank_inputs_read_as_nothing() {
    assert_eq!(read("").unwrap(), vec![]);
    assert_eq!(read(" \n\t; only a comment").unwrap(), vec![]);
}
