//! Every request type through the `Handle`, against real children on a real
//! executor: the door is the only way in, so it is what these tests use.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use smol::future::FutureExt;
use smol::LocalExecutor;

use super::*;
use crate::config::Source;
use crate::log::activity::MainLog;
use crate::log::writer::LogFile;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "sv-core-{tag}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A core on its own executor, built from a config file in a temp dir.
struct Fixture {
    dir: TempDir,
    handle: Handle,
    done: Receiver<Outcome>,
    executor: Rc<LocalExecutor<'static>>,
}

fn conf_text(dir: &Path, programs: &str) -> String {
    conf_text_with(dir, "", programs)
}

/// The config with more `[supervisord]` lines.
fn conf_text_with(dir: &Path, daemon: &str, programs: &str) -> String {
    format!(
        "[supervisord]\nlogfile={d}/main.log\nchildlogdir={d}\nloglevel=debug\nidentifier=unit\n{daemon}\n{programs}",
        d = dir.display()
    )
}

const SLEEPERS: &str = "[program:a]\ncommand=sleep 1000\nstartsecs=0\nstderr_logfile=NONE\n\n\
                        [group:g]\nprograms=b,c\n\n\
                        [program:b]\ncommand=sleep 1000\nstartsecs=0\nstdout_logfile=%(here)s/b.out\n\n\
                        [program:c]\ncommand=cat\nstartsecs=0\nstdout_logfile=%(here)s/c.out\n";

impl Fixture {
    fn new(programs: &str) -> Fixture {
        Fixture::with_daemon("", programs)
    }

    /// With more `[supervisord]` lines.
    fn with_daemon(daemon: &str, programs: &str) -> Fixture {
        let dir = TempDir::new("handle");
        let path = dir.0.join("s.conf");
        std::fs::write(&path, conf_text_with(&dir.0, daemon, programs)).expect("write config");
        let source = Source::new(path, Vec::new());
        let config = source.load().expect("valid config");
        let zone = crate::timefmt::Zone::utc();
        let (file, _) = LogFile::open_lenient(dir.0.join("main.log"), 0, 0);
        let log = MainLog::new(LogLevel::Debug, Some(file), None, zone.clone());
        let executor = Rc::new(LocalExecutor::new());
        let (handle, done) = Handle::new(Setup {
            source,
            config,
            log,
            executor: executor.clone(),
            zone,
            outlets: crate::log::outlet::Outlets::open(),
        });
        handle.add_all_groups();
        Fixture {
            dir,
            handle,
            done,
            executor,
        }
    }

    /// Runs `f` on the core's executor, bounded in time.
    fn run<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        let bounded = f.or(async {
            async_io::Timer::after(Duration::from_secs(20)).await;
            panic!("timed out");
        });
        async_io::block_on(self.executor.run(bounded))
    }

    /// Lets the executor run until `probe` holds.
    fn until(&self, what: &str, mut probe: impl FnMut(&Handle) -> bool) {
        self.run(async {
            while !probe(&self.handle) {
                async_io::Timer::after(Duration::from_millis(5)).await;
            }
        });
        assert!(probe(&self.handle), "{what}");
    }

    fn state(&self, spec: &str) -> State {
        self.handle.process_info(spec).expect("known").state
    }

    fn pid(&self, spec: &str) -> u32 {
        self.handle.process_info(spec).expect("known").pid
    }

    fn rewrite(&self, programs: &str) {
        std::fs::write(self.dir.0.join("s.conf"), conf_text(&self.dir.0, programs))
            .expect("rewrite config");
    }

    fn main_log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("main.log")).unwrap_or_default()
    }

    /// Stops everything and waits for the run to end.
    fn finish(self) {
        self.handle.shutdown();
        let outcome = self.run(async { self.done.recv().await });
        assert_eq!(outcome.ok(), Some(Outcome::Shutdown { status: 0 }));
    }
}

fn kind<T: std::fmt::Debug>(result: Result<T, Error>) -> ErrorKind {
    result.expect_err("an error").kind
}

#[test]
fn daemon_views_identify_and_report_running() {
    let f = Fixture::new(SLEEPERS);
    assert_eq!(f.handle.mood(), Mood::Running);
    assert_eq!(f.handle.check_running(), Ok(()));
    assert_eq!(f.handle.identification(), "unit");
    assert_eq!(f.handle.config_info().len(), 3, "a, g:b and g:c");
    f.finish();
}

