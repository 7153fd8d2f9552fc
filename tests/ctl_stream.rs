//! Following logs (`tail -f`, `maintail -f`), `fg`, Ctrl-C and a closed
//! stdout: the long-running commands, compared with 4.3 where the output is
//! deterministic and checked for their contract where it is timing-bound.

use crate::ctl_util::*;

/// The programs of the streaming tests, under [`ctl_config`].
const STREAM_PROGRAMS: &str = "\
[program:talker]
command=sh -c 'echo out-line; echo err-line >&2; exec sleep 1000'
startsecs=0
stdout_logfile={dir}/talker.out
stderr_logfile={dir}/talker.err

[program:ticker]
command=sh -c 'while true; do echo tick; sleep 0.1; done'
startsecs=0
stdout_logfile={dir}/ticker.out

[program:echoer]
command=sh -c 'while read line; do echo \"got:$line\"; done'
startsecs=0
stdout_logfile={dir}/echoer.out

[program:chatter]
command=sh -c 'while true; do echo tick; sleep 0.1; done & while read line; do echo \"got:$line\"; done'
startsecs=0
stopasgroup=true
stdout_logfile={dir}/chatter.out

[program:slow]
command=sleep 1000
startsecs=30
autostart=false
stdout_logfile=NONE
";

/// Runs `args`, waits for `ready` on stdout, presses Ctrl-C, returns the result.
fn interrupted(ctl: &Ctl, args: &[&str], ready: &str) -> Output {
    let run = Running::start(ctl, args, None);
    run.wait_stdout(ready);
    run.interrupt();
    run.finish()
}

#[test]
fn tail_f_and_maintail_f_end_on_ctrl_c_like_4_3() {
    let pair = DaemonPair::start("follow", &ctl_config(STREAM_PROGRAMS));
    let mut py_outputs = Vec::new();
    for (daemon, ours) in [(&pair.py, &pair.ours_py), (&pair.rs, &pair.ours_rs)] {
        py_outputs.push(follow_logs(daemon, ours));
    }
    // Python's supervisorctl follows our daemon's logs as it follows its own.
    assert_eq!(py_outputs.get(1), py_outputs.first());
}

/// `tail -f` and `maintail -f` against `daemon`; returns what Python's
/// supervisorctl printed for the deterministic ones.
fn follow_logs(daemon: &Daemon, ours: &Ctl) -> Vec<Output> {
    let conf = daemon.conf();
    let kind = daemon.kind;
    let mut py_outputs = Vec::new();
    for (args, ready) in [
        (
            vec!["-c", conf.as_str(), "tail", "-f", "talker"],
            "out-line\n",
        ),
        (
            vec!["-c", conf.as_str(), "tail", "-f", "talker", "stderr"],
            "err-line\n",
        ),
    ] {
        let expected = interrupted(&Ctl::Python, &args, ready);
        let got = interrupted(ours, &args, ready);
        assert_eq!(got, expected, "{args:?} on {kind:?}");
        assert_eq!(
            got.stdout,
            format!("==> Press Ctrl-C to exit <==\n{ready}\n")
        );
        assert_eq!(got.code, Some(0));
        py_outputs.push(expected);
    }
    // The main log: the same shape (its tail may grow between the runs).
    let args = ["-c", conf.as_str(), "maintail", "-f"];
    for ctl in [&Ctl::Python, ours] {
        let out = interrupted(ctl, &args, "success: ");
        assert!(
            out.stdout.starts_with("==> Press Ctrl-C to exit <==\n"),
            "{kind:?}: {out:?}"
        );
        assert!(out.stdout.ends_with("\n\n"), "{kind:?}: {out:?}");
        assert_eq!((out.stderr.as_str(), out.code), ("", Some(0)), "{kind:?}");
    }
    // A stream the server refuses ends at once, with 4.3's message.
    for name in ["nope", "slow"] {
        let args = ["-c", conf.as_str(), "tail", "-f", name];
        let subs = daemon.subs();
        compare_runs(&Ctl::Python, &subs, ours, &subs, &args, &args, "", false);
        let mut out = Ctl::Python.run(&args, "");
        out.stderr = normalize(&out.stderr, &subs);
        py_outputs.push(out);
    }
    py_outputs
}

