//! Footprints: the SBPL requests each probe makes, as data for the model.
//!
//! The table lives in `probes/footprints.toml` (embedded at build time) so
//! the model reads what the probes declare, and every item says how sure we
//! are (`evidence`). Placeholders are filled from a [`FootprintContext`].

use std::sync::OnceLock;

use profile::model::{Arg, Request};
use serde::Deserialize;

const TABLE: &str = include_str!("../footprints.toml");

/// Where a footprint item comes from, i.e. how sure it is (the `evidence`
/// key of `footprints.toml`). Not to be confused with the matrix's
/// evidence for a cell (`beltcheck::matrix::cell::Evidence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provenance {
    /// Apple's own profile sources or headers.
    Source,
    /// Another project measured it on a Mac.
    MeasuredElsewhere,
    /// Our reading; only the macOS matrix settles it.
    Guess,
}

/// One request with its provenance, where that provenance is published
/// (`source`: a URL or `owner/repo:path` in the public corpus) with a short
/// verbatim `quote` (a logged `deny(1)` line where one exists), and a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FootprintItem {
    pub request: Request,
    pub provenance: Provenance,
    pub source: Option<String>,
    pub quote: Option<String>,
    pub note: Option<String>,
}

/// Values for the placeholders `{path}`, `{name}`, `{host}`, `{port}`,
/// `{home}`, `{pid}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FootprintContext {
    /// The probe's `--path`.
    pub path: Option<String>,
    /// The probe's `--name`.
    pub name: Option<String>,
    /// The probe's `--host` (an address, e.g. 127.0.0.1).
    pub host: Option<String>,
    /// The probe's `--port`.
    pub port: Option<u16>,
    /// The user's home directory (macOS form, e.g. /Users/me).
    pub home: String,
    /// The pid used in representative IPC names (any number will do for
    /// models that match the `beltcheck.probe.` prefix).
    pub pid: u32,
}

/// Why a footprint could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FootprintError {
    UnknownProbe(String),
    /// The item needs a placeholder the context does not carry.
    MissingValue {
        probe: String,
        placeholder: String,
    },
}

impl std::fmt::Display for FootprintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FootprintError::UnknownProbe(p) => write!(f, "no footprint for probe {p:?}"),
            FootprintError::MissingValue { probe, placeholder } => {
                write!(
                    f,
                    "footprint of {probe:?} needs {placeholder} but none was given"
                )
            }
        }
    }
}

impl std::error::Error for FootprintError {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    probe: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    /// Probes whose requests this one makes too (a workload probe makes
    /// its synthetic counterpart's requests); listed before its own.
    #[serde(default)]
    includes: Vec<String>,
    #[serde(default)]
    request: Vec<RawItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    op: String,
    evidence: Provenance,
    /// Required unless `evidence` is `guess` (see [`unsourced`]).
    source: Option<String>,
    quote: Option<String>,
    note: Option<String>,
    path: Option<String>,
    global_name: Option<String>,
    iokit_class: Option<String>,
    ipc_name: Option<String>,
    sysctl_name: Option<String>,
    /// "HOST:PORT" of an inet connect.
    remote: Option<String>,
    /// With `path`: an ioctl on that file.
    ioctl_command: Option<u64>,
}

fn table() -> &'static Table {
    static PARSED: OnceLock<Table> = OnceLock::new();
    // The table is compiled in and checked by a unit test; a parse failure
    // is a build defect, not user input.
    PARSED.get_or_init(|| toml::from_str(TABLE).expect("footprints.toml is valid"))
}

/// Probe names that have a footprint entry.
pub fn probe_names() -> Vec<&'static str> {
    table().probe.iter().map(|e| e.name.as_str()).collect()
}

/// The footprint of `probe` with placeholders filled from `ctx`.
pub fn footprint_items(
    probe: &str,
    ctx: &FootprintContext,
) -> Result<Vec<FootprintItem>, FootprintError> {
    let entry = table()
        .probe
        .iter()
        .find(|e| e.name == probe)
        .ok_or_else(|| FootprintError::UnknownProbe(probe.to_string()))?;
    let mut items = Vec::new();
    for included in &entry.includes {
        // One level only: an included probe's own includes are not
        // followed (a test keeps the table that way), so no cycle is possible.
        items.extend(own_items(included, ctx)?);
    }
    items.extend(own_items(probe, ctx)?);
    Ok(items)
}

/// The requests `probe` lists itself, placeholders filled.
fn own_items(probe: &str, ctx: &FootprintContext) -> Result<Vec<FootprintItem>, FootprintError> {
    let entry = table()
        .probe
        .iter()
        .find(|e| e.name == probe)
        .ok_or_else(|| FootprintError::UnknownProbe(probe.to_string()))?;
    entry
        .request
        .iter()
        .map(|raw| {
            let arg = raw_arg(raw)
                .map(|(make, template)| fill(probe, template, ctx).map(make))
                .transpose()?;
            Ok(FootprintItem {
                request: Request {
                    op: raw.op.clone(),
                    arg,
                },
                provenance: raw.evidence,
                source: raw.source.clone(),
                quote: raw.quote.clone(),
                note: raw.note.clone(),
            })
        })
        .collect()
}

