//! Events and event listeners, against Python Supervisor 4.3 as the
//! reference: the same listener (written with 4.3's childutils) runs under
//! both daemons on the same config and records what it receives; the two
//! records must match apart from pids, serials and times. Also: listeners
//! that fail, crash or break the protocol lose nothing; a full buffer drops
//! the oldest event; ticks arrive on time; a pool of three shares the work.

use std::path::{Path, PathBuf};
use std::time::Duration;

use supervisor::rpc::value::Value;

use crate::util::{python_bin, wait_for, Config, Daemon, Flavor, Launch, Sandbox};

const T: Duration = Duration::from_secs(30);

fn listener_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/listeners/record.py")
}

/// An `[eventlistener:NAME]` running the recording listener under the
/// venv's Python (so it imports 4.3's childutils).
fn listener(name: &str, events: &str, mode: &str, extra: &str) -> String {
    format!(
        "[eventlistener:{name}]\ncommand={py} {script} %(here)s/{name}.events {mode}\n\
         events={events}\nstartsecs=0\nbuffer_size=100\n{extra}\n",
        py = python_bin().join("python").display(),
        script = listener_script().display(),
    )
}

/// The events a listener recorded: (eventname, pool, payload) per line.
fn recorded(sb: &Sandbox, name: &str) -> Vec<(String, String, String)> {
    sb.read(&format!("{name}.events"))
        .lines()
        .filter_map(parse_record)
        .collect()
}

/// Reads one `repr((a, b, c))` line of three Python strings.
fn parse_record(line: &str) -> Option<(String, String, String)> {
    let mut fields = Vec::new();
    let mut chars = line.trim().strip_prefix('(')?.chars().peekable();
    while fields.len() < 3 {
        while chars.peek().is_some_and(|c| *c == ',' || *c == ' ') {
            chars.next();
        }
        let quote = chars.next()?;
        let mut field = String::new();
        loop {
            match chars.next()? {
                '\\' => match chars.next()? {
                    'n' => field.push('\n'),
                    't' => field.push('\t'),
                    'r' => field.push('\r'),
                    'x' => {
                        let hex: String = [chars.next()?, chars.next()?].iter().collect();
                        field.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
                    }
                    other => field.push(other),
                },
                c if c == quote => break,
                c => field.push(c),
            }
        }
        fields.push(field);
    }
    let mut it = fields.into_iter();
    Some((it.next()?, it.next()?, it.next()?))
}

