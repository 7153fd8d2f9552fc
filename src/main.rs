//! The one executable. It picks a mode from the name it was started under
//! (`supervisord`, `supervisorctl`, `pidproxy`, via symlinks) or, when called
//! as `supervisor`, from its first argument; the mode's result is the exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    ExitCode::from(supervisor::cli::dispatch(args))
}
