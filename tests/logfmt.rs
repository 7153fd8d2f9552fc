//! Readable logs end to end: `timestamps=`, `*_logfile_prefix=` templates on
//! captured lines (split lines, partial last lines, the template keys, and
//! byte-exact capture when neither is set), and `forward_to_stdout=` /
//! `forward_all=` copying whole lines to supervisord's own stdout and
//! stderr, with a stdout nobody reads never stalling the daemon.

use std::time::Duration;

use crate::util::{Config, Daemon, Sandbox};

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
