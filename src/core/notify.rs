//! The event system inside the core: events are made where 4.3 makes them
//! (state changes, output, group changes, ticks, the RPC), accepted by the
//! pools that subscribe to them, and handed to listeners that are READY,
//! one at a time, as 4.3's EventListenerPool does; a listener's stdout is
//! read with the protocol in `listener`. Nothing here runs unless a pool
//! exists; the tick task sleeps without a timer unless a pool wants ticks.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant, SystemTime};

use smol::channel::Receiver;

use super::events::{self, Event, EventKind, StateChange, TICK_PERIODS};
use super::listener::{ListenerState, Reaction};
use super::{unix_secs, Core, ProcId, Stream};
use crate::config::{LogLevel, PoolConfig};
use crate::process::state::State;

/// One pool's buffer (4.3's EventListenerPool.event_buffer).
pub(super) struct Pool {
    subscriptions: Vec<String>,
    buffer_size: usize,
    buffer: VecDeque<(Rc<Event>, u64)>,
    /// The last pool serial given out.
    serial: Option<u64>,
}

impl Pool {
    pub(super) fn new(config: &PoolConfig) -> Pool {
        Pool {
            subscriptions: config.events.clone(),
            buffer_size: config.buffer_size.max(1),
            buffer: VecDeque::new(),
            serial: None,
        }
    }

    fn wants(&self, kind: EventKind) -> bool {
        self.subscriptions.iter().any(|s| kind.is_a(s))
    }
}

/// 4.3's `new_serial`: -1, then 0, 1, ...
fn next_serial(last: &mut Option<u64>) -> u64 {
    let next = last.map_or(0, |s| s.wrapping_add(1));
    *last = Some(next);
    next
}

/// The last tick seen for each period, and which periods were wanted.
pub(super) struct Ticks {
    last: [u64; 3],
    wanted: [bool; 3],
}

impl Ticks {
    pub(super) fn new(now: i64) -> Ticks {
        let now = u64::try_from(now).unwrap_or(0);
        Ticks {
            last: TICK_PERIODS.map(|p| events::timeslice(p, now)),
            wanted: [false; 3],
        }
    }
}

impl Core {
    /// Makes an event, if a pool wants it: `payload` is only rendered then.
    pub(super) fn notify(&mut self, kind: EventKind, payload: impl FnOnce() -> String) {
        if !self
            .groups
            .iter()
            .any(|g| g.pool.as_ref().is_some_and(|p| p.wants(kind)))
        {
            return;
        }
        let event = Rc::new(Event {
            kind,
            payload: payload(),
            serial: next_serial(&mut self.event_serial),
        });
        for index in 0..self.groups.len() {
            if self.groups[index]
                .pool
                .as_ref()
                .is_some_and(|p| p.wants(kind))
            {
                self.accept(index, event.clone(), None, false);
            }
        }
    }

    /// 4.3's _acceptEvent: a pool serial (kept on a rebuffer), the oldest
    /// event dropped when the buffer is full.
    fn accept(&mut self, group: usize, event: Rc<Event>, serial: Option<u64>, head: bool) {
        let Some(slot) = self.groups.get_mut(group) else {
            return;
        };
        let name = &slot.config.name;
        let Some(pool) = slot.pool.as_mut() else {
            return;
        };
        let serial = match serial {
            Some(serial) => {
                self.log.log(
                    LogLevel::Debug,
                    &format!(
                        "rebuffering event {} for pool {name} (buf size={}, max={})",
                        event.serial,
                        pool.buffer.len(),
                        pool.buffer_size
                    ),
                );
                serial
            }
            None => next_serial(&mut pool.serial),
        };
        if pool.buffer.len() >= pool.buffer_size {
            if let Some((dropped, _)) = pool.buffer.pop_front() {
                self.log.log(
                    LogLevel::Error,
                    &format!(
                        "pool {name} event buffer overflowed, discarding event {}",
                        dropped.serial
                    ),
                );
            }
        }
        if head {
            pool.buffer.push_front((event, serial));
        } else {
            pool.buffer.push_back((event, serial));
        }
    }

