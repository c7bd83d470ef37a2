//! Profile text -> rules: read, evaluate the top-level forms, collect every
//! `allow`/`deny` (with its line and text), and record what was skipped.

use super::eval::{Evaluator, Frame, Value};
use super::filter::Filter;
use super::filter_forms::as_filter;
use super::{ops, Action, Origin, Rule};
use crate::ast::Node;
use crate::reader::{self, ReadError};
use std::collections::BTreeMap;

/// The rules of a profile in text order, and the forms the model skipped.
pub struct Compiled {
    pub rules: Vec<Rule>,
    pub skipped: Vec<String>,
}

/// Forms whose value at top level is not a sign of something skipped.
const STATEMENTS: &[&str] = &[
    "define", "if", "when", "unless", "cond", "begin", "let", "let*", "letrec", "set!", "allow",
    "deny",
];

pub fn compile(text: &str, params: &BTreeMap<String, String>) -> Result<Compiled, ReadError> {
    let arena = crate::ast::Arena::new();
    let forms = reader::read(text, &arena)?;
    let mut ev = Evaluator::new(text, params);
    let env = Frame::root();
    for form in &forms {
        let value = ev.eval(form, &env);
        if let Value::Unknown(why) = value {
            let head = form
                .as_list()
                .and_then(|l| l.first())
                .and_then(Node::as_symbol);
            if !head.is_some_and(|h| STATEMENTS.contains(&h)) {
                ev.skip(form.span, why);
            }
        }
    }
    let mut rules = implicit_rules(&ev.rules);
    rules.append(&mut ev.rules);
    Ok(Compiled {
        rules,
        skipped: ev.skipped,
    })
}

/// SOURCE (10.10): `(allow signal (target self))` always, and
/// `mach-bootstrap` allowed when any `mach-lookup` is. They come first, so
/// every rule of the profile takes precedence over them.
fn implicit_rules(rules: &[Rule]) -> Vec<Rule> {
    let mut out = vec![Rule {
        action: Action::Allow,
        ops: vec!["signal".into()],
        filter: Some(Filter::Target("self".into())),
        guard: None,
        line: 0,
        text: "(allow signal (target self))".into(),
        origin: Origin::Implicit("implicit rule (allow signal (target self))"),
    }];
    let lookups: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.action == Action::Allow && r.ops.iter().any(|o| o == "mach-lookup"))
        .collect();
    if !lookups.is_empty() {
        // Granted for sure when one mach-lookup allow is unconditional.
        let guard = match lookups.iter().any(|r| r.guard.is_none()) {
            true => None,
            false => lookups[0].guard.clone(),
        };
        out.push(Rule {
            action: Action::Allow,
            ops: vec!["mach-bootstrap".into()],
            filter: None,
            guard,
            line: 0,
            text: "(allow mach-bootstrap)".into(),
            origin: Origin::Implicit(
                "implicit: mach-bootstrap is allowed because the profile allows mach-lookup",
            ),
        });
    }
    out
}

impl<'a> Evaluator<'a> {
    /// Evaluates `(allow|deny OPERATION... FILTER... MODIFIER...)` into a
    /// rule. Operations are the bare symbols that are not bound variables.
    pub fn rule(
        &mut self,
        verb: &str,
        node: &Node<'a>,
        args: &'a [Node<'a>],
        env: &super::eval::Env<'a>,
    ) {
        let action = if verb == "allow" {
            Action::Allow
        } else {
            Action::Deny
        };
        let mut ops = Vec::new();
        let mut filters = Vec::new();
        for a in args {
            let value = match a.as_symbol() {
                Some(s) if env.lookup(s).is_none() => Value::Sym(s.to_string()),
                _ => self.eval(a, env),
            };
            operand(value, &mut ops, &mut filters);
        }
        if ops.is_empty() {
            self.skip(node.span, "rule names no operation");
            return;
        }
        let filter = match filters.len() {
            0 => None,
            1 => filters.pop(),
            _ => Some(Filter::Any(filters)),
        };
        self.rules.push(Rule {
            action,
            ops,
            filter,
            guard: self.guards.first().cloned(),
            line: self.line(node.span),
            text: self.source(node.span),
            origin: Origin::Text,
        });
    }
}

fn operand(value: Value, ops: &mut Vec<String>, filters: &mut Vec<Filter>) {
    match value {
        Value::Sym(op) => ops.push(ops::canonical(&op).to_string()),
        Value::Filter(f) => filters.push(f),
        Value::Modifier | Value::Void => {}
        Value::List(items) => {
            for item in items {
                operand(item, ops, filters);
            }
        }
        other => filters.push(as_filter(&other)),
    }
}
