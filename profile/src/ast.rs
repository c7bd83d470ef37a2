//! SBPL as data: the reader produces it, the writer prints it, the model
//! evaluates it. Every node keeps its span so errors and explanations can
//! point at the text.

/// A position in the source: byte offsets plus 1-based line and column.
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Byte offsets; 32 bits, because every node carries a span and the
    /// reader refuses sources of 4 GiB or more (see `reader::MAX_SOURCE`).
    pub start: u32,
    pub end: u32,
    pub line: u32,
    pub col: u32,
}

impl Span {
    /// The byte range in the source, for slicing it.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
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
    /// Shared: the reader hands out one allocation per distinct name (see
    /// `reader`), so a profile's thousand `allow`s cost one.
    Symbol(Arc<str>),
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
            NodeKind::Symbol(s) => Some(s.as_ref()),
            _ => None,
        }
    }
}

/// `nodes` with every span (at any depth) reset to the default, for
/// comparing trees by shape.
pub fn strip_spans(nodes: &[Node]) -> Vec<Node> {
    nodes.iter().map(strip_node).collect()
}

fn strip_node(node: &Node) -> Node {
    let kind = match &node.kind {
        NodeKind::List(items) => NodeKind::List(strip_spans(items)),
        NodeKind::Quote(inner) => NodeKind::Quote(Box::new(strip_node(inner))),
        other => other.clone(),
    };
    Node {
        kind,
        span: Span::default(),
    }
}

/// Whether two trees are equal ignoring spans.
pub fn same_shape(a: &[Node], b: &[Node]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_node(x, y))
}

fn same_node(a: &Node, b: &Node) -> bool {
    match (&a.kind, &b.kind) {
        (NodeKind::List(x), NodeKind::List(y)) => same_shape(x, y),
        (NodeKind::Quote(x), NodeKind::Quote(y)) => same_node(x, y),
        (x, y) => x == y,
    }
}
