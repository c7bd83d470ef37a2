//! The Linux launcher: bubblewrap for the filesystem view and namespaces, and
//! our exec stage (`beltcheck-stage`) inside it for Landlock and seccomp.
//!
//! The prepared command is
//! `bwrap <view args> -- beltcheck-stage fd:N -- CMD...`, with the compiled
//! [`LinuxPolicy`] as JSON in a memfd that the session passes on as
//! descriptor `N` (see [`crate::launch::Prepared::pass_fd`]); the stage
//! reads and closes it before the exec. Not the environment: one variable
//! holds at most 128 KiB (`MAX_ARG_STRLEN`), and a policy with thousands of
//! paths is larger. Not a file: one in the host's `/tmp` would be hidden by
//! the view's private `/tmp`.
//!
//! The view binds only what the root's read-only bind does not already show
//! as the config wants (see [`binds`]): a `read_only` path outside the
//! private mounts needs no mount of its own, so a config with 10,000 of them
//! stays far below bubblewrap's 9,000-argument limit ([`BWRAP_MAX_ARGS`]).
//!
//! No `--new-session`: it would detach the workload from the pty, so the pty
//! would no longer be its controlling terminal. `TIOCSTI`, the reason
//! bubblewrap offers `--new-session`, is refused by seccomp instead.
//! `--unshare-pid` with `--die-with-parent`: when the workload exits (or
//! bwrap is killed), the kernel kills every process left in its PID
//! namespace, including `setsid` grandchildren. A session outside the
//! namespace would show the pty's foreground group as 0 inside, so the
//! spawned bwrap only calls setsid and the stage inside takes the pty as its
//! controlling terminal ([`Ctty::Stage`]): job control works there.
//! No network namespace unless it closes a hole (see [`NetNamespace`]).
//!
//! Whether bubblewrap can build a sandbox here depends on the kernel's user
//! namespace and AppArmor settings, not on the binary: nothing is checked
//! before a launch. A launch that fails before the stage ran is diagnosed
//! afterwards ([`diagnose`]).

use super::{
    Availability, Backend, CommandSpec, Ctty, LaunchError, LaunchVerdict, Launcher, Prepared,
};
use crate::channel::StageStatus;
use crate::pty::StatusChannel;
use crate::stage;
use profile::linux::{is_beneath, LinuxPolicy, NetworkMode, Paths, FRESH_DEV};
use profile::path::HostEnv;
use profile::{Config, Policy, Program};
use std::collections::HashMap;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

/// Overrides where the exec stage binary is found.
pub const STAGE_ENV: &str = "BELTCHECK_STAGE";
/// Overrides the bubblewrap binary (default: `bwrap` on `PATH`).
pub const BWRAP_ENV: &str = "BELTCHECK_BWRAP";
/// File name of the exec stage binary.
pub const STAGE_NAME: &str = "beltcheck-stage";

/// The most arguments bubblewrap accepts (`MAX_ARGS` in bubblewrap.c;
/// arguments read with `--args FD` count toward it too).
pub const BWRAP_MAX_ARGS: usize = 9000;

/// The Landlock ABI that restricts TCP ports (`network.outbound` proxy mode).
const LANDLOCK_NET_ABI: i32 = 4;

/// The Landlock ABI that scopes abstract unix sockets and signals.
const LANDLOCK_SCOPE_ABI: i32 = 6;

/// Whether the view gets a network namespace of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetNamespace {
    /// The host's: seccomp alone keeps an isolated workload off the network.
    Host,
    /// A new one (`--unshare-net`, loopback only).
    Private,
}

impl NetNamespace {
    /// Private only when outbound is denied and Landlock cannot scope
    /// abstract unix sockets (ABI < 6, or none): those live per network
    /// namespace, and without the scope the host's (D-Bus, X11,
    /// containerd) would be reachable. Otherwise seccomp's socket family
    /// allow-list (only `AF_UNIX`) plus the io_uring refusal is the whole
    /// rule, and the namespace (about 1 ms of a cell's setup, measured) is
    /// skipped.
    pub fn for_policy(policy: &LinuxPolicy, landlock_abi: Option<i32>) -> NetNamespace {
        let scoped = landlock_abi.is_some_and(|abi| abi >= LANDLOCK_SCOPE_ABI);
        if policy.network == NetworkMode::Isolated && !scoped {
            NetNamespace::Private
        } else {
            NetNamespace::Host
        }
    }
}

