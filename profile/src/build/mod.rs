//! Config -> SBPL. One block per option, emitted in a documented order.

use crate::config::{Config, ConfigError};
use crate::path::HostEnv;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How user values reach the profile text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueMode {
    /// `(param "KEY")` in the text; the value travels as `-D KEY=VALUE`.
    #[default]
    Param,
    /// Escaped string literals in the text.
    Inline,
}

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub mode: ValueMode,
    pub env: HostEnv,
}

/// A built profile: SBPL text plus the parameters it references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub sbpl: String,
    pub params: BTreeMap<String, String>,
}

pub fn build(config: &Config, opts: &BuildOptions) -> Result<Profile, ConfigError> {
    let _ = (config, opts);
    todo!("builder")
}
