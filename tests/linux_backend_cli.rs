//! The Linux backend end to end: `beltcheck run --backend linux --config F
//! -- beltcheck-probe NAME ...`, one allow case and one deny case per row of
//! the mapping in docs/linux-backend.md, asserting the verdict and errno the
//! real probe reports in its JSON.
//!
//! The binaries come from the workspace (see `common::bin_dir`).
//!
//! Needs on the host: bwrap on PATH, user namespaces, Landlock. Any of those
//! missing makes the tests fail with the backend's own reason.
#![cfg(target_os = "linux")]

mod common;

use profile::config::{Outbound, OutboundMode};
use profile::linux::{LinuxPolicy, Paths};
use profile::path::HostEnv;
use profile::Config;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};

const EPERM: i64 = 1;
const ENOENT: i64 = 2;
const EACCES: i64 = 13;
const EROFS: i64 = 30;

/// The probe's JSON report, the fields these tests check.
#[derive(Debug)]
struct Report {
    verdict: String,
    errno: Option<i64>,
    detail: String,
}

/// Which launcher `beltcheck run` uses.
#[derive(Clone, Copy)]
enum Backend {
    Linux,
    /// Unsandboxed control run: shows the operation works without the sandbox.
    None,
}

/// Runs `beltcheck run --backend B --config F -- beltcheck-probe PROBE ARGS`
/// and parses the probe's JSON from the pty output.
fn run_probe(backend: Backend, config: &Config, probe: &str, args: &[&str]) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.json");
    std::fs::write(&config_path, serde_json::to_vec(config).unwrap()).unwrap();
    let backend = match backend {
        Backend::Linux => "linux",
        Backend::None => "none",
    };
    let out = Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(["run", "--backend", backend, "--timeout", "60", "--config"])
        .arg(&config_path)
        .arg("--")
        .arg(common::bin_dir().join("beltcheck-probe"))
        .arg(probe)
        .args(args)
        .env_remove("BELTCHECK_STAGE")
        .stdin(Stdio::null())
        .output()
        .expect("spawn beltcheck");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "beltcheck run {probe} failed ({}): stdout {stdout:?} stderr {stderr:?}",
        out.status
    );
    let line = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON from {probe}: {stdout:?} stderr {stderr:?}"));
    let v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON {line:?}: {e}"));
    assert_eq!(v["probe"], probe, "{line}");
    Report {
        verdict: v["verdict"].as_str().expect("verdict").to_string(),
        errno: v["errno"].as_i64(),
        detail: v["detail"].as_str().unwrap_or_default().to_string(),
    }
}

fn linux(config: &Config, probe: &str, args: &[&str]) -> Report {
    run_probe(Backend::Linux, config, probe, args)
}

#[track_caller]
fn assert_allowed(r: &Report) {
    assert_eq!(r.verdict, "allowed", "{r:?}");
    assert_eq!(r.errno, None, "{r:?}");
}

#[track_caller]
fn assert_refused(r: &Report, verdict: &str, errno: i64) {
    assert_eq!(
        (r.verdict.as_str(), r.errno),
        (verdict, Some(errno)),
        "{r:?}"
    );
}

fn policy(config: &Config) -> LinuxPolicy {
    LinuxPolicy::compile(config, &HostEnv::current(), Paths::AsWritten).unwrap()
}

/// A directory the sandbox view shows as on the host: outside /tmp, /dev/shm
/// and /dev, which the backend replaces with private ones. The target dir
/// is used unless the checkout itself lives under /tmp (CI clones may), then
/// /var/tmp, which outlives reboots and is not made private.
fn visible_dir() -> tempfile::TempDir {
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let base = if target.starts_with("/tmp") || target.starts_with("/dev") {
        std::path::Path::new("/var/tmp")
    } else {
        target
    };
    tempfile::Builder::new()
        .prefix("linux-cli-")
        .tempdir_in(base)
        .unwrap_or_else(|e| panic!("temp dir in {}: {e}", base.display()))
}

/// A directory under the host's `/tmp`: hidden inside unless bound.
fn tmp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("bc-cli-")
        .tempdir_in("/tmp")
        .unwrap()
}

fn text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

// ---- nested_pty ---------------------------------------------------------------

#[test]
fn nested_pty_on_allows_pty() {
    let c = Config {
        nested_pty: true,
        ..Config::default()
    };
    assert_allowed(&linux(&c, "pty", &[]));
}

#[test]
fn nested_pty_off_denies_pty_eacces() {
    let c = Config {
        nested_pty: false,
        ..Config::default()
    };
    assert_refused(&linux(&c, "pty", &[]), "denied", EACCES);
}

// ---- posix_ipc ----------------------------------------------------------------

