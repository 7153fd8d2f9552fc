//! The typed, validated configuration. Text becomes a `Config` (or one error
//! naming file, line, section, key and value) in three layers: `ini` reads
//! sections and lines, `expand` substitutes `%(name)s`, `values` parses each
//! value; this module maps both the 2.0 and the 4.x forms onto one model.
//! The daemon reads through `Source` (the file plus its command-line
//! overrides); supervisorctl reads only `[supervisorctl]` (`load_ctl`).

mod daemon;
pub(crate) mod depends;
pub(crate) mod expand;
mod include;
pub(crate) mod ini;
mod lines;
mod program;
mod source;
pub(crate) mod values;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::process::state::AutoRestart;
use crate::users;
use expand::Names;
use ini::{Document, Entry, IniError, Section};

pub use source::{Override, Source};
pub use values::Host;

use daemon::*;
use include::*;
use program::*;

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
    /// `exit_when_all_done=true`: exit once every program has ended and
    /// none will restart (beyond 4.3; container mode).
    pub exit_when_all_done: bool,
    /// `forward_all=true`: every program's lines also go to supervisord's
    /// own stdout/stderr (unless it says `forward_to_stdout=false`).
    pub forward_all: bool,
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
    /// `[fcgi-program:x]`: its processes share one listening socket as stdin.
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
    /// Keys beyond 4.3: readiness, dependencies, restart policy.
    pub lifecycle: Lifecycle,
    /// Keys beyond 4.3: per-line prefixes and forwarding of output.
    pub lines: LineOptions,
}

/// One piece of an expanded `*_logfile_prefix=` template: the names known
/// at config time are already text, `%(timestamp)s` is filled in per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixPart {
    Text(String),
    Timestamp,
}

/// How a process's captured lines are decorated and where else they go.
/// The defaults leave capture byte-exact, as in 4.3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineOptions {
    /// `timestamps=true`: an ISO 8601 local stamp and a space before each
    /// line (before any `*_logfile_prefix`).
    pub timestamps: bool,
    /// `stdout_logfile_prefix=`, expanded.
    pub stdout_prefix: Option<Vec<PrefixPart>>,
    /// `stderr_logfile_prefix=`, expanded.
    pub stderr_prefix: Option<Vec<PrefixPart>>,
    /// `forward_to_stdout=`; None follows `[supervisord] forward_all`.
    pub forward_to_stdout: Option<bool>,
}

/// The opt-in keys beyond 4.3; their defaults leave a 4.3 config as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// `ready=` (None for the default, startsecs).
    pub ready: Option<crate::process::ready::Readiness>,
    /// `ready_timeout=` in seconds (default 60).
    pub ready_timeout: u64,
    /// `startretries=infinite` (or -1).
    pub infinite_retries: bool,
    /// `backoff_max=` in seconds.
    pub backoff_max: Option<u64>,
    /// `depends_on=`: program names, `group:name` or group names.
    pub depends_on: Vec<String>,
    /// `restart_dependents=true`: restarted when a dependency restarts.
    pub restart_dependents: bool,
    /// `watchdog_sec=` for `ready=notify`.
    pub watchdog_sec: Option<u64>,
    /// `essential=true`: when it exits or goes FATAL, supervisord stops
    /// everything and exits with its status (container mode).
    pub essential: bool,
}

impl Default for Lifecycle {
    fn default() -> Lifecycle {
        Lifecycle {
            ready: None,
            ready_timeout: 60,
            infinite_retries: false,
            backoff_max: None,
            depends_on: Vec::new(),
            restart_dependents: false,
            watchdog_sec: None,
            essential: false,
        }
    }
}

/// A process group: its name, priority and processes in the order 4.3
/// starts them: by priority, then as listed (`programs=` order for a
/// `[group:x]`, names sorted within one program's numprocs expansion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub priority: i32,
    pub kind: GroupKind,
    pub processes: Vec<Process>,
    /// `[eventlistener:x]`: what the pool subscribes to and buffers.
    pub pool: Option<PoolConfig>,
    /// `[fcgi-program:x]`: the socket its processes share as fd 0.
    pub fcgi: Option<FcgiSocket>,
}

/// An event listener pool's own keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// `events=`, upper-cased, each a 4.3 event type name, no duplicates,
    /// in the order written.
    pub events: Vec<String>,
    /// `buffer_size=` (at least 1).
    pub buffer_size: usize,
}

/// Where an `[fcgi-program:x]` socket listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketAddress {
    /// `tcp://host:port`.
    Tcp { host: String, port: u16 },
    /// `unix:///absolute/path`.
    Unix(PathBuf),
}

/// An `[fcgi-program:x]` socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcgiSocket {
    pub address: SocketAddress,
    /// `socket_backlog=`; None for the system's default (4.3: SOMAXCONN).
    pub backlog: Option<u32>,
    /// `socket_owner=` as user and optional group names (unix sockets only).
    pub owner: Option<(String, Option<String>)>,
    /// `socket_mode=` (unix sockets only).
    pub mode: Option<u32>,
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
    /// Lines 4.3 logs at INFO once the log is open, after the warnings:
    /// `Included extra file "PATH" during parsing` for each file an
    /// `[include]` pulled in, in the order they were read.
    pub infos: Vec<String>,
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

/// The most processes one section may ask for; a typo such as
/// `numprocs=1000000` would otherwise exhaust memory instead of failing.
pub const MAX_NUMPROCS: u64 = 10_000;

const DEFAULT_MAXBYTES: u64 = 50 * 1024 * 1024;
const DEFAULT_BACKUPS: u32 = 10;

impl Default for Ctl {
    /// 4.3's client defaults, used when no config file or section exists.
    fn default() -> Ctl {
        Ctl {
            serverurl: "http://localhost:9001".to_string(),
            username: None,
            password: None,
            prompt: "supervisor".to_string(),
            history_file: None,
        }
    }
}

impl ConfigError {
    /// An error with no location, e.g. about a command-line value.
    pub fn new(message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: None,
            line: None,
            section: None,
            key: None,
            message: message.into(),
        }
    }

    fn in_file(file: &Path, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: Some(file.to_path_buf()),
            ..ConfigError::new(message)
        }
    }

    fn at_section(section: &Section, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: Some(section.file.to_path_buf()),
            line: Some(section.line),
            section: Some(section.name.clone()),
            key: None,
            message: message.into(),
        }
    }

    fn at_entry(section: &Section, entry: &Entry, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: Some(entry.file.to_path_buf()),
            line: Some(entry.line),
            section: Some(section.name.clone()),
            key: Some(entry.key.clone()),
            message: message.into(),
        }
    }
}

impl From<IniError> for ConfigError {
    fn from(e: IniError) -> ConfigError {
        ConfigError {
            file: Some(e.file),
            line: Some(e.line),
            section: None,
            key: None,
            message: e.message,
        }
    }
}

/// Keeps the rendering on one line whatever a message contains.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

impl fmt::Display for ConfigError {
    /// `Error: invalid value for 'startsecs' in section 'program:web' (file:
    /// '/etc/supervisord.conf', line 12): 'abc' is not an integer`, or, with
    /// no key, `Error: <message> in section ... (file: ..., line N)`, keeping
    /// 4.3's "in section 'x' (file: 'y')" phrasing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Error: ")?;
        match &self.key {
            Some(key) => write!(f, "invalid value for '{key}'")?,
            None => f.write_str(&one_line(&self.message))?,
        }
        if let Some(section) = &self.section {
            write!(f, " in section '{section}'")?;
        }
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, " (file: '{}', line {line})", file.display())?,
            (Some(file), None) => write!(f, " (file: '{}')", file.display())?,
            (None, Some(line)) => write!(f, " (line {line})")?,
            (None, None) => {}
        }
        if self.key.is_some() {
            write!(f, ": {}", one_line(&self.message))?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

// ---------------------------------------------------------------------------
// Reading values out of one section

/// One section with the names its values may use: `env` is shared by all
/// sections (ENV_*, host_node_name), `local` is the section's or process's
/// own (program_name, process_num, a program's ENV_*), and `here` comes from
/// the file each key was read from.
#[derive(Clone)]
struct Scope<'a> {
    doc: &'a Document,
    section: &'a Section,
    env: &'a Names,
    local: Names,
}

impl<'a> Scope<'a> {
    fn new(doc: &'a Document, section: &'a Section, env: &'a Names, local: Names) -> Scope<'a> {
        Scope {
            doc,
            section,
            env,
            local,
        }
    }

    fn with_local(&self, local: Names) -> Scope<'a> {
        Scope {
            local,
            ..self.clone()
        }
    }

    fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.doc.get_in(self.section, key)
    }

    fn has(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    fn raw(&self, key: &str) -> Option<&'a str> {
        self.entry(key).map(|e| e.value.as_str())
    }

    /// An error about the section as a whole.
    fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::at_section(self.section, message)
    }

    /// An error about `key`, at its line when it was given.
    fn key_error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        match self.entry(key) {
            Some(entry) => ConfigError::at_entry(self.section, entry, message),
            None => ConfigError {
                key: Some(key.to_string()),
                ..self.error(message)
            },
        }
    }

    /// Expands `text` as if it were the value of `key`.
    fn expand_as(&self, key: &str, text: &str) -> Result<String, ConfigError> {
        let mut here = Names::new();
        if let Some(dir) = self.entry(key).and_then(|e| e.file.parent()) {
            here.set_text("here", &values::normpath(&dir.to_string_lossy()));
        } else if let Some(dir) = self.section.file.parent() {
            here.set_text("here", &values::normpath(&dir.to_string_lossy()));
        }
        expand::expand_layers(text, &[self.env, &self.local, &here])
            .map_err(|message| self.key_error(key, message))
    }

    /// The expanded value of `key`, if given.
    fn text(&self, key: &str) -> Result<Option<String>, ConfigError> {
        self.raw(key)
            .map(|raw| self.expand_as(key, raw))
            .transpose()
    }

    /// The parsed value of `key`, if given.
    fn parse<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.text(key)? {
            Some(text) => parse(&text)
                .map(Some)
                .map_err(|message| self.key_error(key, message)),
            None => Ok(None),
        }
    }

    fn parse_or<T>(
        &self,
        key: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        Ok(self.parse(key, parse)?.unwrap_or(default))
    }
}

/// The names shared by every section: the environment and the host name.
fn base_names(host: &Host, extra_env: &[(String, String)]) -> Names {
    let mut names = Names::new();
    names.set_text("host_node_name", &host.host_node_name);
    names.set_env(&host.env);
    names.set_env(extra_env);
    names
}

