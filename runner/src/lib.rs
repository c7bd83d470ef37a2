//! Starting a workload inside a sandbox on a fresh pty.
//!
//! - [`pty`]: the pty session (raw mode, window size, SIGWINCH, bridge).
//! - [`launch`]: the launchers (`seatbelt`, `linux`, `none`) behind one trait.

pub mod launch;
pub mod pty;
