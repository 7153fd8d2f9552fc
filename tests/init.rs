//! supervisord as a system daemon and as a container init: daemonizing,
//! the pidfile, dropping to another user, reaping orphans as PID 1.

use std::process::{Command, Stdio};
use std::time::Duration;

use rustix::process::Signal;

use crate::util::{alive, kill, rpc_unix, run_mode, wait_exit, wait_for, Config, Daemon, Sandbox};

const T: Duration = Duration::from_secs(20);

fn is_root() -> bool {
    rustix::process::getuid().is_root()
}

#[test]
fn without_nodaemon_it_detaches_and_the_pidfile_names_the_daemon() {
    let sb = Sandbox::new("daemonize");
    let conf = Config::new("[program:s]\ncommand=sleep 100\nstartsecs=0\n").write(&sb);
    let mut launcher = Command::new(sb.mode("supervisord"))
        .arg("-c")
        .arg(&conf)
        .current_dir(&sb.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run supervisord");
    let launcher = wait_exit(&mut launcher, T);
    assert!(launcher.success(), "the launching process exits 0 at once");
    let pidfile = sb.path("supervisord.pid");
    let pid: u32 = wait_for(T, "the pidfile", || {
        std::fs::read_to_string(&pidfile).ok()?.trim().parse().ok()
    });
    assert!(alive(pid));
    let sock = sb.path("supervisor.sock");
    wait_for(T, "the daemon to answer", || {
        rpc_unix(&sock, "supervisor.getPID", &[]).ok()?.ok()
    });
    // The daemon leads no session of a terminal: it is not its session leader.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let (session, tty) = (fields.get(3).copied(), fields.get(4).copied());
    assert_ne!(
        session,
        Some(pid.to_string().as_str()),
        "double fork: not a session leader"
    );
    assert_eq!(tty, Some("0"), "no controlling terminal");
    let _ = kill(pid, Signal::TERM);
    wait_for(T, "the daemon to exit", || (!alive(pid)).then_some(()));
    assert!(!pidfile.exists());
}

#[test]
fn user_runs_the_child_as_that_user() {
    if !is_root() {
        eprintln!("skipped: switching users needs root");
        return;
    }
    let sb = Sandbox::new("user");
    let d = Daemon::start(
        &sb,
        "[program:who]\ncommand=sleep 100\nuser=nobody\nstartsecs=0\n",
    );
    d.wait_state("who", "RUNNING", T);
    let pid = d.process_pid("who");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap_or_default()
        .to_string();
    let nobody = supervisor::users::find_user("nobody").expect("nobody in /etc/passwd");
    assert!(
        uid_line
            .split_whitespace()
            .skip(1)
            .all(|u| u == nobody.uid.to_string()),
        "{uid_line}"
    );
}

#[test]
fn an_unknown_user_is_refused_at_config_time() {
    let sb = Sandbox::new("nouser");
    let conf = Config::new("[program:x]\ncommand=sleep 1\nuser=no-such-user-here\n").write(&sb);
    let out = run_mode(
        &sb,
        "supervisord",
        &["-n", "-c", conf.to_str().unwrap_or_default()],
    );
    assert_eq!(out.code, Some(2));
    let stderr = &out.stderr;
    assert!(stderr.contains("no-such-user-here"), "{stderr}");
}

#[test]
fn as_pid_1_it_reaps_orphans() {
    if !is_root() || Command::new("unshare").arg("--help").output().is_err() {
        eprintln!("skipped: needs root and unshare(1) for a pid namespace");
        return;
    }
    let sb = Sandbox::new("pid1");
    // The subshell leaves `sleep 0.2` behind as an orphan; it is re-parented
    // to PID 1 (supervisord) and must be reaped when it exits.
    let conf = Config::new(
        "[program:orphaner]\ncommand=sh -c '(sleep 0.2 &); exec sleep 100'\nstartsecs=0\n",
    )
    .write(&sb);
    let mut init = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(sb.mode("supervisord"))
        .arg("-n")
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare");
    let log = sb.path("supervisord.log");
    let text = wait_for(T, "the orphan to be reaped", || {
        let text = std::fs::read_to_string(&log).ok()?;
        text.contains("reaped unknown pid").then_some(text)
    });
    assert!(text.contains("supervisord started with pid 1"), "{text}");
    // supervisord (PID 1 inside) has no zombie children left.
    let pid: u32 = wait_for(T, "the daemon's host pid", || {
        let out = Command::new("pgrep")
            .arg("-f")
            .arg(conf.to_str()?)
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse::<u32>().ok())
            .find(|p| {
                std::fs::read_to_string(format!("/proc/{p}/status"))
                    .map(|s| {
                        s.lines()
                            .any(|l| l.starts_with("NSpid:") && l.trim_end().ends_with("\t1"))
                    })
                    .unwrap_or(false)
            })
    });
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    for child in children.split_whitespace() {
        let state = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        assert!(!state.contains(") Z "), "zombie child {child}: {state}");
    }
    let _ = kill(pid, Signal::TERM);
    let status = wait_for(T, "the init to exit", || init.try_wait().ok().flatten());
    assert!(status.success());
}
