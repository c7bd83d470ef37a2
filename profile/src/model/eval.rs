//! The evaluator for the Scheme that SBPL profiles are written in: the
//! special forms (`define`, `lambda`, `if`, `cond`, `let` in all its forms,
//! named `let`, `macro`, quasiquote), TinyScheme's list, string, character
//! and number procedures (`builtins`), SBPL's own forms (`allow`, `deny`,
//! `import`, `with-filter`, ...), and an honest `Unknown` for the rest.
//!
//! Conditions the model cannot decide do not drop rules: both branches run
//! under a guard, and rules emitted under a guard only *might* exist. What
//! the model does not evaluate at all (an unknown procedure, a missing
//! import, an exhausted budget) is recorded as [`NotEvaluated`] with the
//! operations it could have decided.

use super::builtins;
use super::filter::Filter;
use super::source::{read_bounded, SearchPath, Sources};
use super::{Import, NotEvaluated, Rule, Scope};
use crate::ast::{Arena, Node, NodeKind, Span};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::rc::Rc;

/// What an expression evaluates to.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Bool(bool),
    Int(i64),
    Real(f64),
    Char(u8),
    Str(Vec<u8>),
    Sym(String),
    List(Vec<Value<'a>>),
    Filter(Filter),
    /// `(with ...)`: accepted, ignored for the decision.
    Modifier,
    Lambda(Rc<Lambda<'a>>),
    /// A TinyScheme `macro`: its transformer gets the whole call form.
    Macro(Rc<Lambda<'a>>),
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
    /// How many undecidable conditions were open when the frame was made:
    /// an assignment under more of them than that might not happen.
    level: usize,
}

impl<'a> Frame<'a> {
    pub fn root() -> Env<'a> {
        Rc::new(Frame::default())
    }

    fn child(parent: &Env<'a>, level: usize) -> Env<'a> {
        Rc::new(Frame {
            vars: RefCell::default(),
            parent: Some(parent.clone()),
            level,
        })
    }

    pub fn lookup(&self, name: &str) -> Option<Value<'a>> {
        if let Some(v) = self.vars.borrow().get(name) {
            return Some(v.clone());
        }
        self.parent.as_ref().and_then(|p| p.lookup(name))
    }

    fn is_bound(&self, name: &str) -> bool {
        self.vars.borrow().contains_key(name)
            || self.parent.as_ref().is_some_and(|p| p.is_bound(name))
    }

    fn define(&self, name: &str, value: Value<'a>) {
        self.vars.borrow_mut().insert(name.to_string(), value);
    }

    /// Assigns `value` where `name` is bound; `Err` gives the value back
    /// when it is bound nowhere.
    fn set(&self, name: &str, value: Value<'a>, guards: &[Guard]) -> Result<(), Value<'a>> {
        if let Some(slot) = self.vars.borrow_mut().get_mut(name) {
            *slot = guarded_value(value, self.level, guards);
            return Ok(());
        }
        match &self.parent {
            Some(p) => p.set(name, value, guards),
            None => Err(value),
        }
    }

    /// Defines `name` in this frame, as assigned under `guards`.
    fn define_under(&self, name: &str, value: Value<'a>, guards: &[Guard]) {
        self.define(name, guarded_value(value, self.level, guards));
    }
}

/// A value assigned under an undecidable condition opened after its
/// variable's frame is itself unknown: the other branch may not assign it.
fn guarded_value<'a>(value: Value<'a>, level: usize, guards: &[Guard]) -> Value<'a> {
    match guards.get(level..).and_then(<[Guard]>::last) {
        Some(g) => Value::Unknown(format!("assigned where {}", g.reason)),
        None => value,
    }
}

/// An undecidable condition the current code runs under.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Why a rule under it only might apply.
    pub reason: String,
    /// The condition, to notice recursion through it.
    test: Span,
    /// How many rules existed when it opened.
    rules_at: usize,
}

/// The model's budgets. Each ends evaluation of what is left in `unknown`
/// with the reason, never in a crash.
pub mod budget {
    /// Evaluation steps for one profile and its imports.
    pub const STEPS: u32 = 2_000_000;
    /// Nesting of evaluation (calls and forms within forms). The evaluator
    /// runs on a thread with [`STACK`] bytes of stack, sized for this.
    pub const DEPTH: u32 = 1_000;
    pub const STACK: usize = 256 << 20;
    /// Bytes of strings and list cells built or copied, in total.
    pub const ALLOCATION: u64 = 256 << 20;
}

/// Globals the sandbox defines only for some processes: `sandbox-exec`
/// defines none of them, so `(defined? 'NAME)` is #f (the profile is
/// evaluated as `sandbox-exec` would; entitlements are not modelled).
const ABSENT_GLOBALS: &[&str] = &["*entitlements*"];

