//! `beltcheck run --backend linux` with thousands of `filesystem.read_only`
//! entries (issue 13 item 17): once three bubblewrap arguments per entry
//! went past bubblewrap's 9,000-argument limit, and the policy in one
//! environment variable past the kernel's 128 KiB per-string limit (E2BIG);
//! both were reported as a refused profile. The sandbox must still enforce:
//! a listed file under the private `/tmp` is readable, an unlisted sibling
//! is not, a denied path is refused by Landlock, a listed path is not
//! writable.
//!
//! Needs on the host: bwrap on PATH, user namespaces, Landlock.
#![cfg(target_os = "linux")]

mod common;
#[path = "common/paths.rs"]
mod paths;

use paths::{text, visible_dir};
use std::process::{Command, Stdio};

/// What each step of the workload saw, one `name:result` line each.
const SCRIPT: &str = r#"
for f in "$1" "$2"; do cat "$f" || echo "read-failed:$f"; done
cat "$3" 2>/dev/null && echo unlisted:readable || echo unlisted:refused
cat "$4" 2>&1 | grep -q 'Permission denied' && echo denied:eacces || echo denied:other
(echo x >> "$1") 2>&1 | grep -q 'Read-only' && echo write:erofs || echo write:other
"#;

/// Runs the workload with `count` read_only entries: `count - 2` files in a
/// visible directory (about 70 bytes of policy each), one more there that
/// the workload reads, and one under the host's `/tmp`, which the view
/// hides unless listed.
fn run_with_read_only(count: usize) -> String {
    let visible = visible_dir("many-paths-");
    let tmp = tempfile::Builder::new()
        .prefix("many-paths-")
        .tempdir_in("/tmp")
        .unwrap();
    let inside = visible.path().join("inside.txt");
    std::fs::write(&inside, "inside:readable\n").unwrap();
    let secret_dir = visible.path().join("secret");
    std::fs::create_dir(&secret_dir).unwrap();
    let secret = secret_dir.join("s.txt");
    std::fs::write(&secret, "secret\n").unwrap();
    let listed = tmp.path().join("listed.txt");
    std::fs::write(&listed, "listed:readable\n").unwrap();
    let unlisted = tmp.path().join("unlisted.txt");
    std::fs::write(&unlisted, "unlisted\n").unwrap();

    let mut read_only: Vec<String> = (0..count - 2)
        .map(|i| text(&visible.path().join(format!("granted-{i:05}"))))
        .collect();
    read_only.push(text(&inside));
    read_only.push(text(&listed));
    let config = serde_json::json!({
        "filesystem": { "read_only": read_only, "denied": [text(&secret_dir)] },
    });
    let config_path = visible.path().join("config.json");
    let bytes = serde_json::to_vec(&config).unwrap();
    // Past what one environment string (128 KiB) could carry.
    assert!(bytes.len() > 128 * 1024, "{} bytes", bytes.len());
    std::fs::write(&config_path, bytes).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(["run", "--backend", "linux", "--timeout", "60", "--config"])
        .arg(&config_path)
        .args(["--", "/bin/sh", "-c", SCRIPT, "sh"])
        .args([&inside, &listed, &unlisted, &secret])
        .env("BELTCHECK_STAGE", common::bin_dir().join("beltcheck-stage"))
        .stdin(Stdio::null())
        .output()
        .expect("spawn beltcheck");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "beltcheck run with {count} read_only entries failed ({}): stdout {stdout:?} stderr {stderr:?}",
        out.status
    );
    stdout
}

#[track_caller]
fn assert_enforced(stdout: &str) {
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "inside:readable",
            "listed:readable",
            "unlisted:refused",
            "denied:eacces",
            "write:erofs"
        ],
        "{stdout}"
    );
}

#[test]
fn three_thousand_read_only_entries_run_and_enforce() {
    assert_enforced(&run_with_read_only(3_000));
}

#[test]
fn ten_thousand_read_only_entries_run_and_enforce() {
    assert_enforced(&run_with_read_only(10_000));
}

/// What still cannot fit (one bind mount per `read_write` path) is bad
/// input naming the key, never a refused profile.
#[test]
fn too_many_bind_mounts_is_exit_2_naming_the_key() {
    let visible = visible_dir("many-paths-");
    let read_write: Vec<String> = (0..3_000)
        .map(|i| text(&visible.path().join(format!("w{i}"))))
        .collect();
    let config = serde_json::json!({ "filesystem": { "read_write": read_write } });
    let config_path = visible.path().join("config.json");
    std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(["run", "--backend", "linux", "--config"])
        .arg(&config_path)
        .args(["--", "/bin/true"])
        .env("BELTCHECK_STAGE", common::bin_dir().join("beltcheck-stage"))
        .stdin(Stdio::null())
        .output()
        .expect("spawn beltcheck");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("filesystem.read_write") && stderr.contains("9000"),
        "{stderr}"
    );
    assert!(!stderr.contains("refused the profile"), "{stderr}");
}
