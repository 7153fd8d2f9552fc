//! HTTP/1.0 and 1.1 request heads, parsed from bytes with limits: no I/O,
//! so hostile input can be tested and fuzzed directly. The server reads
//! bytes, calls `parse_head` until it has a head, then reads the body.
//!
//! The rules, with the status each refusal carries: a request line longer
//! than `MAX_REQUEST_LINE` is 414; a head longer than `max_head` or with more
//! than `max_headers` fields is 431; a Content-Length above `max_body` is
//! 413; any Transfer-Encoding (chunked bodies are not supported) is 501; an
//! HTTP version other than 1.0/1.1 is 505; everything else malformed
//! (non-UTF-8 bytes, control characters, folded header lines, a bad or
//! conflicting Content-Length, Content-Length with Transfer-Encoding) is
//! 400. Lines may end in CRLF or a bare LF; blank lines before the request
//! line are skipped, as RFC 9112 suggests. Like Supervisor's medusa server,
//! a missing `Host` is not an error.

/// Bounds on what a client may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Request line plus headers, in bytes.
    pub max_head: usize,
    pub max_headers: usize,
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 16 * 1024,
            max_headers: 64,
            max_body: 2 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Upper-case method as sent (`GET`, `POST`, ...).
    pub method: String,
    /// The path part of the target, percent-decoding NOT applied.
    pub path: String,
    /// The query string after `?`, without the `?`; empty if none.
    pub query: String,
    /// (major, minor): (1, 0) or (1, 1).
    pub version: (u8, u8),
    /// Header names lower-cased, values trimmed, in arrival order.
    pub headers: Vec<(String, String)>,
    /// From Content-Length; 0 when absent.
    pub content_length: usize,
    /// Whether the client wants the connection kept open after the response.
    pub keep_alive: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request was refused, with the status code to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadError {
    /// 400, 413, 414, 431, 501 or 505.
    pub status: u16,
    pub reason: String,
}

impl HeadError {
    fn new(status: u16, reason: impl Into<String>) -> HeadError {
        HeadError {
            status,
            reason: reason.into(),
        }
    }

    fn bad_request(reason: impl Into<String>) -> HeadError {
        HeadError::new(400, reason)
    }
}

/// The longest request line accepted (also bounded by `Limits::max_head`).
pub const MAX_REQUEST_LINE: usize = 8 * 1024;

/// Parses the head at the start of `buf`. `Ok(None)`: incomplete, read more
/// (unless `buf` already exceeds `limits.max_head`, which is an error).
/// `Ok(Some((req, n)))`: the head took the first `n` bytes; the body follows.
pub fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(Request, usize)>, HeadError> {
    let line_limit = MAX_REQUEST_LINE.min(limits.max_head);
    let Some(head_len) = find_head_end(buf) else {
        return refuse_if_too_long(buf, limits, line_limit).map(|()| None);
    };
    let head = buf.get(..head_len).unwrap_or(buf);
    let mut lines = lines(head).skip_while(|line| line.is_empty());
    let request_line = lines.next().unwrap_or_default();
    if request_line.len() > line_limit {
        return Err(uri_too_long());
    }
    if head_len > limits.max_head {
        return Err(head_too_large());
    }
    let (method, path, query, version) = parse_request_line(request_line)?;
    let headers = parse_headers(lines.take_while(|line| !line.is_empty()), limits)?;
    let content_length = body_length(&headers, limits)?;
    let keep_alive = wants_keep_alive(version, &headers);
    let request = Request {
        method,
        path,
        query,
        version,
        headers,
        content_length,
        keep_alive,
    };
    Ok(Some((request, head_len)))
}

/// The length of the head including the blank line that ends it, if `buf`
/// holds all of it. Blank lines before the request line do not end it.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    let mut seen_request_line = false;
    while let Some(offset) = buf.get(start..)?.iter().position(|&b| b == b'\n') {
        let end = start + offset + 1;
        let line = strip_cr(buf.get(start..start + offset)?);
        if line.is_empty() && seen_request_line {
            return Some(end);
        }
        seen_request_line |= !line.is_empty();
        start = end;
    }
    None
}

