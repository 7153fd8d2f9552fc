//! The typed, validated configuration. Text becomes a `Config` (or one error
//! naming file, line, section, key and value) in three layers: `ini` reads
//! sections and lines, `expand` substitutes `%(name)s`, `values` parses each
//! value; this module maps both the 2.0 and the 4.x forms onto one model.
//!
//! CONTRACT: the types and the `load`/`search` signatures below are what the
//! daemon and supervisorctl are written against; keep names and meaning.

pub mod expand;
pub mod ini;
pub mod values;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::process::state::AutoRestart;

/// Log levels of the main activity log, most severe first (4.3's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Critical = 50,
    Error = 40,
    Warn = 30,
    Info = 20,
    Debug = 10,
    Trace = 5,
    Blather = 3,
}

/// A password as written in the config: plain text or `{SHA}` + hex sha1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    Plain(String),
    Sha1Hex(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: Password,
}

/// `[unix_http_server]`, or the 2.0 `http_port=/path` with sockchmod/sockchown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixServer {
    pub file: PathBuf,
    pub chmod: u32,
    /// Owner given as names or numbers; resolved when the socket is made.
    pub chown: Option<(String, Option<String>)>,
    pub auth: Option<Credentials>,
}

/// `[inet_http_server]`, or the 2.0 `http_port=host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetServer {
    /// Empty for `*` (all interfaces).
    pub host: String,
    pub port: u16,
    pub auth: Option<Credentials>,
}

/// Where a log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    None,
    /// AUTO: a file in childlogdir with a unique name, made at spawn time.
    Auto,
    Path(PathBuf),
    /// 4.3's deprecated `stdout_logfile=syslog`.
    Syslog,
}

/// One output channel's settings (`stdout_*` or `stderr_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelLog {
    pub target: LogTarget,
    pub maxbytes: u64,
    pub backups: u32,
    pub capture_maxbytes: u64,
    pub events_enabled: bool,
    pub syslog: bool,
}

/// `[supervisord]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daemon {
    /// None when `logfile=NONE`... (4.3 accepts `syslog` too).
    pub logfile: LogTarget,
    pub logfile_maxbytes: u64,
    pub logfile_backups: u32,
    pub loglevel: LogLevel,
    pub pidfile: Option<PathBuf>,
    pub umask: u32,
    pub nodaemon: bool,
    pub silent: bool,
    pub minfds: u64,
    pub minprocs: u64,
    pub nocleanup: bool,
    pub childlogdir: PathBuf,
    pub user: Option<String>,
    pub directory: Option<PathBuf>,
    pub strip_ansi: bool,
    pub environment: Vec<(String, String)>,
    pub identifier: String,
}

/// `[supervisorctl]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctl {
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: String,
    pub history_file: Option<PathBuf>,
}

/// What kind of section made a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// `[program:x]`: a homogeneous group named after the program.
    Program,
    /// `[group:g] programs=...`: a heterogeneous group.
    Group,
    /// `[eventlistener:x]` (parsed; the event system may not serve it).
    EventListener,
    /// `[fcgi-program:x]` (parsed; sockets may not be served).
    FcgiProgram,
}

/// One process, after numprocs expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// The expanded `process_name`.
    pub name: String,
    /// The group this process belongs to.
    pub group: String,
    /// The section's name after `program:` (`%(program_name)s`).
    pub program: String,
    pub command: String,
    pub priority: i32,
    pub autostart: bool,
    pub autorestart: AutoRestart,
    pub startsecs: u64,
    pub startretries: u32,
    pub exitcodes: Vec<i32>,
    pub stopsignal: i32,
    pub stopwaitsecs: u64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub user: Option<String>,
    pub directory: Option<PathBuf>,
    pub umask: Option<u32>,
    /// The program's own `environment=` (added on top of the daemon's).
    pub environment: Vec<(String, String)>,
    pub redirect_stderr: bool,
    pub stdout: ChannelLog,
    pub stderr: ChannelLog,
    /// `serverurl=`; None for AUTO.
    pub serverurl: Option<String>,
}

/// A process group: its name, priority and processes in config order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub priority: i32,
    pub kind: GroupKind,
    pub processes: Vec<Process>,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file it was read from (absolute).
    pub path: PathBuf,
    pub supervisord: Daemon,
    pub unix_http_server: Option<UnixServer>,
    pub inet_http_server: Option<InetServer>,
    pub supervisorctl: Ctl,
    /// Groups sorted by (priority, name), as 4.3 sorts them.
    pub groups: Vec<Group>,
    /// Lines worth logging once the log is open (e.g. an include glob that
    /// matched nothing, an unsupported section that was skipped).
    pub warnings: Vec<String>,
}

/// A configuration problem, rendered as one line naming where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub section: Option<String>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("config error text")
    }
}

impl std::error::Error for ConfigError {}

/// Reads, expands and validates the config file at `path` (includes too).
pub fn load(_path: &Path) -> Result<Config, ConfigError> {
    todo!("config loading")
}

/// The config file to use when `-c` is absent, in 4.3's search order; None
/// when no candidate exists.
pub fn search() -> Option<PathBuf> {
    todo!("config search")
}

/// Reads only what supervisorctl needs (`[supervisorctl]`), as 4.3's client
/// does: program sections are not parsed, so a daemon-side error does not
/// stop the client.
pub fn load_ctl(_path: &Path) -> Result<Ctl, ConfigError> {
    todo!("supervisorctl config")
}
