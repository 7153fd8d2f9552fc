//! supervisord's own stdout and stderr as line outlets: forwarded program
//! lines (`forward_to_stdout=`) and the nodaemon echo of the main log go
//! through one `Outlet` per stream, so two writers never interleave halves
//! of their lines, and a reader that stops reading (a paused `docker logs`)
//! never blocks the daemon.
//!
//! Only whole lines are accepted. What the stream cannot take at once is
//! queued (at most BACKLOG_LIMIT bytes); past that, lines are dropped and
//! counted. When the queue has drained, one line says how many were
//! dropped. The main log hears of it once per episode: the outlet keeps
//! the news and `flush_task` says it, never from inside a write (the main
//! log echoes through an outlet itself).

use std::cell::RefCell;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::rc::Rc;

use async_io::Async;
use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;
use smol::channel::{Receiver, Sender};

use crate::config::LogLevel;

/// Bytes queued for a stream that does not take them at once; beyond,
/// lines are dropped (the brief's 1 MiB: a few seconds of a chatty program).
pub const BACKLOG_LIMIT: usize = 1 << 20;

/// Which of supervisord's own streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Std {
    Out,
    Err,
}

impl Std {
    fn fd(self) -> BorrowedFd<'static> {
        match self {
            Std::Out => rustix::stdio::stdout(),
            Std::Err => rustix::stdio::stderr(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Std::Out => "stdout",
            Std::Err => "stderr",
        }
    }
}

/// How the stream is written.
enum Target {
    /// Closed or unusable: lines vanish (as they would on /dev/null).
    None,
    /// A pipe, FIFO or tty through a description of our own, non-blocking.
    Pollable(Rc<Async<OwnedFd>>),
    /// A socket (systemd's journal) shares its flags with whoever else holds
    /// it, so it stays as it is and each send says MSG_DONTWAIT.
    Socket(Rc<Async<OwnedFd>>),
    /// A regular file or a device such as /dev/null: writes do not block.
    Plain(OwnedFd),
}

struct Inner {
    target: Target,
    /// Whole lines not written yet; the first `sent` bytes are written.
    backlog: Vec<u8>,
    sent: usize,
    /// Lines dropped in the current episode.
    dropped: u64,
    /// Whether the last write attempt failed for good (not a full pipe):
    /// the drop notice would only fail the same way.
    broken: bool,
    /// What the main log should say, taken by `flush_task`.
    news: Vec<(LogLevel, String)>,
}

/// One of supervisord's standard streams, written a whole line at a time.
pub struct Outlet {
    which: Std,
    inner: RefCell<Inner>,
    bell: Sender<()>,
    bell_rx: Receiver<()>,
}

/// Both outlets, shared by the main log (echo) and the core (forwarding).
#[derive(Clone)]
pub struct Outlets {
    pub stdout: Rc<Outlet>,
    pub stderr: Rc<Outlet>,
}

impl Outlets {
    /// supervisord's stdout and stderr as they are now (after daemonizing
    /// they are /dev/null, which makes forwarding harmless).
    pub fn open() -> Outlets {
        Outlets {
            stdout: Rc::new(Outlet::open(Std::Out)),
            stderr: Rc::new(Outlet::open(Std::Err)),
        }
    }
}

impl Outlet {
    pub fn open(which: Std) -> Outlet {
        Outlet::with_target(which, open_target(which.fd()).unwrap_or(Target::None))
    }

    /// An outlet on any descriptor (tests: a file or a pipe).
    #[cfg(test)]
    pub fn on_fd(which: Std, fd: OwnedFd) -> Outlet {
        use std::os::fd::AsFd;
        let target = open_target(fd.as_fd()).unwrap_or(Target::Plain(fd));
        Outlet::with_target(which, target)
    }

    fn with_target(which: Std, target: Target) -> Outlet {
        let (bell, bell_rx) = smol::channel::bounded(1);
        Outlet {
            which,
            inner: RefCell::new(Inner {
                target,
                backlog: Vec::new(),
                sent: 0,
                dropped: 0,
                broken: false,
                news: Vec::new(),
            }),
            bell,
            bell_rx,
        }
    }

