//! The exec stage: the last step inside every sandbox before the workload.
//! Under bubblewrap it applies the Landlock and seccomp parts of a
//! [`LinuxPolicy`] to itself; under `sandbox-exec` there is nothing left to
//! apply. In both it takes the pty as controlling terminal when nobody has
//! (inside bwrap's PID namespace), reports on the status channel (see
//! [`crate::channel`]) and execs the workload.
//!
//! Restrictions are applied here, in a process of our own inside the
//! sandbox, and never in the runner: Landlock domains and seccomp filters are
//! inherited by every later child and cannot be lifted, so applying them in
//! the runner would sandbox the harness itself.
//!
//! Invocation: `beltcheck-stage POLICY -- CMD [ARGS...]`, where POLICY is a
//! path to the policy JSON or `fd:N` (the JSON is read from inherited
//! descriptor `N`, from offset 0, and the descriptor is closed before the
//! exec), or `beltcheck-stage -- CMD [ARGS...]` with no policy to apply.
//! The Linux launcher passes a memfd: neither the environment (one string
//! is at most 128 KiB, `MAX_ARG_STRLEN`) nor the command line (bubblewrap
//! takes 9,000 arguments) holds a policy with thousands of paths, and a
//! file in the host's `/tmp` would be hidden by the view's private `/tmp`.
//!
//! Exit codes when the workload never runs: [`FAILURE_EXIT`] (125) when the
//! sandbox could not be applied, 127 when the command was not found, 126 when
//! it could not be executed.

use profile::linux::LinuxPolicy;
use std::ffi::OsString;
use std::fmt;
use std::os::fd::RawFd;
use std::path::PathBuf;

/// The most policy JSON the stage reads (a policy with 10,000 paths is
/// well under 2 MiB).
pub const POLICY_CAP: u64 = 64 * 1024 * 1024;

/// Set for the workload: what the stage applied, e.g.
/// `landlock=fully_enforced abi=7; seccomp=6 rules`.
pub const STATUS_ENV: &str = "BELTCHECK_STAGE_STATUS";

/// Every message the stage prints starts with this, so a launch failure can be
/// told from the workload's own output.
pub const MESSAGE_PREFIX: &str = "beltcheck-stage:";

/// Exit code of the stage when it could not apply the policy.
pub const FAILURE_EXIT: i32 = 125;

/// Where the stage reads its policy from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    File(PathBuf),
    /// An inherited descriptor (`fd:N`), read from offset 0 and closed.
    Fd(RawFd),
}

/// A parsed stage command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageArgs {
    /// `None`: nothing to apply (the sandbox is already in place).
    pub policy: Option<PolicySource>,
    pub program: OsString,
    pub args: Vec<OsString>,
}

/// Why the stage could not do its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageError {
    pub message: String,
}

impl fmt::Display for StageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{MESSAGE_PREFIX} {}", self.message)
    }
}

impl std::error::Error for StageError {}

fn err(message: impl Into<String>) -> StageError {
    StageError {
        message: message.into(),
    }
}

/// Parses `[POLICY] -- CMD [ARGS...]` (the program name already removed).
pub fn parse_args(mut argv: Vec<OsString>) -> Result<StageArgs, StageError> {
    const USAGE: &str = "usage: beltcheck-stage [POLICY_FILE|fd:N] -- CMD [ARGS...]";
    let policy = if argv.first().is_some_and(|a| a == "--") {
        argv.remove(0);
        None
    } else {
        if argv.len() < 3 || argv[1] != "--" {
            return Err(err(USAGE));
        }
        let rest = argv.split_off(2);
        let raw = argv.swap_remove(0);
        argv = rest;
        Some(match raw.to_str().and_then(|s| s.strip_prefix("fd:")) {
            Some(n) => match n.parse::<RawFd>() {
                Ok(fd) if fd > 2 => PolicySource::Fd(fd),
                _ => {
                    return Err(err(format!(
                        "policy source {raw:?}: expected fd:N with N a descriptor above 2"
                    )))
                }
            },
            None => PolicySource::File(PathBuf::from(raw)),
        })
    };
    let mut rest = argv.into_iter();
    let program = rest.next().ok_or_else(|| err(USAGE))?;
    Ok(StageArgs {
        policy,
        program,
        args: rest.collect(),
    })
}

/// Reads and parses the policy; a descriptor source is closed here, so it
/// never reaches the workload.
pub fn load_policy(source: &PolicySource) -> Result<LinuxPolicy, StageError> {
    let (text, origin) = match source {
        PolicySource::File(path) => (
            std::fs::read(path)
                .map_err(|e| err(format!("cannot read policy file {}: {e}", path.display())))?,
            path.display().to_string(),
        ),
        PolicySource::Fd(fd) => (
            read_fd(*fd).map_err(|e| err(format!("cannot read policy from fd {fd}: {e}")))?,
            format!("fd {fd}"),
        ),
    };
    serde_json::from_slice(&text).map_err(|e| err(format!("bad policy in {origin}: {e}")))
}

