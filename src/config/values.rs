//! Value parsers for configuration options, one per Supervisor datatype
//! (datatypes.py in 4.3), each returning `Result<_, String>` with a message
//! that names the bad value. They are public so supervisord's command-line
//! overrides and supervisorctl can parse their arguments the same way.
//!
//! Path parsers take a [`Host`] (current directory, environment, account
//! files) instead of asking the system, so every case is testable.

use std::path::{Path, PathBuf};

use super::{LogLevel, LogTarget};
use crate::process::state::AutoRestart;
use crate::users;

/// The facts about the running system a config depends on. Tests build one
/// by hand; [`Host::current`] reads the real one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Where relative paths are anchored (4.3 uses the process cwd).
    pub cwd: PathBuf,
    /// The process environment; each entry becomes `%(ENV_name)s`.
    pub env: Vec<(String, String)>,
    /// `%(host_node_name)s`, uname's nodename.
    pub host_node_name: String,
    /// The real uid, for `~` when $HOME is unset.
    pub uid: u32,
    /// The text of /etc/passwd (for `~user`, `user=` and `chown=`).
    pub passwd: String,
    /// The text of /etc/group.
    pub group: String,
    /// The default `childlogdir` (Python's tempfile.gettempdir()).
    pub tempdir: PathBuf,
}

impl Host {
    /// The running system. Unreadable account files read as empty, so a
    /// `user=` will then be reported as unknown rather than crash.
    pub fn current() -> Host {
        let env: Vec<(String, String)> = std::env::vars_os()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect();
        let cwd = std::env::current_dir()
            .ok()
            .or_else(|| {
                env.iter()
                    .find(|(k, _)| k == "PWD")
                    .map(|(_, v)| PathBuf::from(v))
            })
            .unwrap_or_else(|| PathBuf::from("/"));
        let read = |p: &str| users::read_database(Path::new(p)).unwrap_or_default();
        Host {
            cwd,
            host_node_name: rustix::system::uname()
                .nodename()
                .to_string_lossy()
                .into_owned(),
            uid: rustix::process::getuid().as_raw(),
            passwd: read(users::PASSWD_PATH),
            group: read(users::GROUP_PATH),
            tempdir: std::env::temp_dir(),
            env,
        }
    }

