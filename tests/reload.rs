//! A configuration that no longer parses must never restart production:
//! SIGHUP, `supervisor.restart` and `supervisorctl update` read and check
//! the file before anything stops, and an invalid one leaves every child
//! running with its pid. HUP and restart log one ERROR line naming file,
//! line, section, key and value; update reports CANT_REREAD to the client
//! (and, as in 4.3, nothing to the main log).

use std::time::Duration;

use supervisor::rpc::value::Value;

use crate::util::{alive, run_mode, wait_for, Config, Daemon, Sandbox};

const T: Duration = Duration::from_secs(10);

const PROGRAMS: &str = "[program:one]\ncommand=sleep 1000\nstartsecs=0\n\n\
                        [program:two]\ncommand=sleep 1000\nstartsecs=0\n";

/// A daemon with two running programs, and their pids.
fn running(sb: &Sandbox) -> (Daemon, [u32; 2]) {
    let d = Daemon::start(sb, PROGRAMS);
    d.wait_state("one", "RUNNING", T);
    d.wait_state("two", "RUNNING", T);
    let pids = [d.process_pid("one"), d.process_pid("two")];
    (d, pids)
}

/// Rewrites the config with a typo in `two`'s startsecs; returns the
/// `line N` the error must name.
fn break_config(sb: &Sandbox, d: &Daemon) -> String {
    let conf = Config::new(
        "[program:one]\ncommand=sleep 1000\nstartsecs=0\n\n\
         [program:two]\ncommand=sleep 1000\nstartsecs=soon\n",
    )
    .text(sb);
    std::fs::write(&d.conf, &conf).expect("rewrite config");
    let line = conf
        .lines()
        .position(|l| l == "startsecs=soon")
        .expect("the typo");
    format!("line {}", line + 1)
}

/// Both children still run with the same pids and the daemon is RUNNING.
fn assert_untouched(d: &Daemon, pids: [u32; 2]) {
    assert_eq!([d.process_pid("one"), d.process_pid("two")], pids);
    assert!(pids.iter().all(|pid| alive(*pid)));
    assert_eq!(d.statename("one"), "RUNNING");
    assert_eq!(d.statename("two"), "RUNNING");
    let state = d.call("supervisor.getState", &[]).expect("getState");
    assert_eq!(
        state.get("statename").and_then(Value::as_str),
        Some("RUNNING")
    );
    let log = d.main_log();
    assert!(
        !log.contains("stopped: one") && !log.contains("stopped: two"),
        "a child was stopped:\n{log}"
    );
}

/// The one ERROR line, naming file, line, section, key and value.
fn error_line(d: &Daemon, line_no: &str) -> String {
    let conf = d.conf.display().to_string();
    wait_for(T, "the ERROR line", || {
        d.main_log()
            .lines()
            .find(|l| l.contains(" ERRO ") && l.contains("keeping the previous one"))
            .map(str::to_string)
    });
    let log = d.main_log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("keeping the previous one"))
        .collect();
    assert_eq!(lines.len(), 1, "exactly one error line:\n{log}");
    let line = lines[0].to_string();
    for part in [conf.as_str(), line_no, "program:two", "'startsecs'", "soon"] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }
    line
}

#[test]
fn hup_with_an_invalid_config_keeps_every_child_and_its_pid() {
    let sb = Sandbox::new("reload-hup");
    let (d, pids) = running(&sb);
    let line_no = break_config(&sb, &d);
    d.signal("HUP");
    error_line(&d, &line_no);
    assert_untouched(&d, pids);
    // The daemon still serves and a later, valid HUP still restarts.
    std::fs::write(&d.conf, Config::new(PROGRAMS).text(&sb)).expect("fix config");
    d.signal("HUP");
    wait_for(T, "a restart with new pids", || {
        let one = d
            .call("supervisor.getProcessInfo", &[Value::str("one")])
            .ok()?;
        let pid = one.get("pid").and_then(Value::as_int)? as u32;
        (pid != 0 && pid != pids[0]).then_some(())
    });
}

#[test]
fn restart_over_rpc_with_an_invalid_config_is_a_fault_and_changes_nothing() {
    let sb = Sandbox::new("reload-rpc");
    let (d, pids) = running(&sb);
    let line_no = break_config(&sb, &d);
    let fault = d
        .call("supervisor.restart", &[])
        .expect_err("restart must be refused");
    assert_eq!(fault.code, 92, "{fault:?}");
    let line = error_line(&d, &line_no);
    // The fault carries the same text as the log line.
    let detail = fault
        .string
        .strip_prefix("CANT_REREAD: ")
        .expect("CANT_REREAD prefix");
    assert!(line.contains(detail), "{detail:?} not in {line:?}");
    assert_untouched(&d, pids);
}

#[test]
fn update_with_an_invalid_config_changes_nothing() {
    let sb = Sandbox::new("reload-update");
    let (d, pids) = running(&sb);
    let line_no = break_config(&sb, &d);
    let conf = d.conf.display().to_string();
    let out = run_mode(&sb, "supervisorctl", &["-c", &conf, "update"]);
    // 4.3's supervisorctl shows the fault as Python prints it.
    let stdout = format!("{}{}", out.stdout, out.stderr);
    assert!(
        stdout.contains("<Fault 92: \"CANT_REREAD: ") && stdout.contains("'soon'"),
        "{stdout}"
    );
    assert_ne!(out.code, Some(0));
    for part in [line_no.as_str(), "program:two", "'startsecs'"] {
        assert!(stdout.contains(part), "{part:?} missing from {stdout:?}");
    }
    assert_untouched(&d, pids);
    assert!(!d.main_log().contains("keeping the previous one"));
}
