//! Readable logs end to end: `timestamps=`, `*_logfile_prefix=` templates on
//! captured lines (split lines, partial last lines, the template keys, and
//! byte-exact capture when neither is set), and `forward_to_stdout=` /
//! `forward_all=` copying whole lines to supervisord's own stdout and
//! stderr, with a stdout nobody reads never stalling the daemon.

use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::{wait_for, Config, Daemon, Flavor, Launch, Sandbox};

const T: Duration = Duration::from_secs(30);

/// `2026-12-03T18:04:05.123` at the start of `text`: its milliseconds of
/// the day, or None when it is not such a stamp.
fn stamp_millis(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let shape = "dddd-dd-ddTdd:dd:dd.ddd";
    if b.len() < shape.len() {
        return None;
    }
    for (c, want) in b.iter().zip(shape.bytes()) {
        let fits = match want {
            b'd' => c.is_ascii_digit(),
            other => *c == other,
        };
        if !fits {
            return None;
        }
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<u64>().ok();
    let (h, m, s, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    Some(((h * 60 + m) * 60 + s) * 1000 + ms)
}

/// Writes a python3 script into the sandbox; returns the command running it.
fn python(sb: &Sandbox, name: &str, body: &str) -> String {
    let path = sb.write(name, body);
    format!("python3 -u {}", path.display())
}

#[test]
fn a_line_split_across_writes_gets_one_stamp_and_prefix_from_its_start() {
    let sb = Sandbox::new("lf-split");
    let cmd = python(
        &sb,
        "split.py",
        "import os, time\n\
         os.write(1, b'hel')\n\
         time.sleep(0.3)\n\
         os.write(1, b'lo\\nsecond\\n')\n\
         os.write(1, b'partial')\n",
    );
    let conf = Config::new(&format!(
        "[program:web]\ncommand={cmd}\nautorestart=false\nstartsecs=0\n\
         stdout_logfile={{dir}}/web.out\ntimestamps=true\n\
         stdout_logfile_prefix=\"%(program_name)s| \"\n"
    ))
    .write(&sb);
    let daemon = Daemon::start_with(&sb, &conf);
    daemon.wait_state("web", "EXITED", T);
    let text = sb.read("web.out");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 3, "{text:?}");
    let stamps: Vec<u64> = lines
        .iter()
        .map(|l| stamp_millis(l).unwrap_or_else(|| panic!("no stamp in {l:?}")))
        .collect();
    let bodies: Vec<&str> = lines.iter().map(|l| &l[23..]).collect();
    assert_eq!(bodies, [" web| hello\n", " web| second\n", " web| partial"]);
    // The first line is stamped when "hel" arrived, not when it ended.
    let gap = stamps[1].saturating_sub(stamps[0]);
    assert!(
        gap >= 250,
        "stamps {stamps:?}: the split line was stamped late"
    );
    assert!(stamps[2] >= stamps[1]);
}

#[test]
fn template_keys_expand_per_process_and_per_line() {
    let sb = Sandbox::new("lf-keys");
    let cmd = python(
        &sb,
        "both.py",
        "import os, sys\n\
         os.write(1, b'out\\n')\n\
         os.write(2, b'err\\n')\n",
    );
    let conf = Config::new(&format!(
        "[group:g]\nprograms=web\n\
         [program:web]\ncommand={cmd}\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)s\n\
         autorestart=false\nstartsecs=0\n\
         stdout_logfile={{dir}}/%(process_num)s.out\nstderr_logfile={{dir}}/%(process_num)s.err\n\
         stdout_logfile_prefix=\"%(group_name)s:%(program_name)s:%(process_num)02d@%(timestamp)s \"\n\
         stderr_logfile_prefix=\"E%(process_num)s> \"\n"
    ))
    .write(&sb);
    let daemon = Daemon::start_with(&sb, &conf);
    daemon.wait_state("g:web_1", "EXITED", T);
    daemon.wait_state("g:web_0", "EXITED", T);
    for n in 0..2 {
        let out = sb.read(&format!("{n}.out"));
        let head = format!("g:web:0{n}@");
        assert!(out.starts_with(&head), "{out:?}");
        let rest = &out[head.len()..];
        assert!(stamp_millis(rest).is_some(), "{out:?}");
        assert_eq!(&rest[23..], " out\n", "{out:?}");
        assert_eq!(sb.read(&format!("{n}.err")), format!("E{n}> err\n"));
    }
}

#[test]
fn without_the_keys_capture_stays_byte_exact() {
    let sb = Sandbox::new("lf-exact");
    let cmd = python(
        &sb,
        "raw.py",
        "import os, time\n\
         os.write(1, b'a\\r\\nb')\n\
         time.sleep(0.1)\n\
         os.write(1, b'\\xff\\x00c\\n\\nd')\n",
    );
    let conf = Config::new(&format!(
        "[program:raw]\ncommand={cmd}\nautorestart=false\nstartsecs=0\n\
         stdout_logfile={{dir}}/raw.out\n"
    ))
    .write(&sb);
    let daemon = Daemon::start_with(&sb, &conf);
    daemon.wait_state("raw", "EXITED", T);
    let got = std::fs::read(sb.path("raw.out")).unwrap_or_default();
    assert_eq!(got, b"a\r\nb\xff\x00c\n\nd");
}

#[test]
fn a_bad_template_is_a_config_error_naming_the_key() {
    let sb = Sandbox::new("lf-bad");
    let conf =
        Config::new("[program:x]\ncommand=/bin/cat\nstdout_logfile_prefix=%(nope)s\n").write(&sb);
    let mut cmd = std::process::Command::new(sb.mode("supervisord"));
    cmd.arg("-n").arg("-c").arg(&conf).current_dir(&sb.dir);
    let out = crate::util::run(cmd, b"", T);
    assert_ne!(out.code, Some(0));
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(
        said.contains("invalid value for 'stdout_logfile_prefix'") && said.contains("nope"),
        "{said}"
    );
}

/// A python3 program that writes `count` numbered lines to stdout, each in
/// three write()s, and one to stderr every tenth; then a last stdout line
/// without a newline.
fn chatty(sb: &Sandbox, name: &str, count: usize) -> String {
    python(
        sb,
        &format!("{name}.py"),
        &format!(
            "import os\n\
             for i in range({count}):\n\
             \x20   line = ('{name} line %d ' % i + 'x' * (i % 97) + '\\n').encode()\n\
             \x20   third = max(1, len(line) // 3)\n\
             \x20   os.write(1, line[:third])\n\
             \x20   os.write(1, line[third:2 * third])\n\
             \x20   os.write(1, line[2 * third:])\n\
             \x20   if i % 10 == 0:\n\
             \x20       os.write(2, ('{name} err %d\\n' % i).encode())\n\
             os.write(1, b'{name} tail')\n"
        ),
    )
}

fn expected_line(name: &str, i: usize) -> String {
    format!("{name} line {i} {}", "x".repeat(i % 97))
}

/// The bodies of the lines `[name] ` heads in `text`, in order, with a
/// stamp in front checked and cut off when `stamped`.
fn forwarded<'a>(text: &'a str, name: &str, stamped: bool) -> Vec<&'a str> {
    let head = format!("[{name}] ");
    text.lines()
        .filter_map(|line| {
            let rest = if stamped {
                stamp_millis(line)?;
                line.get(23..)?.strip_prefix(' ')?
            } else {
                line
            };
            rest.strip_prefix(head.as_str())
        })
        .collect()
}

