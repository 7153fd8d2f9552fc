//! The supervisord mode: command line, config, daemon setup, then the core.

use std::ffi::OsString;

pub fn main(_args: Vec<OsString>) -> u8 {
    eprintln!("supervisord: not built yet");
    2
}
