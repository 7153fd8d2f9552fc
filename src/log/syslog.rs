//! Syslog, as 4.3 sends to it: `stdout_syslog`/`stderr_syslog` (and the
//! deprecated `stdout_logfile=syslog`) copy a program's output there, and
//! `[supervisord] logfile=syslog` sends the main log there.
//!
//! 4.3's `SyslogHandler` strips the trailing newlines of a record, splits it
//! at `\n` and passes each line through the handler's format to Python's
//! `syslog.syslog(msg)`: priority LOG_INFO, facility LOG_USER (`<14>`,
//! whatever the level), ident the basename of `argv[0]` (`supervisord`), no
//! pid. glibc then sends one datagram to `/dev/log` per line:
//!
//! ```text
//! <14>Jan  2 03:04:05 supervisord: web hello            (a program's line)
//! <14>Jan  2 03:04:05 supervisord: 2026-01-02 03:04:05,678 INFO spawned: 'web' with pid 7\n
//! ```
//!
//! The format of a program's line is `name + ' %(message)s'`; the main log's
//! is its usual `'%(asctime)s %(levelname)s %(message)s\n'`, trailing newline
//! included. The stamp after the priority is glibc's `%h %e %T` in local time.
//! A message stops at its first NUL (glibc sees a C string), and output that
//! is not UTF-8 is not sent at all (4.3's handler fails to decode it).
//!
//! Unlike glibc, which blocks when the syslog daemon is slow, the socket is
//! non-blocking: a message that cannot be sent at once is dropped and
//! counted. The first failure is reported once (an [`Event`] the main log
//! writes), the next message tries again (reconnecting when the connection
//! is gone, as glibc does), and the first one that gets through reports how
//! many were lost. There is one connection per process, as in libc.
//!
//! The socket is `/dev/log`, or the path in `SUPERVISOR_SYSLOG_SOCKET` (read
//! once, when the daemon opens its main log), for tests.

use std::fmt;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use crate::config::LogLevel;
use crate::log::writer::errno_name;
use crate::timefmt::Zone;

/// Where the local syslog daemon listens.
pub const DEFAULT_SOCKET: &str = "/dev/log";
/// The environment variable that points syslog elsewhere (tests).
pub const SOCKET_ENV: &str = "SUPERVISOR_SYSLOG_SOCKET";
/// What 4.3's messages are tagged with: Python's default ident, the basename
/// of `sys.argv[0]`, for the installed `supervisord` script.
pub const IDENT: &str = "supervisord";
/// LOG_USER (1 << 3) | LOG_INFO (6): Python's `syslog.syslog(msg)`.
pub const PRIORITY: u8 = 14;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `<14>Jan  2 03:04:05 supervisord: `: what glibc puts before a message
/// (`<%d>` then `%h %e %T ` in the C locale, the ident and `: `).
pub fn header(zone: &Zone, now: SystemTime) -> String {
    let c = zone.local(now).civil;
    let month = MONTHS
        .get(usize::from(c.month).saturating_sub(1))
        .copied()
        .unwrap_or("Jan");
    format!(
        "<{PRIORITY}>{month} {:>2} {:02}:{:02}:{:02} {IDENT}: ",
        c.day, c.hour, c.minute, c.second
    )
}

/// 4.3's `message.rstrip('\n').split('\n')`: a record's lines (at least
/// one, possibly empty).
pub fn record_lines(message: &str) -> std::str::Split<'_, char> {
    message.trim_end_matches('\n').split('\n')
}

