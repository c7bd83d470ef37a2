//! The arguments a probe may take.

use std::ffi::OsString;
use std::time::Duration;

/// Default time limit of one probe.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// One argument kind a probe takes (each is a `--flag VALUE` on the CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgKind {
    Path,
    Host,
    Port,
    Name,
}

impl ArgKind {
    /// The CLI flag, e.g. `--path`.
    pub fn flag(self) -> &'static str {
        match self {
            ArgKind::Path => "--path",
            ArgKind::Host => "--host",
            ArgKind::Port => "--port",
            ArgKind::Name => "--name",
        }
    }
}

/// Arguments of one probe run. `path` keeps its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeArgs {
    pub path: Option<OsString>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub name: Option<String>,
    /// Time limit for the whole probe body.
    pub timeout: Duration,
}

impl Default for ProbeArgs {
    fn default() -> Self {
        ProbeArgs {
            path: None,
            host: None,
            port: None,
            name: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl ProbeArgs {
    /// Whether the argument of `kind` was given.
    pub fn has(&self, kind: ArgKind) -> bool {
        match kind {
            ArgKind::Path => self.path.is_some(),
            ArgKind::Host => self.host.is_some(),
            ArgKind::Port => self.port.is_some(),
            ArgKind::Name => self.name.is_some(),
        }
    }

    /// The argument kinds that were given.
    pub fn given(&self) -> Vec<ArgKind> {
        [ArgKind::Path, ArgKind::Host, ArgKind::Port, ArgKind::Name]
            .into_iter()
            .filter(|k| self.has(*k))
            .collect()
    }
}
