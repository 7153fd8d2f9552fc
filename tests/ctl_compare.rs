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
    let dir = Sandbox::new("ctl-opts");
    let linked = link_ours(&dir);
    let cases: &[&[&str]] = &[
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
    // Deliberately ours only: 4.3 rejects -v/--version (it has only the
    // `version` command); we print the same version that command does.
    for flag in ["-v", "--version"] {
        let out = linked.run(&[flag], "");
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (Some(0), "4.3.0\n"),
            "{flag}"
        );
    }
    // A config file without [supervisorctl] is refused, as in 4.3.
    let conf = dir.write("plain.conf", "[supervisord]\nlogfile=/dev/null\n");
    let conf = conf.display().to_string();
    assert_same(&Ctl::Python, &linked, &["-c", &conf, "version"], "");
}

#[test]
fn commands_without_a_server() {
    let dir = Sandbox::new("ctl-noserver");
    let ours = link_ours(&dir);
    let missing = format!("unix://{}/none.sock", dir.dir.display());
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

/// Commands that leave the standard config's daemon as it was.
const READ_ONLY_CASES: &[&[&str]] = &[
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
    // Odd names and signal spellings, for the daemon's name and signal parsing.
    &["status", "grp:"],
    &["status", ":manual"],
    &["status", "sleeper", "sleeper"],
    &["status", "grp:manual:x"],
    &["stop", ":manual"],
    &["pid", "num:"],
    &["pid", "num:*"],
    &["tail", "grp:manual"],
    &["tail", "num:num_0"],
    &["tail", "num:"],
    &["tail", "-0", "talker"],
    &["tail", "-1", "talker", "stderr"],
    &["fg", "num:"],
    &["clear", "num:*", "grp:"],
    &["signal", "WINCH", "sleeper"],
    &["signal", "sigwinch", "num:*"],
    &["signal", "28", "all"],
    &["signal", "SIGFOO", "sleeper"],
    &["signal", "-1", "sleeper"],
    &["signal", "99", "sleeper"],
    &["signal", "WINCH", "grp:", "num:", ":x"],
    &["remove", "grp:manual"],
    &["add", "grp:manual"],
    &["update", "grp"],
    &["avail", "grp"],
];

#[test]
fn read_only_commands_against_both_daemons() {
    let pair = DaemonPair::start("ro", &standard_config());
    let mut diffs = Differences::default();
    // `open` to the same server shows its status but keeps the exit status.
    let open_self: &[&str] = &["open", "{url}"];
    for args in READ_ONLY_CASES.iter().copied().chain([open_self]) {
        pair.compare(args, "", &mut diffs);
    }
    // The invocation through `supervisor supervisorctl` behaves the same.
    for daemon in [&pair.py, &pair.rs] {
        same(daemon, &Ctl::Ours, &["status", "grp:*"]);
    }
    diffs.assert_none();
}

/// Rewrites an output to hide what may differ.
type TextMask = fn(&str) -> String;

/// Which outputs of a step a mask applies to.
enum Mask {
    Cross(TextMask),
    All(TextMask),
}

/// One supervisorctl driving one daemon through a sequence of steps.
struct Lane {
    ctl: Ctl,
    daemon: Daemon,
}

impl Lane {
    fn subs(&self) -> Vec<(String, String)> {
        let mut subs = prog_subs(&self.ctl);
        subs.extend(self.daemon.subs());
        subs
    }

    fn run(&self, args: &[&str]) -> Output {
        let conf = self.daemon.conf();
        let mut full = vec!["-c", conf.as_str()];
        full.extend_from_slice(args);
        self.ctl.run(&full, "")
    }

    fn name(&self) -> String {
        let ctl = match self.ctl {
            Ctl::Python => "Python's supervisorctl",
            _ => "our supervisorctl",
        };
        let daemon = match self.daemon.kind {
            Flavor::Python => "Python's supervisord",
            Flavor::Ours => "our supervisord",
        };
        format!("{ctl} on {daemon}")
    }
}

/// Four identical daemons, two of each kind, each driven by one
/// supervisorctl through the same steps. Each step compares our
/// supervisorctl with Python's on the same kind of daemon, and Python's
/// supervisorctl on our daemon with Python's on its own.
struct Lanes {
    py_on_py: Lane,
    ours_on_py: Lane,
    py_on_ours: Lane,
    ours_on_ours: Lane,
}

impl Lanes {
    fn start(tag: &str, config: &Config) -> Lanes {
        let daemon = |kind| Daemon::start_kind(kind, tag, config);
        let (a, b) = (daemon(Flavor::Python), daemon(Flavor::Python));
        let (c, d) = (daemon(Flavor::Ours), daemon(Flavor::Ours));
        let ours_on_py = link_ours(&b.dir);
        let ours_on_ours = link_ours(&d.dir);
        let mut lanes = Lanes {
            py_on_py: Lane {
                ctl: Ctl::Python,
                daemon: a,
            },
            ours_on_py: Lane {
                ctl: ours_on_py,
                daemon: b,
            },
            py_on_ours: Lane {
                ctl: Ctl::Python,
                daemon: c,
            },
            ours_on_ours: Lane {
                ctl: ours_on_ours,
                daemon: d,
            },
        };
        lanes.for_each_daemon(Daemon::wait_settled);
        lanes
    }

    fn for_each_daemon(&mut self, mut f: impl FnMut(&mut Daemon)) {
        for lane in [
            &mut self.py_on_py,
            &mut self.ours_on_py,
            &mut self.py_on_ours,
            &mut self.ours_on_ours,
        ] {
            f(&mut lane.daemon);
        }
    }

    /// Runs `args` in all four lanes at once and fails on any difference.
    fn step(&self, args: &[&str]) {
        self.step_with(args, Mask::All(|text| text.to_string()));
    }

    /// `step`, with `mask` applied to the outputs before comparing: to both
    /// outputs of the cross check (Python's supervisorctl on our daemon vs on
    /// Python's) only, hiding a deliberate difference of our daemon, or to
    /// every output, hiding what is left to timing.
    fn step_with(&self, args: &[&str], mask: Mask) {
        let (all_mask, cross_mask): (TextMask, TextMask) = match mask {
            Mask::Cross(f) => (|t| t.to_string(), f),
            Mask::All(f) => (f, f),
        };
        // 4.3 lists the results of "all" and group calls in the order their
        // processes finished starting or stopping, which is left to timing:
        // compare those as sets of lines.
        let unordered = args.contains(&"all") || args.iter().any(|a| a.ends_with(":*"));
        let (a, b, c, d) = std::thread::scope(|s| {
            let a = s.spawn(|| self.py_on_py.run(args));
            let b = s.spawn(|| self.ours_on_py.run(args));
            let c = s.spawn(|| self.py_on_ours.run(args));
            let d = self.ours_on_ours.run(args);
            (a.join().unwrap(), b.join().unwrap(), c.join().unwrap(), d)
        });
        let mask_with = |f: fn(&str) -> String, out: &Output| Output {
            stdout: f(&out.stdout),
            stderr: f(&out.stderr),
            code: out.code,
        };
        let [a, b, c, d] = [a, b, c, d].map(|out| mask_with(all_mask, &out));
        let masked = |out: &Output| mask_with(cross_mask, out);
        let (cross_a, cross_c) = (masked(&a), masked(&c));
        let mut diffs = Differences::default();
        for ((expected, e_lane), (got, g_lane)) in [
            ((&a, &self.py_on_py), (&b, &self.ours_on_py)),
            ((&c, &self.py_on_ours), (&d, &self.ours_on_ours)),
            ((&cross_a, &self.py_on_py), (&cross_c, &self.py_on_ours)),
        ] {
            let what = format!("{args:?}: {} vs {}", g_lane.name(), e_lane.name());
            diffs.check(
                &what,
                (expected, &e_lane.subs()),
                (got, &g_lane.subs()),
                unordered,
            );
        }
        diffs.assert_none();
    }

    /// Starts `args` in every lane without waiting (a command that blocks).
    fn in_background(&self, args: &[&str]) -> [Running; 4] {
        let start = |lane: &Lane| {
            let conf = lane.daemon.conf();
            let mut full = vec!["-c", conf.as_str()];
            full.extend_from_slice(args);
            Running::start(&lane.ctl, &full, Some(""))
        };
        [
            start(&self.py_on_py),
            start(&self.ours_on_py),
            start(&self.py_on_ours),
            start(&self.ours_on_ours),
        ]
    }

    /// Waits for the commands of `in_background` to end and compares their
    /// outputs as `step` does.
    fn compare_finished(&self, runs: [Running; 4], what: &str) {
        let [a, b, c, d] = runs.map(Running::finish);
        let mut diffs = Differences::default();
        for ((expected, e_lane), (got, g_lane)) in [
            ((&a, &self.py_on_py), (&b, &self.ours_on_py)),
            ((&c, &self.py_on_ours), (&d, &self.ours_on_ours)),
            ((&a, &self.py_on_py), (&c, &self.py_on_ours)),
        ] {
            let what = format!("{what}: {} vs {}", g_lane.name(), e_lane.name());
            diffs.check(
                &what,
                (expected, &e_lane.subs()),
                (got, &g_lane.subs()),
                false,
            );
        }
        diffs.assert_none();
    }

    /// Waits until `check` holds for each daemon's `status`, whatever else
    /// is in transition.
    fn settle_until_any(&mut self, what: &str, check: fn(&str) -> bool) {
        self.for_each_daemon(|d| d.wait_status(what, check));
    }

    /// Waits until no process of any daemon is in transition, so the next
    /// step sees the same states everywhere.
    fn settle(&mut self) {
        self.settle_until("processes at rest", |_| true);
    }

    /// `settle`, and until `check` holds too for each daemon's `status`.
    fn settle_until(&mut self, what: &str, check: fn(&str) -> bool) {
        self.for_each_daemon(|d| d.wait_status(what, |s| settled(s) && check(s)));
    }

    fn configs(&self) -> [&std::path::Path; 4] {
        [
            self.py_on_py.daemon.config(),
            self.ours_on_py.daemon.config(),
            self.py_on_ours.daemon.config(),
            self.ours_on_ours.daemon.config(),
        ]
    }

    /// Rewrites every daemon's config the same way.
    fn edit_configs(&self, edit: impl Fn(String) -> String) {
        for config in self.configs() {
            let text = std::fs::read_to_string(config).unwrap();
            std::fs::write(config, edit(text)).unwrap();
        }
    }
}

/// Deliberate difference: our daemon words a config error its own way
/// (`Error: invalid value for 'startsecs' in section 'program:broken' (file:
/// '...', line 61): 'notanumber' is not an integer`), where 4.3 shows the
/// text of a Python exception (`invalid literal for int() with base 10:
/// 'notanumber' in section ...`). The fault code and the rest of the line
/// are the same.
fn mask_config_error(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("CANT_REREAD: ") {
            Some(at) => format!("{}CANT_REREAD: <config error>\n", &line[..at]),
            None => format!("{line}\n"),
        })
        .collect()
}

