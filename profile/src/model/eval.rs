//! A small evaluator for the Scheme that SBPL profiles are written in: enough
//! of `define`, `lambda`, `if`, `when`, `cond`, `let` and the string
//! builtins to compute rules, and an honest `Unknown` for everything else.
//!
//! Conditions the model cannot decide do not drop rules: both branches run
//! under a guard, and rules emitted under a guard only *might* exist.

use super::filter::Filter;
use super::Rule;
use crate::ast::{Lines, Node, NodeKind, Span};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// What an expression evaluates to.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Bool(bool),
    Int(i64),
    Str(Vec<u8>),
    Sym(String),
    List(Vec<Value<'a>>),
    Filter(Filter),
    /// `(with ...)`: accepted, ignored for the decision.
    Modifier,
    Lambda(Rc<Lambda<'a>>),
    /// The model cannot compute this value; the text says why.
    Unknown(String),
    Void,
}

#[derive(Debug)]
pub struct Lambda<'a> {
    params: Vec<String>,
    rest: Option<String>,
    body: &'a [Node<'a>],
    env: Env<'a>,
    /// `define-once`: the body runs on the first call only.
    once: Option<std::cell::Cell<bool>>,
}

pub type Env<'a> = Rc<Frame<'a>>;

#[derive(Debug, Default)]
pub struct Frame<'a> {
    vars: RefCell<HashMap<String, Value<'a>>>,
    parent: Option<Env<'a>>,
}

impl<'a> Frame<'a> {
    pub fn root() -> Env<'a> {
        Rc::new(Frame::default())
    }

    fn child(parent: &Env<'a>) -> Env<'a> {
        Rc::new(Frame {
            vars: RefCell::default(),
            parent: Some(parent.clone()),
        })
    }

    pub fn lookup(&self, name: &str) -> Option<Value<'a>> {
        if let Some(v) = self.vars.borrow().get(name) {
            return Some(v.clone());
        }
        self.parent.as_ref().and_then(|p| p.lookup(name))
    }

    fn define(&self, name: &str, value: Value<'a>) {
        self.vars.borrow_mut().insert(name.to_string(), value);
    }

    fn set(&self, name: &str, value: Value<'a>) -> bool {
        if let Some(slot) = self.vars.borrow_mut().get_mut(name) {
            *slot = value;
            return true;
        }
        self.parent.as_ref().is_some_and(|p| p.set(name, value))
    }
}

/// Steps one profile may take; a runaway recursion ends as `Unknown`.
const FUEL: u32 = 200_000;
const MAX_DEPTH: u32 = 64;

pub struct Evaluator<'a> {
    pub text: &'a str,
    pub params: &'a BTreeMap<String, String>,
    pub rules: Vec<Rule>,
    pub skipped: Vec<String>,
    lines: Lines,
    /// Reasons of the undecidable conditions the current code runs under.
    pub guards: Vec<String>,
    fuel: u32,
    depth: u32,
}

impl<'a> Evaluator<'a> {
    pub fn new(text: &'a str, params: &'a BTreeMap<String, String>) -> Self {
        Evaluator {
            text,
            params,
            rules: Vec::new(),
            skipped: Vec::new(),
            lines: Lines::new(text),
            guards: Vec::new(),
            fuel: FUEL,
            depth: 0,
        }
    }

    /// 1-based line of `span`'s start.
    pub fn line(&self, span: Span) -> u32 {
        self.lines.line(span)
    }

    /// Why a rule under the undecidable condition `test` only might apply.
    fn guard_reason(&self, test: &Node, cond: &Value) -> String {
        let (src, line) = (self.source(test.span), self.line(test.span));
        let why = match cond {
            Value::Unknown(r) => r.as_str(),
            _ => "undecidable",
        };
        format!(
            "rule sits under the condition {src} at line {line}, \
             which the model cannot decide ({why})"
        )
    }

    /// Source text of `span`, on one line, for messages and rule text.
    pub fn source(&self, span: Span) -> String {
        let raw = self.text.get(span.range()).unwrap_or("");
        one_line(raw)
    }

    pub fn skip(&mut self, span: Span, why: impl std::fmt::Display) {
        let mut form = self.source(span);
        if form.len() > 80 {
            let cut = (0..=77)
                .rev()
                .find(|&i| form.is_char_boundary(i))
                .unwrap_or(0);
            form.truncate(cut);
            form.push_str("...");
        }
        self.skipped
            .push(format!("line {}: {form}: {why}", self.line(span)));
    }

