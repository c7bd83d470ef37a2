//! `beltcheck explain`: decide requests against a profile with the model
//! evaluator and say which rule decided and why.
//!
//! One request from the flags, or many (`--batch FILE`, `-` for stdin):
//! JSON lines in, one JSON answer per line out, the profile compiled once.
//! Besides "allow" and "deny", `decision` may be "unknown" (the model never
//! guesses). Exit 0 whenever the model answered, unknown included; in batch
//! mode exit 2 when a line was not a valid request (its answer line says
//! why). A closed stdout ends the command quietly.

use super::{CliError, CliResult};
use profile::model::{Arg, Decision, Explanation, Model, Request};
use serde::Deserialize;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The SBPL profile to evaluate.
    #[arg(long, value_name = "FILE")]
    profile: PathBuf,

    /// A profile parameter, as sandbox-exec's -D (read by `(param "KEY")`).
    #[arg(short = 'D', value_name = "KEY=VALUE", value_parser = parse_define)]
    define: Vec<(String, String)>,

    /// Where `(import "NAME")` looks after the importing file's directory;
    /// repeatable, searched in order (then, on macOS, the system's
    /// /System/Library/Sandbox/Profiles and /usr/share/sandbox).
    #[arg(long = "import-path", value_name = "DIR")]
    import_path: Vec<PathBuf>,

    /// Decide many requests: JSON lines from FILE (`-` for stdin), each
    /// with the keys of the request flags ({"op": ..., "path": ...}); one
    /// JSON answer per line on stdout.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["op", "argument", "ioctl_command"])]
    batch: Option<PathBuf>,

    #[command(flatten)]
    request: RequestArgs,

    /// Output format (batch mode always writes JSON lines).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// One request: from the flags, or from one line of a batch (same names,
/// as JSON keys).
#[derive(clap::Args, Debug, Deserialize, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[command(group(clap::ArgGroup::new("argument").multiple(false)))]
struct RequestArgs {
    /// The operation to decide, e.g. file-read-data, mach-lookup.
    #[arg(long, value_name = "OPERATION", required_unless_present = "batch")]
    op: Option<String>,

    /// A file path, or an AF_UNIX socket path for network-* operations.
    #[arg(long, value_name = "P", group = "argument")]
    path: Option<String>,

    /// A Mach service name (mach-lookup, mach-register).
    #[arg(long, value_name = "N", group = "argument")]
    global_name: Option<String>,

    /// An IOKit user-client / registry-entry class (iokit-open).
    #[arg(long, value_name = "C", group = "argument")]
    iokit_class: Option<String>,

    /// A POSIX semaphore or shared-memory name (ipc-posix-*).
    #[arg(long, value_name = "N", group = "argument")]
    ipc_name: Option<String>,

    /// A sysctl name (sysctl-read, sysctl-write).
    #[arg(long, value_name = "N", group = "argument")]
    sysctl_name: Option<String>,

    /// The target of a signal: "self" or "others" (an extension of the
    /// contract's filter arguments).
    #[arg(long, value_name = "WHO", group = "argument")]
    target: Option<String>,

    /// A remote address "HOST:PORT" for network-outbound IP requests
    /// (matched by `(remote ip ...)` filters).
    #[arg(long, value_name = "HOST:PORT", group = "argument")]
    remote: Option<String>,

    /// An ioctl command number (decimal or 0x hex) for file-ioctl, matched by
    /// `(ioctl-command N)`; use with --path for the device.
    #[arg(long, value_name = "N", value_parser = parse_ioctl, requires = "path")]
    ioctl_command: Option<u64>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// Longest batch line read (bytes): a request is a few hundred bytes; the
/// bound keeps a stream without newlines from taking unbounded memory.
const MAX_LINE: usize = 1 << 20;

/// `-D KEY=VALUE`: the key must be non-empty; the value may be anything.
fn parse_define(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        Some(_) => Err(format!("-D {s:?}: the KEY before '=' is empty")),
        None => Err(format!("-D {s:?}: expected KEY=VALUE")),
    }
}

pub fn run(args: Args) -> CliResult {
    // Checked before the profile is read, as a usage error.
    let single = match &args.batch {
        Some(_) => None,
        None => Some(request(&args.request).map_err(CliError::usage)?),
    };
    let model = load(&args)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match (single, &args.batch) {
        (Some(req), _) => write_one(&mut out, &model, &req, args.format),
        (None, Some(source)) => return batch(&mut out, &model, source),
        (None, None) => Ok(()),
    };
    finish(written.and_then(|()| out.flush()))
}

