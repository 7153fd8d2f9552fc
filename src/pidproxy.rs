//! pidproxy: runs a program and forwards signals to the pid in its pidfile.
//! Programs that daemonize (fork and leave) cannot be supervised directly;
//! supervisord supervises pidproxy instead, which passes TERM, HUP, INT,
//! USR1, USR2 and QUIT on to whatever pid the program wrote down.
//!
//! Behaves as Supervisor 4.3's pidproxy.py, but waits on events (a signal or
//! the child's exit) instead of waking every five seconds.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Component, Path, PathBuf};
use std::pin::pin;

use async_signal::{Signal, Signals};
use smol::stream::StreamExt;

use crate::process::signals;

/// The signals passed on to the pid in the pidfile.
const FORWARDED: [Signal; 6] = [
    Signal::Term,
    Signal::Hup,
    Signal::Int,
    Signal::Usr1,
    Signal::Usr2,
    Signal::Quit,
];

/// Runs pidproxy with `args` (args[0] is the name it was called by) and
/// returns its exit status.
pub fn main(args: Vec<OsString>) -> u8 {
    // Alone, these ask about the program (a pidfile is never named so).
    match args.get(1).and_then(|a| a.to_str()) {
        Some("-h" | "--help") if args.len() == 2 => {
            let program = args.first().map(|a| a.to_string_lossy().into_owned());
            print!("{}", usage(program.as_deref().unwrap_or("pidproxy")));
            return 0;
        }
        Some("-v" | "--version") if args.len() == 2 => {
            println!("{}", crate::VERSION);
            return 0;
        }
        _ => {}
    }
    let Some(invocation) = Invocation::parse(&args) else {
        let program = args.first().map(|a| a.to_string_lossy().into_owned());
        print!("{}", usage(program.as_deref().unwrap_or("pidproxy")));
        return 1;
    };
    smol::block_on(invocation.run())
}

