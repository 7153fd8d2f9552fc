//! A process's output channels as the core sees them: where stdout and
//! stderr go (a rotating file, a stream such as /dev/stdout, or nowhere,
//! and with `stdout_syslog`/`stderr_syslog` syslog too, or only),
//! opened once per group activation so AUTO names stay stable across restarts
//! of the child, as in 4.3. A named file is created only at the first spawn,
//! as 4.3 does: until then `tail` finds no log file.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::config::{self, Config, LogLevel, LogTarget};
use crate::log::activity::MainLog;
use crate::log::lines::{channel_prefix, Prefixer};
use crate::log::syslog;
use crate::log::writer::{Congestion, LogFile, Notice};
use crate::timefmt::Zone;

/// Something about a channel's health for the main log: its file's, or
/// syslog's (shared by every channel and the main log, reported once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelNotice {
    File(Notice),
    Syslog(syslog::Event),
}

impl ChannelNotice {
    pub fn level(&self) -> LogLevel {
        match self {
            ChannelNotice::File(notice) => notice.level(),
            ChannelNotice::Syslog(event) => event.level(),
        }
    }
}

impl fmt::Display for ChannelNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelNotice::File(notice) => notice.fmt(f),
            ChannelNotice::Syslog(event) => event.fmt(f),
        }
    }
}

/// One output channel.
pub struct Channel {
    file: Option<LogFile>,
    /// With redirect_stderr the stderr channel has no file of its own.
    path: Option<PathBuf>,
    /// The size limits of a named file not opened yet (see `open_at_spawn`).
    deferred: Option<(u64, u32)>,
    /// With `{stream}_syslog`: the program's name, which tags its lines.
    syslog: Option<String>,
    /// `timestamps=` / `*_logfile_prefix=`: what goes before each line in
    /// the file and the syslog copy. None keeps the channel byte-exact.
    prefix: Option<(Prefixer, Zone)>,
}

impl Channel {
    fn none() -> Channel {
        Channel {
            file: None,
            path: None,
            deferred: None,
            syslog: None,
            prefix: None,
        }
    }

    /// A named file, opened by `open_at_spawn` when the child first starts.
    fn deferred(path: PathBuf, settings: &config::ChannelLog) -> Channel {
        Channel {
            file: None,
            path: Some(path),
            deferred: Some((settings.maxbytes, settings.backups)),
            syslog: None,
            prefix: None,
        }
    }

    /// Opens a deferred file (once; later spawns find it open).
    pub fn open_at_spawn(&mut self, log: &MainLog) {
        let (Some(path), Some((maxbytes, backups))) = (&self.path, self.deferred.take()) else {
            return;
        };
        let (file, notice) = LogFile::open_lenient(path.clone(), maxbytes, backups);
        if let Some(notice) = notice {
            log.log(notice.level(), &notice.to_string());
        }
        self.file = Some(file);
    }

    fn open(path: PathBuf, settings: &config::ChannelLog, log: &MainLog) -> Channel {
        let (file, notice) =
            LogFile::open_lenient(path.clone(), settings.maxbytes, settings.backups);
        if let Some(notice) = notice {
            log.log(notice.level(), &notice.to_string());
        }
        Channel {
            file: Some(file),
            path: Some(path),
            deferred: None,
            syslog: None,
            prefix: None,
        }
    }

    /// Writes child output (an empty slice flushes a stream's backlog) to
    /// the file, then to syslog as 4.3 does; Some(notice) when a problem
    /// starts or ends. When the file and syslog both have news at once,
    /// syslog's waits for the next line of the main log (the file's notice
    /// is one), which reports it.
    pub fn write(&mut self, data: &[u8]) -> Option<ChannelNotice> {
        let prefixed;
        let data = match &mut self.prefix {
            Some((prefixer, zone)) if !data.is_empty() => {
                // Read time stands for the time the line started: the pump
                // hands over each read as soon as it is made.
                let stamp = if prefixer.needs_time() {
                    zone.iso_stamp(std::time::SystemTime::now())
                } else {
                    String::new()
                };
                prefixed = prefixer.feed(data, &stamp);
                &prefixed[..]
            }
            _ => data,
        };
        let notice = self.file.as_mut().and_then(|f| f.write(data));
        if let Some(name) = &self.syslog {
            if !data.is_empty() {
                syslog::send_output(name, data);
            }
        }
        match notice {
            Some(notice) => Some(ChannelNotice::File(notice)),
            None if self.syslog.is_some() => syslog::take_event().map(ChannelNotice::Syslog),
            None => None,
        }
    }

    /// The pipe feeding this channel closed: the next child's first byte
    /// starts a line (and gets its prefix) even if the last one ended
    /// mid-line.
    pub fn line_break(&mut self) {
        if let Some((prefixer, _)) = &mut self.prefix {
            prefixer.line_break();
        }
    }

    /// Set while a stream target (a full pipe or tty) cannot take more.
    pub fn congestion(&self) -> Option<Congestion> {
        self.file.as_ref().and_then(|f| f.congestion())
    }

    pub fn reopen(&mut self) -> Option<Notice> {
        self.file.as_mut().and_then(|f| f.reopen())
    }

    pub fn clear(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.clear(),
            None => Ok(()),
        }
    }

    pub fn path(&self) -> Option<PathBuf> {
        self.path.clone()
    }

    /// The path as getProcessInfo shows it: '' when there is none.
    pub fn display_path(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// A receiver pinged after new output, for followers (tail -f).
    pub fn subscribe(&mut self) -> Option<smol::channel::Receiver<()>> {
        self.file.as_mut().map(|f| f.subscribe())
    }
}

