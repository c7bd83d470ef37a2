//! Fuzz target `sbpl_reader`: the invariants live in `profile::fuzzcheck::reader`,
//! which `profile/tests/fuzz_corpus.rs` also runs over the seed corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| profile::fuzzcheck::reader(data));
