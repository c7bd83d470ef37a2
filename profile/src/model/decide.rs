//! The decision procedure: walk the operation chain, most specific first;
//! at each operation the filtered rules (last in the text first), then the
//! unfiltered rule that replaced its fallback; then the parent.
//!
//! Soundness: a rule the model cannot decide (undecidable filter or guard)
//! that sits above the deciding rule and would decide differently makes the
//! answer `Unknown`. One that would decide the same is only mentioned.

use super::filter::Tri;
use super::{Action, Origin, Rule};

/// One consulted operation: its name and its rules (indices into the rule
/// table), most precedent first.
#[derive(Debug, Clone, Default)]
pub struct Step {
    pub op: String,
    pub filtered: Vec<usize>,
    pub unfiltered: Vec<usize>,
}

/// The operations consulted for one request operation.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    pub steps: Vec<Step>,
    /// The own fallback of the last step, when it does not reach default.
    pub own_fallback: Option<Action>,
    /// Whether the request operation is one the model knows by name.
    pub known: bool,
}

/// What decided, before it is put into words.
#[derive(Debug, Clone, Copy)]
pub enum Decider {
    /// A filtered rule at chain step `step`.
    Filtered { rule: usize, step: usize },
    /// The unfiltered rule of chain step `step`.
    Unfiltered { rule: usize, step: usize },
    /// The own fallback of the last step.
    OwnFallback,
    /// No rule and no `default` rule: Seatbelt's built-in default.
    Builtin,
}

/// A rule that might take precedence, and why the model cannot tell.
#[derive(Debug, Clone, Copy)]
pub struct Pending<'m> {
    pub rule: usize,
    pub why: &'m str,
}

#[derive(Debug)]
pub struct Trace<'m> {
    pub action: Action,
    pub decider: Decider,
    /// Undecidable rules above the decider, most precedent first.
    pub pending: Vec<Pending<'m>>,
}

impl Trace<'_> {
    /// The first undecidable rule above the decider that would decide
    /// differently: when there is one the answer is unknown.
    pub fn conflict(&self, rules: &[Rule]) -> Option<Pending<'_>> {
        self.pending
            .iter()
            .copied()
            .find(|p| rules[p.rule].action != self.action)
    }
}

/// Decides `arg` along `chain`.
pub fn trace<'m>(rules: &'m [Rule], chain: &Chain, arg: Option<&super::Arg>) -> Trace<'m> {
    let mut pending = Vec::new();
    for (step_no, step) in chain.steps.iter().enumerate() {
        for &id in &step.filtered {
            let rule = &rules[id];
            let Some(filter) = &rule.filter else { continue };
            match guarded(filter.matches(arg), rule) {
                Tri::Yes => {
                    return done(
                        rule.action,
                        Decider::Filtered {
                            rule: id,
                            step: step_no,
                        },
                        pending,
                    )
                }
                Tri::No => {}
                Tri::Maybe(why) => pending.push(Pending { rule: id, why }),
            }
        }
        for &id in &step.unfiltered {
            let rule = &rules[id];
            match &rule.guard {
                Some(why) => pending.push(Pending { rule: id, why }),
                None => {
                    return done(
                        rule.action,
                        Decider::Unfiltered {
                            rule: id,
                            step: step_no,
                        },
                        pending,
                    )
                }
            }
        }
    }
    match chain.own_fallback {
        Some(action) => done(action, Decider::OwnFallback, pending),
        None => done(Action::Allow, Decider::Builtin, pending),
    }
}

fn done(action: Action, decider: Decider, pending: Vec<Pending<'_>>) -> Trace<'_> {
    Trace {
        action,
        decider,
        pending,
    }
}

/// A rule under an undecidable condition matches at most "maybe".
fn guarded<'m>(m: Tri<'m>, rule: &'m Rule) -> Tri<'m> {
    match (&rule.guard, m) {
        (_, Tri::No) => Tri::No,
        (Some(why), _) => Tri::Maybe(why),
        (None, m) => m,
    }
}

/// Words for a rule in a reason: "file-read* rule at line 12".
pub fn rule_words(rule: &Rule, op: &str) -> String {
    match rule.origin {
        Origin::Implicit(words) => words.to_string(),
        Origin::Text => format!("{op} rule at line {}", rule.line),
    }
}
