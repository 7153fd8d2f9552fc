//! The interactive shell of our supervisorctl against 4.3's: commands read
//! from a pipe (no prompt echo, EOF ends it), from a pseudo-terminal (line
//! editing, history, completion, Ctrl-C/Ctrl-D), and the 401 prompts of an
//! inet server with a username and password.

use crate::ctl_util::*;

#[test]
fn shell_through_a_pipe() {
    let pair = DaemonPair::start("pipe", &standard_config());
    let mut diffs = Differences::default();
    let scripts = [
        "status sleeper\nfrob\n\nhelp quit\nreload\nn\nversion\nquit\nstatus\n",
        "",
        "version",
        "help\n?start\n!ls\n  status   grp:* \nEOF\nversion\n",
        "exit\n",
        "shutdown\nno\nreload\n\npid nope\n",
        "reload\n",
        "tail -2 talker stderr\nstart nope\nstop grp:manual\n",
        "open ftp://x\nopen unix:///nonexistent.sock\nstatus\nversion\n",
    ];
    for script in scripts {
        pair.compare(&[], script, &mut diffs);
    }
    // Every help topic, and the topics 4.3 has no help for.
    let topics = [
        "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload",
        "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
        "update", "version", "help", "EOF", "nope", "_tailf", "do_help", "",
    ];
    let script: String = topics.iter().map(|t| format!("help {t}\n")).collect();
    pair.compare(&[], &script, &mut diffs);
    // -i with an action runs only the action; questions are asked then.
    pair.compare(&["-i", "status", "sleeper"], "", &mut diffs);
    pair.compare(&["-i", "reload"], "n\n", &mut diffs);
    pair.compare(&["-i", "shutdown"], "", &mut diffs);
    pair.compare(&["-i", "reload"], "", &mut diffs);
    diffs.assert_none();
}

#[test]
fn history_file_is_written_on_exit() {
    let pair = DaemonPair::start("hist", &standard_config());
    for (daemon, ours) in [(&pair.py, &pair.ours_py), (&pair.rs, &pair.ours_rs)] {
        let conf = std::fs::read_to_string(daemon.config()).unwrap();
        for (who, ctl) in [("py", &Ctl::Python), ("rs", ours)] {
            let hist = daemon.dir.path(&format!("history-{who}"));
            let with_history = conf.replace(
                "[supervisorctl]\n",
                &format!(
                    "[supervisorctl]\nhistory_file={}\nprompt=box\n",
                    hist.display()
                ),
            );
            let conf_path = daemon.dir.path(&format!("hist-{who}.conf"));
            std::fs::write(&conf_path, with_history).unwrap();
            let out = ctl.run(&["-c", &conf_path.display().to_string()], "version\n");
            let what = format!("{who} on {:?}", daemon.kind);
            assert!(
                out.stdout.contains("box> 4.3.0\nbox> \n"),
                "{what}: {}",
                out.stdout
            );
            // Lines read from a pipe do not enter readline's history, but the
            // (empty) history is still saved.
            assert_eq!(std::fs::read_to_string(&hist).unwrap(), "", "{what}");
        }
    }
}

/// The path of our supervisorctl's symlink.
fn link_path(ctl: &Ctl) -> String {
    match ctl {
        Ctl::OursLinked(p) => p.display().to_string(),
        _ => unreachable!("not a linked supervisorctl"),
    }
}

#[test]
fn shell_on_a_terminal() {
    let pair = DaemonPair::start("pty", &standard_config());
    // A pty session mostly waits for quiet output: both daemons at once.
    let py_screens = std::thread::scope(|s| {
        let on_ours = s.spawn(|| terminal_sessions(&pair.rs, &pair.ours_rs));
        let on_py = terminal_sessions(&pair.py, &pair.ours_py);
        (on_py, on_ours.join().unwrap())
    });
    // Python's supervisorctl shows the same screens on our daemon.
    assert_eq!(py_screens.1, py_screens.0);
}

