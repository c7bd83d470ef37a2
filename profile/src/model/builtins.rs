//! Pure Scheme procedures over values: numbers, characters, strings and
//! lists, as TinyScheme's `init.scm` and `scheme.c` define them and Apple's
//! profiles use them (`string-ref`, `substring`, `assoc`, `char=?`, ...).
//! None of them evaluates code or emits rules; what they cannot compute is
//! [`Value::Unknown`] with the reason.

use super::eval::{truth, Value};

/// Longest string the model builds (bytes). Real profiles build paths and
/// regexes; a profile doubling a string past this ends in `unknown`.
pub const MAX_STRING: usize = 1 << 20;

/// Names [`call`] computes.
pub const NAMES: &[&str] = &[
    "+",
    "-",
    "*",
    "=",
    "<",
    ">",
    "<=",
    ">=",
    "zero?",
    "positive?",
    "negative?",
    "number?",
    "integer?",
    "car",
    "cdr",
    "caar",
    "cadr",
    "cdar",
    "cddr",
    "cadar",
    "caddr",
    "cons",
    "append",
    "reverse",
    "length",
    "list?",
    "pair?",
    "atom?",
    "assoc",
    "assq",
    "assv",
    "member",
    "memq",
    "memv",
    "list-ref",
    "list-tail",
    "string-length",
    "string-ref",
    "substring",
    "string->list",
    "list->string",
    "string->symbol",
    "symbol->string",
    "string",
    "char=?",
    "char?",
    "symbol?",
    "procedure?",
    "char->integer",
    "integer->char",
    "string<?",
    "string>?",
    "last-pair",
    "_IO",
    "split-string",
];

/// `None` when `name` is not one of [`NAMES`].
pub fn call<'a>(name: &str, args: &[Value<'a>]) -> Option<Value<'a>> {
    if let Some(Value::Unknown(r)) = args.iter().find(|a| matches!(a, Value::Unknown(_))) {
        return Some(Value::Unknown(r.clone()));
    }
    let v = match name {
        "+" | "*" => fold(name, args),
        "-" => minus(args),
        "=" | "<" | ">" | "<=" | ">=" => compare(name, args),
        "zero?" | "positive?" | "negative?" => sign(name, args),
        "number?" | "integer?" => one(args, |v| Value::Bool(matches!(v, Value::Int(_)))),
        "car" | "cdr" | "caar" | "cadr" | "cdar" | "cddr" | "cadar" | "caddr" => cxr(name, args),
        "cons" => cons(args),
        "append" => append(args),
        "reverse" => list_arg(args, |l| {
            let mut l = l.to_vec();
            l.reverse();
            Value::List(l)
        }),
        "length" => list_arg(args, |l| Value::Int(l.len() as i64)),
        "last-pair" => list_arg(args, |l| match l.last() {
            Some(x) => Value::List(vec![x.clone()]),
            None => Value::Unknown("last-pair of an empty list".into()),
        }),
        "list?" => one(args, |v| Value::Bool(matches!(v, Value::List(_)))),
        "pair?" => one(args, |v| {
            Value::Bool(matches!(v, Value::List(l) if !l.is_empty()))
        }),
        // init.scm: (define (atom? x) (not (pair? x)))
        "atom?" => one(args, |v| {
            Value::Bool(!matches!(v, Value::List(l) if !l.is_empty()))
        }),
        "assoc" | "assq" | "assv" => assoc(args),
        "member" | "memq" | "memv" => member(args),
        "list-ref" => list_ref(args),
        "list-tail" => list_tail(args),
        "string-length" => str_arg(args, |s| Value::Int(s.len() as i64)),
        "string-ref" => string_ref(args),
        "substring" => substring(args),
        "string->list" => str_arg(args, |s| {
            Value::List(s.iter().map(|&b| Value::Char(b)).collect())
        }),
        "list->string" => list_to_string(args),
        "string" => chars_to_string(args),
        "string->symbol" => str_arg(args, |s| {
            Value::Sym(String::from_utf8_lossy(s).into_owned())
        }),
        "symbol->string" => match args {
            [Value::Sym(s)] => Value::Str(s.as_bytes().to_vec()),
            _ => Value::Unknown("symbol->string of a non-symbol".into()),
        },
        "char=?" => match args {
            [Value::Char(a), Value::Char(b)] => Value::Bool(a == b),
            _ => Value::Unknown("char=? needs two characters".into()),
        },
        "char?" => one(args, |v| Value::Bool(matches!(v, Value::Char(_)))),
        "symbol?" => one(args, |v| Value::Bool(matches!(v, Value::Sym(_)))),
        "procedure?" => one(args, |v| Value::Bool(matches!(v, Value::Lambda(_)))),
        "char->integer" => match args {
            [Value::Char(c)] => Value::Int(i64::from(*c)),
            _ => Value::Unknown("char->integer of a non-character".into()),
        },
        "integer->char" => match args {
            [Value::Int(n)] => match u8::try_from(*n) {
                Ok(c) => Value::Char(c),
                Err(_) => Value::Unknown(format!("integer->char of {n}")),
            },
            _ => Value::Unknown("integer->char of a non-integer".into()),
        },
        "string<?" | "string>?" => match args {
            [Value::Str(a), Value::Str(b)] => {
                Value::Bool(if name == "string<?" { a < b } else { a > b })
            }
            _ => Value::Unknown(format!("{name} needs two strings")),
        },
        "_IO" => io_command(args),
        "split-string" => split_string(args),
        _ => return None,
    };
    Some(v)
}