    /// Writes `lines` (whole lines, each ending in a newline) now, or queues
    /// them, or drops them all when the queue is full. Never blocks.
    pub fn write_lines(&self, lines: &[u8]) {
        if lines.is_empty() {
            return;
        }
        let Ok(mut inner) = self.inner.try_borrow_mut() else {
            return;
        };
        inner.flush();
        inner.end_episode(self.which);
        if inner.pending() == 0 {
            let (written, ok) = inner.write_now(lines);
            if !ok {
                inner.fail(
                    self.which,
                    count_lines(lines.get(written..).unwrap_or_default()),
                );
            } else if written < lines.len() {
                inner
                    .backlog
                    .extend_from_slice(lines.get(written..).unwrap_or_default());
            }
        } else if inner.pending().saturating_add(lines.len()) <= BACKLOG_LIMIT {
            inner.backlog.extend_from_slice(lines);
        } else {
            inner.drop_lines(self.which, count_lines(lines));
        }
        if inner.pending() > 0 || !inner.news.is_empty() {
            let _ = self.bell.try_send(());
        }
    }

    /// Keeps writing the queue as the stream takes it, ends episodes and
    /// hands the main log its news through `report` (called with no borrow
    /// of the outlet held, so the main log may echo through it).
    pub async fn flush_task(self: Rc<Self>, report: impl Fn(LogLevel, &str)) {
        loop {
            let news = match self.inner.try_borrow_mut() {
                Ok(mut inner) => std::mem::take(&mut inner.news),
                Err(_) => Vec::new(),
            };
            for (level, message) in news {
                report(level, &message);
            }
            let stream = match self.inner.try_borrow() {
                Ok(inner) if inner.pending() > 0 => inner.pollable(),
                _ => None,
            };
            // A ring means news or a fresh queue; with a queue, the stream
            // turning writable matters too. Nothing to wait on (a plain
            // file): the next write retries.
            let rung = async { self.bell_rx.recv().await.is_ok() };
            let alive = match stream {
                Some(stream) => {
                    let writable = async {
                        let _ = stream.writable().await;
                        true
                    };
                    smol::future::or(writable, rung).await
                }
                None => rung.await,
            };
            if !alive {
                return;
            }
            if let Ok(mut inner) = self.inner.try_borrow_mut() {
                inner.flush();
                inner.end_episode(self.which);
            }
        }
    }
}

impl Inner {
    fn pending(&self) -> usize {
        self.backlog.len().saturating_sub(self.sent)
    }

    fn pollable(&self) -> Option<Rc<Async<OwnedFd>>> {
        match &self.target {
            Target::Pollable(a) | Target::Socket(a) => Some(Rc::clone(a)),
            Target::None | Target::Plain(_) => None,
        }
    }

    /// Writes as much of the queue as the stream takes.
    fn flush(&mut self) {
        if self.pending() == 0 {
            return;
        }
        let queued = std::mem::take(&mut self.backlog);
        let rest = queued.get(self.sent..).unwrap_or_default();
        let (written, ok) = self.write_now(rest);
        if !ok {
            let lost = count_lines(rest.get(written..).unwrap_or_default());
            self.sent = 0;
            self.fail_quietly(lost);
            return;
        }
        self.sent += written;
        self.backlog = queued;
        if self.sent >= self.backlog.len() {
            self.backlog.clear();
            self.sent = 0;
        } else if self.sent >= BACKLOG_LIMIT / 2 {
            // Keep the queue from creeping: forget what was written.
            self.backlog.drain(..self.sent);
            self.sent = 0;
        }
    }

    /// The queue drained after drops: say so on the stream and in the log.
    fn end_episode(&mut self, which: Std) {
        if self.dropped == 0 || self.pending() > 0 || self.broken {
            return;
        }
        let dropped = std::mem::take(&mut self.dropped);
        let line = format!(
            "[supervisord] dropped {dropped} lines ({} blocked)\n",
            which.name()
        );
        self.news.push((
            LogLevel::Info,
            format!(
                "supervisord's {} takes output again; {dropped} lines were dropped",
                which.name()
            ),
        ));
        let (written, ok) = self.write_now(line.as_bytes());
        if ok && written < line.len() {
            self.backlog
                .extend_from_slice(line.as_bytes().get(written..).unwrap_or_default());
        }
    }

