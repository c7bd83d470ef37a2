//! report.md: summary, the probe x config table, failures with their
//! evidence, model-vs-observed divergences, then the inconclusive reasons.

use super::ConfigValue;
use super::{CellRecord, Report};
use crate::matrix::cell::{Access, Status, StatusKind};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The mark for a status in tables.
pub fn mark(status: Status) -> &'static str {
    match status.kind() {
        StatusKind::Pass => "✓",
        StatusKind::Fail => "✗",
        StatusKind::Inconclusive => "?",
    }
}

/// Makes text safe inside a Markdown table cell.
pub fn cell_text(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A config as a bit string in dimension order (`1` = on).
pub fn bits(report: &Report, cell: &CellRecord) -> String {
    if report.dimensions.is_empty() {
        return "-".into();
    }
    report
        .dimensions
        .iter()
        .map(|d| {
            if cell.config.get(d) == Some(&ConfigValue::Bool(true)) {
                '1'
            } else {
                '0'
            }
        })
        .collect()
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let h = &r.host;
    let _ = writeln!(out, "# beltcheck compatibility report: {}\n", h.release());
    let _ = writeln!(out, "- backend: `{}` ({})", h.backend, h.backend_detail);
    let _ = writeln!(out, "- kernel: {}", h.kernel);
    if let Some(d) = &h.distribution {
        let _ = writeln!(out, "- distribution: {d}");
    }
    if let Some(abi) = h.landlock_abi {
        let _ = writeln!(out, "- landlock ABI: {abi}");
    }
    let _ = writeln!(
        out,
        "- beltcheck {} ({})",
        h.beltcheck_version, h.git_revision
    );
    let _ = writeln!(out, "- expectations: {}", r.meta.expectations);
    if let Some(p) = &r.meta.profile {
        let _ = writeln!(out, "- profile: {p}");
    }
    summary(&mut out, r);
    table(&mut out, r);
    failures(&mut out, r);
    divergences(&mut out, r);
    inconclusive(&mut out, r);
    controls(&mut out, r);
    out
}

fn summary(out: &mut String, r: &Report) {
    let s = &r.summary;
    let verdict = if s.fail > 0 {
        "FAILED"
    } else if s.inconclusive > 0 {
        "no failures (some cells inconclusive)"
    } else {
        "all pass"
    };
    let _ = writeln!(out, "\n## Summary: {verdict}\n");
    let _ = writeln!(out, "| pass | fail | inconclusive | cells | wall time |");
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {:.1} s |",
        s.pass, s.fail, s.inconclusive, r.timing.cells, r.timing.wall_s
    );
}

fn table(out: &mut String, r: &Report) {
    let _ = writeln!(out, "\n## Probe x config\n");
    let _ = writeln!(
        out,
        "Marks: ✓ pass, ✗ fail, ? inconclusive. Config bits, in order: {}.\n",
        dims_legend(r)
    );
    let mut rows: Vec<String> = Vec::new();
    let mut grid: BTreeMap<(String, String), Status> = BTreeMap::new();
    for c in &r.cells {
        let b = bits(r, c);
        if !rows.contains(&b) {
            rows.push(b.clone());
        }
        grid.insert((b, c.probe.clone()), c.status);
    }
    let _ = writeln!(
        out,
        "| config | {} |",
        r.probes
            .iter()
            .map(|p| cell_text(p))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|---|{}", "---|".repeat(r.probes.len()));
    for row in rows {
        let marks: Vec<&str> = r
            .probes
            .iter()
            .map(|p| {
                grid.get(&(row.clone(), p.clone()))
                    .map(|s| mark(*s))
                    .unwrap_or(" ")
            })
            .collect();
        let _ = writeln!(out, "| `{row}` | {} |", marks.join(" | "));
    }
}

fn dims_legend(r: &Report) -> String {
    if r.dimensions.is_empty() {
        return "(none: one cell per probe)".into();
    }
    r.dimensions
        .iter()
        .map(|d| format!("`{d}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn access(a: Option<Access>) -> &'static str {
    a.map(|a| a.name()).unwrap_or("unknown")
}

fn observed_text(c: &CellRecord) -> String {
    match &c.observed {
        None => "not run".into(),
        Some(o) => {
            let errno = o.errno.map(|e| format!(" errno {e}")).unwrap_or_default();
            let step = if o.step.is_empty() {
                String::new()
            } else {
                format!(" at step `{}`", o.step)
            };
            format!("{}{errno}{step}: {}", o.verdict, o.detail)
        }
    }
}

fn failures(out: &mut String, r: &Report) {
    let failed: Vec<&CellRecord> = r.cells.iter().filter(|c| c.status.is_fail()).collect();
    let _ = writeln!(out, "\n## Failures ({})\n", failed.len());
    if failed.is_empty() {
        let _ = writeln!(out, "None.");
    }
    for c in failed {
        let _ = writeln!(out, "### `{}` with `{}`\n", c.probe, bits(r, c));
        let _ = writeln!(out, "- config: {}", r.config_label(&c.config));
        let _ = writeln!(out, "- expected: {}", c.expected.name());
        let rule = c
            .model_rule
            .as_deref()
            .map(|x| format!(" by `{}`", cell_text(x)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "- model: {}{rule} ({})",
            access(c.model),
            c.model_reason
        );
        let _ = writeln!(out, "- observed: {}", observed_text(c));
        let _ = writeln!(out, "- why it fails: {}", c.reason);
        if let Some(o) = &c.observed {
            for d in &o.denials {
                let _ = writeln!(out, "- denial: `{}`", d.replace('`', "'"));
            }
        }
        let _ = writeln!(out);
    }
}

fn divergences(out: &mut String, r: &Report) {
    let div: Vec<&CellRecord> = r.cells.iter().filter(|c| c.divergent).collect();
    let _ = writeln!(out, "\n## Model vs observed divergences ({})\n", div.len());
    if div.is_empty() {
        let _ = writeln!(
            out,
            "None: wherever the probe ran under enforcement, the model predicted what the OS did."
        );
        return;
    }
    let _ = writeln!(out, "| probe | config | model | observed |");
    let _ = writeln!(out, "|---|---|---|---|");
    for c in div {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            cell_text(&c.probe),
            bits(r, c),
            access(c.model),
            cell_text(&observed_text(c))
        );
    }
}

fn inconclusive(out: &mut String, r: &Report) {
    let mut reasons: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for c in r.cells.iter().filter(|c| c.status.is_inconclusive()) {
        *reasons
            .entry((c.probe.as_str(), c.reason.as_str()))
            .or_default() += 1;
    }
    let _ = writeln!(
        out,
        "\n## Inconclusive cells ({})\n",
        r.summary.inconclusive
    );
    if reasons.is_empty() {
        let _ = writeln!(out, "None.");
        return;
    }
    let _ = writeln!(out, "| probe | cells | reason |");
    let _ = writeln!(out, "|---|---:|---|");
    for ((probe, reason), n) in reasons {
        let _ = writeln!(
            out,
            "| {} | {n} | {} |",
            cell_text(probe),
            cell_text(reason)
        );
    }
}

fn controls(out: &mut String, r: &Report) {
    if r.controls.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Control runs (no sandbox)\n");
    let _ = writeln!(out, "| probe | verdict | detail |");
    let _ = writeln!(out, "|---|---|---|");
    for c in &r.controls {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            cell_text(&c.probe),
            c.verdict,
            cell_text(&c.detail)
        );
    }
}
