//! `mach-lookup --name N`: bootstrap_look_up of a global mach service name.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::Outcome;

#[cfg(target_os = "macos")]
pub fn run(args: &ProbeArgs, ctx: &Ctx) -> Outcome {
    use crate::classify::{failure, RawCode};
    use crate::outcome::allowed;

    // <servers/bootstrap.h>; not in libc, declared here.
    extern "C" {
        static bootstrap_port: libc::mach_port_t;
        fn bootstrap_look_up(
            bp: libc::mach_port_t,
            service_name: *const libc::c_char,
            sp: *mut libc::mach_port_t,
        ) -> libc::kern_return_t;
    }

    let name = args.name.as_deref().unwrap_or_default();
    let cname = crate::sys::c_string("bootstrap_look_up", name.as_ref())?;
    ctx.step("bootstrap_look_up");
    let mut port: libc::mach_port_t = 0;
    // SAFETY: valid C string and out pointer; bootstrap_port is set by libSystem.
    let kr = unsafe { bootstrap_look_up(bootstrap_port, cname.as_ptr(), &mut port) };
    if kr != 0 {
        return Err(failure("bootstrap_look_up", RawCode::Bootstrap(kr), name));
    }
    crate::mach::deallocate(port);
    allowed("bootstrap_look_up", format!("{name}: got a send right"))
}

#[cfg(not(target_os = "macos"))]
pub fn run(_: &ProbeArgs, _: &Ctx) -> Outcome {
    Err(crate::outcome::Failure::plain(
        crate::report::Verdict::Unsupported,
        "bootstrap_look_up",
        "mach services exist only on macOS",
    ))
}
