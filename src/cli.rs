//! Mode dispatch, busybox style: the basename of `argv[0]` names the mode, or,
//! when the binary runs under its own name, the first argument does. Each
//! mode returns its exit status; nothing below this file calls `exit`.

use std::ffi::OsString;
use std::path::Path;

/// A mode of the multi-call binary.
struct Mode {
    name: &'static str,
    summary: &'static str,
    run: fn(Vec<OsString>) -> u8,
}

const MODES: &[Mode] = &[
    Mode {
        name: "supervisord",
        summary: "run the process control daemon",
        run: crate::supervisord::main,
    },
    Mode {
        name: "supervisorctl",
        summary: "control a running supervisord (one-shot or interactive)",
        run: crate::ctl::main,
    },
    Mode {
        name: "pidproxy",
        summary: "run a program and forward signals to the pid in its pidfile",
        run: crate::pidproxy::main,
    },
    Mode {
        name: "echo_supervisord_conf",
        summary: "print a sample configuration file to stdout",
        run: crate::echo::main,
    },
];

fn usage() -> String {
    let mut text = format!(
        "supervisor {} (compatible with Supervisor {})\n\n\
         Usage: supervisor <mode> [options...]\n   or: <mode> [options...]   (via a symlink named after the mode)\n\nModes:\n",
        crate::VERSION,
        crate::SUPERVISOR_COMPAT_VERSION
    );
    for mode in MODES {
        text.push_str(&format!("  {:<22} {}\n", mode.name, mode.summary));
    }
    text.push_str("\nRun `supervisor <mode> --help` for the options of a mode.\n");
    text
}

/// Runs the mode named by argv and returns its exit status.
pub fn dispatch(args: Vec<OsString>) -> u8 {
    let invoked = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(mode) = MODES.iter().find(|m| m.name == invoked) {
        return (mode.run)(args);
    }
    // Called as `supervisor` (or any other name): the first argument is the mode.
    let Some(first) = args.get(1).map(|a| a.to_string_lossy().into_owned()) else {
        eprint!("{}", usage());
        return 2;
    };
    match first.as_str() {
        "-h" | "--help" | "help" => {
            print!("{}", usage());
            0
        }
        "-v" | "--version" | "version" => {
            println!("{}", crate::VERSION);
            0
        }
        name => match MODES.iter().find(|m| m.name == name) {
            // The mode sees its own name as argv[0], as it would via a symlink.
            Some(mode) => (mode.run)(args[1..].to_vec()),
            None => {
                eprintln!("supervisor: unknown mode '{name}'\n");
                eprint!("{}", usage());
                2
            }
        },
    }
}
