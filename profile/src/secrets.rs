//! The user's secrets under the permissive baseline.
//!
//! The permissive baseline reads everywhere, so without this a sandboxed
//! program could read (and, under a broad `read_write` grant, change) the
//! credentials in the home directory. Each store in [`SECRETS`] is denied
//! for reads and writes unless the config grants it *by name*: a
//! `read_only`/`read_write` entry that is the store or a path beneath it.
//! A broad grant (`read_only = ["~"]`) does not count. `keychain_access`
//! grants `~/Library/Keychains` by name.
//!
//! This module is the one place that decides which stores are secrets and
//! when a grant names one; the SBPL builder and the Linux compiler both ask
//! it.

use crate::config::{Baseline, ConfigError};
use crate::linux::Limitation;
use crate::path::{resolve_list, HostEnv, Spelling, Templates};

/// Well-known credential stores under the home directory, each with why it
/// is one. Paths are as a user writes them in a config.
pub const SECRETS: [(&str, &str); 12] = [
    (
        "~/.ssh",
        "SSH private keys, authorized_keys (who may log in) and agent config",
    ),
    ("~/.gnupg", "GnuPG private keys and the trust database"),
    (
        "~/.aws",
        "AWS access keys (credentials) and SSO token cache",
    ),
    (
        "~/Library/Keychains",
        "macOS login and local-items keychain databases",
    ),
    (
        "~/.config/gcloud",
        "Google Cloud SDK OAuth tokens and application-default credentials",
    ),
    ("~/.azure", "Azure CLI access and refresh tokens"),
    (
        "~/.kube",
        "kubeconfig: cluster client certificates and bearer tokens",
    ),
    (
        "~/.docker",
        "config.json holds container registry passwords (base64)",
    ),
    (
        "~/.netrc",
        "plaintext logins read by curl, ftp and git over HTTPS",
    ),
    (
        "~/.git-credentials",
        "git's credential store: plaintext HTTPS tokens",
    ),
    ("~/.config/gh", "GitHub CLI OAuth token (hosts.yml)"),
    (
        "~/.password-store",
        "pass: the encrypted password files and their names",
    ),
];

/// The config key errors about secrets are reported under: the secrets
/// exist because of the baseline.
pub const KEY: &str = "baseline";

/// The secret stores `baseline` denies, in `spelling`, in [`SECRETS`]
/// order; none under the strict baseline (it grants nothing by default).
/// `keychain_access` leaves the keychain directory out (it grants it by
/// name). Needs the home directory: an error names `baseline` otherwise.
pub fn denied_stores(
    baseline: Baseline,
    keychain_access: bool,
    env: &HostEnv,
    spelling: Spelling,
) -> Result<Vec<String>, ConfigError> {
    if baseline == Baseline::Strict {
        return Ok(Vec::new());
    }
    if env.home.is_none() {
        return Err(ConfigError::at(
            KEY,
            "\"permissive\" denies the user's secrets (~/.ssh, ...) but the home \
             directory is unknown (HOME is unset)",
        ));
    }
    let raw: Vec<String> = SECRETS
        .iter()
        .filter(|(path, _)| !(keychain_access && *path == "~/Library/Keychains"))
        .map(|(path, _)| path.to_string())
        .collect();
    resolve_list(&raw, KEY, env, Templates::Literal, spelling)
}

/// True when `grant` names `secret`: it is the store itself or a path
/// beneath it (whole segments). A grant above the store does not name it.
pub fn names(grant: &str, secret: &str) -> bool {
    grant == secret
        || (grant.starts_with(secret) && grant.as_bytes().get(secret.len()) == Some(&b'/'))
}

