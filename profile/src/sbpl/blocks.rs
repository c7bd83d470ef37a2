//! The blocks of a profile, one function per option.
//!
//! Emission order (see [`ORDER`]), and why:
//!
//! 1. `baseline`: `(version 1)` and either `(deny default)` plus what an
//!    ordinary CLI needs, or `(allow default)` with writes refused.
//! 2. `program`: under the strict baseline, read and map the program the
//!    sandbox runs (when the caller names it), and stat its parent
//!    directories. Before `filesystem`, so `denied` still wins.
//! 3. `nested_pty`: ptys inside the sandbox; skipped when `gui_access` is on,
//!    whose block already grants them.
//! 4. `keychain_access`: the Security daemons and keychain paths.
//! 5. `posix_ipc`: `ipc-posix-sem` (with the semaphore-limit sysctls),
//!    `ipc-posix-shm*`.
//! 6. `unix_socket_connects`: AF_UNIX `system-socket`, and
//!    `network-outbound` per literal socket path, in both spellings.
//! 7. `extra_mach_lookups`: extra `global-name`s.
//! 8. `filesystem`: `read_only`, then `read_write`, then (permissive
//!    baseline) the user's secrets denied and the grants naming one of them
//!    repeated, then `denied`. Among filtered rules the last match wins, so
//!    `denied` beats every earlier grant of the same path (baseline,
//!    keychain, read_write); `read_write` beats `read_only` for a path under
//!    both; a secret is reached only through a grant that names it.
//! 9. `network`: deny, allow, or only the loopback proxy port. Allow is
//!    IP-only (plus the resolver's socket): AF_UNIX connects are
//!    `unix_socket_connects`' alone.
//! 10. `gui_access`: the broad GUI surface.
//! 11. `ui`: window-server denies (`ui.disable`), then the clipboard. After
//!     `gui_access` and `extra_mach_lookups` so an explicit `ui` setting wins.
//! 12. `tiocsti`: TIOCSTI denied by `ioctl-command`, always. After every
//!     block that grants `file-ioctl` (`nested_pty`, `gui_access`), so none
//!     of them re-grants terminal input injection.
//! 13. `hid`: the HID user clients, for `ui.injection`. Last, so nothing
//!     after it can re-grant HID when injection is off.
//!
//! Under `baseline = "permissive"`, an option that is off emits the matching
//! deny where one is known (pty, keychain daemons, POSIX IPC, IP network
//! and the resolver socket),
//! so every option means the same under both baselines.

use super::{Block, ResolvedProgram, Values};
use crate::config::{Baseline, Clipboard, ConfigError, Outbound, OutboundMode, ResolvedConfig};

/// Block names in emission order.
pub const ORDER: [&str; 13] = [
    "baseline",
    "program",
    "nested_pty",
    "keychain_access",
    "posix_ipc",
    "unix_socket_connects",
    "extra_mach_lookups",
    "filesystem",
    "network",
    "gui_access",
    "ui",
    "tiocsti",
    "hid",
];

const BASELINE_STRICT: &str = include_str!("../../sbpl/baseline_strict.sbpl");
const BASELINE_PERMISSIVE: &str = include_str!("../../sbpl/baseline_permissive.sbpl");
const PTY: &str = include_str!("../../sbpl/pty.sbpl");
const PTY_DENY: &str = include_str!("../../sbpl/pty_deny.sbpl");
const KEYCHAIN: &str = include_str!("../../sbpl/keychain.sbpl");
const KEYCHAIN_DENY: &str = include_str!("../../sbpl/keychain_deny.sbpl");
const NETWORK_ALLOW: &str = include_str!("../../sbpl/network_allow.sbpl");
const NETWORK_DENY: &str = include_str!("../../sbpl/network_deny.sbpl");
const GUI_ACCESS: &str = include_str!("../../sbpl/gui_access.sbpl");
const UI_DISABLE: &str = include_str!("../../sbpl/ui_disable.sbpl");
const CLIPBOARD_ALLOW: &str = include_str!("../../sbpl/clipboard_allow.sbpl");
const CLIPBOARD_DENY: &str = include_str!("../../sbpl/clipboard_deny.sbpl");
const HID_ALLOW: &str = include_str!("../../sbpl/hid_allow.sbpl");
const HID_DENY: &str = include_str!("../../sbpl/hid_deny.sbpl");
const TIOCSTI_DENY: &str = include_str!("../../sbpl/tiocsti_deny.sbpl");
const SEM_ALLOW: &str = include_str!("../../sbpl/sem_allow.sbpl");
const UNIX_SOCKET_HEAD: &str = include_str!("../../sbpl/unix_socket_head.sbpl");

