//! Child output capture end to end: real children write known bytes through
//! the real daemon into files, streams and FIFOs, and these tests check that
//! nothing is lost, reordered or duplicated, that rotation and reopening keep
//! files bounded and complete, that log trouble never stops supervision, and
//! that the log RPCs answer as Python Supervisor 4.3 does.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use supervisor::rpc::value::{Fault, Value};

use crate::util::{wait_for, Config, Daemon, Flavor, Launch, Sandbox};

const T: Duration = Duration::from_secs(30);

/// Our daemon on the test config with another `loglevel`.
fn start_at(sb: &Sandbox, level: &str, programs: &str) -> Daemon {
    Daemon::start_with(sb, &Config::new(programs).loglevel(Some(level)).write(sb))
}

/// Our daemon with its own stdout sent to `stdout`, at loglevel info.
fn start_info_with_stdout(sb: &Sandbox, programs: &str, stdout: Stdio) -> Daemon {
    let conf = Config::new(programs).loglevel(Some("info")).write(sb);
    let launch = Launch {
        stdout: Some(stdout),
        ..Launch::default()
    };
    Daemon::start_flavor(sb, Flavor::Ours, &conf, launch)
}

fn read_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// `base.N`, ..., `base.1`, `base` (oldest first) as they are on disk: the
/// highest backup index and each file's size, with their concatenation.
fn rotated_set(base: &Path) -> (Vec<u8>, Vec<u64>, u32) {
    let mut highest = 0;
    while Path::new(&format!("{}.{}", base.display(), highest + 1)).exists() {
        highest += 1;
    }
    let mut files: Vec<PathBuf> = (1..=highest)
        .rev()
        .map(|n| PathBuf::from(format!("{}.{n}", base.display())))
        .collect();
    files.push(base.to_path_buf());
    let mut all = Vec::new();
    let mut sizes = Vec::new();
    for file in files {
        let bytes = read_bytes(&file);
        sizes.push(bytes.len() as u64);
        all.extend_from_slice(&bytes);
    }
    (all, sizes, highest)
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then_some(a.len().min(b.len())))
}

fn assert_same_bytes(got: &[u8], want: &[u8], what: &str) {
    if let Some(at) = first_difference(got, want) {
        panic!(
            "{what}: {} bytes captured, {} written; first difference at byte {at}",
            got.len(),
            want.len()
        );
    }
}

/// A program that writes `bytes` random bytes to stdout and, through `tee`,
/// to the reference file `reference`, then exits.
fn random_writer(name: &str, bytes: usize, reference: &Path, extra: &str) -> String {
    format!(
        "[program:{name}]\ncommand=sh -c 'head -c {bytes} /dev/urandom | tee {}'\n\
         startsecs=0\nautorestart=false\n{extra}\n",
        reference.display()
    )
}

#[test]
fn rotation_keeps_every_byte_in_order_and_files_bounded() {
    let sb = Sandbox::new("logs-rotate");
    let reference = sb.path("reference");
    let log = sb.path("cap.log");
    const MAXBYTES: u64 = 64 * 1024;
    const BYTES: usize = 3_000_000;
    let d = start_at(
        &sb,
        "info",
        &random_writer(
            "cap",
            BYTES,
            &reference,
            &format!(
                "stdout_logfile={}\nstdout_logfile_maxbytes=64KB\nstdout_logfile_backups=100",
                log.display()
            ),
        ),
    );
    // The exit reaches the state machine only after the pumps drained.
    d.wait_state("cap", "EXITED", T);
    let want = read_bytes(&reference);
    assert_eq!(want.len(), BYTES, "the reference is incomplete");
    let (got, sizes, highest) = rotated_set(&log);
    assert!(highest < 100, "rotated past capacity: {highest} backups");
    assert!(
        highest as usize >= BYTES / MAXBYTES as usize,
        "too few rotations: {highest}"
    );
    assert_same_bytes(&got, &want, "rotated capture");
    for (i, size) in sizes.iter().enumerate() {
        assert!(*size <= MAXBYTES, "file {i} holds {size} bytes");
        // Cuts happen at the last newline that fits; random data has one
        // every 256 bytes on average, so no file is much short of full.
        if i + 1 < sizes.len() {
            assert!(*size >= MAXBYTES / 2, "file {i} holds only {size} bytes");
        }
    }
}