#[test]
fn state_changes_on_twin_daemons() {
    let mut lanes = Lanes::start("twin", &standard_config());
    lanes.step(&["start", "grp:manual"]);
    lanes.step(&["status"]);
    lanes.step(&["stop", "grp:*"]);
    lanes.step(&["start", "grp:*", "sleeper"]);
    lanes.step(&["restart", "grp:manual", "num:*"]);
    lanes.settle();
    lanes.step(&["start", "failer"]);
    lanes.step(&["signal", "HUP", "grp:*"]);
    lanes.settle();
    lanes.step(&["signal", "USR1", "num:num_0", "failer"]);
    lanes.settle();
    lanes.step(&["clear", "talker", "grp:manual", "nope"]);
    lanes.step(&["tail", "talker"]);
    lanes.step(&["clear", "all"]);
    lanes.step(&["stop", "all"]);
    lanes.step(&["status"]);
    lanes.step(&["start", "all"]);
    lanes.settle();
    lanes.step(&["status", "sleeper", "talker", "nolog"]);
    lanes.step(&["stop", "sleeper"]);
    lanes.step(&["remove", "sleeper"]);
    lanes.step(&["avail"]);
    lanes.step(&["add", "sleeper"]);
    lanes.step(&["add", "sleeper"]);
    lanes.settle();
    lanes.step(&["status", "sleeper"]);
    lanes.step(&["restart", "all"]);
    lanes.settle();

    // Change the configs the same way: one program added, one removed,
    // one changed; then reread and update.
    lanes.edit_configs(|text| {
        text.replace("[program:nolog]", "[program:gone]").replace(
            "command=sh -c 'echo out-line;",
            "command=sh -c 'echo changed;",
        ) + "\n[program:fresh]\ncommand=sleep 1000\nstartsecs=0\nstdout_logfile=NONE\n"
    });
    lanes.step(&["reread"]);
    lanes.step(&["avail"]);
    lanes.step(&["update", "nope", "fresh"]);
    lanes.step(&["update"]);
    lanes.settle();
    lanes.step(&["status"]);
    lanes.step(&["reread"]);
    lanes.step(&["update", "all"]);

    // Group changes: a program joins a group, numprocs grows, a priority
    // changes, a new group appears.
    lanes.edit_configs(|text| {
        text.replace("programs=manual\n", "programs=manual,fresh\n")
            .replace("numprocs=2\n", "numprocs=3\n")
            .replace("[program:failer]\n", "[program:failer]\npriority=5\n")
            + "\n[group:newgrp]\nprograms=gone\npriority=1\n"
    });
    lanes.step(&["reread"]);
    lanes.step(&["avail"]);
    lanes.step(&["update", "num", "grp"]);
    lanes.settle();
    lanes.step(&["status"]);
    lanes.step(&["update"]);
    lanes.settle();
    lanes.step(&["status"]);
    lanes.step(&["avail"]);
    lanes.step(&["remove", "newgrp"]);
    lanes.step(&["stop", "newgrp:*"]);
    lanes.step(&["remove", "newgrp"]);
    lanes.step(&["reread"]);
    lanes.step(&["add", "newgrp", "grp", "nope"]);

    // A config the daemon cannot read.
    lanes.edit_configs(|text| text + "\n[program:broken]\nstartsecs=notanumber\ncommand=x\n");
    lanes.step_with(&["reread"], Mask::Cross(mask_config_error));
    lanes.step_with(&["update"], Mask::Cross(mask_config_error));
    lanes.step_with(&["maintail", "-100000"], Mask::All(main_log_messages));

    lanes.step(&["shutdown"]);
    lanes.for_each_daemon(Daemon::wait_exit);
    lanes.step(&["shutdown"]);
    lanes.step(&["status"]);
}

