//! The config compiled for the Linux backend (bubblewrap + Landlock + seccomp).
//!
//! [`LinuxPolicy::compile`] turns a [`Config`] into pure data: what the
//! filesystem view looks like (bubblewrap mounts), which Landlock rights are
//! granted inside it, and which syscalls seccomp refuses. The runner turns the
//! view into `bwrap` arguments; its exec stage applies the Landlock and seccomp
//! parts to itself just before it execs the workload.
//!
//! Paths go through [`crate::path::normalise`], never [`crate::path::resolve`]:
//! the `/private/...` spelling is a Seatbelt matching detail and on Linux
//! `/tmp` is a real directory. With [`Paths::ResolvedOnHost`] (what the
//! launcher uses when it prepares a launch) every symlink in a configured
//! path is followed on the host that enforces it, because Landlock and bind
//! mounts act on what a path resolves to: a denied symlink denies its
//! target. [`LinuxPolicy::resolved`] lists each path whose enforced spelling
//! differs from the written one, so the difference is never silent.
//!
//! Numbers in here (address families, ioctl requests) are the Linux ABI
//! values, written out so the policy means the same thing when it is built on
//! another OS.

use crate::config::{Clipboard, Config, ConfigError, Outbound, OutboundMode};
use crate::path::{follow_symlinks, resolve_list, HostEnv, Spelling, Templates};
use crate::secrets;
use serde::{Deserialize, Serialize};

/// Linux `AF_UNIX`.
pub const LINUX_AF_UNIX: u64 = 1;
/// Linux `AF_INET`.
pub const LINUX_AF_INET: u64 = 2;
/// Linux `AF_INET6`.
pub const LINUX_AF_INET6: u64 = 10;
/// Linux `TIOCSTI` (push a byte into a terminal's input queue).
pub const LINUX_TIOCSTI: u64 = 0x5412;

/// Directories replaced by a private, empty tmpfs inside the view. Anything
/// the host has under them is invisible unless bound back in.
pub const PRIVATE_TMPFS: [&str; 2] = ["/tmp", "/dev/shm"];

/// The view's `/dev` is a fresh one (`bwrap --dev`): only null, zero, full,
/// random, urandom, tty, a new devpts instance and `/dev/shm`.
pub const FRESH_DEV: &str = "/dev";

/// Device nodes a HID injector needs; bound into the view only with
/// `ui.injection = true`. A trailing `*` is a prefix match over `/dev`.
pub const HID_DEVICES: [&str; 3] = ["/dev/uinput", "/dev/input", "/dev/hidraw*"];

/// Config keys with no Linux meaning, and why. What they refuse holds
/// trivially (there is nothing to reach); what they grant cannot be given,
/// so a config that sets one to grant something lists it in
/// [`LinuxPolicy::unenforced`] (see [`grants_unmapped`]).
pub const UNMAPPED: [(&str, &str); 4] = [
    ("gui_access", "no Linux meaning: Linux has no WindowServer-style GUI gate; the view has no X11/Wayland socket either way"),
    ("ui.disable", "no Linux meaning: there is no WindowServer connection to refuse"),
    ("ui.clipboard", "no Linux meaning: there is no pasteboard server; clipboards are X11/Wayland clients"),
    ("extra_mach_lookups", "no Linux meaning: Mach bootstrap services do not exist on Linux"),
];

/// The config compiled for the Linux backend. Pure data: serialisable, built
/// without touching the filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinuxPolicy {
    /// Paths bound read-only at the same place inside the view (needed only
    /// where a private tmpfs would hide them; harmless elsewhere).
    pub ro_binds: Vec<String>,
    /// Paths bound read-write at the same place (the root is read-only).
    pub rw_binds: Vec<String>,
    /// Private, empty tmpfs mounts that hide the host's content.
    pub hidden: Vec<String>,
    /// Unix socket paths bound into the view so `connect(2)` can reach them.
    pub socket_binds: Vec<String>,
    /// Device nodes bound from the host `/dev` (HID devices with
    /// `ui.injection`); a trailing `*` is a prefix match.
    pub device_binds: Vec<String>,
    pub dev_shm: DevShm,
    pub pty: PtyAccess,
    pub network: NetworkMode,
    /// Syscalls (or syscall argument values) refused with `EPERM`.
    pub seccomp_deny: Vec<SeccompDeny>,
    pub landlock: LandlockRules,
    /// Keys this config sets that the Linux backend cannot enforce exactly,
    /// with why: the matrix marks their cells inconclusive.
    pub unenforced: Vec<Limitation>,
    /// Configured paths enforced under another spelling (a symlink in them
    /// was followed on the host), in config order.
    #[serde(default)]
    pub resolved: Vec<ResolvedPath>,
}

