//! supervisord end to end: real children (sh scripts), real signals, the
//! state graph as 4.3 walks it, reload and shutdown.

use std::time::{Duration, Instant};

use supervisor::rpc::value::Value;

use crate::util::{alive, run_mode, wait_for, Config, Daemon, Sandbox};

const T: Duration = Duration::from_secs(20);

#[test]
fn autostart_starts_only_autostart_programs() {
    let sb = Sandbox::new("autostart");
    let d = Daemon::start(
        &sb,
        "[program:on]\ncommand=sleep 100\nstartsecs=0\n\n[program:off]\ncommand=sleep 100\nautostart=false\n",
    );
    d.wait_state("on", "RUNNING", T);
    assert_eq!(d.statename("off"), "STOPPED");
    assert_eq!(
        d.info("off").get("description").and_then(Value::as_str),
        Some("Not started")
    );
    assert_eq!(d.stop().code(), Some(0));
}

#[test]
fn startsecs_keeps_a_process_starting_until_it_has_stayed_up() {
    let sb = Sandbox::new("startsecs");
    let d = Daemon::start(
        &sb,
        "[program:slow]\ncommand=sleep 100\nstartsecs=2\nautostart=false\n",
    );
    let began = Instant::now();
    d.call(
        "supervisor.startProcess",
        &[Value::str("slow"), Value::Bool(false)],
    )
    .expect("start");
    assert_eq!(d.statename("slow"), "STARTING");
    d.wait_state("slow", "RUNNING", T);
    assert!(
        began.elapsed() >= Duration::from_secs(2),
        "RUNNING after {:?}",
        began.elapsed()
    );
    assert!(d.main_log().contains(
        "success: slow entered RUNNING state, process has stayed up for > than 2 seconds (startsecs)"
    ));
}

#[test]
fn a_process_that_keeps_failing_backs_off_then_is_fatal() {
    let sb = Sandbox::new("backoff");
    let d = Daemon::start(
        &sb,
        "[program:bad]\ncommand=sh -c 'exit 1'\nstartretries=2\n",
    );
    d.wait_state("bad", "FATAL", T);
    let log = d.main_log();
    assert_eq!(log.matches("spawned: 'bad' with pid").count(), 3, "{log}");
    assert!(
        log.contains("exited: bad (exit status 1; not expected)"),
        "{log}"
    );
    assert!(
        log.contains("gave up: bad entered FATAL state, too many start retries too quickly"),
        "{log}"
    );
    assert_eq!(
        d.info("bad").get("description").and_then(Value::as_str),
        Some("Exited too quickly (process log may have details)")
    );
}

#[test]
fn an_expected_exit_after_startsecs_is_exited() {
    let sb = Sandbox::new("exited");
    let d = Daemon::start(
        &sb,
        "[program:once]\ncommand=sh -c 'sleep 1.3; exit 0'\nstartsecs=1\n",
    );
    d.wait_state("once", "EXITED", T);
    let info = d.info("once");
    assert_eq!(info.get("exitstatus").and_then(Value::as_int), Some(0));
    assert!(d
        .main_log()
        .contains("exited: once (exit status 0; expected)"));
}

#[test]
fn autorestart_modes() {
    let sb = Sandbox::new("autorestart");
    let d = Daemon::start(
        &sb,
        "[program:always]\ncommand=sh -c 'sleep 0.3; exit 0'\nstartsecs=0\nautorestart=true\n\n\
         [program:unexpected]\ncommand=sh -c 'sleep 0.3; exit 3'\nstartsecs=0\nautorestart=unexpected\n\n\
         [program:expected]\ncommand=sh -c 'sleep 0.3; exit 3'\nstartsecs=0\nautorestart=unexpected\nexitcodes=3\n\n\
         [program:never]\ncommand=sh -c 'sleep 0.3; exit 3'\nstartsecs=0\nautorestart=false\n",
    );
    // Restarting programs are spawned again and again.
    wait_for(T, "restarts", || {
        let log = d.main_log();
        (log.matches("spawned: 'always'").count() >= 3
            && log.matches("spawned: 'unexpected'").count() >= 3)
            .then_some(())
    });
    d.wait_state("expected", "EXITED", T);
    d.wait_state("never", "EXITED", T);
    let log = d.main_log();
    assert_eq!(log.matches("spawned: 'expected'").count(), 1, "{log}");
    assert_eq!(log.matches("spawned: 'never'").count(), 1, "{log}");
    assert!(log.contains("exited: never (exit status 3; not expected)"));
}

#[test]
fn stopsignal_is_what_a_stop_sends() {
    let sb = Sandbox::new("stopsignal");
    let marker = sb.path("got-usr1");
    sb.script(
        "trap.sh",
        &format!(
            "trap 'echo usr1 > {}; exit 0' USR1\nwhile true; do sleep 0.1; done",
            marker.display()
        ),
    );
    let d = Daemon::start(
        &sb,
        &format!(
            "[program:t]\ncommand={}\nstopsignal=USR1\nstartsecs=0\n",
            sb.path("trap.sh").display()
        ),
    );
    d.wait_state("t", "RUNNING", T);
    d.call("supervisor.stopProcess", &[Value::str("t")])
        .expect("stop");
    assert_eq!(d.statename("t"), "STOPPED");
    assert!(marker.exists(), "the program never got SIGUSR1");
}

