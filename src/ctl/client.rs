//! XML-RPC calls to supervisord: a request encoded by the shared codec, sent
//! by `transport`, the answer decoded into a value or an exception 4.3 would
//! have raised. Also the small accessors commands use to read result structs.

use super::raised::{self, Raised};
use super::transport::{self, Target};
use crate::rpc::codec;
use crate::rpc::value::Value;

/// The server and the credentials to reach it (`options` in 4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl Server {
    /// The `Authorization` header XML-RPC requests carry: only when both a
    /// username and a password are set.
    fn rpc_authorization(&self) -> Option<String> {
        match (&self.username, &self.password) {
            (Some(u), Some(p)) => Some(transport::basic_auth(u, p)),
            _ => None,
        }
    }

    /// The header the streaming client sends: whenever a password is set.
    pub fn stream_authorization(&self) -> Option<String> {
        match &self.password {
            Some(p) if !p.is_empty() => Some(transport::basic_auth(
                self.username.as_deref().unwrap_or("None"),
                p,
            )),
            _ => None,
        }
    }

    /// Calls `method` and returns its value, or what 4.3 would have raised.
    pub fn call(&self, method: &str, params: &[Value]) -> Result<Value, Raised> {
        let target = Target::parse(&self.serverurl)?;
        let body = codec::encode_call(method, params);
        let auth = self.rpc_authorization();
        let response = transport::post_rpc(&target, auth.as_deref(), body.as_bytes())?;
        if response.status != 200 {
            return Err(Raised::Protocol {
                status: response.status,
                reason: response.reason,
            });
        }
        decode(&response.body)
    }
}

fn decode(body: &[u8]) -> Result<Value, Raised> {
    match codec::decode_response(body) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(fault)) => Err(Raised::Fault(fault)),
        Err(e) => Err(Raised::other(
            "xml.parsers.expat.ExpatError",
            e.0,
            raised::SITE_XML_PARSE,
        )),
    }
}

/// `info[key]`: a `KeyError` (or `TypeError`) when the server left it out.
pub fn field<'a>(info: &'a Value, key: &str) -> Result<&'a Value, Raised> {
    match info {
        Value::Struct(_) => info.get(key).ok_or_else(|| {
            Raised::other(
                "KeyError",
                super::py::repr_str(key),
                raised::SITE_RESULT_LOOKUP,
            )
        }),
        other => Err(Raised::other(
            "TypeError",
            format!(
                "{} indices must be integers or slices, not str",
                python_type(other)
            ),
            raised::SITE_RESULT_LOOKUP,
        )),
    }
}

/// The items of an array result (`for x in result`).
pub fn items(value: &Value) -> Result<&[Value], Raised> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(Raised::other(
            "TypeError",
            format!("'{}' object is not iterable", python_type(other)),
            raised::SITE_RESULT_LOOKUP,
        )),
    }
}

/// An integer field (fault codes, states, pids); Python compares ints.
pub fn int_field(info: &Value, key: &str) -> Result<Option<i64>, Raised> {
    Ok(match field(info, key)? {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    })
}

/// A field as `'%s' %` would print it.
pub fn str_field(info: &Value, key: &str) -> Result<String, Raised> {
    Ok(super::py::str_value(field(info, key)?))
}

fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Int(_) => "int",
        Value::Bool(_) => "bool",
        Value::String(_) => "str",
        Value::Double(_) => "float",
        Value::DateTime(_) => "DateTime",
        Value::Base64(_) => "Binary",
        Value::Array(_) => "list",
        Value::Struct(_) => "dict",
        Value::Nil => "NoneType",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(user: Option<&str>, pass: Option<&str>) -> Server {
        Server {
            serverurl: "unix:///nonexistent/s.sock".into(),
            username: user.map(str::to_string),
            password: pass.map(str::to_string),
        }
    }

    #[test]
    fn rpc_auth_needs_both_username_and_password() {
        assert_eq!(server(None, None).rpc_authorization(), None);
        assert_eq!(server(Some("u"), None).rpc_authorization(), None);
        assert_eq!(server(None, Some("p")).rpc_authorization(), None);
        assert_eq!(
            server(Some("user"), Some("123"))
                .rpc_authorization()
                .as_deref(),
            Some("Basic dXNlcjoxMjM=")
        );
    }

    #[test]
    fn stream_auth_needs_only_a_password() {
        assert_eq!(server(Some("u"), None).stream_authorization(), None);
        assert_eq!(server(Some("u"), Some("")).stream_authorization(), None);
        // 4.3 formats a missing username as "None".
        assert_eq!(
            server(None, Some("p")).stream_authorization().as_deref(),
            Some("Basic Tm9uZTpw")
        );
    }

    #[test]
    fn calls_to_a_missing_socket_raise_enoent() {
        let e = server(None, None)
            .call("supervisor.getVersion", &[])
            .unwrap_err();
        assert_eq!(e.errno(), Some(2));
    }

    #[test]
    fn unknown_scheme_raises_value_error() {
        let s = Server {
            serverurl: "ftp://x".into(),
            username: None,
            password: None,
        };
        let e = s.call("supervisor.getVersion", &[]).unwrap_err();
        assert!(e
            .error_line()
            .contains("Unknown protocol for serverurl ftp://x"));
    }

    #[test]
    fn field_access_errors_like_python() {
        let info = Value::Struct(vec![("name".into(), Value::str("a"))]);
        assert_eq!(str_field(&info, "name").unwrap(), "a");
        let e = field(&info, "group").unwrap_err();
        assert!(e.error_line().contains("<class 'KeyError'>, 'group'"));
        assert!(field(&Value::Int(1), "x").is_err());
        assert!(items(&Value::Int(1)).is_err());
        assert_eq!(items(&Value::Array(vec![])).unwrap().len(), 0);
        let info = Value::Struct(vec![("pid".into(), Value::Int(7))]);
        assert_eq!(int_field(&info, "pid").unwrap(), Some(7));
    }
}
