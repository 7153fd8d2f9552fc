//! Programs and groups: `[program:x]`, `[eventlistener:x]`,
//! `[fcgi-program:x]` and `[group:g]` become process groups, with numprocs
//! expansion, 2.0's logging keys mapped onto the 4.x channels, and the
//! uniqueness checks.
use std::collections::{HashMap, HashSet};

use super::*;

/// The 4.3 event type names an `[eventlistener:x] events=` may use.
pub(super) const EVENT_TYPES: [&str; 27] = [
    "EVENT",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
    "PROCESS_LOG",
    "PROCESS_LOG_STDERR",
    "PROCESS_LOG_STDOUT",
    "PROCESS_STATE",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_UNKNOWN",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_3600",
    "TICK_5",
    "TICK_60",
];

/// What every program section has, read once per section (4.3 reads these
/// before expanding per process, so `%(process_num)d` is unknown here).
pub(super) struct ProgramKeys {
    priority: i32,
    autostart: bool,
    autorestart: AutoRestart,
    startsecs: u64,
    startretries: u32,
    stopsignal: i32,
    stopwaitsecs: u64,
    stopasgroup: bool,
    killasgroup: bool,
    exitcodes: Vec<i32>,
    redirect_stderr: bool,
    numprocs: u64,
    numprocs_start: i64,
    serverurl: Option<String>,
    user: Option<String>,
    umask: Option<u32>,
    process_name: String,
    lifecycle: Lifecycle,
}

pub(super) fn program_keys(
    scope: &Scope,
    kind: GroupKind,
    host: &Host,
) -> Result<ProgramKeys, ConfigError> {
    let stopasgroup = scope.parse_or("stopasgroup", false, values::parse_bool)?;
    let keys = ProgramKeys {
        priority: scope.parse_or("priority", 999, values::parse_i32)?,
        autostart: scope.parse_or("autostart", true, values::parse_bool)?,
        autorestart: scope.parse_or(
            "autorestart",
            AutoRestart::Unexpected,
            values::parse_autorestart,
        )?,
        startsecs: scope.parse_or("startsecs", 1, values::parse_count)?,
        startretries: scope.parse_or("startretries", 3, |v| {
            Ok(values::parse_retries(v)?.unwrap_or(u32::MAX))
        })?,
        stopsignal: scope.parse_or("stopsignal", 15, values::parse_signal)?,
        stopwaitsecs: scope.parse_or("stopwaitsecs", 10, values::parse_count)?,
        stopasgroup,
        killasgroup: scope.parse_or("killasgroup", stopasgroup, values::parse_bool)?,
        exitcodes: scope.parse_or("exitcodes", vec![0], values::parse_exitcodes)?,
        redirect_stderr: scope.parse_or("redirect_stderr", false, values::parse_bool)?,
        numprocs: scope.parse_or("numprocs", 1, values::parse_count)?,
        numprocs_start: scope.parse_or("numprocs_start", 0, values::parse_int)?,
        serverurl: scope
            .text("serverurl")?
            .filter(|url| !values::py_strip(url).eq_ignore_ascii_case("auto")),
        user: scope.parse("user", |u| {
            users::name_to_uid_in(&host.passwd, u).map(|_| u.to_string())
        })?,
        umask: scope.parse("umask", values::parse_octal)?,
        process_name: scope
            .raw("process_name")
            .unwrap_or("%(program_name)s")
            .to_string(),
        lifecycle: Lifecycle {
            ready: scope
                .parse("ready", crate::process::ready::parse)?
                .filter(|r| *r != crate::process::ready::Readiness::Startsecs),
            ready_timeout: scope.parse_or("ready_timeout", 60, values::parse_count)?,
            infinite_retries: scope.parse_or("startretries", false, |v| {
                Ok(values::parse_retries(v)?.is_none())
            })?,
            backoff_max: scope.parse("backoff_max", values::parse_count)?,
            depends_on: values::parse_list(&scope.text("depends_on")?.unwrap_or_default())
                .into_iter()
                .filter(|d| !d.is_empty())
                .collect(),
            restart_dependents: scope.parse_or("restart_dependents", false, values::parse_bool)?,
            watchdog_sec: scope.parse("watchdog_sec", values::parse_count)?,
            essential: scope.parse_or("essential", false, values::parse_bool)?,
        },
    };
    if keys.numprocs > MAX_NUMPROCS {
        return Err(scope.key_error(
            "numprocs",
            format!(
                "{} is more than the {MAX_NUMPROCS} processes a section may have",
                keys.numprocs
            ),
        ));
    }
    if keys.numprocs > 1 && !keys.process_name.contains("%(process_num)") {
        return Err(scope.key_error(
            "process_name",
            "%(process_num) must be present within process_name when numprocs > 1",
        ));
    }
    if keys.stopasgroup && !keys.killasgroup {
        return Err(scope.error("Cannot set stopasgroup=true and killasgroup=false"));
    }
    if kind == GroupKind::EventListener && keys.redirect_stderr {
        return Err(scope.error(format!(
            "[{}] section sets redirect_stderr=true but this is not allowed because it \
             will interfere with the eventlistener protocol",
            scope.section.name
        )));
    }
    Ok(keys)
}