/// Everything in inherited descriptor `fd` from offset 0 (the launcher's
/// memfd shares its offset with the runner), at most [`POLICY_CAP`] bytes;
/// the descriptor is closed.
fn read_fd(fd: RawFd) -> std::io::Result<Vec<u8>> {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::fs::FileExt;
    // A descriptor that is not open would make the owner's close fail (an
    // IO-safety abort): name the bad source instead.
    // SAFETY: F_GETFD only queries the descriptor table.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd:N` names a descriptor the launcher passed to this process
    // alone (it is open, checked above); nothing else here owns or closes it.
    let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let mut out = Vec::new();
    let mut offset = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read_at(&mut buf, offset)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        offset += n as u64;
        if offset > POLICY_CAP {
            return Err(std::io::Error::other(format!(
                "more than {POLICY_CAP} bytes"
            )));
        }
    }
    Ok(out)
}

/// The kernel's Landlock ABI version, or why there is none (`ENOSYS`: not
/// built in, `EOPNOTSUPP`: disabled at boot).
pub fn landlock_abi() -> Result<i32, std::io::Error> {
    #[cfg(target_os = "linux")]
    {
        const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
        // SAFETY: with a NULL attr, size 0 and the VERSION flag the syscall
        // only returns the ABI number; it reads and writes no memory.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<libc::c_void>(),
                0usize,
                LANDLOCK_CREATE_RULESET_VERSION,
            )
        };
        if ret < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(ret as i32)
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
    }
}

/// What [`apply`] put in place, for [`STATUS_ENV`] and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// `fully_enforced`, `partially_enforced` or `not_enforced`.
    pub landlock: String,
    pub landlock_abi: Option<i32>,
    pub landlock_rules: usize,
    pub seccomp_rules: usize,
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abi = self
            .landlock_abi
            .map_or("none".to_string(), |a| a.to_string());
        write!(
            f,
            "landlock={} abi={abi} rules={}; seccomp={} rules",
            self.landlock, self.landlock_rules, self.seccomp_rules
        )
    }
}

