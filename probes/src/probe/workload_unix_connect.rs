//! `workload-unix-connect --path P`: a Python socket client, the kind of
//! program `unix_socket_connects` is for (an ssh-agent or docker.sock
//! client): `socket(AF_UNIX)`, `connect(P)`, and the fixture's one-byte
//! greeting echoed back when it comes. Runs [`workload::PYTHON`];
//! `unsupported` where it is not installed.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::Outcome;
use crate::workload::{self, Input};

/// Steps the script reports (in order).
const STEPS: &[&str] = &[
    "import",
    "socket",
    "connect",
    "read-greeting",
    "write-reply",
];

/// The script; the socket path is its first argument (bytes kept exact
/// through `os.fsencode`).
const SCRIPT: &str = r#"
import json, sys
def report(ok, step, errno=None, message=""):
    print("beltcheck-workload " + json.dumps({"ok": ok, "step": step, "errno": errno, "message": message}), flush=True)
step = "import"
try:
    import os, select, socket
    path = os.fsencode(sys.argv[1])
    step = "socket"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    step = "connect"
    s.connect(path)
    step = "read-greeting"
    readable, _, _ = select.select([s], [], [], 0.5)
    got = s.recv(1) if readable else b""
    if got:
        step = "write-reply"
        s.sendall(got)
        report(True, step, None, "connected; exchanged byte %r" % (got,))
    else:
        report(True, step, None, "connected; no greeting byte")
except OSError as e:
    report(False, step, e.errno, "%s: %s" % (type(e).__name__, e))
    sys.exit(2)
except Exception as e:
    report(False, step, None, "%s: %s" % (type(e).__name__, e))
    sys.exit(3)
"#;

pub fn run(args: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let path = args.path.as_deref().unwrap_or_default();
    let finished = workload::run(
        ctx,
        "python",
        workload::PYTHON,
        &["-I".as_ref(), "-c".as_ref(), SCRIPT.as_ref(), path],
        Input::Null,
    )?;
    workload::python_outcome(&finished, STEPS, "python")
}
