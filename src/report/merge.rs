//! `report merge`: several releases' reports as one compatibility table
//! (rows probe x config, columns release, caniuse style), led by what
//! changed between releases: the rows whose observed outcome differs.

use super::escape::markdown as md;
use super::html::{esc, CSP, STYLE};
use super::markdown::mark;
use super::run::{Completion, Run};
use super::write::{write_set, Rendered};
use super::{config_label, config_name, ConfigValues, Host, Report, Summary};
use crate::matrix::cell::{Access, Status};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    pub schema: u32,
    pub releases: Vec<Release>,
    pub dimensions: Vec<String>,
    pub rows: Vec<Row>,
    /// Rows whose observed outcome differs between releases.
    pub changed: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub label: String,
    pub source: String,
    pub host: Host,
    pub summary: Summary,
    /// The release's run (id, complete or partial), when its report says.
    #[serde(default)]
    pub run: Option<Run>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub probe: String,
    pub config: ConfigValues,
    /// One per release, in `releases` order; `null` where that report has
    /// no such cell.
    pub cells: Vec<Option<MergedCell>>,
    pub changed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedCell {
    pub status: Status,
    pub expected: Access,
    pub model: Option<Access>,
    /// The observed verdict, `null` when not run.
    pub observed: Option<String>,
    pub reason: String,
}

/// Merges reports (with the file each came from), in the order given. A
/// report holding the same cell (probe and config) twice is an error naming
/// the file, the probe and the config: which of the two would the table show?
pub fn merge(reports: &[(String, Report)]) -> Result<Merged, String> {
    let mut dimensions: Vec<String> = Vec::new();
    let mut releases = Vec::new();
    let mut seen_labels: HashMap<String, usize> = HashMap::new();
    for (source, r) in reports {
        for d in &r.dimensions {
            if !dimensions.contains(d) {
                dimensions.push(d.clone());
            }
        }
        let base = r.host.release();
        let n = seen_labels.entry(base.clone()).or_insert(0);
        *n += 1;
        let label = if *n == 1 {
            base
        } else {
            format!("{base} #{n}")
        };
        releases.push(Release {
            label,
            source: source.clone(),
            host: r.host.clone(),
            summary: r.summary,
            run: r.run.clone(),
        });
    }
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut rows: Vec<Row> = Vec::new();
    for (i, (source, r)) in reports.iter().enumerate() {
        let mut seen: HashSet<(String, String)> = HashSet::new();
        for c in &r.cells {
            let key = (c.probe.clone(), config_label(&dimensions, &c.config));
            if !seen.insert(key.clone()) {
                return Err(format!(
                    "{source}: the cell of probe {:?} in config {} appears twice",
                    key.0, key.1
                ));
            }
            let row = *index.entry(key).or_insert_with(|| {
                rows.push(Row {
                    probe: c.probe.clone(),
                    config: c.config.clone(),
                    cells: vec![None; reports.len()],
                    changed: false,
                });
                rows.len() - 1
            });
            rows[row].cells[i] = Some(MergedCell {
                status: c.status,
                expected: c.expected,
                model: c.model,
                observed: c.observed.as_ref().map(|o| o.verdict.clone()),
                reason: c.reason.clone(),
            });
        }
    }
    for row in &mut rows {
        row.changed = changes(&row.cells);
    }
    let changed = rows.iter().filter(|r| r.changed).count();
    Ok(Merged {
        schema: super::SCHEMA,
        releases,
        dimensions,
        rows,
        changed,
    })
}

/// Whether the releases disagree on what the OS did: the observed verdict
/// differs (a release missing the cell, or not running it, is a change
/// too). A different spec verdict over the same observation is not: the
/// release did nothing different.
fn changes(cells: &[Option<MergedCell>]) -> bool {
    let key = |c: &Option<MergedCell>| c.as_ref().map(|c| c.observed.clone());
    cells.windows(2).any(|w| key(&w[0]) != key(&w[1]))
}

/// `complete`, `partial: <reason>`, or `not recorded` (older reports).
fn run_text(run: Option<&Run>) -> String {
    match run.map(|r| &r.completion) {
        None => "not recorded".into(),
        Some(Completion::Complete) => "complete".into(),
        Some(Completion::Partial { reason }) => format!("partial: {reason}"),
    }
}

fn cell_mark(c: &Option<MergedCell>) -> String {
    match c {
        None => "—".into(),
        Some(c) => format!(
            "{} {}",
            mark(c.status),
            c.observed.as_deref().unwrap_or("not run")
        ),
    }
}

const LEGEND: &str = "Each cell is what the OS did (allowed / denied), marked against the spec: ✓ as specified, ✗ contradicts it, ? inconclusive; — the release has no such cell.";

