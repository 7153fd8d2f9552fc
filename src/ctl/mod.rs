//! supervisorctl: a client of the daemon's XML-RPC API, one-shot or interactive.

use std::ffi::OsString;

pub fn main(_args: Vec<OsString>) -> u8 {
    eprintln!("supervisorctl: not built yet");
    2
}