    /// 4.3's pool transition + dispatch: while a listener is READY, send it
    /// the oldest event; an event nobody could take goes back to the front.
    pub(super) fn dispatch_pools(&mut self) {
        for index in 0..self.groups.len() {
            if self.groups[index].pool.is_none() || !self.pool_has_ready(index) {
                continue;
            }
            loop {
                let next = self.groups[index]
                    .pool
                    .as_mut()
                    .and_then(|p| p.buffer.pop_front());
                let Some((event, serial)) = next else {
                    break;
                };
                if !self.send_to_ready(index, &event, serial) {
                    self.accept(index, event, Some(serial), true);
                    break;
                }
            }
        }
    }

    fn pool_has_ready(&self, group: usize) -> bool {
        self.groups[group].procs.iter().any(|id| {
            self.procs.get(id).is_some_and(|p| {
                p.rec.state == State::Running
                    && p.listener.as_ref().map(|l| l.state()) == Some(ListenerState::Ready)
            })
        })
    }

    /// 4.3's _dispatchEvent: the first RUNNING, READY listener gets it.
    fn send_to_ready(&mut self, group: usize, event: &Rc<Event>, serial: u64) -> bool {
        let identifier = self.config.supervisord.identifier.clone();
        let pool_name = self.groups[group].config.name.clone();
        let ids = self.groups[group].procs.clone();
        for id in ids {
            let Some(slot) = self.procs.get_mut(&id) else {
                continue;
            };
            if slot.rec.state != State::Running {
                continue;
            }
            let Some(listener) = slot.listener.as_mut() else {
                continue;
            };
            if listener.state() != ListenerState::Ready {
                continue;
            }
            let envelope = events::envelope(&identifier, &pool_name, serial, event);
            let sent = slot
                .io
                .as_mut()
                .map(|io| io.send_stdin(envelope.into_bytes()));
            if sent != Some(super::children::StdinSend::Queued) {
                let name = slot.config.name.clone();
                self.log.log(
                    LogLevel::Debug,
                    &format!(
                        "epipe occurred while sending event {} to listener {name}, listener state unchanged",
                        event.serial
                    ),
                );
                continue;
            }
            // 4.3 sets BUSY here without its state-change line.
            let _ = listener.sent();
            slot.held = Some((event.clone(), serial));
            let name = slot.config.name.clone();
            self.log.log(
                LogLevel::Debug,
                &format!("event {} sent to listener {name}", event.serial),
            );
            return true;
        }
        false
    }

    /// An event a listener held goes back to the front of its pool.
    pub(super) fn reject_held(&mut self, id: ProcId) {
        let Some(slot) = self.procs.get_mut(&id) else {
            return;
        };
        let Some((event, serial)) = slot.held.take() else {
            return;
        };
        let group = slot.config.group.clone();
        if let Some(index) = self.groups.iter().position(|g| g.config.name == group) {
            self.accept(index, event, Some(serial), true);
        }
    }

