//! supervisord's own levelled activity log ("spawned: 'web' with pid 123").
//! It formats lines exactly as 4.3's `'%(asctime)s %(levelname)s %(message)s\n'`
//! and writes them through the same `LogFile` as captured output, so it rotates,
//! reopens and survives a full disk the same way; problems with the log itself
//! go to the echo target (or stderr) once, since there is nowhere else to say so.
//! With `logfile=syslog` the lines go to syslog instead of a file
//! ([`super::syslog`]), and syslog's own trouble, whoever met it (a line of
//! this log or a program's output), is logged here once when it starts and
//! once when it ends.
//!
//! Messages logged before the log exists (config warnings, parse infos) are the
//! caller's to keep and replay, as 4.3's `parse_criticals`/`parse_warnings`.

use std::cell::{Cell, RefCell};
use std::io;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::SystemTime;

use smol::channel::Receiver;

use super::outlet::Outlet;
use super::writer::{LogFile, Notice};
use crate::config::LogLevel;
use crate::timefmt::Zone;

/// 4.3's level names as they appear in lines (`LevelsByName`).
pub fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Critical => "CRIT",
        LogLevel::Error => "ERRO",
        LogLevel::Warn => "WARN",
        LogLevel::Info => "INFO",
        LogLevel::Debug => "DEBG",
        LogLevel::Trace => "TRAC",
        LogLevel::Blather => "BLAT",
    }
}

/// Why `clearLog` failed; the RPC maps these to NO_FILE and FAILED.
#[derive(Debug)]
pub enum ClearError {
    /// There is no log file (logfile=NONE... or it does not exist).
    NoFile,
    Failed,
}

struct Targets {
    file: Option<LogFile>,
    /// 4.3 echoes to stdout when nodaemon and not silent: through the
    /// stdout outlet, which forwarded program lines share, so the two never
    /// cut into each other's lines and a blocked stdout never blocks us.
    echo: Option<Rc<Outlet>>,
    /// `logfile=syslog`: lines go to syslog instead of a file.
    syslog: bool,
}

/// The main log. Shared by reference (`Rc<MainLog>`): every method takes
/// `&self`, so any task can log without coordinating borrows.
pub struct MainLog {
    level: Cell<LogLevel>,
    zone: Zone,
    targets: RefCell<Targets>,
    /// Set while syslog's health changes are being logged (logging them may
    /// bring another, which the loop already running picks up).
    reporting_syslog: Cell<bool>,
}

impl MainLog {
    /// `file` is the `[supervisord] logfile` (None for none); `echo` is where
    /// nodaemon mode mirrors lines (supervisord's stdout outlet).
    pub fn new(
        level: LogLevel,
        file: Option<LogFile>,
        echo: Option<Rc<Outlet>>,
        zone: Zone,
    ) -> MainLog {
        MainLog {
            level: Cell::new(level),
            zone,
            targets: RefCell::new(Targets {
                file,
                echo,
                syslog: false,
            }),
            reporting_syslog: Cell::new(false),
        }
    }

    /// `logfile=syslog`: the main log goes to syslog (as 4.3's
    /// `SyslogHandler` with the main log's format: see [`super::syslog`]),
    /// and to `echo` as ever. There is no file to read, clear or reopen.
    pub fn to_syslog(level: LogLevel, echo: Option<Rc<Outlet>>, zone: Zone) -> MainLog {
        let log = MainLog::new(level, None, echo, zone);
        log.targets.borrow_mut().syslog = true;
        log
    }

    /// Whether a message at `level` would be written; check it before
    /// building an expensive message (child output copies at debug).
    pub fn enabled(&self, level: LogLevel) -> bool {
        level as u8 >= self.level.get() as u8
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        self.log_at(level, message, SystemTime::now());
    }

    /// `log` with the clock passed in (tests, replayed early messages).
    pub fn log_at(&self, level: LogLevel, message: &str, now: SystemTime) {
        self.emit(level, message, now);
        self.report_syslog_events(now);
    }

    /// Writes one record to every target.
    fn emit(&self, level: LogLevel, message: &str, now: SystemTime) {
        if !self.enabled(level) {
            return;
        }
        let line = self.format_line(level, message, now);
        self.write_line(line.as_bytes(), now);
        if self.targets.borrow().syslog {
            super::syslog::send_main(level, message, now);
        }
    }

    /// Logs syslog's health changes (from this log's lines or a program's
    /// output) once each. When this log itself goes to syslog and there is
    /// no echo, a failure is also said on stderr, as for a broken log file.
    fn report_syslog_events(&self, now: SystemTime) {
        if self.reporting_syslog.replace(true) {
            return;
        }
        // Bounded: a syslog that flips between working and failing on every
        // message must not keep this loop going.
        for _ in 0..8 {
            let Some(event) = super::syslog::take_event() else {
                break;
            };
            let message = event.to_string();
            self.emit(event.level(), &message, now);
            let targets = self.targets.borrow();
            if targets.syslog && targets.echo.is_none() {
                if let super::syslog::Event::Failing { .. } = event {
                    let line = self.format_line(event.level(), &message, now);
                    let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
                }
            }
        }
        self.reporting_syslog.set(false);
    }

