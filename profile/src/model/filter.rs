//! Filters and three-valued matching: a filter matches, does not match, or
//! cannot be decided by the model (and then says why).

use super::Arg;
use regex::bytes::Regex;

/// The result of matching one filter against one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri<'a> {
    Yes,
    No,
    /// The model cannot tell; the text says why.
    Maybe(&'a str),
}

/// Which part of a request a filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Path,
    GlobalName,
    LocalName,
    IokitClass,
    IpcName,
    SysctlName,
}

impl Subject {
    /// The request's value for this subject: `Ok(None)` when the request
    /// carries a different kind of argument (the filter cannot match),
    /// `Err` when it carries none (the model cannot tell).
    fn pick(self, arg: Option<&Arg>) -> Result<Option<&[u8]>, ()> {
        let Some(arg) = arg else { return Err(()) };
        let value = match (self, arg) {
            (Subject::Path, Arg::Path(v) | Arg::Ioctl { path: v, .. })
            | (Subject::GlobalName, Arg::GlobalName(v))
            | (Subject::IokitClass, Arg::IokitClass(v))
            | (Subject::IpcName, Arg::IpcName(v))
            | (Subject::SysctlName, Arg::SysctlName(v)) => Some(v.as_bytes()),
            _ => None,
        };
        Ok(value)
    }
}

/// How a filter compares the subject.
#[derive(Debug, Clone)]
pub enum Test {
    Exact(Vec<u8>),
    Prefix(Vec<u8>),
    /// Component-wise: the path itself or anything below it.
    Subpath(Vec<u8>),
    Regex(Regex),
}

impl Test {
    fn check(&self, value: &[u8]) -> bool {
        match self {
            Test::Exact(want) => value == want.as_slice(),
            Test::Prefix(p) => value.starts_with(p),
            Test::Subpath(root) => under(value, root),
            Test::Regex(re) => re.is_match(value),
        }
    }
}

fn under(path: &[u8], root: &[u8]) -> bool {
    if root == b"/" {
        return path.starts_with(b"/");
    }
    path.starts_with(root) && (path.len() == root.len() || path[root.len()] == b'/')
}

/// A compiled filter expression. `display` strings are SBPL-like text with
/// parameters already substituted, for explanations.
#[derive(Debug, Clone)]
pub enum Filter {
    Test {
        subject: Subject,
        test: Test,
        display: String,
    },
    /// `(target ...)` of `signal`: only `self` and `others` are decided.
    Target(String),
    /// A socket filter on inet addresses: never matches an AF_UNIX path
    /// or a file; decides a remote address when `test` is `Ok`, and says
    /// why not otherwise.
    InetAddress {
        test: Result<Endpoint, String>,
        display: String,
    },
    /// `(ioctl-command N)`: the ioctl's command number.
    IoctlCommand {
        command: u64,
        display: String,
    },
    /// `(socket-domain N)`: decided for AF_UNIX paths only.
    SocketDomain {
        unix: bool,
        display: String,
    },
    Any(Vec<Filter>),
    All(Vec<Filter>),
    Not(Box<Filter>),
    /// A filter the model cannot decide, with the reason.
    Undecidable(String),
}

const NO_ARG: &str = "the request carries no argument for this filter";

