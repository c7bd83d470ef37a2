//! Capability probes: each attempts one thing the way real workloads do and
//! reports what the OS did, with the raw error code and the failing step.
//!
//! - [`catalogue`]: every probe (name, required args, `run`).
//! - [`footprint`]: the SBPL requests each probe makes, for the model.
//! - [`classify`]: the one mapping from raw OS codes to verdicts.
//! - [`sweep`]: removes leftovers of crashed runs.
//! - [`workload`]: runs a real program (the `workload-*` probes) and reads
//!   its result as a verdict.
//!
//! The harness runs probes through the `beltcheck-probe` binary (one process
//! per probe, so a wedged call can be abandoned by exiting).

pub mod args;
pub mod catalogue;
pub mod classify;
pub mod cli;
pub mod context;
pub mod footprint;
pub mod journal;
#[cfg(target_os = "macos")]
pub mod mach;
pub mod names;
pub mod outcome;
pub mod probe;
pub mod report;
pub mod supervise;
pub mod sweep;
pub mod sys;
pub mod workload;

pub use args::{ArgKind, ProbeArgs};
pub use catalogue::{catalogue, find, ProbeSpec};
pub use footprint::{footprint, footprint_items, FootprintContext, FootprintItem, Provenance};
pub use report::{ProbeReport, Verdict};
