//! `nofile`: the RLIMIT_NOFILE seen inside, and whether it really holds:
//! take descriptors until EMFILE and check the table was full at exactly the
//! soft limit.
//!
//! Filling 20,000 slots one `dup` at a time costs two syscalls per slot
//! (take and close), and the syscall entry is most of that price. On Linux
//! the slots are taken in batches instead: one `recvmsg` installs up to 253
//! descriptors passed with SCM_RIGHTS, and `close_range` gives back each run
//! of consecutive slots at once. Both still allocate every slot under the
//! same RLIMIT_NOFILE check as `open`, so what is proven does not change;
//! the final EMFILE comes from a plain `dup`.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{allowed, Failure, Outcome};
use crate::report::Verdict;
use crate::sys::{check, errno, owned_fd};
use std::os::fd::{AsRawFd, OwnedFd};

/// Refuse to exhaust absurd limits (RLIM_INFINITY, millions): the probe
/// would take seconds and the kernel's own cap decides instead.
const MAX_EXHAUST: u64 = 1 << 20;

/// What the copies are copies of. Only the slot matters; on Linux an O_PATH
/// descriptor is the cheapest to close (no flush or lock bookkeeping), which
/// is a fifth of the close cost at 20,000 copies.
#[cfg(target_os = "linux")]
const BASE_FLAGS: libc::c_int = libc::O_PATH;
#[cfg(not(target_os = "linux"))]
const BASE_FLAGS: libc::c_int = libc::O_RDONLY;

pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    ctx.step("getrlimit");
    let (soft, hard) = nofile_limits()?;
    let limits = format!("soft={} hard={}", show(soft), show(hard));
    if soft > MAX_EXHAUST {
        return Err(Failure::plain(
            Verdict::Error,
            "getrlimit",
            format!("{limits}; soft limit above {MAX_EXHAUST}, not exhausted"),
        ));
    }
    ctx.step("open-base");
    let base = open_base()?;
    ctx.step("exhaust");
    let mut taken = fill::fill(base.as_raw_fd(), soft)?;
    taken.fds.sort_unstable();
    ctx.step("census");
    let census = Census::take(&taken.fds, soft);
    let stats = format!(
        "{limits} opened={} highest_fd={} in_use_before={}",
        taken.fds.len(),
        census.highest.map_or("none".to_string(), |h| h.to_string()),
        census.others_open
    );
    fill::release(taken.fds);
    verdict(taken.stop, soft, &census, stats)
}

/// The slots below the soft limit once the fill stopped: the ones the probe
/// did not take are either inherited (open) or free. A free one means the
/// EMFILE came before the limit.
struct Census {
    others_open: u64,
    free: u64,
    first_free: Option<u64>,
    highest: Option<u64>,
}

impl Census {
    /// `taken` must be sorted. Costs one `F_GETFD` per slot not taken, so a
    /// handful of syscalls, not one per slot.
    fn take(taken: &[libc::c_int], soft: u64) -> Census {
        let mut census = Census {
            others_open: 0,
            free: 0,
            first_free: None,
            highest: taken.last().map(|&fd| fd as u64),
        };
        let mut mine = taken.iter().map(|&fd| fd as u64).peekable();
        for slot in 0..soft {
            if mine.next_if_eq(&slot).is_some() {
                continue;
            }
            // SAFETY: F_GETFD only reads the descriptor flags.
            let open = unsafe { libc::fcntl(slot as libc::c_int, libc::F_GETFD) } >= 0;
            if open {
                census.others_open += 1;
                census.highest = census.highest.max(Some(slot));
            } else {
                census.free += 1;
                census.first_free.get_or_insert(slot);
            }
        }
        census
    }
}

/// The descriptor every taken slot is a copy of.
fn open_base() -> Result<OwnedFd, Failure> {
    // SAFETY: open(2) of a valid C string literal creates a new descriptor.
    unsafe {
        owned_fd(
            "open-base",
            libc::open(c"/dev/null".as_ptr(), BASE_FLAGS | libc::O_CLOEXEC),
        )
    }
}

