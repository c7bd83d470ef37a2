//! beltcheck: the CLI, the matrix harness and the report writers.

pub mod cmd;
