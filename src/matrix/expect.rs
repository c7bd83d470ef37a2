//! The spec the matrix checks: `spec/expectations.toml`.
//!
//! One `[[probe]]` per probe with `allowed_when`, a boolean expression over
//! dimension names (`&&`, `||`, `!`, parentheses, `true`, `false`). With
//! `--profile` the file also declares its own `[[dimension]]`s (see
//! docs/matrix.md). Every error names the probe and, for expressions, the
//! 1-based column of the offending token.

use super::fixtures::{unknown_placeholder, PLACEHOLDERS};
use profile::document;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// The longest `allowed_when` / `--configs` expression, in bytes: far more
/// than any spec needs, and small enough that the compiled tree (whose
/// depth grows with the number of terms) is safe to walk recursively.
pub const MAX_EXPR_BYTES: usize = 4096;

/// The deepest nesting of `(` and `!` in an expression.
pub const MAX_EXPR_DEPTH: usize = 64;

/// The expectations shipped with beltcheck (the spec for the built-in
/// dimensions).
pub const BUILTIN: &str = include_str!("../../spec/expectations.toml");

/// A compiled `allowed_when` expression; variables are dimension indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Const(bool),
    Var(usize),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Evaluates under one assignment (`bits[i]` is dimension `i`).
    pub fn eval(&self, bits: &[bool]) -> bool {
        match self {
            Expr::Const(b) => *b,
            Expr::Var(i) => bits[*i],
            Expr::Not(e) => !e.eval(bits),
            Expr::And(a, b) => a.eval(bits) && b.eval(bits),
            Expr::Or(a, b) => a.eval(bits) || b.eval(bits),
        }
    }
}

/// What went wrong in an expectations file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectError {
    /// The probe whose entry is wrong, when the error is inside one.
    pub probe: Option<String>,
    /// 1-based column inside `allowed_when`, for expression errors.
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ExpectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.probe, self.column) {
            (Some(p), Some(c)) => {
                write!(f, "probe {p:?}: allowed_when column {c}: {}", self.message)
            }
            (Some(p), None) => write!(f, "probe {p:?}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ExpectError {}

/// One probe's entry, compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    pub name: String,
    /// The expression as written (for reports).
    pub source: String,
    pub allowed_when: Expr,
    /// Arguments for `beltcheck-probe NAME`, with fixture placeholders
    /// (`{unix_socket}`, `{tcp_host}`, `{tcp_port}`, `{tmp_dir}`,
    /// `{tmp_file}`) still in place.
    pub args: Vec<String>,
}

/// A dimension declared by a bring-your-own expectations file: the `-D`
/// parameters that realise each side of the boolean.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDimension {
    pub name: String,
    #[serde(default)]
    pub when_true: BTreeMap<String, String>,
    #[serde(default)]
    pub when_false: BTreeMap<String, String>,
}

/// A parsed expectations file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    pub probes: Vec<ProbeSpec>,
    /// Empty for the built-in dimensions; the file's own for `--profile`.
    pub user_dimensions: Vec<UserDimension>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, deserialize_with = "document::tables")]
    dimension: Vec<UserDimension>,
    #[serde(default, deserialize_with = "document::tables")]
    probe: Vec<RawProbe>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    name: String,
    allowed_when: String,
    #[serde(default)]
    args: Vec<String>,
    /// Free text for humans; not interpreted.
    #[serde(default)]
    #[allow(dead_code)]
    why: Option<String>,
}

/// Which dimension names the expressions may use.
pub enum DimensionSource<'a> {
    /// The built-in axes (these names); the file must not declare its own.
    Builtin(&'a [&'a str]),
    /// The file declares its own `[[dimension]]`s (bring-your-own profile).
    FromFile,
}

