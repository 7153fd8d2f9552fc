//! The web page: a status table with start/stop/restart/clear actions and
//! log tails, rendered from the core's snapshots only.

use crate::core::Shared;
use crate::http::request::Request;

/// A rendered response.
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub fn page(_core: &Shared, request: &Request) -> Page {
    if request.path == "/" || request.path == "/index.html" {
        return Page {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html;charset=utf-8".into())],
            body: b"<html><body><h1>supervisor</h1></body></html>\n".to_vec(),
        };
    }
    Page {
        status: 404,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: b"not found\n".to_vec(),
    }
}
