//! Syslog end to end: each test binds its own unix datagram socket in its
//! sandbox, points our supervisord at it with `SUPERVISOR_SYSLOG_SOCKET`,
//! and checks the datagrams byte for byte: a program's stdout and stderr
//! (`stdout_syslog`, `stderr_syslog`, the deprecated `stdout_logfile=syslog`),
//! the main log (`logfile=syslog`), and a syslog that is missing at first
//! (reported once, counted, resumed). One test runs Python Supervisor 4.3 on
//! the same config with /dev/log bound to the test's socket in a private
//! mount namespace, and compares what both send.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use supervisor::rpc::value::Value;

use crate::util::{wait_for, Config, Daemon, Flavor, Launch, Sandbox};

const T: Duration = Duration::from_secs(30);

/// A syslog daemon of our own: a datagram socket at `path`.
struct Syslog {
    sock: UnixDatagram,
    got: Vec<String>,
}

impl Syslog {
    fn bind(path: &Path) -> Syslog {
        let sock = UnixDatagram::bind(path).expect("bind the test syslog socket");
        sock.set_nonblocking(true).expect("nonblocking");
        Syslog {
            sock,
            got: Vec::new(),
        }
    }

    /// Reads whatever has arrived.
    fn drain(&mut self) {
        let mut buf = vec![0u8; 1 << 17];
        while let Ok(n) = self.sock.recv(&mut buf) {
            let bytes = buf.get(..n).unwrap_or_default();
            self.got.push(String::from_utf8_lossy(bytes).into_owned());
        }
    }

    /// Waits until `done` holds for the datagrams received so far.
    fn wait(&mut self, what: &str, done: impl Fn(&[String]) -> bool) {
        wait_for(T, what, || {
            self.drain();
            done(&self.got).then_some(())
        });
    }

    /// The messages (header checked and cut off) that start with `prefix`.
    fn messages(&self, prefix: &str) -> Vec<String> {
        self.got
            .iter()
            .map(|d| message_of(d))
            .filter(|m| m.starts_with(prefix))
            .collect()
    }
}

/// Checks glibc's header, `<14>Mmm dd HH:MM:SS supervisord: `, and returns
/// what follows it.
fn message_of(datagram: &str) -> String {
    let (stamp, rest) = split_header(datagram)
        .unwrap_or_else(|| panic!("not a syslog datagram as glibc makes them: {datagram:?}"));
    assert_eq!(stamp.len(), 15, "{datagram:?}");
    rest.strip_prefix("supervisord: ")
        .unwrap_or_else(|| panic!("not tagged supervisord: {datagram:?}"))
        .to_string()
}

/// `<14>`, then `%h %e %T `: the stamp and the rest.
fn split_header(datagram: &str) -> Option<(&str, &str)> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let rest = datagram.strip_prefix("<14>")?;
    let stamp = rest.get(..15)?;
    let b = stamp.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let ok = MONTHS.contains(&stamp.get(..3)?)
        && b.get(3) == Some(&b' ')
        && (b.get(4) == Some(&b' ') || (digit(4) && b.get(4) != Some(&b'0')))
        && digit(5)
        && b.get(6) == Some(&b' ')
        && [7, 8, 10, 11, 13, 14].into_iter().all(digit)
        && b.get(9) == Some(&b':')
        && b.get(12) == Some(&b':');
    let rest = rest.get(15..)?.strip_prefix(' ')?;
    ok.then_some((stamp, rest))
}

/// `2026-01-02 03:04:05,678 ` at the start of a main log message: its
/// shape checked, the rest returned.
fn strip_asctime(message: &str) -> Option<&str> {
    let stamp = message.get(..23)?;
    let shape = stamp.bytes().enumerate().all(|(i, c)| match i {
        4 | 7 => c == b'-',
        10 => c == b' ',
        13 | 16 => c == b':',
        19 => c == b',',
        _ => c.is_ascii_digit(),
    });
    shape.then(|| message.get(24..)).flatten()
}

fn launch_with_socket(sock: &Path) -> Launch {
    Launch {
        env: vec![(
            "SUPERVISOR_SYSLOG_SOCKET".to_string(),
            sock.display().to_string(),
        )],
        ..Launch::default()
    }
}