/// `stdout_*` or `stderr_*`.
pub(super) fn channel(scope: &Scope, prefix: &str, host: &Host) -> Result<ChannelLog, ConfigError> {
    let key = |suffix: &str| format!("{prefix}_{suffix}");
    Ok(ChannelLog {
        target: scope.parse_or(&key("logfile"), LogTarget::Auto, |v| {
            values::parse_log_target(v, host)
        })?,
        maxbytes: scope.parse_or(
            &key("logfile_maxbytes"),
            DEFAULT_MAXBYTES,
            values::parse_byte_size,
        )?,
        backups: scope.parse_or(
            &key("logfile_backups"),
            DEFAULT_BACKUPS,
            values::parse_count32,
        )?,
        capture_maxbytes: scope.parse_or(&key("capture_maxbytes"), 0, values::parse_byte_size)?,
        events_enabled: scope.parse_or(&key("events_enabled"), false, values::parse_bool)?,
        syslog: scope.parse_or(&key("syslog"), false, values::parse_bool)?,
    })
}

/// 2.0's per-program logging keys.
pub(super) const LEGACY_LOG_KEYS: [&str; 5] = [
    "logfile",
    "log_stdout",
    "log_stderr",
    "logfile_maxbytes",
    "logfile_backups",
];

/// 2.0 logging: one file (`logfile`) that receives stdout when `log_stdout`
/// (default true) and stderr when `log_stderr` (default false). Mapped onto
/// the two 4.x channels; any 4.x key given for a channel wins.
pub(super) fn apply_legacy_logging(
    scope: &Scope,
    host: &Host,
    stdout: &mut ChannelLog,
    stderr: &mut ChannelLog,
    redirect_stderr: &mut bool,
) -> Result<(), ConfigError> {
    if !LEGACY_LOG_KEYS.iter().any(|k| scope.has(k)) {
        return Ok(());
    }
    let target = scope.parse_or("logfile", LogTarget::Auto, |v| {
        values::parse_log_target(v, host)
    })?;
    let log_stdout = scope.parse_or("log_stdout", true, values::parse_bool)?;
    let log_stderr = scope.parse_or("log_stderr", false, values::parse_bool)?;
    let maxbytes = scope.parse_or(
        "logfile_maxbytes",
        DEFAULT_MAXBYTES,
        values::parse_byte_size,
    )?;
    let backups = scope.parse_or("logfile_backups", DEFAULT_BACKUPS, values::parse_count32)?;
    let stdout_is_legacy = !scope.has("stdout_logfile");
    if stdout_is_legacy {
        stdout.target = if log_stdout {
            target.clone()
        } else {
            LogTarget::None
        };
    }
    if !scope.has("stderr_logfile") && !scope.has("redirect_stderr") {
        if log_stderr && log_stdout && stdout_is_legacy {
            // Both into one file: interleave them as 2.0 did.
            *redirect_stderr = true;
            stderr.target = LogTarget::None;
        } else if log_stderr {
            stderr.target = target;
        } else {
            stderr.target = LogTarget::None;
        }
    }
    for (prefix, channel) in [("stdout", stdout), ("stderr", stderr)] {
        if !scope.has(&format!("{prefix}_logfile_maxbytes")) {
            channel.maxbytes = maxbytes;
        }
        if !scope.has(&format!("{prefix}_logfile_backups")) {
            channel.backups = backups;
        }
    }
    Ok(())
}