#[test]
fn fg_sends_lines_and_leaves_on_eof_or_ctrl_c() {
    let pair = DaemonPair::start("fg", &ctl_config(STREAM_PROGRAMS));
    for (daemon, ours) in [(&pair.py, &pair.ours_py), (&pair.rs, &pair.ours_rs)] {
        let conf = daemon.conf();
        // Both supervisorctls on both daemons: Python's `fg` checks our
        // daemon's sendProcessStdin and log tail. 4.3's `fg` ends only at
        // the next output after EOF (its reader thread dies then): it talks
        // to a program that also ticks.
        for (ctl, program) in [(&Ctl::Python, "chatter"), (ours, "echoer")] {
            let what = format!("{ctl:?} on {:?}", daemon.kind);
            let mut run = Running::start(ctl, &["-c", &conf, "fg", program], None);
            run.wait_stdout("==> Press Ctrl-C to exit <==\n");
            run.send("hello\n");
            run.wait_stdout("got:hello\n");
            run.close_stdin();
            let out = run.finish();
            assert_eq!(out.code, Some(0), "{what}");
            assert!(
                out.stdout.ends_with("Exiting foreground\n"),
                "{what}: {out:?}"
            );
            assert_eq!(out.stderr, "", "{what}");

            let run = Running::start(ctl, &["-c", &conf, "fg", "ticker"], None);
            run.wait_stdout("tick\n");
            run.interrupt();
            let out = run.finish();
            assert_eq!(out.code, Some(0), "{what}");
            assert!(
                out.stdout.ends_with("Exiting foreground\n"),
                "{what}: {out:?}"
            );
        }
    }
    // Not-running and unknown processes: same as 4.3, on both daemons.
    let mut diffs = Differences::default();
    for args in [["fg", "slow"], ["fg", "nope"]] {
        pair.compare(&args, "", &mut diffs);
    }
    diffs.assert_none();
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let pair = DaemonPair::start("pipe-closed", &ctl_config(STREAM_PROGRAMS));
    for (daemon, ours) in [(&pair.py, &pair.ours_py), (&pair.rs, &pair.ours_rs)] {
        closed_stdout(daemon, ours);
    }
}

