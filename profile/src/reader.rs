//! The SBPL reader: TinyScheme's surface syntax as Apple's sandbox uses it.
//!
//! What it accepts (and how sure we are of each form is in
//! `docs/sbpl.md`):
//! - lists `( ... )`, nested up to [`MAX_DEPTH`] levels;
//! - `"..."` strings with TinyScheme escapes: `\n \t \r \" \\`, `\xHH`
//!   (exactly two hex digits), `\o`, `\oo`, `\ooo` (octal, at most 255); any
//!   other escaped character stands for itself; raw newlines are allowed;
//! - `#"..."`: Apple's raw string, kept exactly as typed, ends at the next `"`;
//! - `#t`, `#f`, decimal integers with an optional sign, `#x`, `#o`, `#b`,
//!   `#d` integers;
//! - symbols: any other token up to a delimiter (whitespace, `(`, `)`, `"`,
//!   `;`), e.g. `file-read*`, `*`, `->`, `1+`, `.`;
//! - `'x` (a [`NodeKind::Quote`]); `` `x ``, `,x` and `,@x` are read as the
//!   lists `(quasiquote x)`, `(unquote x)`, `(unquote-splicing x)`;
//! - `;` line comments, `#!` line comments, `#| ... |#` block comments
//!   (nested blocks are honoured).
//!
//! - real numbers as TinyScheme reads them (`1.0`, `.5`, `00e7`: digits
//!   with a point or an exponent), kept as `f64`;
//! - character literals as TinyScheme reads them: `#\c` for one byte
//!   (the byte right after `#\` is taken even when it is a delimiter, so
//!   `#\(` and `#\ ` are characters), `#\space`, `#\newline`,
//!   `#\return`, `#\tab`, the ASCII control names (`#\nul`, `#\del`, ...)
//!   and `#\xHH` (hex, below 255), names case-insensitive.
//!
//! Refused with a [`ReadError`]: a raw NUL byte anywhere (TinyScheme reads
//! C strings, so everything after it would be silently dropped), vectors
//! `#(`, unknown `#` syntax, integers outside `i64`, and anything
//! unbalanced. The reader never panics on any input and never recurses, so
//! hostile input cannot overflow the stack. (Running out of memory for the
//! tree panics in the arena, where the standard allocator would abort.)
//!
//! A tree borrows the text it was read from and the [`Arena`] it was read
//! into, so it cannot outlive either: keep the three together, read again
//! when the text changes, and reuse one arena across reads with
//! [`Arena::reset`].

use crate::ast::{line_col_at, Arena, Node, NodeKind, Span};
use std::fmt;

/// Deepest nesting of lists and quote prefixes the reader accepts. Real
/// profiles nest a handful of levels; the limit keeps recursive consumers
/// (the writer, the model) far from the stack's end.
pub const MAX_DEPTH: usize = 512;

/// Why the input is not readable SBPL, and where (1-based line and column;
/// columns count characters, not bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

impl std::error::Error for ReadError {}

/// Reads every top-level datum of `src`. Spans point into `src`; atoms
/// borrow from it, lists and decoded strings are put in `arena`.
pub fn read<'a>(src: &'a str, arena: &'a Arena) -> Result<Vec<Node<'a>>, ReadError> {
    read_at(src, 0, arena)
}

/// Like [`read`], with every span shifted by `base`: the model reads an
/// importing profile and its imports into one span space, so a span alone
/// says which file it is in. `base + src.len()` must stay within
/// [`MAX_SOURCE`].
pub fn read_at<'a>(src: &'a str, base: u32, arena: &'a Arena) -> Result<Vec<Node<'a>>, ReadError> {
    if src.len() > MAX_SOURCE - base as usize {
        return Err(ReadError {
            line: 1,
            col: 1,
            message: format!(
                "source is {} bytes; the reader takes at most {MAX_SOURCE} (spans are 32-bit)",
                src.len()
            ),
        });
    }
    if let Some(at) = src.bytes().position(|b| b == 0) {
        let (line, col) = line_col_at(src, at);
        return Err(ReadError {
            line,
            col,
            message: "raw NUL byte: TinyScheme reads C strings, so the text after it would be \
                      silently dropped (write \\x00 inside a string for a NUL)"
                .into(),
        });
    }
    Reader::new(src, base, arena).read_all().map_err(|f| {
        let (line, col) = line_col_at(src, f.pos);
        ReadError {
            line,
            col,
            message: f.message,
        }
    })
}

