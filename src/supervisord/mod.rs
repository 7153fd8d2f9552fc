//! The supervisord mode: the command line, the config, process-wide setup
//! (privileges, rlimits, logs, sockets, daemonizing, pidfile), then the core
//! on a single-threaded executor until a shutdown; a restart (HUP or
//! supervisor.restart) loops back with a freshly read config. The exit
//! status is the one the shutdown's `Outcome` carries (container mode).

mod signals;

use std::ffi::OsString;
use std::path::PathBuf;
use std::rc::Rc;

use smol::LocalExecutor;

use crate::config::{self, Config, LogLevel, LogTarget, Override, Source};
use crate::core::{Handle, Outcome, Setup};
use crate::http::server::{self, Listener};
use crate::log::activity::MainLog;
use crate::log::outlet::Outlets;
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

/// getopt's view of 4.3's ServerOptions: its short option string and long
/// option list (4.3's `--profile_options`, which runs the daemon under
/// Python's profiler, is not among them).
const SHORT_OPTIONS: &str = "h?c:vnu:m:d:l:y:z:e:j:i:q:a:kts";
const LONG_OPTIONS: &[&str] = &[
    "help",
    "configuration=",
    "version",
    "nodaemon",
    "user=",
    "umask=",
    "directory=",
    "logfile=",
    "logfile_maxbytes=",
    "logfile_backups=",
    "loglevel=",
    "pidfile=",
    "identifier=",
    "childlogdir=",
    "minfds=",
    "minprocs=",
    "nocleanup",
    "strip_ansi",
    "silent",
];

/// supervisord's options that set a `[supervisord]` key: (short, long, the
/// key). Flags take no value.
const FLAGS: &[(&str, &str, &str)] = &[
    ("-n", "--nodaemon", "nodaemon"),
    ("-s", "--silent", "silent"),
    ("-k", "--nocleanup", "nocleanup"),
    ("-t", "--strip_ansi", "strip_ansi"),
    ("-u", "--user", "user"),
    ("-m", "--umask", "umask"),
    ("-d", "--directory", "directory"),
    ("-l", "--logfile", "logfile"),
    ("-y", "--logfile_maxbytes", "logfile_maxbytes"),
    ("-z", "--logfile_backups", "logfile_backups"),
    ("-e", "--loglevel", "loglevel"),
    ("-j", "--pidfile", "pidfile"),
    ("-i", "--identifier", "identifier"),
    ("-q", "--childlogdir", "childlogdir"),
    ("-a", "--minfds", "minfds"),
    ("", "--minprocs", "minprocs"),
];

/// Somewhere to say a line of the main log: the log itself before the core
/// exists, the core's handle after.
type Say<'a> = &'a dyn Fn(LogLevel, &str);

/// Why the command line ends the program before it starts.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// `-h`, `-?`, `--help`: the usage text on stdout, status 0.
    Help,
    /// `-v`, `--version`: the version on stdout, status 0.
    Version,
    /// A usage error: printed with 4.3's "For help" line, status 2.
    Usage(String),
}

/// What the command line asks for.
#[derive(Debug)]
struct Parsed {
    config: Option<PathBuf>,
    overrides: Vec<Override>,
    /// `-u`: 4.3 checks the user only once the config file was read, so a
    /// config error is reported first.
    user: Option<Result<Override, String>>,
}

