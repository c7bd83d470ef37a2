//! Profile text -> rules: read, evaluate the top-level forms (imports
//! followed), collect every `allow`/`deny` (with its file, line and text),
//! and record what was not evaluated.

use super::eval::{budget, Evaluator, Value};
use super::filter::Filter;
use super::filter_forms::as_filter;
use super::source::SearchPath;
use super::{ops, Action, CompileOptions, Import, NotEvaluated, Origin, Rule, Scope};
use crate::ast::{Arena, Node};
use crate::reader::ReadError;

/// The rules of a profile in text order, and what the model left out.
pub struct Compiled {
    pub rules: Vec<Rule>,
    pub not_evaluated: Vec<NotEvaluated>,
    pub imports: Vec<Import>,
}

/// Compiles on a thread of its own, whose stack is sized for the
/// evaluator's recursion budget (the caller's may be a test thread's 2 MiB).
pub fn compile(text: &str, opts: &CompileOptions) -> Result<Compiled, ReadError> {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("sbpl-model".into())
            .stack_size(budget::STACK)
            .spawn_scoped(scope, || compile_here(text, opts));
        match worker {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            // No thread to be had: evaluate here, within the same budgets.
            Err(_) => compile_here(text, opts),
        }
    })
}

fn compile_here(text: &str, opts: &CompileOptions) -> Result<Compiled, ReadError> {
    let arena = Arena::new();
    let search = SearchPath {
        dirs: opts.import_paths.clone(),
    };
    let mut ev = Evaluator::new(&opts.params, &arena, search);
    let name = opts
        .file
        .as_ref()
        .map_or_else(|| "<profile>".to_string(), |p| p.display().to_string());
    ev.run_file(name, opts.file.clone(), text)?;
    let mut rules = implicit_rules(&ev.rules);
    rules.append(&mut ev.rules);
    Ok(Compiled {
        rules,
        not_evaluated: std::mem::take(&mut ev.not_evaluated),
        imports: std::mem::take(&mut ev.imports),
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
        file: String::new(),
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
            file: String::new(),
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
    /// Turns evaluated operands into a rule: operation symbols, filters
    /// (any of them matches), modifiers ignored; the enclosing
    /// `with-filter` and `with-operations` forms add theirs.
    pub fn procedural_rule(&mut self, verb: &str, node: &Node<'a>, args: Vec<Value<'a>>) {
        let action = if verb == "allow" {
            Action::Allow
        } else {
            Action::Deny
        };
        let mut ops = Vec::new();
        let mut filters = Vec::new();
        for value in args {
            operand(value, &mut ops, &mut filters);
        }
        ops.extend(self.extra_ops.iter().cloned());
        if ops.is_empty() {
            self.not_evaluated(node.span, "rule names no operation", Scope::Any);
            return;
        }
        let own = match filters.len() {
            0 => None,
            1 => filters.pop(),
            _ => Some(Filter::Any(filters)),
        };
        let filter = match (own, self.extra_filters.as_slice()) {
            (own, []) => own,
            (None, [one]) => Some(one.clone()),
            (own, extra) => Some(Filter::All(
                own.into_iter().chain(extra.iter().cloned()).collect(),
            )),
        };
        let rule = Rule {
            action,
            ops,
            filter,
            guard: self.guards.first().map(|g| g.reason.clone()),
            file: self.file(node.span),
            line: self.line(node.span),
            text: self.source(node.span),
            origin: Origin::Text,
        };
        self.rules.push(rule);
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
