//! The sandbox config: the keys of the outside contract, with their defaults.
//!
//! Deserialisation is strict (`deny_unknown_fields`); semantic checks on
//! values (paths, names) happen in [`Config::validate`] and in the builder,
//! and every error names the key path and the offending value.

use crate::document;
use crate::input::{self, MAX_CONFIG};
use crate::path::{resolve, resolve_list, HostEnv, Spelling, Templates};
use crate::secrets;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub baseline: Baseline,
    pub nested_pty: bool,
    pub keychain_access: bool,
    pub gui_access: bool,
    pub unix_socket_connects: Vec<String>,
    pub extra_mach_lookups: Vec<String>,
    #[serde(deserialize_with = "document::table")]
    pub ui: Ui,
    #[serde(deserialize_with = "document::table")]
    pub posix_ipc: PosixIpc,
    #[serde(deserialize_with = "document::table")]
    pub filesystem: Filesystem,
    #[serde(deserialize_with = "document::table")]
    pub network: Network,
    #[serde(deserialize_with = "document::table")]
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
    /// `(allow default)`; writes outside `read_write` and the temporary
    /// directories refused, anything under `denied` refused, and the user's
    /// secrets (see [`crate::secrets`]) refused unless granted by name.
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
        Ui {
            disable: true,
            injection: false,
            clipboard: Clipboard::None,
        }
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
        PosixIpc {
            semaphores: true,
            shared_memory: false,
        }
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
///
/// Deserialised by hand (see `outbound_de`) so a bad value is named in the
/// error instead of serde's "did not match any variant of untagged enum".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Outbound {
    Mode(OutboundMode),
    Proxy { proxy_port: u16 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboundMode {
    #[default]
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

impl ConfigError {
    /// An error about the value at `key`.
    pub fn at(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Which syntax a config text is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Format {
    /// The format for a file name, by extension (`.toml` or `.json`).
    pub fn for_path(path: &Path) -> Option<Format> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Some(Format::Toml),
            Some("json") => Some(Format::Json),
            _ => None,
        }
    }
}

impl Config {
    /// Parses TOML. Unknown keys, wrong types, bad values and a table
    /// written as an array are errors whose `key` is the key path
    /// (`network.outbound`, `filesystem.read_only[1]`) and whose message
    /// names the value and the line.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        document::from_toml(text)
    }

    /// Parses JSON, with the same keys and error guarantees as TOML.
    pub fn from_json_str(text: &str) -> Result<Config, ConfigError> {
        document::from_json(text)
    }

    /// Parses `text` in `format`.
    pub fn from_str_as(text: &str, format: Format) -> Result<Config, ConfigError> {
        match format {
            Format::Toml => Config::from_toml_str(text),
            Format::Json => Config::from_json_str(text),
        }
    }

    /// Reads and parses a config file, TOML or JSON by extension. Errors
    /// name the file (unreadable, unknown extension) or the key path.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display();
        let format = Format::for_path(path).ok_or_else(|| {
            ConfigError::at(
                "",
                format!("config file {shown:?}: unknown extension, expected .toml or .json"),
            )
        })?;
        let text = input::read_text(path, MAX_CONFIG)
            .map_err(|e| ConfigError::at("", format!("config file {shown:?}: {e}")))?;
        Config::from_str_as(&text, format).map_err(|e| ConfigError {
            key: e.key,
            message: format!("{} (in {shown})", e.message),
        })
    }

    /// Checks every value and resolves paths to the canonical form Seatbelt
    /// matches against (see [`crate::path::resolve`]). `gui_access` forces
    /// `ui.disable` off, as the contract says it implies.
    pub fn validate(&self, env: &HostEnv) -> Result<ResolvedConfig, ConfigError> {
        let fs = &self.filesystem;
        let filesystem = Filesystem {
            read_only: resolve_all(
                &fs.read_only,
                "filesystem.read_only",
                env,
                Templates::Literal,
            )?,
            read_write: resolve_all(
                &fs.read_write,
                "filesystem.read_write",
                env,
                Templates::Literal,
            )?,
            denied: resolve_all(&fs.denied, "filesystem.denied", env, Templates::Literal)?,
        };
        let unix_socket_connects = resolve_all(
            &self.unix_socket_connects,
            "unix_socket_connects",
            env,
            Templates::Expand,
        )?;
        for (i, name) in self.extra_mach_lookups.iter().enumerate() {
            check_mach_name(name).map_err(|why| {
                ConfigError::at(
                    format!("extra_mach_lookups[{i}]"),
                    format!("mach service name {name:?}: {why}"),
                )
            })?;
        }
        if let Outbound::Proxy { proxy_port: 0 } = self.network.outbound {
            return Err(ConfigError::at(
                "network.outbound.proxy_port",
                "port 0 cannot be connected to",
            ));
        }
        let keychain_dir = match self.keychain_access {
            true => Some(resolve(
                "~/Library/Keychains",
                env,
                "keychain_access",
                Templates::Literal,
            )?),
            false => None,
        };
        let secrets =
            secrets::denied_stores(self.baseline, self.keychain_access, env, Spelling::Private)?;
        let mut ui = self.ui.clone();
        ui.disable &= !self.gui_access;
        Ok(ResolvedConfig {
            baseline: self.baseline,
            secrets,
            nested_pty: self.nested_pty,
            keychain_access: self.keychain_access,
            keychain_dir,
            gui_access: self.gui_access,
            unix_socket_connects,
            extra_mach_lookups: self.extra_mach_lookups.clone(),
            ui,
            posix_ipc: self.posix_ipc.clone(),
            filesystem,
            outbound: self.network.outbound,
            limits: self.limits.clone(),
        })
    }
}

