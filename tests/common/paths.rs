//! Shared by the black-box path tests of the Linux backend
//! (`linux_paths_cli`, `linux_many_paths_cli`, `linux_secrets_cli`):
//! directories the sandbox shows as on the host, and what a read of a file
//! holding `SECRET` through `cat` must look like. Each test uses a part.

#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

/// A fresh directory the sandbox view shows as on the host (not under the
/// private /tmp, /dev/shm or /dev): in the target dir, or `/var/tmp` when
/// the checkout lives under `/tmp`.
pub fn visible_dir(prefix: &str) -> tempfile::TempDir {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let base = if target.starts_with("/tmp") || target.starts_with("/dev") {
        Path::new("/var/tmp")
    } else {
        target
    };
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(base)
        .unwrap_or_else(|e| panic!("temp dir in {}: {e}", base.display()))
}

pub fn text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `cat` read the secret and succeeded.
#[track_caller]
pub fn assert_read(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("SECRET"),
        "expected the read to work: {out:?}"
    );
}

/// `cat` was refused with EACCES and nothing of the secret came out.
#[track_caller]
pub fn assert_refused(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains("SECRET"), "secret leaked: {out:?}");
    // cat's message: on stderr, which `beltcheck run` keeps apart when it
    // is not a terminal.
    assert!(
        !out.status.success() && stderr.contains("Permission denied"),
        "expected EACCES from cat: {out:?}"
    );
}
