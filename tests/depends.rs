//! Dependencies gated on readiness, and restart policies (issue 10):
//! chains a -> b -> c where each start waits until the one before is ready,
//! for `ready=fd`, `notify` and `tcp` (and a program each for `http` and
//! `exec`); independent chains start in parallel; a FATAL dependency blocks
//! its dependent; stopping goes in reverse; cycles are refused at startup
//! and at reread; `ready_timeout` fails a start; `startretries=infinite`
//! with `backoff_max` never gives up and keeps its delays bounded; the
//! notify watchdog restarts a process that stops pinging; a notify message
//! from an unrelated process is ignored.
//!
//! The children are tests/fixtures/depends/child.py: each appends
//! `NAME start|ready|term|stopped TIME` to one record file per test, and
//! writes its `ready` record before it signals readiness, so a dependent's
//! `start` record can only follow it if the daemon waited.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use supervisor::rpc::value::Value;

use crate::util::{
    alive, free_port, run_mode, wait_for, Config, Daemon, Flavor, Launch, Output, Sandbox, POLL,
};

/// Longest wait for one step of a scenario.
const T: Duration = Duration::from_secs(20);

// ----- helpers ----------------------------------------------------------------

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/depends/child.py")
}

/// The real python3 interpreter (not a shim that might fork), so the pid
/// supervisord knows is the one sending notify messages.
fn python() -> &'static str {
    static PY: OnceLock<String> = OnceLock::new();
    PY.get_or_init(|| {
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 on PATH");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    })
}

/// The `command=` running the fixture as NAME with these steps (each
/// quoted: a step may hold a space).
fn child(name: &str, steps: &[String]) -> String {
    let steps: Vec<String> = steps.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        "{} {} {name} {{dir}}/record {}",
        python(),
        fixture().display(),
        steps.join(" ")
    )
}

/// One `[program:NAME]` running the fixture, with more lines after it.
fn program(name: &str, steps: &[String], extra: &str) -> String {
    format!(
        "[program:{name}]\ncommand={}\nstartsecs=0\nstopwaitsecs=5\nautorestart=false\n{extra}\n",
        child(name, steps)
    )
}

/// The record lines: (name, event, unix time).
fn records(sb: &Sandbox) -> Vec<(String, String, f64)> {
    sb.read("record")
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?.to_string();
            let event = words.next()?.to_string();
            let time = words.next()?.parse().ok()?;
            Some((name, event, time))
        })
        .collect()
}

/// The times `name` recorded `event`, in order.
fn times(sb: &Sandbox, name: &str, event: &str) -> Vec<f64> {
    records(sb)
        .into_iter()
        .filter(|(n, e, _)| n == name && e == event)
        .map(|(_, _, t)| t)
        .collect()
}

/// The one time `name` recorded `event`; fails the test if it did not, or
/// did more than once.
fn once(sb: &Sandbox, name: &str, event: &str) -> f64 {
    let found = times(sb, name, event);
    assert_eq!(
        found.len(),
        1,
        "{name} {event} recorded {} times:\n{}",
        found.len(),
        sb.read("record")
    );
    found[0]
}

