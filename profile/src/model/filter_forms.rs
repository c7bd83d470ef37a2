//! Filter forms (`(subpath ...)`, `(global-name ...)`, `(require-not ...)`)
//! turned into [`Filter`]s, from already evaluated arguments. Regexes are
//! compiled here, once per profile.

use super::eval::Value;
use super::filter::{Endpoint, Family, Filter, Subject, Test};
use super::regex;

/// How a string-taking filter compares.
#[derive(Clone, Copy)]
enum Kind {
    Exact,
    Prefix,
    Subpath,
    Regex,
}

/// String filters by name: what they look at and how.
const STRING_FILTERS: &[(&str, Subject, Kind)] = &[
    ("literal", Subject::Path, Kind::Exact),
    ("path", Subject::Path, Kind::Exact),
    ("path-literal", Subject::Path, Kind::Exact),
    ("subpath", Subject::Path, Kind::Subpath),
    ("prefix", Subject::Path, Kind::Prefix),
    ("path-prefix", Subject::Path, Kind::Prefix),
    ("regex", Subject::Path, Kind::Regex),
    ("path-regex", Subject::Path, Kind::Regex),
    ("global-name", Subject::GlobalName, Kind::Exact),
    ("global-name-prefix", Subject::GlobalName, Kind::Prefix),
    ("global-name-regex", Subject::GlobalName, Kind::Regex),
    ("local-name", Subject::LocalName, Kind::Exact),
    ("local-name-prefix", Subject::LocalName, Kind::Prefix),
    ("local-name-regex", Subject::LocalName, Kind::Regex),
    // SOURCE/MEASURED-ELSEWHERE: the user-client spelling is an alias of the
    // registry-entry one since 10.15.
    ("iokit-user-client-class", Subject::IokitClass, Kind::Exact),
    (
        "iokit-registry-entry-class",
        Subject::IokitClass,
        Kind::Exact,
    ),
    (
        "iokit-registry-entry-class-prefix",
        Subject::IokitClass,
        Kind::Prefix,
    ),
    (
        "iokit-registry-entry-class-regex",
        Subject::IokitClass,
        Kind::Regex,
    ),
    // SOURCE: sbpl1.scm (10.15.2) defines it as the registry-entry one.
    (
        "iokit-user-client-class-regex",
        Subject::IokitClass,
        Kind::Regex,
    ),
    ("ipc-posix-name", Subject::IpcName, Kind::Exact),
    ("ipc-posix-name-prefix", Subject::IpcName, Kind::Prefix),
    ("ipc-posix-name-regex", Subject::IpcName, Kind::Regex),
    ("sysctl-name", Subject::SysctlName, Kind::Exact),
    ("sysctl-name-prefix", Subject::SysctlName, Kind::Prefix),
    ("sysctl-name-regex", Subject::SysctlName, Kind::Regex),
];