/// The test config with `[supervisord] logfile=syslog`.
fn with_main_log_to_syslog(sb: &Sandbox, config: &Config) -> std::path::PathBuf {
    let text = config.text(sb).replace(
        &format!("logfile={}/supervisord.log\n", sb.dir.display()),
        "logfile=syslog\n",
    );
    assert!(text.contains("logfile=syslog\n"));
    sb.write("supervisord.conf", &text)
}

/// A program that says two stdout lines in one write, one stderr line, and
/// two more stdout lines once `go` exists.
fn talker(sb: &Sandbox, name: &str) -> std::path::PathBuf {
    sb.script(
        name,
        "printf 'out one\\nout two\\n'\necho 'err one' >&2\n\
         while [ ! -e go ]; do sleep 0.05; done\n\
         printf 'caf\\303\\251\\n\\n\\ttabbed\\n\\n\\n'\nexec sleep 1000",
    )
}

#[test]
fn program_output_goes_to_syslog_tagged_with_its_name() {
    let sb = Sandbox::new("syslog-out");
    let sock = sb.path("log.sock");
    let mut syslog = Syslog::bind(&sock);
    let talk = talker(&sb, "talk.sh");
    let quiet = talker(&sb, "quiet.sh");
    let old = talker(&sb, "old.sh");
    let programs = format!(
        "[program:talk]\ncommand={}\ndirectory={dir}\nstartsecs=0\n\
         stdout_logfile={dir}/talk.out\nstdout_syslog=true\n\
         stderr_logfile={dir}/talk.err\nstderr_syslog=true\n\n\
         [program:quiet]\ncommand={}\ndirectory={dir}\nstartsecs=0\n\
         stdout_logfile=NONE\nstdout_syslog=true\nstderr_logfile=NONE\n\n\
         [program:old]\ncommand={}\ndirectory={dir}\nstartsecs=0\n\
         stdout_logfile=syslog\nstderr_logfile=NONE\n",
        talk.display(),
        quiet.display(),
        old.display(),
        dir = sb.dir.display()
    );
    let conf = Config::new(&programs).write(&sb);
    let d = Daemon::start_flavor(&sb, Flavor::Ours, &conf, launch_with_socket(&sock));
    syslog.wait("the first lines", |got| got.len() >= 7);
    sb.write("go", "");
    syslog.wait("the last lines", |got| got.len() >= 16);
    // Each program's datagrams in order: stdout only for quiet and old.
    let first = ["out one", "out two"];
    let last = ["caf\u{e9}", "", "\ttabbed"];
    for name in ["quiet", "old"] {
        let want: Vec<String> = first
            .iter()
            .chain(last.iter())
            .map(|l| format!("{name} {l}"))
            .collect();
        assert_eq!(
            syslog.messages(&format!("{name} ")),
            want,
            "{:#?}",
            syslog.got
        );
    }
    let want: Vec<String> = first
        .iter()
        .chain(last.iter())
        .map(|l| format!("talk {l}"))
        .collect();
    let mut got = syslog.messages("talk ");
    // stderr comes through its own pipe: only its place among stdout's
    // lines may differ.
    let err_at = got.iter().position(|m| m == "talk err one");
    assert!(err_at.is_some(), "{got:#?}");
    got.retain(|m| m != "talk err one");
    assert_eq!(got, want, "{:#?}", syslog.got);
    assert_eq!(syslog.got.len(), 16, "nothing else: {:#?}", syslog.got);
    // In addition to the files, not instead.
    assert_eq!(
        sb.read("talk.out"),
        "out one\nout two\ncaf\u{e9}\n\n\ttabbed\n\n\n"
    );
    assert_eq!(sb.read("talk.err"), "err one\n");
    // The deprecated spelling is 4.3's: no file, a warning.
    let info = d.info("old");
    assert_eq!(
        info.get("stdout_logfile").and_then(Value::as_str),
        Some(""),
        "{info:?}"
    );
    let main = d.main_log();
    assert!(
        main.contains(
            "WARN For [program:old], stdout_logfile=syslog but this is deprecated and will be \
             removed.  Use stdout_syslog=true to enable syslog instead."
        ),
        "{main}"
    );
    assert!(!main.contains("not supported"), "{main}");
}

