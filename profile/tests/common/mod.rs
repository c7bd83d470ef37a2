//! Reading for tests. A tree borrows its text and its arena; these helpers
//! give both the life of the test process, so a helper can return the tree
//! it read. Test-only: a few kilobytes per call.

#![allow(dead_code)]

use profile::ast::{Arena, Node};
use profile::reader::ReadError;

pub fn read(src: &str) -> Result<Vec<Node<'static>>, ReadError> {
    let src: &'static str = Box::leak(src.into());
    profile::reader::read(src, arena())
}

pub fn read_bytes(src: &[u8]) -> Result<Vec<Node<'static>>, ReadError> {
    let src: &'static [u8] = Box::leak(src.into());
    profile::reader::read_bytes(src, arena())
}

pub fn arena() -> &'static Arena {
    Box::leak(Box::default())
}
