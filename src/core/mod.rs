//! The daemon's core: it alone owns the process records, feeds events to the
//! pure state machine and performs the actions it returns. Tasks on the one
//! executor (child exits, timers, signals, RPC connections) call into it
//! through `Shared` and never hold a borrow across an await.

pub mod children;
pub mod names;
pub mod output;
pub mod timers;
pub mod view;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use smol::channel::{Receiver, Sender};
use smol::LocalExecutor;

use crate::config::{self, Config, LogLevel};
use crate::log::activity::MainLog;
use crate::process::state::{self, Action, Ctx, Event, Now, Params, Record, State};
use crate::rpc::faults::Code;
use crate::rpc::value::Fault;

use self::children::ChildIo;
use self::output::Channel;
use self::timers::Deadlines;
use self::view::ProcessInfo;

/// A process's identity for the life of its group in the daemon.
pub type ProcId = u64;

/// The core as every task holds it.
pub type Shared = Rc<RefCell<Core>>;

/// Supervisor's own states (4.3's "mood"), with its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mood {
    Shutdown = -1,
    Restarting = 0,
    Running = 1,
    Fatal = 2,
}

impl Mood {
    pub fn code(self) -> i32 {
        self as i32
    }
    pub fn name(self) -> &'static str {
        match self {
            Mood::Shutdown => "SHUTDOWN",
            Mood::Restarting => "RESTARTING",
            Mood::Running => "RUNNING",
            Mood::Fatal => "FATAL",
        }
    }
}

/// How the run ended, once every child is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Shutdown,
    Restart,
}

/// What a namespec names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Process(ProcId),
    Group(&'a str),
}

/// One output channel of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One supervised process.
pub struct ProcSlot {
    pub config: config::Process,
    pub params: Params,
    pub rec: Record,
    /// Where stdout goes (with redirect_stderr, stderr too).
    pub stdout: Channel,
    pub stderr: Channel,
    /// The live child's pipes; None when no child runs.
    pub(crate) io: Option<ChildIo>,
    /// Bumped at each spawn so events of an earlier child are recognised.
    pub(crate) generation: u64,
}

/// An active process group.
pub struct GroupSlot {
    pub config: config::Group,
    /// Processes in config order.
    pub procs: Vec<ProcId>,
}

/// The daemon.
pub struct Core {
    /// The configuration last read (what reread and add compare against).
    pub config: Config,
    pub mood: Mood,
    groups: Vec<GroupSlot>,
    procs: HashMap<ProcId, ProcSlot>,
    next_id: ProcId,
    pub log: MainLog,
    deadlines: Deadlines,
    /// Waiting RPC calls; each gets a ping when any process changes state.
    watchers: Vec<Sender<()>>,
    /// During a shutdown or restart: groups still to stop, highest priority last.
    stop_queue: Option<Vec<String>>,
    /// A state changed while handling the current batch of events.
    changed: bool,
    /// A shutdown or restart asked for over RPC, applied after the reply.
    requested: Option<Mood>,
    done: Sender<Outcome>,
    pub(crate) executor: Rc<LocalExecutor<'static>>,
    pub(crate) me: Weak<RefCell<Core>>,
    /// The URL children find in SUPERVISOR_SERVER_URL.
    pub server_url: Option<String>,
    pub zone: crate::timefmt::Zone,
}

/// Everything `Core::new` needs from the daemon's setup.
pub struct Setup {
    pub config: Config,
    pub log: MainLog,
    pub executor: Rc<LocalExecutor<'static>>,
    pub server_url: Option<String>,
    pub zone: crate::timefmt::Zone,
}

/// The receivers the daemon's tasks wait on.
pub struct Wiring {
    pub deadline_bell: Receiver<()>,
    pub done: Receiver<Outcome>,
}

fn now() -> Now {
    Now {
        mono: Instant::now(),
        wall: SystemTime::now(),
    }
}

fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

fn params_of(p: &config::Process) -> Params {
    Params {
        name: p.name.clone(),
        autostart: p.autostart,
        autorestart: p.autorestart,
        startsecs: p.startsecs,
        startretries: p.startretries,
        exitcodes: p.exitcodes.clone(),
        stopsignal: p.stopsignal,
        stopwaitsecs: p.stopwaitsecs,
        stopasgroup: p.stopasgroup,
        killasgroup: p.killasgroup,
    }
}