/// The messages 4.3 sends for one chunk of a program's output: each line
/// through `name + ' %(message)s'`. None when the chunk is not UTF-8 (4.3's
/// handler fails to decode it and sends nothing) or the name makes the
/// format invalid.
pub fn program_messages(
    name: &str,
    data: &[u8],
    asctime: &dyn Fn() -> String,
) -> Option<Vec<String>> {
    let text = std::str::from_utf8(data).ok()?;
    if !name.contains('%') {
        return Some(
            record_lines(text)
                .map(|line| {
                    let mut message = String::with_capacity(name.len() + 1 + line.len());
                    message.push_str(name);
                    message.push(' ');
                    message.push_str(line);
                    message
                })
                .collect(),
        );
    }
    // The name is part of a %-format: `%%` and `%(key)s` mean something.
    let fmt = format!("{name} %(message)s");
    let asctime = asctime();
    record_lines(text)
        .map(|line| percent_format(&fmt, line, "INFO", &asctime))
        .collect()
}

/// The messages for a main log record: `'%(asctime)s %(levelname)s
/// %(message)s\n'` for each of its lines, newline included.
pub fn main_log_messages(asctime: &str, levelname: &str, message: &str) -> Vec<String> {
    record_lines(message)
        .map(|line| format!("{asctime} {levelname} {line}\n"))
        .collect()
}

/// Python's `fmt % {'message': .., 'levelname': .., 'asctime': ..}` for the
/// forms a name can bring in: `%%` and `%(key)s`. Anything else (an unknown
/// key, another conversion) is None: Python would raise, and 4.3's handler
/// then sends nothing.
fn percent_format(fmt: &str, message: &str, levelname: &str, asctime: &str) -> Option<String> {
    let mut out = String::with_capacity(fmt.len() + message.len());
    let mut rest = fmt;
    while let Some(at) = rest.find('%') {
        out.push_str(rest.get(..at)?);
        let after = rest.get(at + 1..)?;
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
            continue;
        }
        let inner = after.strip_prefix('(')?;
        let close = inner.find(')')?;
        let key = inner.get(..close)?;
        let tail = inner.get(close + 1..)?.strip_prefix('s')?;
        out.push_str(match key {
            "message" => message,
            "levelname" => levelname,
            "asctime" => asctime,
            _ => return None,
        });
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

/// One datagram: the header and the message up to its first NUL.
pub fn datagram(header: &str, message: &str) -> Vec<u8> {
    let bytes = message.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let mut out = Vec::with_capacity(header.len() + end);
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(bytes.get(..end).unwrap_or_default());
    out
}

/// A change in syslog's health, for the main log (once per change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Messages are being dropped: `reason` says why.
    Failing { path: PathBuf, reason: String },
    /// Messages get through again; `lost` were dropped meanwhile.
    Recovered { path: PathBuf, lost: u64 },
}

impl Event {
    pub fn level(&self) -> LogLevel {
        match self {
            Event::Failing { .. } => LogLevel::Error,
            Event::Recovered { .. } => LogLevel::Info,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Failing { path, reason } => write!(
                f,
                "syslog {}: {reason}; dropping messages until it works again",
                path.display()
            ),
            Event::Recovered { path, lost } => write!(
                f,
                "syslog {} works again; {lost} message{} lost",
                path.display(),
                if *lost == 1 { " was" } else { "s were" }
            ),
        }
    }
}

/// `Connection refused (ECONNREFUSED)`.
fn describe(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(cut) => text.get(..cut).unwrap_or(&text).to_string(),
        None => text,
    };
    match e.raw_os_error() {
        Some(_) => format!("cannot send: {text} ({})", errno_name(e)),
        None => format!("cannot send: {text}"),
    }
}

/// The reader is there but cannot take more now: keep the connection.
fn is_full(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(libc::ENOBUFS)
}

fn connect(path: &Path) -> io::Result<UnixDatagram> {
    let sock = UnixDatagram::unbound()?;
    sock.set_nonblocking(true)?;
    sock.connect(path)?;
    Ok(sock)
}

/// The connection to syslog and its health.
pub struct Sender {
    path: PathBuf,
    zone: Zone,
    sock: Option<UnixDatagram>,
    failing: bool,
    lost: u64,
    events: Vec<Event>,
}