/// An incomplete head that can no longer become acceptable is refused now,
/// so a client cannot make the server buffer without bound.
fn refuse_if_too_long(buf: &[u8], limits: &Limits, line_limit: usize) -> Result<(), HeadError> {
    let unfinished_line = buf
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .and_then(|first| buf.get(first..))
        .filter(|rest| !rest.contains(&b'\n'));
    if unfinished_line.is_some_and(|line| line.len() > line_limit) {
        return Err(uri_too_long());
    }
    if buf.len() > limits.max_head {
        return Err(head_too_large());
    }
    Ok(())
}

fn uri_too_long() -> HeadError {
    HeadError::new(414, "request line too long")
}

fn head_too_large() -> HeadError {
    HeadError::new(431, "request header fields too large")
}

/// Lines without their LF or CRLF ending.
fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n').map(strip_cr)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn as_text<'a>(line: &'a [u8], what: &str) -> Result<&'a str, HeadError> {
    let text = std::str::from_utf8(line)
        .map_err(|_| HeadError::bad_request(format!("{what} is not UTF-8")))?;
    if text.chars().any(|c| c.is_control() && c != '\t') {
        return Err(HeadError::bad_request(format!(
            "control character in {what}"
        )));
    }
    Ok(text)
}

type RequestLine = (String, String, String, (u8, u8));

fn parse_request_line(line: &[u8]) -> Result<RequestLine, HeadError> {
    let text = as_text(line, "request line")?;
    if text.contains('\t') {
        return Err(HeadError::bad_request("tab in request line"));
    }
    let parts: Vec<&str> = text.split(' ').filter(|part| !part.is_empty()).collect();
    let [method, target, version] = parts.as_slice() else {
        return Err(HeadError::bad_request("malformed request line"));
    };
    if !is_token(method) {
        return Err(HeadError::bad_request("malformed method"));
    }
    let version = parse_version(version)?;
    let (path, query) = split_target(target)?;
    Ok(((*method).to_owned(), path, query, version))
}

fn parse_version(text: &str) -> Result<(u8, u8), HeadError> {
    let numbers = text
        .strip_prefix("HTTP/")
        .and_then(|rest| rest.split_once('.'))
        .filter(|(major, minor)| is_digits(major) && is_digits(minor));
    match numbers {
        Some(("1", "0")) => Ok((1, 0)),
        Some(("1", "1")) => Ok((1, 1)),
        Some(_) => Err(HeadError::new(505, "HTTP version not supported")),
        None => Err(HeadError::bad_request("malformed HTTP version")),
    }
}

/// Origin form (`/path?query`), absolute form (`http://host/path?query`,
/// which proxies send) or `*`. A fragment, never meant to be sent, is dropped.
fn split_target(target: &str) -> Result<(String, String), HeadError> {
    let target = target.split('#').next().unwrap_or_default();
    let origin_form = if target.starts_with('/') || target == "*" {
        target
    } else {
        strip_scheme_and_authority(target)
            .ok_or_else(|| HeadError::bad_request("malformed request target"))?
    };
    let (path, query) = origin_form.split_once('?').unwrap_or((origin_form, ""));
    let path = if path.is_empty() { "/" } else { path };
    Ok((path.to_owned(), query.to_owned()))
}

/// `http://host:port/rest` -> `/rest` (possibly empty when no path follows).
fn strip_scheme_and_authority(target: &str) -> Option<&str> {
    let (scheme, rest) = target.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    if authority_end == 0 {
        return None;
    }
    rest.get(authority_end..)
}

fn parse_headers<'a>(
    lines: impl Iterator<Item = &'a [u8]>,
    limits: &Limits,
) -> Result<Vec<(String, String)>, HeadError> {
    let mut headers = Vec::new();
    for line in lines {
        if headers.len() == limits.max_headers {
            return Err(HeadError::new(431, "too many header fields"));
        }
        headers.push(parse_header(line)?);
    }
    Ok(headers)
}

