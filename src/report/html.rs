//! report.html: one self-contained page (inline CSS, no scripts, no
//! external assets) that reads without JavaScript: the per-probe summary
//! first, then the config x probe table where each cell shows what the OS
//! did, its match against the spec as a colour and a mark, and its evidence
//! in a `<details>` element.

use super::markdown::{agreement_text, mark, outcome_text};
use super::{probe_summaries, CellRecord, Report};
use crate::matrix::cell::Status;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page runs no script and loads nothing, whatever ends up in it.
pub const CSP: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">";

/// The page's stylesheet: one class per status (and `changed` for merges).
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em}\
table{border-collapse:collapse;font-size:13px;margin-bottom:1.5em}th,td{border:1px solid #ccc;padding:2px 6px;text-align:center;vertical-align:top}\
td.cfg{text-align:left}.pass{background:#c8efc8}.fail{background:#f4a6a6;font-weight:bold}\
.inconclusive{background:#f7e3a1}.changed{outline:3px solid #6a3fc1}.none{background:#eee}\
details summary{cursor:pointer}details p{font-weight:normal;text-align:left;max-width:40em;margin:.3em 0}";

pub fn class(status: Status) -> &'static str {
    status.name()
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let title = format!("beltcheck report: {}", r.host.release());
    let _ = write!(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{CSP}<title>{}</title><style>{STYLE}</style></head><body>\n", esc(&title));
    let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
    out.push_str(&super::run::html_banner(r.run.as_ref()));
    let s = &r.summary;
    let coverage = r.meta.coverage_text();
    let _ = writeln!(
        out,
        "<p id=\"totals\">backend <b>{}</b> ({}); beltcheck {} ({}); {} pass, {} fail, {} inconclusive, {} cells in {:.1} s; configs: {}; {} launches of {} distinct sandboxes.</p>",
        esc(&r.host.backend),
        esc(&r.host.backend_detail),
        esc(&r.host.beltcheck_version),
        esc(&r.host.git_revision),
        s.pass,
        s.fail,
        s.inconclusive,
        r.timing.cells,
        r.timing.wall_s,
        esc(&coverage),
        r.launches,
        r.distinct_launches
    );
    summary(&mut out, r);
    cells(&mut out, r);
    let _ = writeln!(
        out,
        "<p>Outlined cells: the model and the enforced observation disagree.</p>\n</body></html>"
    );
    out
}

fn summary(out: &mut String, r: &Report) {
    let _ = writeln!(out, "<h2>Probes</h2>\n<table id=\"summary\"><tr><th>probe</th><th>allowed when</th><th>agreement</th><th>options that changed the outcome</th></tr>");
    for s in probe_summaries(r) {
        let class = if s.summary.fail > 0 {
            "fail"
        } else if s.observed == 0 || s.summary.inconclusive > 0 {
            "inconclusive"
        } else {
            "pass"
        };
        let changed = if s.changed_by.is_empty() {
            "none".to_string()
        } else {
            s.changed_by.join(", ")
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"{class}\">{}</td><td>{}</td></tr>",
            esc(&s.probe),
            esc(&s.rule),
            esc(&agreement_text(&s)),
            esc(&changed)
        );
    }
    let _ = writeln!(out, "</table>");
}

fn cells(out: &mut String, r: &Report) {
    let _ = writeln!(out, "<h2>Cells</h2>\n<p>Each cell: what the OS did; colour and mark: the match against the spec (✓ pass, ✗ fail, ? inconclusive). Open a cell for its evidence.</p>");
    let _ = write!(out, "<table id=\"cells\"><tr><th>config</th>");
    for p in &r.probes {
        let _ = write!(out, "<th>{}</th>", esc(p));
    }
    let _ = writeln!(out, "</tr>");
    let mut rows: Vec<String> = Vec::new();
    let mut grid: BTreeMap<(String, &str), &CellRecord> = BTreeMap::new();
    for c in &r.cells {
        let name = r.config_label(&c.config);
        if !rows.contains(&name) {
            rows.push(name.clone());
        }
        grid.insert((name, c.probe.as_str()), c);
    }
    for row in rows {
        let _ = write!(out, "<tr><td class=\"cfg\">{}</td>", esc(&row));
        for p in &r.probes {
            match grid.get(&(row.clone(), p.as_str())) {
                Some(c) => cell(out, c),
                None => {
                    let _ = write!(out, "<td class=\"none\"></td>");
                }
            }
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</table>");
}

fn cell(out: &mut String, c: &CellRecord) {
    let div = if c.divergent { " changed" } else { "" };
    let model = c.model.map(|m| m.name()).unwrap_or("undecided");
    let _ = write!(
        out,
        "<td class=\"{}{div}\" data-probe=\"{}\"><details><summary>{} {}</summary><p>{}: expected {}, model {model}.</p><p class=\"reason\">{}</p><p class=\"evidence\">{}</p></details></td>",
        class(c.status),
        esc(&c.probe),
        mark(c.status),
        esc(&outcome_text(c)),
        c.status,
        c.expected.name(),
        esc(&c.reason),
        esc(&c.evidence.to_string())
    );
}
