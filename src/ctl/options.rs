//! supervisorctl's command line and `[supervisorctl]` settings, as 4.3's
//! `ClientOptions.realize` reads them: Python `getopt` rules (long-option
//! prefixes, `-cFILE`, stop at the first action word), the same usage errors
//! with exit 2, and command line over config file over defaults.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::client::Server;
use super::commands::Settings;
use super::help;
use super::py;

// `-v`/`--version` are ours: 4.3 has only the `version` command, and
// rejects the option; printing the version is what people expect of it.
const SHORT_OPTIONS: &str = "h?vc:is:u:p:r:";
const LONG_OPTIONS: [&str; 8] = [
    "help",
    "version",
    "configuration=",
    "interactive",
    "serverurl=",
    "username=",
    "password=",
    "history_file=",
];
const DEFAULT_SERVERURL: &str = "http://localhost:9001";
const DEFAULT_PROMPT: &str = "supervisor";

/// A parsed command line and the settings it leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub settings: Settings,
    /// The action and its arguments; empty means the interactive shell.
    pub args: Vec<String>,
}

/// The program must stop now: print these and exit with `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// What `[supervisorctl]` in a config file says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileSettings {
    pub serverurl: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: Option<String>,
    pub history_file: Option<PathBuf>,
}

/// Options as `getopt` returns them: (`-x` or `--long`, value).
type OptionPairs = Vec<(String, String)>;

/// Python's `getopt.getopt` with supervisorctl's options.
pub fn getopt(args: &[String]) -> Result<(OptionPairs, Vec<String>), String> {
    getopt_with(args, SHORT_OPTIONS, &LONG_OPTIONS)
}

/// Python's `getopt.getopt(args, short, long)`: (option, value) pairs and
/// the remaining args. `short` is getopt's string (`"hc:"`), `long` its list
/// (`"configuration="` takes a value); supervisord parses with it too.
pub(crate) fn getopt_with(
    args: &[String],
    short: &str,
    long: &[&str],
) -> Result<(OptionPairs, Vec<String>), String> {
    let mut opts = Vec::new();
    let mut rest = args.to_vec();
    while let Some(first) = rest.first().cloned() {
        if !first.starts_with('-') || first == "-" {
            break;
        }
        rest.remove(0);
        if first == "--" {
            break;
        }
        if let Some(given) = first.strip_prefix("--") {
            let (name, inline) = match given.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (given.to_string(), None),
            };
            let (takes_value, full) = long_has_arg(long, &name)?;
            let value = if takes_value {
                match inline {
                    Some(v) => v,
                    None if !rest.is_empty() => rest.remove(0),
                    None => return Err(format!("option --{full} requires argument")),
                }
            } else if inline.is_some() {
                return Err(format!("option --{full} must not have an argument"));
            } else {
                String::new()
            };
            opts.push((format!("--{full}"), value));
        } else {
            let mut chars: Vec<char> = first.chars().skip(1).collect();
            while !chars.is_empty() {
                let opt = chars.remove(0);
                if short_has_arg(short, opt)? {
                    let value = if !chars.is_empty() {
                        chars.drain(..).collect()
                    } else if !rest.is_empty() {
                        rest.remove(0)
                    } else {
                        return Err(format!("option -{opt} requires argument"));
                    };
                    opts.push((format!("-{opt}"), value));
                } else {
                    opts.push((format!("-{opt}"), String::new()));
                }
            }
        }
    }
    Ok((opts, rest))
}

fn long_has_arg(long: &[&str], name: &str) -> Result<(bool, String), String> {
    let possible: Vec<&str> = long
        .iter()
        .copied()
        .filter(|o| o.starts_with(name))
        .collect();
    if possible.is_empty() {
        return Err(format!("option --{name} not recognized"));
    }
    if possible.contains(&name) {
        return Ok((false, name.to_string()));
    }
    if possible.contains(&format!("{name}=").as_str()) {
        return Ok((true, name.to_string()));
    }
    match possible.as_slice() {
        [only] => Ok(match only.strip_suffix('=') {
            Some(full) => (true, full.to_string()),
            None => (false, only.to_string()),
        }),
        _ => Err(format!("option --{name} not a unique prefix")),
    }
}

fn short_has_arg(short: &str, opt: char) -> Result<bool, String> {
    let spec: Vec<char> = short.chars().collect();
    for (i, c) in spec.iter().enumerate() {
        if *c == opt && opt != ':' {
            return Ok(spec.get(i + 1) == Some(&':'));
        }
    }
    Err(format!("option -{opt} not recognized"))
}

/// The usage error 4.3 prints before exiting 2.
fn usage_error(progname: &str, message: &str) -> Exit {
    Exit {
        code: 2,
        stdout: String::new(),
        stderr: format!("Error: {message}\nFor help, use {progname} -h\n"),
    }
}

