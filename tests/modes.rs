//! The modes' command lines and the startup lines of the main log, against
//! Python Supervisor 4.3: `-?` as help, supervisord's usage errors, the
//! echo_supervisord_conf mode, the `Included extra file` lines (at start and
//! after a HUP) and the SIGCHLD debug line.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::util::{
    binary, free_port, python_bin, run, run_mode, wait_for, Config, Daemon, Flavor, Launch, Output,
    Sandbox, START_DEADLINE,
};

const RUN_DEADLINE: Duration = Duration::from_secs(30);

/// The sample configuration as the binary was built with it.
const SAMPLE: &str = include_str!("../supervisor.conf.example");

fn run_program(program: &Path, args: &[&str], cwd: &Path) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(cwd);
    run(cmd, b"", RUN_DEADLINE)
}

/// `supervisor MODE ARGS...`: the mode named by the first argument.
fn run_subcommand(sb: &Sandbox, mode: &str, args: &[&str]) -> Output {
    let mut all = vec![mode];
    all.extend_from_slice(args);
    run_program(&binary(), &all, &sb.dir)
}

/// An output with the program's name masked where 4.3 shows its argv[0].
fn masked(out: &Output, program: &Path) -> Output {
    let name = program.display().to_string();
    let mask = |text: &str| {
        text.replace(&format!("Usage: {name} "), "Usage: <PROG> ")
            .replace(&format!("use {name} -h"), "use <PROG> -h")
    };
    Output {
        stdout: mask(&out.stdout),
        stderr: mask(&out.stderr),
        code: out.code,
    }
}

/// 4.3's help lists `--profile_options`, which runs supervisord under
/// Python's profiler; ours has no such option, so its four lines go.
fn without_profile_options(out: Output) -> Output {
    let mut stdout = String::new();
    let mut skipping = false;
    for line in out.stdout.split_inclusive('\n') {
        if line.starts_with("--profile_options ") {
            skipping = true;
        } else if skipping && line.starts_with("                             ") {
            continue;
        } else {
            skipping = false;
        }
        if !skipping {
            stdout.push_str(line);
        }
    }
    Output { stdout, ..out }
}

#[test]
fn question_mark_is_help_in_both_modes() {
    let sb = Sandbox::new("qmark");
    for mode in ["supervisord", "supervisorctl"] {
        let help = run_mode(&sb, mode, &["-h"]);
        assert_eq!(help.code, Some(0), "{mode} -h: {help:?}");
        assert!(help.stdout.starts_with(mode), "{mode} -h: {help:?}");
        assert_eq!(help.stderr, "", "{mode} -h");
        assert_eq!(run_mode(&sb, mode, &["-?"]), help, "{mode} -? (symlink)");
        let sub_help = run_subcommand(&sb, mode, &["-h"]);
        assert_eq!(sub_help.code, Some(0), "supervisor {mode} -h: {sub_help:?}");
        assert_eq!(
            run_subcommand(&sb, mode, &["-?"]),
            sub_help,
            "supervisor {mode} -?"
        );
    }
}

#[test]
fn supervisord_command_line_is_4_3s() {
    let sb = Sandbox::new("sd-opts");
    let ours = sb.mode("supervisord");
    let python = python_bin().join("supervisord");
    let conf = Config::new("").write(&sb);
    let conf = conf.to_str().unwrap_or_default();
    let cases: &[&[&str]] = &[
        &["-?"],
        &["-h"],
        &["--help"],
        &["--he"],
        &["-n?"],
        &["-?n"],
        &["-c", conf, "-?"],
        &["-?", "-x"],
        &["-h", "-x"],
        &["-?x"],
        &["-?", "-v"],
        &["-v", "-?"],
        &["-v"],
        &["--version"],
        &["-x"],
        &["--help=1"],
        &["-c"],
        &["--conf"],
        &["--mi", "3"],
        &["--s"],
        &["foo"],
        &["foo", "-?"],
        &["-h", "foo"],
        &["-n", "-n"],
        &["-n", "--nodaemon", "-h"],
        &["-c", "a", "--configuration", "b"],
        &["-e", "foo", "-h"],
        &["-q", "/nonexistent/dir"],
        &["-c", "/nonexistent/supervisord.conf"],
        &[
            "-u",
            "nosuchuser-here",
            "-c",
            "/nonexistent/supervisord.conf",
        ],
        &["-u", "nosuchuser-here", "-c", conf],
    ];
    for args in cases {
        let expected =
            without_profile_options(masked(&run_program(&python, args, &sb.dir), &python));
        assert!(
            matches!(expected.code, Some(0 | 2))
                && !(expected.stdout.is_empty() && expected.stderr.is_empty()),
            "4.3's supervisord {args:?}: {expected:?}"
        );
        let got = masked(&run_program(&ours, args, &sb.dir), &ours);
        assert_eq!(got, expected, "supervisord {args:?}");
    }
}

