//! Our supervisorctl against Python's, command by command: the same
//! arguments against the same daemon state must give the same stdout,
//! stderr and exit status (pids, uptimes and stop times masked).

use crate::ctl_util::*;

/// Runs `args` (after `-c <conf>`) through both and compares.
fn same(daemon: &Daemon, ours: &Ctl, args: &[&str]) -> Output {
    let conf = daemon.conf();
    let mut full = vec!["-c", conf.as_str()];
    full.extend_from_slice(args);
    assert_same(&Ctl::Python, ours, &full, "")
}

#[test]
fn options_usage_and_help_without_a_server() {
    let dir = TempDir::new("opts");
    let linked = link_ours(&dir);
    let cases: &[&[&str]] = &[
        &["-v"],
        &["--version"],
        &["-x"],
        &["-c"],
        &["--conf"],
        &["--h"],
        &["--help=3"],
        &["-h"],
        &["--help"],
        &["-?"],
        &["-h", "-x"],
        &["-s", "foo", "status"],
        &["-s", "foo", "-h"],
        &["-s", "unix:///a", "--serverurl=unix:///b", "status"],
        &["-i", "-i"],
        &["-u", "a", "--user", "b"],
        &["-c", "/nonexistent/supervisord.conf", "status"],
    ];
    for args in cases {
        assert_same(&Ctl::Python, &linked, args, "");
        assert_same(&Ctl::Python, &Ctl::Ours, args, "");
    }
    // A config file without [supervisorctl] is refused, as in 4.3.
    let conf = dir.join("plain.conf");
    std::fs::write(&conf, "[supervisord]\nlogfile=/dev/null\n").unwrap();
    let conf = conf.display().to_string();
    assert_same(&Ctl::Python, &linked, &["-c", &conf, "version"], "");
}

#[test]
fn commands_without_a_server() {
    let dir = TempDir::new("noserver");
    let ours = link_ours(&dir);
    let missing = format!("unix://{}/none.sock", dir.display());
    let refused = format!("http://127.0.0.1:{}", free_port());
    let commands: &[&str] = &[
        "status",
        "status x",
        "start x",
        "start",
        "stop x",
        "restart x",
        "signal HUP x",
        "clear x",
        "tail x",
        "tail -f x",
        "maintail",
        "maintail -f",
        "pid",
        "pid x",
        "fg x",
        "version",
        "shutdown",
        "reload",
        "avail",
        "reread",
        "add x",
        "remove x",
        "add",
        "update",
        "help",
        "help start",
        "frob",
        "",
        "quit",
        "EOF",
    ];
    for url in [missing.as_str(), refused.as_str()] {
        for command in commands {
            let mut args = vec!["-s", url];
            args.extend(command.split(' ').filter(|w| !w.is_empty()));
            if command.is_empty() {
                args.push("");
            }
            assert_same(&Ctl::Python, &ours, &args, "");
        }
        let open = format!("open {url}");
        assert_same(&Ctl::Python, &ours, &["-s", url, &open], "");
    }
    // A URL 4.3 accepts on the command line but cannot use.
    assert_same(&Ctl::Python, &ours, &["-s", "localhost:9001", "status"], "");
    assert_same(&Ctl::Python, &ours, &["-s", "http://h:x/", "version"], "");
    for url in [
        "http://[::1",
        "http://x]",
        "http://[foo]:9001",
        "http://[1.2.3.4]:9001",
        "http://:9001",
        "http://",
    ] {
        assert_same(&Ctl::Python, &ours, &["-s", url, "status"], "");
        let open = format!("open {url}");
        assert_same(&Ctl::Python, &ours, &["-s", &missing, &open], "");
    }
}