/// SOURCE: sbpl1.scm (10.15.2), `(_IO g n)` is n + 256 * the code of g's
/// first character.
fn io_command<'a>(args: &[Value<'a>]) -> Value<'a> {
    match args {
        [Value::Str(g), Value::Int(n)] => match g.first() {
            Some(&c) => n
                .checked_add(256 * i64::from(c))
                .map_or_else(|| Value::Unknown("_IO overflows".into()), Value::Int),
            None => Value::Unknown("_IO of an empty group string".into()),
        },
        _ => Value::Unknown("_IO needs a string and an integer".into()),
    }
}

/// `(split-string S SEP)`: S cut at every SEP. GUESS: no .scm file of the
/// corpus defines it (libsandbox provides it natively); Apple's profiles use
/// it to split a colon-separated path list, which is what this does.
fn split_string<'a>(args: &[Value<'a>]) -> Value<'a> {
    match args {
        [Value::Str(s), Value::Str(sep)] if !sep.is_empty() => {
            let mut parts = Vec::new();
            let mut rest: &[u8] = s;
            while let Some(i) = rest.windows(sep.len()).position(|w| w == sep.as_slice()) {
                parts.push(Value::Str(rest[..i].to_vec()));
                rest = &rest[i + sep.len()..];
            }
            parts.push(Value::Str(rest.to_vec()));
            Value::List(parts)
        }
        _ => Value::Unknown("split-string needs a string and a non-empty separator".into()),
    }
}

fn one<'a>(args: &[Value<'a>], f: impl FnOnce(&Value<'a>) -> Value<'a>) -> Value<'a> {
    match args {
        [v] => f(v),
        _ => Value::Unknown("expected exactly one argument".into()),
    }
}

fn ints(args: &[Value]) -> Option<Vec<i64>> {
    args.iter()
        .map(|a| match a {
            Value::Int(n) => Some(*n),
            _ => None,
        })
        .collect()
}

fn fold<'a>(name: &str, args: &[Value<'a>]) -> Value<'a> {
    let Some(ns) = ints(args) else {
        return Value::Unknown(format!("`{name}` of a non-integer"));
    };
    let out = if name == "+" {
        ns.iter().try_fold(0i64, |a, &b| a.checked_add(b))
    } else {
        ns.iter().try_fold(1i64, |a, &b| a.checked_mul(b))
    };
    out.map_or_else(
        || Value::Unknown(format!("`{name}` overflows 64 bits")),
        Value::Int,
    )
}

fn minus<'a>(args: &[Value<'a>]) -> Value<'a> {
    let out = match ints(args).as_deref() {
        Some([n]) => n.checked_neg(),
        Some([first, rest @ ..]) => rest.iter().try_fold(*first, |a, &b| a.checked_sub(b)),
        _ => return Value::Unknown("`-` needs integers".into()),
    };
    out.map_or_else(
        || Value::Unknown("`-` overflows 64 bits".into()),
        Value::Int,
    )
}

fn compare<'a>(name: &str, args: &[Value<'a>]) -> Value<'a> {
    let Some(ns) = ints(args) else {
        return Value::Unknown(format!("`{name}` of a non-integer"));
    };
    let ok = ns.windows(2).all(|w| match name {
        "=" => w[0] == w[1],
        "<" => w[0] < w[1],
        ">" => w[0] > w[1],
        "<=" => w[0] <= w[1],
        _ => w[0] >= w[1],
    });
    Value::Bool(ok)
}

fn sign<'a>(name: &str, args: &[Value<'a>]) -> Value<'a> {
    match args {
        [Value::Int(n)] => Value::Bool(match name {
            "zero?" => *n == 0,
            "positive?" => *n > 0,
            _ => *n < 0,
        }),
        _ => Value::Unknown(format!("{name} of a non-integer")),
    }
}

