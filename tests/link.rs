//! How the shipped binaries are linked on Linux with glibc: position-
//! independent executables (image ASLR kept), no symbol of another library
//! defined in them (no interposition), libgcc's unwinder linked in
//! (`link/unwinder.rs`) so `libgcc_s` is not loaded, and panics still unwind.
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
fn binaries_load_the_c_library_and_not_libgcc_s() {
    for bin in binaries() {
        let objects = loaded_objects(&bin);
        assert!(
            objects.iter().any(|o| o.starts_with("libc.so")),
            "{}: {objects:?}",
            bin.display()
        );
        assert!(
            !objects.iter().any(|o| o.starts_with("libgcc_s")),
            "{} loads libgcc_s (all: {objects:?})",
            bin.display()
        );
    }
}

/// ET_DYN with a PT_INTERP is a position-independent executable, which the
/// kernel loads at a random base; ET_EXEC would be loaded at a fixed one.
#[test]
fn binaries_are_position_independent_executables() {
    const ET_DYN: u16 = 3;
    for bin in binaries() {
        let bytes = std::fs::read(&bin).expect("read binary");
        assert_eq!(&bytes[..4], b"\x7fELF", "{}", bin.display());
        let e_type = u16::from_le_bytes([bytes[16], bytes[17]]);
        assert_eq!(e_type, ET_DYN, "{} is not a PIE", bin.display());
    }
}

/// The binaries define no global symbol of the C math library: a global
/// definition in an executable would replace libm's for the whole process.
#[test]
fn binaries_define_no_libm_symbol() {
    const LIBM: [&str; 8] = [
        "pow", "exp", "log", "sqrt", "floor", "ceil", "fmod", "round",
    ];
    for bin in binaries() {
        let out = Command::new("nm")
            .args(["--defined-only", "--extern-only"])
            .arg(&bin)
            .output()
            .expect("run nm (binutils)");
        assert!(out.status.success(), "nm {}: {out:?}", bin.display());
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            let name = line.rsplit(' ').next().unwrap_or_default();
            assert!(
                !LIBM.contains(&name),
                "{} defines libm's {name}: {line}",
                bin.display()
            );
        }
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
