//! supervisorctl: a client of the daemon's XML-RPC API, one-shot or
//! interactive, built to be indistinguishable from Supervisor 4.3's: the
//! same options, commands, output lines and exit statuses.
//!
//! Layout: `options` (command line, settings) and `ctlconf` (the config
//! section); `transport`, `client` and `stream` talk to the server;
//! `commands` holds the commands; `shell`, `console` and `lineedit` are the
//! interactive side; `py` and `raised` reproduce the Python details 4.3's
//! output depends on.

mod client;
mod commands;
mod console;
mod ctlconf;
mod help;
mod interrupt;
mod lineedit;
mod options;
mod py;
mod raised;
mod shell;
mod stream;
mod transport;

use std::ffi::OsString;
use std::io::Write;

pub use commands::{exit, Controller, Settings};
pub use options::{FileSettings, Options};

/// Runs supervisorctl with `args` (program name first); returns the exit status.
pub fn main(args: Vec<OsString>) -> u8 {
    let realized = options::realize(&args, &ctlconf::read, &options::search_config);
    let options = match realized {
        Ok(options) => options,
        Err(stop) => {
            let _ = std::io::stdout().write_all(stop.stdout.as_bytes());
            let _ = std::io::stderr().write_all(stop.stderr.as_bytes());
            return stop.code;
        }
    };
    interrupt::install();
    let mut console = console::StdConsole::new();
    let mut ctl = Controller::new(
        options.settings,
        Box::new(std::io::stdout()),
        Box::new(std::io::stderr()),
        &mut console,
    );
    if options.args.is_empty() {
        return shell::run(&mut ctl);
    }
    match ctl.onecmd(&options.args.join(" ")) {
        Ok(_) => ctl.exitstatus,
        Err(commands::Interrupted) => {
            // Python dies of the uncaught KeyboardInterrupt; 130 is how a
            // shell reports a death by SIGINT.
            let _ = writeln!(std::io::stderr(), "KeyboardInterrupt");
            130
        }
    }
}