/// How configured paths are taken when compiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paths {
    /// As written (normalised only): pure, the same on every host.
    AsWritten,
    /// Every symlink followed on this host, the one that enforces.
    ResolvedOnHost,
}

/// A configured path and the path actually enforced for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedPath {
    /// The config entry, e.g. `filesystem.denied[0]`.
    pub key: String,
    pub written: String,
    pub enforced: String,
}

impl std::fmt::Display for ResolvedPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} is enforced as {} (symlinks followed on this host)",
            self.key, self.written, self.enforced
        )
    }
}

/// What `/dev/shm` (POSIX semaphores and shared memory) is inside the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DevShm {
    /// A private tmpfs the workload may create files in.
    Writable,
    /// A private tmpfs where Landlock refuses creating files (`EACCES`).
    Denied,
}

/// Whether the workload may open new pseudo-terminals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PtyAccess {
    /// `/dev/ptmx` and the view's devpts are usable.
    Available,
    /// Landlock grants nothing under `/dev/pts` (and `/dev/ptmx` resolves
    /// there): `posix_openpt` fails with `EACCES`.
    Denied,
}

/// The network the workload sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum NetworkMode {
    /// The host's network namespace.
    Shared,
    /// seccomp refuses `socket(2)` for every address family but `AF_UNIX`,
    /// and `io_uring_setup(2)` (io_uring can create sockets without the
    /// `socket` syscall). The launcher adds a network namespace only where
    /// Landlock cannot scope abstract unix sockets (ABI < 6): those are
    /// per network namespace and would otherwise reach the host's.
    Isolated,
    /// The host's network, with Landlock allowing TCP `connect` only to this
    /// port (needs Landlock ABI >= 4). The address is not restricted.
    ProxyPort { port: u16 },
}

/// One seccomp rule: the syscall (and argument) refused with `EPERM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SeccompDeny {
    /// The whole syscall, by its Linux name.
    Syscall { name: String },
    /// `socket(domain, ...)` for this domain.
    SocketDomain { domain: u64 },
    /// `socket(domain, ...)` for every domain not listed.
    SocketDomainsExcept { allowed: Vec<u64> },
    /// `ioctl(fd, request, ...)` for this request (low 32 bits compared).
    Ioctl { request: u64 },
}

/// Landlock rights inside the view. Each grant covers the whole hierarchy
/// beneath its path except the `except` subtrees, which get nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LandlockRules {
    /// Read files, list directories, execute.
    pub read: Vec<String>,
    /// Everything a workload does with files: read, write, create, remove,
    /// rename, truncate.
    pub write: Vec<String>,
    /// Read, write and ioctl on device files.
    pub device: Vec<String>,
    /// Subtrees carved out of every grant above (denied paths, `/dev/pts`).
    pub except: Vec<String>,
    /// TCP ports `connect(2)` may reach; `None`: TCP is not restricted.
    pub tcp_connect_ports: Option<Vec<u16>>,
    /// Refuse signals and abstract unix sockets across the sandbox boundary
    /// (Landlock ABI >= 6).
    pub scope_signals_and_abstract_sockets: bool,
}

/// A key whose value the Linux backend cannot enforce (exactly) here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limitation {
    pub key: String,
    pub reason: String,
}

