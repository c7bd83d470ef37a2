//! Reading an input file with a stated size bound.
//!
//! Every file beltcheck reads on a user's behalf goes through [`read_text`]
//! or [`read_bytes`], so an input that never ends (`/dev/zero`, a FIFO fed
//! forever) or a huge one is refused with a message instead of growing
//! memory until the process dies. The limits are part of the documented
//! interface (README, "Input limits").

use std::fmt;
use std::io::Read;
use std::path::Path;

/// A config file (`--config`).
pub const MAX_CONFIG: u64 = 1 << 20;
/// An expectations file (`--expect`).
pub const MAX_EXPECTATIONS: u64 = 1 << 20;
/// An SBPL profile (`--profile`, `sbpl check`, an import).
pub const MAX_SBPL: u64 = 8 << 20;
/// A report read back (`report merge`).
pub const MAX_REPORT: u64 = 64 << 20;

/// Why an input file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed.
    Io(std::io::Error),
    /// More than `limit` bytes (the file may never end).
    TooLarge { limit: u64 },
    /// Not UTF-8; `valid_up_to` is the offset of the first bad byte.
    NotUtf8 { valid_up_to: usize },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "cannot read: {e}"),
            ReadError::TooLarge { limit } => write!(
                f,
                "larger than the limit of {limit} bytes ({}) for this input",
                human(*limit)
            ),
            ReadError::NotUtf8 { valid_up_to } => {
                write!(f, "not UTF-8 (invalid byte at offset {valid_up_to})")
            }
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// `1 MiB`, `64 MiB`: the limits are whole mebibytes.
fn human(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

/// Reads at most `limit` bytes of `path`; more is [`ReadError::TooLarge`].
/// A regular file's size is checked before reading, so a huge file costs
/// nothing; anything else (a device, a FIFO) is read up to `limit + 1`.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if meta.is_file() && meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read_bytes`], then UTF-8.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    String::from_utf8(read_bytes(path, limit)?).map_err(|e| ReadError::NotUtf8 {
        valid_up_to: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_one_byte_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_text(&path, 5).unwrap(), "12345");
        assert!(matches!(
            read_text(&path, 4),
            Err(ReadError::TooLarge { limit: 4 })
        ));
    }

    #[test]
    fn an_endless_device_is_refused() {
        let e = read_bytes(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("1048576 bytes (1 MiB)"), "{e}");
    }

    #[test]
    fn errors_keep_their_source() {
        let e = read_text(Path::new("/nonexistent/x"), 10).unwrap_err();
        assert!(std::error::Error::source(&e).is_some());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"ab\xffc").unwrap();
        assert_eq!(
            read_text(&path, 10).unwrap_err().to_string(),
            "not UTF-8 (invalid byte at offset 2)"
        );
    }
}
