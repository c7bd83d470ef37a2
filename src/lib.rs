//! beltcheck: the CLI, the matrix harness and the report writers.

pub mod cmd;
pub mod matrix;
pub mod report;
