//! SBPL as data: the reader produces it, the writer prints it, the model
//! evaluates it. Every node keeps its span so errors and explanations can
//! point at the text.

/// A position in the source: byte offsets plus 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub line: u32,
    pub col: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `( ... )`
    List(Vec<Node>),
    /// `"..."` after TinyScheme escapes are decoded. Bytes, because `\xHH`
    /// may produce any byte.
    Str(Vec<u8>),
    /// `#"..."`: kept exactly as typed (Apple's raw string, used for regexes).
    RawStr(String),
    /// `#t` / `#f`
    Bool(bool),
    /// Decimal or `#x...` integers.
    Int(i64),
    Symbol(String),
    /// `'datum`
    Quote(Box<Node>),
}

impl Node {
    pub fn as_list(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_symbol(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Symbol(s) => Some(s),
            _ => None,
        }
    }
}