/// Filters that depend on run-time state the model does not have.
const RUNTIME_FILTERS: &[(&str, &str)] = &[
    (
        "vnode-type",
        "vnode-type depends on the file's type at run time",
    ),
    ("extension", "sandbox extensions are issued at run time"),
    (
        "extension-class",
        "sandbox extensions are issued at run time",
    ),
    (
        "file-mode",
        "file-mode depends on the file's permissions at run time",
    ),
    ("xattr", "xattr filters are not modelled"),
    (
        "appleevent-destination",
        "appleevent destinations are not modelled",
    ),
    ("preference-domain", "preference domains are not modelled"),
    ("entitlement-is-present", "entitlements are not modelled"),
    ("entitlement-is-bool-true", "entitlements are not modelled"),
    ("signing-identifier", "code signatures are not modelled"),
    ("process-path", "the acting process's path is not modelled"),
    ("debug-mode", "debug mode is not modelled"),
    ("device-conforms-to", "IOKit conformance is not modelled"),
    ("kext-bundle-id", "kext bundle ids are not modelled"),
    ("require-entitlement", "entitlements are not modelled"),
    ("storage-class", "storage classes are not modelled"),
    (
        "mount-relative-path",
        "mount-relative paths are not modelled",
    ),
    (
        "mount-relative-path-regex",
        "mount-relative paths are not modelled",
    ),
    (
        "mount-relative-literal",
        "mount-relative paths are not modelled",
    ),
    (
        "mount-relative-regex",
        "mount-relative paths are not modelled",
    ),
    ("xattr-regex", "xattr filters are not modelled"),
    ("xattr-prefix", "xattr filters are not modelled"),
    (
        "extension-class-regex",
        "sandbox extensions are issued at run time",
    ),
    (
        "extension-path-ancestor",
        "sandbox extensions are issued at run time",
    ),
    (
        "process-attribute",
        "attributes of the acting process are not modelled",
    ),
    (
        "system-attribute",
        "system attributes (apple-internal, debug mode) are not modelled",
    ),
    ("file-attribute", "file attributes are not modelled"),
    ("xpc-service-name", "XPC service names are not modelled"),
    (
        "xpc-service-name-prefix",
        "XPC service names are not modelled",
    ),
    (
        "xpc-service-name-regex",
        "XPC service names are not modelled",
    ),
    ("right-name", "authorization rights are not modelled"),
    ("right-name-prefix", "authorization rights are not modelled"),
    ("right-name-regex", "authorization rights are not modelled"),
    (
        "preference-domain-prefix",
        "preference domains are not modelled",
    ),
    (
        "preference-domain-regex",
        "preference domains are not modelled",
    ),
    ("iokit-property", "IOKit properties are not modelled"),
    ("iokit-property-prefix", "IOKit properties are not modelled"),
    ("iokit-property-regex", "IOKit properties are not modelled"),
    ("iokit-connection", "IOKit connections are not modelled"),
    (
        "iokit-usb-interface-class",
        "IOKit USB interface classes are not modelled",
    ),
    (
        "iokit-usb-interface-subclass",
        "IOKit USB interface classes are not modelled",
    ),
    ("fsctl-command", "fsctl commands are not modelled"),
    ("control-name", "kernel control names are not modelled"),
    ("nvram-variable", "NVRAM variables are not modelled"),
    ("nvram-variable-prefix", "NVRAM variables are not modelled"),
    ("nvram-variable-regex", "NVRAM variables are not modelled"),
    ("socket-protocol", "socket protocols are not modelled"),
    ("socket-type", "socket types are not modelled"),
    ("notification-name", "notification names are not modelled"),
    (
        "notification-name-prefix",
        "notification names are not modelled",
    ),
    (
        "notification-name-regex",
        "notification names are not modelled",
    ),
    ("info-type", "process-info types are not modelled"),
    ("process-name", "the acting process's name is not modelled"),
    (
        "process-name-prefix",
        "the acting process's name is not modelled",
    ),
    (
        "process-name-regex",
        "the acting process's name is not modelled",
    ),
    (
        "process-path-prefix",
        "the acting process's path is not modelled",
    ),
    (
        "process-path-regex",
        "the acting process's path is not modelled",
    ),
    (
        "target-signing-identifier",
        "code signatures are not modelled",
    ),
    (
        "signing-identifier-prefix",
        "code signatures are not modelled",
    ),
    ("semaphore-owner", "semaphore owners are not modelled"),
    ("uid", "user ids are not modelled"),
    ("state-flag", "state flags are not modelled"),
    ("entitlement-value", "entitlements are not modelled"),
    ("entitlement-value-regex", "entitlements are not modelled"),
    ("%entitlement-load", "entitlements are not modelled"),
    ("%entitlement-boolean", "entitlements are not modelled"),
    ("%entitlement-string", "entitlements are not modelled"),
    ("%entitlement-string-regex", "entitlements are not modelled"),
    ("kext-bundle-id-prefix", "kext bundle ids are not modelled"),
    (
        "apple-event-destination",
        "appleevent destinations are not modelled",
    ),
    (
        "appleevent-destination-prefix",
        "appleevent destinations are not modelled",
    ),
];

/// Whether `name` is a filter form [`build`] knows.
pub fn is_filter(name: &str) -> bool {
    STRING_FILTERS.iter().any(|(n, _, _)| *n == name)
        || RUNTIME_FILTERS.iter().any(|(n, _)| *n == name)
        || matches!(
            name,
            "require-all"
                | "path-ancestors"
                | "require-any"
                | "require-not"
                | "target"
                | "socket-domain"
                | "ioctl-command"
                | "remote"
                | "local"
                | "to"
                | "from"
        )
}

