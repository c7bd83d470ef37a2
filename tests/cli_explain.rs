//! `beltcheck explain` as a user runs it: JSON shape, text output, exit
//! codes and error messages.

use std::io::Write;
use std::process::{Command, Output};

fn beltcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(args)
        .output()
        .expect("run beltcheck")
}

fn profile(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(text.as_bytes()).expect("write profile");
    f
}

const PROFILE: &str = "(version 1)\n(deny default)\n(allow file-read* (subpath (param \"ROOT\")))\n(allow mach-lookup (global-name \"com.apple.a\"))\n";

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

#[test]
fn json_names_the_rule_that_allowed() {
    let p = profile(PROFILE);
    let path = p.path().to_str().unwrap();
    let out = beltcheck(&[
        "explain",
        "--profile",
        path,
        "-D",
        "ROOT=/x",
        "--op",
        "file-read-data",
        "--path",
        "/x/f",
        "--format",
        "json",
    ]);
    let v = json(&out);
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["rule"]["line"], 3);
    assert_eq!(
        v["rule"]["text"],
        "(allow file-read* (subpath (param \"ROOT\")))"
    );
    assert!(v["reason"]
        .as_str()
        .unwrap()
        .contains("file-read* rule at line 3 matched (subpath \"/x\")"));
    assert_eq!(v["rule"]["file"], path);
    let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["decision", "imports", "not_evaluated", "reason", "rule"],
        "{v}"
    );
    assert_eq!(v["not_evaluated"], serde_json::json!([]));
    assert_eq!(v["imports"], serde_json::json!([]));
}

#[test]
fn json_rule_is_null_when_the_default_decided() {
    let p = profile(PROFILE);
    let path = p.path().to_str().unwrap();
    let out = beltcheck(&[
        "explain",
        "--profile",
        path,
        "--op",
        "mach-lookup",
        "--global-name",
        "com.apple.b",
        "--format",
        "json",
    ]);
    let v = json(&out);
    assert_eq!(v["decision"], "deny");
    assert!(v["rule"].is_null());
}

#[test]
fn unknown_is_reported_as_unknown() {
    let p = profile(PROFILE);
    let path = p.path().to_str().unwrap();
    // ROOT undefined: (subpath #f) cannot be decided, and would allow.
    let out = beltcheck(&[
        "explain",
        "--profile",
        path,
        "--op",
        "file-read-data",
        "--path",
        "/x/f",
        "--format",
        "json",
    ]);
    assert_eq!(json(&out)["decision"], "unknown");
}

#[test]
fn text_output_has_decision_rule_and_reason() {
    let p = profile(PROFILE);
    let path = p.path().to_str().unwrap();
    let out = beltcheck(&[
        "explain",
        "--profile",
        path,
        "--op",
        "mach-lookup",
        "--global-name",
        "com.apple.a",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let want = format!(
        "decision: allow\nrule: {path}:4: (allow mach-lookup (global-name \"com.apple.a\"))\nreason: "
    );
    assert!(text.starts_with(&want), "{text}");
}

#[test]
fn bad_define_is_a_usage_error_naming_it() {
    let p = profile(PROFILE);
    let path = p.path().to_str().unwrap();
    let out = beltcheck(&[
        "explain",
        "--profile",
        path,
        "-D",
        "ROOT",
        "--op",
        "file-read-data",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ROOT") && err.contains("KEY=VALUE"), "{err}");
}

#[test]
fn missing_profile_names_the_file() {
    let out = beltcheck(&[
        "explain",
        "--profile",
        "/nonexistent/p.sb",
        "--op",
        "file-read-data",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/p.sb"));
}

#[test]
fn unreadable_profile_reports_line_and_column() {
    let p = profile("(version 1)\n(allow file-read* (subpath \"/x\")\n");
    let path = p.path().to_str().unwrap();
    let out = beltcheck(&["explain", "--profile", path, "--op", "file-read-data"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{path}:")), "{err}");
}

#[test]
fn two_filter_arguments_are_refused() {
    let p = profile(PROFILE);
    let path = p.path().to_str().unwrap();
    let out = beltcheck(&[
        "explain",
        "--profile",
        path,
        "--op",
        "x",
        "--path",
        "/a",
        "--global-name",
        "b",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

const NET_IOCTL: &str = "(version 1)\n(deny default)\n(allow network-outbound (remote ip \"localhost:8080\"))\n(allow file-ioctl (literal \"/dev/ttys000\"))\n(deny file-ioctl (ioctl-command #x80017472))\n";

fn decide(args: &[&str]) -> String {
    let p = profile(NET_IOCTL);
    let mut all = vec!["explain", "--profile", p.path().to_str().unwrap()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    json(&beltcheck(&all))["decision"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn remote_addresses_are_decided_by_remote_ip_filters() {
    let op = ["--op", "network-outbound"];
    assert_eq!(
        decide(&[op[0], op[1], "--remote", "127.0.0.1:8080"]),
        "allow"
    );
    assert_eq!(
        decide(&[op[0], op[1], "--remote", "127.0.0.1:9090"]),
        "deny"
    );
    // An AF_UNIX path is never matched by an IP filter.
    assert_eq!(decide(&[op[0], op[1], "--path", "/private/tmp/s"]), "deny");
}

#[test]
fn ioctl_commands_are_decided_with_their_device() {
    let tty = ["--op", "file-ioctl", "--path", "/dev/ttys000"];
    let mut tiocsti = tty.to_vec();
    tiocsti.extend_from_slice(&["--ioctl-command", "0x80017472"]);
    assert_eq!(decide(&tiocsti), "deny");
    let mut winsize = tty.to_vec();
    winsize.extend_from_slice(&["--ioctl-command", "0x80087467"]);
    assert_eq!(decide(&winsize), "allow");
}

#[test]
fn ioctl_command_must_be_a_number() {
    let p = profile(NET_IOCTL);
    let out = beltcheck(&[
        "explain",
        "--profile",
        p.path().to_str().unwrap(),
        "--op",
        "file-ioctl",
        "--path",
        "/dev/ttys000",
        "--ioctl-command",
        "TIOCSTI",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TIOCSTI"));
}