/// Programs that end, fail to spawn or give up, for the lifecycle test.
/// The ones that end live a moment first: one that exits at once may or may
/// not have reached RUNNING when 4.3's `start` looks.
const LIFECYCLE_PROGRAMS: &str = "
[program:quitter]
command=sh -c 'sleep 1; exit 3'
autostart=false
autorestart=false
startsecs=0
stdout_logfile=NONE

[program:quick]
command=sh -c 'echo hi; sleep 1'
autostart=false
autorestart=false
startsecs=0
stdout_logfile={dir}/quick.out

[program:missing]
command=/nonexistent/program
autostart=false
stdout_logfile=NONE

[program:expected]
command=sh -c 'sleep 1; exit 3'
exitcodes=3
autostart=false
startsecs=0
stdout_logfile=NONE

[program:intstop]
command=sleep 1000
stopsignal=INT
autostart=false
startsecs=0
stdout_logfile=NONE

[program:cleanexit]
command=sh -c \"trap 'exit 0' TERM; while true; do sleep 0.1; done\"
autostart=false
startsecs=0
stdout_logfile=NONE

[program:noexec]
command={dir}/supervisord.conf
autostart=false
stdout_logfile=NONE

[program:baddir]
command=sleep 1000
directory=/nonexistent/dir
autostart=false
startsecs=10
startretries=0
stdout_logfile=NONE
stderr_logfile={dir}/baddir.err