/// The name 4.3 would show for itself: Python's `sys.argv[0]` is the path
/// of the script, so a bare name found on PATH shows as that path.
pub fn progname(argv0: &str) -> String {
    if argv0.contains('/') || argv0.is_empty() {
        return argv0.to_string();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(argv0);
        if candidate.is_file() {
            return candidate.to_string_lossy().into_owned();
        }
    }
    argv0.to_string()
}

/// Which command-line options were given (each at most once).
#[derive(Debug, Default)]
struct CommandLine {
    configfile: Option<String>,
    interactive: bool,
    serverurl: Option<String>,
    username: Option<String>,
    password: Option<String>,
    history: Option<String>,
}

/// `ClientOptions.realize`: parses `argv` (program name first), reads the
/// config file, and returns the settings, or what to print before exiting.
pub fn realize(
    argv: &[OsString],
    read_config: &dyn Fn(&Path) -> Result<FileSettings, String>,
    search: &dyn Fn() -> Option<PathBuf>,
) -> Result<Options, Exit> {
    let args: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let progname = progname(
        &argv
            .first()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_else(|| "supervisorctl".into()),
    );
    let (opts, rest) = getopt(&args).map_err(|m| usage_error(&progname, &m))?;
    let mut cl = CommandLine::default();
    for (opt, value) in opts {
        let slot = match opt.as_str() {
            "-h" | "-?" | "--help" => {
                return Err(Exit {
                    code: 0,
                    stdout: help::usage(&progname),
                    stderr: String::new(),
                })
            }
            "-v" | "--version" => {
                return Err(Exit {
                    code: 0,
                    stdout: format!("{}\n", crate::SUPERVISOR_COMPAT_VERSION),
                    stderr: String::new(),
                })
            }
            "-i" | "--interactive" => {
                if cl.interactive {
                    return Err(conflict(&progname, &opt));
                }
                cl.interactive = true;
                continue;
            }
            "-c" | "--configuration" => &mut cl.configfile,
            "-s" | "--serverurl" => {
                if let Err(why) = py::check_url(&value) {
                    return Err(usage_error(
                        &progname,
                        &format!("invalid value for {opt} {}: {why}", py::repr_str(&value)),
                    ));
                }
                &mut cl.serverurl
            }
            "-u" | "--username" => &mut cl.username,
            "-p" | "--password" => &mut cl.password,
            _ => &mut cl.history,
        };
        if slot.is_some() {
            return Err(conflict(&progname, &opt));
        }
        *slot = Some(value);
    }
    let configfile = cl.configfile.map(PathBuf::from).or_else(search);
    let file = match &configfile {
        Some(path) => read_config(path).map_err(|m| usage_error(&progname, &m))?,
        None => FileSettings::default(),
    };
    let history_file = cl.history.map(|h| normalize_path(&h)).or(file.history_file);
    Ok(Options {
        settings: Settings {
            server: Server {
                serverurl: cl
                    .serverurl
                    .or(file.serverurl)
                    .unwrap_or_else(|| DEFAULT_SERVERURL.into()),
                username: cl.username.or(file.username),
                password: cl.password.or(file.password),
            },
            interactive: cl.interactive || rest.is_empty(),
            prompt: file.prompt.unwrap_or_else(|| DEFAULT_PROMPT.into()),
            history_file,
        },
        args: rest,
    })
}

fn conflict(progname: &str, opt: &str) -> Exit {
    usage_error(
        progname,
        &format!("conflicting command line option {}", py::repr_str(opt)),
    )
}