    /// One environment variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

// ---------------------------------------------------------------------------
// Small shared helpers

/// Python's `str.isspace`: Unicode whitespace plus the four ASCII
/// separators (0x1c-0x1f) Rust does not count as whitespace.
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()`.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `repr()` of a string, so messages quote values the way 4.3's do.
pub use crate::pytext::repr_str as repr;

// ---------------------------------------------------------------------------
// Numbers

#[derive(Debug, PartialEq, Eq)]
enum IntError {
    Invalid,
    Overflow,
}

/// Python's `int(text, radix)` for radix 10 and 8: surrounding whitespace,
/// a sign, single underscores between digits, and `0o` for octal.
fn python_int(text: &str, radix: u32) -> Result<i64, IntError> {
    let s = py_strip(text);
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (s, after_prefix) = match s.get(..2) {
        Some("0o" | "0O") if radix == 8 => (&s[2..], true),
        _ => (s, false),
    };
    let mut value: i64 = 0;
    let mut digits = 0;
    let mut last_underscore = false;
    for (i, c) in s.chars().enumerate() {
        if c == '_' {
            if last_underscore || (i == 0 && !after_prefix) {
                return Err(IntError::Invalid);
            }
            last_underscore = true;
            continue;
        }
        let digit = c.to_digit(radix).ok_or(IntError::Invalid)?;
        last_underscore = false;
        digits += 1;
        value = value
            .checked_mul(i64::from(radix))
            .and_then(|v| v.checked_add(i64::from(digit)))
            .ok_or(IntError::Overflow)?;
    }
    if digits == 0 || last_underscore {
        return Err(IntError::Invalid);
    }
    Ok(if negative { -value } else { value })
}

/// An integer (datatypes.integer).
pub fn parse_int(text: &str) -> Result<i64, String> {
    python_int(text, 10).map_err(|e| match e {
        IntError::Invalid => format!("{} is not an integer", repr(text)),
        IntError::Overflow => format!("{} is out of range", repr(text)),
    })
}

/// An integer that must not be negative (durations, counts, sizes).
pub fn parse_count(text: &str) -> Result<u64, String> {
    let n = parse_int(text)?;
    u64::try_from(n).map_err(|_| format!("{} must not be negative", repr(text)))
}

/// A non-negative integer that fits in 32 bits (retries, backups).
pub fn parse_count32(text: &str) -> Result<u32, String> {
    let n = parse_count(text)?;
    u32::try_from(n).map_err(|_| format!("{} is out of range", repr(text)))
}

/// `startretries`: a count, or `infinite` / `-1` (None: never give up).
pub fn parse_retries(text: &str) -> Result<Option<u32>, String> {
    let t = py_strip(text);
    if t.eq_ignore_ascii_case("infinite") || t == "-1" {
        return Ok(None);
    }
    parse_count32(text).map(Some)
}

/// A signed 32-bit integer (priorities).
pub fn parse_i32(text: &str) -> Result<i32, String> {
    let n = parse_int(text)?;
    i32::try_from(n).map_err(|_| format!("{} is out of range", repr(text)))
}

/// A byte count with an optional KB/MB/GB suffix, 1024-based and
/// case-insensitive (datatypes.byte_size).
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "{} is not a valid size (an integer, optionally followed by KB, MB or GB)",
            repr(text)
        )
    };
    let lower = text.to_lowercase();
    let split = lower.char_indices().rev().nth(1).map_or(0, |(i, _)| i);
    let (number, multiplier) = match lower.get(split..) {
        Some("kb") => (&lower[..split], 1u64 << 10),
        Some("mb") => (&lower[..split], 1u64 << 20),
        Some("gb") => (&lower[..split], 1u64 << 30),
        _ => (lower.as_str(), 1),
    };
    let n = python_int(number, 10).map_err(|_| bad())?;
    let n = u64::try_from(n).map_err(|_| format!("{} must not be negative", repr(text)))?;
    n.checked_mul(multiplier)
        .ok_or_else(|| format!("{} is out of range", repr(text)))
}

/// An octal mode such as `022` or `0o022` (datatypes.octal_type), limited
/// to permission bits.
pub fn parse_octal(text: &str) -> Result<u32, String> {
    let bad = || format!("{} can not be converted to an octal type", repr(text));
    let n = python_int(text, 8).map_err(|_| bad())?;
    match u32::try_from(n) {
        Ok(mode) if mode <= 0o7777 => Ok(mode),
        _ => Err(format!(
            "{} is not a valid mode (0 to 7777 octal)",
            repr(text)
        )),
    }
}

// ---------------------------------------------------------------------------
// Words

const TRUTHY: [&str; 4] = ["yes", "true", "on", "1"];
const FALSY: [&str; 4] = ["no", "false", "off", "0"];

/// true/false/yes/no/on/off/1/0, any case (datatypes.boolean).
pub fn parse_bool(text: &str) -> Result<bool, String> {
    let lower = text.to_lowercase();
    if TRUTHY.contains(&lower.as_str()) {
        Ok(true)
    } else if FALSY.contains(&lower.as_str()) {
        Ok(false)
    } else {
        Err(format!("not a valid boolean value: {}", repr(text)))
    }
}

/// `autorestart=`: a boolean or `unexpected` (datatypes.auto_restart).
pub fn parse_autorestart(text: &str) -> Result<AutoRestart, String> {
    let lower = text.to_lowercase();
    if lower == "unexpected" {
        return Ok(AutoRestart::Unexpected);
    }
    match parse_bool(&lower) {
        Ok(true) => Ok(AutoRestart::Always),
        Ok(false) => Ok(AutoRestart::Never),
        Err(_) => Err(format!("invalid 'autorestart' value {}", repr(&lower))),
    }
}

/// A log level name, any case (datatypes.logging_level). 4.3 knows exactly
/// these seven names; it has no aliases such as `warning`.
pub fn parse_log_level(text: &str) -> Result<LogLevel, String> {
    match text.to_lowercase().as_str() {
        "critical" => Ok(LogLevel::Critical),
        "error" => Ok(LogLevel::Error),
        "warn" => Ok(LogLevel::Warn),
        "info" => Ok(LogLevel::Info),
        "debug" => Ok(LogLevel::Debug),
        "trace" => Ok(LogLevel::Trace),
        "blather" => Ok(LogLevel::Blather),
        _ => Err(format!("bad logging level name {}", repr(text))),
    }
}

/// Comma-separated list, items trimmed; empty text is an empty list
/// (datatypes.list_of_strings).
pub fn parse_list(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split(',').map(|s| py_strip(s).to_string()).collect()
}

/// Exit codes `0,2`: integers 0-255; empty text is an empty list
/// (datatypes.list_of_exitcodes).
pub fn parse_exitcodes(text: &str) -> Result<Vec<i32>, String> {
    let bad = || format!("not a valid list of exit codes: {}", repr(text));
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|item| match python_int(item, 10) {
            Ok(code @ 0..=255) => i32::try_from(code).map_err(|_| bad()),
            _ => Err(bad()),
        })
        .collect()
}

/// A process or group name: no space, colon or slash, which would break
/// `group:name` specs and web UI URLs (datatypes.process_or_group_name).
pub fn parse_name(text: &str) -> Result<String, String> {
    let name = py_strip(text);
    if let Some(c) = name.chars().find(|c| matches!(c, ' ' | ':' | '/')) {
        return Err(format!(
            "Invalid name: {} because of character: {}",
            repr(text),
            repr(&c.to_string())
        ));
    }
    if name.is_empty() {
        return Err(format!("Invalid name: {} (it is empty)", repr(text)));
    }
    Ok(name.to_string())
}

// ---------------------------------------------------------------------------
// Signals

/// Linux's standard signals with the asm-generic numbers (x86, ARM, RISC-V,
/// ...), plus the aliases Python's signal module knows. Python also accepts
/// SIGRTMIN and SIGRTMAX as glibc defines them (34 and 64).
const SIGNALS: [(&str, i32); 36] = [
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
    ("RTMIN", 34),
    ("RTMAX", 64),
];

/// A signal as a name (`TERM`, `sigterm`) or a number (`15`), as
/// datatypes.signal_number reads it. Only numbers Python's signal module
/// names are valid; 0 (which 4.3 lets through via SIG_DFL) is refused
/// because "send nothing" is never a useful stop signal.
pub fn parse_signal(text: &str) -> Result<i32, String> {
    let number = match python_int(text, 10) {
        Ok(n) => n,
        Err(_) => {
            let upper = py_strip(text).to_uppercase();
            let name = upper.strip_prefix("SIG").unwrap_or(&upper);
            return SIGNALS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|&(_, num)| num)
                .ok_or_else(|| format!("value {} is not a valid signal name", repr(text)));
        }
    };
    SIGNALS
        .iter()
        .find(|&&(_, num)| i64::from(num) == number)
        .map(|&(_, num)| num)
        .ok_or_else(|| format!("value {} is not a valid signal number", repr(text)))
}

// ---------------------------------------------------------------------------
// Environment lists

/// Python's `shlex.shlex(text)` in its default, non-POSIX mode with
/// Supervisor's extra word characters: quoted strings keep their quotes,
/// `#` starts a comment, other punctuation is a token of its own.
/// Non-ASCII characters count as word characters (4.3 splits them off and
/// silently drops them, e.g. `A=café` gives `caf`).
fn shlex_nonposix_tokens(text: &str) -> Result<Vec<String>, String> {
    #[derive(Clone, Copy)]
    enum State {
        Space,
        Word,
        Quote(char),
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || "_/.+-():".contains(c) || !c.is_ascii();
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');

    let mut tokens = Vec::new();
    let mut token = String::new();
    let mut state = State::Space;
    let mut chars = text.chars();
    let mut pending: Option<char> = None;
    loop {
        let next = pending.take().or_else(|| chars.next());
        match (state, next) {
            (State::Space, None) => break,
            (State::Space, Some('#')) | (State::Word, Some('#')) => {
                // A comment runs to the end of the line; in non-POSIX mode a
                // word in progress simply continues after it.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            (State::Space, Some(c)) if is_space(c) => {}
            (State::Space, Some(c)) if is_word(c) => {
                token.push(c);
                state = State::Word;
            }
            (State::Space, Some(c)) if c == '"' || c == '\'' => {
                token.push(c);
                state = State::Quote(c);
            }
            (State::Space, Some(c)) => tokens.push(c.to_string()),
            (State::Quote(_), None) => {
                return Err(format!("No closing quotation in value {}", repr(text)));
            }
            (State::Quote(q), Some(c)) => {
                token.push(c);
                if c == q {
                    tokens.push(std::mem::take(&mut token));
                    state = State::Space;
                }
            }
            (State::Word, None) => {
                tokens.push(std::mem::take(&mut token));
                break;
            }
            (State::Word, Some(c)) if is_space(c) => {
                tokens.push(std::mem::take(&mut token));
                state = State::Space;
            }
            (State::Word, Some(c)) if is_word(c) || c == '"' || c == '\'' => token.push(c),
            (State::Word, Some(c)) => {
                tokens.push(std::mem::take(&mut token));
                pending = Some(c);
                state = State::Space;
            }
        }
    }
    Ok(tokens)
}

/// `KEY="val",KEY2=val2` (datatypes.dict_of_key_value_pairs): shlex tokens
/// taken as `key = value` triples with one separator token between them;
/// quotes are stripped from values. A repeated key keeps its first position
/// and takes the later value, as a Python dict does.
pub fn parse_env_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let tokens = shlex_nonposix_tokens(text)?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let (Some(key), Some(eq), Some(value)) =
            (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2))
        else {
            return Err(unexpected_end(text));
        };
        if eq != "=" {
            return Err(unexpected_end(text));
        }
        let value = value.trim_matches(|c| c == '\'' || c == '"').to_string();
        match pairs.iter_mut().find(|(k, _)| k == key) {
            Some(existing) => existing.1 = value,
            None => pairs.push((key.clone(), value)),
        }
        i += 4;
    }
    Ok(pairs)
}