[program:retrier]
command=/bin/false
autostart=false
startsecs=10
startretries=1
stdout_logfile=NONE
";

/// The messages of a main log, once each, sorted: which messages a daemon
/// logged, not when nor how often. Messages whose presence is left to
/// timing in 4.3 itself are dropped: "waiting for X to stop" (logged when a
/// stop takes a moment).
fn main_log_messages(text: &str) -> String {
    let text = normalize(text, &[]);
    let mut messages: Vec<&str> = text
        .lines()
        .map(|line| {
            let is_stamped =
                line.as_bytes().get(4) == Some(&b'-') && line.as_bytes().get(23) == Some(&b' ');
            match line.get(24..) {
                Some(rest) if is_stamped => rest,
                _ => line,
            }
        })
        .filter(|m| !m.contains("waiting for "))
        .collect();
    messages.sort_unstable();
    messages.dedup();
    messages.iter().map(|m| format!("{m}\n")).collect()
}

#[test]
fn lifecycle_of_programs_that_end() {
    let mut lanes = Lanes::start("life", &standard_config().programs(LIFECYCLE_PROGRAMS));
    let ended = |s: &str| {
        s.contains("quitter                          EXITED")
            && s.contains("quick                            EXITED")
            && !s.contains("expected                         RUNNING")
    };
    lanes.step(&["start", "quitter", "quick"]);
    lanes.settle_until("quitter and quick to end", ended);
    lanes.step(&["status", "quitter"]);
    lanes.step(&["status", "quick"]);
    lanes.step(&["tail", "quick"]);
    lanes.step(&["start", "missing"]);
    lanes.step(&["status", "missing"]);
    lanes.step(&["start", "expected", "intstop", "cleanexit"]);
    lanes.settle_until("expected to end", |s| {
        s.contains("expected                         EXITED")
    });
    lanes.step(&["status", "expected", "intstop", "cleanexit"]);
    lanes.step(&["stop", "intstop", "cleanexit"]);
    lanes.step(&["start", "noexec"]);
    lanes.step(&["status", "noexec"]);
    lanes.step(&["start", "baddir"]);
    lanes.step(&["status", "baddir"]);
    lanes.step(&["tail", "baddir", "stderr"]);
    lanes.step(&["start", "retrier"]);
    lanes.settle();
    lanes.step(&["status"]);
    lanes.step(&["pid", "all"]);
    lanes.step(&["restart", "quitter", "quick", "missing"]);
    lanes.settle_until("quitter and quick to end", ended);
    lanes.step(&["status"]);
    lanes.step(&["stop", "quitter", "quick", "missing", "retrier"]);
    lanes.step(&["signal", "TERM", "quitter", "quick", "missing", "retrier"]);
    lanes.step(&["clear", "quitter", "quick", "missing"]);
    lanes.step(&["start", "all"]);
    lanes.settle_until("quitter and quick to end", ended);
    lanes.step(&["status"]);
    lanes.step(&["stop", "all"]);
    lanes.step(&["status"]);
    lanes.step_with(&["maintail", "-100000"], Mask::All(main_log_messages));
}