    fn drop_lines(&mut self, which: Std, lines: u64) {
        if self.dropped == 0 {
            self.news.push((
                LogLevel::Warn,
                format!(
                    "supervisord's {} is not taking output (a reader stopped reading?); \
                     dropping lines until it does",
                    which.name()
                ),
            ));
        }
        self.dropped = self.dropped.saturating_add(lines.max(1));
    }

    fn fail(&mut self, which: Std, lines: u64) {
        if !self.broken {
            self.news.push((
                LogLevel::Warn,
                format!(
                    "cannot write to supervisord's {}; dropping lines until it works again",
                    which.name()
                ),
            ));
        }
        self.fail_quietly(lines);
    }

    fn fail_quietly(&mut self, lines: u64) {
        self.broken = true;
        self.backlog.clear();
        self.sent = 0;
        self.dropped = self.dropped.saturating_add(lines);
    }

    /// One non-blocking attempt: (bytes written, false on a real error).
    fn write_now(&mut self, mut data: &[u8]) -> (usize, bool) {
        let total = data.len();
        while !data.is_empty() {
            let result = match &self.target {
                Target::None => return (total, true),
                Target::Pollable(a) => rustix::io::write(a.get_ref(), data),
                Target::Plain(fd) => rustix::io::write(fd, data),
                Target::Socket(a) => rustix::net::send(
                    a.get_ref(),
                    data,
                    rustix::net::SendFlags::DONTWAIT | rustix::net::SendFlags::NOSIGNAL,
                ),
            };
            match result {
                Ok(0) => return (total - data.len(), false),
                Ok(n) => data = data.get(n..).unwrap_or_default(),
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => break,
                Err(_) => return (total - data.len(), false),
            }
        }
        self.broken = false;
        (total - data.len(), true)
    }
}