#[test]
fn start_and_stop_one_process_wait_for_its_state() {
    let f = Fixture::new(SLEEPERS);
    f.until("a running", |h| {
        h.process_info("a").map(|i| i.state) == Ok(State::Running)
    });
    assert_eq!(f.run(f.handle.stop("a", true)), Ok(Applied::One));
    assert_eq!(f.state("a"), State::Stopped);
    assert_eq!(kind(f.run(f.handle.stop("a", true))), ErrorKind::NotRunning);
    assert_eq!(f.run(f.handle.start("a", true)), Ok(Applied::One));
    assert_eq!(f.state("a"), State::Running);
    assert_eq!(
        kind(f.run(f.handle.start("a", true))),
        ErrorKind::AlreadyStarted
    );
    assert_eq!(
        kind(f.run(f.handle.start("nope", true))),
        ErrorKind::BadName
    );
    f.finish();
}

#[test]
fn a_start_that_exits_too_quickly_is_a_spawn_error() {
    let f = Fixture::new(
        "[program:q]\ncommand=sh -c 'exit 3'\nstartsecs=5\nstartretries=0\nautostart=false\n\n\
         [program:m]\ncommand=/nonexistent/cmd\nautostart=false\n",
    );
    assert_eq!(
        kind(f.run(f.handle.start("q", true))),
        ErrorKind::SpawnError
    );
    assert_eq!(f.state("q"), State::Fatal);
    let missing = f
        .run(f.handle.start("m", true))
        .expect_err("no such command");
    assert_eq!(missing.kind, ErrorKind::NoFile);
    assert_eq!(
        missing.detail.as_deref(),
        Some("can't find command '/nonexistent/cmd'")
    );
    f.finish();
}

#[test]
fn group_and_all_requests_answer_per_process() {
    let f = Fixture::new(SLEEPERS);
    f.until("all running", |h| {
        h.all_process_info()
            .iter()
            .all(|i| i.state == State::Running)
    });
    let stopped = f.run(f.handle.stop_group("g", true)).expect("group");
    let mut names: Vec<_> = stopped.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["b", "c"]);
    assert!(stopped.iter().all(|r| r.error.is_none() && r.group == "g"));
    // g:* through the single-process request is the group form.
    match f.run(f.handle.start("g:*", true)) {
        Ok(Applied::Each(each)) => assert_eq!(each.len(), 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        kind(f.run(f.handle.start_group("zz", true))),
        ErrorKind::BadName
    );
    let all = f.run(f.handle.stop_all(true));
    assert_eq!(all.len(), 3);
    assert!(f
        .handle
        .all_process_info()
        .iter()
        .all(|i| i.state == State::Stopped));
    // Nothing applies twice: a second stop_all has nothing to stop.
    assert!(f.run(f.handle.stop_all(true)).is_empty());
    assert_eq!(f.run(f.handle.start_all(false)).len(), 3);
    f.until("all running again", |h| {
        h.all_process_info()
            .iter()
            .all(|i| i.state == State::Running)
    });
    f.finish();
}

#[test]
fn process_views_are_owned_snapshots_in_lexical_order() {
    let f = Fixture::new(SLEEPERS);
    f.until("a running", |h| {
        h.process_info("a").map(|i| i.state) == Ok(State::Running)
    });
    let all = f.handle.all_process_info();
    let specs: Vec<String> = all.iter().map(ProcessInfo::namespec).collect();
    assert_eq!(specs, ["a", "g:b", "g:c"]);
    let a = f.handle.process_info("a").expect("a");
    assert!(a.pid > 0 && a.description.starts_with(&format!("pid {}", a.pid)));
    assert_eq!(kind(f.handle.process_info("g")), ErrorKind::BadName);
    let info = f.handle.config_info();
    let b = info.iter().find(|i| i.process.name == "b").expect("b");
    assert!(b.inuse && b.group == "g");
    assert!(b.stdout_logfile.ends_with("b.out"));
    f.finish();
}

