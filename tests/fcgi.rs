//! `[fcgi-program:x]`: the processes of the group share one listening socket
//! as their stdin, open while any of them runs (4.3's SocketManager keeps a
//! reference per live process). The lifecycle test runs against Python
//! Supervisor 4.3 too, so what it asserts is what 4.3 does.

use std::collections::BTreeSet;
use std::io::Read;
use std::net::TcpStream;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use supervisor::rpc::value::Value;

use crate::util::{free_port, python_bin, wait_for, Config, Daemon, Flavor, Launch, Sandbox};

/// A FastCGI-style server: accepts on fd 0 and answers each connection
/// with its own pid.
const SERVER: &str = "import os, socket\n\
                      s = socket.socket(fileno=0)\n\
                      while True:\n\
                      \x20   c, _ = s.accept()\n\
                      \x20   c.sendall(b'%d\\n' % os.getpid())\n\
                      \x20   c.close()\n";

const WAIT: Duration = Duration::from_secs(20);

/// `[fcgi-program:f]` running the pid server, with `extra` lines.
fn fcgi_section(sb: &Sandbox, socket: &str, extra: &str) -> String {
    sb.write("srv.py", SERVER);
    format!(
        "[fcgi-program:f]\ncommand={} {{dir}}/srv.py\nsocket={socket}\nnumprocs=2\n\
         process_name=%(program_name)s_%(process_num)s\nstartsecs=0\n{extra}",
        python_bin().join("python").display()
    )
}