    /// A state change: its PROCESS_STATE event, and a listener's protocol
    /// starting over when its process starts.
    pub(super) fn state_changed(&mut self, id: ProcId, from: State, to: State, pid_before: u32) {
        if from == State::Running && self.mood == super::Mood::Running && self.has_dependencies() {
            self.dependency_went_down(id);
        }
        let Some(slot) = self.procs.get(&id) else {
            return;
        };
        let is_listener = self
            .groups
            .iter()
            .any(|g| g.pool.is_some() && g.config.name == slot.config.group);
        if to == State::Starting && is_listener {
            // A new listener process: the protocol starts over, and an event
            // the old one still held goes back to the pool first.
            self.reject_held(id);
            if let Some(slot) = self.procs.get_mut(&id) {
                slot.listener = Some(super::listener::Protocol::new());
            }
        }
        let Some(slot) = self.procs.get(&id) else {
            return;
        };
        let pid = if slot.rec.pid != 0 {
            slot.rec.pid
        } else {
            pid_before
        };
        // Our machine gives up in the same step that enters BACKOFF, 4.3 a
        // moment later: the BACKOFF event still carries the count that
        // made it give up.
        let tries = if to == State::Backoff && slot.rec.state == State::Fatal {
            slot.params.startretries.saturating_add(1)
        } else {
            slot.rec.backoff
        };
        let expected = slot
            .rec
            .exitstatus
            .is_some_and(|code| slot.params.exitcodes.contains(&code));
        let (name, group) = (slot.config.name.clone(), slot.config.group.clone());
        self.notify(EventKind::ProcessState(to), || {
            events::process_state(&StateChange {
                name: &name,
                group: &group,
                from,
                to,
                tries,
                expected,
                pid,
            })
        });
    }

    /// PROCESS_LOG_* for a piece of output, when the channel enables it.
    pub(super) fn output_event(&mut self, id: ProcId, stream: Stream, data: &[u8]) {
        let Some(slot) = self.procs.get(&id) else {
            return;
        };
        let (enabled, kind) = match stream {
            Stream::Stdout => (
                slot.config.stdout.events_enabled,
                EventKind::ProcessLogStdout,
            ),
            Stream::Stderr => (
                slot.config.stderr.events_enabled,
                EventKind::ProcessLogStderr,
            ),
        };
        if !enabled || data.is_empty() {
            return;
        }
        let (name, group, pid) = (
            slot.config.name.clone(),
            slot.config.group.clone(),
            slot.rec.pid,
        );
        self.notify(kind, || {
            events::process_log(&name, &group, pid, stream.name(), data)
        });
    }

    /// PROCESS_COMMUNICATION_* at a capture's end token.
    pub(super) fn communication_event(&mut self, id: ProcId, stream: Stream, data: &[u8]) {
        let Some(slot) = self.procs.get(&id) else {
            return;
        };
        let (name, group, pid) = (
            slot.config.name.clone(),
            slot.config.group.clone(),
            slot.rec.pid,
        );
        let kind = match stream {
            Stream::Stdout => EventKind::ProcessCommunicationStdout,
            Stream::Stderr => EventKind::ProcessCommunicationStderr,
        };
        self.notify(kind, || {
            events::process_communication(&name, &group, pid, data)
        });
        self.log.log(
            LogLevel::Debug,
            &format!(
                "{} {} emitted a comm event",
                crate::pytext::repr_str(&name),
                stream.name()
            ),
        );
    }

    /// Bytes a listener wrote on stdout: the protocol, with 4.3's lines.
    pub(super) fn listener_output(&mut self, id: ProcId, data: &[u8]) {
        let Some(slot) = self.procs.get_mut(&id) else {
            return;
        };
        let name = slot.config.name.clone();
        let Some(protocol) = slot.listener.as_mut() else {
            return;
        };
        let reactions = protocol.feed(data);
        let mut unknown = false;
        for reaction in reactions {
            match reaction {
                Reaction::Changed { from, to } => {
                    self.log.log(
                        LogLevel::Debug,
                        &format!("{name}: {} -> {}", from.name(), to.name()),
                    );
                    if to == ListenerState::Unknown {
                        unknown = true;
                        self.log.log(
                            LogLevel::Warn,
                            &format!(
                                "{name}: has entered the UNKNOWN state and will no longer receive \
                                 events, this usually indicates the process violated the \
                                 eventlistener protocol"
                            ),
                        );
                    }
                }
                Reaction::Processed => {
                    self.log
                        .log(LogLevel::Debug, &format!("{name}: event was processed"));
                    if let Some(slot) = self.procs.get_mut(&id) {
                        slot.held = None;
                    }
                }
                Reaction::Rejected => {
                    self.log
                        .log(LogLevel::Warn, &format!("{name}: event was rejected"));
                    self.reject_held(id);
                }
                Reaction::BadResultLine(line) => {
                    self.log.log(
                        LogLevel::Warn,
                        &format!("{name}: bad result line: '{line}'"),
                    );
                    self.reject_held(id);
                }
            }
        }
        if unknown {
            self.replace_unknown_listener(id);
        }
        self.dispatch_pools();
    }

