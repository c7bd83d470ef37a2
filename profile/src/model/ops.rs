//! The operation tree: which operation is consulted after which, and which
//! operations stop at a fallback of their own instead of reaching `default`.

use super::Action;

/// Operations the model knows by name. Requests on other names are still
/// decided (their parent is derived from the name), but the explanation says
/// the name is unknown. SOURCE: operation names in Apple's SBPL profiles.
const KNOWN: &[&str] = &[
    "default",
    "appleevent-send",
    "authorization-right-obtain",
    "boot-arg-set",
    "device*",
    "device-camera",
    "device-microphone",
    "distributed-notification-post",
    "dynamic-code-generation",
    "file*",
    "file-chroot",
    "file-clone",
    "file-ioctl",
    "file-issue-extension",
    "file-link",
    "file-map-executable",
    "file-mknod",
    "file-mount",
    "file-mount-update",
    "file-read*",
    "file-read-data",
    "file-read-metadata",
    "file-read-xattr",
    "file-revoke",
    "file-search",
    "file-test-existence",
    "file-unmount",
    "file-write*",
    "file-write-acl",
    "file-write-create",
    "file-write-data",
    "file-write-flags",
    "file-write-finderinfo",
    "file-write-mode",
    "file-write-owner",
    "file-write-setugid",
    "file-write-times",
    "file-write-unlink",
    "file-write-xattr",
    "generic-issue-extension",
    "hid-control",
    "iokit*",
    "iokit-get-properties",
    "iokit-issue-extension",
    "iokit-open",
    "iokit-open-service",
    "iokit-open-user-client",
    "iokit-set-properties",
    "ipc*",
    "ipc-posix*",
    "ipc-posix-issue-extension",
    "ipc-posix-sem",
    "ipc-posix-sem-create",
    "ipc-posix-sem-open",
    "ipc-posix-sem-post",
    "ipc-posix-sem-unlink",
    "ipc-posix-sem-wait",
    "ipc-posix-shm*",
    "ipc-posix-shm-read*",
    "ipc-posix-shm-read-data",
    "ipc-posix-shm-read-metadata",
    "ipc-posix-shm-write*",
    "ipc-posix-shm-write-create",
    "ipc-posix-shm-write-data",
    "ipc-posix-shm-write-unlink",
    "ipc-sysv*",
    "ipc-sysv-msg",
    "ipc-sysv-sem",
    "ipc-sysv-shm",
    "job-creation",
    "load-unsigned-code",
    "lsopen",
    "mach*",
    "mach-bootstrap",
    "mach-cross-domain-lookup",
    "mach-host*",
    "mach-host-exception-port-set",
    "mach-host-special-port-set",
    "mach-issue-extension",
    "mach-lookup",
    "mach-per-user-lookup",
    "mach-priv*",
    "mach-priv-host-port",
    "mach-priv-task-port",
    "mach-register",
    "mach-task-name",
    "network*",
    "network-bind",
    "network-inbound",
    "network-outbound",
    "nvram*",
    "nvram-delete",
    "nvram-get",
    "nvram-set",
    "process*",
    "process-codesigning-status*",
    "process-exec*",
    "process-exec-interpreter",
    "process-fork",
    "process-info*",
    "process-info-codesignature",
    "process-info-dirtycontrol",
    "process-info-listpids",
    "process-info-pidfdinfo",
    "process-info-pidfileportinfo",
    "process-info-pidinfo",
    "process-info-rusage",
    "process-info-setcontrol",
    "pseudo-tty",
    "signal",
    "socket-ioctl",
    "socket-option-get",
    "socket-option-set",
    "storage-class-map",
    "sysctl*",
    "sysctl-read",
    "sysctl-write",
    "system*",
    "system-acct",
    "system-audit",
    "system-chud",
    "system-debug",
    "system-fsctl",
    "system-info",
    "system-kext*",
    "system-kext-load",
    "system-kext-query",
    "system-kext-unload",
    "system-mac-label",
    "system-nfssvc",
    "system-package-check",
    "system-privilege",
    "system-reboot",
    "system-sched",
    "system-set-time",
    "system-socket",
    "system-suspend-resume",
    "system-swap",
    "user-preference*",
    "user-preference-read",
    "user-preference-write",
];

/// Parents the name alone does not give.
const PARENT_OVERRIDES: &[(&str, &str)] = &[
    // Newer releases split iokit-open; the old name stays their parent (GUESS).
    ("iokit-open-user-client", "iokit-open"),
    ("iokit-open-service", "iokit-open"),
    // The semaphore family hangs off the old single operation name (GUESS).
    ("ipc-posix-sem-create", "ipc-posix-sem"),
    ("ipc-posix-sem-open", "ipc-posix-sem"),
    ("ipc-posix-sem-post", "ipc-posix-sem"),
    ("ipc-posix-sem-unlink", "ipc-posix-sem"),
    ("ipc-posix-sem-wait", "ipc-posix-sem"),
    // Later releases fall back from existence tests to metadata reads (GUESS).
    ("file-test-existence", "file-read-metadata"),
];

