//! `report merge`: several releases' reports as one table (rows probe x
//! config, columns release), with the rows whose status or observed verdict
//! changes between releases flagged.

use super::escape::markdown as md;
use super::html::{esc, STYLE};
use super::markdown::mark;
use super::run::{Completion, Run};
use super::write::{write_set, Rendered};
use super::{config_label, ConfigValues, Host, Report, Summary};
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
    /// Rows whose cells differ between releases.
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

/// Whether the present cells disagree on status or observed verdict (a
/// release missing the cell is a change too).
fn changes(cells: &[Option<MergedCell>]) -> bool {
    let key = |c: &Option<MergedCell>| c.as_ref().map(|c| (c.status, c.observed.clone()));
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

pub fn render_markdown(m: &Merged) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# beltcheck compatibility across releases\n");
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
    let _ = writeln!(out, "\nMarks: ✓ pass, ✗ fail, ? inconclusive, then the observed verdict; — the release has no such cell.");
    let _ = writeln!(out, "\n## Changes between releases ({})\n", m.changed);
    if m.changed == 0 {
        let _ = writeln!(out, "None.");
    } else {
        table(&mut out, m, m.rows.iter().filter(|r| r.changed));
    }
    let _ = writeln!(out, "\n## All cells\n");
    table(&mut out, m, m.rows.iter());
    out
}

fn table<'a>(out: &mut String, m: &Merged, rows: impl Iterator<Item = &'a Row>) {
    let heads: Vec<String> = m.releases.iter().map(|r| md(&r.label)).collect();
    let _ = writeln!(out, "| probe | config | {} | changed |", heads.join(" | "));
    let _ = writeln!(out, "|---|---|{}---|", "---|".repeat(heads.len()));
    for row in rows {
        let cells: Vec<String> = row.cells.iter().map(|c| md(&cell_mark(c))).collect();
        let flag = if row.changed { "**changed**" } else { "" };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {flag} |",
            md(&row.probe),
            md(&config_label(&m.dimensions, &row.config)),
            cells.join(" | ")
        );
    }
}

pub fn render_html(m: &Merged) -> String {
    let mut out = String::new();
    let _ = write!(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>beltcheck across releases</title><style>{STYLE}</style></head><body>\n");
    let _ = writeln!(out, "<h1>beltcheck compatibility across releases</h1><p>{} rows change between releases (outlined).</p>", m.changed);
    let _ = write!(out, "<table><tr><th>probe</th><th>config</th>");
    for r in &m.releases {
        let _ = write!(out, "<th>{}</th>", esc(&r.label));
    }
    let _ = writeln!(out, "</tr>");
    for row in &m.rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"cfg\">{}</td>",
            esc(&row.probe),
            esc(&config_label(&m.dimensions, &row.config))
        );
        for c in &row.cells {
            let changed = if row.changed { " changed" } else { "" };
            match c {
                Some(cell) => {
                    let _ = write!(
                        out,
                        "<td class=\"{}{changed}\" title=\"{}\">{}</td>",
                        cell.status.name(),
                        esc(&cell.reason),
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
    let _ = writeln!(out, "</table></body></html>");
    out
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