type BlockResult = Result<Option<String>, ConfigError>;

/// Every non-empty block in [`ORDER`].
pub(super) fn all(
    c: &ResolvedConfig,
    program: Option<&ResolvedProgram>,
    v: &mut Values,
) -> Result<Vec<Block>, ConfigError> {
    let parts: [(&'static str, BlockResult); 13] = [
        (ORDER[0], Ok(Some(baseline(c)))),
        (ORDER[1], program_block(c, program, v)),
        (ORDER[2], Ok(nested_pty(c))),
        (ORDER[3], keychain_access(c, v)),
        (ORDER[4], Ok(posix_ipc(c))),
        (ORDER[5], unix_socket_connects(c, v)),
        (ORDER[6], extra_mach_lookups(c, v)),
        (ORDER[7], filesystem(c, v)),
        (ORDER[8], Ok(network(c))),
        (ORDER[9], Ok(gui_access(c))),
        (ORDER[10], Ok(ui(c))),
        (ORDER[11], Ok(Some(TIOCSTI_DENY.to_string()))),
        (ORDER[12], Ok(hid(c))),
    ];
    let mut blocks = Vec::with_capacity(parts.len());
    for (name, part) in parts {
        if let Some(body) = part? {
            blocks.push(Block {
                name,
                text: format!(";; {name}\n{body}"),
            });
        }
    }
    Ok(blocks)
}

fn baseline(c: &ResolvedConfig) -> String {
    match c.baseline {
        Baseline::Strict => BASELINE_STRICT.to_string(),
        Baseline::Permissive => BASELINE_PERMISSIVE.to_string(),
    }
}

/// The program reads and maps its own image: dyld maps it and
/// Security.framework reads the calling executable (a denied read surfaced
/// as "SecPolicyCreateSSL error: 0", nolabs-ai/nono/issues/1865). Its
/// parent directories need metadata for the lookup to get through. Only
/// the strict baseline needs it; the permissive one allows reads.
fn program_block(
    c: &ResolvedConfig,
    program: Option<&ResolvedProgram>,
    v: &mut Values,
) -> BlockResult {
    let (Baseline::Strict, Some(program)) = (c.baseline, program) else {
        return Ok(None);
    };
    let mut text = String::from(
        "; The program's own image (nolabs-ai/nono/issues/1865: Security.framework\n\
         ; reads the calling executable), and metadata on its parent directories.\n",
    );
    for (i, path) in program.files.iter().enumerate() {
        let expr = v.expr(format!("PROGRAM_{i}"), "program", path)?;
        text.push_str(&format!(
            "(allow file-read* file-map-executable (literal {expr}))\n"
        ));
    }
    if !program.dirs.is_empty() {
        text.push_str("(allow file-read-metadata");
        for (i, dir) in program.dirs.iter().enumerate() {
            let expr = v.expr(format!("PROGRAM_DIR_{i}"), "program", dir)?;
            text.push_str(&format!("\n  (literal {expr})"));
        }
        text.push_str(")\n");
    }
    Ok(Some(text))
}

fn nested_pty(c: &ResolvedConfig) -> Option<String> {
    match (c.gui_access, c.nested_pty, c.baseline) {
        (true, _, _) => None,
        (false, true, _) => Some(PTY.to_string()),
        (false, false, Baseline::Permissive) => Some(PTY_DENY.to_string()),
        (false, false, Baseline::Strict) => None,
    }
}

fn keychain_access(c: &ResolvedConfig, v: &mut Values) -> BlockResult {
    if !c.keychain_access {
        return Ok(deny_when_permissive(c, KEYCHAIN_DENY));
    }
    let mut text = KEYCHAIN.to_string();
    if let Some(dir) = &c.keychain_dir {
        let expr = v.expr("KEYCHAIN_DIR".into(), "keychain_access", dir)?;
        text.push_str(&format!(
            "(allow file-read* file-write* (subpath {expr}))\n"
        ));
    }
    Ok(Some(text))
}

fn posix_ipc(c: &ResolvedConfig) -> Option<String> {
    let mut text = String::new();
    for (on, allow, op) in [
        (c.posix_ipc.semaphores, SEM_ALLOW, "ipc-posix-sem"),
        (
            c.posix_ipc.shared_memory,
            "(allow ipc-posix-shm*)\n",
            "ipc-posix-shm*",
        ),
    ] {
        match (on, c.baseline) {
            (true, _) => text.push_str(allow),
            (false, Baseline::Permissive) => text.push_str(&format!("(deny {op})\n")),
            (false, Baseline::Strict) => {}
        }
    }
    non_empty(text)
}

/// The AF_UNIX socket rule, then one connect rule per entry of
/// [`socket_paths`] (why both spellings: `sbpl/unix_socket_head.sbpl`).
fn unix_socket_connects(c: &ResolvedConfig, v: &mut Values) -> BlockResult {
    let mut rules = String::new();
    for (k, (i, spelled)) in socket_paths(&c.unix_socket_connects)
        .into_iter()
        .enumerate()
    {
        let key = format!("unix_socket_connects[{i}]");
        let expr = v.expr(format!("UNIX_SOCKET_{k}"), &key, &spelled)?;
        rules.push_str(&format!("(allow network-outbound (literal {expr}))\n"));
    }
    if rules.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!("{UNIX_SOCKET_HEAD}{rules}")))
}