#[test]
fn transitional_states_on_twin_daemons() {
    let config = stubborn_config().programs(
        "\n[program:slow]\ncommand=sleep 1000\nautostart=false\nstartsecs=60\nstdout_logfile=NONE\n",
    );
    let mut lanes = Lanes::start("trans", &config);
    // STARTING: a `start` blocks for startsecs; a `stop` ends it.
    let blocked = lanes.in_background(&["start", "slow"]);
    lanes.settle_until_any("slow starting", |s| {
        s.contains("slow                             STARTING")
    });
    lanes.step(&["status", "slow"]);
    lanes.step(&["start", "slow"]);
    lanes.step(&["pid", "slow"]);
    lanes.step(&["stop", "slow"]);
    lanes.compare_finished(blocked, "start slow");
    lanes.step(&["status", "slow"]);

    // STOPPING: a `stop` blocks while the process ignores SIGTERM.
    lanes.step(&["start", "stubborn"]);
    let mut stubborn = KillOnDrop::default();
    lanes.for_each_daemon(|d| stubborn.0.push(d.process_pid("stubborn")));
    let blocked = lanes.in_background(&["stop", "stubborn"]);
    lanes.settle_until_any("stubborn stopping", |s| {
        s.contains("stubborn                         STOPPING")
    });
    lanes.step(&["status", "stubborn"]);
    lanes.step(&["stop", "stubborn"]);
    lanes.step(&["start", "stubborn"]);
    lanes.step(&["signal", "HUP", "stubborn"]);
    lanes.step(&["remove", "stubborn"]);
    drop(stubborn);
    lanes.compare_finished(blocked, "stop stubborn");
    lanes.step(&["status", "stubborn"]);
}

