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

#[path = "../../runner/tests/support/cargo_build.rs"]
mod cargo_build;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The directory holding `beltcheck`, with the probe and the stage built
/// next to it.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let beltcheck = Path::new(env!("CARGO_BIN_EXE_beltcheck"));
        let dir = beltcheck.parent().expect("bin dir").to_path_buf();
        build_sibling_bins(&dir);
        dir
    })
}

/// `cargo build` of the probe and the stage into the target directory that
/// holds `dir`.
fn build_sibling_bins(dir: &Path) {
    cargo_build::build_beside(
        dir,
        &[
            "-p",
            "beltcheck-probes",
            "--bin",
            "beltcheck-probe",
            "-p",
            "beltcheck-runner",
            "--bin",
            "beltcheck-stage",
        ],
    );
    for bin in ["beltcheck-probe", "beltcheck-stage"] {
        assert!(
            dir.join(bin).is_file(),
            "{bin} not built into {}",
            dir.display()
        );
    }
}