#[test]
fn forwarded_lines_of_two_chatty_programs_arrive_whole_and_named() {
    let sb = Sandbox::new("lf-fwd");
    const N: usize = 600;
    let a = chatty(&sb, "alpha", N);
    let b = chatty(&sb, "beta", N);
    let conf = Config::new(&format!(
        "[program:alpha]\ncommand={a}\nautorestart=false\nstartsecs=0\nforward_to_stdout=true\n\
         [program:beta]\ncommand={b}\nautorestart=false\nstartsecs=0\ntimestamps=true\n\
         [program:quiet]\ncommand={a}\nautorestart=false\nstartsecs=0\nforward_to_stdout=false\n"
    ))
    .loglevel(Some("info"))
    .supervisord("forward_all=true")
    .write(&sb);
    let launch = Launch {
        stdout: Some(Stdio::piped()),
        ..Launch::default()
    };
    let mut daemon = Daemon::start_flavor(&sb, Flavor::Ours, &conf, launch);
    let stdout = crate::util::read_in_thread(daemon.child.stdout.take().expect("stdout pipe"));
    for name in ["alpha", "beta", "quiet"] {
        daemon.wait_state(name, "EXITED", T);
    }
    let stderr_path = daemon.stderr.clone();
    assert!(daemon.stop().success());
    let out = stdout.recv_timeout(T).expect("supervisord's stdout");
    let out = String::from_utf8_lossy(&out);
    for (name, stamped) in [("alpha", false), ("beta", true)] {
        let got = forwarded(&out, name, stamped);
        let mut want: Vec<String> = (0..N).map(|i| expected_line(name, i)).collect();
        want.push(format!("{name} tail"));
        assert_eq!(got.len(), want.len(), "{name}: {} lines", got.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{name} line {i}");
        }
        let err = crate::util::read_text(&stderr_path);
        let errs = forwarded(&err, name, stamped);
        let want: Vec<String> = (0..N)
            .step_by(10)
            .map(|i| format!("{name} err {i}"))
            .collect();
        assert_eq!(errs, want, "{name} on stderr");
    }
    assert!(
        forwarded(&out, "quiet", false).is_empty(),
        "quiet opted out"
    );
    // The main log echo shares the stream without cutting into lines.
    assert!(
        out.contains(" INFO success: alpha entered RUNNING state"),
        "{out}"
    );
}