/// 4.3's `Options.realize` on `args` (without the program name): getopt,
/// then no positional arguments, then each option in the order given (help
/// and version end the parse where they stand, a bad value or a repeated
/// option is a usage error).
fn parse_args(args: &[String], host: &config::Host) -> Result<Parsed, Stop> {
    let (opts, rest) =
        crate::ctl::options::getopt_with(args, SHORT_OPTIONS, LONG_OPTIONS).map_err(Stop::Usage)?;
    if !rest.is_empty() {
        let listed: Vec<String> = rest.iter().map(|a| crate::pytext::repr_str(a)).collect();
        return Err(Stop::Usage(format!(
            "positional arguments are not supported: [{}]",
            listed.join(", ")
        )));
    }
    let mut parsed = Parsed {
        config: None,
        overrides: Vec::new(),
        user: None,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (opt, value) in &opts {
        let key = match opt.as_str() {
            "-h" | "-?" | "--help" => return Err(Stop::Help),
            "-v" | "--version" => return Err(Stop::Version),
            "-c" | "--configuration" => "configuration",
            other => FLAGS
                .iter()
                .find(|(short, long, _)| other == *short || other == *long)
                .map(|&(_, _, key)| key)
                .ok_or_else(|| Stop::Usage(format!("option {other} not recognized")))?,
        };
        let conflict = seen.contains(&key);
        seen.push(key);
        match key {
            "configuration" => {
                if conflict {
                    return Err(conflicting(opt));
                }
                parsed.config = Some(PathBuf::from(value));
            }
            "user" => {
                if conflict {
                    return Err(conflicting(opt));
                }
                parsed.user = Some(Override::parse(key, value, host));
            }
            _ => {
                // 4.3 converts the value first, then looks for a repeat.
                let parsed_value = Override::parse(key, value, host).map_err(|why| {
                    Stop::Usage(format!(
                        "invalid value for {opt} {}: {why}",
                        crate::pytext::repr_str(value)
                    ))
                })?;
                if conflict {
                    return Err(conflicting(opt));
                }
                parsed.overrides.push(parsed_value);
            }
        }
    }
    Ok(parsed)
}

fn conflicting(opt: &str) -> Stop {
    Stop::Usage(format!(
        "conflicting command line option {}",
        crate::pytext::repr_str(opt)
    ))
}

/// 4.3's usage error: the message, then where to get help; status 2.
fn usage_error(progname: &str, message: &str) -> u8 {
    eprintln!("Error: {message}");
    eprintln!("For help, use {progname} -h");
    2
}

/// Entry point of the supervisord mode.
pub fn main(args: Vec<OsString>) -> u8 {
    // 4.3 names itself by sys.argv[0], the script's path.
    let progname = crate::ctl::options::progname(
        &args
            .first()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_else(|| "supervisord".into()),
    );
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let host = config::Host::current();
    let parsed = match parse_args(&words, &host) {
        Ok(parsed) => parsed,
        Err(Stop::Help) => {
            // 4.3 prints its docstring and a newline.
            println!("{}", USAGE.replace("%s", &progname));
            return 0;
        }
        Err(Stop::Version) => {
            println!("{}", crate::SUPERVISOR_COMPAT_VERSION);
            return 0;
        }
        Err(Stop::Usage(message)) => return usage_error(&progname, &message),
    };
    let Some(path) = parsed.config.or_else(config::search) else {
        let paths: Vec<String> = config::search_paths()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        return usage_error(
            &progname,
            &format!(
                "No config file found at default paths ({}); use the -c option to specify a config file at a different path",
                paths.join(", ")
            ),
        );
    };
    let mut overrides = parsed.overrides;
    let mut bad_user = None;
    match parsed.user {
        Some(Ok(user)) => overrides.push(user),
        Some(Err(why)) => bad_user = Some(why),
        None => {}
    }
    let source = Source::new(path, overrides);
    let config = match source.load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("For help, use {progname} -h");
            return 2;
        }
    };
    if let Some(why) = bad_user {
        return usage_error(&progname, &why);
    }
    match run(source, config) {
        Ok(status) => status,
        Err(message) => usage_error(&progname, &message),
    }
}

/// What setting the uid says, to log once the main log is open (4.3's
/// parse_criticals and parse_infos from set_uid_or_exit, and its rlimit
/// infos at the first start).
#[derive(Default)]
struct Early {
    criticals: Vec<String>,
    infos: Vec<String>,
}

const RUNNING_AS_ROOT: &str = "Supervisor is running as root.  Privileges were not dropped because no user is \
     specified in the config file.  If you intend to run as root, you can set user=root in the config file to \
     avoid this message.";

/// Logs what 4.3's make_logger logs as the log opens, at the first start and
/// after each restart: the criticals, the config's warnings, then the infos
/// (the included files, then `early`'s).
fn log_parse_lines(say: Say, config: &Config, early: &Early) {
    for line in &early.criticals {
        say(LogLevel::Critical, line);
    }
    for line in &config.warnings {
        say(LogLevel::Warn, line);
    }
    for line in config.infos.iter().chain(&early.infos) {
        say(LogLevel::Info, line);
    }
}

/// The uid lines 4.3 logs again on a restart, where its set_uid_or_exit
/// runs again: the root warning, or the uid it (still) runs as. The uid is
/// not changed after the first start; a `user=` naming another uid is only
/// applied by a fresh start.
fn restart_lines(config: &Config) -> Early {
    let mut early = Early::default();
    let uid = rustix::process::getuid().as_raw();
    match &config.supervisord.user {
        None if uid == 0 => early.criticals.push(RUNNING_AS_ROOT.to_string()),
        None => {}
        Some(user) => {
            if let Ok(record) = crate::users::find_user(user) {
                if record.uid == uid {
                    early.infos.push(format!("Set uid to user {uid} succeeded"));
                }
            }
        }
    }
    early
}