/// Resolves a channel's target: AUTO becomes a fresh name in childlogdir.
fn target_path(
    config: &Config,
    process: &config::Process,
    stream: &str,
    target: &LogTarget,
) -> Option<PathBuf> {
    match target {
        LogTarget::None | LogTarget::Syslog => None,
        LogTarget::Path(p) => Some(p.clone()),
        LogTarget::Auto => Some(auto_target(
            &config.supervisord.childlogdir,
            &process.name,
            stream,
            &config.supervisord.identifier,
        )),
    }
}

/// A fresh AUTO log, created private (0600) as 4.3's `mkstemp` makes it
/// whatever the umask. When it cannot be created (childlogdir gone), the
/// name alone is returned: the channel then reports the failure and keeps
/// retrying, as for any log that cannot be opened.
fn auto_target(childlogdir: &Path, name: &str, stream: &str, identifier: &str) -> PathBuf {
    crate::log::writer::create_auto_log(childlogdir, name, stream, identifier).unwrap_or_else(
        |_| crate::log::writer::auto_log_path(childlogdir, name, stream, identifier),
    )
}

/// The channel of one stream: an AUTO file is made at once (4.3 makes its
/// name with mkstemp when the group is added), a named one at first spawn.
fn channel(
    config: &Config,
    process: &config::Process,
    stream: &str,
    settings: &config::ChannelLog,
    log: &MainLog,
    zone: &Zone,
) -> Channel {
    let mut channel = match target_path(config, process, stream, &settings.target) {
        Some(path) if settings.target == LogTarget::Auto => Channel::open(path, settings, log),
        Some(path) => Channel::deferred(path, settings),
        None => Channel::none(),
    };
    // 4.3 reads `stdout_logfile=syslog` as `stdout_syslog=true` (config
    // does that rewrite; the target is accepted here too).
    if settings.syslog || settings.target == LogTarget::Syslog {
        channel.syslog = Some(process.name.clone());
    }
    let template = match stream {
        "stdout" => process.lines.stdout_prefix.as_deref(),
        _ => process.lines.stderr_prefix.as_deref(),
    };
    channel.prefix = channel_prefix(process.lines.timestamps, template).map(|p| (p, zone.clone()));
    channel
}

/// Opens both channels of a process as its config says.
pub fn open_channels(
    config: &Config,
    process: &config::Process,
    log: &MainLog,
    zone: &Zone,
) -> (Channel, Channel) {
    let stdout = channel(config, process, "stdout", &process.stdout, log, zone);
    // With redirect_stderr 4.3 has no stderr dispatcher: stderr_syslog is
    // moot, and stdout_syslog covers both streams.
    let stderr = if process.redirect_stderr {
        Channel::none()
    } else {
        channel(config, process, "stderr", &process.stderr, log, zone)
    };
    (stdout, stderr)
}

/// 4.3's stripEscapes: drops ANSI escape sequences (`ESC [` ... terminator).
pub fn strip_ansi(data: &[u8]) -> Vec<u8> {
    const TERMINATORS: &[u8] = b"HfABCDRsuJKhlpm";
    let mut out = Vec::with_capacity(data.len());
    let mut showing = true;
    let mut i = 0;
    while i < data.len() {
        let byte = data.get(i).copied().unwrap_or_default();
        if showing {
            if byte == 0x1b && data.get(i + 1) == Some(&b'[') {
                showing = false;
                i += 2;
                continue;
            }
            out.push(byte);
        } else if TERMINATORS.contains(&byte) {
            showing = true;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bug: AUTO logs were created with the umask's mode (0644) where 4.3's
    /// mkstemp makes them 0600, exposing child output to other users.
    #[test]
    fn auto_logs_are_private_like_mkstemp() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!(
            "sv-output-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = auto_target(&dir, "web", "stdout", "supervisor");
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
        let other = auto_target(&dir, "web", "stdout", "supervisor");
        let missing = auto_target(&dir.join("gone"), "web", "stdout", "supervisor");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(mode.ok(), Some(0o600), "{path:?}");
        assert_ne!(path, other, "every activation gets its own file");
        assert_eq!(missing.parent(), Some(dir.join("gone").as_path()));
    }

    fn settings(target: LogTarget) -> config::ChannelLog {
        config::ChannelLog {
            target,
            maxbytes: 0,
            backups: 0,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
        }
    }

    #[test]
    fn named_log_file_is_created_at_first_spawn() {
        let dir = std::env::temp_dir().join(format!("output-lazy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.out");
        let log = MainLog::new(LogLevel::Info, None, None, crate::timefmt::Zone::utc());
        let mut channel = Channel::deferred(path.clone(), &settings(LogTarget::Path(path.clone())));
        assert_eq!(channel.path(), Some(path.clone()));
        assert!(!path.exists(), "not before the first spawn");
        assert!(
            channel.clear().is_ok(),
            "clearing a log not made yet is a no-op"
        );
        channel.open_at_spawn(&log);
        assert!(path.exists());
        assert!(channel.write(b"hello\n").is_none());
        // A later spawn keeps the file and its content.
        channel.open_at_spawn(&log);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn strip_ansi_removes_colour_codes() {
        assert_eq!(strip_ansi(b"\x1b[31mred\x1b[0m plain"), b"red plain");
        assert_eq!(strip_ansi(b"no escapes"), b"no escapes");
        assert_eq!(strip_ansi(b"cursor\x1b[2Jcleared"), b"cursorcleared");
    }
}