fn closed_stdout(daemon: &Daemon, ours: &Ctl) {
    let conf = daemon.conf();
    let kind = daemon.kind;
    // `supervisorctl tail -f ticker | head -1`: ends at the next write.
    let mut cmd = ours.command();
    cmd.args(["-c", &conf, "tail", "-f", "ticker"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let err = read_in_thread(child.stderr.take().unwrap());
    let code = wait_exit(&mut child, RUN_DEADLINE).code();
    assert_eq!(code, Some(0), "{kind:?}");
    assert_eq!(
        String::from_utf8_lossy(&err.recv().unwrap()),
        "",
        "{kind:?}"
    );

    // A long one-shot output cut short.
    let mut cmd = ours.command();
    cmd.args(["-c", &conf, "tail", "-100000", "ticker"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let err = read_in_thread(child.stderr.take().unwrap());
    let code = wait_exit(&mut child, RUN_DEADLINE).code();
    assert_eq!(code, Some(0), "{kind:?}");
    assert_eq!(
        String::from_utf8_lossy(&err.recv().unwrap()),
        "",
        "{kind:?}"
    );
}

#[test]
fn ctrl_c_during_a_blocking_command() {
    let pair = DaemonPair::start("sigint", &ctl_config(STREAM_PROGRAMS));
    for (daemon, ours) in [(&pair.py, &pair.ours_py), (&pair.rs, &pair.ours_rs)] {
        ctrl_c_while_blocked(daemon, ours);
    }
}

fn ctrl_c_while_blocked(daemon: &Daemon, ours: &Ctl) {
    let conf = daemon.conf();
    let kind = daemon.kind;
    // `start slow` blocks for startsecs=30; Ctrl-C ends supervisorctl the
    // way an uncaught KeyboardInterrupt ends 4.3's.
    let run = Running::start(ours, &["-c", &conf, "start", "slow"], None);
    daemon.wait_status("slow starting", |s| {
        s.contains("slow                             STARTING")
    });
    run.interrupt();
    let out = run.finish();
    assert_eq!(out.code, Some(130), "{kind:?}");
    assert_eq!(out.stderr, "KeyboardInterrupt\n", "{kind:?}");
    // In the shell, Ctrl-C at the prompt ends the shell with status 0.
    let run = Running::start(ours, &["-c", &conf], None);
    run.wait_stdout("supervisor> ");
    run.interrupt();
    let out = run.finish();
    assert_eq!(out.code, Some(0), "{kind:?}");
    assert!(out.stdout.ends_with("supervisor> \n"), "{kind:?}: {out:?}");
}

#[test]
fn logtail_404_lingers_until_the_client_is_done() {
    // 4.3's supervisorctl sends one more CRLF after its request head. A
    // daemon that closes at once after its 404 makes that write fail
    // (EPIPE), and supervisorctl then reports "Cannot connect, error:
    // BrokenPipeError" instead of "Cannot read, status code 404".
    use std::io::{Read, Write};
    let mut daemon = Daemon::start_kind(Flavor::Ours, "linger", &ctl_config(STREAM_PROGRAMS));
    daemon.wait_settled();
    let mut sock = std::os::unix::net::UnixStream::connect(daemon.sock()).unwrap();
    sock.set_read_timeout(Some(RUN_DEADLINE)).unwrap();
    sock.write_all(b"GET /logtail/nope/stdout HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut response = Vec::new();
    sock.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.0 404 "), "{response}");
    sock.write_all(b"\r\n")
        .expect("the daemon still reads after its answer");
}

/// Programs whose logs hold a known, fixed output, under [`ctl_config`].
const LOGS_PROGRAMS: &str = "\
[program:counter]
command=sh -c 'seq 1 3000; exec sleep 1000'
startsecs=0
stdout_logfile={dir}/counter.out

[program:errcounter]
command=sh -c 'seq 1 500 >&2; exec sleep 1000'
startsecs=0
stdout_logfile=NONE
stderr_logfile={dir}/errcounter.err

[program:merged]
command=sh -c 'echo out; echo err >&2; exec sleep 1000'
startsecs=0
redirect_stderr=true
stdout_logfile={dir}/merged.out

[program:autolog]
command=sh -c 'echo auto; echo autoerr >&2; exec sleep 1000'
startsecs=0
";

#[test]
fn tails_of_long_logs_match_4_3() {
    let pair = DaemonPair::start("logs", &ctl_config(LOGS_PROGRAMS));
    for daemon in [&pair.py, &pair.rs] {
        for (file, last) in [
            ("counter.out", "3000\n"),
            ("errcounter.err", "500\n"),
            ("merged.out", "err\n"),
        ] {
            wait_for(START_DEADLINE, &format!("{file} written"), || {
                read_text(&daemon.dir.path(file))
                    .ends_with(last)
                    .then_some(())
            });
        }
    }
    let mut diffs = Differences::default();
    for args in [
        &["tail", "counter"][..],
        &["tail", "-100", "counter"],
        &["tail", "-20000", "counter"],
        &["tail", "-1", "counter"],
        &["tail", "counter", "stderr"],
        &["tail", "errcounter", "stderr"],
        &["tail", "-7", "errcounter", "stderr"],
        &["tail", "errcounter"],
        &["tail", "merged"],
        &["tail", "merged", "stderr"],
        &["tail", "-f", "merged", "stderr"],
        &["tail", "autolog"],
        &["tail", "autolog", "stderr"],
        &["clear", "counter", "merged"],
        &["tail", "counter"],
        &["tail", "-f", "errcounter"],
    ] {
        pair.compare(args, "", &mut diffs);
    }
    diffs.assert_none();
    // `tail -f` starts with the last KiB of the file.
    let mut py_outputs = Vec::new();
    for (daemon, ours) in [(&pair.py, &pair.ours_py), (&pair.rs, &pair.ours_rs)] {
        let args = ["-c", &daemon.conf(), "tail", "-f", "errcounter", "stderr"].map(String::from);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let expected = interrupted(&Ctl::Python, &args, "500\n");
        let got = interrupted(ours, &args, "500\n");
        assert_eq!(got, expected, "{:?}", daemon.kind);
        py_outputs.push(expected);
    }
    assert_eq!(py_outputs.get(1), py_outputs.first());
}