/// Parses and compiles an expectations file.
pub fn parse(text: &str, dims: DimensionSource<'_>) -> Result<Expectations, ExpectError> {
    let raw: RawFile =
        document::from_toml(text).map_err(|e| plain(format!("expectations: {e}")))?;
    let names: Vec<String> = match dims {
        DimensionSource::Builtin(names) => {
            if let Some(d) = raw.dimension.first() {
                return Err(plain(format!(
                    "expectations: [[dimension]] {:?} is only meaningful with --profile (the built-in dimensions are fixed)",
                    d.name
                )));
            }
            names.iter().map(|s| s.to_string()).collect()
        }
        DimensionSource::FromFile => check_user_dimensions(&raw.dimension)?,
    };
    if raw.probe.is_empty() {
        return Err(plain("expectations: no [[probe]] entries".into()));
    }
    let mut probes: Vec<ProbeSpec> = Vec::with_capacity(raw.probe.len());
    for p in raw.probe {
        if p.name.is_empty() {
            return Err(plain("expectations: a [[probe]] has an empty name".into()));
        }
        if probes.iter().any(|q| q.name == p.name) {
            return Err(ExpectError {
                probe: Some(p.name),
                column: None,
                message: "listed twice".into(),
            });
        }
        check_probe(&p).map_err(|message| ExpectError {
            probe: Some(p.name.clone()),
            column: None,
            message,
        })?;
        let allowed_when =
            compile(&p.allowed_when, &names).map_err(|(column, message)| ExpectError {
                probe: Some(p.name.clone()),
                column: Some(column),
                message,
            })?;
        probes.push(ProbeSpec {
            name: p.name,
            source: p.allowed_when,
            allowed_when,
            args: p.args,
        });
    }
    Ok(Expectations {
        probes,
        user_dimensions: raw.dimension,
    })
}

fn plain(message: String) -> ExpectError {
    ExpectError {
        probe: None,
        column: None,
        message,
    }
}