/// The pid that answered one connection, None when it could not connect.
fn answer(mut stream: impl Read) -> Option<u32> {
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

fn ask_unix(path: &Path) -> Option<u32> {
    let stream = UnixStream::connect(path).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    answer(stream)
}

fn ask_tcp(port: u16) -> Option<u32> {
    let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    answer(stream)
}

/// Connects until every pid of `expected` has answered (bounded).
fn every_process_answers(ask: impl Fn() -> Option<u32>, expected: &BTreeSet<u32>) {
    let mut seen = BTreeSet::new();
    wait_for(WAIT, &format!("answers from each of {expected:?}"), || {
        if let Some(pid) = ask() {
            assert!(expected.contains(&pid), "{pid} is none of {expected:?}");
            seen.insert(pid);
        }
        (&seen == expected).then_some(())
    });
}

fn pids(d: &Daemon) -> BTreeSet<u32> {
    ["f:f_0", "f:f_1"]
        .iter()
        .map(|name| {
            d.wait_state(name, "RUNNING", WAIT);
            d.process_pid(name)
        })
        .collect()
}

fn call_ok(d: &Daemon, method: &str, name: &str) {
    if let Err(fault) = d.call(method, &[Value::str(name)]) {
        panic!("{method}({name}): {fault:?}");
    }
}

/// Both processes accept on the one unix socket; its file has the
/// configured mode; stopping every process closes the socket (refused, the
/// file left in place as 4.3 leaves it), starting one opens it again, and
/// removing the group leaves it closed. Ours and 4.3 alike.
#[test]
fn unix_socket_is_shared_while_any_process_runs() {
    for flavor in [Flavor::Ours, Flavor::Python] {
        let sb = Sandbox::new("fcgi-unix");
        let sock = sb.path("f.sock");
        let conf = Config::new(&fcgi_section(
            &sb,
            "unix://{dir}/f.sock",
            "socket_mode=0660\n",
        ))
        .write(&sb);
        let d = Daemon::start_flavor(&sb, flavor, &conf, Launch::default());
        let running = pids(&d);
        every_process_answers(|| ask_unix(&sock), &running);
        let meta = std::fs::metadata(&sock).expect("socket file");
        assert!(meta.file_type().is_socket(), "{flavor:?}");
        assert_eq!(meta.permissions().mode() & 0o7777, 0o660, "{flavor:?}");

        // Its stdin is the socket: supervisord has no channel to it.
        let fault = d
            .call(
                "supervisor.sendProcessStdin",
                &[Value::str("f:f_0"), Value::str("hi")],
            )
            .expect_err("no stdin");
        assert_eq!((fault.code, fault.string.as_str()), (20, "NO_FILE: f:f_0"));

        call_ok(&d, "supervisor.stopProcessGroup", "f");
        assert!(
            UnixStream::connect(&sock).is_err(),
            "{flavor:?}: still open"
        );
        assert!(sock.exists(), "{flavor:?}: 4.3 leaves the file");

        call_ok(&d, "supervisor.startProcess", "f:f_1");
        let one = BTreeSet::from([d.process_pid("f:f_1")]);
        every_process_answers(|| ask_unix(&sock), &one);

        call_ok(&d, "supervisor.stopProcessGroup", "f");
        call_ok(&d, "supervisor.removeProcessGroup", "f");
        assert!(
            UnixStream::connect(&sock).is_err(),
            "{flavor:?}: open after remove"
        );
        if flavor == Flavor::Ours {
            let log = d.main_log();
            let url = format!("unix://{}", sock.display());
            assert!(
                log.contains(&format!("INFO Creating socket {url}\n")),
                "{log}"
            );
            assert!(
                log.contains(&format!("INFO Closing socket {url}\n")),
                "{log}"
            );
        }
    }
}

/// The same over TCP, on a port.
#[test]
fn tcp_socket_is_shared_and_closed_with_the_group() {
    let sb = Sandbox::new("fcgi-tcp");
    let port = free_port();
    let d = Daemon::start(
        &sb,
        &fcgi_section(
            &sb,
            &format!("tcp://127.0.0.1:{port}"),
            "socket_backlog=16\n",
        ),
    );
    let running = pids(&d);
    every_process_answers(|| ask_tcp(port), &running);
    call_ok(&d, "supervisor.stopProcessGroup", "f");
    call_ok(&d, "supervisor.removeProcessGroup", "f");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    // The port is free again.
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
}

/// socket_owner= gives the file to that user; a user alone leaves the
/// group as it was (4.3 chowns to (uid, -1)). Without socket_owner= the
/// file belongs to the processes' user= (and its group), from the moment
/// the group is added. Only root can give files away.
#[test]
fn unix_socket_owner_is_the_configured_user() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: only root can give a socket file to another user");
        return;
    }
    let Some((nobody, nobody_gid)) = std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let fields: Vec<&str> = l.split(':').collect();
            let id = |i: usize| fields.get(i)?.parse::<u32>().ok();
            (fields.first() == Some(&"nobody")).then(|| Some((id(2)?, id(3)?)))?
        })
    else {
        eprintln!("skipped: no user 'nobody' here");
        return;
    };
    let sb = Sandbox::new("fcgi-own");
    let sock = sb.path("f.sock");
    let programs = fcgi_section(&sb, "unix://{dir}/f.sock", "socket_owner=nobody\n")
        + "\n[fcgi-program:g]\ncommand=/bin/cat\nsocket=unix://{dir}/g.sock\nuser=nobody\n\
           autostart=false\n";
    let d = Daemon::start(&sb, &programs);
    let running = pids(&d);
    every_process_answers(|| ask_unix(&sock), &running);
    let meta = std::fs::metadata(&sock).expect("socket file");
    assert_eq!((meta.uid(), meta.gid()), (nobody, 0));
    assert_eq!(meta.permissions().mode() & 0o7777, 0o700, "4.3's default");
    let meta = std::fs::metadata(sb.path("g.sock")).expect("made when g was added");
    assert_eq!((meta.uid(), meta.gid()), (nobody, nobody_gid));
    assert!(
        UnixStream::connect(sb.path("g.sock")).is_err(),
        "no process holds it"
    );
}

/// A socket that cannot be bound fails each spawn with 4.3's words, and the
/// process ends FATAL as after any spawn error.
#[test]
fn a_socket_that_cannot_be_bound_is_a_spawn_error() {
    let sb = Sandbox::new("fcgi-err");
    let d = Daemon::start(
        &sb,
        &fcgi_section(&sb, "unix://{dir}/missing/f.sock", "startretries=1\n"),
    );
    let expected = format!(
        "Could not create FastCGI socket unix://{}: [Errno 2] No such file or directory",
        sb.path("missing/f.sock").display()
    );
    d.wait_state("f:f_0", "FATAL", WAIT);
    let info = d.info("f:f_0");
    assert_eq!(
        info.get("spawnerr").and_then(Value::as_str),
        Some(expected.as_str())
    );
    let fault = d
        .call("supervisor.startProcess", &[Value::str("f:f_0")])
        .expect_err("spawn error");
    assert_eq!(fault.string, "SPAWN_ERROR: f:f_0");
    let log = d.main_log();
    assert!(log.contains(&format!("spawnerr: {expected}\n")), "{log}");
}
