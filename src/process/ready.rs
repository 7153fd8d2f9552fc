//! A program's `ready=` value: what turns STARTING into RUNNING. Pure
//! parsing, no I/O: the probes live in the core.
//!
//! - `startsecs`: 4.3's rule, the process stayed up for `startsecs`;
//! - `fd:N`: the child writes a newline to its descriptor N (s6's
//!   notification-fd), 3 to 1023;
//! - `notify`: the child sends `READY=1` to `$NOTIFY_SOCKET` (sd_notify);
//! - `tcp:HOST:PORT`: a TCP connection to HOST:PORT succeeds (`[::1]` for
//!   an IPv6 address);
//! - `http:URL`: an HTTP GET of an `http://` URL answers 2xx or 3xx
//!   (`http:http://h:p/path`, or `http://h:p/path` itself);
//! - `exec:COMMAND`: `/bin/sh -c COMMAND` exits 0.

use std::net::Ipv6Addr;

/// What a STARTING process waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// 4.3's rule: still running after `startsecs`.
    Startsecs,
    /// A newline written to this descriptor of the child (3..=1023).
    Fd(i32),
    /// `READY=1` on the notify socket.
    Notify,
    /// A TCP connection succeeds. `host` is a name or an IP address, an IPv6
    /// one without its brackets.
    Tcp { host: String, port: u16 },
    /// An HTTP/1.0 GET answers 2xx or 3xx. `url` is the `http://` URL as
    /// given; `host` (IPv6 without brackets), `port` (80 by default) and
    /// `path` (`/` by default, query included, fragment dropped) are its
    /// parts.
    Http {
        url: String,
        host: String,
        port: u16,
        path: String,
    },
    /// `/bin/sh -c COMMAND` exits 0.
    Exec(String),
}

/// The descriptor numbers `fd:N` accepts.
pub const FD_RANGE: std::ops::RangeInclusive<i32> = 3..=1023;

const EXPECTED: &str = "startsecs, fd:N, notify, tcp:HOST:PORT, http:URL or exec:COMMAND";

/// Parses a `ready=` value (surrounding whitespace ignored). The error is
/// one line naming the problem and the value.
pub fn parse(text: &str) -> Result<Readiness, String> {
    let text = text.trim();
    let fail = |problem: &str| format!("{problem}: {text}");
    if text.is_empty() {
        return Err(format!("ready is empty (expected {EXPECTED})"));
    }
    if text.contains('\0') {
        return Err(fail("ready contains a NUL byte"));
    }
    if text == "startsecs" {
        return Ok(Readiness::Startsecs);
    }
    if text == "notify" {
        return Ok(Readiness::Notify);
    }
    if let Some(number) = text.strip_prefix("fd:") {
        return match number.trim().parse::<i64>() {
            Err(_) => Err(fail("fd is not a number")),
            Ok(n) if n < i64::from(*FD_RANGE.start()) => Err(fail("fd must be 3 or more")),
            Ok(n) => match i32::try_from(n) {
                Ok(n) if FD_RANGE.contains(&n) => Ok(Readiness::Fd(n)),
                _ => Err(fail("fd must be 1023 or less")),
            },
        };
    }
    if let Some(address) = text.strip_prefix("tcp:") {
        let (host, port) =
            host_port(address.trim(), None).map_err(|p| fail(&format!("tcp {p}")))?;
        return Ok(Readiness::Tcp { host, port });
    }
    if let Some(rest) = text.strip_prefix("http:") {
        // `http:http://h/p`, or `http://h/p` read as `http:` + `//h/p`.
        let url = if rest.starts_with("//") {
            text
        } else {
            rest.trim()
        };
        return http(url).map_err(|p| fail(&format!("http {p}")));
    }
    if let Some(command) = text.strip_prefix("exec:") {
        let command = command.trim();
        if command.is_empty() {
            return Err(fail("exec needs a command"));
        }
        return Ok(Readiness::Exec(command.to_string()));
    }
    Err(format!("unknown ready value (expected {EXPECTED}): {text}"))
}

/// The parts of an `http://` URL.
fn http(url: &str) -> Result<Readiness, String> {
    let Some(rest) = url.strip_prefix("http://") else {
        if url.starts_with("https://") {
            return Err("https is not supported (http:// only)".into());
        }
        return Err("needs an http:// URL".into());
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Err("URL must not contain a user name or password".into());
    }
    let (host, port) = host_port(authority, Some(80))?;
    let tail = tail.split('#').next().unwrap_or("");
    let path = match tail.chars().next() {
        None => "/".to_string(),
        Some('?') => format!("/{tail}"),
        Some(_) => tail.to_string(),
    };
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("URL path must not contain spaces or control characters".into());
    }
    Ok(Readiness::Http {
        url: url.to_string(),
        host,
        port,
        path,
    })
}

