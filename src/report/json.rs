//! report.json: the contract's schema, pretty-printed, cells in plan order.

use super::Report;

pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a report always serialises");
    text.push('\n');
    text
}

/// Reads a report back (for `report merge`); the error names the problem.
pub fn parse(text: &str) -> Result<Report, String> {
    let report: Report = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if report.schema != super::SCHEMA {
        return Err(format!(
            "schema {} is not supported (expected {})",
            report.schema,
            super::SCHEMA
        ));
    }
    Ok(report)
}
