//! `workload-keychain`: Apple's `security` tool, as scripts and CI jobs
//! store secrets (the workload `keychain_access` exists for):
//! `add-generic-password` of a uniquely named item in the default
//! keychain, `find-generic-password -w` to read it back, then
//! `delete-generic-password`. macOS only: `/usr/bin/security` does not
//! exist elsewhere, which reads as `unsupported`. `security` prints a
//! Security.framework message, not a code: a permission errno's text is
//! `denied`, anything else `error` with its stderr (see [`crate::workload`]).

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::names;
use crate::outcome::{allowed, Failure, Outcome};
use crate::report::Verdict;
use crate::workload::{self, Input};

/// Apple's keychain command-line tool.
pub const SECURITY: &str = "/usr/bin/security";

const ACCOUNT: &str = "beltcheck-probe";
const SECRET: &str = "beltcheck-probe-secret";

pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let service = names::item_name();
    let item = ["-a", ACCOUNT, "-s", service.as_str()];
    let add = [&["add-generic-password"][..], &item, &["-w", SECRET]].concat();
    let added = security(ctx, "add-generic-password", &add)?;
    if !added.status.success() {
        return Err(workload::program_failure("add-generic-password", &added));
    }
    // From here the item exists: delete it however the read goes.
    let cleanup_service = service.clone();
    let cleanup = ctx.cleanup(move || {
        let _ = std::process::Command::new(SECURITY)
            .args(["delete-generic-password", "-a", ACCOUNT, "-s"])
            .arg(&cleanup_service)
            .output();
    });
    let find = [&["find-generic-password"][..], &item, &["-w"]].concat();
    let found = security(ctx, "find-generic-password", &find)?;
    if !found.status.success() {
        return Err(workload::program_failure("find-generic-password", &found));
    }
    if found.stdout.trim_end() != SECRET {
        return Err(Failure::plain(
            Verdict::Error,
            "find-generic-password",
            format!(
                "{service}: read back {:?}, not the stored secret",
                found.stdout.trim_end()
            ),
        ));
    }
    let delete = [&["delete-generic-password"][..], &item].concat();
    let deleted = security(ctx, "delete-generic-password", &delete)?;
    if !deleted.status.success() {
        return Err(workload::program_failure(
            "delete-generic-password",
            &deleted,
        ));
    }
    cleanup.dismiss();
    allowed(
        "delete-generic-password",
        format!(
            "{service}: security add, find -w (secret matched), delete ok in the default keychain"
        ),
    )
}

fn security(ctx: &Ctx, step: &'static str, args: &[&str]) -> Result<workload::Finished, Failure> {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    workload::run(ctx, step, SECURITY, &args, Input::Null)
}
