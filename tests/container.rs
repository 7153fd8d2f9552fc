//! Container mode: an essential program ends the run with its exit status,
//! exit_when_all_done ends it when every program has ended, a second TERM
//! while stopping kills what is left, and all of it as PID 1 of a new pid
//! namespace (the container's init).

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::Signal;

use crate::util::{alive, children_of, kill, wait_for, Config, Daemon, Launch, Sandbox};

const T: Duration = Duration::from_secs(20);

/// Waits for supervisord to exit by itself.
fn exit_of(d: &mut Daemon, timeout: Duration) -> ExitStatus {
    wait_for(timeout, "supervisord to exit", || {
        d.child.try_wait().ok().flatten()
    })
}

/// A program that stays up until `{dir}/go-NAME` exists, then exits `code`.
fn until_go(name: &str, code: i32) -> String {
    format!(
        "[program:{name}]\ncommand=sh -c 'while [ ! -e {{dir}}/go-{name} ]; do sleep 0.05; done; \
         exit {code}'\nstartsecs=0\n"
    )
}

#[test]
fn an_essential_exit_42_makes_supervisord_exit_42_after_stopping_the_rest() {
    let sb = Sandbox::new("ess42");
    let conf = Config::new(&format!(
        "{}essential=true\nautorestart=true\n\n\
         [program:other]\ncommand=sleep 1000\nstartsecs=0\n",
        until_go("web", 42)
    ))
    .write(&sb);
    let mut d = Daemon::start_with(&sb, &conf);
    d.wait_state("web", "RUNNING", T);
    d.wait_state("other", "RUNNING", T);
    let other = d.process_pid("other");
    sb.write("go-web", "");
    let status = exit_of(&mut d, T);
    assert_eq!(status.code(), Some(42), "{status}");
    assert!(!alive(other), "other (pid {other}) was stopped");
    let log = d.main_log();
    assert!(
        log.contains(
            "WARN essential program web exited (exit status 42); stopping everything, \
             then exiting with status 42"
        ),
        "{log}"
    );
    assert!(
        log.contains("stopped: other (terminated by SIGTERM)"),
        "{log}"
    );
    assert_eq!(
        log.matches("spawned: 'web'").count(),
        1,
        "not restarted: {log}"
    );
    assert!(log.contains("supervisord exiting with status 42"), "{log}");
}

#[test]
fn an_essential_program_killed_by_term_makes_supervisord_exit_143() {
    let sb = Sandbox::new("ess143");
    let conf = Config::new(
        "[program:web]\ncommand=sleep 1000\nstartsecs=0\nessential=true\n\n\
         [program:a]\ncommand=sleep 1000\nstartsecs=0\npriority=1\n\n\
         [program:z]\ncommand=sleep 1000\nstartsecs=0\npriority=2000\n",
    )
    .write(&sb);
    let mut d = Daemon::start_with(&sb, &conf);
    for name in ["web", "a", "z"] {
        d.wait_state(name, "RUNNING", T);
    }
    let (a, z) = (d.process_pid("a"), d.process_pid("z"));
    let web = d.process_pid("web");
    kill(web, Signal::TERM).expect("kill web");
    let status = exit_of(&mut d, T);
    assert_eq!(status.code(), Some(143), "{status}");
    assert!(!alive(a) && !alive(z), "the others were stopped");
    let log = d.main_log();
    assert!(
        log.contains(
            "essential program web exited (terminated by SIGTERM); stopping everything, \
             then exiting with status 143"
        ),
        "{log}"
    );
    // The normal shutdown path: reverse priority, z (2000) before a (1).
    let (sz, sa) = (log.find("stopped: z"), log.find("stopped: a"));
    assert!(sz.is_some() && sa.is_some() && sz < sa, "{log}");
}

#[test]
fn exit_when_all_done_exits_0_when_every_program_ended_as_expected() {
    let sb = Sandbox::new("alldone0");
    let conf = Config::new(&format!(
        "{}autorestart=false\n\n{}autorestart=unexpected\n\n\
         [program:manual]\ncommand=sleep 1000\nautostart=false\n",
        until_go("one", 0),
        until_go("two", 0)
    ))
    .supervisord("exit_when_all_done=true")
    .write(&sb);
    let mut d = Daemon::start_with(&sb, &conf);
    d.wait_state("one", "RUNNING", T);
    d.wait_state("two", "RUNNING", T);
    sb.write("go-one", "");
    d.wait_state("one", "EXITED", T);
    // One ended, one still runs: nothing ends yet.
    assert_eq!(d.statename("two"), "RUNNING");
    sb.write("go-two", "");
    let status = exit_of(&mut d, T);
    assert_eq!(status.code(), Some(0), "{status}");
    let log = d.main_log();
    assert!(
        log.contains(
            "INFO every program has ended and none will restart (exit_when_all_done); \
             exiting with status 0"
        ),
        "{log}"
    );
}

