//! libFuzzer target for the XML-RPC codec: any body must decode to a value
//! or a DecodeError without panicking, and whatever decodes must re-encode
//! to a document that decodes and encodes identically.

#![no_main]

use libfuzzer_sys::fuzz_target;
use supervisor::rpc::codec::{decode_call, decode_response, encode_call, encode_response};

fuzz_target!(|body: &[u8]| {
    if let Ok(call) = decode_call(body) {
        let once = encode_call(&call.method, &call.params);
        let again = decode_call(once.as_bytes()).expect("re-encoded call decodes");
        assert_eq!(encode_call(&again.method, &again.params), once);
    }
    if let Ok(result) = decode_response(body) {
        let once = encode_response(&result);
        let again = decode_response(once.as_bytes()).expect("re-encoded response decodes");
        assert_eq!(encode_response(&again), once);
    }
});