/// A config whose values have all been checked: paths are canonical
/// (absolute, normalised, `/private`-mapped), mach names printable ASCII
/// without quotes, the proxy port non-zero. What the builder consumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedConfig {
    pub baseline: Baseline,
    /// The user's secret stores the baseline denies unless a grant names
    /// them (see [`crate::secrets`]); empty under the strict baseline.
    pub secrets: Vec<String>,
    pub nested_pty: bool,
    pub keychain_access: bool,
    /// `~/Library/Keychains`, resolved, when `keychain_access` is on.
    pub keychain_dir: Option<String>,
    pub gui_access: bool,
    /// Index `i` came from `unix_socket_connects[i]` (templates expanded).
    pub unix_socket_connects: Vec<String>,
    pub extra_mach_lookups: Vec<String>,
    /// `disable` is already false when `gui_access` is on.
    pub ui: Ui,
    pub posix_ipc: PosixIpc,
    /// Index `i` of each list came from the same index in the config.
    pub filesystem: Filesystem,
    pub outbound: Outbound,
    pub limits: Limits,
}

fn resolve_all(
    raw: &[String],
    key: &str,
    env: &HostEnv,
    templates: Templates,
) -> Result<Vec<String>, ConfigError> {
    resolve_list(raw, key, env, templates, Spelling::Private)
}

/// A global-name must be something we can always write and pass safely.
fn check_mach_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("empty");
    }
    if !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err("only printable ASCII is allowed");
    }
    if name.contains('"') {
        return Err("'\"' is not allowed");
    }
    Ok(())
}

mod outbound_de {
    use super::{Outbound, OutboundMode};
    use serde::de::{self, MapAccess, Unexpected, Visitor};
    use serde::{Deserialize, Deserializer};
    use std::fmt;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Proxy {
        proxy_port: u16,
    }

    struct OutboundVisitor;

    impl<'de> Visitor<'de> for OutboundVisitor {
        type Value = Outbound;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("\"deny\", \"allow\" or { proxy_port = N }")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Outbound, E> {
            match v {
                "deny" => Ok(Outbound::Mode(OutboundMode::Deny)),
                "allow" => Ok(Outbound::Mode(OutboundMode::Allow)),
                _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
            }
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Outbound, A::Error> {
            let proxy = Proxy::deserialize(de::value::MapAccessDeserializer::new(map))?;
            Ok(Outbound::Proxy {
                proxy_port: proxy.proxy_port,
            })
        }
    }

    impl<'de> Deserialize<'de> for Outbound {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Outbound, D::Error> {
            d.deserialize_any(OutboundVisitor)
        }
    }
}
