//! `cargo build` of workspace targets into the target directory a test runs
//! from. A test needs binaries of other targets (another package's bins, or
//! an example, which cargo builds but does not hand to tests the way it
//! hands `CARGO_BIN_EXE_*`); building them here keeps them from being stale
//! under `cargo test -p ... --test ...`, and is a no-op when `cargo test
//! --workspace` already built them. `ci/test-as-user.sh` runs the test
//! binaries as a user who cannot run cargo; it builds every binary and
//! example first and sets `BELTCHECK_TEST_BINS_BUILT=1`, which skips this.
//!
//! Shared by the root package's tests and the runner's (`#[path]`).

use std::path::Path;
use std::process::Command;

/// Builds `targets` (cargo arguments such as `-p PKG --bin NAME`) into the
/// target directory holding `dir`, the directory of a `CARGO_BIN_EXE_*`
/// binary (`<target>/<profile>` or `<target>/<triple>/<profile>`).
pub fn build_beside(dir: &Path, targets: &[&str]) {
    if std::env::var_os("BELTCHECK_TEST_BINS_BUILT").is_some() {
        return;
    }
    let profile = dir.file_name().unwrap().to_string_lossy().into_owned();
    let up = dir.parent().expect("target dir");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["build", "--quiet", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .args(targets);
    // `<target>/<triple>/<profile>` only when the level above is named like
    // a target triple (cargo tags only the outermost target dir, so a target
    // dir nested in another, e.g. CARGO_TARGET_DIR=target/x, has no tag).
    let name = up.file_name().unwrap().to_string_lossy();
    let triple = name.matches('-').count() >= 2 && !up.join("CACHEDIR.TAG").exists();
    if !triple {
        cmd.arg("--target-dir").arg(up);
    } else {
        let root = up.parent().expect("target root");
        cmd.arg("--target-dir")
            .arg(root)
            .arg("--target")
            .arg(up.file_name().unwrap());
    }
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let status = cmd.status().expect("run cargo build");
    assert!(status.success(), "cargo build failed: {cmd:?}");
}