/// The longest source [`read`] accepts: spans store 32-bit offsets.
pub const MAX_SOURCE: usize = u32::MAX as usize;

/// Like [`read`], for raw file contents: input that is not UTF-8 is refused
/// with the position of the first offending byte.
pub fn read_bytes<'a>(src: &'a [u8], arena: &'a Arena) -> Result<Vec<Node<'a>>, ReadError> {
    match std::str::from_utf8(src) {
        Ok(s) => read(s, arena),
        Err(e) => {
            let at = e.valid_up_to();
            // Everything before `at` is valid UTF-8, so this slice is a &str.
            let before = std::str::from_utf8(&src[..at]).unwrap_or_default();
            let (line, col) = line_col_at(before, at);
            Err(ReadError {
                line,
                col,
                message: format!("invalid UTF-8 (byte 0x{:02x})", src[at]),
            })
        }
    }
}

/// A read error before it is placed: the byte offset it happened at.
/// Lines and columns are computed once, for the error that is returned,
/// so the reader tracks nothing but its byte position.
struct Failure {
    pos: usize,
    message: String,
}

/// Where a datum or frame began.
#[derive(Clone, Copy)]
struct Mark {
    pos: usize,
    /// The reader's span base (see [`read_at`]).
    base: u32,
}

impl Mark {
    fn span_to(self, end: usize) -> Span {
        // Both fit: `read_at` refuses sources that would pass MAX_SOURCE.
        Span {
            start: self.base + self.pos as u32,
            end: self.base + end as u32,
        }
    }

    fn error(self, message: impl Into<String>) -> Failure {
        Failure {
            pos: self.pos,
            message: message.into(),
        }
    }
}

/// A reader prefix waiting for its datum.
#[derive(Clone, Copy)]
enum Prefix {
    Quote,
    Quasiquote,
    Unquote,
    UnquoteSplicing,
}

impl Prefix {
    fn spelling(self) -> &'static str {
        match self {
            Prefix::Quote => "'",
            Prefix::Quasiquote => "`",
            Prefix::Unquote => ",",
            Prefix::UnquoteSplicing => ",@",
        }
    }

    fn wrap<'a>(self, mark: Mark, datum: Node<'a>, arena: &'a Arena) -> Node<'a> {
        let span = mark.span_to(datum.span.end as usize);
        let kind = match self {
            Prefix::Quote => NodeKind::Quote(arena.node(datum)),
            other => {
                let name = match other {
                    Prefix::Quasiquote => "quasiquote",
                    Prefix::Unquote => "unquote",
                    _ => "unquote-splicing",
                };
                let head = Node {
                    kind: NodeKind::Symbol(name),
                    span: mark.span_to(mark.pos + other.spelling().len()),
                };
                NodeKind::List(arena.nodes(&[head, datum]))
            }
        };
        Node { kind, span }
    }
}

/// An open list or prefix on the explicit parse stack. A list's items are
/// the tail of the shared item buffer from the index it records, so a list
/// is copied once, when it closes, into its exact place in the arena.
enum Frame {
    List(Mark, usize),
    Prefix(Mark, Prefix),
}

struct Reader<'a> {
    text: &'a str,
    src: &'a [u8],
    pos: usize,
    base: u32,
    arena: &'a Arena,
    /// Top-level data, then the items of every open list, innermost last.
    items: Vec<Node<'a>>,
    /// The open lists and prefixes, innermost last.
    stack: Vec<Frame>,
    /// Decoded bytes of the string being read, when it has escapes.
    scratch: Vec<u8>,
}

