//! Shared helpers for the integration tests: a fresh directory per test, the
//! real binary under its mode names (symlinks), a supervisord started on a
//! unix socket in that directory, a small XML-RPC client, and waiting by
//! polling with a deadline (never a fixed sleep).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use supervisor::rpc::codec;
use supervisor::rpc::value::{Fault, Value};

/// The multi-call binary cargo built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_supervisor"))
}

/// Where Python Supervisor 4.3's scripts live (CI makes a venv; see tests/run).
pub fn python_bin() -> PathBuf {
    let dir = std::env::var("SUPERVISOR_PY_BIN").unwrap_or_else(|_| "/work/pyenv/bin".to_string());
    let dir = PathBuf::from(dir);
    assert!(
        dir.join("supervisord").exists(),
        "Python Supervisor 4.3 not found in {} (set SUPERVISOR_PY_BIN or run tests/run)",
        dir.display()
    );
    dir
}

/// Polls `probe` every 20 ms until it gives a value or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh directory for one test, removed when the test passes.
pub struct Sandbox {
    pub dir: PathBuf,
}

impl Sandbox {
    pub fn new(name: &str) -> Sandbox {
        let base = std::env::temp_dir().join("supervisor-tests");
        let dir = base.join(format!(
            "{name}-{}-{}",
            std::process::id(),
            fastrand::u32(..)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create sandbox");
        Sandbox { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

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

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_default()
    }

    /// A symlink named after a mode (`supervisord`, `supervisorctl`, `pidproxy`).
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

/// A supervisord under test, on a unix socket in its sandbox.
pub struct Daemon {
    pub child: Child,
    pub sock: PathBuf,
    pub conf: PathBuf,
    pub log: PathBuf,
}

/// The [unix_http_server]/[supervisord] head every test config gets.
pub fn config_head(sb: &Sandbox) -> String {
    format!(
        "[unix_http_server]\nfile={dir}/supervisor.sock\n\n\
         [supervisord]\nlogfile={dir}/supervisord.log\npidfile={dir}/supervisord.pid\n\
         childlogdir={dir}\nloglevel=debug\n\n\
         [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
         [supervisorctl]\nserverurl=unix://{dir}/supervisor.sock\n\n",
        dir = sb.dir.display()
    )
}

impl Daemon {
    /// Writes `head + programs` as the config and starts `supervisord -n`
    /// through a symlink; returns once the API answers.
    pub fn start(sb: &Sandbox, programs: &str) -> Daemon {
        let conf = sb.write(
            "supervisord.conf",
            &format!("{}{programs}", config_head(sb)),
        );
        Daemon::start_with(sb, &conf)
    }

    pub fn start_with(sb: &Sandbox, conf: &Path) -> Daemon {
        Daemon::start_with_stdout(sb, conf, Stdio::null())
    }

    /// `start_with`, with supervisord's own stdout (where nodaemon mode
    /// echoes the main log and `/dev/stdout` logs land) sent to `stdout`;
    /// with `Stdio::piped()` the read end is in `child.stdout`.
    pub fn start_with_stdout(sb: &Sandbox, conf: &Path, stdout: Stdio) -> Daemon {
        Daemon::start_program(sb, &sb.mode("supervisord"), conf, stdout)
    }

    /// Any supervisord-compatible program (ours, or Python 4.3's script
    /// from [`python_bin`]) run as `PROGRAM -n -c CONF`.
    pub fn start_program(sb: &Sandbox, program: &Path, conf: &Path, stdout: Stdio) -> Daemon {
        let child = Command::new(program)
            .arg("-n")
            .arg("-c")
            .arg(conf)
            .current_dir(&sb.dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::from(
                std::fs::File::create(sb.path("supervisord.stderr")).expect("stderr file"),
            ))
            .spawn()
            .expect("spawn supervisord");
        let mut daemon = Daemon {
            child,
            sock: sb.path("supervisor.sock"),
            conf: conf.to_path_buf(),
            log: sb.path("supervisord.log"),
        };
        wait_for(Duration::from_secs(10), "supervisord to answer", || {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!(
                    "supervisord exited early ({status}): {}",
                    std::fs::read_to_string(sb.path("supervisord.stderr")).unwrap_or_default()
                );
            }
            daemon.call("supervisor.getState", &[]).ok()
        });
        daemon
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
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a signal to the daemon.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status();
        assert!(
            status.map(|s| s.success()).unwrap_or(false),
            "kill -{signal} failed"
        );
    }

    /// TERM, then wait for the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
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
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

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

/// Runs a mode of our binary (through its symlink) to completion.
pub fn run_mode(sb: &Sandbox, mode: &str, args: &[&str]) -> Output {
    Command::new(sb.mode(mode))
        .args(args)
        .current_dir(&sb.dir)
        .stdin(Stdio::null())
        .output()
        .expect("run mode")
}
