//! The Linux launcher: bubblewrap for the filesystem view and namespaces, and
//! our exec stage (`beltcheck-stage`) inside it for Landlock and seccomp.
//!
//! The prepared command is
//! `bwrap <view args> -- beltcheck-stage env:BELTCHECK_POLICY -- CMD...`,
//! with the compiled [`LinuxPolicy`] as JSON in `BELTCHECK_POLICY` (the stage
//! removes it before the exec). The policy travels in the environment
//! because a policy file in the host's `/tmp` would be hidden by the view's
//! private `/tmp`.
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

use super::{
    Availability, Backend, CommandSpec, Ctty, LaunchError, LaunchVerdict, Launcher, Prepared,
};
use crate::channel::StageStatus;
use crate::pty::StatusChannel;
use crate::stage;
use profile::linux::{is_beneath, LinuxPolicy, NetworkMode, Paths};
use profile::path::HostEnv;
use profile::{Config, Policy, Program};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Overrides where the exec stage binary is found.
pub const STAGE_ENV: &str = "BELTCHECK_STAGE";
/// Overrides the bubblewrap binary (default: `bwrap` on `PATH`).
pub const BWRAP_ENV: &str = "BELTCHECK_BWRAP";
/// File name of the exec stage binary.
pub const STAGE_NAME: &str = "beltcheck-stage";

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
        if let Some(p) = &self.bwrap {
            return Ok(p.clone());
        }
        if let Some(p) = std::env::var_os(BWRAP_ENV) {
            return Ok(PathBuf::from(p));
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
    /// command to run inside (`stage env:BELTCHECK_POLICY -- cmd...`).
    pub fn bwrap_args(
        &self,
        policy: &LinuxPolicy,
        netns: NetNamespace,
        stage: &Path,
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
        a.push_os([
            stage.into(),
            format!("env:{}", stage::POLICY_ENV).into(),
            "--".into(),
        ]);
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
        let json = serde_json::to_string(policy).map_err(|e| LaunchError::Io {
            message: format!("cannot serialise policy: {e}"),
        })?;
        Ok(Prepared {
            command: CommandSpec {
                program: bwrap,
                args: self.bwrap_args(policy, netns, &stage, cmd),
            },
            env: vec![(stage::POLICY_ENV.into(), json.into())],
            status: StatusChannel::FromStage,
            ctty: Ctty::Stage,
            keep_alive: Vec::new(),
        })
    }

    /// The stage's status decides. Without one, bwrap failed before the
    /// stage ran: its own `bwrap: ...` line (or its exit status) is the
    /// message.
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
        let message = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("bwrap:"))
            .map(str::to_string)
            .unwrap_or_else(|| format!("bwrap exited {code} before the exec stage ran"));
        LaunchVerdict::ProfileError { message }
    }
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

/// The `--*-bind-try` arguments, parents before children so a nested bind
/// is not covered by its parent's.
fn binds(policy: &LinuxPolicy) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    out.extend(policy.ro_binds.iter().map(|p| ("--ro-bind-try", p.clone())));
    out.extend(policy.rw_binds.iter().map(|p| ("--bind-try", p.clone())));
    out.extend(
        policy
            .socket_binds
            .iter()
            .map(|p| ("--bind-try", p.clone())),
    );
    out.extend(
        expand_devices(&policy.device_binds)
            .into_iter()
            .map(|p| ("--dev-bind-try", p)),
    );
    out.sort_by_key(|(_, p)| p.matches('/').count());
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
            .bwrap_args(&policy, netns, Path::new("/opt/stage"), &cmd)
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
        assert_eq!(
            tail,
            ["/opt/stage", "env:BELTCHECK_POLICY", "--", "/bin/true", "x"]
        );
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
