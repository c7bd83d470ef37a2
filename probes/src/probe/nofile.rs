//! `nofile`: the RLIMIT_NOFILE seen inside, and whether it really holds.
//!
//! Two proofs. The kernel's own boundary check: `F_DUPFD` at `soft - 1`
//! must hand out exactly that slot, and `F_DUPFD` at `soft` must be refused
//! (`EINVAL` on Linux and macOS: the minimum is at or above the limit;
//! `EMFILE` accepted too). And a real fill of the lowest
//! min(soft, [`FILL_MAX`]) slots with `dup`, every one of them usable (4,096
//! is well above macOS's default soft limit of 256, so there the whole
//! table fills and the last `dup` must fail with EMFILE exactly at the
//! limit). Filling 20,000 slots cost ~10 ms; the boundary check costs two
//! syscalls whatever the limit.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::{allowed, Failure, Outcome};
use crate::report::Verdict;
use crate::sys::{check, errno, owned_fd};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Refuse absurd limits (RLIM_INFINITY, millions): the fd table the
/// boundary check grows would take that much memory.
const MAX_CHECKED: u64 = 1 << 20;

/// The most slots the fill takes. Above it, the boundary check alone
/// proves where the limit sits.
pub const FILL_MAX: u64 = 4096;

pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    ctx.step("getrlimit");
    let (soft, hard) = nofile_limits()?;
    let limits = format!("soft={} hard={}", show(soft), show(hard));
    if soft == 0 || soft > MAX_CHECKED {
        return Err(Failure::plain(
            Verdict::Error,
            "getrlimit",
            format!("{limits}; soft limit outside 1..={MAX_CHECKED}, not checked"),
        ));
    }
    ctx.step("open-base");
    let base = open_base()?;
    ctx.step("boundary");
    let boundary = Boundary::probe(base.as_raw_fd(), soft);
    ctx.step("fill");
    let goal = soft.min(FILL_MAX);
    let mut taken = fill(base.as_raw_fd(), soft, goal)?;
    taken.fds.sort_unstable();
    ctx.step("census");
    let census = Census::take(&taken.fds, goal);
    let stats = format!(
        "{limits} {} filled={goal} opened={} highest_fd={} in_use_before={}",
        boundary.describe(soft),
        taken.fds.len(),
        census.highest.map_or("none".to_string(), |h| h.to_string()),
        census.others_open
    );
    release(taken.fds);
    verdict(&boundary, taken.stop, soft, goal, &census, stats)
}

/// What `F_DUPFD` said at the two slots either side of the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Boundary {
    /// At `soft - 1`: the slot handed out (or already in use), or the errno.
    below: Result<Below, i32>,
    /// At `soft`: the slot wrongly handed out, or the errno of the refusal.
    at: Result<libc::c_int, i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Below {
    /// `F_DUPFD` returned this slot (it must be `soft - 1`).
    Handed(libc::c_int),
    /// The slot was already open (inherited): it is usable by definition.
    InUse,
}

impl Boundary {
    fn probe(base: libc::c_int, soft: u64) -> Boundary {
        let top = (soft - 1) as libc::c_int;
        // SAFETY: F_GETFD only reads the descriptor flags.
        let below = if unsafe { libc::fcntl(top, libc::F_GETFD) } >= 0 {
            Ok(Below::InUse)
        } else {
            dup_at(base, top).map(Below::Handed)
        };
        let at = libc::c_int::try_from(soft).map_or(Err(libc::EINVAL), |s| dup_at(base, s));
        Boundary { below, at }
    }

    fn describe(&self, soft: u64) -> String {
        let below = match self.below {
            Ok(Below::Handed(fd)) => format!("dupfd_below={fd}"),
            Ok(Below::InUse) => format!("dupfd_below={}(in use)", soft - 1),
            Err(e) => format!("dupfd_below=errno {e}"),
        };
        let at = match self.at {
            Ok(fd) => format!("dupfd_at={fd}"),
            Err(e) => format!("dupfd_at=errno {e}"),
        };
        format!("{below} {at}")
    }
}

