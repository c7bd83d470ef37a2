//! Helpers shared by the root package's integration tests.
//!
//! The binaries come from the workspace: `beltcheck` is this package's
//! (`CARGO_BIN_EXE_beltcheck`); `beltcheck-probe` (probes crate) and
//! `beltcheck-stage` (runner crate) belong to other packages, so the first
//! test that needs them runs `cargo build` for both into the same target
//! directory (a no-op when `cargo test --workspace` already built them, and
//! it keeps them from being stale under `cargo test -p beltcheck`).
//! `ci/test-as-user.sh` runs the test binaries as a user who cannot run
//! cargo; it builds every binary first and sets `BELTCHECK_TEST_BINS_BUILT=1`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The directory holding `beltcheck`, with the probe and the stage built
/// next to it.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let beltcheck = Path::new(env!("CARGO_BIN_EXE_beltcheck"));
        let dir = beltcheck.parent().expect("bin dir").to_path_buf();
        if std::env::var_os("BELTCHECK_TEST_BINS_BUILT").is_none() {
            build_sibling_bins(&dir);
        }
        dir
    })
}

/// `cargo build` of the probe and the stage into the target directory that
/// holds `dir` (`<target>/<profile>` or `<target>/<triple>/<profile>`).
fn build_sibling_bins(dir: &Path) {
    let profile = dir.file_name().unwrap().to_string_lossy().into_owned();
    let up = dir.parent().expect("target dir");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["build", "--quiet", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .args(["-p", "beltcheck-probes", "--bin", "beltcheck-probe"])
        .args(["-p", "beltcheck-runner", "--bin", "beltcheck-stage"]);
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
    assert!(
        status.success(),
        "building beltcheck-probe and beltcheck-stage failed: {cmd:?}"
    );
    for bin in ["beltcheck-probe", "beltcheck-stage"] {
        assert!(
            dir.join(bin).is_file(),
            "{bin} not built into {}",
            dir.display()
        );
    }
}
