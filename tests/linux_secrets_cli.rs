//! The permissive baseline's secrets on the Linux backend, black-box through
//! `beltcheck run --backend linux` with a fake HOME: a file in `~/.ssh` is
//! unreadable (even under a broad grant of HOME), a file elsewhere in HOME
//! is readable, and a grant naming `~/.ssh` makes it readable again.
//!
//! Runs as root and as an ordinary user; needs bwrap, user namespaces and
//! Landlock (missing ones fail with the backend's own reason).
#![cfg(target_os = "linux")]

mod common;
#[path = "common/paths.rs"]
mod paths;

use paths::{assert_read, assert_refused};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fake HOME the sandbox view shows as on the host (not under the private
/// /tmp, /dev/shm or /dev), holding `.ssh/id_test` and `notes.txt`.
struct Home {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn home() -> Home {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let base = if target.starts_with("/tmp") || target.starts_with("/dev") {
        Path::new("/var/tmp")
    } else {
        target
    };
    let dir = tempfile::Builder::new()
        .prefix("linux-secrets-")
        .tempdir_in(base)
        .unwrap_or_else(|e| panic!("temp dir in {}: {e}", base.display()));
    let path = dir.path().canonicalize().unwrap();
    std::fs::create_dir(path.join(".ssh")).unwrap();
    std::fs::write(path.join(".ssh/id_test"), "SECRET\n").unwrap();
    std::fs::write(path.join("notes.txt"), "SECRET\n").unwrap();
    Home { _dir: dir, path }
}

/// `beltcheck run --backend linux` of `cat FILE` with HOME set to `home`
/// and the config `body` (TOML).
fn cat(home: &Home, body: &str, file: &str) -> Output {
    let config = home.path.join("config.toml");
    std::fs::write(&config, body).unwrap();
    Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(["run", "--backend", "linux", "--timeout", "60", "--config"])
        .arg(&config)
        .arg("--")
        .arg("cat")
        .arg(home.path.join(file))
        .env("HOME", &home.path)
        .env("BELTCHECK_STAGE", common::bin_dir().join("beltcheck-stage"))
        .stdin(Stdio::null())
        .output()
        .expect("spawn beltcheck")
}

const PERMISSIVE: &str = "baseline = \"permissive\"\n";

#[test]
fn permissive_hides_ssh_but_not_the_rest_of_home() {
    let h = home();
    assert_refused(&cat(&h, PERMISSIVE, ".ssh/id_test"));
    assert_read(&cat(&h, PERMISSIVE, "notes.txt"));
}

#[test]
fn a_broad_grant_of_home_does_not_reach_ssh() {
    let h = home();
    let body = format!("{PERMISSIVE}[filesystem]\nread_only = [\"~\"]\nread_write = [\"~\"]\n");
    assert_refused(&cat(&h, &body, ".ssh/id_test"));
    assert_read(&cat(&h, &body, "notes.txt"));
}

#[test]
fn a_grant_naming_ssh_reads_it() {
    let h = home();
    let body = format!("{PERMISSIVE}[filesystem]\nread_only = [\"~/.ssh\"]\n");
    assert_read(&cat(&h, &body, ".ssh/id_test"));
}