#[test]
fn without_rotation_a_few_megabytes_land_in_one_file() {
    let sb = Sandbox::new("logs-norotate");
    let reference = sb.path("reference");
    let log = sb.path("big.log");
    const BYTES: usize = 4 * 1024 * 1024 + 7;
    let d = start_at(
        &sb,
        "info",
        &random_writer(
            "big",
            BYTES,
            &reference,
            &format!(
                "stdout_logfile={}\nstdout_logfile_maxbytes=0\nstdout_logfile_backups=5",
                log.display()
            ),
        ),
    );
    d.wait_state("big", "EXITED", T);
    let want = read_bytes(&reference);
    assert_eq!(want.len(), BYTES);
    assert_same_bytes(&read_bytes(&log), &want, "unrotated capture");
    assert!(!sb.path("big.log.1").exists());
}

/// A script alternating single-write lines between stdout and stderr.
fn alternating_script(sb: &Sandbox, lines: usize) -> PathBuf {
    sb.script(
        "alternate.sh",
        &format!(
            "i=0\nwhile [ $i -lt {lines} ]; do\n  echo \"out $i\"\n  echo \"err $i\" >&2\n  i=$((i+1))\ndone"
        ),
    )
}

#[test]
fn redirect_stderr_keeps_the_order_of_writes() {
    let sb = Sandbox::new("logs-redirect");
    const LINES: usize = 400;
    let script = alternating_script(&sb, LINES);
    let d = Daemon::start(
        &sb,
        &format!(
            "[program:mixed]\ncommand={s}\nredirect_stderr=true\nstdout_logfile={dir}/mixed.log\n\
             startsecs=0\nautorestart=false\n\n\
             [program:split]\ncommand={s}\nstdout_logfile={dir}/split.out\nstderr_logfile={dir}/split.err\n\
             startsecs=0\nautorestart=false\n",
            s = script.display(),
            dir = sb.dir.display()
        ),
    );
    d.wait_state("mixed", "EXITED", T);
    d.wait_state("split", "EXITED", T);
    let mut mixed = String::new();
    let mut outs = String::new();
    let mut errs = String::new();
    for i in 0..LINES {
        mixed.push_str(&format!("out {i}\nerr {i}\n"));
        outs.push_str(&format!("out {i}\n"));
        errs.push_str(&format!("err {i}\n"));
    }
    assert_eq!(sb.read("mixed.log"), mixed);
    assert_eq!(sb.read("split.out"), outs);
    assert_eq!(sb.read("split.err"), errs);
    let info = d.info("mixed");
    assert_eq!(
        info.get("stderr_logfile").and_then(Value::as_str),
        Some(""),
        "a redirected stderr has no log of its own"
    );
}

