//! A model of Seatbelt's decision procedure over the parsed AST.

use serde::{Deserialize, Serialize};

/// One request to decide: an operation and its argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request {
    pub op: String,
    pub arg: Option<Arg>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum Arg {
    Path(String),
    GlobalName(String),
    IokitClass(String),
    IpcName(String),
    SysctlName(String),
    /// The target of `signal`: "self" or "others".
    Target(String),
    /// The remote end of an inet connect, "HOST:PORT" as the kernel sees
    /// it (e.g. "127.0.0.1:8080"); `(remote ip ...)` filters decide it.
    Remote(String),
    /// An ioctl: the file's path (which path filters look at) and the
    /// command number (which `(ioctl-command N)` looks at).
    Ioctl {
        path: String,
        command: u64,
    },
}

/// The model's answer. `Unknown` is never folded into allow or deny.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
    Unknown,
}

/// The rule that decided, when one did (none when a default decided).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    /// The file the rule is in: the profile, or a file it imports.
    pub file: String,
    pub line: u32,
    pub text: String,
}

/// A form the model did not evaluate, or evaluated only as possibly
/// present (a rule under a condition it cannot decide).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotEvaluated {
    pub file: String,
    pub line: u32,
    /// The form's text on one line, cut at 80 characters.
    pub form: String,
    pub why: String,
    #[serde(skip)]
    pub scope: Scope,
}

/// Which requests a form the model did not evaluate could decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Any request: the form could emit any rule (an unknown procedure, a
    /// missing import, an exhausted budget).
    Any,
    /// Requests in the operation families of these operations.
    Ops(Vec<String>),
    /// None beyond the rules kept as possibly present (an undecidable
    /// condition): those already make a decision unknown when they matter.
    Guarded,
}

/// An import the model followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    /// As the profile wrote it.
    pub name: String,
    /// Where it was found.
    pub path: String,
}

/// How to compile a profile: its parameters (`-D`), its own path (for
/// messages and for imports next to it) and where else imports are found.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    pub params: BTreeMap<String, String>,
    pub file: Option<std::path::PathBuf>,
    /// `--import-path DIR`, searched in order after the importing file's
    /// own directory (and before the system's, on macOS).
    pub import_paths: Vec<std::path::PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub decision: Decision,
    pub rule: Option<RuleRef>,
    pub reason: String,
}

mod builtins;
mod compile;
mod decide;
mod derive;
mod eval;
mod filter;
mod filter_forms;
mod ops;
mod regex;
mod source;

pub use eval::budget;
pub use source::{read_bounded, MAX_FILES, MAX_IMPORT_BYTES};

use crate::reader::ReadError;
use decide::{Chain, Decider, Step, Trace};
use filter::Filter;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// What a rule does when it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
}

impl Action {
    fn decision(self) -> Decision {
        match self {
            Action::Allow => Decision::Allow,
            Action::Deny => Decision::Deny,
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
        }
    }
}

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Text,
    /// Added by Seatbelt itself; the text is how explanations name it.
    Implicit(&'static str),
}

/// One evaluated `allow`/`deny`.
#[derive(Debug, Clone)]
struct Rule {
    action: Action,
    /// Canonical operation names.
    ops: Vec<String>,
    /// `None`: the rule has no filter and replaces the operation's fallback.
    filter: Option<Filter>,
    /// Set when the rule sits under a condition the model cannot decide.
    guard: Option<String>,
    /// The file the rule is in (empty for implicit rules).
    file: String,
    line: u32,
    text: String,
    origin: Origin,
}

/// A profile the model could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    Read(ReadError),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Read(e) => write!(f, "{}:{}: {}", e.line, e.col, e.message),
        }
    }
}

impl std::error::Error for ModelError {}

impl From<ReadError> for ModelError {
    fn from(e: ReadError) -> Self {
        ModelError::Read(e)
    }
}

/// A compiled profile: rules indexed per operation, regexes compiled.
/// Deciding never fails and never panics; what the model cannot settle is
/// [`Decision::Unknown`].
#[derive(Debug, Clone)]
pub struct Model {
    rules: Vec<Rule>,
    /// Chains for every known operation and every operation a rule names.
    chains: HashMap<String, Chain>,
    /// Rule indices per operation, most precedent first: (filtered, unfiltered).
    index: HashMap<String, (Vec<usize>, Vec<usize>)>,
    not_evaluated: Vec<NotEvaluated>,
    imports: Vec<Import>,
}