/// Judge the fill: it must have stopped with EMFILE with every slot below
/// `soft` in use, the top one at `soft - 1`.
fn verdict(stop: Stop, soft: u64, census: &Census, stats: String) -> Outcome {
    match stop {
        Stop::PastLimit => Err(Failure::plain(
            Verdict::Error,
            "exhaust",
            format!("{stats}; opened more than the soft limit without EMFILE"),
        )),
        Stop::Errno(e) if e != libc::EMFILE => Err(crate::classify::failure(
            "exhaust",
            crate::classify::RawCode::Errno(e),
            &stats,
        )),
        Stop::Errno(_) if census.free > 0 || census.highest.map(|h| h + 1) != Some(soft) => {
            Err(Failure {
                verdict: Verdict::Error,
                code: Some(i64::from(libc::EMFILE)),
                step: "exhaust",
                detail: format!(
                    "{stats}; EMFILE before the soft limit with {} free slots below it (first {})",
                    census.free,
                    census
                        .first_free
                        .map_or("none".to_string(), |f| f.to_string())
                ),
            })
        }
        Stop::Errno(_) => allowed("exhaust", format!("{stats} emfile_at={soft}")),
    }
}

fn nofile_limits() -> Result<(u64, u64), Failure> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: writes one rlimit.
    check("getrlimit", unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim)
    })?;
    Ok((lim.rlim_cur, lim.rlim_max))
}

/// Why taking descriptors stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// A plain `dup` failed with this errno once the batches ran out.
    Errno(i32),
    /// More than `soft` descriptors were taken: the limit does not hold.
    PastLimit,
}

/// Descriptors taken by a fill, and why it stopped.
struct Taken {
    fds: Vec<libc::c_int>,
    stop: Stop,
}

/// Grows the fd table to the soft limit in one step, before the worker
/// thread exists. Once a second thread shares the table, every growth waits
/// for an RCU grace period (measured 10-14 ms here), and exhausting 20,000
/// fds by doubling cost over 100 ms; growing it while single-threaded is
/// free of that wait. Failure is harmless: the fill measures, this only
/// makes it cheap.
pub fn prepare() {
    let Ok((soft, _)) = nofile_limits() else {
        return;
    };
    let Ok(top) = libc::c_int::try_from(soft.saturating_sub(1)) else {
        return;
    };
    if soft > MAX_EXHAUST {
        return;
    }
    let Ok(base) = open_base() else {
        return;
    };
    // SAFETY: F_DUPFD_CLOEXEC of a valid fd creates a new descriptor (the
    // lowest free slot >= top), closed at once.
    drop(unsafe {
        owned_fd(
            "grow",
            libc::fcntl(base.as_raw_fd(), libc::F_DUPFD_CLOEXEC, top),
        )
    });
}

/// `dup` to the lowest free slot: at EMFILE every slot below the limit is
/// taken, so the highest fd handed out is limit - 1.
fn dup_lowest(base: libc::c_int) -> Result<libc::c_int, i32> {
    // SAFETY: duplicating a valid fd.
    let fd = unsafe { libc::fcntl(base, libc::F_DUPFD_CLOEXEC, 0) };
    if fd < 0 {
        Err(errno())
    } else {
        Ok(fd)
    }
}

/// Take single slots with `dup` until it fails or `soft` is passed.
fn take_singly(base: libc::c_int, soft: u64, fds: &mut Vec<libc::c_int>) -> Stop {
    loop {
        match dup_lowest(base) {
            Err(e) => return Stop::Errno(e),
            Ok(fd) => fds.push(fd),
        }
        if fds.len() as u64 > soft {
            return Stop::PastLimit;
        }
    }
}

#[cfg(target_os = "linux")]
mod fill {
    //! Batched fill: SCM_RIGHTS over a private socketpair, `close_range`.

    use std::os::fd::{AsRawFd, OwnedFd};

