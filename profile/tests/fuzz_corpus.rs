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

/// Every seed, plus every printable ASCII character alone and inside a path.
fn escape_inputs() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/sbpl_escape");
    let mut inputs: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| String::from_utf8(std::fs::read(e.unwrap().path()).unwrap()).ok())
        .collect();
    for b in 0x20u8..0x7f {
        let c = b as char;
        inputs.push(c.to_string());
        inputs.push(format!("/a{c}b/c"));
    }
    inputs
}

/// The fuzz oracle reads the escaper's regexes as a real engine does: on
/// every input, the `regex` crate (the stand-in for Apple's engine) and
/// `LiteralRegex` agree on the input, a sibling and a child.
#[test]
fn regex_oracle_agrees_with_a_regex_engine() {
    use profile::escape::{regex_literal, Anchor};
    use profile::fuzzcheck::LiteralRegex;
    let mut checked = 0;
    for s in escape_inputs() {
        for anchor in [Anchor::Exact, Anchor::Directory] {
            let Ok(re) = regex_literal(&s, anchor) else {
                continue;
            };
            let oracle = LiteralRegex::parse(&re).unwrap_or_else(|e| panic!("{re}: {e}"));
            let engine = regex::bytes::Regex::new(&re).unwrap();
            for t in [
                s.clone(),
                format!("{s}x"),
                format!("{s}/x"),
                format!("x{s}"),
            ] {
                assert_eq!(
                    oracle.is_match(&t),
                    engine.is_match(t.as_bytes()),
                    "{re} on {t:?}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}

/// A seeded escaper bug (one operator left unescaped) is caught by the
/// check the fuzz target runs, on inputs a fuzzer reaches at once.
#[test]
fn a_seeded_regex_escaper_bug_is_caught() {
    use profile::escape::{regex_literal, Anchor, EscapeError};
    fn forgets_the_dot(s: &str, anchor: Anchor) -> Result<String, EscapeError> {
        regex_literal(s, anchor).map(|re| re.replace("\\.", "."))
    }
    fn forgets_the_parenthesis(s: &str, anchor: Anchor) -> Result<String, EscapeError> {
        regex_literal(s, anchor).map(|re| re.replacen("\\(", "(", 1))
    }
    let caught = |bug: fn(&str, Anchor) -> Result<String, EscapeError>, input: &[u8]| {
        std::panic::catch_unwind(|| profile::fuzzcheck::escape_with(input, bug)).is_err()
    };
    // The real escaper passes the same inputs.
    for input in [&b"a.b"[..], b"(x"] {
        profile::fuzzcheck::escape(input);
    }
    assert!(caught(forgets_the_dot, b"a.b"));
    assert!(caught(forgets_the_dot, b"."));
    assert!(caught(forgets_the_parenthesis, b"(x"));
}