/// Launches workloads under bubblewrap + Landlock + seccomp.
#[derive(Debug, Default)]
pub struct LinuxLauncher {
    bwrap: Option<PathBuf>,
    stage: Option<PathBuf>,
    availability: OnceLock<Availability>,
}

impl LinuxLauncher {
    /// Finds `bwrap` and the stage from the environment ([`BWRAP_ENV`],
    /// [`STAGE_ENV`], `PATH`, the current executable's directory).
    pub fn new() -> LinuxLauncher {
        LinuxLauncher::default()
    }

    /// Uses this exec stage binary instead of looking for one.
    pub fn with_stage(mut self, stage: impl Into<PathBuf>) -> LinuxLauncher {
        self.stage = Some(stage.into());
        self
    }

    /// Uses this bubblewrap binary instead of looking for one.
    pub fn with_bwrap(mut self, bwrap: impl Into<PathBuf>) -> LinuxLauncher {
        self.bwrap = Some(bwrap.into());
        self
    }

    /// The bubblewrap binary, or why there is none.
    pub fn bwrap_path(&self) -> Result<PathBuf, String> {
        let given = self
            .bwrap
            .clone()
            .or_else(|| std::env::var_os(BWRAP_ENV).map(PathBuf::from));
        if let Some(p) = given {
            return if p.is_file() {
                Ok(p)
            } else {
                Err(format!("bwrap {} does not exist", p.display()))
            };
        }
        find_in_path("bwrap").ok_or_else(|| {
            "bwrap not found on PATH (install the bubblewrap package, or set BELTCHECK_BWRAP)"
                .to_string()
        })
    }

    /// The exec stage: the explicit one, [`STAGE_ENV`], or `beltcheck-stage`
    /// next to the current executable (or one directory up, for test
    /// binaries in `target/*/deps`).
    pub fn stage_path(&self) -> Result<PathBuf, String> {
        let candidate = match (&self.stage, std::env::var_os(STAGE_ENV)) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => PathBuf::from(p),
            (None, None) => return find_stage_near_exe(),
        };
        if candidate.is_file() {
            Ok(candidate)
        } else {
            Err(format!("exec stage {} does not exist", candidate.display()))
        }
    }

    /// The bubblewrap arguments for `policy`, up to and including the
    /// command to run inside (`stage fd:POLICY_FD -- cmd...`).
    pub fn bwrap_args(
        &self,
        policy: &LinuxPolicy,
        netns: NetNamespace,
        stage: &Path,
        policy_fd: i32,
        cmd: &CommandSpec,
    ) -> Vec<OsString> {
        let mut a = Args::default();
        a.push([
            "--die-with-parent",
            "--unshare-pid",
            "--unshare-user",
            "--unshare-ipc",
            "--cap-drop",
            "ALL",
        ]);
        // No `--proc`: /proc comes with the read-only root. Without a pid
        // namespace a fresh procfs shows the same processes, Landlock refuses
        // writes beneath /proc either way (EACCES measured with a fresh
        // one), and the host's masks over /proc stay in place.
        a.push(["--ro-bind", "/", "/", "--dev", "/dev"]);
        for hidden in &policy.hidden {
            a.push(["--tmpfs", hidden]);
        }
        if netns == NetNamespace::Private {
            a.push(["--unshare-net"]);
        }
        for (flag, path) in binds(policy) {
            a.push([flag, &path, &path]);
        }
        // The stage and the workload must be reachable inside the view.
        for exe in [stage, cmd.program.as_path()] {
            if exe.is_absolute() && policy.hides(&exe.to_string_lossy()) {
                a.push_os(["--ro-bind".into(), exe.into(), exe.into()]);
            }
        }
        a.push(["--"]);
        a.push_os([stage.into(), format!("fd:{policy_fd}").into(), "--".into()]);
        a.push_os([cmd.program.clone().into_os_string()]);
        a.push_os(cmd.args.iter().cloned());
        a.0
    }

    fn probe_availability(&self) -> Availability {
        let unavailable = |reason: String| Availability::Unavailable { reason };
        let bwrap = match self.bwrap_path() {
            Ok(b) => b,
            Err(reason) => return unavailable(reason),
        };
        if let Err(reason) = self.stage_path() {
            return unavailable(reason);
        }
        let version = match bwrap_version(&bwrap) {
            Ok(v) => v,
            Err(reason) => return unavailable(reason),
        };
        if let Err(reason) = smoke_test(&bwrap) {
            return unavailable(reason);
        }
        match stage::landlock_abi() {
            Ok(abi) => Availability::Enforcing {
                detail: format!(
                    "{version}; landlock abi {abi}; seccomp; kernel {}",
                    kernel_release().unwrap_or_else(|| "unknown".into())
                ),
            },
            Err(e) => unavailable(format!(
                "Landlock unavailable ({e}): filesystem, pty and /dev/shm rules cannot be enforced"
            )),
        }
    }
}