fn ipc(semaphores: bool, shared_memory: bool) -> Config {
    let mut c = Config::default();
    c.posix_ipc.semaphores = semaphores;
    c.posix_ipc.shared_memory = shared_memory;
    c
}

#[test]
fn semaphores_on_allows_sem() {
    assert_allowed(&linux(&ipc(true, true), "sem", &[]));
}

#[test]
fn semaphores_off_denies_sem_eacces() {
    assert_refused(&linux(&ipc(false, false), "sem", &[]), "denied", EACCES);
}

#[test]
fn shared_memory_on_allows_shm() {
    assert_allowed(&linux(&ipc(true, true), "shm", &[]));
}

#[test]
fn shared_memory_off_denies_shm_eacces() {
    assert_refused(&linux(&ipc(false, false), "shm", &[]), "denied", EACCES);
}

#[test]
fn one_ipc_key_on_leaves_the_other_flagged_not_enforced() {
    // Semaphores on, shared memory off: shm still works (shared /dev/shm),
    // and the policy says so, so the matrix cannot count it as enforced.
    let c = ipc(true, false);
    assert_allowed(&linux(&c, "shm", &[]));
    assert!(policy(&c).limitation("posix_ipc.shared_memory").is_some());
}

// ---- unix_socket_connects -------------------------------------------------------

/// A listening socket under the host's /tmp, which the view hides unless the
/// config lists it.
fn listener() -> (tempfile::TempDir, String, UnixListener) {
    let dir = tmp_dir();
    let path = text(&dir.path().join("s.sock"));
    let l = UnixListener::bind(&path).unwrap();
    (dir, path, l)
}

#[test]
fn listed_socket_connects() {
    let (_dir, path, _l) = listener();
    let c = Config {
        unix_socket_connects: vec![path.clone()],
        ..Config::default()
    };
    assert!(policy(&c).socket_limitation(&path).is_none());
    assert_allowed(&linux(&c, "unix-connect", &["--path", &path]));
}

#[test]
fn unlisted_socket_is_hidden_enoent() {
    let (_dir, path, _l) = listener();
    let c = Config::default();
    // The harness created it, so ENOENT inside means the view hides it: the
    // matrix reports this cell as denied ("hidden").
    assert!(policy(&c).hides(&path));
    assert!(policy(&c).socket_limitation(&path).is_none());
    assert_refused(
        &linux(&c, "unix-connect", &["--path", &path]),
        "error",
        ENOENT,
    );
    // Control: reachable unsandboxed.
    assert_allowed(&run_probe(
        Backend::None,
        &c,
        "unix-connect",
        &["--path", &path],
    ));
}

#[test]
fn unlisted_socket_outside_private_dirs_is_reachable_and_flagged() {
    // The known limit: a socket outside /tmp, /dev/shm and /dev is not hidden.
    // Observed here, and the policy names it so the cell is not a pass.
    let dir = visible_dir();
    let path = text(&dir.path().join("s.sock"));
    let _l = UnixListener::bind(&path).unwrap();
    let c = Config::default();
    assert!(!policy(&c).hides(&path));
    let reason = policy(&c).socket_limitation(&path).expect("flagged");
    assert!(reason.contains("reachable"), "{reason}");
    assert_allowed(&linux(&c, "unix-connect", &["--path", &path]));
}

// ---- keychain_access (kernel keyring) ----------------------------------------------

#[test]
fn keychain_on_allows_keyring() {
    let c = Config {
        keychain_access: true,
        ..Config::default()
    };
    assert_allowed(&linux(&c, "keychain", &[]));
}

#[test]
fn keychain_off_denies_keyring_eperm() {
    let c = Config {
        keychain_access: false,
        ..Config::default()
    };
    assert_refused(&linux(&c, "keychain", &[]), "denied", EPERM);
}

// ---- network.outbound ---------------------------------------------------------------

fn outbound(mode: OutboundMode) -> Config {
    let mut c = Config::default();
    c.network.outbound = Outbound::Mode(mode);
    c
}

/// A TCP listener on the host's loopback; the kernel completes handshakes
/// from its backlog, no accept needed.
fn tcp_listener() -> (std::net::TcpListener, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    (l, port)
}

#[test]
fn outbound_allow_connects_to_host_listener() {
    let (_l, port) = tcp_listener();
    let r = linux(
        &outbound(OutboundMode::Allow),
        "network",
        &["--host", "127.0.0.1", "--port", &port],
    );
    assert_allowed(&r);
}

#[test]
fn outbound_deny_denies_network_eperm() {
    let (_l, port) = tcp_listener();
    let c = outbound(OutboundMode::Deny);
    let r = linux(&c, "network", &["--host", "127.0.0.1", "--port", &port]);
    assert_refused(&r, "denied", EPERM);
    let r6 = linux(&c, "network", &["--host", "::1", "--port", &port]);
    assert_refused(&r6, "denied", EPERM);
}

