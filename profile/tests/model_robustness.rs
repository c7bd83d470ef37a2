//! The model reads and evaluates profiles written elsewhere (fixtures) and
//! answers random requests without panicking; and on our own fixtures it
//! gives the decisions the profile text implies.

use profile::model::{Arg, Decision, Model, Request};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn fixture_dirs() -> [PathBuf; 2] {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    [root.clone(), root.join("model")]
}

fn fixtures() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for dir in fixture_dirs() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "sb" || x == "sbpl"))
            .collect();
        entries.sort();
        for p in entries {
            let bytes = std::fs::read(&p).expect("read fixture");
            // Fixtures with non-UTF-8 bytes test the reader, not the model.
            if let Ok(text) = String::from_utf8(bytes) {
                out.push((p, text));
            }
        }
    }
    out
}

fn params() -> BTreeMap<String, String> {
    [
        ("HOME_DIR", "/Users/u"),
        ("BUNDLE_PATH", "/Applications/A.app"),
        ("HOME", "/Users/u"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Every fixture that reads, compiled once.
fn models() -> &'static Vec<(PathBuf, Model)> {
    static MODELS: OnceLock<Vec<(PathBuf, Model)>> = OnceLock::new();
    MODELS.get_or_init(|| {
        fixtures()
            .into_iter()
            .filter_map(|(p, text)| Model::compile(&text, &params()).ok().map(|m| (p, m)))
            .collect()
    })
}

#[test]
fn fixtures_exist_and_our_own_compile() {
    let all = fixtures();
    assert!(all.len() >= 4, "expected fixtures, found {}", all.len());
    for (p, text) in &all {
        if p.parent().is_some_and(|d| d.ends_with("model")) {
            Model::compile(text, &params()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
    }
    assert!(models().len() >= 2);
}

const OPS: &[&str] = &[
    "default",
    "file-read-data",
    "file-read-metadata",
    "file-write-data",
    "file-write-create",
    "file-ioctl",
    "file-map-executable",
    "file-test-existence",
    "mach-lookup",
    "mach-bootstrap",
    "mach-register",
    "iokit-open",
    "iokit-open-user-client",
    "iokit-get-properties",
    "ipc-posix-sem",
    "ipc-posix-sem-open",
    "ipc-posix-shm-read-data",
    "ipc-posix-shm-write-create",
    "network-outbound",
    "network-bind",
    "sysctl-read",
    "process-exec",
    "process-info-pidinfo",
    "process-fork",
    "signal",
    "pseudo-tty",
    "job-creation",
    "system-fsctl",
    "user-preference-read",
    "not-an-operation",
    "",
    "*",
    "file*",
];

fn arg_strategy() -> impl Strategy<Value = Option<Arg>> {
    let s = prop_oneof![
        "/[a-zA-Z0-9._/ -]{0,40}",
        Just("/tmp".to_string()),
        Just("/private/var/run/mDNSResponder".to_string()),
        Just("/Users/u/Library/Preferences/x".to_string()),
        ".{0,20}",
    ];
    (0u8..7, s).prop_map(|(kind, v)| match kind {
        0 => None,
        1 => Some(Arg::Path(v)),
        2 => Some(Arg::GlobalName(v)),
        3 => Some(Arg::IokitClass(v)),
        4 => Some(Arg::IpcName(v)),
        5 => Some(Arg::SysctlName(v)),
        _ => Some(Arg::Target(v)),
    })
}

fn request_strategy() -> impl Strategy<Value = Request> {
    let op =
        prop_oneof![4 => prop::sample::select(OPS).prop_map(str::to_string), 1 => "[a-z*-]{0,20}"];
    (op, arg_strategy()).prop_map(|(op, arg)| Request { op, arg })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_requests_on_fixtures_never_panic(reqs in prop::collection::vec(request_strategy(), 1..6)) {
        for (path, m) in models() {
            for r in &reqs {
                let e = m.decide(r);
                prop_assert!(!e.reason.is_empty(), "{}: empty reason for {r:?}", path.display());
                prop_assert_eq!(m.verdict(r), e.decision.clone(), "{}: verdict differs for {:?}", path.display(), r);
                if e.decision != Decision::Unknown && e.rule.is_some() {
                    prop_assert!(e.rule.as_ref().is_some_and(|r| r.line > 0));
                }
            }
            let all = m.decide_all(&reqs);
            let singles: Vec<Decision> = reqs.iter().map(|r| m.decide(r).decision).collect();
            let want = if singles.contains(&Decision::Deny) {
                Decision::Deny
            } else if singles.contains(&Decision::Unknown) {
                Decision::Unknown
            } else {
                Decision::Allow
            };
            prop_assert_eq!(all.decision, want);
        }
    }

    /// Random token soup: whatever reads must compile and decide.
    #[test]
    fn random_profiles_never_panic(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..60), req in request_strategy()) {
        let text = tokens.concat();
        if let Ok(m) = Model::compile(&text, &params()) {
            let _ = m.decide(&req);
            let _ = m.not_evaluated();
        }
    }
}

const TOKENS: &[&str] = &[
    "(",
    ")",
    "(",
    ")",
    " ",
    "(version 1)",
    "(deny default)",
    "(allow default)",
    "allow ",
    "deny ",
    "file-read* ",
    "file-write-data ",
    "mach-lookup ",
    "(subpath \"/a\")",
    "(literal \"/a/b\")",
    "(regex #\"^/a\")",
    "(regex #\"(\")",
    "(require-not ",
    "(require-all ",
    "(require-any ",
    "(param \"HOME\")",
    "(param \"NOPE\")",
    "(string-append ",
    "\"/x\"",
    "(define ",
    "(define (f x) ",
    "(f ",
    "x ",
    "(if ",
    "(when ",
    "(cond ",
    "(else ",
    "(lambda (y) ",
    "(let ((z \"/z\")) ",
    "z ",
    "#t ",
    "#f ",
    "42 ",
    "'sym ",
    "(with report)",
    "(global-name \"g\")",
    "(vnode-type DIRECTORY)",
    "(target self)",
    "(import \"x.sb\")",
    "(regex-quote \"a.b\")",
    "(set! x 1)",
    "(begin ",
];

// ---- concrete decisions on our own fixtures ----

fn own(name: &str, extra: &[(&str, &str)]) -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/model")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    let mut p = params();
    for (k, v) in extra {
        p.insert(k.to_string(), v.to_string());
    }
    Model::compile(&text, &p).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn chromium_style_decisions() {
    let m = own("chromium_style.sb", &[]);
    let d = |op: &str, arg: Arg| m.decide(&Request::with(op, arg)).decision;
    use Decision::*;
    assert_eq!(
        d(
            "file-read-data",
            Arg::Path("/Users/u/Library/Preferences/p.plist".into())
        ),
        Allow
    );
    assert_eq!(
        d(
            "file-read-data",
            Arg::Path("/Applications/A.app/Contents/MacOS/A".into())
        ),
        Allow
    );
    assert_eq!(
        d(
            "file-read-data",
            Arg::Path("/Applications/A.app/Contents/Info.plist".into())
        ),
        Deny
    );
    assert_eq!(
        d(
            "file-write-data",
            Arg::Path("/Users/u/.config/app.json".into())
        ),
        Allow
    );
    assert_eq!(
        d(
            "file-write-data",
            Arg::Path("/private/var/log/app/x".into())
        ),
        Deny
    );
    assert_eq!(
        d("iokit-open", Arg::IokitClass("AGXDeviceUserClient".into())),
        Deny
    );
    assert_eq!(
        d("mach-lookup", Arg::GlobalName("com.apple.logd".into())),
        Allow
    );
    assert_eq!(m.decide(&Request::bare("mach-bootstrap")).decision, Allow);
    assert_eq!(
        d(
            "network-outbound",
            Arg::Path("/var/run/mDNSResponder".into())
        ),
        Allow
    );
    assert_eq!(
        d("ipc-posix-shm-write-data", Arg::IpcName("/app-1f".into())),
        Allow
    );
    assert_eq!(d("sysctl-read", Arg::SysctlName("hw.ncpu".into())), Allow);
    assert_eq!(d("file-ioctl", Arg::Path("/dev/ptmx".into())), Allow);
    // The preference-domain filter is not modelled and would allow.
    assert_eq!(
        m.decide(&Request::bare("user-preference-read")).decision,
        Unknown
    );

    let gpu = own(
        "chromium_style.sb",
        &[("GPU", "TRUE"), ("ENABLE_LOGGING", "TRUE")],
    );
    assert_eq!(
        gpu.decide(&Request::with(
            "iokit-open",
            Arg::IokitClass("AGXDeviceUserClient".into())
        ))
        .decision,
        Allow
    );
    assert_eq!(
        gpu.decide(&Request::path("file-write-data", "/private/var/log/app/x"))
            .decision,
        Allow
    );
}

#[test]
fn odd_forms_survive_and_are_recorded() {
    let m = own("odd_forms.sb", &[]);
    let skipped: Vec<String> = m
        .not_evaluated()
        .iter()
        .map(|n| format!("line {}: {}: {}", n.line, n.form, n.why))
        .collect();
    let skipped = skipped.join("\n");
    assert!(skipped.contains("import"), "{skipped}");
    assert!(skipped.contains("rule names no operation"), "{skipped}");
    assert!(skipped.contains("recursion budget"), "{skipped}");
    // The missing import, the unknown form and the endless loop could each
    // decide anything: no answer is definite, and the reason names the
    // first of them.
    for (op, p) in [("file-read-data", "/via-if"), ("file-read-data", "/lambda")] {
        let e = m.decide(&Request::path(op, p));
        assert_eq!(e.decision, Decision::Unknown, "{}", e.reason);
        assert!(e.reason.contains("import \"system.sb\""), "{}", e.reason);
    }
}

#[test]
fn odd_forms_without_the_unevaluable_ones_decide() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/model/odd_forms.sb"),
    )
    .expect("fixture");
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            !["(import", "(loop 1)", "(unknown-top-level-form", "(allow)"]
                .iter()
                .any(|bad| l.starts_with(bad))
        })
        .collect();
    let m = Model::compile(&kept.join("\n"), &params()).expect("compiles");
    let d = |op: &str, p: &str| m.decide(&Request::path(op, p)).decision;
    // (allow default) at the end: what no rule denies is allowed.
    assert_eq!(d("file-read-data", "/via-if"), Decision::Allow);
    assert_eq!(d("file-read-data", "/lambda"), Decision::Allow);
    // Line 9 denies with filters that are not filters: whether it matches
    // is unknown, and it would override the final (allow default).
    let deep = m.decide(&Request::path("file-read-data", "/deep//x"));
    assert_eq!(deep.decision, Decision::Unknown, "{}", deep.reason);
    assert_eq!(
        m.decide(&Request::bare("job-creation")).decision,
        Decision::Allow
    );
}