#[test]
fn signals_reach_one_group_or_all_and_bad_ones_are_refused() {
    let f = Fixture::new(SLEEPERS);
    f.until("all running", |h| {
        h.all_process_info()
            .iter()
            .all(|i| i.state == State::Running)
    });
    assert_eq!(kind(f.handle.signal("a", "NOPE")), ErrorKind::BadSignal);
    assert_eq!(kind(f.handle.signal("zz", "HUP")), ErrorKind::BadName);
    match f.handle.signal("g:*", "CONT") {
        Ok(Applied::Each(each)) => assert!(each.iter().all(|r| r.error.is_none())),
        other => panic!("{other:?}"),
    }
    let bad = f.handle.signal_group("g", "NOPE").expect("group exists");
    assert!(bad
        .iter()
        .all(|r| r.error.as_ref().map(|e| e.kind) == Some(ErrorKind::BadSignal)));
    assert_eq!(f.handle.signal_all("CONT").len(), 3);
    let pid = f.pid("a");
    assert_eq!(f.handle.signal("a", "KILL"), Ok(Applied::One));
    f.until("a restarted after the kill", |h| {
        h.process_info("a")
            .is_ok_and(|i| i.state == State::Running && i.pid != pid)
    });
    f.finish();
}

#[test]
fn stdin_reaches_the_child_and_its_log_can_be_read_tailed_cleared_and_followed() {
    let f = Fixture::new(SLEEPERS);
    f.until("c running", |h| {
        h.process_info("g:c").map(|i| i.state) == Ok(State::Running)
    });
    let (path, bell) = f
        .handle
        .follow(LogRef::Process("g:c", Stream::Stdout))
        .expect("c logs to a file");
    assert!(path.ends_with("c.out"));
    f.handle
        .send_stdin("g:c", b"hello\n".to_vec())
        .expect("stdin");
    f.run(async { bell.recv().await.expect("a ping on new output") });
    f.until("the echo in the log", |h| {
        h.read_log("g:c", Stream::Stdout, 0, 0).as_deref() == Ok(b"hello\n")
    });
    let tail = f
        .handle
        .tail_log("g:c", Stream::Stdout, 0, 3)
        .expect("tail");
    assert_eq!((tail.bytes.as_slice(), tail.offset), (&b"lo\n"[..], 6));
    assert_eq!(
        f.handle.read_log("g:c", Stream::Stdout, -1, 5).map(|_| ()),
        Err(Error::bare(ErrorKind::BadArguments))
    );
    f.handle.clear_logs("g:c").expect("clear");
    assert_eq!(
        f.handle.read_log("g:c", Stream::Stdout, 0, 0),
        Ok(Vec::new())
    );
    assert_eq!(f.handle.clear_all_logs().len(), 3);
    // a's stderr goes nowhere.
    assert_eq!(
        f.handle.read_log("a", Stream::Stderr, 0, 0),
        Err(Error::bare(ErrorKind::NoFile))
    );
    assert_eq!(
        kind(f.handle.send_stdin("zz", Vec::new())),
        ErrorKind::BadName
    );
    assert!(f
        .handle
        .follow(LogRef::Process("zz", Stream::Stdout))
        .is_none());
    f.finish();
}

#[test]
fn the_main_log_is_read_cleared_reopened_and_followed() {
    let f = Fixture::new(SLEEPERS);
    f.handle.log(LogLevel::Info, "a line from the test");
    let text = f.handle.read_main_log(0, 0).expect("main log");
    assert!(String::from_utf8_lossy(&text).contains("a line from the test"));
    let (path, _bell) = f.handle.follow(LogRef::Main).expect("main log file");
    assert!(path.ends_with("main.log"));
    f.handle.clear_main_log().expect("clear");
    assert!(!f.main_log().contains("a line from the test"));
    f.handle.reopen_logs();
    assert!(f.main_log().contains("supervisord logreopen"));
    f.finish();
}