fn unexpected_end(text: &str) -> String {
    format!("Unexpected end of key/value pairs in value {}", repr(text))
}

/// Splits a command line as Python's `shlex.split` does (POSIX mode):
/// single quotes are literal, double quotes allow `\"` and `\\`, a
/// backslash outside quotes escapes any character, `""` is an empty word.
pub fn split_command(text: &str) -> Result<Vec<String>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Space,
        Word,
        Quote(char),
        /// After a backslash; remembers where to return.
        Escape(Return),
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Return {
        Word,
        DoubleQuote,
    }
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');

    // Word state with an empty word only happens after quotes (`""`), so
    // every word is emitted when it ends, empty or not.
    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Space;
    let mut chars = text.chars();
    loop {
        let next = chars.next();
        match (state, next) {
            (State::Space, None) => break,
            (State::Space, Some(c)) if is_space(c) => {}
            (State::Space | State::Word, Some('\\')) => state = State::Escape(Return::Word),
            (State::Space | State::Word, Some(c)) if c == '"' || c == '\'' => {
                state = State::Quote(c);
            }
            (State::Space, Some(c)) => {
                word.push(c);
                state = State::Word;
            }
            (State::Word, None) => {
                words.push(std::mem::take(&mut word));
                break;
            }
            (State::Word, Some(c)) if is_space(c) => {
                words.push(std::mem::take(&mut word));
                state = State::Space;
            }
            (State::Word, Some(c)) => word.push(c),
            (State::Quote(_), None) => return Err("No closing quotation".to_string()),
            (State::Quote(q), Some(c)) if c == q => state = State::Word,
            (State::Quote('"'), Some('\\')) => state = State::Escape(Return::DoubleQuote),
            (State::Quote(_), Some(c)) => word.push(c),
            (State::Escape(_), None) => return Err("No escaped character".to_string()),
            (State::Escape(Return::Word), Some(c)) => {
                word.push(c);
                state = State::Word;
            }
            (State::Escape(Return::DoubleQuote), Some(c)) => {
                // Inside double quotes only `\` and `"` are escapable.
                if c != '\\' && c != '"' {
                    word.push('\\');
                }
                word.push(c);
                state = State::Quote('"');
            }
        }
    }
    Ok(words)
}

