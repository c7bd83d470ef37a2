//! The config compiled for the Linux backend (bubblewrap + Landlock + seccomp).
