//! The supervisorctl comparison layer, on top of tests/util: a supervisord
//! of either flavor per test dir (from the same [`Config`]), our and
//! Python's supervisorctl run against each with a deadline, and masking what
//! legitimately differs (pids, uptimes, stop times, Python install paths)
//! before comparing outputs byte for byte.
//!
//! Python's tools come from [`python_bin`] (`$SUPERVISOR_PY_BIN`, which
//! tests/run exports); the tests fail with a clear message without it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rustix::process::Signal;

pub use crate::util::{
    binary, free_port, kill, python_bin, read_in_thread, read_text, run, wait_exit, wait_for,
    Config, Flavor, Launch, Output, Sandbox, START_DEADLINE,
};

/// Longest any single supervisorctl run may take.
pub const RUN_DEADLINE: Duration = Duration::from_secs(30);

/// Which supervisorctl to run.
#[derive(Debug, Clone)]
pub enum Ctl {
    Python,
    /// `supervisor supervisorctl ...`
    Ours,
    /// Our binary through a symlink named `supervisorctl` at this path.
    OursLinked(PathBuf),
}

impl Ctl {
    pub fn command(&self) -> Command {
        match self {
            Ctl::Python => Command::new(python_bin().join("supervisorctl")),
            Ctl::Ours => {
                let mut c = Command::new(binary());
                c.arg("supervisorctl");
                c
            }
            Ctl::OursLinked(link) => Command::new(link),
        }
    }

    /// The name this supervisorctl calls itself in usage messages.
    pub fn progname(&self) -> String {
        match self {
            Ctl::Python => python_bin().join("supervisorctl").display().to_string(),
            Ctl::Ours => "supervisorctl".into(),
            Ctl::OursLinked(link) => link.display().to_string(),
        }
    }

    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = self.command();
        cmd.args(args).env("LANG", "C.UTF-8").env_remove("TERM");
        run(cmd, stdin.as_bytes(), RUN_DEADLINE)
    }
}

/// Processes killed when dropped (e.g. ones that ignore SIGTERM, which
/// would outlive their daemon if a test failed).
#[derive(Default)]
pub struct KillOnDrop(pub Vec<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &pid in &self.0 {
            let _ = kill(pid, Signal::KILL);
        }
    }
}

/// Our supervisorctl through its `supervisorctl` symlink in `dir`.
pub fn link_ours(dir: &Sandbox) -> Ctl {
    Ctl::OursLinked(dir.mode("supervisorctl"))
}

/// A short tag for `flavor` in dir names.
pub fn flavor_tag(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::Python => "py",
        Flavor::Ours => "rs",
    }
}

/// Whether `status` output lists only processes at rest: every line is a
/// process in a state it stays in (so neither an error, nor a daemon that
/// is restarting, nor a process in transition).
pub fn settled(status: &str) -> bool {
    const AT_REST: [&str; 5] = ["RUNNING", "STOPPED", "EXITED", "FATAL", "UNKNOWN"];
    !status.is_empty()
        && status
            .lines()
            .all(|line| matches!(line.split_whitespace().nth(1), Some(s) if AT_REST.contains(&s)))
}

/// A supervisord in a sandbox of its own, as supervisorctl sees it; stopped
/// when dropped.
pub struct Daemon {
    /// Declared first: dropped (stopped) before its directory goes.
    pub supervisord: crate::util::Daemon,
    pub dir: Sandbox,
    pub kind: Flavor,
    /// Where supervisorctl reaches it: the unix socket unless a test says.
    pub url: String,
    /// What to mask in outputs compared across daemons: its dir, and
    /// whatever a test adds (e.g. its port).
    pub masks: Vec<(String, String)>,
}

