//! Requests derived from a profile's own rules: for each operation a rule
//! names, one request its filter matches (when the model can build one)
//! and one it does not. What the corpus test and the benchmarks ask.

use super::filter::{Filter, Subject, Test};
use super::{Arg, Model, Origin, Request};

impl Model {
    /// Requests drawn from the profile's rules, without duplicates, in rule
    /// order.
    pub fn derived_requests(&self) -> Vec<Request> {
        let mut out: Vec<Request> = Vec::new();
        let mut push = |r: Request| {
            if !out.contains(&r) {
                out.push(r);
            }
        };
        for rule in self.rules.iter().filter(|r| r.origin == Origin::Text) {
            for op in &rule.ops {
                let leaf = rule.filter.as_ref().and_then(first_test);
                match leaf {
                    Some((subject, test)) => {
                        if let Some(hit) = matching(test) {
                            push(Request::with(op, arg(subject, hit)));
                        }
                        push(Request::with(op, arg(subject, miss(subject))));
                    }
                    None => push(Request::bare(op)),
                }
            }
        }
        out
    }
}

/// The first string test in a filter, depth first.
fn first_test(f: &Filter) -> Option<(Subject, &Test)> {
    match f {
        Filter::Test { subject, test, .. } => Some((*subject, test)),
        Filter::Any(items) | Filter::All(items) => items.iter().find_map(first_test),
        _ => None,
    }
}

/// A value the test accepts; none for regexes.
fn matching(test: &Test) -> Option<String> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match test {
        Test::Exact(v) => Some(text(v)),
        Test::Prefix(p) => Some(format!("{}x", text(p))),
        Test::Subpath(root) if root.as_slice() == b"/" => Some("/x".into()),
        Test::Subpath(root) => Some(format!("{}/x", text(root))),
        Test::Regex(_) => None,
    }
}

/// A value no Apple rule names.
fn miss(subject: Subject) -> String {
    match subject {
        Subject::Path => "/beltcheck/not/named/by/any/rule".into(),
        _ => "beltcheck.not.named.by.any.rule".into(),
    }
}

fn arg(subject: Subject, value: String) -> Arg {
    match subject {
        Subject::Path => Arg::Path(value),
        Subject::GlobalName | Subject::LocalName => Arg::GlobalName(value),
        Subject::IokitClass => Arg::IokitClass(value),
        Subject::IpcName => Arg::IpcName(value),
        Subject::SysctlName => Arg::SysctlName(value),
    }
}
