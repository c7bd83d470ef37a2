//! `beltcheck profile` as a user runs it: output on success, and on refusal
//! a non-zero exit, empty stdout and a message naming the key and value.

use std::path::Path;
use std::process::{Command, Output};

fn profile(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .arg("profile")
        .args(args)
        .env("HOME", "/Users/tester")
        .env("USER", "tester")
        .output()
        .expect("run beltcheck")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn default_profile_is_printable_ascii() {
    let out = profile(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(";; baseline\n(version 1)\n(deny default)"),
        "{text}"
    );
    assert!(text
        .bytes()
        .all(|b| b == b'\n' || (0x20..0x7f).contains(&b)));
}

#[test]
fn json_carries_params_with_exact_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "c.toml",
        "unix_socket_connects = [\"/tmp/<USER>.sock\"]\n[filesystem]\nread_write = [\"~/w\", \"/tmp/caf\u{e9}\"]\n",
    );
    let out = profile(&["--config", &cfg, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["params"]["READ_WRITE_0"], "/Users/tester/w");
    assert_eq!(v["params"]["READ_WRITE_1"], "/private/tmp/caf\u{e9}");
    assert_eq!(v["params"]["UNIX_SOCKET_0"], "/private/tmp/tester.sock");
    let sbpl = v["sbpl"].as_str().unwrap();
    assert!(sbpl.contains("(subpath (param \"READ_WRITE_1\"))"));
    assert!(sbpl.is_ascii());
}

#[test]
fn inline_writes_literals() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "c.json",
        r#"{"filesystem": {"denied": ["/a\"b"]}}"#,
    );
    let out = profile(&["--config", &cfg, "--inline"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(r#"(deny file-read* file-write* (subpath "/a\"b"))"#),
        "{text}"
    );
}

/// (file name, contents, extra flag, what stderr must name)
#[test]
fn refusals_leave_stdout_empty_and_name_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "a.toml",
            "[filesystem]\nread_write = [\"/a\", \"/b\", \"tmp/x\"]\n",
            None,
            "filesystem.read_write[2]: relative path \"tmp/x\"",
        ),
        (
            "b.toml",
            "[filesystem]\nread_only = [\"/caf\u{e9}\"]\n",
            Some("--inline"),
            "filesystem.read_only[0]",
        ),
        (
            "c.json",
            r#"{"unix_socket_connects": ["/a\u0000b"]}"#,
            None,
            "unix_socket_connects[0]",
        ),
        (
            "d.toml",
            "[filesystem]\ndenied = [\"/a/../b\"]\n",
            Some("--inline"),
            "\"/a/../b\"",
        ),
        (
            "e.toml",
            "[filesystem]\ndenied = [\"\"]\n",
            None,
            "filesystem.denied[0]: empty path",
        ),
        (
            "f.toml",
            "[network]\noutbound = \"maybe\"\n",
            None,
            "network.outbound",
        ),
        ("g.toml", "surprise = true\n", None, "surprise"),
        ("h.yaml", "nested_pty: true\n", None, "h.yaml"),
    ];
    for (name, text, flag, wanted) in cases {
        let cfg = write(dir.path(), name, text);
        let mut args = vec!["--config", cfg.as_str()];
        args.extend(flag);
        let out = profile(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: accepted");
        assert!(out.stdout.is_empty(), "{name}: wrote to stdout");
        assert!(
            stderr.contains(wanted),
            "{name}: stderr {stderr:?} lacks {wanted:?}"
        );
    }
}
