//! How this workspace's binaries are linked on Linux (shared by the root,
//! `probes` and `runner` packages through `build = ...`).
//!
//! Both choices remove work that ld.so repeats at every process start. The
//! harness starts helpers thousands of times per matrix, and the issue-5
//! target (session overhead <= 2 ms) is spent mostly on process start.
//!
//! - Position-dependent executables (`-no-pie`). A PIE is relocated by ld.so
//!   at every start: about 15,000 relative relocations that dirty ~70 pages
//!   of `.data.rel.ro`, measured at 0.3-0.5 ms of the ~1.5 ms a bare start
//!   cost on the 2-core CI host. The code is still compiled
//!   position-independent; only the final link differs, so nothing but the
//!   image base's randomisation is given up, for a local test harness that
//!   handles no untrusted input over a network.
//! - libgcc's unwinder linked in statically (`libgcc_eh.a`, what gcc's
//!   `-static-libgcc` does for C programs) instead of loading
//!   `libgcc_s.so.1`: one shared object fewer to map and relocate, and its
//!   constructor probes the CPU with `cpuid`, which traps to the hypervisor
//!   on a VM. Measured on the CI host: a Rust hello-world starts in
//!   0.77-0.80 ms instead of 0.90-0.92 ms (`true`: 0.72-0.74 ms). Panics
//!   still unwind and print backtraces; `tests/link.rs` checks that, and
//!   which shared objects the binaries load.
//!
//! The unwinder is declared as a non-bundled static library of the
//! package's library target, so every final link that pulls the library in
//! (binaries, tests, benches) resolves `_Unwind_*` from it before std asks
//! for `gcc_s`, which `--as-needed` then drops.
fn main() {
    // Any rerun-if line stops cargo rerunning this on every package edit;
    // an edit of this script itself always reruns it.
    println!("cargo:rerun-if-env-changed=RUSTFLAGS");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux" {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-no-pie");
    let crt_static = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    // A fully static build already takes the unwinder from libgcc_eh; musl
    // has no libgcc_s to avoid.
    if var("CARGO_CFG_TARGET_ENV") == "gnu" && !crt_static {
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
    }
}
