//! Capture targets: where a child's stdout/stderr bytes (and the main log's
//! lines) land. A `LogFile` appends to a regular file with size rotation, or
//! writes to a stream (tty, FIFO, /dev/stdout) that is never rotated, and it
//! is built so that output problems never stop supervision: a failure is
//! reported once, the bytes that could not be stored are counted, and writing
//! resumes by itself when the cause goes away.
//!
//! Rotation splits a chunk at the last newline that still fits under
//! `maxbytes` (exactly at `maxbytes` when the part that fits has none), so
//! files stay bounded and a line is cut across two files only when it has to
//! be. 4.3 instead rotates after a write once the file reached `maxbytes`, so
//! its files overshoot by up to one read (128 KiB).

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use async_io::Async;
use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;
use smol::channel::{Receiver, Sender, TrySendError};

use super::rotate::{Finish, RotationPlan, Step};
use crate::config::LogLevel;

/// A stream that cannot take more right now keeps at most this much of our
/// output (plus the one chunk that overflowed it) before dropping. Pumps stop
/// reading while a stream is congested, so the limit only bites for writers
/// that ignore [`LogFile::congestion`].
const STREAM_BACKLOG_LIMIT: usize = 1 << 20;

/// Something about a log's health the caller should put in the main log.
/// `write`, `reopen` and friends return one only when the state changes: a
/// `Failing` when a problem starts, a `Recovered` when it is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Output to `path` is being dropped (or, for a failed rotation, the
    /// file grows past maxbytes): `reason` says why.
    Failing { path: PathBuf, reason: String },
    /// The log works again; `lost` bytes of output were dropped meanwhile.
    Recovered { path: PathBuf, lost: u64 },
}

impl Notice {
    /// The main-log level this notice deserves.
    pub fn level(&self) -> LogLevel {
        match self {
            Notice::Failing { .. } => LogLevel::Error,
            Notice::Recovered { .. } => LogLevel::Info,
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Failing { path, reason } => {
                write!(f, "log file {}: {reason}", path.display())
            }
            Notice::Recovered { path, lost: 0 } => {
                write!(f, "log file {} works again", path.display())
            }
            Notice::Recovered { path, lost } => write!(
                f,
                "log file {} works again; {lost} bytes of output were lost",
                path.display()
            ),
        }
    }
}

/// A future-maker for a congested stream: the pump awaits [`Congestion::wait`]
/// before reading more from the child, then calls `write(&[])` to flush.
#[derive(Clone)]
pub struct Congestion {
    stream: Rc<Async<OwnedFd>>,
}

impl Congestion {
    /// Resolves when the stream can take more bytes (or reports an error,
    /// which the next write will meet and report).
    pub async fn wait(self) {
        let _ = self.stream.writable().await;
    }
}

impl fmt::Debug for Congestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Congestion")
    }
}

/// How a stream target is written.
enum StreamIo {
    /// Our own non-blocking description, registered with the reactor so a
    /// full pipe or tty makes us wait instead of blocking the daemon.
    Pollable(Rc<Async<OwnedFd>>),
    /// Written with blocking writes: devices that never block (/dev/null),
    /// and a socket we could only `dup` (its flags are shared, so we leave
    /// them alone).
    Blocking(OwnedFd),
}

impl StreamIo {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            StreamIo::Pollable(a) => a.get_ref().as_fd(),
            StreamIo::Blocking(fd) => fd.as_fd(),
        }
    }
}

struct Stream {
    io: StreamIo,
    /// Bytes accepted but not yet taken by the stream, oldest first.
    backlog: Vec<u8>,
}

enum Sink {
    /// Not open: never opened, or the last open failed. The next write retries.
    Closed,
    /// A regular file opened O_APPEND; `size` is its length as we know it,
    /// `at_line_end` whether it is empty or ends with a newline.
    File {
        fd: OwnedFd,
        size: u64,
        at_line_end: bool,
    },
    Stream(Stream),
}

/// An ongoing problem: reported once, resolved by a clean write.
struct Trouble {
    lost: u64,
}

/// What one operation did, before it is folded into the trouble state.
enum Health {
    Fine,
    /// Nothing was tried (an empty flush): says nothing about recovery.
    Untested,
    Problem {
        reason: String,
        lost: u64,
    },
}

impl Health {
    fn problem(reason: String, lost: usize) -> Health {
        Health::Problem {
            reason,
            lost: lost as u64,
        }
    }
}

/// One capture target opened by path, with 4.3's `maxbytes`/`backups`.
pub struct LogFile {
    path: PathBuf,
    maxbytes: u64,
    backups: u32,
    sink: Sink,
    /// A rotation that started and has not finished (a step failed).
    rotation: Option<RotationPlan>,
    trouble: Option<Trouble>,
    followers: Vec<Sender<()>>,
}

impl fmt::Debug for LogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogFile")
            .field("path", &self.path)
            .field("maxbytes", &self.maxbytes)
            .field("backups", &self.backups)
            .field("size", &self.size())
            .field("stream", &self.is_stream())
            .finish()
    }
}

impl LogFile {
    /// Opens (creating if needed, with the process umask) the log at `path`.
    /// An error here is what 4.3 reports as "unknown error making dispatchers
    /// for 'x': ENOENT" when it spawns; see [`errno_name`].
    pub fn open(path: impl Into<PathBuf>, maxbytes: u64, backups: u32) -> io::Result<LogFile> {
        let path = path.into();
        let sink = open_sink(&path, false)?;
        Ok(LogFile {
            path,
            maxbytes,
            backups,
            sink,
            rotation: None,
            trouble: None,
            followers: Vec::new(),
        })
    }