// ---------------------------------------------------------------------------
// Servers and owners

/// `host:port`, `*:port` or `port` (datatypes.inet_address). The host is
/// lower-cased; `*` and an empty host mean all interfaces and become "".
pub fn parse_inet_address(text: &str) -> Result<(String, u16), String> {
    let port_of = |p: &str| -> Option<u16> {
        match python_int(p, 10) {
            Ok(n) if (1..=65535).contains(&n) => u16::try_from(n).ok(),
            _ => None,
        }
    };
    match text.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() {
                return Err(format!("no port number specified in {}", repr(text)));
            }
            let port = port_of(port)
                .ok_or_else(|| format!("{} is not a valid port number (1-65535)", repr(port)))?;
            let host = host.to_lowercase();
            Ok((if host == "*" { String::new() } else { host }, port))
        }
        None => port_of(text)
            .map(|port| (String::new(), port))
            .ok_or_else(|| format!("not a valid port number: {}", repr(text))),
    }
}

/// `user` or `user:group`, syntax only; the names are checked against the
/// account files by the caller (datatypes.colon_separated_user_group).
pub fn parse_user_group(text: &str) -> Result<(String, Option<String>), String> {
    let (user, group) = match text.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (text, None),
    };
    if user.is_empty() || group == Some("") {
        return Err(format!("Invalid user:group definition {text}"));
    }
    Ok((user.to_string(), group.map(str::to_string)))
}

/// Checks `user[:group]` against the account files as 4.3 does at config
/// time, keeping the names as written.
pub fn resolve_user_group(text: &str, host: &Host) -> Result<(String, Option<String>), String> {
    let (user, group) = parse_user_group(text)?;
    users::name_to_uid_in(&host.passwd, &user)?;
    if let Some(g) = &group {
        users::name_to_gid_in(&host.group, g)?;
    }
    Ok((user, group))
}

/// 2.0's `sockchown`: `user`, `user.group`, or 4.x's `user:group`. A dotted
/// value that is itself an existing user name stays a user name.
pub fn resolve_dotted_user_group(
    text: &str,
    host: &Host,
) -> Result<(String, Option<String>), String> {
    if text.contains(':') || users::find_user_in(&host.passwd, text).is_some() {
        return resolve_user_group(text, host);
    }
    match text.split_once('.') {
        Some((user, group)) => resolve_user_group(&format!("{user}:{group}"), host),
        None => resolve_user_group(text, host),
    }
}

// ---------------------------------------------------------------------------
// Paths

/// Python's `os.path.expanduser`: `~` is $HOME (or the passwd home of the
/// current uid), `~name` that user's home; anything unknown is unchanged.
pub fn expand_user(path: &str, host: &Host) -> String {
    let Some(rest) = path.strip_prefix('~') else {
        return path.to_string();
    };
    let (name, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let home = if name.is_empty() {
        match host.var("HOME") {
            Some(h) => Some(h.to_string()),
            None => users::find_user_in(&host.passwd, &host.uid.to_string())
                .map(|u| u.home.to_string_lossy().into_owned()),
        }
    } else {
        users::parse_passwd(&host.passwd)
            .into_iter()
            .find(|u| u.name == name)
            .map(|u| u.home.to_string_lossy().into_owned())
    };
    match home {
        Some(home) => {
            let joined = format!("{}{}", home.trim_end_matches('/'), tail);
            if joined.is_empty() {
                "/".to_string()
            } else {
                joined
            }
        }
        None => path.to_string(),
    }
}

/// Python's `os.path.normpath` (lexical: `.` and `..` folded, repeated
/// slashes merged, a leading `//` kept as POSIX allows).
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let initial = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." if initial == 0 && (parts.is_empty() || parts.last() == Some(&"..")) => {
                parts.push("..");
            }
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let joined = format!("{}{}", "/".repeat(initial), parts.join("/"));
    if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// Python's `os.path.dirname`.
pub(crate) fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        None => "",
        Some(i) => {
            let head = &path[..=i];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head
            } else {
                trimmed
            }
        }
    }
}

fn anchored(path: &str, host: &Host) -> PathBuf {
    host.cwd.join(path)
}

/// 4.3's `normalize_path`: `~` expanded, made absolute against the current
/// directory, then normalized.
pub fn normalize_path(path: &str, host: &Host) -> PathBuf {
    let expanded = expand_user(path, host);
    let absolute = if expanded.starts_with('/') {
        expanded
    } else {
        format!("{}/{}", host.cwd.to_string_lossy(), expanded)
    };
    PathBuf::from(normpath(&absolute))
}

/// 4.3's `existing_dirpath`: `~` expanded; the directory part, if any, must
/// exist. The path itself stays as written (relative stays relative).
pub fn existing_dirpath(path: &str, host: &Host) -> Result<PathBuf, String> {
    let expanded = expand_user(path, host);
    let dir = dirname(&expanded);
    if dir.is_empty() || anchored(dir, host).is_dir() {
        Ok(PathBuf::from(expanded))
    } else {
        Err(format!(
            "The directory named as part of the path {path} does not exist"
        ))
    }
}

