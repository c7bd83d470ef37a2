//! Replays every committed fuzz seed (`fuzz/corpus/<target>/`) through the
//! same checks the fuzz targets run, so `cargo test` guards what fuzzing
//! found without needing a nightly toolchain.

use std::path::PathBuf;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "{}: only {} seeds",
        dir.display(),
        files.len()
    );
    for file in files {
        let data = std::fs::read(&file).unwrap();
        // Name the seed if its check panics.
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "seed {} failed its check", file.display());
    }
}

#[test]
fn sbpl_escape_corpus() {
    replay("sbpl_escape", profile::fuzzcheck::escape);
}

#[test]
fn sbpl_reader_corpus() {
    replay("sbpl_reader", profile::fuzzcheck::reader);
}

#[test]
fn profile_build_corpus() {
    replay("profile_build", profile::fuzzcheck::build_config);
}

/// The build seeds must reach both outcomes, or the replay checks little.
#[test]
fn profile_build_seeds_cover_valid_and_invalid_configs() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/profile_build");
    let env = profile::fuzzcheck::fuzz_env();
    let (mut valid, mut invalid) = (0, 0);
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        match profile::fuzzcheck::config_from_bytes(&data).validate(&env) {
            Ok(r) if !r.filesystem.read_write.is_empty() => valid += 1,
            Ok(_) => {}
            Err(_) => invalid += 1,
        }
    }
    assert!(
        valid >= 5 && invalid >= 3,
        "valid {valid}, invalid {invalid}"
    );
}