impl Model {
    /// Reads and evaluates `text` with `params` (`-D KEY=VALUE`). Fails only
    /// when the text cannot be read; forms the model cannot evaluate are
    /// recorded in [`Model::skipped_forms`].
    pub fn compile(text: &str, params: &BTreeMap<String, String>) -> Result<Model, ModelError> {
        Model::compile_with(
            text,
            &CompileOptions {
                params: params.clone(),
                ..CompileOptions::default()
            },
        )
    }

    /// Like [`Model::compile`], with the profile's path and import paths:
    /// `(import "x.sb")` is followed.
    pub fn compile_with(text: &str, opts: &CompileOptions) -> Result<Model, ModelError> {
        let compiled = compile::compile(text, opts)?;
        let mut model = Model::from_rules(compiled.rules, compiled.not_evaluated);
        model.imports = compiled.imports;
        Ok(model)
    }

    fn from_rules(rules: Vec<Rule>, not_evaluated: Vec<NotEvaluated>) -> Model {
        let mut index: HashMap<String, (Vec<usize>, Vec<usize>)> = HashMap::new();
        // Last in the text first: among filtered rules the last one wins,
        // and the last unfiltered rule is the one that replaced the fallback.
        for (id, rule) in rules.iter().enumerate().rev() {
            for op in &rule.ops {
                let entry = index.entry(op.clone()).or_default();
                match rule.filter {
                    Some(_) => entry.0.push(id),
                    None => entry.1.push(id),
                }
            }
        }
        let mut model = Model {
            rules,
            chains: HashMap::new(),
            index,
            not_evaluated,
            imports: Vec::new(),
        };
        let names: Vec<String> = ops::known()
            .iter()
            .map(|s| s.to_string())
            .chain(model.index.keys().cloned())
            .collect();
        for name in names {
            let chain = model.build_chain(&name);
            model.chains.insert(name, chain);
        }
        model
    }

    fn build_chain(&self, op: &str) -> Chain {
        let names = ops::chain(op);
        let own_fallback = names.last().and_then(|n| ops::own_fallback(n));
        let steps = names
            .into_iter()
            .enumerate()
            // Drop names derived for the walk that are neither real
            // operations nor used by the profile (`user*`).
            .filter(|(i, name)| *i == 0 || ops::is_known(name) || self.index.contains_key(name))
            .map(|(_, name)| {
                let (filtered, unfiltered) = self.index.get(&name).cloned().unwrap_or_default();
                Step {
                    op: name,
                    filtered,
                    unfiltered,
                }
            })
            .collect();
        Chain {
            steps,
            own_fallback,
            known: ops::is_known(op),
        }
    }

