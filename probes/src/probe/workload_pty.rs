//! `workload-pty`: `script`, the program that puts a command on a new
//! pseudo-terminal (the workload `nested_pty` exists for). It opens a pty
//! pair, and the command inside puts that terminal into raw mode
//! (`stty raw -echo`: `tcsetattr` on the nested slave) and checks it took
//! before printing a marker. `/usr/bin/script` on macOS and in Debian's
//! bsdutils; `unsupported` where it is not installed. The probe's stdin
//! (the session's terminal in the matrix) is passed through, as a user's
//! would be.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{allowed, Outcome};
use crate::workload::{self, Input};

/// Where both flavours install it.
pub const SCRIPT: &str = "/usr/bin/script";

/// Printed by the command inside once the nested terminal is raw.
const MARKER: &str = "beltcheck-pty-raw-ok";

/// Raw mode on the nested terminal, checked (`-icanon` in `stty -a` on
/// both GNU and BSD stty), then the marker.
const INNER: &str = "stty raw -echo && stty -a | grep -q -- -icanon && echo beltcheck-pty-raw-ok";

/// How a `script` takes the command to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// util-linux: `script -q -e -c CMD FILE`.
    UtilLinux,
    /// BSD (macOS): `script -q FILE CMD ARGS...`.
    Bsd,
}

impl Flavor {
    /// The flavour this OS ships.
    pub const HOST: Flavor = if cfg!(target_os = "linux") {
        Flavor::UtilLinux
    } else {
        Flavor::Bsd
    };

    /// The arguments that run [`INNER`] on a new pty, typescript discarded.
    pub fn args(self) -> Vec<&'static str> {
        match self {
            Flavor::UtilLinux => vec!["-q", "-e", "-c", INNER, "/dev/null"],
            Flavor::Bsd => vec!["-q", "/dev/null", "/bin/sh", "-c", INNER],
        }
    }
}

pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let args = Flavor::HOST.args();
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    let finished = workload::run(ctx, "script", SCRIPT, &args, Input::Inherit)?;
    if finished.status.success() && finished.stdout.contains(MARKER) {
        return allowed(
            "script",
            "script opened a pty; the command in it set raw mode (stty raw -echo) and printed the marker",
        );
    }
    Err(workload::program_failure("script", &finished))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_flavours_run_the_same_command_and_discard_the_typescript() {
        for flavor in [Flavor::UtilLinux, Flavor::Bsd] {
            let args = flavor.args();
            assert!(args.contains(&INNER), "{flavor:?}");
            assert!(args.contains(&"/dev/null"), "{flavor:?}");
            assert!(args.contains(&"-q"), "{flavor:?}");
        }
        assert!(INNER.ends_with(MARKER));
        // BSD script runs argv directly; the typescript file comes first.
        assert_eq!(Flavor::Bsd.args()[1], "/dev/null");
        // util-linux takes the command with -c and the file last.
        assert_eq!(Flavor::UtilLinux.args().last(), Some(&"/dev/null"));
    }
}
