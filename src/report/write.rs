//! Writing a set of rendered report files into a directory as one unit.
//!
//! The files are written into a temporary sibling of the directory, synced,
//! then renamed into the directory one by one with the commit marker (e.g.
//! `report.json`) last, and the directory synced. A reader that finds the
//! marker finds the whole set it belongs to (the files carry the same run
//! id, [`super::run`]); a crash leaves at worst the earlier set, or some new
//! files next to the earlier marker (their run id then differs from the
//! marker's), and never half a file. Files get mode 0644 exactly, whatever
//! the umask: reports are meant to be read by others (CI artifacts, a web
//! server).

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of every report file.
pub const MODE: u32 = 0o644;

/// One rendered file of a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// A plain file name (no directory part).
    pub name: String,
    pub contents: Vec<u8>,
}

impl Rendered {
    pub fn new(name: &str, contents: impl Into<Vec<u8>>) -> Rendered {
        Rendered {
            name: name.to_string(),
            contents: contents.into(),
        }
    }
}

/// Why `dir` cannot receive a report set, checked before any work is done:
/// it, or the nearest ancestor that exists, must be a directory.
pub fn check_destination(dir: &Path) -> Result<(), String> {
    let existing = dir
        .ancestors()
        .find(|a| !a.as_os_str().is_empty() && fs::symlink_metadata(a).is_ok());
    let Some(existing) = existing else {
        return Ok(());
    };
    match fs::metadata(existing) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) if existing == dir => Err("exists and is not a directory".into()),
        Ok(_) => Err(format!("{} is not a directory", existing.display())),
        Err(e) => Err(format!("{}: {e}", existing.display())),
    }
}

/// Writes `files` into `dir` (created if missing) as one set, the file
/// named `marker` renamed into place last. `marker` must be one of `files`.
pub fn write_set(dir: &Path, files: &[Rendered], marker: &str) -> io::Result<()> {
    if !files.iter().any(|f| f.name == marker) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("commit marker {marker:?} is not among the files"),
        ));
    }
    check_destination(dir).map_err(io::Error::other)?;
    fs::create_dir_all(dir)?;
    let staging = staging_dir(dir)?;
    for f in files {
        write_file(&staging.path().join(&f.name), &f.contents)?;
    }
    let order = files
        .iter()
        .filter(|f| f.name != marker)
        .chain(files.iter().filter(|f| f.name == marker));
    for f in order {
        fs::rename(staging.path().join(&f.name), dir.join(&f.name))?;
    }
    File::open(dir)?.sync_all()?;
    staging.close()
}

/// A fresh temporary directory next to `dir` (same file system, so the
/// renames are atomic), named after it.
fn staging_dir(dir: &Path) -> io::Result<tempfile::TempDir> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    tempfile::Builder::new()
        .prefix(&format!(".{name}.writing-"))
        .tempdir_in(parent)
}

/// `contents` into a new file at `path`, mode [`MODE`], synced.
fn write_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(MODE)
        .open(path)?;
    // The umask narrowed the mode given to open(2); set it exactly.
    file.set_permissions(Permissions::from_mode(MODE))?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_the_set_and_leaves_no_staging_dir() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("a/b");
        let files = [Rendered::new("x.md", "md"), Rendered::new("x.json", "{}")];
        write_set(&dir, &files, "x.json").unwrap();
        assert_eq!(names(&dir), ["x.json", "x.md"]);
        assert_eq!(names(&parent.path().join("a")), ["b"]);
        let mode = fs::metadata(dir.join("x.md")).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, MODE);
        // Replaced in place, other files in the directory kept.
        fs::write(dir.join("notes.txt"), "mine").unwrap();
        let files = [Rendered::new("x.md", "md2"), Rendered::new("x.json", "[]")];
        write_set(&dir, &files, "x.json").unwrap();
        assert_eq!(fs::read_to_string(dir.join("x.md")).unwrap(), "md2");
        assert_eq!(names(&dir), ["notes.txt", "x.json", "x.md"]);
    }

    #[test]
    fn a_file_in_the_way_is_refused() {
        let parent = tempfile::tempdir().unwrap();
        let file = parent.path().join("f");
        fs::write(&file, "x").unwrap();
        assert!(check_destination(&file)
            .unwrap_err()
            .contains("not a directory"));
        assert!(check_destination(&file.join("sub"))
            .unwrap_err()
            .contains("is not a directory"));
        assert!(check_destination(&parent.path().join("new/dir")).is_ok());
        let files = [Rendered::new("r.json", "{}")];
        assert!(write_set(&file, &files, "r.json").is_err());
        assert!(write_set(parent.path(), &files, "other.json").is_err());
    }
}
