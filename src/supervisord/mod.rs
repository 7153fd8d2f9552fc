//! The supervisord mode: the command line, the config, process-wide setup
//! (privileges, rlimits, logs, sockets, daemonizing, pidfile), then the core
//! on a single-threaded executor until a shutdown; a restart (HUP or
//! supervisor.restart) loops back with a freshly read config.

mod signals;

use std::ffi::OsString;
use std::path::PathBuf;
use std::rc::Rc;

use smol::LocalExecutor;

use crate::config::{self, Config, LogLevel, LogTarget, Override, Source};
use crate::core::{Handle, Outcome, Setup};
use crate::http::server::{self, Listener};
use crate::log::activity::MainLog;
use crate::log::writer::LogFile;

const USAGE: &str = "supervisord -- run a set of applications as daemons.

Usage: %s [options]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)
-h/--help -- print this usage message and exit
-v/--version -- print supervisord version number and exit
-u/--user USER -- run supervisord as this user (or numeric uid)
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)
-d/--directory DIRECTORY -- directory to chdir to when daemonized
-l/--logfile FILENAME -- use FILENAME as logfile path
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME
-i/--identifier STR -- identifier used for this instance of supervisord
-q/--childlogdir DIRECTORY -- the log directory for child process logs
-k/--nocleanup --  prevent the process from performing cleanup (removal of
                   old automatic child log files) at startup.
-a/--minfds NUM -- the minimum number of file descriptors for start success
-t/--strip_ansi -- strip ansi escape codes from process output
--minprocs NUM  -- the minimum number of processes available for start success
";

/// supervisord's flags that override a `[supervisord]` key: (short, long,
/// the key, whether it takes a value).
const FLAGS: &[(&str, &str, &str, bool)] = &[
    ("-n", "--nodaemon", "nodaemon", false),
    ("-s", "--silent", "silent", false),
    ("-k", "--nocleanup", "nocleanup", false),
    ("-t", "--strip_ansi", "strip_ansi", false),
    ("-u", "--user", "user", true),
    ("-m", "--umask", "umask", true),
    ("-d", "--directory", "directory", true),
    ("-l", "--logfile", "logfile", true),
    ("-y", "--logfile_maxbytes", "logfile_maxbytes", true),
    ("-z", "--logfile_backups", "logfile_backups", true),
    ("-e", "--loglevel", "loglevel", true),
    ("-j", "--pidfile", "pidfile", true),
    ("-i", "--identifier", "identifier", true),
    ("-q", "--childlogdir", "childlogdir", true),
    ("-a", "--minfds", "minfds", true),
    ("", "--minprocs", "minprocs", true),
];

/// Somewhere to say a line of the main log: the log itself before the core
/// exists, the core's handle after.
type Say<'a> = &'a dyn Fn(LogLevel, &str);

/// A usage error: printed with 4.3's "For help" line, exit status 2.
struct Usage(String);

type Parsed = (Option<PathBuf>, Vec<(&'static str, String)>);

fn parse_args(args: Vec<OsString>) -> Result<Result<Parsed, u8>, Usage> {
    let mut p = pico_args::Arguments::from_vec(args);
    if p.contains(["-h", "--help"]) {
        print!("{}", USAGE.replace("%s", "supervisord"));
        return Ok(Err(0));
    }
    if p.contains(["-v", "--version"]) {
        println!("{}", crate::SUPERVISOR_COMPAT_VERSION);
        return Ok(Err(0));
    }
    let config = p
        .opt_value_from_str::<_, String>(["-c", "--configuration"])
        .map_err(|e| Usage(format!("option -c requires argument ({e})")))?
        .map(PathBuf::from);
    let mut overrides = Vec::new();
    for &(short, long, key, takes_value) in FLAGS {
        if takes_value {
            let found = if short.is_empty() {
                p.opt_value_from_str::<_, String>(long)
            } else {
                p.opt_value_from_str::<_, String>([short, long])
            };
            if let Some(value) =
                found.map_err(|e| Usage(format!("option {long} requires argument ({e})")))?
            {
                overrides.push((key, value));
            }
        } else if p.contains([short, long]) {
            overrides.push((key, String::new()));
        }
    }
    let rest = p.finish();
    if let Some(first) = rest.first() {
        let first = first.to_string_lossy();
        return Err(Usage(if first.starts_with('-') {
            format!("option {first} not recognized")
        } else {
            format!("positional arguments are not supported: {first}")
        }));
    }
    Ok(Ok((config, overrides)))
}

fn usage_error(message: &str) -> u8 {
    eprintln!("Error: {message}");
    eprintln!("For help, use supervisord -h");
    2
}

/// Entry point of the supervisord mode.
pub fn main(args: Vec<OsString>) -> u8 {
    let (config_path, overrides) = match parse_args(args.into_iter().skip(1).collect()) {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(code)) => return code,
        Err(Usage(message)) => return usage_error(&message),
    };
    let host = config::Host::current();
    let overrides: Result<Vec<Override>, String> = overrides
        .iter()
        .map(|(key, value)| Override::parse(key, value, &host))
        .collect();
    let Some(path) = config_path.or_else(config::search) else {
        let paths: Vec<String> = config::search_paths()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        return usage_error(&format!(
            "No config file found at default paths ({}); use the -c option to specify a config file at a different path",
            paths.join(", ")
        ));
    };
    let overrides = match overrides {
        Ok(overrides) => overrides,
        Err(e) => return usage_error(&e),
    };
    let source = Source::new(path, overrides);
    let config = match source.load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("For help, use supervisord -h");
            return 2;
        }
    };
    match run(source, config) {
        Ok(()) => 0,
        Err(message) => usage_error(&message),
    }
}

