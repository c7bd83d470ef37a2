//! `nofile`: the RLIMIT_NOFILE seen inside, and whether it really holds:
//! open descriptors until EMFILE and check the table was full at exactly the
//! soft limit.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{allowed, Failure, Outcome};
use crate::report::Verdict;
use crate::sys::{check, errno, Fd};

/// Refuse to exhaust absurd limits (RLIM_INFINITY, millions): the probe
/// would take seconds and the kernel's own cap decides instead.
const MAX_EXHAUST: u64 = 1 << 20;

pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    ctx.step("getrlimit");
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: writes one rlimit.
    check("getrlimit", unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim)
    })?;
    let (soft, hard): (u64, u64) = (lim.rlim_cur, lim.rlim_max);
    let limits = format!("soft={} hard={}", show(soft), show(hard));
    if soft > MAX_EXHAUST {
        return Err(Failure::plain(
            Verdict::Error,
            "getrlimit",
            format!("{limits}; soft limit above {MAX_EXHAUST}, not exhausted"),
        ));
    }
    ctx.step("open-base");
    // SAFETY: valid C string literal.
    let base = Fd(check("open-base", unsafe {
        libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC)
    })?);
    ctx.step("presize");
    presize_fd_table(base.0, soft);
    ctx.step("exhaust");
    let mut opened: Vec<Fd> = Vec::with_capacity(soft as usize);
    let emfile_errno = loop {
        // dup returns the lowest free slot, so at EMFILE every slot below
        // the limit is taken and the highest fd is limit - 1.
        // SAFETY: duplicating a valid fd.
        let fd = unsafe { libc::fcntl(base.0, libc::F_DUPFD_CLOEXEC, 0) };
        if fd < 0 {
            break errno();
        }
        opened.push(Fd(fd));
        if opened.len() as u64 > soft {
            break 0;
        }
    };
    let highest = opened.iter().map(|f| f.0).max().unwrap_or(base.0) as u64;
    let stats = format!(
        "{limits} opened={} highest_fd={highest} in_use_before={}",
        opened.len(),
        (highest + 1).saturating_sub(opened.len() as u64)
    );
    drop(opened);
    if emfile_errno == 0 {
        return Err(Failure::plain(
            Verdict::Error,
            "exhaust",
            format!("{stats}; opened more than the soft limit without EMFILE"),
        ));
    }
    if emfile_errno != libc::EMFILE {
        return Err(crate::classify::failure(
            "exhaust",
            crate::classify::RawCode::Errno(emfile_errno),
            &stats,
        ));
    }
    if highest + 1 != soft {
        return Err(Failure {
            verdict: Verdict::Error,
            code: Some(i64::from(libc::EMFILE)),
            step: "exhaust",
            detail: format!("{stats}; EMFILE before the soft limit"),
        });
    }
    allowed("exhaust", format!("{stats} emfile_at={soft}"))
}

/// Grows the fd table to the soft limit in one step. The probe runs on a
/// worker thread, and a multithreaded process's table grows by doubling
/// with an RCU grace period each time (about 10 ms): exhausting 20,000 fds
/// cost over 100 ms that way, against a few ms after one jump to the top.
/// Failure is harmless: the exhaust loop below is what measures.
fn presize_fd_table(base: libc::c_int, soft: u64) {
    let Ok(top) = libc::c_int::try_from(soft.saturating_sub(1)) else {
        return;
    };
    // SAFETY: duplicating a valid fd to the lowest free slot >= top.
    let fd = unsafe { libc::fcntl(base, libc::F_DUPFD_CLOEXEC, top) };
    if fd >= 0 {
        drop(Fd(fd));
    }
}

fn show(v: u64) -> String {
    if v == libc::RLIM_INFINITY {
        "unlimited".to_string()
    } else {
        v.to_string()
    }
}