/// The Linux backend's share: the stores no grant names (to be carved out
/// of every Landlock grant, like `denied`), and what it cannot express.
/// Landlock only adds rights beneath a path, and one carve-out applies to
/// every grant, so a store that a grant names is left whole: a grant beneath
/// the store exposes all of it, and a read-only grant of a store under a
/// broad `read_write` leaves it writable. Both are reported, never silent.
pub fn linux_excepts(
    secrets: &[String],
    read_only: &[String],
    read_write: &[String],
) -> (Vec<String>, Vec<Limitation>) {
    let mut excepts = Vec::new();
    let mut limits = Vec::new();
    let limit = |reason: String| Limitation {
        key: KEY.into(),
        reason,
    };
    for secret in secrets {
        let named = |list: &[String]| list.iter().any(|g| names(g, secret));
        let (by_ro, by_rw) = (named(read_only), named(read_write));
        if !by_ro && !by_rw {
            excepts.push(secret.clone());
            continue;
        }
        let exact = read_only.iter().chain(read_write).any(|g| g == secret);
        if !exact {
            limits.push(limit(format!(
                "a grant beneath {secret} exposes all of it on Linux: Landlock cannot \
                 carve the store out and grant inside it"
            )));
        }
        if let (false, Some(broad)) = (by_rw, read_write.iter().find(|g| names(secret, g))) {
            limits.push(limit(format!(
                "{secret} is granted read-only by name but lies under read_write {broad}: \
                 Landlock cannot take writes back from one subtree"
            )));
        }
    }
    (excepts, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> HostEnv {
        HostEnv {
            home: Some("/Users/u".into()),
            user: Some("u".into()),
            uid: 501,
        }
    }

    #[test]
    fn a_grant_names_the_store_or_beneath_only() {
        assert!(names("/Users/u/.ssh", "/Users/u/.ssh"));
        assert!(names("/Users/u/.ssh/known_hosts", "/Users/u/.ssh"));
        assert!(!names("/Users/u", "/Users/u/.ssh"));
        assert!(!names("/", "/Users/u/.ssh"));
        assert!(!names("/Users/u/.sshx", "/Users/u/.ssh"));
    }

    #[test]
    fn strict_denies_none_permissive_all_but_a_granted_keychain() {
        let strict = denied_stores(Baseline::Strict, false, &env(), Spelling::Private);
        assert_eq!(strict, Ok(Vec::new()));
        let all = denied_stores(Baseline::Permissive, false, &env(), Spelling::Private).unwrap();
        assert_eq!(all.len(), SECRETS.len());
        assert!(all.contains(&"/Users/u/.ssh".to_string()));
        assert!(all.contains(&"/Users/u/Library/Keychains".to_string()));
        let kc = denied_stores(Baseline::Permissive, true, &env(), Spelling::Private).unwrap();
        assert!(!kc.contains(&"/Users/u/Library/Keychains".to_string()));
        assert_eq!(kc.len(), SECRETS.len() - 1);
    }

    #[test]
    fn linux_carves_unnamed_stores_and_reports_what_it_cannot_express() {
        let s = |v: &[&str]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let secrets = s(&["/h/.ssh", "/h/.aws", "/h/.gnupg"]);
        // A broad grant names nothing; .aws is named exactly, .gnupg beneath.
        let (excepts, limits) = linux_excepts(
            &secrets,
            &s(&["/h", "/h/.aws", "/h/.gnupg/pubring.kbx"]),
            &[],
        );
        assert_eq!(excepts, s(&["/h/.ssh"]));
        assert_eq!(limits.len(), 1, "{limits:?}");
        assert!(limits[0].reason.contains("/h/.gnupg"), "{limits:?}");
        // Read-only by name under a broad read_write: writable, reported.
        let (excepts, limits) = linux_excepts(&s(&["/h/.ssh"]), &s(&["/h/.ssh"]), &s(&["/h"]));
        assert!(excepts.is_empty());
        assert_eq!(limits.len(), 1, "{limits:?}");
        assert!(limits[0].reason.contains("read_write /h"), "{limits:?}");
        // Read-write by name: nothing to report.
        let (excepts, limits) = linux_excepts(&s(&["/h/.ssh"]), &[], &s(&["/h/.ssh"]));
        assert!(excepts.is_empty() && limits.is_empty());
    }

    #[test]
    fn unknown_home_is_an_error_naming_baseline() {
        let no_home = HostEnv {
            home: None,
            ..env()
        };
        let e =
            denied_stores(Baseline::Permissive, false, &no_home, Spelling::AsMeant).unwrap_err();
        assert_eq!(e.key, "baseline");
        assert!(e.message.contains("HOME"), "{e}");
    }
}