#[test]
fn read_only_commands_against_one_daemon() {
    let mut daemon = Daemon::start("ro", STANDARD_CONFIG);
    daemon.wait_settled();
    let ours = link_ours(&daemon.dir);
    let cases: &[&[&str]] = &[
        &["status"],
        &["status", "all"],
        &["status", "sleeper"],
        &["status", "grp:*"],
        &["status", "num:*", "sleeper", "failer"],
        &["status", "nope", "grp:*", "grp:nope", "nope:*"],
        &["status", "manual"],
        &["status;"],
        &["pid"],
        &["pid", "all"],
        &["pid", "sleeper"],
        &["pid", "grp:manual", "nope", "num:num_0"],
        &["pid", "manual"],
        &["avail"],
        &["avail", "x"],
        &["version"],
        &["version", "x"],
        &["help"],
        &["?"],
        &["help", "help"],
        &["help", "EOF"],
        &["help", "frob"],
        &["help", "start", "x"],
        &["frob", "x"],
        &["!ls"],
        &["-x"],
        &["EOF"],
        &["quit"],
        &["exit"],
        &["tail"],
        &["tail", "a", "b", "c", "d"],
        &["tail", "-x", "talker"],
        &["tail", "talker", "foo"],
        &["tail", "talker", "STDERR"],
        &["tail", "-5"],
        &["tail", "-f"],
        &["tail", "nope"],
        &["tail", "nolog"],
        &["tail", "talker"],
        &["tail", "-4", "talker"],
        &["tail", "-100", "talker", "stderr"],
        &["tail", "-f", "nope"],
        &["tail", "-f", "nolog", "stderr"],
        &["maintail", "x"],
        &["maintail", "-x"],
        &["maintail", "a", "b"],
        &["start"],
        &["start", "nope"],
        &["start", "sleeper"],
        &["start", "nope:*"],
        &["start", "sleeper", "nope", "num:*"],
        &["stop"],
        &["stop", "nope"],
        &["stop", "manual"],
        &["stop", "grp:manual"],
        &["stop", "nope:*", "failer"],
        &["restart"],
        &["signal"],
        &["signal", "HUP"],
        &["signal", "BOGUS", "sleeper"],
        &["signal", "0", "sleeper"],
        &[
            "signal",
            "HUP",
            "manual",
            "nope",
            "grp:manual",
            "nope:*",
            "failer",
        ],
        &["clear"],
        &["clear", "nope", "nolog", "grp:*"],
        &["reread"],
        &["reread", "x"],
        &["add"],
        &["add", "nope", "sleeper"],
        &["remove", "nope", "sleeper"],
        &["update", "nope"],
        &["update"],
        &["update", "all"],
        &["shutdown", "now"],
        &["reload", "now"],
        &["open"],
        &["open", "ftp://x"],
        &["fg"],
        &["fg", "a", "b"],
        &["fg", "nope"],
        &["fg", "grp:manual"],
    ];
    for args in cases {
        same(&daemon, &ours, args);
    }
    // `open` to the same server shows its status but keeps the exit status.
    let url = format!("unix://{}", daemon.sock().display());
    same(&daemon, &ours, &["open", &url]);
    // The invocation through `supervisor supervisorctl` behaves the same.
    same(&daemon, &Ctl::Ours, &["status", "grp:*"]);
}

