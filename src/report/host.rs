//! Who produced a report: the OS release it is evidence about, the backend,
//! and the beltcheck build.

use crate::matrix::adapter::BackendHandle;
use runner::launch::Availability;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    /// `macos` or `linux`.
    pub os: String,
    /// macOS: `sw_vers -productVersion`; Linux: the kernel release.
    pub os_version: String,
    /// macOS: `sw_vers -buildVersion`; Linux: the kernel build string.
    pub build: String,
    /// `arm64` or `x86_64` (Apple's spelling).
    pub arch: String,
    pub backend: String,
    /// Whether the backend enforces here, and if not, why.
    #[serde(default)]
    pub backend_detail: String,
    #[serde(default)]
    pub kernel: String,
    /// Linux: PRETTY_NAME from /etc/os-release.
    #[serde(default)]
    pub distribution: Option<String>,
    /// Linux: the Landlock ABI the kernel offers (`None`: no Landlock).
    #[serde(default)]
    pub landlock_abi: Option<u32>,
    #[serde(default)]
    pub beltcheck_version: String,
    #[serde(default)]
    pub git_revision: String,
}

impl Host {
    /// "macos 15.4.1 (24E263) arm64": the release a report is about.
    pub fn release(&self) -> String {
        format!(
            "{} {} ({}) {}",
            self.os,
            self.os_version,
            short(&self.build),
            self.arch
        )
    }
}

fn short(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

/// Identifies this host and the backend the matrix will use.
pub fn identify(handle: &BackendHandle) -> Host {
    let uts = uname();
    let (os_version, build) = os_release(&uts);
    Host {
        os: std::env::consts::OS.to_string(),
        os_version,
        build,
        arch: match std::env::consts::ARCH {
            "aarch64" => "arm64".into(),
            other => other.into(),
        },
        backend: handle.backend.name().into(),
        backend_detail: match &handle.availability {
            Availability::Enforcing { detail } => format!("enforcing: {detail}"),
            Availability::Unavailable { reason } => format!("not enforcing: {reason}"),
        },
        kernel: kernel(&uts),
        distribution: distribution(),
        landlock_abi: landlock_abi(),
        beltcheck_version: env!("CARGO_PKG_VERSION").into(),
        git_revision: git_revision(),
    }
}

struct Uname {
    release: String,
    version: String,
}

fn uname() -> Uname {
    match nix::sys::utsname::uname() {
        Ok(u) => Uname {
            release: u.release().to_string_lossy().into_owned(),
            version: u.version().to_string_lossy().into_owned(),
        },
        Err(_) => Uname {
            release: "unknown".into(),
            version: "unknown".into(),
        },
    }
}

#[cfg(target_os = "macos")]
fn os_release(_: &Uname) -> (String, String) {
    let sw = |flag: &str| {
        std::process::Command::new("/usr/bin/sw_vers")
            .arg(flag)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    (sw("-productVersion"), sw("-buildVersion"))
}

/// macOS: the Darwin release plus the xnu build line (`uname -v`), which
/// tells kernels apart within one product version; elsewhere the release.
#[cfg(target_os = "macos")]
fn kernel(uts: &Uname) -> String {
    format!("{} ({})", uts.release, uts.version)
}

#[cfg(not(target_os = "macos"))]
fn kernel(uts: &Uname) -> String {
    uts.release.clone()
}

#[cfg(not(target_os = "macos"))]
fn os_release(uts: &Uname) -> (String, String) {
    (uts.release.clone(), uts.version.clone())
}

fn distribution() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    parse_os_release(&text)
}

/// PRETTY_NAME (else NAME VERSION_ID) from an os-release file.
pub fn parse_os_release(text: &str) -> Option<String> {
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim().trim_matches('"').to_string())
    };
    get("PRETTY_NAME").or_else(|| {
        Some(format!(
            "{} {}",
            get("NAME")?,
            get("VERSION_ID").unwrap_or_default()
        ))
    })
}

/// The kernel's Landlock ABI, from the one helper that asks the kernel
/// (`runner::stage::landlock_abi`, which the exec stage uses too).
fn landlock_abi() -> Option<u32> {
    runner::stage::landlock_abi()
        .ok()
        .and_then(|v| u32::try_from(v).ok())
        .filter(|&v| v > 0)
}

/// The build-time `BELTCHECK_GIT_REV` (CI sets it), else `git rev-parse`
/// in the source tree, else "unknown".
fn git_revision() -> String {
    if let Some(rev) = option_env!("BELTCHECK_GIT_REV") {
        return rev.to_string();
    }
    std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_pretty_name_first() {
        assert_eq!(
            parse_os_release(
                "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
            )
            .as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(
            parse_os_release("NAME=Foo\nVERSION_ID=3\n").as_deref(),
            Some("Foo 3")
        );
        assert_eq!(parse_os_release("X=1\n"), None);
    }

    #[test]
    fn identifies_this_host() {
        let h = identify(&BackendHandle::resolve(runner::launch::Backend::None));
        assert_eq!(h.os, std::env::consts::OS);
        assert!(!h.kernel.is_empty() && h.kernel != "unknown");
        assert_eq!(h.backend, "none");
    }
}