impl Launcher for LinuxLauncher {
    fn backend(&self) -> Backend {
        Backend::Linux
    }

    fn availability(&self) -> Availability {
        self.availability
            .get_or_init(|| self.probe_availability())
            .clone()
    }

    /// The Linux policy for `config`, its paths resolved on this host (every
    /// symlink followed: Landlock and bind mounts act on the target).
    fn compile(&self, config: &Config, _program: Option<Program>) -> Result<Policy, LaunchError> {
        LinuxPolicy::compile(config, &HostEnv::current(), Paths::ResolvedOnHost)
            .map(|p| Policy::Linux(Box::new(p)))
            .map_err(|e| LaunchError::Config {
                message: e.to_string(),
            })
    }

    fn prepare(&self, policy: &Policy, cmd: &CommandSpec) -> Result<Prepared, LaunchError> {
        let Policy::Linux(policy) = policy else {
            return Err(LaunchError::wrong_policy(Backend::Linux, policy));
        };
        if let NetworkMode::ProxyPort { port } = policy.network {
            let abi = stage::landlock_abi().unwrap_or(0);
            if abi < LANDLOCK_NET_ABI {
                return Err(LaunchError::Config {
                    message: format!(
                        "network.outbound proxy_port {port}: needs Landlock ABI >= {LANDLOCK_NET_ABI}, kernel has {abi}"
                    ),
                });
            }
        }
        let netns = NetNamespace::for_policy(policy, stage::landlock_abi().ok());
        let unavailable = |reason| LaunchError::Unavailable { reason };
        let bwrap = self.bwrap_path().map_err(unavailable)?;
        let stage = self.stage_path().map_err(unavailable)?;
        let json = serde_json::to_vec(policy).map_err(|e| LaunchError::Io {
            message: format!("cannot serialise policy: {e}"),
        })?;
        let policy_fd = policy_memfd(&json).map_err(|e| LaunchError::Io {
            message: format!("cannot pass the policy to the exec stage: {e}"),
        })?;
        let args = self.bwrap_args(policy, netns, &stage, policy_fd.as_raw_fd(), cmd);
        if args.len() > BWRAP_MAX_ARGS {
            return Err(LaunchError::Config {
                message: too_many_args(args.len(), binds(policy).len()),
            });
        }
        Ok(Prepared {
            command: CommandSpec {
                program: bwrap,
                args,
            },
            env: Vec::new(),
            status: StatusChannel::FromStage,
            ctty: Ctty::Stage,
            pass_fd: Some(Arc::new(policy_fd)),
            keep_alive: Vec::new(),
        })
    }

    /// The stage's status decides. Without one, bwrap failed before the
    /// stage ran: its own `bwrap: ...` line (or its exit status) is the
    /// message, and [`diagnose`] says whether the host cannot build a
    /// sandbox at all (user namespaces, AppArmor) or this one was refused.
    fn classify(
        &self,
        cmd: &CommandSpec,
        stage: &StageStatus,
        code: i32,
        output: &[u8],
    ) -> LaunchVerdict {
        if let Some(verdict) = super::stage_verdict(cmd, stage) {
            return verdict;
        }
        let text = String::from_utf8_lossy(output);
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("bwrap:"))
            .map(str::to_string);
        let message = line
            .clone()
            .unwrap_or_else(|| format!("bwrap exited {code} before the exec stage ran"));
        match diagnose(line.as_deref(), &HostSettings::read()) {
            Some(why) => LaunchVerdict::Unavailable {
                reason: format!("{message}: {why}"),
            },
            None => LaunchVerdict::ProfileError { message },
        }
    }
}