fn log_level(level: state::LogLevel) -> LogLevel {
    match level {
        state::LogLevel::Critical => LogLevel::Critical,
        state::LogLevel::Warn => LogLevel::Warn,
        state::LogLevel::Info => LogLevel::Info,
        state::LogLevel::Debug => LogLevel::Debug,
    }
}

impl Core {
    /// Builds the core with no groups yet; `add_all_groups` fills it.
    pub fn new(setup: Setup) -> (Shared, Wiring) {
        let (deadlines, deadline_bell) = Deadlines::new();
        let (done, done_rx) = smol::channel::bounded(1);
        let core = Rc::new_cyclic(|me| {
            RefCell::new(Core {
                config: setup.config,
                mood: Mood::Running,
                groups: Vec::new(),
                procs: HashMap::new(),
                next_id: 1,
                log: setup.log,
                deadlines,
                watchers: Vec::new(),
                stop_queue: None,
                changed: false,
                requested: None,
                done,
                executor: setup.executor,
                me: me.clone(),
                server_url: setup.server_url,
                zone: setup.zone,
            })
        });
        let wiring = Wiring {
            deadline_bell,
            done: done_rx,
        };
        (core, wiring)
    }

    pub fn logs(&mut self, level: LogLevel, message: &str) {
        self.log.log(level, message);
    }

    // ----- groups -----------------------------------------------------------

    /// Adds every group of the current config and starts the autostart ones,
    /// group by group in priority order, as 4.3 does at startup.
    pub fn add_all_groups(&mut self) {
        let names: Vec<String> = self.config.groups.iter().map(|g| g.name.clone()).collect();
        for name in names {
            let _ = self.add_group(&name);
        }
    }

    /// `addProcessGroup`: activates a group from the last config read.
    pub fn add_group(&mut self, name: &str) -> Result<(), Fault> {
        if self.groups.iter().any(|g| g.config.name == name) {
            return Err(Code::AlreadyAdded.fault(name));
        }
        let Some(gconfig) = self.config.groups.iter().find(|g| g.name == name).cloned() else {
            return Err(Code::BadName.fault(name));
        };
        let mut ids = Vec::new();
        for pconfig in &gconfig.processes {
            let id = self.next_id;
            self.next_id += 1;
            let (stdout, stderr) = output::open_channels(&self.config, pconfig, &self.log);
            self.procs.insert(
                id,
                ProcSlot {
                    params: params_of(pconfig),
                    config: pconfig.clone(),
                    rec: Record::new(),
                    stdout,
                    stderr,
                    io: None,
                    generation: 0,
                },
            );
            ids.push(id);
        }
        let slot = GroupSlot {
            config: gconfig,
            procs: ids.clone(),
        };
        // Keep groups sorted by (priority, name), as 4.3 sorts them.
        let pos = self
            .groups
            .iter()
            .position(|g| {
                (g.config.priority, &g.config.name) > (slot.config.priority, &slot.config.name)
            })
            .unwrap_or(self.groups.len());
        self.groups.insert(pos, slot);
        for id in ids {
            self.apply(id, Event::AutoStart);
        }
        self.settle();
        Ok(())
    }

    /// `removeProcessGroup`: only a group whose processes are all stopped.
    pub fn remove_group(&mut self, name: &str) -> Result<(), Fault> {
        let Some(pos) = self.groups.iter().position(|g| g.config.name == name) else {
            return Err(Code::BadName.fault(name));
        };
        if !self.unstopped(&self.groups[pos].procs).is_empty() {
            return Err(Code::StillRunning.fault(name));
        }
        let group = self.groups.remove(pos);
        for id in group.procs {
            self.deadlines.cancel(id);
            self.procs.remove(&id);
        }
        Ok(())
    }

