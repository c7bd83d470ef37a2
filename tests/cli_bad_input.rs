//! Hostile input to the `beltcheck` CLI, black-box: tables given as arrays,
//! expressions deep or long enough to overflow a recursive parser, inputs
//! that never end or are huge, expectations naming what does not exist, and
//! reports that Markdown or a duplicate cell would corrupt when merged.
//! Every case must end with exit 2 and a message naming the field or file,
//! never a crash, a hang or unbounded memory.

mod common;

use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Any of these cases must be decided well within this.
const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `beltcheck ARGS` with a 2 GiB address-space cap (so a reader that
/// does not bound its input fails fast instead of eating the machine) and a
/// deadline (so a hang fails the test instead of stalling it).
fn beltcheck(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beltcheck"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between
    // fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let cap = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &cap);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn beltcheck");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("beltcheck {args:?} still running after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit 2 with every `needle` in the message.
#[track_caller]
fn assert_usage_error(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} missing from: {err}");
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `beltcheck matrix --backend none --quiet --out DIR/report ARGS`.
fn matrix(dir: &Path, args: &[&str]) -> Output {
    let out = dir.join("report");
    let mut all = vec!["matrix", "--backend", "none", "--quiet", "--out", s(&out)];
    all.extend_from_slice(args);
    beltcheck(&all)
}

// ---- item 10: only tables for tables -------------------------------------

#[test]
fn a_config_table_given_as_an_array_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("ui", "ui = [false, true, \"all\"]\n"),
        ("posix_ipc", "posix_ipc = [true, true]\n"),
        ("filesystem", "filesystem = [[\"/\"], [\"/\"]]\n"),
        ("network", "network = [\"allow\"]\n"),
        ("limits", "limits = [false]\n"),
    ];
    for (key, text) in cases {
        let path = write(dir.path(), &format!("{key}.toml"), text);
        let out = beltcheck(&["profile", "--config", s(&path)]);
        assert_usage_error(&out, &[key, "table"]);
        assert!(out.stdout.is_empty(), "{key}: a profile was printed");
    }
}

#[test]
fn a_json_array_as_the_whole_config_or_a_table_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let whole = write(dir.path(), "whole.json", "[\"permissive\", true]\n");
    assert_usage_error(&beltcheck(&["profile", "--config", s(&whole)]), &["table"]);
    let ui = write(dir.path(), "ui.json", "{\"ui\": [false, true, \"all\"]}\n");
    assert_usage_error(
        &beltcheck(&["profile", "--config", s(&ui)]),
        &["ui", "table"],
    );
    // The same keys written as tables still work.
    let ok = write(
        dir.path(),
        "ok.json",
        "{\"ui\": {\"disable\": false, \"injection\": false, \"clipboard\": \"all\"}}\n",
    );
    let out = beltcheck(&["profile", "--config", s(&ok)]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn an_expectations_entry_given_as_an_array_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let expect = write(dir.path(), "e.toml", "probe = [[\"sem\", \"true\"]]\n");
    let out = matrix(dir.path(), &["--expect", s(&expect)]);
    assert_usage_error(&out, &["probe", "table"]);
}

// ---- item 11: expression depth and length ---------------------------------

#[test]
fn deeply_nested_configs_expression_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{}true{}", "(".repeat(30_000), ")".repeat(30_000));
    let out = matrix(dir.path(), &["--configs", &deep]);
    assert_usage_error(&out, &["--configs", "too long"]);
    let nots = format!("{}true", "!".repeat(30_000));
    let out = matrix(dir.path(), &["--configs", &nots]);
    assert_usage_error(&out, &["--configs", "too long"]);
    // Short but deep: the depth bound speaks.
    let deep = format!("{}true{}", "(".repeat(100), ")".repeat(100));
    let out = matrix(dir.path(), &["--configs", &deep]);
    assert_usage_error(&out, &["--configs", "nested more than 64 deep"]);
}

#[test]
fn a_configs_expression_of_100000_terms_is_refused() {
    // One argument may not exceed 128 KiB on Linux (MAX_ARG_STRLEN), so
    // 20,000 terms here; the 100,000-term case goes through a file below.
    let dir = tempfile::tempdir().unwrap();
    let long = vec!["true"; 20_000].join("&&");
    let out = matrix(dir.path(), &["--configs", &long]);
    assert_usage_error(&out, &["--configs", "too long"]);
}

#[test]
fn deep_or_long_allowed_when_is_refused_naming_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{}true{}", "(".repeat(30_000), ")".repeat(30_000));
    let long = vec!["true"; 100_000].join(" || ");
    for (name, expr) in [("deep", deep), ("long", long)] {
        let text = format!("[[probe]]\nname = \"sem\"\nallowed_when = \"{expr}\"\n");
        let expect = write(dir.path(), &format!("{name}.toml"), &text);
        let out = matrix(dir.path(), &["--expect", s(&expect)]);
        assert_usage_error(&out, &["\"sem\"", "allowed_when"]);
    }
}

#[test]
fn an_unknown_cover_strength_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = matrix(dir.path(), &["--cover", "4"]);
    assert_usage_error(&out, &["--cover", "\"4\""]);
}

// ---- item 14: bounded input ------------------------------------------------

/// `NAME` in `dir` pointing at /dev/zero (an input that never ends, with
/// the extension the command wants).
fn endless(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
    path
}

/// A sparse file of `len` bytes.
fn huge(dir: &Path, name: &str, len: u64) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().set_len(len).unwrap();
    path
}

