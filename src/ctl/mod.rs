//! supervisorctl: a client of the daemon's XML-RPC API, one-shot or
//! interactive, built to be indistinguishable from Supervisor 4.3's: the
//! same options, commands, output lines and exit statuses.
//!
//! Layout: `options` (command line, settings; the config section comes
//! from `crate::config::load_ctl`); `transport`, `client` and `stream` talk to the server;
//! `commands` holds the commands and `format` their output lines; `shell`, `console` and `lineedit` are the
//! interactive side; `py` and `raised` reproduce the Python details 4.3's
//! output depends on.

mod client;
mod commands;
mod console;
mod format;
mod help;
mod interrupt;
mod lineedit;
pub(crate) mod options;
mod py;
mod raised;
mod shell;
mod stream;
mod transport;

use std::ffi::OsString;
use std::io::Write;

use commands::Controller;
use options::FileSettings;

/// The `[supervisorctl]` settings of a config file, or 4.3's usage message.
fn read_config(path: &std::path::Path) -> Result<FileSettings, String> {
    let ctl = crate::config::load_ctl(path).map_err(|e| {
        // 4.3 prints the bare ValueError text when it names no section or key.
        if e.section.is_none() && e.key.is_none() {
            e.message.clone()
        } else {
            let text = e.to_string();
            text.strip_prefix("Error: ").unwrap_or(&text).to_string()
        }
    })?;
    Ok(FileSettings {
        serverurl: Some(ctl.serverurl),
        username: ctl.username,
        password: ctl.password,
        prompt: Some(ctl.prompt),
        history_file: ctl.history_file,
    })
}

/// Runs supervisorctl with `args` (program name first); returns the exit status.
pub fn main(args: Vec<OsString>) -> u8 {
    let realized = options::realize(&args, &read_config, &crate::config::search);
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
