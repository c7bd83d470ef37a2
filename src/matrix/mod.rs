//! The matrix harness: every probe under every combination of the
//! dimensions, checked against the spec (expectations) and the model, and
//! observed on the host's backend. It knows nothing of reports: the
//! orchestration (`beltcheck matrix`) lives in `cmd::matrix`, which hands
//! an [`execute::Outcome`] to `report`.
//!
//! - [`dimension`]: the axes and how each sets the config.
//! - [`expect`]: the expectations file and its expression language.
//! - [`plan`]: the cells, in report order.
//! - [`fixtures`]: listeners and temp dirs the probes talk to.
//! - [`execute`]: control runs, cells, jobs, time limits.
//! - [`cell`]: the status of one cell.
//! - [`adapter`]: the seam to the builder, model, probes and runner.
//! - [`canary`]: "the profile kills every process" told from a probe crash.
//! - [`refusal`]: a probe error the denial log explains counts as denied.

pub mod adapter;
pub mod canary;
pub mod cell;
pub mod cover;
pub mod dimension;
pub mod execute;
pub mod expect;
pub mod fixtures;
pub mod plan;
pub mod refusal;