    pub fn eval(&mut self, node: &Node<'a>, env: &Env<'a>) -> Value<'a> {
        if self.fuel == 0 {
            return Value::Unknown("evaluation budget exhausted".into());
        }
        self.fuel -= 1;
        match &node.kind {
            NodeKind::Str(bytes) => Value::Str(bytes.to_vec()),
            NodeKind::RawStr(s) => Value::Str(s.as_bytes().to_vec()),
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::Int(*i),
            // Unbound symbols stay symbols: operation names, AF_UNIX, self.
            NodeKind::Symbol(s) => env.lookup(s).unwrap_or_else(|| Value::Sym(s.to_string())),
            NodeKind::Quote(inner) => datum(inner),
            NodeKind::List(items) => self.eval_list(node, items, env),
        }
    }

    fn eval_list(&mut self, node: &Node<'a>, items: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let Some(head) = items.first() else {
            return Value::List(Vec::new());
        };
        let args = &items[1..];
        if let Some(name) = head.as_symbol() {
            if let Some(bound) = env.lookup(name) {
                return self.apply_value(bound, name, args, env);
            }
            if let Some(v) = self.special_form(name, node, args, env) {
                return v;
            }
            if !is_builtin(name) {
                // Rules in the arguments of something the model does not
                // know (a macro?) might or might not take effect.
                self.guards.push(format!("the rule is an argument of `{name}` at line {}, which the model does not evaluate", self.line(node.span)));
                args.iter().for_each(|a| {
                    self.eval(a, env);
                });
                self.guards.pop();
                return Value::Unknown(format!("`{name}` is not evaluated by the model"));
            }
            let values: Vec<Value<'a>> = args.iter().map(|a| self.eval(a, env)).collect();
            return self.builtin(name, node.span, values);
        }
        let callee = self.eval(head, env);
        self.apply_value(callee, "(expression)", args, env)
    }

    fn apply_value(
        &mut self,
        callee: Value<'a>,
        name: &str,
        args: &'a [Node<'a>],
        env: &Env<'a>,
    ) -> Value<'a> {
        match callee {
            Value::Lambda(f) => {
                let values: Vec<Value<'a>> = args.iter().map(|a| self.eval(a, env)).collect();
                self.call(&f, values)
            }
            _ => Value::Unknown(format!("`{name}` is not a procedure the model can call")),
        }
    }

    fn call(&mut self, f: &Lambda<'a>, args: Vec<Value<'a>>) -> Value<'a> {
        if let Some(called) = &f.once {
            if called.replace(true) {
                return Value::Void;
            }
        }
        if self.depth >= MAX_DEPTH {
            return Value::Unknown("call depth limit reached".into());
        }
        let frame = Frame::child(&f.env);
        let mut args = args.into_iter();
        for p in &f.params {
            frame.define(
                p,
                args.next()
                    .unwrap_or_else(|| Value::Unknown(format!("missing argument {p}"))),
            );
        }
        if let Some(rest) = &f.rest {
            frame.define(rest, Value::List(args.collect()));
        }
        self.depth += 1;
        let out = self.body(f.body, &frame);
        self.depth -= 1;
        out
    }

    fn body(&mut self, forms: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let mut last = Value::Void;
        for f in forms {
            last = self.eval(f, env);
        }
        last
    }

    /// Special forms; `None` when `name` is not one.
    fn special_form(
        &mut self,
        name: &str,
        node: &Node<'a>,
        args: &'a [Node<'a>],
        env: &Env<'a>,
    ) -> Option<Value<'a>> {
        let v = match name {
            "quote" => args.first().map_or(Value::Void, datum),
            "define" => self.define(node, args, env, Once::No),
            "define-once" => self.define(node, args, env, Once::Yes),
            "quasiquote" => Value::Unknown("quasiquote is not evaluated by the model".into()),
            "lambda" => match args.split_first() {
                Some((params, body)) => lambda(params, body, env),
                None => Value::Unknown("lambda without parameters".into()),
            },
            "if" => self.if_form(args, env),
            "when" | "unless" => self.when_form(name == "unless", args, env),
            "cond" => self.cond(args, env),
            "and" => self.and_or(true, args, env),
            "or" => self.and_or(false, args, env),
            "let" | "let*" | "letrec" => self.let_form(args, env),
            "begin" => self.body(args, env),
            "set!" => self.set(args, env),
            "allow" | "deny" => {
                self.rule(name, node, args, env);
                Value::Void
            }
            "import" => {
                self.skip(
                    node.span,
                    "import not followed: the imported profile's rules are not in the model",
                );
                Value::Void
            }
            "version" | "debug" | "trace" => Value::Void,
            _ => return None,
        };
        Some(v)
    }

    fn define(
        &mut self,
        node: &Node<'a>,
        args: &'a [Node<'a>],
        env: &Env<'a>,
        once: Once,
    ) -> Value<'a> {
        let Some((target, rest)) = args.split_first() else {
            return Value::Unknown("define without a name".into());
        };
        match &target.kind {
            NodeKind::Symbol(name) => {
                let value = rest.first().map_or(Value::Void, |e| self.eval(e, env));
                env.define(name, value);
            }
            NodeKind::List(sig) => match sig
                .split_first()
                .and_then(|(n, p)| Some((n.as_symbol()?, p)))
            {
                Some((name, params)) => {
                    let params_node = Node {
                        kind: NodeKind::List(params),
                        span: target.span,
                    };
                    let mut f = lambda(&params_node, rest, env);
                    if let (Value::Lambda(l), Once::Yes) = (&mut f, once) {
                        if let Some(l) = Rc::get_mut(l) {
                            l.once = Some(std::cell::Cell::new(false));
                        }
                    }
                    env.define(name, f);
                }
                None => self.skip(node.span, "define with an unreadable signature"),
            },
            _ => self.skip(node.span, "define of something that is not a name"),
        }
        Value::Void
    }

    fn if_form(&mut self, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let (Some(test), Some(then)) = (args.first(), args.get(1)) else {
            return Value::Unknown("if without a test and a branch".into());
        };
        let cond = self.eval(test, env);
        match truth(&cond) {
            Some(true) => self.eval(then, env),
            Some(false) => args.get(2).map_or(Value::Void, |e| self.eval(e, env)),
            None => {
                self.guarded(test, &cond, |ev| {
                    ev.eval(then, env);
                    if let Some(e) = args.get(2) {
                        ev.eval(e, env);
                    }
                });
                Value::Unknown("value of an undecidable if".into())
            }
        }
    }

    fn when_form(&mut self, negate: bool, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let Some((test, body)) = args.split_first() else {
            return Value::Void;
        };
        let cond = self.eval(test, env);
        match truth(&cond).map(|t| t != negate) {
            Some(true) => self.body(body, env),
            Some(false) => Value::Void,
            None => {
                self.guarded(test, &cond, |ev| {
                    ev.body(body, env);
                });
                Value::Unknown("value of an undecidable when".into())
            }
        }
    }

    fn cond(&mut self, clauses: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let depth = self.guards.len();
        let mut result = Value::Void;
        for clause in clauses {
            let Some((test, body)) = clause.as_list().and_then(|c| c.split_first()) else {
                continue;
            };
            let cond = if test.as_symbol() == Some("else") {
                Value::Bool(true)
            } else {
                self.eval(test, env)
            };
            match truth(&cond) {
                Some(false) => continue,
                Some(true) => {
                    result = self.body(body, env);
                    break;
                }
                None => {
                    self.skip(
                        test.span,
                        "condition undecidable; rules under it are kept as possibly present",
                    );
                    // Later clauses run only if this one did not: they too
                    // stay under this guard.
                    self.guards.push(self.guard_reason(test, &cond));
                    self.body(body, env);
                    result = Value::Unknown("value of an undecidable cond".into());
                }
            }
        }
        self.guards.truncate(depth);
        result
    }

    fn guarded(&mut self, test: &Node<'a>, cond: &Value<'a>, run: impl FnOnce(&mut Self)) {
        self.skip(
            test.span,
            "condition undecidable; rules under it are kept as possibly present",
        );
        self.guards.push(self.guard_reason(test, cond));
        run(self);
        self.guards.pop();
    }

    fn and_or(&mut self, is_and: bool, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let mut last = Value::Bool(is_and);
        let mut unknown = None;
        for a in args {
            let v = self.eval(a, env);
            match truth(&v) {
                // `and` stops at the first false, `or` at the first true.
                Some(t) if t != is_and => return v,
                Some(_) => last = v,
                None => unknown = Some(v),
            }
        }
        unknown.unwrap_or(last)
    }

    fn let_form(&mut self, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let Some((bindings, body)) = args.split_first() else {
            return Value::Void;
        };
        let Some(bindings) = bindings.as_list() else {
            return Value::Unknown("named let is not evaluated by the model".into());
        };
        let frame = Frame::child(env);
        for b in bindings {
            let Some([name, expr, ..]) = b.as_list() else {
                continue;
            };
            if let Some(name) = name.as_symbol() {
                let v = self.eval(expr, &frame);
                frame.define(name, v);
            }
        }
        self.body(body, &frame)
    }

    fn set(&mut self, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        if let (Some(name), Some(expr)) = (args.first().and_then(Node::as_symbol), args.get(1)) {
            let v = self.eval(expr, env);
            if !env.set(name, v.clone()) {
                env.define(name, v);
            }
        }
        Value::Void
    }

    /// Procedures that are not special forms: string builtins, predicates,
    /// filters. Unknown names evaluate to `Unknown`.
    fn builtin(&mut self, name: &str, span: Span, args: Vec<Value<'a>>) -> Value<'a> {
        if let Some(v) = super::filter_forms::build(name, &args) {
            return v;
        }
        match name {
            "param" => self.param(&args),
            "string-append" => string_append(args),
            "regex-quote" => match args.as_slice() {
                [Value::Str(s)] => Value::Str(regex_quote(s)),
                _ => Value::Unknown("regex-quote of a non-string".into()),
            },
            "not" => match args.first().map(truth) {
                Some(Some(t)) => Value::Bool(!t),
                _ => Value::Unknown("not of an undecidable value".into()),
            },
            "string=?" | "equal?" | "eq?" | "eqv?" => equal(&args),
            "string?" => predicate(&args, |v| matches!(v, Value::Str(_))),
            "boolean?" => predicate(&args, |v| matches!(v, Value::Bool(_))),
            "null?" => predicate(&args, |v| matches!(v, Value::List(l) if l.is_empty())),
            "list" => Value::List(args),
            "map" | "for-each" => self.map(name == "map", args),
            "apply" => self.apply(args),
            "with" => Value::Modifier,
            _ => {
                let _ = span;
                Value::Unknown(format!("`{name}` is not evaluated by the model"))
            }
        }
    }

    /// Calls a procedure value: a lambda, or a builtin named by symbol.
    fn call_value(&mut self, f: &Value<'a>, args: Vec<Value<'a>>, span: Span) -> Value<'a> {
        match f {
            Value::Lambda(l) => self.call(l, args),
            Value::Sym(name) if is_builtin(name) => self.builtin(name, span, args),
            _ => Value::Unknown("call of a value that is not a procedure".into()),
        }
    }

    fn map(&mut self, collect: bool, args: Vec<Value<'a>>) -> Value<'a> {
        let mut args = args.into_iter();
        let (Some(f), Some(Value::List(items)), None) = (args.next(), args.next(), args.next())
        else {
            return Value::Unknown("map/for-each over other than one list".into());
        };
        let out: Vec<Value<'a>> = items
            .into_iter()
            .map(|x| self.call_value(&f, vec![x], Span::default()))
            .collect();
        if collect {
            Value::List(out)
        } else {
            Value::Void
        }
    }

    fn apply(&mut self, mut args: Vec<Value<'a>>) -> Value<'a> {
        let Some(Value::List(last)) = args.pop() else {
            return Value::Unknown("apply without a final list".into());
        };
        if args.is_empty() {
            return Value::Unknown("apply without a procedure".into());
        }
        let f = args.remove(0);
        args.extend(last);
        self.call_value(&f, args, Span::default())
    }

    fn param(&self, args: &[Value<'a>]) -> Value<'a> {
        match args {
            [Value::Str(key)] => match self.params.get(String::from_utf8_lossy(key).as_ref()) {
                Some(v) => Value::Str(v.as_bytes().to_vec()),
                // SOURCE: (param "K") is #f when K is undefined.
                None => Value::Bool(false),
            },
            _ => Value::Unknown("param with a non-string key".into()),
        }
    }
}

fn lambda<'a>(params: &Node<'a>, body: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
    let (names, rest) = match &params.kind {
        NodeKind::Symbol(all) => (Vec::new(), Some(all.to_string())),
        NodeKind::List(items) => {
            let mut names = Vec::new();
            let mut rest = None;
            let mut iter = items.iter();
            while let Some(p) = iter.next() {
                match p.as_symbol() {
                    Some(".") => rest = iter.next().and_then(Node::as_symbol).map(str::to_string),
                    Some(s) => names.push(s.to_string()),
                    None => return Value::Unknown("lambda with a non-symbol parameter".into()),
                }
            }
            (names, rest)
        }
        _ => return Value::Unknown("lambda with unreadable parameters".into()),
    };
    Value::Lambda(Rc::new(Lambda {
        params: names,
        rest,
        body,
        env: env.clone(),
        once: None,
    }))
}

/// Scheme truth: only #f is false. `None` when the value is unknown.
pub fn truth(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Unknown(_) => None,
        _ => Some(true),
    }
}

fn datum<'a>(node: &Node<'_>) -> Value<'a> {
    match &node.kind {
        NodeKind::Symbol(s) => Value::Sym(s.to_string()),
        NodeKind::List(items) => Value::List(items.iter().map(datum).collect()),
        NodeKind::Str(b) => Value::Str(b.to_vec()),
        NodeKind::RawStr(s) => Value::Str(s.as_bytes().to_vec()),
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Int(i) => Value::Int(*i),
        NodeKind::Quote(inner) => Value::List(vec![Value::Sym("quote".into()), datum(inner)]),
    }
}

