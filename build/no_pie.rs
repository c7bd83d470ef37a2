//! Link this package's binaries position-dependent on Linux (shared by
//! the root, `probes` and `runner` packages through `build = ...`).
//!
//! A PIE is relocated by ld.so at every start: about 15,000 relative
//! relocations that dirty ~70 pages of `.data.rel.ro`, measured at 0.3-0.5 ms
//! of the ~1.5 ms a bare start costs on the 2-core CI host. The harness
//! starts helpers thousands of times per matrix, and the issue-5 target
//! (session overhead <= 2 ms) is spent mostly on process start. The code is
//! still compiled position-independent; only the final link differs, so
//! nothing but the image base's randomisation is given up, for a local test
//! harness that handles no untrusted input over a network.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