#[test]
fn the_main_log_goes_to_syslog_with_its_own_format() {
    let sb = Sandbox::new("syslog-main");
    let sock = sb.path("log.sock");
    let mut syslog = Syslog::bind(&sock);
    let hello = sb.script("hello.sh", "echo hello\nexec sleep 1000");
    let programs = format!(
        "[program:hello]\ncommand={}\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n",
        hello.display()
    );
    let conf = with_main_log_to_syslog(&sb, &Config::new(&programs));
    let d = Daemon::start_flavor(&sb, Flavor::Ours, &conf, launch_with_socket(&sock));
    let pid = d.pid();
    syslog.wait("hello's output copied at debug", |got| {
        got.iter().any(|g| g.ends_with(" DEBG hello\n"))
    });
    // Every datagram is one line of the main log, its newline included.
    let lines: Vec<String> = syslog
        .got
        .iter()
        .map(|g| {
            let message = message_of(g);
            strip_asctime(&message)
                .unwrap_or_else(|| panic!("no asctime: {g:?}"))
                .to_string()
        })
        .collect();
    assert!(lines
        .iter()
        .all(|l| l.ends_with('\n') && l.matches('\n').count() == 1));
    let started = format!("INFO supervisord started with pid {pid}\n");
    assert!(lines.contains(&started), "{lines:#?}");
    let spawned = lines
        .iter()
        .position(|l| l.starts_with("INFO spawned: 'hello' with pid "))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    // The copy of the output is one record of two lines: two datagrams.
    let copy = lines
        .iter()
        .position(|l| l == "DEBG 'hello' stdout output:\n")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(copy > spawned);
    assert_eq!(
        lines.get(copy + 1).map(String::as_str),
        Some("DEBG hello\n")
    );
    // No file; the log RPCs have none to read (4.3: NO_FILE).
    assert!(!sb.path("supervisord.log").exists());
    assert!(!sb.path("syslog").exists());
    let fault = d
        .call("supervisor.readLog", &[Value::Int(0), Value::Int(0)])
        .expect_err("no file to read");
    assert_eq!(fault.code, 20, "{fault:?}");
    // Nothing about syslog being unsupported, anywhere.
    assert!(!lines.iter().any(|l| l.contains("syslog")), "{lines:#?}");
    assert!(!crate::util::read_text(&d.stderr).contains("syslog"));
}

#[test]
fn a_missing_syslog_is_reported_once_and_sending_resumes() {
    let sb = Sandbox::new("syslog-late");
    let sock = sb.path("log.sock");
    let tick = sb.script(
        "tick.sh",
        "i=0\nwhile :; do i=$((i+1)); echo \"line $i\"; sleep 0.02; done",
    );
    let programs = format!(
        "[program:tick]\ncommand={}\nstartsecs=0\nstdout_logfile=NONE\nstdout_syslog=true\n\
         stderr_logfile=NONE\n",
        tick.display()
    );
    let conf = Config::new(&programs).write(&sb);
    let d = Daemon::start_flavor(&sb, Flavor::Ours, &conf, launch_with_socket(&sock));
    let failing = format!(
        "ERRO syslog {}: cannot send: No such file or directory (ENOENT); \
         dropping messages until it works again\n",
        sock.display()
    );
    wait_for(T, "the failure in the main log", || {
        d.main_log().contains(&failing).then_some(())
    });
    // Several more lines are lost while nothing listens.
    wait_for(T, "more lines", || {
        (d.main_log().matches("DEBG 'tick' stdout output:").count() >= 10).then_some(())
    });
    let mut syslog = Syslog::bind(&sock);
    syslog.wait("lines again", |got| got.len() >= 5);
    let recovered = wait_for(T, "the recovery in the main log", || {
        let main = d.main_log();
        let at = main.find(&format!("INFO syslog {} works again; ", sock.display()))?;
        main.get(at..)?.lines().next().map(str::to_string)
    });
    let main = d.main_log();
    assert_eq!(main.matches("dropping messages until").count(), 1, "{main}");
    assert_eq!(main.matches(" works again; ").count(), 1, "{main}");
    // What arrived is consecutive, and the lost count is exactly the lines
    // before the first that arrived.
    let messages = syslog.messages("tick ");
    assert_eq!(messages.len(), syslog.got.len());
    let numbers: Vec<u64> = messages
        .iter()
        .map(|m| {
            m.strip_prefix("tick line ")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{m:?}"))
        })
        .collect();
    let first = numbers.first().copied().unwrap_or_default();
    assert!(first > 10, "{numbers:?}");
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
    assert_eq!(
        recovered,
        format!(
            "INFO syslog {} works again; {} messages were lost",
            sock.display(),
            first - 1
        )
    );
    assert_eq!(d.statename("tick"), "RUNNING");
}