/// A string field of getProcessInfo.
fn field(d: &Daemon, name: &str, key: &str) -> String {
    d.info(name)
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Waits until `name` is in `state` with exactly this description.
fn wait_described(d: &Daemon, name: &str, state: &str, description: &str) {
    let mut last = (String::new(), String::new());
    let seen = crate::util::poll(T, || {
        let info = d
            .call("supervisor.getProcessInfo", &[Value::str(name)])
            .ok()?;
        let get = |k: &str| {
            info.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        last = (get("statename"), get("description"));
        (last.0 == state && last.1 == description).then_some(())
    });
    assert!(
        seen.is_some(),
        "{name} never became {state} {description:?}; last seen {last:?}\nmain log:\n{}",
        d.main_log()
    );
}

/// Waits until the main log has a line containing `text`; returns it.
fn wait_log(d: &Daemon, text: &str) -> String {
    let found = crate::util::poll(T, || {
        d.main_log()
            .lines()
            .find(|l| l.contains(text))
            .map(str::to_string)
    });
    found.unwrap_or_else(|| panic!("no {text:?} in the main log:\n{}", d.main_log()))
}

fn ctl(sb: &Sandbox, d: &Daemon, args: &[&str]) -> Output {
    let conf = d.conf.display().to_string();
    let mut all = vec!["-c", conf.as_str()];
    all.extend_from_slice(args);
    run_mode(sb, "supervisorctl", &all)
}

/// The line `supervisorctl status` prints for `name`.
fn status_line(sb: &Sandbox, d: &Daemon, name: &str) -> String {
    let out = ctl(sb, d, &["status", name]);
    out.stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no status line for {name}: {out:?}"))
        .to_string()
}

fn touch(sb: &Sandbox, rel: &str) {
    sb.write(rel, "");
}

fn s(text: &str) -> String {
    text.to_string()
}

// ----- 1. chains a -> b -> c for each readiness form ----------------------------

/// One readiness form: the `ready=` value of a program, the step that makes
/// it ready, and what STARTING waits for (describe()).
struct Form {
    ready: PerName<String>,
    signal: PerName<Vec<String>>,
    waiting: PerName<String>,
}

/// Something that depends on the program's name (a port, for tcp).
type PerName<T> = Box<dyn Fn(&str) -> T>;

/// a, b (depends_on=a) and c (depends_on=b), each held at a gate file
/// `NAME.go` and then slow (0.3 s) before it signals readiness. Walks the
/// chain one gate at a time, checking every description on the way, and
/// then the timestamps: each start came after the dependency was ready.
fn chain(sb: &Sandbox, form: &Form) -> Daemon {
    let mut programs = String::new();
    for (name, dep) in [("a", None), ("b", Some("a")), ("c", Some("b"))] {
        let mut steps = vec![format!("gate:{}/{name}.go", sb.dir.display())];
        steps.push(s("sleep:0.3"));
        steps.extend((form.signal)(name));
        let mut extra = format!("ready={}\nready_timeout=30\n", (form.ready)(name));
        if let Some(dep) = dep {
            extra.push_str(&format!("depends_on={dep}\n"));
        }
        programs.push_str(&program(name, &steps, &extra));
    }
    let d = Daemon::start(sb, &programs);

    // a starts; b and c wait, saying for what.
    wait_described(&d, "a", "STARTING", &(form.waiting)("a"));
    wait_described(&d, "b", "STOPPED", "waiting for a");
    wait_described(&d, "c", "STOPPED", "waiting for b");
    let line = status_line(sb, &d, "a");
    assert!(
        line.contains("STARTING") && line.ends_with(&(form.waiting)("a")),
        "{line:?}"
    );
    let line = status_line(sb, &d, "b");
    assert!(
        line.contains("STOPPED") && line.ends_with("waiting for a"),
        "{line:?}"
    );
    assert!(times(sb, "b", "start").is_empty() && times(sb, "c", "start").is_empty());

    // a ready: b starts, c still waits for b.
    touch(sb, "a.go");
    d.wait_state("a", "RUNNING", T);
    wait_described(&d, "b", "STARTING", &(form.waiting)("b"));
    wait_described(&d, "c", "STOPPED", "waiting for b");
    assert!(times(sb, "c", "start").is_empty());

    touch(sb, "b.go");
    d.wait_state("b", "RUNNING", T);
    wait_described(&d, "c", "STARTING", &(form.waiting)("c"));
    touch(sb, "c.go");
    d.wait_state("c", "RUNNING", T);

    let ready_a = once(sb, "a", "ready");
    let ready_b = once(sb, "b", "ready");
    let start_b = once(sb, "b", "start");
    let start_c = once(sb, "c", "start");
    assert!(start_b >= ready_a, "b started before a was ready");
    assert!(start_c >= ready_b, "c started before b was ready");
    for name in ["a", "b", "c"] {
        let label = (form.waiting)(name);
        let label = label
            .strip_prefix("waiting for ")
            .expect("a describe() text");
        wait_log(
            &d,
            &format!("success: {name} entered RUNNING state, process is ready ({label})"),
        );
    }
    d
}

#[test]
fn chain_waits_for_fd_readiness() {
    let sb = Sandbox::new("dep-fd");
    let form = Form {
        ready: Box::new(|_| s("fd:3")),
        signal: Box::new(|_| vec![s("fd:3")]),
        waiting: Box::new(|_| s("waiting for fd 3")),
    };
    chain(&sb, &form);
}

#[test]
fn chain_waits_for_notify_readiness_and_shows_status() {
    let sb = Sandbox::new("dep-notify");
    let dir = sb.dir.display().to_string();
    let form = Form {
        ready: Box::new(|_| s("notify")),
        signal: Box::new(|_| vec![s("notify:READY=1")]),
        waiting: Box::new(|_| s("waiting for READY=1")),
    };
    // The gate, status and readiness of a are set up by hand: a waits at
    // a.status, says STATUS, then waits at a.go.
    let steps_a = vec![
        format!("gate:{dir}/a.status"),
        s("notify:STATUS=warming up"),
        format!("gate:{dir}/a.go"),
        s("sleep:0.3"),
        s("notify:READY=1"),
    ];
    let programs = program("a", &steps_a, "ready=notify\nready_timeout=30\n");
    let d = Daemon::start(&sb, &programs);
    wait_described(&d, "a", "STARTING", "waiting for READY=1");
    touch(&sb, "a.status");
    wait_described(&d, "a", "STARTING", "waiting for READY=1, warming up");
    let line = status_line(&sb, &d, "a");
    assert!(
        line.contains("STARTING") && line.ends_with("waiting for READY=1, warming up"),
        "{line:?}"
    );
    touch(&sb, "a.go");
    d.wait_state("a", "RUNNING", T);
    wait_log(
        &d,
        "success: a entered RUNNING state, process is ready (READY=1)",
    );
    drop(d);

    // The chain itself.
    let sb = Sandbox::new("dep-notify-chain");
    chain(&sb, &form);
}

#[test]
fn chain_waits_for_tcp_readiness() {
    let sb = Sandbox::new("dep-tcp");
    let ports = [free_port(), free_port(), free_port()];
    let port = move |name: &str| match name {
        "a" => ports[0],
        "b" => ports[1],
        _ => ports[2],
    };
    let form = Form {
        ready: Box::new(move |name| format!("tcp:127.0.0.1:{}", port(name))),
        signal: Box::new(move |name| vec![format!("listen:{}", port(name))]),
        waiting: Box::new(move |name| format!("waiting for tcp 127.0.0.1:{}", port(name))),
    };
    chain(&sb, &form);
}

/// A tiny HTTP server on 127.0.0.1 answering every request with the
/// current `status`; counts the requests and keeps their paths.
struct Health {
    port: u16,
    status: Arc<AtomicU16>,
    requests: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Health {
    fn start(status: u16) -> Health {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let health = Health {
            port,
            status: Arc::new(AtomicU16::new(status)),
            requests: Arc::new(AtomicUsize::new(0)),
            paths: Arc::new(Mutex::new(Vec::new())),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (status, requests, paths, stop) = (
            health.status.clone(),
            health.requests.clone(),
            health.paths.clone(),
            health.stop.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
                paths.lock().expect("paths").push(path);
                let code = status.load(Ordering::SeqCst);
                let _ = write!(
                    conn,
                    "HTTP/1.0 {code} X\r\nContent-Length: 0\r\nLocation: /\r\n\r\n"
                );
                requests.fetch_add(1, Ordering::SeqCst);
            }
        });
        health
    }
}

impl Drop for Health {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[test]
fn http_readiness_waits_for_a_2xx_or_3xx_answer() {
    let sb = Sandbox::new("dep-http");
    let health = Health::start(503);
    let url = format!("http://127.0.0.1:{}/health", health.port);
    let d = Daemon::start(
        &sb,
        &program("h", &[], &format!("ready=http:{url}\nready_timeout=30\n")),
    );
    let waiting = format!("waiting for http {url}");
    wait_described(&d, "h", "STARTING", &waiting);
    // Two 503s answered: the first did not make it ready (else no second).
    wait_for(T, "two probes", || {
        (health.requests.load(Ordering::SeqCst) >= 2).then_some(())
    });
    assert_eq!(d.statename("h"), "STARTING");
    assert!(health
        .paths
        .lock()
        .expect("paths")
        .iter()
        .all(|p| p == "/health"));
    // A redirect counts as ready.
    health.status.store(302, Ordering::SeqCst);
    d.wait_state("h", "RUNNING", T);
    wait_log(
        &d,
        &format!("success: h entered RUNNING state, process is ready (http {url})"),
    );
}

#[test]
fn exec_readiness_runs_the_command_with_the_program_environment() {
    let sb = Sandbox::new("dep-exec");
    // The command finds both files through environment= only.
    let check = "echo probe >> \"$PROBES\" && test -e \"$READY_FILE\"";
    let d = Daemon::start(
        &sb,
        &program(
            "e",
            &[],
            &format!(
                "environment=PROBES=\"{{dir}}/probes\",READY_FILE=\"{{dir}}/up\"\n\
                 ready=exec:{check}\nready_timeout=30\n"
            ),
        ),
    );
    wait_described(&d, "e", "STARTING", &format!("waiting for exec {check}"));
    // Two runs of the check: the first failed (else no second).
    wait_for(T, "two runs of the check", || {
        (sb.read("probes").lines().count() >= 2).then_some(())
    });
    assert_eq!(d.statename("e"), "STARTING");
    touch(&sb, "up");
    d.wait_state("e", "RUNNING", T);
    wait_log(
        &d,
        &format!("success: e entered RUNNING state, process is ready (exec {check})"),
    );
}

// ----- 2. independent chains start in parallel --------------------------------

#[test]
fn independent_chains_start_in_parallel() {
    let sb = Sandbox::new("dep-parallel");
    let ready = |name: &str, dep: Option<&str>| {
        let extra = match dep {
            Some(dep) => format!("ready=fd:3\ndepends_on={dep}\n"),
            None => s("ready=fd:3\n"),
        };
        program(name, &[s("sleep:1"), s("fd:3")], &extra)
    };
    let programs = [
        ready("a1", None),
        ready("b1", Some("a1")),
        ready("a2", None),
        ready("b2", Some("a2")),
    ]
    .concat();
    let d = Daemon::start(&sb, &programs);
    for name in ["a1", "a2", "b1", "b2"] {
        d.wait_state(name, "RUNNING", T);
    }
    let (start1, ready1) = (once(&sb, "a1", "start"), once(&sb, "a1", "ready"));
    let (start2, ready2) = (once(&sb, "a2", "start"), once(&sb, "a2", "ready"));
    assert!(
        start1.max(start2) < ready1.min(ready2),
        "a1 [{start1}, {ready1}] and a2 [{start2}, {ready2}] do not overlap"
    );
    assert!(once(&sb, "b1", "start") >= ready1);
    assert!(once(&sb, "b2", "start") >= ready2);
}

// ----- 3. a FATAL dependency blocks its dependent -----------------------------

#[test]
fn fatal_dependency_leaves_the_dependent_stopped_and_never_spawned() {
    let sb = Sandbox::new("dep-fatal");
    let programs = format!(
        "[program:a]\ncommand=sh -c 'exit 1'\nstartsecs=1\nstartretries=1\n\n{}",
        program("b", &[], "depends_on=a\n")
    );
    let d = Daemon::start(&sb, &programs);
    d.wait_state("a", "FATAL", T);
    wait_described(&d, "b", "STOPPED", "dependency a failed");
    assert_eq!(field(&d, "b", "spawnerr"), "dependency a failed");
    wait_log(&d, "not starting b: dependency a failed");
    assert_eq!(d.process_pid("b"), 0);
    assert!(
        times(&sb, "b", "start").is_empty(),
        "b was spawned:\n{}",
        sb.read("record")
    );
    assert!(!d.main_log().contains("spawned: 'b'"), "{}", d.main_log());
}

// ----- 4. stopping in reverse ---------------------------------------------------

/// a, b (depends_on=a), c (depends_on=b), all RUNNING. Each takes 0.3 s to
/// stop after its TERM, so TERMs sent together would overlap.
fn stoppable_chain(sb: &Sandbox) -> Daemon {
    let programs = [
        program("a", &[], ""),
        program("b", &[], "depends_on=a\n"),
        program("c", &[], "depends_on=b\n"),
    ]
    .concat();
    let d = Daemon::start(sb, &programs);
    for name in ["a", "b", "c"] {
        d.wait_state(name, "RUNNING", T);
        // Its start record comes after its TERM handler is in place.
        wait_for(T, "the start record", || {
            (!times(sb, name, "start").is_empty()).then_some(())
        });
    }
    d
}

/// Each dependency got its TERM only after its dependent had stopped.
fn assert_reverse_stop(sb: &Sandbox) {
    let record = sb.read("record");
    for (dependent, dependency) in [("c", "b"), ("b", "a")] {
        let stopped = once(sb, dependent, "stopped");
        let term = once(sb, dependency, "term");
        assert!(
            term >= stopped,
            "{dependency} got TERM before {dependent} had stopped:\n{record}"
        );
    }
    once(sb, "a", "stopped");
}

#[test]
fn shutdown_stops_dependents_first() {
    let sb = Sandbox::new("dep-shutdown");
    let d = stoppable_chain(&sb);
    let status = d.stop();
    assert!(status.success(), "{status}");
    assert_reverse_stop(&sb);
}

#[test]
fn stop_all_stops_dependents_first() {
    let sb = Sandbox::new("dep-stopall");
    let d = stoppable_chain(&sb);
    let out = ctl(&sb, &d, &["stop", "all"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    for name in ["a", "b", "c"] {
        d.wait_state(name, "STOPPED", T);
    }
    assert_reverse_stop(&sb);
}

// ----- 5. cycles and unknown names ---------------------------------------------

/// Runs our supervisord on `programs` expecting it to refuse the config:
/// exit 2, stderr returned; `bystander` (no dependencies) never started.
fn refused(sb: &Sandbox, programs: &str) -> String {
    let programs = format!("{}{programs}", program("bystander", &[], ""));
    let conf = Config::new(&programs).write(sb);
    let mut d = Daemon::spawn(sb, Flavor::Ours, &conf, Launch::default());
    let status = crate::util::wait_exit(&mut d.child, T);
    assert_eq!(status.code(), Some(2), "{}", sb.read("supervisord.stderr"));
    assert!(
        sb.read("record").is_empty(),
        "something started: {}",
        sb.read("record")
    );
    sb.read("supervisord.stderr")
}

#[test]
fn a_cycle_is_refused_at_startup() {
    let sb = Sandbox::new("dep-cycle");
    // b first in the file: the cycle is still named from a.
    let stderr = refused(
        &sb,
        &[
            program("b", &[], "depends_on=a\n"),
            program("a", &[], "depends_on=b\n"),
        ]
        .concat(),
    );
    assert!(
        stderr.contains("dependency cycle: a -> b -> a"),
        "{stderr:?}"
    );
}

#[test]
fn an_unknown_dependency_is_refused_at_startup() {
    let sb = Sandbox::new("dep-unknown");
    let stderr = refused(&sb, &program("a", &[], "depends_on=ghost\n"));
    for part in ["'ghost'", "depends_on", "program:a"] {
        assert!(stderr.contains(part), "{part:?} missing from {stderr:?}");
    }
}

#[test]
fn a_cycle_is_refused_at_reread_and_update_changes_nothing() {
    let sb = Sandbox::new("dep-reread");
    let good = [program("a", &[], ""), program("b", &[], "depends_on=a\n")].concat();
    let d = Daemon::start(&sb, &good);
    d.wait_state("a", "RUNNING", T);
    d.wait_state("b", "RUNNING", T);
    let pids = [d.process_pid("a"), d.process_pid("b")];
    let cyclic = [
        program("a", &[], "depends_on=b\n"),
        program("b", &[], "depends_on=a\n"),
    ]
    .concat();
    std::fs::write(&d.conf, Config::new(&cyclic).text(&sb)).expect("rewrite config");

    for command in ["reread", "update"] {
        let out = ctl(&sb, &d, &[command]);
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(
            text.contains("dependency cycle: a -> b -> a"),
            "{command}: {text:?}"
        );
        assert_ne!(out.code, Some(0), "{command}: {text:?}");
        assert!(!text.contains("changed"), "{command}: {text:?}");
    }
    assert_eq!([d.process_pid("a"), d.process_pid("b")], pids);
    assert!(pids.iter().all(|p| alive(*p)));
    assert_eq!(d.statename("a"), "RUNNING");
    assert_eq!(d.statename("b"), "RUNNING");
    assert!(times(&sb, "a", "term").is_empty() && times(&sb, "b", "term").is_empty());
}

// ----- 6. ready_timeout --------------------------------------------------------

#[test]
fn ready_timeout_fails_the_start_then_gives_up() {
    let sb = Sandbox::new("dep-timeout");
    let port = free_port();
    let d = Daemon::start(
        &sb,
        &program(
            "t",
            &[],
            &format!("ready=tcp:127.0.0.1:{port}\nready_timeout=2\nstartretries=1\n"),
        ),
    );
    wait_described(
        &d,
        "t",
        "STARTING",
        &format!("waiting for tcp 127.0.0.1:{port}"),
    );
    let first = d.process_pid("t");
    assert!(first > 0);
    let why = format!("not ready within 2 seconds (tcp 127.0.0.1:{port})");
    wait_described(&d, "t", "BACKOFF", &why);
    assert_eq!(field(&d, "t", "spawnerr"), why);
    assert!(!alive(first), "the child {first} still runs");
    wait_described(&d, "t", "FATAL", &why);
    let log = d.main_log();
    assert_eq!(log.matches("spawned: 't'").count(), 2, "{log}");
    assert!(log.contains(&format!("WARN t: {why}")), "{log}");
    // Killed outright (SIGKILL): its TERM handler never ran.
    assert!(times(&sb, "t", "term").is_empty(), "{}", sb.read("record"));
}

// ----- 7. startretries=infinite with backoff_max --------------------------------

#[test]
fn infinite_retries_never_give_up_and_backoff_max_bounds_the_delays() {
    let sb = Sandbox::new("dep-infinite");
    let script = sb.script(
        "crash.sh",
        "date +%s.%N >> \"$(dirname \"$0\")/spawns\"\nexit 1",
    );
    let d = Daemon::start(
        &sb,
        &format!(
            "[program:x]\ncommand={}\nstartsecs=1\nstartretries=infinite\nbackoff_max=2\n",
            script.display()
        ),
    );
    // Watch it for 9 s: never FATAL, BACKOFF seen.
    let until = Instant::now() + Duration::from_secs(9);
    let mut states = std::collections::BTreeSet::new();
    while Instant::now() < until {
        let state = d.statename("x");
        assert_ne!(state, "FATAL", "gave up:\n{}", d.main_log());
        states.insert(state);
        std::thread::sleep(POLL);
    }
    assert!(states.contains("BACKOFF"), "{states:?}");
    let spawns: Vec<f64> = sb
        .read("spawns")
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    // 0, 1, 3, 5, 7, 9: 4.3's ladder (1, 2, 3, 4 s) would give 4.
    assert!(spawns.len() >= 5, "{spawns:?}");
    // The delay is at most backoff_max (jitter only shortens it, by up to a
    // quarter); the rest of a gap is the crash itself and the scheduler.
    for pair in spawns.windows(2) {
        let gap = pair[1] - pair[0];
        assert!((0.7..=2.5).contains(&gap), "gap {gap:.3} s in {spawns:?}");
    }
}

// ----- 8. the notify watchdog ---------------------------------------------------

#[test]
fn watchdog_restarts_a_process_that_stops_pinging() {
    let sb = Sandbox::new("dep-watchdog");
    let watch = "ready=notify\nwatchdog_sec=1\nautorestart=true\nready_timeout=30\n";
    // w pings for 1.8 s (longer than watchdog_sec) and then stops; steady
    // pings all along.
    let programs = [
        program("w", &[s("notify:READY=1"), s("ping:6")], watch),
        program("steady", &[s("notify:READY=1"), s("pingforever")], watch),
    ]
    .concat();
    let d = Daemon::start(&sb, &programs);
    d.wait_state("w", "RUNNING", T);
    d.wait_state("steady", "RUNNING", T);
    let first = d.process_pid("w");
    let steady = d.process_pid("steady");
    let line = wait_log(&d, "w: watchdog timeout");
    assert!(
        line.contains(" WARN ")
            && line.ends_with("w: watchdog timeout (no WATCHDOG=1 within 1 seconds)"),
        "{line:?}"
    );
    let second = wait_for(T, "w to run again with a new pid", || {
        let pid = d.process_pid("w");
        (pid != 0 && pid != first && d.statename("w") == "RUNNING").then_some(pid)
    });
    assert!(!alive(first));
    assert_ne!(second, first);
    // The first w pinged to the end before it was killed, and was killed
    // outright (SIGKILL: its TERM handler never ran).
    let starts = times(&sb, "w", "start");
    let pings_done = times(&sb, "w", "pings-done");
    assert!(
        starts.len() >= 2 && pings_done.first().is_some_and(|t| *t < starts[1]),
        "{}",
        sb.read("record")
    );
    assert!(times(&sb, "w", "term").is_empty(), "{}", sb.read("record"));
    // steady kept pinging and was left alone.
    assert_eq!(d.process_pid("steady"), steady);
    assert_eq!(d.statename("steady"), "RUNNING");
    assert!(
        !d.main_log().contains("steady: watchdog"),
        "{}",
        d.main_log()
    );
    assert_eq!(times(&sb, "steady", "start").len(), 1);
}

// ----- 9. notify messages from strangers ----------------------------------------

/// `$NOTIFY_SOCKET` of a running process, from /proc.
fn notify_socket(pid: u32) -> String {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
    environ
        .split(|b| *b == 0)
        .find_map(|var| var.strip_prefix(b"NOTIFY_SOCKET="))
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_else(|| panic!("no NOTIFY_SOCKET in the environment of {pid}"))
}

#[test]
fn notify_from_an_unrelated_process_is_ignored() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};

    let sb = Sandbox::new("dep-stranger");
    let dir = sb.dir.display().to_string();
    let steps = [
        format!("gate:{dir}/x.status"),
        s("notify:STATUS=genuine"),
        format!("gate:{dir}/x.go"),
        s("notify:READY=1"),
    ];
    let d = Daemon::start(
        &sb,
        &program("x", &steps, "ready=notify\nready_timeout=30\n"),
    );
    wait_described(&d, "x", "STARTING", "waiting for READY=1");
    let socket = notify_socket(d.process_pid("x"));
    let address = match socket.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract address"),
        None => SocketAddr::from_pathname(&socket).expect("socket path"),
    };
    // The test process (supervisord's parent, not x's) claims readiness.
    let stranger = UnixDatagram::unbound().expect("datagram socket");
    stranger
        .send_to_addr(b"STATUS=forged\nREADY=1", &address)
        .expect("send to NOTIFY_SOCKET");
    // x's own STATUS comes after the forged message on the same socket:
    // once it shows, the forged one has been read, and ignored.
    touch(&sb, "x.status");
    wait_described(&d, "x", "STARTING", "waiting for READY=1, genuine");
    assert!(!d.main_log().contains("success: x"), "{}", d.main_log());
    // x's own READY=1 still counts.
    touch(&sb, "x.go");
    d.wait_state("x", "RUNNING", T);
}