/// Python's `normalize_path` (`~`, made absolute, `.`/`..` folded).
pub fn normalize_path(text: &str) -> PathBuf {
    crate::config::values::normalize_path(text, &crate::config::Host::current())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn argv(v: &[&str]) -> Vec<OsString> {
        std::iter::once("/x/supervisorctl")
            .chain(v.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn no_config(_: &Path) -> Result<FileSettings, String> {
        Ok(FileSettings::default())
    }

    fn no_search() -> Option<PathBuf> {
        None
    }

    fn run(v: &[&str]) -> Result<Options, Exit> {
        realize(&argv(v), &no_config, &no_search)
    }

    #[test]
    fn getopt_follows_python() {
        let (opts, rest) =
            getopt(&strings(&["-ic", "f", "-sunix:///x", "status", "-u", "a"])).unwrap();
        assert_eq!(
            opts,
            vec![
                ("-i".into(), "".into()),
                ("-c".into(), "f".into()),
                ("-s".into(), "unix:///x".into())
            ]
        );
        assert_eq!(rest, strings(&["status", "-u", "a"]));
        let (opts, rest) = getopt(&strings(&["--conf=a", "--serv", "b", "--", "-x"])).unwrap();
        assert_eq!(
            opts,
            vec![
                ("--configuration".into(), "a".into()),
                ("--serverurl".into(), "b".into())
            ]
        );
        assert_eq!(rest, strings(&["-x"]));
        let (_, rest) = getopt(&strings(&["-", "x"])).unwrap();
        assert_eq!(rest, strings(&["-", "x"]));
    }

    #[test]
    fn getopt_errors_are_pythons() {
        let e = |v: &[&str]| getopt(&strings(v)).unwrap_err();
        assert_eq!(e(&["-x"]), "option -x not recognized");
        assert_eq!(e(&["--verbose"]), "option --verbose not recognized");
        assert_eq!(e(&["-c"]), "option -c requires argument");
        assert_eq!(e(&["--conf"]), "option --configuration requires argument");
        assert_eq!(e(&["--h"]), "option --h not a unique prefix");
        assert_eq!(e(&["--help=3"]), "option --help must not have an argument");
        assert_eq!(e(&["-:"]), "option -: not recognized");
    }

    #[test]
    fn version_option_prints_the_supervisor_version() {
        for flag in ["-v", "--version"] {
            let e = run(&[flag]).unwrap_err();
            assert_eq!((e.code, e.stdout.as_str()), (0, "4.3.0\n"));
        }
    }

    #[test]
    fn usage_errors_exit_2_naming_the_program() {
        let e = run(&["-x"]).unwrap_err();
        assert_eq!(e.code, 2);
        assert_eq!(
            e.stderr,
            "Error: option -x not recognized\nFor help, use /x/supervisorctl -h\n"
        );
        let e = run(&["-s", "foo", "status"]).unwrap_err();
        assert_eq!(
            e.stderr,
            "Error: invalid value for -s 'foo': value 'foo' is not a URL\nFor help, use /x/supervisorctl -h\n"
        );
        let e = run(&["-s", "unix:///a", "-s", "unix:///b"]).unwrap_err();
        assert!(e
            .stderr
            .starts_with("Error: conflicting command line option '-s'\n"));
        let e = run(&["-i", "--interactive"]).unwrap_err();
        assert!(e
            .stderr
            .contains("conflicting command line option '--interactive'"));
    }

    #[test]
    fn help_goes_to_stdout_with_status_0() {
        let e = run(&["-h", "-s", "foo"]).unwrap_err();
        assert_eq!(e.code, 0);
        assert!(e
            .stdout
            .starts_with("supervisorctl -- control applications"));
        assert!(e.stderr.is_empty());
        // An option processed before -h fails first, as in 4.3.
        assert_eq!(run(&["-s", "foo", "-h"]).unwrap_err().code, 2);
        assert_eq!(run(&["-?"]).unwrap_err().code, 0);
    }

    #[test]
    fn defaults_and_interactive() {
        let o = run(&[]).unwrap();
        assert_eq!(o.settings.server.serverurl, "http://localhost:9001");
        assert_eq!(o.settings.prompt, "supervisor");
        assert!(o.settings.interactive);
        assert!(o.args.is_empty());
        let o = run(&["status", "x"]).unwrap();
        assert!(!o.settings.interactive);
        assert_eq!(o.args, strings(&["status", "x"]));
        assert!(run(&["-i", "status"]).unwrap().settings.interactive);
    }

    #[test]
    fn command_line_beats_config_file() {
        let config = |_: &Path| {
            Ok(FileSettings {
                serverurl: Some("unix:///from/file".into()),
                username: Some("fileuser".into()),
                password: Some("filepass".into()),
                prompt: Some("box".into()),
                history_file: Some("/h".into()),
            })
        };
        let o = realize(
            &argv(&["-c", "x.conf", "-u", "me", "status"]),
            &config,
            &no_search,
        )
        .unwrap();
        assert_eq!(o.settings.server.serverurl, "unix:///from/file");
        assert_eq!(o.settings.server.username.as_deref(), Some("me"));
        assert_eq!(o.settings.server.password.as_deref(), Some("filepass"));
        assert_eq!(o.settings.prompt, "box");
        assert_eq!(o.settings.history_file, Some(PathBuf::from("/h")));
        let failing = |p: &Path| Err(format!("could not find config file {}", p.display()));
        let e = realize(&argv(&["-c", "/nope.conf"]), &failing, &no_search).unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e
            .stderr
            .starts_with("Error: could not find config file /nope.conf\n"));
    }

    #[test]
    fn normalize_path_is_pythons() {
        assert_eq!(normalize_path("/a/./b/../c"), PathBuf::from("/a/c"));
        assert_eq!(normalize_path("/../x"), PathBuf::from("/x"));
        assert!(normalize_path("rel").is_absolute());
    }

    #[test]
    fn progname_keeps_paths() {
        assert_eq!(progname("/x/y"), "/x/y");
        assert_eq!(progname("./y"), "./y");
        assert_eq!(progname("surely-not-on-path-xyz"), "surely-not-on-path-xyz");
    }
}