#[test]
fn groups_are_reread_added_and_removed() {
    let f = Fixture::new(SLEEPERS);
    f.rewrite("[program:a]\ncommand=sleep 1000\nstartsecs=1\n\n[program:n]\ncommand=sleep 1000\nstartsecs=0\n");
    let diff = f.handle.reread().expect("valid");
    assert_eq!(
        diff,
        Diff {
            added: vec!["n".into()],
            changed: vec!["a".into()],
            removed: vec!["g".into()],
        }
    );
    assert_eq!(kind(f.handle.remove_group("g")), ErrorKind::StillRunning);
    f.run(f.handle.stop_group("g", true)).expect("stop g");
    f.handle.remove_group("g").expect("remove g");
    assert_eq!(kind(f.handle.remove_group("g")), ErrorKind::BadName);
    f.handle.add_group("n").expect("add n");
    assert_eq!(kind(f.handle.add_group("n")), ErrorKind::AlreadyAdded);
    assert_eq!(kind(f.handle.add_group("zz")), ErrorKind::BadName);
    f.rewrite("[program:a]\ncommand=sleep 1000\nstartsecs=x\n");
    let refused = f.handle.reread().expect_err("invalid");
    assert_eq!(refused.kind, ErrorKind::CantReread);
    assert!(refused
        .detail
        .is_some_and(|d| d.starts_with("invalid value for 'startsecs'")));
    // As 4.3: the client hears it, the main log does not.
    assert!(!f.main_log().contains("keeping the previous one"));
    f.finish();
}

#[test]
fn an_invalid_config_refuses_a_restart_and_keeps_every_pid() {
    let f = Fixture::new(SLEEPERS);
    f.until("all running", |h| {
        h.all_process_info()
            .iter()
            .all(|i| i.state == State::Running)
    });
    let pids: Vec<u32> = f.handle.all_process_info().iter().map(|i| i.pid).collect();
    f.rewrite("[program:a]\ncommand=sleep 1000\nstartsecs=x\n");
    assert_eq!(kind(f.handle.restart()), ErrorKind::CantReread);
    assert_eq!(kind(f.handle.request_restart()), ErrorKind::CantReread);
    f.handle.after_reply();
    assert_eq!(f.handle.mood(), Mood::Running);
    let now: Vec<u32> = f.handle.all_process_info().iter().map(|i| i.pid).collect();
    assert_eq!(now, pids);
    assert_eq!(f.handle.child_pids().len(), 3);
    f.finish();
}

#[test]
fn a_valid_restart_stops_everything_and_hands_over_the_new_config() {
    let f = Fixture::new(SLEEPERS);
    f.rewrite("[program:n]\ncommand=sleep 1000\nstartsecs=0\n");
    f.handle.request_restart().expect("valid");
    // Nothing happens until the reply has gone out.
    assert_eq!(f.handle.mood(), Mood::Running);
    f.handle.after_reply();
    assert_eq!(kind(f.handle.check_running()), ErrorKind::ShutdownState);
    let outcome = f.run(async { f.done.recv().await }).expect("outcome");
    let Outcome::Restart(fresh) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(f.handle.child_pids().is_empty());
    f.handle.reset(*fresh, None);
    f.handle.add_all_groups();
    assert_eq!(f.handle.mood(), Mood::Running);
    let specs: Vec<String> = f
        .handle
        .all_process_info()
        .iter()
        .map(ProcessInfo::namespec)
        .collect();
    assert_eq!(specs, ["n"]);
    f.finish();
}

#[test]
fn a_shutdown_requested_over_rpc_waits_for_the_reply() {
    let f = Fixture::new(SLEEPERS);
    f.handle.request_shutdown();
    assert_eq!(f.handle.mood(), Mood::Running);
    f.handle.after_reply();
    let outcome = f.run(async { f.done.recv().await });
    assert_eq!(outcome.ok(), Some(Outcome::Shutdown { status: 0 }));
    assert!(f.handle.child_pids().is_empty());
}

#[test]
fn a_waiting_stop_reports_every_two_seconds_while_the_process_stops() {
    let f = Fixture::new(
        "[program:stubborn]\ncommand=sh -c 'trap \"\" TERM; touch %(here)s/trapped; \
         while :; do sleep 0.1; done'\nstartsecs=0\nstopwaitsecs=3\n",
    );
    let trapped = f.dir.0.join("trapped");
    f.until("stubborn to ignore TERM", |_| trapped.exists());
    assert_eq!(f.run(f.handle.stop("stubborn", true)), Ok(Applied::One));
    let log = f.main_log();
    let reports = log.matches("waiting for stubborn to stop").count();
    assert_eq!(
        reports, 2,
        "at once and 2 s later, before the kill at 3 s:\n{log}"
    );
    f.finish();
}