#[test]
fn echo_supervisord_conf_prints_the_compiled_sample() {
    let sb = Sandbox::new("echo");
    assert!(SAMPLE.starts_with("; Sample supervisor config file.\n"));
    for out in [
        run_mode(&sb, "echo_supervisord_conf", &[]),
        run_subcommand(&sb, "echo_supervisord_conf", &[]),
    ] {
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert_eq!(out.stderr, "");
        assert_eq!(
            out.stdout.lines().next(),
            Some("; Sample supervisor config file.")
        );
        assert_eq!(out.stdout, SAMPLE);
    }
    // 4.3's first line too, for scripts that look for it.
    let python = run_program(&python_bin().join("echo_supervisord_conf"), &[], &sb.dir);
    assert_eq!(python.stdout.lines().next(), SAMPLE.lines().next());

    for flag in ["-h", "--help"] {
        let out = run_mode(&sb, "echo_supervisord_conf", &[flag]);
        assert_eq!(out.code, Some(0), "{flag}");
        assert!(
            out.stdout.starts_with("echo_supervisord_conf -- "),
            "{out:?}"
        );
    }
    for flag in ["-v", "--version"] {
        let out = run_subcommand(&sb, "echo_supervisord_conf", &[flag]);
        assert_eq!(out.code, Some(0), "{flag}");
        assert_eq!(out.stdout, format!("{}\n", env!("CARGO_PKG_VERSION")));
    }
    let list = run_program(&binary(), &["--help"], &sb.dir);
    assert!(
        list.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("echo_supervisord_conf ")),
        "{}",
        list.stdout
    );
}

#[test]
fn the_sample_configuration_runs() {
    // The sample as printed, with its /tmp paths and port moved into the
    // sandbox, so this test owns its socket.
    let sb = Sandbox::new("sample");
    let printed = run_mode(&sb, "echo_supervisord_conf", &[]).stdout;
    let dir = sb.dir.display().to_string();
    let text = printed
        .replace("/tmp/supervisor", &format!("{dir}/supervisor"))
        .replace("childlogdir=/tmp", &format!("childlogdir={dir}"))
        .replace("127.0.0.1:9001", &format!("127.0.0.1:{}", free_port()));
    let conf = sb.write("sample.conf", &text);
    // Python 4.3 reads it as well.
    let check = "import sys\n\
                 from supervisor.options import ServerOptions\n\
                 o = ServerOptions()\n\
                 o.realize(['-c', sys.argv[1]])\n\
                 print(' '.join(sorted(g.name for g in o.process_group_configs)))\n";
    let py = run_program(
        &python_bin().join("python"),
        &["-c", check, conf.to_str().unwrap_or_default()],
        &sb.dir,
    );
    assert_eq!(
        (py.code, py.stdout.as_str()),
        (Some(0), "clock demo\n"),
        "{}",
        py.stderr
    );
    let d = Daemon::start_flavor(&sb, Flavor::Ours, &conf, Launch::default());
    for name in ["clock", "demo:worker_00", "demo:worker_01"] {
        d.wait_state(name, "RUNNING", START_DEADLINE);
    }
}

/// A daemon of `flavor` whose config includes two files (each a program
/// that ends at once) and names a glob that matches nothing.
fn start_including(flavor: Flavor, tag: &str) -> (Sandbox, Daemon) {
    let sb = Sandbox::new(tag);
    for name in ["b", "a"] {
        sb.write(
            &format!("conf.d/{name}.conf"),
            &format!(
                "[program:{name}]\ncommand=sh -c 'sleep 0.2'\nstartsecs=0\nautorestart=false\n\
                 stdout_logfile=NONE\n"
            ),
        );
    }
    sb.write("conf.d/notes.txt", "not included\n");
    let conf = Config::new("\n[include]\nfiles=conf.d/*.conf nomatch/*.ini\n").write(&sb);
    let daemon = Daemon::start_flavor(&sb, flavor, &conf, Launch::default());
    (sb, daemon)
}

