//! The start-up cost choices of `build/link.rs` and `src/pow.rs` hold for the
//! shipped binaries: position-dependent executables that load no shared
//! object but the C library (libgcc's unwinder is linked in, `pow` comes
//! from the `libm` crate), and panics still unwind.
//!
//! Issue 5 bounds the session overhead of `beltcheck run` at 2 ms, most of
//! which is process start; each shared object costs ~0.1 ms of it on the CI
//! host (measured figures in `build/link.rs`).
#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod common;

// Linked for its link flags: an unreferenced crate is left out of the link,
// and with it the static unwinder the panic test checks.
extern crate beltcheck;

use std::path::{Path, PathBuf};
use std::process::Command;

const BINARIES: [&str; 3] = ["beltcheck", "beltcheck-probe", "beltcheck-stage"];

fn binaries() -> Vec<PathBuf> {
    BINARIES.iter().map(|b| common::bin_dir().join(b)).collect()
}

/// The shared objects ld.so maps for `bin`, as ld.so itself lists them
/// (what `ldd` does, without needing binutils).
fn loaded_objects(bin: &Path) -> Vec<String> {
    let out = Command::new(bin)
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .output()
        .expect("run with LD_TRACE_LOADED_OBJECTS");
    assert!(out.status.success(), "{}: {:?}", bin.display(), out);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let objects: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|name| name.rsplit('/').next().unwrap_or(name).to_owned())
        .collect();
    assert!(
        !objects.is_empty(),
        "{}: no objects in {text:?}",
        bin.display()
    );
    objects
}

#[test]
fn binaries_load_only_the_c_library_and_the_loader() {
    for bin in binaries() {
        let objects = loaded_objects(&bin);
        assert!(
            objects.iter().any(|o| o.starts_with("libc.so")),
            "{}: {objects:?}",
            bin.display()
        );
        for o in &objects {
            let expected = o.starts_with("libc.so")
                || o.starts_with("ld-linux")
                || o.starts_with("linux-vdso");
            assert!(expected, "{} loads {o} (all: {objects:?})", bin.display());
        }
    }
}

#[test]
fn binaries_are_position_dependent_executables() {
    const ET_EXEC: u16 = 2;
    for bin in binaries() {
        let bytes = std::fs::read(&bin).expect("read binary");
        assert_eq!(&bytes[..4], b"\x7fELF", "{}", bin.display());
        let e_type = u16::from_le_bytes([bytes[16], bytes[17]]);
        assert_eq!(e_type, ET_EXEC, "{} is not ET_EXEC", bin.display());
    }
}

/// This test binary is linked the way the binaries are (the unwinder comes
/// with the `beltcheck` library's link flags): no libgcc_s mapped, and a
/// panic unwinds through frames with destructors and is caught.
#[test]
fn panics_unwind_with_the_static_unwinder() {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
    assert!(!maps.contains("libgcc_s"), "libgcc_s mapped:\n{maps}");

    struct Flag<'a>(&'a std::cell::Cell<bool>);
    impl Drop for Flag<'_> {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let dropped = std::cell::Cell::new(false);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _flag = Flag(&dropped);
        panic!("deliberate");
    }));
    assert!(caught.is_err());
    assert!(dropped.get(), "the destructor did not run during unwinding");
}
