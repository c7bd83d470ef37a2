//! The CI scripts the macOS workflow runs, exercised on Linux with fakes for
//! the macOS tools: the temporary keychain (ci/keychain.sh) against a fake
//! security(1) that keeps its state in files, and the per-image job
//! (ci/macos-matrix.sh) against a fake beltcheck that records its argv.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn write_exec(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A security(1) stand-in: the user domain's search list and default
/// keychain live in files; every call is logged (passwords masked).
const FAKE_SECURITY: &str = r#"#!/usr/bin/env bash
set -eu
s="$FAKE_STATE"
log() { printf '%s\n' "$*" >>"$s/log"; }
case "$1" in
  list-keychains)
    if [ "${4:-}" = "-s" ]; then shift 4; printf '%s\n' "$@" >"$s/list"; log "list-keychains -s $*"; exit 0; fi
    while IFS= read -r k; do printf '    "%s"\n' "$k"; done <"$s/list" ;;
  default-keychain)
    if [ "${4:-}" = "-s" ]; then printf '%s\n' "$5" >"$s/default"; log "default-keychain -s $5"; exit 0; fi
    printf '    "%s"\n' "$(cat "$s/default")" ;;
  create-keychain) [ "$2" = -p ] && [ -n "$3" ]; : >"$4"; log "create-keychain $4" ;;
  unlock-keychain) [ "$2" = -p ] && [ -n "$3" ]; log "unlock-keychain $4" ;;
  set-keychain-settings) log "set-keychain-settings ${*:2}" ;;
  delete-keychain) rm -f "$2"; log "delete-keychain $2" ;;
  *) echo "fake security: unexpected $*" >&2; exit 9 ;;
esac
"#;

struct Keychains {
    dir: tempfile::TempDir,
}

impl Keychains {
    fn new() -> Keychains {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("fake");
        std::fs::create_dir(&state).unwrap();
        std::fs::write(
            state.join("list"),
            "/Users/runner/Library/Keychains/login.keychain-db\n/Library/Keychains/System Keychain.keychain\n",
        )
        .unwrap();
        std::fs::write(
            state.join("default"),
            "/Users/runner/Library/Keychains/login.keychain-db\n",
        )
        .unwrap();
        write_exec(&dir.path().join("security"), FAKE_SECURITY);
        Keychains { dir }
    }

    fn run(&self, action: &str) -> Output {
        Command::new("bash")
            .arg(root().join("ci/keychain.sh"))
            .arg(action)
            .arg(self.dir.path().join("state"))
            .env("BELTCHECK_SECURITY", self.dir.path().join("security"))
            .env("FAKE_STATE", self.dir.path().join("fake"))
            .env("RUNNER_TEMP", self.dir.path())
            .output()
            .unwrap()
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join("fake").join(name)).unwrap_or_default()
    }
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn keychain_setup_selects_an_unlocked_fresh_keychain_and_restore_undoes_it() {
    let k = Keychains::new();
    let before_list = k.file("list");
    let before_default = k.file("default");
    ok(&k.run("setup"));
    let log = k.file("log");
    let steps: Vec<&str> = log
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "create-keychain",
            "set-keychain-settings",
            "unlock-keychain",
            "list-keychains",
            "default-keychain"
        ],
        "{log}"
    );
    let made = log.lines().next().unwrap()["create-keychain ".len()..].to_string();
    assert!(Path::new(&made).exists(), "{made}");
    // The new keychain is the default and first in the search list; the
    // previous entries (one with a space) stay searchable.
    assert_eq!(k.file("default").trim(), made);
    let list: Vec<String> = k.file("list").lines().map(String::from).collect();
    assert_eq!(list[0], made);
    assert_eq!(list[1..].join("\n") + "\n", before_list);
    // The password is never printed.
    assert!(!String::from_utf8_lossy(&k.run("restore").stdout).contains("-p"));
    assert_eq!(k.file("list"), before_list);
    assert_eq!(k.file("default"), before_default);
    assert!(!Path::new(&made).exists(), "temporary keychain deleted");
    assert!(k.file("log").contains(&format!("delete-keychain {made}")));
}

#[test]
fn keychain_restore_without_setup_changes_nothing() {
    let k = Keychains::new();
    ok(&k.run("restore"));
    assert_eq!(k.file("log"), "");
}

#[test]
fn keychain_setup_twice_refuses_so_the_first_state_is_not_lost() {
    let k = Keychains::new();
    ok(&k.run("setup"));
    let again = k.run("setup");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("restore it first"));
    ok(&k.run("restore"));
    assert_eq!(
        k.file("default").trim(),
        "/Users/runner/Library/Keychains/login.keychain-db"
    );
}