/// The terminal sessions against `daemon`; returns the screens of Python's
/// supervisorctl for the cross check.
fn terminal_sessions(daemon: &Daemon, ours: &Ctl) -> Vec<(String, String)> {
    let conf = daemon.conf();
    let py = python_bin().join("supervisorctl").display().to_string();
    let rs = link_path(ours);
    let subs = [];
    let mut py_screens = Vec::new();
    // The same keys give the same screen as 4.3 for plain typing, Enter,
    // Ctrl-D and Ctrl-C at the prompt.
    let sessions: &[&[(&str, &str)]] = &[
        &[("supervisor> ", "version\r"), ("4.3.0", "\x04")],
        &[("supervisor> ", "vers"), ("vers", "\x03")],
        &[
            ("supervisor> ", "status grp:*\r"),
            ("supervisor> ", "quit\r"),
        ],
    ];
    for keys in sessions {
        let (py_screen, py_status) = run_on_pty(&daemon.dir, &[&py, "-c", &conf], keys);
        let (rs_screen, rs_status) = run_on_pty(&daemon.dir, &[&rs, "-c", &conf], keys);
        assert_eq!(
            normalize(&rs_screen, &subs),
            normalize(&py_screen, &subs),
            "screens differ for {keys:?} on {:?}",
            daemon.kind
        );
        assert_eq!(rs_status, py_status);
        assert_eq!(rs_status, "0");
        py_screens.push((normalize(&py_screen, &subs), py_status));
    }

    // Editing: a typo fixed with the cursor keys, then history recall.
    let (screen, status) = run_on_pty(
        &daemon.dir,
        &[&rs, "-c", &conf],
        &[
            ("supervisor> ", "versoin\x1b[D\x1b[D\x7f\x1b[Co\x05\r"),
            ("4.3.0", "\x1b[A\r"),
            ("4.3.0\r\nsupervisor> ", "xstatus sleeper\x01\x1b[3~\r"),
            ("RUNNING", "\x04"),
        ],
    );
    assert_eq!(status, "0");
    assert_eq!(screen.matches("4.3.0\r\n").count(), 2, "{screen:?}");
    assert!(
        screen.contains("sleeper                          RUNNING"),
        "{screen:?}"
    );

    // Tab completion of commands and process names.
    let (screen, status) = run_on_pty(
        &daemon.dir,
        &[&rs, "-c", &conf],
        &[
            ("supervisor> ", "vers\t\r"),
            ("4.3.0", "status grp:m\t\r"),
            ("STOPPED", "\x04"),
        ],
    );
    assert_eq!(status, "0");
    assert!(
        screen.contains("supervisor> version \r\n4.3.0"),
        "{screen:?}"
    );
    assert!(
        screen.contains("supervisor> status grp:manual \r\n"),
        "{screen:?}"
    );
    assert!(
        screen.contains("grp:manual                       STOPPED"),
        "{screen:?}"
    );

    // A y/N question on a terminal: answering "n" changes nothing.
    let (screen, _) = run_on_pty(
        &daemon.dir,
        &[&rs, "-c", &conf],
        &[
            ("supervisor> ", "shutdown\r"),
            ("y/N? ", "n\r"),
            ("supervisor> ", "\x04"),
        ],
    );
    assert!(screen.contains("Really shut the remote supervisord process down y/N? n\r\n"));
    daemon.wait_status("daemon still up", |s| s.contains("sleeper"));
    py_screens
}

/// The programs of the inet server with credentials.
const AUTH_PROGRAMS: &str = "\
[program:talker]
command=sh -c 'echo out-line; exec sleep 1000'
startsecs=0
stdout_logfile={dir}/talker.out
";

/// Only an inet server, on `port`, with a username and password; the
/// supervisorctl section points there.
fn auth_config(port: u16) -> Config {
    ctl_config(AUTH_PROGRAMS)
        .without_unix()
        .inet(port)
        .auth("user", "123")
}

