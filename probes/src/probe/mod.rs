//! One module per probe. Each exposes `run(&ProbeArgs, &Ctx) -> Outcome`; the
//! catalogue ([`crate::catalogue`]) names them and supervises the deadline.

pub mod file_read;
pub mod file_write;
pub mod hid;
pub mod keychain;
pub mod mach_lookup;
pub mod network;
pub mod nofile;
pub mod pty;
pub mod sem;
pub mod shm;
pub mod sysctl;
pub mod tiocsti;
pub mod unix_bind;
pub mod unix_connect;
pub mod workload_keychain;
pub mod workload_pty;
pub mod workload_sem;
pub mod workload_unix_connect;
