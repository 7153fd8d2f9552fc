//! Byte-range reads of log files for the RPC: `read_range` is 4.3's
//! `readFile` (readLog, readProcessStdoutLog...) and `tail` is its `tailFile`
//! (tailProcessStdoutLog and the `tail -f` / `/logtail` followers).
//! Both open without blocking and refuse anything but a regular file, so a
//! FIFO or tty configured as a log can never stall the single-threaded daemon.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;

/// Why a range read failed; the RPC layer maps each to the fault of the same
/// name (BAD_ARGUMENTS 3, NO_FILE 20, FAILED 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// A negative offset with a non-zero length, or a negative length.
    BadArguments,
    /// The file does not exist.
    NoFile,
    /// Anything else: permissions, I/O error, not a regular file.
    Failed,
}

/// What `tail` returns: the bytes, the offset to ask from next time (the
/// file's size), and whether bytes between the old offset and these were
/// skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    pub bytes: Vec<u8>,
    pub offset: i64,
    pub overflow: bool,
}

/// Opens a log for reading: non-blocking (a FIFO without writer must not
/// block us) and only if it is a regular file.
fn open_regular(path: &Path) -> Result<(File, u64), ReadError> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )
    .map_err(|e| match e {
        Errno::NOENT => ReadError::NoFile,
        _ => ReadError::Failed,
    })?;
    let stat = rustix::fs::fstat(&fd).map_err(|_| ReadError::Failed)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(ReadError::Failed);
    }
    let size = u64::try_from(stat.st_size).map_err(|_| ReadError::Failed)?;
    Ok((File::from(fd), size))
}