/// Bytes that end a token: whitespace, `(`, `)`, `"`, `;`. A table, because
/// token scanning is the reader's innermost loop.
static DELIMITER: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    let set = b" \t\n\r\x0b\x0c()\";";
    while i < set.len() {
        table[set[i] as usize] = true;
        i += 1;
    }
    table
};

#[inline]
fn is_delimiter(b: u8) -> bool {
    DELIMITER[usize::from(b)]
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, base: u32, arena: &'a Arena) -> Self {
        Reader {
            text,
            src: text.as_bytes(),
            pos: 0,
            base,
            arena,
            items: Vec::new(),
            stack: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            base: self.base,
        }
    }

    fn error_here(&self, message: impl Into<String>) -> Failure {
        self.mark().error(message)
    }

    fn read_all(mut self) -> Result<Vec<Node<'a>>, Failure> {
        loop {
            self.skip_atmosphere()?;
            let Some(&b) = self.src.get(self.pos) else {
                return match self.stack.pop() {
                    None => Ok(self.items),
                    Some(Frame::List(m, _)) => {
                        Err(m.error("unterminated list: this `(` is never closed"))
                    }
                    Some(Frame::Prefix(m, p)) => Err(m.error(format!(
                        "`{}` at end of input has no datum to apply to",
                        p.spelling()
                    ))),
                };
            };
            // Each reader appends its datum itself (see `emit`).
            match b {
                b'(' => {
                    self.check_depth()?;
                    self.stack.push(Frame::List(self.mark(), self.items.len()));
                    self.pos += 1;
                }
                b')' => self.close_list()?,
                b'\'' | b'`' | b',' => {
                    self.check_depth()?;
                    let mark = self.mark();
                    let prefix = self.read_prefix(b);
                    self.stack.push(Frame::Prefix(mark, prefix));
                }
                b'"' => self.read_string()?,
                b'#' => self.read_sharp()?,
                _ => self.read_atom()?,
            }
        }
    }

    /// Appends a finished datum to the item buffer (the innermost open
    /// list, or the top level), wrapped first by any prefixes waiting for
    /// it. Readers call this with the node they build rather than return
    /// it: a node handed back through a `Result` was stored and reloaded
    /// piecewise, and those reloads stalled on store forwarding.
    /// (The node is pushed before the prefix check, so it goes straight
    /// into the buffer instead of waiting on the stack for the branch.)
    #[inline]
    fn emit(&mut self, node: Node<'a>) {
        self.items.push(node);
        if let Some(Frame::Prefix(..)) = self.stack.last() {
            self.wrap_last();
        }
    }

    /// Wraps the datum just emitted in the prefixes waiting for it.
    #[cold]
    fn wrap_last(&mut self) {
        let Some(mut node) = self.items.pop() else {
            return;
        };
        while let Some(Frame::Prefix(..)) = self.stack.last() {
            if let Some(Frame::Prefix(mark, prefix)) = self.stack.pop() {
                node = prefix.wrap(mark, node, self.arena);
            }
        }
        self.items.push(node);
    }

    fn check_depth(&self) -> Result<(), Failure> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error_here(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn read_prefix(&mut self, b: u8) -> Prefix {
        self.pos += 1;
        match b {
            b'\'' => Prefix::Quote,
            b'`' => Prefix::Quasiquote,
            _ if self.src.get(self.pos) == Some(&b'@') => {
                self.pos += 1;
                Prefix::UnquoteSplicing
            }
            _ => Prefix::Unquote,
        }
    }

    fn close_list(&mut self) -> Result<(), Failure> {
        match self.stack.pop() {
            None => Err(self.error_here("unexpected `)` with no open list")),
            Some(Frame::Prefix(m, p)) => Err(m.error(format!(
                "`{}` is followed by `)` instead of a datum",
                p.spelling()
            ))),
            Some(Frame::List(m, first)) => {
                self.pos += 1;
                let children = self.arena.nodes(&self.items[first..]);
                self.items.truncate(first);
                self.emit(Node {
                    kind: NodeKind::List(children),
                    span: m.span_to(self.pos),
                });
                Ok(())
            }
        }
    }

    /// Skips whitespace and comments (`;`, `#!`, `#| |#`).
    fn skip_atmosphere(&mut self) -> Result<(), Failure> {
        while let Some(&b) = self.src.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => self.pos += 1,
                b';' => self.skip_line(),
                b'#' => match self.src.get(self.pos + 1) {
                    Some(b'|') => self.skip_block_comment()?,
                    Some(b'!') => self.skip_line(),
                    _ => return Ok(()),
                },
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// Moves to the newline ending the current line (or the end of input).
    fn skip_line(&mut self) {
        let rest = &self.src[self.pos..];
        self.pos += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    }

    fn skip_block_comment(&mut self) -> Result<(), Failure> {
        let start = self.mark();
        self.pos += 2;
        let mut depth = 1usize;
        while let Some(&b) = self.src.get(self.pos) {
            let next = self.src.get(self.pos + 1).copied();
            match (b, next) {
                (b'|', Some(b'#')) => {
                    self.pos += 2;
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                (b'#', Some(b'|')) => {
                    self.pos += 2;
                    depth += 1;
                }
                _ => self.pos += 1,
            }
        }
        Err(start.error("unterminated block comment: this `#|` is never closed"))
    }

    fn read_string(&mut self) -> Result<(), Failure> {
        let start = self.mark();
        self.pos += 1;
        let body_start = self.pos;
        self.scan_string_run();
        // Nearly every string has no escape: it is the source bytes as they
        // stand, borrowed, not copied.
        let bytes = if self.src.get(self.pos) == Some(&b'"') {
            &self.src[body_start..self.pos]
        } else {
            self.decode_string(start, body_start)?
        };
        self.pos += 1;
        self.emit(Node {
            kind: NodeKind::Str(bytes),
            span: start.span_to(self.pos),
        });
        Ok(())
    }

    /// Moves past plain string bytes, up to a `"`, a `\` or the end.
    fn scan_string_run(&mut self) {
        let rest = &self.src[self.pos..];
        self.pos += rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\')
            .unwrap_or(rest.len());
    }

    /// The rest of a string that has escapes, decoded into the arena; ends
    /// with `self.pos` at the closing quote.
    fn decode_string(&mut self, start: Mark, body_start: usize) -> Result<&'a [u8], Failure> {
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        out.extend_from_slice(&self.src[body_start..self.pos]);
        let result = loop {
            match self.src.get(self.pos) {
                None => break Err(start.error("unterminated string: this `\"` is never closed")),
                Some(b'"') => break Ok(self.arena.bytes(&out)),
                Some(_) => {
                    if let Err(e) = self.read_escape(&mut out) {
                        break Err(e);
                    }
                    let run_start = self.pos;
                    self.scan_string_run();
                    out.extend_from_slice(&self.src[run_start..self.pos]);
                }
            }
        };
        self.scratch = out;
        result
    }

    /// Decodes one escape; `self.pos` is at the backslash.
    fn read_escape(&mut self, out: &mut Vec<u8>) -> Result<(), Failure> {
        let at = self.mark();
        self.pos += 1;
        let Some(&c) = self.src.get(self.pos) else {
            return Err(at.error("unterminated string: input ends after `\\`"));
        };
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'x' | b'X' => return self.read_hex_escape(at, out),
            b'0'..=b'7' => return self.read_octal_escape(at, out),
            _ => {
                // Any other character stands for itself, including a raw
                // newline or a multi-byte character.
                let len = utf8_len(c);
                out.extend_from_slice(&self.src[self.pos..self.pos + len]);
                self.pos += len;
                return Ok(());
            }
        }
        self.pos += 1;
        Ok(())
    }

    fn read_hex_escape(&mut self, at: Mark, out: &mut Vec<u8>) -> Result<(), Failure> {
        let digits = self.src.get(self.pos + 1..self.pos + 3);
        let value = digits.and_then(|d| {
            let hi = hex_value(d[0])?;
            let lo = hex_value(d[1])?;
            Some(hi * 16 + lo)
        });
        match value {
            Some(v) => {
                out.push(v);
                self.pos += 3;
                Ok(())
            }
            None => {
                let shown: String = self.text[self.pos - 1..]
                    .chars()
                    .take(4)
                    .take_while(|&c| c != '"')
                    .collect();
                let shown = if shown.chars().any(char::is_control) {
                    shown.escape_debug().to_string()
                } else {
                    shown
                };
                Err(at.error(format!(
                    "bad escape `{shown}`: `\\x` needs exactly two hex digits"
                )))
            }
        }
    }

    fn read_octal_escape(&mut self, at: Mark, out: &mut Vec<u8>) -> Result<(), Failure> {
        let mut value: u32 = 0;
        let mut n = 0;
        while n < 3 {
            match self.src.get(self.pos) {
                Some(&d @ b'0'..=b'7') => {
                    value = value * 8 + u32::from(d - b'0');
                    self.pos += 1;
                    n += 1;
                }
                _ => break,
            }
        }
        match u8::try_from(value) {
            Ok(v) => {
                out.push(v);
                Ok(())
            }
            Err(_) => Err(at.error(format!(
                "bad escape `\\{value:o}`: octal escape above \\377"
            ))),
        }
    }

    /// `#` syntax other than comments (those are atmosphere).
    fn read_sharp(&mut self) -> Result<(), Failure> {
        let start = self.mark();
        match self.src.get(self.pos + 1) {
            Some(b'"') => self.read_raw_string(start),
            Some(b'(') => Err(start.error("vectors `#(...)` are not supported in SBPL")),
            Some(b'\\') => self.read_char(start),
            _ => {
                let token = self.take_token();
                let kind = match token {
                    "#t" => NodeKind::Bool(true),
                    "#f" => NodeKind::Bool(false),
                    _ => match parse_radix_int(token) {
                        Some(Ok(n)) => NodeKind::Int(n),
                        Some(Err(msg)) => return Err(start.error(msg)),
                        None => {
                            return Err(start
                                .error(format!("unknown `#` syntax `{}`", token.escape_debug())))
                        }
                    },
                };
                self.emit(Node {
                    kind,
                    span: start.span_to(self.pos),
                });
                Ok(())
            }
        }
    }

    /// `#\\c`, `#\\space`, `#\\x41`; `self.pos` is at the `#`.
    fn read_char(&mut self, start: Mark) -> Result<(), Failure> {
        self.pos += 2;
        let Some(&first) = self.src.get(self.pos) else {
            return Err(start.error("`#\\` at end of input: a character literal needs a character"));
        };
        // The first character is taken even when it is a delimiter.
        self.pos += utf8_len(first);
        let rest = &self.src[self.pos..];
        self.pos += rest
            .iter()
            .position(|&b| is_delimiter(b))
            .unwrap_or(rest.len());
        let name = &self.text[start.pos + 2..self.pos];
        match char_named(name) {
            Some(c) => {
                self.emit(Node {
                    kind: NodeKind::Char(c),
                    span: start.span_to(self.pos),
                });
                Ok(())
            }
            None => Err(start.error(format!(
                "unknown character literal `#\\{}`: expected one character, a name such as \
                 space or newline, or xHH",
                name.escape_debug()
            ))),
        }
    }

    fn read_raw_string(&mut self, start: Mark) -> Result<(), Failure> {
        self.pos += 2;
        let body_start = self.pos;
        let rest = &self.src[body_start..];
        let len = rest.iter().position(|&b| b == b'"').unwrap_or(rest.len());
        self.pos += len;
        if self.pos < self.src.len() {
            let body = &self.text[body_start..self.pos];
            self.pos += 1;
            self.emit(Node {
                kind: NodeKind::RawStr(body),
                span: start.span_to(self.pos),
            });
            return Ok(());
        }
        Err(start.error("unterminated raw string: this `#\"` is never closed"))
    }

    /// Consumes bytes up to the next delimiter and returns them.
    #[inline]
    fn take_token(&mut self) -> &'a str {
        let start = self.pos;
        let rest = &self.src[start..];
        let len = rest
            .iter()
            .position(|&b| is_delimiter(b))
            .unwrap_or(rest.len());
        self.pos += len;
        &self.text[start..self.pos]
    }

    fn read_atom(&mut self) -> Result<(), Failure> {
        let start = self.mark();
        let token = self.take_token();
        let kind = match classify(token) {
            Atom::Int => match token.parse::<i64>() {
                Ok(n) => NodeKind::Int(n),
                Err(_) => {
                    return Err(start.error(format!("integer `{token}` does not fit in 64 bits")))
                }
            },
            Atom::Real => NodeKind::Real(parse_real(token)),
            Atom::Symbol => NodeKind::Symbol(token),
        };
        self.emit(Node {
            kind,
            span: start.span_to(self.pos),
        });
        Ok(())
    }
}

