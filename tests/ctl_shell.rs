//! The interactive shell of our supervisorctl against 4.3's: commands read
//! from a pipe (no prompt echo, EOF ends it), from a pseudo-terminal (line
//! editing, history, completion, Ctrl-C/Ctrl-D), and the 401 prompts of an
//! inet server with a username and password.

use crate::ctl_util::*;

fn shell_same(daemon: &Daemon, ours: &Ctl, extra: &[&str], stdin: &str) -> Output {
    let conf = daemon.conf();
    let mut args = vec!["-c", conf.as_str()];
    args.extend_from_slice(extra);
    assert_same(&Ctl::Python, ours, &args, stdin)
}

#[test]
fn shell_through_a_pipe() {
    let mut daemon = Daemon::start("pipe", STANDARD_CONFIG);
    daemon.wait_settled();
    let ours = link_ours(&daemon.dir);
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
        shell_same(&daemon, &ours, &[], script);
    }
    // Every help topic, and the topics 4.3 has no help for.
    let topics = [
        "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload",
        "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
        "update", "version", "help", "EOF", "nope", "_tailf", "do_help", "",
    ];
    let script: String = topics.iter().map(|t| format!("help {t}\n")).collect();
    shell_same(&daemon, &ours, &[], &script);
    // -i with an action runs only the action; questions are asked then.
    shell_same(&daemon, &ours, &["-i", "status", "sleeper"], "");
    shell_same(&daemon, &ours, &["-i", "reload"], "n\n");
    shell_same(&daemon, &ours, &["-i", "shutdown"], "");
    shell_same(&daemon, &ours, &["-i", "reload"], "");
}

#[test]
fn history_file_is_written_on_exit() {
    let mut daemon = Daemon::start("hist", STANDARD_CONFIG);
    daemon.wait_settled();
    let ours = link_ours(&daemon.dir);
    let conf = std::fs::read_to_string(&daemon.config).unwrap();
    for (who, ctl) in [("py", Ctl::Python), ("rs", ours)] {
        let hist = daemon.dir.join(&format!("history-{who}"));
        let with_history = conf.replace(
            "[supervisorctl]\n",
            &format!(
                "[supervisorctl]\nhistory_file={}\nprompt=box\n",
                hist.display()
            ),
        );
        let conf_path = daemon.dir.join(&format!("hist-{who}.conf"));
        std::fs::write(&conf_path, with_history).unwrap();
        let out = ctl.run(&["-c", &conf_path.display().to_string()], "version\n");
        assert!(
            out.stdout.contains("box> 4.3.0\nbox> \n"),
            "{who}: {}",
            out.stdout
        );
        // Lines read from a pipe do not enter readline's history, but the
        // (empty) history is still saved.
        assert_eq!(std::fs::read_to_string(&hist).unwrap(), "", "{who}");
    }
}

#[test]
fn shell_on_a_terminal() {
    let mut daemon = Daemon::start("pty", STANDARD_CONFIG);
    daemon.wait_settled();
    let ours = link_ours(&daemon.dir);
    let conf = daemon.conf();
    let py = py_bin_dir().join("supervisorctl").display().to_string();
    let rs = match &ours {
        Ctl::OursLinked(p) => p.display().to_string(),
        _ => unreachable!(),
    };
    let subs = [];
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
            "screens differ for {keys:?}"
        );
        assert_eq!(rs_status, py_status);
        assert_eq!(rs_status, "0");
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
}

const AUTH_CONFIG: &str = "\
[inet_http_server]
port=127.0.0.1:{port}
username=user
password=123

[supervisord]
logfile={dir}/supervisord.log
pidfile={dir}/supervisord.pid
childlogdir={dir}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=http://127.0.0.1:{port}

[program:talker]
command=sh -c 'echo out-line; exec sleep 1000'
startsecs=0
stdout_logfile={dir}/talker.out
";

/// Python's getpass falls back to stdin with a warning that names its own
/// source file; those two lines are Python's, not supervisorctl's.
fn without_getpass_warning(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains("GetPassWarning") && !l.contains("fallback_getpass("))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn authentication_on_an_inet_server() {
    let port = free_port().to_string();
    let mut daemon = Daemon::start("auth", &AUTH_CONFIG.replace("{port}", &port));
    let url = format!("http://127.0.0.1:{port}");
    wait_for("the inet server", START_DEADLINE, || {
        std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).ok()
    });
    let _ = &mut daemon;
    let ours = link_ours(&daemon.dir);
    let conf = daemon.conf();
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
        &["-s", &url, "-u", "user", "-p", "123", "pid", "talker"],
    ];
    for args in cases {
        let mut full = vec!["-c", conf.as_str()];
        full.extend_from_slice(args);
        assert_same(&Ctl::Python, &ours, &full, "");
    }
    // On a terminal the password is read from /dev/tty without echo.
    let py = py_bin_dir().join("supervisorctl").display().to_string();
    let rs = match &ours {
        Ctl::OursLinked(p) => p.display().to_string(),
        _ => unreachable!(),
    };
    let keys: &[(&str, &str)] = &[
        ("Username:", "user\r"),
        ("Password:", "123\r"),
        ("supervisor> ", "version\r"),
        ("4.3.0", "\x04"),
    ];
    let (py_screen, py_status) = run_on_pty(&daemon.dir, &[&py, "-c", &conf], keys);
    let (rs_screen, rs_status) = run_on_pty(&daemon.dir, &[&rs, "-c", &conf], keys);
    assert_eq!(normalize(&rs_screen, &[]), normalize(&py_screen, &[]));
    assert_eq!((rs_status.as_str(), py_status.as_str()), ("0", "0"));
    assert!(!rs_screen.contains("123"), "{rs_screen:?}");

    // Interactive: 401 asks for a username and a password, then retries.
    for (args, stdin) in [
        (vec![], "user\n123\nversion\n"),
        (vec![], "user\nbad\nversion\n"),
        (vec![], "user\n"),
        (vec!["-i", "version"], "user\n123\n"),
        (vec!["-i", "version"], ""),
    ] {
        let mut full = vec!["-c", conf.as_str()];
        full.extend(args.iter().copied());
        let expected = Ctl::Python.run(&full, stdin);
        let got = ours.run(&full, stdin);
        assert_eq!(
            normalize(&got.stdout, &[]),
            normalize(&expected.stdout, &[]),
            "stdout for {full:?} {stdin:?}"
        );
        assert_eq!(
            normalize(&without_getpass_warning(&got.stderr), &[]),
            normalize(&without_getpass_warning(&expected.stderr), &[]),
            "stderr for {full:?} {stdin:?}"
        );
        assert_eq!(got.code, expected.code);
    }
}