fn push_unique(warnings: &mut Vec<String>, warning: String) {
    if !warnings.contains(&warning) {
        warnings.push(warning);
    }
}

// ---------------------------------------------------------------------------
// Entry points

/// Reads, expands and validates the config file at `path` (includes too).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with(path, &Host::current())
}

/// [`load`] against a given [`Host`] (tests, or a daemon that already
/// captured its environment).
///
/// Where 4.3 fails or misbehaves on a config, this is deliberately kinder,
/// and nowhere stricter except where noted:
/// - `here` and `host_node_name` work in every section (4.3: some only);
/// - `[supervisord] environment=` is expanded once (4.3 twice, so `%%`
///   breaks there);
/// - `logfile=NONE` turns the main log off (4.3 writes a file named NONE);
/// - stricter: duplicate group or process names, negative counts and sizes,
///   `numprocs` above [`MAX_NUMPROCS`], stop signal 0 and modes above 07777
///   are errors (4.3 silently drops duplicates or misbehaves later).
pub fn load_with(path: &Path, host: &Host) -> Result<Config, ConfigError> {
    let main = values::normalize_path(&path.to_string_lossy(), host);
    let mut warnings = Vec::new();
    let mut infos = Vec::new();
    let mut doc = read_document(&main, path)?;
    let os_names = base_names(host, &[]);
    read_includes(&mut doc, &main, &os_names, &mut warnings, &mut infos)?;

    let section = doc.section("supervisord").ok_or_else(|| {
        ConfigError::in_file(&main, ".ini file does not include supervisord section")
    })?;
    let daemon_scope = Scope::new(&doc, section, &os_names, Names::new());
    let supervisord = parse_daemon(&daemon_scope, host)?;
    let legacy = parse_legacy_server(&daemon_scope, host)?;

    // [supervisord] environment= entries are ENV_* for every later section.
    let names = base_names(host, &supervisord.environment);
    let (unix_http_server, inet_http_server) =
        parse_servers(&doc, &names, host, legacy, &mut warnings)?;
    let groups = parse_groups(&doc, &names, host, &mut warnings)?;

    // supervisord itself never reads [supervisorctl]; a mistake there must
    // not stop the daemon.
    let supervisorctl = match doc.section("supervisorctl") {
        Some(section) => parse_ctl(&Scope::new(&doc, section, &os_names, Names::new()), host)
            .unwrap_or_else(|e| {
                let text = e.to_string();
                let text = text.strip_prefix("Error: ").unwrap_or(&text);
                warnings.push(format!("[supervisorctl] ignored: {text}"));
                Ctl::default()
            }),
        None => Ctl::default(),
    };
    let config = Config {
        path: main,
        supervisord,
        unix_http_server,
        inet_http_server,
        supervisorctl,
        groups,
        warnings,
        infos,
    };
    depends::check(&config)?;
    Ok(config)
}

/// Reads only what supervisorctl needs (`[supervisorctl]`), as 4.3's client
/// does: program sections are not parsed, so a daemon-side error does not
/// stop the client.
pub fn load_ctl(path: &Path) -> Result<Ctl, ConfigError> {
    load_ctl_with(path, &Host::current())
}

/// [`load_ctl`] against a given [`Host`]. Like 4.3's client it ignores
/// `[include]`, and a file without `[supervisorctl]` is an error.
pub fn load_ctl_with(path: &Path, host: &Host) -> Result<Ctl, ConfigError> {
    let main = values::normalize_path(&path.to_string_lossy(), host);
    let doc = read_document(&main, path)?;
    let section = doc.section("supervisorctl").ok_or_else(|| {
        ConfigError::in_file(&main, ".ini file does not include supervisorctl section")
    })?;
    let names = base_names(host, &[]);
    parse_ctl(&Scope::new(&doc, section, &names, Names::new()), host)
}

/// The config file to use when `-c` is absent, in 4.3's search order; None
/// when no candidate exists.
pub fn search() -> Option<PathBuf> {
    search_paths().into_iter().find(|p| p.exists())
}

/// Every place [`search`] looks, in order (for the "No config file found at
/// default paths (...)" message).
pub fn search_paths() -> Vec<PathBuf> {
    let host = Host::current();
    let argv0 = std::env::args_os()
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .filter(|a| a.contains('/'));
    // 4.3 runs as a script, so its argv[0] is always a path; a binary found
    // through $PATH has a bare name, so ask the kernel where it is instead.
    let exe = argv0.or_else(|| {
        std::env::current_exe()
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    });
    search_candidates(exe.as_deref().unwrap_or(""), &host)
}