#[test]
fn a_blocked_stdout_never_stalls_the_daemon_and_drops_are_counted() {
    let sb = Sandbox::new("lf-block");
    let stop = sb.path("stop-flood");
    let flood = python(
        &sb,
        "flood.py",
        &format!(
            "import os\n\
             line = b'f' * 99 + b'\\n'\n\
             while not os.path.exists({stop:?}):\n\
             \x20   for _ in range(1000):\n\
             \x20       os.write(1, line)\n\
             os.write(1, b'flood done\\n')\n\
             import time\n\
             time.sleep(3600)\n"
        ),
    );
    let conf = Config::new(&format!(
        "[program:flood]\ncommand={flood}\nstdout_logfile=NONE\nforward_to_stdout=true\n"
    ))
    .loglevel(Some("info"))
    .write(&sb);
    let launch = Launch {
        stdout: Some(Stdio::piped()),
        ..Launch::default()
    };
    let mut daemon = Daemon::start_flavor(&sb, Flavor::Ours, &conf, launch);
    let pipe = daemon.child.stdout.take().expect("stdout pipe");
    wait_for(T, "the WARN about the blocked stdout", || {
        daemon
            .main_log()
            .contains("WARN supervisord's stdout is not taking output")
            .then_some(())
    });
    // Still flooding into a full stdout: every call answers promptly.
    for _ in 0..10 {
        let asked = Instant::now();
        let state = daemon.call("supervisor.getState", &[]);
        assert!(state.is_ok(), "{state:?}");
        assert!(
            asked.elapsed() < Duration::from_secs(3),
            "{:?}",
            asked.elapsed()
        );
    }
    // Timers still fire: startsecs passes while the flood goes on.
    daemon.wait_state("flood", "RUNNING", T);
    std::fs::write(&stop, "").expect("stop the flood");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let seen = Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut pipe = pipe;
            let mut buf = vec![0u8; 1 << 16];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut seen) = seen.lock() {
                    seen.extend_from_slice(&buf[..n]);
                }
            }
        })
    };
    let text = |seen: &Arc<Mutex<Vec<u8>>>| {
        String::from_utf8_lossy(&seen.lock().map(|s| s.clone()).unwrap_or_default()).into_owned()
    };
    // "flood done" may itself have met a full queue; the notice may not.
    let found = crate::util::poll(T, || {
        let t = text(&seen);
        t.contains("[supervisord] dropped ").then_some(())
    });
    let t = text(&seen);
    assert!(
        found.is_some(),
        "no notice in {} bytes; ends {:?}",
        t.len(),
        t.get(t.len().saturating_sub(300)..)
    );
    let notice = t
        .lines()
        .find(|l| l.starts_with("[supervisord] dropped "))
        .unwrap_or_default();
    assert!(notice.ends_with(" lines (stdout blocked)"), "{notice}");
    // Whatever got through is whole lines.
    let want = format!("[flood] {}", "f".repeat(99));
    for line in t.lines().filter(|l| l.starts_with("[flood]")) {
        assert!(line == want || line == "[flood] flood done", "{line:?}");
    }
    wait_for(T, "the drain in the main log", || {
        daemon
            .main_log()
            .contains("lines were dropped")
            .then_some(())
    });
    daemon.kill_on_drop = true;
    drop(daemon);
    let _ = reader.join();
}