/// A beltcheck stand-in: records each argument on its own line and writes a
/// clean report.
const FAKE_BELTCHECK: &str = r#"#!/usr/bin/env bash
printf '%s\n' "$@" >"$FAKE_ARGS"
out=""; prev=""
for a in "$@"; do [ "$prev" = --out ] && out="$a"; prev="$a"; done
mkdir -p "$out"
echo '{"schema":1,"summary":{"pass":1,"fail":0,"inconclusive":0},"cells":[]}' >"$out/report.json"
"#;

fn job(env: &[(&str, &str)]) -> (Output, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    write_exec(&dir.path().join("beltcheck"), FAKE_BELTCHECK);
    std::fs::write(dir.path().join("p.sb"), "(version 1)").unwrap();
    std::fs::write(dir.path().join("e.toml"), "").unwrap();
    let args = dir.path().join("args");
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("ci/macos-matrix.sh"))
        .arg(dir.path().join("out"))
        .current_dir(dir.path())
        .env("BELTCHECK", dir.path().join("beltcheck"))
        .env("BELTCHECK_CARGO_TEST", "skip")
        .env("FAKE_ARGS", &args)
        .env_remove("BELTCHECK_REQUIRED_PROBES");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let argv = std::fs::read_to_string(&args)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    (out, argv)
}

#[test]
fn job_passes_inputs_as_whole_arguments_never_as_shell_text() {
    let (out, argv) = job(&[
        ("BELTCHECK_PROFILE", "p.sb"),
        ("BELTCHECK_EXPECT", "e.toml"),
        (
            "BELTCHECK_DEFINES",
            "HOME_DIR=/Users/a b\n\n  X=$(touch pwned);`id`\n",
        ),
    ]);
    ok(&out);
    let tail: Vec<&str> = argv[argv.len() - 8..].iter().map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "--profile",
            "p.sb",
            "--expect",
            "e.toml",
            "-D",
            "HOME_DIR=/Users/a b",
            "-D",
            "X=$(touch pwned);`id`"
        ]
    );
    assert_eq!(argv[0], "matrix");
}

#[test]
fn job_refuses_a_profile_without_expectations_and_bad_defines() {
    let (out, argv) = job(&[("BELTCHECK_PROFILE", "p.sb")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expectations"));
    assert!(argv.is_empty(), "beltcheck must not run");
    let (out, _) = job(&[
        ("BELTCHECK_PROFILE", "p.sb"),
        ("BELTCHECK_EXPECT", "e.toml"),
        ("BELTCHECK_DEFINES", "NOEQUALS"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"NOEQUALS\""));
    let (out, _) = job(&[
        ("BELTCHECK_PROFILE", "missing.sb"),
        ("BELTCHECK_EXPECT", "e.toml"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.sb"));
}

#[test]
fn job_without_a_profile_runs_the_builtin_spec() {
    let (out, argv) = job(&[]);
    ok(&out);
    assert!(!argv.iter().any(|a| a == "--profile" || a == "--expect"));
}

fn workflow(name: &str) -> String {
    std::fs::read_to_string(root().join(".github/workflows").join(name)).unwrap()
}

/// GitHub retired these hosted images (macos-13: actions/runner-images#13046,
/// macos-14 on 2026-11-02: actions/runner-images#13518); a job asking for
/// one waits for a runner forever.
const RETIRED: &[&str] = &[
    "macos-11",
    "macos-12",
    "macos-13",
    "macos-14",
    "macos-latest",
];

#[test]
fn workflows_name_only_live_images_with_arm64_and_intel() {
    let reusable = workflow("beltcheck-matrix.yml");
    let images_line = reusable
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("images:"))
        .find(|l| l.trim_start().starts_with("default:"))
        .expect("images input has a default");
    let images: Vec<&str> = images_line
        .split('"')
        .filter(|s| s.starts_with("macos-"))
        .collect();
    assert!(
        images.contains(&"macos-15") && images.contains(&"macos-26"),
        "{images:?}"
    );
    assert!(images.iter().any(|i| i.ends_with("-intel")), "{images:?}");
    for name in ["beltcheck-matrix.yml", "macos-matrix.yml"] {
        let text = workflow(name);
        for retired in RETIRED {
            for (n, line) in text.lines().enumerate() {
                let words: Vec<&str> = line
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .collect();
                assert!(!words.contains(retired), "{name}:{}: {retired}", n + 1);
            }
        }
    }
}

#[test]
fn the_project_workflow_calls_the_reusable_one() {
    let own = workflow("macos-matrix.yml");
    assert!(own.contains("uses: ./.github/workflows/beltcheck-matrix.yml"));
    assert!(workflow("beltcheck-matrix.yml").contains("workflow_call:"));
}
