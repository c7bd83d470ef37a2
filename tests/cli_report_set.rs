//! `beltcheck matrix` writes its report files as one set, black-box: the
//! same run id in every file, 0644 whatever the umask, no temporary left
//! behind; an interrupted run (SIGINT, SIGTERM, SIGHUP) removes its fixtures
//! and says it is partial; `--out` naming a regular file fails before any
//! cell runs.

mod common;

use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ALL_OFF: &str = "!nested_pty && !keychain_access && !gui_access && !ui.injection && !posix_ipc.semaphores && !unix_socket && !network.outbound";
const FILES: [&str; 4] = ["report.json", "report.md", "report.html", "report.xml"];

/// `beltcheck matrix --backend none --quiet --jobs 1 ARGS`, not yet waited
/// for, with `umask` set in the child.
fn spawn_matrix(args: &[&str], umask: libc::mode_t) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beltcheck"));
    cmd.args(["matrix", "--backend", "none", "--quiet", "--jobs", "1"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: umask is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(umask);
            Ok(())
        });
    }
    cmd.spawn().expect("spawn beltcheck matrix")
}

fn finish(child: Child) -> Output {
    let started = Instant::now();
    let mut child = child;
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("beltcheck matrix still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A one-cell matrix with the real probe.
fn one_cell(out_dir: &Path, umask: libc::mode_t) -> Output {
    let probe = common::bin_dir().join("beltcheck-probe");
    finish(spawn_matrix(
        &[
            "--probes",
            "sem",
            "--configs",
            ALL_OFF,
            "--probe-bin",
            probe.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
        umask,
    ))
}

fn report_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

fn run_id(report: &Value) -> String {
    report["run"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no run.id in {}", report["run"]))
        .to_string()
}

/// Names in `dir` other than the expected ones (temporaries left behind).
fn strays(dir: &Path, expected: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !expected.contains(&n.as_str()))
        .collect()
}

#[test]
fn report_files_share_one_run_id_and_are_0644_whatever_the_umask() {
    let parent = tempfile::tempdir().unwrap();
    let out_dir = parent.path().join("report");
    let out = one_cell(&out_dir, 0o077);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = report_json(&out_dir);
    assert_eq!(report["run"]["state"], "complete", "{}", report["run"]);
    let id = run_id(&report);
    assert!(id.len() >= 8, "{id:?}");
    for name in FILES {
        let path = out_dir.join(name);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o644, "{name}: mode {mode:o}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&id), "{name} does not carry run id {id}");
    }
    assert_eq!(strays(&out_dir, &FILES), Vec::<String>::new());
    assert_eq!(strays(parent.path(), &["report"]), Vec::<String>::new());
    // A second run replaces the whole set with a new id.
    let out = one_cell(&out_dir, 0o022);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let second = run_id(&report_json(&out_dir));
    assert_ne!(second, id);
    for name in FILES {
        let text = std::fs::read_to_string(out_dir.join(name)).unwrap();
        assert!(text.contains(&second) && !text.contains(&id), "{name}");
    }
}

#[test]
fn out_naming_a_regular_file_fails_before_any_cell_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    std::fs::write(&file, "mine\n").unwrap();
    let log = dir.path().join("probe.log");
    let probe = fake_probe(dir.path(), &log);
    for out_arg in [file.clone(), file.join("sub")] {
        let out = finish(spawn_matrix(
            &[
                "--probes",
                "sem",
                "--probe-bin",
                probe.to_str().unwrap(),
                "--out",
                out_arg.to_str().unwrap(),
            ],
            0o022,
        ));
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("--out"), "{}", stderr(&out));
        assert!(!log.exists(), "a probe ran before --out was checked");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine\n");
}

/// A stand-in for beltcheck-probe that logs its arguments and hangs, so a
/// signal can arrive while it runs.
fn fake_probe(dir: &Path, log: &Path) -> PathBuf {
    let path = dir.join("fake-probe");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(
        f,
        "#!/bin/sh\necho \"$@\" >> '{}'\nexec sleep 30",
        log.display()
    )
    .unwrap();
    drop(f);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Starts a matrix whose probe hangs, waits until the probe runs, sends
/// `signal`, and returns the output and the fixture dir the probe was given.
fn interrupted_run(dir: &Path, out_dir: &Path, signal: libc::c_int) -> (Output, PathBuf) {
    let log = dir.join(format!("probe-{signal}.log"));
    let probe = fake_probe(dir, &log);
    let expect = dir.join("expect.toml");
    std::fs::write(
        &expect,
        "[[probe]]\nname = \"file-read\"\nallowed_when = \"false\"\nargs = [\"--path\", \"{tmp_file}\"]\n",
    )
    .unwrap();
    let child = spawn_matrix(
        &[
            "--expect",
            expect.to_str().unwrap(),
            "--configs",
            ALL_OFF,
            "--timeout",
            "2",
            "--probe-bin",
            probe.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
        0o022,
    );
    let started = Instant::now();
    let logged = loop {
        if let Ok(text) = std::fs::read_to_string(&log) {
            if !text.is_empty() {
                break text;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the probe never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let out = finish(child);
    let fixture = logged
        .split_whitespace()
        .find(|a| a.contains("beltcheck-matrix-"))
        .map(|a| Path::new(a).parent().unwrap().to_path_buf())
        .unwrap_or_else(|| panic!("no fixture path in the probe's arguments: {logged}"));
    (out, fixture)
}

#[track_caller]
fn assert_partial(out_dir: &Path, signal_name: &str) {
    let report = report_json(out_dir);
    assert_eq!(report["run"]["state"], "partial", "{}", report["run"]);
    let reason = report["run"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(signal_name), "{reason}");
    let id = run_id(&report);
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    let top: String = md.lines().take(4).collect::<Vec<_>>().join("\n");
    assert!(top.to_lowercase().contains("partial"), "{top}");
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    let body = &html[html.find("<body>").unwrap()..];
    assert!(
        body[..body.len().min(600)]
            .to_lowercase()
            .contains("partial"),
        "{body}"
    );
    for text in [&md, &html] {
        assert!(text.contains(&id));
    }
}

#[test]
fn sighup_removes_the_fixtures_and_leaves_a_report_marked_partial() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let out_dir = dir.path().join("report");
    let (out, fixture) = interrupted_run(dir.path(), &out_dir, libc::SIGHUP);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGHUP),
        "not ended by SIGHUP: {:?}; {}",
        out.status,
        stderr(&out)
    );
    assert!(!fixture.exists(), "fixture dir {} left", fixture.display());
    assert!(stderr(&out).contains("partial"), "{}", stderr(&out));
    assert_partial(&out_dir, "SIGHUP");
    // Merged with others, the release still says it is partial.
    let merged = dir.path().join("merged");
    let out = Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(["report", "merge"])
        .arg(out_dir.join("report.json"))
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let md = std::fs::read_to_string(merged.join("merged.md")).unwrap();
    assert!(md.contains("partial: interrupted by SIGHUP"), "{md}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("merged.json")).unwrap())
            .unwrap();
    assert_eq!(json["releases"][0]["run"]["state"], "partial");
}

#[test]
fn an_interrupted_run_over_a_complete_report_says_it_is_partial() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let out_dir = dir.path().join("report");
    let out = one_cell(&out_dir, 0o022);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let complete = run_id(&report_json(&out_dir));
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let (out, fixture) = interrupted_run(dir.path(), &out_dir, signal);
        assert_eq!(out.status.signal(), Some(signal), "{}", stderr(&out));
        assert!(!fixture.exists());
        let name = if signal == libc::SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        assert_partial(&out_dir, name);
        if signal == libc::SIGINT {
            let err = stderr(&out);
            assert!(
                err.contains("partial") && err.contains(&complete),
                "stderr does not say the complete report {complete} was replaced: {err}"
            );
        }
    }
}
