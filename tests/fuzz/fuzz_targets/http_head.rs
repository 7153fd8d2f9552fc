//! libFuzzer target for the HTTP request-head parser: no panic, the limits
//! hold, and a parsed head does not depend on the bytes after it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use supervisor::http::request::{parse_head, Limits};

fuzz_target!(|buf: &[u8]| {
    let limits = Limits {
        max_head: 512,
        max_headers: 8,
        max_body: 4096,
    };
    match parse_head(buf, &limits) {
        Ok(Some((request, used))) => {
            assert!(used <= buf.len() && used <= limits.max_head);
            assert!(request.headers.len() <= limits.max_headers);
            assert!(request.content_length <= limits.max_body);
            assert_eq!(parse_head(&buf[..used], &limits), Ok(Some((request, used))));
        }
        Ok(None) => assert!(buf.len() <= limits.max_head),
        Err(error) => assert!([400, 413, 414, 431, 501, 505].contains(&error.status)),
    }
});
