//! report.html: the probe x config table as one self-contained page (inline
//! CSS, no scripts, no external assets), one colour per status, the reason
//! on hover.

use super::markdown::bits;
use super::Report;
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

/// The page's stylesheet: one class per status (and `changed` for merges).
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em}\
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:2px 6px;text-align:center}\
td.cfg{font-family:monospace;text-align:left}.pass{background:#c8efc8}.fail{background:#f4a6a6;font-weight:bold}\
.inconclusive{background:#f7e3a1}.changed{outline:3px solid #6a3fc1}.none{background:#eee}";

pub fn class(status: Status) -> &'static str {
    status.name()
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let title = format!("beltcheck report: {}", r.host.release());
    let _ = write!(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n", esc(&title));
    let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
    let s = &r.summary;
    let _ = writeln!(
        out,
        "<p>backend <b>{}</b> ({}); beltcheck {} ({}); {} pass, {} fail, {} inconclusive, {} cells in {:.1} s.</p>",
        esc(&r.host.backend),
        esc(&r.host.backend_detail),
        esc(&r.host.beltcheck_version),
        esc(&r.host.git_revision),
        s.pass,
        s.fail,
        s.inconclusive,
        r.timing.cells,
        r.timing.wall_s
    );
    let _ = writeln!(
        out,
        "<p>Config bits, in order: {}. Hover a cell for its reason.</p>",
        esc(&r.dimensions.join(", "))
    );
    let _ = write!(out, "<table><tr><th>config</th>");
    for p in &r.probes {
        let _ = write!(out, "<th>{}</th>", esc(p));
    }
    let _ = writeln!(out, "</tr>");
    let mut rows: Vec<String> = Vec::new();
    let mut grid: BTreeMap<(String, &str), &super::CellRecord> = BTreeMap::new();
    for c in &r.cells {
        let b = bits(r, c);
        if !rows.contains(&b) {
            rows.push(b.clone());
        }
        grid.insert((b, c.probe.as_str()), c);
    }
    for row in rows {
        let _ = write!(out, "<tr><td class=\"cfg\">{}</td>", esc(&row));
        for p in &r.probes {
            match grid.get(&(row.clone(), p.as_str())) {
                Some(c) => {
                    let tip = format!(
                        "{}: {} (expected {}, model {})",
                        c.status,
                        c.reason,
                        c.expected.name(),
                        c.model.map(|m| m.name()).unwrap_or("unknown")
                    );
                    let div = if c.divergent { " changed" } else { "" };
                    let _ = write!(
                        out,
                        "<td class=\"{}{div}\" title=\"{}\">{}</td>",
                        class(c.status),
                        esc(&tip),
                        super::markdown::mark(c.status)
                    );
                }
                None => {
                    let _ = write!(out, "<td class=\"none\"></td>");
                }
            }
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</table>\n<p>Outlined cells: the model and the enforced observation disagree.</p>\n</body></html>");
    out
}