/// `car`, `cdr` and their compositions, read right to left.
fn cxr<'a>(name: &str, args: &[Value<'a>]) -> Value<'a> {
    let [v] = args else {
        return Value::Unknown(format!("{name} takes one argument"));
    };
    let path = &name[1..name.len() - 1];
    let mut cur = v.clone();
    for step in path.bytes().rev() {
        let Value::List(items) = cur else {
            return Value::Unknown(format!("{name} of a non-list"));
        };
        if items.is_empty() {
            return Value::Unknown(format!("{name} of the empty list"));
        }
        cur = if step == b'a' {
            items.into_iter().next().unwrap_or(Value::Void)
        } else {
            Value::List(items.into_iter().skip(1).collect())
        };
    }
    cur
}

fn cons<'a>(args: &[Value<'a>]) -> Value<'a> {
    match args {
        [head, Value::List(tail)] => {
            let mut out = Vec::with_capacity(tail.len() + 1);
            out.push(head.clone());
            out.extend(tail.iter().cloned());
            Value::List(out)
        }
        [_, _] => Value::Unknown("cons onto a non-list (dotted pairs are not modelled)".into()),
        _ => Value::Unknown("cons takes two arguments".into()),
    }
}

fn append<'a>(args: &[Value<'a>]) -> Value<'a> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        match a {
            Value::List(l) => out.extend(l.iter().cloned()),
            // The last argument of append may be anything in Scheme; a
            // non-list there makes a dotted list, which is not modelled.
            _ if i + 1 == args.len() && out.is_empty() => return a.clone(),
            _ => return Value::Unknown("append of a non-list".into()),
        }
    }
    Value::List(out)
}

fn list_arg<'a>(args: &[Value<'a>], f: impl FnOnce(&[Value<'a>]) -> Value<'a>) -> Value<'a> {
    match args {
        [Value::List(l)] => f(l),
        _ => Value::Unknown("expected one list".into()),
    }
}

fn str_arg<'a>(args: &[Value<'a>], f: impl FnOnce(&[u8]) -> Value<'a>) -> Value<'a> {
    match args {
        [Value::Str(s)] => f(s),
        [Value::Bool(false)] => Value::Unknown(
            "a string procedure got #f (an undefined param?): sandbox-exec would refuse the profile"
                .into(),
        ),
        _ => Value::Unknown("expected one string".into()),
    }
}

/// Scheme `equal?`: `Some` when both sides are comparable data.
pub fn equal(a: &Value, b: &Value) -> Option<bool> {
    Some(match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Char(x), Value::Char(y)) => x == y,
        (Value::Sym(x), Value::Sym(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            for (p, q) in x.iter().zip(y) {
                if !equal(p, q)? {
                    return Some(false);
                }
            }
            true
        }
        (Value::Unknown(_), _) | (_, Value::Unknown(_)) => return None,
        (Value::Lambda(_) | Value::Filter(_) | Value::Macro(_), _)
        | (_, Value::Lambda(_) | Value::Filter(_) | Value::Macro(_)) => return None,
        _ => false,
    })
}

fn assoc<'a>(args: &[Value<'a>]) -> Value<'a> {
    let [key, Value::List(alist)] = args else {
        return Value::Unknown("assoc needs a key and a list".into());
    };
    for entry in alist {
        let Value::List(pair) = entry else {
            return Value::Unknown("assoc over a list of non-pairs".into());
        };
        match pair.first().map(|k| equal(k, key)) {
            Some(Some(true)) => return entry.clone(),
            Some(Some(false)) => {}
            _ => return Value::Unknown("assoc over values the model does not compare".into()),
        }
    }
    Value::Bool(false)
}

fn member<'a>(args: &[Value<'a>]) -> Value<'a> {
    let [x, Value::List(list)] = args else {
        return Value::Unknown("member needs a value and a list".into());
    };
    for (i, item) in list.iter().enumerate() {
        match equal(item, x) {
            Some(true) => return Value::List(list[i..].to_vec()),
            Some(false) => {}
            None => return Value::Unknown("member over values the model does not compare".into()),
        }
    }
    Value::Bool(false)
}

fn index(v: &Value, len: usize, what: &str) -> Result<usize, String> {
    match v {
        Value::Int(n) if *n >= 0 && (*n as u64) < len as u64 => Ok(*n as usize),
        Value::Int(n) => Err(format!("{what} index {n} out of range (length {len})")),
        _ => Err(format!("{what} index is not an integer")),
    }
}

