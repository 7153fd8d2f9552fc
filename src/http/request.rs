//! HTTP/1.0 and 1.1 request heads, parsed from bytes with limits: no I/O,
//! so hostile input can be tested and fuzzed directly. The server reads
//! bytes, calls `parse_head` until it has a head, then reads the body.
//!
//! CONTRACT: `Limits`, `Request`, `HeadError` and `parse_head` keep these shapes.

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

/// Parses the head at the start of `buf`. `Ok(None)`: incomplete, read more
/// (unless `buf` already exceeds `limits.max_head`, which is an error).
/// `Ok(Some((req, n)))`: the head took the first `n` bytes; the body follows.
pub fn parse_head(_buf: &[u8], _limits: &Limits) -> Result<Option<(Request, usize)>, HeadError> {
    todo!("parse request head")
}
