//! Reports: rendering, the merge across releases, and the CI scripts that
//! gate and merge them (run here exactly as the workflow runs them).

use beltcheck::report::{self, json, markdown, merge};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

fn load(name: &str) -> report::Report {
    json::parse(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

#[test]
fn json_round_trips_and_keeps_the_contract_keys() {
    let r = load("report-macos14.json");
    let text = json::render(&r);
    assert_eq!(json::parse(&text).unwrap(), r);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in [
        "schema",
        "host",
        "dimensions",
        "probes",
        "cells",
        "summary",
        "timing",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let cell = &v["cells"][0];
    for key in [
        "config", "probe", "expected", "model", "observed", "status", "reason",
    ] {
        assert!(cell.get(key).is_some(), "cell missing {key}");
    }
    for key in ["os", "os_version", "build", "arch", "backend"] {
        assert!(v["host"].get(key).is_some(), "host missing {key}");
    }
    assert!(json::parse("{\"schema\": 2}").is_err());
    assert!(json::parse("{\"schema\": 3}")
        .unwrap_err()
        .contains("schema 3 is not supported"));
}

/// Schema 1 (evidence as a sentence, boolean configs) still reads, with
/// its evidence typed.
#[test]
fn schema_1_reads_with_typed_evidence() {
    use beltcheck::matrix::cell::Evidence;
    let r = load("report-macos14.json");
    assert_eq!(r.schema, report::SCHEMA);
    let kinds: Vec<&Evidence> = r.cells.iter().map(|c| &c.evidence).collect();
    assert!(kinds
        .iter()
        .any(|e| matches!(e, Evidence::Observed { backend, .. } if backend == "seatbelt")));
    for c in &r.cells {
        assert_eq!(
            c.status.is_inconclusive(),
            matches!(c.evidence, Evidence::Inconclusive { .. }),
            "{c:?}"
        );
    }
}

#[test]
fn markdown_has_every_section_and_the_failure_evidence() {
    let r = load("report-macos15.json");
    let md = markdown::render(&r);
    for section in [
        "## Summary: FAILED",
        "## Probes",
        "## Cells",
        "## Failures (1)",
        "## Model vs observed divergences",
        "## Inconclusive cells (2)",
    ] {
        assert!(md.contains(section), "missing {section}:\n{md}");
    }
    assert!(md.contains("- expected: deny") || md.contains("- expected: allow"));
    assert!(md.contains("- observed: allowed") || md.contains("- observed: denied"));
}

#[test]
fn html_is_self_contained_with_a_colour_per_status() {
    let r = load("report-macos15.json");
    let html = report::html::render(&r);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for forbidden in ["http://", "https://", "<script", "src=", "<link"] {
        assert!(!html.contains(forbidden), "external asset: {forbidden}");
    }
    for class in ["class=\"pass", "class=\"fail", "class=\"inconclusive"] {
        assert!(html.contains(class), "missing {class}");
    }
    assert!(report::html::esc("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
}

#[test]
fn merge_flags_the_cell_that_changed() {
    let a = load("report-macos14.json");
    let b = load("report-macos15.json");
    let m = merge::merge(&[("a".into(), a.clone()), ("b".into(), b)]).unwrap();
    assert_eq!(m.releases.len(), 2);
    assert_eq!(m.rows.len(), a.cells.len());
    assert_eq!(m.changed, 1);
    assert!(m.rows[0].changed && m.rows.iter().skip(1).all(|r| !r.changed));
    // The same release twice gets distinct labels and no changes.
    let same = merge::merge(&[("a".into(), a.clone()), ("a2".into(), a)]).unwrap();
    assert_eq!(same.changed, 0);
    assert_ne!(same.releases[0].label, same.releases[1].label);
}

fn bash(script: &str, args: &[&Path], envs: &[(&str, &Path)]) -> std::process::Output {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("ci").join(script))
        .args(args)
        .current_dir(root());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run bash")
}

#[test]
fn ci_scripts_parse() {
    for entry in std::fs::read_dir(root().join("ci")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sh") {
            let out = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn ci_merge_script_merges_two_reports() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("merged");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_beltcheck"));
    let a = fixture("report-macos14.json");
    let b = fixture("report-macos15.json");
    let run = bash("merge-reports.sh", &[&dir, &a, &b], &[("BELTCHECK", &bin)]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    // One input has a failed cell: the merge is written and the script fails.
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("report-macos15.json has 1 failed cells"),
        "{stderr}"
    );
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("merged.json")).unwrap()).unwrap();
    assert_eq!(merged["changed"], 1);
    assert_eq!(merged["releases"].as_array().unwrap().len(), 2);
    let md = std::fs::read_to_string(dir.join("merged.md")).unwrap();
    assert!(md.contains("## What changed between releases (1)"), "{md}");
    assert!(md.contains("macos 14.7.1") && md.contains("macos 15.4.1"));
    assert!(dir.join("merged.html").is_file());
    // Two clean reports: exit 0.
    let run = bash("merge-reports.sh", &[&dir, &a, &a], &[("BELTCHECK", &bin)]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn ci_gate_fails_on_failed_cells_and_required_inconclusive() {
    let a = fixture("report-macos14.json");
    let b = fixture("report-macos15.json");
    assert!(bash("check-report.sh", &[&a], &[]).status.success());
    assert_eq!(bash("check-report.sh", &[&b], &[]).status.code(), Some(1));
    // The sample's inconclusive cells are network ones: requiring network
    // turns them into a failure, requiring pty does not.
    let req = |p: &str| {
        Command::new("bash")
            .arg(root().join("ci/check-report.sh"))
            .arg(&a)
            .arg(p)
            .output()
            .unwrap()
    };
    assert_eq!(req("network").status.code(), Some(1));
    assert!(req("pty").status.success());
}

#[test]
fn report_merge_cli_names_a_bad_file() {
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bad.path(), "not json").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_beltcheck"))
        .args(["report", "merge"])
        .arg(bad.path())
        .args(["--out", "/nonexistent-never-written"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&bad.path().display().to_string()));
}

/// Statuses are made in one place: `Status`'s field is private to
/// src/matrix/cell.rs (a compile_fail doctest there shows a forgery does not
/// build), and no other source file names the private constructor or
/// returns a fresh `Status` from a function of its own.
#[test]
fn statuses_are_constructed_only_in_cell_rs() {
    let mut offenders = Vec::new();
    let mut stack = vec![root().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.ends_with("matrix/cell.rs") || path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.contains("Status(StatusKind") || line.contains("-> Status ") {
                    offenders.push(format!("{}:{}: {line}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

/// `report` depends on `matrix`, never the other way round (the run is
/// orchestrated in src/cmd/matrix.rs).
#[test]
fn matrix_does_not_depend_on_report() {
    for entry in std::fs::read_dir(root().join("src/matrix")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("crate::report"),
            "{} uses crate::report",
            path.display()
        );
    }
}

/// A schema-2 report whose texts carry what XML and HTML must escape.
fn hostile() -> report::Report {
    let mut r = load("report-macos15.json");
    let c = r
        .cells
        .iter_mut()
        .find(|c| c.status.is_fail())
        .expect("the sample has a failed cell");
    c.reason = "odd ]]> <b>&amp; \u{1}\u{1b}[31m end".into();
    c.evidence = beltcheck::matrix::cell::Evidence::Predicted {
        rule: Some("line 3: (allow x) ]]> <y> \u{7}".into()),
    };
    r
}

#[test]
fn junit_has_a_testcase_per_cell_and_survives_hostile_text() {
    use quick_xml::events::Event;
    let r = hostile();
    let xml = report::junit::render(&r);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut errors) = (0, 0, 0);
    let mut messages = Vec::new();
    let mut texts = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    b"error" => errors += 1,
                    _ => {}
                }
                if let Some(m) = e.try_get_attribute("message").unwrap() {
                    messages.push(m.unescape_value().unwrap().into_owned());
                }
            }
            Event::Text(t) => texts.push_str(&t.unescape().unwrap()),
            _ => {}
        }
    }
    assert_eq!(cases, r.cells.len());
    assert_eq!(failures, r.summary.fail);
    assert_eq!(
        errors, r.summary.inconclusive,
        "inconclusive cells are errors"
    );
    assert!(
        messages
            .iter()
            .any(|m| m == "predicted by the model (line 3: (allow x) ]]> <y> \\u{7})"),
        "{messages:?}"
    );
    assert!(
        texts.contains("odd ]]> <b>&amp; \\u{1}\\u{1b}[31m end"),
        "{texts}"
    );
    assert!(!xml.contains('\u{1}') && !xml.contains('\u{7}'));
}

/// The HTML as a browser renders it with JavaScript off: headless Chromium
/// (Debian's package; .ci/run installs it) dumps the DOM. Scripts are off
/// through the page's own Content-Security-Policy (a canary script added
/// to the page must not run): `--blink-settings=scriptEnabled=false` also
/// silences `--dump-dom` itself in Debian's chromium 14x, which prints an
/// empty DOM then.
/// `html` as headless Chromium renders it with JavaScript off, a canary
/// script added; the dumped DOM, which must show the canary did not run.
fn rendered_dom(html: &str) -> String {
    let browser = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("chromium is needed for this test: apt-get install -y chromium");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    let canary = "<script>document.body.textContent='SCRIPT'+' RAN'</script></body>";
    std::fs::write(&page, html.replace("</body>", canary)).unwrap();
    let out = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && dom.contains("</html>"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dom.contains("SCRIPT RAN"), "a script ran: {dom}");
    dom
}

#[test]
fn html_renders_in_a_browser_without_javascript() {
    let r = hostile();
    let dom = rendered_dom(&report::html::render(&r));
    assert!(dom.contains("<table id=\"summary\">"), "{dom}");
    assert!(
        dom.contains("nothing observed under enforcement")
            || dom.contains("observed cells agreed")
            || dom.contains("cells failed")
    );
    // The failed cell, with its hostile reason as text, not markup.
    assert!(dom.contains("<td class=\"fail"), "{dom}");
    assert!(dom.contains("odd ]]&gt; &lt;b&gt;&amp;amp;"), "{dom}");
    assert!(!dom.contains("<b>&amp;amp;"));
    // An inconclusive cell's reason is in the DOM (inside <details>).
    let reason = &r
        .cells
        .iter()
        .find(|c| c.status.is_inconclusive())
        .unwrap()
        .reason;
    assert!(
        dom.contains(
            &report::html::esc(reason)
                .replace("&#39;", "'")
                .replace("&quot;", "\"")
        ),
        "{reason}\n{dom}"
    );
}

/// Two releases (schema 1 fixtures) where the first cell's observed
/// outcome changed.
fn two_releases() -> merge::Merged {
    let a = load("report-macos14.json");
    let b = load("report-macos15.json");
    merge::merge(&[
        ("macos14/report.json".into(), a),
        ("macos15/report.json".into(), b),
    ])
    .unwrap()
}

#[test]
fn merged_snapshots() {
    let m = two_releases();
    insta::assert_snapshot!("merged_md", merge::render_markdown(&m));
    insta::assert_snapshot!("merged_html", merge::render_html(&m));
}

/// The merged page leads with the change, then shows one column per
/// release, each cell what the OS did with the spec match as class and mark.
#[test]
fn merged_html_renders_in_a_browser_without_javascript() {
    let dom = rendered_dom(&merge::render_html(&two_releases()));
    let changes = dom
        .find("What changed between releases (1)")
        .expect("changes heading");
    let compat = dom
        .find("<table id=\"compat\">")
        .expect("compatibility table");
    assert!(changes < compat, "the changes come first");
    let changed = &dom[changes..compat];
    assert!(changed.contains("<table id=\"changed\">"), "{dom}");
    assert!(
        changed.contains("<th>macos 14.7.1"),
        "a column per release: {changed}"
    );
    assert!(
        changed.contains("<th>macos 15.4.1"),
        "a column per release: {changed}"
    );
    // The changed cell: macOS 14 denied as specified, macOS 15 allowed
    // against the spec.
    assert!(changed.contains("<td class=\"pass changed\""), "{changed}");
    assert!(changed.contains(">✓ denied</td>"), "{changed}");
    assert!(changed.contains("<td class=\"fail changed\""), "{changed}");
    assert!(changed.contains(">✗ allowed</td>"), "{changed}");
    assert!(!dom.contains("http://") && !dom.contains("https://"));
}

/// `report merge` reads schema 1 and schema 2 reports side by side.
#[test]
fn merge_reads_schema_1_and_2() {
    let one = std::fs::read_to_string(root().join("tests/fixtures/report-macos14.json")).unwrap();
    let two = serde_json::to_string(&hostile()).unwrap();
    assert!(one.contains("\"schema\": 1") && two.contains("\"schema\":2"));
    let m = merge::merge(&[
        ("one".into(), json::parse(&one).unwrap()),
        ("two".into(), json::parse(&two).unwrap()),
    ])
    .unwrap();
    assert_eq!(m.releases.len(), 2);
    assert!(m.rows.iter().all(|r| r.cells.iter().all(Option::is_some)));
    assert_eq!(m.changed, 1);
}

#[test]
fn report_snapshots() {
    let r = load("report-macos15.json");
    insta::assert_snapshot!("report_md", markdown::render(&r));
    insta::assert_snapshot!("report_html", report::html::render(&r));
}