pub fn render_markdown(m: &Merged) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# beltcheck compatibility across releases\n");
    let _ = writeln!(out, "{LEGEND}\n");
    let _ = writeln!(out, "## What changed between releases ({})\n", m.changed);
    if m.changed == 0 {
        let _ = writeln!(out, "Nothing: every release observed the same outcomes.");
    } else {
        table(&mut out, m, m.rows.iter().filter(|r| r.changed));
    }
    let _ = writeln!(out, "\n## Releases\n");
    let _ = writeln!(
        out,
        "| release | backend | pass | fail | inconclusive | report | run |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---|---|");
    for r in &m.releases {
        let s = r.summary;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md(&r.label),
            md(&r.host.backend),
            s.pass,
            s.fail,
            s.inconclusive,
            md(&r.source),
            md(&run_text(r.run.as_ref()))
        );
    }
    let _ = writeln!(out, "\n## Compatibility table\n");
    table(&mut out, m, m.rows.iter());
    out
}

fn table<'a>(out: &mut String, m: &Merged, rows: impl Iterator<Item = &'a Row>) {
    let heads: Vec<String> = m.releases.iter().map(|r| md(&r.label)).collect();
    let _ = writeln!(out, "| probe | config | {} |", heads.join(" | "));
    let _ = writeln!(out, "|---|---|{}", "---|".repeat(heads.len()));
    for row in rows {
        let cells: Vec<String> = row.cells.iter().map(|c| md(&cell_mark(c))).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            md(&row.probe),
            md(&config_name(&m.dimensions, &row.config)),
            cells.join(" | ")
        );
    }
}

/// One self-contained page, no script: the changes first, then the
/// releases, then the full table. Colour and mark both carry the spec
/// match, so it reads in greyscale too; the evidence is on hover.
pub fn render_html(m: &Merged) -> String {
    let mut out = String::new();
    let _ = write!(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{CSP}<title>beltcheck across releases</title><style>{STYLE}</style></head><body>\n");
    let _ = writeln!(out, "<h1>beltcheck compatibility across releases</h1>");
    let _ = writeln!(out, "<p id=\"legend\">{}</p>", esc(LEGEND));
    let _ = writeln!(
        out,
        "<h2 id=\"changes\">What changed between releases ({})</h2>",
        m.changed
    );
    if m.changed == 0 {
        let _ = writeln!(
            out,
            "<p>Nothing: every release observed the same outcomes.</p>"
        );
    } else {
        html_table(&mut out, m, "changed", m.rows.iter().filter(|r| r.changed));
    }
    let _ = writeln!(out, "<h2>Releases</h2>");
    let _ = writeln!(out, "<table id=\"releases\"><tr><th>release</th><th>backend</th><th>pass</th><th>fail</th><th>inconclusive</th><th>report</th><th>run</th></tr>");
    for r in &m.releases {
        let s = r.summary;
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.label),
            esc(&r.host.backend),
            s.pass,
            s.fail,
            s.inconclusive,
            esc(&r.source),
            esc(&run_text(r.run.as_ref()))
        );
    }
    let _ = writeln!(out, "</table>");
    let _ = writeln!(out, "<h2>Compatibility table</h2>");
    html_table(&mut out, m, "compat", m.rows.iter());
    let _ = writeln!(out, "</body></html>");
    out
}

fn html_table<'a>(out: &mut String, m: &Merged, id: &str, rows: impl Iterator<Item = &'a Row>) {
    let _ = write!(out, "<table id=\"{id}\"><tr><th>probe</th><th>config</th>");
    for r in &m.releases {
        let _ = write!(out, "<th>{}</th>", esc(&r.label));
    }
    let _ = writeln!(out, "</tr>");
    for row in rows {
        let _ = write!(
            out,
            "<tr><th>{}</th><td class=\"cfg\">{}</td>",
            esc(&row.probe),
            esc(&config_name(&m.dimensions, &row.config))
        );
        let changed = if row.changed { " changed" } else { "" };
        for c in &row.cells {
            match c {
                Some(cell) => {
                    let _ = write!(
                        out,
                        "<td class=\"{}{changed}\" title=\"{}\">{}</td>",
                        cell.status.name(),
                        esc(&format!(
                            "the spec says {}; {}",
                            cell.expected.done(),
                            cell.reason
                        )),
                        esc(&cell_mark(c))
                    );
                }
                None => {
                    let _ = write!(out, "<td class=\"none{changed}\">—</td>");
                }
            }
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</table>");
}

/// Writes merged.md, merged.html and merged.json into `dir` as one set
/// (merged.json last; see [`super::write`]).
pub fn write_all(m: &Merged, dir: &std::path::Path) -> std::io::Result<()> {
    let mut json = serde_json::to_string_pretty(m).expect("a merge always serialises");
    json.push('\n');
    let files = [
        Rendered::new("merged.md", render_markdown(m)),
        Rendered::new("merged.html", render_html(m)),
        Rendered::new("merged.json", json),
    ];
    write_set(dir, &files, "merged.json")
}