#[test]
fn a_config_that_never_ends_or_is_huge_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for path in [
        endless(dir.path(), "zero.toml"),
        endless(dir.path(), "zero.json"),
        huge(dir.path(), "huge.toml", 3 << 30),
    ] {
        for cmd in ["profile", "run"] {
            let mut args = vec![cmd, "--config", s(&path)];
            if cmd == "run" {
                args.extend(["--backend", "none", "--", "true"]);
            }
            let out = beltcheck(&args);
            assert_usage_error(&out, &[s(&path), "bytes"]);
        }
    }
}

#[test]
fn matrix_inputs_that_never_end_or_are_huge_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let zero = endless(dir.path(), "zero");
    let big = huge(dir.path(), "big", 3 << 30);
    for input in [&zero, &big] {
        for flag in ["--expect", "--profile"] {
            let out = matrix(dir.path(), &[flag, s(input)]);
            assert_usage_error(&out, &[flag, s(input), "bytes"]);
        }
    }
}

#[test]
fn merge_inputs_that_never_end_or_are_huge_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("merged");
    for input in [
        endless(dir.path(), "zero.json"),
        huge(dir.path(), "big.json", 3 << 30),
    ] {
        let out = beltcheck(&["report", "merge", s(&input), "--out", s(&out_dir)]);
        assert_usage_error(&out, &[s(&input), "bytes"]);
        assert!(!out_dir.exists());
    }
}

#[test]
fn sbpl_inputs_that_never_end_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let zero = endless(dir.path(), "zero.sb");
    let out = beltcheck(&["sbpl", "check", s(&zero)]);
    assert!(
        stderr(&out).contains("bytes") || String::from_utf8_lossy(&out.stdout).contains("bytes"),
        "{}",
        stderr(&out)
    );
    assert!(matches!(out.status.code(), Some(1 | 2)));
    let out = beltcheck(&[
        "explain",
        "--profile",
        s(&zero),
        "--op",
        "file-read-data",
        "--path",
        "/x",
    ]);
    // explain reports an unreadable profile as a failed check (exit 1); it
    // reads profiles, like their imports, from regular files only.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
}

// ---- item 16: expectations, merge escaping, duplicate cells ---------------

#[test]
fn expectations_naming_an_unknown_probe_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let expect = write(
        dir.path(),
        "e.toml",
        "[[probe]]\nname = \"nope\"\nallowed_when = \"true\"\n",
    );
    let out = matrix(dir.path(), &["--expect", s(&expect)]);
    assert_usage_error(&out, &["\"nope\"", "unknown probe"]);
}

#[test]
fn expectations_naming_an_unknown_fixture_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let expect = write(
        dir.path(),
        "e.toml",
        "[[probe]]\nname = \"file-read\"\nallowed_when = \"false\"\nargs = [\"--path\", \"{tmp_dir}/{nope}\"]\n",
    );
    let out = matrix(dir.path(), &["--expect", s(&expect)]);
    assert_usage_error(&out, &["\"file-read\"", "{nope}", "{tmp_dir}"]);
}

/// A real one-cell report from this build, as JSON.
fn one_cell_report(dir: &Path) -> Value {
    let bin_dir = common::bin_dir();
    let out_dir = dir.join("one");
    let out = Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(["matrix", "--backend", "none", "--quiet", "--probes", "sem"])
        .args(["--configs", "!nested_pty && !keychain_access && !gui_access && !ui.injection && !posix_ipc.semaphores && !unix_socket && !network.outbound"])
        .arg("--probe-bin")
        .arg(bin_dir.join("beltcheck-probe"))
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.code().is_some(), "{}", stderr(&out));
    let text = std::fs::read_to_string(out_dir.join("report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn save(dir: &Path, name: &str, report: &Value) -> PathBuf {
    write(dir, name, &serde_json::to_string_pretty(report).unwrap())
}

#[test]
fn merge_escapes_markdown_in_probe_names_and_config_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = one_cell_report(dir.path());
    let probe = "*bold* [x](http://e.test) <b>`tick`</b> #h _u_";
    let dim = "a`b|c*d";
    let cell = &mut report["cells"][0];
    cell["probe"] = Value::from(probe);
    cell["config"]
        .as_object_mut()
        .unwrap()
        .insert(dim.into(), Value::Bool(true));
    report["dimensions"]
        .as_array_mut()
        .unwrap()
        .push(dim.into());
    report["probes"] = Value::from(vec![probe]);
    let input = save(dir.path(), "weird.json", &report);
    let out_dir = dir.path().join("merged");
    let out = beltcheck(&["report", "merge", s(&input), "--out", s(&out_dir)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = std::fs::read_to_string(out_dir.join("merged.md")).unwrap();
    for raw in ["*bold*", "[x](", "<b>", "`tick`", "_u_", "a`b", "b|c"] {
        assert!(!md.contains(raw), "unescaped {raw:?} in:\n{md}");
    }
    assert!(md.contains(r"\*bold\*"), "{md}");
    // Configs are named by the options they turn on: the switch by name.
    assert!(md.contains(r"a\`b\|c\*d"), "{md}");
}

#[test]
fn merge_refuses_a_report_with_a_duplicate_cell() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = one_cell_report(dir.path());
    let cell = report["cells"][0].clone();
    report["cells"].as_array_mut().unwrap().push(cell);
    let input = save(dir.path(), "dup.json", &report);
    let out_dir = dir.path().join("merged");
    let out = beltcheck(&["report", "merge", s(&input), "--out", s(&out_dir)]);
    assert_usage_error(&out, &[s(&input), "\"sem\"", "twice"]);
    assert!(!out_dir.exists());
}