/// A write that failed because the reader went away ends the command
/// quietly and successfully; any other failure is reported.
fn finish(written: std::io::Result<()>) -> CliResult {
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(CliError::failed(format!("writing the answer: {e}"))),
    }
}

fn write_one(
    out: &mut impl Write,
    model: &Model,
    req: &Request,
    format: Format,
) -> std::io::Result<()> {
    let explanation = model.decide(req);
    match format {
        Format::Json => writeln!(out, "{}", json(&explanation, model)),
        Format::Text => out.write_all(text(&explanation, model).as_bytes()),
    }
}

fn load(args: &Args) -> Result<Model, CliError> {
    let shown = args.profile.display();
    // Regular files only, as for imports: a device could hang or never end.
    let text = profile::model::read_bounded(&args.profile)
        .map_err(|e| CliError::failed(format!("--profile {e}")))?;
    let opts = profile::model::CompileOptions {
        params: args.define.iter().cloned().collect(),
        file: Some(args.profile.clone()),
        import_paths: args.import_path.clone(),
    };
    Model::compile_with(&text, &opts).map_err(|e| CliError::failed(format!("{shown}:{e}")))
}

/// `--ioctl-command`: decimal, or hex with a 0x prefix (as in <sys/ttycom.h>).
fn parse_ioctl(s: &str) -> Result<u64, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| format!("--ioctl-command {s:?}: expected a number, decimal or 0x hex"))
}

/// The request the flags (or a batch line) describe. Errors name the field.
fn request(r: &RequestArgs) -> Result<Request, String> {
    let op = match r.op.as_deref().map(str::trim) {
        Some(op) if !op.is_empty() => op.to_string(),
        Some(_) => return Err("op: the operation name is empty".into()),
        None => return Err("op: missing".into()),
    };
    let kinds = [
        r.path.as_ref().map(|v| ("path", Arg::Path(v.clone()))),
        r.global_name
            .as_ref()
            .map(|v| ("global-name", Arg::GlobalName(v.clone()))),
        r.iokit_class
            .as_ref()
            .map(|v| ("iokit-class", Arg::IokitClass(v.clone()))),
        r.ipc_name
            .as_ref()
            .map(|v| ("ipc-name", Arg::IpcName(v.clone()))),
        r.sysctl_name
            .as_ref()
            .map(|v| ("sysctl-name", Arg::SysctlName(v.clone()))),
        r.target
            .as_ref()
            .map(|v| ("target", Arg::Target(v.clone()))),
        r.remote
            .as_ref()
            .map(|v| ("remote", Arg::Remote(v.clone()))),
    ];
    let given: Vec<(&str, Arg)> = kinds.into_iter().flatten().collect();
    if given.len() > 1 {
        let names: Vec<&str> = given.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "{}: a request carries at most one argument",
            names.join(", ")
        ));
    }
    let arg = given.into_iter().next().map(|(_, a)| a);
    let arg = match (arg, r.ioctl_command) {
        (Some(Arg::Path(path)), Some(command)) => Some(Arg::Ioctl { path, command }),
        (_, Some(_)) => return Err("ioctl-command: needs a path (the device)".into()),
        (arg, None) => arg,
    };
    Ok(Request { op, arg })
}

/// Answers every request line of `source`; a bad line gets an `error`
/// answer naming the line and the field, and makes the exit status 2.
fn batch(out: &mut impl Write, model: &Model, source: &Path) -> CliResult {
    let input: Box<dyn BufRead> = if source == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(source).map_err(|e| {
            CliError::usage(format!("--batch {}: cannot open: {e}", source.display()))
        })?;
        Box::new(std::io::BufReader::new(file))
    };
    let mut bad = 0usize;
    let written = answer_lines(input, out, model, &mut bad, source);
    let code = finish(written.and_then(|()| out.flush()))?;
    match bad {
        0 => Ok(code),
        n => Err(CliError::usage(format!(
            "--batch {}: {n} line(s) were not valid requests (their answers say why)",
            source.display()
        ))),
    }
}

