//! The binary's interface: exit codes, --list, and the exact JSON form.

mod common;

use common::*;

#[test]
fn unknown_probe_exits_2_with_a_message() {
    let out = command(&["no-such-probe"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"no-such-probe\""));
}

#[test]
fn missing_and_unexpected_args_exit_2() {
    for (args, needle) in [
        (&["unix-connect"][..], "--path"),
        (&["network", "--host", "127.0.0.1"][..], "--port"),
        (&["pty", "--path", "/x"][..], "does not take --path"),
        (
            &["network", "--host", "h", "--port", "99999"][..],
            "\"99999\"",
        ),
    ] {
        let out = command(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn list_prints_every_catalogued_probe_one_per_line() {
    let out = command(&["--list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let listed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let expected: Vec<String> = probes::catalogue::names().map(str::to_string).collect();
    assert_eq!(listed, expected);
    for name in [
        "pty",
        "keychain",
        "sem",
        "shm",
        "unix-connect",
        "unix-bind",
        "hid",
        "network",
        "tiocsti",
        "nofile",
        "file-read",
        "file-write",
        "mach-lookup",
        "sysctl",
    ] {
        assert!(listed.iter().any(|l| l == name), "{name} missing");
    }
}

/// The raw stdout line with the duration (the one varying field) masked.
#[cfg(target_os = "linux")]
fn masked(args: &[&str]) -> String {
    let out = command(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let line = String::from_utf8(out.stdout).unwrap();
    let (head, tail) = line.trim_end().split_once("\"duration_us\":").unwrap();
    let rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
    format!("{head}\"duration_us\":\"[duration]\"{rest}")
}

#[test]
#[cfg(target_os = "linux")]
fn json_form_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("absent.sock");
    let absent = absent.to_str().unwrap();
    insta::assert_snapshot!(
        "unix_connect_enoent",
        masked(&["unix-connect", "--path", absent])
    );
    insta::assert_snapshot!(
        "mach_lookup_unsupported",
        masked(&["mach-lookup", "--name", "com.apple.x"])
    );
    let target = dir.path().join("w");
    insta::assert_snapshot!(
        "file_write_allowed",
        masked(&["file-write", "--path", target.to_str().unwrap()])
    );
}
