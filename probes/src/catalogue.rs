//! The registry of every probe: its CLI name, the arguments it requires, and
//! how to run it. Footprints live in [`crate::footprint`], keyed by the same
//! name.

use crate::args::{ArgKind, ProbeArgs};
use crate::footprint::{self, FootprintContext, FootprintError, FootprintItem};
use crate::probe;
use crate::report::ProbeReport;
use crate::supervise::{supervise, Body};

/// One catalogued probe.
#[derive(Debug)]
pub struct ProbeSpec {
    /// The CLI name, e.g. `unix-connect`.
    pub name: &'static str,
    /// Arguments it requires; it accepts no others.
    pub args: &'static [ArgKind],
    /// One line on what it attempts.
    pub summary: &'static str,
    body: Body,
    /// Work that must happen while the process is still single-threaded,
    /// before the body's worker thread exists.
    prepare: Option<fn()>,
}

impl ProbeSpec {
    /// Run the probe in this process under `args.timeout`. Guarantees a
    /// report (a hung call comes back as `error`/`timeout`; the stuck thread
    /// is left behind, so callers should exit the process soon after).
    pub fn run(&self, args: &ProbeArgs) -> ProbeReport {
        if let Some(prepare) = self.prepare {
            prepare();
        }
        supervise(self.name, self.body, args)
    }

    /// The SBPL requests this probe makes (see [`crate::footprint`]).
    pub fn footprint(&self, ctx: &FootprintContext) -> Result<Vec<FootprintItem>, FootprintError> {
        footprint::footprint_items(self.name, ctx)
    }

    /// Whether the given arguments are exactly the ones this probe requires;
    /// otherwise a message naming the missing or unexpected flag.
    pub fn check_args(&self, args: &ProbeArgs) -> Result<(), String> {
        if let Some(missing) = self.args.iter().find(|k| !args.has(**k)) {
            return Err(format!("probe {} requires {}", self.name, missing.flag()));
        }
        if let Some(extra) = args.given().into_iter().find(|k| !self.args.contains(k)) {
            return Err(format!(
                "probe {} does not take {}",
                self.name,
                extra.flag()
            ));
        }
        Ok(())
    }
}

const fn spec(
    name: &'static str,
    args: &'static [ArgKind],
    summary: &'static str,
    body: Body,
) -> ProbeSpec {
    ProbeSpec {
        name,
        args,
        summary,
        body,
        prepare: None,
    }
}

const fn prepared(spec: ProbeSpec, prepare: fn()) -> ProbeSpec {
    ProbeSpec {
        prepare: Some(prepare),
        ..spec
    }
}

static CATALOGUE: &[ProbeSpec] = &[
    spec(
        "pty",
        &[],
        "posix_openpt..open slave, winsize and a byte through it",
        probe::pty::run,
    ),
    spec(
        "keychain",
        &[],
        "add, read back, delete a uniquely named secret",
        probe::keychain::run,
    ),
    spec(
        "sem",
        &[],
        "named POSIX semaphore: open, post, wait, close, unlink",
        probe::sem::run,
    ),
    spec(
        "shm",
        &[],
        "named POSIX shared memory: open, size, map, unlink",
        probe::shm::run,
    ),
    spec(
        "unix-connect",
        &[ArgKind::Path],
        "AF_UNIX connect to --path",
        probe::unix_connect::run,
    ),
    spec(
        "unix-bind",
        &[ArgKind::Path],
        "AF_UNIX bind+listen at --path, then unlink",
        probe::unix_bind::run,
    ),
    spec(
        "hid",
        &[],
        "open HID user clients / input devices",
        probe::hid::run,
    ),
    spec(
        "network",
        &[ArgKind::Host, ArgKind::Port],
        "TCP connect to --host --port",
        probe::network::run,
    ),
    spec(
        "tiocsti",
        &[],
        "TIOCSTI a harmless byte into the controlling tty",
        probe::tiocsti::run,
    ),
    prepared(
        spec(
            "nofile",
            &[],
            "RLIMIT_NOFILE seen inside, exhausted to EMFILE",
            probe::nofile::run,
        ),
        probe::nofile::prepare,
    ),
    spec(
        "file-read",
        &[ArgKind::Path],
        "open and read --path",
        probe::file_read::run,
    ),
    spec(
        "file-write",
        &[ArgKind::Path],
        "create, write, unlink --path",
        probe::file_write::run,
    ),
    spec(
        "mach-lookup",
        &[ArgKind::Name],
        "bootstrap_look_up of --name",
        probe::mach_lookup::run,
    ),
    spec(
        "sysctl",
        &[ArgKind::Name],
        "read sysctl --name",
        probe::sysctl::run,
    ),
    spec(
        "workload-sem",
        &[],
        "python3 multiprocessing: Lock() and one ProcessPoolExecutor job",
        probe::workload_sem::run,
    ),
    spec(
        "workload-pty",
        &[],
        "script: a command on a new pty sets it to raw mode",
        probe::workload_pty::run,
    ),
    spec(
        "workload-keychain",
        &[],
        "security add/find/delete-generic-password (macOS)",
        probe::workload_keychain::run,
    ),
    spec(
        "workload-unix-connect",
        &[ArgKind::Path],
        "python3 socket client: AF_UNIX connect to --path",
        probe::workload_unix_connect::run,
    ),
];

/// Every probe, in a stable order.
pub fn catalogue() -> &'static [ProbeSpec] {
    CATALOGUE
}

/// The probe called `name`.
pub fn find(name: &str) -> Option<&'static ProbeSpec> {
    CATALOGUE.iter().find(|s| s.name == name)
}

/// Every probe name, in catalogue order.
pub fn names() -> impl Iterator<Item = &'static str> {
    CATALOGUE.iter().map(|s| s.name)
}