    use nix::sys::socket::{
        sendmsg, socketpair, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType,
    };

    use super::{take_singly, Taken};
    use crate::outcome::Failure;
    use crate::sys::{errno, io_failure, last_failure};

    /// The most descriptors Linux passes in one message (SCM_MAX_FD).
    const BATCH: usize = 253;

    pub(super) fn fill(base: libc::c_int, soft: u64) -> Result<Taken, Failure> {
        let mut fds = Vec::with_capacity(usize::try_from(soft).unwrap_or(0));
        let pair = socketpair(
            AddressFamily::Unix,
            SockType::Datagram,
            None,
            SockFlag::SOCK_CLOEXEC,
        );
        let (tx, rx) = match pair {
            Ok(pair) => pair,
            // Not even two slots left: single dups finish the job.
            Err(nix::errno::Errno::EMFILE) => {
                let stop = take_singly(base, soft, &mut fds);
                return Ok(Taken { fds, stop });
            }
            Err(e) => return Err(io_failure("exhaust", &e.into(), "socketpair")),
        };
        let batch = [base; BATCH];
        // Slots go lowest first, so once `top` is handed out every slot
        // below it is taken and `soft - 1 - top` are left: batches are
        // sized to fill exactly that, never more.
        let mut top = base.max(tx.as_raw_fd()).max(rx.as_raw_fd());
        loop {
            let left = usize::try_from(soft.saturating_sub(1 + top as u64)).unwrap_or(BATCH);
            if left == 0 {
                break;
            }
            let want = &batch[..left.min(BATCH)];
            let got = receive_batch(&tx, &rx, want, &mut fds)?;
            if got < want.len() {
                // Fewer slots than the limit promised; the dups below say why.
                break;
            }
            top = fds.last().copied().unwrap_or(top).max(top);
        }
        drop((tx, rx));
        let stop = take_singly(base, soft, &mut fds);
        Ok(Taken { fds, stop })
    }

