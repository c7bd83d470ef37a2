//! The Linux backend enforcing for real on this host: one allow case and one
//! deny case per mapping row, through `LinuxLauncher::prepare` and the real
//! exec stage (bubblewrap + Landlock + seccomp).
//!
//! Workloads are small Perl one-liners (perl-base is part of every Debian
//! system) that print `ok` or the errno of the refused call, so each test
//! checks the exact errno the mapping promises.
//!
//! Needs: bwrap on PATH, user namespaces, Landlock. Build the stage first:
//! `cargo test -p beltcheck-runner --test linux_backend` builds it (it is a
//! bin of this package, found via `CARGO_BIN_EXE_beltcheck-stage`).
#![cfg(target_os = "linux")]

use profile::config::{Outbound, OutboundMode};
use profile::linux::{LinuxPolicy, Paths};
use profile::path::HostEnv;
use profile::Config;
use runner::channel::StageStatus;
use runner::launch::linux::{host_facts, LinuxLauncher};
use runner::launch::{Availability, CommandSpec, Ctty, LaunchError, Launcher, Prepared};
use runner::pty::StatusChannel;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const EPERM: &str = "1";
const ENOENT: &str = "2";
const EACCES: &str = "13";
const EROFS: &str = "30";

fn launcher() -> LinuxLauncher {
    LinuxLauncher::new().with_stage(env!("CARGO_BIN_EXE_beltcheck-stage"))
}

fn prepare(config: &Config, program: &str, args: &[&str]) -> Prepared {
    let policy = launcher().compile(config, None).expect("compile");
    let cmd = CommandSpec {
        program: PathBuf::from(program),
        args: args.iter().map(Into::into).collect(),
    };
    launcher().prepare(&policy, &cmd).expect("prepare")
}

/// The prepared command as std's `Command`, with the passed descriptor (the
/// stage's policy) kept open across the exec as the session keeps it.
fn command(prepared: &Prepared) -> Command {
    let mut cmd = Command::new(&prepared.command.program);
    cmd.args(&prepared.command.args);
    cmd.envs(prepared.env.iter().map(|(k, v)| (k, v)));
    pass_policy_fd(&mut cmd, prepared);
    cmd
}

