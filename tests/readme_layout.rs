//! The README's Layout table matches the tree: every path it names exists,
//! and every top-level folder of the tree has a row.

use std::collections::BTreeSet;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The rows of the table under `## Layout`: (first cell, whole row).
fn layout_rows(readme: &str) -> Vec<(String, String)> {
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Layout\n"))
        .expect("README has a ## Layout section");
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let first = l.split('|').nth(1).unwrap_or_default().to_string();
            (first, l.to_string())
        })
        .collect()
}

/// Backtick spans that name a path: they contain `/` or a file extension
/// and no spaces (`seatbelt` or `beltcheck-stage` are names, not paths).
fn paths_in(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.contains(' ') && (s.contains('/') || s.contains('.')))
        .map(str::to_string)
        .collect()
}

/// Top-level folders of the tree, less git's and what .gitignore anchors
/// at the root (`/target`, build output).
fn top_level_folders() -> BTreeSet<String> {
    let ignore = std::fs::read_to_string(Path::new(ROOT).join(".gitignore")).unwrap();
    let ignored: BTreeSet<&str> = ignore
        .lines()
        .filter_map(|l| l.strip_prefix('/'))
        .filter(|l| !l.contains('/'))
        .collect();
    std::fs::read_dir(ROOT)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".git" && n != "target" && !ignored.contains(n.as_str()))
        .collect()
}

/// Paths the table names that do not exist.
fn missing_paths(readme: &str) -> Vec<String> {
    layout_rows(readme)
        .iter()
        .flat_map(|(_, row)| paths_in(row))
        .filter(|p| !Path::new(ROOT).join(p).exists())
        .collect()
}

/// Top-level folders no row's first cell names.
fn unlisted_folders(readme: &str) -> Vec<String> {
    let listed: BTreeSet<String> = layout_rows(readme)
        .iter()
        .flat_map(|(first, _)| paths_in(first))
        .filter_map(|p| p.split('/').next().map(str::to_string))
        .collect();
    top_level_folders()
        .into_iter()
        .filter(|d| !listed.contains(d))
        .collect()
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap()
}

#[test]
fn every_path_in_the_layout_table_exists() {
    let readme = readme();
    assert!(layout_rows(&readme).len() >= 5, "no Layout table found");
    let missing = missing_paths(&readme);
    assert!(
        missing.is_empty(),
        "README Layout names missing paths: {missing:?}"
    );
}

#[test]
fn every_top_level_folder_has_a_layout_row() {
    let unlisted = unlisted_folders(&readme());
    assert!(
        unlisted.is_empty(),
        "top-level folders missing from README Layout: {unlisted:?}"
    );
}

#[test]
fn a_wrong_table_is_caught() {
    let table = "# x\n\n## Layout\n\n| path | what |\n|---|---|\n\
                 | `nowhere/`, `src/` | gone |\n\n## Next\n";
    assert_eq!(missing_paths(table), ["nowhere/"]);
    let unlisted = unlisted_folders(table);
    assert!(unlisted.contains(&"runner".to_string()), "{unlisted:?}");
    assert!(!unlisted.contains(&"src".to_string()), "{unlisted:?}");
}