    /// A listener in UNKNOWN state would never get another event: it is
    /// killed so that its autorestart replaces it with a fresh one (4.3
    /// leaves it running and deaf). Any event it held goes back first.
    fn replace_unknown_listener(&mut self, id: ProcId) {
        self.reject_held(id);
        let Some(slot) = self.procs.get(&id) else {
            return;
        };
        let (pid, name) = (slot.rec.pid, slot.config.name.clone());
        if pid == 0 {
            return;
        }
        self.log.log(
            LogLevel::Warn,
            &format!("{name}: killing it (SIGKILL) so that its autorestart replaces it"),
        );
        let _ = crate::process::kill::send(pid, 9, false);
    }

    /// REMOTE_COMMUNICATION from sendRemoteCommEvent.
    pub(super) fn remote_communication(&mut self, kind: &str, data: &str) {
        self.notify(EventKind::RemoteCommunication, || {
            events::remote_communication(kind, data)
        });
        self.settle();
    }

    /// Which tick periods some active pool receives.
    fn wanted_ticks(&self) -> [bool; 3] {
        TICK_PERIODS.map(|period| {
            self.groups.iter().any(|g| {
                g.pool
                    .as_ref()
                    .is_some_and(|p| events::wants_tick(&p.subscriptions, period))
            })
        })
    }

    /// 4.3's tick(): a TICK_n event for each wanted period whose timeslice
    /// changed. A period that was not wanted just follows the clock, so a
    /// new subscription does not see a stale tick. Returns what is wanted.
    fn tick(&mut self, now: u64) -> [bool; 3] {
        let wanted = self.wanted_ticks();
        for (i, period) in TICK_PERIODS.into_iter().enumerate() {
            let this = events::timeslice(period, now);
            let fire = wanted[i] && self.ticks.wanted[i] && this != self.ticks.last[i];
            self.ticks.last[i] = this;
            if fire {
                self.notify(EventKind::Tick(period), || events::tick(this));
            }
        }
        self.ticks.wanted = wanted;
        self.settle();
        wanted
    }
}

fn unix_now() -> (u64, Duration) {
    let now = SystemTime::now();
    let secs = u64::try_from(unix_secs(now)).unwrap_or(0);
    let sub = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| Duration::from_nanos(u64::from(d.subsec_nanos())))
        .unwrap_or_default();
    (secs, sub)
}

/// Sleeps until the next tick boundary of a wanted period; with no pool
/// wanting ticks it waits on its bell and arms no timer at all.
pub(super) async fn tick_task(core: Weak<RefCell<Core>>, bell: Receiver<()>) {
    use smol::future::FutureExt;
    loop {
        let (now, sub) = unix_now();
        let wanted = match core.upgrade() {
            Some(c) => match c.try_borrow_mut() {
                Ok(mut c) => c.tick(now),
                Err(_) => [false; 3],
            },
            None => return,
        };
        let next = TICK_PERIODS
            .into_iter()
            .zip(wanted)
            .filter(|(_, w)| *w)
            .map(|(p, _)| events::timeslice(p, now) + p)
            .min();
        match next {
            None => {
                if bell.recv().await.is_err() {
                    return;
                }
            }
            Some(at) => {
                let wait = Duration::from_secs(at - now).saturating_sub(sub);
                let deadline = Instant::now() + wait;
                async {
                    async_io::Timer::at(deadline).await;
                }
                .or(async {
                    let _ = bell.recv().await;
                })
                .await;
            }
        }
    }
}