/// `F_DUPFD_CLOEXEC` at `min`, the copy closed again at once.
fn dup_at(base: libc::c_int, min: libc::c_int) -> Result<libc::c_int, i32> {
    // SAFETY: duplicating a valid fd to the lowest free slot >= min.
    let fd = unsafe { libc::fcntl(base, libc::F_DUPFD_CLOEXEC, min) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: the kernel handed `fd` to this probe and nothing else owns it.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    Ok(fd)
}

/// The slots below `goal` once the fill stopped: the ones the probe did
/// not take are either inherited (open) or free. A free one means the fill
/// was refused before the limit.
struct Census {
    others_open: u64,
    free: u64,
    first_free: Option<u64>,
    highest: Option<u64>,
}

impl Census {
    /// `taken` must be sorted. Costs one `F_GETFD` per slot not taken, so a
    /// handful of syscalls, not one per slot.
    fn take(taken: &[libc::c_int], goal: u64) -> Census {
        let mut census = Census {
            others_open: 0,
            free: 0,
            first_free: None,
            highest: taken.last().map(|&fd| fd as u64),
        };
        let mut mine = taken.iter().map(|&fd| fd as u64).peekable();
        for slot in 0..goal {
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

/// What the copies are copies of. Only the slot matters; on Linux an
/// O_PATH descriptor is the cheapest to close (no flush or lock
/// bookkeeping): a fifth of the close cost of a readable one.
#[cfg(target_os = "linux")]
const BASE_FLAGS: libc::c_int = libc::O_PATH;
#[cfg(not(target_os = "linux"))]
const BASE_FLAGS: libc::c_int = libc::O_RDONLY;

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

/// Judge the boundary, then the fill: every slot below `goal` in use and,
/// when the goal is the whole table, EMFILE right after it.
fn verdict(
    boundary: &Boundary,
    stop: Stop,
    soft: u64,
    goal: u64,
    census: &Census,
    stats: String,
) -> Outcome {
    let error = |step, code: Option<i32>, why: String| {
        Err(Failure {
            verdict: Verdict::Error,
            code: code.map(i64::from),
            step,
            detail: format!("{stats}; {why}"),
        })
    };
    match boundary.below {
        Ok(Below::InUse) => {}
        Ok(Below::Handed(fd)) if fd as u64 == soft - 1 => {}
        Ok(Below::Handed(fd)) => {
            return error(
                "boundary",
                None,
                format!("F_DUPFD at {} gave {fd}", soft - 1),
            )
        }
        Err(e) => {
            return error(
                "boundary",
                Some(e),
                format!("F_DUPFD refused slot {} below the soft limit", soft - 1),
            )
        }
    }
    match boundary.at {
        Ok(fd) => {
            return error(
                "boundary",
                None,
                format!("F_DUPFD at the soft limit gave slot {fd}: the limit does not hold"),
            )
        }
        Err(libc::EINVAL | libc::EMFILE) => {}
        Err(e) => {
            return Err(crate::classify::failure(
                "boundary",
                crate::classify::RawCode::Errno(e),
                &stats,
            ))
        }
    }
    let whole_table = goal == soft;
    match stop {
        Stop::PastLimit => error(
            "fill",
            None,
            "a slot at the soft limit was handed out without EMFILE".into(),
        ),
        Stop::Errno(e) if e != libc::EMFILE => Err(crate::classify::failure(
            "fill",
            crate::classify::RawCode::Errno(e),
            &stats,
        )),
        _ if census.free > 0 || (whole_table && census.highest.map(|h| h + 1) != Some(soft)) => {
            error(
                "fill",
                match stop {
                    Stop::Errno(e) => Some(e),
                    Stop::Goal | Stop::PastLimit => None,
                },
                format!(
                    "refused before slot {goal} with {} free slots below it (first {})",
                    census.free,
                    census
                        .first_free
                        .map_or("none".to_string(), |f| f.to_string())
                ),
            )
        }
        Stop::Errno(_) if !whole_table => error(
            "fill",
            Some(libc::EMFILE),
            format!("EMFILE before slot {goal}, below the soft limit"),
        ),
        Stop::Errno(_) => allowed("fill", format!("{stats} emfile_at={soft}")),
        Stop::Goal => allowed("fill", format!("{stats} limit_at={soft}")),
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
    /// A `dup` failed with this errno.
    Errno(i32),
    /// Every slot below the goal (short of the whole table) is in use.
    Goal,
    /// A slot at or past the soft limit was handed out: the limit does not hold.
    PastLimit,
}

/// Descriptors taken by a fill, and why it stopped.
struct Taken {
    fds: Vec<libc::c_int>,
    stop: Stop,
}

/// Grows the fd table to the soft limit in one step, before the worker
/// thread exists. Once a second thread shares the table, every growth waits
/// for an RCU grace period (measured 10-14 ms here); the boundary check
/// at `soft - 1` grows it to the full limit, so it is done here first.
/// Failure is harmless: the probe measures, this only makes it cheap.
pub fn prepare() {
    let Ok((soft, _)) = nofile_limits() else {
        return;
    };
    if soft == 0 || soft > MAX_CHECKED {
        return;
    }
    let Ok(base) = open_base() else {
        return;
    };
    let _ = dup_at(base.as_raw_fd(), (soft - 1) as libc::c_int);
}

/// Takes the lowest free slots until every slot below `goal` is in use,
/// then, when `goal` is the whole table, `dup`s on until one fails (it must
/// be the very next: EMFILE).
fn fill(base: libc::c_int, soft: u64, goal: u64) -> Result<Taken, Failure> {
    fill::fill(base, soft, goal)
}

/// Single `dup`s from where a fill left off (the batches leave holes:
/// their socketpair's slots) until a slot at or past `goal` is handed out,
/// which proves every slot below it in use; that copy is given back. When
/// the goal is the whole table, the last `dup` must fail instead (EMFILE).
fn finish(base: libc::c_int, soft: u64, goal: u64, mut fds: Vec<libc::c_int>) -> Taken {
    loop {
        // SAFETY: duplicating a valid fd to the lowest free slot.
        let fd = unsafe { libc::fcntl(base, libc::F_DUPFD_CLOEXEC, 0) };
        if fd < 0 {
            let stop = Stop::Errno(errno());
            return Taken { fds, stop };
        }
        if (fd as u64) < goal {
            fds.push(fd);
            continue;
        }
        let stop = if goal < soft {
            // SAFETY: the kernel handed `fd` to this probe and nothing else owns it.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
            Stop::Goal
        } else {
            fds.push(fd);
            Stop::PastLimit
        };
        return Taken { fds, stop };
    }
}

#[cfg(target_os = "linux")]
mod fill {
    //! Batched fill: SCM_RIGHTS over a private socketpair installs up to
    //! 253 descriptors per `recvmsg`, each under the same RLIMIT_NOFILE
    //! check as `dup`; a `dup` per slot would be most of the probe's time.

    use std::os::fd::{AsRawFd, OwnedFd};

    use nix::sys::socket::{
        sendmsg, socketpair, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType,
    };

    use super::{finish, Taken};
    use crate::outcome::Failure;
    use crate::sys::{errno, io_failure, last_failure};

    /// The most descriptors Linux passes in one message (SCM_MAX_FD).
    const BATCH: usize = 253;

    pub(super) fn fill(base: libc::c_int, soft: u64, goal: u64) -> Result<Taken, Failure> {
        let mut fds = Vec::with_capacity(usize::try_from(goal).unwrap_or(0));
        let pair = socketpair(
            AddressFamily::Unix,
            SockType::Datagram,
            None,
            SockFlag::SOCK_CLOEXEC,
        );
        let (tx, rx) = match pair {
            Ok(pair) => pair,
            // Not even two slots left: single dups finish the job.
            Err(nix::errno::Errno::EMFILE) => return Ok(finish(base, soft, goal, fds)),
            Err(e) => return Err(io_failure("exhaust", &e.into(), "socketpair")),
        };
        let batch = [base; BATCH];
        // Slots go lowest first, so once `top` is handed out every slot
        // below it is taken and `goal - 1 - top` are left: batches are
        // sized to fill exactly that, never more.
        let mut top = base.max(tx.as_raw_fd()).max(rx.as_raw_fd());
        loop {
            let left = usize::try_from(goal.saturating_sub(1 + top as u64)).unwrap_or(BATCH);
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
        Ok(finish(base, soft, goal, fds))
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
}

#[cfg(not(target_os = "linux"))]
mod fill {
    //! Plain fill: one `dup` per slot (macOS's default table is 256).

    use super::{finish, Taken};
    use crate::outcome::Failure;

    pub(super) fn fill(base: libc::c_int, soft: u64, goal: u64) -> Result<Taken, Failure> {
        Ok(finish(base, soft, goal, Vec::new()))
    }
}

/// Close every descriptor the fill took (sorted): one `close_range` per
/// run of consecutive numbers on Linux (nearly all one run: the fill takes
/// the lowest slots), where a close per slot would double the probe's
/// syscalls; one by one elsewhere and on kernels before 5.9.
fn release(fds: Vec<libc::c_int>) {
    for run in fds.chunk_by(|a, b| b - a == 1) {
        if !close_range(run[0], run[run.len() - 1]) {
            for &fd in run {
                // SAFETY: the kernel handed `fd` to this probe and nothing else owns it.
                drop(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
}

/// Closes `first..=last`, all taken by this probe; false if not done.
#[cfg(target_os = "linux")]
fn close_range(first: libc::c_int, last: libc::c_int) -> bool {
    // SAFETY: every fd in the range was taken by this probe and is closed
    // exactly once here.
    unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn close_range(_: libc::c_int, _: libc::c_int) -> bool {
    false
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

    fn census(free: u64, highest: Option<u64>) -> Census {
        Census {
            others_open: 4,
            free,
            first_free: (free > 0).then_some(9),
            highest,
        }
    }

    /// The kernel's answer at a limit that holds.
    const HOLDS: Boundary = Boundary {
        below: Ok(Below::Handed(63)),
        at: Err(libc::EINVAL),
    };

    /// The verdict on a whole-table fill that stopped with EMFILE at soft
    /// limit 64.
    fn emfile_at_64(free: u64, highest: u64) -> Outcome {
        verdict(
            &HOLDS,
            Stop::Errno(libc::EMFILE),
            64,
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
    fn a_bounded_fill_with_the_boundary_holding_is_allowed() {
        let boundary = Boundary {
            below: Ok(Below::Handed(19_999)),
            at: Err(libc::EINVAL),
        };
        let c = census(0, Some(4095));
        let r = verdict(&boundary, Stop::Goal, 20_000, 4096, &c, "s".into());
        assert_eq!(r.unwrap().detail, "s limit_at=20000");
    }

    #[test]
    fn a_slot_handed_out_at_the_limit_is_an_error() {
        let boundary = Boundary {
            below: Ok(Below::Handed(63)),
            at: Ok(64),
        };
        let c = census(0, Some(63));
        let e = verdict(&boundary, Stop::Errno(libc::EMFILE), 64, 64, &c, "s".into()).unwrap_err();
        assert_eq!(e.verdict, Verdict::Error);
        assert!(e.detail.contains("the limit does not hold"), "{}", e.detail);
    }

    #[test]
    fn the_slot_below_the_limit_refused_is_an_error() {
        let boundary = Boundary {
            below: Err(libc::EMFILE),
            at: Err(libc::EINVAL),
        };
        let c = census(0, Some(4095));
        let e = verdict(&boundary, Stop::Goal, 20_000, 4096, &c, "s".into()).unwrap_err();
        assert_eq!(e.code, Some(i64::from(libc::EMFILE)));
        assert!(e.detail.contains("refused slot 19999"), "{}", e.detail);
    }

    #[test]
    fn emfile_before_the_fill_goal_is_an_error() {
        let boundary = Boundary {
            below: Ok(Below::Handed(19_999)),
            at: Err(libc::EINVAL),
        };
        let c = census(0, Some(4000));
        let e = verdict(
            &boundary,
            Stop::Errno(libc::EMFILE),
            20_000,
            4096,
            &c,
            "s".into(),
        );
        let e = e.unwrap_err();
        assert!(e.detail.contains("below the soft limit"), "{}", e.detail);
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
        assert!(e.detail.contains("refused before slot 64"), "{}", e.detail);
    }

    #[test]
    fn passing_the_limit_is_an_error() {
        let c = census(0, Some(63));
        let e = verdict(&HOLDS, Stop::PastLimit, 64, 64, &c, "s".into()).unwrap_err();
        assert!(e.detail.contains("without EMFILE"), "{}", e.detail);
    }

    #[test]
    fn the_kernel_check_finds_the_limit_of_this_process() {
        let (soft, _) = nofile_limits().unwrap();
        let base = open_base().unwrap();
        let b = Boundary::probe(base.as_raw_fd(), soft);
        assert!(
            matches!(b.below, Ok(Below::InUse)) || b.below == Ok(Below::Handed((soft - 1) as i32)),
            "{b:?}"
        );
        assert!(matches!(b.at, Err(libc::EINVAL | libc::EMFILE)), "{b:?}");
    }

    #[test]
    fn census_counts_inherited_and_free_slots() {
        // A descriptor parked high up is "inherited"; the slot above it is
        // free; what lies between depends on the test process.
        // SAFETY: duplicating stderr to a chosen slot, closed below.
        let parked = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 3000) };
        assert!(parked >= 3000);
        // SAFETY: `parked` was just handed out by dup and is owned here only.
        let parked = unsafe { OwnedFd::from_raw_fd(parked) };
        let goal = parked.as_raw_fd() as u64 + 2;
        let c = Census::take(&[], goal);
        assert_eq!(c.highest, Some(parked.as_raw_fd() as u64));
        assert_eq!(c.others_open + c.free, goal);
        assert!(c.free >= 1 && c.first_free.is_some());
        // Slots the probe took itself are not looked at.
        let mine: Vec<libc::c_int> = (0..goal as libc::c_int).collect();
        let all_mine = Census::take(&mine, goal);
        assert_eq!((all_mine.others_open, all_mine.free), (0, 0));
    }
}
