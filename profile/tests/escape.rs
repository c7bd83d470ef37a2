//! The escapers against the project's own reader: what is accepted reads
//! back as exactly itself; what is refused is refused with the right error.

use profile::ast::NodeKind;
use profile::escape::{quoted, regex_literal, string_literal, Anchor, EscapeError};
mod common;

use common::read;
use proptest::prelude::*;
use rstest::rstest;
use std::borrow::Cow;

/// Reads `"` + escaped + `"` and returns the decoded bytes.
fn read_back(escaped: &str) -> Vec<u8> {
    let text = format!("\"{escaped}\"");
    let nodes = read(&text).unwrap_or_else(|e| panic!("{text:?} does not read: {e}"));
    assert_eq!(nodes.len(), 1, "{text:?} read as {} data", nodes.len());
    match &nodes[0].kind {
        NodeKind::Str(bytes) => bytes.to_vec(),
        other => panic!("{text:?} read as {other:?}"),
    }
}

/// The error the escaper must give for `s`: the first byte that is not
/// printable ASCII decides.
fn expected_error(s: &str) -> Option<EscapeError> {
    if s.is_empty() {
        return Some(EscapeError::Empty);
    }
    s.bytes().enumerate().find_map(|(offset, b)| match b {
        0 => Some(EscapeError::Nul { offset }),
        1..=0x1f => Some(EscapeError::Control { offset, byte: b }),
        0x7f => Some(EscapeError::Del { offset }),
        0x80.. => Some(EscapeError::NonAscii { offset, byte: b }),
        _ => None,
    })
}

/// Peers' bug vectors: each reads back as itself or is refused as expected.
#[rstest]
#[case::quote_inside("/a\"b")]
#[case::backslash("/a\\b")]
#[case::backslash_quote("/a\\\"b")]
#[case::rule_injection("\") (allow default) (\"")]
#[case::semicolon(";")]
#[case::paren("(")]
#[case::raw_string_start("#\"")]
#[case::hex_escape_text("\\x41")]
#[case::octal_escape_text("\\101")]
#[case::trailing_backslash("/a\\")]
#[case::json_style("\\u2135\\b\\f")]
#[case::newline("/a\nb")]
#[case::tab("\t")]
#[case::nul("/a\0b")]
#[case::del("/a\x7f")]
#[case::non_ascii("/caf\u{e9}")]
#[case::empty("")]
fn peer_vectors(#[case] s: &str) {
    match (string_literal(s), expected_error(s)) {
        (Ok(escaped), None) => {
            assert_eq!(read_back(&escaped), s.as_bytes(), "escaped as {escaped:?}");
            assert_eq!(quoted(s).unwrap(), format!("\"{escaped}\""));
        }
        (Err(got), Some(want)) => assert_eq!(got, want),
        (got, want) => panic!("{s:?}: escaper gave {got:?}, expected {want:?}"),
    }
}

#[test]
fn specific_refusals() {
    assert_eq!(
        string_literal("/a\nb"),
        Err(EscapeError::Control {
            offset: 2,
            byte: b'\n'
        })
    );
    assert_eq!(string_literal("/a\0b"), Err(EscapeError::Nul { offset: 2 }));
    assert_eq!(
        string_literal("\u{e9}"),
        Err(EscapeError::NonAscii {
            offset: 0,
            byte: 0xc3
        })
    );
    assert_eq!(string_literal("\x7f"), Err(EscapeError::Del { offset: 0 }));
    assert_eq!(string_literal(""), Err(EscapeError::Empty));
}

#[test]
fn fast_path_borrows_and_slow_path_owns() {
    assert!(matches!(
        string_literal("/usr/lib/x y"),
        Ok(Cow::Borrowed(_))
    ));
    assert!(matches!(string_literal("/a\"b"), Ok(Cow::Owned(_))));
}

/// A `#"..."` literal reads back as the same raw text.
fn read_raw(regex: &str) -> String {
    let text = format!("#\"{regex}\"");
    match &read(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"))[..] {
        [node] => match &node.kind {
            NodeKind::RawStr(s) => s.to_string(),
            other => panic!("{text:?} read as {other:?}"),
        },
        other => panic!("{text:?} read as {} data", other.len()),
    }
}

#[rstest]
#[case("/a.b", Anchor::Exact, r"^/a\.b$")]
#[case("/x", Anchor::Directory, "^/x(/|$)")]
#[case("^.[]$()|*+?{}\\", Anchor::Exact, r"^\^\.\[\]\$\(\)\|\*\+\?\{\}\\$")]
#[case("/a b;c#d", Anchor::Exact, "^/a b;c#d$")]
fn regex_escapes_every_metacharacter(#[case] s: &str, #[case] anchor: Anchor, #[case] want: &str) {
    let got = regex_literal(s, anchor).unwrap();
    assert_eq!(got, want);
    assert_eq!(read_raw(&got), want);
}

#[rstest]
#[case("/a\"b", EscapeError::Quote { offset: 2 })]
#[case("", EscapeError::Empty)]
#[case("/a\nb", EscapeError::Control { offset: 2, byte: b'\n' })]
#[case("/\u{e9}", EscapeError::NonAscii { offset: 1, byte: 0xc3 })]
#[case("/\x7f", EscapeError::Del { offset: 1 })]
#[case("\0", EscapeError::Nul { offset: 0 })]
fn regex_refusals(#[case] s: &str, #[case] want: EscapeError) {
    assert_eq!(regex_literal(s, Anchor::Exact), Err(want));
    assert_eq!(regex_literal(s, Anchor::Directory), Err(want));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// For any string the escaper accepts, reading it back gives the string;
    /// anything else is refused with the error for its first bad byte.
    #[test]
    fn string_round_trip(s in any::<String>()) {
        match string_literal(&s) {
            Ok(escaped) => {
                prop_assert_eq!(expected_error(&s), None);
                prop_assert_eq!(read_back(&escaped), s.as_bytes().to_vec());
            }
            Err(e) => prop_assert_eq!(Some(e), expected_error(&s)),
        }
    }

    /// Printable ASCII (the interesting alphabet) always round-trips.
    #[test]
    fn printable_round_trip(s in "[ -~]{1,64}") {
        let escaped = string_literal(&s).unwrap();
        prop_assert_eq!(read_back(&escaped), s.as_bytes().to_vec());
    }

    /// The escaped regex reads back as typed and, under a byte-level regex
    /// engine (the `regex` crate standing in for Apple's), matches exactly
    /// the literal, and for a directory also what lies below it.
    #[test]
    fn regex_matches_only_the_literal(s in "[ !#-~]{1,32}", tail in "[a-z]{1,4}") {
        let exact = regex_literal(&s, Anchor::Exact).unwrap();
        prop_assert_eq!(read_raw(&exact), exact.clone());
        let re = regex::Regex::new(&exact).unwrap();
        prop_assert!(re.is_match(&s));
        let longer = format!("{s}{tail}");
        prop_assert!(!re.is_match(&longer));
        let dir = regex::Regex::new(&regex_literal(&s, Anchor::Directory).unwrap()).unwrap();
        let below = format!("{s}/{tail}");
        prop_assert!(dir.is_match(&s) && dir.is_match(&below));
        prop_assert!(!dir.is_match(&longer));
    }
}