/// Files in `dir` whose names start with `prefix`.
fn files_starting(dir: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Leftovers of an earlier run: AUTO logs of this identifier (and a
/// backup), of another identifier, and an unrelated file.
const OLD_OURS: [&str; 2] = [
    "old-stdout---supervisor-abcd1234.log",
    "old-stdout---supervisor-abcd1234.log.1",
];
const OLD_OTHERS: [&str; 2] = ["old-stdout---other-abcd1234.log", "keep.log"];

fn seed_leftovers(sb: &Sandbox) {
    for name in OLD_OURS.iter().chain(&OLD_OTHERS) {
        sb.write(name, "old\n");
    }
}

#[test]
fn auto_logs_are_named_like_4_3_and_old_ones_cleared_at_startup() {
    let sb = Sandbox::new("logs-auto");
    seed_leftovers(&sb);
    let d = Daemon::start(
        &sb,
        "[program:auto]\ncommand=sh -c 'echo to out; echo to err >&2; exec sleep 100'\nstartsecs=0\n",
    );
    d.wait_state("auto", "RUNNING", T);
    for name in OLD_OURS {
        assert!(!sb.path(name).exists(), "{name} survived the cleanup");
    }
    for name in OLD_OTHERS {
        assert!(sb.path(name).exists(), "{name} was removed");
    }
    let info = d.info("auto");
    for (channel, text) in [("stdout", "to out\n"), ("stderr", "to err\n")] {
        let path = info
            .get(&format!("{channel}_logfile"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let path = PathBuf::from(path);
        assert_eq!(path.parent(), Some(sb.dir.as_path()), "{path:?}");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!("auto-{channel}---supervisor-");
        let random = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".log"))
            .unwrap_or_else(|| panic!("{name} is not {prefix}XXXXXXXX.log"));
        assert_eq!(random.len(), 8, "{name}");
        assert!(
            random
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
        assert_eq!(files_starting(&sb.dir, &prefix), vec![name.clone()]);
        wait_for(T, "the output in the AUTO log", || {
            (std::fs::read_to_string(&path).ok()? == text).then_some(())
        });
        // mkstemp makes them private, whatever the umask.
        let mode = std::fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_default();
        assert_eq!(mode, 0o600, "{name} has mode {mode:o}");
    }
    // The name stays with the process across restarts, as in 4.3.
    let before = info.get("stdout_logfile").cloned();
    d.call("supervisor.stopProcess", &[Value::str("auto")])
        .expect("stop");
    d.call("supervisor.startProcess", &[Value::str("auto")])
        .expect("start");
    assert_eq!(d.info("auto").get("stdout_logfile").cloned(), before);
    assert_eq!(files_starting(&sb.dir, "auto-stdout---").len(), 1);
}

#[test]
fn nocleanup_keeps_old_auto_logs() {
    let sb = Sandbox::new("logs-nocleanup");
    seed_leftovers(&sb);
    let conf = Config::new("[program:auto]\ncommand=sleep 100\nstartsecs=0\n")
        .supervisord("nocleanup=true")
        .write(&sb);
    let d = Daemon::start_with(&sb, &conf);
    d.wait_state("auto", "RUNNING", T);
    for name in OLD_OURS.iter().chain(&OLD_OTHERS) {
        assert!(sb.path(name).exists(), "{name} was removed");
    }
}

/// Collects everything a reader thread gets from `source` until EOF.
struct Collector {
    bytes: Arc<Mutex<Vec<u8>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Collector {
    fn new(source: impl Read + Send + 'static) -> Collector {
        Collector::up_to(source, usize::MAX)
    }

    /// Stops after `limit` bytes (a FIFO the daemon keeps open never ends).
    fn up_to(mut source: impl Read + Send + 'static, limit: usize) -> Collector {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&bytes);
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0usize;
            while total < limit {
                let Ok(n) = source.read(&mut buf) else {
                    break;
                };
                if n == 0 {
                    break;
                }
                total += n;
                if let (Ok(mut all), Some(chunk)) = (sink.lock(), buf.get(..n)) {
                    all.extend_from_slice(chunk);
                }
            }
        });
        Collector {
            bytes,
            thread: Some(thread),
        }
    }

    fn len(&self) -> usize {
        self.bytes.lock().map(|b| b.len()).unwrap_or_default()
    }

    fn text(&self) -> String {
        self.bytes
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Waits for EOF (the daemon exited) or the limit; returns everything.
    fn finish(mut self) -> Vec<u8> {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.bytes.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

/// Programs logging to /dev/stdout the way Docker images do: without
/// maxbytes=0 (4.3 fails with "Illegal seek" on a pipe), and with a small
/// maxbytes that a file target would rotate at many times.
fn dev_stdout_programs(sb: &Sandbox) -> String {
    let chatty = sb.script(
        "chatty.sh",
        "i=0\nwhile [ $i -lt 2000 ]; do echo \"chatty line $i\"; i=$((i+1)); done\nexec sleep 100",
    );
    format!(
        "[program:docker]\ncommand=sh -c 'echo docker says hello; exec sleep 100'\n\
         stdout_logfile=/dev/stdout\nstartsecs=0\n\n\
         [program:chatty]\ncommand={}\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=1KB\n\
         stdout_logfile_backups=2\nstartsecs=0\n",
        chatty.display()
    )
}

fn assert_dev_stdout_output(text: &str) {
    assert!(text.contains("\ndocker says hello\n"), "{text}");
    let chatty: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("chatty line "))
        .collect();
    let want: Vec<String> = (0..2000).map(|i| format!("chatty line {i}")).collect();
    assert_eq!(chatty, want, "chatty output lost or reordered");
}

#[test]
fn dev_stdout_without_maxbytes_zero_reaches_a_piped_stdout() {
    let sb = Sandbox::new("logs-devstdout-pipe");
    let mut d = start_info_with_stdout(&sb, &dev_stdout_programs(&sb), Stdio::piped());
    let Some(stdout) = d.child.stdout.take() else {
        panic!("no stdout pipe");
    };
    let collector = Collector::new(stdout);
    wait_for(T, "the programs' output on supervisord's stdout", || {
        (collector.text().contains("chatty line 1999\n")
            && collector.text().contains("docker says hello"))
        .then_some(())
    });
    d.wait_state("docker", "RUNNING", T);
    d.wait_state("chatty", "RUNNING", T);
    let log = d.main_log();
    assert!(!log.contains("seek"), "{log}");
    assert!(!log.contains("log file"), "{log}");
    assert_eq!(d.stop().code(), Some(0));
    let text = String::from_utf8_lossy(&collector.finish()).into_owned();
    assert_dev_stdout_output(&text);
    // The main log is echoed there too, as 4.3 does in the foreground.
    assert!(text.contains(" INFO spawned: 'docker' with pid "), "{text}");
}

#[test]
fn dev_stdout_redirected_to_a_file_is_never_rotated() {
    let sb = Sandbox::new("logs-devstdout-file");
    let out = sb.path("daemon.stdout");
    let file = std::fs::File::create(&out).expect("stdout file");
    let d = start_info_with_stdout(&sb, &dev_stdout_programs(&sb), Stdio::from(file));
    wait_for(T, "the programs' output in supervisord's stdout", || {
        let text = std::fs::read_to_string(&out).ok()?;
        (text.contains("chatty line 1999\n") && text.contains("docker says hello")).then_some(())
    });
    assert_eq!(d.stop().code(), Some(0));
    assert_dev_stdout_output(&std::fs::read_to_string(&out).unwrap_or_default());
    assert!(!sb.path("daemon.stdout.1").exists());
    assert!(Path::new("/dev/stdout").exists());
}

/// A FIFO's read end, opened without waiting for a writer (so the daemon's
/// non-blocking open finds a reader).
fn open_fifo_reader(path: &Path) -> std::os::fd::OwnedFd {
    use rustix::fs::{Mode, OFlags};
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        Mode::from_raw_mode(0o600),
        0,
    )
    .expect("mkfifo");
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .expect("open the FIFO for reading")
}

#[test]
fn a_full_fifo_does_not_block_the_daemon_and_loses_nothing() {
    let sb = Sandbox::new("logs-fifo");
    let fifo = sb.path("out.fifo");
    let reader = open_fifo_reader(&fifo);
    let reference = sb.path("reference");
    const BYTES: usize = 3_000_000;
    let d = start_at(
        &sb,
        "info",
        &random_writer(
            "piped",
            BYTES,
            &reference,
            &format!("stdout_logfile={}", fifo.display()),
        ),
    );
    // Nobody reads yet: wait until the FIFO is full.
    wait_for(T, "the FIFO to fill up", || {
        let queued = rustix::io::ioctl_fionread(&reader).ok()?;
        (queued >= 64 * 1024).then_some(())
    });
    // The daemon still answers promptly while its output is stuck.
    for _ in 0..5 {
        let asked = Instant::now();
        assert!(d.call("supervisor.getState", &[]).is_ok());
        let info = d.info("piped");
        assert!(
            asked.elapsed() < Duration::from_secs(3),
            "the API took {:?}",
            asked.elapsed()
        );
        assert!(info.get("statename").is_some());
    }
    // The child is held back by backpressure, not cut off: a reader that
    // blocks in read(2) now takes everything.
    let flags = rustix::fs::fcntl_getfl(&reader).expect("getfl");
    rustix::fs::fcntl_setfl(&reader, flags - rustix::fs::OFlags::NONBLOCK).expect("setfl");
    let collector = Collector::up_to(std::fs::File::from(reader), BYTES);
    wait_for(T, "everything through the FIFO", || {
        (collector.len() >= BYTES).then_some(())
    });
    let got = collector.finish();
    d.wait_state("piped", "EXITED", T);
    let want = read_bytes(&reference);
    assert_same_bytes(&got, &want, "FIFO capture");
    let log = d.main_log();
    assert!(!log.contains("dropping"), "{log}");
}

/// A program that answers each stdin line with one stdout line.
fn echo_program(name: &str, logfile: &Path) -> String {
    format!(
        "[program:{name}]\ncommand=sh -c 'while read x; do echo \"got $x\"; done'\n\
         stdout_logfile={}\nstartsecs=0\n",
        logfile.display()
    )
}

fn send(d: &Daemon, name: &str, text: &str) {
    d.call(
        "supervisor.sendProcessStdin",
        &[Value::str(name), Value::str(text)],
    )
    .unwrap_or_else(|f| panic!("sendProcessStdin: {f}"));
}

/// Waits for the debug copy of `line` in the main log: proof that the
/// daemon has handled that output, whether or not it could store it.
fn wait_handled(d: &Daemon, name: &str, line: &str) {
    wait_for(T, &format!("{line:?} to be handled"), || {
        d.main_log()
            .contains(&format!("'{name}' stdout output:\n{line}\n"))
            .then_some(())
    });
}

#[test]
fn sigusr2_after_a_move_starts_a_fresh_file() {
    let sb = Sandbox::new("logs-usr2");
    let log = sb.path("app.log");
    let d = Daemon::start(&sb, &echo_program("app", &log));
    d.wait_state("app", "RUNNING", T);
    send(&d, "app", "before\n");
    wait_for(T, "the first line", || {
        (sb.read("app.log") == "got before\n").then_some(())
    });
    std::fs::rename(&log, sb.path("app.log.1")).expect("mv");
    // Until the reopen, output follows the moved file (it is the same file).
    send(&d, "app", "moved\n");
    wait_for(T, "the line after the move", || {
        sb.read("app.log.1").ends_with("got moved\n").then_some(())
    });
    d.signal("USR2");
    wait_for(T, "the reopen", || {
        d.main_log().contains("supervisord logreopen").then_some(())
    });
    send(&d, "app", "after\n");
    wait_for(T, "the line after the reopen", || {
        (sb.read("app.log") == "got after\n").then_some(())
    });
    assert_eq!(sb.read("app.log.1"), "got before\ngot moved\n");
    let log = d.main_log();
    assert!(
        log.contains("received SIGUSR2 indicating log reopen request"),
        "{log}"
    );
}

#[test]
fn a_vanished_log_directory_is_reported_once_and_writing_resumes() {
    let sb = Sandbox::new("logs-vanish");
    let logs = sb.path("logs");
    std::fs::create_dir(&logs).expect("mkdir");
    let log = logs.join("keep.log");
    let d = Daemon::start(&sb, &echo_program("keep", &log));
    d.wait_state("keep", "RUNNING", T);
    let pid = d.process_pid("keep");
    send(&d, "keep", "zero\n");
    wait_for(T, "the first line", || {
        (std::fs::read_to_string(&log).ok()? == "got zero\n").then_some(())
    });

    // The directory goes away and the log is reopened (logrotate, USR2).
    // 4.3 dies here with a traceback, leaving its children behind.
    std::fs::remove_dir_all(&logs).expect("rm -r");
    d.signal("USR2");
    let shown = log.display().to_string();
    let failing = format!("ERRO log file {shown}: cannot open: No such file or directory (ENOENT)");
    wait_for(T, "the reopen to fail", || {
        d.main_log().contains(&failing).then_some(())
    });
    send(&d, "keep", "one\n");
    wait_handled(&d, "keep", "got one");
    // Then a file stands where the directory should be: still failing.
    std::fs::write(&logs, b"not a directory").expect("file in the way");
    send(&d, "keep", "two\n");
    wait_handled(&d, "keep", "got two");
    assert_eq!(d.process_pid("keep"), pid, "supervision was disturbed");
    assert_eq!(d.statename("keep"), "RUNNING");

    std::fs::remove_file(&logs).expect("rm file");
    std::fs::create_dir(&logs).expect("mkdir again");
    send(&d, "keep", "three\n");
    wait_for(T, "writing to resume", || {
        (std::fs::read_to_string(&log).ok()? == "got three\n").then_some(())
    });
    let main = d.main_log();
    assert_eq!(main.matches(&failing).count(), 1, "{main}");
    assert_eq!(
        main.matches("cannot open").count(),
        1,
        "reported once: {main}"
    );
    let recovered = format!(
        "INFO log file {shown} works again; {} bytes of output were lost",
        "got one\ngot two\n".len()
    );
    assert!(main.contains(&recovered), "{main}");
    assert_eq!(d.process_pid("keep"), pid);
}

/// Programs whose output the debug copy shows, in both channels, and one
/// that writes bytes that are not UTF-8.
const COPY_PROGRAMS: &str = "[program:talk]\ncommand=sh -c 'echo hello out; sleep 0.2; echo hello err >&2; exec sleep 100'\n\
     startsecs=0\n\n\
     [program:bin]\ncommand=sh -c 'printf \"\\377abc\\n\"; exec sleep 100'\nstartsecs=0\n";

#[test]
fn child_output_is_copied_to_the_main_log_at_debug_and_trace_only() {
    for level in ["debug", "trace"] {
        let sb = Sandbox::new(&format!("logs-copy-{level}"));
        let d = start_at(&sb, level, COPY_PROGRAMS);
        let want = [
            "DEBG 'talk' stdout output:\nhello out\n\n",
            "DEBG 'talk' stderr output:\nhello err\n\n",
            "DEBG 'bin' stdout output:\nUndecodable: b'\\xffabc\\n'\n",
        ];
        wait_for(T, &format!("the copies at {level}"), || {
            let log = d.main_log();
            want.iter().all(|w| log.contains(w)).then_some(())
        });
        assert!(sb.read("supervisord.log").contains("hello out"));
    }
    let sb = Sandbox::new("logs-copy-info");
    let d = start_at(&sb, "info", COPY_PROGRAMS);
    d.wait_state("talk", "RUNNING", T);
    d.wait_state("bin", "RUNNING", T);
    let err_log = d
        .info("talk")
        .get("stderr_logfile")
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .unwrap_or_default();
    wait_for(T, "the output in its own log", || {
        std::fs::read_to_string(&err_log)
            .ok()?
            .contains("hello err")
            .then_some(())
    });
    let log = d.main_log();
    assert!(!log.contains("output:"), "{log}");
    assert!(!log.contains("hello"), "{log}");
}

/// One log RPC's outcome in a form both daemons can be compared by: the
/// value, or the fault code with the sandbox path taken out of its text.
#[derive(Debug, PartialEq)]
enum Outcome {
    Value(Value),
    Fault(i64, String),
}

fn outcome(result: Result<Value, Fault>, sb: &Sandbox) -> Outcome {
    match result {
        Ok(v) => Outcome::Value(v),
        Err(f) => Outcome::Fault(
            f.code.into(),
            f.string.replace(&sb.dir.display().to_string(), "DIR"),
        ),
    }
}

const KNOWN_PROGRAMS: &str = "[program:known]\ncommand=sh -c 'seq -f \"line %%04g\" 1 100; exec sleep 100'\n\
     stdout_logfile={dir}/known.log\nstderr_logfile=NONE\nstartsecs=0\n\n\
     [program:redir]\ncommand=sleep 100\nredirect_stderr=true\nstdout_logfile={dir}/redir.log\nstartsecs=0\n";

/// The log RPCs, in order, on a daemon whose `known` logged 1000 bytes.
fn log_rpc_outcomes(d: &Daemon, sb: &Sandbox) -> Vec<(String, Outcome)> {
    let int = Value::Int;
    let known = || Value::str("known");
    let read = "supervisor.readProcessStdoutLog";
    let tail = "supervisor.tailProcessStdoutLog";
    let mut calls: Vec<(&str, Vec<Value>)> = Vec::new();
    for (offset, length) in [
        (0, 0),
        (0, 10),
        (995, 10),
        (1000, 10),
        (5000, 10),
        (-10, 0),
        (-5000, 0),
        (-10, 5),
        (0, -1),
        (-1, -1),
    ] {
        calls.push((read, vec![known(), int(offset), int(length)]));
    }
    for (offset, length) in [
        (0, 0),
        (0, 100),
        (990, 100),
        (1000, 100),
        (2000, 100),
        (-5, 3),
        (500, 0),
        (0, 5000),
        (10, -5),
        (-3000, 10),
    ] {
        calls.push((tail, vec![known(), int(offset), int(length)]));
    }
    calls.extend([
        ("supervisor.readProcessLog", vec![known(), int(0), int(5)]),
        ("supervisor.tailProcessLog", vec![known(), int(0), int(5)]),
        (
            "supervisor.readProcessStderrLog",
            vec![known(), int(0), int(0)],
        ),
        (
            "supervisor.tailProcessStderrLog",
            vec![known(), int(0), int(10)],
        ),
        (
            "supervisor.readProcessStderrLog",
            vec![Value::str("redir"), int(0), int(0)],
        ),
        (read, vec![Value::str("nope"), int(0), int(0)]),
        (tail, vec![Value::str("nope"), int(0), int(10)]),
        ("supervisor.clearProcessLogs", vec![Value::str("nope")]),
        ("supervisor.clearProcessLogs", vec![known()]),
        (read, vec![known(), int(0), int(0)]),
        (tail, vec![known(), int(0), int(100)]),
    ]);
    let mut outcomes: Vec<(String, Outcome)> = calls
        .into_iter()
        .map(|(method, params)| {
            let label = format!("{method}{params:?}");
            (label, outcome(d.call(method, &params), sb))
        })
        .collect();
    // A log removed behind the daemon's back.
    let _ = std::fs::remove_file(sb.path("known.log"));
    for (method, params) in [
        (read, vec![known(), int(0), int(0)]),
        (tail, vec![known(), int(0), int(10)]),
        ("supervisor.clearProcessLogs", vec![known()]),
        (read, vec![known(), int(0), int(0)]),
    ] {
        let label = format!("after rm: {method}{params:?}");
        outcomes.push((label, outcome(d.call(method, &params), sb)));
    }
    outcomes
}

fn run_known(sb: &Sandbox, flavor: Flavor) -> Vec<(String, Outcome)> {
    let conf = Config::new(KNOWN_PROGRAMS).write(sb);
    let d = Daemon::start_flavor(sb, flavor, &conf, Launch::default());
    d.wait_state("known", "RUNNING", T);
    wait_for(T, "the known output", || {
        (std::fs::metadata(sb.path("known.log")).ok()?.len() == 1000).then_some(())
    });
    let outcomes = log_rpc_outcomes(&d, sb);
    assert_eq!(d.stop().code(), Some(0));
    outcomes
}

#[test]
fn log_rpcs_answer_as_4_3_does() {
    let ours_sb = Sandbox::new("logs-rpc-ours");
    let ours = run_known(&ours_sb, Flavor::Ours);
    let py_sb = Sandbox::new("logs-rpc-py43");
    let python = run_known(&py_sb, Flavor::Python);
    assert_eq!(ours.len(), python.len());
    let mut differences = Vec::new();
    for ((label, mine), (_, theirs)) in ours.iter().zip(&python) {
        if mine != theirs {
            differences.push(format!("{label}\n  ours: {mine:?}\n  4.3:  {theirs:?}"));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // And on their own terms, so a change in both would not pass unseen.
    let whole: String = (1..=100).map(|i| format!("line {i:04}\n")).collect();
    let get = |label_start: &str| -> &Outcome {
        ours.iter()
            .find(|(l, _)| l.starts_with(label_start))
            .map(|(_, o)| o)
            .unwrap_or_else(|| panic!("no {label_start}"))
    };
    assert_eq!(
        get("supervisor.readProcessStdoutLog[String(\"known\"), Int(0), Int(0)]"),
        &Outcome::Value(Value::str(whole.clone()))
    );
    assert_eq!(
        get("supervisor.readProcessStdoutLog[String(\"known\"), Int(-10), Int(0)]"),
        &Outcome::Value(Value::str("line 0100\n"))
    );
    assert!(matches!(
        get("supervisor.readProcessStdoutLog[String(\"known\"), Int(-10), Int(5)]"),
        Outcome::Fault(3, _)
    ));
    assert_eq!(
        get("supervisor.tailProcessStdoutLog[String(\"known\"), Int(0), Int(100)]"),
        &Outcome::Value(Value::Array(vec![
            Value::str(whole.get(900..).unwrap_or_default()),
            Value::Int(1000),
            Value::Bool(true),
        ]))
    );
    assert!(matches!(
        get("after rm: supervisor.readProcessStdoutLog"),
        Outcome::Fault(20, _)
    ));
}

#[test]
fn the_main_log_rotates_by_its_own_settings() {
    let sb = Sandbox::new("logs-mainrotate");
    let chatty = sb.script(
        "chatty.sh",
        "i=0\nwhile [ $i -lt 3000 ]; do echo \"chatter $i\"; i=$((i+1)); done",
    );
    let conf = Config::new(&format!(
        "[program:chatty]\ncommand={}\nstartsecs=0\nautorestart=false\n",
        chatty.display()
    ))
    .supervisord("logfile_maxbytes=10KB\nlogfile_backups=3")
    .write(&sb);
    let d = Daemon::start_with(&sb, &conf);
    d.wait_state("chatty", "EXITED", T);
    let base = sb.path("supervisord.log");
    let (all, sizes, highest) = rotated_set(&base);
    assert_eq!(highest, 3, "backups kept: {highest}");
    assert!(!sb.path("supervisord.log.4").exists());
    for (i, size) in sizes.iter().enumerate() {
        assert!(*size <= 10 * 1024, "main log file {i} holds {size} bytes");
    }
    // The debug copies of the output that survived rotation: consecutive,
    // complete lines up to the last one.
    let text = String::from_utf8_lossy(&all);
    let numbers: Vec<u32> = text
        .lines()
        .filter_map(|l| l.strip_prefix("chatter "))
        .map(|n| n.parse().unwrap_or_else(|_| panic!("cut line {n:?}")))
        .collect();
    assert_eq!(numbers.last(), Some(&2999));
    assert!(numbers.len() > 100, "only {} lines kept", numbers.len());
    for pair in numbers.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "lines lost or reordered: {pair:?}");
    }
    // Every file starts at the beginning of a line.
    for n in 1..=3 {
        let bytes = read_bytes(Path::new(&format!("{}.{n}", base.display())));
        assert_eq!(bytes.last(), Some(&b'\n'), "supervisord.log.{n}");
    }
}
