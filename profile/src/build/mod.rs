//! Config -> SBPL. One block per option, each written by its own function in
//! [`blocks`], emitted in the order documented there.
//!
//! Policy text lives in `profile/sbpl/*.sbpl`; user values never enter it
//! as text in the default [`ValueMode::Param`]: they are `(param "KEY")`
//! references and travel beside the profile in [`Profile::params`].

mod blocks;

pub use blocks::ORDER;

use crate::config::{Config, ConfigError, ResolvedConfig};
use crate::escape;
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

/// One option's contribution to the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The block's name, one of [`ORDER`].
    pub name: &'static str,
    /// SBPL text, newline-terminated, printable ASCII.
    pub text: String,
}

/// The blocks of a profile, in emission order, and the params they use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    pub blocks: Vec<Block>,
    pub params: BTreeMap<String, String>,
}

/// Builds the profile for `config`.
///
/// Guarantees on `Ok`: the SBPL text is printable ASCII plus newlines; in
/// param mode every user value (path, socket path, mach name) appears only
/// as `(param "KEY")` with its exact bytes (after `/private` mapping) in
/// `params`; in inline mode every value is an escaped literal that reads
/// back as itself. Errors name the key path and the value.
pub fn build(config: &Config, opts: &BuildOptions) -> Result<Profile, ConfigError> {
    let resolved = config.validate(&opts.env)?;
    build_resolved(&resolved, opts.mode)
}

/// [`build`] for an already validated config.
pub fn build_resolved(resolved: &ResolvedConfig, mode: ValueMode) -> Result<Profile, ConfigError> {
    let Assembled { blocks, params } = assemble(resolved, mode)?;
    let mut sbpl = String::with_capacity(blocks.iter().map(|b| b.text.len() + 1).sum());
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            sbpl.push('\n');
        }
        sbpl.push_str(&block.text);
    }
    check_ascii(&sbpl)?;
    Ok(Profile { sbpl, params })
}

/// Every non-empty block for `resolved`, in [`ORDER`], with the params
/// they reference. Exposed so tests can look at one option at a time.
pub fn assemble(resolved: &ResolvedConfig, mode: ValueMode) -> Result<Assembled, ConfigError> {
    let mut values = Values {
        mode,
        params: BTreeMap::new(),
    };
    let blocks = blocks::all(resolved, &mut values)?;
    Ok(Assembled {
        blocks,
        params: values.params,
    })
}

/// Turns user values into SBPL expressions and records params.
pub(crate) struct Values {
    mode: ValueMode,
    params: BTreeMap<String, String>,
}

impl Values {
    /// The SBPL expression standing for `value`, which came from the config
    /// at `key_path`: `(param "PARAM")` or an escaped literal.
    pub(crate) fn expr(
        &mut self,
        param: String,
        key_path: &str,
        value: &str,
    ) -> Result<String, ConfigError> {
        if value.contains('\0') {
            return Err(ConfigError::at(
                key_path,
                format!("NUL byte in value {value:?}"),
            ));
        }
        match self.mode {
            ValueMode::Param => {
                let expr = format!("(param {})", quote_fixed(&param));
                self.params.insert(param, value.to_string());
                Ok(expr)
            }
            ValueMode::Inline => escape::quoted(value).map_err(|e| {
                ConfigError::at(
                    key_path,
                    format!("cannot be written inline ({e}): {value:?}"),
                )
            }),
        }
    }
}

/// Quotes a string the builder itself chose (param names: `[A-Z0-9_]`).
fn quote_fixed(s: &str) -> String {
    debug_assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    format!("\"{s}\"")
}

/// The invariant every emitted profile keeps; a failure is a builder bug,
/// reported rather than emitted.
fn check_ascii(sbpl: &str) -> Result<(), ConfigError> {
    match sbpl
        .bytes()
        .position(|b| !(b == b'\n' || (0x20..0x7f).contains(&b)))
    {
        None => Ok(()),
        Some(at) => {
            debug_assert!(false, "non-printable byte at {at} in built profile");
            Err(ConfigError::at(
                "",
                format!("internal error: byte {at} of the profile is not printable ASCII"),
            ))
        }
    }
}