impl Filter {
    /// Matches `arg` (the request's argument, paths already resolved).
    pub fn matches(&self, arg: Option<&Arg>) -> Tri<'_> {
        match self {
            Filter::Test { subject, test, .. } => match subject.pick(arg) {
                Ok(Some(value)) => bool_tri(test.check(value)),
                Ok(None) => Tri::No,
                Err(()) => Tri::Maybe(NO_ARG),
            },
            Filter::Target(who) => match (who.as_str(), arg) {
                // The process itself is in its own sandbox and process group
                // and is not its own child.
                ("self" | "same-sandbox" | "pgrp", Some(Arg::Target(t))) if t == "self" => Tri::Yes,
                ("children" | "others", Some(Arg::Target(t))) if t == "self" => Tri::No,
                ("self", Some(Arg::Target(_))) => Tri::No,
                ("others", Some(Arg::Target(t))) if t == "others" => Tri::Yes,
                (_, Some(Arg::Target(_))) => {
                    Tri::Maybe("this target filter is decided only for the process itself")
                }
                (_, None) => Tri::Maybe("the request names no signal target"),
                (_, Some(_)) => Tri::No,
            },
            Filter::InetAddress { test, .. } => match (arg, test) {
                (Some(Arg::Path(_) | Arg::Ioctl { .. }), _) => Tri::No,
                (Some(Arg::Remote(addr)), Ok(endpoint)) => endpoint.matches(addr),
                (Some(Arg::Remote(_)), Err(why)) => Tri::Maybe(why),
                (None, _) => Tri::Maybe(NO_ARG),
                (Some(_), _) => {
                    Tri::Maybe("inet address filters are decided only for remote addresses")
                }
            },
            Filter::IoctlCommand { command, .. } => match arg {
                Some(Arg::Ioctl { command: c, .. }) => bool_tri(c == command),
                Some(Arg::Path(_)) | None => Tri::Maybe("the request carries no ioctl command"),
                Some(_) => Tri::No,
            },
            Filter::SocketDomain { unix, .. } => match arg {
                Some(Arg::Path(_)) => bool_tri(*unix),
                Some(Arg::Remote(_)) if *unix => Tri::No,
                _ => Tri::Maybe("socket-domain is decided only for AF_UNIX socket paths"),
            },
            Filter::Any(items) => any(items, arg),
            Filter::All(items) => all(items, arg),
            Filter::Not(inner) => match inner.matches(arg) {
                Tri::Yes => Tri::No,
                Tri::No => Tri::Yes,
                maybe => maybe,
            },
            Filter::Undecidable(reason) => Tri::Maybe(reason),
        }
    }

    /// The part of the filter that made it match, for explanations: the
    /// first matching alternative of an `Any`, else the whole filter.
    pub fn witness(&self, arg: Option<&Arg>) -> &Filter {
        match self {
            Filter::Any(items) => items
                .iter()
                .find(|f| f.matches(arg) == Tri::Yes)
                .map_or(self, |f| f.witness(arg)),
            _ => self,
        }
    }

    /// Appends the SBPL-like text of the filter to `out`.
    pub fn write_display(&self, out: &mut String) {
        match self {
            Filter::Test { display, .. }
            | Filter::InetAddress { display, .. }
            | Filter::IoctlCommand { display, .. }
            | Filter::SocketDomain { display, .. } => out.push_str(display),
            other => out.push_str(&other.display()),
        }
    }

    /// SBPL-like text of the filter.
    pub fn display(&self) -> String {
        match self {
            Filter::Test { display, .. }
            | Filter::InetAddress { display, .. }
            | Filter::IoctlCommand { display, .. }
            | Filter::SocketDomain { display, .. } => display.clone(),
            Filter::Target(who) => format!("(target {who})"),
            Filter::Any(items) => join("require-any", items),
            Filter::All(items) => join("require-all", items),
            Filter::Not(inner) => format!("(require-not {})", inner.display()),
            Filter::Undecidable(reason) => format!("(undecidable: {reason})"),
        }
    }
}

/// The address side of `(remote ip "HOST:PORT")`. SBPL accepts only `*`
/// and `localhost` as the host, and `*` or a number as the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub family: Family,
    pub host: HostPattern,
    /// `None`: any port (`*`).
    pub port: Option<u16>,
}

/// The host side of an endpoint pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostPattern {
    /// `*`
    Any,
    /// `localhost`: the loopback address.
    Localhost,
}

/// Which address family an inet filter names (`ip`, `ip4`, `ip6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
}

impl Endpoint {
    /// Parses the rule side, "HOST:PORT"; `Err` says why it is not decided.
    pub fn parse(family: Family, text: &str) -> Result<Endpoint, String> {
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("{text:?} is not HOST:PORT"))?;
        let host = match host {
            "*" => HostPattern::Any,
            "localhost" => HostPattern::Localhost,
            other => return Err(format!("host {other:?}: only * and localhost are modelled")),
        };
        let port = match port {
            "*" => None,
            n => Some(
                n.parse::<u16>()
                    .map_err(|_| format!("port {n:?} is neither * nor a port number"))?,
            ),
        };
        Ok(Endpoint { family, host, port })
    }

    /// Matches a request's "HOST:PORT" (IPv6 hosts may be bracketed).
    fn matches(&self, addr: &str) -> Tri<'static> {
        let Some((host, port)) = addr.rsplit_once(':') else {
            return Tri::Maybe("the request's remote address is not HOST:PORT");
        };
        let Ok(port) = port.parse::<u16>() else {
            return Tri::Maybe("the request's remote port is not a number");
        };
        if self.port.is_some_and(|want| want != port) {
            return Tri::No;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip = host.parse::<std::net::IpAddr>().ok();
        let family = match (self.family, ip) {
            (Family::Any, _) => Tri::Yes,
            (Family::V4, Some(ip)) => bool_tri(ip.is_ipv4()),
            (Family::V6, Some(ip)) => bool_tri(ip.is_ipv6()),
            (_, None) => Tri::Maybe("the request names a host, not an address of one family"),
        };
        let host = match self.host {
            HostPattern::Any => Tri::Yes,
            HostPattern::Localhost if matches!(host, "localhost" | "127.0.0.1" | "::1") => Tri::Yes,
            HostPattern::Localhost if ip.is_some_and(|ip| ip.is_loopback()) => {
                Tri::Maybe("whether localhost covers every loopback address is not known")
            }
            HostPattern::Localhost => Tri::No,
        };
        and(family, host)
    }
}

