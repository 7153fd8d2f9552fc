//! The daemon-side sections: `[supervisord]` (and its command-line
//! overrides), the HTTP servers in both forms (`[unix_http_server]`,
//! `[inet_http_server]` or 2.0's `http_port`), and `[supervisorctl]`.
use super::*;

pub(super) fn parse_daemon(scope: &Scope, host: &Host) -> Result<Daemon, ConfigError> {
    let user = scope.parse("user", |u| {
        users::name_to_uid_in(&host.passwd, u).map(|_| u.to_string())
    })?;
    Ok(Daemon {
        logfile: scope.parse_or(
            "logfile",
            LogTarget::Path(values::normalize_path("supervisord.log", host)),
            |v| values::parse_daemon_logfile(v, host),
        )?,
        logfile_maxbytes: scope.parse_or(
            "logfile_maxbytes",
            DEFAULT_MAXBYTES,
            values::parse_byte_size,
        )?,
        logfile_backups: scope.parse_or(
            "logfile_backups",
            DEFAULT_BACKUPS,
            values::parse_count32,
        )?,
        loglevel: scope.parse_or("loglevel", LogLevel::Info, values::parse_log_level)?,
        pidfile: scope.parse_or(
            "pidfile",
            Some(values::normalize_path("supervisord.pid", host)),
            |v| values::parse_pidfile(v, host),
        )?,
        umask: scope.parse_or("umask", 0o22, values::parse_octal)?,
        nodaemon: scope.parse_or("nodaemon", false, values::parse_bool)?,
        silent: scope.parse_or("silent", false, values::parse_bool)?,
        minfds: scope.parse_or("minfds", 1024, values::parse_count)?,
        minprocs: scope.parse_or("minprocs", 200, values::parse_count)?,
        nocleanup: scope.parse_or("nocleanup", false, values::parse_bool)?,
        childlogdir: scope.parse_or("childlogdir", host.tempdir.clone(), |v| {
            values::existing_directory(v, host)
        })?,
        user,
        directory: scope.parse("directory", |v| values::existing_directory(v, host))?,
        strip_ansi: scope.parse_or("strip_ansi", false, values::parse_bool)?,
        environment: scope.parse_or("environment", Vec::new(), values::parse_env_pairs)?,
        identifier: scope
            .text("identifier")?
            .unwrap_or_else(|| "supervisor".to_string()),
        exit_when_all_done: scope.parse_or("exit_when_all_done", false, values::parse_bool)?,
        forward_all: scope.parse_or("forward_all", false, values::parse_bool)?,
    })
}

// ---------------------------------------------------------------------------
// HTTP servers

pub(super) fn parse_password(text: &str) -> Password {
    match text.strip_prefix("{SHA}") {
        Some(hex) => Password::Sha1Hex(hex.to_string()),
        None => Password::Plain(text.to_string()),
    }
}

/// Username and password: both or neither, as 4.3 insists.
pub(super) fn parse_auth(
    scope: &Scope,
    user_key: &str,
    pass_key: &str,
) -> Result<Option<Credentials>, ConfigError> {
    match (scope.text(user_key)?, scope.text(pass_key)?) {
        (None, None) => Ok(None),
        (Some(username), Some(password)) => Ok(Some(Credentials {
            username,
            password: parse_password(&password),
        })),
        _ => Err(scope.error(format!(
            "Section [{}] contains incomplete authentication: If a username or a \
             password is specified, both the username and password must be specified",
            scope.section.name
        ))),
    }
}

pub(super) fn parse_unix_server(scope: &Scope, host: &Host) -> Result<UnixServer, ConfigError> {
    let file = scope
        .text("file")?
        .ok_or_else(|| scope.error("section [unix_http_server] has no file value"))?;
    Ok(UnixServer {
        file: values::normalize_path(values::py_strip(&file), host),
        chmod: scope.parse_or("chmod", 0o700, |v| {
            values::parse_octal(v).map_err(|why| format!("Invalid chmod value {v}: {why}"))
        })?,
        chown: scope.parse("chown", |v| {
            values::resolve_user_group(v, host)
                .map_err(|why| format!("Invalid sockchown value {v}: {why}"))
        })?,
        auth: parse_auth(scope, "username", "password")?,
    })
}