#[test]
fn exit_when_all_done_exits_with_the_status_of_an_unexpected_exit() {
    let sb = Sandbox::new("alldone3");
    let conf = Config::new(&format!(
        "{}autorestart=false\n\n{}exitcodes=0\nautorestart=false\n",
        until_go("fine", 0),
        until_go("broken", 3)
    ))
    .supervisord("exit_when_all_done=true")
    .write(&sb);
    let mut d = Daemon::start_with(&sb, &conf);
    d.wait_state("fine", "RUNNING", T);
    d.wait_state("broken", "RUNNING", T);
    sb.write("go-broken", "");
    d.wait_state("broken", "EXITED", T);
    sb.write("go-fine", "");
    let status = exit_of(&mut d, T);
    assert_eq!(status.code(), Some(3), "{status}");
    let log = d.main_log();
    assert!(
        log.contains("exiting with status 3: broken exited unexpectedly (exit status 3)"),
        "{log}"
    );
}

#[test]
fn a_second_term_while_stopping_kills_what_is_left() {
    let sb = Sandbox::new("term2");
    let conf = Config::new(
        "[program:stubborn]\ncommand=sh -c 'trap \"\" TERM; touch {dir}/trapped; \
         while :; do sleep 0.1; done'\nstartsecs=0\nstopwaitsecs=60\nkillasgroup=true\n\n\
         [program:later]\ncommand=sleep 1000\nstartsecs=0\npriority=1\n",
    )
    .write(&sb);
    let mut d = Daemon::start_with(&sb, &conf);
    d.wait_state("later", "RUNNING", T);
    wait_for(T, "stubborn to ignore TERM", || {
        sb.path("trapped").exists().then_some(())
    });
    let later = d.process_pid("later");
    d.signal("TERM");
    wait_for(T, "the shutdown to begin", || {
        let log = d.main_log();
        log.contains("received SIGTERM indicating exit request")
            .then_some(())
    });
    d.signal("TERM");
    // Well before stubborn's stopwaitsecs (60 s).
    let status = exit_of(&mut d, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(!alive(later));
    let log = d.main_log();
    assert!(
        log.contains("WARN received SIGTERM again while stopping: killing what is left"),
        "{log}"
    );
    assert!(
        log.contains("process group with signal SIGKILL"),
        "killasgroup: {log}"
    );
    assert!(
        log.contains("stopped: stubborn (terminated by SIGKILL)"),
        "{log}"
    );
}

// ----- as PID 1 -----------------------------------------------------------------

/// Whether this machine can make a pid namespace (root and unshare(1)).
fn can_unshare() -> bool {
    Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `supervisord -n -c CONF` as PID 1 of a new pid namespace; returns the
/// unshare process and supervisord's pid as the host sees it.
fn pid_1(sb: &Sandbox, conf: &std::path::Path) -> (Child, u32) {
    let mut unshare = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(sb.mode("supervisord"))
        .arg("-n")
        .arg("-c")
        .arg(conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare");
    let pid = wait_for(T, "supervisord as PID 1", || {
        if let Ok(Some(status)) = unshare.try_wait() {
            panic!("unshare exited early: {status}");
        }
        children_of(unshare.id()).into_iter().next()
    });
    (unshare, pid)
}

/// Zombies among `pid`'s children.
fn zombies_of(pid: u32) -> Vec<u32> {
    children_of(pid)
        .into_iter()
        .filter(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            stat.rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next())
                == Some("Z")
        })
        .collect()
}

#[test]
fn as_pid_1_orphans_are_reaped_without_stealing_a_childs_status_and_term_stops_in_order() {
    if !can_unshare() {
        eprintln!("skipped: `unshare --pid --fork --mount-proc` does not work here (needs root)");
        return;
    }
    let sb = Sandbox::new("pid1term");
    // `orphaner` leaves a double-forked child behind (re-parented to PID 1),
    // then ends with a status of its own that must reach its record; the
    // `ready=exec` probe of `probed` is a child of supervisord too, whose
    // status must reach the probe.
    let conf = Config::new(
        "[program:orphaner]\ncommand=sh -c '(sleep 0.2 &); sleep 1; exit 5'\nstartsecs=0\n\
         exitcodes=5\nautorestart=false\n\n\
         [program:probed]\ncommand=sleep 1000\nready=exec:sleep 0.1\n\n\
         [program:server]\ncommand=sleep 1000\nstartsecs=0\nstopwaitsecs=30\n",
    )
    .write(&sb);
    let (mut unshare, pid) = pid_1(&sb, &conf);
    let log_path = sb.path("supervisord.log");
    let log = wait_for(T, "the orphan reaped and orphaner's exit recorded", || {
        let text = std::fs::read_to_string(&log_path).ok()?;
        (text.contains("reaped unknown pid") && text.contains("exited: orphaner")).then_some(text)
    });
    assert!(log.contains("supervisord started with pid 1"), "{log}");
    assert!(
        log.contains("exited: orphaner (exit status 5; expected)"),
        "the reaper left orphaner's status to its watcher: {log}"
    );
    assert_eq!(zombies_of(pid), Vec::<u32>::new(), "no zombie under PID 1");
    let log = wait_for(T, "probed to be ready", || {
        let text = std::fs::read_to_string(&log_path).ok()?;
        text.contains("success: probed entered RUNNING state, process is ready")
            .then_some(text)
    });
    assert_eq!(
        log.matches("reaped unknown pid").count(),
        1,
        "only the orphan, never the probe: {log}"
    );
    let _ = kill(pid, Signal::TERM);
    let status = wait_for(T, "the init to exit", || unshare.try_wait().ok().flatten());
    assert_eq!(status.code(), Some(0), "{status}");
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        log.contains("stopped: server (terminated by SIGTERM)"),
        "{log}"
    );
}