/// Kleene AND of two answers.
fn and<'a>(a: Tri<'a>, b: Tri<'a>) -> Tri<'a> {
    match (a, b) {
        (Tri::No, _) | (_, Tri::No) => Tri::No,
        (Tri::Maybe(r), _) | (_, Tri::Maybe(r)) => Tri::Maybe(r),
        (Tri::Yes, Tri::Yes) => Tri::Yes,
    }
}

fn join(head: &str, items: &[Filter]) -> String {
    let parts: Vec<String> = items.iter().map(Filter::display).collect();
    format!("({head} {})", parts.join(" "))
}

fn bool_tri(b: bool) -> Tri<'static> {
    if b {
        Tri::Yes
    } else {
        Tri::No
    }
}

/// Kleene OR: any Yes wins; else any Maybe; else No.
fn any<'a>(items: &'a [Filter], arg: Option<&Arg>) -> Tri<'a> {
    let mut maybe = None;
    for f in items {
        match f.matches(arg) {
            Tri::Yes => return Tri::Yes,
            Tri::Maybe(r) => maybe = maybe.or(Some(r)),
            Tri::No => {}
        }
    }
    maybe.map_or(Tri::No, Tri::Maybe)
}

/// Kleene AND: any No wins; else any Maybe; else Yes.
fn all<'a>(items: &'a [Filter], arg: Option<&Arg>) -> Tri<'a> {
    let mut maybe = None;
    for f in items {
        match f.matches(arg) {
            Tri::No => return Tri::No,
            Tri::Maybe(r) => maybe = maybe.or(Some(r)),
            Tri::Yes => {}
        }
    }
    maybe.map_or(Tri::Yes, Tri::Maybe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Arg {
        Arg::Path(p.to_string())
    }

    fn subpath(root: &str) -> Filter {
        Filter::Test {
            subject: Subject::Path,
            test: Test::Subpath(root.into()),
            display: String::new(),
        }
    }

    #[test]
    fn subpath_is_component_wise() {
        let f = subpath("/a");
        assert_eq!(f.matches(Some(&path("/a"))), Tri::Yes);
        assert_eq!(f.matches(Some(&path("/a/b"))), Tri::Yes);
        assert_eq!(f.matches(Some(&path("/ab"))), Tri::No);
        assert_eq!(subpath("/").matches(Some(&path("/x"))), Tri::Yes);
    }

    #[test]
    fn other_argument_kinds_do_not_match_and_missing_ones_are_unknown() {
        let f = subpath("/a");
        assert_eq!(f.matches(Some(&Arg::GlobalName("/a".into()))), Tri::No);
        assert!(matches!(f.matches(None), Tri::Maybe(_)));
    }

    #[test]
    fn kleene_logic() {
        let u = Filter::Undecidable("x".into());
        let a = subpath("/a");
        let arg = path("/a/1");
        assert_eq!(
            Filter::Any(vec![u.clone(), a.clone()]).matches(Some(&arg)),
            Tri::Yes
        );
        assert_eq!(
            Filter::All(vec![u.clone(), subpath("/b")]).matches(Some(&arg)),
            Tri::No
        );
        assert!(matches!(
            Filter::All(vec![u.clone(), a.clone()]).matches(Some(&arg)),
            Tri::Maybe(_)
        ));
        assert_eq!(Filter::Not(Box::new(a)).matches(Some(&arg)), Tri::No);
        assert!(matches!(
            Filter::Not(Box::new(u)).matches(Some(&arg)),
            Tri::Maybe(_)
        ));
    }
}