#[test]
fn a_process_ignoring_its_stopsignal_is_killed_after_stopwaitsecs() {
    let sb = Sandbox::new("sigkill");
    sb.script(
        "stubborn.sh",
        "trap '' TERM\nwhile true; do sleep 0.1; done",
    );
    let d = Daemon::start(
        &sb,
        &format!(
            "[program:stubborn]\ncommand={}\nstopwaitsecs=1\nstartsecs=0\n",
            sb.path("stubborn.sh").display()
        ),
    );
    d.wait_state("stubborn", "RUNNING", T);
    let pid = d.process_pid("stubborn");
    let began = Instant::now();
    d.call("supervisor.stopProcess", &[Value::str("stubborn")])
        .expect("stop");
    assert!(began.elapsed() >= Duration::from_secs(1));
    assert_eq!(d.statename("stubborn"), "STOPPED");
    assert!(!alive(pid));
    let log = d.main_log();
    assert!(
        log.contains(&format!("killing 'stubborn' ({pid}) with SIGKILL")),
        "{log}"
    );
    assert!(
        log.contains("stopped: stubborn (terminated by SIGKILL)"),
        "{log}"
    );
}

#[test]
fn priority_orders_start_and_reverse_priority_orders_shutdown() {
    let sb = Sandbox::new("priority");
    let d = Daemon::start(
        &sb,
        "[program:c]\ncommand=sleep 100\npriority=300\nstartsecs=0\n\n\
         [program:a]\ncommand=sleep 100\npriority=100\nstartsecs=0\n\n\
         [program:b]\ncommand=sleep 100\npriority=200\nstartsecs=0\n",
    );
    for name in ["a", "b", "c"] {
        d.wait_state(name, "RUNNING", T);
    }
    let log_path = d.log.clone();
    assert_eq!(d.stop().code(), Some(0));
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    let order = |prefix: &str| -> Vec<String> {
        log.lines()
            .filter_map(|l| {
                l.split_once(prefix)
                    .map(|(_, rest)| rest.chars().take(1).collect())
            })
            .collect()
    };
    assert_eq!(order("spawned: '"), ["a", "b", "c"], "{log}");
    assert_eq!(order("stopped: "), ["c", "b", "a"], "{log}");
}

#[test]
fn hup_rereads_the_config_and_restarts_everything() {
    let sb = Sandbox::new("hup");
    let d = Daemon::start(&sb, "[program:old]\ncommand=sleep 100\nstartsecs=0\n");
    d.wait_state("old", "RUNNING", T);
    let old_pid = d.process_pid("old");
    let conf = Config::new("[program:new]\ncommand=sleep 100\nstartsecs=0\n").text(&sb);
    std::fs::write(&d.conf, conf).expect("rewrite config");
    d.signal("HUP");
    wait_for(T, "the new program", || {
        d.call("supervisor.getProcessInfo", &[Value::str("new")])
            .ok()
            .filter(|i| i.get("statename").and_then(Value::as_str) == Some("RUNNING"))
    });
    assert!(d
        .call("supervisor.getProcessInfo", &[Value::str("old")])
        .is_err());
    assert!(!alive(old_pid));
    assert!(d
        .main_log()
        .contains("received SIGHUP indicating restart request"));
}

#[test]
fn hup_with_a_broken_config_keeps_the_old_one() {
    let sb = Sandbox::new("hupbad");
    let d = Daemon::start(&sb, "[program:keep]\ncommand=sleep 100\nstartsecs=0\n");
    d.wait_state("keep", "RUNNING", T);
    let conf = Config::new("[program:keep]\ncommand=sleep 100\nstartsecs=soon\n").text(&sb);
    std::fs::write(&d.conf, conf).expect("rewrite config");
    d.signal("HUP");
    wait_for(T, "the reload to be refused", || {
        d.main_log()
            .contains("keeping the previous one")
            .then_some(())
    });
    d.wait_state("keep", "RUNNING", T);
}

