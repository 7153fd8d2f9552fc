//! The failures 4.3's supervisorctl reports through Python exceptions. Its
//! commands handle some exceptions by type (a fault code, ECONNREFUSED, a 401)
//! and print every other one as `error: <class 'X'>, message: file: F line: N`;
//! modelling them as one enum lets our commands make the same decisions.

use super::py;
use crate::rpc::value::Fault;

/// Where 4.3 raised the exception (printed by its catch-all handler). Only
/// the module-relative path is shown: the install prefix is not ours to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Site {
    pub file: &'static str,
    pub line: u32,
}

pub const SITE_HTTP_STATUS: Site = Site {
    file: "supervisor/xmlrpc.py",
    line: 539,
};
pub const SITE_FAULT: Site = Site {
    file: "xmlrpc/client.py",
    line: 668,
};
pub const SITE_UNIX_CONNECT: Site = Site {
    file: "supervisor/xmlrpc.py",
    line: 557,
};
pub const SITE_TCP_CONNECT: Site = Site {
    file: "socket.py",
    line: 836,
};
pub const SITE_GETADDRINFO: Site = Site {
    file: "socket.py",
    line: 962,
};
pub const SITE_UNKNOWN_PROTOCOL: Site = Site {
    file: "supervisor/xmlrpc.py",
    line: 505,
};
pub const SITE_URL_PORT: Site = Site {
    file: "urllib/parse.py",
    line: 182,
};
pub const SITE_HTTP_HOST: Site = Site {
    file: "http/client.py",
    line: 1245,
};
pub const SITE_HTTP_READ: Site = Site {
    file: "http/client.py",
    line: 287,
};
pub const SITE_XML_PARSE: Site = Site {
    file: "xmlrpc/client.py",
    line: 456,
};
pub const SITE_ASK_USERNAME: Site = Site {
    file: "supervisor/supervisorctl.py",
    line: 212,
};
pub const SITE_ASK_SHUTDOWN: Site = Site {
    file: "supervisor/supervisorctl.py",
    line: 987,
};
pub const SITE_ASK_RELOAD: Site = Site {
    file: "supervisor/supervisorctl.py",
    line: 1027,
};
pub const SITE_GETPASS: Site = Site {
    file: "getpass.py",
    line: 148,
};
pub const SITE_START_RESULT: Site = Site {
    file: "supervisor/supervisorctl.py",
    line: 761,
};
pub const SITE_SIGNAL_RESULT: Site = Site {
    file: "supervisor/supervisorctl.py",
    line: 835,
};
pub const SITE_CLEAR_RESULT: Site = Site {
    file: "supervisor/supervisorctl.py",
    line: 1260,
};
pub const SITE_FG_INPUT: Site = Site {
    file: "supervisor/supervisorctl.py",
    line: 1380,
};
pub const SITE_RESULT_LOOKUP: Site = Site {
    file: "supervisor/supervisorctl.py",
    line: 0,
};

/// One Python exception as supervisorctl would have seen it.
#[derive(Debug, Clone, PartialEq)]
pub enum Raised {
    /// `xmlrpclib.ProtocolError`: the server answered with a non-200 status.
    Protocol { status: u16, reason: String },
    /// `xmlrpclib.Fault`.
    Fault(Fault),
    /// An `OSError` subclass with an errno (connect, send, receive).
    Os { errno: i32, site: Site },
    /// `socket.gaierror`: the host name did not resolve.
    Resolve { code: i32, text: String },
    /// Any other exception, by class name and `str()`.
    Other {
        class: &'static str,
        message: String,
        site: Site,
    },
    /// `KeyboardInterrupt`: not an `Exception`, so no handler prints it.
    Interrupt,
}

impl Raised {
    pub fn other(class: &'static str, message: impl Into<String>, site: Site) -> Raised {
        Raised::Other {
            class,
            message: message.into(),
            site,
        }
    }

    /// An I/O failure, keeping its errno when it has one.
    pub fn from_io(err: &std::io::Error, site: Site) -> Raised {
        if super::interrupt::is_interrupt(err) {
            return Raised::Interrupt;
        }
        match err.raw_os_error() {
            Some(errno) => Raised::Os { errno, site },
            None => Raised::other("OSError", err.to_string(), site),
        }
    }