/// Lines to log once the main log is open.
#[derive(Default)]
struct Early {
    criticals: Vec<String>,
    warnings: Vec<String>,
    infos: Vec<String>,
}

/// The main log as `[supervisord] logfile` says: a file, syslog or nothing.
/// The first call also fixes syslog's socket (`$SUPERVISOR_SYSLOG_SOCKET`
/// or /dev/log) for the life of the process, whether or not the main log
/// uses it (programs may).
fn open_main_log(config: &Config, zone: &crate::timefmt::Zone) -> MainLog {
    crate::log::syslog::init(zone);
    let d = &config.supervisord;
    let echo = (d.nodaemon && !d.silent).then(MainLog::stdout_echo);
    if d.logfile == LogTarget::Syslog {
        return MainLog::to_syslog(d.loglevel, echo, zone.clone());
    }
    let (file, notice) = match &d.logfile {
        LogTarget::Path(p) => {
            let (file, notice) =
                LogFile::open_lenient(p.clone(), d.logfile_maxbytes, d.logfile_backups);
            (Some(file), notice)
        }
        _ => (None, None),
    };
    let log = MainLog::new(d.loglevel, file, echo, zone.clone());
    if let Some(notice) = notice {
        log.log(notice.level(), &notice.to_string());
    }
    log
}

fn clear_auto_logs(config: &Config, say: Say) {
    let d = &config.supervisord;
    if !d.nocleanup {
        for warning in crate::log::writer::clear_auto_logs(&d.childlogdir, &d.identifier) {
            say(LogLevel::Warn, &warning);
        }
    }
}

/// Binds the servers in 4.3's order (inet, then unix), logging for each
/// what 4.3 logs: its RPC interface, and a warning when it has no credentials.
fn bind_all(config: &Config, say: Say) -> Result<Vec<Listener>, String> {
    let mut listeners = Vec::new();
    if let Some(inet) = &config.inet_http_server {
        listeners.push(server::bind_tcp(inet)?);
        log_server_ready(say, "inet_http_server", inet.auth.is_some());
    }
    if let Some(unix) = &config.unix_http_server {
        listeners.push(server::bind_unix(unix)?);
        log_server_ready(say, "unix_http_server", unix.auth.is_some());
    }
    Ok(listeners)
}

/// 4.3 names each RPC interface it mounts on a server; ours always mounts
/// `supervisor` (with `system`, which 4.3 does not name).
fn log_server_ready(say: Say, section: &str, has_auth: bool) {
    say(LogLevel::Info, "RPC interface 'supervisor' initialized");
    if !has_auth {
        say(
            LogLevel::Critical,
            &format!("Server '{section}' running without any HTTP authentication checking"),
        );
    }
}

