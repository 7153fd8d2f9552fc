//! The one place that sends a signal to a child or its process group, kept
//! apart from the signal names so the pure state machine can name signals
//! without being able to send one. Refuses pid 0 and our own pid or group:
//! a stray 0 must never turn into "signal my own group".

use std::io;

use rustix::process::{Pid, Signal};

use super::signals::{SIGRTMAX, SIGRTMIN};

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
