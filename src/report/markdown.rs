//! report.md: the summary, then one line per probe (the rule, whether what
//! the OS did agreed, the options that changed it), failures with their
//! evidence, each probe's cells by config name, model-vs-observed
//! divergences, then the inconclusive reasons.

use super::{probe_summaries, CellRecord, Report};
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

/// What the OS did in a cell, for people: `allowed`, `denied`, or why
/// there is no answer.
pub fn outcome_text(c: &CellRecord) -> String {
    match (c.outcome, &c.observed) {
        (Some(a), _) => a.done().to_string(),
        (None, Some(o)) => o.verdict.clone(),
        (None, None) => "not run".into(),
    }
}

/// How a probe's cells went, in words.
pub fn agreement_text(s: &super::ProbeSummary) -> String {
    let n = s.summary.pass + s.summary.fail + s.summary.inconclusive;
    if s.summary.fail > 0 {
        format!("{} of {n} cells failed", s.summary.fail)
    } else if s.observed == 0 {
        "nothing observed under enforcement".into()
    } else if s.summary.inconclusive > 0 {
        format!(
            "all {} observed cells agreed; {} inconclusive",
            s.observed, s.summary.inconclusive
        )
    } else {
        format!("all {} observed cells agreed", s.observed)
    }
}

fn probes(out: &mut String, r: &Report) {
    let _ = writeln!(out, "\n## Probes\n");
    let _ = writeln!(
        out,
        "| probe | allowed when | agreement | options that changed the outcome |"
    );
    let _ = writeln!(out, "|---|---|---|---|");
    for s in probe_summaries(r) {
        let changed = if s.changed_by.is_empty() {
            "none".to_string()
        } else {
            s.changed_by
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {changed} |",
            cell_text(&s.probe),
            cell_text(&s.rule),
            agreement_text(&s)
        );
    }
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let h = &r.host;
    let _ = writeln!(out, "# beltcheck compatibility report: {}\n", h.release());
    out.push_str(&super::run::markdown_banner(r.run.as_ref()));
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
    probes(&mut out, r);
    failures(&mut out, r);
    table(&mut out, r);
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
    let coverage = r.meta.coverage_text();
    let _ = writeln!(
        out,
        "\nConfigs: {coverage}. {} sandboxed launches of {} distinct sandboxes ({} run(s) each).",
        r.launches, r.distinct_launches, r.repeat
    );
}

fn table(out: &mut String, r: &Report) {
    let _ = writeln!(out, "\n## Cells\n");
    let _ = writeln!(
        out,
        "What the OS did in each config (named by the options it turns on; dimensions: {}), then the match against the spec: ✓ pass, ✗ fail, ? inconclusive.",
        dims_legend(r)
    );
    for p in &r.probes {
        let _ = writeln!(out, "\n### `{}`\n", cell_text(p));
        let _ = writeln!(out, "| config | outcome | spec | evidence |");
        let _ = writeln!(out, "|---|---|---|---|");
        for c in r.cells.iter().filter(|c| &c.probe == p) {
            let _ = writeln!(
                out,
                "| {} | {} | {} {} | {} |",
                cell_text(&r.config_label(&c.config)),
                cell_text(&outcome_text(c)),
                mark(c.status),
                c.status,
                cell_text(&c.evidence.to_string())
            );
        }
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
        let _ = writeln!(
            out,
            "### `{}` with {}\n",
            c.probe,
            cell_text(&r.config_label(&c.config))
        );
        let _ = writeln!(out, "- evidence: {}", c.evidence);
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
            "| {} | {} | {} | {} |",
            cell_text(&c.probe),
            cell_text(&r.config_label(&c.config)),
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
