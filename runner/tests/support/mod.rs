//! Helpers shared by the runner's integration tests.

mod cargo_build;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The pty test driver (`tests/support/pty_session_driver.rs`), built as
/// an example so it is a test helper and not a product binary.
pub fn pty_session_driver() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let stage = Path::new(env!("CARGO_BIN_EXE_beltcheck-stage"));
        let dir = stage.parent().expect("bin dir");
        cargo_build::build_beside(
            dir,
            &["-p", "beltcheck-runner", "--example", "pty-session-driver"],
        );
        let driver = dir.join("examples").join("pty-session-driver");
        assert!(driver.is_file(), "{} not built", driver.display());
        driver
    })
}