/// Length of the UTF-8 sequence starting with `b` (1 for ASCII and for
/// stray bytes, which valid `&str` input never has).
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// ASCII control names TinyScheme knows (`USE_ASCII_NAMES`), by code.
const ASCII_NAMES: [&str; 32] = [
    "nul", "soh", "stx", "etx", "eot", "enq", "ack", "bel", "bs", "ht", "lf", "vt", "ff", "cr",
    "so", "si", "dle", "dc1", "dc2", "dc3", "dc4", "nak", "syn", "etb", "can", "em", "sub", "esc",
    "fs", "gs", "rs", "us",
];

/// The byte a character literal's name (the text after `#\\`) stands for.
pub fn char_named(name: &str) -> Option<u8> {
    let lower = name.to_ascii_lowercase();
    let named = match lower.as_str() {
        "space" => Some(b' '),
        "newline" => Some(b'\n'),
        "return" => Some(b'\r'),
        "tab" => Some(b'\t'),
        "del" => Some(0x7f),
        other => ASCII_NAMES
            .iter()
            .position(|n| *n == other)
            .map(|i| i as u8),
    };
    if named.is_some() {
        return named;
    }
    let b = name.as_bytes();
    match b {
        [c] => Some(*c),
        [b'x' | b'X', hex @ ..] if hex.len() <= 2 => {
            let mut v: u32 = 0;
            for &d in hex {
                v = v * 16 + u32::from(hex_value(d)?);
            }
            // TinyScheme takes `#\\xHH` only below UCHAR_MAX.
            u8::try_from(v).ok().filter(|&v| v < 0xff)
        }
        _ => None,
    }
}

