//! `beltcheck explain`: decide one request against a profile with the model
//! evaluator and say which rule decided and why.
//!
//! JSON output is the contract's `{"decision", "rule", "reason"}`; besides
//! "allow" and "deny", `decision` may be "unknown" (an extension: the model
//! never guesses). Exit 0 whenever the model answered, unknown included.

use super::{CliError, CliResult};
use profile::input;
use profile::model::{Arg, Decision, Explanation, Model, Request};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("argument").multiple(false)))]
pub struct Args {
    /// The SBPL profile to evaluate.
    #[arg(long, value_name = "FILE")]
    profile: PathBuf,

    /// A profile parameter, as sandbox-exec's -D (read by `(param "KEY")`).
    #[arg(short = 'D', value_name = "KEY=VALUE", value_parser = parse_define)]
    define: Vec<(String, String)>,

    /// The operation to decide, e.g. file-read-data, mach-lookup.
    #[arg(long, value_name = "OPERATION")]
    op: String,

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

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// `-D KEY=VALUE`: the key must be non-empty; the value may be anything.
fn parse_define(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        Some(_) => Err(format!("-D {s:?}: the KEY before '=' is empty")),
        None => Err(format!("-D {s:?}: expected KEY=VALUE")),
    }
}

pub fn run(args: Args) -> CliResult {
    if args.op.trim().is_empty() {
        return Err(CliError::usage("--op: the operation name is empty"));
    }
    let model = load(&args)?;
    let request = Request {
        op: args.op.clone(),
        arg: argument(&args),
    };
    let explanation = model.decide(&request);
    match args.format {
        Format::Json => println!("{}", json(&explanation)),
        Format::Text => print!("{}", text(&explanation, model.skipped_forms())),
    }
    Ok(ExitCode::SUCCESS)
}

fn load(args: &Args) -> Result<Model, CliError> {
    let shown = args.profile.display();
    let text = input::read_text(&args.profile, input::MAX_SBPL).map_err(|e| match e {
        input::ReadError::NotUtf8 { .. } => CliError::failed(format!(
            "--profile {shown}: {e}; sandbox-exec refuses non-ASCII profiles anyway"
        )),
        e => CliError::failed(format!("--profile {shown}: {e}")),
    })?;
    let params: BTreeMap<String, String> = args.define.iter().cloned().collect();
    Model::compile(&text, &params).map_err(|e| CliError::failed(format!("{shown}:{e}")))
}

/// `--ioctl-command`: decimal, or hex with a 0x prefix (as in <sys/ttycom.h>).
fn parse_ioctl(s: &str) -> Result<u64, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| format!("--ioctl-command {s:?}: expected a number, decimal or 0x hex"))
}

fn argument(args: &Args) -> Option<Arg> {
    if let (Some(path), Some(command)) = (&args.path, args.ioctl_command) {
        return Some(Arg::Ioctl {
            path: path.clone(),
            command,
        });
    }
    let a = args.path.clone().map(Arg::Path);
    a.or_else(|| args.global_name.clone().map(Arg::GlobalName))
        .or_else(|| args.iokit_class.clone().map(Arg::IokitClass))
        .or_else(|| args.ipc_name.clone().map(Arg::IpcName))
        .or_else(|| args.sysctl_name.clone().map(Arg::SysctlName))
        .or_else(|| args.target.clone().map(Arg::Target))
        .or_else(|| args.remote.clone().map(Arg::Remote))
}

/// Exactly the contract's keys, in the contract's order.
fn json(e: &Explanation) -> String {
    let rule = match &e.rule {
        Some(r) => serde_json::json!({"line": r.line, "text": r.text}),
        None => serde_json::Value::Null,
    };
    let mut map = serde_json::Map::new();
    map.insert(
        "decision".into(),
        serde_json::Value::String(e.decision.to_string()),
    );
    map.insert("rule".into(), rule);
    map.insert("reason".into(), serde_json::Value::String(e.reason.clone()));
    serde_json::Value::Object(map).to_string()
}

fn text(e: &Explanation, skipped: &[String]) -> String {
    let mut out = format!("decision: {}\n", e.decision);
    match &e.rule {
        Some(r) => out.push_str(&format!("rule: line {}: {}\n", r.line, r.text)),
        None if e.decision == Decision::Unknown => out.push_str("rule: none\n"),
        None => out.push_str("rule: none (a default or fallback decided)\n"),
    }
    out.push_str(&format!("reason: {}\n", e.reason));
    for s in skipped {
        out.push_str(&format!("not evaluated: {s}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_define;

    #[test]
    fn defines_split_at_the_first_equals() {
        assert_eq!(parse_define("K=a=b"), Ok(("K".into(), "a=b".into())));
        assert_eq!(parse_define("K="), Ok(("K".into(), String::new())));
        assert!(parse_define("K").unwrap_err().contains("KEY=VALUE"));
        assert!(parse_define("=v").is_err());
    }
}
