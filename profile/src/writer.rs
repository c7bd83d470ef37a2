//! Prints an AST back as SBPL text that [`crate::reader::read`] reads to the
//! same tree.