/// Runs until a shutdown. Errors before the daemon is up are usage errors.
fn run(source: Source, config: Config) -> Result<(), String> {
    let mut early = Early::default();
    let am_root = rustix::process::getuid().is_root();
    match &config.supervisord.user {
        Some(user) => {
            if let Some(line) = crate::daemon::drop_privileges(user)? {
                early.infos.push(line);
            }
        }
        None if am_root => early.criticals.push(
            "Supervisor is running as root.  Privileges were not dropped because no user is specified in the \
             config file.  If you intend to run as root, you can set user=root in the config file to avoid this \
             message."
                .to_string(),
        ),
        None => {}
    }
    early.infos.extend(crate::daemon::ensure_rlimits(
        config.supervisord.minfds,
        config.supervisord.minprocs,
    )?);

    if let Some(pidfile) = &config.supervisord.pidfile {
        if let Some(pid) =
            crate::daemon::read_pidfile(pidfile).filter(|p| crate::daemon::is_live_supervisord(*p))
        {
            return Err(format!(
                "Another supervisord (pid {pid}) owns the pidfile {}; shut it down first or use another pidfile",
                pidfile.display()
            ));
        }
    }

    rustix::process::umask(rustix::fs::Mode::from_raw_mode(config.supervisord.umask));
    let zone = crate::timefmt::Zone::from_env();
    let log = open_main_log(&config, &zone);
    for line in &early.criticals {
        log.log(LogLevel::Critical, line);
    }
    for line in config.warnings.iter().chain(&early.warnings) {
        log.log(LogLevel::Warn, line);
    }
    for line in &early.infos {
        log.log(LogLevel::Info, line);
    }
    let say = |level: LogLevel, message: &str| log.log(level, message);
    clear_auto_logs(&config, &say);
    let listeners = bind_all(&config, &say)?;

    if !config.supervisord.nodaemon {
        if let Err(e) = crate::daemon::daemonize() {
            for l in &listeners {
                if let Some(path) = l.socket_path() {
                    let _ = std::fs::remove_file(path);
                }
            }
            return Err(format!("could not daemonize: {e}"));
        }
        log.log(LogLevel::Info, "daemonizing the supervisord process");
        if let Some(dir) = &config.supervisord.directory {
            match std::env::set_current_dir(dir) {
                Ok(()) => log.log(
                    LogLevel::Info,
                    &format!("set current directory: '{}'", dir.display()),
                ),
                Err(e) => log.log(
                    LogLevel::Critical,
                    &format!("can't chdir into '{}': {e}", dir.display()),
                ),
            }
        }
    }

    let executor = Rc::new(LocalExecutor::new());
    // Signals are taken over once, before any child exists, and kept across
    // restarts so a signal never meets the default disposition.
    let signals = signals::install()?;
    write_pidfile(&config, &say);
    let mut current = config.clone();
    let (core, done) = Handle::new(Setup {
        source,
        config,
        log,
        executor: executor.clone(),
        zone: zone.clone(),
    });
    executor
        .spawn(signals::signal_task(core.clone(), signals))
        .detach();
    let mut servers = start_servers(&core, &executor, listeners);
    core.add_all_groups();
    let say = |level: LogLevel, message: &str| core.log(level, message);
    loop {
        let outcome = async_io::block_on(
            executor.run(async { done.recv().await.unwrap_or(Outcome::Shutdown) }),
        );
        let fresh = match outcome {
            Outcome::Shutdown => {
                remove_pidfile(&current);
                remove_sockets(&servers);
                say(LogLevel::Info, "stopped all processes; supervisord exiting");
                return Ok(());
            }
            Outcome::Restart(fresh) => *fresh,
        };
        // The new configuration was read and checked before anything stopped.
        let main_log_changed = fresh.supervisord.loglevel != current.supervisord.loglevel
            || fresh.supervisord.logfile != current.supervisord.logfile
            || fresh.supervisord.logfile_maxbytes != current.supervisord.logfile_maxbytes
            || fresh.supervisord.logfile_backups != current.supervisord.logfile_backups;
        let rebind = fresh.unix_http_server != current.unix_http_server
            || fresh.inet_http_server != current.inet_http_server;
        core.reset(
            fresh.clone(),
            main_log_changed.then(|| open_main_log(&fresh, &zone)),
        );
        for line in &fresh.warnings {
            say(LogLevel::Warn, line);
        }
        clear_auto_logs(&fresh, &say);
        write_pidfile(&fresh, &say);
        if rebind {
            remove_sockets(&servers);
            servers.clear();
            match bind_all(&fresh, &say) {
                Ok(listeners) => servers = start_servers(&core, &executor, listeners),
                Err(e) => say(
                    LogLevel::Critical,
                    &format!("could not open the HTTP servers: {e}"),
                ),
            }
        }
        current = fresh;
        core.add_all_groups();
    }
}

/// A listener being served: its task, and the socket file to remove at exit.
struct Served {
    _task: smol::Task<()>,
    socket: Option<PathBuf>,
}

fn start_servers(
    core: &Handle,
    executor: &Rc<LocalExecutor<'static>>,
    listeners: Vec<Listener>,
) -> Vec<Served> {
    listeners
        .into_iter()
        .map(|listener| Served {
            socket: listener.socket_path().map(PathBuf::from),
            _task: executor.spawn(server::serve(core.clone(), executor.clone(), listener)),
        })
        .collect()
}

fn remove_sockets(servers: &[Served]) {
    for s in servers {
        if let Some(path) = &s.socket {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn write_pidfile(config: &Config, say: Say) {
    let Some(path) = &config.supervisord.pidfile else {
        return;
    };
    match crate::daemon::write_pidfile(path) {
        Ok(()) => say(
            LogLevel::Info,
            &format!("supervisord started with pid {}", std::process::id()),
        ),
        Err(_) => say(
            LogLevel::Critical,
            &format!("could not write pidfile {}", path.display()),
        ),
    }
}

fn remove_pidfile(config: &Config) {
    if let Some(path) = &config.supervisord.pidfile {
        let _ = std::fs::remove_file(path);
    }
}