// ----- against Python Supervisor 4.3 ------------------------------------------

/// Runs `supervisord -n -c conf` in a private mount namespace where
/// /dev/log is `sock` (an overlay over /dev makes the mount point when
/// /dev/log does not exist). None, with a note, where that cannot be done
/// (not root, no unshare, no overlayfs).
fn spawn_with_dev_log(sb: &Sandbox, flavor: Flavor, conf: &Path, sock: &Path) -> Option<Daemon> {
    const SCRIPT: &str = r#"set -e
sock=$1; scratch=$2; shift 2
if [ ! -e /dev/log ] && [ ! -L /dev/log ]; then
  mkdir -p "$scratch"
  mount -t tmpfs none "$scratch"
  mkdir "$scratch/up" "$scratch/work"
  mount -t overlay overlay -o "lowerdir=/dev,upperdir=$scratch/up,workdir=$scratch/work" /dev
  : > /dev/log
fi
mount --bind "$sock" /dev/log
exec "$@""#;
    if !rustix::process::geteuid().is_root() {
        eprintln!("note: not root, so 4.3's /dev/log cannot be redirected; comparison skipped");
        return None;
    }
    let command = |args: &[&std::ffi::OsStr]| {
        let mut c = Command::new("unshare");
        c.arg("-m")
            .arg("--propagation")
            .arg("private")
            .arg("/bin/sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("sh")
            .arg(sock)
            .arg(sb.path("scratch"))
            .args(args)
            .current_dir(&sb.dir)
            .stdin(Stdio::null());
        c
    };
    let probe = command(&["true".as_ref()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            eprintln!(
                "note: cannot bind a socket over /dev/log in a mount namespace ({}); \
                 comparison with 4.3 skipped",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Err(e) => {
            eprintln!("note: no unshare ({e}); comparison with 4.3 skipped");
            return None;
        }
    }
    let stderr = sb.path("supervisord.stderr");
    let program = flavor.supervisord(sb);
    let child = command(&[
        program.as_os_str(),
        "-n".as_ref(),
        "-c".as_ref(),
        conf.as_os_str(),
    ])
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&stderr).expect("stderr file"))
    .spawn()
    .expect("spawn unshare");
    let mut daemon = Daemon {
        child,
        flavor,
        sock: sb.path("supervisor.sock"),
        conf: conf.to_path_buf(),
        log: sb.path("supervisord.log"),
        stderr,
        kill_on_drop: true,
    };
    daemon.wait_until("supervisord to answer", |d| {
        d.call("supervisor.getState", &[]).is_ok()
    });
    Some(daemon)
}

/// What one supervisord sends for the comparison config, with stamps and
/// pids made comparable: `(program lines, main log lines)`.
fn datagrams_of(flavor: Flavor) -> Option<(Vec<String>, Vec<String>)> {
    let sb = Sandbox::new(match flavor {
        Flavor::Ours => "syslog-ours",
        Flavor::Python => "syslog-py",
    });
    let sock = sb.path("log.sock");
    let mut syslog = Syslog::bind(&sock);
    let say = sb.script(
        "say.sh",
        "printf 'one\\ntwo\\n\\n'\nwhile [ ! -e go ]; do sleep 0.05; done\n\
         echo 'to stderr' >&2\nwhile [ ! -e go2 ]; do sleep 0.05; done\n\
         printf 'x\\r\\ny\\n'\nwhile [ ! -e go3 ]; do sleep 0.05; done\n\
         printf 'bad \\377\\n'\nwhile [ ! -e go4 ]; do sleep 0.05; done\n\
         printf 'z\\000nul\\n'\nexec sleep 1000",
    );
    let programs = format!(
        "[program:say]\ncommand={}\ndirectory={}\nstartsecs=0\nstdout_logfile=NONE\n\
         stdout_syslog=true\nstderr_logfile=NONE\nstderr_syslog=true\n",
        say.display(),
        sb.dir.display()
    );
    let conf = with_main_log_to_syslog(&sb, &Config::new(&programs));
    let mut d = match flavor {
        Flavor::Ours => Daemon::start_flavor(&sb, flavor, &conf, launch_with_socket(&sock)),
        Flavor::Python => spawn_with_dev_log(&sb, flavor, &conf, &sock)?,
    };
    d.kill_on_drop = true;
    let count = |got: &[String], what: &str| got.iter().filter(|g| g.contains(what)).count();
    syslog.wait("say's first lines", |got| {
        count(got, "supervisord: say ") >= 2
    });
    sb.write("go", "");
    syslog.wait("say's stderr", |got| count(got, "supervisord: say ") >= 3);
    sb.write("go2", "");
    syslog.wait("say's last lines", |got| {
        count(got, "supervisord: say ") >= 5
    });
    // Output that is not UTF-8 reaches syslog only in the main log's copy
    // (at debug): the program's own handler cannot decode it.
    sb.write("go3", "");
    syslog.wait("the undecodable copy", |got| count(got, "Undecodable") >= 1);
    sb.write("go4", "");
    syslog.wait("the line with a NUL", |got| {
        count(got, "supervisord: say ") >= 6
    });
    d.call("supervisor.stopProcess", &[Value::str("say")])
        .expect("stop say");
    syslog.wait("the stop", |got| count(got, "stopped: say") >= 1);
    let mut program = Vec::new();
    let mut main = Vec::new();
    for datagram in &syslog.got {
        let message = message_of(datagram);
        if message.starts_with("say ") {
            program.push(message);
            continue;
        }
        let line = strip_asctime(&message)
            .unwrap_or_else(|| panic!("{flavor:?}: no asctime in {datagram:?}"));
        // Pids vary: keep the words before them.
        let line = match line.find("with pid ") {
            Some(at) => format!("{}with pid N\n", line.get(..at).unwrap_or_default()),
            None => line.to_string(),
        };
        main.push(line);
    }
    Some((program, main))
}

#[test]
fn what_is_sent_matches_python_4_3() {
    let Some((py_program, py_main)) = datagrams_of(Flavor::Python) else {
        return;
    };
    let (program, main) = datagrams_of(Flavor::Ours).expect("ours needs no namespace");
    assert_eq!(
        program,
        [
            "say one",
            "say two",
            "say to stderr",
            "say x\r",
            "say y",
            "say z"
        ]
    );
    assert_eq!(program, py_program);
    // The main log is the same, line for line, up to the stop (4.3 then
    // logs more at debug from its main loop: "waiting for say to stop",
    // "fd 8 closed, stopped monitoring <POutputDispatcher ...>", which our
    // core does not; that is not syslog's business). The output copies
    // show the splitting: `x\r` keeps its CR, the NUL cuts "z" short,
    // newline included, as glibc reads a C string.
    let until_stop = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .take_while(|l| !l.starts_with("DEBG killing say"))
            .cloned()
            .collect()
    };
    assert_eq!(
        until_stop(&main),
        until_stop(&py_main),
        "{main:#?}\n{py_main:#?}"
    );
    assert!(
        until_stop(&main).contains(&"DEBG z".to_string()),
        "{main:#?}"
    );
    for lines in [&main, &py_main] {
        assert!(lines.contains(&"WARN stopped: say (terminated by SIGTERM)\n".to_string()));
    }
    assert!(main.contains(&"INFO supervisord started with pid N\n".to_string()));
}