    /// The errno of an `OSError`, as 4.3's `socket.error` handlers test it.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Raised::Os { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// The line 4.3's `onecmd` prints for an exception it did not expect.
    pub fn error_line(&self) -> String {
        let (class, message, site) = self.parts();
        format!(
            "error: <class '{class}'>, {message}: file: {} line: {}",
            site.file, site.line
        )
    }

    /// `<class 'X'> (message)`, as the streaming client reports a failure.
    pub fn class_and_message(&self) -> String {
        let (class, message, _) = self.parts();
        format!("<class '{class}'> ({message})")
    }

    fn parts(&self) -> (String, String, Site) {
        match self {
            Raised::Protocol { status, reason } => (
                "xmlrpc.client.ProtocolError".into(),
                format!("<ProtocolError for 127.0.0.1/RPC2: {status} {reason}>"),
                SITE_HTTP_STATUS,
            ),
            Raised::Fault(fault) => ("xmlrpc.client.Fault".into(), fault_repr(fault), SITE_FAULT),
            Raised::Os { errno, site } => (
                os_error_class(*errno).into(),
                format!("[Errno {errno}] {}", strerror(*errno)),
                *site,
            ),
            Raised::Resolve { code, text } => (
                "socket.gaierror".into(),
                format!("[Errno {code}] {text}"),
                SITE_GETADDRINFO,
            ),
            Raised::Other {
                class,
                message,
                site,
            } => ((*class).into(), message.clone(), *site),
            Raised::Interrupt => (
                "KeyboardInterrupt".into(),
                String::new(),
                SITE_RESULT_LOOKUP,
            ),
        }
    }
}

/// `repr()` of an `xmlrpclib.Fault` (also its `str()`).
pub fn fault_repr(fault: &Fault) -> String {
    format!("<Fault {}: {}>", fault.code, py::repr_str(&fault.string))
}

/// The `OSError` subclass Python picks for an errno.
pub fn os_error_class(errno: i32) -> &'static str {
    use rustix::io::Errno;
    let e = Errno::from_raw_os_error(errno);
    match e {
        Errno::NOENT => "FileNotFoundError",
        Errno::CONNREFUSED => "ConnectionRefusedError",
        Errno::CONNRESET => "ConnectionResetError",
        Errno::CONNABORTED => "ConnectionAbortedError",
        Errno::PIPE | Errno::SHUTDOWN => "BrokenPipeError",
        Errno::ACCESS | Errno::PERM => "PermissionError",
        Errno::TIMEDOUT => "TimeoutError",
        Errno::NOTDIR => "NotADirectoryError",
        Errno::ISDIR => "IsADirectoryError",
        Errno::EXIST => "FileExistsError",
        Errno::INTR => "InterruptedError",
        Errno::AGAIN | Errno::ALREADY | Errno::INPROGRESS => "BlockingIOError",
        Errno::CHILD => "ChildProcessError",
        Errno::SRCH => "ProcessLookupError",
        _ => "OSError",
    }
}

/// The C library's text for an errno, without Rust's `(os error N)` suffix.
pub fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(cut) => text.get(..cut).unwrap_or(&text).to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_error_line_is_4_3s() {
        let r = Raised::Protocol {
            status: 401,
            reason: "Unauthorized".into(),
        };
        assert_eq!(
            r.error_line(),
            "error: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>: file: supervisor/xmlrpc.py line: 539"
        );
    }

    #[test]
    fn fault_and_os_errors_print_like_python() {
        let f = Raised::Fault(Fault {
            code: 6,
            string: "SHUTDOWN_STATE".into(),
        });
        assert!(f.error_line().starts_with(
            "error: <class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>: file: "
        ));
        let e = Raised::Os {
            errno: 2,
            site: SITE_UNIX_CONNECT,
        };
        assert_eq!(
            e.error_line(),
            "error: <class 'FileNotFoundError'>, [Errno 2] No such file or directory: file: supervisor/xmlrpc.py line: 557"
        );
        assert_eq!(
            Raised::Os {
                errno: 111,
                site: SITE_TCP_CONNECT
            }
            .class_and_message(),
            "<class 'ConnectionRefusedError'> ([Errno 111] Connection refused)"
        );
        assert_eq!(os_error_class(13), "PermissionError");
        assert_eq!(os_error_class(5), "OSError");
    }

    #[test]
    fn errno_only_for_os_errors() {
        assert_eq!(
            Raised::Os {
                errno: 111,
                site: SITE_TCP_CONNECT
            }
            .errno(),
            Some(111)
        );
        assert_eq!(Raised::Interrupt.errno(), None);
    }
}