/// Pids and times masked: the digits after `pid:` and `when:`.
fn normalized(payload: &str) -> String {
    let mut out = String::new();
    let mut rest = payload;
    while let Some(at) = ["pid:", "when:"]
        .iter()
        .filter_map(|key| rest.find(key).map(|i| (i, key.len())))
        .min()
    {
        let (i, len) = at;
        out.push_str(&rest[..i + len]);
        rest = rest[i + len..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('N');
    }
    out.push_str(rest);
    out
}

/// Events grouped by what they are about (a process, or the event type
/// for the others), each group in the order received: the order between
/// independent processes is the machine's, not the daemon's.
fn by_subject(events: &[(String, String, String)]) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (name, pool, payload) in events {
        let subject = payload
            .split_whitespace()
            .find_map(|w| w.strip_prefix("processname:"))
            .map(str::to_string)
            .unwrap_or_else(|| name.clone());
        let entry = format!("{name} {pool} {}", normalized(payload));
        match groups.iter_mut().find(|(s, _)| *s == subject) {
            Some((_, list)) => list.push(entry),
            None => groups.push((subject, vec![entry])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    groups
}

const SCENARIO: &str = "[program:echoer]\n\
command=sh -c \"sleep 0.3; printf 'first line of normal output, long enough\\n'; sleep 0.3; \
printf '<!--XSUPERVISOR:BEGIN-->the message<!--XSUPERVISOR:END-->'; sleep 0.3; \
printf 'a trailing line that is long enough to pass\\n'; sleep 0.3; printf 'to stderr\\n' >&2; \
exec sleep 1000\"\n\
startsecs=0\nstdout_events_enabled=true\nstderr_events_enabled=true\n\
stdout_capture_maxbytes=1MB\n\n\
[program:failer]\ncommand=sh -c 'exit 2'\nstartsecs=10\nstartretries=1\n\n\
[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n\n";

/// Runs the scenario under one daemon; returns what the listener received.
fn run_scenario(flavor: Flavor) -> Vec<(String, String, String)> {
    let sb = Sandbox::new(&format!("events-{flavor:?}"));
    let programs = format!(
        "{}{SCENARIO}",
        listener(
            "watch",
            "PROCESS_STATE,PROCESS_GROUP,REMOTE_COMMUNICATION,SUPERVISOR_STATE_CHANGE,\
             PROCESS_LOG,PROCESS_COMMUNICATION",
            "ok",
            ""
        )
    );
    let conf = Config::new(&programs).write(&sb);
    let mut d = Daemon::start_flavor(&sb, flavor, &conf, Launch::default());
    d.kill_on_drop = true;
    let has = |sb: &Sandbox, what: &str| sb.read("watch.events").lines().any(|l| l.contains(what));
    wait_for(T, "the startup events", || {
        (has(&sb, "PROCESS_STATE_FATAL")
            && has(&sb, "to stderr")
            && has(&sb, "PROCESS_COMMUNICATION_STDOUT"))
        .then_some(())
    });
    d.call("supervisor.stopProcess", &[Value::str("sleeper")])
        .expect("stop sleeper");
    d.call(
        "supervisor.sendRemoteCommEvent",
        &[Value::str("greeting"), Value::str("hello world")],
    )
    .expect("remote comm");
    wait_for(T, "the remote event", || {
        has(&sb, "REMOTE_COMMUNICATION").then_some(())
    });
    recorded(&sb, "watch")
}

#[test]
fn every_event_type_matches_43s_header_and_payload() {
    let ours = run_scenario(Flavor::Ours);
    let theirs = run_scenario(Flavor::Python);
    let (ours, theirs) = (by_subject(&ours), by_subject(&theirs));
    assert_eq!(ours, theirs, "\nours:  {ours:#?}\n4.3:   {theirs:#?}");
    // The record is not empty by accident: it holds every kind asked for.
    let all: Vec<&String> = ours.iter().flat_map(|(_, l)| l).collect();
    for kind in [
        "PROCESS_GROUP_ADDED",
        "SUPERVISOR_STATE_CHANGE_RUNNING",
        "PROCESS_STATE_STARTING",
        "PROCESS_STATE_RUNNING",
        "PROCESS_STATE_BACKOFF",
        "PROCESS_STATE_FATAL",
        "PROCESS_STATE_STOPPING",
        "PROCESS_STATE_STOPPED",
        "PROCESS_LOG_STDOUT",
        "PROCESS_LOG_STDERR",
        "PROCESS_COMMUNICATION_STDOUT",
        "REMOTE_COMMUNICATION",
    ] {
        assert!(
            all.iter().any(|e| e.starts_with(kind)),
            "no {kind} in {all:#?}"
        );
    }
}

/// REMOTE_COMMUNICATION events with data `0`..`n`, in one multicall so the
/// pool buffers them together.
fn send_remote(d: &Daemon, n: usize) {
    let calls: Vec<Value> = (0..n)
        .map(|i| {
            Value::Struct(vec![
                (
                    "methodName".into(),
                    Value::str("supervisor.sendRemoteCommEvent"),
                ),
                (
                    "params".into(),
                    Value::Array(vec![Value::str("n"), Value::str(i.to_string())]),
                ),
            ])
        })
        .collect();
    d.call("system.multicall", &[Value::Array(calls)])
        .expect("multicall");
}

/// The `data` of each REMOTE_COMMUNICATION a listener recorded, in order.
fn remote_data(sb: &Sandbox, name: &str) -> Vec<String> {
    recorded(sb, name)
        .into_iter()
        .filter(|(kind, _, _)| kind == "REMOTE_COMMUNICATION")
        .filter_map(|(_, _, payload)| payload.strip_prefix("type:n\n").map(str::to_string))
        .collect()
}

#[test]
fn listeners_that_fail_crash_or_break_the_protocol_lose_no_event() {
    for (mode, log_line) in [
        ("fail-first", "watch: event was rejected"),
        ("crash-first", "exited: watch (exit status 3; not expected)"),
        ("garbage-first", "watch: bad result line"),
    ] {
        let sb = Sandbox::new(&format!("events-{mode}"));
        let d = Daemon::start(&sb, &listener("watch", "REMOTE_COMMUNICATION", mode, ""));
        d.wait_state("watch", "RUNNING", T);
        send_remote(&d, 3);
        wait_for(T, &format!("every event to arrive ({mode})"), || {
            let got = remote_data(&sb, "watch");
            ["0", "1", "2"]
                .iter()
                .all(|want| got.iter().any(|g| g == want))
                .then_some(got)
        });
        let got = remote_data(&sb, "watch");
        // The first event was seen twice (once by the misbehaving listener,
        // once again after it was rebuffered); none was lost or reordered.
        assert_eq!(got, ["0", "0", "1", "2"], "{mode}");
        let log = d.main_log();
        assert!(
            log.contains(log_line),
            "{mode}: {log_line:?} missing:\n{log}"
        );
        assert!(
            log.contains("rebuffering event 0 for pool watch"),
            "{mode}:\n{log}"
        );
    }
}

#[test]
fn a_full_buffer_drops_the_oldest_event() {
    let sb = Sandbox::new("events-overflow");
    // The listener only starts listening once the test says so.
    let start = format!(
        "sh -c 'while [ ! -f %(here)s/go ]; do sleep 0.05; done; exec {py} {script} %(here)s/watch.events'",
        py = python_bin().join("python").display(),
        script = listener_script().display(),
    );
    let d = Daemon::start(
        &sb,
        &format!(
            "[eventlistener:watch]\ncommand={start}\nevents=REMOTE_COMMUNICATION\n\
             startsecs=0\nbuffer_size=2\n"
        ),
    );
    d.wait_state("watch", "RUNNING", T);
    send_remote(&d, 5);
    for serial in 0..3 {
        let line = format!("pool watch event buffer overflowed, discarding event {serial}");
        assert!(d.main_log().contains(&line), "{line:?}:\n{}", d.main_log());
    }
    sb.write("go", "");
    wait_for(T, "the two newest events", || {
        (remote_data(&sb, "watch").len() >= 2).then_some(())
    });
    assert_eq!(remote_data(&sb, "watch"), ["3", "4"]);
}

#[test]
fn a_pool_of_three_shares_the_events() {
    let sb = Sandbox::new("events-pool");
    let d = Daemon::start(
        &sb,
        &format!(
            "[eventlistener:pool]\ncommand={py} {script} %(here)s/pool_%(process_num)s.events\n\
             process_name=%(program_name)s_%(process_num)s\nnumprocs=3\n\
             events=REMOTE_COMMUNICATION\nstartsecs=0\n",
            py = python_bin().join("python").display(),
            script = listener_script().display(),
        ),
    );
    // Every listener has said READY (4.3 hands an event to the first READY one).
    for i in 0..3 {
        let line = format!("pool_{i}: ACKNOWLEDGED -> READY");
        wait_for(T, &line, || d.main_log().contains(&line).then_some(()));
    }
    send_remote(&d, 9);
    let per_listener = |sb: &Sandbox| -> Vec<Vec<String>> {
        (0..3)
            .map(|i| remote_data(sb, &format!("pool_{i}")))
            .collect()
    };
    wait_for(T, "all nine events", || {
        (per_listener(&sb).iter().map(Vec::len).sum::<usize>() >= 9).then_some(())
    });
    let shares = per_listener(&sb);
    let mut all: Vec<String> = shares.iter().flatten().cloned().collect();
    all.sort_by_key(|d| d.parse::<u32>().unwrap_or(99));
    assert_eq!(all, (0..9).map(|i| i.to_string()).collect::<Vec<_>>());
    assert!(
        shares.iter().filter(|s| !s.is_empty()).count() >= 2,
        "one listener did all the work: {shares:?}"
    );
}

/// Voluntary plus involuntary context switches of every thread of `pid`.
fn context_switches(pid: u32) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    total
}

#[test]
fn ticks_arrive_on_their_boundaries_and_cost_nothing_unsubscribed() {
    let sb = Sandbox::new("events-tick");
    let d = Daemon::start(&sb, &listener("ticks", "TICK_5", "ok", ""));
    d.wait_state("ticks", "RUNNING", T);
    wait_for(Duration::from_secs(20), "two TICK_5 events", || {
        (recorded(&sb, "ticks").len() >= 2).then_some(())
    });
    let whens: Vec<u64> = recorded(&sb, "ticks")
        .iter()
        .filter(|(kind, _, _)| kind == "TICK_5")
        .filter_map(|(_, _, p)| p.strip_prefix("when:")?.parse().ok())
        .collect();
    assert!(whens.len() >= 2, "{whens:?}");
    assert!(whens.iter().all(|w| w % 5 == 0), "{whens:?}");
    assert_eq!(whens[1] - whens[0], 5, "{whens:?}");
    drop(d);

    // A pool without a TICK subscription arms no timer: an idle daemon
    // with a listener does not wake up at all.
    let sb = Sandbox::new("events-idle");
    let d = Daemon::start(&sb, &listener("quiet", "PROCESS_STATE", "ok", ""));
    d.wait_state("quiet", "RUNNING", T);
    // Let the startup events drain to the listener.
    wait_for(T, "the listener's startup events", || {
        recorded(&sb, "quiet")
            .iter()
            .any(|(k, _, p)| k == "PROCESS_STATE_RUNNING" && p.contains("quiet"))
            .then_some(())
    });
    // The listener's last READY may still be on its way: start measuring
    // once the daemon has been still for a second.
    let mut last = context_switches(d.pid());
    let mut still_since = std::time::Instant::now();
    let before = wait_for(T, "the daemon to settle", || {
        let now = context_switches(d.pid());
        if now != last {
            last = now;
            still_since = std::time::Instant::now();
        }
        (still_since.elapsed() >= Duration::from_secs(1)).then_some(now)
    });
    std::thread::sleep(Duration::from_secs(20)); // the measuring window itself
    let after = context_switches(d.pid());
    assert_eq!(after - before, 0, "the idle daemon woke up");
}
