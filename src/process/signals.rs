//! Signal names and numbers, both ways, as Supervisor spells them (`TERM`,
//! `SIGTERM` or `15` in, `SIGTERM` out), and the one place that sends a
//! signal to a child or its process group. The tables follow what Python's
//! `signal` module exposes on Linux, because 4.3 parses and prints through it.

use std::io;

use rustix::process::{Pid, Signal};

/// Every name 4.3 resolves through `getattr(signal, 'SIG' + name)` on Linux,
/// with its number. Aliases (IOT, CLD, POLL/IO) parse but never print.
/// The `SIG_*` entries are the signal module's handler and mask constants:
/// 4.3 accepts them too (`stopsignal=SIG_IGN` means 1), so we do.
const NAMES_IN: &[(&str, i32)] = &[
    ("SIGHUP", 1),
    ("SIGINT", 2),
    ("SIGQUIT", 3),
    ("SIGILL", 4),
    ("SIGTRAP", 5),
    ("SIGABRT", 6),
    ("SIGIOT", 6),
    ("SIGBUS", 7),
    ("SIGFPE", 8),
    ("SIGKILL", 9),
    ("SIGUSR1", 10),
    ("SIGSEGV", 11),
    ("SIGUSR2", 12),
    ("SIGPIPE", 13),
    ("SIGALRM", 14),
    ("SIGTERM", 15),
    ("SIGSTKFLT", 16),
    ("SIGCHLD", 17),
    ("SIGCLD", 17),
    ("SIGCONT", 18),
    ("SIGSTOP", 19),
    ("SIGTSTP", 20),
    ("SIGTTIN", 21),
    ("SIGTTOU", 22),
    ("SIGURG", 23),
    ("SIGXCPU", 24),
    ("SIGXFSZ", 25),
    ("SIGVTALRM", 26),
    ("SIGPROF", 27),
    ("SIGWINCH", 28),
    ("SIGIO", 29),
    ("SIGPOLL", 29),
    ("SIGPWR", 30),
    ("SIGSYS", 31),
    ("SIGRTMIN", SIGRTMIN),
    ("SIGRTMAX", SIGRTMAX),
    ("SIG_DFL", 0),
    ("SIG_IGN", 1),
    ("SIG_BLOCK", 0),
    ("SIG_UNBLOCK", 1),
    ("SIG_SETMASK", 2),
];

/// glibc's first real-time signal: the kernel's 32 and 33 are kept by the
/// thread library, and Python (hence 4.3) reports glibc's values.
const SIGRTMIN: i32 = 34;
const SIGRTMAX: i32 = 64;

/// Parses a signal as a config value or an RPC argument: a name with or
/// without `SIG`, any case, or a number.
///
/// Accepts exactly what 4.3's `datatypes.signal_number` accepts on Linux:
/// numbers 0-31, 34 and 64 (the values its signal module names; 35-63 are
/// refused) and the names in the signal module.
pub fn number(text: &str) -> Option<i32> {
    let num = match parse_python_int(text) {
        Some(num) => num,
        None => number_of_name(text)?,
    };
    is_known_number(num).then_some(num)
}

/// `SIGTERM` for 15; `signal 99` for an unknown number (as 4.3's signame).
pub fn name(signal: i32) -> String {
    match printed_name(signal) {
        Some(name) => name.to_string(),
        None => format!("signal {signal}"),
    }
}

/// Sends `signal` to `pid`, or to the process group `pid` leads when `group`.
///
/// Signal 0 only checks that the target exists, as kill(2) does. A pid of 0,
/// one that does not fit a pid, or our own pid or group is refused with
/// EINVAL: a stray 0 must never turn into "signal my own group".
pub fn send(pid: u32, signal: i32, group: bool) -> io::Result<()> {
    let pid = target_pid(pid, group)?;
    if signal == 0 {
        return if group {
            rustix::process::test_kill_process_group(pid)
        } else {
            rustix::process::test_kill_process(pid)
        }
        .map_err(io::Error::from);
    }
    let signal = sendable_signal(signal)?;
    if group {
        rustix::process::kill_process_group(pid, signal)
    } else {
        rustix::process::kill_process(pid, signal)
    }
    .map_err(io::Error::from)
}

