//! HTTP basic authentication against a plain or `{SHA}` password, compared
//! in constant time. Includes the small SHA-1 and base64 it needs.
//!
//! CONTRACT: `check` keeps this signature.

use crate::config::Credentials;

/// True when the `Authorization` header value matches the credentials.
pub fn check(_authorization: Option<&str>, _creds: &Credentials) -> bool {
    todo!("basic auth")
}
