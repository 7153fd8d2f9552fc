//! pidproxy end to end: the real binary runs a shell script that writes its
//! pid to a pidfile and records the signals it gets, and we signal pidproxy.
//! Every wait polls with a deadline; every process started is stopped by pid.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use supervisor::process::signals;

const BIN: &str = env!("CARGO_BIN_EXE_supervisor");
const PATIENCE: Duration = Duration::from_secs(10);
const SIGHUP: i32 = 1;
const SIGKILL: i32 = 9;
const SIGUSR1: i32 = 10;
const SIGUSR2: i32 = 12;
const SIGTERM: i32 = 15;

/// Traps USR1 and HUP (noted, keeps going) and TERM and USR2 (noted, exits),
/// waiting on a background sleep so traps run at once.
const CHILD_SCRIPT: &str = r#"#!/bin/sh
trap 'echo USR1 >> "$2"' USR1
trap 'echo HUP >> "$2"' HUP
trap 'echo TERM >> "$2"; kill $s; exit 0' TERM
trap 'echo USR2 >> "$2"; kill $s; exit 0' USR2
sleep 1000 & s=$!
echo $s > "$1.sleep"
echo $$ > "$1"
while kill -0 $s 2>/dev/null; do wait $s; done
"#;

/// A fresh directory, and everything started in it, removed on drop.
struct Scene {
    dir: PathBuf,
    proxy: Option<Child>,
}

impl Scene {
    fn new(name: &str) -> Scene {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pidproxy-it-{name}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        let script = dir.join("child.sh");
        fs::write(&script, CHILD_SCRIPT).expect("script");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
        Scene { dir, proxy: None }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn start(&mut self, mut command: Command) {
        let stderr = fs::File::create(self.path("stderr")).expect("stderr file");
        command
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        self.proxy = Some(command.spawn().expect("pidproxy runs"));
    }

    fn proxy_pid(&self) -> u32 {
        self.proxy.as_ref().map(Child::id).expect("started")
    }

    fn signal_proxy(&self, signal: i32) {
        signals::send(self.proxy_pid(), signal, false).expect("signal pidproxy");
    }

    fn proxy_exit(&mut self) -> Option<ExitStatus> {
        self.proxy
            .as_mut()
            .and_then(|child| child.try_wait().expect("try_wait"))
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    fn pid_in(&self, name: &str) -> Option<u32> {
        self.read(name).trim().parse().ok()
    }

    fn wait_for(&mut self, what: &str, mut done: impl FnMut(&mut Scene) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; stderr: {}",
                self.read("stderr")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn wait_for_exit(&mut self) -> ExitStatus {
        let mut status = None;
        self.wait_for("pidproxy to exit", |scene| {
            status = scene.proxy_exit();
            status.is_some()
        });
        status.expect("exited")
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        if let Some(mut proxy) = self.proxy.take() {
            let _ = proxy.kill();
            let _ = proxy.wait();
        }
        for pidfile in ["child.pid", "child.pid.sleep", "real.pid", "real.pid.sleep"] {
            if let Some(pid) = self.pid_in(pidfile) {
                let _ = signals::send(pid, SIGKILL, false);
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn pidproxy_via_mode(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.arg("pidproxy").args(args);
    command
}

#[test]
fn forwards_usr1_and_keeps_running_then_forwards_term_and_exits_0() {
    let mut scene = Scene::new("term");
    let pidfile = scene.path("child.pid");
    let log = scene.path("signals.log");
    let script = scene.path("child.sh");
    scene.start(pidproxy_via_mode(&[
        pidfile.to_str().expect("utf8"),
        script.to_str().expect("utf8"),
        pidfile.to_str().expect("utf8"),
        log.to_str().expect("utf8"),
    ]));
    scene.wait_for("the child's pidfile", |s| s.pid_in("child.pid").is_some());

    scene.signal_proxy(SIGUSR1);
    scene.wait_for("USR1 to reach the child", |s| {
        s.read("signals.log") == "USR1\n"
    });
    assert!(scene.proxy_exit().is_none(), "pidproxy must outlive USR1");

    scene.signal_proxy(SIGTERM);
    let status = scene.wait_for_exit();
    assert_eq!(status.code(), Some(0));
    scene.wait_for("TERM to reach the child", |s| {
        s.read("signals.log") == "USR1\nTERM\n"
    });
}

#[test]
fn as_a_symlink_named_pidproxy_it_forwards_hup_and_exits_with_its_child() {
    let mut scene = Scene::new("symlink");
    let link = scene.path("pidproxy");
    symlink(BIN, &link).expect("symlink");
    // A relative command, made absolute against the current directory as
    // 4.3 does (no PATH search).
    let mut command = Command::new(&link);
    command.args(["child.pid", "child.sh", "child.pid", "signals.log"]);
    scene.start(command);
    scene.wait_for("the child's pidfile", |s| s.pid_in("child.pid").is_some());

    scene.signal_proxy(SIGHUP);
    scene.wait_for("HUP to reach the child", |s| {
        s.read("signals.log") == "HUP\n"
    });
    assert!(scene.proxy_exit().is_none(), "pidproxy must outlive HUP");

    // USR2 makes the child exit by itself; pidproxy follows it.
    scene.signal_proxy(SIGUSR2);
    let status = scene.wait_for_exit();
    assert_eq!(status.code(), Some(0));
    assert_eq!(scene.read("signals.log"), "HUP\nUSR2\n");
}

#[test]
fn an_unreadable_pidfile_is_reported_and_pidproxy_keeps_running() {
    let mut scene = Scene::new("nopidfile");
    // The child writes its pid somewhere pidproxy does not look.
    let mut command = Command::new(BIN);
    command.args([
        "pidproxy",
        "missing.pid",
        "./child.sh",
        "real.pid",
        "signals.log",
    ]);
    scene.start(command);
    scene.wait_for("the child's pidfile", |s| s.pid_in("real.pid").is_some());

    scene.signal_proxy(SIGTERM);
    scene.wait_for("the complaint", |s| {
        s.read("stderr")
            .contains("Can't read child pidfile missing.pid!")
    });
    assert!(
        scene.proxy_exit().is_none(),
        "nothing was forwarded: keep running"
    );
    assert_eq!(scene.read("signals.log"), "");
}

#[test]
fn too_few_arguments_print_usage_and_exit_1() {
    let output = Command::new(BIN)
        .args(["pidproxy", "only-a-pidfile"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Usage: pidproxy <pidfile name> <command> [<cmdarg1> ...]"),
        "{stdout}"
    );
}

#[test]
fn a_missing_command_is_reported() {
    let mut scene = Scene::new("nocommand");
    let mut command = Command::new(BIN);
    command.args(["pidproxy", "x.pid", "no-such-program"]);
    scene.start(command);
    let status = scene.wait_for_exit();
    assert_eq!(status.code(), Some(127));
    assert!(
        scene.read("stderr").contains("no-such-program"),
        "{}",
        scene.read("stderr")
    );
}
