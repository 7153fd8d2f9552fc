//! The XML-RPC wire format. serde-xml-rs stays inside this file: requests
//! and responses are parsed into `Value`s and written back with correct
//! escaping. Malformed input is an error value, never a panic.
//!
//! CONTRACT: the four functions below keep their signatures.

use super::value::{Fault, Value};

/// A decoded `<methodCall>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    pub params: Vec<Value>,
}

/// Why a document could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Server side: parses a request body.
pub fn decode_call(_body: &[u8]) -> Result<Call, DecodeError> {
    todo!("decode methodCall")
}

/// Server side: writes a `<methodResponse>` with one value or a fault.
pub fn encode_response(_result: &Result<Value, Fault>) -> String {
    todo!("encode methodResponse")
}

/// Client side: writes a `<methodCall>`.
pub fn encode_call(_method: &str, _params: &[Value]) -> String {
    todo!("encode methodCall")
}

/// Client side: parses a `<methodResponse>` into its value or its fault.
pub fn decode_response(_body: &[u8]) -> Result<Result<Value, Fault>, DecodeError> {
    todo!("decode methodResponse")
}
