//! The one harness of the integration tests, shared by every module:
//!
//! - where the programs are: our binary ([`binary`], under its mode names
//!   through [`Sandbox::mode`]) and Python Supervisor 4.3 ([`python_bin`],
//!   from `$SUPERVISOR_PY_BIN` only, which tests/run exports);
//! - waiting: [`wait_for`] polls with a deadline (never a fixed sleep);
//!   [`poll`] is its core for callers that must not panic (clean-up);
//! - a fresh directory per test: [`Sandbox`];
//! - config files: [`Config`], the only place a config is put together;
//! - a supervisord of either [`Flavor`] in a sandbox: [`Daemon`];
//! - running a program to completion with a deadline: [`run`];
//! - small things about processes and sockets: [`alive`], [`children_of`],
//!   [`kill`], [`free_port`], [`rpc_unix`].
//!
//! The supervisorctl comparison tests add their own layer on top of this in
//! tests/ctl_util.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::process::Signal;
use supervisor::rpc::codec;
use supervisor::rpc::value::{Fault, Value};

/// Pause between two looks at something waited for.
pub const POLL: Duration = Duration::from_millis(20);
/// Longest a supervisord (ours or 4.3's) may take to answer after its start.
pub const START_DEADLINE: Duration = Duration::from_secs(25);

// ----- the programs under test ----------------------------------------------

/// The multi-call binary cargo built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_supervisor"))
}

/// The bin directory of the venv holding Python Supervisor 4.3 (its
/// supervisord, supervisorctl and python), from `$SUPERVISOR_PY_BIN` only:
/// tests/run installs supervisor==4.3.0 and exports it.
pub fn python_bin() -> PathBuf {
    let Some(dir) = std::env::var_os("SUPERVISOR_PY_BIN").filter(|d| !d.is_empty()) else {
        panic!(
            "SUPERVISOR_PY_BIN is not set: run the tests through tests/run, \
             which installs Python Supervisor 4.3"
        );
    };
    let dir = PathBuf::from(dir);
    for tool in ["supervisord", "supervisorctl", "python"] {
        assert!(
            dir.join(tool).exists(),
            "Python Supervisor 4.3 not found: {} is missing (SUPERVISOR_PY_BIN={}); \
             run the tests through tests/run, which installs it",
            dir.join(tool).display(),
            dir.display()
        );
    }
    dir
}

// ----- waiting --------------------------------------------------------------

/// Polls `probe` every [`POLL`] until it gives a value, or gives None once
/// `timeout` has passed. For callers that must not panic; tests use
/// [`wait_for`].
pub fn poll<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// Polls `probe` until it gives a value; fails the test, naming `what`,
/// when `timeout` passes first.
pub fn wait_for<T>(timeout: Duration, what: &str, probe: impl FnMut() -> Option<T>) -> T {
    poll(timeout, probe).unwrap_or_else(|| panic!("timed out after {timeout:?} waiting for {what}"))
}

/// Waits for `child` to exit; kills it and fails the test after `timeout`.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> ExitStatus {
    match poll(timeout, || child.try_wait().ok().flatten()) {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not finish within {timeout:?}", child.id());
        }
    }
}

// ----- processes and sockets ------------------------------------------------

/// True while a process with this pid exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state letter follows the parenthesised command name.
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next());
            !matches!(state, Some("Z") | Some("X"))
        }
        Err(_) => false,
    }
}

/// Direct children of `pid`, from /proc.
pub fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|candidate| {
            std::fs::read_to_string(format!("/proc/{candidate}/stat"))
                .ok()
                .and_then(|stat| {
                    let rest = stat.rsplit(')').next()?.to_string();
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// Sends `signal` to the process `pid` (one the test started, or made a
/// daemon start).
pub fn kill(pid: u32, signal: Signal) -> std::io::Result<()> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| std::io::Error::other(format!("bad pid {pid}")))?;
    rustix::process::kill_process(pid, signal).map_err(std::io::Error::from)
}

/// A TCP port nobody listens on right now (bound to 0, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a free port")
}

/// A file's text, empty when it is missing.
pub fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

// ----- running a program to completion --------------------------------------

/// What a run printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