/// 4.3's after-the-fact rewrites of the log channels, with its warnings.
pub(super) fn settle_channels(
    section: &str,
    stdout: &mut ChannelLog,
    stderr: &mut ChannelLog,
    redirect_stderr: bool,
    warnings: &mut Vec<String>,
) {
    for (prefix, channel) in [("stdout", &mut *stdout), ("stderr", &mut *stderr)] {
        if channel.target == LogTarget::Syslog {
            push_unique(
                warnings,
                format!(
                    "For [{section}], {prefix}_logfile=syslog but this is deprecated and will \
                     be removed.  Use {prefix}_syslog=true to enable syslog instead."
                ),
            );
            channel.target = LogTarget::None;
            channel.syslog = true;
        }
        if channel.target == LogTarget::Auto && channel.maxbytes == 0 {
            push_unique(
                warnings,
                format!(
                    "For [{section}], AUTO logging used for {prefix}_logfile without \
                     rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally"
                ),
            );
        }
    }
    if redirect_stderr {
        if matches!(stderr.target, LogTarget::Path(_)) {
            push_unique(
                warnings,
                format!(
                    "For [{section}], redirect_stderr=true but stderr_logfile has also been \
                     set to a filename, the filename has been ignored"
                ),
            );
        }
        stderr.target = LogTarget::None;
    }
}

/// The processes of one program-like section, numprocs expanded.
pub(super) fn parse_processes(
    scope: &Scope,
    group: &str,
    kind: GroupKind,
    host: &Host,
    warnings: &mut Vec<String>,
) -> Result<Vec<Process>, ConfigError> {
    let section = &scope.section.name;
    let program = program_name(scope)?;
    let keys = program_keys(scope, kind, host)?;
    let count = i64::try_from(keys.numprocs).unwrap_or(i64::MAX);
    let end = keys.numprocs_start.checked_add(count).ok_or_else(|| {
        scope.key_error(
            "numprocs_start",
            "numprocs_start + numprocs is out of range",
        )
    })?;
    let mut processes = Vec::new();
    for number in keys.numprocs_start..end {
        let mut local = scope.local.clone();
        local.set_number("process_num", number);
        local.set_number("numprocs", count);
        let numbered = scope.with_local(local.clone());
        let environment = numbered.parse_or("environment", Vec::new(), values::parse_env_pairs)?;
        local.set_env(&environment);
        let numbered = scope.with_local(local);

        let mut redirect_stderr = keys.redirect_stderr;
        let mut stdout = channel(&numbered, "stdout", host)?;
        let mut stderr = channel(&numbered, "stderr", host)?;
        apply_legacy_logging(
            &numbered,
            host,
            &mut stdout,
            &mut stderr,
            &mut redirect_stderr,
        )?;
        if kind == GroupKind::EventListener && redirect_stderr {
            return Err(scope.error(format!(
                "[{section}] maps log_stderr into the stdout log, which would interfere \
                 with the eventlistener protocol"
            )));
        }
        settle_channels(section, &mut stdout, &mut stderr, redirect_stderr, warnings);

        let command = numbered.text("command")?.ok_or_else(|| {
            scope.error(format!(
                "program section {section} does not specify a command"
            ))
        })?;
        let name = numbered.expand_as("process_name", &keys.process_name)?;
        let name = values::parse_name(&name).map_err(|why| scope.key_error("process_name", why))?;
        processes.push(Process {
            name,
            group: group.to_string(),
            program: program.clone(),
            command,
            priority: keys.priority,
            autostart: keys.autostart,
            autorestart: keys.autorestart,
            startsecs: keys.startsecs,
            startretries: keys.startretries,
            exitcodes: keys.exitcodes.clone(),
            stopsignal: keys.stopsignal,
            stopwaitsecs: keys.stopwaitsecs,
            stopasgroup: keys.stopasgroup,
            killasgroup: keys.killasgroup,
            user: keys.user.clone(),
            directory: numbered.text("directory")?.map(PathBuf::from),
            umask: keys.umask,
            environment,
            redirect_stderr,
            stdout,
            stderr,
            serverurl: keys.serverurl.clone(),
            lifecycle: keys.lifecycle.clone(),
            lines: super::lines::line_options(&numbered)?,
        });
    }
    Ok(processes)
}

/// The part after `program:` (or `group:` ...), checked as a name.
pub(super) fn program_name(scope: &Scope) -> Result<String, ConfigError> {
    let suffix = scope
        .section
        .name
        .split_once(':')
        .map_or("", |(_, name)| name);
    values::parse_name(suffix).map_err(|why| scope.error(why))
}

/// The only result handler there is: 4.3's default. Any other value names
/// a Python callable, which cannot be loaded here.
const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";