    /// Like [`LogFile::open`], but a failure to open is not fatal: it is
    /// returned as a notice and the first write that finds the path usable
    /// opens it (the main log, reopened logs).
    pub fn open_lenient(
        path: impl Into<PathBuf>,
        maxbytes: u64,
        backups: u32,
    ) -> (LogFile, Option<Notice>) {
        let path = path.into();
        match LogFile::open(path.clone(), maxbytes, backups) {
            Ok(log) => (log, None),
            Err(e) => {
                let mut log = LogFile {
                    path,
                    maxbytes,
                    backups,
                    sink: Sink::Closed,
                    rotation: None,
                    trouble: None,
                    followers: Vec::new(),
                };
                let notice = log.settle(Health::problem(open_failure(&e), 0));
                (log, notice)
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the current file as far as we know (0 for streams and while
    /// closed). Another writer appending to the same path is not counted.
    pub fn size(&self) -> u64 {
        match &self.sink {
            Sink::File { size, .. } => *size,
            Sink::Closed | Sink::Stream(_) => 0,
        }
    }

    /// True when the target cannot seek (tty, FIFO, socket, device), or is a
    /// path under /dev (but /dev/shm) or /proc: no rotation, no size, no
    /// clearing.
    pub fn is_stream(&self) -> bool {
        matches!(self.sink, Sink::Stream(_)) || is_special_path(&self.path)
    }

    /// A channel that gets a (coalesced) wake-up after each write, rotation,
    /// clear or reopen; for `tail -f` and `/logtail`. Dropping the receiver
    /// unsubscribes.
    pub fn subscribe(&mut self) -> Receiver<()> {
        let (tx, rx) = smol::channel::bounded(1);
        self.followers.push(tx);
        rx
    }

    /// Stores `data`. Never blocks (streams queue what they cannot take now,
    /// see [`LogFile::congestion`]) and never panics. `write(&[])` only
    /// flushes a stream's queue.
    pub fn write(&mut self, data: &[u8]) -> Option<Notice> {
        let health = self.write_inner(data);
        self.settle(health)
    }

    /// When a stream target is full: what to await before writing more.
    pub fn congestion(&self) -> Option<Congestion> {
        match &self.sink {
            Sink::Stream(Stream {
                io: StreamIo::Pollable(stream),
                backlog,
            }) if !backlog.is_empty() => Some(Congestion {
                stream: Rc::clone(stream),
            }),
            _ => None,
        }
    }

    /// SIGUSR2: close and open the path again, so a file moved away by
    /// logrotate is recreated. Queued stream bytes carry over.
    pub fn reopen(&mut self) -> Option<Notice> {
        let backlog = self.take_backlog();
        self.sink = Sink::Closed;
        let mut health = match open_sink(&self.path, false) {
            Ok(sink) => {
                self.sink = sink;
                Health::Fine
            }
            Err(e) => Health::problem(open_failure(&e), backlog.len()),
        };
        if !backlog.is_empty() && matches!(health, Health::Fine) {
            health = self.write_inner(&backlog);
        }
        self.notify_followers();
        self.settle(health)
    }

    /// clearProcessLogs / clearLog: remove the file and open a new, empty one
    /// (backups are kept, as in 4.3). Streams are left alone: 4.3 would
    /// unlink /dev/stdout here. An error maps to the FAILED fault.
    pub fn clear(&mut self) -> io::Result<()> {
        if self.is_stream() {
            return Ok(());
        }
        match rustix::fs::unlink(&self.path) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(e.into()),
        }
        self.sink = Sink::Closed;
        self.sink = open_sink(&self.path, false)?;
        self.notify_followers();
        Ok(())
    }

    fn take_backlog(&mut self) -> Vec<u8> {
        match &mut self.sink {
            Sink::Stream(stream) => std::mem::take(&mut stream.backlog),
            Sink::Closed | Sink::File { .. } => Vec::new(),
        }
    }

    /// Folds one operation's health into the trouble state; returns a notice
    /// only at the start and at the end of a problem.
    fn settle(&mut self, health: Health) -> Option<Notice> {
        match (health, &mut self.trouble) {
            (Health::Untested, _) | (Health::Fine, None) => None,
            (Health::Fine, Some(_)) if self.rotation.is_some() => None,
            (Health::Fine, Some(trouble)) => {
                let lost = trouble.lost;
                self.trouble = None;
                Some(Notice::Recovered {
                    path: self.path.clone(),
                    lost,
                })
            }
            (Health::Problem { lost, .. }, Some(trouble)) => {
                trouble.lost = trouble.lost.saturating_add(lost);
                None
            }
            (Health::Problem { reason, lost }, None) => {
                self.trouble = Some(Trouble { lost });
                Some(Notice::Failing {
                    path: self.path.clone(),
                    reason,
                })
            }
        }
    }

    fn write_inner(&mut self, data: &[u8]) -> Health {
        if matches!(self.sink, Sink::Closed) {
            if data.is_empty() {
                return Health::Untested;
            }
            match open_sink(&self.path, false) {
                Ok(sink) => self.sink = sink,
                Err(e) => return Health::problem(open_failure(&e), data.len()),
            }
        }
        let health = match &mut self.sink {
            Sink::Closed => Health::Untested,
            Sink::Stream(stream) => write_stream(stream, data),
            Sink::File { .. } if data.is_empty() => Health::Untested,
            Sink::File { .. } => self.write_file(data),
        };
        if !data.is_empty() {
            self.notify_followers();
        }
        health
    }

    /// Appends to the regular file, rotating before a write would pass
    /// maxbytes. A rotation that fails leaves the bytes in the current file
    /// (bounded storage gives way to no loss) and is retried next time.
    fn write_file(&mut self, mut data: &[u8]) -> Health {
        let mut health = Health::Fine;
        let mut rotate_now = false;
        while !data.is_empty() {
            let mut rotation_stuck = false;
            let mut just_rotated = false;
            if self.maxbytes > 0 && !rotate_now && self.size() >= self.maxbytes {
                // Someone may have truncated it (copytruncate): trust the disk.
                self.resync_size();
            }
            if self.maxbytes > 0 && (rotate_now || self.size() >= self.maxbytes) {
                match self.rotate() {
                    Ok(()) => just_rotated = true,
                    Err(e) => {
                        rotation_stuck = true;
                        health = Health::problem(
                            format!(
                                "cannot rotate: {}; the file grows past maxbytes until it can",
                                describe(&e)
                            ),
                            0,
                        );
                    }
                }
            }
            let (fd, size, at_line_end) = match &mut self.sink {
                Sink::File {
                    fd,
                    size,
                    at_line_end,
                } => (fd, size, at_line_end),
                // The path turned into a stream after rotating.
                Sink::Stream(_) | Sink::Closed => return self.write_inner(data),
            };
            let room = self.maxbytes.saturating_sub(*size);
            let fits = data.len() as u64 <= room;
            let piece = if self.maxbytes == 0 || rotation_stuck || room == 0 || fits {
                data.len()
            } else {
                rotate_now = true;
                let may_rotate_first = *at_line_end && *size > 0 && !just_rotated;
                cut_point(data, room, may_rotate_first)
            };
            let (head, tail) = data.split_at(piece.min(data.len()));
            match write_all(fd.as_fd(), head) {
                Ok(()) => {
                    *size += head.len() as u64;
                    if let Some(&last) = head.last() {
                        *at_line_end = last == b'\n';
                    }
                }
                Err((e, written)) => {
                    *size += written as u64;
                    *at_line_end = false;
                    let lost = data.len() - written;
                    return Health::problem(write_failure(e), lost);
                }
            }
            data = tail;
        }
        health
    }

    fn resync_size(&mut self) {
        if let Sink::File { fd, size, .. } = &mut self.sink {
            if let Ok(stat) = rustix::fs::fstat(&*fd) {
                *size = u64::try_from(stat.st_size).unwrap_or(*size);
            }
        }
    }

    /// Runs (or resumes) the rotation plan, then opens the fresh file.
    fn rotate(&mut self) -> Result<(), Errno> {
        let plan = self
            .rotation
            .get_or_insert_with(|| RotationPlan::new(&self.path, self.backups));
        while let Some(step) = plan.next_step() {
            run_step(&step)?;
            plan.step_done();
        }
        let truncate = plan.finish() == Finish::TruncateInPlace;
        let sink = open_sink(&self.path, truncate)
            .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
        self.rotation = None;
        self.sink = sink;
        self.notify_followers();
        Ok(())
    }

    fn notify_followers(&mut self) {
        if self.followers.is_empty() {
            return;
        }
        self.followers
            .retain(|tx| !matches!(tx.try_send(()), Err(TrySendError::Closed(()))));
    }
}

/// Where to split a chunk that does not fit in `room` bytes: after the last
/// newline that fits; else nothing (0), so the file rotates first, when it
/// already ends a line and `may_rotate_first`; else exactly at `room`.
fn cut_point(data: &[u8], room: u64, may_rotate_first: bool) -> usize {
    let room = usize::try_from(room).unwrap_or(usize::MAX).min(data.len());
    let head = data.get(..room).unwrap_or(data);
    match head.iter().rposition(|&b| b == b'\n') {
        Some(newline) => newline + 1,
        None if may_rotate_first => 0,
        None => room,
    }
}

fn run_step(step: &Step) -> Result<(), Errno> {
    let result = match step {
        Step::Remove(path) => rustix::fs::unlink(path),
        Step::Rename { from, to } => rustix::fs::rename(from, to),
    };
    match result {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes all of `data` to a blocking-or-regular fd; on failure says how
/// much got written first.
fn write_all(fd: BorrowedFd<'_>, mut data: &[u8]) -> Result<(), (Errno, usize)> {
    let total = data.len();
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(0) => return Err((Errno::NOSPC, total - data.len())),
            Ok(n) => data = data.get(n..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            Err(e) => return Err((e, total - data.len())),
        }
    }
    Ok(())
}

/// Writes what the stream takes now; queues the rest (bounded).
fn write_stream(stream: &mut Stream, data: &[u8]) -> Health {
    if !stream.backlog.is_empty() {
        let queued = std::mem::take(&mut stream.backlog);
        match write_some(stream.io.fd(), &queued) {
            Ok(n) => stream.backlog = queued.get(n..).unwrap_or_default().to_vec(),
            Err(e) => {
                return Health::problem(write_failure(e), queued.len() + data.len());
            }
        }
        if !stream.backlog.is_empty() {
            return queue(stream, data);
        }
        if data.is_empty() {
            return Health::Fine;
        }
    }
    if data.is_empty() {
        return Health::Untested;
    }
    match write_some(stream.io.fd(), data) {
        Ok(n) if n == data.len() => Health::Fine,
        Ok(n) => queue(stream, data.get(n..).unwrap_or_default()),
        Err(e) => Health::problem(write_failure(e), data.len()),
    }
}

fn queue(stream: &mut Stream, data: &[u8]) -> Health {
    let fits = stream.backlog.is_empty()
        || stream.backlog.len().saturating_add(data.len()) <= STREAM_BACKLOG_LIMIT;
    if fits {
        stream.backlog.extend_from_slice(data);
        Health::Fine
    } else {
        Health::problem(
            "the stream is not taking output fast enough; dropping".to_string(),
            data.len(),
        )
    }
}

/// Writes as much as the fd takes without blocking; Ok(n) may be short.
fn write_some(fd: BorrowedFd<'_>, mut data: &[u8]) -> Result<usize, Errno> {
    let total = data.len();
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(0) => break,
            Ok(n) => data = data.get(n..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(total - data.len())
}

/// Paths we never rename, remove or size-track: /dev/stdout with a redirected
/// stdout is a regular file, and rotating it would rename the /dev symlink.
/// /dev/shm is an ordinary (tmpfs) directory and rotates as usual.
fn is_special_path(path: &Path) -> bool {
    path.starts_with("/proc") || (path.starts_with("/dev") && !path.starts_with("/dev/shm"))
}

/// The descriptor a standard-stream path stands for, so that a socket stdout
/// (systemd's journal), which cannot be reopened by path, can be `dup`ed.
fn standard_stream_fd(path: &Path) -> Option<BorrowedFd<'static>> {
    match path.as_os_str().as_bytes() {
        b"/dev/stdout" | b"/dev/fd/1" | b"/proc/self/fd/1" => Some(rustix::stdio::stdout()),
        b"/dev/stderr" | b"/dev/fd/2" | b"/proc/self/fd/2" => Some(rustix::stdio::stderr()),
        _ => None,
    }
}

/// Opens `path` for appending without ever blocking (a FIFO with no reader
/// fails with ENXIO instead), and decides between file and stream.
fn open_sink(path: &Path, truncate: bool) -> io::Result<Sink> {
    let mut flags = OFlags::WRONLY
        | OFlags::APPEND
        | OFlags::CREATE
        | OFlags::NONBLOCK
        | OFlags::CLOEXEC
        | OFlags::NOCTTY;
    if truncate {
        flags |= OFlags::TRUNC;
    }
    let fd = match rustix::fs::open(path, flags, Mode::from_raw_mode(0o666)) {
        Ok(fd) => fd,
        Err(Errno::NXIO) => match standard_stream_fd(path) {
            Some(std_fd) => {
                let fd = rustix::io::fcntl_dupfd_cloexec(std_fd, 3)?;
                return Ok(Sink::Stream(Stream {
                    io: StreamIo::Blocking(fd),
                    backlog: Vec::new(),
                }));
            }
            None => return Err(Errno::NXIO.into()),
        },
        Err(e) => return Err(e.into()),
    };
    let stat = rustix::fs::fstat(&fd)?;
    let file_type = FileType::from_raw_mode(stat.st_mode);
    if file_type == FileType::RegularFile && !is_special_path(path) {
        let size = u64::try_from(stat.st_size).unwrap_or(0);
        let at_line_end = ends_with_newline(path, size);
        return Ok(Sink::File {
            fd,
            size,
            at_line_end,
        });
    }
    let pollable = matches!(file_type, FileType::Fifo | FileType::Socket)
        || (file_type == FileType::CharacterDevice && rustix::termios::isatty(&fd));
    let io = if pollable {
        StreamIo::Pollable(Rc::new(Async::new(fd)?))
    } else {
        let flags = rustix::fs::fcntl_getfl(&fd)?;
        rustix::fs::fcntl_setfl(&fd, flags - OFlags::NONBLOCK)?;
        StreamIo::Blocking(fd)
    };
    Ok(Sink::Stream(Stream {
        io,
        backlog: Vec::new(),
    }))
}

/// Whether an existing file is empty or its last byte is a newline. Our fd
/// is write-only, so this reads through a second one; an unreadable file
/// counts as mid-line (rotation then splits exactly at maxbytes).
fn ends_with_newline(path: &Path, size: u64) -> bool {
    if size == 0 {
        return true;
    }
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let Ok(reader) = rustix::fs::open(path, flags, Mode::empty()) else {
        return false;
    };
    let mut last = [0u8; 1];
    matches!(rustix::io::pread(&reader, &mut last, size - 1), Ok(1) if last == [b'\n'])
}

fn open_failure(e: &io::Error) -> String {
    format!(
        "cannot open: {}; dropping output until it can be opened",
        describe_io(e)
    )
}

fn write_failure(e: Errno) -> String {
    format!(
        "cannot write: {}; dropping output until it works again",
        describe(&e)
    )
}

/// `No space left on device (ENOSPC)`.
fn describe(e: &Errno) -> String {
    describe_io(&io::Error::from(*e))
}

fn describe_io(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(cut) => text.get(..cut).unwrap_or(&text).to_string(),
        None => text,
    };
    match e.raw_os_error() {
        Some(_) => format!("{text} ({})", errno_name(e)),
        None => text,
    }
}

/// Python's `errno.errorcode.get(code, code)`: the symbolic name of an OS
/// error (`ENOENT`), or its number when we do not know the name.
pub fn errno_name(e: &io::Error) -> String {
    const NAMES: &[(Errno, &str)] = &[
        (Errno::PERM, "EPERM"),
        (Errno::NOENT, "ENOENT"),
        (Errno::SRCH, "ESRCH"),
        (Errno::INTR, "EINTR"),
        (Errno::IO, "EIO"),
        (Errno::NXIO, "ENXIO"),
        (Errno::TOOBIG, "E2BIG"),
        (Errno::NOEXEC, "ENOEXEC"),
        (Errno::BADF, "EBADF"),
        (Errno::CHILD, "ECHILD"),
        (Errno::AGAIN, "EAGAIN"),
        (Errno::NOMEM, "ENOMEM"),
        (Errno::ACCESS, "EACCES"),
        (Errno::FAULT, "EFAULT"),
        (Errno::BUSY, "EBUSY"),
        (Errno::EXIST, "EEXIST"),
        (Errno::XDEV, "EXDEV"),
        (Errno::NODEV, "ENODEV"),
        (Errno::NOTDIR, "ENOTDIR"),
        (Errno::ISDIR, "EISDIR"),
        (Errno::INVAL, "EINVAL"),
        (Errno::NFILE, "ENFILE"),
        (Errno::MFILE, "EMFILE"),
        (Errno::NOTTY, "ENOTTY"),
        (Errno::TXTBSY, "ETXTBSY"),
        (Errno::FBIG, "EFBIG"),
        (Errno::NOSPC, "ENOSPC"),
        (Errno::SPIPE, "ESPIPE"),
        (Errno::ROFS, "EROFS"),
        (Errno::MLINK, "EMLINK"),
        (Errno::PIPE, "EPIPE"),
        (Errno::NAMETOOLONG, "ENAMETOOLONG"),
        (Errno::LOOP, "ELOOP"),
        (Errno::NOTEMPTY, "ENOTEMPTY"),
        (Errno::DQUOT, "EDQUOT"),
        (Errno::STALE, "ESTALE"),
        (Errno::CONNREFUSED, "ECONNREFUSED"),
        (Errno::ADDRINUSE, "EADDRINUSE"),
    ];
    let Some(code) = e.raw_os_error() else {
        return e.to_string();
    };
    // rustix asserts that an errno is in the kernel's range.
    if !(1..4096).contains(&code) {
        return code.to_string();
    }
    let errno = Errno::from_raw_os_error(code);
    NAMES
        .iter()
        .find(|(known, _)| *known == errno)
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// The characters Python's `tempfile` draws names from.
const TEMP_NAME_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";

/// `NAME-CHANNEL---IDENTIFIER-XXXXXXXX.log` in `childlogdir`: the name 4.3's
/// `get_autochildlog_name` asks `tempfile.mkstemp` for (8 random characters
/// from `[a-z0-9_]`). Does not touch the filesystem; see [`create_auto_log`].
pub fn auto_log_path(
    childlogdir: &Path,
    process_name: &str,
    channel: &str,
    identifier: &str,
) -> PathBuf {
    let random: String = (0..8)
        .map(|_| {
            let i = fastrand::usize(..TEMP_NAME_CHARS.len());
            char::from(TEMP_NAME_CHARS.get(i).copied().unwrap_or(b'_'))
        })
        .collect();
    let dir = std::path::absolute(childlogdir).unwrap_or_else(|_| childlogdir.to_path_buf());
    dir.join(format!(
        "{process_name}-{channel}---{identifier}-{random}.log"
    ))
}

/// 4.3's AUTO log creation (`mkstemp`): picks a fresh name and creates the
/// file exclusively with mode 0600, so two processes never share one.
pub fn create_auto_log(
    childlogdir: &Path,
    process_name: &str,
    channel: &str,
    identifier: &str,
) -> io::Result<PathBuf> {
    const ATTEMPTS: usize = 1000;
    for _ in 0..ATTEMPTS {
        let path = auto_log_path(childlogdir, process_name, channel, identifier);
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
        match rustix::fs::open(&path, flags, Mode::from_raw_mode(0o600)) {
            Ok(_fd) => return Ok(path),
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Errno::EXIST.into())
}

/// 4.3's `clear_autochildlogdir` at startup (unless nocleanup): removes every
/// file in `childlogdir` whose name matches `.+?---IDENTIFIER-\S+\.log`, which
/// takes in rotated backups (`.log.1`...). Returns the warnings 4.3 logs.
pub fn clear_auto_logs(childlogdir: &Path, identifier: &str) -> Vec<String> {
    let entries = match std::fs::read_dir(childlogdir) {
        Ok(entries) => entries,
        Err(_) => return vec!["Could not clear childlog dir".to_string()],
    };
    let mut warnings = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !is_auto_log_name(&name, identifier) {
            continue;
        }
        let path = childlogdir.join(&name);
        if std::fs::remove_file(&path).is_err() {
            warnings.push(format!("Failed to clean up '{}'", path.display()));
        }
    }
    warnings
}

/// Python's `re.match(r'.+?---%s-\S+\.log\.{0,1}\d{0,4}' % identifier, name)`
/// (the identifier taken literally).
fn is_auto_log_name(name: &OsStr, identifier: &str) -> bool {
    let name = name.to_string_lossy();
    let marker = format!("---{identifier}-");
    let mut from = 0;
    while let Some(found) = name.get(from..).and_then(|rest| rest.find(&marker)) {
        let at = from + found;
        let prefix = name.get(..at).unwrap_or_default();
        if prefix.contains('\n') {
            return false;
        }
        if at >= 1 {
            let after = name.get(at + marker.len()..).unwrap_or_default();
            let run_len = after.find(is_python_space).unwrap_or(after.len());
            let run = after.get(..run_len).unwrap_or_default();
            // `\S+` takes at least one character, then `.log` follows in the run.
            let log_follows = run
                .char_indices()
                .skip(1)
                .any(|(i, _)| run.get(i..).is_some_and(|r| r.starts_with(".log")));
            if log_follows {
                return true;
            }
        }
        from = at + 1;
    }
    false
}

/// `\s` of Python's `re` on str patterns (`str.isspace`).
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "sv-writer-{}-{}",
                std::process::id(),
                fastrand::u64(..)
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }

        fn path(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn read(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap_or_default()
    }

    fn names(dir: &TempDir) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&dir.0)
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn appends_and_tracks_size() {
        let dir = TempDir::new();
        let p = dir.path("a.log");
        std::fs::write(&p, b"old\n").expect("seed");
        let mut log = LogFile::open(&p, 0, 0).expect("open");
        assert_eq!(log.size(), 4);
        assert!(!log.is_stream());
        assert_eq!(log.write(b"new\n"), None);
        assert_eq!(log.write(b""), None);
        assert_eq!(read(&p), b"old\nnew\n");
        assert_eq!(log.size(), 8);
    }

    #[test]
    fn rotation_keeps_every_byte_once_and_files_bounded() {
        let dir = TempDir::new();
        let p = dir.path("r.log");
        let mut log = LogFile::open(&p, 100, 3).expect("open");
        let mut all = Vec::new();
        for i in 0..40u32 {
            let line = format!("line {i:03} {}\n", "x".repeat((i % 7) as usize));
            all.extend_from_slice(line.as_bytes());
            assert_eq!(log.write(line.as_bytes()), None);
        }
        let mut stored = Vec::new();
        for name in ["r.log.3", "r.log.2", "r.log.1", "r.log"] {
            let content = read(&dir.path(name));
            assert!(content.len() <= 100, "{name} has {} bytes", content.len());
            stored.extend_from_slice(&content);
        }
        assert!(all.ends_with(&stored), "the newest bytes survive in order");
        assert!(!stored.is_empty());
        assert_eq!(names(&dir), vec!["r.log", "r.log.1", "r.log.2", "r.log.3"]);
        // Every rotated file ends on a line boundary.
        for name in ["r.log.3", "r.log.2", "r.log.1"] {
            assert_eq!(read(&dir.path(name)).last(), Some(&b'\n'), "{name}");
        }
    }

    #[test]
    fn a_large_chunk_spans_several_files_without_loss() {
        let dir = TempDir::new();
        let p = dir.path("big.log");
        let mut log = LogFile::open(&p, 10, 5).expect("open");
        let data: Vec<u8> = (0..45u8).map(|i| b'a' + i % 26).collect();
        assert_eq!(log.write(&data), None);
        let mut stored = Vec::new();
        for name in [
            "big.log.4",
            "big.log.3",
            "big.log.2",
            "big.log.1",
            "big.log",
        ] {
            let content = read(&dir.path(name));
            assert!(content.len() <= 10);
            stored.extend_from_slice(&content);
        }
        assert_eq!(stored, data);
        assert_eq!(log.size(), 5);
    }

    #[test]
    fn split_prefers_the_last_newline_that_fits() {
        let dir = TempDir::new();
        let p = dir.path("n.log");
        let mut log = LogFile::open(&p, 10, 1).expect("open");
        log.write(b"ab\ncd\nefghij\n");
        assert_eq!(read(&dir.path("n.log.1")), b"ab\ncd\n");
        assert_eq!(read(&p), b"efghij\n");
    }

    #[test]
    fn a_line_that_does_not_fit_starts_the_next_file() {
        let dir = TempDir::new();
        let p = dir.path("l.log");
        std::fs::write(&p, b"1234567\n").expect("seed");
        let mut log = LogFile::open(&p, 10, 1).expect("open");
        log.write(b"abcde");
        assert_eq!(read(&dir.path("l.log.1")), b"1234567\n");
        assert_eq!(read(&p), b"abcde");
        // Mid-line and no newline fits: split exactly.
        log.write(b"fghijklm\n");
        assert_eq!(read(&dir.path("l.log.1")), b"abcdefghij");
        assert_eq!(read(&p), b"klm\n");
    }

    #[test]
    fn a_line_longer_than_maxbytes_is_split_exactly() {
        let dir = TempDir::new();
        let p = dir.path("w.log");
        let mut log = LogFile::open(&p, 4, 3).expect("open");
        log.write(b"ab\n");
        log.write(b"0123456789\n");
        assert_eq!(read(&dir.path("w.log.3")), b"ab\n");
        assert_eq!(read(&dir.path("w.log.2")), b"0123");
        assert_eq!(read(&dir.path("w.log.1")), b"4567");
        assert_eq!(read(&p), b"89\n");
    }

    #[test]
    fn rotation_happens_before_the_write_not_after() {
        let dir = TempDir::new();
        let p = dir.path("e.log");
        let mut log = LogFile::open(&p, 4, 1).expect("open");
        log.write(b"abcd");
        // Exactly full: still one file until more output comes.
        assert_eq!(names(&dir), vec!["e.log"]);
        log.write(b"e");
        assert_eq!(read(&dir.path("e.log.1")), b"abcd");
        assert_eq!(read(&p), b"e");
    }

    #[test]
    fn existing_file_over_the_limit_rotates_on_first_write() {
        let dir = TempDir::new();
        let p = dir.path("o.log");
        std::fs::write(&p, vec![b'z'; 50]).expect("seed");
        let mut log = LogFile::open(&p, 10, 2).expect("open");
        log.write(b"hi\n");
        assert_eq!(read(&dir.path("o.log.1")).len(), 50);
        assert_eq!(read(&p), b"hi\n");
    }

    #[test]
    fn zero_backups_truncates_in_place() {
        let dir = TempDir::new();
        let p = dir.path("t.log");
        let mut log = LogFile::open(&p, 8, 0).expect("open");
        log.write(b"1234567\n");
        log.write(b"abc\n");
        assert_eq!(read(&p), b"abc\n");
        assert_eq!(names(&dir), vec!["t.log"]);
        assert_eq!(log.size(), 4);
    }

    #[test]
    fn maxbytes_zero_never_rotates() {
        let dir = TempDir::new();
        let p = dir.path("u.log");
        let mut log = LogFile::open(&p, 0, 5).expect("open");
        for _ in 0..100 {
            log.write(b"0123456789");
        }
        assert_eq!(read(&p).len(), 1000);
        assert_eq!(names(&dir), vec!["u.log"]);
    }

    #[test]
    fn failed_rotation_keeps_bytes_and_resumes() {
        let dir = TempDir::new();
        let p = dir.path("s.log");
        let mut log = LogFile::open(&p, 5, 1).expect("open");
        log.write(b"aaaaa");
        // A non-empty directory where the backup is makes its removal fail
        // (EISDIR), even for root, so the plan stops at its first step.
        std::fs::create_dir(dir.path("s.log.1")).expect("mkdir");
        std::fs::write(dir.path("s.log.1").join("blocker"), b"x").expect("blocker");
        let notice = log.write(b"bbbbb");
        assert!(
            matches!(notice, Some(Notice::Failing { ref reason, .. }) if reason.contains("rotate")),
            "{notice:?}"
        );
        assert_eq!(read(&p), b"aaaaabbbbb", "nothing lost while stuck");
        assert_eq!(log.write(b"ccccc"), None, "reported once");
        std::fs::remove_dir_all(dir.path("s.log.1")).expect("unblock");
        let notice = log.write(b"ddddd");
        assert_eq!(
            notice,
            Some(Notice::Recovered {
                path: p.clone(),
                lost: 0
            })
        );
        assert_eq!(read(&dir.path("s.log.1")), b"aaaaabbbbbccccc");
        assert_eq!(read(&p), b"ddddd");
    }

    #[test]
    fn missing_directory_reports_once_and_recovers() {
        let dir = TempDir::new();
        let p = dir.path("sub/x.log");
        let err = LogFile::open(&p, 0, 0).expect_err("no dir");
        assert_eq!(errno_name(&err), "ENOENT");
        let (mut log, notice) = LogFile::open_lenient(&p, 0, 0);
        assert!(matches!(notice, Some(Notice::Failing { .. })), "{notice:?}");
        assert_eq!(log.write(b"lost1"), None);
        assert_eq!(log.write(b"lost22"), None);
        std::fs::create_dir(dir.path("sub")).expect("mkdir");
        assert_eq!(
            log.write(b"kept\n"),
            Some(Notice::Recovered {
                path: p.clone(),
                lost: 11
            })
        );
        assert_eq!(read(&p), b"kept\n");
        assert_eq!(log.write(b"more\n"), None);
    }

    #[test]
    fn write_errors_report_once() {
        // /dev/full is a stream that fails every write with ENOSPC.
        if !Path::new("/dev/full").exists() {
            return;
        }
        let mut log = LogFile::open("/dev/full", 1000, 3).expect("open /dev/full");
        assert!(log.is_stream());
        let notice = log.write(b"abc");
        match &notice {
            Some(Notice::Failing { reason, .. }) => assert!(reason.contains("ENOSPC"), "{reason}"),
            other => panic!("want Failing, got {other:?}"),
        }
        assert_eq!(notice.as_ref().map(Notice::level), Some(LogLevel::Error));
        assert_eq!(log.write(b"defg"), None);
    }

    #[test]
    fn dev_paths_are_streams_even_when_regular() {
        // /dev/stdout may be a regular file when stdout is redirected; it must
        // never be rotated or removed.
        let mut log = LogFile::open("/dev/null", 1, 1).expect("open /dev/null");
        assert!(log.is_stream());
        for _ in 0..5 {
            assert_eq!(log.write(b"0123456789"), None);
        }
        assert_eq!(log.size(), 0);
        assert!(log.clear().is_ok());
        assert!(Path::new("/dev/null").exists());
        assert_eq!(log.reopen(), None);
    }

    #[test]
    fn fifo_without_reader_fails_then_works_and_applies_backpressure() {
        let dir = TempDir::new();
        let fifo = dir.path("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");
        let (mut log, notice) = LogFile::open_lenient(&fifo, 100, 1);
        assert!(matches!(notice, Some(Notice::Failing { .. })), "{notice:?}");
        let reader = rustix::fs::open(
            &fifo,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .expect("reader");
        assert!(matches!(
            log.write(b"hi"),
            Some(Notice::Recovered { lost: 0, .. })
        ));
        assert!(log.is_stream());
        // Fill the pipe: the rest is queued, not lost, and congestion shows.
        let big = vec![b'q'; 256 * 1024];
        assert_eq!(log.write(&big), None);
        let congestion = log.congestion().expect("congested");
        let mut got = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        while got.len() < big.len() + 2 {
            if let Ok(n) = rustix::io::read(&reader, &mut buf) {
                got.extend_from_slice(buf.get(..n).unwrap_or_default());
            }
            async_io::block_on(congestion.clone().wait());
            assert_eq!(log.write(&[]), None);
        }
        assert!(log.congestion().is_none());
        assert_eq!(got.len(), big.len() + 2);
        assert!(got.starts_with(b"hiqqq"));
    }

    #[test]
    fn reopen_recreates_a_moved_file() {
        let dir = TempDir::new();
        let p = dir.path("m.log");
        let mut log = LogFile::open(&p, 0, 0).expect("open");
        log.write(b"before\n");
        std::fs::rename(&p, dir.path("m.log.moved")).expect("move");
        log.write(b"still old\n");
        assert_eq!(log.reopen(), None);
        log.write(b"after\n");
        assert_eq!(read(&dir.path("m.log.moved")), b"before\nstill old\n");
        assert_eq!(read(&p), b"after\n");
    }

    #[test]
    fn clear_removes_the_file_and_keeps_backups() {
        let dir = TempDir::new();
        let p = dir.path("c.log");
        let mut log = LogFile::open(&p, 5, 1).expect("open");
        log.write(b"12345");
        log.write(b"678");
        assert_eq!(names(&dir), vec!["c.log", "c.log.1"]);
        log.clear().expect("clear");
        assert_eq!(read(&p), b"");
        assert_eq!(log.size(), 0);
        assert_eq!(names(&dir), vec!["c.log", "c.log.1"]);
        log.write(b"x");
        assert_eq!(read(&p), b"x");
    }

    #[test]
    fn clear_when_the_file_is_already_gone() {
        let dir = TempDir::new();
        let p = dir.path("g.log");
        let mut log = LogFile::open(&p, 0, 0).expect("open");
        std::fs::remove_file(&p).expect("rm");
        log.clear().expect("clear");
        assert!(p.exists());
    }

    #[test]
    fn followers_get_coalesced_wakeups() {
        let dir = TempDir::new();
        let mut log = LogFile::open(dir.path("f.log"), 0, 0).expect("open");
        let rx = log.subscribe();
        let gone = log.subscribe();
        drop(gone);
        log.write(b"a");
        log.write(b"b");
        assert_eq!(rx.try_recv(), Ok(()));
        assert!(rx.try_recv().is_err(), "two writes, one wake-up");
        assert_eq!(log.followers.len(), 1, "dropped receivers are pruned");
        log.clear().expect("clear");
        assert_eq!(rx.try_recv(), Ok(()));
    }

    #[test]
    fn new_files_follow_the_umask() {
        let dir = TempDir::new();
        let p = dir.path("mode.log");
        let _log = LogFile::open(&p, 0, 0).expect("open");
        let mode = rustix::fs::stat(&p).expect("stat").st_mode & 0o777;
        // Read the umask without changing it: tests run in parallel.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let Some(umask) = status
            .lines()
            .find_map(|l| l.strip_prefix("Umask:"))
            .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        else {
            return;
        };
        assert_eq!(mode, 0o666 & !umask);
    }

    #[test]
    fn an_empty_write_proves_nothing() {
        let dir = TempDir::new();
        let p = dir.path("sub/x.log");
        let (mut log, notice) = LogFile::open_lenient(&p, 0, 0);
        assert!(notice.is_some());
        assert_eq!(log.write(b""), None, "no false recovery");
        std::fs::create_dir(dir.path("sub")).expect("mkdir");
        assert_eq!(log.write(b""), None);
        assert!(matches!(log.write(b"x"), Some(Notice::Recovered { .. })));
    }

    #[test]
    fn external_truncation_is_noticed_before_rotating() {
        let dir = TempDir::new();
        let p = dir.path("ct.log");
        let mut log = LogFile::open(&p, 10, 1).expect("open");
        log.write(b"123456789\n");
        // logrotate's copytruncate empties the file behind our back.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .and_then(|f| f.set_len(0))
            .expect("truncate");
        log.write(b"abc\n");
        assert_eq!(read(&p), b"abc\n");
        assert!(!dir.path("ct.log.1").exists());
    }

    #[test]
    fn special_paths() {
        assert!(is_special_path(Path::new("/dev/stdout")));
        assert!(is_special_path(Path::new("/proc/self/fd/1")));
        assert!(!is_special_path(Path::new("/dev/shm/app.log")));
        assert!(!is_special_path(Path::new("/devices/app.log")));
        assert!(!is_special_path(Path::new("/var/log/app.log")));
    }

    #[test]
    fn cut_point_cases() {
        assert_eq!(cut_point(b"ab\ncd\nef", 7, true), 6);
        assert_eq!(cut_point(b"abcdef", 4, false), 4);
        assert_eq!(cut_point(b"abcdef", 4, true), 0);
        assert_eq!(cut_point(b"abc\n", 4, true), 4);
        assert_eq!(cut_point(b"\nabc", 2, false), 1);
        assert_eq!(cut_point(b"abc", u64::MAX, false), 3);
    }

    #[test]
    fn auto_log_names_like_mkstemp() {
        let p = auto_log_path(Path::new("/tmp"), "web", "stdout", "supervisor");
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        assert!(name.starts_with("web-stdout---supervisor-"), "{name}");
        assert!(name.ends_with(".log"));
        let random = &name["web-stdout---supervisor-".len()..name.len() - 4];
        assert_eq!(random.len(), 8);
        assert!(random.bytes().all(|b| TEMP_NAME_CHARS.contains(&b)));
        assert_eq!(p.parent(), Some(Path::new("/tmp")));
    }

    #[test]
    fn create_auto_log_makes_a_private_file() {
        let dir = TempDir::new();
        let p = create_auto_log(&dir.0, "web", "stderr", "supervisor").expect("create");
        let mode = rustix::fs::stat(&p).expect("stat").st_mode & 0o777;
        assert_eq!(mode, 0o600);
        let q = create_auto_log(&dir.0, "web", "stderr", "supervisor").expect("create");
        assert_ne!(p, q);
        assert!(create_auto_log(&dir.path("missing"), "w", "stdout", "s").is_err());
    }

    #[test]
    fn clear_auto_logs_removes_matching_files_and_backups() {
        let dir = TempDir::new();
        for name in [
            "web-stdout---supervisor-abc12345.log",
            "web-stdout---supervisor-abc12345.log.1",
            "web-stdout---supervisor-abc12345.log.10",
            "web-stderr---other-abc12345.log",
            "keep.log",
            "---supervisor-x.log",
            "x---supervisor-.log",
        ] {
            std::fs::write(dir.path(name), b"").expect("seed");
        }
        assert_eq!(clear_auto_logs(&dir.0, "supervisor"), Vec::<String>::new());
        assert_eq!(
            names(&dir),
            vec![
                "---supervisor-x.log",
                "keep.log",
                "web-stderr---other-abc12345.log",
                "x---supervisor-.log"
            ]
        );
        assert_eq!(
            clear_auto_logs(&dir.path("missing"), "supervisor"),
            vec!["Could not clear childlog dir".to_string()]
        );
    }

    /// Cases checked against Python's `re.match` with 4.3's pattern.
    #[test]
    fn auto_log_name_pattern_matches_python() {
        let cases = [
            ("a---sv-x.log", true),
            ("a---sv-xy.log.3", true),
            ("a---sv-.log", false),
            ("---sv-x.log", false),
            ("a---sv-x y.log", false),
            ("a---sv-x.lo", false),
            ("a---sv-x.logfile", true),
            ("a---sv---sv-x.log", true),
            ("a b---sv-x.log", true),
            ("a\n---sv-x.log", false),
            ("zz---sv-.log---sv-q.log", true),
        ];
        for (name, want) in cases {
            assert_eq!(is_auto_log_name(OsStr::new(name), "sv"), want, "{name:?}");
        }
    }

    #[test]
    fn errno_names() {
        assert_eq!(errno_name(&Errno::ACCESS.into()), "EACCES");
        assert_eq!(errno_name(&Errno::MFILE.into()), "EMFILE");
        assert_eq!(errno_name(&io::Error::from_raw_os_error(4000)), "4000");
    }

    #[test]
    fn notice_messages() {
        let failing = Notice::Failing {
            path: PathBuf::from("/l/a.log"),
            reason: "cannot write: No space left on device (ENOSPC)".into(),
        };
        assert_eq!(
            failing.to_string(),
            "log file /l/a.log: cannot write: No space left on device (ENOSPC)"
        );
        let back = Notice::Recovered {
            path: PathBuf::from("/l/a.log"),
            lost: 12,
        };
        assert_eq!(
            back.to_string(),
            "log file /l/a.log works again; 12 bytes of output were lost"
        );
        assert_eq!(back.level(), LogLevel::Info);
    }
}
