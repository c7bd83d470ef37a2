//! `pow`, the only libm symbol this binary needs (indicatif's rate and ETA
//! estimator calls it), defined here from rust-lang's pure-Rust `libm` so
//! that the link resolves it without `libm.so.6`, and `--as-needed` leaves
//! that library out.
//!
//! Why: every shared object costs ld.so an open, four mappings, relocation
//! and page faults at each start; libm.so's share measured 0.12-0.14 ms of
//! a ~1 ms start on the CI host, and `beltcheck run` is started once per session (issue 5:
//! session overhead <= 2 ms). `tests/link.rs` checks the library stays out.
//!
//! The symbol is defined in the binary crate, not the library, so that every
//! linker takes it (an archive member is only pulled for a symbol some
//! earlier object needs). Executables' symbols win lookups, so this is the
//! `pow` the whole process uses; musl's algorithm, which `libm` ports, is
//! accurate to under 1 ulp.

/// C's `pow(x, y)`.
#[no_mangle]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

#[cfg(test)]
mod tests {
    use super::pow;

    #[test]
    fn agrees_with_exact_cases_and_the_special_values_c_defines() {
        assert_eq!(pow(2.0, 10.0), 1024.0);
        assert_eq!(pow(9.0, 0.5), 3.0);
        assert_eq!(pow(0.5, -2.0), 4.0);
        assert_eq!(pow(f64::NAN, 0.0), 1.0);
        assert_eq!(pow(1.0, f64::NAN), 1.0);
        assert!(pow(-8.0, 1.0 / 3.0).is_nan());
        assert_eq!(pow(0.0, -1.0), f64::INFINITY);
        // indicatif's use: an exponential weight in (0, 1].
        let w = pow(0.1, 1.0 / 15.0);
        assert!((w - 0.857_695_898_590_894).abs() < 1e-12, "{w}");
    }
}