/// The main log as `[supervisord] logfile` says: a file, syslog or nothing.
/// The first call also fixes syslog's socket (`$SUPERVISOR_SYSLOG_SOCKET`
/// or /dev/log) for the life of the process, whether or not the main log
/// uses it (programs may).
fn open_main_log(
    config: &Config,
    zone: &crate::timefmt::Zone,
    outlets: Option<&Outlets>,
) -> MainLog {
    crate::log::syslog::init(zone);
    let d = &config.supervisord;
    let echo = outlets
        .filter(|_| d.nodaemon && !d.silent)
        .map(|o| o.stdout.clone());
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

/// Runs until a shutdown; Ok is the status to exit with (0, or what ended
/// the run in container mode). Errors before the daemon is up are usage
/// errors.
fn run(source: Source, config: Config) -> Result<u8, String> {
    let mut early = Early::default();
    let am_root = rustix::process::getuid().is_root();
    match &config.supervisord.user {
        Some(user) => early.infos.push(crate::daemon::drop_privileges(user)?),
        None if am_root => early.criticals.push(RUNNING_AS_ROOT.to_string()),
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
    // In the foreground our stdout is the terminal or the container's log
    // pipe; opened before anything is echoed to it. A daemon opens its
    // (then /dev/null) outlets after the fork instead.
    let outlets = config.supervisord.nodaemon.then(Outlets::open);
    let log = open_main_log(&config, &zone, outlets.as_ref());
    let say = |level: LogLevel, message: &str| log.log(level, message);
    log_parse_lines(&say, &config, &early);
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

    let outlets = outlets.unwrap_or_else(Outlets::open);
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
        outlets: outlets.clone(),
    });
    for outlet in [&outlets.stdout, &outlets.stderr] {
        let handle = core.clone();
        executor
            .spawn(
                outlet
                    .clone()
                    .flush_task(move |level, message: &str| handle.log(level, message)),
            )
            .detach();
    }
    executor
        .spawn(signals::signal_task(core.clone(), signals))
        .detach();
    let mut servers = start_servers(&core, &executor, listeners);
    core.add_all_groups();
    let say = |level: LogLevel, message: &str| core.log(level, message);
    loop {
        let outcome = async_io::block_on(
            executor.run(async { done.recv().await.unwrap_or(Outcome::Shutdown { status: 0 }) }),
        );
        let fresh = match outcome {
            Outcome::Shutdown { status } => {
                remove_pidfile(&current);
                remove_sockets(&servers);
                let exiting = match status {
                    0 => "stopped all processes; supervisord exiting".to_string(),
                    n => format!("stopped all processes; supervisord exiting with status {n}"),
                };
                say(LogLevel::Info, &exiting);
                return Ok(status);
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
            main_log_changed.then(|| open_main_log(&fresh, &zone, Some(&outlets))),
        );
        log_parse_lines(&say, &fresh, &restart_lines(&fresh));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> config::Host {
        config::Host {
            cwd: PathBuf::from("/"),
            env: Vec::new(),
            host_node_name: "node".into(),
            uid: 0,
            passwd: "root:x:0:0:root:/root:/bin/sh\n".into(),
            group: "root:x:0:\n".into(),
            tempdir: PathBuf::from("/tmp"),
        }
    }

    fn parse(args: &[&str]) -> Result<Parsed, Stop> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        parse_args(&args, &host())
    }

    fn usage(args: &[&str]) -> String {
        match parse(args) {
            Err(Stop::Usage(message)) => message,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn help_is_h_question_mark_or_help_wherever_getopt_finds_it() {
        for args in [
            &["-?"][..],
            &["-h"],
            &["--help"],
            &["--he"],
            &["-n?"],
            &["-?n"],
            &["-c", "x", "-?"],
            &["-?", "-m", "bad"],
        ] {
            assert_eq!(parse(args).err(), Some(Stop::Help), "{args:?}");
        }
        // Options are taken in order: the first of help and version wins.
        assert_eq!(parse(&["-?", "-v"]).err(), Some(Stop::Help));
        assert_eq!(parse(&["-v", "-?"]).err(), Some(Stop::Version));
    }

    #[test]
    fn usage_errors_are_4_3s_in_4_3s_order() {
        // getopt first: an unknown option anywhere beats help.
        assert_eq!(usage(&["-?", "-x"]), "option -x not recognized");
        assert_eq!(usage(&["-?x"]), "option -x not recognized");
        assert_eq!(
            usage(&["--help=1"]),
            "option --help must not have an argument"
        );
        assert_eq!(usage(&["--mi", "3"]), "option --mi not a unique prefix");
        assert_eq!(usage(&["-c"]), "option -c requires argument");
        // Then positional arguments, as Python's list.
        assert_eq!(
            usage(&["foo", "-?"]),
            "positional arguments are not supported: ['foo', '-?']"
        );
        // Then each option in turn: a bad value before a later help.
        assert_eq!(
            usage(&["-e", "foo", "-h"]),
            "invalid value for -e 'foo': bad logging level name 'foo'"
        );
        assert_eq!(
            usage(&["-n", "--nodaemon"]),
            "conflicting command line option '--nodaemon'"
        );
        assert_eq!(
            usage(&["-c", "a", "-c", "b"]),
            "conflicting command line option '-c'"
        );
    }

    #[test]
    fn options_become_overrides() {
        let parsed = parse(&["--nod", "-cFILE", "-e", "debug", "-u", "nobody-here"]).unwrap();
        assert_eq!(parsed.config, Some(PathBuf::from("FILE")));
        assert_eq!(
            parsed.overrides,
            vec![Override::Nodaemon, Override::Loglevel(LogLevel::Debug)]
        );
        // An unknown user is reported only after the config file was read.
        assert!(matches!(parsed.user, Some(Err(_))));
    }
}