/// 4.3's `existing_directory`: `~` expanded; it must be a directory.
pub fn existing_directory(path: &str, host: &Host) -> Result<PathBuf, String> {
    let expanded = expand_user(path, host);
    if anchored(&expanded, host).is_dir() {
        Ok(PathBuf::from(expanded))
    } else {
        Err(format!("{path} is not an existing directory"))
    }
}

/// A program's `stdout_logfile`/`stderr_logfile` (datatypes.logfile_name):
/// NONE/OFF, AUTO or SYSLOG in any case, else a path whose directory must
/// exist. Empty text means no log, as 4.3's dispatcher treats it.
pub fn parse_log_target(text: &str, host: &Host) -> Result<LogTarget, String> {
    match text.to_lowercase().as_str() {
        "" | "none" | "off" => Ok(LogTarget::None),
        "auto" => Ok(LogTarget::Auto),
        "syslog" => Ok(LogTarget::Syslog),
        _ => existing_dirpath(text, host).map(LogTarget::Path),
    }
}

/// `[supervisord] logfile`: `syslog` (exactly, as 4.3 compares it) sends the
/// main log to syslog; NONE/OFF turn it off (4.3 would create a file named
/// NONE); anything else is a file, normalized to an absolute path.
pub fn parse_daemon_logfile(text: &str, host: &Host) -> Result<LogTarget, String> {
    if text == "syslog" {
        return Ok(LogTarget::Syslog);
    }
    if matches!(text.to_lowercase().as_str(), "none" | "off") {
        return Ok(LogTarget::None);
    }
    existing_dirpath(text, host)?;
    Ok(LogTarget::Path(normalize_path(text, host)))
}

