//! The supervisord mode: the command line, the config, process-wide setup
//! (privileges, rlimits, logs, sockets, daemonizing, pidfile), then the core
//! on a single-threaded executor until a shutdown; a restart (HUP or
//! supervisor.restart) loops back with a freshly read config.

mod signals;

use std::ffi::OsString;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::OnceLock;

use smol::future::FutureExt;
use smol::LocalExecutor;

use crate::config::{self, Config, LogLevel, LogTarget};
use crate::core::{Core, Outcome, Setup, Shared};
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

/// The command line's overrides, kept so every reread applies them again.
static OVERRIDES: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();

/// Applies the command line's overrides to a config just read.
pub fn apply_overrides(config: &mut Config) -> Result<(), String> {
    let Some(overrides) = OVERRIDES.get() else {
        return Ok(());
    };
    let host = config::values::Host::current();
    for (key, value) in overrides {
        config.supervisord.apply_override(key, value, &host)?;
    }
    Ok(())
}

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
    let _ = OVERRIDES.set(overrides);
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
    let mut config = match config::load(&path) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("For help, use supervisord -h");
            return 2;
        }
    };
    if let Err(e) = apply_overrides(&mut config) {
        return usage_error(&e);
    }
    match run(config) {
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

fn open_main_log(config: &Config, zone: &crate::timefmt::Zone) -> MainLog {
    let d = &config.supervisord;
    let (file, notice) = match &d.logfile {
        LogTarget::Path(p) => {
            let (file, notice) =
                LogFile::open_lenient(p.clone(), d.logfile_maxbytes, d.logfile_backups);
            (Some(file), notice)
        }
        _ => (None, None),
    };
    let echo = (d.nodaemon && !d.silent).then(MainLog::stdout_echo);
    let log = MainLog::new(d.loglevel, file, echo, zone.clone());
    if let Some(notice) = notice {
        log.log(notice.level(), &notice.to_string());
    }
    log
}

fn clear_auto_logs(config: &Config, log: &MainLog) {
    let d = &config.supervisord;
    if !d.nocleanup {
        for warning in crate::log::writer::clear_auto_logs(&d.childlogdir, &d.identifier) {
            log.log(LogLevel::Warn, &warning);
        }
    }
}

/// The URL children find in SUPERVISOR_SERVER_URL (4.3 prefers the socket).
fn server_url(config: &Config) -> Option<String> {
    if let Some(unix) = &config.unix_http_server {
        return Some(format!("unix://{}", unix.file.display()));
    }
    config.inet_http_server.as_ref().map(|inet| {
        let host = if inet.host.is_empty() || inet.host == "*" {
            "localhost"
        } else {
            inet.host.as_str()
        };
        format!("http://{host}:{}", inet.port)
    })
}

/// Binds the servers in 4.3's order (inet, then unix), logging for each
/// what 4.3 logs: its RPC interface, and a warning when it has no credentials.
fn bind_all(config: &Config, log: &mut MainLog) -> Result<Vec<Listener>, String> {
    let mut listeners = Vec::new();
    if let Some(inet) = &config.inet_http_server {
        listeners.push(server::bind_tcp(inet)?);
        log_server_ready(log, "inet_http_server", inet.auth.is_some());
    }
    if let Some(unix) = &config.unix_http_server {
        listeners.push(server::bind_unix(unix)?);
        log_server_ready(log, "unix_http_server", unix.auth.is_some());
    }
    Ok(listeners)
}

/// 4.3 names each RPC interface it mounts on a server; ours always mounts
/// `supervisor` (with `system`, which 4.3 does not name).
fn log_server_ready(log: &mut MainLog, section: &str, has_auth: bool) {
    log.log(LogLevel::Info, "RPC interface 'supervisor' initialized");
    if !has_auth {
        log.log(
            LogLevel::Critical,
            &format!("Server '{section}' running without any HTTP authentication checking"),
        );
    }
}

/// Runs until a shutdown. Errors before the daemon is up are usage errors.
fn run(config: Config) -> Result<(), String> {
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
    let mut log = open_main_log(&config, &zone);
    for line in &early.criticals {
        log.log(LogLevel::Critical, line);
    }
    for line in config.warnings.iter().chain(&early.warnings) {
        log.log(LogLevel::Warn, line);
    }
    for line in &early.infos {
        log.log(LogLevel::Info, line);
    }
    clear_auto_logs(&config, &log);
    let listeners = bind_all(&config, &mut log)?;

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
    write_pidfile(&config, &mut log);
    let (core, wiring) = Core::new(Setup {
        server_url: server_url(&config),
        config: config.clone(),
        log,
        executor: executor.clone(),
        zone,
    });
    executor
        .spawn(timer_task(core.clone(), wiring.deadline_bell))
        .detach();
    executor
        .spawn(signals::signal_task(core.clone(), signals))
        .detach();
    let mut servers = start_servers(&core, &executor, listeners);
    core.borrow_mut().add_all_groups();
    loop {
        let outcome = async_io::block_on(
            executor.run(async { wiring.done.recv().await.unwrap_or(Outcome::Shutdown) }),
        );
        match outcome {
            Outcome::Shutdown => {
                let c = core.borrow_mut();
                remove_pidfile(&c.config);
                remove_sockets(&servers);
                c.log
                    .log(LogLevel::Info, "stopped all processes; supervisord exiting");
                return Ok(());
            }
            Outcome::Restart => {
                let rebind = {
                    let mut c = core.borrow_mut();
                    let old = c.config.clone();
                    let zone = c.zone.clone();
                    let (fresh, rebind) = reload(old, &mut c.log, &zone);
                    write_pidfile(&fresh, &mut c.log);
                    c.server_url = server_url(&fresh);
                    c.reset_config(fresh.clone());
                    rebind.then_some(fresh)
                };
                if let Some(fresh) = rebind {
                    remove_sockets(&servers);
                    servers.clear();
                    let bound = {
                        let mut c = core.borrow_mut();
                        bind_all(&fresh, &mut c.log)
                    };
                    match bound {
                        Ok(listeners) => servers = start_servers(&core, &executor, listeners),
                        Err(e) => core.borrow_mut().log.log(
                            LogLevel::Critical,
                            &format!("could not open the HTTP servers: {e}"),
                        ),
                    }
                }
                core.borrow_mut().add_all_groups();
            }
        }
    }
}

/// A listener being served: its task, and the socket file to remove at exit.
struct Served {
    _task: smol::Task<()>,
    socket: Option<PathBuf>,
}

fn start_servers(
    core: &Shared,
    executor: &Rc<LocalExecutor<'static>>,
    listeners: Vec<Listener>,
) -> Vec<Served> {
    listeners
        .into_iter()
        .map(|listener| Served {
            socket: listener.socket_path().map(PathBuf::from),
            _task: executor.spawn(server::serve(core.clone(), listener)),
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

fn write_pidfile(config: &Config, log: &mut MainLog) {
    let Some(path) = &config.supervisord.pidfile else {
        return;
    };
    match crate::daemon::write_pidfile(path) {
        Ok(()) => log.log(
            LogLevel::Info,
            &format!("supervisord started with pid {}", std::process::id()),
        ),
        Err(_) => log.log(
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

/// After a restart's stop: read the config again; on error keep the old
/// one. Also says whether the HTTP servers must be bound anew.
fn reload(old: Config, log: &mut MainLog, zone: &crate::timefmt::Zone) -> (Config, bool) {
    let mut fresh = match config::load(&old.path) {
        Ok(c) => c,
        Err(e) => {
            log.log(
                LogLevel::Error,
                &format!("could not reload the configuration, keeping the previous one: {e}"),
            );
            return (old, false);
        }
    };
    if let Err(e) = apply_overrides(&mut fresh) {
        log.log(
            LogLevel::Error,
            &format!("could not reload the configuration, keeping the previous one: {e}"),
        );
        return (old, false);
    }
    if fresh.supervisord.loglevel != old.supervisord.loglevel
        || fresh.supervisord.logfile != old.supervisord.logfile
        || fresh.supervisord.logfile_maxbytes != old.supervisord.logfile_maxbytes
        || fresh.supervisord.logfile_backups != old.supervisord.logfile_backups
    {
        *log = open_main_log(&fresh, zone);
    }
    for line in &fresh.warnings {
        log.log(LogLevel::Warn, line);
    }
    clear_auto_logs(&fresh, log);
    let rebind = fresh.unix_http_server != old.unix_http_server
        || fresh.inet_http_server != old.inet_http_server;
    (fresh, rebind)
}

/// Sleeps until the earliest deadline (or until an earlier one is armed).
async fn timer_task(core: Shared, bell: smol::channel::Receiver<()>) {
    loop {
        let next = core.borrow().next_deadline();
        match next {
            Some(at) => {
                async {
                    async_io::Timer::at(at).await;
                }
                .or(async {
                    let _ = bell.recv().await;
                })
                .await
            }
            None => {
                if bell.recv().await.is_err() {
                    return;
                }
            }
        }
        core.borrow_mut().fire_deadlines();
    }
}