/// The socket paths the profile names, in emission order, each once: every
/// resolved path (`/private/tmp/x`) followed, for the three `/private`
/// roots, by its spelling through the symlink (`/tmp/x`). Each comes with
/// the index of the config entry it came from.
pub fn socket_paths(resolved: &[String]) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, path) in resolved.iter().enumerate() {
        let short = ["/tmp", "/var", "/etc"].iter().find_map(|root| {
            let rest = path.strip_prefix("/private")?.strip_prefix(root)?;
            (rest.is_empty() || rest.starts_with('/')).then(|| format!("{root}{rest}"))
        });
        for spelled in std::iter::once(path.clone()).chain(short) {
            if !out.iter().any(|(_, p)| *p == spelled) {
                out.push((i, spelled));
            }
        }
    }
    out
}

fn extra_mach_lookups(c: &ResolvedConfig, v: &mut Values) -> BlockResult {
    let mut text = String::new();
    for (i, name) in c.extra_mach_lookups.iter().enumerate() {
        let key = format!("extra_mach_lookups[{i}]");
        let expr = v.expr(format!("MACH_LOOKUP_{i}"), &key, name)?;
        text.push_str(&format!("(allow mach-lookup (global-name {expr}))\n"));
    }
    Ok(non_empty(text))
}

fn filesystem(c: &ResolvedConfig, v: &mut Values) -> BlockResult {
    let fs = &c.filesystem;
    let read_only = (&fs.read_only[..], "filesystem.read_only", "READ_ONLY");
    let read_write = (&fs.read_write[..], "filesystem.read_write", "READ_WRITE");
    let denied = (&fs.denied[..], "filesystem.denied", "DENIED");
    let mut text = String::new();
    grant_rules(&mut text, v, read_only, "allow file-read*", Grants::All)?;
    grant_rules(
        &mut text,
        v,
        read_write,
        "allow file-read* file-write*",
        Grants::All,
    )?;
    if !c.secrets.is_empty() {
        secret_rules(&mut text, c, v)?;
    }
    grant_rules(
        &mut text,
        v,
        denied,
        "deny file-read* file-write*",
        Grants::All,
    )?;
    Ok(non_empty(text))
}

