//! The SBPL reader: TinyScheme's surface syntax as Apple's sandbox uses it.

use crate::ast::Node;
use std::fmt;

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

/// Reads every top-level datum of `src`.
pub fn read(src: &str) -> Result<Vec<Node>, ReadError> {
    let _ = src;
    todo!("reader")
}
