//! Python's text rules where 4.3's supervisorctl output depends on them:
//! `str.split`/`strip` whitespace, `repr()` of strings and bytes, `str()` of
//! XML-RPC values, `urlparse` and `cmd.Cmd.columnize`. Kept apart so the
//! command code reads like the Python it mirrors and each rule is tested once.

use super::raised::{Raised, Site};
pub use crate::pytext::{repr_bytes, repr_str, split, str_value, strip};

/// The parts of `urllib.parse.urlparse` that supervisorctl looks at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UrlParts {
    pub scheme: String,
    pub netloc: String,
    pub path: String,
}

/// `urllib.parse.urlsplit` without query/fragment values (they are cut
/// off); a malformed bracketed host is Python's `ValueError`.
pub fn urlsplit(url: &str) -> Result<UrlParts, Raised> {
    // Python drops leading C0 controls/spaces and every tab, CR and LF.
    let cleaned: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let mut rest = cleaned.as_str();
    let mut parts = UrlParts::default();
    if let Some(colon) = rest.find(':') {
        let candidate = rest.get(..colon).unwrap_or("");
        let valid = candidate
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && candidate
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if valid {
            parts.scheme = candidate.to_ascii_lowercase();
            rest = rest.get(colon + 1..).unwrap_or("");
        }
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        parts.netloc = after.get(..end).unwrap_or("").to_string();
        rest = after.get(end..).unwrap_or("");
        check_netloc_brackets(&parts.netloc)?;
    }
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    parts.path = rest.get(..end).unwrap_or("").to_string();
    Ok(parts)
}

fn url_value_error(message: String, file: &'static str, line: u32) -> Raised {
    Raised::other("ValueError", message, Site { file, line })
}

/// urlsplit's checks of `[...]` hosts (Python 3.11).
fn check_netloc_brackets(netloc: &str) -> Result<(), Raised> {
    let (open, close) = (netloc.contains('['), netloc.contains(']'));
    if open != close {
        return Err(url_value_error(
            "Invalid IPv6 URL".into(),
            "urllib/parse.py",
            497,
        ));
    }
    if !open {
        return Ok(());
    }
    let inside = netloc
        .split_once('[')
        .map_or("", |(_, r)| r.split_once(']').map_or(r, |(h, _)| h));
    if let Some(future) = inside.strip_prefix('v') {
        let valid = future.split_once('.').is_some_and(|(hex, tail)| {
            !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) && !tail.is_empty()
        });
        if !valid {
            return Err(url_value_error(
                "IPvFuture address is invalid".into(),
                "urllib/parse.py",
                444,
            ));
        }
        return Ok(());
    }
    if inside.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(url_value_error(
            "An IPv4 address cannot be in brackets".into(),
            "urllib/parse.py",
            448,
        ));
    }
    if inside.parse::<std::net::Ipv6Addr>().is_err() {
        return Err(url_value_error(
            format!(
                "{} does not appear to be an IPv4 or IPv6 address",
                repr_str(inside)
            ),
            "ipaddress.py",
            54,
        ));
    }
    Ok(())
}

/// supervisor's `datatypes.url`: a scheme and a netloc or path. The error
/// is the text 4.3 puts after `invalid value for -s '...': `.
pub fn check_url(value: &str) -> Result<(), String> {
    let parts = match urlsplit(value) {
        Ok(parts) => parts,
        Err(Raised::Other { message, .. }) => return Err(message),
        Err(other) => return Err(other.error_line()),
    };
    if !parts.scheme.is_empty() && (!parts.netloc.is_empty() || !parts.path.is_empty()) {
        Ok(())
    } else {
        Err(format!("value {} is not a URL", repr_str(value)))
    }
}

