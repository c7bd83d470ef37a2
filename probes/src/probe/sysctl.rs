//! `sysctl --name N`: read one sysctl (macOS sysctlbyname; Linux /proc/sys).

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{allowed, Outcome};

/// Longest value excerpt quoted in the detail.
const EXCERPT: usize = 120;

pub fn run(args: &ProbeArgs, ctx: &Ctx) -> Outcome {
    let name = args.name.as_deref().unwrap_or_default();
    ctx.step("read");
    let value = read(name)?;
    allowed("read", format!("{name} = {}", excerpt(&value)))
}

fn excerpt(value: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(value)
        .trim_end_matches(['\0', '\n'])
        .chars()
        .take(EXCERPT)
        .collect();
    if text.chars().all(|c| !c.is_control() || c == '\t') {
        text
    } else {
        format!("{} bytes", value.len())
    }
}

#[cfg(target_os = "linux")]
fn read(name: &str) -> Result<Vec<u8>, crate::outcome::Failure> {
    use crate::classify::{failure, RawCode};
    // Dots become slashes; anything that could walk out of /proc/sys is a
    // bad argument rather than a path.
    if name.is_empty() || name.contains('/') || name.split('.').any(|p| p.is_empty() || p == "..") {
        return Err(failure(
            "parse-name",
            RawCode::Errno(libc::EINVAL),
            &format!("bad sysctl name {name:?}"),
        ));
    }
    let path = format!("/proc/sys/{}", linux_name(name).replace('.', "/"));
    std::fs::read(&path).map_err(|e| crate::sys::io_failure("read", &e, &path))
}

/// The matrix names sysctls the macOS way (`kern.ostype`: the model decides
/// `sysctl-name` filters on those names); Linux keeps the BSD `kern` subtree
/// under `kernel`, so that one prefix is translated and every other name is
/// read as given.
#[cfg(target_os = "linux")]
fn linux_name(name: &str) -> std::borrow::Cow<'_, str> {
    match name.strip_prefix("kern.") {
        Some(rest) => format!("kernel.{rest}").into(),
        None => name.into(),
    }
}

#[cfg(target_os = "macos")]
fn read(name: &str) -> Result<Vec<u8>, crate::outcome::Failure> {
    let cname = crate::sys::c_string("read", name.as_ref())?;
    let mut len: libc::size_t = 0;
    // SAFETY: size query with a null buffer.
    crate::sys::check("read", unsafe {
        libc::sysctlbyname(
            cname.as_ptr(),
            std::ptr::null_mut(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    })?;
    let mut buf = vec![0u8; len];
    // SAFETY: buf holds len bytes.
    crate::sys::check("read", unsafe {
        libc::sysctlbyname(
            cname.as_ptr(),
            buf.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    })?;
    buf.truncate(len);
    Ok(buf)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn read(_: &str) -> Result<Vec<u8>, crate::outcome::Failure> {
    Err(crate::outcome::Failure::plain(
        crate::report::Verdict::Unsupported,
        "read",
        "no sysctl reader for this OS",
    ))
}