/// `[eventlistener:x]`'s own keys, checked as 4.3 checks them.
pub(super) fn parse_pool(scope: &Scope) -> Result<PoolConfig, ConfigError> {
    let section = &scope.section.name;
    let buffer_size = scope.parse_or("buffer_size", 10, values::parse_int)?;
    if buffer_size < 1 {
        return Err(scope.key_error(
            "buffer_size",
            format!("[{section}] section sets invalid buffer_size ({buffer_size})"),
        ));
    }
    if let Some(handler) = scope.text("result_handler")? {
        if handler != DEFAULT_RESULT_HANDLER {
            return Err(scope.key_error(
                "result_handler",
                format!(
                    "{handler} cannot be resolved within [{section}] (only \
                     {DEFAULT_RESULT_HANDLER} is available: a Python callable cannot be loaded)"
                ),
            ));
        }
    }
    let mut events: Vec<String> = Vec::new();
    for name in values::parse_list(&scope.text("events")?.unwrap_or_default()) {
        let name = name.to_uppercase();
        if !EVENT_TYPES.contains(&name.as_str()) {
            return Err(scope.key_error(
                "events",
                format!("Unknown event type {name} in [{section}] events"),
            ));
        }
        if !events.contains(&name) {
            events.push(name);
        }
    }
    if events.is_empty() {
        return Err(scope.error(format!("[{section}] section requires an \"events\" line")));
    }
    Ok(PoolConfig {
        events,
        buffer_size: usize::try_from(buffer_size).unwrap_or(usize::MAX),
    })
}

/// `[fcgi-program:x]`'s socket keys, checked as 4.3 checks them.
pub(super) fn parse_fcgi(scope: &Scope, host: &Host) -> Result<FcgiSocket, ConfigError> {
    let section = &scope.section.name;
    let backlog = scope.parse("socket_backlog", values::parse_int)?;
    if let Some(backlog) = backlog {
        if !(1..=65535).contains(&backlog) {
            return Err(scope.key_error(
                "socket_backlog",
                format!("Invalid socket_backlog value {backlog}"),
            ));
        }
    }
    let owner = scope.parse("socket_owner", |v| {
        values::resolve_user_group(v, host)
            .map_err(|why| format!("Invalid socket_owner value {v}: {why}"))
    })?;
    let mode = scope.parse("socket_mode", |v| {
        values::parse_octal(v).map_err(|why| format!("Invalid socket_mode value {v}: {why}"))
    })?;
    let socket = scope
        .text("socket")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| scope.error(format!("[{section}] section requires a \"socket\" line")))?;
    let address = if let Some(path) = socket.strip_prefix("unix://") {
        if path.starts_with('/') {
            // 4.3 normalizes the path (its url and what it binds).
            Ok(SocketAddress::Unix(PathBuf::from(values::normpath(path))))
        } else {
            Err(format!("Unix socket path {path} is not an absolute path"))
        }
    } else if owner.is_some() || mode.is_some() {
        Err(
            "socket_owner and socket_mode params should only be used with a Unix domain socket"
                .to_string(),
        )
    } else {
        tcp_socket(&socket).ok_or_else(|| format!("Bad socket format {socket}"))
    };
    let address =
        address.map_err(|why| scope.key_error("socket", format!("{why} in [{section}] socket")))?;
    Ok(FcgiSocket {
        address,
        backlog: backlog.and_then(|b| u32::try_from(b).ok()),
        owner,
        mode,
    })
}

/// `tcp://host:port` as 4.3's regex `tcp://([^\s:]+):(\d+)$` accepts it.
pub(super) fn tcp_socket(socket: &str) -> Option<SocketAddress> {
    let (bind, port) = socket.strip_prefix("tcp://")?.split_once(':')?;
    let valid = !bind.is_empty()
        && !bind.chars().any(values::is_py_space)
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return None;
    }
    // 4.3's InetStreamSocketConfig lower-cases the host.
    Some(SocketAddress::Tcp {
        host: bind.to_lowercase(),
        port: port.parse().ok()?,
    })
}

/// A group with the section that defined it, for error messages.
pub(super) struct Defined<'a> {
    group: Group,
    section: &'a Section,
}