#[test]
fn a_dependent_waits_for_its_dependency_to_be_running() {
    let f = Fixture::new(
        "[program:a]\ncommand=sleep 1000\nstartsecs=1\n\n\
         [program:b]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=a\npriority=1\n",
    );
    let b = f.handle.process_info("b").expect("b");
    assert_eq!(b.state, State::Stopped);
    assert_eq!(b.description, "waiting for a");
    f.until("a running", |h| {
        h.process_info("a").map(|i| i.state) == Ok(State::Running)
    });
    f.until("b running after a", |h| {
        h.process_info("b").map(|i| i.state) == Ok(State::Running)
    });
    let a_start = f.handle.process_info("a").expect("a").start;
    let b_start = f.handle.process_info("b").expect("b").start;
    assert!(b_start > a_start, "b started once a was RUNNING");
    // Shutdown stops the dependent first, although 4.3's reverse priority
    // would stop a (999) before b (1).
    f.handle.shutdown();
    let outcome = f.run(async { f.done.recv().await });
    assert_eq!(outcome.ok(), Some(Outcome::Shutdown { status: 0 }));
    let log = f.main_log();
    let (sb, sa) = (log.find("stopped: b"), log.find("stopped: a"));
    assert!(
        sb.is_some() && sa.is_some() && sb < sa,
        "b before a:\n{log}"
    );
}

#[test]
fn a_fatal_dependency_leaves_its_dependent_stopped() {
    let f = Fixture::new(
        "[program:a]\ncommand=sh -c 'exit 1'\nstartsecs=1\nstartretries=0\n\n\
         [program:b]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=a\n",
    );
    f.until("a fatal", |h| {
        h.process_info("a").map(|i| i.state) == Ok(State::Fatal)
    });
    f.until("b given up", |h| {
        h.process_info("b")
            .is_ok_and(|i| i.spawnerr == "dependency a failed")
    });
    let b = f.handle.process_info("b").expect("b");
    assert_eq!(
        (b.state, b.description.as_str()),
        (State::Stopped, "dependency a failed")
    );
    assert_eq!(b.start, 0, "no start attempt was burned");
    f.finish();
}

#[test]
fn starting_a_dependent_starts_its_dependencies_first() {
    let f = Fixture::new(
        "[program:a]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\n\n\
         [program:b]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\ndepends_on=a\n",
    );
    assert_eq!(f.run(f.handle.start("b", true)), Ok(Applied::One));
    assert_eq!(f.state("a"), State::Running);
    assert_eq!(f.state("b"), State::Running);
    f.finish();
}

#[test]
fn stop_all_stops_dependents_first_and_restart_dependents_follow_their_dependency() {
    let f = Fixture::new(
        "[program:a]\ncommand=sleep 1000\nstartsecs=0\npriority=1\n\n\
         [program:b]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=a\nrestart_dependents=true\npriority=999\n",
    );
    f.until("both running", |h| {
        h.all_process_info()
            .iter()
            .all(|i| i.state == State::Running)
    });
    // a restarts (killed, autorestart): b is restarted after it.
    let b_pid = f.pid("b");
    let a_pid = f.pid("a");
    assert_eq!(f.handle.signal("a", "KILL"), Ok(Applied::One));
    f.until("a and b running with new pids", |h| {
        let (a, b) = (h.process_info("a"), h.process_info("b"));
        a.is_ok_and(|a| a.state == State::Running && a.pid != a_pid)
            && b.is_ok_and(|b| b.state == State::Running && b.pid != b_pid)
    });
    let log = f.main_log();
    assert!(log.contains("stopped: b"), "{log}");
    // stop all: in priority order a (1) would go first; b depends on a.
    let results = f.run(f.handle.stop_all(true));
    let order: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(order, ["b", "a"]);
    let log = f.main_log();
    let tail = &log[log.rfind("stopped: b").unwrap_or(0)..];
    assert!(tail.contains("stopped: a"), "a stopped after b:\n{log}");
    f.finish();
}

#[test]
fn fd_readiness_holds_starting_until_the_newline() {
    let f = Fixture::new(
        "[program:a]\ncommand=sh -c 'read line; echo >&3; exec sleep 1000'\nready=fd:3\n",
    );
    f.until("a starting", |h| {
        h.process_info("a").map(|i| i.state) == Ok(State::Starting)
    });
    let info = f.handle.process_info("a").expect("a");
    assert_eq!(info.description, "waiting for fd 3");
    // startsecs (1) passing changes nothing: only the newline does.
    f.run(async { async_io::Timer::after(Duration::from_millis(1300)).await });
    assert_eq!(f.state("a"), State::Starting);
    f.handle.send_stdin("a", b"go\n".to_vec()).expect("stdin");
    f.until("a ready", |h| {
        h.process_info("a").map(|i| i.state) == Ok(State::Running)
    });
    assert!(f
        .main_log()
        .contains("success: a entered RUNNING state, process is ready (fd 3)"));
    f.finish();
}