/// The name 4.3's signame prints: Python's signal dict keeps the last alias
/// it meets, which is SIGABRT, SIGCHLD and SIGPOLL on Linux.
fn printed_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        16 => "SIGSTKFLT",
        17 => "SIGCHLD",
        18 => "SIGCONT",
        19 => "SIGSTOP",
        20 => "SIGTSTP",
        21 => "SIGTTIN",
        22 => "SIGTTOU",
        23 => "SIGURG",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        26 => "SIGVTALRM",
        27 => "SIGPROF",
        28 => "SIGWINCH",
        29 => "SIGPOLL",
        30 => "SIGPWR",
        31 => "SIGSYS",
        SIGRTMIN => "SIGRTMIN",
        SIGRTMAX => "SIGRTMAX",
        _ => return None,
    })
}

/// The numbers 4.3 accepts: those its signal module has a constant for.
fn is_known_number(num: i32) -> bool {
    (0..=31).contains(&num) || num == SIGRTMIN || num == SIGRTMAX
}

fn number_of_name(text: &str) -> Option<i32> {
    let upper = text.trim().to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    NAMES_IN
        .iter()
        .find(|(name, _)| *name == full)
        .map(|(_, num)| *num)
}

/// Python's `int(text)` for what can matter here: surrounding whitespace, an
/// optional sign, ASCII digits with single underscores between them.
fn parse_python_int(text: &str) -> Option<i32> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'+' => (false, text.get(1..)?),
        b'-' => (true, text.get(1..)?),
        _ => (false, text),
    };
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !well_formed {
        return None;
    }
    let plain: String = digits.chars().filter(|c| *c != '_').collect();
    // Too large for i32 is not a signal either way; saturate so it is refused.
    let magnitude = plain.parse::<i64>().unwrap_or(i64::MAX);
    let value = if negative { -magnitude } else { magnitude };
    Some(i32::try_from(value).unwrap_or(i32::MIN))
}

fn target_pid(pid: u32, group: bool) -> io::Result<Pid> {
    let invalid = || io::Error::from_raw_os_error(rustix::io::Errno::INVAL.raw_os_error());
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(invalid)?;
    let ours = if group {
        rustix::process::getpgrp()
    } else {
        rustix::process::getpid()
    };
    if pid == ours {
        return Err(invalid());
    }
    Ok(pid)
}