/// `[supervisord] pidfile`: the directory must exist; made absolute.
/// Empty or NONE means no pidfile.
pub fn parse_pidfile(text: &str, host: &Host) -> Result<Option<PathBuf>, String> {
    if text.is_empty() || text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    existing_dirpath(text, host)?;
    Ok(Some(normalize_path(text, host)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host {
            cwd: PathBuf::from("/work/dir"),
            env: vec![("HOME".into(), "/home/me/".into())],
            host_node_name: "box".into(),
            uid: 1000,
            passwd: "root:x:0:0:root:/root:/bin/sh\nme:x:1000:1000::/home/me:/bin/sh\n\
                     web:x:33:33::/var/www:/bin/sh\na.b:x:44:44::/home/ab:/bin/sh\n"
                .into(),
            group: "root:x:0:\nwww:x:33:web\nstaff:x:50:\n".into(),
            tempdir: PathBuf::from("/tmp"),
        }
    }

    #[test]
    fn booleans_accept_4_3_words_in_any_case() {
        for t in ["true", "TRUE", "Yes", "on", "1"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["false", "No", "OFF", "0"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        assert_eq!(
            parse_bool("maybe"),
            Err("not a valid boolean value: 'maybe'".into())
        );
        assert!(parse_bool("").is_err());
        assert!(parse_bool(" true").is_err());
        assert!(parse_bool("2").is_err());
    }

    #[test]
    fn integers_follow_python_int() {
        assert_eq!(parse_int("42"), Ok(42));
        assert_eq!(parse_int(" -7 "), Ok(-7));
        assert_eq!(parse_int("+3"), Ok(3));
        assert_eq!(parse_int("007"), Ok(7));
        assert_eq!(parse_int("1_000"), Ok(1000));
        for bad in [
            "", "abc", "1.5", "1__0", "_1", "1_", "--1", "0x10", "1 2", "-",
        ] {
            assert!(parse_int(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_int("abc"), Err("'abc' is not an integer".into()));
        assert_eq!(
            parse_int("99999999999999999999"),
            Err("'99999999999999999999' is out of range".into())
        );
    }

    #[test]
    fn typed_counts_reject_negative_and_overflow() {
        assert_eq!(parse_count("10"), Ok(10));
        assert_eq!(parse_count("-1"), Err("'-1' must not be negative".into()));
        assert_eq!(parse_count32("4294967295"), Ok(u32::MAX));
        assert!(parse_count32("4294967296").is_err());
        assert_eq!(parse_i32("-5"), Ok(-5));
        assert!(parse_i32("3000000000").is_err());
    }

    #[test]
    fn byte_sizes_are_1024_based_with_suffixes() {
        assert_eq!(parse_byte_size("0"), Ok(0));
        assert_eq!(parse_byte_size("123"), Ok(123));
        assert_eq!(parse_byte_size("1KB"), Ok(1024));
        assert_eq!(parse_byte_size("50MB"), Ok(50 * 1024 * 1024));
        assert_eq!(parse_byte_size("2gb"), Ok(2 << 30));
        assert_eq!(parse_byte_size("10 Mb"), Ok(10 << 20));
        for bad in ["1.5MB", "10M", "MB", "abc", "", "1TB", "-1MB"] {
            assert!(parse_byte_size(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_byte_size("1.5MB"),
            Err(
                "'1.5MB' is not a valid size (an integer, optionally followed by KB, MB or GB)"
                    .into()
            )
        );
        assert!(parse_byte_size("99999999999GB").is_err());
        // a multibyte last character must not split a char boundary
        assert!(parse_byte_size("1é").is_err());
        assert!(parse_byte_size("é").is_err());
    }

    #[test]
    fn octal_modes() {
        assert_eq!(parse_octal("022"), Ok(0o22));
        assert_eq!(parse_octal("0o022"), Ok(0o22));
        assert_eq!(parse_octal("0700"), Ok(0o700));
        assert_eq!(parse_octal("777"), Ok(0o777));
        assert_eq!(parse_octal("0"), Ok(0));
        assert_eq!(
            parse_octal("089"),
            Err("'089' can not be converted to an octal type".into())
        );
        assert!(parse_octal("").is_err());
        assert!(parse_octal("-22").is_err());
        assert!(parse_octal("77777").is_err());
    }

    #[test]
    fn signals_by_name_number_and_prefix() {
        assert_eq!(parse_signal("TERM"), Ok(15));
        assert_eq!(parse_signal("sigterm"), Ok(15));
        assert_eq!(parse_signal(" hup "), Ok(1));
        assert_eq!(parse_signal("KILL"), Ok(9));
        assert_eq!(parse_signal("USR1"), Ok(10));
        assert_eq!(parse_signal("usr2"), Ok(12));
        assert_eq!(parse_signal("INT"), Ok(2));
        assert_eq!(parse_signal("QUIT"), Ok(3));
        assert_eq!(parse_signal("IOT"), Ok(6));
        assert_eq!(parse_signal("CLD"), Ok(17));
        assert_eq!(parse_signal("RTMAX"), Ok(64));
        assert_eq!(parse_signal("9"), Ok(9));
        assert_eq!(parse_signal("34"), Ok(34));
        assert_eq!(
            parse_signal("FOO"),
            Err("value 'FOO' is not a valid signal name".into())
        );
        assert_eq!(
            parse_signal("99"),
            Err("value '99' is not a valid signal number".into())
        );
        for bad in ["0", "32", "35", "-1", "", "SIG", "SIGSIGTERM"] {
            assert!(parse_signal(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn exit_codes() {
        assert_eq!(parse_exitcodes("0"), Ok(vec![0]));
        assert_eq!(parse_exitcodes("0,2"), Ok(vec![0, 2]));
        assert_eq!(parse_exitcodes(" 1 , 255 "), Ok(vec![1, 255]));
        assert_eq!(parse_exitcodes(""), Ok(vec![]));
        assert_eq!(
            parse_exitcodes("0,256"),
            Err("not a valid list of exit codes: '0,256'".into())
        );
        for bad in ["-1", "a", "0,,1", "1.0", "0,"] {
            assert!(parse_exitcodes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn autorestart_values() {
        assert_eq!(parse_autorestart("true"), Ok(AutoRestart::Always));
        assert_eq!(parse_autorestart("ON"), Ok(AutoRestart::Always));
        assert_eq!(parse_autorestart("false"), Ok(AutoRestart::Never));
        assert_eq!(parse_autorestart("0"), Ok(AutoRestart::Never));
        assert_eq!(parse_autorestart("Unexpected"), Ok(AutoRestart::Unexpected));
        assert_eq!(
            parse_autorestart("Sometimes"),
            Err("invalid 'autorestart' value 'sometimes'".into())
        );
    }

    #[test]
    fn log_levels() {
        assert_eq!(parse_log_level("critical"), Ok(LogLevel::Critical));
        assert_eq!(parse_log_level("ERROR"), Ok(LogLevel::Error));
        assert_eq!(parse_log_level("warn"), Ok(LogLevel::Warn));
        assert_eq!(parse_log_level("Info"), Ok(LogLevel::Info));
        assert_eq!(parse_log_level("debug"), Ok(LogLevel::Debug));
        assert_eq!(parse_log_level("trace"), Ok(LogLevel::Trace));
        assert_eq!(parse_log_level("blather"), Ok(LogLevel::Blather));
        assert_eq!(
            parse_log_level("warning"),
            Err("bad logging level name 'warning'".into())
        );
        assert!(parse_log_level("").is_err());
        assert!(parse_log_level("CRIT").is_err());
    }

    #[test]
    fn lists_and_names() {
        assert_eq!(parse_list(""), Vec::<String>::new());
        assert_eq!(parse_list("a, b ,c"), ["a", "b", "c"]);
        assert_eq!(parse_list("a,,b"), ["a", "", "b"]);
        assert_eq!(parse_name(" web "), Ok("web".into()));
        assert_eq!(
            parse_name("x y"),
            Err("Invalid name: 'x y' because of character: ' '".into())
        );
        assert!(parse_name("a:b").is_err());
        assert!(parse_name("a/b").is_err());
        assert!(parse_name("").is_err());
    }

    fn env(text: &str) -> Vec<(String, String)> {
        parse_env_pairs(text).unwrap()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_lists_match_dict_of_key_value_pairs() {
        // Each expectation was checked against 4.3's datatypes.
        assert_eq!(env(""), pairs(&[]));
        assert_eq!(
            env("A=1,B=\"x y\",C=z"),
            pairs(&[("A", "1"), ("B", "x y"), ("C", "z")])
        );
        assert_eq!(env("A=\"\""), pairs(&[("A", "")]));
        assert_eq!(env("A=b#c"), pairs(&[("A", "b")]));
        assert_eq!(
            env("PATH=/usr/bin:/bin"),
            pairs(&[("PATH", "/usr/bin:/bin")])
        );
        assert_eq!(env("A='1,2', B = 3"), pairs(&[("A", "1,2"), ("B", "3")]));
        assert_eq!(env("A=1,A=2,B=3"), pairs(&[("A", "2"), ("B", "3")]));
        assert_eq!(env("A=x\n,B=y"), pairs(&[("A", "x"), ("B", "y")]));
        assert_eq!(env("A=-1.5+(x)"), pairs(&[("A", "-1.5+(x)")]));
        // deliberate difference: 4.3 gives "caf" here
        assert_eq!(env("A=café"), pairs(&[("A", "café")]));
    }

    #[test]
    fn environment_list_errors() {
        assert_eq!(
            parse_env_pairs("A=1 B=2"),
            Err("Unexpected end of key/value pairs in value 'A=1 B=2'".into())
        );
        assert!(parse_env_pairs("A=a@b.com").is_err());
        assert!(parse_env_pairs("A='q',B=").is_err());
        assert!(parse_env_pairs("A").is_err());
        assert!(parse_env_pairs("A:1").is_err());
        assert_eq!(
            parse_env_pairs("A=\"open"),
            Err("No closing quotation in value 'A=\"open'".into())
        );
    }

    fn split(text: &str) -> Vec<String> {
        split_command(text).unwrap()
    }

    #[test]
    fn split_command_matches_shlex_split() {
        assert_eq!(split("/bin/cat"), ["/bin/cat"]);
        assert_eq!(split("  a   b\tc\n"), ["a", "b", "c"]);
        assert_eq!(split("a 'b c' d"), ["a", "b c", "d"]);
        assert_eq!(split("a \"b c\" d"), ["a", "b c", "d"]);
        assert_eq!(split("a\\ b"), ["a b"]);
        assert_eq!(split("'a\\b'"), ["a\\b"]);
        assert_eq!(split("\"a\\\"b\""), ["a\"b"]);
        assert_eq!(split("\"a\\\\b\""), ["a\\b"]);
        assert_eq!(split("\"a\\nb\""), ["a\\nb"]);
        assert_eq!(split("x\"y\"z"), ["xyz"]);
        assert_eq!(split("a '' b"), ["a", "", "b"]);
        assert_eq!(split("\"\""), [""]);
        assert_eq!(split("a ''"), ["a", ""]);
        assert_eq!(split("a#b # c"), ["a#b", "#", "c"]);
        assert_eq!(
            split("sh -c 'echo $HOME; exit 3'"),
            ["sh", "-c", "echo $HOME; exit 3"]
        );
        assert_eq!(split(""), Vec::<String>::new());
        assert_eq!(split("   "), Vec::<String>::new());
        assert_eq!(split("é ü"), ["é", "ü"]);
    }

    #[test]
    fn split_command_errors() {
        assert_eq!(split_command("a 'b"), Err("No closing quotation".into()));
        assert_eq!(split_command("a \"b"), Err("No closing quotation".into()));
        assert_eq!(split_command("a \\"), Err("No escaped character".into()));
        assert_eq!(split_command("\"a\\"), Err("No escaped character".into()));
    }

    #[test]
    fn inet_addresses() {
        assert_eq!(parse_inet_address("9001"), Ok((String::new(), 9001)));
        assert_eq!(parse_inet_address("*:9001"), Ok((String::new(), 9001)));
        assert_eq!(parse_inet_address(":9001"), Ok((String::new(), 9001)));
        assert_eq!(
            parse_inet_address("LocalHost:80"),
            Ok(("localhost".into(), 80))
        );
        assert_eq!(
            parse_inet_address("127.0.0.1:9001"),
            Ok(("127.0.0.1".into(), 9001))
        );
        assert_eq!(
            parse_inet_address("foo:"),
            Err("no port number specified in 'foo:'".into())
        );
        assert_eq!(
            parse_inet_address("abc"),
            Err("not a valid port number: 'abc'".into())
        );
        assert!(parse_inet_address("70000").is_err());
        assert!(parse_inet_address("0").is_err());
        assert!(parse_inet_address("h:0").is_err());
        assert!(parse_inet_address("h:x").is_err());
        assert!(parse_inet_address("").is_err());
    }

    #[test]
    fn user_group_specs() {
        let h = host();
        assert_eq!(parse_user_group("web"), Ok(("web".into(), None)));
        assert_eq!(
            parse_user_group("web:www"),
            Ok(("web".into(), Some("www".into())))
        );
        assert!(parse_user_group("").is_err());
        assert!(parse_user_group(":g").is_err());
        assert!(parse_user_group("u:").is_err());
        assert_eq!(
            resolve_user_group("web:www", &h),
            Ok(("web".into(), Some("www".into())))
        );
        assert_eq!(
            resolve_user_group("33:50", &h),
            Ok(("33".into(), Some("50".into())))
        );
        assert_eq!(
            resolve_user_group("nobody", &h),
            Err("Invalid user name nobody".into())
        );
        assert_eq!(
            resolve_user_group("web:nogroup", &h),
            Err("Invalid group name nogroup".into())
        );
    }

    #[test]
    fn dotted_chown_of_2_0() {
        let h = host();
        assert_eq!(
            resolve_dotted_user_group("web.www", &h),
            Ok(("web".into(), Some("www".into())))
        );
        assert_eq!(
            resolve_dotted_user_group("a.b", &h),
            Ok(("a.b".into(), None))
        );
        assert_eq!(
            resolve_dotted_user_group("web:staff", &h),
            Ok(("web".into(), Some("staff".into())))
        );
        assert_eq!(
            resolve_dotted_user_group("web", &h),
            Ok(("web".into(), None))
        );
        assert!(resolve_dotted_user_group("x.y", &h).is_err());
    }

    #[test]
    fn tilde_expansion() {
        let mut h = host();
        assert_eq!(expand_user("~", &h), "/home/me");
        assert_eq!(expand_user("~/x", &h), "/home/me/x");
        assert_eq!(expand_user("~web/logs", &h), "/var/www/logs");
        assert_eq!(expand_user("~nobody/x", &h), "~nobody/x");
        assert_eq!(expand_user("a/~", &h), "a/~");
        h.env.clear();
        assert_eq!(expand_user("~/y", &h), "/home/me/y");
        h.uid = 4242;
        assert_eq!(expand_user("~/y", &h), "~/y");
        h.env = vec![("HOME".into(), "/".into())];
        assert_eq!(expand_user("~", &h), "/");
    }

    #[test]
    fn normpath_matches_posixpath() {
        assert_eq!(normpath(""), ".");
        assert_eq!(normpath("/"), "/");
        assert_eq!(normpath("//"), "//");
        assert_eq!(normpath("///a//b/"), "/a/b");
        assert_eq!(normpath("/a/./b/../c"), "/a/c");
        assert_eq!(normpath("/../a"), "/a");
        assert_eq!(normpath("a/../.."), "..");
        assert_eq!(normpath("../../a"), "../../a");
        assert_eq!(normpath("./"), ".");
    }

    #[test]
    fn normalize_path_is_absolute_against_cwd() {
        let h = host();
        assert_eq!(
            normalize_path("x.log", &h),
            PathBuf::from("/work/dir/x.log")
        );
        assert_eq!(normalize_path("../x", &h), PathBuf::from("/work/x"));
        assert_eq!(normalize_path("/a//b/.", &h), PathBuf::from("/a/b"));
        assert_eq!(
            normalize_path("~/s.sock", &h),
            PathBuf::from("/home/me/s.sock")
        );
    }

    #[test]
    fn dirpaths_and_directories_check_existence() {
        let mut h = host();
        h.cwd = PathBuf::from("/");
        assert_eq!(existing_dirpath("x.log", &h), Ok(PathBuf::from("x.log")));
        assert_eq!(
            existing_dirpath("/tmp/x.log", &h),
            Ok(PathBuf::from("/tmp/x.log"))
        );
        assert_eq!(
            existing_dirpath("tmp/x.log", &h),
            Ok(PathBuf::from("tmp/x.log"))
        );
        assert_eq!(
            existing_dirpath("/nonexistent/x.log", &h),
            Err("The directory named as part of the path /nonexistent/x.log does not exist".into())
        );
        assert_eq!(existing_directory("/tmp", &h), Ok(PathBuf::from("/tmp")));
        assert_eq!(existing_directory("tmp", &h), Ok(PathBuf::from("tmp")));
        assert_eq!(
            existing_directory("/nonexistent", &h),
            Err("/nonexistent is not an existing directory".into())
        );
    }

    #[test]
    fn log_targets() {
        let h = host();
        assert_eq!(parse_log_target("AUTO", &h), Ok(LogTarget::Auto));
        assert_eq!(parse_log_target("auto", &h), Ok(LogTarget::Auto));
        assert_eq!(parse_log_target("NONE", &h), Ok(LogTarget::None));
        assert_eq!(parse_log_target("off", &h), Ok(LogTarget::None));
        assert_eq!(parse_log_target("", &h), Ok(LogTarget::None));
        assert_eq!(parse_log_target("Syslog", &h), Ok(LogTarget::Syslog));
        assert_eq!(
            parse_log_target("/tmp/a.log", &h),
            Ok(LogTarget::Path("/tmp/a.log".into()))
        );
        assert_eq!(
            parse_log_target("/dev/stdout", &h),
            Ok(LogTarget::Path("/dev/stdout".into()))
        );
        assert!(parse_log_target("/nonexistent/a.log", &h).is_err());
    }

    #[test]
    fn daemon_logfile_and_pidfile() {
        let h = host();
        assert_eq!(parse_daemon_logfile("syslog", &h), Ok(LogTarget::Syslog));
        assert_eq!(
            parse_daemon_logfile("SYSLOG", &h),
            Ok(LogTarget::Path("/work/dir/SYSLOG".into()))
        );
        assert_eq!(parse_daemon_logfile("NONE", &h), Ok(LogTarget::None));
        assert_eq!(
            parse_daemon_logfile("/tmp/../tmp/s.log", &h),
            Ok(LogTarget::Path("/tmp/s.log".into()))
        );
        assert!(parse_daemon_logfile("/nonexistent/s.log", &h).is_err());
        assert_eq!(
            parse_pidfile("/tmp/s.pid", &h),
            Ok(Some("/tmp/s.pid".into()))
        );
        assert_eq!(
            parse_pidfile("s.pid", &h),
            Ok(Some("/work/dir/s.pid".into()))
        );
        assert_eq!(parse_pidfile("", &h), Ok(None));
        assert!(parse_pidfile("/nonexistent/s.pid", &h).is_err());
    }

    #[test]
    fn repr_quotes_like_python() {
        assert_eq!(repr("abc"), "'abc'");
        assert_eq!(repr("it's"), "\"it's\"");
        assert_eq!(repr("a'\"b"), "'a\\'\"b'");
        assert_eq!(repr("a\nb\\"), "'a\\nb\\\\'");
        assert_eq!(repr("\u{1}"), "'\\x01'");
    }

    #[test]
    fn python_whitespace() {
        assert!(is_py_space('\u{1f}'));
        assert!(is_py_space('\u{a0}'));
        assert!(!is_py_space('x'));
        assert_eq!(py_strip("\u{1c} a \t"), "a");
    }
}