fn answer_lines(
    mut input: impl BufRead,
    out: &mut impl Write,
    model: &Model,
    bad: &mut usize,
    source: &Path,
) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let mut limited = std::io::Read::take(&mut input, MAX_LINE as u64 + 1);
        let n = limited.read_until(b'\n', &mut line).map_err(|e| {
            std::io::Error::new(e.kind(), format!("--batch {}: {e}", source.display()))
        })?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        if line.len() > MAX_LINE {
            *bad += 1;
            let msg = format!("line {number}: longer than {MAX_LINE} bytes");
            writeln!(out, "{}", serde_json::json!({ "error": msg }))?;
            // Skip the rest of the over-long line.
            skip_line(&mut input)?;
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<RequestArgs>(&text)
            .map_err(|e| e.to_string())
            .and_then(|r| request(&r));
        match parsed {
            Ok(req) => writeln!(
                out,
                "{}",
                serde_json::Value::Object(answer(&model.decide(&req)))
            )?,
            Err(e) => {
                *bad += 1;
                let msg = format!("line {number}: {e}");
                writeln!(out, "{}", serde_json::json!({ "error": msg }))?;
            }
        }
    }
}

fn skip_line(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

/// The per-request keys: decision, deciding rule (file, line, text), reason.
fn answer(e: &Explanation) -> serde_json::Map<String, serde_json::Value> {
    let rule = match &e.rule {
        Some(r) => serde_json::json!({"file": r.file, "line": r.line, "text": r.text}),
        None => serde_json::Value::Null,
    };
    let mut map = serde_json::Map::new();
    map.insert(
        "decision".into(),
        serde_json::Value::String(e.decision.to_string()),
    );
    map.insert("rule".into(), rule);
    map.insert("reason".into(), serde_json::Value::String(e.reason.clone()));
    map
}

/// One answer with the profile's evidence: what was not evaluated and
/// which imports were followed.
fn json(e: &Explanation, model: &Model) -> String {
    let mut map = answer(e);
    let not_evaluated: Vec<serde_json::Value> = model
        .not_evaluated()
        .iter()
        .map(|n| serde_json::json!({"file": n.file, "line": n.line, "form": n.form, "why": n.why}))
        .collect();
    map.insert("not_evaluated".into(), not_evaluated.into());
    let imports: Vec<serde_json::Value> = model
        .imports()
        .iter()
        .map(|i| serde_json::json!({"name": i.name, "path": i.path}))
        .collect();
    map.insert("imports".into(), imports.into());
    serde_json::Value::Object(map).to_string()
}

fn text(e: &Explanation, model: &Model) -> String {
    let mut out = format!("decision: {}\n", e.decision);
    match &e.rule {
        Some(r) => out.push_str(&format!("rule: {}:{}: {}\n", r.file, r.line, r.text)),
        None if e.decision == Decision::Unknown => out.push_str("rule: none\n"),
        None => out.push_str("rule: none (a default or fallback decided)\n"),
    }
    out.push_str(&format!("reason: {}\n", e.reason));
    for i in model.imports() {
        out.push_str(&format!("import: {} -> {}\n", i.name, i.path));
    }
    for n in model.not_evaluated() {
        out.push_str(&format!(
            "not evaluated: {}:{}: {}: {}\n",
            n.file, n.line, n.form, n.why
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defines_split_at_the_first_equals() {
        assert_eq!(parse_define("K=a=b"), Ok(("K".into(), "a=b".into())));
        assert_eq!(parse_define("K="), Ok(("K".into(), String::new())));
        assert!(parse_define("K").unwrap_err().contains("KEY=VALUE"));
        assert!(parse_define("=v").is_err());
    }

    #[test]
    fn batch_requests_name_the_bad_field() {
        let r: RequestArgs =
            serde_json::from_str(r#"{"op":"x","path":"/a","remote":"h:1"}"#).unwrap();
        assert!(request(&r).unwrap_err().contains("path, remote"));
        let e = serde_json::from_str::<RequestArgs>(r#"{"op":"x","pth":"/a"}"#).unwrap_err();
        assert!(e.to_string().contains("pth"), "{e}");
        let r: RequestArgs =
            serde_json::from_str(r#"{"op":"file-ioctl","ioctl-command":5}"#).unwrap();
        assert!(request(&r).unwrap_err().contains("ioctl-command"));
    }
}