fn string_append(args: Vec<Value>) -> Value {
    let mut out = Vec::new();
    for a in args {
        match a {
            Value::Str(s) => out.extend_from_slice(&s),
            Value::Unknown(r) => return Value::Unknown(r),
            Value::Bool(false) => return Value::Unknown(
                "string-append of #f (an undefined param?): sandbox-exec would refuse the profile"
                    .into(),
            ),
            _ => return Value::Unknown("string-append of a non-string".into()),
        }
    }
    Value::Str(out)
}

/// SOURCE: Apple's regex-quote escapes ^ . [ $ ( ) | * + ? { \ ; escaping
/// ] and } as well is harmless.
pub fn regex_quote(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 8);
    for &b in s {
        if b"^.[]$()|*+?{}\\".contains(&b) {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

fn equal<'a>(args: &[Value<'_>]) -> Value<'a> {
    match args {
        [a, b] => match (a, b) {
            (Value::Unknown(r), _) | (_, Value::Unknown(r)) => Value::Unknown(r.clone()),
            (Value::Str(x), Value::Str(y)) => Value::Bool(x == y),
            (Value::Bool(x), Value::Bool(y)) => Value::Bool(x == y),
            (Value::Int(x), Value::Int(y)) => Value::Bool(x == y),
            (Value::Sym(x), Value::Sym(y)) => Value::Bool(x == y),
            (
                Value::Str(_) | Value::Bool(_) | Value::Int(_) | Value::Sym(_),
                Value::Str(_) | Value::Bool(_) | Value::Int(_) | Value::Sym(_),
            ) => Value::Bool(false),
            _ => Value::Unknown("comparison of values the model does not compare".into()),
        },
        _ => Value::Unknown("comparison with other than two arguments".into()),
    }
}

