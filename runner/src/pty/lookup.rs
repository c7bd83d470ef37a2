//! Finding the file a program name stands for, as execvp does: a name
//! containing `/` is used as is; otherwise the first PATH entry holding an
//! executable file of that name wins. None found is ENOENT, or EACCES when
//! a candidate existed but was not executable. Shared by the Linux exec
//! image and by callers that must name the program in a profile (all
//! platforms).

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The search path when the environment has no PATH.
pub(crate) const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The file the session's exec would run for `program`, with this
/// process's PATH (or the default): what a profile must let it read.
pub fn locate(program: &Path) -> io::Result<PathBuf> {
    let search = std::env::var_os("PATH").unwrap_or_else(|| OsString::from(DEFAULT_PATH));
    resolve(program, &search)
}

pub(crate) fn resolve(program: &Path, search: &OsStr) -> io::Result<PathBuf> {
    if program.as_os_str().as_bytes().contains(&b'/') {
        return Ok(program.to_path_buf());
    }
    if program.as_os_str().is_empty() {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    let mut denied = false;
    for dir in std::env::split_paths(search) {
        // An empty entry means the current directory, as in execvp.
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let candidate = dir.join(program);
        match std::fs::metadata(&candidate) {
            Ok(m) if m.is_file() && executable(&candidate) => return Ok(candidate),
            Ok(m) if m.is_file() => denied = true,
            _ => {}
        }
    }
    Err(io::Error::from_raw_os_error(if denied {
        libc::EACCES
    } else {
        libc::ENOENT
    }))
}

fn executable(path: &Path) -> bool {
    CString::new(path.as_os_str().as_bytes().to_vec())
        // SAFETY: a valid NUL-terminated path.
        .is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0)
}
