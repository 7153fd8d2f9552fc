//! The help texts of 4.3's default commands, word for word (tabs included):
//! scripts and users compare them, and `help` lists exactly these topics.

/// The commands `help` lists, in the order `cmd.Cmd` sorts them.
pub const TOPICS: [&str; 21] = [
    "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload", "remove",
    "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail", "update",
    "version",
];

pub const DOC_HEADER: &str = "default commands (type help <topic>):";

/// The controller's own `help help`.
pub const HELP_HELP: &str =
    "help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>";

/// The text `help <topic>` prints (without the final newline `output` adds).
pub fn topic(name: &str) -> Option<&'static str> {
    Some(match name {
        "tail" => "tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\ntail -f <name>\t\tContinuous tail of named process stdout\n\t\t\tCtrl-C to exit.\ntail -100 <name>\tlast 100 *bytes* of process stdout\ntail <name> stderr\tlast 1600 *bytes* of process stderr",
        "maintail" => "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\nmaintail -100\tlast 100 *bytes* of supervisord main log file\nmaintail\tlast 1600 *bytes* of supervisor main log file\n",
        "quit" => "quit\tExit the supervisor shell.",
        "exit" => "exit\tExit the supervisor shell.",
        "status" => "status <name>\t\tGet status for a single process\nstatus <gname>:*\tGet status for all processes in a group\nstatus <name> <name>\tGet status for multiple named processes\nstatus\t\t\tGet all process status info",
        "pid" => "pid\t\t\tGet the PID of supervisord.\npid <name>\t\tGet the PID of a single child process by name.\npid all\t\t\tGet the PID of every child process, one per line.",
        "start" => "start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in a group\nstart <name> <name>\tStart multiple processes or groups\nstart all\t\tStart all processes",
        "stop" => "stop <name>\t\tStop a process\nstop <gname>:*\t\tStop all processes in a group\nstop <name> <name>\tStop multiple processes or groups\nstop all\t\tStop all processes",
        "signal" => "signal <signal name> <name>\t\tSignal a process\nsignal <signal name> <gname>:*\t\tSignal all processes in a group\nsignal <signal name> <name> <name>\tSignal multiple processes or groups\nsignal <signal name> all\t\tSignal all processes",
        "restart" => "restart <name>\t\tRestart a process\nrestart <gname>:*\tRestart all processes in a group\nrestart <name> <name>\tRestart multiple processes or groups\nrestart all\t\tRestart all processes\nNote: restart does not reread config files. For that, see reread and update.",
        "shutdown" => "shutdown \tShut the remote supervisord down.",
        "reload" => "reload \t\tRestart the remote supervisord.",
        "avail" => "avail\t\t\tDisplay all configured processes",
        "reread" => "reread \t\t\tReload the daemon's configuration files without add/remove",
        "add" => "add <name> [...]\tActivates any updates in config for process/group",
        "remove" => "remove <name> [...]\tRemoves process/group from active config",
        "update" => "update\t\t\tReload config and add/remove as necessary, and will restart affected programs\nupdate all\t\tReload config and add/remove as necessary, and will restart affected programs\nupdate <gname> [...]\tUpdate specific groups",
        "clear" => "clear <name>\t\tClear a process' log files.\nclear <name> <name>\tClear multiple process' log files\nclear all\t\tClear all process' log files",
        "open" => "open <url>\tConnect to a remote supervisord process.\n\t\t(for UNIX domain socket, use unix:///socket/path)",
        "version" => "version\t\t\tShow the version of the remote supervisord process",
        "fg" => "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit",
        _ => return None,
    })
}

/// The usage text of `-h`, with 4.3's `%s` replaced by the program name.
pub fn usage(progname: &str) -> String {
    format!(
        "supervisorctl -- control applications run by supervisord from the cmd line.

Usage: {progname} [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default \"http://localhost:9001\").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like \"tail\" or \"stop\".  If -i is specified or no action is
specified on the command line, a \"shell\" interpreting actions typed
interactively is started.  Use the action \"help\" to find out about available
actions.

"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_topic_has_help() {
        for name in TOPICS {
            assert!(topic(name).is_some(), "{name}");
        }
        assert!(topic("EOF").is_none());
        assert!(topic("help").is_none());
        assert!(topic("").is_none());
    }

    #[test]
    fn topics_are_sorted_as_cmd_sorts_them() {
        let mut sorted = TOPICS;
        sorted.sort_unstable();
        assert_eq!(sorted, TOPICS);
    }

    #[test]
    fn usage_names_the_program() {
        let text = usage("/usr/bin/supervisorctl");
        assert!(text.contains("Usage: /usr/bin/supervisorctl [options]"));
        assert!(text.ends_with("actions.\n\n"));
    }
}
