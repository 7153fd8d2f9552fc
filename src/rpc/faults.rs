//! Supervisor's fault codes, declared once with the numbers clients depend
//! on, and the `NAME` / `NAME: detail` fault strings 4.3 sends.

use super::value::Fault;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    UnknownMethod = 1,
    IncorrectParameters = 2,
    BadArguments = 3,
    SignatureUnsupported = 4,
    ShutdownState = 6,
    BadName = 10,
    BadSignal = 11,
    NoFile = 20,
    NotExecutable = 21,
    Failed = 30,
    AbnormalTermination = 40,
    SpawnError = 50,
    AlreadyStarted = 60,
    NotRunning = 70,
    Success = 80,
    AlreadyAdded = 90,
    StillRunning = 91,
    CantReread = 92,
}

impl Code {
    pub const ALL: [Code; 18] = [
        Code::UnknownMethod,
        Code::IncorrectParameters,
        Code::BadArguments,
        Code::SignatureUnsupported,
        Code::ShutdownState,
        Code::BadName,
        Code::BadSignal,
        Code::NoFile,
        Code::NotExecutable,
        Code::Failed,
        Code::AbnormalTermination,
        Code::SpawnError,
        Code::AlreadyStarted,
        Code::NotRunning,
        Code::Success,
        Code::AlreadyAdded,
        Code::StillRunning,
        Code::CantReread,
    ];

    pub fn number(self) -> i32 {
        self as i32
    }

    pub fn from_number(n: i32) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.number() == n)
    }

    pub fn name(self) -> &'static str {
        match self {
            Code::UnknownMethod => "UNKNOWN_METHOD",
            Code::IncorrectParameters => "INCORRECT_PARAMETERS",
            Code::BadArguments => "BAD_ARGUMENTS",
            Code::SignatureUnsupported => "SIGNATURE_UNSUPPORTED",
            Code::ShutdownState => "SHUTDOWN_STATE",
            Code::BadName => "BAD_NAME",
            Code::BadSignal => "BAD_SIGNAL",
            Code::NoFile => "NO_FILE",
            Code::NotExecutable => "NOT_EXECUTABLE",
            Code::Failed => "FAILED",
            Code::AbnormalTermination => "ABNORMAL_TERMINATION",
            Code::SpawnError => "SPAWN_ERROR",
            Code::AlreadyStarted => "ALREADY_STARTED",
            Code::NotRunning => "NOT_RUNNING",
            Code::Success => "SUCCESS",
            Code::AlreadyAdded => "ALREADY_ADDED",
            Code::StillRunning => "STILL_RUNNING",
            Code::CantReread => "CANT_REREAD",
        }
    }

    /// The fault with 4.3's string `NAME: detail`. As in 4.3 (whose
    /// RPCError appends any extra that is not None), an empty detail still
    /// gets its colon: `BAD_NAME: ` for the name ''.
    pub fn fault(self, detail: impl AsRef<str>) -> Fault {
        Fault {
            code: self.number(),
            string: format!("{}: {}", self.name(), detail.as_ref()),
        }
    }

    /// The fault with no detail: just `NAME`.
    pub fn bare(self) -> Fault {
        Fault {
            code: self.number(),
            string: self.name().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_supervisor() {
        let expected = [
            1, 2, 3, 4, 6, 10, 11, 20, 21, 30, 40, 50, 60, 70, 80, 90, 91, 92,
        ];
        let got: Vec<i32> = Code::ALL.iter().map(|c| c.number()).collect();
        assert_eq!(got, expected);
        for code in Code::ALL {
            assert_eq!(Code::from_number(code.number()), Some(code));
        }
    }

    #[test]
    fn fault_strings_have_supervisors_form() {
        assert_eq!(Code::BadName.fault("foo").string, "BAD_NAME: foo");
        assert_eq!(Code::ShutdownState.bare().string, "SHUTDOWN_STATE");
        assert_eq!(Code::SpawnError.fault("web").code, 50);
    }

    #[test]
    fn empty_detail_keeps_its_colon_as_in_43() {
        assert_eq!(Code::BadName.fault("").string, "BAD_NAME: ");
        assert_eq!(Code::BadSignal.fault("").string, "BAD_SIGNAL: ");
        assert_eq!(Code::NoFile.bare().string, "NO_FILE");
    }
}
