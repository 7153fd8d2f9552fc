//! The core's own error: which of Supervisor's failure classes a request
//! met, and the detail 4.3 attaches. rpc/ turns it into a fault code, the
//! web page into its own words; the core never knows about either.

use std::fmt;

/// The failure classes of Supervisor's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// No such process or group.
    BadName,
    /// An offset or length a log read cannot use.
    BadArguments,
    /// A signal name or number that does not exist.
    BadSignal,
    /// No such file (a command, or a log).
    NoFile,
    NotExecutable,
    Failed,
    /// A start that ended before the process reached RUNNING.
    AbnormalTermination,
    SpawnError,
    AlreadyStarted,
    NotRunning,
    /// A group that is already active.
    AlreadyAdded,
    /// A group that cannot be removed while a process runs.
    StillRunning,
    /// The configuration could not be read again.
    CantReread,
    /// The daemon is shutting down or restarting.
    ShutdownState,
}

/// A refused or failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// What 4.3 appends to the fault name (a namespec, a path, a message).
    pub detail: Option<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Error {
        Error {
            kind,
            detail: Some(detail.into()),
        }
    }

    pub fn bare(kind: ErrorKind) -> Error {
        Error { kind, detail: None }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.kind)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}