#[test]
fn term_stops_every_child_and_exits_zero() {
    let sb = Sandbox::new("term");
    let d = Daemon::start(
        &sb,
        "[program:w]\ncommand=sleep 100\nprocess_name=w%(process_num)d\nnumprocs=3\nstartsecs=0\n\n\
         [program:group]\ncommand=sh -c 'sleep 100 & wait'\nstopasgroup=true\nstartsecs=0\n",
    );
    let names = ["w:w0", "w:w1", "w:w2", "group"];
    for name in names {
        d.wait_state(name, "RUNNING", T);
    }
    let pids: Vec<u32> = names.iter().map(|n| d.process_pid(n)).collect();
    // The grandchild of the stopasgroup program.
    let grandchildren: Vec<u32> = wait_for(T, "the grandchild", || {
        let text =
            std::fs::read_to_string(format!("/proc/{}/task/{}/children", pids[3], pids[3])).ok()?;
        let kids: Vec<u32> = text
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        (!kids.is_empty()).then_some(kids)
    });
    let pidfile = sb.path("supervisord.pid");
    assert!(pidfile.exists());
    assert_eq!(d.stop().code(), Some(0));
    for pid in pids.iter().chain(&grandchildren) {
        assert!(!alive(*pid), "pid {pid} survived the shutdown");
    }
    assert!(!pidfile.exists(), "the pidfile outlived the daemon");
    assert!(
        !sb.path("supervisor.sock").exists(),
        "the socket outlived the daemon"
    );
}

#[test]
fn children_get_supervisor_and_configured_environment() {
    let sb = Sandbox::new("environment");
    let out = sb.path("env.out");
    let conf = Config::new(&format!(
        "[program:envy]\ncommand=sh -c 'env > {}; exec sleep 100'\nenvironment=FOO=\"bar baz\",EMPTY=\"\"\nstartsecs=0\n",
        out.display()
    ))
    .supervisord("environment=GLOBAL=yes")
    .write(&sb);
    let d = Daemon::start_with(&sb, &conf);
    d.wait_state("envy", "RUNNING", T);
    let env = wait_for(T, "env output", || {
        let text = std::fs::read_to_string(&out).ok()?;
        text.contains("SUPERVISOR_ENABLED").then_some(text)
    });
    for line in [
        "SUPERVISOR_ENABLED=1",
        "SUPERVISOR_PROCESS_NAME=envy",
        "SUPERVISOR_GROUP_NAME=envy",
        &format!(
            "SUPERVISOR_SERVER_URL=unix://{}",
            sb.path("supervisor.sock").display()
        ),
        "FOO=bar baz",
        "EMPTY=",
        "GLOBAL=yes",
    ] {
        assert!(env.lines().any(|l| l == line), "missing {line:?} in\n{env}");
    }
}

#[test]
fn a_bad_config_is_refused_before_anything_starts() {
    let sb = Sandbox::new("badconfig");
    let marker = sb.path("started");
    let conf = Config::new(&format!(
        "[program:first]\ncommand=touch {}\n\n[program:broken]\ncommand=sleep 1\nstartsecs=abc\n",
        marker.display()
    ))
    .write_as(&sb, "bad.conf");
    let out = run_mode(
        &sb,
        "supervisord",
        &["-n", "-c", conf.to_str().unwrap_or_default()],
    );
    assert_eq!(out.code, Some(2));
    let stderr = &out.stderr;
    let first = stderr.lines().next().unwrap_or_default();
    for needle in ["bad.conf", "program:broken", "startsecs", "abc"] {
        assert!(first.contains(needle), "{needle:?} not named in {first:?}");
    }
    assert!(!marker.exists());
    assert!(!sb.path("supervisor.sock").exists());
}

#[test]
fn a_missing_config_file_is_a_usage_error() {
    let sb = Sandbox::new("noconfig");
    let out = run_mode(
        &sb,
        "supervisord",
        &["-n", "-c", "/nonexistent/supervisord.conf"],
    );
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("/nonexistent/supervisord.conf"));
}

#[test]
fn a_second_daemon_on_the_same_socket_is_refused() {
    let sb = Sandbox::new("twice");
    let d = Daemon::start(&sb, "[program:x]\ncommand=sleep 100\nstartsecs=0\n");
    let out = run_mode(
        &sb,
        "supervisord",
        &["-n", "-c", d.conf.to_str().unwrap_or_default()],
    );
    assert_eq!(out.code, Some(2));
    let stderr = &out.stderr;
    assert!(stderr.contains("Another"), "{stderr}");
    // The first daemon still answers.
    assert!(d.call("supervisor.getState", &[]).is_ok());
}

#[test]
fn stdin_for_a_child_that_never_reads_is_bounded() {
    let sb = Sandbox::new("stdin-bound");
    let d = Daemon::start(&sb, "[program:deaf]\ncommand=sleep 100\nstartsecs=0\n");
    d.wait_state("deaf", "RUNNING", T);
    let chunk = Value::String("x".repeat(64 * 1024));
    let mut refused = None;
    for sent in 0..200 {
        match d.call(
            "supervisor.sendProcessStdin",
            &[Value::str("deaf"), chunk.clone()],
        ) {
            Ok(_) => continue,
            Err(fault) => {
                refused = Some((sent, fault));
                break;
            }
        }
    }
    let (sent, fault) = refused.expect("the daemon queued 12 MiB for a child that never reads");
    assert_eq!(fault.code, 30, "{fault:?}");
    assert!(fault.string.contains("stdin is full"), "{fault:?}");
    assert!(sent >= 64, "refused after only {sent} writes");
    // The daemon is fine and the child still runs.
    assert_eq!(d.statename("deaf"), "RUNNING");
}