/// Runs `cmd` with `stdin` written to it and its output collected; kills it
/// and fails the test if it is still running after `deadline`.
pub fn run(mut cmd: Command, stdin: &[u8], deadline: Duration) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut input = child.stdin.take().expect("stdin pipe");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = read_in_thread(child.stdout.take().expect("stdout pipe"));
    let err = read_in_thread(child.stderr.take().expect("stderr pipe"));
    let code = wait_exit(&mut child, deadline).code();
    let _ = writer.join();
    Output {
        stdout: String::from_utf8_lossy(&out.recv().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&err.recv().unwrap_or_default()).into_owned(),
        code,
    }
}

/// Reads `r` to its end on a thread of its own; the bytes come on the channel.
pub fn read_in_thread<R: Read + Send + 'static>(mut r: R) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

/// Runs a mode of our binary (through its symlink) to completion, in the
/// sandbox, with nothing on its stdin.
pub fn run_mode(sb: &Sandbox, mode: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(sb.mode(mode));
    cmd.args(args).current_dir(&sb.dir);
    run(cmd, b"", Duration::from_secs(60))
}

// ----- a fresh directory per test -------------------------------------------

/// A fresh directory for one test under `$TMPDIR/supervisor-tests`, removed
/// when dropped unless the test failed (it is left for a look).
pub struct Sandbox {
    pub dir: PathBuf,
}