/// Lets the launch's policy descriptor (`fd:N`) reach `cmd`'s child, as the
/// session does for the descriptors on its allow-list.
fn pass_policy_fd(cmd: &mut Command, prepared: &Prepared) {
    if let Some(fd) = &prepared.pass_fd {
        let fd = fd.as_raw_fd();
        // SAFETY: fcntl on a descriptor the prepared launch owns, in the
        // forked child only.
        unsafe {
            cmd.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

/// Runs `perl -MFcntl -MSocket -MPOSIX -e CODE ARGS` in the sandbox with pipes
/// and returns its trimmed stdout (stderr is appended on failure).
fn perl(config: &Config, code: &str, args: &[&str]) -> String {
    output(command(&prepare_perl(config, code, args)))
}

fn prepare_perl(config: &Config, code: &str, args: &[&str]) -> Prepared {
    let mut all = vec!["-MFcntl", "-MSocket", "-MPOSIX", "-e", code];
    all.extend_from_slice(args);
    prepare(config, "/usr/bin/perl", &all)
}

/// Runs `cmd` with pipes and returns its trimmed stdout; it must succeed.
fn output(mut cmd: Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().expect("spawn bwrap");
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): stdout {stdout:?} stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs the prepared command as the session leader of a fresh pty (as the
/// runner does) and returns everything written to the pty.
fn on_pty(prepared: &Prepared) -> String {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let slave = pty.slave;
    let mut cmd = command(prepared);
    cmd.stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave.try_clone().unwrap());
    // The stage takes the pty as controlling terminal when the launcher
    // says so (inside the PID namespace); otherwise the session leader does.
    let take_ctty = prepared.ctty == Ctty::Spawned;
    // SAFETY: only async-signal-safe calls (setsid, ioctl) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 || (take_ctty && libc::ioctl(0, libc::TIOCSCTTY, 0) < 0) {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn on pty");
    drop(slave);
    drop(cmd);
    let mut master = std::fs::File::from(pty.master);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    // The master reads EIO once every slave fd is closed.
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    let status = child.wait().expect("wait");
    let text = String::from_utf8_lossy(&out).replace('\r', "");
    assert!(status.success(), "pty run failed ({status}): {text}");
    let _ = master.as_raw_fd();
    text.trim().to_string()
}

fn config() -> Config {
    Config::default()
}

/// A directory the view does not hide (the host's /tmp and /dev are
/// replaced): the target dir, unless the checkout itself lives under /tmp
/// (CI clones may), then /var/tmp.
fn visible_tempdir() -> tempfile::TempDir {
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let base = if target.starts_with("/tmp") || target.starts_with("/dev") {
        std::path::Path::new("/var/tmp")
    } else {
        target
    };
    tempfile::Builder::new()
        .prefix("linux-backend-")
        .tempdir_in(base)
        .unwrap_or_else(|e| panic!("temp dir in {}: {e}", base.display()))
}

// ---- availability and host identity -------------------------------------

#[test]
fn backend_is_available_and_reports_bwrap_and_landlock() {
    match launcher().availability() {
        Availability::Enforcing { detail } => {
            assert!(detail.contains("bubblewrap"), "{detail}");
            assert!(detail.contains("landlock abi"), "{detail}");
        }
        Availability::Unavailable { reason } => panic!("linux backend unavailable: {reason}"),
    }
}

#[test]
fn missing_stage_is_unavailable_with_reason() {
    let l = LinuxLauncher::new().with_stage("/nonexistent/beltcheck-stage");
    match l.availability() {
        Availability::Unavailable { reason } => {
            assert!(reason.contains("/nonexistent"), "{reason}")
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    let cmd = CommandSpec {
        program: "/bin/true".into(),
        args: vec![],
    };
    let policy = l.compile(&config(), None).expect("compile");
    let err = l.prepare(&policy, &cmd).unwrap_err();
    assert!(matches!(err, LaunchError::Unavailable { .. }), "{err:?}");
}

#[test]
fn missing_bwrap_is_unavailable_with_reason() {
    let l = launcher().with_bwrap("/nonexistent/bwrap");
    match l.availability() {
        Availability::Unavailable { reason } => {
            assert!(reason.contains("/nonexistent/bwrap"), "{reason}")
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
}

#[test]
fn host_facts_carry_kernel_landlock_and_bwrap() {
    let facts = host_facts();
    let get = |k: &str| {
        facts
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(get("kernel_release").as_deref(), Some(kernel.trim()));
    let abi: i32 = get("landlock_abi")
        .unwrap()
        .parse()
        .expect("numeric landlock abi");
    assert!(abi >= 1);
    assert!(get("bwrap_version").unwrap().starts_with("bubblewrap "));
}

#[test]
fn stage_reports_landlock_abi_and_closes_the_policy_descriptor() {
    let code = r#"print(($ENV{BELTCHECK_STAGE_STATUS} // "none") . "|" . (defined(POSIX::dup($ARGV[0])) ? "leaked" : "gone"))"#;
    let mut prepared = prepare(&config(), "/usr/bin/perl", &["-MPOSIX", "-e", code]);
    let fd = prepared
        .pass_fd
        .as_ref()
        .expect("policy descriptor")
        .as_raw_fd();
    prepared.command.args.push(fd.to_string().into());
    let out = command(&prepared).stdin(Stdio::null()).output().unwrap();
    let out = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let abi = runner::stage::landlock_abi().unwrap();
    assert!(out.contains(&format!("abi={abi}")), "{out}");
    assert!(out.contains("landlock=fully_enforced"), "{out}");
    assert!(out.ends_with("|gone"), "{out}");
}

#[test]
fn bad_policy_is_a_profile_error_not_a_workload_result() {
    let dir = visible_tempdir();
    let bad = dir.path().join("policy.json");
    std::fs::write(&bad, "{not json").unwrap();
    let mut prepared = prepare(&config(), "/bin/true", &[]);
    let source = prepared
        .command
        .args
        .iter()
        .position(|a| a.to_string_lossy().starts_with("fd:"))
        .expect("fd:N on the command line");
    prepared.command.args[source] = bad.into_os_string();
    let out = command(&prepared).stdin(Stdio::null()).output().unwrap();
    let code = out.status.code().unwrap();
    assert_eq!(code, runner::stage::FAILURE_EXIT);
    // Run without the channel, the stage says why on stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("beltcheck-stage: bad policy"), "{stderr}");
    let failed = StageStatus::Failed {
        message: stderr.trim().into(),
    };
    let verdict = launcher().classify(&prepared.command, &failed, code, &out.stderr);
    assert!(
        matches!(verdict, runner::launch::LaunchVerdict::ProfileError { .. }),
        "{verdict:?}"
    );
}

// ---- the pty ---------------------------------------------------------------

const CTTY: &str = r#"open(my $t, "+<", "/dev/tty") or do { print "tty:", 0+$!; exit };
    print "tty:ok fg:", (POSIX::tcgetpgrp(0) == getpgrp() ? "self" : "other")"#;

#[test]
fn pty_stays_the_controlling_terminal() {
    let prepared = prepare(&config(), "/usr/bin/perl", &["-MPOSIX", "-e", CTTY]);
    assert_eq!(on_pty(&prepared), "tty:ok fg:self");
}

const TIOCSTI: &str = r#"my $c = "x"; print(ioctl(STDIN, 0x5412, $c) ? "ok" : 0+$!)"#;

#[test]
fn tiocsti_denied_with_eperm() {
    let prepared = prepare(&config(), "/usr/bin/perl", &["-e", TIOCSTI]);
    assert_eq!(on_pty(&prepared), EPERM);
}

#[test]
fn tiocsti_allowed_unsandboxed_control() {
    // The same workload outside the sandbox succeeds, so the denial above is
    // the sandbox's doing (we are root: legacy_tiocsti does not apply).
    let prepared = Prepared {
        command: CommandSpec {
            program: "/usr/bin/perl".into(),
            args: vec!["-e".into(), TIOCSTI.into()],
        },
        env: vec![],
        status: StatusChannel::Off,
        ctty: Ctty::Spawned,
        pass_fd: None,
        keep_alive: vec![],
    };
    let out = on_pty(&prepared);
    assert!(out.ends_with("ok"), "{out}");
}

// ---- nested_pty -------------------------------------------------------------

const PTMX: &str = r#"print(sysopen(my $f, "/dev/ptmx", O_RDWR|O_NOCTTY) ? "ok" : 0+$!)"#;

#[test]
fn nested_pty_on_opens_ptmx() {
    assert_eq!(perl(&config(), PTMX, &[]), "ok");
}

#[test]
fn nested_pty_off_refuses_ptmx_with_eacces() {
    let mut c = config();
    c.nested_pty = false;
    assert_eq!(perl(&c, PTMX, &[]), EACCES);
}

// ---- posix_ipc --------------------------------------------------------------

/// Creates a file in /dev/shm the way sem_open ("sem.NAME") or shm_open
/// ("NAME") does.
const SHM_CREATE: &str =
    r#"print(sysopen(my $f, "/dev/shm/$ARGV[0]$$", O_RDWR|O_CREAT|O_EXCL, 0600) ? "ok" : 0+$!)"#;

fn ipc(sem: bool, shm: bool) -> Config {
    let mut c = config();
    c.posix_ipc.semaphores = sem;
    c.posix_ipc.shared_memory = shm;
    c
}

#[test]
fn semaphores_on_can_create_in_dev_shm() {
    assert_eq!(perl(&ipc(true, false), SHM_CREATE, &["sem.bc-"]), "ok");
}

#[test]
fn semaphores_and_shm_off_refuse_dev_shm_with_eacces() {
    assert_eq!(perl(&ipc(false, false), SHM_CREATE, &["sem.bc-"]), EACCES);
    assert_eq!(perl(&ipc(false, false), SHM_CREATE, &["bc-"]), EACCES);
}

#[test]
fn shared_memory_on_can_create_in_dev_shm() {
    assert_eq!(perl(&ipc(false, true), SHM_CREATE, &["bc-"]), "ok");
}

#[test]
fn dev_shm_is_private() {
    let name = format!("/dev/shm/beltcheck-linux-test-{}", std::process::id());
    std::fs::write(&name, b"host").unwrap();
    let out = perl(
        &ipc(true, true),
        r#"print(-e $ARGV[0] ? "visible" : "hidden")"#,
        &[&name],
    );
    std::fs::remove_file(&name).unwrap();
    assert_eq!(out, "hidden");
}

#[test]
fn mixed_ipc_keys_are_flagged_unenforced() {
    let p = LinuxPolicy::compile(&ipc(true, false), &HostEnv::current(), Paths::AsWritten).unwrap();
    assert!(p.limitation("posix_ipc.shared_memory").is_some());
}

// ---- unix_socket_connects -----------------------------------------------------

const CONNECT: &str = r#"socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
    print(connect($s, pack_sockaddr_un($ARGV[0])) ? "ok" : 0+$!)"#;

fn listening_socket() -> (tempfile::TempDir, String, std::os::unix::net::UnixListener) {
    // Under the host's /tmp: the view's private /tmp hides it unless bound.
    let dir = tempfile::Builder::new()
        .prefix("bc-sock-")
        .tempdir_in("/tmp")
        .unwrap();
    let path = dir.path().join("s.sock").to_string_lossy().into_owned();
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    (dir, path, listener)
}

#[test]
fn listed_socket_connects() {
    let (_dir, path, _l) = listening_socket();
    let mut c = config();
    c.unix_socket_connects = vec![path.clone()];
    assert!(
        !LinuxPolicy::compile(&c, &HostEnv::current(), Paths::AsWritten)
            .unwrap()
            .hides(&path)
    );
    assert_eq!(perl(&c, CONNECT, &[&path]), "ok");
}

#[test]
fn unlisted_socket_is_hidden_enoent() {
    let (_dir, path, _l) = listening_socket();
    let c = config();
    assert!(
        LinuxPolicy::compile(&c, &HostEnv::current(), Paths::AsWritten)
            .unwrap()
            .hides(&path)
    );
    assert_eq!(perl(&c, CONNECT, &[&path]), ENOENT);
}

// ---- keychain_access (keyring) ------------------------------------------------

#[cfg(target_arch = "x86_64")]
const SYS_KEYCTL: u32 = 250;
#[cfg(target_arch = "aarch64")]
const SYS_KEYCTL: u32 = 219;

/// keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0).
fn keyctl_code() -> String {
    format!(r#"my $r = syscall({SYS_KEYCTL}, 0, -3, 0); print($r >= 0 ? "ok" : 0+$!)"#)
}

#[test]
fn keychain_on_reaches_keyring() {
    let mut c = config();
    c.keychain_access = true;
    assert_eq!(perl(&c, &keyctl_code(), &[]), "ok");
}

#[test]
fn keychain_off_refuses_keyring_with_eperm() {
    assert_eq!(perl(&config(), &keyctl_code(), &[]), EPERM);
}

// ---- network.outbound -----------------------------------------------------------

const INET: &str = r#"print(socket(my $s, $ARGV[0], SOCK_STREAM, 0) ? "ok" : 0+$!)"#;

#[test]
fn outbound_deny_refuses_inet_sockets_with_eperm() {
    assert_eq!(perl(&config(), INET, &["2"]), EPERM);
    assert_eq!(perl(&config(), INET, &["10"]), EPERM);
    // AF_UNIX stays available.
    assert_eq!(perl(&config(), INET, &["1"]), "ok");
}

#[test]
fn outbound_deny_refuses_every_family_but_unix() {
    // AF_NETLINK, AF_PACKET, AF_SMC (falls back to TCP), AF_VSOCK: the
    // seccomp allow-list refuses them all before the kernel looks at type
    // or protocol.
    for family in ["16", "17", "43", "40"] {
        assert_eq!(perl(&config(), INET, &[family]), EPERM, "family {family}");
    }
}

/// io_uring_setup: the same number on x86_64 and aarch64.
const SYS_IO_URING_SETUP: u32 = 425;

#[test]
fn outbound_deny_refuses_io_uring() {
    // io_uring's IORING_OP_SOCKET would create sockets without socket(2).
    let code = format!(
        r#"my $p = "\0" x 120; my $r = syscall({SYS_IO_URING_SETUP}, 1, $p); print($r >= 0 ? "ok" : 0+$!)"#
    );
    assert_eq!(perl(&config(), &code, &[]), EPERM);
}

#[test]
fn host_abstract_sockets_are_unreachable_without_a_network_namespace() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!("beltcheck-linux-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let _l = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    let code = r#"socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
        print(connect($s, pack_sockaddr_un("\0" . $ARGV[0])) ? "ok" : 0+$!)"#;
    // Landlock's abstract-socket scope (ABI >= 6) refuses it, in both modes.
    assert_eq!(perl(&config(), code, &[&name]), EPERM);
    let mut allow = config();
    allow.network.outbound = Outbound::Mode(OutboundMode::Allow);
    assert_eq!(perl(&allow, code, &[&name]), EPERM);
}

#[test]
fn proc_is_the_hosts_readable_and_not_writable() {
    // /proc comes with the read-only root (no fresh procfs): the mount
    // refuses the write before Landlock would.
    let code = r#"open(my $r, "<", "/proc/self/status") or do { print "read:", 0+$!; exit };
        print(open(my $w, ">", "/proc/self/oom_score_adj") ? "writable" : "write:" . (0+$!))"#;
    assert_eq!(perl(&config(), code, &[]), format!("write:{EROFS}"));
}

#[test]
fn outbound_allow_shares_the_network() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut c = config();
    c.network.outbound = Outbound::Mode(OutboundMode::Allow);
    let code = r#"socket(my $s, AF_INET, SOCK_STREAM, 0) or do { print 0+$!; exit };
        print(connect($s, pack_sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) ? "ok" : 0+$!)"#;
    // The host's listener is reachable: same network namespace.
    assert_eq!(perl(&c, code, &[&port]), "ok");
}

#[test]
fn outbound_proxy_allows_only_the_proxy_port() {
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_port = proxy.local_addr().unwrap().port();
    let other_port = other.local_addr().unwrap().port().to_string();
    let mut c = config();
    c.network.outbound = Outbound::Proxy { proxy_port };
    let code = r#"socket(my $s, AF_INET, SOCK_STREAM, 0) or do { print 0+$!; exit };
        print(connect($s, pack_sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) ? "ok" : 0+$!)"#;
    assert_eq!(perl(&c, code, &[&proxy_port.to_string()]), "ok");
    assert_eq!(perl(&c, code, &[&other_port]), EACCES);
}

// ---- ui.injection -----------------------------------------------------------

const HID: &str = r#"print(join(",", grep { -e $_ } ("/dev/uinput", "/dev/input", glob("/dev/hidraw*"))) || "none")"#;

/// The HID nodes [`fake_hid_host`] adds, as [`HID`] lists them.
const FAKE_HID: &str = "/dev/uinput,/dev/input";

/// `cmd` started in an outer bwrap: the host as the launcher sees it, plus
/// HID nodes this host lacks, `/dev/uinput` and `/dev/input/event0`
/// (character devices: the host's /dev/null bound there). The launcher's
/// own paths are literal (`/dev/uinput`, `/dev/input`), so it binds these
/// as it would real ones. Nothing on the real host changes, so this runs
/// the same as root and as an ordinary user. The host's /proc is bound
/// writable: the inner bwrap writes its uid map there.
fn fake_hid_host(cmd: &Command, prepared: Option<&Prepared>) -> Command {
    let mut outer = Command::new("bwrap");
    outer.args([
        "--die-with-parent",
        "--unshare-user",
        "--ro-bind",
        "/",
        "/",
        "--bind",
        "/proc",
        "/proc",
        "--dev",
        "/dev",
        "--dev-bind",
        "/dev/null",
        "/dev/uinput",
        "--dir",
        "/dev/input",
        "--dev-bind",
        "/dev/null",
        "/dev/input/event0",
        "--",
    ]);
    outer.arg(cmd.get_program()).args(cmd.get_args());
    outer.envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
    if let Some(prepared) = prepared {
        pass_policy_fd(&mut outer, prepared);
    }
    outer
}

/// [`HID`] run unsandboxed in the fake host: what there is to hide.
fn hid_nodes_on_fake_host() -> String {
    let mut bare = Command::new("/usr/bin/perl");
    bare.args(["-e", HID]);
    output(fake_hid_host(&bare, None))
}

#[test]
fn injection_off_hides_the_hosts_hid_devices() {
    assert_eq!(hid_nodes_on_fake_host(), FAKE_HID, "nothing to hide");
    let prepared = prepare_perl(&config(), HID, &[]);
    let sandboxed = command(&prepared);
    assert_eq!(output(fake_hid_host(&sandboxed, Some(&prepared))), "none");
}

#[test]
fn injection_on_binds_the_hosts_hid_devices() {
    assert_eq!(hid_nodes_on_fake_host(), FAKE_HID, "nothing to bind");
    let mut c = config();
    c.ui.injection = true;
    let prepared = prepare_perl(&c, HID, &[]);
    let sandboxed = command(&prepared);
    assert_eq!(output(fake_hid_host(&sandboxed, Some(&prepared))), FAKE_HID);
}

// ---- filesystem -------------------------------------------------------------

const WRITE: &str = r#"print(sysopen(my $f, $ARGV[0], O_WRONLY|O_CREAT, 0600) ? "ok" : 0+$!)"#;
const READ: &str = r#"print(open(my $f, "<", $ARGV[0]) ? "ok" : 0+$!)"#;

fn path_in(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

#[test]
fn read_write_path_is_writable() {
    let dir = visible_tempdir();
    let mut c = config();
    c.filesystem.read_write = vec![dir.path().to_string_lossy().into_owned()];
    assert_eq!(perl(&c, WRITE, &[&path_in(dir.path(), "new")]), "ok");
    assert!(
        dir.path().join("new").exists(),
        "write reached the host path"
    );
}

#[test]
fn path_outside_read_write_is_read_only_erofs() {
    let dir = visible_tempdir();
    assert_eq!(
        perl(&config(), WRITE, &[&path_in(dir.path(), "new")]),
        EROFS
    );
}

#[test]
fn denied_path_refuses_reads_with_eacces() {
    let dir = visible_tempdir();
    std::fs::create_dir(dir.path().join("secret")).unwrap();
    std::fs::write(dir.path().join("secret/key"), b"k").unwrap();
    std::fs::write(dir.path().join("public"), b"p").unwrap();
    let mut c = config();
    c.filesystem.denied = vec![path_in(dir.path(), "secret")];
    assert_eq!(
        perl(&c, READ, &[&path_in(dir.path(), "secret/key")]),
        EACCES
    );
    assert_eq!(perl(&c, READ, &[&path_in(dir.path(), "public")]), "ok");
    assert_eq!(
        perl(&config(), READ, &[&path_in(dir.path(), "secret/key")]),
        "ok"
    );
}

#[test]
fn denied_inside_read_write_refuses_writes_there_only() {
    let dir = visible_tempdir();
    std::fs::create_dir(dir.path().join("locked")).unwrap();
    let mut c = config();
    c.filesystem.read_write = vec![dir.path().to_string_lossy().into_owned()];
    c.filesystem.denied = vec![path_in(dir.path(), "locked")];
    assert_eq!(perl(&c, WRITE, &[&path_in(dir.path(), "locked/f")]), EACCES);
    // A sibling directory that existed at launch stays writable.
    std::fs::create_dir(dir.path().join("open")).unwrap();
    assert_eq!(perl(&c, WRITE, &[&path_in(dir.path(), "open/f")]), "ok");
}

#[test]
fn read_only_path_under_tmp_is_exposed_but_not_writable() {
    let dir = tempfile::Builder::new()
        .prefix("bc-ro-")
        .tempdir_in("/tmp")
        .unwrap();
    let file = path_in(dir.path(), "f");
    std::fs::write(&file, b"x").unwrap();
    assert_eq!(perl(&config(), READ, &[&file]), ENOENT);
    let mut c = config();
    c.filesystem.read_only = vec![dir.path().to_string_lossy().into_owned()];
    assert_eq!(perl(&c, READ, &[&file]), "ok");
    assert_eq!(perl(&c, WRITE, &[&file]), EROFS);
}

#[test]
fn private_tmp_is_writable() {
    assert_eq!(perl(&config(), WRITE, &["/tmp/scratch"]), "ok");
}