/// The requests `probe` makes, or None for an unknown probe or when a
/// needed placeholder (e.g. `{path}` for `unix-connect`) is missing.
pub fn footprint(probe: &str, ctx: &FootprintContext) -> Option<Vec<Request>> {
    footprint_items(probe, ctx)
        .ok()
        .map(|items| items.into_iter().map(|i| i.request).collect())
}

/// Requests in a footprint table (TOML text) that claim evidence other
/// than `guess` without naming a source (a URL or an `owner/repo:path`),
/// as "probe: op", or the parse error.
pub fn unsourced(table_text: &str) -> Result<Vec<String>, String> {
    let table: Table = toml::from_str(table_text).map_err(|e| e.to_string())?;
    let named = |s: &str| {
        let s = s.trim();
        s.starts_with("https://")
            || s.split_once(':').is_some_and(|(repo, path)| {
                repo.split('/').count() == 2 && !path.is_empty() && !repo.contains(' ')
            })
    };
    Ok(table
        .probe
        .iter()
        .flat_map(|e| e.request.iter().map(move |r| (e, r)))
        .filter(|(_, r)| r.evidence != Provenance::Guess)
        .filter(|(_, r)| !r.source.as_deref().is_some_and(named))
        .map(|(e, r)| format!("{}: {}", e.name, r.op))
        .collect())
}

type MakeArg = Box<dyn Fn(String) -> Arg>;

fn raw_arg(raw: &RawItem) -> Option<(MakeArg, &str)> {
    let kinds: [(Option<&String>, MakeArg); 6] = [
        (
            raw.path.as_ref(),
            match raw.ioctl_command {
                Some(command) => Box::new(move |s| Arg::Ioctl {
                    path: profile::path::private_form(&s).into_owned(),
                    command,
                }),
                None => Box::new(|s| Arg::Path(profile::path::private_form(&s).into_owned())),
            },
        ),
        (raw.global_name.as_ref(), Box::new(Arg::GlobalName)),
        (raw.iokit_class.as_ref(), Box::new(Arg::IokitClass)),
        (raw.ipc_name.as_ref(), Box::new(Arg::IpcName)),
        (raw.sysctl_name.as_ref(), Box::new(Arg::SysctlName)),
        (raw.remote.as_ref(), Box::new(Arg::Remote)),
    ];
    kinds
        .into_iter()
        .find_map(|(v, make)| v.map(|v| (make, v.as_str())))
}