    fn chain(&self, op: &str) -> Cow<'_, Chain> {
        match self.chains.get(ops::canonical(op)) {
            Some(c) => Cow::Borrowed(c),
            None => Cow::Owned(self.build_chain(op)),
        }
    }

    /// The forms the model did not evaluate (or evaluated only as possibly
    /// present), in the order met.
    pub fn not_evaluated(&self) -> &[NotEvaluated] {
        &self.not_evaluated
    }

    /// The imports followed, in the order read.
    pub fn imports(&self) -> &[Import] {
        &self.imports
    }

    /// The first form not evaluated that could decide a request on `op`:
    /// while there is one, no answer on `op` is definite.
    pub fn blocking(&self, op: &str) -> Option<&NotEvaluated> {
        self.not_evaluated.iter().find(|n| match &n.scope {
            Scope::Any => true,
            Scope::Ops(ops) => ops.iter().any(|o| ops::same_family(o, op)),
            Scope::Guarded => false,
        })
    }

    /// Decides one request: allow or deny with the deciding rule (none when
    /// a default or fallback decided) and why, or unknown with the rule the
    /// model could not decide.
    pub fn decide(&self, req: &Request) -> Explanation {
        let arg = resolved(req.arg.as_ref());
        let chain = self.chain(&req.op);
        let t = decide::trace(&self.rules, &chain, arg.as_deref());
        let mut exp = self.explain(&chain, &t, arg.as_deref());
        if let (Some(orig), Some(Cow::Owned(resolved))) =
            (req.arg.as_ref().and_then(Arg::path), arg.as_ref())
        {
            let now = resolved.path().unwrap_or_default();
            exp.reason
                .push_str(&format!("; {orig} is {now} once the kernel resolves it"));
        }
        if !chain.known {
            exp.reason.push_str(&format!(
                "; note: {} is not an operation the model knows",
                req.op
            ));
        }
        if let Some(n) = self.blocking(&req.op) {
            let site = match n.file.as_str() {
                "" => format!("line {}", n.line),
                f => format!("{f}:{}", n.line),
            };
            exp.reason = format!(
                "cannot decide: {} at {site} was not evaluated ({}) and could decide {}; \
                 without it: {} ({})",
                n.form, n.why, req.op, exp.decision, exp.reason
            );
            exp.decision = Decision::Unknown;
            exp.rule = None;
        }
        exp
    }

    /// The decision alone, without building the explanation: what
    /// [`Model::decide`] would answer, for callers that only need the verdict.
    pub fn verdict(&self, req: &Request) -> Decision {
        let arg = resolved(req.arg.as_ref());
        let chain = self.chain(&req.op);
        let t = decide::trace(&self.rules, &chain, arg.as_deref());
        match t.conflict(&self.rules) {
            Some(_) => Decision::Unknown,
            None if self.blocking(&req.op).is_some() => Decision::Unknown,
            None => t.action.decision(),
        }
    }

    /// Decides a probe footprint, the conjunction of its requests: deny if
    /// any is denied (naming the first), unknown if any is unknown and none
    /// denied, allow otherwise. An empty footprint is unknown.
    pub fn decide_all(&self, reqs: &[Request]) -> Explanation {
        let all: Vec<(&Request, Explanation)> = reqs.iter().map(|r| (r, self.decide(r))).collect();
        let pick = |d: Decision| all.iter().find(|(_, e)| e.decision == d);
        if let Some((req, e)) = pick(Decision::Deny).or_else(|| pick(Decision::Unknown)) {
            return Explanation {
                decision: e.decision.clone(),
                rule: e.rule.clone(),
                reason: format!("{}: {}", describe(req), e.reason),
            };
        }
        match all.first() {
            None => Explanation {
                decision: Decision::Unknown,
                rule: None,
                reason: "empty footprint: no request to decide".into(),
            },
            Some((_, first)) => {
                let parts: Vec<String> = all
                    .iter()
                    .map(|(r, e)| match &e.rule {
                        Some(rule) => format!("{} (line {})", describe(r), rule.line),
                        None => format!("{} (default)", describe(r)),
                    })
                    .collect();
                Explanation {
                    decision: Decision::Allow,
                    rule: first.rule.clone(),
                    reason: format!("all {} requests allowed: {}", all.len(), parts.join(", ")),
                }
            }
        }
    }

    fn explain(&self, chain: &Chain, t: &Trace<'_>, arg: Option<&Arg>) -> Explanation {
        use std::fmt::Write as _;
        let steps = &chain.steps;
        // One buffer for the whole reason: explanations are on the hot path.
        let mut reason = String::with_capacity(160);
        let passed = |reason: &mut String, n: usize| {
            let names = &steps[..n];
            if let Some((first, rest)) = names.split_first() {
                let _ = write!(reason, "most specific operation {} had no match", first.op);
                for (i, s) in rest.iter().enumerate() {
                    reason.push_str(if i == 0 { ", nor did " } else { ", " });
                    reason.push_str(&s.op);
                }
                reason.push_str("; ");
            }
        };
        let rule = match t.decider {
            Decider::Filtered { rule, step } => {
                let r = &self.rules[rule];
                passed(&mut reason, step);
                match r.origin {
                    Origin::Implicit(words) => {
                        let _ = write!(reason, "{words} matched");
                    }
                    Origin::Text => {
                        let _ = write!(
                            reason,
                            "{} rule at line {} matched ",
                            steps[step].op, r.line
                        );
                        if let Some(f) = &r.filter {
                            f.witness(arg).write_display(&mut reason);
                        }
                    }
                }
                self.rule_ref(rule)
            }
            Decider::Unfiltered { rule, step } => {
                let r = &self.rules[rule];
                let op = &steps[step].op;
                passed(&mut reason, step);
                if op == "default" {
                    let _ = write!(
                        reason,
                        "({} default) at line {} decided",
                        r.action.verb(),
                        r.line
                    );
                    None
                } else {
                    match r.origin {
                        Origin::Implicit(words) => reason.push_str(words),
                        Origin::Text => {
                            let _ = write!(
                                reason,
                                "{} has no filter, so it decides {op} when no filtered rule matches",
                                decide::rule_words(r, op)
                            );
                        }
                    }
                    self.rule_ref(rule)
                }
            }
            Decider::OwnFallback => {
                let last = steps.last().map_or("?", |s| s.op.as_str());
                passed(&mut reason, steps.len());
                let _ = write!(
                    reason,
                    "{last} has its own fallback ({}) and never reaches default",
                    t.action.verb()
                );
                None
            }
            Decider::Builtin => {
                passed(&mut reason, steps.len());
                reason.push_str(
                    "the profile has no default rule; Seatbelt's built-in default allows",
                );
                None
            }
        };
        if let Some(c) = t.conflict(&self.rules) {
            let r = &self.rules[c.rule];
            return Explanation {
                decision: Decision::Unknown,
                rule: self.rule_ref(c.rule),
                reason: format!(
                    "cannot decide: the rule at line {} would {} if it matched, ahead of what decides otherwise ({reason}), and whether it matches is unknown: {}",
                    r.line,
                    r.action.verb(),
                    c.why
                ),
            };
        }
        for p in &t.pending {
            reason.push_str(&format!(
                "; the rule at line {} might also match ({}) but would decide the same",
                self.rules[p.rule].line, p.why
            ));
        }
        Explanation {
            decision: t.action.decision(),
            rule,
            reason,
        }
    }

    fn rule_ref(&self, id: usize) -> Option<RuleRef> {
        let r = &self.rules[id];
        match r.origin {
            Origin::Implicit(_) => None,
            Origin::Text => Some(RuleRef {
                file: r.file.clone(),
                line: r.line,
                text: r.text.clone(),
            }),
        }
    }
}

