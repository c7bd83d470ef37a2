//! Apple's own profiles (macOS 10.15.2, the shared corpus): every file
//! reads and round-trips through the writer; every profile of the two
//! profile directories evaluates with its imports followed, and decides
//! requests drawn from its own rules. The corpus is Apple's, read in place
//! (never copied into the repository): `../shared/corpus` from the
//! workspace root, or an ancestor's `shared/corpus`, or
//! `$BELTCHECK_APPLE_CORPUS`.

use profile::ast::{same_shape, Arena};
use profile::model::{CompileOptions, Decision, Model, Request};
use profile::reader::read;
use profile::writer::write;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const RELEASE: &str = "10.15.2_19C57";
const PROFILE_DIRS: [&str; 2] = ["System/Library/Sandbox/Profiles", "usr/share/sandbox"];

/// The corpus root. A missing corpus fails the test: it must not pass by
/// skipping.
fn corpus() -> PathBuf {
    if let Some(dir) = std::env::var_os("BELTCHECK_APPLE_CORPUS") {
        return PathBuf::from(dir);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    root.ancestors()
        .map(|a| a.join("shared/corpus/apple-sandbox-profiles"))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "Apple's profile corpus not found: expected ../shared/corpus/apple-sandbox-profiles \
                 from {} (or set BELTCHECK_APPLE_CORPUS)",
                root.display()
            )
        })
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else if p.extension().is_some_and(|x| x == "sb" || x == "scm") {
            out.push(p);
        }
    }
}

#[test]
fn every_file_reads_and_round_trips() {
    let mut files = Vec::new();
    files_under(&corpus().join(RELEASE), &mut files);
    assert!(
        files.len() >= 220,
        "only {} files in the corpus",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("UTF-8 corpus file");
        let arena = Arena::new();
        let nodes = match read(&text, &arena) {
            Ok(n) => n,
            Err(e) => {
                failures.push(format!("{}:{e}", f.display()));
                continue;
            }
        };
        let written = write(&nodes);
        let again_arena = Arena::new();
        match read(&written, &again_arena) {
            Ok(again) if same_shape(&nodes, &again) => {}
            Ok(_) => failures.push(format!(
                "{}: the writer's text reads differently",
                f.display()
            )),
            Err(e) => failures.push(format!(
                "{}: the writer's text does not read: {e}",
                f.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every `(param "K")` the corpus names gets a path of its own, as
/// `sandbox-exec -D K=...` would give it.
fn params(release: &Path) -> BTreeMap<String, String> {
    let mut files = Vec::new();
    files_under(release, &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        for piece in text.split("(param \"").skip(1) {
            if let Some(name) = piece.split('"').next() {
                out.insert(name.to_string(), format!("/private/var/beltcheck/{name}"));
            }
        }
    }
    out
}

/// Per profile: requests decided, definite answers, forms not evaluated.
struct Outcome {
    name: String,
    requests: usize,
    definite: usize,
    not_evaluated: Vec<String>,
}

fn evaluate_all() -> Vec<Outcome> {
    let release = corpus().join(RELEASE);
    let dirs: Vec<PathBuf> = PROFILE_DIRS.iter().map(|d| release.join(d)).collect();
    let params = params(&release);
    let mut profiles = Vec::new();
    for d in &dirs {
        let mut found: Vec<PathBuf> = std::fs::read_dir(d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "sb"))
            .collect();
        found.sort();
        profiles.extend(found);
    }
    profiles
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read profile");
            let opts = CompileOptions {
                params: params.clone(),
                file: Some(p.clone()),
                import_paths: dirs.clone(),
            };
            let model = Model::compile_with(&text, &opts)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let mut requests = model.derived_requests();
            if requests.is_empty() {
                // A profile with no rule of its own: ask what its defaults say.
                requests.push(Request::path("file-read-data", "/etc/hosts"));
                requests.push(Request::bare("mach-lookup"));
            }
            let definite = requests
                .iter()
                .filter(|r| model.decide(r).decision != Decision::Unknown)
                .count();
            Outcome {
                name: p.strip_prefix(&release).unwrap_or(p).display().to_string(),
                requests: requests.len(),
                definite,
                not_evaluated: model
                    .not_evaluated()
                    .iter()
                    .map(|n| format!("{}:{}: {}: {}", n.file, n.line, n.form, n.why))
                    .collect(),
            }
        })
        .collect()
}

#[test]
fn profiles_evaluate_with_imports_followed() {
    let outcomes = evaluate_all();
    assert!(outcomes.len() >= 200, "only {} profiles", outcomes.len());
    let mut full = 0;
    for o in &outcomes {
        let status = if o.not_evaluated.is_empty() {
            full += 1;
            "fully evaluated"
        } else {
            "NOT fully evaluated"
        };
        println!(
            "{}: {status}; {} requests, {} definite",
            o.name, o.requests, o.definite
        );
        for n in &o.not_evaluated {
            println!("    not evaluated: {n}");
        }
        assert!(o.requests > 0, "{}: no request derived", o.name);
    }
    let share = full as f64 / outcomes.len() as f64;
    println!(
        "fully evaluated: {full} of {} profiles ({:.1}%)",
        outcomes.len(),
        share * 100.0
    );
    assert!(
        share >= 0.95,
        "only {full} of {} profiles fully evaluated",
        outcomes.len()
    );
}

/// A handful of decisions with their deciding rule and file, as a
/// snapshot: what Apple's application.sb (with system.sb imported) says.
#[test]
fn application_profile_decisions_snapshot() {
    let release = corpus().join(RELEASE);
    let dirs: Vec<PathBuf> = PROFILE_DIRS.iter().map(|d| release.join(d)).collect();
    let path = dirs[0].join("application.sb");
    let text = std::fs::read_to_string(&path).expect("read");
    let opts = CompileOptions {
        params: params(&release),
        file: Some(path),
        import_paths: dirs,
    };
    let model = Model::compile_with(&text, &opts).expect("compiles");
    let asks = [
        Request::path("file-read-data", "/usr/lib/libSystem.B.dylib"),
        Request::path("file-read-data", "/private/etc/passwd"),
        Request::path("file-write-data", "/usr/lib/x"),
        Request::path("file-read-metadata", "/System/Volumes/Data"),
        Request::with(
            "mach-lookup",
            profile::model::Arg::GlobalName("com.apple.logd".into()),
        ),
        Request::bare("pseudo-tty"),
    ];
    let shown: Vec<serde_json::Value> = asks
        .iter()
        .map(|r| {
            let e = model.decide(r);
            let rule = e.rule.map(|rule| {
                let file = Path::new(&rule.file)
                    .strip_prefix(&release)
                    .map(|p| p.display().to_string())
                    .unwrap_or(rule.file.clone());
                serde_json::json!({"file": file, "line": rule.line, "text": rule.text})
            });
            serde_json::json!({"request": r, "decision": e.decision, "rule": rule})
        })
        .collect();
    insta::assert_json_snapshot!(shown);
}