/// The named signals through rustix's checked constructor; real-time ones
/// (which it leaves to libc wrappers) by number.
fn sendable_signal(signal: i32) -> io::Result<Signal> {
    if let Some(named) = Signal::from_named_raw(signal) {
        return Ok(named);
    }
    if (SIGRTMIN..=SIGRTMAX).contains(&signal) {
        // SAFETY: `signal` is a valid, non-zero Linux signal number. rustix
        // asks that numbers libc reserves are not used to send, block or
        // handle signals in *this* process; 34..=64 are past glibc's
        // reserved 32 and 33, and `target_pid` has refused our own pid and
        // group, so the signal only ever reaches another process.
        return Ok(unsafe { Signal::from_raw_unchecked(signal) });
    }
    Err(io::Error::from_raw_os_error(
        rustix::io::Errno::INVAL.raw_os_error(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_with_or_without_sig_in_any_case() {
        assert_eq!(number("TERM"), Some(15));
        assert_eq!(number("term"), Some(15));
        assert_eq!(number("SIGterm"), Some(15));
        assert_eq!(number("sigkill"), Some(9));
        assert_eq!(number(" hup "), Some(1));
        assert_eq!(number("USR2"), Some(12));
        assert_eq!(number("rtmin"), Some(34));
        assert_eq!(number("SIGRTMAX"), Some(64));
    }

    #[test]
    fn aliases_parse() {
        assert_eq!(number("iot"), Some(6));
        assert_eq!(number("cld"), Some(17));
        assert_eq!(number("poll"), Some(29));
        assert_eq!(number("IO"), Some(29));
    }

    #[test]
    fn signal_module_constants_parse_as_in_4_3() {
        assert_eq!(number("SIG_DFL"), Some(0));
        assert_eq!(number("sig_ign"), Some(1));
        assert_eq!(number("_DFL"), Some(0));
        assert_eq!(number("SIG_SETMASK"), Some(2));
    }

    #[test]
    fn numbers_parse_like_python_int() {
        assert_eq!(number("15"), Some(15));
        assert_eq!(number(" 15 "), Some(15));
        assert_eq!(number("+15"), Some(15));
        assert_eq!(number("1_5"), Some(15));
        assert_eq!(number("0"), Some(0));
        assert_eq!(number("31"), Some(31));
        assert_eq!(number("34"), Some(34));
        assert_eq!(number("64"), Some(64));
    }

    #[test]
    fn numbers_without_a_name_in_4_3_are_refused() {
        for text in [
            "32",
            "33",
            "35",
            "63",
            "65",
            "-1",
            "-15",
            "99999999999999999999",
        ] {
            assert_eq!(number(text), None, "{text}");
        }
    }

    #[test]
    fn garbage_is_refused() {
        for text in [
            "",
            " ",
            "+",
            "-",
            "15.0",
            "1__5",
            "_15",
            "15_",
            "DFL",
            "SIGSIGTERM",
            "TERM X",
            "SIG",
            "ＴＥＲＭ",
        ] {
            assert_eq!(number(text), None, "{text:?}");
        }
    }

    #[test]
    fn names_print_as_4_3_signame() {
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(9), "SIGKILL");
        assert_eq!(name(6), "SIGABRT");
        assert_eq!(name(17), "SIGCHLD");
        assert_eq!(name(29), "SIGPOLL");
        assert_eq!(name(34), "SIGRTMIN");
        assert_eq!(name(64), "SIGRTMAX");
    }

    #[test]
    fn unknown_numbers_print_as_signal_n() {
        assert_eq!(name(0), "signal 0");
        assert_eq!(name(32), "signal 32");
        assert_eq!(name(40), "signal 40");
        assert_eq!(name(99), "signal 99");
        assert_eq!(name(-3), "signal -3");
    }

    #[test]
    fn every_known_number_round_trips() {
        for num in (1..=31).chain([34, 64]) {
            assert_eq!(number(&name(num)), Some(num));
        }
    }

    #[test]
    fn send_refuses_pid_zero_and_out_of_range_pids() {
        for group in [false, true] {
            for pid in [0, u32::MAX, 1 << 31] {
                let err = send(pid, 0, group).expect_err("must refuse");
                assert_eq!(err.raw_os_error(), Some(22), "{pid} {group}");
            }
        }
    }

    #[test]
    fn send_refuses_our_own_pid_and_group() {
        let me = rustix::process::getpid().as_raw_nonzero().get() as u32;
        assert!(send(me, 0, false).is_err());
        let group = rustix::process::getpgrp().as_raw_nonzero().get() as u32;
        assert!(send(group, 0, true).is_err());
    }

    #[test]
    fn send_refuses_numbers_that_are_not_signals() {
        let child = std::process::Command::new("sleep").arg("30").spawn();
        let Ok(mut child) = child else { return };
        for signal in [-1, 32, 33, 65, 1000] {
            let err = send(child.id(), signal, false).expect_err("must refuse");
            assert_eq!(err.raw_os_error(), Some(22), "{signal}");
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn send_reaches_a_child_by_name_and_real_time_number() {
        use std::os::unix::process::ExitStatusExt;
        for signal in [15, 34, 64] {
            let mut child = std::process::Command::new("sleep")
                .arg("30")
                .spawn()
                .expect("sleep runs");
            send(child.id(), 0, false).expect("probe");
            send(child.id(), signal, false).expect("send");
            let status = child.wait().expect("wait");
            assert_eq!(status.signal(), Some(signal));
        }
    }

    #[test]
    fn send_reaches_a_process_group() {
        use std::os::unix::process::{CommandExt, ExitStatusExt};
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .expect("sleep runs");
        send(child.id(), 10, true).expect("send to group");
        let status = child.wait().expect("wait");
        assert_eq!(status.signal(), Some(10));
    }

    #[test]
    fn send_to_a_gone_process_is_esrch() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("true runs");
        let pid = child.id();
        child.wait().expect("wait");
        let err = send(pid, 15, false).expect_err("gone");
        assert_eq!(err.raw_os_error(), Some(3));
    }
}