/// A probe entry must name a probe `beltcheck-probe` has and only the
/// harness's fixtures: otherwise every one of its cells would be
/// inconclusive for a typo.
fn check_probe(p: &RawProbe) -> Result<(), String> {
    if probes::find(&p.name).is_none() {
        let known: Vec<&str> = probes::catalogue::names().collect();
        return Err(format!("unknown probe (known: {})", known.join(", ")));
    }
    for (i, arg) in p.args.iter().enumerate() {
        if let Some(bad) = unknown_placeholder(arg) {
            let known: Vec<String> = PLACEHOLDERS.iter().map(|n| format!("{{{n}}}")).collect();
            return Err(format!(
                "args[{i}] {arg:?}: unknown fixture {bad} (known: {})",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

fn check_user_dimensions(dims: &[UserDimension]) -> Result<Vec<String>, ExpectError> {
    let mut names = Vec::new();
    for d in dims {
        if !is_ident(&d.name) {
            return Err(plain(format!(
                "expectations: dimension name {:?} is not an identifier",
                d.name
            )));
        }
        if names.contains(&d.name) {
            return Err(plain(format!(
                "expectations: dimension {:?} declared twice",
                d.name
            )));
        }
        names.push(d.name.clone());
    }
    Ok(names)
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && s != "true"
        && s != "false"
}

/// Compiles one expression; errors carry the 1-based column. Longer than
/// [`MAX_EXPR_BYTES`] or nested deeper than [`MAX_EXPR_DEPTH`] is an error
/// (the parser and the tree it builds are recursive).
pub fn compile(text: &str, names: &[String]) -> Result<Expr, (usize, String)> {
    if text.len() > MAX_EXPR_BYTES {
        return Err((
            MAX_EXPR_BYTES + 1,
            format!(
                "expression too long: {} bytes, at most {MAX_EXPR_BYTES}",
                text.len()
            ),
        ));
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        names,
        end: text.len() + 1,
        depth: 0,
    };
    let expr = parser.or()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(expr),
        Some(t) => Err((t.column, format!("unexpected {}", t.kind.describe()))),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokKind {
    And,
    Or,
    Not,
    Open,
    Close,
    Ident(String),
}

impl TokKind {
    fn describe(&self) -> String {
        match self {
            TokKind::And => "`&&`".into(),
            TokKind::Or => "`||`".into(),
            TokKind::Not => "`!`".into(),
            TokKind::Open => "`(`".into(),
            TokKind::Close => "`)`".into(),
            TokKind::Ident(s) => format!("{s:?}"),
        }
    }
}

struct Token {
    kind: TokKind,
    column: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, (usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let column = i + 1;
        let c = chars[i];
        let two = |d: char| chars.get(i + 1) == Some(&d);
        let kind = match c {
            ' ' | '\t' | '\n' | '\r' => {
                i += 1;
                continue;
            }
            '&' if two('&') => TokKind::And,
            '|' if two('|') => TokKind::Or,
            '&' | '|' => return Err((column, format!("single `{c}`: use `{c}{c}`"))),
            '!' => TokKind::Not,
            '(' => TokKind::Open,
            ')' => TokKind::Close,
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                {
                    i += 1;
                }
                out.push(Token {
                    kind: TokKind::Ident(chars[start..i].iter().collect()),
                    column,
                });
                continue;
            }
            other => return Err((column, format!("unexpected character {other:?}"))),
        };
        i += if matches!(kind, TokKind::And | TokKind::Or) {
            2
        } else {
            1
        };
        out.push(Token { kind, column });
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    names: &'a [String],
    end: usize,
    /// Enclosing `(` and `!` of the token being parsed.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&TokKind> {
        self.tokens.get(self.pos).map(|t| &t.kind)
    }

    fn or(&mut self) -> Result<Expr, (usize, String)> {
        let mut left = self.and()?;
        while self.peek() == Some(&TokKind::Or) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, (usize, String)> {
        let mut left = self.unary()?;
        while self.peek() == Some(&TokKind::And) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, (usize, String)> {
        let Some(tok) = self.tokens.get(self.pos) else {
            return Err((
                self.end,
                "expression ends early: expected a dimension, `true`, `false`, `!` or `(`".into(),
            ));
        };
        self.pos += 1;
        match &tok.kind {
            TokKind::Not | TokKind::Open => {
                if self.depth == MAX_EXPR_DEPTH {
                    return Err((
                        tok.column,
                        format!("nested more than {MAX_EXPR_DEPTH} deep"),
                    ));
                }
                self.depth += 1;
                let inner = self.nested(tok);
                self.depth -= 1;
                inner
            }
            TokKind::Ident(s) if s == "true" => Ok(Expr::Const(true)),
            TokKind::Ident(s) if s == "false" => Ok(Expr::Const(false)),
            TokKind::Ident(s) => match self.names.iter().position(|n| n == s) {
                Some(i) => Ok(Expr::Var(i)),
                None => Err((
                    tok.column,
                    format!("unknown dimension {s:?} (known: {})", self.known()),
                )),
            },
            other => Err((tok.column, format!("unexpected {}", other.describe()))),
        }
    }

    /// What follows `open` (a `!` or a `(`, already consumed).
    fn nested(&mut self, open: &Token) -> Result<Expr, (usize, String)> {
        if open.kind == TokKind::Not {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        let inner = self.or()?;
        match self.tokens.get(self.pos) {
            Some(Token {
                kind: TokKind::Close,
                ..
            }) => {
                self.pos += 1;
                Ok(inner)
            }
            Some(t) => Err((
                t.column,
                format!("expected `)`, found {}", t.kind.describe()),
            )),
            None => Err((open.column, "unclosed `(`".into())),
        }
    }

    fn known(&self) -> String {
        if self.names.is_empty() {
            "none; only `true` and `false`".into()
        } else {
            self.names.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["a", "b.c", "d_e"].iter().map(|s| s.to_string()).collect()
    }

    fn eval(text: &str, bits: [bool; 3]) -> bool {
        compile(text, &names()).unwrap().eval(&bits)
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        assert!(eval("a || b.c && d_e", [true, false, false]));
        assert!(!eval("(a || b.c) && d_e", [true, false, false]));
        assert!(eval("!a && !(b.c || d_e)", [false, false, false]));
        assert!(!eval("!!a", [false, true, true]));
        assert!(eval("true", [false; 3]));
        assert!(!eval("false || false", [true; 3]));
    }

    #[test]
    fn errors_name_the_column() {
        let n = names();
        assert_eq!(compile("a && zz", &n).unwrap_err().0, 6);
        assert!(compile("a && zz", &n)
            .unwrap_err()
            .1
            .contains("unknown dimension \"zz\""));
        assert_eq!(compile("a & b.c", &n).unwrap_err().0, 3);
        assert_eq!(compile("(a || b.c", &n).unwrap_err().0, 1);
        assert_eq!(compile("a b.c", &n).unwrap_err().0, 3);
        assert_eq!(compile("a &&", &n).unwrap_err().0, 5);
        assert_eq!(compile("", &n).unwrap_err().0, 1);
        assert_eq!(compile("a $", &n).unwrap_err().0, 3);
    }

    #[test]
    fn length_and_depth_are_bounded() {
        let n = names();
        let deep = |d: usize| format!("{}a{}", "(".repeat(d), ")".repeat(d));
        assert!(compile(&deep(MAX_EXPR_DEPTH), &n).is_ok());
        let (col, msg) = compile(&deep(MAX_EXPR_DEPTH + 1), &n).unwrap_err();
        assert_eq!(col, MAX_EXPR_DEPTH + 1);
        assert!(msg.contains("nested more than 64 deep"), "{msg}");
        let nots = format!("{}a", "!".repeat(MAX_EXPR_DEPTH + 1));
        assert!(compile(&nots, &n).unwrap_err().1.contains("nested"));
        let long = vec!["a"; MAX_EXPR_BYTES / 4 + 1].join(" && ");
        assert!(long.len() > MAX_EXPR_BYTES);
        let (col, msg) = compile(&long, &n).unwrap_err();
        assert_eq!(col, MAX_EXPR_BYTES + 1);
        assert!(msg.contains("too long"), "{msg}");
        let fits = vec!["a"; MAX_EXPR_BYTES / 5].join(" && ");
        assert!(compile(&fits, &n).unwrap().eval(&[true, false, false]));
    }

    #[test]
    fn unknown_probes_and_fixtures_are_named() {
        let e = parse(
            "[[probe]]\nname = \"nope\"\nallowed_when = \"a\"\n",
            DimensionSource::Builtin(&["a"]),
        )
        .unwrap_err();
        assert_eq!(e.probe.as_deref(), Some("nope"));
        assert!(e.message.contains("unknown probe (known: "), "{e}");
        let text = "[[probe]]\nname = \"file-read\"\nallowed_when = \"a\"\nargs = [\"--path\", \"{tmp_file}\", \"{tcp}\"]\n";
        let e = parse(text, DimensionSource::Builtin(&["a"])).unwrap_err();
        assert!(
            e.message
                .starts_with("args[2] \"{tcp}\": unknown fixture {tcp}"),
            "{e}"
        );
    }

    #[test]
    fn entries_given_as_arrays_are_refused() {
        let e = parse(
            "probe = [[\"sem\", \"a\"]]\n",
            DimensionSource::Builtin(&["a"]),
        )
        .unwrap_err();
        assert!(
            e.message.contains("probe[0]") && e.message.contains("expected a table"),
            "{e}"
        );
    }

    #[test]
    fn file_errors_name_the_probe() {
        let text = "[[probe]]\nname = \"sem\"\nallowed_when = \"a || nope\"\n";
        let e = parse(text, DimensionSource::Builtin(&["a"])).unwrap_err();
        assert_eq!(e.probe.as_deref(), Some("sem"));
        assert_eq!(e.column, Some(6));
        let text = "[[probe]]\nname = \"sem\"\nallowed_when = \"a\"\n[[probe]]\nname = \"sem\"\nallowed_when = \"a\"\n";
        assert!(parse(text, DimensionSource::Builtin(&["a"]))
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let text = "[[probe]]\nname = \"sem\"\nallowed_when = \"a\"\nbogus = 1\n";
        assert!(parse(text, DimensionSource::Builtin(&["a"]))
            .unwrap_err()
            .to_string()
            .contains("bogus"));
    }

    #[test]
    fn user_dimensions_only_with_profile() {
        let text = "[[dimension]]\nname = \"x\"\nwhen_true = { X = \"1\" }\n[[probe]]\nname = \"sem\"\nallowed_when = \"x\"\n";
        assert!(parse(text, DimensionSource::Builtin(&["a"])).is_err());
        let e = parse(text, DimensionSource::FromFile).unwrap();
        assert_eq!(e.user_dimensions[0].when_true["X"], "1");
        assert_eq!(e.probes[0].allowed_when, Expr::Var(0));
    }
}