    /// Send `batch` to ourselves and receive it: each received descriptor is
    /// a newly allocated slot, appended to `fds`. Returns how many arrived
    /// (fewer than sent when the table filled up on the way).
    fn receive_batch(
        tx: &OwnedFd,
        rx: &OwnedFd,
        batch: &[libc::c_int],
        fds: &mut Vec<libc::c_int>,
    ) -> Result<usize, Failure> {
        let byte = [0u8; 1];
        sendmsg::<()>(
            tx.as_raw_fd(),
            &[std::io::IoSlice::new(&byte)],
            &[ControlMessage::ScmRights(batch)],
            MsgFlags::empty(),
            None,
        )
        .map_err(|e| io_failure("exhaust", &e.into(), "sendmsg SCM_RIGHTS"))?;
        // Parsed by hand: on a truncated message the kernel still reports
        // the descriptors it did install, which a strict parser discards.
        let mut data = [0u8; 1];
        let mut iov = libc::iovec {
            iov_base: data.as_mut_ptr().cast(),
            iov_len: 1,
        };
        let mut control = [0u64; (BATCH * 4 + 64) / 8];
        // SAFETY: zeroed msghdr is a valid empty header; fields set below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control);
        // SAFETY: msg points at live buffers of the stated sizes.
        let rc = unsafe { libc::recvmsg(rx.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if rc < 0 {
            return if errno() == libc::EMFILE {
                Ok(0)
            } else {
                Err(last_failure("exhaust", "recvmsg SCM_RIGHTS"))
            };
        }
        let before = fds.len();
        // SAFETY: walking the control buffer the kernel just filled, with
        // the libc macros that bound every header by msg_controllen.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                    let bytes = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                    let first = libc::CMSG_DATA(cmsg).cast::<libc::c_int>();
                    for i in 0..bytes / std::mem::size_of::<libc::c_int>() {
                        fds.push(first.add(i).read_unaligned());
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        Ok(fds.len() - before)
    }

    /// Close every fd in `fds` (sorted), one `close_range` per run of consecutive
    /// numbers (they are nearly all one run: the fill takes lowest slots).
    pub(super) fn release(fds: Vec<libc::c_int>) {
        debug_assert!(fds.is_sorted());
        for run in fds.chunk_by(|a, b| b - a == 1) {
            let (first, last) = (run[0], run[run.len() - 1]);
            // SAFETY: every fd in the run was taken by this probe and is
            // closed exactly once here.
            let rc = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
            if rc != 0 {
                // Kernels before 5.9: close one by one.
                for fd in run {
                    // SAFETY: as above.
                    unsafe { libc::close(*fd) };
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod fill {
    //! Plain fill: one `dup` per slot.

    use super::{take_singly, Taken};
    use crate::outcome::Failure;

    pub(super) fn fill(base: libc::c_int, soft: u64) -> Result<Taken, Failure> {
        let mut fds = Vec::with_capacity(usize::try_from(soft).unwrap_or(0));
        let stop = take_singly(base, soft, &mut fds);
        Ok(Taken { fds, stop })
    }

    pub(super) fn release(fds: Vec<libc::c_int>) {
        for fd in fds {
            // SAFETY: every fd was taken by this probe and is closed once.
            unsafe { libc::close(fd) };
        }
    }
}

fn show(v: u64) -> String {
    if v == libc::RLIM_INFINITY {
        "unlimited".to_string()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::FromRawFd;

    fn census(free: u64, highest: Option<u64>) -> Census {
        Census {
            others_open: 4,
            free,
            first_free: (free > 0).then_some(9),
            highest,
        }
    }

    /// The verdict on a fill that stopped with EMFILE at soft limit 64.
    fn emfile_at_64(free: u64, highest: u64) -> Outcome {
        verdict(
            Stop::Errno(libc::EMFILE),
            64,
            &census(free, Some(highest)),
            "s".into(),
        )
    }

    #[test]
    fn a_full_table_at_the_limit_is_allowed() {
        assert_eq!(emfile_at_64(0, 63).unwrap().detail, "s emfile_at=64");
    }

    #[test]
    fn emfile_with_a_free_slot_below_the_limit_is_an_error() {
        let e = emfile_at_64(1, 63).unwrap_err();
        assert_eq!(e.verdict, Verdict::Error);
        assert!(
            e.detail.contains("1 free slots below it (first 9)"),
            "{}",
            e.detail
        );
    }

    #[test]
    fn emfile_short_of_the_top_slot_is_an_error() {
        let e = emfile_at_64(0, 40).unwrap_err();
        assert!(
            e.detail.contains("EMFILE before the soft limit"),
            "{}",
            e.detail
        );
    }

    #[test]
    fn passing_the_limit_is_an_error() {
        let e = verdict(Stop::PastLimit, 64, &census(0, Some(63)), "s".into()).unwrap_err();
        assert!(e.detail.contains("without EMFILE"), "{}", e.detail);
    }

    #[test]
    fn census_counts_inherited_and_free_slots() {
        // A descriptor parked high up is "inherited"; the slot above it is
        // free; what lies between depends on the test process.
        // SAFETY: duplicating stderr to a chosen slot, closed below.
        let parked = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 5000) };
        assert!(parked >= 5000);
        // SAFETY: the fcntl above created this descriptor; it is ours.
        let parked = unsafe { OwnedFd::from_raw_fd(parked) };
        let soft = parked.as_raw_fd() as u64 + 2;
        let c = Census::take(&[], soft);
        assert_eq!(c.highest, Some(parked.as_raw_fd() as u64));
        assert_eq!(c.others_open + c.free, soft);
        assert!(c.free >= 1 && c.first_free.is_some());
        // Slots the probe took itself are not looked at.
        let mine: Vec<libc::c_int> = (0..soft as libc::c_int).collect();
        let all_mine = Census::take(&mine, soft);
        assert_eq!((all_mine.others_open, all_mine.free), (0, 0));
    }
}
