//! Capability probes: each attempts one thing the way real workloads do and
//! reports what the OS did, with the raw error code and the failing step.

pub mod report;

pub use report::{ProbeReport, Verdict};