impl Daemon {
    /// Starts the supervisord of `kind` on `config` (written into a fresh
    /// sandbox) in the foreground; `wait_settled` waits for it.
    pub fn start_kind(kind: Flavor, tag: &str, config: &Config) -> Daemon {
        let dir = Sandbox::new(&format!("ctl-{tag}-{}", flavor_tag(kind)));
        let conf = config.write(&dir);
        let supervisord = crate::util::Daemon::spawn(&dir, kind, &conf, Launch::default());
        Daemon {
            url: format!("unix://{}", supervisord.sock.display()),
            masks: vec![(dir.dir.display().to_string(), "<DIR>".to_string())],
            supervisord,
            dir,
            kind,
        }
    }

    /// Masks what is this daemon's own in outputs compared across daemons.
    pub fn subs(&self) -> Vec<(String, String)> {
        self.masks.clone()
    }

    pub fn config(&self) -> &Path {
        &self.supervisord.conf
    }

    pub fn conf(&self) -> String {
        self.config().display().to_string()
    }

    pub fn sock(&self) -> PathBuf {
        self.supervisord.sock.clone()
    }

    /// Waits until the unix socket answers, then until no process is
    /// STARTING or BACKOFF.
    pub fn wait_settled(&mut self) {
        self.supervisord.wait_until("the daemon's socket", |d| {
            UnixStream::connect(&d.sock).is_ok()
        });
        self.wait_status("all programs settled", settled);
    }

    /// Polls our supervisorctl's `status` until `check` accepts its output.
    pub fn wait_status(&self, what: &str, check: impl Fn(&str) -> bool) {
        let conf = self.conf();
        wait_for(START_DEADLINE, what, || {
            let out = Ctl::Ours.run(&["-c", &conf, "status"], "");
            check(&out.stdout).then_some(())
        });
    }

    /// The pid of the running process `name`, as `pid name` reports it.
    pub fn process_pid(&self, name: &str) -> u32 {
        let out = Ctl::Ours.run(&["-c", &self.conf(), "pid", name], "");
        out.stdout
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no pid for {name}: {out:?}"))
    }

    /// Waits until the daemon process has exited (e.g. after `shutdown`).
    pub fn wait_exit(&mut self) {
        let child = &mut self.supervisord.child;
        wait_for(START_DEADLINE, "supervisord to exit", || {
            child.try_wait().unwrap()
        });
    }
}

/// A config of the supervisorctl tests: the test head at 4.3's default log
/// level (info), then `programs` (`{dir}` is the daemon's dir).
pub fn ctl_config(programs: &str) -> Config {
    Config::new(programs).loglevel(None)
}

/// The config most tests use. Programs that fail at once have a long
/// startsecs: with a short one, 4.3's loop (it wakes up once a second) may
/// notice the exit only after startsecs, under load, and count the start a
/// success.
pub fn standard_config() -> Config {
    ctl_config(STANDARD_PROGRAMS)
}

/// The programs of [`standard_config`].
pub const STANDARD_PROGRAMS: &str = "\
[program:sleeper]
command=sleep 1000
startsecs=0
stdout_logfile={dir}/sleeper.out
stderr_logfile={dir}/sleeper.err

[program:talker]
command=sh -c 'echo out-line; echo err-line >&2; exec sleep 1000'
startsecs=0
stdout_logfile={dir}/talker.out
stderr_logfile={dir}/talker.err

[program:failer]
command=/bin/false
startsecs=10
startretries=0
stdout_logfile={dir}/failer.out

[program:manual]
command=sleep 1000
autostart=false
startsecs=0
stdout_logfile={dir}/manual.out

[program:nolog]
command=sleep 1000
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE

[program:num]
command=sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)d
startsecs=0
stdout_logfile={dir}/num_%(process_num)d.out

[group:grp]
programs=manual
";

