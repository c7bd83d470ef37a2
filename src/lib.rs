//! beltcheck: the CLI, the matrix harness and the report writers.

#![forbid(unsafe_code)]

pub mod cmd;
pub mod matrix;
pub mod report;