    /// `2026-01-02 03:04:05,678 INFO message\n`. Embedded and trailing
    /// newlines are kept as they are, as in 4.3 (a message ending in a
    /// newline leaves an empty line).
    pub fn format_line(&self, level: LogLevel, message: &str, now: SystemTime) -> String {
        let stamp = self.zone.log_stamp(now);
        let name = level_name(level);
        let mut line = String::with_capacity(stamp.len() + name.len() + message.len() + 3);
        line.push_str(&stamp);
        line.push(' ');
        line.push_str(name);
        line.push(' ');
        line.push_str(message);
        line.push('\n');
        line
    }

    /// The log file's path, for readLog/clearLog and `/mainlogtail`.
    pub fn path(&self) -> Option<PathBuf> {
        let targets = self.targets.borrow();
        targets.file.as_ref().map(|f| f.path().to_path_buf())
    }

    /// Wake-ups after each write to the log file (None without a file).
    pub fn subscribe(&self) -> Option<Receiver<()>> {
        let mut targets = self.targets.borrow_mut();
        targets.file.as_mut().map(LogFile::subscribe)
    }

    /// SIGUSR2. 4.3 first logs `supervisord logreopen` at info; that line
    /// is the caller's, like every message.
    pub fn reopen(&self) {
        let now = SystemTime::now();
        let notices: Vec<Notice> = {
            let mut targets = self.targets.borrow_mut();
            targets
                .file
                .as_mut()
                .and_then(LogFile::reopen)
                .into_iter()
                .collect()
        };
        for notice in notices {
            self.report(&notice, now);
        }
    }

    /// 4.3's `clearLog`: NO_FILE without a log file or when it is missing;
    /// remove it (FAILED if that fails); then, for each handler, log
    /// "reopening log file" and reopen it. Those lines still reach the
    /// removed file (so the new one starts empty) and the echo.
    pub fn clear(&self) -> Result<(), ClearError> {
        let path = self.path().ok_or(ClearError::NoFile)?;
        if !path.exists() {
            return Err(ClearError::NoFile);
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => return Err(ClearError::Failed),
        }
        let has_echo = self.targets.borrow().echo.is_some();
        if has_echo {
            self.log(LogLevel::Info, "reopening log file");
        }
        self.log(LogLevel::Info, "reopening log file");
        self.reopen();
        Ok(())
    }

    fn write_line(&self, line: &[u8], now: SystemTime) {
        let notices: Vec<Notice> = {
            let mut targets = self.targets.borrow_mut();
            if let Some(echo) = &targets.echo {
                echo.write_lines(line);
            }
            targets
                .file
                .as_mut()
                .and_then(|f| f.write(line))
                .into_iter()
                .collect()
        };
        for notice in notices {
            self.report(&notice, now);
        }
    }