/// Replaces each `pattern` digit run after `prefix` with `N`.
fn mask_after(line: &str, prefix: &str, replacement: &str, allowed: fn(char) -> bool) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(pos) = rest.find(prefix) {
        out.push_str(&rest[..pos + prefix.len()]);
        let after = &rest[pos + prefix.len()..];
        let len = after.find(|c: char| !allowed(c)).unwrap_or(after.len());
        if len > 0 {
            out.push_str(replacement);
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Masks a `Nov 23 06:59 PM` stop time.
fn mask_dates(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let shape = "Aaa 00 00:00 AM";
    let fits = |i: usize| {
        shape.chars().enumerate().all(|(k, s)| {
            let Some(&c) = chars.get(i + k) else {
                return false;
            };
            match s {
                'A' => c.is_ascii_uppercase(),
                'a' => c.is_ascii_lowercase(),
                '0' => c.is_ascii_digit(),
                'M' => c == 'M',
                other => c == other,
            }
        })
    };
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if fits(i) {
            out.push_str("<DATE>");
            i += shape.len();
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// `file: /long/python/path/x.py line:` -> `file: x.py line:`.
fn mask_python_files(line: &str) -> String {
    let Some(start) = line.find("file: ") else {
        return line.to_string();
    };
    let after = &line[start + 6..];
    let Some(end) = after.find(" line: ") else {
        return line.to_string();
    };
    let path = &after[..end];
    let base = path.rsplit('/').next().unwrap_or(path);
    format!("{}file: {}{}", &line[..start], base, &after[end..])
}

/// Masks what differs between two honest runs against the same daemon.
pub fn normalize(text: &str, substitutions: &[(String, String)]) -> String {
    let mut text = text.to_string();
    for (from, to) in substitutions {
        if !from.is_empty() {
            text = text.replace(from.as_str(), to);
        }
    }
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let mut l = mask_after(body, "pid ", "N", |c| c.is_ascii_digit());
        l = mask_after(&l, "uptime ", "T", |c| c.is_ascii_digit() || c == ':');
        l = mask_dates(&l);
        l = mask_python_files(&l);
        if !l.is_empty() && l != "0" && l.chars().all(|c| c.is_ascii_digit()) {
            l = "N".into();
        }
        out.push_str(&l);
        out.push_str(nl);
    }
    out
}

/// Runs both supervisorctls with the same arguments and input and asserts
/// the same stdout, stderr and exit status after masking.
pub fn assert_same(python: &Ctl, ours: &Ctl, args: &[&str], stdin: &str) -> Output {
    assert_same_with(
        python,
        &prog_subs(python),
        ours,
        &prog_subs(ours),
        args,
        args,
        stdin,
    )
}

/// Masks the program name where usage texts show it.
pub fn prog_subs(ctl: &Ctl) -> Vec<(String, String)> {
    let name = ctl.progname();
    vec![
        (format!("Usage: {name} "), "Usage: <PROG> ".to_string()),
        (format!("use {name} -h"), "use <PROG> -h".to_string()),
    ]
}

/// Sorts the lines of a text (for outputs whose order 4.3 leaves to chance).
pub fn sorted_lines(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// `assert_same` with separate arguments and masks for each side (twin
/// daemons live in different directories).
pub fn assert_same_with(
    python: &Ctl,
    subs_py: &[(String, String)],
    ours: &Ctl,
    subs_ours: &[(String, String)],
    args_py: &[&str],
    args_ours: &[&str],
    stdin: &str,
) -> Output {
    compare_runs(
        python, subs_py, ours, subs_ours, args_py, args_ours, stdin, false,
    )
}

/// The comparison itself; `unordered` compares stdout as sets of lines.
#[allow(clippy::too_many_arguments)]
pub fn compare_runs(
    python: &Ctl,
    subs_py: &[(String, String)],
    ours: &Ctl,
    subs_ours: &[(String, String)],
    args_py: &[&str],
    args_ours: &[&str],
    stdin: &str,
    unordered: bool,
) -> Output {
    let expected = python.run(args_py, stdin);
    let got = ours.run(args_ours, stdin);
    let what = format!("supervisorctl {args_ours:?} (stdin {stdin:?})");
    if let Some(diff) = difference(&what, (&expected, subs_py), (&got, subs_ours), unordered) {
        panic!("{diff}");
    }
    got
}

/// Outputs after masking, stdout sorted when its order is left to chance.
fn masked(out: &Output, subs: &[(String, String)], unordered: bool) -> (String, String) {
    let mut stdout = normalize(&out.stdout, subs);
    if unordered {
        stdout = sorted_lines(&stdout);
    }
    (stdout, normalize(&out.stderr, subs))
}

/// Describes how `got` differs from `expected` (each with its masks), or
/// None when they are the same after masking.
pub fn difference(
    what: &str,
    expected: (&Output, &[(String, String)]),
    got: (&Output, &[(String, String)]),
    unordered: bool,
) -> Option<String> {
    let (e_out, e_err) = masked(expected.0, expected.1, unordered);
    let (g_out, g_err) = masked(got.0, got.1, unordered);
    if (&g_out, &g_err, got.0.code) == (&e_out, &e_err, expected.0.code) {
        return None;
    }
    Some(format!(
        "\n{what} differs\n--- expected stdout:\n{e_out}--- got stdout:\n{g_out}\
         --- expected stderr:\n{e_err}--- got stderr:\n{g_err}--- exit codes: expected {:?}, got {:?}\n",
        expected.0.code, got.0.code
    ))
}

/// Collects differences so one run reports all of them, not just the first.
#[derive(Default)]
pub struct Differences(Vec<String>);

impl Differences {
    pub fn check(
        &mut self,
        what: &str,
        expected: (&Output, &[(String, String)]),
        got: (&Output, &[(String, String)]),
        unordered: bool,
    ) {
        if let Some(diff) = difference(what, expected, got, unordered) {
            self.0.push(diff);
        }
    }

    /// Fails the test listing every difference found.
    pub fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "{} difference(s):{}",
            self.0.len(),
            self.0.concat()
        );
    }
}

/// The same config under Python's supervisord and ours, for comparing
/// every supervisorctl against every daemon.
pub struct DaemonPair {
    pub py: Daemon,
    pub rs: Daemon,
    /// Our supervisorctl, linked inside each daemon's dir.
    pub ours_py: Ctl,
    pub ours_rs: Ctl,
}

/// What one command printed: each supervisorctl against each daemon.
pub struct FourRuns {
    pub py_on_py: Output,
    pub ours_on_py: Output,
    pub py_on_ours: Output,
    pub ours_on_ours: Output,
}

impl DaemonPair {
    /// Starts both daemons and waits until both have settled.
    pub fn start(tag: &str, config: &Config) -> DaemonPair {
        let mut py = Daemon::start_kind(Flavor::Python, tag, config);
        let mut rs = Daemon::start_kind(Flavor::Ours, tag, config);
        py.wait_settled();
        rs.wait_settled();
        DaemonPair::of(py, rs)
    }

    /// A pair of daemons the caller started (and waited for).
    pub fn of(py: Daemon, rs: Daemon) -> DaemonPair {
        let ours_py = link_ours(&py.dir);
        let ours_rs = link_ours(&rs.dir);
        DaemonPair {
            py,
            rs,
            ours_py,
            ours_rs,
        }
    }

    /// `-c <conf>` and `args`, with `{url}` standing for the daemon's socket.
    fn args(daemon: &Daemon, args: &[&str]) -> Vec<String> {
        let mut full = vec!["-c".to_string(), daemon.conf()];
        full.extend(args.iter().map(|a| a.replace("{url}", &daemon.url)));
        full
    }

    /// Masks for `ctl`'s output against `daemon`.
    pub fn subs(daemon: &Daemon, ctl: &Ctl) -> Vec<(String, String)> {
        let mut subs = prog_subs(ctl);
        subs.extend(daemon.subs());
        subs
    }

    /// Runs `args` through both supervisorctls against both daemons at once.
    pub fn run_all(&self, args: &[&str], stdin: &str) -> FourRuns {
        let run = |ctl: &Ctl, daemon: &Daemon| {
            let full = DaemonPair::args(daemon, args);
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            ctl.run(&refs, stdin)
        };
        std::thread::scope(|s| {
            let a = s.spawn(|| run(&Ctl::Python, &self.py));
            let b = s.spawn(|| run(&self.ours_py, &self.py));
            let c = s.spawn(|| run(&Ctl::Python, &self.rs));
            let d = run(&self.ours_rs, &self.rs);
            FourRuns {
                py_on_py: a.join().unwrap(),
                ours_on_py: b.join().unwrap(),
                py_on_ours: c.join().unwrap(),
                ours_on_ours: d,
            }
        })
    }

    /// Runs `args` four ways and records every difference: our
    /// supervisorctl against Python's on each daemon, and the cross check of
    /// our daemon (Python's supervisorctl on ours vs on Python's).
    pub fn compare(&self, args: &[&str], stdin: &str, diffs: &mut Differences) {
        let runs = self.run_all(args, stdin);
        self.check(&format!("{args:?} (stdin {stdin:?})"), &runs, diffs);
    }

    /// The three checks of `compare` on runs already made.
    pub fn check(&self, command: &str, runs: &FourRuns, diffs: &mut Differences) {
        let (py, rs) = (&self.py, &self.rs);
        let what = |check: &str| format!("{check}: {command}");
        diffs.check(
            &what("our supervisorctl vs Python's, on Python's supervisord"),
            (&runs.py_on_py, &Self::subs(py, &Ctl::Python)),
            (&runs.ours_on_py, &Self::subs(py, &self.ours_py)),
            false,
        );
        diffs.check(
            &what("our supervisorctl vs Python's, on our supervisord"),
            (&runs.py_on_ours, &Self::subs(rs, &Ctl::Python)),
            (&runs.ours_on_ours, &Self::subs(rs, &self.ours_rs)),
            false,
        );
        diffs.check(
            &what("Python's supervisorctl on our supervisord vs on Python's"),
            (&runs.py_on_py, &Self::subs(py, &Ctl::Python)),
            (&runs.py_on_ours, &Self::subs(rs, &Ctl::Python)),
            false,
        );
    }
}

/// Writes the pty driver (Python's `pty` module) into `dir` and returns its path.
/// It runs a program on a fresh pseudo-terminal, types each input piece after
/// the output has been quiet for a moment, and prints what the terminal showed.
pub fn pty_driver(dir: &Sandbox) -> PathBuf {
    dir.write("ptydrive.py", PTY_DRIVER)
}

const PTY_DRIVER: &str = r#"
import os, pty, sys, time, select, json
pieces = json.loads(sys.argv[1])
quiet = float(sys.argv[2])
argv = sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop("TERM", None)
    os.execv(argv[0], argv)
out = b''
def drain(limit, wait_for=None):
    global out
    end = time.time() + limit
    last = time.time()
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.02)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return False
            if not d:
                return False
            out += d
            last = time.time()
        elif wait_for is not None and wait_for in out and time.time() - last > quiet:
            return True
        elif wait_for is None and time.time() - last > quiet:
            return True
    return True
for piece in pieces:
    text = piece.get("expect")
    drain(20, text.encode() if text else None)
    os.write(fd, piece["send"].encode("latin-1"))
drain(20)
deadline = time.time() + 20
status = None
while time.time() < deadline:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        status = os.waitstatus_to_exitcode(st)
        break
    time.sleep(0.02)
if status is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    status = "timeout"
sys.stdout.write(json.dumps({"out": out.decode("utf-8", "replace"), "status": status}))
"#;

/// Runs `argv` on a pseudo-terminal, sending each (wait-for text, keys) pair.
pub fn run_on_pty(dir: &Sandbox, argv: &[&str], pieces: &[(&str, &str)]) -> (String, String) {
    let driver = pty_driver(dir);
    let json_pieces: Vec<String> = pieces
        .iter()
        .map(|(expect, send)| {
            format!(
                "{{\"expect\": {}, \"send\": {}}}",
                json_string(expect),
                json_string(send)
            )
        })
        .collect();
    let mut cmd = Command::new(python_bin().join("python"));
    cmd.arg(&driver)
        .arg(format!("[{}]", json_pieces.join(", ")))
        .arg("0.3")
        .args(argv);
    let out = run(cmd, b"", Duration::from_secs(60));
    assert_eq!(out.code, Some(0), "pty driver failed: {}", out.stderr);
    let text = out.stdout;
    // Tiny JSON reader for the two fields the driver prints.
    let screen = json_field(&text, "out");
    let status = json_field(&text, "status");
    (screen, status)
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_field(text: &str, key: &str) -> String {
    let marker = format!("\"{key}\": ");
    let Some(start) = text.find(&marker) else {
        return String::new();
    };
    let rest = &text[start + marker.len()..];
    if !rest.starts_with('"') {
        return rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
    }
    let mut out = String::new();
    let mut chars = rest[1..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        out.push(ch);
                    }
                }
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    out
}

/// A supervisorctl left running (e.g. `tail -f`), its output collected.
pub struct Running {
    pub child: Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

fn collect_into<R: Read + Send + 'static>(mut r: R) -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&buf);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        loop {
            match r.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => sink.lock().unwrap().extend_from_slice(&chunk[..n]),
            }
        }
    });
    buf
}