fn list_ref<'a>(args: &[Value<'a>]) -> Value<'a> {
    match args {
        [Value::List(l), i] => match index(i, l.len(), "list-ref") {
            Ok(i) => l[i].clone(),
            Err(e) => Value::Unknown(e),
        },
        _ => Value::Unknown("list-ref needs a list and an index".into()),
    }
}

fn list_tail<'a>(args: &[Value<'a>]) -> Value<'a> {
    match args {
        [Value::List(l), i] => match index(i, l.len() + 1, "list-tail") {
            Ok(i) => Value::List(l[i..].to_vec()),
            Err(e) => Value::Unknown(e),
        },
        _ => Value::Unknown("list-tail needs a list and an index".into()),
    }
}

fn string_ref<'a>(args: &[Value<'a>]) -> Value<'a> {
    match args {
        [Value::Str(s), i] => match index(i, s.len(), "string-ref") {
            Ok(i) => Value::Char(s[i]),
            Err(e) => Value::Unknown(format!("{e}: sandbox-exec would refuse the profile")),
        },
        _ => Value::Unknown("string-ref needs a string and an index".into()),
    }
}

fn substring<'a>(args: &[Value<'a>]) -> Value<'a> {
    let (s, start, end) = match args {
        [Value::Str(s), start] => (s, start, None),
        [Value::Str(s), start, end] => (s, start, Some(end)),
        _ => return Value::Unknown("substring needs a string and indices".into()),
    };
    let start = match index(start, s.len() + 1, "substring start") {
        Ok(i) => i,
        Err(e) => return Value::Unknown(e),
    };
    let end = match end.map(|e| index(e, s.len() + 1, "substring end")) {
        None => s.len(),
        Some(Ok(e)) if e >= start => e,
        Some(Ok(_)) => return Value::Unknown("substring end before its start".into()),
        Some(Err(e)) => return Value::Unknown(e),
    };
    Value::Str(s[start..end].to_vec())
}

fn list_to_string<'a>(args: &[Value<'a>]) -> Value<'a> {
    match args {
        [Value::List(items)] => chars_to_string(items),
        _ => Value::Unknown("list->string needs a list".into()),
    }
}

fn chars_to_string<'a>(items: &[Value<'a>]) -> Value<'a> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Char(c) => out.push(*c),
            _ => return Value::Unknown("a string of non-characters".into()),
        }
    }
    Value::Str(out)
}

/// `string-append`, bounded by [`MAX_STRING`].
pub fn string_append<'a>(args: &[Value<'a>]) -> Value<'a> {
    let mut out = Vec::new();
    for a in args {
        match a {
            Value::Str(s) => {
                if out.len() + s.len() > MAX_STRING {
                    return Value::Unknown(format!(
                        "string budget: string-append would build a string over {MAX_STRING} bytes"
                    ));
                }
                out.extend_from_slice(s);
            }
            Value::Unknown(r) => return Value::Unknown(r.clone()),
            Value::Bool(false) => return Value::Unknown(
                "string-append of #f (an undefined param?): sandbox-exec would refuse the profile"
                    .into(),
            ),
            _ => return Value::Unknown("string-append of a non-string".into()),
        }
    }
    Value::Str(out)
}

/// `not` as Scheme has it: only #f is false.
pub fn not<'a>(args: &[Value<'a>]) -> Value<'a> {
    match args.first().map(truth) {
        Some(Some(t)) => Value::Bool(!t),
        _ => Value::Unknown("not of an undecidable value".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value<'static> {
        Value::Str(x.as_bytes().to_vec())
    }

    #[test]
    fn strings_and_characters() {
        assert!(matches!(
            call("string-ref", &[s("/a"), Value::Int(0)]),
            Some(Value::Char(b'/'))
        ));
        assert!(matches!(
            call("substring", &[s("/abc"), Value::Int(1), Value::Int(3)]),
            Some(Value::Str(v)) if v == b"ab"
        ));
        assert!(matches!(
            call("string-ref", &[s(""), Value::Int(0)]),
            Some(Value::Unknown(_))
        ));
    }

    #[test]
    fn cxr_reads_right_to_left() {
        let l = Value::List(vec![Value::List(vec![s("k"), s("v")])]);
        assert!(matches!(call("cadar", &[l]), Some(Value::Str(v)) if v == b"v"));
    }

    #[test]
    fn string_append_is_bounded() {
        let big = Value::Str(vec![b'a'; MAX_STRING]);
        assert!(matches!(
            string_append(&[big.clone(), big]),
            Value::Unknown(r) if r.contains("string budget")
        ));
    }
}
