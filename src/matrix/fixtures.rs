//! What the probes talk to, owned by the harness: a loopback TCP listener, an
//! AF_UNIX listener at a fresh path, and a private temp dir. Everything is
//! removed when [`Fixtures`] drops; Ctrl-C only sets a flag (see
//! [`interrupt`]) so the run unwinds and the drop still happens.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// How long a listener waits for a probe's reply byte.
const PEER_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The placeholders a probe's `args` may use, each written `{name}`.
pub const PLACEHOLDERS: [&str; 5] = ["unix_socket", "tcp_host", "tcp_port", "tmp_dir", "tmp_file"];

/// The first `{name}` in `arg` that is not one of [`PLACEHOLDERS`] (a brace
/// with no closing brace after it is plain text).
pub fn unknown_placeholder(arg: &str) -> Option<&str> {
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Some(&rest[open..open + close + 2]);
        }
        rest = &after[close + 1..];
    }
    None
}

/// The harness's fixtures for one matrix run.
pub struct Fixtures {
    dir: tempfile::TempDir,
    tcp_port: u16,
    unix_socket: PathBuf,
    tcp: Option<Server>,
    unix: Option<Server>,
}

/// An accept loop that greets every peer with one byte, then hangs up.
struct Server {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    wake: Box<dyn Fn() + Send + Sync>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        (self.wake)();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sends one byte, then waits (bounded by the stream's read timeout) for
/// the probe's reply so it never writes into a closed socket. Failures only
/// mean the probe already hung up.
fn greet<S: Write + Read>(mut peer: S) {
    if peer.write_all(b"!").is_ok() {
        let mut reply = [0u8; 1];
        let _ = peer.read(&mut reply);
    }
}

fn serve<L, S>(
    listener: L,
    accept: fn(&L) -> std::io::Result<S>,
    wake: Box<dyn Fn() + Send + Sync>,
) -> Server
where
    L: Send + 'static,
    S: Write + Read + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::SeqCst) {
            if let Ok(peer) = accept(&listener) {
                // One thread per peer: a probe that never answers must not
                // hold up the next cell's probe.
                std::thread::spawn(move || greet(peer));
            }
        }
    });
    Server {
        stop,
        thread: Some(thread),
        wake,
    }
}

impl Fixtures {
    /// Creates the temp dir under /tmp (short enough for `sun_path` on every
    /// OS), binds both listeners and starts serving.
    pub fn create() -> std::io::Result<Fixtures> {
        let dir = tempfile::Builder::new()
            .prefix("beltcheck-matrix-")
            .tempdir_in("/tmp")?;
        std::fs::create_dir(dir.path().join("work"))?;
        std::fs::write(dir.path().join("read-me.txt"), b"beltcheck fixture\n")?;
        let unix_socket = dir.path().join("probe.sock");
        let unix_listener = UnixListener::bind(&unix_socket)?;
        let tcp_listener = TcpListener::bind("127.0.0.1:0")?;
        let tcp_port = tcp_listener.local_addr()?.port();
        let wake_path = unix_socket.clone();
        let unix = serve(
            unix_listener,
            |l| {
                l.accept()
                    .and_then(|(s, _)| s.set_read_timeout(Some(PEER_WAIT)).map(|()| s))
            },
            Box::new(move || drop(UnixStream::connect(&wake_path))),
        );
        let tcp = serve(
            tcp_listener,
            |l| {
                l.accept()
                    .and_then(|(s, _)| s.set_read_timeout(Some(PEER_WAIT)).map(|()| s))
            },
            Box::new(move || drop(TcpStream::connect(("127.0.0.1", tcp_port)))),
        );
        Ok(Fixtures {
            dir,
            tcp_port,
            unix_socket,
            tcp: Some(tcp),
            unix: Some(unix),
        })
    }

    pub fn unix_socket(&self) -> &Path {
        &self.unix_socket
    }