/// `cmd.Cmd.columnize`: the list in as few rows as fit `width` columns.
pub fn columnize(words: &[&str], width: usize) -> String {
    if words.is_empty() {
        return "<empty>\n".into();
    }
    if let [only] = words {
        return format!("{only}\n");
    }
    let size = words.len();
    let len = |i: usize| words.get(i).map_or(0, |w| w.chars().count());
    let mut layout = (size, 1, vec![0]);
    for nrows in 1..size {
        let ncols = size.div_ceil(nrows);
        let mut colwidths = Vec::with_capacity(ncols);
        let mut total: isize = -2;
        for col in 0..ncols {
            let colwidth = (0..nrows)
                .map(|row| row + nrows * col)
                .take_while(|&i| i < size)
                .map(len)
                .max()
                .unwrap_or(0);
            colwidths.push(colwidth);
            total += colwidth as isize + 2;
            if total > width as isize {
                break;
            }
        }
        if total <= width as isize {
            layout = (nrows, ncols, colwidths);
            break;
        }
    }
    let (nrows, ncols, colwidths) = layout;
    let mut out = String::new();
    for row in 0..nrows {
        let mut texts: Vec<&str> = (0..ncols)
            .map(|col| words.get(row + nrows * col).copied().unwrap_or(""))
            .collect();
        while texts.last().is_some_and(|t| t.is_empty()) {
            texts.pop();
        }
        let padded: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(col, t)| format!("{:<w$}", t, w = colwidths.get(col).copied().unwrap_or(0)))
            .collect();
        out.push_str(&padded.join("  "));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlsplit_follows_python() {
        let urlsplit = |u: &str| super::urlsplit(u).unwrap();
        let p = urlsplit("unix:///tmp/s.sock");
        assert_eq!(
            (p.scheme.as_str(), p.netloc.as_str(), p.path.as_str()),
            ("unix", "", "/tmp/s.sock")
        );
        let p = urlsplit("HTTP://Host:9001/x?q#f");
        assert_eq!(
            (p.scheme.as_str(), p.netloc.as_str(), p.path.as_str()),
            ("http", "Host:9001", "/x")
        );
        let p = urlsplit("localhost:9001");
        assert_eq!((p.scheme.as_str(), p.path.as_str()), ("localhost", "9001"));
        assert_eq!(urlsplit("1x:y").scheme, "");
        assert_eq!(urlsplit("foo").path, "foo");
    }

    #[test]
    fn check_url_is_datatypes_url() {
        assert!(check_url("http://localhost:9001").is_ok());
        assert!(check_url("unix:///tmp/x").is_ok());
        assert!(check_url("localhost:9001").is_ok());
        assert!(check_url("http://[::1]:9001").is_ok());
        assert!(check_url("http://[v1.x]").is_ok());
        assert_eq!(check_url("foo").unwrap_err(), "value 'foo' is not a URL");
        assert!(check_url("http:").is_err());
        assert!(check_url("http://").is_err());
        assert!(check_url("").is_err());
    }

    #[test]
    fn bracketed_hosts_fail_as_in_python() {
        let err = |u: &str| check_url(u).unwrap_err();
        assert_eq!(err("http://[::1"), "Invalid IPv6 URL");
        assert_eq!(err("http://x]"), "Invalid IPv6 URL");
        assert_eq!(
            err("http://[foo]:9001"),
            "'foo' does not appear to be an IPv4 or IPv6 address"
        );
        assert_eq!(
            err("http://[1.2.3.4]:1"),
            "An IPv4 address cannot be in brackets"
        );
        assert_eq!(err("http://[vz.1]"), "IPvFuture address is invalid");
        let raised = urlsplit("http://[::1").unwrap_err();
        assert!(raised
            .error_line()
            .ends_with("file: urllib/parse.py line: 497"));
    }

    #[test]
    fn columnize_lays_out_the_default_help_as_cmd_does() {
        let words = [
            "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload",
            "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
            "update", "version",
        ];
        let expected = "add    exit      open  reload  restart   start   tail   \n\
                        avail  fg        pid   remove  shutdown  status  update \n\
                        clear  maintail  quit  reread  signal    stop    version\n";
        assert_eq!(columnize(&words, 79), expected);
    }

    #[test]
    fn columnize_edge_cases() {
        assert_eq!(columnize(&[], 79), "<empty>\n");
        assert_eq!(columnize(&["one"], 79), "one\n");
        assert_eq!(columnize(&["aaaa", "bbbb"], 3), "aaaa\nbbbb\n");
    }
}
