//! Where the daemon's configuration comes from: the file found at start-up
//! plus supervisord's command-line options, parsed once into typed overrides.
//! Start-up, SIGHUP, `restart` and `reloadConfig` all call the same
//! `Source::load`, so a reread can never differ from the first read in how
//! the command line is honoured.

use std::path::{Path, PathBuf};

use super::{values, Config, ConfigError, Daemon, Host, LogLevel, LogTarget};
use crate::users;

/// One supervisord command-line option that overrides a `[supervisord]` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Override {
    User(String),
    Umask(u32),
    Directory(PathBuf),
    Logfile(LogTarget),
    LogfileMaxbytes(u64),
    LogfileBackups(u32),
    Loglevel(LogLevel),
    Pidfile(Option<PathBuf>),
    Identifier(String),
    Childlogdir(PathBuf),
    Minfds(u64),
    Minprocs(u64),
    Nodaemon,
    Silent,
    Nocleanup,
    StripAnsi,
}

impl Override {
    /// Parses one option as 4.3 parses it. `option` is the long name: `user`
    /// (-u), `umask` (-m), `directory` (-d), `logfile` (-l),
    /// `logfile_maxbytes` (-y), `logfile_backups` (-z), `loglevel` (-e),
    /// `pidfile` (-j), `identifier` (-i), `childlogdir` (-q), `minfds` (-a),
    /// `minprocs`, and the flags `nodaemon` (-n), `silent` (-s), `nocleanup`
    /// (-k) and `strip_ansi` (-t), whose value is ignored. Relative paths
    /// are resolved against `host`'s directory now, once.
    pub fn parse(option: &str, value: &str, host: &Host) -> Result<Override, String> {
        Ok(match option {
            "user" => {
                users::name_to_uid_in(&host.passwd, value)?;
                Override::User(value.to_string())
            }
            "umask" => Override::Umask(values::parse_octal(value)?),
            "directory" => Override::Directory(values::existing_directory(value, host)?),
            "logfile" => Override::Logfile(values::parse_daemon_logfile(value, host)?),
            "logfile_maxbytes" => Override::LogfileMaxbytes(values::parse_byte_size(value)?),
            "logfile_backups" => Override::LogfileBackups(values::parse_count32(value)?),
            "loglevel" => Override::Loglevel(values::parse_log_level(value)?),
            "pidfile" => Override::Pidfile(values::parse_pidfile(value, host)?),
            "identifier" => Override::Identifier(value.to_string()),
            "childlogdir" => Override::Childlogdir(values::existing_directory(value, host)?),
            "minfds" => Override::Minfds(values::parse_count(value)?),
            "minprocs" => Override::Minprocs(values::parse_count(value)?),
            "nodaemon" => Override::Nodaemon,
            "silent" => Override::Silent,
            "nocleanup" => Override::Nocleanup,
            "strip_ansi" => Override::StripAnsi,
            other => {
                return Err(format!(
                    "unknown supervisord option {}",
                    values::repr(other)
                ))
            }
        })
    }

    /// Puts the option's value over the config file's.
    pub fn apply(&self, d: &mut Daemon) {
        match self {
            Override::User(user) => d.user = Some(user.clone()),
            Override::Umask(mask) => d.umask = *mask,
            Override::Directory(dir) => d.directory = Some(dir.clone()),
            Override::Logfile(target) => d.logfile = target.clone(),
            Override::LogfileMaxbytes(n) => d.logfile_maxbytes = *n,
            Override::LogfileBackups(n) => d.logfile_backups = *n,
            Override::Loglevel(level) => d.loglevel = *level,
            Override::Pidfile(path) => d.pidfile = path.clone(),
            Override::Identifier(id) => d.identifier = id.clone(),
            Override::Childlogdir(dir) => d.childlogdir = dir.clone(),
            Override::Minfds(n) => d.minfds = *n,
            Override::Minprocs(n) => d.minprocs = *n,
            Override::Nodaemon => d.nodaemon = true,
            Override::Silent => d.silent = true,
            Override::Nocleanup => d.nocleanup = true,
            Override::StripAnsi => d.strip_ansi = true,
        }
    }
}

/// The config file and the command line's overrides: what every (re)load reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    path: PathBuf,
    overrides: Vec<Override>,
}

impl Source {
    pub fn new(path: PathBuf, overrides: Vec<Override>) -> Source {
        Source { path, overrides }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and validates the file, then applies the overrides.
    pub fn load(&self) -> Result<Config, ConfigError> {
        let mut config = super::load(&self.path)?;
        for o in &self.overrides {
            o.apply(&mut config.supervisord);
        }
        Ok(config)
    }
}

impl Config {
    /// The URL children find in SUPERVISOR_SERVER_URL (4.3 prefers the socket).
    pub fn server_url(&self) -> Option<String> {
        if let Some(unix) = &self.unix_http_server {
            return Some(format!("unix://{}", unix.file.display()));
        }
        self.inet_http_server.as_ref().map(|inet| {
            let host = if inet.host.is_empty() || inet.host == "*" {
                "localhost"
            } else {
                inet.host.as_str()
            };
            format!("http://{host}:{}", inet.port)
        })
    }
}