/// Applies Landlock (best effort, ABI reported) and then seccomp to the
/// calling process. Irreversible: call it only in the stage, right before
/// exec.
pub fn apply(policy: &LinuxPolicy) -> Result<Applied, StageError> {
    #[cfg(target_os = "linux")]
    {
        let (landlock, landlock_rules) = imp::apply_landlock(&policy.landlock)?;
        let seccomp_rules = imp::apply_seccomp(&policy.seccomp_deny)?;
        Ok(Applied {
            landlock,
            landlock_abi: landlock_abi().ok(),
            landlock_rules,
            seccomp_rules,
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = policy;
        Err(err("the exec stage only runs on Linux"))
    }
}

/// Takes the pty as controlling terminal when this process has none (the
/// spawner left it to us: inside a PID namespace the session outside is
/// invisible, so job control needs one inside). The pty is the first of
/// stdin, stdout, stderr that is a terminal, or, when every stream is piped,
/// the descriptor the spawner named in `BELTCHECK_CTTY_FD` (closed here once
/// claimed, so it never reaches the workload). A new session, then
/// `TIOCSCTTY`; nothing when there is no terminal or it already is ours.
pub fn claim_terminal() -> Result<(), StageError> {
    let passed = std::env::var(crate::pty::CTTY_FD_ENV)
        .ok()
        .and_then(|v| v.parse::<libc::c_int>().ok());
    std::env::remove_var(crate::pty::CTTY_FD_ENV);
    // SAFETY: isatty on descriptor numbers.
    let tty = [libc::STDIN_FILENO, libc::STDOUT_FILENO, libc::STDERR_FILENO]
        .into_iter()
        .chain(passed)
        .find(|&fd| unsafe { libc::isatty(fd) } == 1);
    let result = tty.map_or(Ok(()), take_as_controlling);
    if let Some(fd) = passed.filter(|&fd| fd > 2) {
        // SAFETY: the spawner handed this descriptor to us alone.
        unsafe { libc::close(fd) };
    }
    result
}

fn take_as_controlling(fd: libc::c_int) -> Result<(), StageError> {
    // SAFETY: tcgetsid/setsid/ioctl on a terminal descriptor and this
    // process only.
    unsafe {
        if libc::tcgetsid(fd) >= 0 {
            return Ok(());
        }
        // Fails only when we already lead a group; TIOCSCTTY then says
        // whether that matters.
        libc::setsid();
        if libc::ioctl(fd, libc::TIOCSCTTY as _, 0) < 0 {
            let e = std::io::Error::last_os_error();
            return Err(err(format!(
                "cannot take the pty as controlling terminal: {e}"
            )));
        }
    }
    Ok(())
}

/// Expands a grant into the paths that carry its rule, leaving out every
/// `except` subtree: a grant with an except beneath it is replaced by its
/// directory entries, recursively. Landlock only ever adds rights beneath a
/// rule, so this is how a hole is cut. Symlinks are skipped (Landlock checks
/// the resolved target); excepts that do not exist in the view are ignored.
/// Entries created after this runs, next to a carved-out path, get no rule.
pub fn carve(grant: &std::path::Path, except: &[PathBuf]) -> Vec<PathBuf> {
    if except.iter().any(|e| grant.starts_with(e)) {
        return Vec::new();
    }
    let inner: Vec<&PathBuf> = except
        .iter()
        .filter(|e| e.starts_with(grant) && std::fs::symlink_metadata(e).is_ok())
        .collect();
    if inner.is_empty() {
        return vec![grant.to_path_buf()];
    }
    let Ok(entries) = std::fs::read_dir(grant) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let is_link = entry.file_type().map(|t| t.is_symlink()).unwrap_or(true);
        if !is_link {
            out.extend(carve(&entry.path(), except));
        }
    }
    out
}

#[cfg(target_os = "linux")]
mod imp {
    use super::{carve, err, StageError};
    use landlock::{
        Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, PathFd,
        Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
    };
    use profile::linux::{LandlockRules, SeccompDeny};
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    /// The newest ABI whose filesystem rights this stage knows how to grant.
    /// Later ABIs add rights (e.g. unix socket resolution) we have not mapped
    /// or tested; handling them would refuse what the policy never meant to.
    const TARGET_ABI: ABI = ABI::V8;

    fn read_rights() -> landlock::BitFlags<AccessFs> {
        AccessFs::ReadFile | AccessFs::ReadDir | AccessFs::Execute
    }

    fn device_rights() -> landlock::BitFlags<AccessFs> {
        AccessFs::ReadFile
            | AccessFs::ReadDir
            | AccessFs::WriteFile
            | AccessFs::Truncate
            | AccessFs::IoctlDev
    }

    pub(super) fn apply_landlock(rules: &LandlockRules) -> Result<(String, usize), StageError> {
        let ll = |e: landlock::RulesetError| err(format!("landlock: {e}"));
        // Ask for what the kernel has (capped at what we map), so a full
        // enforcement reads as such rather than as a downgrade.
        let abi = super::landlock_abi()
            .map(|a| ABI::from(a.min(TARGET_ABI as i32)))
            .unwrap_or(TARGET_ABI);
        let mut ruleset = Ruleset::default()
            .handle_access(AccessFs::from_all(abi))
            .map_err(ll)?;
        if rules.tcp_connect_ports.is_some() {
            // A port allow-list that silently does nothing would make proxy
            // cells look enforced: require the kernel to support it.
            ruleset = ruleset
                .set_compatibility(CompatLevel::HardRequirement)
                .handle_access(AccessNet::ConnectTcp)
                .map_err(ll)?
                .set_compatibility(CompatLevel::BestEffort);
        }
        if rules.scope_signals_and_abstract_sockets {
            ruleset = ruleset
                .scope(Scope::AbstractUnixSocket | Scope::Signal)
                .map_err(ll)?;
        }
        let mut created = ruleset.create().map_err(ll)?;
        let except: Vec<PathBuf> = rules.except.iter().map(PathBuf::from).collect();
        let grants = [
            (&rules.read, read_rights()),
            (&rules.write, AccessFs::from_all(abi)),
            (&rules.device, device_rights()),
        ];
        let mut count = 0;
        for (paths, rights) in grants {
            for grant in paths {
                for path in carve(std::path::Path::new(grant), &except) {
                    // A path missing from the view has nothing to grant.
                    let Ok(fd) = PathFd::new(&path) else { continue };
                    created = created.add_rule(PathBeneath::new(fd, rights)).map_err(ll)?;
                    count += 1;
                }
            }
        }
        for port in rules.tcp_connect_ports.iter().flatten() {
            created = created
                .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
                .map_err(ll)?;
            count += 1;
        }
        let status = created.restrict_self().map_err(ll)?;
        let label = match status.ruleset {
            RulesetStatus::FullyEnforced => "fully_enforced",
            RulesetStatus::PartiallyEnforced => "partially_enforced",
            // The pty, /dev/shm and denied-path rules would silently not
            // hold: refuse to run rather than report them as enforced.
            RulesetStatus::NotEnforced => {
                return Err(err(format!(
                    "landlock not enforced ({:?})",
                    status.landlock
                )))
            }
        };
        Ok((label.to_string(), count))
    }

    fn syscall_number(name: &str) -> Result<i64, StageError> {
        Ok(match name {
            "add_key" => libc::SYS_add_key,
            "keyctl" => libc::SYS_keyctl,
            "request_key" => libc::SYS_request_key,
            "socket" => libc::SYS_socket,
            "ioctl" => libc::SYS_ioctl,
            "io_uring_setup" => libc::SYS_io_uring_setup,
            other => return Err(err(format!("seccomp: unknown syscall name {other:?}"))),
        })
    }

    /// A rule matching when argument `index` (low 32 bits) compares `op`
    /// to every one of `values` (the conditions of a rule are ANDed).
    fn arg_rule(index: u8, op: SeccompCmpOp, values: &[u64]) -> Result<SeccompRule, StageError> {
        let se = |e: seccompiler::BackendError| err(format!("seccomp: {e}"));
        let conds = values
            .iter()
            .map(|v| SeccompCondition::new(index, SeccompCmpArgLen::Dword, op.clone(), *v))
            .collect::<Result<Vec<_>, _>>()
            .map_err(se)?;
        SeccompRule::new(conds).map_err(se)
    }

    pub(super) fn apply_seccomp(deny: &[SeccompDeny]) -> Result<usize, StageError> {
        if deny.is_empty() {
            return Ok(0);
        }
        // An empty rule list means "the whole syscall"; keep those apart so a
        // conditional rule for the same syscall cannot narrow it.
        let mut whole: Vec<i64> = Vec::new();
        let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        for rule in deny {
            match rule {
                SeccompDeny::Syscall { name } => whole.push(syscall_number(name)?),
                SeccompDeny::SocketDomain { domain } => rules
                    .entry(libc::SYS_socket)
                    .or_default()
                    .push(arg_rule(0, SeccompCmpOp::Eq, &[*domain])?),
                // No allowed domain: the whole syscall.
                SeccompDeny::SocketDomainsExcept { allowed } if allowed.is_empty() => {
                    whole.push(libc::SYS_socket)
                }
                SeccompDeny::SocketDomainsExcept { allowed } => rules
                    .entry(libc::SYS_socket)
                    .or_default()
                    .push(arg_rule(0, SeccompCmpOp::Ne, allowed)?),
                SeccompDeny::Ioctl { request } => rules
                    .entry(libc::SYS_ioctl)
                    .or_default()
                    .push(arg_rule(1, SeccompCmpOp::Eq, &[*request])?),
            }
        }
        for nr in whole {
            rules.insert(nr, Vec::new());
        }
        let arch = TargetArch::try_from(std::env::consts::ARCH)
            .map_err(|e| err(format!("seccomp: {e}")))?;
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            arch,
        )
        .map_err(|e| err(format!("seccomp: {e}")))?;
        let program: BpfProgram = filter
            .try_into()
            .map_err(|e: seccompiler::BackendError| err(format!("seccomp: {e}")))?;
        seccompiler::apply_filter(&program).map_err(|e| err(format!("seccomp: {e}")))?;
        Ok(deny.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_file_and_env_sources() {
        let a = parse_args(os(&["/p.json", "--", "sh", "-c", "x"])).unwrap();
        assert_eq!(a.policy, Some(PolicySource::File("/p.json".into())));
        assert_eq!(a.program, "sh");
        assert_eq!(a.args, os(&["-c", "x"]));
        let b = parse_args(os(&["fd:7", "--", "true"])).unwrap();
        assert_eq!(b.policy, Some(PolicySource::Fd(7)));
        let c = parse_args(os(&["--", "true", "--", "x"])).unwrap();
        assert_eq!(c.policy, None);
        assert_eq!(c.program, "true");
        assert_eq!(c.args, os(&["--", "x"]));
    }

    #[test]
    fn rejects_bad_command_lines() {
        assert!(parse_args(os(&["p"])).is_err());
        assert!(parse_args(os(&["--"])).is_err());
        assert!(parse_args(os(&["p", "x", "true"])).is_err());
        assert!(parse_args(os(&["fd:", "--", "true"])).is_err());
        assert!(parse_args(os(&["fd:1", "--", "true"])).is_err());
        assert!(parse_args(os(&["fd:x", "--", "true"])).is_err());
    }

    #[test]
    fn carve_cuts_holes_by_listing_siblings() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["a/x", "a/y", "b"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::os::unix::fs::symlink(root.join("a/x"), root.join("link")).unwrap();
        let mut got = carve(root, &[root.join("a/x")]);
        got.sort();
        assert_eq!(got, vec![root.join("a/y"), root.join("b")]);
        // A missing except leaves the grant whole; a covering one removes it.
        assert_eq!(carve(root, &[root.join("nope")]), vec![root.to_path_buf()]);
        assert!(carve(&root.join("a/x"), &[root.join("a")]).is_empty());
    }
}
