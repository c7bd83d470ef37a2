//! The few Mach symbols the macOS probes need, declared here (libc marks its
//! copies deprecated in favour of the mach2 crate, which is not on the
//! allowed list).

extern "C" {
    static mach_task_self_: libc::mach_port_t;
    fn mach_port_deallocate(
        task: libc::mach_port_t,
        name: libc::mach_port_t,
    ) -> libc::kern_return_t;
}

/// This task's port (what `mach_task_self()` returns).
pub fn task_self() -> libc::mach_port_t {
    // SAFETY: set by libSystem before main and never changed.
    unsafe { mach_task_self_ }
}

/// Release one send right `port` held by this task.
pub fn deallocate(port: libc::mach_port_t) {
    // SAFETY: only affects this task's own port name space.
    unsafe { mach_port_deallocate(task_self(), port) };
}
