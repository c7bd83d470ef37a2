//! Path rules for config values: absolute only, `~/` from HOME, `<USER>` and
//! `<UID>` templates, no `..`, `//` and trailing `/` normalised, and the
//! `/tmp`, `/var`, `/etc` -> `/private/...` mapping Seatbelt matches against.
//!
//! Two entry points: [`normalise`] gives the path as the user means it (what
//! a Linux backend binds), [`resolve`] adds the `/private` mapping Seatbelt
//! needs because it matches paths after the kernel resolved the firmlinks.

use crate::config::ConfigError;
use std::borrow::Cow;

/// What path expansion needs to know about the user. Passed in, never read
/// from the process environment inside the library, so tests are hermetic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEnv {
    pub home: Option<String>,
    pub user: Option<String>,
    pub uid: u32,
}

impl HostEnv {
    /// The current process's HOME, user name and uid.
    pub fn current() -> HostEnv {
        let uid = nix::unistd::getuid().as_raw();
        HostEnv {
            home: std::env::var("HOME").ok(),
            user: std::env::var("USER")
                .ok()
                .or_else(|| std::env::var("LOGNAME").ok())
                .or_else(|| user_name(uid)),
            uid,
        }
    }
}

/// The login name for `uid` from the user database, when USER and LOGNAME
/// are unset (daemons, CI containers).
fn user_name(uid: u32) -> Option<String> {
    let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).ok()??;
    Some(user.name)
}

/// Whether `<USER>` and `<UID>` are expanded in a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Templates {
    /// Kept as typed (filesystem paths: `<` and `>` are ordinary bytes there).
    Literal,
    /// `<USER>` -> the user name, `<UID>` -> the numeric uid (socket paths).
    Expand,
}

/// The first-level directories macOS links into `/private`.
const PRIVATE_ROOTS: [&str; 3] = ["tmp", "var", "etc"];

/// Resolves a config path to the canonical form Seatbelt matches against.
///
/// Guarantees on `Ok`: the result starts with `/`, has no empty, `.` or `..`
/// segment, no trailing `/` (except the root itself), no NUL byte, and a
/// leading `/tmp`, `/var` or `/etc` segment is spelled `/private/...`.
/// Other bytes are kept exactly as given (non-ASCII included).
///
/// Errors name `key` and the offending value, e.g.
/// `filesystem.read_write[2]: relative path "tmp/x"`.
pub fn resolve(
    raw: &str,
    env: &HostEnv,
    key: &str,
    templates: Templates,
) -> Result<String, ConfigError> {
    let path = normalise(raw, env, key, templates)?;
    Ok(private_form(&path).into_owned())
}

/// Which spelling a backend matches paths in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// Seatbelt matches resolved paths: `/tmp/x` is `/private/tmp/x`
    /// ([`resolve`]).
    Private,
    /// Backends that see `/tmp` as a real directory ([`normalise`]).
    AsMeant,
}

/// Every entry of a config list in `spelling`; an error names the entry as
/// `key[i]`, the index it has in the config.
pub fn resolve_list(
    raw: &[String],
    key: &str,
    env: &HostEnv,
    templates: Templates,
    spelling: Spelling,
) -> Result<Vec<String>, ConfigError> {
    let one = match spelling {
        Spelling::Private => resolve,
        Spelling::AsMeant => normalise,
    };
    raw.iter()
        .enumerate()
        .map(|(i, p)| one(p, env, &format!("{key}[{i}]"), templates))
        .collect()
}

