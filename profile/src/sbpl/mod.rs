//! Config -> SBPL. One block per option, each written by its own function in
//! [`blocks`], emitted in the order documented there.
//!
//! Policy text lives in `profile/sbpl/*.sbpl`; user values never enter it
//! as text in the default [`ValueMode::Param`]: they are `(param "KEY")`
//! references and travel beside the profile in [`Profile::params`].

mod blocks;

pub use blocks::{socket_paths, ORDER};

use crate::config::{Config, ConfigError, ResolvedConfig};
use crate::escape;
use crate::path::{resolve, HostEnv, Templates};
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
    /// The program the profile will run, when the caller knows it: the
    /// strict profile then lets it read and map its own image.
    pub program: Option<Program>,
}

/// The executable a sandbox runs: the path it is started by and, when that
/// is a symlink, the file it resolves to (the kernel checks the real file;
/// following the link needs the link's directory too). The builder does
/// not touch the filesystem: callers resolve `real` (`fs::canonicalize`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub path: String,
    pub real: Option<String>,
}

/// A [`Program`] as rules need it: the files (in `/private` form, each
/// once) and every directory above them except `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedProgram {
    pub files: Vec<String>,
    pub dirs: Vec<String>,
}

impl Program {
    /// The program at `path` (made absolute against the current directory)
    /// and the file it resolves to. `None` when the path is not UTF-8,
    /// which no profile can name.
    pub fn at(path: &std::path::Path) -> Option<Program> {
        let absolute = std::path::absolute(path).ok()?;
        let real = std::fs::canonicalize(&absolute)
            .ok()
            .and_then(|p| p.to_str().map(str::to_string));
        Some(Program {
            path: absolute.to_str()?.to_string(),
            real,
        })
    }

    /// Checks both paths (absolute, no `..`, no NUL; the key is `program`)
    /// and lists the files and parent directories to grant.
    pub fn resolve(&self, env: &HostEnv) -> Result<ResolvedProgram, ConfigError> {
        let mut files: Vec<String> = Vec::new();
        for raw in std::iter::once(&self.path).chain(&self.real) {
            let file = resolve(raw, env, "program", Templates::Literal)?;
            if !files.contains(&file) {
                files.push(file);
            }
        }
        let mut dirs: Vec<String> = Vec::new();
        for file in &files {
            let mut at = file.as_str();
            while let Some(cut) = at.rfind('/').filter(|&cut| cut > 0) {
                at = &at[..cut];
                if !dirs.iter().any(|d| d == at) {
                    dirs.push(at.to_string());
                }
            }
        }
        dirs.sort();
        Ok(ResolvedProgram { files, dirs })
    }
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
/// as `(param "KEY")` with its exact bytes (after `/private` mapping; a
/// socket path also in its spelling through `/tmp`, `/var` or `/etc`) in
/// `params`; in inline mode every value is an escaped literal that reads
/// back as itself. Errors name the key path and the value.
pub fn build(config: &Config, opts: &BuildOptions) -> Result<Profile, ConfigError> {
    let resolved = config.validate(&opts.env)?;
    let program = opts
        .program
        .as_ref()
        .map(|p| p.resolve(&opts.env))
        .transpose()?;
    build_for(&resolved, program.as_ref(), opts.mode)
}

/// [`build`] for an already validated config, no program named.
pub fn build_resolved(resolved: &ResolvedConfig, mode: ValueMode) -> Result<Profile, ConfigError> {
    build_for(resolved, None, mode)
}

/// [`build`] for an already validated config and program.
pub fn build_for(
    resolved: &ResolvedConfig,
    program: Option<&ResolvedProgram>,
    mode: ValueMode,
) -> Result<Profile, ConfigError> {
    let Assembled { blocks, params } = assemble_for(resolved, program, mode)?;
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
    assemble_for(resolved, None, mode)
}

/// [`assemble`] with the program the profile runs.
pub fn assemble_for(
    resolved: &ResolvedConfig,
    program: Option<&ResolvedProgram>,
    mode: ValueMode,
) -> Result<Assembled, ConfigError> {
    let mut values = Values {
        mode,
        params: BTreeMap::new(),
    };
    let blocks = blocks::all(resolved, program, &mut values)?;
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