/// Which entries of a grant list [`grant_rules`] writes.
#[derive(Clone, Copy)]
enum Grants<'a> {
    All,
    /// Only those naming one of these secret stores.
    Naming(&'a [String]),
}

/// One `(RULE (subpath PATH))` per entry of `list` (paths, key, param).
fn grant_rules(
    text: &mut String,
    v: &mut Values,
    (paths, key, param): (&[String], &str, &str),
    rule: &str,
    which: Grants,
) -> Result<(), ConfigError> {
    for (i, path) in paths.iter().enumerate() {
        if let Grants::Naming(secrets) = which {
            if !secrets.iter().any(|s| crate::secrets::names(path, s)) {
                continue;
            }
        }
        let expr = v.expr(format!("{param}_{i}"), &format!("{key}[{i}]"), path)?;
        text.push_str(&format!("({rule} (subpath {expr}))\n"));
    }
    Ok(())
}

/// The user's secrets (permissive baseline): denied after the grants, so a
/// broad grant does not reach them, then the grants that name a store
/// again, so only those do. `denied` still comes after and wins.
fn secret_rules(text: &mut String, c: &ResolvedConfig, v: &mut Values) -> Result<(), ConfigError> {
    text.push_str("; The user's secrets: denied unless a grant names them (profile::secrets).\n");
    for (i, path) in c.secrets.iter().enumerate() {
        let expr = v.expr(format!("SECRET_{i}"), crate::secrets::KEY, path)?;
        text.push_str(&format!("(deny file-read* file-write* (subpath {expr}))\n"));
    }
    let fs = &c.filesystem;
    let naming = Grants::Naming(&c.secrets);
    let read_only = (&fs.read_only[..], "filesystem.read_only", "READ_ONLY");
    let read_write = (&fs.read_write[..], "filesystem.read_write", "READ_WRITE");
    grant_rules(text, v, read_only, "allow file-read*", naming)?;
    grant_rules(text, v, read_write, "allow file-read* file-write*", naming)
}

fn network(c: &ResolvedConfig) -> Option<String> {
    match (c.outbound, c.baseline) {
        (Outbound::Mode(OutboundMode::Deny), Baseline::Strict) => None,
        (Outbound::Mode(OutboundMode::Deny), Baseline::Permissive) => {
            Some(NETWORK_DENY.to_string())
        }
        (Outbound::Mode(OutboundMode::Allow), _) => Some(NETWORK_ALLOW.to_string()),
        (Outbound::Proxy { proxy_port }, baseline) => {
            let mut text = match baseline {
                Baseline::Strict => String::new(),
                Baseline::Permissive => NETWORK_DENY.to_string(),
            };
            text.push_str(&format!(
                "(allow network-outbound (remote ip \"localhost:{proxy_port}\"))\n"
            ));
            Some(text)
        }
    }
}

fn gui_access(c: &ResolvedConfig) -> Option<String> {
    c.gui_access.then(|| GUI_ACCESS.to_string())
}

fn ui(c: &ResolvedConfig) -> Option<String> {
    let mut text = String::new();
    if c.ui.disable {
        text.push_str(UI_DISABLE);
    }
    text.push_str(match c.ui.clipboard {
        Clipboard::None => CLIPBOARD_DENY,
        Clipboard::Read | Clipboard::Write | Clipboard::All => CLIPBOARD_ALLOW,
    });
    non_empty(text)
}

fn hid(c: &ResolvedConfig) -> Option<String> {
    Some(if c.ui.injection { HID_ALLOW } else { HID_DENY }.to_string())
}

fn deny_when_permissive(c: &ResolvedConfig, deny: &str) -> Option<String> {
    match c.baseline {
        Baseline::Permissive => Some(deny.to_string()),
        Baseline::Strict => None,
    }
}

fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}
