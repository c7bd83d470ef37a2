//! The sandbox config: the keys of the outside contract, with their defaults.
//!
//! Deserialisation is strict (`deny_unknown_fields`); semantic checks on
//! values (paths, names) happen in [`Config::validate`] and in the builder,
//! and every error names the key path and the offending value.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub baseline: Baseline,
    pub nested_pty: bool,
    pub keychain_access: bool,
    pub gui_access: bool,
    pub unix_socket_connects: Vec<String>,
    pub extra_mach_lookups: Vec<String>,
    pub ui: Ui,
    pub posix_ipc: PosixIpc,
    pub filesystem: Filesystem,
    pub network: Network,
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            baseline: Baseline::Strict,
            nested_pty: true,
            keychain_access: false,
            gui_access: false,
            unix_socket_connects: Vec::new(),
            extra_mach_lookups: Vec::new(),
            ui: Ui::default(),
            posix_ipc: PosixIpc::default(),
            filesystem: Filesystem::default(),
            network: Network::default(),
            limits: Limits::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    /// `(deny default)` plus what an ordinary CLI needs.
    #[default]
    Strict,
    /// `(allow default)`; writes outside `read_write` and anything under
    /// `denied` refused.
    Permissive,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ui {
    pub disable: bool,
    pub injection: bool,
    pub clipboard: Clipboard,
}

impl Default for Ui {
    fn default() -> Self {
        Ui { disable: true, injection: false, clipboard: Clipboard::None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clipboard {
    #[default]
    None,
    Read,
    Write,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PosixIpc {
    pub semaphores: bool,
    pub shared_memory: bool,
}

impl Default for PosixIpc {
    fn default() -> Self {
        PosixIpc { semaphores: true, shared_memory: false }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Filesystem {
    pub read_only: Vec<String>,
    pub read_write: Vec<String>,
    pub denied: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Network {
    pub outbound: Outbound,
}

/// `"deny"`, `"allow"`, or `{ proxy_port = N }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Outbound {
    Mode(OutboundMode),
    Proxy { proxy_port: u16 },
}

impl Default for OutboundMode {
    fn default() -> Self {
        OutboundMode::Deny
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboundMode {
    Deny,
    Allow,
}

impl Default for Outbound {
    fn default() -> Self {
        Outbound::Mode(OutboundMode::Deny)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub raise_nofile: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { raise_nofile: true }
    }
}

/// A config error: the key path (`filesystem.read_write[2]`) and what is wrong
/// with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}