impl LinuxPolicy {
    /// Compiles `config` for Linux. Errors name the config key and the value.
    pub fn compile(
        config: &Config,
        env: &HostEnv,
        mode: Paths,
    ) -> Result<LinuxPolicy, ConfigError> {
        let fs = &config.filesystem;
        let mut resolved = Vec::new();
        let mut list = |raw: &[String], key: &str, templates| {
            let written = paths(raw, key, env, templates)?;
            enforced(written, key, mode, &mut resolved)
        };
        let read_only = list(&fs.read_only, "filesystem.read_only", Templates::Literal)?;
        let read_write = list(&fs.read_write, "filesystem.read_write", Templates::Literal)?;
        let denied = list(&fs.denied, "filesystem.denied", Templates::Literal)?;
        let sockets = list(
            &config.unix_socket_connects,
            "unix_socket_connects",
            Templates::Expand,
        )?;
        let secrets = secrets::denied_stores(
            config.baseline,
            config.keychain_access,
            env,
            Spelling::AsMeant,
        )?;
        let secrets = enforced(secrets, secrets::KEY, mode, &mut resolved)?;
        let (hidden_secrets, secret_limits) =
            secrets::linux_excepts(&secrets, &read_only, &read_write);
        let denied = [denied, hidden_secrets].concat();
        let ipc = &config.posix_ipc;
        let dev_shm = if ipc.semaphores || ipc.shared_memory {
            DevShm::Writable
        } else {
            DevShm::Denied
        };
        let pty = if config.nested_pty {
            PtyAccess::Available
        } else {
            PtyAccess::Denied
        };
        let network = match config.network.outbound {
            Outbound::Mode(OutboundMode::Allow) => NetworkMode::Shared,
            Outbound::Mode(OutboundMode::Deny) => NetworkMode::Isolated,
            Outbound::Proxy { proxy_port } => NetworkMode::ProxyPort { port: proxy_port },
        };
        let device_binds = if config.ui.injection {
            HID_DEVICES.iter().map(|d| d.to_string()).collect()
        } else {
            Vec::new()
        };
        let landlock = landlock_rules(&read_write, &denied, dev_shm, pty, network);
        Ok(LinuxPolicy {
            ro_binds: read_only,
            rw_binds: read_write,
            hidden: PRIVATE_TMPFS.iter().map(|p| p.to_string()).collect(),
            socket_binds: sockets.clone(),
            device_binds,
            dev_shm,
            pty,
            network,
            seccomp_deny: seccomp_rules(config, network),
            landlock,
            unenforced: [
                limitations(config, &sockets_outside_private_mounts(&sockets)),
                secret_limits,
            ]
            .concat(),
            resolved,
        })
    }

    /// Keys with no Linux meaning at all, with the reason (see [`UNMAPPED`]).
    pub fn unmapped() -> Vec<Limitation> {
        UNMAPPED
            .iter()
            .map(|(key, reason)| Limitation {
                key: key.to_string(),
                reason: reason.to_string(),
            })
            .collect()
    }

    /// Why `key` (a config key path such as `posix_ipc.shared_memory`) is not
    /// enforced as this policy's config sets it, if it is not. An unmapped
    /// key counts only when set to grant something: `gui_access = false`
    /// is enforced (there is no GUI to reach), `true` cannot be.
    pub fn limitation(&self, key: &str) -> Option<String> {
        self.unenforced
            .iter()
            .find(|l| l.key == key)
            .map(|l| l.reason.clone())
    }

    /// True when a host path is invisible inside the view: it lies under a
    /// private tmpfs or the fresh `/dev` and is not bound back in. A socket
    /// the harness created at such a path reads as `ENOENT` inside.
    /// `path` must be absolute and normalised (as [`normalise`] returns).
    pub fn hides(&self, path: &str) -> bool {
        let covered = self
            .hidden
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(FRESH_DEV))
            .any(|root| is_beneath(path, root));
        covered && !self.binds().any(|bind| is_beneath(path, bind))
    }

    /// Why a `connect(2)` to the unix socket at `path` would not show this
    /// config's `unix_socket_connects`, if it would not: the socket is not
    /// listed, yet lies outside every private mount (`/tmp`, `/dev/shm`,
    /// `/dev`), so the view still shows it and the connect succeeds. Cells
    /// probing such a socket are inconclusive on Linux, never a pass.
    /// `None`: listed sockets are bound in (reachable, as configured) and
    /// unlisted ones under a private mount are hidden (`ENOENT`).
    /// `path` must be absolute and normalised (as [`normalise`] returns).
    pub fn socket_limitation(&self, path: &str) -> Option<String> {
        let listed = self.socket_binds.iter().any(|s| is_beneath(path, s));
        if listed || self.hides(path) {
            return None;
        }
        Some(format!(
            "unix socket {path} is not listed but stays reachable: only sockets under \
             /tmp, /dev/shm and /dev are hidden by the view, and Landlock refuses \
             connect(2) by path only from ABI 9 (LANDLOCK_ACCESS_FS_RESOLVE_UNIX), \
             which this backend does not use yet"
        ))
    }

    /// Every path bound back into the view (ro, rw, sockets; device patterns
    /// are left out since they name no single path).
    fn binds(&self) -> impl Iterator<Item = &str> {
        self.ro_binds
            .iter()
            .chain(&self.rw_binds)
            .chain(&self.socket_binds)
            .chain(self.device_binds.iter().filter(|d| !d.ends_with('*')))
            .map(String::as_str)
    }
}

