//! `beltcheck explain` on profiles that import others, that the model cannot
//! fully evaluate, that exhaust its budgets; batch mode; a closed stdout.
//! Black-box: the CLI as a user runs it.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn beltcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(args)
        .output()
        .expect("run beltcheck")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.to_str().unwrap().to_string()
}

fn explain_json(profile: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["explain", "--profile", profile, "--format", "json"];
    args.extend_from_slice(extra);
    json(&beltcheck(&args))
}

#[test]
fn imports_next_to_the_profile_are_followed_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(
        dir.path(),
        "base.sb",
        "(version 1)\n(define (grant-tree p) (allow file-read* (subpath p)))\n(allow mach-lookup (global-name \"com.apple.base\"))\n",
    );
    let main = write(
        dir.path(),
        "main.sb",
        "(version 1)\n(deny default)\n(import \"base.sb\")\n(grant-tree \"/opt/x\")\n",
    );
    let v = explain_json(
        &main,
        &["--op", "mach-lookup", "--global-name", "com.apple.base"],
    );
    assert_eq!(v["decision"], "allow", "{v}");
    assert_eq!(v["rule"]["file"], base.as_str());
    assert_eq!(v["rule"]["line"], 3);
    assert_eq!(
        v["imports"],
        serde_json::json!([{"name": "base.sb", "path": base}])
    );
    assert_eq!(v["not_evaluated"], serde_json::json!([]));
    // A helper defined in the import and called by the profile.
    let v = explain_json(&main, &["--op", "file-read-data", "--path", "/opt/x/y"]);
    assert_eq!(v["decision"], "allow", "{v}");
    assert_eq!(v["rule"]["file"], base.as_str());
}

#[test]
fn import_paths_are_searched_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    write(
        &first,
        "lib.sb",
        "(allow file-read* (literal \"/from-first\"))\n",
    );
    write(
        &second,
        "lib.sb",
        "(allow file-read* (literal \"/from-second\"))\n",
    );
    let prof_dir = dir.path().join("prof");
    std::fs::create_dir_all(&prof_dir).unwrap();
    let main = write(
        &prof_dir,
        "main.sb",
        "(version 1)\n(deny default)\n(import \"lib.sb\")\n",
    );
    let args = |p: &'static str| {
        vec![
            "--import-path".to_string(),
            first.to_str().unwrap().to_string(),
            "--import-path".to_string(),
            second.to_str().unwrap().to_string(),
            "--op".to_string(),
            "file-read-data".to_string(),
            "--path".to_string(),
            p.to_string(),
        ]
    };
    let a = args("/from-first");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    assert_eq!(explain_json(&main, &a)["decision"], "allow");
    let b = args("/from-second");
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    assert_eq!(explain_json(&main, &b)["decision"], "deny");
}

#[test]
fn a_missing_import_makes_every_answer_unknown_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(
        dir.path(),
        "main.sb",
        "(version 1)\n(deny default)\n(import \"nowhere.sb\")\n(allow file-read* (literal \"/a\"))\n",
    );
    let v = explain_json(&main, &["--op", "file-read-data", "--path", "/a"]);
    assert_eq!(v["decision"], "unknown", "{v}");
    assert!(v["reason"].as_str().unwrap().contains("nowhere.sb"), "{v}");
    let ne = &v["not_evaluated"][0];
    assert_eq!(ne["line"], 3);
    assert_eq!(ne["form"], "(import \"nowhere.sb\")");
    assert!(ne["why"].as_str().unwrap().contains("not found"), "{v}");
}

#[test]
fn import_cycles_are_reported_not_followed_forever() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.sb", "(import \"b.sb\")\n");
    write(dir.path(), "b.sb", "(import \"a.sb\")\n");
    let main = write(
        dir.path(),
        "main.sb",
        "(version 1)\n(deny default)\n(import \"a.sb\")\n",
    );
    let v = explain_json(&main, &["--op", "file-read-data", "--path", "/a"]);
    assert_eq!(v["decision"], "unknown", "{v}");
    let why = v["not_evaluated"][0]["why"].as_str().unwrap();
    assert!(why.contains("import cycle"), "{v}");
}

#[test]
fn importing_a_device_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(
        dir.path(),
        "main.sb",
        "(version 1)\n(deny default)\n(import \"/dev/zero\")\n",
    );
    let v = explain_json(&main, &["--op", "file-read-data", "--path", "/a"]);
    assert_eq!(v["decision"], "unknown", "{v}");
    let why = v["not_evaluated"][0]["why"].as_str().unwrap();
    assert!(why.contains("not a regular file"), "{v}");
    // The profile itself: same bound.
    let out = beltcheck(&[
        "explain",
        "--profile",
        "/dev/zero",
        "--op",
        "file-read-data",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
}

#[test]
fn named_let_at_top_level_is_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(
        dir.path(),
        "main.sb",
        "(version 1)\n(deny default)\n(let loop ((i 0)) (if (< i 1) (begin (allow file-read* (subpath \"/a\")) (loop (+ i 1)))))\n",
    );
    let v = explain_json(&main, &["--op", "file-read-data", "--path", "/a/x"]);
    assert_eq!(v["decision"], "allow", "{v}");
    assert_eq!(v["rule"]["line"], 3);
    assert_eq!(v["not_evaluated"], serde_json::json!([]));
}

