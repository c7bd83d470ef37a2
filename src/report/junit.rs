//! report.xml: the matrix as a JUnit test suite, one testcase per cell, so
//! CI test reporters show it like any suite. JUnit has no "inconclusive"
//! and `<skipped>` reads as neutral, so an inconclusive cell is an
//! `<error>` with its reason, never green; a failed cell is a `<failure>`.
//! The evidence is the message.

use super::{CellRecord, Report};
use crate::matrix::cell::StatusKind;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// XML 1.0 cannot carry most control characters, not even escaped: they
/// are written as `\u{..}` so the message stays readable and the file
/// stays well-formed.
pub fn xml_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let allowed = matches!(c, '\t' | '\n' | '\r')
            || matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
        if allowed {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    out
}

pub fn render(r: &Report) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = write(&mut w, r);
    String::from_utf8(w.into_inner()).expect("the writer emits UTF-8")
}

fn write(w: &mut Writer<Vec<u8>>, r: &Report) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    // The run id ties this file to the rest of its report set.
    let run = match &r.run {
        Some(run) if run.is_partial() => format!(" (run {}, PARTIAL)", run.id),
        Some(run) => format!(" (run {})", run.id),
        None => String::new(),
    };
    let name = xml_safe(&format!("beltcheck matrix: {}{run}", r.host.release()));
    let tests = r.cells.len().to_string();
    let failures = r.summary.fail.to_string();
    let errors = r.summary.inconclusive.to_string();
    let time = format!("{:.3}", r.timing.wall_s);
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", name.as_str()));
    suites.push_attribute(("tests", tests.as_str()));
    suites.push_attribute(("failures", failures.as_str()));
    suites.push_attribute(("errors", errors.as_str()));
    suites.push_attribute(("time", time.as_str()));
    w.write_event(Event::Start(suites))?;
    for p in &r.probes {
        let cells: Vec<&CellRecord> = r.cells.iter().filter(|c| &c.probe == p).collect();
        let count = |k: StatusKind| cells.iter().filter(|c| c.status.kind() == k).count();
        let suite_name = xml_safe(p);
        let (n, f, e) = (
            cells.len().to_string(),
            count(StatusKind::Fail).to_string(),
            count(StatusKind::Inconclusive).to_string(),
        );
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", suite_name.as_str()));
        suite.push_attribute(("tests", n.as_str()));
        suite.push_attribute(("failures", f.as_str()));
        suite.push_attribute(("errors", e.as_str()));
        w.write_event(Event::Start(suite))?;
        for c in cells {
            testcase(w, r, c)?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

fn testcase(w: &mut Writer<Vec<u8>>, r: &Report, c: &CellRecord) -> std::io::Result<()> {
    let classname = xml_safe(&format!("beltcheck.{}", c.probe));
    let name = xml_safe(&r.config_label(&c.config));
    let mut case = BytesStart::new("testcase");
    case.push_attribute(("classname", classname.as_str()));
    case.push_attribute(("name", name.as_str()));
    let outcome = match c.status.kind() {
        StatusKind::Pass => None,
        StatusKind::Fail => Some("failure"),
        StatusKind::Inconclusive => Some("error"),
    };
    let message = xml_safe(&c.evidence.to_string());
    let body = xml_safe(&format!(
        "{}\nexpected {}, model {}, observed {}",
        c.reason,
        c.expected.name(),
        c.model.map(|m| m.name()).unwrap_or("undecided"),
        super::markdown::outcome_text(c)
    ));
    w.write_event(Event::Start(case))?;
    match outcome {
        Some(tag) => {
            let mut el = BytesStart::new(tag);
            el.push_attribute(("message", message.as_str()));
            el.push_attribute(("type", c.status.name()));
            w.write_event(Event::Start(el))?;
            w.write_event(Event::Text(BytesText::new(&body)))?;
            w.write_event(Event::End(BytesEnd::new(tag)))?;
        }
        None => {
            w.write_event(Event::Start(BytesStart::new("system-out")))?;
            w.write_event(Event::Text(BytesText::new(&message)))?;
            w.write_event(Event::End(BytesEnd::new("system-out")))?;
        }
    }
    w.write_event(Event::End(BytesEnd::new("testcase")))?;
    Ok(())
}