// ---- ui.injection ---------------------------------------------------------------------

#[test]
fn hid_is_unsupported_on_this_host_whatever_the_config() {
    // This host has no /dev/uinput, /dev/hidraw* or /dev/input/event*: the
    // control run says so, and the sandboxed runs can only agree. Nothing
    // about ui.injection is enforced (or claimed) by this test.
    let host = run_probe(Backend::None, &Config::default(), "hid", &[]);
    assert_eq!(host.verdict, "unsupported", "{host:?}");
    for injection in [false, true] {
        let mut c = Config::default();
        c.ui.injection = injection;
        let r = linux(&c, "hid", &[]);
        assert_eq!(r.verdict, "unsupported", "injection={injection}: {r:?}");
        assert!(r.detail.contains("no /dev/uinput"), "{r:?}");
    }
}

#[test]
#[ignore = "needs a HID device (/dev/uinput, /dev/hidraw* or /dev/input/event*) on the host; this host has none"]
fn hid_injection_on_allows_and_off_hides_devices() {
    let mut c = Config::default();
    c.ui.injection = true;
    assert_allowed(&linux(&c, "hid", &[]));
    c.ui.injection = false;
    // The fresh /dev has no HID nodes: the probe finds nothing to open.
    assert_eq!(linux(&c, "hid", &[]).verdict, "unsupported");
}

// ---- filesystem ------------------------------------------------------------------------

#[test]
fn read_write_allows_writes_there() {
    let dir = visible_dir();
    let mut c = Config::default();
    c.filesystem.read_write = vec![text(dir.path())];
    assert_allowed(&linux(
        &c,
        "file-write",
        &["--path", &text(&dir.path().join("new"))],
    ));
}

#[test]
fn outside_read_write_denies_writes_erofs() {
    let dir = visible_dir();
    let target = text(&dir.path().join("new"));
    assert_refused(
        &linux(&Config::default(), "file-write", &["--path", &target]),
        "denied",
        EROFS,
    );
    assert_allowed(&run_probe(
        Backend::None,
        &Config::default(),
        "file-write",
        &["--path", &target],
    ));
}

#[test]
fn read_only_exposes_a_hidden_path_for_reading_only() {
    let dir = tmp_dir();
    let file = text(&dir.path().join("f"));
    std::fs::write(&file, b"x").unwrap();
    let mut c = Config::default();
    c.filesystem.read_only = vec![text(dir.path())];
    assert_allowed(&linux(&c, "file-read", &["--path", &file]));
    let new = text(&dir.path().join("new"));
    assert_refused(&linux(&c, "file-write", &["--path", &new]), "denied", EROFS);
}

#[test]
fn unlisted_path_under_tmp_is_hidden_enoent() {
    let dir = tmp_dir();
    let file = text(&dir.path().join("f"));
    std::fs::write(&file, b"x").unwrap();
    assert_refused(
        &linux(&Config::default(), "file-read", &["--path", &file]),
        "error",
        ENOENT,
    );
}

#[test]
fn denied_refuses_reads_and_writes_eacces() {
    let dir = visible_dir();
    let secret = dir.path().join("secret");
    std::fs::create_dir(&secret).unwrap();
    std::fs::write(secret.join("key"), b"k").unwrap();
    let key = text(&secret.join("key"));
    let mut c = Config::default();
    c.filesystem.read_write = vec![text(dir.path())];
    c.filesystem.denied = vec![text(&secret)];
    assert_refused(&linux(&c, "file-read", &["--path", &key]), "denied", EACCES);
    assert_refused(
        &linux(&c, "file-write", &["--path", &text(&secret.join("new"))]),
        "denied",
        EACCES,
    );
    // Without the denied entry both work.
    c.filesystem.denied.clear();
    assert_allowed(&linux(&c, "file-read", &["--path", &key]));
    assert_allowed(&linux(
        &c,
        "file-write",
        &["--path", &text(&secret.join("new"))],
    ));
}

// ---- TIOCSTI ---------------------------------------------------------------------------

#[test]
fn tiocsti_denied_eperm_even_with_everything_on() {
    let mut c = Config {
        nested_pty: true,
        keychain_access: true,
        gui_access: true,
        ..Config::default()
    };
    c.ui.injection = true;
    c.network.outbound = Outbound::Mode(OutboundMode::Allow);
    assert_refused(&linux(&c, "tiocsti", &[]), "denied", EPERM);
    assert_refused(&linux(&Config::default(), "tiocsti", &[]), "denied", EPERM);
}

#[test]
fn tiocsti_allowed_unsandboxed_control() {
    // As root legacy_tiocsti does not apply: the refusal above is the sandbox's.
    assert_allowed(&run_probe(
        Backend::None,
        &Config::default(),
        "tiocsti",
        &[],
    ));
}