/// The kernel settings that decide whether an unprivileged process may
/// create user namespaces, read when a launch failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSettings {
    /// `user.max_user_namespaces`.
    pub max_user_namespaces: Option<u64>,
    /// `kernel.unprivileged_userns_clone` (Debian and Ubuntu kernels).
    pub unprivileged_userns_clone: Option<u64>,
    /// `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu 23.10 and later).
    pub apparmor_restrict_unprivileged_userns: Option<u64>,
    /// Whether this process runs as root (the two settings above do not
    /// restrict root).
    pub root: bool,
}

impl HostSettings {
    pub fn read() -> HostSettings {
        let read = |name: &str| {
            std::fs::read_to_string(format!("/proc/sys/{name}"))
                .ok()
                .and_then(|s| s.trim().parse().ok())
        };
        HostSettings {
            max_user_namespaces: read("user/max_user_namespaces"),
            unprivileged_userns_clone: read("kernel/unprivileged_userns_clone"),
            apparmor_restrict_unprivileged_userns: read(
                "kernel/apparmor_restrict_unprivileged_userns",
            ),
            // SAFETY: geteuid has no preconditions.
            root: unsafe { libc::geteuid() } == 0,
        }
    }
}

/// Why bubblewrap cannot build a sandbox on this host, when that is why it
/// failed (`bwrap_line`: its `bwrap: ...` message, if any): the settings
/// that forbid user namespaces, or a message about namespaces whose cause
/// the settings do not show. `None`: bubblewrap refused this sandbox (e.g.
/// a mount), not every sandbox.
pub fn diagnose(bwrap_line: Option<&str>, host: &HostSettings) -> Option<String> {
    const FIX: &str = "bubblewrap needs unprivileged user namespaces";
    if host.max_user_namespaces == Some(0) {
        return Some(format!(
            "user namespaces are off (user.max_user_namespaces = 0); {FIX}"
        ));
    }
    if !host.root && host.unprivileged_userns_clone == Some(0) {
        return Some(format!(
            "unprivileged user namespaces are off (kernel.unprivileged_userns_clone = 0); {FIX}"
        ));
    }
    let line = bwrap_line.unwrap_or_default().to_ascii_lowercase();
    let about_namespaces = ["namespace", "uid map", "gid map", "setgroups"]
        .iter()
        .any(|w| line.contains(w));
    if !host.root && host.apparmor_restrict_unprivileged_userns == Some(1) && about_namespaces {
        return Some(format!(
            "AppArmor restricts unprivileged user namespaces \
             (kernel.apparmor_restrict_unprivileged_userns = 1) and has no profile allowing \
             them for this bwrap; {FIX}"
        ));
    }
    about_namespaces.then(|| format!("bubblewrap cannot create its namespaces here; {FIX}"))
}

/// Host identity for reports: kernel release, Landlock ABI, bubblewrap
/// version, user namespace limit. Values that cannot be read say why.
pub fn host_facts() -> Vec<(String, String)> {
    let launcher = LinuxLauncher::new();
    let bwrap = launcher
        .bwrap_path()
        .and_then(|b| bwrap_version(&b))
        .unwrap_or_else(|e| format!("unavailable: {e}"));
    let landlock = match stage::landlock_abi() {
        Ok(abi) => abi.to_string(),
        Err(e) => format!("unavailable: {e}"),
    };
    let userns = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|e| format!("unknown: {e}"));
    vec![
        (
            "kernel_release".into(),
            kernel_release().unwrap_or_else(|| "unknown".into()),
        ),
        ("landlock_abi".into(), landlock),
        ("bwrap_version".into(), bwrap),
        ("max_user_namespaces".into(), userns),
    ]
}

/// `uname -r`.
pub fn kernel_release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_string())
}