#[test]
fn a_check_that_never_passes_fails_the_start_at_ready_timeout() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let f = Fixture::new(&format!(
        "[program:a]\ncommand=sleep 1000\nready=tcp:127.0.0.1:{port}\nready_timeout=1\nstartretries=0\n"
    ));
    f.until("a fatal", |h| {
        h.process_info("a").map(|i| i.state) == Ok(State::Fatal)
    });
    let log = f.main_log();
    assert!(
        log.contains(&format!(
            "a: not ready within 1 seconds (tcp 127.0.0.1:{port})"
        )),
        "{log}"
    );
    f.finish();
}

// ----- container mode --------------------------------------------------------

#[test]
fn an_essential_exit_stops_everything_and_ends_the_run_with_its_status() {
    let f = Fixture::new(
        "[program:web]\ncommand=sh -c 'sleep 0.3; exit 42'\nstartsecs=0\nessential=true\n\
         autorestart=true\n\n\
         [program:other]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    let other = f.pid("other");
    let outcome = f.run(async { f.done.recv().await });
    assert_eq!(outcome.ok(), Some(Outcome::Shutdown { status: 42 }));
    assert_eq!(f.state("web"), State::Exited, "not restarted");
    assert_eq!(f.state("other"), State::Stopped);
    assert!(f.handle.child_pids().is_empty(), "{other} was stopped");
    let log = f.main_log();
    assert!(
        log.contains(
            "WARN essential program web exited (exit status 42); stopping everything, \
             then exiting with status 42"
        ),
        "{log}"
    );
}

#[test]
fn an_operator_stopping_an_essential_program_ends_nothing() {
    let f = Fixture::new(
        "[program:web]\ncommand=sleep 1000\nstartsecs=0\nessential=true\n\n\
         [program:other]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    assert_eq!(f.run(f.handle.stop("web", true)), Ok(Applied::One));
    assert_eq!(f.state("web"), State::Stopped);
    assert_eq!(f.handle.mood(), Mood::Running);
    assert_eq!(f.state("other"), State::Running);
    assert!(f.done.try_recv().is_err());
    f.finish();
}

#[test]
fn exit_when_all_done_ends_with_the_worst_unexpected_status() {
    let f = Fixture::with_daemon(
        "exit_when_all_done=true\n",
        "[program:ok]\ncommand=sh -c 'sleep 0.2'\nstartsecs=0\nautorestart=false\n\n\
         [program:bad]\ncommand=sh -c 'sleep 0.4; exit 3'\nstartsecs=0\nautorestart=false\n\n\
         [program:idle]\ncommand=sleep 1000\nautostart=false\n",
    );
    assert_eq!(f.handle.mood(), Mood::Running, "not at startup");
    let outcome = f.run(async { f.done.recv().await });
    assert_eq!(outcome.ok(), Some(Outcome::Shutdown { status: 3 }));
    let log = f.main_log();
    assert!(
        log.contains(
            "every program has ended and none will restart (exit_when_all_done); \
             exiting with status 3: bad exited unexpectedly (exit status 3)"
        ),
        "{log}"
    );
}

#[test]
fn a_second_stop_request_kills_what_is_left() {
    let f = Fixture::new(
        "[program:stubborn]\ncommand=sh -c 'trap \"\" TERM; touch %(here)s/trapped; \
         while :; do sleep 0.1; done'\nstartsecs=0\nstopwaitsecs=60\n",
    );
    let trapped = f.dir.0.join("trapped");
    f.until("stubborn to ignore TERM", |_| trapped.exists());
    f.handle.shutdown();
    assert_eq!(f.state("stubborn"), State::Stopping);
    f.handle.kill_remaining();
    let outcome = f.run(async { f.done.recv().await });
    assert_eq!(outcome.ok(), Some(Outcome::Shutdown { status: 0 }));
    let log = f.main_log();
    assert!(log.contains("killing stubborn (pid "), "{log}");
    assert!(
        log.contains("stopped: stubborn (terminated by SIGKILL)"),
        "{log}"
    );
}