/// The value of a token [`classify`] found real, as C's `atof` reads it:
/// the longest prefix that is a number (`1e` is 1.0).
fn parse_real(token: &str) -> f64 {
    let mut end = token.len();
    loop {
        if let Ok(v) = token[..end].parse::<f64>() {
            return v;
        }
        if end == 0 {
            return 0.0;
        }
        end -= 1;
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

enum Atom {
    Int,
    Real,
    Symbol,
}

/// Follows TinyScheme's atom rule (`mk_atom`): a token is a number only if
/// it starts with a digit (after an optional sign or point) and continues
/// with digits, at most one point before an exponent, and at most one
/// exponent (whose sign may follow it); a point or an exponent makes it
/// real. Anything else is a symbol (`1+`, `-`, `2a`).
fn classify(token: &str) -> Atom {
    let b = token.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let mut has_point = false;
    let mut has_exp = false;
    if b.get(i) == Some(&b'.') {
        has_point = true;
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return Atom::Symbol;
    }
    while i < b.len() {
        match b[i] {
            b'0'..=b'9' => {}
            b'.' if !has_point => has_point = true,
            b'e' | b'E' if !has_exp => {
                // No point after an exponent.
                has_point = true;
                has_exp = true;
                if matches!(b.get(i + 1), Some(b'+' | b'-')) {
                    i += 1;
                }
            }
            _ => return Atom::Symbol,
        }
        i += 1;
    }
    if has_point {
        Atom::Real
    } else {
        Atom::Int
    }
}

/// `#x1f`, `#o17`, `#b101`, `#d42` (optional sign after the radix letter).
/// `None` when the token is not radix syntax at all.
fn parse_radix_int(token: &str) -> Option<Result<i64, String>> {
    let b = token.as_bytes();
    let radix = match b.get(1)? {
        b'x' | b'X' => 16,
        b'o' | b'O' => 8,
        b'b' | b'B' => 2,
        b'd' | b'D' => 10,
        _ => return None,
    };
    let digits = &token[2..];
    let (negative, body) = match digits.as_bytes().first() {
        Some(b'-') => (true, &digits[1..]),
        Some(b'+') => (false, &digits[1..]),
        _ => (false, digits),
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return Some(Err(format!(
            "bad number `{}`: expected base-{radix} digits",
            token.escape_debug()
        )));
    }
    let magnitude = match i128::from_str_radix(body, radix) {
        Ok(m) => m,
        Err(_) => return Some(Err(format!("integer `{token}` does not fit in 64 bits"))),
    };
    let value = if negative { -magnitude } else { magnitude };
    Some(i64::try_from(value).map_err(|_| format!("integer `{token}` does not fit in 64 bits")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoms_borrow_the_source_and_escaped_strings_the_arena() {
        let src = r#"(allow "/plain" "a\"b" #"raw" file-read*)"#;
        let arena = Arena::new();
        let nodes = read(src, &arena).expect("reads");
        let items = nodes[0].as_list().expect("a list");
        let in_source = |p: *const u8| src.as_bytes().as_ptr_range().contains(&p);
        let ptr = |n: &Node| match n.kind {
            NodeKind::Symbol(s) | NodeKind::RawStr(s) => s.as_ptr(),
            NodeKind::Str(b) => b.as_ptr(),
            _ => panic!("not an atom"),
        };
        assert!(in_source(ptr(&items[0])), "symbol");
        assert!(in_source(ptr(&items[1])), "plain string");
        assert!(!in_source(ptr(&items[2])), "decoded string");
        assert_eq!(items[2].kind, NodeKind::Str(b"a\"b"));
        assert!(in_source(ptr(&items[3])), "raw string");
        assert!(in_source(ptr(&items[4])), "symbol");
    }

    #[test]
    fn a_string_with_escapes_between_plain_runs_decodes_whole() {
        let arena = Arena::new();
        let nodes = read(r#""ab\ncd\x41ef\\""#, &arena).expect("reads");
        assert_eq!(nodes[0].kind, NodeKind::Str(b"ab\ncdAef\\"));
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_node_is_four_words() {
        // Reading speed is mostly the memory the tree lands on: a node went
        // from 48 to 32 bytes when spans lost their stored line and column.
        assert_eq!(std::mem::size_of::<Node>(), 32);
    }

    #[test]
    fn spans_are_byte_ranges_of_the_source() {
        let src = "(allow  \"é\")";
        let arena = Arena::new();
        let nodes = read(src, &arena).expect("reads");
        let items = nodes[0].as_list().expect("a list");
        assert_eq!(&src[items[1].span.range()], "\"é\"");
        assert_eq!(&src[nodes[0].span.range()], src);
    }
}
