//! Strict escapers for values spliced into SBPL text.
//!
//! Seatbelt reads profiles with a TinyScheme whose string escapes differ from
//! JSON's or Go's, and aborts on any non-ASCII byte. So these escapers accept
//! printable ASCII only, escape just the two bytes TinyScheme gives meaning to
//! inside `"..."` (`\` first, then `"`), and refuse everything else with a
//! typed error instead of guessing an encoding.

use std::borrow::Cow;
use std::fmt;

/// Why a value cannot be written as an SBPL literal. Offsets are byte offsets
/// into the value as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscapeError {
    /// The empty string (never a meaningful path or name).
    Empty,
    /// A NUL byte: TinyScheme strings are C strings.
    Nul { offset: usize },
    /// A control byte (0x01..=0x1f), newline and tab included.
    Control { offset: usize, byte: u8 },
    /// DEL (0x7f).
    Del { offset: usize },
    /// A byte >= 0x80: sandbox-exec aborts on non-ASCII profile text.
    NonAscii { offset: usize, byte: u8 },
    /// A `"` in a regex: `#"..."` has no escape for it.
    Quote { offset: usize },
}

impl fmt::Display for EscapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EscapeError::Empty => write!(f, "empty value"),
            EscapeError::Nul { offset } => write!(f, "NUL byte at offset {offset}"),
            EscapeError::Control { offset, byte } => {
                write!(f, "control character 0x{byte:02x} at offset {offset}")
            }
            EscapeError::Del { offset } => write!(f, "DEL (0x7f) at offset {offset}"),
            EscapeError::NonAscii { offset, byte } => {
                write!(f, "non-ASCII byte 0x{byte:02x} at offset {offset}")
            }
            EscapeError::Quote { offset } => {
                write!(
                    f,
                    "'\"' at offset {offset} cannot appear in a regex literal"
                )
            }
        }
    }
}

impl std::error::Error for EscapeError {}

/// How a regex built from a literal path is anchored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// `^...$`: exactly this string.
    Exact,
    /// `^...(/|$)`: this directory and everything below it, not siblings
    /// that merely share the prefix.
    Directory,
}

/// The content to write between `"` and `"` so TinyScheme reads back exactly
/// `s`. Escapes `\` and `"`; refuses empty, NUL, control, DEL, non-ASCII.
/// Borrows `s` when nothing needs escaping (no allocation).
pub fn string_literal(s: &str) -> Result<Cow<'_, str>, EscapeError> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err(EscapeError::Empty);
    }
    if is_plain(bytes) {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for (offset, &b) in bytes.iter().enumerate() {
        check_printable(b, offset)?;
        if b == b'\\' || b == b'"' {
            out.push('\\');
        }
        out.push(b as char);
    }
    Ok(Cow::Owned(out))
}

/// `s` as a complete SBPL string literal, quotes included.
pub fn quoted(s: &str) -> Result<String, EscapeError> {
    let body = string_literal(s)?;
    let mut out = String::with_capacity(body.len() + 2);
    out.push('"');
    out.push_str(&body);
    out.push('"');
    Ok(out)
}

/// A regex (the content of `#"..."`) matching exactly the literal `s`,
/// anchored per `anchor`. Every regex metacharacter is backslash-escaped;
/// `"`, non-printable and non-ASCII bytes are refused, and so is empty.
pub fn regex_literal(s: &str, anchor: Anchor) -> Result<String, EscapeError> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err(EscapeError::Empty);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    out.push('^');
    // Copy runs between metacharacters whole; a run ends at an ASCII byte,
    // so every slice boundary is a char boundary.
    let mut run = 0;
    for (offset, &b) in bytes.iter().enumerate() {
        check_printable(b, offset)?;
        if b == b'"' {
            return Err(EscapeError::Quote { offset });
        }
        if is_regex_meta(b) {
            out.push_str(&s[run..offset]);
            out.push('\\');
            run = offset;
        }
    }
    out.push_str(&s[run..]);
    out.push_str(match anchor {
        Anchor::Exact => "$",
        Anchor::Directory => "(/|$)",
    });
    Ok(out)
}

/// True when every byte is printable ASCII other than `\` and `"`.
///
/// Plain paths are the common case, so this looks at eight bytes per step
/// (SWAR): each test below is non-zero exactly when some byte of the word
/// matches, so their union is non-zero exactly when some byte needs work.
#[inline]
fn is_plain(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let high_or_del = (x & HIGH) | has_zero(x ^ (ONES * 0x7f));
        let special =
            has_zero(x ^ (ONES * u64::from(b'"'))) | has_zero(x ^ (ONES * u64::from(b'\\')));
        if control | high_or_del | special != 0 {
            return false;
        }
    }
    !words.remainder().iter().any(|&b| needs_work(b))
}

#[inline(always)]
fn needs_work(b: u8) -> bool {
    // 0x20..=0x7e is printable; wrapping_sub maps it to 0..=0x5e.
    (b.wrapping_sub(0x20) > 0x5e) | (b == b'"') | (b == b'\\')
}

fn check_printable(b: u8, offset: usize) -> Result<(), EscapeError> {
    match b {
        0 => Err(EscapeError::Nul { offset }),
        0x01..=0x1f => Err(EscapeError::Control { offset, byte: b }),
        0x7f => Err(EscapeError::Del { offset }),
        0x80..=0xff => Err(EscapeError::NonAscii { offset, byte: b }),
        _ => Ok(()),
    }
}

fn is_regex_meta(b: u8) -> bool {
    matches!(
        b,
        b'^' | b'.'
            | b'['
            | b']'
            | b'$'
            | b'('
            | b')'
            | b'|'
            | b'*'
            | b'+'
            | b'?'
            | b'{'
            | b'}'
            | b'\\'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_borrows() {
        assert!(matches!(
            string_literal("/usr/lib"),
            Ok(Cow::Borrowed("/usr/lib"))
        ));
    }

    #[test]
    fn backslash_before_quote() {
        assert_eq!(string_literal(r#"/a\"b"#).unwrap(), r#"/a\\\"b"#);
    }

    #[test]
    fn chunked_scan_finds_late_bytes() {
        let mut s = "a".repeat(70);
        s.push('"');
        assert!(!is_plain(s.as_bytes()));
        assert_eq!(string_literal(&s).unwrap().len(), 72);
        let late_nul = format!("{}\0", "b".repeat(64));
        assert_eq!(
            string_literal(&late_nul),
            Err(EscapeError::Nul { offset: 64 })
        );
    }

    #[test]
    fn word_scan_agrees_with_byte_scan_for_every_byte_and_position() {
        for b in 0..=255u8 {
            for len in [1, 7, 8, 9, 16, 17] {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    assert_eq!(
                        is_plain(&bytes),
                        !needs_work(b),
                        "byte {b:#x} at {at} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn regex_anchors() {
        assert_eq!(regex_literal("/a.b", Anchor::Exact).unwrap(), r"^/a\.b$");
        assert_eq!(regex_literal("/d", Anchor::Directory).unwrap(), "^/d(/|$)");
        assert_eq!(
            regex_literal("/a\"", Anchor::Exact),
            Err(EscapeError::Quote { offset: 2 })
        );
    }
}