impl Sender {
    pub fn new(path: PathBuf, zone: Zone) -> Sender {
        Sender {
            path,
            zone,
            sock: None,
            failing: false,
            lost: 0,
            events: Vec::new(),
        }
    }

    /// A chunk of `name`'s output, as 4.3's child log sends it.
    pub fn send_output(&mut self, name: &str, data: &[u8], now: SystemTime) {
        let zone = &self.zone;
        let asctime = || zone.log_stamp(now);
        let Some(messages) = program_messages(name, data, &asctime) else {
            return;
        };
        let header = header(&self.zone, now);
        for message in messages {
            self.send(&datagram(&header, &message));
        }
    }

    /// A main log record at `level`.
    pub fn send_main(&mut self, level: LogLevel, message: &str, now: SystemTime) {
        let asctime = self.zone.log_stamp(now);
        let header = header(&self.zone, now);
        let levelname = crate::log::activity::level_name(level);
        for message in main_log_messages(&asctime, levelname, message) {
            self.send(&datagram(&header, &message));
        }
    }

    /// The health changes since the last call, oldest first.
    pub fn take_event(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            None
        } else {
            Some(self.events.remove(0))
        }
    }

    fn send(&mut self, datagram: &[u8]) {
        match self.try_send(datagram) {
            Ok(()) => {
                if self.failing {
                    self.failing = false;
                    self.events.push(Event::Recovered {
                        path: self.path.clone(),
                        lost: std::mem::take(&mut self.lost),
                    });
                }
            }
            Err(e) => {
                self.lost = self.lost.saturating_add(1);
                if !self.failing {
                    self.failing = true;
                    self.events.push(Event::Failing {
                        path: self.path.clone(),
                        reason: describe(&e),
                    });
                }
            }
        }
    }

    /// One attempt, with glibc's one retry on a fresh connection when an
    /// established one fails (the syslog daemon restarted).
    fn try_send(&mut self, datagram: &[u8]) -> io::Result<()> {
        if let Some(sock) = &self.sock {
            match sock.send(datagram) {
                Ok(_) => return Ok(()),
                Err(e) if is_full(&e) => return Err(e),
                Err(_) => self.sock = None,
            }
        }
        let sock = connect(&self.path)?;
        let sent = sock.send(datagram);
        match &sent {
            Err(e) if !is_full(e) => {}
            _ => self.sock = Some(sock),
        }
        sent.map(|_| ())
    }
}

/// The process's one connection (libc's syslog state is global too).
static SENDER: Mutex<Option<Sender>> = Mutex::new(None);

fn sender() -> MutexGuard<'static, Option<Sender>> {
    SENDER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The socket path: `$SUPERVISOR_SYSLOG_SOCKET` when set and not empty.
fn socket_path() -> PathBuf {
    std::env::var_os(SOCKET_ENV)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_SOCKET), PathBuf::from)
}

/// Sets up the connection's path (from the environment) and the zone of
/// its stamps; later calls change nothing. Nothing is opened until the
/// first message.
pub fn init(zone: &Zone) {
    let mut guard = sender();
    if guard.is_none() {
        *guard = Some(Sender::new(socket_path(), zone.clone()));
    }
}

fn with_sender<R>(f: impl FnOnce(&mut Sender) -> R) -> R {
    let mut guard = sender();
    let sender = guard.get_or_insert_with(|| Sender::new(socket_path(), Zone::from_env()));
    f(sender)
}

/// Sends a chunk of `name`'s output (see [`Sender::send_output`]).
pub fn send_output(name: &str, data: &[u8]) {
    let now = SystemTime::now();
    with_sender(|s| s.send_output(name, data, now));
}

/// Sends a main log record (see [`Sender::send_main`]).
pub fn send_main(level: LogLevel, message: &str, now: SystemTime) {
    with_sender(|s| s.send_main(level, message, now));
}