    pub fn group_names(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.config.name.clone()).collect()
    }

    pub fn active_group(&self, name: &str) -> Option<&config::Group> {
        self.groups
            .iter()
            .find(|g| g.config.name == name)
            .map(|g| &g.config)
    }

    /// 4.3's `diff_to_active` against the config last read: (added, changed, removed).
    pub fn diff_to_active(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        let mut added = Vec::new();
        let mut changed = Vec::new();
        for g in &self.config.groups {
            match self.active_group(&g.name) {
                None => added.push(g.name.clone()),
                Some(active) if active != g => changed.push(g.name.clone()),
                Some(_) => {}
            }
        }
        let removed = self
            .groups
            .iter()
            .filter(|g| !self.config.groups.iter().any(|c| c.name == g.config.name))
            .map(|g| g.config.name.clone())
            .collect();
        (added, changed, removed)
    }

    /// Re-reads the config file (reloadConfig); the active groups stay as they are.
    pub fn reread(&mut self) -> Result<(), String> {
        let path = self.config.path.clone();
        // The config error's text carries the "Error: " of the command
        // line; 4.3's CANT_REREAD carries only the message after it.
        let mut fresh = config::load(&path).map_err(|e| {
            let text = e.to_string();
            text.strip_prefix("Error: ")
                .map(str::to_string)
                .unwrap_or(text)
        })?;
        crate::supervisord::apply_overrides(&mut fresh)?;
        self.config = fresh;
        Ok(())
    }

    // ----- lookups ----------------------------------------------------------

    /// SHUTDOWN_STATE while the daemon stops or restarts (4.3's `_update`).
    pub fn check_mood(&self) -> Result<(), Fault> {
        if self.mood < Mood::Running {
            Err(Code::ShutdownState.bare())
        } else {
            Ok(())
        }
    }

    /// Resolves a namespec as 4.3's `_getGroupAndProcess`.
    pub fn lookup<'a>(&self, spec: &'a str) -> Result<Target<'a>, Fault> {
        let parsed = names::split(spec);
        let Some(group) = self.groups.iter().find(|g| g.config.name == parsed.group) else {
            return Err(Code::BadName.fault(spec));
        };
        let Some(process) = parsed.process else {
            return Ok(Target::Group(parsed.group));
        };
        group
            .procs
            .iter()
            .copied()
            .find(|id| self.procs.get(id).is_some_and(|p| p.config.name == process))
            .map(Target::Process)
            .ok_or_else(|| Code::BadName.fault(spec))
    }

    /// Like `lookup`, but the name must be one process.
    pub fn lookup_process(&self, spec: &str) -> Result<ProcId, Fault> {
        match self.lookup(spec)? {
            Target::Process(id) => Ok(id),
            Target::Group(_) => Err(Code::BadName.fault(spec)),
        }
    }

    pub fn slot(&self, id: ProcId) -> Option<&ProcSlot> {
        self.procs.get(&id)
    }

    pub fn state(&self, id: ProcId) -> Option<State> {
        self.procs.get(&id).map(|p| p.rec.state)
    }

    /// The processes of one group (or of all groups), in priority order:
    /// groups by (priority, name), then processes by priority, stable.
    pub fn in_priority_order(&self, group: Option<&str>) -> Vec<ProcId> {
        let mut out = Vec::new();
        for g in &self.groups {
            if group.is_some_and(|name| name != g.config.name) {
                continue;
            }
            let mut ids = g.procs.clone();
            ids.sort_by_key(|id| self.procs.get(id).map(|p| p.config.priority).unwrap_or(0));
            out.extend(ids);
        }
        out
    }

    /// Every process sorted by group name, then process name (getAllProcessInfo).
    pub fn in_lexical_order(&self) -> Vec<ProcId> {
        let mut groups: Vec<&GroupSlot> = self.groups.iter().collect();
        groups.sort_by(|a, b| a.config.name.cmp(&b.config.name));
        let mut out = Vec::new();
        for g in groups {
            let mut ids = g.procs.clone();
            ids.sort_by(|a, b| {
                let name = |id: &ProcId| {
                    self.procs
                        .get(id)
                        .map(|p| p.config.name.clone())
                        .unwrap_or_default()
                };
                name(a).cmp(&name(b))
            });
            out.extend(ids);
        }
        out
    }

    pub fn namespec(&self, id: ProcId) -> String {
        self.procs
            .get(&id)
            .map(|p| names::make(&p.config.group, &p.config.name))
            .unwrap_or_default()
    }

    /// getProcessInfo's snapshot.
    pub fn info(&self, id: ProcId) -> Option<ProcessInfo> {
        let slot = self.procs.get(&id)?;
        let rec = &slot.rec;
        let start = rec.laststart.map(|n| unix_secs(n.wall)).unwrap_or(0);
        let stop = rec.laststop.map(|n| unix_secs(n.wall)).unwrap_or(0);
        let now = unix_secs(SystemTime::now());
        let spawnerr = rec.spawnerr.clone().unwrap_or_default();
        let facts = view::Facts {
            state: rec.state,
            start,
            stop,
            now,
            pid: rec.pid,
            spawnerr: &spawnerr,
            name: &slot.config.name,
        };
        let description = view::describe(&facts, |t| {
            self.zone
                .short_stamp(UNIX_EPOCH + std::time::Duration::from_secs(t.max(0) as u64))
        });
        Some(ProcessInfo {
            name: slot.config.name.clone(),
            group: slot.config.group.clone(),
            start: view::capped(start),
            stop: view::capped(stop),
            now: view::capped(now),
            state: rec.state,
            spawnerr,
            exitstatus: rec.exitstatus.unwrap_or(0),
            stdout_logfile: slot.stdout.display_path(),
            stderr_logfile: slot.stderr.display_path(),
            pid: rec.pid,
            description,
        })
    }

    // ----- requests ---------------------------------------------------------

    /// startProcess's checks and the start itself (4.3's order: the command
    /// first, then the state). Ok means a child was spawned.
    pub fn start(&mut self, id: ProcId) -> Result<(), Fault> {
        let spec = self.namespec(id);
        let Some(slot) = self.procs.get(&id) else {
            return Err(Code::BadName.fault(&spec));
        };
        if let Err(e) = children::resolve_command(&slot.config, &self.config) {
            return Err(e.fault());
        }
        match slot.rec.state {
            s if s.is_running() => return Err(Code::AlreadyStarted.fault(&spec)),
            State::Unknown => {
                return Err(Code::Failed.fault(format!("{spec} is in an unknown process state")))
            }
            _ => {}
        }
        self.apply(id, Event::Start);
        self.settle();
        match self.procs.get(&id) {
            Some(slot) if slot.rec.spawnerr.is_some() => Err(Code::SpawnError.fault(&spec)),
            _ => Ok(()),
        }
    }

    /// stopProcess.
    pub fn stop(&mut self, id: ProcId) -> Result<(), Fault> {
        let spec = self.namespec(id);
        match self.state(id) {
            None => return Err(Code::BadName.fault(&spec)),
            Some(s) if !s.is_running() => return Err(Code::NotRunning.fault(&spec)),
            Some(_) => {}
        }
        self.apply(id, Event::Stop);
        self.settle();
        Ok(())
    }

    /// signalProcess, with the signal already parsed.
    pub fn signal(&mut self, id: ProcId, signal: i32) -> Result<(), Fault> {
        let spec = self.namespec(id);
        let Some(slot) = self.procs.get(&id) else {
            return Err(Code::BadName.fault(&spec));
        };
        if !slot.rec.state.is_signallable() || slot.rec.pid == 0 {
            return Err(Code::NotRunning.fault(&spec));
        }
        let pid = slot.rec.pid;
        let name = slot.config.name.clone();
        self.log.log(
            LogLevel::Debug,
            &format!(
                "sending {name} (pid {pid}) sig {}",
                crate::process::signals::name(signal)
            ),
        );
        match crate::process::signals::send(pid, signal, false) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::SRCH.raw_os_error()) => {
                self.log.log(
                    LogLevel::Debug,
                    &format!("unable to signal {name} (pid {pid}), it probably just now exited on its own: {e}"),
                );
                Ok(())
            }
            Err(e) => Err(Code::Failed.fault(format!(
                "unable to signal {name} (pid {pid}), exception: {e}"
            ))),
        }
    }

    /// sendProcessStdin.
    pub fn send_stdin(&mut self, id: ProcId, data: Vec<u8>) -> Result<(), Fault> {
        let spec = self.namespec(id);
        let Some(slot) = self.procs.get_mut(&id) else {
            return Err(Code::BadName.fault(&spec));
        };
        if slot.rec.pid == 0 || slot.rec.killing {
            return Err(Code::NotRunning.fault(&spec));
        }
        match slot.io.as_mut().map(|io| io.send_stdin(data)) {
            Some(children::StdinSend::Queued) => Ok(()),
            Some(children::StdinSend::Full) => Err(Code::Failed.fault(format!(
                "{spec}: its stdin is full (it has not read what it was sent)"
            ))),
            _ => Err(Code::NoFile.fault(&spec)),
        }
    }

    /// A receiver that gets a ping after the next batch of state changes.
    /// Register before checking a condition; nothing runs in between.
    pub fn watch(&mut self) -> Receiver<()> {
        let (tx, rx) = smol::channel::bounded(1);
        self.watchers.push(tx);
        rx
    }

    /// supervisor.shutdown / TERM: stop everything in reverse priority, then exit.
    pub fn shutdown(&mut self) {
        self.begin_stopping(Mood::Shutdown);
    }

    /// supervisor.restart / HUP: stop everything, then reload and start again.
    pub fn restart(&mut self) {
        if self.mood == Mood::Shutdown {
            return;
        }
        self.begin_stopping(Mood::Restarting);
    }

    /// shutdown/restart over RPC: remembered until the reply is written, so
    /// the client hears "true" before the daemon starts to go away.
    pub fn request_mood(&mut self, mood: Mood) {
        self.requested = Some(mood);
    }

    /// Acts on a mood requested over RPC, once its reply has gone out.
    pub fn apply_requested(&mut self) {
        match self.requested.take() {
            Some(Mood::Shutdown) => self.shutdown(),
            Some(Mood::Restarting) => self.restart(),
            _ => {}
        }
    }

    /// clearLog: remove the main log file and start a fresh one.
    pub fn clear_main_log(&mut self) -> Result<(), Fault> {
        use crate::log::activity::ClearError;
        self.log.clear().map_err(|e| match e {
            ClearError::NoFile => Code::NoFile.bare(),
            ClearError::Failed(_) => Code::Failed.bare(),
        })
    }

    /// SIGUSR2: reopen the main log and every child log.
    pub fn reopen_logs(&mut self) {
        self.log.log(LogLevel::Info, "supervisord logreopen");
        self.log.reopen();
        let mut notices = Vec::new();
        for slot in self.procs.values_mut() {
            notices.extend(slot.stdout.reopen());
            notices.extend(slot.stderr.reopen());
        }
        for notice in notices {
            self.log.log(notice.level(), &notice.to_string());
        }
    }

    /// clearProcessLogs.
    pub fn clear_logs(&mut self, id: ProcId) -> Result<(), Fault> {
        let spec = self.namespec(id);
        let Some(slot) = self.procs.get_mut(&id) else {
            return Err(Code::BadName.fault(&spec));
        };
        let a = slot.stdout.clear();
        let b = slot.stderr.clear();
        a.and(b).map_err(|_| Code::Failed.fault(&spec))
    }

    /// The file behind a process's channel, if it logs to one.
    pub fn log_path(&self, id: ProcId, stream: Stream) -> Option<PathBuf> {
        let slot = self.procs.get(&id)?;
        match stream {
            Stream::Stdout => slot.stdout.path(),
            Stream::Stderr => slot.stderr.path(),
        }
    }

    /// The channel a follower (tail -f, /logtail) watches.
    pub fn channel(&mut self, id: ProcId, stream: Stream) -> Option<&mut Channel> {
        let slot = self.procs.get_mut(&id)?;
        Some(match stream {
            Stream::Stdout => &mut slot.stdout,
            Stream::Stderr => &mut slot.stderr,
        })
    }

    // ----- events -----------------------------------------------------------

    /// Entry point for tasks: one event for one process, then bookkeeping.
    pub fn event(&mut self, id: ProcId, event: Event) {
        self.apply(id, event);
        self.settle();
    }

    /// The timer task's entry: every deadline that has passed.
    pub fn fire_deadlines(&mut self) {
        for id in self.deadlines.take_due(Instant::now()) {
            self.apply(id, Event::Deadline);
        }
        self.settle();
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.next()
    }

    /// Runs the state machine for one event and performs its actions; the
    /// actions may produce follow-up events (a spawn's outcome).
    fn apply(&mut self, id: ProcId, event: Event) {
        let mut pending = vec![event];
        while let Some(event) = pending.pop() {
            let ctx = Ctx {
                now: now(),
                may_start: self.mood == Mood::Running,
            };
            let Some(slot) = self.procs.get_mut(&id) else {
                return;
            };
            let actions = state::step(&mut slot.rec, &slot.params, event, ctx);
            let mut follow = Vec::new();
            for action in actions {
                if let Some(next) = self.perform(id, action) {
                    follow.push(next);
                }
            }
            // Follow-ups run in the order their actions came.
            pending.extend(follow.into_iter().rev());
        }
    }

    fn perform(&mut self, id: ProcId, action: Action) -> Option<Event> {
        match action {
            Action::Spawn => Some(match children::spawn(self, id) {
                Ok(pid) => Event::Spawned { pid },
                Err(error) => Event::SpawnFailed { error },
            }),
            Action::Signal { signal, group } => {
                let slot = self.procs.get(&id)?;
                let pid = slot.rec.pid;
                if pid == 0 {
                    return None;
                }
                match crate::process::signals::send(pid, signal, group) {
                    Ok(()) => None,
                    Err(e) if e.raw_os_error() == Some(rustix::io::Errno::SRCH.raw_os_error()) => {
                        let name = slot.config.name.clone();
                        self.log.log(
                            LogLevel::Debug,
                            &format!("unable to signal {name} (pid {pid}), it probably just exited on its own: {e}"),
                        );
                        None
                    }
                    Err(e) => Some(Event::SignalFailed {
                        error: e.to_string(),
                    }),
                }
            }
            Action::ArmDeadline(at) => {
                self.deadlines.arm(id, at);
                None
            }
            Action::CancelDeadline => {
                self.deadlines.cancel(id);
                None
            }
            Action::Log { level, message } => {
                self.log.log(log_level(level), &message);
                None
            }
            Action::Transition { .. } => {
                self.changed = true;
                None
            }
        }
    }

    /// After a batch of events: wake waiters and move a shutdown along.
    fn settle(&mut self) {
        loop {
            if self.changed {
                self.changed = false;
                self.watchers.retain(|w| {
                    !matches!(w.try_send(()), Err(smol::channel::TrySendError::Closed(_)))
                });
            }
            if self.stop_queue.is_some() {
                self.advance_stopping();
            }
            if !self.changed {
                break;
            }
        }
    }

    /// Processes not yet in a stopped state (4.3's get_unstopped_processes).
    fn unstopped(&self, ids: &[ProcId]) -> Vec<ProcId> {
        ids.iter()
            .copied()
            .filter(|id| {
                self.procs
                    .get(id)
                    .is_some_and(|p| !p.rec.state.is_stopped())
            })
            .collect()
    }

    fn begin_stopping(&mut self, mood: Mood) {
        if self.stop_queue.is_some() {
            // Already stopping; a shutdown request still wins over a restart.
            if mood == Mood::Shutdown {
                self.mood = Mood::Shutdown;
            }
            return;
        }
        self.mood = mood;
        self.stop_queue = Some(self.group_names());
        self.settle();
    }

    /// Stops groups one at a time from the highest priority down, as 4.3's
    /// ordered_stop_groups; when none is left the run is over.
    fn advance_stopping(&mut self) {
        loop {
            let Some(queue) = self.stop_queue.as_ref() else {
                return;
            };
            // Also reached at once when there are no groups at all.
            let Some(last) = queue.last().cloned() else {
                self.finish_stopping();
                return;
            };
            let ids: Vec<ProcId> = match self.groups.iter().find(|g| g.config.name == last) {
                Some(g) => g.procs.clone(),
                None => Vec::new(),
            };
            let mut by_priority = ids.clone();
            by_priority
                .sort_by_key(|id| self.procs.get(id).map(|p| p.config.priority).unwrap_or(0));
            for id in by_priority.into_iter().rev() {
                self.apply(id, Event::Shutdown);
            }
            if !self.unstopped(&ids).is_empty() {
                return;
            }
            if let Some(q) = self.stop_queue.as_mut() {
                q.pop();
            }
        }
    }

    /// Every group is stopped: the run is over.
    fn finish_stopping(&mut self) {
        self.stop_queue = None;
        let outcome = if self.mood == Mood::Restarting {
            Outcome::Restart
        } else {
            Outcome::Shutdown
        };
        let _ = self.done.try_send(outcome);
    }

    /// After a restart's stop: drop every group and take `config`; the
    /// caller adds the groups again.
    pub fn reset_config(&mut self, config: Config) {
        for g in std::mem::take(&mut self.groups) {
            for id in g.procs {
                self.deadlines.cancel(id);
                self.procs.remove(&id);
            }
        }
        self.config = config;
        self.mood = Mood::Running;
    }

    /// Pids of every live child, so a PID 1 reaper can leave them alone.
    pub fn child_pids(&self) -> Vec<u32> {
        self.procs
            .values()
            .map(|p| p.rec.pid)
            .filter(|pid| *pid != 0)
            .collect()
    }

    // ----- children ---------------------------------------------------------

    /// A child was reaped: read what is left in its pipes, then tell the machine.
    pub fn child_exited(&mut self, id: ProcId, generation: u64, status: state::ExitStatus) {
        let Some(slot) = self.procs.get_mut(&id) else {
            return;
        };
        if slot.generation != generation {
            return;
        }
        if let Some(slot) = self.procs.get_mut(&id) {
            slot.io = None;
        }
        self.event(id, Event::Exited { status });
    }

    /// Every configured group, active or not, for getAllConfigInfo.
    pub fn config_groups(&self) -> &[config::Group] {
        &self.config.groups
    }
}
