//! The daemon's signals, turned into requests to the core: TERM/INT/QUIT
//! shut down (a second one while stopping SIGKILLs what is left, so an
//! impatient operator or a container runtime need not wait out every
//! stopwaitsecs), HUP restarts, USR2 reopens logs. CHLD is logged at DEBUG, as
//! 4.3 logs it (our children are reaped through their pidfds, never here);
//! as PID 1 (a container's init) it also reaps orphans that were
//! re-parented to us. async-signal coalesces deliveries, so a signal means
//! "look", not "count". CHLD only comes when a child exits or stops, so an
//! idle daemon still never wakes.

use smol::stream::StreamExt;

use async_signal::{Signal, Signals};

use crate::config::LogLevel;
use crate::core::{Handle, Mood};

/// Takes over the daemon's signals.
pub fn install() -> Result<Signals, String> {
    let wanted = [
        Signal::Term,
        Signal::Int,
        Signal::Quit,
        Signal::Hup,
        Signal::Usr2,
        Signal::Usr1,
        Signal::Child,
    ];
    Signals::new(wanted).map_err(|e| format!("could not install signal handlers: {e}"))
}

fn name(signal: Signal) -> &'static str {
    match signal {
        Signal::Term => "SIGTERM",
        Signal::Int => "SIGINT",
        Signal::Quit => "SIGQUIT",
        Signal::Hup => "SIGHUP",
        Signal::Usr1 => "SIGUSR1",
        Signal::Usr2 => "SIGUSR2",
        Signal::Child => "SIGCHLD",
        _ => "signal",
    }
}

pub async fn signal_task(core: Handle, mut signals: Signals) {
    // An exit request came by signal already (TERM, INT or QUIT).
    let mut asked_to_exit = false;
    while let Some(received) = signals.next().await {
        let Ok(signal) = received else { continue };
        match signal {
            Signal::Term | Signal::Int | Signal::Quit => {
                if asked_to_exit && core.mood() == Mood::Shutdown {
                    core.log(
                        LogLevel::Warn,
                        &format!(
                            "received {} again while stopping: killing what is left",
                            name(signal)
                        ),
                    );
                    core.kill_remaining();
                } else {
                    core.log(
                        LogLevel::Warn,
                        &format!("received {} indicating exit request", name(signal)),
                    );
                    core.shutdown();
                }
                asked_to_exit = true;
            }
            Signal::Hup => {
                if core.mood() == Mood::Shutdown {
                    core.log(
                        LogLevel::Warn,
                        &format!(
                            "ignored {} indicating restart request (shutdown in progress)",
                            name(signal)
                        ),
                    );
                } else {
                    core.log(
                        LogLevel::Warn,
                        &format!("received {} indicating restart request", name(signal)),
                    );
                    // An invalid configuration is logged by the core and
                    // leaves every child as it is.
                    let _ = core.restart();
                }
            }
            Signal::Usr2 => {
                core.log(
                    LogLevel::Info,
                    &format!("received {} indicating log reopen request", name(signal)),
                );
                core.reopen_logs();
            }
            Signal::Child => {
                core.log(
                    LogLevel::Debug,
                    &format!("received {} indicating a child quit", name(signal)),
                );
                if std::process::id() == 1 {
                    reap_orphans(&core, &core.child_pids());
                }
            }
            other => core.log(
                LogLevel::Blather,
                &format!("received {} indicating nothing", name(other)),
            ),
        }
    }
}

/// Our direct children as the kernel lists them (every thread's list).
fn children() -> Vec<u32> {
    let mut pids = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return pids;
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            pids.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    pids
}

/// Reaps exited children that are not ours: orphans re-parented to PID 1.
/// Our own children (programs, and anything else `process::spawn` started,
/// such as `ready=exec` probes) are left to their own waits, so no status
/// is stolen.
fn reap_orphans(core: &Handle, ours: &[u32]) {
    use rustix::process::{waitpid, Pid, WaitOptions};
    for pid in children() {
        if ours.contains(&pid) || crate::process::spawn::is_unreaped_child(pid) {
            continue;
        }
        let Some(raw) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
            continue;
        };
        if let Ok(Some((_, status))) = waitpid(Some(raw), WaitOptions::NOHANG) {
            let how = match (status.exit_status(), status.terminating_signal()) {
                (Some(code), _) => format!("exit status {code}"),
                (None, Some(sig)) => {
                    format!("terminated by {}", crate::process::signals::name(sig))
                }
                _ => "unknown termination cause".to_string(),
            };
            core.log(LogLevel::Info, &format!("reaped unknown pid {pid} ({how})"));
        }
    }
}
