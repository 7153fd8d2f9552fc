//! The edge that watches a STARTING child's `ready=` check and tells the
//! state machine (`Event::Ready`, `NotReady`, `WatchdogExpired`): one task
//! per child with a check, started at spawn and dropped with the child.
//!
//! - `fd:N`: the child gets a pipe's write end as descriptor N; the task
//!   waits for the first newline on the read end.
//! - `notify`: the child gets `NOTIFY_SOCKET` naming a socket of its own;
//!   the task reads sd_notify messages for the child's whole life (READY=1,
//!   STATUS=, STOPPING=1, RELOADING=1, MAINPID=, WATCHDOG=1), taking them
//!   only from the child or its descendants.
//! - `tcp`, `http`, `exec`: the task probes with a growing pause between
//!   attempts and ends at the first success. These pauses, and the watchdog
//!   of a `watchdog_sec=` process, are the only timers: nothing wakes for a
//!   process without a check, and a probe ends once its process is ready.
//!
//! `ready_timeout` is the state machine's own deadline: a check that never
//! passes is ended by it, not here.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::os::fd::OwnedFd;
use std::rc::Weak;
use std::time::{Duration, Instant};

use async_io::Timer;
use smol::future;
use smol::Task;

use super::sdnotify::{self, Field, NotifySocket};
use super::{probe, readyfd, Core, ProcId};
use crate::config::LogLevel;
use crate::process::ready::Readiness;
use crate::process::state::Event;

/// What a watcher tells the core about its child.
enum Report {
    Ready,
    NotReady(String),
    WatchdogExpired,
    /// What sd_notify said besides readiness, for the description.
    Note(String),
    /// A message from a process that is neither the child nor its
    /// descendant (sd_notify's credentials check).
    Stranger(u32),
}

/// A check made ready before the spawn: what the child gets, and what the
/// daemon keeps to watch it.
pub(super) struct Prepared {
    /// The descriptor the child gets, and its number there (`fd:N`).
    pub child_fd: Option<(OwnedFd, i32)>,
    watch: Watch,
}

enum Watch {
    Pipe(OwnedFd, i32),
    Notify(NotifySocket, Option<Duration>),
    Probe(Readiness, Vec<(String, String)>),
}

/// Makes what `readiness` needs before the child exists: the pipe for
/// `fd:N`, the socket for `notify` (its name and the watchdog period go
/// into `env`). Err names what could not be made.
pub(super) fn prepare(
    readiness: &Readiness,
    tag: &str,
    watchdog_sec: Option<u64>,
    env: &mut BTreeMap<OsString, OsString>,
) -> io::Result<Option<Prepared>> {
    let prepared = match readiness {
        Readiness::Startsecs => return Ok(None),
        Readiness::Fd(n) => {
            let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
            Prepared {
                child_fd: Some((write, *n)),
                watch: Watch::Pipe(read, *n),
            }
        }
        Readiness::Notify => {
            let socket = NotifySocket::open(tag)?;
            env.insert("NOTIFY_SOCKET".into(), socket.env_value().into());
            let watchdog = watchdog_sec.filter(|s| *s > 0).map(Duration::from_secs);
            if let Some(period) = watchdog {
                env.insert(
                    "WATCHDOG_USEC".into(),
                    period.as_micros().to_string().into(),
                );
            }
            Prepared {
                child_fd: None,
                watch: Watch::Notify(socket, watchdog),
            }
        }
        Readiness::Tcp { .. } | Readiness::Http { .. } | Readiness::Exec(_) => {
            let env = env
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect();
            Prepared {
                child_fd: None,
                watch: Watch::Probe(readiness.clone(), env),
            }
        }
    };
    Ok(Some(prepared))
}

/// Starts watching child `pid` of process `id`; the task ends when it has
/// nothing more to say, or when the returned handle is dropped (the child
/// was reaped).
pub(super) fn watch(
    core: &Core,
    id: ProcId,
    generation: u64,
    pid: u32,
    prepared: Prepared,
) -> Task<()> {
    let to = Reporter {
        core: core.me.clone(),
        id,
        generation,
    };
    match prepared.watch {
        Watch::Pipe(read, n) => core.executor.spawn(async move {
            match readyfd::wait_newline(read).await {
                Ok(()) => to.send(Report::Ready),
                Err(why) => to.send(Report::NotReady(format!("fd {n} {why}"))),
            }
        }),
        Watch::Probe(check, env) => core.executor.spawn(async move {
            probe_until_ready(&check, &env).await;
            to.send(Report::Ready);
        }),
        Watch::Notify(socket, watchdog) => core
            .executor
            .spawn(async move { follow_notify(socket, watchdog, pid, to).await }),
    }
}