fn parse_header(line: &[u8]) -> Result<(String, String), HeadError> {
    if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
        // RFC 9112 5.2: a server may refuse obsolete line folding with 400.
        return Err(HeadError::bad_request("folded header line"));
    }
    let text = as_text(line, "header field")?;
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| HeadError::bad_request("header field without a colon"))?;
    if !is_token(name) {
        return Err(HeadError::bad_request("malformed header field name"));
    }
    let value = value.trim_matches([' ', '\t']);
    Ok((name.to_ascii_lowercase(), value.to_owned()))
}

/// The body's length, from Content-Length. A list of equal values (what a
/// proxy may produce by merging) counts as one value.
fn body_length(headers: &[(String, String)], limits: &Limits) -> Result<usize, HeadError> {
    if headers.iter().any(|(name, _)| name == "transfer-encoding") {
        if headers.iter().any(|(name, _)| name == "content-length") {
            return Err(HeadError::bad_request(
                "both Transfer-Encoding and Content-Length",
            ));
        }
        return Err(HeadError::new(
            501,
            "Transfer-Encoding is not supported on requests",
        ));
    }
    let mut length: Option<u64> = None;
    let values = headers
        .iter()
        .filter(|(name, _)| name == "content-length")
        .flat_map(|(_, value)| value.split(','));
    for value in values {
        let value = parse_length(value.trim_matches([' ', '\t']))?;
        if length.is_some_and(|seen| seen != value) {
            return Err(HeadError::bad_request("conflicting Content-Length values"));
        }
        length = Some(value);
    }
    let length = length.unwrap_or(0);
    match usize::try_from(length) {
        Ok(length) if length <= limits.max_body => Ok(length),
        _ => Err(HeadError::new(413, "request body too large")),
    }
}

/// Decimal digits only. A valid number too big for u64 is still just a
/// number: it becomes u64::MAX, which every body limit refuses with 413.
fn parse_length(text: &str) -> Result<u64, HeadError> {
    if !is_digits(text) {
        return Err(HeadError::bad_request("malformed Content-Length"));
    }
    Ok(text.parse().unwrap_or(u64::MAX))
}