fn predicate<'a>(args: &[Value<'_>], test: impl Fn(&Value<'_>) -> bool) -> Value<'a> {
    match args {
        [Value::Unknown(r)] => Value::Unknown(r.clone()),
        [v] => Value::Bool(test(v)),
        _ => Value::Unknown("predicate with other than one argument".into()),
    }
}

/// Collapses whitespace runs outside string literals and drops comments, so
/// a multi-line rule reads as one line.
pub fn one_line(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    let mut in_str = false;
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next()),
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            ';' => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                pending_space = true;
            }
            c if c.is_whitespace() => pending_space = true,
            _ => {
                if pending_space && !out.is_empty() && !out.ends_with('(') && c != ')' {
                    out.push(' ');
                }
                pending_space = false;
                if c == '"' {
                    in_str = true;
                }
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn one_line_collapses_outside_strings() {
        assert_eq!(
            one_line("(allow file-read*\n   ; why\n  (subpath \"/a  b\"))"),
            "(allow file-read* (subpath \"/a  b\"))"
        );
    }
}

#[derive(Clone, Copy)]
enum Once {
    Yes,
    No,
}

/// Procedures [`Evaluator::builtin`] evaluates.
const BUILTINS: &[&str] = &[
    "param",
    "string-append",
    "regex-quote",
    "not",
    "string=?",
    "equal?",
    "eq?",
    "eqv?",
    "string?",
    "boolean?",
    "null?",
    "list",
    "map",
    "for-each",
    "apply",
    "with",
];

fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name) || super::filter_forms::is_filter(name)
}