/// Reads up to `len` bytes at `pos`, fewer if the file ends first.
fn read_at(file: &File, pos: u64, len: u64, size_hint: u64) -> Result<Vec<u8>, ReadError> {
    let wanted = len.min(size_hint.saturating_sub(pos));
    let mut buf = vec![0u8; usize::try_from(wanted).map_err(|_| ReadError::Failed)?];
    let mut filled = 0usize;
    while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
        let at = pos.saturating_add(filled as u64);
        match file.read_at(rest, at) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(ReadError::Failed),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// 4.3's `readFile(filename, offset, length)`: a negative offset reads that
/// many bytes from the end (length must then be 0); otherwise `length` bytes
/// from `offset`, or everything to the end when `length` is 0.
pub fn read_range(path: &Path, offset: i64, length: i64) -> Result<Vec<u8>, ReadError> {
    if (offset < 0 && length != 0) || length < 0 {
        return Err(ReadError::BadArguments);
    }
    let (file, size) = open_regular(path)?;
    if offset < 0 {
        let back = offset.unsigned_abs();
        return read_at(&file, size.saturating_sub(back), back, size);
    }
    let start = offset.unsigned_abs();
    let len = if length == 0 {
        u64::MAX
    } else {
        length.unsigned_abs()
    };
    read_at(&file, start, len, size)
}

/// 4.3's `tailFile(filename, offset, length)` as `tailProcessStdoutLog` uses
/// it: if the file grew past `offset + length`, skip ahead to its last
/// `length` bytes and set overflow; the returned offset is always the size.
/// A missing file gives `("", 0, false)` (the RPC's own check); any other
/// failure gives `("", offset, false)` as 4.3 does.
pub fn tail(path: &Path, offset: i64, length: i64) -> Tail {
    let (file, size) = match open_regular(path) {
        Ok(opened) => opened,
        Err(ReadError::NoFile) => return empty_tail(0),
        Err(_) => return empty_tail(offset),
    };
    let (start, len, overflow) = tail_window(i128::from(size), offset.into(), length.into());
    let bytes = if len == 0 {
        Vec::new()
    } else {
        match read_at(&file, start, len, size) {
            Ok(bytes) => bytes,
            Err(_) => return empty_tail(offset),
        }
    };
    Tail {
        bytes,
        offset: i64::try_from(size).unwrap_or(i64::MAX),
        overflow,
    }
}

fn empty_tail(offset: i64) -> Tail {
    Tail {
        bytes: Vec::new(),
        offset,
        overflow: false,
    }
}

/// tailFile's arithmetic, step for step, in wide integers so no input
/// overflows: returns (start, length, overflow).
fn tail_window(size: i128, mut offset: i128, mut length: i128) -> (u64, u64, bool) {
    let mut overflow = false;
    if size > offset + length {
        overflow = true;
        offset = size - 1;
    }
    if offset + length > size {
        if offset > size - 1 {
            length = 0;
        }
        offset = size - length;
    }
    let start = u64::try_from(offset.max(0)).unwrap_or(0);
    let length = u64::try_from(length.max(0)).unwrap_or(0);
    (start, length, overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "sv-read-{}-{}",
                std::process::id(),
                fastrand::u64(..)
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }

        fn file(&self, name: &str, content: &[u8]) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, content).expect("write temp file");
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn read_range_like_read_file() {
        let dir = TempDir::new();
        let p = dir.file("log", b"0123456789");
        assert_eq!(read_range(&p, 0, 0), Ok(b"0123456789".to_vec()));
        assert_eq!(read_range(&p, 3, 0), Ok(b"3456789".to_vec()));
        assert_eq!(read_range(&p, 3, 4), Ok(b"3456".to_vec()));
        assert_eq!(read_range(&p, 8, 100), Ok(b"89".to_vec()));
        assert_eq!(read_range(&p, 10, 0), Ok(Vec::new()));
        assert_eq!(read_range(&p, 50, 5), Ok(Vec::new()));
        assert_eq!(read_range(&p, -3, 0), Ok(b"789".to_vec()));
        assert_eq!(read_range(&p, -100, 0), Ok(b"0123456789".to_vec()));
        assert_eq!(read_range(&p, i64::MIN, 0), Ok(b"0123456789".to_vec()));
        assert_eq!(read_range(&p, i64::MAX, i64::MAX), Ok(Vec::new()));
    }

    #[test]
    fn read_range_bad_arguments() {
        let dir = TempDir::new();
        let p = dir.file("log", b"abc");
        assert_eq!(read_range(&p, -1, 1), Err(ReadError::BadArguments));
        assert_eq!(read_range(&p, 0, -1), Err(ReadError::BadArguments));
        assert_eq!(read_range(&p, -1, -1), Err(ReadError::BadArguments));
        // Checked before the file, like 4.3 (the error wins over NO_FILE only
        // after the RPC's exists() check, which the caller does first).
        assert_eq!(
            read_range(&dir.0.join("missing"), 0, -1),
            Err(ReadError::BadArguments)
        );
    }

    #[test]
    fn read_range_missing_and_unreadable() {
        let dir = TempDir::new();
        assert_eq!(
            read_range(&dir.0.join("missing"), 0, 0),
            Err(ReadError::NoFile)
        );
        assert_eq!(read_range(&dir.0, 0, 0), Err(ReadError::Failed));
        assert_eq!(
            read_range(Path::new("/dev/null"), 0, 0),
            Err(ReadError::Failed)
        );
    }

    #[test]
    fn fifo_neither_blocks_nor_reads() {
        let dir = TempDir::new();
        let fifo = dir.0.join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");
        assert_eq!(read_range(&fifo, 0, 0), Err(ReadError::Failed));
        assert_eq!(tail(&fifo, 7, 10), empty_tail(7));
    }

    #[test]
    fn tail_first_call_gets_last_bytes_with_overflow() {
        let dir = TempDir::new();
        let p = dir.file("log", &[b'x'; 5000]);
        let t = tail(&p, 0, 1600);
        assert_eq!((t.bytes.len(), t.offset, t.overflow), (1600, 5000, true));
    }

    #[test]
    fn tail_small_file_no_overflow() {
        let dir = TempDir::new();
        let p = dir.file("log", b"hello\n");
        assert_eq!(
            tail(&p, 0, 1600),
            Tail {
                bytes: b"hello\n".to_vec(),
                offset: 6,
                overflow: false
            }
        );
    }

    #[test]
    fn tail_follow_reads_only_new_bytes() {
        let dir = TempDir::new();
        let p = dir.file("log", b"0123456789");
        let t = tail(&p, 10, 1600);
        assert_eq!((t.bytes, t.offset, t.overflow), (Vec::new(), 10, false));
        let p = dir.file("log", b"0123456789abc");
        // tailFile returns the last `length` bytes ending at EOF, which may
        // reach back before the caller's offset; 4.3's clients cope.
        let t = tail(&p, 10, 3);
        assert_eq!(
            (t.bytes, t.offset, t.overflow),
            (b"abc".to_vec(), 13, false)
        );
        let t = tail(&p, 10, 5);
        assert_eq!(
            (t.bytes, t.offset, t.overflow),
            (b"89abc".to_vec(), 13, false)
        );
    }

    #[test]
    fn tail_after_truncation_restarts() {
        let dir = TempDir::new();
        let p = dir.file("log", b"new");
        let t = tail(&p, 5000, 1600);
        assert_eq!((t.bytes, t.offset, t.overflow), (Vec::new(), 3, false));
    }

    #[test]
    fn tail_missing_and_negative_arguments() {
        let dir = TempDir::new();
        assert_eq!(tail(&dir.0.join("missing"), 99, 10), empty_tail(0));
        let p = dir.file("log", b"abcdef");
        let t = tail(&p, -5, -5);
        assert_eq!((t.bytes, t.offset), (Vec::new(), 6));
        let t = tail(&p, i64::MIN, i64::MIN);
        assert_eq!(t.offset, 6);
        let t = tail(&p, i64::MAX, i64::MAX);
        assert_eq!((t.bytes, t.offset, t.overflow), (Vec::new(), 6, false));
    }

    /// The expectations come from running 4.3's tailFile on the same inputs.
    #[test]
    fn tail_window_matches_4_3_arithmetic() {
        // (size, offset, length) -> (start, length, overflow)
        let cases = [
            ((100, 0, 1600), (0, 1600, false)),
            ((5000, 0, 1600), (3400, 1600, true)),
            ((5000, 5000, 1600), (5000, 0, false)),
            ((13, 10, 5), (8, 5, false)),
            ((0, 0, 1600), (0, 0, false)),
            ((3, 5000, 1600), (3, 0, false)),
            ((6, -5, -5), (5, 0, true)),
        ];
        for ((size, offset, length), want) in cases {
            assert_eq!(
                tail_window(size, offset, length),
                want,
                "{size} {offset} {length}"
            );
        }
    }
}