pub struct Evaluator<'a> {
    pub params: &'a BTreeMap<String, String>,
    arena: &'a Arena,
    pub sources: Sources<'a>,
    search: SearchPath,
    /// Canonical paths of the files being evaluated, outermost first.
    loading: Vec<PathBuf>,
    pub imports: Vec<Import>,
    pub rules: Vec<Rule>,
    pub not_evaluated: Vec<NotEvaluated>,
    /// The undecidable conditions the current code runs under.
    pub guards: Vec<Guard>,
    /// Filters of the enclosing `with-filter` forms.
    pub(super) extra_filters: Vec<Filter>,
    /// Operations of the enclosing `with-operations` forms.
    pub(super) extra_ops: Vec<String>,
    /// The operations of the rule whose operands are being evaluated: what
    /// an unknown form among them could decide.
    rule_ops: Vec<Vec<String>>,
    root: Env<'a>,
    steps: u32,
    depth: u32,
    allocated: u64,
    /// Set once a budget ran out; evaluation stops there.
    exhausted: bool,
}

impl<'a> Evaluator<'a> {
    pub fn new(params: &'a BTreeMap<String, String>, arena: &'a Arena, search: SearchPath) -> Self {
        Evaluator {
            params,
            arena,
            sources: Sources::default(),
            search,
            loading: Vec::new(),
            imports: Vec::new(),
            rules: Vec::new(),
            not_evaluated: Vec::new(),
            guards: Vec::new(),
            extra_filters: Vec::new(),
            extra_ops: Vec::new(),
            rule_ops: Vec::new(),
            root: Frame::root(),
            steps: budget::STEPS,
            depth: 0,
            allocated: 0,
            exhausted: false,
        }
    }

    /// Reads and evaluates one file's text in the global environment.
    /// `Err` is the read error (the caller says whose).
    pub fn run_file(
        &mut self,
        name: String,
        path: Option<PathBuf>,
        text: &'a str,
    ) -> Result<(), crate::reader::ReadError> {
        let dir = path
            .as_deref()
            .and_then(|p| p.parent())
            .map(|d| d.to_path_buf());
        let Some(base) = self.sources.add(name, dir, text) else {
            return Err(crate::reader::ReadError {
                line: 1,
                col: 1,
                message: "the profile and its imports exceed 4 GiB together".into(),
            });
        };
        let forms = crate::reader::read_at(text, base, self.arena)?;
        let forms = self.arena.nodes(&forms);
        let canonical = path.map(|p| std::fs::canonicalize(&p).unwrap_or(p));
        if let Some(c) = &canonical {
            self.loading.push(c.clone());
        }
        let env = self.root.clone();
        for form in forms {
            self.eval(form, &env);
        }
        if canonical.is_some() {
            self.loading.pop();
        }
        Ok(())
    }

    /// 1-based line of `span` in its file.
    pub fn line(&self, span: Span) -> u32 {
        self.sources.line(span)
    }

    /// The name of the file `span` is in.
    pub fn file(&self, span: Span) -> String {
        self.sources
            .file_of(span)
            .map_or_else(String::new, |f| f.name.clone())
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
        one_line(self.sources.text(span))
    }

    /// Records a form the model did not evaluate (or evaluated only as
    /// possibly present), once per place and reason.
    pub fn not_evaluated(&mut self, span: Span, why: impl std::fmt::Display, scope: Scope) {
        let mut form = self.source(span);
        if form.len() > 80 {
            let cut = (0..=77)
                .rev()
                .find(|&i| form.is_char_boundary(i))
                .unwrap_or(0);
            form.truncate(cut);
            form.push_str("...");
        }
        let entry = NotEvaluated {
            file: self.file(span),
            line: self.line(span),
            form,
            why: why.to_string(),
            scope,
        };
        if !self.not_evaluated.contains(&entry) {
            self.not_evaluated.push(entry);
        }
    }

    /// What an unknown form here could decide: the operations of the rule
    /// it sits in, or anything.
    fn scope_here(&self) -> Scope {
        match self.rule_ops.last() {
            Some(ops) if !ops.is_empty() => Scope::Ops(ops.clone()),
            _ => Scope::Any,
        }
    }

    /// Counts bytes built or copied against the allocation budget.
    fn charge(&mut self, v: &Value) -> bool {
        let cost = match v {
            Value::Str(s) => s.len() as u64,
            Value::List(l) => 32 * l.len() as u64,
            _ => 0,
        };
        self.allocated += cost;
        self.allocated <= budget::ALLOCATION
    }