#[test]
fn state_changes_on_twin_daemons() {
    // Two identical daemons: Python's supervisorctl drives one, ours the
    // other, through the same sequence; each step must print the same.
    let mut py_daemon = Daemon::start("twin-py", STANDARD_CONFIG);
    let mut our_daemon = Daemon::start("twin-rs", STANDARD_CONFIG);
    py_daemon.wait_settled();
    our_daemon.wait_settled();
    let ours = link_ours(&our_daemon.dir);
    let subs_py = vec![(py_daemon.dir.display(), "<DIR>".to_string())];
    let subs_ours = vec![(our_daemon.dir.display(), "<DIR>".to_string())];
    let conf_py = py_daemon.conf();
    let conf_ours = our_daemon.conf();
    let step = |args: &[&str]| {
        let mut a = vec!["-c", conf_py.as_str()];
        a.extend_from_slice(args);
        let mut b = vec!["-c", conf_ours.as_str()];
        b.extend_from_slice(args);
        // 4.3 orders "all" and group results and update's group lists by
        // hash order, which differs between two daemons: compare those as
        // sets of lines.
        let unordered = args.contains(&"all")
            || args.iter().any(|a| a.ends_with(":*"))
            || args.first() == Some(&"update");
        compare_runs(
            &Ctl::Python,
            &subs_py,
            &ours,
            &subs_ours,
            &a,
            &b,
            "",
            unordered,
        );
    };
    // Signals and restarts leave processes briefly in transition; wait until
    // both daemons are at rest so the next step sees the same states.
    let settle = || {
        for daemon in [&py_daemon, &our_daemon] {
            daemon.wait_status("processes at rest", |s| {
                !s.contains(" STARTING ") && !s.contains(" BACKOFF ") && !s.contains(" STOPPING ")
            });
        }
    };
    step(&["start", "grp:manual"]);
    step(&["status"]);
    step(&["stop", "grp:*"]);
    step(&["start", "grp:*", "sleeper"]);
    step(&["restart", "grp:manual", "num:*"]);
    settle();
    step(&["start", "failer"]);
    step(&["signal", "HUP", "grp:*"]);
    settle();
    step(&["signal", "USR1", "num:num_0", "failer"]);
    settle();
    step(&["clear", "talker", "grp:manual", "nope"]);
    step(&["tail", "talker"]);
    step(&["clear", "all"]);
    step(&["stop", "all"]);
    step(&["status"]);
    step(&["start", "all"]);
    settle();
    step(&["status", "sleeper", "talker", "nolog"]);
    step(&["stop", "sleeper"]);
    step(&["remove", "sleeper"]);
    step(&["avail"]);
    step(&["add", "sleeper"]);
    step(&["add", "sleeper"]);
    settle();
    step(&["status", "sleeper"]);
    step(&["restart", "all"]);
    settle();

    // Change both configs the same way: one program added, one removed,
    // one changed; then reread and update.
    for config in [&py_daemon.config, &our_daemon.config] {
        let text = std::fs::read_to_string(config).unwrap();
        let text = text.replace("[program:nolog]", "[program:gone]").replace(
            "command=sh -c 'echo out-line;",
            "command=sh -c 'echo changed;",
        ) + "\n[program:fresh]\ncommand=sleep 1000\nstartsecs=0\nstdout_logfile=NONE\n";
        std::fs::write(config, text).unwrap();
    }
    step(&["reread"]);
    step(&["avail"]);
    step(&["update", "nope", "fresh"]);
    step(&["update"]);
    settle();
    step(&["status"]);
    step(&["reread"]);
    step(&["update", "all"]);

    // A config the daemon cannot read.
    for config in [&py_daemon.config, &our_daemon.config] {
        let mut text = std::fs::read_to_string(config).unwrap();
        text.push_str("\n[program:broken]\nstartsecs=notanumber\ncommand=x\n");
        std::fs::write(config, text).unwrap();
    }
    step(&["reread"]);
    step(&["update"]);

    step(&["shutdown"]);
    let _ = (step, settle);
    py_daemon.wait_exit();
    our_daemon.wait_exit();
    for args in [["shutdown"], ["status"]] {
        let a = ["-c", conf_py.as_str(), args[0]];
        let b = ["-c", conf_ours.as_str(), args[0]];
        assert_same_with(&Ctl::Python, &subs_py, &ours, &subs_ours, &a, &b, "");
    }
}

#[test]
fn reload_restarts_the_daemon() {
    let mut py_daemon = Daemon::start("reload-py", STANDARD_CONFIG);
    let mut our_daemon = Daemon::start("reload-rs", STANDARD_CONFIG);
    py_daemon.wait_settled();
    our_daemon.wait_settled();
    let ours = link_ours(&our_daemon.dir);
    let subs_py = vec![(py_daemon.dir.display(), "<DIR>".to_string())];
    let subs_ours = vec![(our_daemon.dir.display(), "<DIR>".to_string())];
    let a = py_daemon.conf();
    let b = our_daemon.conf();
    assert_same_with(
        &Ctl::Python,
        &subs_py,
        &ours,
        &subs_ours,
        &["-c", &a, "reload"],
        &["-c", &b, "reload"],
        "",
    );
    py_daemon.wait_settled();
    our_daemon.wait_settled();
    assert_same_with(
        &Ctl::Python,
        &subs_py,
        &ours,
        &subs_ours,
        &["-c", &a, "status", "sleeper"],
        &["-c", &b, "status", "sleeper"],
        "",
    );
}