impl Running {
    /// Starts `ctl args`, with stdin from `stdin` (kept open when None).
    pub fn start(ctl: &Ctl, args: &[&str], stdin: Option<&str>) -> Running {
        let mut cmd = ctl.command();
        cmd.args(args)
            .env("LANG", "C.UTF-8")
            .env_remove("TERM")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn supervisorctl");
        let mut input = child.stdin.take();
        if let Some(text) = stdin {
            if let Some(mut pipe) = input.take() {
                let _ = pipe.write_all(text.as_bytes());
            }
        }
        let stdout = collect_into(child.stdout.take().unwrap());
        let stderr = collect_into(child.stderr.take().unwrap());
        Running {
            child,
            stdin: input,
            stdout,
            stderr,
        }
    }

    /// Types `text` on the process's stdin (kept open since `start`).
    pub fn send(&mut self, text: &str) {
        if let Some(pipe) = self.stdin.as_mut() {
            pipe.write_all(text.as_bytes()).unwrap();
            pipe.flush().unwrap();
        }
    }

    /// Ends stdin (EOF for the process).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Waits until stdout contains `text`.
    pub fn wait_stdout(&self, text: &str) {
        wait_for(RUN_DEADLINE, &format!("{text:?} on stdout"), || {
            self.stdout().contains(text).then_some(())
        });
    }

    /// Sends SIGINT, as Ctrl-C would.
    pub fn interrupt(&self) {
        kill(self.child.id(), Signal::INT).expect("SIGINT");
    }

    /// Waits for the exit; returns (stdout, stderr, exit code).
    pub fn finish(mut self) -> Output {
        self.stdin = None;
        let code = wait_exit(&mut self.child, RUN_DEADLINE).code();
        // Let the reader threads drain what the process wrote last.
        wait_for(RUN_DEADLINE, "output readers", || {
            (strong_count(&self.stdout) == 1 && strong_count(&self.stderr) == 1).then_some(())
        });
        Output {
            stdout: self.stdout(),
            stderr: self.stderr(),
            code,
        }
    }
}

fn strong_count<T>(a: &std::sync::Arc<T>) -> usize {
    std::sync::Arc::strong_count(a)
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
