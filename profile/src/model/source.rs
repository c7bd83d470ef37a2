//! The files one evaluation reads: the profile and everything it imports,
//! in one span space (each file's spans start at its own base), and how an
//! `(import "x.sb")` is found and read.

use crate::ast::{Lines, Span};
use std::path::{Path, PathBuf};

/// Largest file an import reads (bytes). Apple's largest profile is about
/// 60 KB; the bound keeps `(import "/dev/zero")`-like inputs finite.
pub const MAX_IMPORT_BYTES: u64 = crate::input::MAX_SBPL;

/// Most files one evaluation reads, imports of imports included.
pub const MAX_FILES: usize = 256;

/// One file of the evaluation.
#[derive(Debug)]
pub struct Source<'a> {
    /// How messages name the file: the path as given or as found.
    pub name: String,
    /// Where the file is, for resolving its own relative imports.
    pub dir: Option<PathBuf>,
    pub base: u32,
    pub text: &'a str,
    pub lines: Lines,
}

/// Every file read so far, in reading order.
#[derive(Debug, Default)]
pub struct Sources<'a> {
    files: Vec<Source<'a>>,
}

impl<'a> Sources<'a> {
    /// Adds a file; its spans start at the returned base.
    pub fn add(&mut self, name: String, dir: Option<PathBuf>, text: &'a str) -> Option<u32> {
        let base = self.next_base()?;
        base.checked_add(u32::try_from(text.len()).ok()?)?;
        self.files.push(Source {
            name,
            dir,
            base,
            text,
            lines: Lines::new(text),
        });
        Some(base)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// One past the end of the last file, plus one so that a span at the
    /// end of a file is never taken for the start of the next.
    fn next_base(&self) -> Option<u32> {
        match self.files.last() {
            None => Some(0),
            Some(f) => f
                .base
                .checked_add(u32::try_from(f.text.len()).ok()?)?
                .checked_add(1),
        }
    }

    /// The file `span` is in.
    pub fn file_of(&self, span: Span) -> Option<&Source<'a>> {
        let i = self.files.partition_point(|f| f.base <= span.start);
        i.checked_sub(1).and_then(|i| self.files.get(i))
    }

    /// The text of `span` in its file.
    pub fn text(&self, span: Span) -> &'a str {
        let Some(f) = self.file_of(span) else {
            return "";
        };
        let start = (span.start - f.base) as usize;
        let end = span.end.saturating_sub(f.base) as usize;
        f.text.get(start..end).unwrap_or("")
    }

    /// 1-based line of `span` in its file.
    pub fn line(&self, span: Span) -> u32 {
        match self.file_of(span) {
            Some(f) => f.lines.line(Span {
                start: span.start - f.base,
                end: span.start - f.base,
            }),
            None => 0,
        }
    }
}

/// Where imports are searched, after the importing file's own directory.
#[derive(Debug, Clone, Default)]
pub struct SearchPath {
    /// `--import-path DIR`, in order.
    pub dirs: Vec<PathBuf>,
}

impl SearchPath {
    /// The directories to try for a relative import from a file in `dir`:
    /// that directory, the given ones in order, and on macOS the system's
    /// profile directories (where sandbox-exec itself looks).
    pub fn candidates(&self, dir: Option<&Path>) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = dir.map(Path::to_path_buf).into_iter().collect();
        out.extend(self.dirs.iter().cloned());
        if cfg!(target_os = "macos") {
            out.push(PathBuf::from("/System/Library/Sandbox/Profiles"));
            out.push(PathBuf::from("/usr/share/sandbox"));
        }
        out
    }

    /// Finds `name`: an absolute path as it is, a relative one in the first
    /// candidate directory that has it. `Err` lists where it looked.
    pub fn find(&self, name: &str, dir: Option<&Path>) -> Result<PathBuf, String> {
        let p = Path::new(name);
        if p.is_absolute() {
            return Ok(p.to_path_buf());
        }
        let dirs = self.candidates(dir);
        for d in &dirs {
            let candidate = d.join(p);
            if candidate.exists() {
                return Ok(candidate);
            }
        }
        let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        Err(match looked.is_empty() {
            true => format!(
                "import {name:?} not found: no directory to search (give --import-path DIR)"
            ),
            false => format!("import {name:?} not found in {}", looked.join(", ")),
        })
    }
}

/// Reads a profile or an import: a regular file (a device or FIFO could
/// hang or never end) of at most [`MAX_IMPORT_BYTES`], UTF-8, through the
/// crate's one bounded reader. Errors name the path.
pub fn read_bounded(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: cannot open: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "{shown}: not a regular file; profiles and imports are read from regular files only"
        ));
    }
    crate::input::read_text(path, MAX_IMPORT_BYTES).map_err(|e| match e {
        crate::input::ReadError::NotUtf8 { .. } => {
            format!("{shown}: {e}; sandbox-exec refuses non-ASCII profiles anyway")
        }
        e => format!("{shown}: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_find_their_file() {
        let mut s = Sources::default();
        let a = s.add("a".into(), None, "(a)\n(b)").unwrap();
        let b = s.add("b".into(), None, "(c)").unwrap();
        assert_eq!(a, 0);
        assert!(b > 7);
        let in_b = Span {
            start: b,
            end: b + 3,
        };
        assert_eq!(s.file_of(in_b).unwrap().name, "b");
        assert_eq!(s.text(in_b), "(c)");
        assert_eq!(s.line(Span { start: 4, end: 7 }), 2);
    }

    #[test]
    fn devices_are_not_imported() {
        let e = read_bounded(Path::new("/dev/zero")).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