/// Python's getpass falls back to stdin with a warning that names its own
/// source file; those two lines are Python's, not supervisorctl's.
fn without_getpass_warning(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains("GetPassWarning") && !l.contains("fallback_getpass("))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A daemon of `kind` serving `auth_config` on a port of its own, the
/// port masked in outputs compared across daemons.
fn auth_daemon(kind: Flavor) -> Daemon {
    let port = free_port();
    let mut daemon = Daemon::start_kind(kind, "auth", &auth_config(port));
    daemon.url = format!("http://127.0.0.1:{port}");
    daemon
        .masks
        .push((format!("127.0.0.1:{port}"), "127.0.0.1:<PORT>".to_string()));
    daemon
}

#[test]
fn authentication_on_an_inet_server() {
    let pair = DaemonPair::of(auth_daemon(Flavor::Python), auth_daemon(Flavor::Ours));
    for daemon in [&pair.py, &pair.rs] {
        let port = daemon
            .url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok());
        wait_for(START_DEADLINE, "the inet server", || {
            std::net::TcpStream::connect(("127.0.0.1", port.unwrap_or(0))).ok()
        });
    }
    let mut diffs = Differences::default();
    let cases: &[&[&str]] = &[
        &["status"],
        &["version"],
        &["start", "x"],
        &["-u", "user", "status"],
        &["-u", "user", "-p", "bad", "status"],
        &["-u", "user", "-p", "123", "status"],
        &["-u", "user", "-p", "123", "tail", "talker"],
        &["-u", "user", "-p", "123", "tail", "-f", "nope"],
        &["-u", "user", "-p", "123", "avail"],
        &["-u", "user", "-p", "123", "help"],
        &["-s", "{url}", "-u", "user", "-p", "123", "pid", "talker"],
    ];
    for args in cases {
        pair.compare(args, "", &mut diffs);
    }

    // Interactive: 401 asks for a username and a password, then retries.
    for (args, stdin) in [
        (vec![], "user\n123\nversion\n"),
        (vec![], "user\nbad\nversion\n"),
        (vec![], "user\n"),
        (vec!["-i", "version"], "user\n123\n"),
        (vec!["-i", "version"], ""),
    ] {
        let mut runs = pair.run_all(&args, stdin);
        for out in [
            &mut runs.py_on_py,
            &mut runs.ours_on_py,
            &mut runs.py_on_ours,
            &mut runs.ours_on_ours,
        ] {
            out.stderr = without_getpass_warning(&out.stderr);
        }
        pair.check(&format!("{args:?} (stdin {stdin:?})"), &runs, &mut diffs);
    }
    diffs.assert_none();

    // On a terminal the password is read from /dev/tty without echo.
    let py = python_bin().join("supervisorctl").display().to_string();
    let keys: &[(&str, &str)] = &[
        ("Username:", "user\r"),
        ("Password:", "123\r"),
        ("supervisor> ", "version\r"),
        ("4.3.0", "\x04"),
    ];
    let mut py_screens = Vec::new();
    for (daemon, ours) in [(&pair.py, &pair.ours_py), (&pair.rs, &pair.ours_rs)] {
        let conf = daemon.conf();
        let rs = link_path(ours);
        let (py_screen, py_status) = run_on_pty(&daemon.dir, &[&py, "-c", &conf], keys);
        let (rs_screen, rs_status) = run_on_pty(&daemon.dir, &[&rs, "-c", &conf], keys);
        assert_eq!(normalize(&rs_screen, &[]), normalize(&py_screen, &[]));
        assert_eq!((rs_status.as_str(), py_status.as_str()), ("0", "0"));
        assert!(!rs_screen.contains("123"), "{rs_screen:?}");
        py_screens.push(normalize(&py_screen, &[]));
    }
    assert_eq!(py_screens.get(1), py_screens.first());
}
