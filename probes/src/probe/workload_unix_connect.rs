//! `workload-unix-connect --path P`: a Python socket client, the kind of
//! program `unix_socket_connects` is for (an ssh-agent or docker.sock
//! client): `socket(AF_UNIX)`, `connect(P)`, and the fixture's one-byte
//! greeting echoed back when it comes. Runs [`workload::PYTHON`];
//! `unsupported` where it is not installed.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::Outcome;
use crate::workload;

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
"#;

pub fn run(args: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let path = args.path.as_deref().unwrap_or_default();
    workload::python(ctx, SCRIPT, &[path], STEPS)
}