    pub fn tcp_port(&self) -> u16 {
        self.tcp_port
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The value of placeholder `name` (one of [`PLACEHOLDERS`]).
    fn value(&self, name: &str) -> Option<String> {
        let work = self.dir.path().join("work");
        let file = self.dir.path().join("read-me.txt");
        Some(match name {
            "unix_socket" => self.unix_socket.to_string_lossy().into_owned(),
            "tcp_host" => "127.0.0.1".into(),
            "tcp_port" => self.tcp_port.to_string(),
            "tmp_dir" => work.to_string_lossy().into_owned(),
            "tmp_file" => file.to_string_lossy().into_owned(),
            _ => return None,
        })
    }

    /// Replaces the placeholders a probe's `args` may use.
    pub fn expand(&self, arg: &str) -> String {
        PLACEHOLDERS.iter().fold(arg.to_string(), |out, name| {
            let value = self.value(name).expect("every placeholder has a value");
            out.replace(&format!("{{{name}}}"), &value)
        })
    }

    /// Whether an argument names a path the harness created (a probe that
    /// cannot find it inside the sandbox was hidden from it, not broken).
    pub fn owns_path(&self, arg: &str) -> bool {
        Path::new(arg).starts_with(self.dir.path())
    }
}

impl Drop for Fixtures {
    fn drop(&mut self) {
        // Stop the servers before the temp dir (and the socket) goes.
        self.unix.take();
        self.tcp.take();
    }
}

/// Interrupt handling for the matrix: the first SIGINT, SIGTERM or SIGHUP
/// asks the run to stop; nothing new starts, running cells end at their
/// time limit, the fixtures are dropped and the report is written marked
/// partial; then the CLI dies by that same signal ([`interrupt::reraise`]).
pub mod interrupt {
    use nix::sys::signal::Signal;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, OnceLock};

    /// The signals that stop a run.
    const STOP: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

    /// The stopping signal received (the latest, when several arrive), 0
    /// before any; set by signal-hook's handler.
    fn slot() -> &'static Arc<AtomicUsize> {
        static RECEIVED: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
        RECEIVED.get_or_init(|| Arc::new(AtomicUsize::new(0)))
    }

    /// Installs the handler for SIGINT, SIGTERM and SIGHUP (idempotent).
    pub fn install() -> std::io::Result<()> {
        static INSTALLED: OnceLock<()> = OnceLock::new();
        if INSTALLED.get().is_some() {
            return Ok(());
        }
        for sig in STOP {
            signal_hook::flag::register_usize(sig as i32, Arc::clone(slot()), sig as usize)?;
        }
        let _ = INSTALLED.set(());
        Ok(())
    }

    pub fn requested() -> bool {
        received().is_some()
    }

    /// The signal that stopped the run, if one did.
    pub fn received() -> Option<Signal> {
        let sig = i32::try_from(slot().load(Ordering::SeqCst)).ok()?;
        Signal::try_from(sig).ok()
    }

    /// Dies by the signal that stopped the run (its default action,
    /// whatever handler is installed), so the caller sees 128+signo as with
    /// any program it interrupts; returns only when no signal arrived.
    pub fn reraise() {
        let Some(sig) = received() else { return };
        if signal_hook::low_level::emulate_default_handler(sig as i32).is_ok() {
            // Delivery can wait until the signal is unblocked; it is not
            // blocked here, but be sure nothing else runs.
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_answer_and_everything_goes_on_drop() {
        let f = Fixtures::create().unwrap();
        let dir = f.dir().to_path_buf();
        let mut byte = [0u8; 1];
        UnixStream::connect(f.unix_socket())
            .unwrap()
            .read_exact(&mut byte)
            .unwrap();
        assert_eq!(&byte, b"!");
        TcpStream::connect(("127.0.0.1", f.tcp_port()))
            .unwrap()
            .read_exact(&mut byte)
            .unwrap();
        assert_eq!(
            f.expand("--port={tcp_port}"),
            format!("--port={}", f.tcp_port())
        );
        assert!(f.owns_path(&f.expand("{tmp_dir}/x")));
        for name in PLACEHOLDERS {
            let arg = format!("a{{{name}}}b");
            assert!(!f.expand(&arg).contains('{'), "{name} not expanded");
            assert_eq!(unknown_placeholder(&arg), None);
        }
        assert_eq!(unknown_placeholder("{tmp_dir}/{nope}/x"), Some("{nope}"));
        assert_eq!(unknown_placeholder("{tmp_dir"), None);
        assert!(!f.owns_path("/etc/passwd"));
        let port = f.tcp_port();
        drop(f);
        assert!(!dir.exists());
        // Nobody serves the port any more. (A connect can still succeed in
        // the rare case the kernel picks the same port as the source, a
        // self-connection; what matters is that no greeting comes.)
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(std::time::Duration::from_millis(200)))
                .unwrap();
            assert!(!matches!(s.read(&mut byte), Ok(1) if &byte == b"!"));
        }
    }
}