    fn out_of_budget(&mut self, span: Span, what: &str) -> Value<'a> {
        if !self.exhausted {
            self.exhausted = true;
            self.not_evaluated(
                span,
                format!("{what}: evaluation stopped here, so nothing after it is known"),
                Scope::Any,
            );
        }
        Value::Unknown(what.to_string())
    }

    pub fn eval(&mut self, node: &Node<'a>, env: &Env<'a>) -> Value<'a> {
        if self.exhausted {
            return Value::Unknown("a budget ran out earlier".into());
        }
        if self.steps == 0 {
            let what = format!("step budget exhausted ({} steps)", budget::STEPS);
            return self.out_of_budget(node.span, &what);
        }
        self.steps -= 1;
        if self.depth >= budget::DEPTH {
            let what = format!("recursion budget exhausted (depth {})", budget::DEPTH);
            return self.out_of_budget(node.span, &what);
        }
        self.depth += 1;
        let v = match &node.kind {
            NodeKind::Str(bytes) => Value::Str(bytes.to_vec()),
            NodeKind::RawStr(s) => Value::Str(s.as_bytes().to_vec()),
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::Int(*i),
            NodeKind::Real(x) => Value::Real(*x),
            NodeKind::Char(c) => Value::Char(*c),
            // Unbound symbols stay symbols: operation names, AF_UNIX, self.
            NodeKind::Symbol(s) => match env.lookup(s) {
                Some(v) => {
                    if self.charge(&v) {
                        v
                    } else {
                        self.allocation_exhausted(node.span)
                    }
                }
                None => Value::Sym(s.to_string()),
            },
            NodeKind::Quote(inner) => datum(inner),
            NodeKind::List(items) => self.eval_list(node, items, env),
        };
        self.depth -= 1;
        v
    }

    fn allocation_exhausted(&mut self, span: Span) -> Value<'a> {
        let what = format!(
            "allocation budget exhausted ({} MiB of strings and lists)",
            budget::ALLOCATION >> 20
        );
        self.out_of_budget(span, &what)
    }

    fn eval_list(&mut self, node: &Node<'a>, items: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let Some(head) = items.first() else {
            return Value::List(Vec::new());
        };
        let args = &items[1..];
        if let Some(name) = head.as_symbol() {
            if let Some(bound) = env.lookup(name) {
                return match bound {
                    Value::Macro(m) => self.expand(&m, node, env),
                    f => {
                        let values = self.eval_args(args, env);
                        self.call_value(&f, name, values, node)
                    }
                };
            }
            if let Some(v) = self.special_form(name, node, args, env) {
                return v;
            }
            if !is_procedure(name) {
                return self.unknown_call(name, node, args, env);
            }
            let values = self.eval_args(args, env);
            return self.builtin(name, node, values);
        }
        let callee = self.eval(head, env);
        let values = self.eval_args(args, env);
        self.call_value(&callee, "(expression)", values, node)
    }

    fn eval_args(&mut self, args: &'a [Node<'a>], env: &Env<'a>) -> Vec<Value<'a>> {
        args.iter().map(|a| self.eval(a, env)).collect()
    }

    /// A call of a name the model does not know: it might emit any rule.
    fn unknown_call(
        &mut self,
        name: &str,
        node: &Node<'a>,
        args: &'a [Node<'a>],
        env: &Env<'a>,
    ) -> Value<'a> {
        let why = format!("`{name}` is not a procedure the model knows");
        let scope = self.scope_here();
        self.not_evaluated(node.span, &why, scope);
        // Rules in its arguments (a macro's body?) might or might not
        // take effect.
        self.guards.push(Guard {
            reason: format!(
                "the rule is an argument of `{name}` at line {}, which the model does not evaluate",
                self.line(node.span)
            ),
            test: node.span,
            rules_at: self.rules.len(),
        });
        for a in args {
            self.eval(a, env);
        }
        self.guards.pop();
        Value::Unknown(why)
    }

    /// Calls a procedure value: a lambda, or a builtin named by symbol.
    fn call_value(
        &mut self,
        f: &Value<'a>,
        name: &str,
        args: Vec<Value<'a>>,
        node: &Node<'a>,
    ) -> Value<'a> {
        match f {
            Value::Lambda(l) => self.call(l, args),
            Value::Sym(builtin) if is_procedure(builtin) => self.builtin(builtin, node, args),
            Value::Unknown(r) => {
                let why = format!("`{name}` is unknown here ({r})");
                let scope = self.scope_here();
                self.not_evaluated(node.span, &why, scope);
                Value::Unknown(why)
            }
            _ => {
                let why = format!("`{name}` is not a procedure the model can call");
                let scope = self.scope_here();
                self.not_evaluated(node.span, &why, scope);
                Value::Unknown(why)
            }
        }
    }

    fn call(&mut self, f: &Lambda<'a>, args: Vec<Value<'a>>) -> Value<'a> {
        if let Some(called) = &f.once {
            if called.replace(true) {
                return Value::Void;
            }
        }
        let frame = Frame::child(&f.env, self.guards.len());
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
        self.body(f.body, &frame)
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
            "quasiquote" => match args.first() {
                Some(t) => self.quasiquote(t, env),
                None => Value::Void,
            },
            "define" => self.define(node, args, env, Once::No),
            "define-once" => self.define(node, args, env, Once::Yes),
            "macro" => self.macro_form(node, args, env),
            "lambda" => match args.split_first() {
                Some((params, body)) => lambda(params, body, env),
                None => Value::Unknown("lambda without parameters".into()),
            },
            "if" => self.if_form(args, env),
            "when" | "unless" => self.when_form(name == "unless", args, env),
            "cond" => self.cond(args, env),
            "case" => self.case(args, env),
            "and" => self.and_or(true, args, env),
            "or" => self.and_or(false, args, env),
            "let" => self.let_form(node, args, env),
            "let*" | "letrec" | "letrec*" => self.let_star(args, env),
            "begin" => self.body(args, env),
            "set!" => self.set(args, env),
            "defined?" => self.defined(args, env),
            "allow" | "deny" => {
                self.syntactic_rule(name, node, args, env);
                Value::Void
            }
            "with-filter" => self.with_filter(node, args, env),
            "with-operations" => self.with_operations(node, args, env),
            "with-modifier" => args.get(1..).map_or(Value::Void, |b| self.body(b, env)),
            "import" | "load" => {
                self.import_form(node, args, env);
                Value::Void
            }
            "eval" => match args.first().map(|a| self.eval(a, env)) {
                Some(code) => self.eval_datum(&code, node, env),
                None => Value::Void,
            },
            "error" => {
                let why = "(error ...): sandbox-exec would refuse the profile here";
                self.not_evaluated(node.span, why, Scope::Any);
                Value::Unknown(why.into())
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
        let (name, value) = match &target.kind {
            NodeKind::Symbol(name) => {
                let value = rest.first().map_or(Value::Void, |e| self.eval(e, env));
                (*name, value)
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
                    (name, f)
                }
                None => {
                    self.not_evaluated(
                        node.span,
                        "define with an unreadable signature",
                        Scope::Any,
                    );
                    return Value::Void;
                }
            },
            _ => {
                self.not_evaluated(
                    node.span,
                    "define of something that is not a name",
                    Scope::Any,
                );
                return Value::Void;
            }
        };
        env.define_under(name, value, &self.guards);
        Value::Void
    }

    /// `(macro (NAME FORM) BODY...)`: TinyScheme's macro, whose transformer
    /// gets the whole call form.
    fn macro_form(&mut self, node: &Node<'a>, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let sig = args.first().and_then(Node::as_list);
        let Some([name, param]) = sig else {
            self.not_evaluated(
                node.span,
                "macro form the model does not read (expected (macro (NAME FORM) BODY...))",
                Scope::Any,
            );
            return Value::Void;
        };
        let (Some(name), Some(param)) = (name.as_symbol(), param.as_symbol()) else {
            self.not_evaluated(node.span, "macro with a non-symbol name", Scope::Any);
            return Value::Void;
        };
        let m = Lambda {
            params: vec![param.to_string()],
            rest: None,
            body: &args[1..],
            env: env.clone(),
            once: None,
        };
        env.define_under(name, Value::Macro(Rc::new(m)), &self.guards);
        Value::Void
    }

    /// Expands a macro call and evaluates the expansion.
    fn expand(&mut self, m: &Lambda<'a>, node: &Node<'a>, env: &Env<'a>) -> Value<'a> {
        let form = datum(node);
        let expansion = self.call(m, vec![form]);
        self.eval_datum(&expansion, node, env)
    }

    /// Evaluates data as code (a macro's expansion, `eval`); the new nodes
    /// take the span of `at`.
    fn eval_datum(&mut self, code: &Value<'a>, at: &Node<'a>, env: &Env<'a>) -> Value<'a> {
        match to_node(code, at.span, self.arena) {
            Some(n) => {
                let n = self.arena.node(n);
                self.eval(n, env)
            }
            None => {
                let why = match code {
                    Value::Unknown(r) => format!("code the model could not build ({r})"),
                    _ => "code holding values that are not data".to_string(),
                };
                let scope = self.scope_here();
                self.not_evaluated(at.span, &why, scope);
                Value::Unknown(why)
            }
        }
    }

    fn quasiquote(&mut self, template: &Node<'a>, env: &Env<'a>) -> Value<'a> {
        match &template.kind {
            NodeKind::List(items) => {
                match items.first().and_then(Node::as_symbol) {
                    Some("unquote") => {
                        return items.get(1).map_or(Value::Void, |e| self.eval(e, env))
                    }
                    Some("quasiquote") => {
                        return Value::Unknown("nested quasiquote is not evaluated".into())
                    }
                    _ => {}
                }
                let mut out = Vec::with_capacity(items.len());
                for item in *items {
                    let splice = item.as_list().and_then(|l| match l {
                        [h, e] if h.as_symbol() == Some("unquote-splicing") => Some(e),
                        _ => None,
                    });
                    match splice {
                        Some(e) => match self.eval(e, env) {
                            Value::List(l) => out.extend(l),
                            Value::Unknown(r) => return Value::Unknown(r),
                            _ => return Value::Unknown("unquote-splicing of a non-list".into()),
                        },
                        None => out.push(self.quasiquote(item, env)),
                    }
                }
                Value::List(out)
            }
            NodeKind::Quote(inner) => Value::List(vec![
                Value::Sym("quote".into()),
                self.quasiquote(inner, env),
            ]),
            _ => datum(template),
        }
    }

    fn if_form(&mut self, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let (Some(test), Some(then)) = (args.first(), args.get(1)) else {
            return Value::Unknown("if without a test and a branch".into());
        };
        let cond = self.eval(test, env);
        match truth(&cond) {
            Some(true) => self.eval(then, env),
            Some(false) => args.get(2).map_or_else(nil, |e| self.eval(e, env)),
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
            Some(false) => nil(),
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
        let mut result = nil();
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
                    result = if body.is_empty() {
                        cond
                    } else {
                        self.body(body, env)
                    };
                    if self.guards.len() > depth {
                        result = Value::Unknown("value of an undecidable cond".into());
                    }
                    break;
                }
                None => {
                    // Later clauses run only if this one did not: they too
                    // stay under this guard.
                    if !self.open_guard(test, &cond) {
                        result = Value::Unknown("value of an undecidable cond".into());
                        break;
                    }
                    self.body(body, env);
                    result = Value::Unknown("value of an undecidable cond".into());
                }
            }
        }
        self.guards.truncate(depth);
        result
    }

    /// `(case KEY ((DATUM...) BODY...) ... (else BODY...))`.
    fn case(&mut self, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let Some((key, clauses)) = args.split_first() else {
            return Value::Void;
        };
        let key = self.eval(key, env);
        if let Value::Unknown(r) = key {
            return Value::Unknown(r);
        }
        for clause in clauses {
            let Some((data, body)) = clause.as_list().and_then(|c| c.split_first()) else {
                continue;
            };
            let hit = match &data.kind {
                NodeKind::Symbol("else") => true,
                NodeKind::List(items) => items
                    .iter()
                    .any(|d| builtins::equal(&datum(d), &key) == Some(true)),
                _ => false,
            };
            if hit {
                return self.body(body, env);
            }
        }
        nil()
    }

    fn guarded(&mut self, test: &Node<'a>, cond: &Value<'a>, run: impl FnOnce(&mut Self)) {
        if self.open_guard(test, cond) {
            run(self);
            self.guards.pop();
        }
    }

    /// Opens a guard for the undecidable condition `test`; `false` when
    /// the code already runs under it: a recursion through an undecidable
    /// condition (a loop over an unknown list) would never end, so it is
    /// explored once. Rules the deeper calls would emit are then unknown.
    fn open_guard(&mut self, test: &Node<'a>, cond: &Value<'a>) -> bool {
        if let Some(g) = self.guards.iter().find(|g| g.test == test.span) {
            let scope = match self.rules.len() > g.rules_at {
                true => Scope::Any,
                false => Scope::Guarded,
            };
            self.not_evaluated(
                test.span,
                "recursion under this undecidable condition is explored once, not to its end",
                scope,
            );
            return false;
        }
        self.not_evaluated(
            test.span,
            "condition undecidable; rules under it are kept as possibly present",
            Scope::Guarded,
        );
        self.guards.push(Guard {
            reason: self.guard_reason(test, cond),
            test: test.span,
            rules_at: self.rules.len(),
        });
        true
    }

    fn and_or(&mut self, is_and: bool, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let mut last = Value::Bool(is_and);
        let mut unknown = None;
        for a in args {
            let v = self.eval(a, env);
            match truth(&v) {
                // `and` stops at the first false, `or` at the first true:
                // Kleene logic, so a later decisive value wins over an
                // earlier unknown one.
                Some(t) if t != is_and => return v,
                Some(_) => last = v,
                None => unknown = Some(v),
            }
        }
        unknown.unwrap_or(last)
    }

    /// `let`, including named `let` (a loop).
    fn let_form(&mut self, node: &Node<'a>, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let Some((first, rest)) = args.split_first() else {
            return Value::Void;
        };
        if let Some(name) = first.as_symbol() {
            return self.named_let(node, name, rest, env);
        }
        let Some(bindings) = first.as_list() else {
            return Value::Unknown("let with unreadable bindings".into());
        };
        let frame = Frame::child(env, self.guards.len());
        for b in bindings {
            if let Some((name, expr)) = binding(b) {
                // Plain let: every init sees the outer scope only.
                let v = expr.map_or(Value::Void, |e| self.eval(e, env));
                frame.define(name, v);
            }
        }
        self.body(rest, &frame)
    }

    /// `(let NAME ((VAR INIT)...) BODY...)`: NAME is a procedure of the
    /// VARs, visible in BODY, called once with the INITs.
    fn named_let(
        &mut self,
        node: &Node<'a>,
        name: &str,
        args: &'a [Node<'a>],
        env: &Env<'a>,
    ) -> Value<'a> {
        let Some((bindings, body)) = args.split_first() else {
            self.not_evaluated(node.span, "named let without bindings", Scope::Any);
            return Value::Unknown("named let without bindings".into());
        };
        let Some(bindings) = bindings.as_list() else {
            self.not_evaluated(node.span, "named let with unreadable bindings", Scope::Any);
            return Value::Unknown("named let with unreadable bindings".into());
        };
        let mut params = Vec::new();
        let mut inits = Vec::new();
        for b in bindings {
            if let Some((var, expr)) = binding(b) {
                params.push(var.to_string());
                inits.push(expr.map_or(Value::Void, |e| self.eval(e, env)));
            }
        }
        let frame = Frame::child(env, self.guards.len());
        let f = Rc::new(Lambda {
            params,
            rest: None,
            body,
            env: frame.clone(),
            once: None,
        });
        frame.define(name, Value::Lambda(f.clone()));
        self.call(&f, inits)
    }

    /// `let*` and `letrec`: one new scope, bindings in order, each init
    /// seeing the ones before (and, for lambdas, all of them).
    fn let_star(&mut self, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let Some((bindings, body)) = args.split_first() else {
            return Value::Void;
        };
        let Some(bindings) = bindings.as_list() else {
            return Value::Unknown("let* with unreadable bindings".into());
        };
        let frame = Frame::child(env, self.guards.len());
        for b in bindings {
            if let Some((name, expr)) = binding(b) {
                let v = expr.map_or(Value::Void, |e| self.eval(e, &frame));
                frame.define(name, v);
            }
        }
        self.body(body, &frame)
    }

    fn set(&mut self, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        if let (Some(name), Some(expr)) = (args.first().and_then(Node::as_symbol), args.get(1)) {
            let v = self.eval(expr, env);
            if let Err(v) = env.set(name, v, &self.guards) {
                // Scheme would refuse; TinyScheme's set! of an unbound name
                // is an error too, so the profile would not load.
                env.define_under(name, v, &self.guards);
            }
        }
        Value::Void
    }

    /// `(defined? 'NAME)`: bound by the profile, or a name SBPL itself
    /// defines (an operation, filter or procedure the model knows).
    fn defined(&mut self, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let name = match args.first().map(|a| self.eval(a, env)) {
            Some(Value::Sym(s)) => s,
            Some(Value::Unknown(r)) => return Value::Unknown(r),
            _ => return Value::Unknown("defined? of something that is not a symbol".into()),
        };
        if env.is_bound(&name)
            || is_procedure(&name)
            || SPECIAL_FORMS.contains(&name.as_str())
            || super::ops::is_known(&name)
        {
            return Value::Bool(true);
        }
        if ABSENT_GLOBALS.contains(&name.as_str()) {
            return Value::Bool(false);
        }
        Value::Unknown(format!(
            "whether `{name}` is defined depends on the release, and the model does not know it"
        ))
    }

    /// `(with-filter FILTER RULES...)`: every rule emitted in RULES also
    /// requires FILTER (sbpl1.scm: the rule's own filters, any of them,
    /// and FILTER).
    fn with_filter(&mut self, node: &Node<'a>, args: &'a [Node<'a>], env: &Env<'a>) -> Value<'a> {
        let Some((filter, body)) = args.split_first() else {
            self.not_evaluated(node.span, "with-filter without a filter", Scope::Any);
            return Value::Void;
        };
        let f = self.eval(filter, env);
        self.extra_filters.push(super::filter_forms::as_filter(&f));
        let v = self.body(body, env);
        self.extra_filters.pop();
        v
    }

    /// `(with-operations OPS RULES...)`: every rule emitted in RULES also
    /// names OPS.
    fn with_operations(
        &mut self,
        node: &Node<'a>,
        args: &'a [Node<'a>],
        env: &Env<'a>,
    ) -> Value<'a> {
        let Some((ops, body)) = args.split_first() else {
            return Value::Void;
        };
        let names: Vec<String> = match self.eval(ops, env) {
            Value::Sym(s) => vec![s],
            Value::List(items) => {
                let names: Option<Vec<String>> = items
                    .into_iter()
                    .map(|v| match v {
                        Value::Sym(s) => Some(s),
                        _ => None,
                    })
                    .collect();
                match names {
                    Some(n) => n,
                    None => {
                        self.not_evaluated(
                            node.span,
                            "with-operations of values that are not operations",
                            Scope::Any,
                        );
                        return Value::Void;
                    }
                }
            }
            _ => {
                self.not_evaluated(node.span, "with-operations of an unknown list", Scope::Any);
                return Value::Void;
            }
        };
        let before = self.extra_ops.len();
        self.extra_ops
            .extend(names.iter().map(|n| super::ops::canonical(n).to_string()));
        let v = self.body(body, env);
        self.extra_ops.truncate(before);
        v
    }

    /// `(import "NAME")`, `(load "NAME")`: evaluates the named file in the
    /// global environment, found on the search path.
    fn import_form(&mut self, node: &Node<'a>, args: &'a [Node<'a>], env: &Env<'a>) {
        let name = match args.first().map(|a| self.eval(a, env)) {
            Some(Value::Str(s)) => String::from_utf8_lossy(&s).into_owned(),
            _ => {
                self.not_evaluated(
                    node.span,
                    "import of something that is not a string",
                    Scope::Any,
                );
                return;
            }
        };
        if let Err(why) = self.import(&name, node.span) {
            self.not_evaluated(node.span, why, Scope::Any);
        }
    }

    fn import(&mut self, name: &str, at: Span) -> Result<(), String> {
        if self.sources.len() >= super::source::MAX_FILES {
            return Err(format!(
                "import {name:?}: more than {} files read for one profile",
                super::source::MAX_FILES
            ));
        }
        let dir = self.sources.file_of(at).and_then(|f| f.dir.clone());
        let path = self.search.find(name, dir.as_deref())?;
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if let Some(i) = self.loading.iter().position(|p| *p == canonical) {
            let chain: Vec<String> = self.loading[i..]
                .iter()
                .chain(std::iter::once(&canonical))
                .map(|p| p.display().to_string())
                .collect();
            return Err(format!(
                "import cycle: {} (sandbox-exec would recurse until it fails)",
                chain.join(" -> ")
            ));
        }
        let text = read_bounded(&path).map_err(|e| format!("import {e}"))?;
        let text = self.arena.str(&text);
        self.imports.push(Import {
            name: name.to_string(),
            path: path.display().to_string(),
        });
        let guards = std::mem::take(&mut self.guards);
        let result = self.run_file(path.display().to_string(), Some(path.clone()), text);
        self.guards = guards;
        result.map_err(|e| {
            format!(
                "import {}: does not read: {}:{}: {}",
                path.display(),
                e.line,
                e.col,
                e.message
            )
        })
    }

    /// Procedures that are not special forms: string builtins, predicates,
    /// filters, `allow`/`deny` called as procedures.
    fn builtin(&mut self, name: &str, node: &Node<'a>, args: Vec<Value<'a>>) -> Value<'a> {
        let v = self.builtin_value(name, node, args);
        if self.charge(&v) {
            v
        } else {
            self.allocation_exhausted(node.span)
        }
    }

    fn builtin_value(&mut self, name: &str, node: &Node<'a>, args: Vec<Value<'a>>) -> Value<'a> {
        if let Some(v) = super::filter_forms::build(name, &args) {
            return v;
        }
        if let Some(v) = builtins::call(name, &args) {
            return v;
        }
        match name {
            "allow" | "deny" => {
                self.procedural_rule(name, node, args);
                Value::Void
            }
            "param" => self.param(&args),
            "string-append" => builtins::string_append(&args),
            "regex-quote" => match args.as_slice() {
                [Value::Str(s)] => Value::Str(regex_quote(s)),
                _ => Value::Unknown("regex-quote of a non-string".into()),
            },
            "not" => builtins::not(&args),
            "string=?" | "equal?" | "eq?" | "eqv?" => equal(&args),
            "string?" => predicate(&args, |v| matches!(v, Value::Str(_))),
            "boolean?" => predicate(&args, |v| matches!(v, Value::Bool(_))),
            "null?" => predicate(&args, |v| matches!(v, Value::List(l) if l.is_empty())),
            "list" => Value::List(args),
            "map" | "for-each" => self.map(name == "map", args, node),
            "apply" => self.apply(args, node),
            "with" => Value::Modifier,
            // Sandbox options, not rules (sbpl1.scm's deprecated modifiers
            // call them).
            "disable-callouts" | "disable-full-symbolication" => Value::Void,
            _ => Value::Unknown(format!("`{name}` is not evaluated by the model")),
        }
    }

    fn map(&mut self, collect: bool, args: Vec<Value<'a>>, node: &Node<'a>) -> Value<'a> {
        let mut args = args.into_iter();
        let Some(f) = args.next() else {
            return Value::Unknown("map/for-each without a procedure".into());
        };
        let lists: Vec<Value<'a>> = args.collect();
        let lists: Option<Vec<Vec<Value<'a>>>> = lists
            .into_iter()
            .map(|l| match l {
                Value::List(items) => Some(items),
                _ => None,
            })
            .collect();
        let Some(lists) = lists.filter(|l| !l.is_empty()) else {
            return Value::Unknown("map/for-each over something that is not a list".into());
        };
        let n = lists.iter().map(Vec::len).min().unwrap_or(0);
        let mut out = Vec::with_capacity(if collect { n } else { 0 });
        for i in 0..n {
            let call_args = lists.iter().map(|l| l[i].clone()).collect();
            let v = self.call_value(&f, "(procedure)", call_args, node);
            if collect {
                out.push(v);
            }
        }
        if collect {
            Value::List(out)
        } else {
            Value::Void
        }
    }

    fn apply(&mut self, mut args: Vec<Value<'a>>, node: &Node<'a>) -> Value<'a> {
        let Some(Value::List(last)) = args.pop() else {
            return Value::Unknown("apply without a final list".into());
        };
        if args.is_empty() {
            return Value::Unknown("apply without a procedure".into());
        }
        let f = args.remove(0);
        args.extend(last);
        self.call_value(&f, "(procedure)", args, node)
    }

    fn param(&self, args: &[Value<'a>]) -> Value<'a> {
        match args {
            [Value::Str(key)] => match self.params.get(String::from_utf8_lossy(key).as_ref()) {
                Some(v) => Value::Str(v.as_bytes().to_vec()),
                // SOURCE: prelude.scm, (param "K") is #f when K is undefined.
                None => Value::Bool(false),
            },
            _ => Value::Unknown("param with a non-string key".into()),
        }
    }

    /// `(allow|deny OPERATION... FILTER... MODIFIER...)` written out:
    /// operations are the bare symbols that are not bound variables.
    fn syntactic_rule(&mut self, verb: &str, node: &Node<'a>, args: &'a [Node<'a>], env: &Env<'a>) {
        let ops: Vec<String> = args
            .iter()
            .filter_map(Node::as_symbol)
            .filter(|s| !env.is_bound(s))
            .map(|s| super::ops::canonical(s).to_string())
            .collect();
        self.rule_ops.push(ops);
        let values: Vec<Value<'a>> = args
            .iter()
            .map(|a| match a.as_symbol() {
                Some(s) if !env.is_bound(s) => Value::Sym(s.to_string()),
                _ => self.eval(a, env),
            })
            .collect();
        self.rule_ops.pop();
        self.procedural_rule(verb, node, values);
    }
}

fn binding<'a>(b: &Node<'a>) -> Option<(&'a str, Option<&'a Node<'a>>)> {
    match b.kind {
        NodeKind::List([name, rest @ ..]) => Some((name.as_symbol()?, rest.first())),
        NodeKind::Symbol(name) => Some((name, None)),
        _ => None,
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

/// What TinyScheme gives a one-armed `if` whose test is false (and `when`,
/// `unless`, a `cond` with no clause taken): the empty list, which is true.
fn nil<'a>() -> Value<'a> {
    Value::List(Vec::new())
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
        NodeKind::Real(x) => Value::Real(*x),
        NodeKind::Char(c) => Value::Char(*c),
        NodeKind::Quote(inner) => Value::List(vec![Value::Sym("quote".into()), datum(inner)]),
    }
}

/// Data back as code, in `arena`, every node spanning `span`. `None` for
/// values that have no written form (procedures, filters, unknowns).
fn to_node<'a>(v: &Value<'_>, span: Span, arena: &'a Arena) -> Option<Node<'a>> {
    let kind = match v {
        Value::Bool(b) => NodeKind::Bool(*b),
        Value::Int(i) => NodeKind::Int(*i),
        Value::Real(x) => NodeKind::Real(*x),
        Value::Char(c) => NodeKind::Char(*c),
        Value::Str(s) => NodeKind::Str(arena.bytes(s)),
        Value::Sym(s) => NodeKind::Symbol(arena.str(s)),
        Value::List(items) => {
            let nodes: Option<Vec<Node<'a>>> =
                items.iter().map(|i| to_node(i, span, arena)).collect();
            NodeKind::List(arena.nodes(&nodes?))
        }
        _ => return None,
    };
    Some(Node { kind, span })
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
            _ => match builtins::equal(a, b) {
                Some(t) => Value::Bool(t),
                None => Value::Unknown("comparison of values the model does not compare".into()),
            },
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
            // `#\;` and `#\"` are characters, not a comment or a string.
            '#' if chars.peek() == Some(&'\\') => {
                if pending_space && !out.is_empty() && !out.ends_with('(') {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
                out.extend(chars.next());
                out.extend(chars.next());
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
        assert_eq!(one_line("(eqv? c #\\;)  ; x"), "(eqv? c #\\;)");
    }
}

#[derive(Clone, Copy)]
enum Once {
    Yes,
    No,
}

/// Names [`Evaluator::special_form`] handles.
const SPECIAL_FORMS: &[&str] = &[
    "quote",
    "quasiquote",
    "define",
    "define-once",
    "macro",
    "lambda",
    "if",
    "when",
    "unless",
    "cond",
    "case",
    "and",
    "or",
    "let",
    "let*",
    "letrec",
    "letrec*",
    "begin",
    "set!",
    "defined?",
    "allow",
    "deny",
    "with-filter",
    "with-operations",
    "with-modifier",
    "import",
    "load",
    "eval",
    "error",
    "version",
    "debug",
    "trace",
];

/// Procedures [`Evaluator::builtin_value`] evaluates besides filters and
/// [`builtins::NAMES`].
const PROCEDURES: &[&str] = &[
    "allow",
    "deny",
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
    "disable-callouts",
    "disable-full-symbolication",
];

/// Whether `name` is a procedure the model calls when it is unbound.
fn is_procedure(name: &str) -> bool {
    PROCEDURES.contains(&name)
        || builtins::NAMES.contains(&name)
        || super::filter_forms::is_filter(name)
}
