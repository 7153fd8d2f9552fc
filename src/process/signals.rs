//! Signal names and numbers, both ways, as Supervisor spells them (`TERM`,
//! `SIGTERM` or `15` in, `SIGTERM` out), and the one place that sends a
//! signal to a child or its process group.
//!
//! CONTRACT: `number`, `name` and `send` keep these signatures.

use std::io;

/// Parses a signal as a config value or an RPC argument: a name with or
/// without `SIG`, any case, or a number.
pub fn number(_text: &str) -> Option<i32> {
    todo!("signal table")
}

/// `SIGTERM` for 15; `signal 99` for an unknown number (as 4.3's signame).
pub fn name(_signal: i32) -> String {
    todo!("signal table")
}

/// Sends `signal` to `pid`, or to the process group `pid` leads when `group`.
pub fn send(_pid: u32, _signal: i32, _group: bool) -> io::Result<()> {
    todo!("kill via rustix")
}