/// The messages of the main log (stamps cut, the sandbox masked).
fn messages(daemon: &Daemon, dir: &Path) -> Vec<String> {
    let dir = dir.display().to_string();
    daemon
        .main_log()
        .lines()
        .map(|line| {
            let stamped = line.as_bytes().get(4) == Some(&b'-') && line.len() > 24;
            let message = if stamped { line.get(24..) } else { None };
            message.unwrap_or(line).replace(&dir, "<DIR>")
        })
        .collect()
}

/// Waits until `daemon`'s main log has `count` lines containing `needle`.
fn wait_log(daemon: &Daemon, needle: &str, count: usize) {
    wait_for(
        START_DEADLINE,
        &format!("{count} × {needle:?} in {:?}'s main log", daemon.flavor),
        || (daemon.main_log().matches(needle).count() >= count).then_some(()),
    );
}

/// The lines about the configuration's files and the uid, in order.
fn parse_lines(all: &[String]) -> Vec<String> {
    all.iter()
        .filter(|m| m.contains("nclude") || m.contains("running as root") || m.contains("Set uid"))
        .cloned()
        .collect()
}

#[test]
fn included_files_and_sigchld_are_logged_like_4_3() {
    let started = "supervisord started with pid";
    let sigchld = "DEBG received SIGCHLD indicating a child quit";
    let mut runs: Vec<(Flavor, Vec<String>)> = Vec::new();
    for flavor in [Flavor::Python, Flavor::Ours] {
        let (sb, daemon) = start_including(flavor, "incl");
        wait_log(&daemon, started, 1);
        for name in ["a", "b"] {
            daemon.wait_state(name, "EXITED", START_DEADLINE);
        }
        wait_log(&daemon, sigchld, 1);
        daemon.signal("HUP");
        wait_log(&daemon, started, 2);
        let log = messages(&daemon, &sb.dir);
        assert!(
            log.iter().any(|m| m == sigchld),
            "{flavor:?}: no SIGCHLD line in\n{}",
            log.join("\n")
        );
        runs.push((flavor, log));
        drop(daemon);
    }
    let [(_, python), (_, ours)] = &runs[..] else {
        unreachable!()
    };
    let expected = parse_lines(python);
    let included: Vec<&String> = expected
        .iter()
        .filter(|m| m.starts_with("INFO Included extra file"))
        .collect();
    assert_eq!(
        included,
        [
            "INFO Included extra file \"<DIR>/conf.d/a.conf\" during parsing",
            "INFO Included extra file \"<DIR>/conf.d/b.conf\" during parsing",
            "INFO Included extra file \"<DIR>/conf.d/a.conf\" during parsing",
            "INFO Included extra file \"<DIR>/conf.d/b.conf\" during parsing",
        ],
        "4.3 logged:\n{}",
        python.join("\n")
    );
    assert_eq!(parse_lines(ours), expected, "ours:\n{}", ours.join("\n"));
    // The opening lines, up to the pid line, are the same in full.
    let opening = |log: &[String]| -> Vec<String> {
        log.iter()
            .take_while(|m| !m.contains(started))
            .cloned()
            .collect()
    };
    assert_eq!(opening(ours), opening(python));
}

#[test]
fn sigchld_is_not_logged_above_debug() {
    let sb = Sandbox::new("chld-info");
    let conf =
        Config::new("[program:quick]\ncommand=sh -c 'sleep 0.2'\nstartsecs=0\nautorestart=false\n")
            .loglevel(Some("info"))
            .write(&sb);
    let d = Daemon::start_flavor(&sb, Flavor::Ours, &conf, Launch::default());
    d.wait_state("quick", "EXITED", START_DEADLINE);
    wait_for(START_DEADLINE, "the exit to be logged", || {
        d.main_log().contains("exited: quick").then_some(())
    });
    assert!(!d.main_log().contains("SIGCHLD"), "{}", d.main_log());
}
