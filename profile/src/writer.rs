//! Prints an AST back as SBPL text that [`crate::reader::read`] reads to the
//! same tree (spans aside).
//!
//! Guarantee: for every tree the reader produces, `read(&write(&nodes))`
//! equals `nodes` up to spans (see [`crate::ast::same_shape`]). Trees built by
//! hand round-trip as long as each symbol is a single reader token that is
//! not a number (see [`symbol_is_writable`]) and no raw string contains `"`;
//! those two cannot be spelled in SBPL at all.
//!
//! Reals are written in Rust's shortest round-trip form, characters as
//! `#\\c`, a name, or `#\\xHH` (`#\\xff` is the one character TinyScheme
//! cannot read back).
//!
//! Strings are written with the fewest escapes: `\\` and `\"`, and `\xHH` for
//! every byte that is not printable ASCII, so the output of a tree whose
//! symbols and raw strings are printable ASCII is printable ASCII.

use crate::ast::{Node, NodeKind};

/// Writes top-level data one per line.
pub fn write(nodes: &[Node]) -> String {
    let mut out = String::new();
    for node in nodes {
        write_into(node, &mut out);
        out.push('\n');
    }
    out
}

/// Writes one datum on a single line.
pub fn write_node(node: &Node) -> String {
    let mut out = String::new();
    write_into(node, &mut out);
    out
}

/// The `"..."` literal (quotes included) that reads back as exactly `bytes`.
pub fn string_literal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    push_string_literal(bytes, &mut out);
    out
}

/// Whether `name` reads back as the symbol `name`: non-empty, no delimiter
/// (whitespace, `(`, `)`, `"`, `;`), does not start with a reader prefix
/// (`'`, `` ` ``, `,`, `#`) and is not a number.
pub fn symbol_is_writable(name: &str) -> bool {
    let Some(first) = name.bytes().next() else {
        return false;
    };
    if matches!(first, b'\'' | b'`' | b',' | b'#') {
        return false;
    }
    if name.bytes().any(|b| {
        matches!(
            b,
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | b'(' | b')' | b'"' | b';'
        )
    }) {
        return false;
    }
    let arena = crate::ast::Arena::new();
    matches!(
        crate::reader::read(name, &arena).as_deref(),
        Ok([Node { kind: NodeKind::Symbol(s), .. }]) if *s == name
    )
}

fn write_into(node: &Node, out: &mut String) {
    match &node.kind {
        NodeKind::List(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_into(item, out);
            }
            out.push(')');
        }
        NodeKind::Str(bytes) => push_string_literal(bytes, out),
        NodeKind::RawStr(s) => {
            out.push_str("#\"");
            out.push_str(s);
            out.push('"');
        }
        NodeKind::Bool(true) => out.push_str("#t"),
        NodeKind::Bool(false) => out.push_str("#f"),
        NodeKind::Int(n) => out.push_str(&n.to_string()),
        NodeKind::Real(x) => push_real(*x, out),
        NodeKind::Char(c) => push_char(*c, out),
        NodeKind::Symbol(s) => out.push_str(s),
        NodeKind::Quote(inner) => {
            out.push('\'');
            write_into(inner, out);
        }
    }
}

/// A real that reads back as the same `f64` and as a real: Rust's
/// shortest round-trip form always has a point or an exponent; infinities
/// (what `atof` makes of `1e999`) are written as an overflowing exponent.
fn push_real(x: f64, out: &mut String) {
    if x.is_infinite() {
        out.push_str(if x > 0.0 { "1e999" } else { "-1e999" });
    } else {
        out.push_str(&format!("{x:?}"));
    }
}

/// `#\\a` for printable ASCII, the names TinyScheme reads for space and
/// the usual controls, `#\\xHH` for the rest.
fn push_char(c: u8, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("#\\");
    match c {
        b' ' => out.push_str("space"),
        b'\n' => out.push_str("newline"),
        b'\r' => out.push_str("return"),
        b'\t' => out.push_str("tab"),
        0x21..=0x7e => out.push(char::from(c)),
        _ => {
            out.push('x');
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 0xf)]));
        }
    }
}

fn push_string_literal(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                out.push_str("\\x");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out.push('"');
}