/// 4.3 prints its module docstring with argv[0] filled in, to stdout.
fn usage(program: &str) -> String {
    format!(
        "pidproxy -- run command and proxy signals to it via its pidfile.\n\
         \n\
         This executable runs a command and then monitors a pidfile.  When this\n\
         executable receives a signal, it sends the same signal to the pid\n\
         in the pidfile.\n\
         \n\
         Usage: {program} <pidfile name> <command> [<cmdarg1> ...]\n\
         \n"
    )
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
struct Invocation {
    pidfile: PathBuf,
    /// The command as given; it becomes the child's argv[0].
    command: OsString,
    args: Vec<OsString>,
}

/// What woke the loop.
enum Wake {
    Signal(Option<io::Result<Signal>>),
    ChildExited,
}

impl Invocation {
    /// `pidproxy <pidfile> <command> [args...]`; anything less is a usage error.
    fn parse(args: &[OsString]) -> Option<Invocation> {
        let pidfile = args.get(1)?;
        let command = args.get(2)?;
        Some(Invocation {
            pidfile: PathBuf::from(pidfile),
            command: command.clone(),
            args: args.get(3..).unwrap_or_default().to_vec(),
        })
    }

    async fn run(self) -> u8 {
        // Handlers first, as 4.3 does, so no signal slips by during the spawn.
        let mut signals = match Signals::new(FORWARDED) {
            Ok(signals) => signals,
            Err(err) => {
                eprintln!("pidproxy: cannot install signal handlers: {err}");
                return 1;
            }
        };
        let program = match absolute_program(&self.command) {
            Ok(program) => program,
            Err(err) => {
                eprintln!(
                    "pidproxy: cannot resolve {}: {err}",
                    self.command.to_string_lossy()
                );
                return 127;
            }
        };
        let mut command = std::process::Command::new(&program);
        command.arg0(&self.command).args(&self.args);
        let mut child = match async_process::Command::from(command).spawn() {
            Ok(child) => child,
            Err(err) => {
                eprintln!("pidproxy: cannot run {}: {err}", program.display());
                return 127;
            }
        };
        let mut exit = pin!(child.status());
        loop {
            let wake = smol::future::or(async { Wake::Signal(signals.next().await) }, async {
                // Whatever the status, 4.3 just stops when its child is gone.
                let _ = exit.as_mut().await;
                Wake::ChildExited
            })
            .await;
            match wake {
                Wake::ChildExited => return 0,
                Wake::Signal(Some(Ok(signal))) => {
                    if let Some(status) = self.forward(signal) {
                        return status;
                    }
                }
                Wake::Signal(Some(Err(err))) => {
                    eprintln!("pidproxy: waiting for signals failed: {err}");
                    return 1;
                }
                Wake::Signal(None) => return 1,
            }
        }
    }

    /// Passes `signal` on to the pid in the pidfile. Returns the exit status
    /// when pidproxy should end now: after TERM, INT or QUIT (4.3's
    /// sys.exit(0)), or when the signal could not be delivered (4.3 dies of
    /// the uncaught OSError).
    fn forward(&self, signal: Signal) -> Option<u8> {
        let number = signal as i32;
        let Some(pid) = read_pid(&self.pidfile) else {
            eprintln!("Can't read child pidfile {}!", self.pidfile.display());
            return None;
        };
        if let Err(err) = crate::process::kill::send(pid, number, false) {
            eprintln!(
                "pidproxy: cannot send {} to pid {pid}: {err}",
                signals::name(number)
            );
            return Some(1);
        }
        match signal {
            Signal::Term | Signal::Int | Signal::Quit => Some(0),
            _ => None,
        }
    }
}

/// The pid a pidfile holds: a positive decimal number, blanks around it
/// allowed. Zero or negative would signal a whole group, so they are refused.
fn read_pid(pidfile: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(pidfile).ok()?;
    text.trim().parse::<u32>().ok().filter(|pid| *pid > 0)
}

/// 4.3 runs `os.path.abspath(command)`: relative to the current directory,
/// no PATH search, `.` and `..` folded away textually.
fn absolute_program(command: &OsStr) -> io::Result<PathBuf> {
    let path = Path::new(command);
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    Ok(normalize(&joined))
}

/// Python's posixpath.normpath for an absolute path.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_pidfile_command_and_arguments() {
        let got = Invocation::parse(&os(&["pidproxy", "/run/x.pid", "/bin/x", "-f", "a b"]));
        assert_eq!(
            got,
            Some(Invocation {
                pidfile: PathBuf::from("/run/x.pid"),
                command: OsString::from("/bin/x"),
                args: os(&["-f", "a b"]),
            })
        );
        let bare = Invocation::parse(&os(&["pidproxy", "p", "cmd"])).expect("valid");
        assert!(bare.args.is_empty());
    }

    #[test]
    fn fewer_than_two_arguments_is_a_usage_error() {
        assert_eq!(Invocation::parse(&os(&[])), None);
        assert_eq!(Invocation::parse(&os(&["pidproxy"])), None);
        assert_eq!(Invocation::parse(&os(&["pidproxy", "/run/x.pid"])), None);
        // No option parsing in 4.3 either: --help is taken as the pidfile.
        assert_eq!(Invocation::parse(&os(&["pidproxy", "--help"])), None);
    }

    #[test]
    fn bad_usage_exits_1() {
        assert_eq!(main(os(&["pidproxy", "only-a-pidfile"])), 1);
    }

    #[test]
    fn usage_names_the_program_as_called() {
        let text = usage("/usr/bin/pidproxy");
        assert!(text.starts_with("pidproxy -- run command and proxy signals"));
        assert!(text
            .contains("\nUsage: /usr/bin/pidproxy <pidfile name> <command> [<cmdarg1> ...]\n\n"));
    }

    #[test]
    fn commands_are_made_absolute_without_a_path_search() {
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(
            absolute_program(OsStr::new("sleep")).expect("abs"),
            cwd.join("sleep")
        );
        assert_eq!(
            absolute_program(OsStr::new("/usr/./bin/../bin/sleep")).expect("abs"),
            PathBuf::from("/usr/bin/sleep")
        );
        assert_eq!(normalize(Path::new("/../a/./b/..")), PathBuf::from("/a"));
    }

    #[test]
    fn pidfiles_hold_one_positive_number() {
        let dir = std::env::temp_dir().join(format!("pidproxy-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let cases: &[(&str, Option<u32>)] = &[
            ("1234\n", Some(1234)),
            ("  42  ", Some(42)),
            ("+7", Some(7)),
            ("0", None),
            ("-1", None),
            ("", None),
            ("12 34", None),
            ("abc", None),
            ("99999999999", None),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            let file = dir.join(format!("{i}.pid"));
            std::fs::write(&file, text).expect("write");
            assert_eq!(read_pid(&file), *want, "{text:?}");
        }
        assert_eq!(read_pid(&dir.join("missing.pid")), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