/// Like [`resolve`] but without the `/private` mapping: the path as the user
/// means it, for backends that see `/tmp` as a real directory.
pub fn normalise(
    raw: &str,
    env: &HostEnv,
    key: &str,
    templates: Templates,
) -> Result<String, ConfigError> {
    let err = |what: &str| ConfigError {
        key: key.to_string(),
        message: format!("{what} {raw:?}"),
    };
    if raw.is_empty() {
        return Err(err("empty path"));
    }
    if raw.contains('\0') {
        return Err(err("NUL byte in path"));
    }
    let templated = match templates {
        Templates::Literal => Cow::Borrowed(raw),
        Templates::Expand => expand_templates(raw, env).map_err(|what| err(&what))?,
    };
    let expanded = expand_home(&templated, env).map_err(|what| err(&what))?;
    if !expanded.starts_with('/') {
        return Err(err("relative path"));
    }
    let mut out = String::with_capacity(expanded.len());
    for segment in expanded.split('/') {
        match segment {
            "" | "." => continue,
            ".." => return Err(err("\"..\" segment in path")),
            _ => {
                out.push('/');
                out.push_str(segment);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// `/tmp/x` -> `/private/tmp/x` (likewise `/var`, `/etc`); anything else
/// unchanged. Expects a path already through [`normalise`].
pub fn private_form(path: &str) -> Cow<'_, str> {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if path.starts_with('/') && PRIVATE_ROOTS.contains(&first) {
        Cow::Owned(format!("/private{path}"))
    } else {
        Cow::Borrowed(path)
    }
}

fn expand_templates<'a>(raw: &'a str, env: &HostEnv) -> Result<Cow<'a, str>, String> {
    if !raw.contains("<USER>") && !raw.contains("<UID>") {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = raw.to_string();
    if out.contains("<USER>") {
        let user = env
            .user
            .as_deref()
            .ok_or("<USER> used but the user name is unknown in")?;
        if user.is_empty() || user.contains('/') || user.contains('\0') {
            return Err(format!("user name {user:?} cannot expand <USER> in"));
        }
        out = out.replace("<USER>", user);
    }
    Ok(Cow::Owned(out.replace("<UID>", &env.uid.to_string())))
}

fn expand_home<'a>(raw: &'a str, env: &HostEnv) -> Result<Cow<'a, str>, String> {
    let rest = if raw == "~" {
        ""
    } else if let Some(rest) = raw.strip_prefix("~/") {
        rest
    } else {
        return Ok(Cow::Borrowed(raw));
    };
    let home = env
        .home
        .as_deref()
        .ok_or("\"~/\" used but HOME is not set, in")?;
    if !home.starts_with('/') || home.contains('\0') {
        return Err(format!(
            "HOME {home:?} is not an absolute path, cannot expand"
        ));
    }
    Ok(Cow::Owned(format!("{home}/{rest}")))
}

/// Follows every symlink in `path` (absolute and normalised, as
/// [`normalise`] returns) on this host, as the kernel would when the path is
/// opened: each component in turn, relative and absolute targets, `..` in a
/// target taken against the directory reached so far. Components that do
/// not exist are kept as written, so a path created later resolves the same
/// way (`realpath -m`). Gives up after 40 links, as the kernel does (the
/// rest is kept as written; opening it would fail with `ELOOP` anyway).
///
/// Err: a symlink target that is not UTF-8 (config paths are text).
pub fn follow_symlinks(path: &str) -> Result<String, String> {
    const MAX_LINKS: usize = 40;
    let mut pending: std::collections::VecDeque<String> = segments(path).collect();
    let mut out = String::new();
    let mut links = 0;
    while let Some(segment) = pending.pop_front() {
        if segment == ".." {
            let cut = out.rfind('/').unwrap_or(0);
            out.truncate(cut);
            continue;
        }
        let candidate = format!("{out}/{segment}");
        let target = match std::fs::read_link(&candidate) {
            Ok(target) if links < MAX_LINKS => target,
            _ => {
                out = candidate;
                continue;
            }
        };
        links += 1;
        let target = target
            .to_str()
            .ok_or_else(|| format!("{candidate} links to {target:?}, which is not UTF-8"))?;
        if target.starts_with('/') {
            out.clear();
        }
        for (i, s) in segments(target).enumerate() {
            pending.insert(i, s);
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// The non-empty, non-`.` segments of a path.
fn segments(path: &str) -> impl Iterator<Item = String> + '_ {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn follow_symlinks_like_the_kernel() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let r = root.to_str().unwrap();
        std::fs::create_dir_all(root.join("d/secret")).unwrap();
        symlink("secret", root.join("d/rel")).unwrap();
        symlink(root.join("d/secret"), root.join("abs")).unwrap();
        symlink("d", root.join("parent")).unwrap();
        symlink("../d/./secret", root.join("d/up")).unwrap();
        symlink("nowhere/yet", root.join("dangling")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        let f = |p: &str| follow_symlinks(&format!("{r}/{p}")).unwrap();
        let secret = format!("{r}/d/secret");
        assert_eq!(f("d/rel"), secret);
        assert_eq!(f("abs"), secret);
        assert_eq!(f("parent/secret"), secret);
        assert_eq!(f("d/up"), secret);
        assert_eq!(f("parent/rel/missing/x"), format!("{secret}/missing/x"));
        assert_eq!(f("dangling"), format!("{r}/nowhere/yet"));
        assert_eq!(f("d/secret"), secret);
        assert_eq!(f("loop"), format!("{r}/loop"));
        assert_eq!(follow_symlinks("/").unwrap(), "/");
    }
}
