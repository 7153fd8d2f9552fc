//! pidproxy end to end: the real binary runs a shell script that writes its
//! pid to a pidfile and records the signals it gets, and we signal pidproxy.
//! Every wait polls with a deadline; every process started is stopped by pid.

use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::Signal;

use crate::util::{binary, kill, run, wait_for, Sandbox};

const PATIENCE: Duration = Duration::from_secs(10);

/// Traps USR1 and HUP (noted, keeps going) and TERM and USR2 (noted, exits),
/// waiting on a background sleep so traps run at once.
const CHILD_SCRIPT: &str = r#"trap 'echo USR1 >> "$2"' USR1
trap 'echo HUP >> "$2"' HUP
trap 'echo TERM >> "$2"; kill $s; exit 0' TERM
trap 'echo USR2 >> "$2"; kill $s; exit 0' USR2
sleep 1000 & s=$!
echo $s > "$1.sleep"
echo $$ > "$1"
while kill -0 $s 2>/dev/null; do wait $s; done"#;

/// A sandbox with the child script, and the pidproxy started in it; every
/// process started is killed on drop.
struct Scene {
    sb: Sandbox,
    proxy: Option<Child>,
}

impl Scene {
    fn new(name: &str) -> Scene {
        let sb = Sandbox::new(&format!("pidproxy-{name}"));
        sb.script("child.sh", CHILD_SCRIPT);
        Scene { sb, proxy: None }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.sb.path(name)
    }

    fn start(&mut self, mut command: Command) {
        let stderr = std::fs::File::create(self.path("stderr")).expect("stderr file");
        command
            .current_dir(&self.sb.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        self.proxy = Some(command.spawn().expect("pidproxy runs"));
    }

    fn proxy_pid(&self) -> u32 {
        self.proxy.as_ref().map(Child::id).expect("started")
    }

    fn signal_proxy(&self, signal: Signal) {
        kill(self.proxy_pid(), signal).expect("signal pidproxy");
    }

    fn proxy_exit(&mut self) -> Option<ExitStatus> {
        self.proxy
            .as_mut()
            .and_then(|child| child.try_wait().expect("try_wait"))
    }

    fn read(&self, name: &str) -> String {
        self.sb.read(name)
    }

    fn pid_in(&self, name: &str) -> Option<u32> {
        self.read(name).trim().parse().ok()
    }

    /// Waits until `done` holds; pidproxy's stderr is in the sandbox, which
    /// a failing test leaves behind.
    fn wait_for(&mut self, what: &str, mut done: impl FnMut(&mut Scene) -> bool) {
        let what = format!(
            "{what} (pidproxy's stderr: {})",
            self.path("stderr").display()
        );
        wait_for(PATIENCE, &what, || done(self).then_some(()));
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
                let _ = kill(pid, Signal::KILL);
            }
        }
    }
}

fn pidproxy_via_mode(args: &[&str]) -> Command {
    let mut command = Command::new(binary());
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

    scene.signal_proxy(Signal::USR1);
    scene.wait_for("USR1 to reach the child", |s| {
        s.read("signals.log") == "USR1\n"
    });
    assert!(scene.proxy_exit().is_none(), "pidproxy must outlive USR1");

    scene.signal_proxy(Signal::TERM);
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
    symlink(binary(), &link).expect("symlink");
    // A relative command, made absolute against the current directory as
    // 4.3 does (no PATH search).
    let mut command = Command::new(&link);
    command.args(["child.pid", "child.sh", "child.pid", "signals.log"]);
    scene.start(command);
    scene.wait_for("the child's pidfile", |s| s.pid_in("child.pid").is_some());

    scene.signal_proxy(Signal::HUP);
    scene.wait_for("HUP to reach the child", |s| {
        s.read("signals.log") == "HUP\n"
    });
    assert!(scene.proxy_exit().is_none(), "pidproxy must outlive HUP");

    // USR2 makes the child exit by itself; pidproxy follows it.
    scene.signal_proxy(Signal::USR2);
    let status = scene.wait_for_exit();
    assert_eq!(status.code(), Some(0));
    assert_eq!(scene.read("signals.log"), "HUP\nUSR2\n");
}

#[test]
fn an_unreadable_pidfile_is_reported_and_pidproxy_keeps_running() {
    let mut scene = Scene::new("nopidfile");
    // The child writes its pid somewhere pidproxy does not look.
    let mut command = Command::new(binary());
    command.args([
        "pidproxy",
        "missing.pid",
        "./child.sh",
        "real.pid",
        "signals.log",
    ]);
    scene.start(command);
    scene.wait_for("the child's pidfile", |s| s.pid_in("real.pid").is_some());

    scene.signal_proxy(Signal::TERM);
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
    let output = run(pidproxy_via_mode(&["only-a-pidfile"]), b"", PATIENCE);
    assert_eq!(output.code, Some(1));
    let stdout = &output.stdout;
    assert!(
        stdout.contains("Usage: pidproxy <pidfile name> <command> [<cmdarg1> ...]"),
        "{stdout}"
    );
}

#[test]
fn a_missing_command_is_reported() {
    let mut scene = Scene::new("nocommand");
    let mut command = Command::new(binary());
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