/// The next health change not reported yet, if any.
pub fn take_event() -> Option<Event> {
    sender().as_mut().and_then(Sender::take_event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// 2026-01-02 03:04:05.678 UTC.
    fn at_2026() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_767_323_045_678)
    }

    fn no_asctime() -> String {
        panic!("asctime is needed only for a name with %")
    }

    #[test]
    fn header_is_glibcs() {
        assert_eq!(
            header(&Zone::utc(), at_2026()),
            "<14>Jan  2 03:04:05 supervisord: "
        );
        let later = UNIX_EPOCH + Duration::from_secs(1_766_000_000); // 2025-12-17 19:33:20
        assert_eq!(
            header(&Zone::utc(), later),
            "<14>Dec 17 19:33:20 supervisord: "
        );
    }

    #[test]
    fn program_lines_are_named_and_split_like_4_3() {
        let m = |data: &[u8]| program_messages("web", data, &no_asctime);
        assert_eq!(m(b"hello\n"), Some(vec!["web hello".to_string()]));
        assert_eq!(
            m(b"one\ntwo\n\n\n"),
            Some(vec!["web one".to_string(), "web two".to_string()])
        );
        // Inner empty lines stay; a chunk of newlines is one empty message.
        assert_eq!(
            m(b"a\n\nb"),
            Some(vec!["web a".into(), "web ".into(), "web b".into()])
        );
        assert_eq!(m(b"\n"), Some(vec!["web ".to_string()]));
        // Only \n splits.
        assert_eq!(m(b"x\r\ny"), Some(vec!["web x\r".into(), "web y".into()]));
        // 4.3 fails to decode and sends nothing.
        assert_eq!(m(b"bad \xff\n"), None);
        assert_eq!(
            m("caf\u{e9}\n".as_bytes()),
            Some(vec!["web caf\u{e9}".into()])
        );
    }

    #[test]
    fn a_name_with_percent_is_part_of_the_format() {
        let asctime = || "2026-01-02 03:04:05,678".to_string();
        let m = |name: &str| program_messages(name, b"hi\n", &asctime);
        assert_eq!(m("a%%b"), Some(vec!["a%b hi".to_string()]));
        assert_eq!(m("%(levelname)s"), Some(vec!["INFO hi".to_string()]));
        assert_eq!(
            m("x%(asctime)s"),
            Some(vec!["x2026-01-02 03:04:05,678 hi".to_string()])
        );
        assert_eq!(m("50%"), None);
        assert_eq!(m("a%b"), None);
        assert_eq!(m("%(pid)s"), None);
    }

    #[test]
    fn main_log_lines_keep_the_formats_newline() {
        assert_eq!(
            main_log_messages(
                "2026-01-02 03:04:05,678",
                "INFO",
                "spawned: 'web' with pid 7"
            ),
            ["2026-01-02 03:04:05,678 INFO spawned: 'web' with pid 7\n"]
        );
        assert_eq!(
            main_log_messages("T", "DEBG", "'web' stdout output:\nhello\n"),
            ["T DEBG 'web' stdout output:\n", "T DEBG hello\n"]
        );
    }

    #[test]
    fn a_message_stops_at_nul_like_a_c_string() {
        assert_eq!(datagram("<14>H: ", "web a\0b"), b"<14>H: web a");
        assert_eq!(datagram("<14>H: ", "T INFO x\n"), b"<14>H: T INFO x\n");
    }

    #[test]
    fn event_wording() {
        let path = PathBuf::from("/dev/log");
        let failing = Event::Failing {
            path: path.clone(),
            reason: describe(&io::Error::from_raw_os_error(libc::ECONNREFUSED)),
        };
        assert_eq!(
            failing.to_string(),
            "syslog /dev/log: cannot send: Connection refused (ECONNREFUSED); \
             dropping messages until it works again"
        );
        assert_eq!(failing.level(), LogLevel::Error);
        let one = Event::Recovered {
            path: path.clone(),
            lost: 1,
        };
        assert_eq!(
            one.to_string(),
            "syslog /dev/log works again; 1 message was lost"
        );
        let many = Event::Recovered { path, lost: 3 };
        assert_eq!(
            many.to_string(),
            "syslog /dev/log works again; 3 messages were lost"
        );
        assert_eq!(many.level(), LogLevel::Info);
    }

    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "sv-syslog-{}-{}",
                std::process::id(),
                fastrand::u64(..)
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn received(sock: &UnixDatagram) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = sock.recv(&mut buf) {
            out.push(buf.get(..n).unwrap_or_default().to_vec());
        }
        out
    }

    #[test]
    fn sends_one_datagram_per_line() {
        let dir = TempDir::new();
        let path = dir.0.join("log");
        let server = UnixDatagram::bind(&path).expect("bind");
        server.set_nonblocking(true).expect("nonblocking");
        let mut sender = Sender::new(path, Zone::utc());
        sender.send_output("web", b"one\ntwo\n", at_2026());
        sender.send_main(LogLevel::Warn, "careful", at_2026());
        assert_eq!(
            received(&server),
            [
                b"<14>Jan  2 03:04:05 supervisord: web one".to_vec(),
                b"<14>Jan  2 03:04:05 supervisord: web two".to_vec(),
                b"<14>Jan  2 03:04:05 supervisord: 2026-01-02 03:04:05,678 WARN careful\n".to_vec(),
            ]
        );
        assert_eq!(sender.take_event(), None);
    }

    #[test]
    fn a_missing_socket_is_reported_once_and_sending_resumes() {
        let dir = TempDir::new();
        let path = dir.0.join("log");
        let mut sender = Sender::new(path.clone(), Zone::utc());
        sender.send_output("web", b"a\nb\n", at_2026());
        sender.send_output("web", b"c\n", at_2026());
        match sender.take_event() {
            Some(Event::Failing { reason, .. }) => assert!(reason.contains("ENOENT"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(sender.take_event(), None, "reported once");
        let server = UnixDatagram::bind(&path).expect("bind");
        server.set_nonblocking(true).expect("nonblocking");
        sender.send_output("web", b"d\n", at_2026());
        assert_eq!(
            sender.take_event(),
            Some(Event::Recovered {
                path: path.clone(),
                lost: 3
            })
        );
        assert_eq!(
            received(&server),
            [b"<14>Jan  2 03:04:05 supervisord: web d".to_vec()]
        );
        // The syslog daemon restarts: a new socket at the same path. The
        // old connection is refused; one retry on a new one gets through.
        drop(server);
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).expect("rebind");
        server.set_nonblocking(true).expect("nonblocking");
        sender.send_output("web", b"e\n", at_2026());
        assert_eq!(sender.take_event(), None);
        assert_eq!(
            received(&server),
            [b"<14>Jan  2 03:04:05 supervisord: web e".to_vec()]
        );
    }

    #[test]
    fn a_full_socket_never_blocks() {
        let dir = TempDir::new();
        let path = dir.0.join("log");
        let server = UnixDatagram::bind(&path).expect("bind");
        server.set_nonblocking(true).expect("nonblocking");
        let mut sender = Sender::new(path, Zone::utc());
        let line = vec![b'x'; 1000];
        // Nobody reads: the queue fills, and sending drops instead of waiting.
        for _ in 0..5000 {
            sender.send_output("web", &line, at_2026());
        }
        match sender.take_event() {
            Some(Event::Failing { reason, .. }) => assert!(reason.contains("EAGAIN"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(sender.take_event(), None);
        let got = received(&server).len() as u64;
        sender.send_output("web", b"after\n", at_2026());
        match sender.take_event() {
            Some(Event::Recovered { lost, .. }) => assert_eq!(lost + got, 5000),
            other => panic!("{other:?}"),
        }
    }
}