/// `HOST:PORT`, `[IPV6]:PORT`, or (with a default port) the host alone.
fn host_port(text: &str, default_port: Option<u16>) -> Result<(String, u16), String> {
    let (host, port) = if let Some(bracketed) = text.strip_prefix('[') {
        let Some((inside, after)) = bracketed.split_once(']') else {
            return Err("address has '[' without ']'".into());
        };
        if inside.parse::<Ipv6Addr>().is_err() {
            return Err("address in brackets is not an IPv6 address".into());
        }
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err("address needs ':PORT' after ']'".into()),
        };
        (inside, port)
    } else {
        match text.split_once(':') {
            Some((host, port)) if !port.contains(':') => (host, Some(port)),
            Some(_) => return Err("IPv6 address needs brackets, as in [::1]:8080".into()),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err("address needs a host".into());
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    if !host.chars().all(valid) {
        return Err("host has characters a host name cannot have".into());
    }
    let port = match (port, default_port) {
        (Some(port), _) => match port.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => return Err("port must be a number from 1 to 65535".into()),
        },
        (None, Some(port)) => port,
        (None, None) => return Err("address needs HOST:PORT".into()),
    };
    Ok((host.to_string(), port))
}

/// `host:port`, with an IPv6 address in brackets.
pub fn host_port_text(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl Readiness {
    /// What a STARTING process with this rule waits for (`startsecs`: how
    /// long it must stay up is the caller's to say).
    pub fn describe(&self) -> String {
        format!("waiting for {}", self.label())
    }

    /// The check in a few words (`fd 3`, `tcp 127.0.0.1:8080`), for the
    /// main log and spawn errors.
    pub fn label(&self) -> String {
        match self {
            Readiness::Startsecs => "startsecs".to_string(),
            Readiness::Fd(n) => format!("fd {n}"),
            Readiness::Notify => "READY=1".to_string(),
            Readiness::Tcp { host, port } => format!("tcp {}", host_port_text(host, *port)),
            Readiness::Http { url, .. } => format!("http {url}"),
            Readiness::Exec(command) => format!("exec {command}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Readiness {
        Readiness::Tcp {
            host: host.into(),
            port,
        }
    }

    fn http(url: &str, host: &str, port: u16, path: &str) -> Readiness {
        Readiness::Http {
            url: url.into(),
            host: host.into(),
            port,
            path: path.into(),
        }
    }

    #[test]
    fn the_simple_forms_parse() {
        assert_eq!(parse("startsecs"), Ok(Readiness::Startsecs));
        assert_eq!(parse("  notify \t"), Ok(Readiness::Notify));
        assert_eq!(parse("fd:3"), Ok(Readiness::Fd(3)));
        assert_eq!(parse("fd: 1023"), Ok(Readiness::Fd(1023)));
        assert_eq!(
            parse("exec:  pg_isready -h /tmp  "),
            Ok(Readiness::Exec("pg_isready -h /tmp".into()))
        );
        assert_eq!(
            parse("exec:test -e /run/x.sock && echo yes"),
            Ok(Readiness::Exec("test -e /run/x.sock && echo yes".into()))
        );
    }

    #[test]
    fn fd_errors_name_the_problem() {
        assert_eq!(parse("fd:1"), Err("fd must be 3 or more: fd:1".into()));
        assert_eq!(parse("fd:-4"), Err("fd must be 3 or more: fd:-4".into()));
        assert_eq!(
            parse("fd:1024"),
            Err("fd must be 1023 or less: fd:1024".into())
        );
        assert_eq!(
            parse("fd:99999999999"),
            Err("fd must be 1023 or less: fd:99999999999".into())
        );
        assert_eq!(parse("fd:x"), Err("fd is not a number: fd:x".into()));
        assert_eq!(parse("fd:"), Err("fd is not a number: fd:".into()));
        assert_eq!(
            parse("fd:99999999999999999999999"),
            Err("fd is not a number: fd:99999999999999999999999".into())
        );
    }

    #[test]
    fn tcp_takes_names_ipv4_and_bracketed_ipv6() {
        assert_eq!(parse("tcp:127.0.0.1:8080"), Ok(tcp("127.0.0.1", 8080)));
        assert_eq!(parse("tcp:localhost:5432"), Ok(tcp("localhost", 5432)));
        assert_eq!(parse("tcp:[::1]:80"), Ok(tcp("::1", 80)));
        assert_eq!(
            parse("tcp:[fe80::1%eth0]:80").err(),
            Some("tcp address in brackets is not an IPv6 address: tcp:[fe80::1%eth0]:80".into())
        );
    }

    #[test]
    fn tcp_errors_name_the_problem() {
        let cases = [
            ("tcp:", "tcp address needs a host: tcp:"),
            ("tcp:host", "tcp address needs HOST:PORT: tcp:host"),
            ("tcp::80", "tcp address needs a host: tcp::80"),
            (
                "tcp:h:0",
                "tcp port must be a number from 1 to 65535: tcp:h:0",
            ),
            (
                "tcp:h:65536",
                "tcp port must be a number from 1 to 65535: tcp:h:65536",
            ),
            (
                "tcp:h:http",
                "tcp port must be a number from 1 to 65535: tcp:h:http",
            ),
            (
                "tcp:::1:80",
                "tcp IPv6 address needs brackets, as in [::1]:8080: tcp:::1:80",
            ),
            (
                "tcp:[::1:80",
                "tcp address has '[' without ']': tcp:[::1:80",
            ),
            (
                "tcp:[::1]80",
                "tcp address needs ':PORT' after ']': tcp:[::1]80",
            ),
            (
                "tcp:[nope]:80",
                "tcp address in brackets is not an IPv6 address: tcp:[nope]:80",
            ),
            ("tcp:[::1]", "tcp address needs HOST:PORT: tcp:[::1]"),
            (
                "tcp:a b:80",
                "tcp host has characters a host name cannot have: tcp:a b:80",
            ),
        ];
        for (text, error) in cases {
            assert_eq!(parse(text), Err(error.to_string()), "{text}");
        }
    }

    #[test]
    fn http_takes_both_spellings_and_defaults() {
        let url = "http://127.0.0.1:8080/health";
        assert_eq!(
            parse("http:http://127.0.0.1:8080/health"),
            Ok(http(url, "127.0.0.1", 8080, "/health"))
        );
        assert_eq!(
            parse("http://127.0.0.1:8080/health"),
            Ok(http(url, "127.0.0.1", 8080, "/health"))
        );
        assert_eq!(
            parse("http: http://localhost"),
            Ok(http("http://localhost", "localhost", 80, "/"))
        );
        assert_eq!(
            parse("http:http://[::1]:9000/a/b?x=1&y=2#frag"),
            Ok(http(
                "http://[::1]:9000/a/b?x=1&y=2#frag",
                "::1",
                9000,
                "/a/b?x=1&y=2"
            ))
        );
        assert_eq!(parse("http://h?q"), Ok(http("http://h?q", "h", 80, "/?q")));
        assert_eq!(
            parse("http://[::1]"),
            Ok(http("http://[::1]", "::1", 80, "/"))
        );
    }

    #[test]
    fn http_errors_name_the_problem() {
        let cases = [
            (
                "http:https://h/",
                "http https is not supported (http:// only): http:https://h/",
            ),
            (
                "https://h/",
                "unknown ready value (expected startsecs, fd:N, notify, tcp:HOST:PORT, \
                 http:URL or exec:COMMAND): https://h/",
            ),
            ("http:ftp://h/", "http needs an http:// URL: http:ftp://h/"),
            ("http:", "http needs an http:// URL: http:"),
            ("http://", "http address needs a host: http://"),
            ("http:///x", "http address needs a host: http:///x"),
            (
                "http://h:0/",
                "http port must be a number from 1 to 65535: http://h:0/",
            ),
            (
                "http://u:p@h/",
                "http URL must not contain a user name or password: http://u:p@h/",
            ),
            (
                "http://h/a b",
                "http URL path must not contain spaces or control characters: http://h/a b",
            ),
        ];
        for (text, error) in cases {
            assert_eq!(parse(text), Err(error.to_string()), "{text}");
        }
    }

    #[test]
    fn other_errors_name_the_problem() {
        assert_eq!(
            parse(""),
            Err(
                "ready is empty (expected startsecs, fd:N, notify, tcp:HOST:PORT, \
                 http:URL or exec:COMMAND)"
                    .into()
            )
        );
        assert_eq!(parse("exec:  "), Err("exec needs a command: exec:".into()));
        assert_eq!(
            parse("Notify"),
            Err(
                "unknown ready value (expected startsecs, fd:N, notify, tcp:HOST:PORT, \
                 http:URL or exec:COMMAND): Notify"
                    .into()
            )
        );
        assert_eq!(
            parse("exec:a\0b"),
            Err("ready contains a NUL byte: exec:a\0b".into())
        );
    }

    #[test]
    fn describe_says_what_starting_waits_for() {
        let cases = [
            ("fd:3", "waiting for fd 3"),
            ("notify", "waiting for READY=1"),
            ("tcp:127.0.0.1:8080", "waiting for tcp 127.0.0.1:8080"),
            ("tcp:[::1]:8080", "waiting for tcp [::1]:8080"),
            (
                "http:http://127.0.0.1:8080/health",
                "waiting for http http://127.0.0.1:8080/health",
            ),
            (
                "http://127.0.0.1:8080/health",
                "waiting for http http://127.0.0.1:8080/health",
            ),
            ("exec:pg_isready -q", "waiting for exec pg_isready -q"),
            ("startsecs", "waiting for startsecs"),
        ];
        for (text, said) in cases {
            assert_eq!(parse(text).map(|r| r.describe()), Ok(said.to_string()));
        }
    }
}
