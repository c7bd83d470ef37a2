//! Everything `execve` needs, prepared before the child exists: a child that
//! shares our memory (see `vfork`) may not allocate, so the program path is
//! resolved against PATH and argv/envp are built as C arrays here.
//!
//! Resolution follows execvp: a program name containing `/` is used as is;
//! otherwise the first PATH entry holding an executable file of that name
//! wins (PATH taken from the session's environment overrides if they set it,
//! else ours, else `/usr/local/bin:/usr/bin:/bin`). None found is ENOENT, or
//! EACCES when a candidate existed but was not executable. A file the kernel
//! will not execute (ENOEXEC: a script without `#!`) is run by `/bin/sh`, as
//! execvp does. Unlike execvp, a candidate that fails to exec for another
//! reason does not send the search on to the next PATH entry.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStringExt;

use super::spawn::ChildSetup;

use super::lookup::{resolve, DEFAULT_PATH};

/// A ready-to-exec program: owned C strings and the pointer arrays into them.
pub(crate) struct Image {
    path: CString,
    _strings: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    /// `/bin/sh PATH ARGS...`, for a file the kernel refuses with ENOEXEC.
    shell: CString,
    shell_argv: Vec<*const libc::c_char>,
}

impl Image {
    pub(crate) fn prepare(setup: &ChildSetup<'_>) -> io::Result<Image> {
        let env = merged_env(setup.env);
        let search = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map_or_else(|| OsString::from(DEFAULT_PATH), |(_, v)| v.clone());
        let path = resolve(&setup.cmd.program, &search)?;
        let mut strings = Vec::with_capacity(1 + setup.cmd.args.len() + env.len());
        strings.push(c_string(setup.cmd.program.as_os_str())?);
        for arg in &setup.cmd.args {
            strings.push(c_string(arg)?);
        }
        let argc = strings.len();
        for (k, v) in &env {
            let mut pair = k.clone();
            pair.push("=");
            pair.push(v);
            strings.push(c_string(&pair)?);
        }
        let pointers = |range: &[CString]| {
            range
                .iter()
                .map(|s| s.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect::<Vec<_>>()
        };
        let path = c_string(path.as_os_str())?;
        let shell = c_string(OsStr::new("/bin/sh"))?;
        let argv = pointers(&strings[..argc]);
        let envp = pointers(&strings[argc..]);
        let shell_argv = [shell.as_ptr(), path.as_ptr()]
            .into_iter()
            .chain(argv[1..].iter().copied())
            .collect();
        Ok(Image {
            path,
            _strings: strings,
            argv,
            envp,
            shell,
            shell_argv,
        })
    }

    /// Replaces the calling process; returns only on failure, with errno.
    /// Async-signal-safe: no allocation.
    pub(crate) fn exec(&self) -> libc::c_int {
        // SAFETY: path, argv and envp are NUL-terminated strings and
        // null-terminated arrays owned by `self`.
        unsafe { libc::execve(self.path.as_ptr(), self.argv.as_ptr(), self.envp.as_ptr()) };
        let errno = last_errno();
        if errno != libc::ENOEXEC {
            return errno;
        }
        // SAFETY: as above; the shell's argv points into `self` too.
        unsafe {
            libc::execve(
                self.shell.as_ptr(),
                self.shell_argv.as_ptr(),
                self.envp.as_ptr(),
            )
        };
        last_errno()
    }
}

/// The calling thread's errno; no allocation (safe in a vfork child).
pub(crate) fn last_errno() -> libc::c_int {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}

/// Our environment with the session's overrides applied (a key set twice:
/// the last value wins), in a stable order.
fn merged_env(overrides: &[(OsString, OsString)]) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    for (k, v) in overrides {
        match env.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.clone(),
            None => env.push((k.clone(), v.clone())),
        }
    }
    env
}

fn c_string(s: &OsStr) -> io::Result<CString> {
    CString::new(s.to_os_string().into_vec()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{:?} contains a NUL byte", s),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    #[test]
    fn a_name_is_found_on_path_and_a_path_is_kept() {
        let found = resolve(Path::new("sh"), OsStr::new("/nonexistent:/bin:/usr/bin")).unwrap();
        assert!(found.ends_with("sh") && found.is_absolute(), "{found:?}");
        let kept = resolve(Path::new("./x/y"), OsStr::new("/bin")).unwrap();
        assert_eq!(kept, PathBuf::from("./x/y"));
    }

    #[test]
    fn a_missing_name_is_enoent_and_a_non_executable_one_eacces() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve(Path::new("no-such-beltcheck-tool"), dir.path().as_os_str()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        std::fs::write(dir.path().join("plain"), b"data").unwrap();
        let e = resolve(Path::new("plain"), dir.path().as_os_str()).unwrap_err();
        // root may execute anything with an x bit; this file has none.
        assert_eq!(e.raw_os_error(), Some(libc::EACCES));
    }

    #[test]
    fn overrides_replace_inherited_variables() {
        let env = merged_env(&[
            ("PATH".into(), "/only/here".into()),
            ("BELTCHECK_NEW".into(), "1".into()),
        ]);
        let path: Vec<_> = env.iter().filter(|(k, _)| k == "PATH").collect();
        assert_eq!(path.len(), 1);
        assert_eq!(path[0].1, "/only/here");
        assert!(env.iter().any(|(k, v)| k == "BELTCHECK_NEW" && v == "1"));
    }
}