/// 4.3's search list: `dirname(dirname(argv0))` + `etc/supervisord.conf`
/// and `supervisord.conf`, then the current directory's
/// `supervisord.conf` and `etc/supervisord.conf`, then the two system-wide
/// places. Relative candidates are made absolute against the cwd.
fn search_candidates(exe: &str, host: &Host) -> Vec<PathBuf> {
    let here = values::dirname(values::dirname(exe));
    let join = |dir: &str, rest: &str| {
        if dir.is_empty() {
            rest.to_string()
        } else {
            format!("{}/{rest}", dir.trim_end_matches('/'))
        }
    };
    [
        join(here, "etc/supervisord.conf"),
        join(here, "supervisord.conf"),
        "supervisord.conf".to_string(),
        "etc/supervisord.conf".to_string(),
        "/etc/supervisord.conf".to_string(),
        "/etc/supervisor/supervisord.conf".to_string(),
    ]
    .iter()
    .map(|p| values::normalize_path(p, host))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
                          nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
                          web:x:33:33:web:/var/www:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nnogroup:x:65534:\nwww-data:x:33:web\n";

    /// A directory of its own under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!(
                "supervisor-config-test-{}-{tag}-{n}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }

        fn write(&self, relative: &str, text: &str) -> PathBuf {
            let path = self.0.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        }

        fn s(&self) -> String {
            self.0.display().to_string()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn host_at(cwd: &Path) -> Host {
        Host {
            cwd: cwd.to_path_buf(),
            env: vec![
                ("HOME".into(), "/home/tester".into()),
                ("LANG".into(), "C.UTF-8".into()),
                ("STAGE".into(), "os".into()),
            ],
            host_node_name: "testbox".into(),
            uid: 1000,
            passwd: PASSWD.into(),
            group: GROUP.into(),
            tempdir: PathBuf::from("/tmp"),
        }
    }

    fn load_text(dir: &TempDir, text: &str) -> Result<Config, ConfigError> {
        let path = dir.write("supervisord.conf", text);
        load_with(&path, &host_at(dir.path()))
    }

    fn ok(dir: &TempDir, text: &str) -> Config {
        load_text(dir, text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(dir: &TempDir, text: &str) -> ConfigError {
        match load_text(dir, text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e,
        }
    }

    fn program(text: &str) -> String {
        format!("[supervisord]\n[program:x]\ncommand=/bin/cat\n{text}")
    }

    fn only_process(config: &Config) -> &Process {
        assert_eq!(config.groups.len(), 1, "{:?}", config.groups);
        assert_eq!(config.groups[0].processes.len(), 1);
        &config.groups[0].processes[0]
    }

    fn auto_channel() -> ChannelLog {
        ChannelLog {
            target: LogTarget::Auto,
            maxbytes: 50 * 1024 * 1024,
            backups: 10,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
        }
    }

    // --- [supervisord] -----------------------------------------------------

    #[test]
    fn supervisord_defaults_are_4_3s() {
        let dir = TempDir::new("defaults");
        let config = ok(&dir, "[supervisord]\n");
        let cwd = dir.path();
        assert_eq!(config.path, cwd.join("supervisord.conf"));
        assert_eq!(
            config.supervisord,
            Daemon {
                logfile: LogTarget::Path(cwd.join("supervisord.log")),
                logfile_maxbytes: 50 * 1024 * 1024,
                logfile_backups: 10,
                loglevel: LogLevel::Info,
                pidfile: Some(cwd.join("supervisord.pid")),
                umask: 0o22,
                nodaemon: false,
                silent: false,
                minfds: 1024,
                minprocs: 200,
                nocleanup: false,
                childlogdir: PathBuf::from("/tmp"),
                user: None,
                directory: None,
                strip_ansi: false,
                environment: vec![],
                identifier: "supervisor".into(),
                exit_when_all_done: false,
                forward_all: false,
            }
        );
        assert_eq!(config.unix_http_server, None);
        assert_eq!(config.inet_http_server, None);
        assert_eq!(config.supervisorctl, Ctl::default());
        assert!(config.groups.is_empty());
        assert!(config.warnings.is_empty());
    }

    #[test]
    fn supervisord_every_key() {
        let dir = TempDir::new("daemon-keys");
        let d = dir.s();
        let config = ok(
            &dir,
            "[supervisord]\nlogfile = %(here)s/main.log\nlogfile_maxbytes = 1KB\n\
             logfile_backups = 0\nloglevel = BLATHER\npidfile = run.pid\numask = 077\n\
             nodaemon = true\nsilent = yes\nminfds = 4096\nminprocs = 0\nnocleanup = on\n\
             childlogdir = %(here)s\nuser = nobody\ndirectory = %(here)s\nstrip_ansi = 1\n\
             environment = A=\"1,2\",B=%(ENV_STAGE)s\nidentifier = box-%(host_node_name)s\n\
             exit_when_all_done = true\n",
        );
        let s = &config.supervisord;
        assert!(s.exit_when_all_done);
        assert_eq!(s.logfile, LogTarget::Path(dir.path().join("main.log")));
        assert_eq!((s.logfile_maxbytes, s.logfile_backups), (1024, 0));
        assert_eq!(s.loglevel, LogLevel::Blather);
        assert_eq!(s.pidfile, Some(dir.path().join("run.pid")));
        assert_eq!(s.umask, 0o77);
        assert!(s.nodaemon && s.silent && s.nocleanup && s.strip_ansi);
        assert_eq!((s.minfds, s.minprocs), (4096, 0));
        assert_eq!(s.childlogdir, PathBuf::from(&d));
        assert_eq!(s.user.as_deref(), Some("nobody"));
        assert_eq!(s.directory, Some(PathBuf::from(&d)));
        assert_eq!(
            s.environment,
            vec![
                ("A".to_string(), "1,2".to_string()),
                ("B".to_string(), "os".to_string())
            ]
        );
        assert_eq!(s.identifier, "box-testbox");
    }

    #[test]
    fn supervisord_logfile_special_values() {
        let dir = TempDir::new("daemon-log");
        let logfile = |v: &str| {
            ok(&dir, &format!("[supervisord]\nlogfile={v}\n"))
                .supervisord
                .logfile
        };
        assert_eq!(logfile("syslog"), LogTarget::Syslog);
        assert_eq!(logfile("NONE"), LogTarget::None);
        assert_eq!(
            logfile("/dev/stdout"),
            LogTarget::Path("/dev/stdout".into())
        );
        let pidfile = |v: &str| {
            ok(&dir, &format!("[supervisord]\npidfile={v}\n"))
                .supervisord
                .pidfile
        };
        assert_eq!(pidfile(""), None);
    }

    #[test]
    fn supervisord_bad_values_name_key_and_line() {
        let dir = TempDir::new("daemon-bad");
        let cases: &[(&str, &str, &str)] = &[
            ("logfile", "/nonexistent/x.log", "does not exist"),
            ("logfile_maxbytes", "1.5MB", "not a valid size"),
            ("logfile_backups", "-1", "must not be negative"),
            ("loglevel", "warning", "bad logging level name 'warning'"),
            ("pidfile", "/nonexistent/x.pid", "does not exist"),
            ("umask", "089", "can not be converted to an octal type"),
            ("nodaemon", "maybe", "not a valid boolean value: 'maybe'"),
            ("silent", "2", "not a valid boolean"),
            ("minfds", "lots", "'lots' is not an integer"),
            ("minprocs", "1e3", "not an integer"),
            ("nocleanup", "nah", "not a valid boolean"),
            (
                "childlogdir",
                "/nonexistent",
                "/nonexistent is not an existing directory",
            ),
            ("user", "nosuchuser", "Invalid user name nosuchuser"),
            ("user", "4242", "Invalid user id 4242"),
            ("directory", "/nonexistent", "is not an existing directory"),
            ("strip_ansi", "x", "not a valid boolean"),
            (
                "exit_when_all_done",
                "sure",
                "not a valid boolean value: 'sure'",
            ),
            (
                "environment",
                "A=1 B=2",
                "Unexpected end of key/value pairs",
            ),
            ("identifier", "%(nope)s", "contains names ('nope')"),
        ];
        for (key, value, expected) in cases {
            let e = err(&dir, &format!("[supervisord]\n; filler\n{key} = {value}\n"));
            assert_eq!(e.key.as_deref(), Some(*key), "{key}");
            assert_eq!(e.line, Some(3), "{key}");
            assert_eq!(e.section.as_deref(), Some("supervisord"));
            assert!(e.message.contains(expected), "{key}: {}", e.message);
        }
    }

    // --- programs ----------------------------------------------------------

    #[test]
    fn program_defaults_are_4_3s() {
        let dir = TempDir::new("prog-defaults");
        let config = ok(&dir, &program(""));
        assert_eq!(config.groups[0].name, "x");
        assert_eq!(config.groups[0].priority, 999);
        assert_eq!(config.groups[0].kind, GroupKind::Program);
        assert_eq!(
            *only_process(&config),
            Process {
                name: "x".into(),
                group: "x".into(),
                program: "x".into(),
                command: "/bin/cat".into(),
                priority: 999,
                autostart: true,
                autorestart: AutoRestart::Unexpected,
                startsecs: 1,
                startretries: 3,
                exitcodes: vec![0],
                stopsignal: 15,
                stopwaitsecs: 10,
                stopasgroup: false,
                killasgroup: false,
                user: None,
                directory: None,
                umask: None,
                environment: vec![],
                redirect_stderr: false,
                stdout: auto_channel(),
                stderr: auto_channel(),
                serverurl: None,
                lifecycle: Lifecycle::default(),
                lines: LineOptions::default(),
            }
        );
    }

    #[test]
    fn program_every_key() {
        let dir = TempDir::new("prog-keys");
        let config = ok(
            &dir,
            &program(
                "priority=-5\nautostart=false\nautorestart=true\nstartsecs=0\nstartretries=9\n\
                 exitcodes=0,2,255\nstopsignal=sigquit\nstopwaitsecs=60\nstopasgroup=true\n\
                 user=web\ndirectory=/srv/%(program_name)s\numask=002\n\
                 environment=K=\"v w\",L=%(ENV_LANG)s\nredirect_stderr=false\n\
                 stdout_logfile=%(here)s/out.log\nstdout_logfile_maxbytes=0\n\
                 stdout_logfile_backups=1\nstdout_capture_maxbytes=64KB\n\
                 stdout_events_enabled=yes\nstdout_syslog=true\nstderr_logfile=NONE\n\
                 stderr_logfile_maxbytes=2GB\nstderr_logfile_backups=0\n\
                 stderr_capture_maxbytes=1\nstderr_events_enabled=1\nstderr_syslog=on\n\
                 serverurl=http://127.0.0.1:9001\n",
            ),
        );
        let p = only_process(&config);
        assert_eq!(config.groups[0].priority, -5);
        assert_eq!(p.priority, -5);
        assert!(!p.autostart);
        assert_eq!(p.autorestart, AutoRestart::Always);
        assert_eq!((p.startsecs, p.startretries), (0, 9));
        assert_eq!(p.exitcodes, vec![0, 2, 255]);
        assert_eq!((p.stopsignal, p.stopwaitsecs), (3, 60));
        assert!(
            p.stopasgroup && p.killasgroup,
            "killasgroup follows stopasgroup"
        );
        assert_eq!(p.user.as_deref(), Some("web"));
        assert_eq!(p.directory, Some(PathBuf::from("/srv/x")));
        assert_eq!(p.umask, Some(0o2));
        assert_eq!(
            p.environment,
            vec![
                ("K".to_string(), "v w".to_string()),
                ("L".to_string(), "C.UTF-8".to_string())
            ]
        );
        assert_eq!(
            p.stdout,
            ChannelLog {
                target: LogTarget::Path(dir.path().join("out.log")),
                maxbytes: 0,
                backups: 1,
                capture_maxbytes: 65536,
                events_enabled: true,
                syslog: true,
            }
        );
        assert_eq!(
            p.stderr,
            ChannelLog {
                target: LogTarget::None,
                maxbytes: 2 << 30,
                backups: 0,
                capture_maxbytes: 1,
                events_enabled: true,
                syslog: true,
            }
        );
        assert_eq!(p.serverurl.as_deref(), Some("http://127.0.0.1:9001"));
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }

    #[test]
    fn program_bad_values() {
        let dir = TempDir::new("prog-bad");
        let cases: &[(&str, &str, &str)] = &[
            ("priority", "high", "not an integer"),
            ("priority", "99999999999", "out of range"),
            ("autostart", "sometimes", "not a valid boolean value"),
            (
                "autorestart",
                "sometimes",
                "invalid 'autorestart' value 'sometimes'",
            ),
            ("startsecs", "abc", "'abc' is not an integer"),
            ("startsecs", "-1", "must not be negative"),
            ("startretries", "x", "not an integer"),
            (
                "exitcodes",
                "0,256",
                "not a valid list of exit codes: '0,256'",
            ),
            (
                "stopsignal",
                "FOO",
                "value 'FOO' is not a valid signal name",
            ),
            ("stopsignal", "99", "not a valid signal number"),
            ("stopwaitsecs", "1.5", "not an integer"),
            ("stopasgroup", "x", "not a valid boolean"),
            ("killasgroup", "x", "not a valid boolean"),
            ("user", "ghost", "Invalid user name ghost"),
            ("umask", "8", "can not be converted to an octal type"),
            ("environment", "A", "Unexpected end of key/value pairs"),
            ("environment", "A=\"x", "No closing quotation"),
            ("redirect_stderr", "x", "not a valid boolean"),
            ("numprocs", "two", "not an integer"),
            ("numprocs", "-1", "must not be negative"),
            ("numprocs", "1000000", "more than the 10000 processes"),
            ("numprocs_start", "x", "not an integer"),
            ("stdout_logfile", "/nonexistent/o.log", "does not exist"),
            ("stdout_logfile_maxbytes", "5XB", "not a valid size"),
            ("stdout_logfile_backups", "-2", "must not be negative"),
            ("stdout_capture_maxbytes", "x", "not a valid size"),
            ("stdout_events_enabled", "x", "not a valid boolean"),
            ("stdout_syslog", "x", "not a valid boolean"),
            ("stderr_logfile", "/nonexistent/e.log", "does not exist"),
            ("stderr_logfile_maxbytes", "x", "not a valid size"),
            ("stderr_logfile_backups", "x", "not an integer"),
            ("stderr_capture_maxbytes", "x", "not a valid size"),
            ("stderr_events_enabled", "x", "not a valid boolean"),
            ("stderr_syslog", "x", "not a valid boolean"),
            ("essential", "yes please", "not a valid boolean value"),
            (
                "process_name",
                "a b",
                "Invalid name: 'a b' because of character: ' '",
            ),
            ("command", "%(nope)s", "contains names ('nope')"),
            ("directory", "100%", "incomplete format"),
        ];
        for (key, value, expected) in cases {
            let e = err(&dir, &program(&format!("{key}={value}\n")));
            assert_eq!(e.key.as_deref(), Some(*key), "{key}={value}: {e}");
            assert_eq!(e.line, Some(4), "{key}");
            assert_eq!(e.section.as_deref(), Some("program:x"));
            assert!(e.message.contains(expected), "{key}={value}: {}", e.message);
        }
    }

    #[test]
    fn a_program_needs_a_command() {
        let dir = TempDir::new("no-command");
        let e = err(&dir, "[supervisord]\n\n[program:x]\nautostart=true\n");
        assert_eq!(
            e.message,
            "program section program:x does not specify a command"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "Error: program section program:x does not specify a command in section \
                 'program:x' (file: '{}/supervisord.conf', line 3)",
                dir.s()
            )
        );
    }

    #[test]
    fn program_names_are_checked() {
        let dir = TempDir::new("names");
        let e = err(&dir, "[supervisord]\n[program:x y]\ncommand=a\n");
        assert_eq!(e.message, "Invalid name: 'x y' because of character: ' '");
        assert!(err(&dir, "[supervisord]\n[program:]\ncommand=a\n")
            .message
            .contains("empty"));
        assert!(err(&dir, "[supervisord]\n[group:a/b]\n")
            .message
            .contains("'/'"));
    }

    #[test]
    fn stopasgroup_without_killasgroup_is_an_error() {
        let dir = TempDir::new("asgroup");
        let e = err(&dir, &program("stopasgroup=true\nkillasgroup=false\n"));
        assert_eq!(
            e.message,
            "Cannot set stopasgroup=true and killasgroup=false"
        );
        let p = ok(&dir, &program("killasgroup=true\n"));
        let p = only_process(&p);
        assert!(!p.stopasgroup && p.killasgroup);
    }

    #[test]
    fn serverurl_auto_means_none() {
        let dir = TempDir::new("serverurl");
        for auto in ["AUTO", "auto"] {
            let c = ok(&dir, &program(&format!("serverurl={auto}\n")));
            assert_eq!(only_process(&c).serverurl, None);
        }
    }

    #[test]
    fn unknown_keys_and_sections_are_ignored() {
        let dir = TempDir::new("unknown");
        let c = ok(
            &dir,
            "[supervisord]\nfrobnicate=1\n[program:x]\ncommand=a\nbogus_key=%(nope)s\n\
             [something:else]\nx=%\n[rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
             [ctlplugin:x]\nsupervisor.ctl_factory = a:b\n[Program:upper]\ncommand=b\n",
        );
        assert_eq!(c.groups.len(), 1);
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn default_section_values_reach_programs() {
        let dir = TempDir::new("default");
        let c = ok(
            &dir,
            "[DEFAULT]\nstartsecs=7\n[supervisord]\n[program:a]\ncommand=a\nstartsecs=3\n\
             [program:b]\ncommand=b\n",
        );
        let secs: Vec<u64> = c.groups.iter().map(|g| g.processes[0].startsecs).collect();
        assert_eq!(secs, [3, 7]);
    }

    // --- numprocs and names --------------------------------------------------

    #[test]
    fn numprocs_expand_names_and_values() {
        let dir = TempDir::new("numprocs");
        let c = ok(
            &dir,
            &program(
                "process_name=%(program_name)s_%(process_num)02d\nnumprocs=3\nnumprocs_start=8\n\
                 environment=N=\"%(process_num)d of %(numprocs)d\"\n\
                 stdout_logfile=%(here)s/%(process_num)s.log\n\
                 directory=/w/%(ENV_N)s\n",
            )
            .replace(
                "command=/bin/cat",
                "command=run --n=%(process_num)d --env=%(ENV_N)s",
            ),
        );
        let g = &c.groups[0];
        let names: Vec<&str> = g.processes.iter().map(|p| p.name.as_str()).collect();
        // sorted by name, as 4.3 sorts them ("x_10" < "x_8")
        assert_eq!(names, ["x_08", "x_09", "x_10"]);
        let p = &g.processes[2];
        assert_eq!(p.command, "run --n=10 --env=10 of 3");
        assert_eq!(
            p.environment,
            vec![("N".to_string(), "10 of 3".to_string())]
        );
        assert_eq!(p.stdout.target, LogTarget::Path(dir.path().join("10.log")));
        assert_eq!(p.directory, Some(PathBuf::from("/w/10 of 3")));
        assert!(g
            .processes
            .iter()
            .all(|p| p.group == "x" && p.program == "x"));
    }

    #[test]
    fn numprocs_needs_process_num_in_the_name() {
        let dir = TempDir::new("numprocs-name");
        let e = err(&dir, &program("numprocs=2\n"));
        assert_eq!(
            e.message,
            "%(process_num) must be present within process_name when numprocs > 1"
        );
        assert_eq!(e.key.as_deref(), Some("process_name"));
        let e = err(
            &dir,
            &program("numprocs=2\nprocess_name=%(program_name)s\n"),
        );
        assert_eq!(e.line, Some(5));
        // one process is fine without it, zero processes make an empty group
        ok(&dir, &program("numprocs=1\n"));
        assert!(ok(&dir, &program("numprocs=0\n")).groups[0]
            .processes
            .is_empty());
    }

    #[test]
    fn process_num_is_unknown_in_section_wide_keys_as_in_4_3() {
        let dir = TempDir::new("section-wide");
        let e = err(&dir, &program("priority=%(process_num)d\n"));
        assert_eq!(e.key.as_deref(), Some("priority"));
        assert!(
            e.message.contains("contains names ('process_num')"),
            "{}",
            e.message
        );
    }

    #[test]
    fn duplicate_process_names_are_an_error() {
        let dir = TempDir::new("dupe");
        // "%(process_num)s" is present, but precision .0 hides it: same name twice
        let e = err(
            &dir,
            &program("numprocs=2\nprocess_name=p%(process_num).0s\n"),
        );
        assert_eq!(e.message, "duplicate process name 'p' in group 'x'");
        let c = ok(
            &dir,
            &program("numprocs=2\nprocess_name=%(process_num)s%(program_name).0s\n"),
        );
        assert_eq!(c.groups[0].processes.len(), 2);
        let e = err(
            &dir,
            "[supervisord]\n[program:a]\ncommand=a\nprocess_name=same\n\
             [program:b]\ncommand=b\nprocess_name=same\n[group:g]\nprograms=a,b\n",
        );
        assert_eq!(e.message, "duplicate process name 'same' in group 'g'");
        assert_eq!(e.section.as_deref(), Some("group:g"));
    }

    // --- groups --------------------------------------------------------------

    #[test]
    fn groups_take_over_their_programs_and_sort_by_priority_then_name() {
        let dir = TempDir::new("groups");
        let c = ok(
            &dir,
            "[supervisord]\n\
             [program:zeta]\ncommand=z\npriority=5\n\
             [program:alpha]\ncommand=a\n\
             [program:worker]\ncommand=w --group=%(group_name)s\npriority=30\n\
             [program:cron]\ncommand=c\npriority=30\n\
             [program:first]\ncommand=f\npriority=1\n\
             [group:jobs]\nprograms=worker, cron,first\npriority=20\n\
             [program:beta]\ncommand=b\n",
        );
        let order: Vec<(&str, i32)> = c
            .groups
            .iter()
            .map(|g| (g.name.as_str(), g.priority))
            .collect();
        assert_eq!(
            order,
            [("zeta", 5), ("jobs", 20), ("alpha", 999), ("beta", 999)]
        );
        let jobs = &c.groups[1];
        assert_eq!(jobs.kind, GroupKind::Group);
        let procs: Vec<(&str, &str, i32)> = jobs
            .processes
            .iter()
            .map(|p| (p.name.as_str(), p.program.as_str(), p.priority))
            .collect();
        // by priority, then in programs= order (stable), as 4.3 starts them
        assert_eq!(
            procs,
            [
                ("first", "first", 1),
                ("worker", "worker", 30),
                ("cron", "cron", 30)
            ]
        );
        assert_eq!(jobs.processes[1].command, "w --group=jobs");
        assert!(jobs.processes.iter().all(|p| p.group == "jobs"));
    }

    #[test]
    fn group_errors() {
        let dir = TempDir::new("group-errors");
        let e = err(
            &dir,
            "[supervisord]\n[group:g]\nprograms=a,b\n[program:a]\ncommand=a\n",
        );
        assert_eq!(
            e.message,
            "[group:g] names unknown program or fcgi-program b"
        );
        assert_eq!((e.key.as_deref(), e.line), (Some("programs"), Some(3)));
        let e = err(
            &dir,
            "[supervisord]\n[group:g]\nprograms=a\n[program:a]\ncommand=a\n\
             [fcgi-program:a]\ncommand=a\nsocket=tcp://localhost:9000\n",
        );
        assert!(e.message.contains("is ambiguous"), "{}", e.message);
        let e = err(&dir, "[supervisord]\n[group:g]\npriority=x\n");
        assert_eq!(e.key.as_deref(), Some("priority"));
        // an empty group is allowed, as in 4.3
        let c = ok(&dir, "[supervisord]\n[group:g]\n");
        assert!(c.groups[0].processes.is_empty());
    }

    #[test]
    fn group_names_must_be_unique() {
        let dir = TempDir::new("group-unique");
        let e = err(
            &dir,
            "[supervisord]\n[program:a]\ncommand=a\n[eventlistener:a]\ncommand=l\nevents=TICK_5\n",
        );
        assert_eq!(e.message, "group name 'a' is already used by [program:a]");
        assert_eq!(e.section.as_deref(), Some("eventlistener:a"));
    }

    // --- event listeners and fcgi -------------------------------------------

    #[test]
    fn eventlisteners_are_parsed_with_a_warning() {
        let dir = TempDir::new("listener");
        let c = ok(
            &dir,
            "[supervisord]\n[eventlistener:watch]\ncommand=w\nevents=process_state, TICK_60,PROCESS_STATE\n\
             buffer_size=5\nresult_handler=supervisor.dispatchers:default_handler\n",
        );
        let g = &c.groups[0];
        assert_eq!(
            (g.name.as_str(), g.priority, g.kind),
            ("watch", -1, GroupKind::EventListener)
        );
        assert_eq!(g.processes[0].priority, 999);
        assert_eq!(
            g.pool,
            Some(PoolConfig {
                events: vec!["PROCESS_STATE".into(), "TICK_60".into()],
                buffer_size: 5
            })
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let e = err(
            &dir,
            "[supervisord]\n[eventlistener:watch]\ncommand=w\nevents=TICK_5\nresult_handler=x.y:z\n",
        );
        assert_eq!(e.key.as_deref(), Some("result_handler"));
        assert!(
            e.to_string()
                .contains("x.y:z cannot be resolved within [eventlistener:watch]"),
            "{e}"
        );
    }

    #[test]
    fn eventlistener_errors_match_4_3() {
        let dir = TempDir::new("listener-errors");
        let base = "[supervisord]\n[eventlistener:e]\ncommand=a\n";
        let e = err(&dir, base);
        assert_eq!(
            e.message,
            "[eventlistener:e] section requires an \"events\" line"
        );
        let e = err(&dir, &format!("{base}events=FOO\n"));
        assert_eq!(
            e.message,
            "Unknown event type FOO in [eventlistener:e] events"
        );
        let e = err(&dir, &format!("{base}events=TICK_5\nbuffer_size=0\n"));
        assert_eq!(
            e.message,
            "[eventlistener:e] section sets invalid buffer_size (0)"
        );
        let e = err(
            &dir,
            &format!("{base}events=TICK_5\nredirect_stderr=true\n"),
        );
        assert_eq!(
            e.message,
            "[eventlistener:e] section sets redirect_stderr=true but this is not allowed \
             because it will interfere with the eventlistener protocol"
        );
    }

    #[test]
    fn fcgi_programs_are_parsed() {
        let dir = TempDir::new("fcgi");
        let c = ok(
            &dir,
            "[supervisord]\n[fcgi-program:php]\ncommand=php\nsocket=unix:///run//x/../%(program_name)s.sock\n\
             socket_mode=0700\nsocket_owner=web:www-data\nsocket_backlog=128\n",
        );
        assert_eq!(c.groups[0].kind, GroupKind::FcgiProgram);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let socket = c.groups[0].fcgi.as_ref().unwrap();
        // 4.3 normalizes the path, as its url shows.
        assert_eq!(
            socket.address,
            SocketAddress::Unix(PathBuf::from("/run/php.sock"))
        );
        assert_eq!(socket.backlog, Some(128));
        assert_eq!(socket.mode, Some(0o700));
        let c = ok(
            &dir,
            "[supervisord]\n[fcgi-program:p]\ncommand=p\nsocket=tcp://LocalHost:9000\n",
        );
        // ... and lower-cases the host.
        assert_eq!(
            c.groups[0].fcgi.as_ref().unwrap().address,
            SocketAddress::Tcp {
                host: "localhost".to_string(),
                port: 9000
            }
        );
    }

    #[test]
    fn fcgi_errors_match_4_3() {
        let dir = TempDir::new("fcgi-errors");
        let base = "[supervisord]\n[fcgi-program:f]\ncommand=a\n";
        let e = err(&dir, base);
        assert_eq!(
            e.message,
            "[fcgi-program:f] section requires a \"socket\" line"
        );
        let e = err(&dir, &format!("{base}socket=unix://rel.sock\n"));
        assert_eq!(
            e.message,
            "Unix socket path rel.sock is not an absolute path in [fcgi-program:f] socket"
        );
        let e = err(&dir, &format!("{base}socket=tcp://h\n"));
        assert_eq!(
            e.message,
            "Bad socket format tcp://h in [fcgi-program:f] socket"
        );
        let e = err(&dir, &format!("{base}socket=tcp://h:1\nsocket_mode=0700\n"));
        assert!(e
            .message
            .starts_with("socket_owner and socket_mode params should only"));
        let e = err(&dir, &format!("{base}socket=tcp://h:1\nsocket_backlog=0\n"));
        assert_eq!(e.message, "Invalid socket_backlog value 0");
        let e = err(
            &dir,
            &format!("{base}socket=tcp://h:1\nsocket_owner=ghost\n"),
        );
        assert!(e.message.starts_with("Invalid socket_owner value ghost"));
    }

    // --- expansions ------------------------------------------------------------

    #[test]
    fn expansion_names() {
        let dir = TempDir::new("expand");
        let c = ok(
            &dir,
            "[supervisord]\nenvironment=GLOBAL=g\n\
             [program:p]\ncommand=%(here)s|%(ENV_HOME)s|%(ENV_GLOBAL)s|%(program_name)s|\
             %(group_name)s|%(host_node_name)s|%(process_num)d|%(numprocs)d|%(ENV_OWN)s|100%%\n\
             environment=OWN=mine\n",
        );
        assert_eq!(
            only_process(&c).command,
            format!("{}|/home/tester|g|p|p|testbox|0|1|mine|100%", dir.s())
        );
    }

    #[test]
    fn supervisord_environment_overrides_os_variables_for_programs() {
        let dir = TempDir::new("env-override");
        let c = ok(
            &dir,
            "[supervisord]\nenvironment=STAGE=daemon\nidentifier=%(ENV_STAGE)s\n\
             [program:p]\ncommand=%(ENV_STAGE)s\n[program:q]\ncommand=%(ENV_STAGE)s\n\
             environment=STAGE=own\n",
        );
        // [supervisord]'s own keys still see the OS value, as in 4.3
        assert_eq!(c.supervisord.identifier, "os");
        assert_eq!(c.groups[0].processes[0].command, "daemon");
        assert_eq!(c.groups[1].processes[0].command, "own");
    }

    #[test]
    fn expansion_errors_name_the_key() {
        let dir = TempDir::new("expand-errors");
        let e = err(&dir, &program("stdout_logfile=%(nope)s\n"));
        assert_eq!(e.key.as_deref(), Some("stdout_logfile"));
        assert!(e.message.starts_with("Format string '%(nope)s' contains names ('nope') which cannot be expanded. Available names: ENV_<NAME> for each environment variable, group_name, here, host_node_name, numprocs, process_num, program_name"), "{}", e.message);
        let e = err(&dir, "[supervisord]\nidentifier=50%\n");
        assert_eq!(
            e.message,
            "Format string '50%' is badly formatted: incomplete format"
        );
        let e = err(&dir, &program("directory=%(program_name)d\n"));
        assert!(e
            .message
            .ends_with("%d format: a real number is required, not str"));
    }

    // --- includes --------------------------------------------------------------

    #[test]
    fn includes_are_read_sorted_with_their_own_here() {
        let dir = TempDir::new("include");
        dir.write("conf.d/b.conf", "[program:b]\ncommand=%(here)s/run-b\n");
        dir.write(
            "conf.d/a.conf",
            "[program:a]\ncommand=%(here)s/run-a\n[supervisord]\nidentifier=from-a\n",
        );
        dir.write("conf.d/.hidden.conf", "[program:hidden]\ncommand=h\n");
        dir.write("conf.d/notes.txt", "not ini at all");
        dir.write(
            "extra/x.ini",
            "[program:x]\ncommand=x\n[include]\nfiles=../conf.d/*.txt\n",
        );
        let c = ok(
            &dir,
            "[supervisord]\nidentifier=main\n[include]\nfiles = conf.d/*.conf  %(here)s/extra/?.ini nomatch/*.conf\n",
        );
        let names: Vec<&str> = c.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "x"]);
        assert_eq!(
            c.groups[0].processes[0].command,
            format!("{}/conf.d/run-a", dir.s())
        );
        // later files override earlier keys
        assert_eq!(c.supervisord.identifier, "from-a");
        assert_eq!(
            c.warnings,
            vec![
                format!("No file matches via include \"{}/nomatch/*.conf\"", dir.s()),
                format!(
                    "The [include] section of \"{}/extra/x.ini\" is ignored: only the main \
                     configuration file may include others",
                    dir.s()
                ),
            ]
        );
        // 4.3's INFO lines, in reading order, with the paths the globs gave.
        let included =
            |rel: &str| format!("Included extra file \"{}/{rel}\" during parsing", dir.s());
        assert_eq!(
            c.infos,
            vec![
                included("conf.d/a.conf"),
                included("conf.d/b.conf"),
                included("extra/x.ini")
            ]
        );
    }

    #[test]
    fn include_errors_point_into_the_included_file() {
        let dir = TempDir::new("include-errors");
        dir.write(
            "inc/bad.conf",
            "[program:bad]\ncommand=a\n\nstartsecs=soon\n",
        );
        let e = err(&dir, "[supervisord]\n[include]\nfiles=inc/*.conf\n");
        assert_eq!(e.file, Some(dir.path().join("inc/bad.conf")));
        assert_eq!(e.line, Some(4));
        dir.write("inc/bad.conf", "no header\n");
        let e = err(&dir, "[supervisord]\n[include]\nfiles=inc/*.conf\n");
        assert_eq!(
            (e.line, e.message.as_str()),
            (Some(1), "File contains no section headers: 'no header'")
        );
        let e = err(&dir, "[supervisord]\n[include]\n");
        assert_eq!(
            e.message,
            ".ini file has [include] section, but no files setting"
        );
    }

    #[test]
    fn the_supervisord_section_may_come_from_an_include() {
        let dir = TempDir::new("include-supervisord");
        dir.write("base.conf", "[supervisord]\nidentifier=inc\n");
        let c = ok(&dir, "[include]\nfiles=base.conf\n");
        assert_eq!(c.supervisord.identifier, "inc");
        let e = err(&dir, "[program:x]\ncommand=a\n");
        assert_eq!(e.message, ".ini file does not include supervisord section");
        assert_eq!(e.file, Some(dir.path().join("supervisord.conf")));
    }

    #[test]
    fn fnmatch_follows_python() {
        assert!(fnmatch("a.conf", "*.conf"));
        assert!(fnmatch(".conf", "*.conf"));
        assert!(!fnmatch("a.conf.bak", "*.conf"));
        assert!(fnmatch("a1.ini", "a?.ini"));
        assert!(!fnmatch("a12.ini", "a?.ini"));
        assert!(fnmatch("b", "[abc]"));
        assert!(!fnmatch("d", "[abc]"));
        assert!(fnmatch("d", "[!abc]"));
        assert!(fnmatch("5", "[0-9]"));
        assert!(fnmatch("]", "[]]"));
        assert!(fnmatch("-", "[a-]"));
        assert!(fnmatch("[x", "[x"));
        assert!(fnmatch("anything", "*"));
        assert!(fnmatch("", "*"));
        assert!(!fnmatch("", "?"));
        assert!(fnmatch("abcabc", "*abc"));
        assert!(fnmatch("xaybzc", "*a*b*c"));
        assert!(!fnmatch("xaybz", "*a*b*c"));
        assert!(fnmatch("é.conf", "?.conf"));
        assert!(fnmatch("A", "A"));
        assert!(!fnmatch("a", "A"));
    }

    #[test]
    fn glob_matches_paths_and_skips_hidden_files() {
        let dir = TempDir::new("glob");
        dir.write("d1/x.conf", "");
        dir.write("d2/y.conf", "");
        dir.write("d2/.z.conf", "");
        let mut found = glob(&format!("{}/d*/*.conf", dir.s()));
        found.sort();
        assert_eq!(
            found,
            [
                format!("{}/d1/x.conf", dir.s()),
                format!("{}/d2/y.conf", dir.s())
            ]
        );
        assert_eq!(
            glob(&format!("{}/d2/.*.conf", dir.s())),
            [format!("{}/d2/.z.conf", dir.s())]
        );
        assert_eq!(
            glob(&format!("{}/d1/x.conf", dir.s())),
            [format!("{}/d1/x.conf", dir.s())]
        );
        assert!(glob(&format!("{}/nope/*.conf", dir.s())).is_empty());
        assert!(glob(&format!("{}/d1/missing.conf", dir.s())).is_empty());
    }

    // --- 2.0 form ---------------------------------------------------------------

    #[test]
    fn legacy_http_port_unix_socket() {
        let dir = TempDir::new("legacy-unix");
        let c = ok(
            &dir,
            "[supervisord]\nhttp_port=%(here)s/s.sock\nsockchmod=0770\nsockchown=web.www-data\n\
             http_username=u\nhttp_password={SHA}abc\n",
        );
        assert_eq!(
            c.unix_http_server,
            Some(UnixServer {
                file: dir.path().join("s.sock"),
                chmod: 0o770,
                chown: Some(("web".into(), Some("www-data".into()))),
                auth: Some(Credentials {
                    username: "u".into(),
                    password: Password::Sha1Hex("abc".into()),
                }),
            })
        );
        assert_eq!(c.inet_http_server, None);
        let c = ok(&dir, "[supervisord]\nhttp_port=/tmp/x.sock\n");
        let unix = c.unix_http_server.unwrap();
        assert_eq!((unix.chmod, unix.chown, unix.auth), (0o700, None, None));
    }

    #[test]
    fn legacy_http_port_inet() {
        let dir = TempDir::new("legacy-inet");
        let c = ok(
            &dir,
            "[supervisord]\nhttp_port=127.0.0.1:9001\nhttp_username=u\nhttp_password=p\n",
        );
        assert_eq!(
            c.inet_http_server,
            Some(InetServer {
                host: "127.0.0.1".into(),
                port: 9001,
                auth: Some(Credentials {
                    username: "u".into(),
                    password: Password::Plain("p".into()),
                }),
            })
        );
        assert_eq!(c.unix_http_server, None);
        let e = err(&dir, "[supervisord]\nhttp_port=host:port\n");
        assert_eq!(e.key.as_deref(), Some("http_port"));
        // no colon: a socket file, as 2.0's SocketAddress decided
        let c = ok(&dir, "[supervisord]\nhttp_port=sv.sock\n");
        assert_eq!(c.unix_http_server.unwrap().file, dir.path().join("sv.sock"));
        let e = err(&dir, "[supervisord]\nhttp_port=:9001\nhttp_username=u\n");
        assert!(e.message.contains("incomplete authentication"));
        let e = err(
            &dir,
            "[supervisord]\nhttp_port=/tmp/x.sock\nsockchown=ghost.nogroup\n",
        );
        assert_eq!(e.key.as_deref(), Some("sockchown"));
    }

    #[test]
    fn a_4x_server_section_wins_over_http_port() {
        let dir = TempDir::new("legacy-shadow");
        let c = ok(
            &dir,
            "[supervisord]\nhttp_port=:8000\n[inet_http_server]\nport=9001\n",
        );
        assert_eq!(c.inet_http_server.unwrap().port, 9001);
        assert_eq!(
            c.warnings,
            ["[supervisord] http_port is ignored because a [inet_http_server] section is present"]
        );
        // a different kind just adds the other server
        let c = ok(
            &dir,
            "[supervisord]\nhttp_port=:8000\n[unix_http_server]\nfile=/tmp/a.sock\n",
        );
        assert!(c.unix_http_server.is_some() && c.inet_http_server.is_some());
    }

    fn legacy_channels(dir: &TempDir, keys: &str) -> (ChannelLog, ChannelLog, bool) {
        let c = ok(dir, &program(keys));
        let p = only_process(&c).clone();
        (p.stdout, p.stderr, p.redirect_stderr)
    }

    #[test]
    fn legacy_program_logging_maps_onto_channels() {
        let dir = TempDir::new("legacy-log");
        let file = LogTarget::Path(dir.path().join("p.log"));
        // logfile alone: stdout to it, stderr not logged (2.0's log_stderr=false)
        let (out, errc, redirect) = legacy_channels(&dir, "logfile=%(here)s/p.log\n");
        assert_eq!(
            (out.target, errc.target, redirect),
            (file.clone(), LogTarget::None, false)
        );
        // both: interleaved into the one file
        let (out, errc, redirect) =
            legacy_channels(&dir, "logfile=%(here)s/p.log\nlog_stderr=true\n");
        assert_eq!(
            (out.target, errc.target, redirect),
            (file.clone(), LogTarget::None, true)
        );
        // stderr only
        let (out, errc, redirect) = legacy_channels(
            &dir,
            "logfile=%(here)s/p.log\nlog_stdout=false\nlog_stderr=true\n",
        );
        assert_eq!(
            (out.target, errc.target, redirect),
            (LogTarget::None, file.clone(), false)
        );
        // neither
        let (out, errc, _) = legacy_channels(&dir, "log_stdout=false\n");
        assert_eq!(
            (out.target, errc.target),
            (LogTarget::None, LogTarget::None)
        );
        // logfile defaults to AUTO, NONE turns it off
        let (out, _, _) = legacy_channels(&dir, "log_stderr=false\n");
        assert_eq!(out.target, LogTarget::Auto);
        let (out, _, _) = legacy_channels(&dir, "logfile=NONE\n");
        assert_eq!(out.target, LogTarget::None);
        // sizes apply to both channels
        let (out, errc, _) = legacy_channels(&dir, "logfile_maxbytes=10MB\nlogfile_backups=2\n");
        assert_eq!((out.maxbytes, out.backups), (10 << 20, 2));
        assert_eq!((errc.maxbytes, errc.backups), (10 << 20, 2));
    }

    #[test]
    fn legacy_bad_values() {
        let dir = TempDir::new("legacy-bad");
        let cases: &[(&str, &str, &str)] = &[
            ("logfile", "/nonexistent/p.log", "does not exist"),
            ("log_stdout", "x", "not a valid boolean"),
            ("log_stderr", "x", "not a valid boolean"),
            ("logfile_maxbytes", "ten", "not a valid size"),
            ("logfile_backups", "-1", "must not be negative"),
        ];
        for (key, value, expected) in cases {
            let e = err(&dir, &program(&format!("{key}={value}\n")));
            assert_eq!((e.key.as_deref(), e.line), (Some(*key), Some(4)), "{key}");
            assert!(e.message.contains(expected), "{key}: {}", e.message);
        }
        let daemon: &[(&str, &str)] = &[
            ("http_port", "host:"),
            ("sockchmod", "abc"),
            ("sockchown", "ghost"),
        ];
        for (key, value) in daemon {
            let e = err(
                &dir,
                &format!("[supervisord]\nhttp_port=/tmp/s.sock\n{key}={value}\n"),
            );
            assert_eq!((e.key.as_deref(), e.line), (Some(*key), Some(3)), "{key}");
        }
    }

    #[test]
    fn legacy_keys_yield_to_4x_keys() {
        let dir = TempDir::new("legacy-4x");
        let (out, errc, redirect) = legacy_channels(
            &dir,
            "logfile=%(here)s/p.log\nlog_stderr=true\nstdout_logfile=%(here)s/o.log\n\
             stdout_logfile_maxbytes=1KB\nlogfile_maxbytes=2KB\n",
        );
        assert_eq!(out.target, LogTarget::Path(dir.path().join("o.log")));
        assert_eq!(errc.target, LogTarget::Path(dir.path().join("p.log")));
        assert!(!redirect);
        assert_eq!((out.maxbytes, errc.maxbytes), (1024, 2048));
        let (_, errc, redirect) = legacy_channels(
            &dir,
            "logfile=%(here)s/p.log\nlog_stderr=true\nstderr_logfile=%(here)s/e.log\n",
        );
        assert_eq!(errc.target, LogTarget::Path(dir.path().join("e.log")));
        assert!(!redirect);
        let e = err(&dir, &program("log_stderr=perhaps\n"));
        assert_eq!(e.key.as_deref(), Some("log_stderr"));
    }

    #[test]
    fn the_2_0_sample_config_loads() {
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/supervisor-2.0.conf");
        let dir = fixture.parent().unwrap().to_path_buf();
        let c = load_with(&fixture, &host_at(&dir)).unwrap_or_else(|e| panic!("{e}"));
        let s = &c.supervisord;
        assert_eq!(s.logfile, LogTarget::Path(dir.join("supervisord.log")));
        assert_eq!(s.user.as_deref(), Some("nobody"));
        assert_eq!(s.identifier, "supervisor2");
        assert!(s.nocleanup);
        assert_eq!(
            s.environment,
            vec![
                ("KEY".to_string(), "value".to_string()),
                ("OTHER".to_string(), "a b".to_string())
            ]
        );
        let unix = c.unix_http_server.as_ref().unwrap();
        assert_eq!(unix.file, dir.join("supervisor.sock"));
        assert_eq!(unix.chmod, 0o770);
        assert_eq!(unix.chown, Some(("nobody".into(), Some("nogroup".into()))));
        assert_eq!(unix.auth.as_ref().unwrap().username, "user");
        assert_eq!(
            c.supervisorctl.serverurl,
            format!("unix://{}/supervisor.sock", dir.display())
        );
        assert_eq!(c.supervisorctl.prompt, "mysupervisor");
        let names: Vec<&str> = c.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["programname", "zeo", "zope1", "postgres"]);
        let prog = &c.groups[0].processes[0];
        assert_eq!(prog.autorestart, AutoRestart::Always);
        assert_eq!(prog.exitcodes, vec![0, 2]);
        assert_eq!(prog.startretries, 999);
        assert_eq!(
            prog.stdout.target,
            LogTarget::Path(dir.join("programname.log"))
        );
        assert_eq!((prog.stdout.maxbytes, prog.stdout.backups), (10 << 20, 2));
        assert_eq!(prog.stderr.target, LogTarget::None);
        let zope = &c.groups[2].processes[0];
        assert!(zope.redirect_stderr);
        assert_eq!(zope.stdout.target, LogTarget::Auto);
        assert_eq!(c.groups[3].processes[0].stopsignal, 2);
        // 4.3 defaults where 2.0 differs
        assert_eq!(
            c.groups[3].processes[0].autorestart,
            AutoRestart::Unexpected
        );
        assert_eq!(c.groups[3].processes[0].exitcodes, vec![0]);
    }

    #[test]
    fn the_4x_sample_config_loads_as_4_3_reads_it() {
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/supervisord-4.conf");
        let dir = fixture.parent().unwrap().to_path_buf();
        let c = load_with(&fixture, &host_at(&dir)).unwrap_or_else(|e| panic!("{e}"));
        // Values below were printed by 4.3's ServerOptions for the same file.
        let order: Vec<(&str, i32, GroupKind)> = c
            .groups
            .iter()
            .map(|g| (g.name.as_str(), g.priority, g.kind))
            .collect();
        assert_eq!(
            order,
            [
                ("watch", -1, GroupKind::EventListener),
                ("web", 10, GroupKind::Program),
                ("jobs", 20, GroupKind::Group),
                ("php", 999, GroupKind::FcgiProgram),
            ]
        );
        let web = &c.groups[1].processes;
        assert_eq!(web[0].name, "web_01");
        assert_eq!(web[1].command, "/usr/bin/web --port=8002 --stage=prod");
        assert_eq!(web[1].stdout.target, LogTarget::Path(dir.join("web-2.log")));
        assert_eq!(web[1].stderr.target, LogTarget::None);
        assert!(web[1].redirect_stderr);
        assert_eq!(web[1].stopsignal, 3);
        assert_eq!(web[1].autorestart, AutoRestart::Always);
        assert_eq!(web[1].exitcodes, vec![0, 3]);
        assert_eq!(
            web[1].environment,
            vec![
                ("PORT".to_string(), "8002".to_string()),
                ("LOGDIR".to_string(), dir.display().to_string())
            ]
        );
        let jobs: Vec<&str> = c.groups[2]
            .processes
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(jobs, ["worker", "cron"]);
        let inet = c.inet_http_server.as_ref().unwrap();
        assert_eq!((inet.host.as_str(), inet.port), ("127.0.0.1", 9001));
        let unix = c.unix_http_server.as_ref().unwrap();
        assert_eq!(unix.chmod, 0o766);
        assert_eq!(
            unix.auth.as_ref().unwrap().password,
            Password::Sha1Hex("40bd001563085fc35165329ea1ff5c5ecbdbbeef".into())
        );
        assert_eq!(c.supervisord.umask, 0o27);
        assert_eq!(c.supervisord.loglevel, LogLevel::Debug);
        assert_eq!(c.supervisorctl.history_file, Some(dir.join(".sc_history")));
        assert_eq!(
            c.groups[3].fcgi.as_ref().map(|f| (&f.address, f.mode)),
            Some((&SocketAddress::Unix(dir.join("php.sock")), Some(0o700)))
        );
        // 4.3 reads the whole file without a warning.
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    // --- servers -----------------------------------------------------------------

    #[test]
    fn unix_http_server() {
        let dir = TempDir::new("unix");
        let c = ok(
            &dir,
            "[supervisord]\n[unix_http_server]\nfile = run/../%(ENV_STAGE)s.sock\nchmod=0777\n\
             chown=web\nusername=a\npassword=b\n",
        );
        assert_eq!(
            c.unix_http_server,
            Some(UnixServer {
                file: dir.path().join("os.sock"),
                chmod: 0o777,
                chown: Some(("web".into(), None)),
                auth: Some(Credentials {
                    username: "a".into(),
                    password: Password::Plain("b".into()),
                }),
            })
        );
        let c = ok(
            &dir,
            "[supervisord]\n[unix_http_server]\nfile=/tmp/s.sock\n",
        );
        let u = c.unix_http_server.unwrap();
        assert_eq!((u.chmod, u.chown, u.auth), (0o700, None, None));
    }

    #[test]
    fn server_errors_match_4_3() {
        let dir = TempDir::new("server-errors");
        let e = err(&dir, "[supervisord]\n[unix_http_server]\nchmod=0700\n");
        assert_eq!(e.message, "section [unix_http_server] has no file value");
        let e = err(
            &dir,
            "[supervisord]\n[unix_http_server]\nfile=/tmp/s\nchmod=abc\n",
        );
        assert_eq!(
            e.message,
            "Invalid chmod value abc: 'abc' can not be converted to an octal type"
        );
        let e = err(
            &dir,
            "[supervisord]\n[unix_http_server]\nfile=/tmp/s\nchown=ghost\n",
        );
        assert_eq!(
            e.message,
            "Invalid sockchown value ghost: Invalid user name ghost"
        );
        let e = err(
            &dir,
            "[supervisord]\n[unix_http_server]\nfile=/tmp/s\npassword=p\n",
        );
        assert_eq!(
            e.message,
            "Section [unix_http_server] contains incomplete authentication: If a username or a \
             password is specified, both the username and password must be specified"
        );
        let e = err(&dir, "[supervisord]\n[inet_http_server]\nusername=u\n");
        assert_eq!(e.message, "section [inet_http_server] has no port value");
        let e = err(&dir, "[supervisord]\n[inet_http_server]\nport=70000\n");
        assert_eq!(e.key.as_deref(), Some("port"));
        let e = err(&dir, "[supervisord]\n[inet_http_server]\nport=foo:\n");
        assert_eq!(e.message, "no port number specified in 'foo:'");
    }

    #[test]
    fn inet_http_server_all_interfaces() {
        let dir = TempDir::new("inet");
        let c = ok(&dir, "[supervisord]\n[inet_http_server]\nport=*:9001\n");
        assert_eq!(
            c.inet_http_server,
            Some(InetServer {
                host: String::new(),
                port: 9001,
                auth: None
            })
        );
        let c = ok(&dir, "[supervisord]\n[inet_http_server:second]\nport=1\n");
        assert_eq!(c.inet_http_server, None);
        assert!(c.warnings[0].starts_with("[inet_http_server:second] is ignored"));
    }

    // --- supervisorctl -------------------------------------------------------------

    #[test]
    fn load_ctl_reads_only_supervisorctl() {
        let dir = TempDir::new("ctl");
        let path = dir.write(
            "sv.conf",
            "[supervisorctl]\nserverurl=unix://%(here)s/../x/./s.sock\nusername=%(ENV_STAGE)s\n\
             password=p\nprompt=box\nhistory_file=~/.hist\n\
             [program:broken]\nstartsecs=never\n",
        );
        let ctl = load_ctl_with(&path, &host_at(dir.path())).unwrap();
        let parent = dir.path().parent().unwrap().display().to_string();
        assert_eq!(
            ctl,
            Ctl {
                serverurl: format!("unix://{parent}/x/s.sock"),
                username: Some("os".into()),
                password: Some("p".into()),
                prompt: "box".into(),
                history_file: Some(PathBuf::from("/home/tester/.hist")),
            }
        );
    }

    #[test]
    fn load_ctl_defaults_and_errors() {
        let dir = TempDir::new("ctl-errors");
        let path = dir.write("a.conf", "[supervisorctl]\n");
        assert_eq!(
            load_ctl_with(&path, &host_at(dir.path())),
            Ok(Ctl::default())
        );
        let path = dir.write("b.conf", "[supervisord]\n");
        let e = load_ctl_with(&path, &host_at(dir.path())).unwrap_err();
        assert_eq!(
            e.message,
            ".ini file does not include supervisorctl section"
        );
        let e = load_ctl_with(Path::new("missing.conf"), &host_at(dir.path())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Error: could not find config file missing.conf"
        );
        let path = dir.write(
            "c.conf",
            "[supervisorctl]\nhistory_file=\nserverurl=http://h:1\n",
        );
        let ctl = load_ctl_with(&path, &host_at(dir.path())).unwrap();
        assert_eq!(
            (ctl.history_file, ctl.serverurl.as_str()),
            (None, "http://h:1")
        );
    }

    #[test]
    fn a_bad_supervisorctl_section_does_not_stop_the_daemon() {
        let dir = TempDir::new("ctl-in-daemon");
        let c = ok(&dir, "[supervisord]\n[supervisorctl]\nprompt=%(bad)s\n");
        assert_eq!(c.supervisorctl, Ctl::default());
        assert!(c.warnings[0].starts_with("[supervisorctl] ignored: invalid value for 'prompt'"));
    }

    // --- warnings 4.3 gives ---------------------------------------------------------

    #[test]
    fn log_channel_warnings() {
        let dir = TempDir::new("warnings");
        let c = ok(&dir, &program("stdout_logfile=syslog\n"));
        let p = only_process(&c);
        assert_eq!(
            (p.stdout.target.clone(), p.stdout.syslog),
            (LogTarget::None, true)
        );
        assert_eq!(
            c.warnings,
            ["For [program:x], stdout_logfile=syslog but this is deprecated and will be removed.  Use stdout_syslog=true to enable syslog instead."]
        );
        let c = ok(&dir, &program("stderr_logfile_maxbytes=0\n"));
        assert_eq!(
            c.warnings,
            ["For [program:x], AUTO logging used for stderr_logfile without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally"]
        );
        let c = ok(
            &dir,
            &program("redirect_stderr=true\nstderr_logfile=%(here)s/e.log\n"),
        );
        assert_eq!(only_process(&c).stderr.target, LogTarget::None);
        assert_eq!(
            c.warnings,
            ["For [program:x], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored"]
        );
        // one warning per section, not per process
        let c = ok(
            &dir,
            &program("numprocs=3\nprocess_name=%(process_num)s\nstdout_logfile=syslog\n"),
        );
        assert_eq!(c.warnings.len(), 1);
    }

    // --- errors and their text ---------------------------------------------------------

    #[test]
    fn error_display_is_one_line_with_every_location_part() {
        let e = ConfigError {
            file: Some("/etc/supervisord.conf".into()),
            line: Some(12),
            section: Some("program:web".into()),
            key: Some("startsecs".into()),
            message: "'abc' is not an integer".into(),
        };
        assert_eq!(
            e.to_string(),
            "Error: invalid value for 'startsecs' in section 'program:web' \
             (file: '/etc/supervisord.conf', line 12): 'abc' is not an integer"
        );
        let e = ConfigError {
            key: None,
            message: "Cannot set stopasgroup=true and\nkillasgroup=false".into(),
            ..e
        };
        assert_eq!(
            e.to_string(),
            "Error: Cannot set stopasgroup=true and killasgroup=false in section 'program:web' \
             (file: '/etc/supervisord.conf', line 12)"
        );
        assert_eq!(ConfigError::new("plain").to_string(), "Error: plain");
        let e = ConfigError {
            line: None,
            section: None,
            ..e
        };
        assert!(e.to_string().ends_with("(file: '/etc/supervisord.conf')"));
    }

    #[test]
    fn errors_from_a_real_load_render_exactly() {
        let dir = TempDir::new("render");
        let e = err(
            &dir,
            "[supervisord]\n\n[program:web]\ncommand=x\nstartsecs=abc\n",
        );
        assert_eq!(
            e.to_string(),
            format!(
                "Error: invalid value for 'startsecs' in section 'program:web' (file: \
                 '{}/supervisord.conf', line 5): 'abc' is not an integer",
                dir.s()
            )
        );
        let e = err(&dir, "[supervisord]\ngarbage\n");
        assert_eq!(
            e.to_string(),
            format!(
                "Error: Source contains parsing errors: 'garbage' (file: '{}/supervisord.conf', line 2)",
                dir.s()
            )
        );
        let e = err(&dir, &program("user=ghost\n"));
        assert!(e.to_string().contains("): Invalid user name ghost"));
    }

    #[test]
    fn unreadable_files_are_clear_errors() {
        let dir = TempDir::new("unreadable");
        let host = host_at(dir.path());
        let e = load_with(Path::new("nope.conf"), &host).unwrap_err();
        assert_eq!(e.to_string(), "Error: could not find config file nope.conf");
        let e = load_with(dir.path(), &host).unwrap_err();
        assert!(
            e.message.starts_with("could not read config file"),
            "{}",
            e.message
        );
        let path = dir.path().join("latin1.conf");
        std::fs::write(&path, b"[supervisord]\nidentifier=caf\xe9\n").unwrap();
        let e = load_with(&path, &host).unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (Some(2), "file is not valid UTF-8 text")
        );
    }

    #[test]
    fn load_never_panics_on_odd_configs() {
        let dir = TempDir::new("fuzz");
        let host = host_at(dir.path());
        let pieces = [
            "[supervisord]\n",
            "[program:p]\n",
            "[group:g]\n",
            "programs=p,q\n",
            "command=%(x\n",
            "command=a\n",
            "numprocs=3\n",
            "numprocs=99999999999999999999\n",
            "numprocs_start=-9223372036854775807\n",
            "process_name=%(process_num)d\n",
            "[include]\n",
            "files=*\n",
            "files=[\n",
            "%%\n",
            "environment=A=\"\n",
            "  continued\n",
            "[eventlistener:e]\n",
            "events=EVENT\n",
            "[fcgi-program:f]\n",
            "socket=unix://\n",
            "stdout_logfile=syslog\n",
            "http_port=/\n",
            "http_port=:\n",
            "[unix_http_server]\n",
            "file=\n",
            "[DEFAULT]\n",
            "priority=-2147483649\n",
            "user=0\n",
            "umask=\n",
            "exitcodes=\n",
            "stopsignal=sig\n",
            "=\n",
            ";\n",
            "\u{feff}\n",
            "\r\n",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let path = dir.path().join("fuzz.conf");
        for _ in 0..400 {
            let mut text = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pick = usize::try_from(seed % pieces.len() as u64).unwrap_or(0);
                text.push_str(pieces[pick]);
            }
            std::fs::write(&path, &text).unwrap();
            let _ = load_with(&path, &host).map_err(|e| e.to_string());
            let _ = load_ctl_with(&path, &host);
        }
    }

    // --- dependencies ---------------------------------------------------------------

    #[test]
    fn depends_on_resolves_names_and_refuses_unknowns_and_cycles() {
        let dir = TempDir::new("depends");
        let c = ok(
            &dir,
            "[supervisord]\n[program:a]\ncommand=a\n[program:b]\ncommand=b\ndepends_on=a\n\
             [program:c]\ncommand=c\ndepends_on = b, g:x\n[group:g]\nprograms=x\n[program:x]\ncommand=x\n",
        );
        let c_proc = c
            .groups
            .iter()
            .flat_map(|g| &g.processes)
            .find(|p| p.name == "c")
            .unwrap();
        assert_eq!(c_proc.lifecycle.depends_on, ["b", "g:x"]);
        assert_eq!(
            depends::resolve(&c.groups, "g"),
            [("g".to_string(), "x".to_string())]
        );
        assert_eq!(
            depends::resolve(&c.groups, "a"),
            [("a".to_string(), "a".to_string())]
        );

        let e = err(
            &dir,
            "[supervisord]\n[program:a]\ncommand=a\ndepends_on=ghost\n",
        );
        assert_eq!(e.key.as_deref(), Some("depends_on"));
        assert!(
            e.to_string()
                .contains("'ghost' is no program, process or group"),
            "{e}"
        );

        let e = err(
            &dir,
            "[supervisord]\n[program:a]\ncommand=a\ndepends_on=b\n[program:b]\ncommand=b\ndepends_on=c\n\
             [program:c]\ncommand=c\ndepends_on=a\n",
        );
        assert!(
            e.to_string().contains("dependency cycle: a -> b -> c -> a"),
            "{e}"
        );
    }

    #[test]
    fn the_new_lifecycle_keys_parse() {
        let dir = TempDir::new("lifecycle");
        let c = ok(
            &dir,
            "[supervisord]\n[program:a]\ncommand=a\nstartretries=infinite\nbackoff_max=30\n\
             ready=tcp:127.0.0.1:80\nready_timeout=5\nrestart_dependents=true\nwatchdog_sec=9\n",
        );
        let l = &c.groups[0].processes[0].lifecycle;
        assert!(l.infinite_retries && l.restart_dependents);
        assert_eq!(
            (l.backoff_max, l.ready_timeout, l.watchdog_sec),
            (Some(30), 5, Some(9))
        );
        assert_eq!(
            l.ready,
            Some(crate::process::ready::Readiness::Tcp {
                host: "127.0.0.1".into(),
                port: 80
            })
        );
        let essential = ok(
            &dir,
            "[supervisord]\n[program:a]\ncommand=a\nessential=true\n",
        );
        assert!(essential.groups[0].processes[0].lifecycle.essential);
        let plain = ok(
            &dir,
            "[supervisord]\n[program:a]\ncommand=a\nstartretries=-1\n",
        );
        assert!(plain.groups[0].processes[0].lifecycle.infinite_retries);
        assert_eq!(
            ok(&dir, "[supervisord]\n[program:a]\ncommand=a\n").groups[0].processes[0].lifecycle,
            Lifecycle::default()
        );
    }

    // --- command-line overrides ----------------------------------------------------------

    #[test]
    fn daemon_overrides_parse_like_4_3() {
        let dir = TempDir::new("overrides");
        let host = host_at(dir.path());
        let mut d = ok(&dir, "[supervisord]\n").supervisord;
        let set = |d: &mut Daemon, option: &str, value: &str| {
            Override::parse(option, value, &host).map(|o| o.apply(d))
        };
        set(&mut d, "user", "web").unwrap();
        set(&mut d, "umask", "007").unwrap();
        set(&mut d, "directory", "/tmp").unwrap();
        set(&mut d, "logfile", "x.log").unwrap();
        set(&mut d, "logfile_maxbytes", "1MB").unwrap();
        set(&mut d, "logfile_backups", "2").unwrap();
        set(&mut d, "loglevel", "debug").unwrap();
        set(&mut d, "pidfile", "x.pid").unwrap();
        set(&mut d, "identifier", "me").unwrap();
        set(&mut d, "childlogdir", "/tmp").unwrap();
        set(&mut d, "minfds", "10").unwrap();
        set(&mut d, "minprocs", "11").unwrap();
        for flag in ["nodaemon", "silent", "nocleanup", "strip_ansi"] {
            set(&mut d, flag, "").unwrap();
        }
        assert_eq!(d.user.as_deref(), Some("web"));
        assert_eq!(d.umask, 0o7);
        assert_eq!(d.logfile, LogTarget::Path(dir.path().join("x.log")));
        assert_eq!(d.pidfile, Some(dir.path().join("x.pid")));
        assert_eq!(
            (d.logfile_maxbytes, d.logfile_backups, d.loglevel),
            (1 << 20, 2, LogLevel::Debug)
        );
        assert_eq!(
            (d.minfds, d.minprocs, d.identifier.as_str()),
            (10, 11, "me")
        );
        assert!(d.nodaemon && d.silent && d.nocleanup && d.strip_ansi);
        assert_eq!(
            set(&mut d, "user", "ghost"),
            Err("Invalid user name ghost".into())
        );
        assert!(set(&mut d, "umask", "9").is_err());
        assert!(set(&mut d, "directory", "/nonexistent").is_err());
        assert!(set(&mut d, "loglevel", "loud").is_err());
        assert!(set(&mut d, "frob", "").is_err());
    }

    #[test]
    fn a_source_applies_its_overrides_on_every_load() {
        let dir = TempDir::new("source");
        let host = host_at(dir.path());
        let path = dir.path().join("s.conf");
        std::fs::write(&path, "[supervisord]\nidentifier=file\n").unwrap();
        let source = Source::new(
            path.clone(),
            vec![Override::parse("identifier", "cli", &host).unwrap()],
        );
        assert_eq!(source.load().unwrap().supervisord.identifier, "cli");
        std::fs::write(&path, "[supervisord]\nidentifier=changed\numask=077\n").unwrap();
        let again = source.load().unwrap();
        assert_eq!(
            (
                again.supervisord.identifier.as_str(),
                again.supervisord.umask
            ),
            ("cli", 0o77)
        );
        std::fs::write(&path, "[supervisord]\numask=x\n").unwrap();
        assert!(source.load().is_err());
    }

    // --- search order -------------------------------------------------------------------

    #[test]
    fn search_candidates_follow_4_3s_order() {
        let host = host_at(Path::new("/home/me/work"));
        let expect = |list: &[&str]| list.iter().map(PathBuf::from).collect::<Vec<_>>();
        assert_eq!(
            search_candidates("/opt/sv/bin/supervisord", &host),
            expect(&[
                "/opt/sv/etc/supervisord.conf",
                "/opt/sv/supervisord.conf",
                "/home/me/work/supervisord.conf",
                "/home/me/work/etc/supervisord.conf",
                "/etc/supervisord.conf",
                "/etc/supervisor/supervisord.conf",
            ])
        );
        // a relative argv[0] is taken as 4.3 takes it (dirname twice)
        assert_eq!(
            search_candidates("venv/bin/supervisord", &host)[..2],
            expect(&[
                "/home/me/work/venv/etc/supervisord.conf",
                "/home/me/work/venv/supervisord.conf"
            ])[..]
        );
        assert_eq!(
            search_candidates("./supervisord", &host)[..2],
            expect(&[
                "/home/me/work/etc/supervisord.conf",
                "/home/me/work/supervisord.conf"
            ])[..]
        );
        assert_eq!(
            search_candidates("/supervisord", &host)[0],
            PathBuf::from("/etc/supervisord.conf")
        );
    }

    #[test]
    fn search_paths_lists_six_absolute_candidates() {
        let paths = search_paths();
        assert_eq!(paths.len(), 6);
        assert!(paths.iter().all(|p| p.is_absolute()));
        assert_eq!(paths[4], PathBuf::from("/etc/supervisord.conf"));
        assert_eq!(search(), paths.into_iter().find(|p| p.exists()));
    }
}