fn fill(probe: &str, template: &str, ctx: &FootprintContext) -> Result<String, FootprintError> {
    let missing = |p: &str| FootprintError::MissingValue {
        probe: probe.to_string(),
        placeholder: p.to_string(),
    };
    let mut out = template.to_string();
    let port = ctx.port.map(|p| p.to_string());
    for (key, value) in [
        ("{path}", ctx.path.as_deref()),
        ("{name}", ctx.name.as_deref()),
        ("{host}", ctx.host.as_deref()),
        ("{port}", port.as_deref()),
        ("{home}", Some(ctx.home.as_str()).filter(|h| !h.is_empty())),
    ] {
        if out.contains(key) {
            out = out.replace(key, value.ok_or_else(|| missing(key))?);
        }
    }
    Ok(out.replace("{pid}", &ctx.pid.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> FootprintContext {
        FootprintContext {
            path: Some("/tmp/s.sock".into()),
            name: Some("com.apple.x".into()),
            host: Some("127.0.0.1".into()),
            port: Some(8080),
            home: "/Users/me".into(),
            pid: 42,
        }
    }

    #[test]
    fn every_catalogued_probe_has_a_footprint_and_vice_versa() {
        let mut in_table = probe_names();
        let mut catalogued: Vec<_> = crate::catalogue::names().collect();
        in_table.sort();
        catalogued.sort();
        assert_eq!(in_table, catalogued);
        for items_arg in in_table {
            footprint_items(items_arg, &ctx()).unwrap();
        }
    }

    #[test]
    fn placeholders_are_filled_and_paths_take_the_private_form() {
        let r = footprint("unix-connect", &ctx()).unwrap();
        assert_eq!(
            r,
            vec![
                Request::path("system-socket", "/private/tmp/s.sock"),
                Request::path("network-outbound", "/private/tmp/s.sock"),
            ]
        );
        let k = footprint("keychain", &ctx()).unwrap();
        assert!(k.contains(&Request {
            op: "file-write-data".into(),
            arg: Some(Arg::Path(
                "/Users/me/Library/Keychains/login.keychain-db".into()
            )),
        }));
        let s = footprint("sem", &ctx()).unwrap();
        assert_eq!(s[0].arg, Some(Arg::IpcName("/beltcheck.probe.42.0".into())));
    }

    #[test]
    fn network_footprint_is_the_remote_address() {
        let r = footprint("network", &ctx()).unwrap();
        assert_eq!(
            r,
            vec![Request {
                op: "network-outbound".into(),
                arg: Some(Arg::Remote("127.0.0.1:8080".into())),
            }]
        );
        let no_port = FootprintContext {
            port: None,
            ..ctx()
        };
        assert_eq!(
            footprint_items("network", &no_port),
            Err(FootprintError::MissingValue {
                probe: "network".into(),
                placeholder: "{port}".into()
            })
        );
    }

    #[test]
    fn tiocsti_footprint_carries_the_command_and_keeps_the_tty_opens() {
        let r = footprint("tiocsti", &ctx()).unwrap();
        assert!(r.contains(&Request {
            op: "file-ioctl".into(),
            arg: Some(Arg::Ioctl {
                path: "/dev/ttys000".into(),
                command: 0x8001_7472,
            }),
        }));
        assert!(r.contains(&Request::path("file-read-data", "/dev/tty")));
        assert!(r.contains(&Request::path("file-write-data", "/dev/tty")));
    }

    #[test]
    fn includes_name_probes_that_include_nothing_themselves() {
        for entry in &table().probe {
            for included in &entry.includes {
                let target = table().probe.iter().find(|e| &e.name == included);
                let target =
                    target.unwrap_or_else(|| panic!("{}: includes unknown {included}", entry.name));
                assert!(
                    target.includes.is_empty(),
                    "{} includes {included}, which includes more",
                    entry.name
                );
            }
        }
    }

    #[test]
    fn a_workload_makes_its_counterparts_requests_and_runs_its_program() {
        let sem = footprint("workload-sem", &ctx()).unwrap();
        assert!(sem.iter().any(|r| r.op == "ipc-posix-sem"));
        assert!(sem.contains(&Request::path("process-exec", "/usr/bin/python3")));
        // /usr/bin/python3 on macOS is the xcrun stub: it maps libxcrun.
        let libxcrun = "/Library/Developer/CommandLineTools/usr/lib/libxcrun.dylib";
        for python in ["workload-sem", "workload-unix-connect"] {
            let f = footprint(python, &ctx()).unwrap();
            assert!(
                f.contains(&Request::path("file-map-executable", libxcrun)),
                "{python}"
            );
        }
        for (workload, synthetic, program) in [
            ("workload-pty", "pty", "/usr/bin/script"),
            ("workload-keychain", "keychain", "/usr/bin/security"),
            ("workload-unix-connect", "unix-connect", "/usr/bin/python3"),
        ] {
            let w = footprint(workload, &ctx()).unwrap();
            let s = footprint(synthetic, &ctx()).unwrap();
            assert_eq!(&w[..s.len()], &s[..], "{workload}");
            assert!(
                w.contains(&Request::path("process-exec", program)),
                "{workload}"
            );
            assert!(
                w.contains(&Request::path("file-read-data", program)),
                "{workload}"
            );
        }
    }

    /// An `ioctl_command` without a `path` would be dropped silently.
    #[test]
    fn every_ioctl_command_has_a_path() {
        for entry in &table().probe {
            for raw in &entry.request {
                if raw.ioctl_command.is_some() {
                    assert!(raw.path.is_some(), "{}: {}", entry.name, raw.op);
                }
            }
        }
    }

    /// Issue 17 item 13: a request that claims evidence names its source.
    #[test]
    fn every_request_that_claims_evidence_names_its_source() {
        assert_eq!(unsourced(TABLE), Ok(Vec::new()));
    }

    #[test]
    fn a_request_claiming_evidence_without_a_source_is_reported() {
        let table = r#"
            [[probe]]
            name = "x"
            [[probe.request]]
            op = "mach-lookup"
            global_name = "a"
            evidence = "measured-elsewhere"
            [[probe.request]]
            op = "mach-lookup"
            global_name = "b"
            evidence = "source"
            source = "somewhere, trust me"
            [[probe.request]]
            op = "mach-lookup"
            global_name = "c"
            evidence = "guess"
            [[probe.request]]
            op = "sysctl-read"
            sysctl_name = "d"
            evidence = "source"
            source = "apple/darwin-xnu:bsd/sys/sysctl.h"
            [[probe.request]]
            op = "file-read-data"
            path = "/e"
            evidence = "measured-elsewhere"
            source = "https://github.com/o/r/issues/1"
        "#;
        assert_eq!(
            unsourced(table),
            Ok(vec![
                "x: mach-lookup".to_string(),
                "x: mach-lookup".to_string()
            ])
        );
    }

    #[test]
    fn hid_footprint_names_both_user_clients() {
        let r = footprint("hid", &ctx()).unwrap();
        let classes: Vec<_> = r
            .iter()
            .filter_map(|r| match &r.arg {
                Some(Arg::IokitClass(c)) => Some(c.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(classes, ["IOHIDParamUserClient", "IOHIDLibUserClient"]);
    }

    #[test]
    fn missing_values_and_unknown_probes_are_reported() {
        let bare = FootprintContext::default();
        assert_eq!(
            footprint_items("file-read", &bare),
            Err(FootprintError::MissingValue {
                probe: "file-read".into(),
                placeholder: "{path}".into()
            })
        );
        assert!(footprint("nope", &ctx()).is_none());
    }
}