pub(super) fn parse_groups(
    doc: &Document,
    names: &Names,
    host: &Host,
    warnings: &mut Vec<String>,
) -> Result<Vec<Group>, ConfigError> {
    let mut defined: Vec<Defined> = Vec::new();
    let mut taken: Vec<&str> = Vec::new();
    for section in doc
        .sections()
        .iter()
        .filter(|s| s.name.starts_with("group:"))
    {
        let scope = Scope::new(doc, section, names, Names::new());
        let name = program_name(&scope)?;
        let priority = scope.parse_or("priority", 999, values::parse_i32)?;
        let mut processes = Vec::new();
        for member in values::parse_list(&scope.text("programs")?.unwrap_or_default()) {
            let program = doc.section(&format!("program:{member}"));
            let fcgi = doc.section(&format!("fcgi-program:{member}"));
            let (member_section, kind) = match (program, fcgi) {
                (Some(p), None) => (p, GroupKind::Program),
                (None, Some(f)) => (f, GroupKind::FcgiProgram),
                (Some(_), Some(_)) => {
                    return Err(scope.key_error(
                        "programs",
                        format!(
                            "[{}] name {member} is ambiguous (exists as program and fcgi-program)",
                            section.name
                        ),
                    ))
                }
                (None, None) => {
                    return Err(scope.key_error(
                        "programs",
                        format!(
                            "[{}] names unknown program or fcgi-program {member}",
                            section.name
                        ),
                    ))
                }
            };
            taken.push(&member_section.name);
            processes.extend(member_processes(
                doc,
                member_section,
                &name,
                kind,
                names,
                host,
                warnings,
            )?);
        }
        processes.sort_by_key(|p| p.priority);
        defined.push(Defined {
            group: Group {
                name,
                priority,
                kind: GroupKind::Group,
                processes,
                pool: None,
                fcgi: None,
            },
            section,
        });
    }
    for section in doc.sections() {
        let Some(kind) = section_kind(&section.name) else {
            continue;
        };
        if taken.contains(&section.name.as_str()) {
            continue;
        }
        let mut local = Names::new();
        let scope = Scope::new(doc, section, names, Names::new());
        let name = program_name(&scope)?;
        local.set_text("program_name", &name);
        let scope = scope.with_local(local);
        let default_priority = if kind == GroupKind::EventListener {
            -1
        } else {
            999
        };
        let priority = scope.parse_or("priority", default_priority, values::parse_i32)?;
        let (pool, fcgi) = match kind {
            GroupKind::EventListener => (Some(parse_pool(&scope)?), None),
            GroupKind::FcgiProgram => (None, Some(parse_fcgi(&scope, host)?)),
            GroupKind::Program | GroupKind::Group => (None, None),
        };
        let processes = member_processes(doc, section, &name, kind, names, host, warnings)?;
        defined.push(Defined {
            group: Group {
                name,
                priority,
                kind,
                processes,
                pool,
                fcgi,
            },
            section,
        });
    }
    check_unique_names(&defined)?;
    let mut groups: Vec<Group> = defined.into_iter().map(|d| d.group).collect();
    groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    Ok(groups)
}

pub(super) fn section_kind(name: &str) -> Option<GroupKind> {
    if name.starts_with("program:") {
        Some(GroupKind::Program)
    } else if name.starts_with("eventlistener:") {
        Some(GroupKind::EventListener)
    } else if name.starts_with("fcgi-program:") {
        Some(GroupKind::FcgiProgram)
    } else {
        None
    }
}

/// The processes one section contributes to `group`.
pub(super) fn member_processes(
    doc: &Document,
    section: &Section,
    group: &str,
    kind: GroupKind,
    names: &Names,
    host: &Host,
    warnings: &mut Vec<String>,
) -> Result<Vec<Process>, ConfigError> {
    let scope = Scope::new(doc, section, names, Names::new());
    let mut local = Names::new();
    local.set_text("program_name", &program_name(&scope)?);
    local.set_text("group_name", group);
    let mut processes = parse_processes(&scope.with_local(local), group, kind, host, warnings)?;
    processes.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    Ok(processes)
}

/// Group names are unique, and so are process names within a group (4.3
/// silently keeps only the last of a duplicate; that hides a mistake).
pub(super) fn check_unique_names(defined: &[Defined]) -> Result<(), ConfigError> {
    let mut groups: HashMap<&str, &Section> = HashMap::new();
    for d in defined {
        if let Some(first) = groups.insert(&d.group.name, d.section) {
            return Err(ConfigError::at_section(
                d.section,
                format!(
                    "group name '{}' is already used by [{}]",
                    d.group.name, first.name
                ),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(p) = d.group.processes.iter().find(|p| !seen.insert(&p.name)) {
            return Err(ConfigError::at_section(
                d.section,
                format!(
                    "duplicate process name '{}' in group '{}'",
                    p.name, d.group.name
                ),
            ));
        }
    }
    Ok(())
}