/// The argument as the kernel presents it: SBPL rules see /private/tmp,
/// /private/var and /private/etc, never the spelled /tmp, /var, /etc.
fn resolved(arg: Option<&Arg>) -> Option<Cow<'_, Arg>> {
    let arg = arg?;
    match arg {
        Arg::Path(p) => private_form(p).map(|p| Cow::Owned(Arg::Path(p))),
        Arg::Ioctl { path, command } => private_form(path).map(|p| {
            Cow::Owned(Arg::Ioctl {
                path: p,
                command: *command,
            })
        }),
        _ => None,
    }
    .or(Some(Cow::Borrowed(arg)))
}

/// `p` under /private when it is spelled through /tmp, /var or /etc.
fn private_form(p: &str) -> Option<String> {
    ["/tmp", "/var", "/etc"]
        .iter()
        .any(|short| {
            p.strip_prefix(short)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .then(|| format!("/private{p}"))
}

fn describe(req: &Request) -> String {
    match &req.arg {
        None => req.op.clone(),
        Some(Arg::Path(v))
        | Some(Arg::GlobalName(v))
        | Some(Arg::IokitClass(v))
        | Some(Arg::IpcName(v))
        | Some(Arg::SysctlName(v))
        | Some(Arg::Target(v))
        | Some(Arg::Remote(v)) => format!("{} {v}", req.op),
        Some(Arg::Ioctl { path, command }) => format!("{} {path} #x{command:x}", req.op),
    }
}

impl Arg {
    /// The file path the argument carries, if any: a path, or an ioctl's file.
    pub fn path(&self) -> Option<&str> {
        match self {
            Arg::Path(p) | Arg::Ioctl { path: p, .. } => Some(p),
            _ => None,
        }
    }
}

impl Request {
    /// A request with no argument.
    pub fn bare(op: &str) -> Request {
        Request {
            op: op.to_string(),
            arg: None,
        }
    }

    /// A request on a path (files, AF_UNIX socket paths).
    pub fn path(op: &str, path: &str) -> Request {
        Request {
            op: op.to_string(),
            arg: Some(Arg::Path(path.to_string())),
        }
    }

    /// A request with any argument.
    pub fn with(op: &str, arg: Arg) -> Request {
        Request {
            op: op.to_string(),
            arg: Some(arg),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Unknown => "unknown",
        })
    }
}
