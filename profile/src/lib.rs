//! The profile side of beltcheck: what a sandbox config means and how it is
//! written as SBPL, read back, and decided.
//!
//! - [`config`]: the user-facing config (TOML/JSON) and its validation.
//! - [`document`]: TOML/JSON documents whose tables must be tables.
//! - [`input`]: reading input files with a stated size bound.
//! - [`path`]: path rules (absolute, `~/`, templates, `/private` mapping).
//! - [`escape`]: strict escapers for SBPL string and regex literals.
//! - [`sbpl`]: the SBPL builder, config -> SBPL text plus parameters.
//! - [`ast`], [`reader`], [`writer`]: SBPL as data, with spans.
//! - [`model`]: a model of Seatbelt's decision procedure.
//! - [`linux`]: the same config compiled for the Linux backend.
//! - [`policy`]: a config compiled for one backend, as launchers take it.

#![forbid(unsafe_code)]

pub mod ast;
pub mod config;
pub mod document;
pub mod escape;
pub mod fuzzcheck;
pub mod input;
pub mod linux;
pub mod model;
pub mod path;
pub mod policy;
pub mod reader;
pub mod sbpl;
pub mod secrets;
pub mod writer;

pub use config::{Config, ConfigError};
pub use policy::Policy;
pub use sbpl::{build, BuildOptions, Profile, Program, ValueMode};