#[test]
fn as_pid_1_a_second_int_kills_what_is_left_and_an_essential_status_is_the_exit() {
    if !can_unshare() {
        eprintln!("skipped: `unshare --pid --fork --mount-proc` does not work here (needs root)");
        return;
    }
    let sb = Sandbox::new("pid1int");
    let conf = Config::new(
        "[program:stubborn]\ncommand=sh -c 'trap \"\" TERM INT; touch {dir}/trapped; \
         while :; do sleep 0.1; done'\nstartsecs=0\nstopwaitsecs=60\n",
    )
    .write(&sb);
    let (mut unshare, pid) = pid_1(&sb, &conf);
    wait_for(T, "stubborn to ignore TERM", || {
        sb.path("trapped").exists().then_some(())
    });
    let log_path = sb.path("supervisord.log");
    let _ = kill(pid, Signal::INT);
    wait_for(T, "the shutdown to begin", || {
        let text = std::fs::read_to_string(&log_path).ok()?;
        text.contains("received SIGINT indicating exit request")
            .then_some(())
    });
    let _ = kill(pid, Signal::INT);
    let status = wait_for(Duration::from_secs(10), "the init to exit", || {
        unshare.try_wait().ok().flatten()
    });
    assert_eq!(status.code(), Some(0), "{status}");
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        log.contains("received SIGINT again while stopping: killing what is left"),
        "{log}"
    );

    // And an essential program's status is the namespace's exit status.
    let sb = Sandbox::new("pid1ess");
    let conf = Config::new(&format!(
        "{}essential=true\n\n[program:other]\ncommand=sleep 1000\nstartsecs=0\n",
        until_go("web", 7)
    ))
    .write(&sb);
    let (mut unshare, _) = pid_1(&sb, &conf);
    let log_path = sb.path("supervisord.log");
    wait_for(T, "web to run", || {
        let text = std::fs::read_to_string(&log_path).ok()?;
        text.contains("spawned: 'web'").then_some(())
    });
    sb.write("go-web", "");
    let status = wait_for(T, "the init to exit", || unshare.try_wait().ok().flatten());
    assert_eq!(status.code(), Some(7), "{status}");
}

#[test]
fn without_the_new_keys_a_programs_exit_ends_nothing() {
    let sb = Sandbox::new("plain43");
    let conf = Config::new(&format!("{}autorestart=false\n", until_go("job", 0))).write(&sb);
    let mut d = Daemon::spawn(&sb, crate::util::Flavor::Ours, &conf, Launch::default());
    d.wait_until("supervisord to answer", |d| {
        d.call("supervisor.getState", &[]).is_ok()
    });
    d.wait_state("job", "RUNNING", T);
    sb.write("go-job", "");
    d.wait_state("job", "EXITED", T);
    assert!(d.call("supervisor.getState", &[]).is_ok(), "still running");
    let status = d.stop();
    assert_eq!(status.code(), Some(0));
}