pub(super) fn parse_inet_server(scope: &Scope) -> Result<InetServer, ConfigError> {
    let (host, port) = scope
        .parse("port", values::parse_inet_address)?
        .ok_or_else(|| scope.error("section [inet_http_server] has no port value"))?;
    Ok(InetServer {
        host,
        port,
        auth: parse_auth(scope, "username", "password")?,
    })
}

/// 2.0's `[supervisord] http_port`, read as its datatypes.SocketAddress
/// did: a value with a slash or without a colon is a unix socket path (with
/// sockchmod/sockchown), anything else `host:port`; http_username and
/// http_password protect whichever it is.
pub(super) enum LegacyServer {
    Unix(UnixServer),
    Inet(InetServer),
}

pub(super) fn parse_legacy_server(
    scope: &Scope,
    host: &Host,
) -> Result<Option<LegacyServer>, ConfigError> {
    let Some(port) = scope.text("http_port")? else {
        return Ok(None);
    };
    let auth = parse_auth(scope, "http_username", "http_password")?;
    if port.contains('/') || !port.contains(':') {
        return Ok(Some(LegacyServer::Unix(UnixServer {
            file: values::normalize_path(&port, host),
            chmod: scope.parse_or("sockchmod", 0o700, values::parse_octal)?,
            chown: scope.parse("sockchown", |v| {
                values::resolve_dotted_user_group(v, host)
                    .map_err(|why| format!("Invalid sockchown value {v}: {why}"))
            })?,
            auth,
        })));
    }
    let (bind, number) =
        values::parse_inet_address(&port).map_err(|why| scope.key_error("http_port", why))?;
    Ok(Some(LegacyServer::Inet(InetServer {
        host: bind,
        port: number,
        auth,
    })))
}

type Servers = (Option<UnixServer>, Option<InetServer>);

pub(super) fn parse_servers(
    doc: &Document,
    names: &Names,
    host: &Host,
    legacy: Option<LegacyServer>,
    warnings: &mut Vec<String>,
) -> Result<Servers, ConfigError> {
    let scope_of = |name: &str| {
        doc.section(name)
            .map(|s| Scope::new(doc, s, names, Names::new()))
    };
    let mut unix = scope_of("unix_http_server")
        .map(|s| parse_unix_server(&s, host))
        .transpose()?;
    let mut inet = scope_of("inet_http_server")
        .map(|s| parse_inet_server(&s))
        .transpose()?;
    for section in doc.sections() {
        let name = section.name.as_str();
        let variant = |kind: &str| name.starts_with(kind) && name != kind;
        if variant("unix_http_server") || variant("inet_http_server") {
            warnings.push(format!(
                "[{name}] is ignored: only one [unix_http_server] and one \
                 [inet_http_server] section are supported"
            ));
        }
    }
    let shadowed = |kind: &str| {
        format!("[supervisord] http_port is ignored because a [{kind}] section is present")
    };
    match legacy {
        Some(LegacyServer::Unix(server)) if unix.is_none() => unix = Some(server),
        Some(LegacyServer::Inet(server)) if inet.is_none() => inet = Some(server),
        Some(LegacyServer::Unix(_)) => warnings.push(shadowed("unix_http_server")),
        Some(LegacyServer::Inet(_)) => warnings.push(shadowed("inet_http_server")),
        None => {}
    }
    Ok((unix, inet))
}

// ---------------------------------------------------------------------------
// [supervisorctl]

pub(super) fn parse_ctl(scope: &Scope, host: &Host) -> Result<Ctl, ConfigError> {
    let defaults = Ctl::default();
    let serverurl = scope.text("serverurl")?.unwrap_or(defaults.serverurl);
    let serverurl = match serverurl.strip_prefix("unix://") {
        Some(path) => format!("unix://{}", values::normalize_path(path, host).display()),
        None => serverurl,
    };
    Ok(Ctl {
        serverurl,
        username: scope.text("username")?,
        password: scope.text("password")?,
        prompt: scope.text("prompt")?.unwrap_or(defaults.prompt),
        history_file: scope
            .text("history_file")?
            .filter(|h| !h.is_empty())
            .map(|h| values::normalize_path(&h, host)),
    })
}