impl Sandbox {
    /// `name` should be short: unix socket paths inside must stay under 108
    /// bytes.
    pub fn new(name: &str) -> Sandbox {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join("supervisor-tests").join(format!(
            "{name}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create sandbox");
        Sandbox { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Writes `text` to `rel` (directories made as needed).
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// An executable `#!/bin/sh` script.
    pub fn script(&self, rel: &str, body: &str) -> PathBuf {
        let path = self.write(rel, &format!("#!/bin/sh\n{body}\n"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    /// The text of `rel`, empty when missing.
    pub fn read(&self, rel: &str) -> String {
        read_text(&self.path(rel))
    }

    /// `bin/NAME`, a symlink to our binary named after a mode
    /// (`supervisord`, `supervisorctl`, `pidproxy`).
    pub fn mode(&self, name: &str) -> PathBuf {
        let link = self.path(&format!("bin/{name}"));
        if !link.exists() {
            std::fs::create_dir_all(self.path("bin")).expect("mkdir bin");
            std::os::unix::fs::symlink(binary(), &link).expect("symlink");
        }
        link
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

// ----- config files ---------------------------------------------------------

/// A supervisord config: the head (servers, [supervisord],
/// [rpcinterface:supervisor], [supervisorctl]) built from these settings,
/// then the programs. `{dir}` anywhere in the text stands for the sandbox.
///
/// By default: the unix socket `supervisor.sock`, the main log
/// `supervisord.log`, the pidfile and the child logs in the sandbox,
/// `loglevel=debug`, no inet server and no credentials.
#[derive(Debug, Clone)]
pub struct Config {
    unix: bool,
    inet: Option<u16>,
    auth: Option<(String, String)>,
    loglevel: Option<String>,
    supervisord: String,
    programs: String,
}

impl Config {
    /// The default head with `programs` after it.
    pub fn new(programs: &str) -> Config {
        Config {
            unix: true,
            inet: None,
            auth: None,
            loglevel: Some("debug".to_string()),
            supervisord: String::new(),
            programs: programs.to_string(),
        }
    }

    /// Another `loglevel`; None leaves the line out (4.3's default, info).
    pub fn loglevel(mut self, level: Option<&str>) -> Config {
        self.loglevel = level.map(str::to_string);
        self
    }

    /// An `[inet_http_server]` on 127.0.0.1:`port` too.
    pub fn inet(mut self, port: u16) -> Config {
        self.inet = Some(port);
        self
    }

    /// No `[unix_http_server]`; supervisorctl's serverurl is then the inet
    /// server.
    pub fn without_unix(mut self) -> Config {
        self.unix = false;
        self
    }

    /// `username` and `password` (as stored: plain or `{SHA}hex`) on every
    /// server.
    pub fn auth(mut self, user: &str, password: &str) -> Config {
        self.auth = Some((user.to_string(), password.to_string()));
        self
    }

    /// More lines for `[supervisord]`.
    pub fn supervisord(mut self, lines: &str) -> Config {
        self.supervisord.push_str(lines);
        if !self.supervisord.ends_with('\n') {
            self.supervisord.push('\n');
        }
        self
    }

    /// More program (or group, or other) sections after those there are.
    pub fn programs(mut self, more: &str) -> Config {
        self.programs.push_str(more);
        self
    }

    /// The whole config text for `sb`.
    pub fn text(&self, sb: &Sandbox) -> String {
        let auth = self
            .auth
            .as_ref()
            .map(|(user, password)| format!("username={user}\npassword={password}\n"))
            .unwrap_or_default();
        let mut text = String::new();
        if self.unix {
            text.push_str(&format!(
                "[unix_http_server]\nfile={{dir}}/supervisor.sock\n{auth}\n"
            ));
        }
        if let Some(port) = self.inet {
            text.push_str(&format!(
                "[inet_http_server]\nport=127.0.0.1:{port}\n{auth}\n"
            ));
        }
        text.push_str(
            "[supervisord]\nlogfile={dir}/supervisord.log\npidfile={dir}/supervisord.pid\n\
             childlogdir={dir}\n",
        );
        if let Some(level) = &self.loglevel {
            text.push_str(&format!("loglevel={level}\n"));
        }
        text.push_str(&self.supervisord);
        text.push_str(
            "\n[rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n",
        );
        let serverurl = match (self.unix, self.inet) {
            (false, Some(port)) => format!("http://127.0.0.1:{port}"),
            _ => "unix://{dir}/supervisor.sock".to_string(),
        };
        text.push_str(&format!("[supervisorctl]\nserverurl={serverurl}\n\n"));
        text.push_str(&self.programs);
        text.replace("{dir}", &sb.dir.display().to_string())
    }

    /// Writes the config as `supervisord.conf` in `sb`.
    pub fn write(&self, sb: &Sandbox) -> PathBuf {
        self.write_as(sb, "supervisord.conf")
    }

    /// Writes the config as `name` in `sb`.
    pub fn write_as(&self, sb: &Sandbox, name: &str) -> PathBuf {
        sb.write(name, &self.text(sb))
    }
}

// ----- a supervisord under test ---------------------------------------------

/// Which supervisord.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Ours, through its `supervisord` symlink in the sandbox.
    Ours,
    /// Python Supervisor 4.3's script from [`python_bin`].
    Python,
}

impl Flavor {
    pub fn supervisord(self, sb: &Sandbox) -> PathBuf {
        match self {
            Flavor::Ours => sb.mode("supervisord"),
            Flavor::Python => python_bin().join("supervisord"),
        }
    }
}

/// How to run a supervisord beyond its config.
#[derive(Default)]
pub struct Launch {
    /// Its own stdout (where nodaemon mode echoes the main log and
    /// `/dev/stdout` logs land); /dev/null when None. With
    /// `Stdio::piped()` the read end is in `Daemon::child.stdout`.
    pub stdout: Option<Stdio>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// A descriptor limit (soft and hard) to run it under, through prlimit.
    pub nofile: Option<u32>,
}

/// A supervisord running in the foreground (`-n`) in a sandbox: stopped
/// with TERM when dropped (killed, and its children, if it lingers).
pub struct Daemon {
    pub child: Child,
    pub flavor: Flavor,
    /// Its unix socket (with the [`Config`] head).
    pub sock: PathBuf,
    pub conf: PathBuf,
    /// Its main log.
    pub log: PathBuf,
    /// Its own stderr, shown when it exits early.
    pub stderr: PathBuf,
    /// Kill it and its children at once when dropped, instead of TERM and a
    /// wait (4.3 takes a second per group to stop).
    pub kill_on_drop: bool,
}

impl Daemon {
    /// Writes [`Config::new`]`(programs)` and starts our supervisord on it;
    /// returns once the API answers.
    pub fn start(sb: &Sandbox, programs: &str) -> Daemon {
        Daemon::start_with(sb, &Config::new(programs).write(sb))
    }

    /// Our supervisord on the config file `conf`, once the API answers.
    pub fn start_with(sb: &Sandbox, conf: &Path) -> Daemon {
        Daemon::start_flavor(sb, Flavor::Ours, conf, Launch::default())
    }

    /// A supervisord of `flavor` on `conf`, once its API answers on the unix
    /// socket.
    pub fn start_flavor(sb: &Sandbox, flavor: Flavor, conf: &Path, launch: Launch) -> Daemon {
        let mut daemon = Daemon::spawn(sb, flavor, conf, launch);
        daemon.wait_until("supervisord to answer", |d| {
            d.call("supervisor.getState", &[]).is_ok()
        });
        daemon
    }

    /// Starts `supervisord -n -c CONF` of `flavor` in `sb` without waiting.
    pub fn spawn(sb: &Sandbox, flavor: Flavor, conf: &Path, launch: Launch) -> Daemon {
        let program = flavor.supervisord(sb);
        let mut command = match launch.nofile {
            Some(limit) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={limit}:{limit}"))
                    .arg("--")
                    .arg(program);
                c
            }
            None => Command::new(program),
        };
        let stderr = sb.path("supervisord.stderr");
        let child = command
            .envs(launch.env)
            .arg("-n")
            .arg("-c")
            .arg(conf)
            .current_dir(&sb.dir)
            .stdin(Stdio::null())
            .stdout(launch.stdout.unwrap_or_else(Stdio::null))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("spawn supervisord");
        Daemon {
            child,
            flavor,
            sock: sb.path("supervisor.sock"),
            conf: conf.to_path_buf(),
            log: sb.path("supervisord.log"),
            stderr,
            kill_on_drop: false,
        }
    }

    /// Waits (up to [`START_DEADLINE`]) until `ready` holds; fails at once,
    /// with its stderr, if the daemon exits first.
    pub fn wait_until(&mut self, what: &str, mut ready: impl FnMut(&Daemon) -> bool) {
        wait_for(START_DEADLINE, what, || {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{:?} supervisord exited early ({status}): {}",
                    self.flavor,
                    read_text(&self.stderr)
                );
            }
            ready(self).then_some(())
        });
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn call(&self, method: &str, params: &[Value]) -> Result<Value, Fault> {
        match rpc_unix(&self.sock, method, params) {
            Ok(result) => result,
            Err(e) => Err(Fault {
                code: -1,
                string: e,
            }),
        }
    }

    /// getProcessInfo, panicking on a fault.
    pub fn info(&self, name: &str) -> Value {
        self.call("supervisor.getProcessInfo", &[Value::str(name)])
            .unwrap_or_else(|f| panic!("getProcessInfo({name}): {f}"))
    }

    pub fn statename(&self, name: &str) -> String {
        self.info(name)
            .get("statename")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    pub fn process_pid(&self, name: &str) -> u32 {
        self.info(name)
            .get("pid")
            .and_then(Value::as_int)
            .unwrap_or(0) as u32
    }

    /// Waits until `name` is in `state`.
    pub fn wait_state(&self, name: &str, state: &str, timeout: Duration) {
        wait_for(timeout, &format!("{name} to be {state}"), || {
            (self.statename(name) == state).then_some(())
        });
    }

    pub fn main_log(&self) -> String {
        read_text(&self.log)
    }

    /// Sends a signal, by name (`TERM`, `HUP`, `USR2`, ...), to the daemon.
    pub fn signal(&self, signal: &str) {
        let sig = match signal {
            "TERM" => Signal::TERM,
            "HUP" => Signal::HUP,
            "INT" => Signal::INT,
            "QUIT" => Signal::QUIT,
            "KILL" => Signal::KILL,
            "USR1" => Signal::USR1,
            "USR2" => Signal::USR2,
            other => panic!("no signal {other} here"),
        };
        if let Err(e) = kill(self.pid(), sig) {
            panic!("kill -{signal} failed: {e}");
        }
    }

    /// TERM, then wait for the exit status.
    pub fn stop(mut self) -> ExitStatus {
        self.signal("TERM");
        let status = wait_for(Duration::from_secs(30), "supervisord to exit", || {
            self.child.try_wait().ok().flatten()
        });
        // Nothing left to clean up in Drop.
        std::mem::forget(self);
        status
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let kids = children_of(self.pid());
        if !self.kill_on_drop {
            let _ = kill(self.pid(), Signal::TERM);
            let child = &mut self.child;
            if poll(Duration::from_secs(20), || child.try_wait().ok().flatten()).is_some() {
                return;
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in kids {
            let _ = kill(pid, Signal::KILL);
        }
    }
}

/// One XML-RPC call over HTTP/1.0 on a unix socket.
pub fn rpc_unix(
    sock: &Path,
    method: &str,
    params: &[Value],
) -> Result<Result<Value, Fault>, String> {
    let body = codec::encode_call(method, params);
    let mut stream =
        UnixStream::connect(sock).map_err(|e| format!("connect {}: {e}", sock.display()))?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let request = format!(
        "POST /RPC2 HTTP/1.0\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no HTTP head in {:?}", String::from_utf8_lossy(&response)))?;
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(format!("HTTP error: {head}"));
    }
    codec::decode_response(&response[split + 4..]).map_err(|e| e.to_string())
}
