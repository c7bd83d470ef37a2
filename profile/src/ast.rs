//! SBPL as data: the reader produces it, the writer prints it, the model
//! evaluates it. Every node keeps its span so errors and explanations can
//! point at the text.

/// Where a node sits in the source: a byte range. Lines and columns are
/// not stored (every node would carry them, and the reader would track
/// them byte by byte); [`Span::line_col`] and [`Lines`] compute them from
/// the text when a message needs one.
///
/// Byte offsets are 32 bits, because the reader refuses sources of 4 GiB or
/// more (see `reader::MAX_SOURCE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset just past the last byte.
    pub end: u32,
}

impl Span {
    /// The byte range in the source, for slicing it.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// 1-based line and column of the span's start in `src`; columns count
    /// characters, not bytes. Scans the text: for one message, not for many
    /// (use [`Lines`]).
    pub fn line_col(&self, src: &str) -> (u32, u32) {
        line_col_at(src, self.start as usize)
    }
}

/// 1-based line and column (in characters) of byte `offset` of `src`. An
/// offset inside a character counts as that character's start; one past
/// the end as the end.
pub fn line_col_at(src: &str, offset: usize) -> (u32, u32) {
    let mut end = offset.min(src.len());
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    let before = &src[..end];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = 1 + before.bytes().filter(|&b| b == b'\n').count();
    let col = 1 + before[line_start..].chars().count();
    (to_u32(line), to_u32(col))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The line starts of a text, for many line lookups (the model numbers
/// every rule it reports).
#[derive(Debug, Clone)]
pub struct Lines {
    /// Byte offset of the first byte of each line after the first.
    starts: Vec<u32>,
}

impl Lines {
    pub fn new(src: &str) -> Lines {
        let starts = src
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| to_u32(i + 1))
            .collect();
        Lines { starts }
    }

    /// 1-based line of `span`'s start.
    pub fn line(&self, span: Span) -> u32 {
        to_u32(1 + self.starts.partition_point(|&s| s <= span.start))
    }
}

/// One datum. Nodes borrow: atoms point into the source text, lists and
/// decoded strings into the [`Arena`] the read filled, so a tree costs no
/// allocation per node and is `Copy` to pass around.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node<'a> {
    pub kind: NodeKind<'a>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NodeKind<'a> {
    /// `( ... )`
    List(&'a [Node<'a>]),
    /// `"..."` after TinyScheme escapes are decoded. Bytes, because `\xHH`
    /// may produce any byte.
    Str(&'a [u8]),
    /// `#"..."`: kept exactly as typed (Apple's raw string, used for regexes).
    RawStr(&'a str),
    /// `#t` / `#f`
    Bool(bool),
    /// Decimal or `#x...` integers.
    Int(i64),
    /// Real numbers (`1.0`, `00e7`), as TinyScheme reads them.
    Real(f64),
    /// `#\\c`, `#\\space`, `#\\x41`: one byte, as in TinyScheme.
    Char(u8),
    Symbol(&'a str),
    /// `'datum`
    Quote(&'a Node<'a>),
}

impl<'a> Node<'a> {
    pub fn as_list(&self) -> Option<&'a [Node<'a>]> {
        match self.kind {
            NodeKind::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_symbol(&self) -> Option<&'a str> {
        match self.kind {
            NodeKind::Symbol(s) => Some(s),
            _ => None,
        }
    }
}

/// The memory a tree's lists and decoded strings live in. A read puts a
/// whole profile into one arena: a few large blocks instead of an allocation
/// per list and string, which was most of the reader's time (malloc, free
/// and the allocator's consolidation of ~450,000 small blocks per 8 MiB).
/// Dropping the arena frees the tree at once.
#[derive(Default)]
pub struct Arena {
    bump: bumpalo::Bump,
}

impl Arena {
    pub fn new() -> Arena {
        Arena::default()
    }

    /// A copy of `items` that lives as long as the arena.
    pub fn nodes<'a>(&'a self, items: &[Node<'a>]) -> &'a [Node<'a>] {
        self.bump.alloc_slice_copy(items)
    }

    pub fn node<'a>(&'a self, node: Node<'a>) -> &'a Node<'a> {
        self.bump.alloc(node)
    }

    pub fn bytes<'a>(&'a self, bytes: &[u8]) -> &'a [u8] {
        self.bump.alloc_slice_copy(bytes)
    }

    pub fn str<'a>(&'a self, s: &str) -> &'a str {
        self.bump.alloc_str(s)
    }

    /// Frees every tree read into the arena but keeps its largest block, so
    /// reading the next profile into it touches no fresh memory.
    pub fn reset(&mut self) {
        self.bump.reset();
    }

    /// Bytes held by the arena's blocks (for benchmarks).
    pub fn allocated_bytes(&self) -> usize {
        self.bump.allocated_bytes()
    }
}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arena")
            .field("allocated_bytes", &self.allocated_bytes())
            .finish()
    }
}

/// `nodes` with every span (at any depth) reset to the default, for
/// comparing trees by shape. New lists go into `arena`.
pub fn strip_spans<'b>(nodes: &[Node<'b>], arena: &'b Arena) -> Vec<Node<'b>> {
    nodes.iter().map(|n| strip_node(n, arena)).collect()
}

fn strip_node<'b>(node: &Node<'b>, arena: &'b Arena) -> Node<'b> {
    let kind = match node.kind {
        NodeKind::List(items) => NodeKind::List(arena.nodes(&strip_spans(items, arena))),
        NodeKind::Quote(inner) => NodeKind::Quote(arena.node(strip_node(inner, arena))),
        other => other,
    };
    Node {
        kind,
        span: Span::default(),
    }
}

/// Whether two trees are equal ignoring spans.
pub fn same_shape(a: &[Node<'_>], b: &[Node<'_>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_node(x, y))
}

fn same_node(a: &Node<'_>, b: &Node<'_>) -> bool {
    match (a.kind, b.kind) {
        (NodeKind::List(x), NodeKind::List(y)) => same_shape(x, y),
        (NodeKind::Quote(x), NodeKind::Quote(y)) => same_node(x, y),
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_clamps_odd_offsets() {
        let src = "ab\né x\n";
        assert_eq!(line_col_at(src, 0), (1, 1));
        assert_eq!(line_col_at(src, 3), (2, 1));
        // Bytes 5 and 6 are the space and `x` after the two-byte `é`.
        assert_eq!(line_col_at(src, 5), (2, 2));
        assert_eq!(line_col_at(src, 6), (2, 3));
        // Inside `é` counts as its start; past the end as the end.
        assert_eq!(line_col_at(src, 4), (2, 1));
        assert_eq!(line_col_at(src, 99), (3, 1));
    }

    #[test]
    fn lines_agree_with_line_col() {
        let src = "(a)\n\n(b\n c)\n";
        let lines = Lines::new(src);
        for start in 0..src.len() as u32 {
            let span = Span { start, end: start };
            assert_eq!(lines.line(span), span.line_col(src).0, "offset {start}");
        }
    }
}
