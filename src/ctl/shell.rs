//! The interactive shell (4.3's `exec_cmdloop` around `cmd.Cmd.cmdloop`):
//! `status` first, then one command per line until quit, exit or EOF.
//! Ctrl-C anywhere outside `tail -f`/`fg` ends the shell, as in 4.3.

use super::commands::{Controller, Interrupted};
use super::console::InputError;

/// Runs the shell; 4.3 always exits 0 from it.
pub fn run(ctl: &mut Controller<'_>) -> u8 {
    let history = ctl.settings.history_file.clone();
    ctl.console().use_history_file(history);
    let mut line = "status".to_string();
    loop {
        match ctl.onecmd(&line) {
            Ok(true) => break,
            Ok(false) => {}
            Err(Interrupted) => {
                ctl.output("");
                break;
            }
        }
        if ctl.stdout_gone() {
            break;
        }
        let server = ctl.settings.server.clone();
        ctl.console()
            .set_completer(Some(Box::new(move |text: &str, whole: &str| {
                Controller::completions(&server, text, whole)
            })));
        let prompt = format!("{}> ", ctl.settings.prompt);
        line = match ctl.console().input(&prompt) {
            Ok(typed) => typed,
            Err(InputError::Interrupt) => {
                ctl.output("");
                break;
            }
            Err(InputError::Eof | InputError::Io(_)) => "EOF".to_string(),
        };
    }
    ctl.console().save_history();
    0
}