fn count_lines(data: &[u8]) -> u64 {
    data.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Chooses how to write `fd` without ever blocking on it.
fn open_target(fd: BorrowedFd<'_>) -> Option<Target> {
    let stat = rustix::fs::fstat(fd).ok()?;
    let kind = FileType::from_raw_mode(stat.st_mode);
    let is_tty = kind == FileType::CharacterDevice && rustix::termios::isatty(fd);
    match kind {
        FileType::Fifo => reopen_nonblocking(fd),
        FileType::CharacterDevice if is_tty => reopen_nonblocking(fd),
        FileType::Socket => {
            let own = rustix::io::fcntl_dupfd_cloexec(fd, 3).ok()?;
            Some(Target::Socket(Rc::new(Async::new_nonblocking(own).ok()?)))
        }
        // Appending through a description of our own, as /dev/stdout log
        // files do: a shared offset would overwrite what they appended.
        FileType::RegularFile => match reopen(fd, OFlags::APPEND) {
            Some(own) => Some(Target::Plain(own)),
            None => Some(Target::Plain(rustix::io::fcntl_dupfd_cloexec(fd, 3).ok()?)),
        },
        _ => Some(Target::Plain(rustix::io::fcntl_dupfd_cloexec(fd, 3).ok()?)),
    }
}

fn reopen(fd: BorrowedFd<'_>, extra: OFlags) -> Option<OwnedFd> {
    let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
    let flags = OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY | extra;
    rustix::fs::open(path.as_str(), flags, Mode::empty()).ok()
}

/// A description of our own for a pipe or tty, so O_NONBLOCK does not
/// change it for the shell or container runtime that shares the original.
fn reopen_nonblocking(fd: BorrowedFd<'_>) -> Option<Target> {
    let own = reopen(fd, OFlags::NONBLOCK)?;
    Some(Target::Pollable(Rc::new(Async::new(own).ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::pipe::{pipe_with, PipeFlags};

    fn read_all(fd: &OwnedFd) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = rustix::io::read(fd, &mut buf[..]) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    fn nonblocking_pipe() -> (OwnedFd, OwnedFd) {
        let (r, w) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).expect("pipe");
        (r, w)
    }

    #[test]
    fn lines_pass_through_whole() {
        let (r, w) = nonblocking_pipe();
        let outlet = Outlet::on_fd(Std::Out, w);
        outlet.write_lines(b"[a] one\n");
        outlet.write_lines(b"[b] two\n[b] three\n");
        assert_eq!(read_all(&r), b"[a] one\n[b] two\n[b] three\n");
    }

    #[test]
    fn a_blocked_stream_queues_then_drops_and_says_so_when_drained() {
        let (r, w) = nonblocking_pipe();
        let outlet = Rc::new(Outlet::on_fd(Std::Out, w));
        let line = vec![b'x'; 1023]
            .into_iter()
            .chain([b'\n'])
            .collect::<Vec<u8>>();
        // The pipe (64 KiB) and the queue (1 MiB) fill; the rest is dropped.
        for _ in 0..2000 {
            outlet.write_lines(&line);
        }
        let news: Vec<(LogLevel, String)> = outlet.inner.borrow().news.clone();
        assert_eq!(news.len(), 1, "{news:?}");
        assert_eq!(news[0].0, LogLevel::Warn);
        let mut got = read_all(&r);
        // Drained by the reader: the next write flushes and ends the episode.
        while outlet.inner.borrow().pending() > 0 {
            outlet.inner.borrow_mut().flush();
            got.extend(read_all(&r));
        }
        outlet.write_lines(b"after\n");
        got.extend(read_all(&r));
        let text = String::from_utf8_lossy(&got);
        let lines: Vec<&str> = text.lines().collect();
        let kept = lines.iter().filter(|l| l.starts_with('x')).count();
        assert!(lines.iter().all(|l| l.len() == 1023 || !l.starts_with('x')));
        let notice = format!(
            "[supervisord] dropped {} lines (stdout blocked)",
            2000 - kept
        );
        assert_eq!(lines[lines.len() - 2], notice);
        assert_eq!(lines[lines.len() - 1], "after");
        assert!(kept >= 1024, "the queue held only {kept} lines");
        let news = &outlet.inner.borrow().news;
        assert_eq!(news.len(), 2, "{news:?}");
    }

    #[test]
    fn a_closed_reader_is_reported_once_and_never_blocks() {
        let (r, w) = nonblocking_pipe();
        drop(r);
        let outlet = Outlet::on_fd(Std::Err, w);
        outlet.write_lines(b"a\n");
        outlet.write_lines(b"b\n");
        let inner = outlet.inner.borrow();
        assert_eq!(inner.news.len(), 1, "{:?}", inner.news);
        assert_eq!(inner.dropped, 2);
    }

    #[test]
    fn the_flush_task_drains_the_queue_and_reports_outside_the_borrow() {
        let (r, w) = nonblocking_pipe();
        let outlet = Rc::new(Outlet::on_fd(Std::Out, w));
        let big = vec![b'y'; 200 * 1024 - 1]
            .into_iter()
            .chain([b'\n'])
            .collect::<Vec<u8>>();
        outlet.write_lines(&big);
        assert!(outlet.inner.borrow().pending() > 0, "the pipe took it all");
        let reports = RefCell::new(Vec::new());
        let got = RefCell::new(Vec::new());
        let ex = smol::LocalExecutor::new();
        let task = ex.spawn(Rc::clone(&outlet).flush_task(|level, message: &str| {
            // The main log echoes through the outlet while reporting.
            outlet.write_lines(b"echo\n");
            reports.borrow_mut().push((level, message.to_string()));
        }));
        async_io::block_on(ex.run(async {
            while got.borrow().len() < big.len() {
                got.borrow_mut().extend(read_all(&r));
                smol::future::yield_now().await;
            }
        }));
        drop(task);
        assert_eq!(got.borrow().len(), big.len());
        assert!(reports.borrow().is_empty());
    }
}