/// Where a watcher's reports go: the core, for this child only.
struct Reporter {
    core: Weak<std::cell::RefCell<Core>>,
    id: ProcId,
    generation: u64,
}

impl Reporter {
    fn send(&self, report: Report) {
        let Some(core) = self.core.upgrade() else {
            return;
        };
        let Ok(mut core) = core.try_borrow_mut() else {
            return;
        };
        core.readiness_report(self.id, self.generation, report);
    }
}

/// Tries the check until it passes.
async fn probe_until_ready(check: &Readiness, env: &[(String, String)]) {
    let mut attempt = 0;
    loop {
        let passed = match check {
            Readiness::Tcp { host, port } => probe::tcp(host, *port).await,
            Readiness::Http {
                host, port, path, ..
            } => probe::http(host, *port, path).await,
            Readiness::Exec(command) => probe::exec(command, env).await,
            // Not probing forms; `prepare` never hands them here.
            Readiness::Startsecs | Readiness::Fd(_) | Readiness::Notify => return,
        };
        if passed.is_ok() {
            return;
        }
        Timer::after(probe::next_interval(attempt)).await;
        attempt = attempt.saturating_add(1);
    }
}

/// What sd_notify said besides READY=1, as the description shows it.
#[derive(Default)]
struct Said {
    phase: Option<&'static str>,
    status: Option<String>,
    main_pid: Option<u32>,
}

impl Said {
    fn text(&self, pid: u32) -> String {
        let main_pid = self
            .main_pid
            .filter(|p| *p != pid)
            .map(|p| format!("main pid {p}"));
        [
            self.phase.map(str::to_string),
            main_pid,
            self.status.clone(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Reads the child's sd_notify messages for as long as it lives.
async fn follow_notify(socket: NotifySocket, watchdog: Option<Duration>, pid: u32, to: Reporter) {
    let mut said = Said::default();
    // Armed at READY=1 and moved on by each WATCHDOG=1, as systemd does.
    let mut watchdog_due: Option<Instant> = None;
    loop {
        let received = match watchdog_due {
            Some(due) => {
                future::or(async { Some(socket.recv().await) }, async {
                    Timer::at(due).await;
                    None
                })
                .await
            }
            None => Some(socket.recv().await),
        };
        let datagram = match received {
            None => {
                watchdog_due = None;
                to.send(Report::WatchdogExpired);
                continue;
            }
            // The socket is ours alone; an error on it ends the watch
            // (ready_timeout still ends a start that waits for it).
            Some(Err(_)) => return,
            Some(Ok(datagram)) => datagram,
        };
        let sender = datagram.sender_pid.unwrap_or(0);
        if sender == 0 || !sdnotify::is_same_or_descendant(sender, pid) {
            to.send(Report::Stranger(sender));
            continue;
        }
        let mut ready = false;
        for field in datagram.fields {
            match field {
                Field::Ready => {
                    ready = true;
                    said.phase = None;
                    watchdog_due = watchdog.and_then(|w| Instant::now().checked_add(w));
                }
                Field::Watchdog => {
                    if watchdog_due.is_some() {
                        watchdog_due = watchdog.and_then(|w| Instant::now().checked_add(w));
                    }
                }
                Field::WatchdogTrigger => to.send(Report::WatchdogExpired),
                Field::Status(text) => said.status = Some(text),
                Field::Stopping => said.phase = Some("stopping"),
                Field::Reloading => said.phase = Some("reloading"),
                Field::MainPid(main) => {
                    if sdnotify::is_same_or_descendant(main, pid) {
                        said.main_pid = Some(main);
                    }
                }
                Field::Errno(_) => {}
            }
        }
        to.send(Report::Note(said.text(pid)));
        if ready {
            to.send(Report::Ready);
        }
    }
}

impl Core {
    /// A watcher's news about child `generation` of `id`.
    fn readiness_report(&mut self, id: ProcId, generation: u64, report: Report) {
        let Some(slot) = self.procs.get_mut(&id) else {
            return;
        };
        if slot.generation != generation {
            return;
        }
        match report {
            Report::Ready => self.apply(id, Event::Ready),
            Report::NotReady(why) => self.apply(id, Event::NotReady { why }),
            Report::WatchdogExpired => self.apply(id, Event::WatchdogExpired),
            Report::Note(note) => {
                if slot.ready_note != note {
                    slot.ready_note = note;
                    self.changed = true;
                }
            }
            Report::Stranger(sender) => {
                let name = slot.config.name.clone();
                self.log.log(
                    LogLevel::Debug,
                    &format!(
                        "{name}: ignored a notify message from pid {sender}, \
                         which is neither {name} nor one of its descendants"
                    ),
                );
            }
        }
        self.settle();
    }
}