#[test]
fn reload_restarts_the_daemon() {
    let mut lanes = Lanes::start("reload", &stubborn_config());
    // A process that ignores SIGTERM holds every daemon in its restart (the
    // SHUTDOWN state) until the test kills it.
    lanes.step(&["start", "stubborn"]);
    // Dropped before the daemons: a failing test leaves no process behind.
    let mut stubborn = KillOnDrop::default();
    lanes.for_each_daemon(|d| stubborn.0.push(d.process_pid("stubborn")));
    // The restarted daemon reads its config again.
    lanes.edit_configs(|text| {
        text.replace("[program:nolog]", "[program:renamed]")
            + "\n[program:afterreload]\ncommand=sleep 1000\nstartsecs=0\nstdout_logfile=NONE\n"
    });
    lanes.step(&["reload"]);
    lanes.for_each_daemon(|d| {
        d.wait_status("the restart to begin", |s| s.contains("SHUTDOWN_STATE"))
    });
    for args in SHUTDOWN_STATE_CASES {
        lanes.step(args);
    }
    drop(stubborn);
    lanes.for_each_daemon(Daemon::wait_settled);
    lanes.step(&["status"]);
    lanes.step(&["avail"]);
    lanes.step(&["reread"]);
    lanes.step(&["tail", "talker"]);
}

/// Every command while the daemon restarts: each meets SHUTDOWN_STATE.
const SHUTDOWN_STATE_CASES: &[&[&str]] = &[
    &["status"],
    &["status", "sleeper"],
    &["pid"],
    &["pid", "sleeper"],
    &["pid", "all"],
    &["start", "manual"],
    &["start", "all"],
    &["stop", "sleeper"],
    &["stop", "all"],
    &["restart", "sleeper"],
    &["signal", "HUP", "sleeper"],
    &["clear", "talker"],
    &["tail", "talker"],
    &["tail", "-f", "talker"],
    &["maintail"],
    &["maintail", "-f"],
    &["fg", "sleeper"],
    &["avail"],
    &["reread"],
    &["add", "x"],
    &["remove", "sleeper"],
    &["update"],
    &["update", "all"],
    &["version"],
    &["shutdown"],
    &["reload"],
];

/// The standard config with a program that ignores SIGTERM for a minute.
fn stubborn_config() -> Config {
    standard_config().programs(
        "
[program:stubborn]
command=sh -c \"trap '' TERM; while true; do sleep 0.1; done\"
autostart=false
startsecs=0
stopwaitsecs=60
stdout_logfile=NONE
",
    )
}