/// Builds the filter `name` names from `args`; `None` when `name` is not a
/// filter form.
pub fn build<'a>(name: &str, args: &[Value<'_>]) -> Option<Value<'a>> {
    if let Some(&(_, subject, kind)) = STRING_FILTERS.iter().find(|(n, _, _)| *n == name) {
        return Some(Value::Filter(strings(name, subject, kind, args)));
    }
    if name == "path-ancestors" {
        return Some(Value::Filter(path_ancestors(args)));
    }
    if let Some((_, why)) = RUNTIME_FILTERS.iter().find(|(n, _)| *n == name) {
        return Some(Value::Filter(Filter::Undecidable(format!(
            "({name} ...): {why}"
        ))));
    }
    let f = match name {
        "require-all" => Filter::All(args.iter().map(as_filter).collect()),
        "require-any" => Filter::Any(args.iter().map(as_filter).collect()),
        "require-not" => match args {
            [one] => Filter::Not(Box::new(as_filter(one))),
            _ => Filter::Undecidable("require-not takes exactly one filter".into()),
        },
        "target" => match args {
            [Value::Sym(who)] => Filter::Target(who.clone()),
            _ => Filter::Undecidable("target with an unexpected argument".into()),
        },
        "socket-domain" => socket_domain(args),
        "ioctl-command" => ioctl_command(args),
        "remote" | "local" => socket_address(name, args),
        // SOURCE: sbpl1.scm (10.15.2), (define from local) (define to remote).
        "to" => socket_address("remote", args),
        "from" => socket_address("local", args),
        _ => return None,
    };
    Some(Value::Filter(f))
}

/// `(path-ancestors P...)`: SOURCE sbpl1.scm (10.15.2): a literal for each
/// directory above each P, "/" included, P itself not.
fn path_ancestors(args: &[Value]) -> Filter {
    let mut parts = Vec::new();
    for a in args {
        let Value::Str(p) = a else {
            return Filter::Undecidable(format!("(path-ancestors {}): not a string", describe(a)));
        };
        if !(p.starts_with(b"/") || p.starts_with(b"${")) {
            return Filter::Undecidable(format!(
                "(path-ancestors {}): sandbox-exec refuses a path that does not start with /",
                quote(p)
            ));
        }
        // With a trailing slash, every slash but the last ends an ancestor.
        let mut with_slash = p.clone();
        if !with_slash.ends_with(b"/") {
            with_slash.push(b'/');
        }
        let slashes: Vec<usize> = (0..with_slash.len())
            .filter(|&i| with_slash[i] == b'/')
            .collect();
        for &i in &slashes[..slashes.len() - 1] {
            let dir = if i == 0 {
                b"/".to_vec()
            } else {
                p[..i].to_vec()
            };
            parts.push(one_string(
                "literal",
                Subject::Path,
                Kind::Exact,
                &Value::Str(dir),
            ));
        }
    }
    Filter::Any(parts)
}

/// A value in filter position: filters pass, anything else is undecidable.
pub fn as_filter(v: &Value) -> Filter {
    match v {
        Value::Filter(f) => f.clone(),
        Value::Unknown(r) => Filter::Undecidable(r.clone()),
        Value::List(items) => Filter::Any(items.iter().map(as_filter).collect()),
        other => Filter::Undecidable(format!("{} is not a filter", describe(other))),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Bool(false) => "#f (an undefined param?)".into(),
        Value::Bool(true) => "#t".into(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) => quote(s),
        Value::Sym(s) => s.clone(),
        _ => "a value".into(),
    }
}

fn strings(name: &str, subject: Subject, kind: Kind, args: &[Value]) -> Filter {
    let mut alternatives: Vec<Filter> = args
        .iter()
        .map(|a| one_string(name, subject, kind, a))
        .collect();
    match alternatives.len() {
        1 => alternatives.remove(0),
        0 => Filter::Undecidable(format!("({name}) without an argument")),
        _ => Filter::Any(alternatives),
    }
}

fn one_string(name: &str, subject: Subject, kind: Kind, arg: &Value) -> Filter {
    let value = match arg {
        Value::Str(s) => s.clone(),
        Value::Unknown(r) => return Filter::Undecidable(format!("({name} ...): {r}")),
        other => return Filter::Undecidable(format!("({name} {}): not a string", describe(other))),
    };
    let test = match kind {
        Kind::Exact => Test::Exact(value.clone()),
        Kind::Prefix => Test::Prefix(value.clone()),
        Kind::Subpath => return subpath(name, value),
        Kind::Regex => match regex::compile(&value) {
            Ok(re) => Test::Regex(re),
            Err(why) => return Filter::Undecidable(why),
        },
    };
    let shown = match kind {
        Kind::Regex => regex::show(&value),
        _ => quote(&value),
    };
    Filter::Test {
        subject,
        test,
        display: format!("({name} {shown})"),
    }
}