/// HTTP/1.1 keeps the connection unless told `close`; 1.0 closes it
/// unless told `keep-alive`.
fn wants_keep_alive(version: (u8, u8), headers: &[(String, String)]) -> bool {
    let has_token = |wanted: &str| {
        headers
            .iter()
            .filter(|(name, _)| name == "connection")
            .flat_map(|(_, value)| value.split(','))
            .any(|token| token.trim_matches([' ', '\t']).eq_ignore_ascii_case(wanted))
    };
    if has_token("close") {
        return false;
    }
    version >= (1, 1) || has_token("keep-alive")
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// RFC 9110 `token`: method names and header field names.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(head: &str) -> Result<Option<(Request, usize)>, HeadError> {
        parse_head(head.as_bytes(), &Limits::default())
    }

    fn request(head: &str) -> Request {
        match parse(head) {
            Ok(Some((request, _))) => request,
            other => panic!("{head:?} gave {other:?}"),
        }
    }

    fn status(head: &str) -> u16 {
        status_with(head.as_bytes(), &Limits::default())
    }

    fn status_with(head: &[u8], limits: &Limits) -> u16 {
        match parse_head(head, limits) {
            Err(error) => {
                assert!(!error.reason.is_empty());
                error.status
            }
            Ok(other) => panic!("{:?} gave {other:?}", String::from_utf8_lossy(head)),
        }
    }

    #[test]
    fn parses_a_typical_xmlrpc_post() {
        let head = "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\
                    Content-Type: text/xml\r\nUser-Agent: Python-xmlrpc/3.11\r\n\
                    Content-Length: 123\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n";
        let body = "<?xml version='1.0'?>";
        let buf = format!("{head}{body}");
        let (request, used) = parse(&buf).unwrap().unwrap();
        assert_eq!(used, head.len());
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/RPC2");
        assert_eq!(request.query, "");
        assert_eq!(request.version, (1, 1));
        assert_eq!(request.content_length, 123);
        assert!(request.keep_alive);
        assert_eq!(request.header("content-type"), Some("text/xml"));
        assert_eq!(request.header("AUTHORIZATION"), Some("Basic dXNlcjpwYXNz"));
        let names: Vec<&str> = request.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "host",
                "accept-encoding",
                "content-type",
                "user-agent",
                "content-length",
                "authorization"
            ]
        );
    }

    #[test]
    fn incomplete_heads_ask_for_more() {
        let full = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(parse(full).unwrap().is_some());
    }

    #[test]
    fn bare_lf_line_endings_are_accepted() {
        let head = "GET /a?b=c HTTP/1.0\nHost: x\nX-Y:  z  \n\nbody";
        let (request, used) = parse(head).unwrap().unwrap();
        assert_eq!(used, head.len() - 4);
        assert_eq!(request.path, "/a");
        assert_eq!(request.query, "b=c");
        assert_eq!(request.header("x-y"), Some("z"));
        // Mixed endings too.
        let (_, used) = parse("GET / HTTP/1.1\r\nA: b\n\r\nrest").unwrap().unwrap();
        assert_eq!(used, "GET / HTTP/1.1\r\nA: b\n\r\n".len());
    }

    #[test]
    fn a_head_without_headers() {
        let request = request("GET / HTTP/1.0\r\n\r\n");
        assert!(request.headers.is_empty());
        assert_eq!(request.content_length, 0);
        assert!(!request.keep_alive);
    }

    #[test]
    fn blank_lines_before_the_request_line_are_skipped() {
        let buf = "\r\n\nGET / HTTP/1.1\r\n\r\n";
        let (request, used) = parse(buf).unwrap().unwrap();
        assert_eq!(request.method, "GET");
        assert_eq!(used, buf.len());
        assert_eq!(parse("\r\n\r\n"), Ok(None));
    }

    #[test]
    fn the_method_is_kept_as_sent() {
        assert_eq!(request("get / HTTP/1.1\r\n\r\n").method, "get");
        assert_eq!(request("M-SEARCH * HTTP/1.1\r\n\r\n").path, "*");
    }

    #[test]
    fn targets_in_origin_and_absolute_form() {
        let cases = [
            ("/", "/", ""),
            ("/logtail/foo/stderr", "/logtail/foo/stderr", ""),
            (
                "/index.html?processname=a%20b&action=stop",
                "/index.html",
                "processname=a%20b&action=stop",
            ),
            ("/a?", "/a", ""),
            ("/a?b?c", "/a", "b?c"),
            ("/a#frag", "/a", ""),
            ("http://localhost:9001/RPC2", "/RPC2", ""),
            ("HTTP://localhost:9001", "/", ""),
            ("http://h?x=1", "/", "x=1"),
            ("https://h/p?q", "/p", "q"),
        ];
        for (target, path, query) in cases {
            let request = request(&format!("GET {target} HTTP/1.1\r\n\r\n"));
            assert_eq!(
                (request.path.as_str(), request.query.as_str()),
                (path, query),
                "{target}"
            );
        }
    }

    #[test]
    fn malformed_request_lines_are_400() {
        for line in [
            "GET",
            "GET /",
            "GET / HTTP/1.1 extra",
            "GET / HTTP1.1",
            "GET / HTTP/1",
            "GET / HTTP/a.b",
            "GET / http/1.1",
            "GET / HTTP/1.1x",
            "G(T / HTTP/1.1",
            "GET relative HTTP/1.1",
            "GET ftp://h/ HTTP/1.1",
            "GET http:/// HTTP/1.1",
            "GET /a\u{1}b HTTP/1.1",
            "GET /\tx HTTP/1.1",
            "GET / HTTP/1.1\r",
        ] {
            assert_eq!(status(&format!("{line}\r\n\r\n")), 400, "{line:?}");
        }
    }

    #[test]
    fn extra_spaces_in_the_request_line_are_tolerated() {
        assert_eq!(request("GET  /x   HTTP/1.1\r\n\r\n").path, "/x");
    }

    #[test]
    fn other_http_versions_are_505() {
        for version in ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/10.0"] {
            assert_eq!(
                status(&format!("GET / {version}\r\n\r\n")),
                505,
                "{version}"
            );
        }
    }

    #[test]
    fn header_names_are_lower_cased_and_values_trimmed() {
        let request = request(
            "GET / HTTP/1.1\r\nX-Mixed-Case:\t value with  inner space \t\r\nEmpty:\r\n\r\n",
        );
        assert_eq!(
            request.headers,
            vec![
                (
                    "x-mixed-case".to_owned(),
                    "value with  inner space".to_owned()
                ),
                ("empty".to_owned(), String::new()),
            ]
        );
        assert_eq!(
            request.header("X-MIXED-CASE"),
            Some("value with  inner space")
        );
    }

    #[test]
    fn malformed_header_lines_are_400() {
        for line in [
            " folded: continuation",
            "\tfolded",
            "no colon here",
            ": empty name",
            "bad name: x",
            "bad(name): x",
            "name : space before colon",
            "x: control \u{7f} char",
            "x: nul \u{0} char",
            "x: lone\rcr",
        ] {
            assert_eq!(
                status(&format!("GET / HTTP/1.1\r\nHost: h\r\n{line}\r\n\r\n")),
                400,
                "{line:?}"
            );
        }
    }

    #[test]
    fn obs_fold_after_a_header_is_refused() {
        assert_eq!(status("GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n"), 400);
    }

    #[test]
    fn non_utf8_bytes_are_400() {
        let limits = Limits::default();
        assert_eq!(status_with(b"GET /\xff HTTP/1.1\r\n\r\n", &limits), 400);
        assert_eq!(
            status_with(b"GET / HTTP/1.1\r\nX: \xc3\x28\r\n\r\n", &limits),
            400
        );
        assert_eq!(
            status_with(b"GET / HTTP/1.1\r\n\xfe: x\r\n\r\n", &limits),
            400
        );
    }

    #[test]
    fn utf8_in_header_values_is_kept() {
        assert_eq!(
            request("GET / HTTP/1.1\r\nX: caf\u{e9}\r\n\r\n").header("x"),
            Some("caf\u{e9}")
        );
    }

    #[test]
    fn content_length_rules() {
        let length = |value: &str| {
            request(&format!("POST /RPC2 HTTP/1.1\r\n{value}\r\n\r\n")).content_length
        };
        assert_eq!(length("Content-Length: 0"), 0);
        assert_eq!(length("Content-Length: 42"), 42);
        assert_eq!(length("content-length:   7  "), 7);
        assert_eq!(length("Content-Length: 007"), 7);
        assert_eq!(length("Content-Length: 5, 5"), 5);
        assert_eq!(length("Content-Length: 5\r\nContent-Length: 5"), 5);
        assert_eq!(length("Content-Length: 2097152"), 2 * 1024 * 1024);
    }

    #[test]
    fn invalid_or_conflicting_content_length_is_400() {
        for value in [
            "Content-Length: ",
            "Content-Length: -1",
            "Content-Length: +1",
            "Content-Length: 1.0",
            "Content-Length: 0x10",
            "Content-Length: 1 2",
            "Content-Length: abc",
            "Content-Length: 5, 6",
            "Content-Length: 5,",
            "Content-Length: 5\r\nContent-Length: 6",
        ] {
            assert_eq!(
                status(&format!("POST / HTTP/1.1\r\n{value}\r\n\r\n")),
                400,
                "{value:?}"
            );
        }
    }

    #[test]
    fn oversized_bodies_are_413() {
        let limits = Limits {
            max_body: 100,
            ..Limits::default()
        };
        assert_eq!(
            status_with(b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", &limits),
            413
        );
        assert!(parse_head(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n", &limits).is_ok());
        for huge in [
            "18446744073709551616",
            "99999999999999999999999999999999999999",
        ] {
            assert_eq!(
                status(&format!(
                    "POST / HTTP/1.1\r\nContent-Length: {huge}\r\n\r\n"
                )),
                413
            );
        }
    }

    #[test]
    fn transfer_encoding_is_501_and_with_content_length_400() {
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            501
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            501
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
            400
        );
    }

    #[test]
    fn keep_alive_rules() {
        let keep = |version: &str, connection: &str| {
            let extra = if connection.is_empty() {
                String::new()
            } else {
                format!("Connection: {connection}\r\n")
            };
            request(&format!("GET / HTTP/{version}\r\n{extra}\r\n")).keep_alive
        };
        assert!(keep("1.1", ""));
        assert!(keep("1.1", "keep-alive"));
        assert!(!keep("1.1", "close"));
        assert!(!keep("1.1", "Close"));
        assert!(!keep("1.1", "upgrade, close"));
        assert!(keep("1.1", "closed"));
        assert!(!keep("1.0", ""));
        assert!(keep("1.0", "keep-alive"));
        assert!(keep("1.0", "Keep-Alive"));
        assert!(keep("1.0", "foo, keep-alive"));
        assert!(!keep("1.0", "keep-alive, close"));
        assert!(!keep("1.0", "keep-alive-ish"));
    }

    #[test]
    fn too_many_headers_is_431() {
        let limits = Limits {
            max_headers: 3,
            ..Limits::default()
        };
        let three = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert!(parse_head(three, &limits).unwrap().is_some());
        let four = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
        assert_eq!(status_with(four, &limits), 431);
    }

    #[test]
    fn oversized_heads_are_431_complete_or_not() {
        let limits = Limits {
            max_head: 64,
            ..Limits::default()
        };
        let filler = "X-Filler: ".to_owned() + &"y".repeat(60);
        let complete = format!("GET / HTTP/1.1\r\n{filler}\r\n\r\n");
        assert_eq!(status_with(complete.as_bytes(), &limits), 431);
        let incomplete = format!("GET / HTTP/1.1\r\n{filler}");
        assert_eq!(status_with(incomplete.as_bytes(), &limits), 431);
        // Exactly at the limit is fine.
        let exact = format!(
            "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
            "z".repeat(64 - 16 - 3 - 4)
        );
        assert_eq!(exact.len(), 64);
        assert!(parse_head(exact.as_bytes(), &limits).unwrap().is_some());
        // A body after the head does not count.
        let with_body = format!("{exact}{}", "b".repeat(1000));
        assert!(parse_head(with_body.as_bytes(), &limits).unwrap().is_some());
    }

    #[test]
    fn long_request_lines_are_414_complete_or_not() {
        let long = format!("GET /{} HTTP/1.1", "a".repeat(MAX_REQUEST_LINE));
        assert_eq!(status(&format!("{long}\r\n\r\n")), 414);
        assert_eq!(status(&long), 414);
        assert_eq!(status(&format!("\r\n{long}")), 414);
        let limits = Limits {
            max_head: 100,
            ..Limits::default()
        };
        let line = format!("GET /{} HTTP/1.1", "a".repeat(100));
        assert_eq!(status_with(line.as_bytes(), &limits), 414);
    }

    #[test]
    fn endless_blank_lines_are_bounded() {
        let limits = Limits {
            max_head: 64,
            ..Limits::default()
        };
        assert_eq!(status_with(&[b'\n'; 65], &limits), 431);
        assert_eq!(parse_head(&[b'\n'; 64], &limits), Ok(None));
    }
}
