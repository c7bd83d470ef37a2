//! SBPL regexes (POSIX-style extended regexes over bytes) translated to the
//! `regex` crate's byte engine. What has no faithful translation is refused,
//! so the rule using it is reported as undecidable instead of guessed.

use regex::bytes::{Regex, RegexBuilder};

/// Compiles an SBPL regex. `Err` names why the model cannot decide it.
pub fn compile(pattern: &[u8]) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    RegexBuilder::new(&translated)
        .unicode(false)
        .dot_matches_new_line(true)
        .build()
        .map_err(|e| {
            format!(
                "regex {} does not compile: {}",
                show(pattern),
                first_line(&e.to_string())
            )
        })
}

fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| s.lines().next().unwrap_or(s))
}

/// The pattern as typed, for messages.
pub fn show(pattern: &[u8]) -> String {
    format!("#\"{}\"", String::from_utf8_lossy(pattern))
}

/// Rewrites POSIX syntax into `regex` syntax. Literal bytes are emitted as
/// `\xHH` so no byte can change meaning between the two dialects.
fn translate(p: &[u8]) -> Result<String, String> {
    let mut out = String::with_capacity(p.len() * 2);
    let mut i = 0;
    while i < p.len() {
        let b = p[i];
        match b {
            b'\\' => {
                let Some(&next) = p.get(i + 1) else {
                    return Err(format!("regex {} ends with a lone backslash", show(p)));
                };
                if next.is_ascii_alphanumeric() {
                    return Err(format!(
                        "regex {} uses \\{} which has no POSIX meaning (no classes, no backreferences)",
                        show(p),
                        next as char
                    ));
                }
                push_literal(&mut out, next);
                i += 2;
            }
            b'[' => i = bracket(p, i, &mut out)?,
            b'{' => match bound_len(&p[i..]) {
                Some(len) => {
                    out.push_str(std::str::from_utf8(&p[i..i + len]).unwrap_or_default());
                    i += len;
                }
                None => {
                    push_literal(&mut out, b'{');
                    i += 1;
                }
            },
            b'(' if p.get(i + 1) == Some(&b'?') => {
                return Err(format!(
                    "regex {} uses (? which POSIX regexes do not have",
                    show(p)
                ));
            }
            b'(' | b')' | b'|' | b'*' | b'+' | b'?' | b'^' | b'$' | b'.' => {
                out.push(b as char);
                i += 1;
            }
            _ => {
                push_literal(&mut out, b);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn push_literal(out: &mut String, b: u8) {
    if b.is_ascii_alphanumeric() {
        out.push(b as char);
    } else {
        out.push_str(&format!("\\x{b:02X}"));
    }
}

/// Length of a `{m}`, `{m,}` or `{m,n}` bound at the start of `p`.
fn bound_len(p: &[u8]) -> Option<usize> {
    let close = p.iter().position(|&b| b == b'}')?;
    let inner = &p[1..close];
    let mut parts = inner.splitn(2, |&b| b == b',');
    let min = parts.next()?;
    if min.is_empty() || !min.iter().all(u8::is_ascii_digit) {
        return None;
    }
    match parts.next() {
        Some(max) if !max.iter().all(u8::is_ascii_digit) => None,
        _ => Some(close + 1),
    }
}

/// Translates the bracket expression starting at `p[start] == '['`; returns
/// the index after its closing `]`. Inside brackets a backslash is literal
/// in POSIX.
fn bracket(p: &[u8], start: usize, out: &mut String) -> Result<usize, String> {
    let mut i = start + 1;
    out.push('[');
    if p.get(i) == Some(&b'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let Some(&b) = p.get(i) else {
            return Err(format!("regex {} has an unclosed [", show(p)));
        };
        match b {
            b']' if !first => {
                out.push(']');
                return Ok(i + 1);
            }
            b'[' if matches!(p.get(i + 1), Some(b':')) => {
                let end = find(&p[i + 2..], b":]")
                    .ok_or_else(|| format!("regex {} has an unclosed [: class", show(p)))?;
                let class = &p[i..i + 2 + end + 2];
                out.push_str(&String::from_utf8_lossy(class));
                i += class.len();
            }
            b'[' if matches!(p.get(i + 1), Some(b'.' | b'=')) => {
                return Err(format!(
                    "regex {} uses a collating element which the model does not handle",
                    show(p)
                ));
            }
            b'-' => {
                out.push('-');
                i += 1;
            }
            _ => {
                push_literal(out, b);
                i += 1;
            }
        }
        first = false;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::compile;

    fn m(re: &str, s: &str) -> bool {
        compile(re.as_bytes()).unwrap().is_match(s.as_bytes())
    }

    #[test]
    fn anchors_classes_and_repetition() {
        assert!(m("^/dev/ttys[0-9]+$", "/dev/ttys004"));
        assert!(!m("^/dev/ttys[0-9]+$", "/dev/ttysx"));
        assert!(m("^/a/b(/|$)", "/a/b/c"));
        assert!(!m("^/a/b(/|$)", "/a/bc"));
        assert!(m("^x{2}$", "xx"));
        assert!(m("^a{b$", "a{b"));
        assert!(m("^[[:digit:]]+$", "123"));
    }

    #[test]
    fn unanchored_regexes_search() {
        assert!(m("tty", "/dev/ttys1"));
    }

    #[test]
    fn backslash_is_literal_inside_brackets() {
        assert!(m("^[\\]$", "\\"));
        assert!(m("^[]a]$", "]"));
    }

    #[test]
    fn escaped_punctuation_is_literal() {
        assert!(m("^/a\\.b$", "/a.b"));
        assert!(!m("^/a\\.b$", "/axb"));
    }

    #[test]
    fn untranslatable_syntax_is_refused() {
        assert!(compile(b"\\d+").is_err());
        assert!(compile(b"(a)\\1").is_err());
        assert!(compile(b"(?i)abc").is_err());
        assert!(compile(b"[abc").is_err());
        assert!(compile(b"*a").is_err());
    }

    #[test]
    fn non_utf8_bytes_match_bytes() {
        let re = compile(b"^/x\xff$").unwrap();
        assert!(re.is_match(b"/x\xff"));
    }
}