/// Names a rule may use that mean another node of the tree.
const ALIASES: &[(&str, &str)] = &[
    ("ipc-posix-sem*", "ipc-posix-sem"),
    ("process-exec", "process-exec*"),
];

/// SOURCE (10.10 sbpl1.scm): operations whose fallback is their own and
/// never reaches `default`.
const OWN_FALLBACK: &[(&str, Action)] = &[
    ("file-map-executable", Action::Allow),
    ("process-info*", Action::Allow),
    ("iokit-get-properties", Action::Allow),
    ("system-privilege", Action::Allow),
    ("job-creation", Action::Deny),
];

/// Every operation name the model knows.
pub fn known() -> &'static [&'static str] {
    KNOWN
}

/// Whether the model knows `op` by name (after aliasing).
pub fn is_known(op: &str) -> bool {
    let op = canonical(op);
    KNOWN.contains(&op)
}

/// The tree node a rule on `op` attaches to.
pub fn canonical(op: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == op)
        .map_or(op, |(_, to)| to)
}

/// The fallback `op` has instead of its parent, if it has one.
pub fn own_fallback(op: &str) -> Option<Action> {
    OWN_FALLBACK
        .iter()
        .find(|(name, _)| *name == op)
        .map(|(_, a)| *a)
}

/// The next operation consulted when nothing at `op` matched; `None` for
/// `default` (the root).
pub fn parent(op: &str) -> Option<String> {
    if op == "default" {
        return None;
    }
    if let Some((_, p)) = PARENT_OVERRIDES.iter().find(|(child, _)| *child == op) {
        return Some((*p).to_string());
    }
    let (base, is_wildcard) = match op.strip_suffix('*') {
        Some(base) => (base, true),
        None => (op, false),
    };
    if !is_wildcard {
        // A concrete name with a family of its own (`process-exec` ->
        // `process-exec*`).
        let family = format!("{op}*");
        if KNOWN.contains(&family.as_str()) {
            return Some(family);
        }
    }
    match base.rfind('-') {
        Some(cut) => Some(format!("{}*", &base[..cut])),
        None => Some("default".to_string()),
    }
}

/// Whether two operations are of one family (`file-read-data` and
/// `file-write*`: both `file`), or either is `default`, which decides
/// every family. What decides whether a form the model did not evaluate
/// could change a decision.
pub fn same_family(a: &str, b: &str) -> bool {
    let (a, b) = (family(canonical(a)), family(canonical(b)));
    a == "default" || b == "default" || a == b
}

/// An operation's family: its name up to the first `-` or `*`.
fn family(op: &str) -> &str {
    let end = op.find(['-', '*']).unwrap_or(op.len());
    &op[..end]
}

/// The operations consulted for a request on `op`, most specific first,
/// ending at `default` or at the first node with its own fallback.
pub fn chain(op: &str) -> Vec<String> {
    let mut out = vec![canonical(op).to_string()];
    while out.len() < 16 {
        let last = out.last().map(String::as_str).unwrap_or("default");
        if own_fallback(last).is_some() {
            break;
        }
        match parent(last) {
            Some(p) => out.push(p),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_read_data_reaches_default_through_its_families() {
        assert_eq!(
            chain("file-read-data"),
            ["file-read-data", "file-read*", "file*", "default"]
        );
    }

    #[test]
    fn shm_ops_walk_every_family() {
        assert_eq!(
            chain("ipc-posix-shm-write-create"),
            [
                "ipc-posix-shm-write-create",
                "ipc-posix-shm-write*",
                "ipc-posix-shm*",
                "ipc-posix*",
                "ipc*",
                "default"
            ]
        );
    }

    #[test]
    fn own_fallbacks_stop_the_chain() {
        assert_eq!(
            chain("process-info-pidinfo"),
            ["process-info-pidinfo", "process-info*"]
        );
        assert_eq!(chain("file-map-executable"), ["file-map-executable"]);
        assert_eq!(chain("job-creation"), ["job-creation"]);
    }

    #[test]
    fn concrete_names_with_families_and_aliases() {
        assert_eq!(
            chain("process-exec"),
            ["process-exec*", "process*", "default"]
        );
        assert_eq!(
            chain("ipc-posix-sem-open"),
            [
                "ipc-posix-sem-open",
                "ipc-posix-sem",
                "ipc-posix*",
                "ipc*",
                "default"
            ]
        );
        assert_eq!(chain("signal"), ["signal", "default"]);
        assert_eq!(
            chain("iokit-open-user-client"),
            ["iokit-open-user-client", "iokit-open", "iokit*", "default"]
        );
    }
}