/// True when `path` is `root` or lies beneath it (whole segments only).
pub fn is_beneath(path: &str, root: &str) -> bool {
    if root == "/" {
        return path.starts_with('/');
    }
    path == root || (path.starts_with(root) && path.as_bytes().get(root.len()) == Some(&b'/'))
}

fn paths(
    raw: &[String],
    key: &str,
    env: &HostEnv,
    templates: Templates,
) -> Result<Vec<String>, ConfigError> {
    resolve_list(raw, key, env, templates, Spelling::AsMeant)
}

/// `written` as enforced under `mode`; differences are recorded in
/// `resolved` as `key[i]`.
fn enforced(
    written: Vec<String>,
    key: &str,
    mode: Paths,
    resolved: &mut Vec<ResolvedPath>,
) -> Result<Vec<String>, ConfigError> {
    if mode == Paths::AsWritten {
        return Ok(written);
    }
    let mut out = Vec::with_capacity(written.len());
    for (i, path) in written.into_iter().enumerate() {
        let key = format!("{key}[{i}]");
        let real = follow_symlinks(&path).map_err(|message| ConfigError {
            key: key.clone(),
            message,
        })?;
        if real != path {
            resolved.push(ResolvedPath {
                key,
                written: path,
                enforced: real.clone(),
            });
        }
        out.push(real);
    }
    Ok(out)
}

fn landlock_rules(
    read_write: &[String],
    denied: &[String],
    dev_shm: DevShm,
    pty: PtyAccess,
    network: NetworkMode,
) -> LandlockRules {
    let mut write: Vec<String> = vec!["/tmp".into()];
    if dev_shm == DevShm::Writable {
        write.push("/dev/shm".into());
    }
    write.extend(read_write.iter().cloned());
    let mut except = denied.to_vec();
    if pty == PtyAccess::Denied {
        // /dev/ptmx is a symlink to pts/ptmx in a fresh /dev: carving out the
        // devpts mount covers both spellings.
        except.push("/dev/pts".into());
    }
    LandlockRules {
        read: vec!["/".into()],
        write,
        device: vec![FRESH_DEV.into()],
        except,
        tcp_connect_ports: match network {
            NetworkMode::ProxyPort { port } => Some(vec![port]),
            NetworkMode::Shared | NetworkMode::Isolated => None,
        },
        scope_signals_and_abstract_sockets: true,
    }
}

fn seccomp_rules(config: &Config, network: NetworkMode) -> Vec<SeccompDeny> {
    // TIOCSTI is refused whatever the config: the pty is shared with the
    // runner, and pushing input into it is the classic sandbox escape.
    let mut rules = vec![SeccompDeny::Ioctl {
        request: LINUX_TIOCSTI,
    }];
    if !config.keychain_access {
        for name in ["add_key", "keyctl", "request_key"] {
            rules.push(SeccompDeny::Syscall { name: name.into() });
        }
    }
    if network == NetworkMode::Isolated {
        // An allow-list, not AF_INET/AF_INET6 alone: other families reach
        // the network too (AF_SMC falls back to TCP, AF_RDS and AF_RXRPC
        // ride on TCP/UDP, AF_VSOCK talks to the hypervisor's host), and
        // netlink would show the host's interfaces and routes.
        rules.push(SeccompDeny::SocketDomainsExcept {
            allowed: vec![LINUX_AF_UNIX],
        });
        rules.push(SeccompDeny::Syscall {
            name: "io_uring_setup".into(),
        });
    }
    rules
}