    /// Says what happened to a target: on the echo (or stderr when there is
    /// none) always, and in the log file too once it works again. Never
    /// recurses: a failure while reporting is dropped.
    fn report(&self, notice: &Notice, now: SystemTime) {
        let line = self.format_line(notice.level(), &format!("main {notice}"), now);
        let mut targets = self.targets.borrow_mut();
        let Targets { file, echo, .. } = &mut *targets;
        match echo.as_ref() {
            Some(echo) => echo.write_lines(line.as_bytes()),
            None => {
                let _ = rustix::io::write(rustix::stdio::stderr(), line.as_bytes());
            }
        }
        if matches!(notice, Notice::Recovered { .. }) {
            if let Some(file) = file.as_mut() {
                let _ = file.write(line.as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::{Duration, UNIX_EPOCH};

    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "sv-activity-{}-{}",
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

    fn at_2026() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_767_323_045_678)
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    fn echo_file(path: &Path) -> Rc<Outlet> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("echo");
        Rc::new(Outlet::on_fd(super::super::outlet::Std::Out, file.into()))
    }

    fn main_log(dir: &TempDir, level: LogLevel, echo: bool) -> MainLog {
        let file = LogFile::open(dir.0.join("supervisord.log"), 0, 0).expect("open");
        let echo = echo.then(|| echo_file(&dir.0.join("echo")));
        MainLog::new(level, Some(file), echo, Zone::utc())
    }

    #[test]
    fn line_format_is_4_3s() {
        let dir = TempDir::new();
        let log = main_log(&dir, LogLevel::Info, false);
        log.log_at(LogLevel::Info, "spawned: 'web' with pid 123", at_2026());
        assert_eq!(
            read(&dir.0.join("supervisord.log")),
            "2026-01-02 03:04:05,678 INFO spawned: 'web' with pid 123\n"
        );
    }

    #[test]
    fn every_level_name() {
        let names: Vec<&str> = [
            LogLevel::Critical,
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
            LogLevel::Trace,
            LogLevel::Blather,
        ]
        .into_iter()
        .map(level_name)
        .collect();
        assert_eq!(
            names,
            ["CRIT", "ERRO", "WARN", "INFO", "DEBG", "TRAC", "BLAT"]
        );
    }

    #[test]
    fn levels_below_the_threshold_are_dropped() {
        let dir = TempDir::new();
        let log = main_log(&dir, LogLevel::Warn, false);
        assert!(log.enabled(LogLevel::Critical));
        assert!(log.enabled(LogLevel::Warn));
        assert!(!log.enabled(LogLevel::Info));
        log.log_at(LogLevel::Info, "quiet", at_2026());
        log.log_at(LogLevel::Blather, "quieter", at_2026());
        log.log_at(LogLevel::Error, "loud", at_2026());
        assert_eq!(
            read(&dir.0.join("supervisord.log")),
            "2026-01-02 03:04:05,678 ERRO loud\n"
        );
    }

    #[test]
    fn multi_line_messages_are_written_as_is() {
        let dir = TempDir::new();
        let log = main_log(&dir, LogLevel::Debug, false);
        log.log_at(LogLevel::Debug, "'web' stdout output:\nhello\n", at_2026());
        assert_eq!(
            read(&dir.0.join("supervisord.log")),
            "2026-01-02 03:04:05,678 DEBG 'web' stdout output:\nhello\n\n"
        );
    }

    #[test]
    fn echo_gets_the_same_lines() {
        let dir = TempDir::new();
        let log = main_log(&dir, LogLevel::Info, true);
        log.log_at(LogLevel::Warn, "x", at_2026());
        let line = "2026-01-02 03:04:05,678 WARN x\n";
        assert_eq!(read(&dir.0.join("supervisord.log")), line);
        assert_eq!(read(&dir.0.join("echo")), line);
    }

    #[test]
    fn no_file_at_all_is_fine() {
        let log = MainLog::new(LogLevel::Info, None, None, Zone::utc());
        log.log(LogLevel::Info, "nowhere");
        assert_eq!(log.path(), None);
        assert!(log.subscribe().is_none());
        assert!(matches!(log.clear(), Err(ClearError::NoFile)));
        log.reopen();
    }

    #[test]
    fn clear_starts_an_empty_file_and_echoes_reopening() {
        let dir = TempDir::new();
        let log = main_log(&dir, LogLevel::Info, true);
        log.log(LogLevel::Info, "before");
        log.clear().expect("clear");
        let path = dir.0.join("supervisord.log");
        assert_eq!(read(&path), "");
        let echo = read(&dir.0.join("echo"));
        assert_eq!(echo.matches("INFO reopening log file\n").count(), 2);
        log.log(LogLevel::Info, "after");
        assert!(read(&path).ends_with(" INFO after\n"));
        std::fs::remove_file(&path).expect("rm");
        assert!(matches!(log.clear(), Err(ClearError::NoFile)));
    }

    #[test]
    fn reopen_follows_a_moved_file() {
        let dir = TempDir::new();
        let log = main_log(&dir, LogLevel::Info, false);
        let path = dir.0.join("supervisord.log");
        log.log(LogLevel::Info, "one");
        std::fs::rename(&path, dir.0.join("old")).expect("mv");
        log.reopen();
        log.log(LogLevel::Info, "two");
        assert!(read(&dir.0.join("old")).ends_with("INFO one\n"));
        assert!(read(&path).ends_with("INFO two\n"));
    }

    #[test]
    fn a_broken_log_file_is_reported_on_the_echo_once_and_recovers() {
        let dir = TempDir::new();
        let sub = dir.0.join("sub");
        let (file, notice) = LogFile::open_lenient(sub.join("supervisord.log"), 0, 0);
        assert!(notice.is_some());
        let echo = echo_file(&dir.0.join("echo"));
        let log = MainLog::new(LogLevel::Info, Some(file), Some(echo), Zone::utc());
        log.log(LogLevel::Info, "a");
        log.log(LogLevel::Info, "b");
        let echo_text = read(&dir.0.join("echo"));
        assert_eq!(echo_text.matches(" INFO a\n").count(), 1);
        std::fs::create_dir(&sub).expect("mkdir");
        log.log(LogLevel::Info, "c");
        let file_text = read(&sub.join("supervisord.log"));
        assert!(file_text.starts_with("20"), "{file_text}");
        assert!(file_text.contains(" INFO c\n"));
        assert!(file_text.contains("works again"), "{file_text}");
        let echo_text = read(&dir.0.join("echo"));
        assert!(echo_text.contains("works again"), "{echo_text}");
    }

    #[test]
    fn subscribers_hear_new_lines() {
        let dir = TempDir::new();
        let log = main_log(&dir, LogLevel::Info, false);
        let rx = log.subscribe().expect("has a file");
        log.log(LogLevel::Info, "hi");
        assert_eq!(rx.try_recv(), Ok(()));
    }
}
