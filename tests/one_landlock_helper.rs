//! One place asks the kernel for its Landlock ABI (issue 14 item 8):
//! `runner::stage::landlock_abi`, used by the exec stage, the launcher and
//! the report's host identity alike. A second copy of the syscall would let
//! the report and the stage disagree about the same kernel.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_stage_asks_the_kernel_for_the_landlock_abi() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "runner/src", "profile/src", "probes/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    let askers: Vec<String> = files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .contains("SYS_landlock_create_ruleset")
        })
        .map(|f| f.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert_eq!(askers, ["runner/src/stage.rs"]);
}