/// Listed socket paths the view would show anyway (not under a private
/// mount): listing them changes nothing.
fn sockets_outside_private_mounts(sockets: &[String]) -> Vec<String> {
    sockets
        .iter()
        .filter(|s| {
            !PRIVATE_TMPFS
                .iter()
                .chain(std::iter::once(&FRESH_DEV))
                .any(|root| is_beneath(s, root))
        })
        .cloned()
        .collect()
}

/// The unmapped keys (see [`UNMAPPED`]) `config` sets to grant something.
fn grants_unmapped(config: &Config) -> impl Iterator<Item = Limitation> + '_ {
    UNMAPPED.iter().filter_map(move |(key, reason)| {
        let grants = match *key {
            "gui_access" => config.gui_access,
            "ui.disable" => !config.ui.disable,
            "ui.clipboard" => config.ui.clipboard != Clipboard::None,
            "extra_mach_lookups" => !config.extra_mach_lookups.is_empty(),
            _ => true,
        };
        grants.then(|| Limitation {
            key: key.to_string(),
            reason: format!("set to grant, but {reason}"),
        })
    })
}

fn limitations(config: &Config, reachable_sockets: &[String]) -> Vec<Limitation> {
    let mut out: Vec<Limitation> = grants_unmapped(config).collect();
    if !reachable_sockets.is_empty() {
        out.push(Limitation {
            key: "unix_socket_connects".into(),
            reason: format!(
                "{} outside /tmp, /dev/shm and /dev: reachable whether listed or not \
                 (Landlock refuses connect(2) by path only from ABI 9); see \
                 LinuxPolicy::socket_limitation",
                reachable_sockets.join(", ")
            ),
        });
    }
    let ipc = &config.posix_ipc;
    let shm_reason = "sem_open and shm_open both create files directly in /dev/shm \
        (sem.NAME vs NAME); Landlock grants per directory and seccomp cannot see \
        paths, so /dev/shm is writable whenever either key is on";
    if ipc.semaphores && !ipc.shared_memory {
        out.push(Limitation {
            key: "posix_ipc.shared_memory".into(),
            reason: shm_reason.into(),
        });
    }
    if ipc.shared_memory && !ipc.semaphores {
        out.push(Limitation {
            key: "posix_ipc.semaphores".into(),
            reason: shm_reason.into(),
        });
    }
    if let Outbound::Proxy { .. } = config.network.outbound {
        out.push(Limitation {
            key: "network.outbound".into(),
            reason: "proxy mode: Landlock limits TCP connect to the proxy port on any \
                address (not loopback only) and does not cover UDP"
                .into(),
        });
    }
    if !config.filesystem.read_only.is_empty() {
        out.push(Limitation {
            key: "filesystem.read_only".into(),
            reason: "the whole root is readable on Linux (read-only bind of /); \
                read_only only re-exposes paths under a private tmpfs"
                .into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Outbound, OutboundMode};

    fn env() -> HostEnv {
        HostEnv {
            home: Some("/home/u".into()),
            user: Some("u".into()),
            uid: 1000,
        }
    }

    fn compile(config: &Config) -> LinuxPolicy {
        LinuxPolicy::compile(config, &env(), Paths::AsWritten).expect("compiles")
    }

    #[test]
    fn defaults_isolate_network_and_keyring_and_tiocsti() {
        let p = compile(&Config::default());
        assert_eq!(p.network, NetworkMode::Isolated);
        for rule in [
            SeccompDeny::Ioctl {
                request: LINUX_TIOCSTI,
            },
            SeccompDeny::Syscall {
                name: "keyctl".into(),
            },
            SeccompDeny::SocketDomainsExcept {
                allowed: vec![LINUX_AF_UNIX],
            },
            SeccompDeny::Syscall {
                name: "io_uring_setup".into(),
            },
        ] {
            assert!(p.seccomp_deny.contains(&rule), "missing {rule:?}");
        }
    }

    #[test]
    fn keychain_and_network_allow_lift_their_rules() {
        let mut c = Config {
            keychain_access: true,
            ..Config::default()
        };
        c.network.outbound = Outbound::Mode(OutboundMode::Allow);
        let p = compile(&c);
        assert_eq!(p.network, NetworkMode::Shared);
        assert_eq!(
            p.seccomp_deny,
            vec![SeccompDeny::Ioctl {
                request: LINUX_TIOCSTI
            }]
        );
    }

    #[test]
    fn nested_pty_off_carves_out_devpts() {
        let c = Config {
            nested_pty: false,
            ..Config::default()
        };
        let p = compile(&c);
        assert_eq!(p.pty, PtyAccess::Denied);
        assert!(p.landlock.except.contains(&"/dev/pts".to_string()));
        assert!(!compile(&Config::default())
            .landlock
            .except
            .contains(&"/dev/pts".to_string()));
    }

    #[test]
    fn dev_shm_writable_when_either_ipc_key_is_on() {
        let mut c = Config::default();
        for (sem, shm, want) in [
            (false, false, DevShm::Denied),
            (true, false, DevShm::Writable),
            (false, true, DevShm::Writable),
            (true, true, DevShm::Writable),
        ] {
            c.posix_ipc.semaphores = sem;
            c.posix_ipc.shared_memory = shm;
            let p = compile(&c);
            assert_eq!(p.dev_shm, want, "sem={sem} shm={shm}");
            assert_eq!(
                p.landlock.write.contains(&"/dev/shm".to_string()),
                want == DevShm::Writable
            );
            let limited = p.limitation("posix_ipc.shared_memory").is_some()
                || p.limitation("posix_ipc.semaphores").is_some();
            assert_eq!(limited, sem != shm, "sem={sem} shm={shm}");
        }
    }

    #[test]
    fn hides_private_tmpfs_unless_bound() {
        let c = Config {
            unix_socket_connects: vec!["/tmp/ok.sock".into()],
            ..Config::default()
        };
        let p = compile(&c);
        assert!(p.hides("/tmp/other.sock"));
        assert!(p.hides("/tmp"));
        assert!(!p.hides("/tmp/ok.sock"));
        assert!(!p.hides("/tmpx/a.sock"));
        assert!(!p.hides("/run/a.sock"));
        assert!(p.hides("/dev/input/event0"));
    }

    #[test]
    fn socket_limitation_only_for_unlisted_reachable_sockets() {
        let c = Config {
            unix_socket_connects: vec!["/tmp/ok.sock".into(), "/run/ok.sock".into()],
            ..Config::default()
        };
        let p = compile(&c);
        assert_eq!(p.socket_limitation("/tmp/ok.sock"), None);
        assert_eq!(p.socket_limitation("/run/ok.sock"), None);
        assert_eq!(p.socket_limitation("/tmp/other.sock"), None);
        let reason = p.socket_limitation("/run/other.sock").expect("reachable");
        assert!(reason.contains("/run/other.sock") && reason.contains("ABI 9"));
        assert!(p
            .limitation("unix_socket_connects")
            .is_some_and(|r| r.contains("/run/ok.sock") && !r.contains("/tmp/ok.sock")));
        let under_tmp = Config {
            unix_socket_connects: vec!["/tmp/ok.sock".into()],
            ..Config::default()
        };
        assert_eq!(compile(&under_tmp).limitation("unix_socket_connects"), None);
        // A read_only bind re-exposes a hidden directory, sockets included.
        let mut c = Config::default();
        c.filesystem.read_only = vec!["/tmp/shared".into()];
        assert!(compile(&c)
            .socket_limitation("/tmp/shared/s.sock")
            .is_some());
    }

    #[test]
    fn no_private_mapping_on_linux() {
        let mut c = Config::default();
        c.filesystem.read_write = vec!["/tmp/work/".into(), "~/proj".into()];
        let p = compile(&c);
        assert_eq!(
            p.rw_binds,
            vec!["/tmp/work".to_string(), "/home/u/proj".to_string()]
        );
        assert!(p.landlock.write.contains(&"/tmp/work".to_string()));
    }

    #[test]
    fn socket_templates_expand() {
        let c = Config {
            unix_socket_connects: vec!["/run/<UID>/s.sock".into()],
            ..Config::default()
        };
        assert_eq!(
            compile(&c).socket_binds,
            vec!["/run/1000/s.sock".to_string()]
        );
    }

    #[test]
    fn bad_path_names_key() {
        let mut c = Config::default();
        c.filesystem.denied = vec!["/ok".into(), "rel/x".into()];
        let err = LinuxPolicy::compile(&c, &env(), Paths::AsWritten).unwrap_err();
        assert_eq!(err.key, "filesystem.denied[1]");
    }

    #[test]
    fn unmapped_keys_have_reasons() {
        let keys: Vec<String> = LinuxPolicy::unmapped().into_iter().map(|l| l.key).collect();
        assert_eq!(
            keys,
            [
                "gui_access",
                "ui.disable",
                "ui.clipboard",
                "extra_mach_lookups"
            ]
        );
        // Refusing is enforced (nothing to reach); granting cannot be.
        let refused = compile(&Config::default());
        for key in &keys {
            assert_eq!(refused.limitation(key), None, "{key}");
        }
        let mut granting = Config {
            gui_access: true,
            extra_mach_lookups: vec!["com.apple.x".into()],
            ..Config::default()
        };
        granting.ui.disable = false;
        granting.ui.clipboard = Clipboard::Read;
        let p = compile(&granting);
        for key in LinuxPolicy::unmapped().into_iter().map(|l| l.key) {
            let reason = p.limitation(&key).unwrap_or_else(|| panic!("{key}"));
            assert!(reason.contains("no Linux meaning"), "{reason}");
        }
        assert_eq!(p.limitation("nested_pty"), None);
    }

    #[test]
    fn proxy_limits_tcp_ports_and_is_flagged() {
        let mut c = Config::default();
        c.network.outbound = Outbound::Proxy { proxy_port: 8080 };
        let p = compile(&c);
        assert_eq!(p.network, NetworkMode::ProxyPort { port: 8080 });
        assert_eq!(p.landlock.tcp_connect_ports, Some(vec![8080]));
        assert!(p.limitation("network.outbound").is_some());
    }

    #[test]
    fn injection_binds_hid_devices() {
        let mut c = Config::default();
        assert!(compile(&c).device_binds.is_empty());
        c.ui.injection = true;
        assert_eq!(compile(&c).device_binds.len(), HID_DEVICES.len());
    }

    #[test]
    fn policy_round_trips_through_json() {
        let p = compile(&Config::default());
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<LinuxPolicy>(&json).unwrap(), p);
    }

    #[test]
    fn resolved_on_host_follows_symlinks_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("secret")).unwrap();
        std::os::unix::fs::symlink("secret", root.join("link")).unwrap();
        let r = root.to_str().unwrap();
        let mut c = Config::default();
        c.filesystem.denied = vec![format!("{r}/plain"), format!("{r}/link")];
        c.filesystem.read_write = vec![format!("{r}/link/sub")];
        let p = LinuxPolicy::compile(&c, &env(), Paths::ResolvedOnHost).unwrap();
        let secret = format!("{r}/secret");
        assert!(p.landlock.except.contains(&secret));
        assert!(!p.landlock.except.contains(&format!("{r}/link")));
        assert_eq!(p.rw_binds, vec![format!("{secret}/sub")]);
        assert_eq!(
            p.resolved,
            vec![
                ResolvedPath {
                    key: "filesystem.read_write[0]".into(),
                    written: format!("{r}/link/sub"),
                    enforced: format!("{secret}/sub"),
                },
                ResolvedPath {
                    key: "filesystem.denied[1]".into(),
                    written: format!("{r}/link"),
                    enforced: secret.clone(),
                },
            ]
        );
        // As written: no file system access, nothing resolved.
        let pure = LinuxPolicy::compile(&c, &env(), Paths::AsWritten).unwrap();
        assert!(pure.resolved.is_empty());
        assert!(pure.landlock.except.contains(&format!("{r}/link")));
    }

    #[test]
    fn is_beneath_whole_segments() {
        assert!(is_beneath("/a/b", "/a"));
        assert!(is_beneath("/a", "/a"));
        assert!(!is_beneath("/ab", "/a"));
        assert!(is_beneath("/x", "/"));
    }
}
