//! The pty session.
