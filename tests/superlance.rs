//! The real superlance listeners (from the tests' venv, unchanged) under
//! our supervisord: crashmail mails on an unexpected exit, memmon restarts
//! a program over its memory limit, httpok restarts one whose URL stops
//! answering 200. Each speaks 4.3's event protocol and calls back over
//! XML-RPC through SUPERVISOR_SERVER_URL.

use std::path::Path;
use std::time::Duration;

use crate::util::{free_port, python_bin, wait_for, Daemon, Sandbox};

const T: Duration = Duration::from_secs(40);

fn tool(name: &str) -> String {
    let path = python_bin().join(name);
    assert!(
        path.exists(),
        "{} is missing: tests/run installs superlance into the venv",
        path.display()
    );
    path.display().to_string()
}

#[test]
fn crashmail_mails_when_a_program_exits_unexpectedly() {
    let sb = Sandbox::new("superlance-crashmail");
    sb.script("sendmail.sh", "cat > \"$(dirname \"$0\")/mail.txt\"");
    let d = Daemon::start(
        &sb,
        &format!(
            "[eventlistener:crashmail]\ncommand={crashmail} -a -m ops@example.com -s %(here)s/sendmail.sh\n\
             events=PROCESS_STATE_EXITED\nstartsecs=0\n\n\
             [program:crasher]\ncommand=sh -c 'sleep 1; exit 7'\nstartsecs=0\nautorestart=false\n",
            crashmail = tool("crashmail"),
        ),
    );
    let mail = wait_for(T, "crashmail's mail", || {
        Some(sb.read("mail.txt")).filter(|m| m.contains("crasher"))
    });
    assert!(mail.contains("To: ops@example.com"), "{mail}");
    assert!(
        mail.contains("Process crasher in group crasher exited unexpectedly"),
        "{mail}"
    );
    drop(d);
}

#[test]
fn memmon_restarts_a_program_over_its_memory_limit() {
    let sb = Sandbox::new("superlance-memmon");
    let d = Daemon::start(
        &sb,
        &format!(
            "[eventlistener:memmon]\ncommand={memmon} -p hog=20MB\nevents=TICK_5\nstartsecs=0\n\n\
             [program:hog]\ncommand={py} -c \"import time; x = bytearray(64 << 20); \
             x[::4096] = b'1' * len(x[::4096]); time.sleep(1000)\"\nstartsecs=0\n",
            memmon = tool("memmon"),
            py = python_bin().join("python").display(),
        ),
    );
    d.wait_state("hog", "RUNNING", T);
    let first = d.process_pid("hog");
    wait_for(T, "memmon to restart hog", || {
        let pid = d.process_pid("hog");
        (pid != 0 && pid != first).then_some(())
    });
    assert!(
        d.main_log().contains("stopped: hog"),
        "hog was restarted by a stop:\n{}",
        d.main_log()
    );
}

#[test]
fn httpok_restarts_a_program_whose_url_stops_answering() {
    let sb = Sandbox::new("superlance-httpok");
    let port = free_port();
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/listeners/web.py");
    let d = Daemon::start(
        &sb,
        &format!(
            "[eventlistener:httpok]\ncommand={httpok} -p web -t 2 http://127.0.0.1:{port}/\n\
             events=TICK_5\nstartsecs=0\n\n\
             [program:web]\ncommand={py} {web} {port} %(here)s/broken\nstartsecs=1\n",
            httpok = tool("httpok"),
            py = python_bin().join("python").display(),
            web = web.display(),
        ),
    );
    d.wait_state("web", "RUNNING", T);
    let first = d.process_pid("web");
    sb.write("broken", "");
    wait_for(T, "httpok to restart web", || {
        let pid = d.process_pid("web");
        (pid != 0 && pid != first).then_some(())
    });
}
