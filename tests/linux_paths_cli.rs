//! Configured paths on the Linux backend, black-box through `beltcheck run
//! --backend linux`: symlinks are resolved on the host when the launch is
//! prepared (a denied symlink denies its target, a grant through a symlink
//! is reported with both spellings), and configs with thousands of entries
//! still launch.
//!
//! Runs as root and as an ordinary user; needs bwrap, user namespaces and
//! Landlock (missing ones fail with the backend's own reason).
#![cfg(target_os = "linux")]

mod common;
#[path = "common/paths.rs"]
mod paths;

use paths::{assert_read, assert_refused, text, visible_dir};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `beltcheck run --backend linux --config F -- cat FILE`, with the config
/// written as TOML from `filesystem` (the body of the `[filesystem]` table).
fn cat_under(dir: &Path, filesystem: &str, file: &Path) -> Output {
    let config = dir.join("config.toml");
    std::fs::write(&config, format!("[filesystem]\n{filesystem}\n")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(["run", "--backend", "linux", "--timeout", "60", "--config"])
        .arg(&config)
        .arg("--")
        .arg("cat")
        .arg(file)
        .env("BELTCHECK_STAGE", common::bin_dir().join("beltcheck-stage"))
        .stdin(Stdio::null())
        .output()
        .expect("spawn beltcheck")
}

fn toml_list(paths: &[&Path]) -> String {
    let quoted: Vec<String> = paths.iter().map(|p| format!("{:?}", text(p))).collect();
    format!("[{}]", quoted.join(", "))
}

/// A tree `ROOT/d/secret/key` holding `SECRET`.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
    key: PathBuf,
}

fn tree() -> Tree {
    let dir = visible_dir("linux-paths-");
    // Canonical, so only the links the tests make are symlinks.
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("d/secret")).unwrap();
    let key = root.join("d/secret/key");
    std::fs::write(&key, "SECRET\n").unwrap();
    Tree {
        _dir: dir,
        root,
        key,
    }
}

#[test]
fn denied_relative_symlink_denies_its_target() {
    let t = tree();
    symlink("secret", t.root.join("d/link")).unwrap();
    let d = t.root.join("d");
    let link = t.root.join("d/link");
    // Control: the config without the denied entry reads the file.
    assert_read(&cat_under(
        &t.root,
        &format!("read_only = {}", toml_list(&[&d])),
        &t.key,
    ));
    let out = cat_under(
        &t.root,
        &format!(
            "read_only = {}\ndenied = {}",
            toml_list(&[&d]),
            toml_list(&[&link])
        ),
        &t.key,
    );
    assert_refused(&out);
    // Through the link too.
    let via_link = cat_under(
        &t.root,
        &format!("denied = {}", toml_list(&[&link])),
        &link.join("key"),
    );
    assert_refused(&via_link);
}

#[test]
fn denied_absolute_symlink_denies_its_target() {
    let t = tree();
    std::fs::create_dir(t.root.join("elsewhere")).unwrap();
    let link = t.root.join("elsewhere/alink");
    symlink(t.root.join("d/secret"), &link).unwrap();
    assert_refused(&cat_under(
        &t.root,
        &format!("denied = {}", toml_list(&[&link])),
        &t.key,
    ));
}

#[test]
fn denied_path_under_a_symlinked_parent_is_denied() {
    let t = tree();
    let parent_link = t.root.join("pl");
    symlink(t.root.join("d"), &parent_link).unwrap();
    assert_refused(&cat_under(
        &t.root,
        &format!("denied = {}", toml_list(&[&parent_link.join("secret")])),
        &t.key,
    ));
}

#[test]
fn a_path_resolved_through_a_symlink_is_reported_with_both_spellings() {
    let t = tree();
    let link = t.root.join("d/link");
    symlink("secret", &link).unwrap();
    let out = cat_under(
        &t.root,
        &format!("denied = {}", toml_list(&[&link])),
        &t.key,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("filesystem.denied[0]"))
        .unwrap_or_else(|| panic!("no note on the resolved path: {stderr}"));
    assert!(
        line.contains(&text(&link)) && line.contains(&text(&t.root.join("d/secret"))),
        "{line}"
    );
    // A path without symlinks gets no note.
    let plain = cat_under(
        &t.root,
        &format!("denied = {}", toml_list(&[&t.root.join("d/secret")])),
        &t.key,
    );
    assert!(
        !String::from_utf8_lossy(&plain.stderr).contains("filesystem.denied"),
        "{plain:?}"
    );
}