#[test]
fn startup_log_names_each_servers_rpc_interface_like_4_3() {
    // 4.3 sets up the inet server before the unix one, and logs for each
    // "RPC interface 'supervisor' initialized" and, without credentials,
    // the CRIT warning. The main logs of both daemons must open alike.
    let start = |kind| {
        let config = standard_config().inet(free_port());
        let mut daemon = Daemon::start_kind(kind, "startlog", &config);
        daemon.wait_settled();
        daemon
    };
    let pair = DaemonPair::of(start(Flavor::Python), start(Flavor::Ours));
    let opening = |daemon: &Daemon| -> Vec<String> {
        let log = read_text(&daemon.dir.path("supervisord.log"));
        log.lines()
            .map(|line| normalize(line.get(24..).unwrap_or(line), &[]))
            .take_while(|m| !m.starts_with("INFO supervisord started with pid"))
            .collect()
    };
    let expected = opening(&pair.py);
    assert!(
        expected.iter().any(|m| m.contains("'inet_http_server'")),
        "{expected:?}"
    );
    assert_eq!(opening(&pair.rs), expected);
}

#[test]
fn named_log_file_is_created_at_first_spawn() {
    // 4.3 creates a named stdout_logfile when the process first starts
    // (AUTO ones at once): before that, `tail` answers "no log file" and
    // `tail -f` gets a 404; `missing` (its command is not found) never gets
    // one.
    let pair = DaemonPair::start("lazylog", &standard_config().programs(LIFECYCLE_PROGRAMS));
    let mut diffs = Differences::default();
    for args in [
        &["tail", "grp:manual"][..],
        &["tail", "grp:manual", "stderr"],
        &["tail", "-f", "grp:manual"],
        &["tail", "missing"],
        &["clear", "grp:manual"],
        &["tail", "quick"],
    ] {
        pair.compare(args, "", &mut diffs);
    }
    diffs.assert_none();
    for daemon in [&pair.py, &pair.rs] {
        assert!(!daemon.dir.path("manual.out").exists(), "{:?}", daemon.kind);
    }
    let mut diffs = Differences::default();
    // Starting creates it; a spawn error does not. (One supervisorctl per
    // daemon: two starting the same process at once would race.)
    for args in [&["start", "missing"][..], &["start", "quick"]] {
        let run = |daemon: &Daemon| {
            let conf = daemon.conf();
            let mut full = vec!["-c", conf.as_str()];
            full.extend_from_slice(args);
            (Ctl::Python.run(&full, ""), daemon.subs())
        };
        let (expected, got) = (run(&pair.py), run(&pair.rs));
        diffs.check(
            &format!("Python's supervisorctl {args:?} on our supervisord vs on Python's"),
            (&expected.0, &expected.1),
            (&got.0, &got.1),
            false,
        );
    }
    diffs.assert_none();
    for daemon in [&pair.py, &pair.rs] {
        assert!(daemon.dir.path("quick.out").exists(), "{:?}", daemon.kind);
    }
}

#[test]
fn bad_directory_fails_in_the_child_like_4_3() {
    // 4.3 changes directory in the child: the process is seen to start and
    // exit 127 ("Exited too quickly"), its stderr log holds the child's last
    // words; it is not a spawn error with the reason as description.
    let config = standard_config().programs(LIFECYCLE_PROGRAMS);
    let pair = DaemonPair::start("baddir", &config);
    let mut diffs = Differences::default();
    // One supervisorctl per daemon: two starting the same process would race.
    for args in [
        &["start", "baddir"][..],
        &["status", "baddir"],
        &["tail", "baddir", "stderr"],
    ] {
        let run = |daemon: &Daemon| {
            let conf = daemon.conf();
            let mut full = vec!["-c", conf.as_str()];
            full.extend_from_slice(args);
            (Ctl::Python.run(&full, ""), daemon.subs())
        };
        let (expected, got) = (run(&pair.py), run(&pair.rs));
        diffs.check(
            &format!("Python's supervisorctl {args:?} on our supervisord vs on Python's"),
            (&expected.0, &expected.1),
            (&got.0, &got.1),
            false,
        );
    }
    diffs.assert_none();
}