/// `bwrap --version`, e.g. `bubblewrap 0.8.0`.
pub fn bwrap_version(bwrap: &Path) -> Result<String, String> {
    let out = Command::new(bwrap)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bwrap.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} --version failed: {}",
            bwrap.display(),
            out.status
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs the smallest sandbox we build (a user namespace and the read-only
/// root); its stderr is the reason when that fails, e.g. user namespaces off.
fn smoke_test(bwrap: &Path) -> Result<(), String> {
    let out = Command::new(bwrap)
        .args([
            "--unshare-user",
            "--cap-drop",
            "ALL",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "true",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bwrap.display()))?;
    if out.status.success() {
        return Ok(());
    }
    let userns = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    let hint = if userns.trim() == "0" {
        " (user.max_user_namespaces is 0)"
    } else {
        ""
    };
    Err(format!(
        "bwrap cannot create a sandbox here{hint}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

/// Why a command line is over bubblewrap's limit, naming what to change.
fn too_many_args(args: usize, binds: usize) -> String {
    format!(
        "the sandbox needs {args} bubblewrap arguments ({binds} bind mounts: every \
         filesystem.read_write path, and every filesystem.read_only or \
         unix_socket_connects path under /tmp, /dev/shm or /dev), more than \
         bubblewrap accepts ({BWRAP_MAX_ARGS}): list a common parent directory instead"
    )
}

/// The policy JSON in an anonymous memory file (close-on-exec here; the
/// session keeps it open across the exec as the one passed descriptor),
/// above stdio so the child's stdio cannot take its number.
#[cfg(target_os = "linux")]
fn policy_memfd(json: &[u8]) -> std::io::Result<OwnedFd> {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    // SAFETY: memfd_create with a NUL-terminated name; the result is a new
    // descriptor we own, or -1.
    let raw = unsafe { libc::memfd_create(c"beltcheck-policy".as_ptr(), libc::MFD_CLOEXEC) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `raw` was just returned to us and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let fd = if raw <= 2 {
        // SAFETY: F_DUPFD_CLOEXEC on a valid descriptor returns a new one we
        // own, or -1.
        let moved = unsafe { libc::fcntl(raw, libc::F_DUPFD_CLOEXEC, 3) };
        if moved < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: as above.
        unsafe { OwnedFd::from_raw_fd(moved) }
    } else {
        fd
    };
    let mut file = std::fs::File::from(fd);
    file.write_all(json)?;
    Ok(file.into())
}

/// The Linux backend runs only on Linux.
#[cfg(not(target_os = "linux"))]
fn policy_memfd(_json: &[u8]) -> std::io::Result<OwnedFd> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// How a path is mounted in the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mount {
    /// The root's read-only bind, or a `--ro-bind-try`.
    ReadOnly,
    /// `--bind-try` (read-write paths and listed sockets).
    ReadWrite,
    /// `--dev-bind-try` (device nodes).
    Device,
    /// A private tmpfs, or the fresh `/dev`: hides the host's content.
    Hiding,
}

impl Mount {
    fn flag(self) -> &'static str {
        match self {
            Mount::ReadOnly => "--ro-bind-try",
            Mount::ReadWrite => "--bind-try",
            Mount::Device => "--dev-bind-try",
            Mount::Hiding => "--tmpfs",
        }
    }
}

/// The `--*-bind-try` arguments, parents before children so a nested bind
/// is not covered by its parent's. A path whose nearest enclosing mount
/// already shows it the way its bind would (a `read_only` path under the
/// root's read-only bind, a path under a bind of the same kind) gets none:
/// Landlock and the enclosing mount already enforce it, and each bind costs
/// three of bubblewrap's [`BWRAP_MAX_ARGS`] arguments and a mount.
fn binds(policy: &LinuxPolicy) -> Vec<(&'static str, String)> {
    let mut wanted: Vec<(Mount, String)> = Vec::new();
    wanted.extend(policy.ro_binds.iter().map(|p| (Mount::ReadOnly, p.clone())));
    wanted.extend(
        policy
            .rw_binds
            .iter()
            .map(|p| (Mount::ReadWrite, p.clone())),
    );
    wanted.extend(
        policy
            .socket_binds
            .iter()
            .map(|p| (Mount::ReadWrite, p.clone())),
    );
    wanted.extend(
        expand_devices(&policy.device_binds)
            .into_iter()
            .map(|p| (Mount::Device, p)),
    );
    wanted.sort_by_key(|(_, p)| p.matches('/').count());
    let mut mounted: HashMap<String, Mount> = HashMap::new();
    mounted.insert("/".into(), Mount::ReadOnly);
    for hidden in policy.hidden.iter().map(String::as_str).chain([FRESH_DEV]) {
        mounted.insert(hidden.into(), Mount::Hiding);
    }
    let mut out = Vec::new();
    for (kind, path) in wanted {
        let enclosing = Path::new(&path)
            .ancestors()
            .find_map(|a| mounted.get(a.to_str().unwrap_or("/")).copied());
        if enclosing == Some(kind) {
            continue;
        }
        mounted.insert(path.clone(), kind);
        out.push((kind.flag(), path));
    }
    out
}

/// Expands `/dev/hidraw*`-style patterns against the host's `/dev`.
fn expand_devices(patterns: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for pattern in patterns {
        let Some(prefix) = pattern.strip_suffix('*') else {
            out.push(pattern.clone());
            continue;
        };
        let dir = Path::new(prefix).parent().unwrap_or(Path::new("/"));
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path().to_string_lossy().into_owned();
            if path.starts_with(prefix) && is_beneath(&path, "/dev") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn find_stage_near_exe() -> Result<PathBuf, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot locate current executable: {e}"))?;
    let dir = exe.parent().unwrap_or(Path::new("/"));
    let candidates = [
        dir.join(STAGE_NAME),
        dir.parent().unwrap_or(dir).join(STAGE_NAME),
    ];
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        format!(
            "exec stage {STAGE_NAME} not found next to {} (build it with `cargo build -p beltcheck-runner --bins`, or set {STAGE_ENV})",
            exe.display()
        )
    })
}

/// Argument list builder.
#[derive(Default)]
struct Args(Vec<OsString>);

impl Args {
    fn push<const N: usize>(&mut self, items: [&str; N]) {
        self.0.extend(items.iter().map(OsString::from));
    }

    fn push_os(&mut self, items: impl IntoIterator<Item = OsString>) {
        self.0.extend(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use profile::Config;

    fn args_for(config: &Config, landlock_abi: Option<i32>) -> Vec<String> {
        let policy = LinuxPolicy::compile(config, &HostEnv::current(), Paths::AsWritten).unwrap();
        let netns = NetNamespace::for_policy(&policy, landlock_abi);
        let cmd = CommandSpec {
            program: "/bin/true".into(),
            args: vec!["x".into()],
        };
        LinuxLauncher::new()
            .bwrap_args(&policy, netns, Path::new("/opt/stage"), 9, &cmd)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn network_namespace_only_without_landlock_scopes() {
        let net = "--unshare-net".to_string();
        assert!(!args_for(&Config::default(), Some(6)).contains(&net));
        assert!(args_for(&Config::default(), Some(5)).contains(&net));
        assert!(args_for(&Config::default(), None).contains(&net));
        let mut allow = Config::default();
        allow.network.outbound =
            profile::config::Outbound::Mode(profile::config::OutboundMode::Allow);
        assert!(!args_for(&allow, None).contains(&net));
    }

    #[test]
    fn default_config_never_new_session() {
        let a = args_for(&Config::default(), Some(7));
        assert!(!a.contains(&"--new-session".to_string()));
        assert!(a.contains(&"--unshare-pid".to_string()));
        let tail: Vec<&str> = a.iter().rev().take(5).rev().map(String::as_str).collect();
        assert_eq!(tail, ["/opt/stage", "fd:9", "--", "/bin/true", "x"]);
    }

    #[test]
    fn socket_under_tmp_is_bound_after_the_tmpfs() {
        let c = Config {
            unix_socket_connects: vec!["/tmp/s.sock".into()],
            ..Config::default()
        };
        let a = args_for(&c, Some(7));
        let tmpfs = a.windows(2).position(|w| w == ["--tmpfs", "/tmp"]).unwrap();
        let bind = a.iter().position(|x| x == "/tmp/s.sock").unwrap();
        assert!(bind > tmpfs);
        assert_eq!(a[bind - 1], "--bind-try");
    }

    #[test]
    fn read_only_paths_are_bound_only_where_the_root_bind_does_not_show_them() {
        let mut c = Config::default();
        c.filesystem.read_write = vec!["/w".into(), "/tmp/w".into()];
        c.filesystem.read_only = (0..10_000)
            .map(|i| format!("/srv/data/f{i}"))
            .chain([
                "/tmp/ro".into(),
                "/tmp/ro/deeper".into(),
                "/w/ro".into(),
                "/w/ro/again".into(),
                "/tmp/w/ro".into(),
            ])
            .collect();
        let a = args_for(&c, Some(7));
        let bound = |flag: &str| -> Vec<String> {
            a.windows(2)
                .filter(|w| w[0] == flag)
                .map(|w| w[1].clone())
                .collect()
        };
        // Outside the private mounts the read-only root shows them already;
        // nested under a bind of the same kind they are shown too.
        assert_eq!(bound("--ro-bind-try"), ["/tmp/ro", "/w/ro", "/tmp/w/ro"]);
        assert_eq!(bound("--bind-try"), ["/w", "/tmp/w"]);
        assert!(a.len() < 100, "{} arguments", a.len());
    }

    #[test]
    fn binds_over_the_limit_are_a_config_error_naming_the_keys() {
        let mut c = Config::default();
        c.filesystem.read_write = (0..3_000).map(|i| format!("/srv/w{i}")).collect();
        let launcher = LinuxLauncher::new()
            .with_stage("/bin/true")
            .with_bwrap("/bin/true");
        let policy = Policy::Linux(Box::new(
            LinuxPolicy::compile(&c, &HostEnv::current(), Paths::AsWritten).unwrap(),
        ));
        let cmd = CommandSpec {
            program: "/bin/true".into(),
            args: Vec::new(),
        };
        match launcher.prepare(&policy, &cmd) {
            Err(LaunchError::Config { message }) => {
                assert!(message.contains("filesystem.read_write"), "{message}");
                assert!(message.contains("9000"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn diagnosis_names_the_setting_that_forbids_namespaces() {
        let host = HostSettings {
            max_user_namespaces: Some(15000),
            unprivileged_userns_clone: Some(1),
            apparmor_restrict_unprivileged_userns: Some(0),
            root: false,
        };
        assert_eq!(
            diagnose(Some("bwrap: Can't mount tmpfs on /newroot/x"), &host),
            None
        );
        let off = HostSettings {
            max_user_namespaces: Some(0),
            ..host.clone()
        };
        assert!(diagnose(None, &off)
            .unwrap()
            .contains("user.max_user_namespaces = 0"));
        let debian = HostSettings {
            unprivileged_userns_clone: Some(0),
            ..host.clone()
        };
        assert!(diagnose(None, &debian)
            .unwrap()
            .contains("kernel.unprivileged_userns_clone = 0"));
        let apparmor = HostSettings {
            apparmor_restrict_unprivileged_userns: Some(1),
            ..host.clone()
        };
        let line = "bwrap: setting up uid map: Permission denied";
        assert!(diagnose(Some(line), &apparmor)
            .unwrap()
            .contains("AppArmor"));
        assert!(diagnose(Some(line), &host)
            .unwrap()
            .contains("cannot create its namespaces"));
        // Root is not bound by the unprivileged settings.
        let root = HostSettings {
            root: true,
            ..debian
        };
        assert_eq!(diagnose(Some("bwrap: Can't mount"), &root), None);
    }

    #[test]
    fn classify_reads_the_stage_status_not_the_output() {
        let l = LinuxLauncher::new();
        let cmd = CommandSpec {
            program: "/bin/x".into(),
            args: Vec::new(),
        };
        let started = StageStatus::Started;
        // Whatever the workload prints, once the stage started it is the
        // workload's result.
        assert_eq!(
            l.classify(&cmd, &started, 1, b"bwrap: x\n"),
            LaunchVerdict::Enforced
        );
        assert_eq!(
            l.classify(&cmd, &started, 125, b"beltcheck-stage: y\n"),
            LaunchVerdict::Enforced
        );
        let failed = StageStatus::Failed {
            message: "landlock: boom".into(),
        };
        assert!(matches!(
            l.classify(&cmd, &failed, 125, b""),
            LaunchVerdict::ProfileError { message } if message.contains("landlock: boom")
        ));
        assert!(matches!(
            l.classify(&cmd, &StageStatus::ExecFailed { errno: libc::ENOENT }, 127, b""),
            LaunchVerdict::ExecFailed(f) if f.exit_code() == 127
        ));
        // No stage record: bwrap's own message.
        assert_eq!(
            l.classify(&cmd, &StageStatus::NotReached, 1, b"bwrap: Can't mount\n"),
            LaunchVerdict::ProfileError {
                message: "bwrap: Can't mount".into()
            }
        );
        assert!(matches!(
            l.classify(&cmd, &StageStatus::NotReached, 1, b""),
            LaunchVerdict::ProfileError { message } if message.contains("exited 1")
        ));
    }
}