fn subpath(name: &str, value: Vec<u8>) -> Filter {
    let display = format!("({name} {})", quote(&value));
    if value.len() > 1 && value.ends_with(b"/") {
        // sbpl.md: a subpath must not end with "/"; what Seatbelt does with
        // one is not known, so only "not under it at all" is decided.
        let trimmed = value[..value.len() - 1].to_vec();
        return Filter::All(vec![
            Filter::Undecidable(format!(
                "{display} ends with \"/\", whose meaning is not known"
            )),
            Filter::Test {
                subject: Subject::Path,
                test: Test::Subpath(trimmed),
                display,
            },
        ]);
    }
    Filter::Test {
        subject: Subject::Path,
        test: Test::Subpath(value),
        display,
    }
}

fn socket_domain(args: &[Value]) -> Filter {
    let unix = match args {
        [Value::Sym(s)] => matches!(s.as_str(), "AF_UNIX" | "AF_LOCAL"),
        [Value::Int(n)] => *n == 1,
        _ => return Filter::Undecidable("socket-domain with an unexpected argument".into()),
    };
    Filter::SocketDomain {
        unix,
        display: format!(
            "(socket-domain {})",
            args.first().map(describe).unwrap_or_default()
        ),
    }
}

/// `(remote unix-socket (path-literal ...))`, `(local ip "*:80")`, ...
fn socket_address(name: &str, args: &[Value]) -> Filter {
    let Some((Value::Sym(family), rest)) = args.split_first() else {
        return Filter::Undecidable(format!("({name} ...) with an unexpected argument"));
    };
    match family.as_str() {
        "unix-socket" | "unix" => match rest {
            [] => Filter::SocketDomain {
                unix: true,
                display: format!("({name} {family})"),
            },
            _ => Filter::Any(rest.iter().map(as_filter).collect()),
        },
        "ip" | "ip4" | "ip6" | "tcp" | "tcp4" | "tcp6" | "udp" | "udp4" | "udp6" => {
            let addr = rest.iter().map(describe).collect::<Vec<_>>().join(" ");
            Filter::InetAddress {
                test: endpoint(name, family, rest),
                display: format!("({name} {family} {addr})"),
            }
        }
        other => Filter::Undecidable(format!("({name} {other} ...) is not modelled")),
    }
}

/// What an inet filter tests, when the model can decide it for a request's
/// remote address.
fn endpoint(side: &str, family: &str, rest: &[Value]) -> Result<Endpoint, String> {
    if side != "remote" {
        return Err(format!(
            "({side} ...) looks at the local address, which requests do not carry"
        ));
    }
    let family = match family {
        "ip" => Family::Any,
        "ip4" => Family::V4,
        "ip6" => Family::V6,
        // The request says nothing of the protocol.
        other => {
            return Err(format!(
                "(remote {other} ...): the request's protocol is not modelled"
            ))
        }
    };
    match rest {
        [Value::Str(text)] => match std::str::from_utf8(text) {
            Ok(text) => Endpoint::parse(family, text),
            Err(_) => Err("the address is not UTF-8".into()),
        },
        [Value::Unknown(r)] => Err(r.clone()),
        _ => Err("(remote ...) takes one \"HOST:PORT\" string".into()),
    }
}

/// `(ioctl-command N)` with a numeric command. Symbolic names and `_IO`
/// macro forms are left undecidable: they are unbound on some releases.
fn ioctl_command(args: &[Value]) -> Filter {
    match args {
        [Value::Int(n)] if *n >= 0 => Filter::IoctlCommand {
            command: *n as u64,
            display: format!("(ioctl-command #x{n:x})"),
        },
        [Value::Unknown(r)] => Filter::Undecidable(format!("(ioctl-command ...): {r}")),
        _ => Filter::Undecidable(format!(
            "(ioctl-command {}): only a non-negative command number is modelled",
            args.iter().map(describe).collect::<Vec<_>>().join(" ")
        )),
    }
}

/// A byte string as an SBPL-like literal for messages.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}
