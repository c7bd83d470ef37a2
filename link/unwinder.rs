//! Build script shared by the root, `probes` and `runner` packages
//! (`build = ...`): on Linux with glibc, libgcc's unwinder is linked in
//! statically (`libgcc_eh.a`, what gcc's `-static-libgcc` does for C) instead
//! of loading `libgcc_s.so.1` at every start.
//!
//! Why: `libgcc_s`'s constructor probes the CPU with `cpuid`, which traps to
//! the hypervisor on a VM, and the object must be mapped and relocated; the
//! harness starts the stage and the probe thousands of times per matrix.
//! Nothing is given up: the binaries stay position-independent, panics still
//! unwind (`tests/link.rs`), and no symbol of another library is replaced.
//! The measured gain is in the commit that introduced this and in
//! `benches/session_cli.rs`'s notes.
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
    let crt_static = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    // A fully static build already takes the unwinder from libgcc_eh; musl
    // has no libgcc_s to avoid; other systems have their own unwinder.
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" && !crt_static
    {
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
    }
}