#[test]
fn an_unevaluated_form_of_the_same_family_makes_the_answer_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(
        dir.path(),
        "main.sb",
        "(version 1)\n(deny default)\n(allow file-read* (mystery-filter \"/a\"))\n(allow mach-lookup (global-name \"m\"))\n",
    );
    let v = explain_json(&main, &["--op", "file-write-data", "--path", "/b"]);
    assert_eq!(v["decision"], "unknown", "{v}");
    assert!(
        v["reason"].as_str().unwrap().contains("mystery-filter"),
        "{v}"
    );
    // Another family stays definite.
    let v = explain_json(&main, &["--op", "mach-lookup", "--global-name", "m"]);
    assert_eq!(v["decision"], "allow", "{v}");
}

#[test]
fn string_doubling_ends_in_unknown_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("(version 1)\n(deny default)\n(define s \"xxxxxxxxxxxxxxxx\")\n");
    for _ in 0..40 {
        text.push_str("(set! s (string-append s s))\n");
    }
    text.push_str("(allow file-read* (literal s))\n");
    let main = write(dir.path(), "main.sb", &text);
    let out = beltcheck(&[
        "explain",
        "--profile",
        &main,
        "--op",
        "file-read-data",
        "--path",
        "/a",
        "--format",
        "json",
    ]);
    let v = json(&out);
    assert_eq!(v["decision"], "unknown", "{v}");
    let all = v.to_string();
    assert!(all.contains("string budget"), "{v}");
}

#[test]
fn a_raw_nul_byte_is_an_error_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nul.sb");
    std::fs::write(&p, b"(version 1)\n(allow file-read* (literal \"/a\0b\"))\n").unwrap();
    let out = beltcheck(&["sbpl", "check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:2:31: raw NUL byte", p.display())),
        "{err}"
    );
}

#[test]
fn batch_answers_one_line_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(
        dir.path(),
        "main.sb",
        "(version 1)\n(deny default)\n(allow file-read* (subpath \"/a\"))\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(["explain", "--profile", &main, "--batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let input = concat!(
        "{\"op\": \"file-read-data\", \"path\": \"/a/x\"}\n",
        "\n",
        "{\"op\": \"file-read-data\", \"path\": \"/b\"}\n",
        "{\"op\": \"file-read-data\", \"pth\": \"/b\"}\n",
        "{\"op\": \"mach-lookup\", \"global-name\": \"x\"}\n",
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0]["decision"], "allow");
    assert_eq!(lines[0]["rule"]["line"], 3);
    assert_eq!(lines[1]["decision"], "deny");
    let err = lines[2]["error"].as_str().unwrap();
    assert!(err.contains("line 4") && err.contains("pth"), "{err}");
    assert_eq!(lines[3]["decision"], "deny");
    // A bad line is bad input: exit 2, naming the file.
    assert_eq!(out.status.code(), Some(2));
}

/// Runs `bash -c SCRIPT` and returns its output; `$B` is the beltcheck
/// binary.
fn shell(script: &str) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("B", env!("CARGO_BIN_EXE_beltcheck"))
        .output()
        .expect("bash")
}

#[test]
fn a_closed_stdout_ends_explain_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(
        dir.path(),
        "main.sb",
        "(version 1)\n(deny default)\n(allow file-read* (subpath \"/a\"))\n",
    );
    // Many answers, so the writer is still writing when head has gone.
    let reqs = dir.path().join("reqs.jsonl");
    let line = "{\"op\": \"file-read-data\", \"path\": \"/a/x\"}\n";
    std::fs::write(&reqs, line.repeat(100_000)).unwrap();
    let err = dir.path().join("err");
    let script = format!(
        "\"$B\" explain --profile {main} --batch {} 2>{} | head -c 10 >/dev/null; echo rc=${{PIPESTATUS[0]}}",
        reqs.display(),
        err.display()
    );
    let out = shell(&script);
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = std::fs::read_to_string(&err).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(text.trim(), "rc=0", "{stderr}");
    // One answer in text form, into a reader that takes nothing.
    let script = format!(
        "\"$B\" explain --profile {main} --op file-read-data --path /a/x 2>{} | true; echo rc=${{PIPESTATUS[0]}}",
        err.display()
    );
    let out = shell(&script);
    let stderr = std::fs::read_to_string(&err).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "rc=0",
        "{stderr}"
    );
}

#[test]
fn a_closed_pipe_ends_sbpl_check_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for i in 0..3000 {
        let p = dir.path().join(format!("bad{i}.sb"));
        std::fs::write(&p, "(allow").unwrap();
        files.push(p.display().to_string());
    }
    let list = dir.path().join("files");
    std::fs::write(&list, files.join("\n")).unwrap();
    let script = format!(
        "\"$B\" sbpl check $(cat {}) 2>&1 | head -1 >/dev/null; echo rc=${{PIPESTATUS[0]}}",
        list.display()
    );
    let out = shell(&script);
    // 1: some files did not read; 101 would be a panic.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "rc=1",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
