//! The daemon's core: it alone owns the process records, feeds events to the
//! pure state machine and performs the actions it returns. It is a room with
//! one door: everything outside (the RPC, the web page, the signal task)
//! holds a cloneable `Handle`, sends typed requests through it and gets owned
//! views or an `Error` back. The tasks the core starts itself (child exits,
//! output pumps, the timer) reach it through a weak reference; no borrow of
//! the core is ever held across an await or leaves this module.

mod children;
mod comm;
mod depends;
mod ending;
mod error;
mod events;
mod fcgi;
mod forward;
mod handle;
mod listener;
mod names;
mod notify;
mod output;
pub(crate) mod probe;
pub(crate) mod readiness;
pub(crate) mod readyfd;
pub(crate) mod sdnotify;
mod timers;
mod view;
mod wait;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use smol::channel::{Receiver, Sender};
use smol::LocalExecutor;

use crate::config::{self, Config, LogLevel, Source};
use crate::log::activity::MainLog;
use crate::process::state::{self, Action, Ctx, Event, Now, Params, Record, State};

use self::children::ChildIo;
use self::output::Channel;
use self::timers::Deadlines;

pub use self::error::{Error, ErrorKind};
pub use self::handle::{Applied, Handle, LogRef, ProcResult};
pub use self::view::{ConfigInfo, Diff, ProcessInfo};

/// A process's identity for the life of its group in the daemon.
type ProcId = u64;

/// The core as its own tasks hold it.
type Shared = Rc<RefCell<Core>>;

/// Supervisor's own states (4.3's "mood"), with its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mood {
    Shutdown = -1,
    Restarting = 0,
    Running = 1,
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
        }
    }
}

/// How the run ended, once every child is stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exit with this status: 0 for a TERM or supervisor.shutdown, the
    /// program's for an essential one's end, exit_when_all_done's verdict.
    Shutdown { status: u8 },
    /// Restart with this configuration, read and validated before anything stopped.
    Restart(Box<Config>),
}

/// What a namespec names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target<'a> {
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
struct ProcSlot {
    config: config::Process,
    params: Params,
    rec: Record,
    /// Where stdout goes (with redirect_stderr, stderr too).
    stdout: Channel,
    stderr: Channel,
    /// The live child's pipes; None when no child runs.
    io: Option<ChildIo>,
    /// Bumped at each spawn so events of an earlier child are recognised.
    generation: u64,
    /// An event listener's protocol state (listeners only; new at each spawn).
    listener: Option<listener::Protocol>,
    /// The event a BUSY listener holds, with its pool serial.
    held: Option<(Rc<events::Event>, u64)>,
    /// A start waiting for its dependencies (the event to apply then).
    blocked: Option<Event>,
    /// Stopped because a dependency went down (`restart_dependents`).
    restart_pending: bool,
    /// What the child said over sd_notify besides READY=1 (STATUS=, ...),
    /// shown after its description; empty when nothing.
    ready_note: String,
    /// PROCESS_COMMUNICATION capture for stdout and stderr, when
    /// `*_capture_maxbytes` is set.
    capture: [Option<comm::Capture>; 2],
    /// How the last child ended, until the next spawn (the machine keeps
    /// only 4.3's exitstatus, -1 for any signal).
    last_exit: Option<state::ExitStatus>,
    /// `forward_to_stdout`: lines to supervisord's own stdout and stderr.
    forward: Option<forward::Forward>,
}

/// An active process group.
struct GroupSlot {
    config: config::Group,
    /// Processes in config order.
    procs: Vec<ProcId>,
    /// An event listener pool's buffer.
    pool: Option<notify::Pool>,
    /// `[fcgi-program:x]`: the socket its processes get as stdin.
    fcgi: Option<fcgi::Socket>,
}

/// The daemon.
struct Core {
    /// Where the configuration is read from (the file and the command line).
    source: Source,
    /// The configuration last read (what reread and add compare against).
    config: Config,
    /// A configuration read for a restart under way.
    pending: Option<Config>,
    mood: Mood,
    groups: Vec<GroupSlot>,
    procs: HashMap<ProcId, ProcSlot>,
    next_id: ProcId,
    log: MainLog,
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
    executor: Rc<LocalExecutor<'static>>,
    me: Weak<RefCell<Core>>,
    /// The URL children find in SUPERVISOR_SERVER_URL.
    server_url: Option<String>,
    zone: crate::timefmt::Zone,
    /// The serial of the last event a pool accepted (4.3's GlobalSerial).
    event_serial: Option<u64>,
    /// TICK_n bookkeeping for the tick task.
    ticks: notify::Ticks,
    /// Rung when the set of subscribed tick periods may have changed.
    tick_bell: Sender<()>,
    /// SUPERVISOR_STATE_CHANGE_STOPPING was sent for this shutdown.
    stopping_announced: bool,
    /// The groups were added and started: a run can end by itself.
    started: bool,
    /// An essential program ended the run; acted on in `settle`.
    ending: Option<ending::Ending>,
    /// What supervisord exits with once everything is stopped.
    exit_status: u8,
    /// `[supervisord] exit_when_all_done` as of the last (re)start; a
    /// reread alone does not change it.
    exit_when_all_done: bool,
    /// supervisord's own stdout and stderr, for `forward_to_stdout`.
    outlets: crate::log::outlet::Outlets,
}

/// Everything the core needs from the daemon's setup.
pub struct Setup {
    pub source: Source,
    /// What `source` gave at start-up.
    pub config: Config,
    pub log: MainLog,
    pub executor: Rc<LocalExecutor<'static>>,
    pub zone: crate::timefmt::Zone,
    /// supervisord's own stdout and stderr, for `forward_to_stdout`.
    pub outlets: crate::log::outlet::Outlets,
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
        ready: p.lifecycle.ready.as_ref().map(|r| r.label()),
        ready_timeout: p.lifecycle.ready_timeout,
        watchdog_sec: p.lifecycle.watchdog_sec,
        infinite_retries: p.lifecycle.infinite_retries,
        backoff_max: p.lifecycle.backoff_max,
        essential: p.lifecycle.essential,
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
    /// Builds the core with no groups yet and starts its timer task; the
    /// receiver hears how the run ends.
    fn new(setup: Setup) -> (Shared, Receiver<Outcome>) {
        let (deadlines, deadline_bell) = Deadlines::new();
        let (done, done_rx) = smol::channel::bounded(1);
        let (tick_bell, tick_rx) = smol::channel::bounded(1);
        let executor = setup.executor.clone();
        let core = Rc::new_cyclic(|me| {
            RefCell::new(Core {
                source: setup.source,
                server_url: setup.config.server_url(),
                exit_when_all_done: setup.config.supervisord.exit_when_all_done,
                config: setup.config,
                pending: None,
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
                zone: setup.zone,
                event_serial: None,
                ticks: notify::Ticks::new(unix_secs(SystemTime::now())),
                tick_bell,
                stopping_announced: false,
                started: false,
                ending: None,
                exit_status: 0,
                outlets: setup.outlets,
            })
        });
        executor
            .spawn(timer_task(Rc::downgrade(&core), deadline_bell))
            .detach();
        executor
            .spawn(notify::tick_task(Rc::downgrade(&core), tick_rx))
            .detach();
        (core, done_rx)
    }

    // ----- groups -----------------------------------------------------------

    /// Adds every group of the current config and starts the autostart ones,
    /// group by group in priority order, as 4.3 does at startup.
    fn add_all_groups(&mut self) {
        // As 4.3's run(): every group first (each announced), then
        // SUPERVISOR_STATE_CHANGE_RUNNING, then the autostarts in order.
        let names: Vec<String> = self.config.groups.iter().map(|g| g.name.clone()).collect();
        let mut added = Vec::new();
        for name in names {
            if let Ok(ids) = self.insert_group(&name) {
                added.extend(ids);
            }
        }
        self.stopping_announced = false;
        self.notify(events::EventKind::SupervisorRunning, String::new);
        for id in added {
            self.apply(id, Event::AutoStart);
        }
        self.started = true;
        self.settle();
    }

    /// `addProcessGroup`: activates a group from the last config read and
    /// starts its autostart processes.
    fn add_group(&mut self, name: &str) -> Result<(), Error> {
        for id in self.insert_group(name)? {
            self.apply(id, Event::AutoStart);
        }
        self.settle();
        Ok(())
    }

    /// Activates a group (announced with PROCESS_GROUP_ADDED, which its own
    /// pool receives too); returns its processes, not started.
    fn insert_group(&mut self, name: &str) -> Result<Vec<ProcId>, Error> {
        if self.groups.iter().any(|g| g.config.name == name) {
            return Err(Error::new(ErrorKind::AlreadyAdded, name));
        }
        let Some(gconfig) = self.config.groups.iter().find(|g| g.name == name).cloned() else {
            return Err(Error::new(ErrorKind::BadName, name));
        };
        let mut ids = Vec::new();
        for pconfig in &gconfig.processes {
            let id = self.next_id;
            self.next_id += 1;
            let (stdout, stderr) =
                output::open_channels(&self.config, pconfig, &self.log, &self.zone);
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
                    listener: None,
                    held: None,
                    blocked: None,
                    restart_pending: false,
                    ready_note: String::new(),
                    capture: [
                        pconfig.stdout.capture_maxbytes,
                        pconfig.stderr.capture_maxbytes,
                    ]
                    .map(|max| (max > 0).then(|| comm::Capture::new(max as usize))),
                    last_exit: None,
                    forward: forward::Forward::for_process(&self.config, pconfig, &self.zone),
                },
            );
            ids.push(id);
        }
        let slot = GroupSlot {
            pool: gconfig.pool.as_ref().map(notify::Pool::new),
            fcgi: fcgi::Socket::for_group(&gconfig, &self.log),
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
        let _ = self.tick_bell.try_send(());
        self.notify(events::EventKind::ProcessGroupAdded, || {
            events::process_group(name)
        });
        Ok(ids)
    }

    /// `removeProcessGroup`: only a group whose processes are all stopped.
    fn remove_group(&mut self, name: &str) -> Result<(), Error> {
        let Some(pos) = self.groups.iter().position(|g| g.config.name == name) else {
            return Err(Error::new(ErrorKind::BadName, name));
        };
        if !self.unstopped(&self.groups[pos].procs).is_empty() {
            return Err(Error::new(ErrorKind::StillRunning, name));
        }
        let group = self.groups.remove(pos);
        for id in group.procs {
            self.deadlines.cancel(id);
            self.procs.remove(&id);
        }
        let _ = self.tick_bell.try_send(());
        self.notify(events::EventKind::ProcessGroupRemoved, || {
            events::process_group(name)
        });
        self.settle();
        Ok(())
    }

    fn group_names(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.config.name.clone()).collect()
    }

    fn active_group(&self, name: &str) -> Option<&config::Group> {
        self.groups
            .iter()
            .find(|g| g.config.name == name)
            .map(|g| &g.config)
    }

    /// 4.3's `diff_to_active` against the config last read.
    fn diff_to_active(&self) -> Diff {
        let mut diff = Diff::default();
        for g in &self.config.groups {
            match self.active_group(&g.name) {
                None => diff.added.push(g.name.clone()),
                Some(active) if active != g => diff.changed.push(g.name.clone()),
                Some(_) => {}
            }
        }
        diff.removed = self
            .groups
            .iter()
            .filter(|g| !self.config.groups.iter().any(|c| c.name == g.config.name))
            .map(|g| g.config.name.clone())
            .collect();
        diff
    }

    /// Reads the configuration again; an invalid file changes nothing.
    fn read_source(&self) -> Result<Config, Error> {
        self.source.load().map_err(|e| {
            // The config error's text carries the "Error: " of the command
            // line; 4.3's CANT_REREAD carries only the message after it.
            let text = e.to_string();
            let bare = text.strip_prefix("Error: ").map(str::to_string);
            Error::new(ErrorKind::CantReread, bare.unwrap_or(text))
        })
    }

    /// Reads the configuration for a restart; an invalid one is one ERROR
    /// line in the main log (a reread answers the client only, as 4.3).
    fn read_for_restart(&self) -> Result<Config, Error> {
        self.source.load().map_err(|e| {
            self.log.log(
                LogLevel::Error,
                &format!("could not reload the configuration, keeping the previous one: {e}"),
            );
            let text = e.to_string();
            let bare = text.strip_prefix("Error: ").map(str::to_string);
            Error::new(ErrorKind::CantReread, bare.unwrap_or(text))
        })
    }

    /// Re-reads the config file (reloadConfig); the active groups stay as they are.
    fn reread(&mut self) -> Result<(), Error> {
        self.config = self.read_source()?;
        Ok(())
    }

    // ----- lookups ----------------------------------------------------------

    /// SHUTDOWN_STATE while the daemon stops or restarts (4.3's `_update`).
    fn check_mood(&self) -> Result<(), Error> {
        if self.mood < Mood::Running {
            Err(Error::bare(ErrorKind::ShutdownState))
        } else {
            Ok(())
        }
    }

    /// Resolves a namespec as 4.3's `_getGroupAndProcess`.
    fn lookup<'a>(&self, spec: &'a str) -> Result<Target<'a>, Error> {
        let parsed = names::split(spec);
        let Some(group) = self.groups.iter().find(|g| g.config.name == parsed.group) else {
            return Err(Error::new(ErrorKind::BadName, spec));
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
            .ok_or_else(|| Error::new(ErrorKind::BadName, spec))
    }

    /// Like `lookup`, but the name must be one process.
    fn lookup_process(&self, spec: &str) -> Result<ProcId, Error> {
        match self.lookup(spec)? {
            Target::Process(id) => Ok(id),
            Target::Group(_) => Err(Error::new(ErrorKind::BadName, spec)),
        }
    }

    /// The processes of an active group, in priority order.
    fn group_ids(&self, name: &str) -> Result<Vec<ProcId>, Error> {
        if self.active_group(name).is_none() {
            return Err(Error::new(ErrorKind::BadName, name));
        }
        Ok(self.in_priority_order(Some(name)))
    }

    fn state(&self, id: ProcId) -> Option<State> {
        self.procs.get(&id).map(|p| p.rec.state)
    }

    /// The processes of one group (or of all groups), in priority order:
    /// groups by (priority, name), then processes by priority, stable.
    fn in_priority_order(&self, group: Option<&str>) -> Vec<ProcId> {
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
    fn in_lexical_order(&self) -> Vec<ProcId> {
        let mut groups: Vec<&GroupSlot> = self.groups.iter().collect();
        groups.sort_by(|a, b| a.config.name.cmp(&b.config.name));
        let mut out = Vec::new();
        for g in groups {
            let mut ids = g.procs.clone();
            ids.sort_by(|a, b| {
                let name = |id: &ProcId| self.procs.get(id).map(|p| p.config.name.as_str());
                name(a).cmp(&name(b))
            });
            out.extend(ids);
        }
        out
    }

    fn namespec(&self, id: ProcId) -> String {
        self.procs
            .get(&id)
            .map(|p| names::make(&p.config.group, &p.config.name))
            .unwrap_or_default()
    }

    /// (name, group) of a process, for per-process results.
    fn names_of(&self, id: ProcId) -> (String, String) {
        self.procs
            .get(&id)
            .map(|s| (s.config.name.clone(), s.config.group.clone()))
            .unwrap_or_default()
    }

    /// getProcessInfo's snapshot.
    fn info(&self, id: ProcId) -> Option<ProcessInfo> {
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
        let description = match self.waiting_for(id) {
            Some(waiting) => waiting,
            None if rec.state == State::Stopped && spawnerr.starts_with("dependency ") => {
                spawnerr.clone()
            }
            None => {
                let base = match (&slot.config.lifecycle.ready, rec.state) {
                    (Some(check), State::Starting) => check.describe(),
                    _ => view::describe(&facts, |t| {
                        self.zone.short_stamp(
                            UNIX_EPOCH + std::time::Duration::from_secs(t.max(0) as u64),
                        )
                    }),
                };
                let live = matches!(rec.state, State::Starting | State::Running);
                if live && !slot.ready_note.is_empty() {
                    format!("{base}, {}", slot.ready_note)
                } else {
                    base
                }
            }
        };
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

    /// Every configured process, active or not, for getAllConfigInfo.
    fn config_info(&self) -> Vec<ConfigInfo> {
        use crate::config::LogTarget;
        let mut out = Vec::new();
        for group in &self.config.groups {
            let inuse = self.active_group(&group.name).is_some();
            for p in &group.processes {
                let active_path = |stream: Stream| -> Option<String> {
                    let spec = names::make(&group.name, &p.name);
                    let id = self.lookup_process(&spec).ok()?;
                    self.log_path(id, stream)
                        .map(|p| p.to_string_lossy().into_owned())
                };
                let logfile = |target: &LogTarget, stream: Stream| -> String {
                    match target {
                        LogTarget::None => "none".into(),
                        LogTarget::Syslog => "syslog".into(),
                        LogTarget::Path(p) => p.to_string_lossy().into_owned(),
                        LogTarget::Auto if inuse => {
                            active_path(stream).unwrap_or_else(|| "auto".into())
                        }
                        LogTarget::Auto => "auto".into(),
                    }
                };
                let stderr_target = if p.redirect_stderr {
                    &LogTarget::None
                } else {
                    &p.stderr.target
                };
                out.push(ConfigInfo {
                    group: group.name.clone(),
                    group_priority: group.priority,
                    inuse,
                    stdout_logfile: logfile(&p.stdout.target, Stream::Stdout),
                    stderr_logfile: logfile(stderr_target, Stream::Stderr),
                    process: p.clone(),
                });
            }
        }
        out.sort_by(|a, b| a.process.name.cmp(&b.process.name));
        out
    }

    // ----- requests ---------------------------------------------------------

    /// startProcess's checks and the start itself (4.3's order: the command
    /// first, then the state). Ok means a child was spawned.
    fn start(&mut self, id: ProcId) -> Result<(), Error> {
        let spec = self.namespec(id);
        let Some(slot) = self.procs.get(&id) else {
            return Err(Error::new(ErrorKind::BadName, spec));
        };
        if let Err(e) = children::resolve_command(&slot.config, &self.config) {
            return Err(e.error());
        }
        match slot.rec.state {
            s if s.is_running() => return Err(Error::new(ErrorKind::AlreadyStarted, spec)),
            State::Unknown => {
                return Err(Error::new(
                    ErrorKind::Failed,
                    format!("{spec} is in an unknown process state"),
                ))
            }
            _ => {}
        }
        self.start_dependencies(id);
        self.apply(id, Event::Start);
        self.settle();
        match self.procs.get(&id) {
            Some(slot) if slot.rec.spawnerr.is_some() => {
                Err(Error::new(ErrorKind::SpawnError, spec))
            }
            _ => Ok(()),
        }
    }

    /// stopProcess.
    fn stop(&mut self, id: ProcId) -> Result<(), Error> {
        let spec = self.namespec(id);
        match self.state(id) {
            None => return Err(Error::new(ErrorKind::BadName, spec)),
            Some(s) if !s.is_running() => return Err(Error::new(ErrorKind::NotRunning, spec)),
            Some(_) => {}
        }
        self.apply(id, Event::Stop);
        self.settle();
        Ok(())
    }

    /// signalProcess, with the signal already parsed.
    fn signal(&mut self, id: ProcId, signal: i32) -> Result<(), Error> {
        let spec = self.namespec(id);
        let Some(slot) = self.procs.get(&id) else {
            return Err(Error::new(ErrorKind::BadName, spec));
        };
        if !slot.rec.state.is_signallable() || slot.rec.pid == 0 {
            return Err(Error::new(ErrorKind::NotRunning, spec));
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
        match crate::process::kill::send(pid, signal, false) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::SRCH.raw_os_error()) => {
                self.log.log(
                    LogLevel::Debug,
                    &format!("unable to signal {name} (pid {pid}), it probably just now exited on its own: {e}"),
                );
                Ok(())
            }
            Err(e) => Err(Error::new(
                ErrorKind::Failed,
                format!("unable to signal {name} (pid {pid}), exception: {e}"),
            )),
        }
    }

    /// sendProcessStdin.
    fn send_stdin(&mut self, id: ProcId, data: Vec<u8>) -> Result<(), Error> {
        let spec = self.namespec(id);
        let Some(slot) = self.procs.get_mut(&id) else {
            return Err(Error::new(ErrorKind::BadName, spec));
        };
        if slot.rec.pid == 0 || slot.rec.killing {
            return Err(Error::new(ErrorKind::NotRunning, spec));
        }
        match slot.io.as_mut().map(|io| io.send_stdin(data)) {
            Some(children::StdinSend::Queued) => Ok(()),
            Some(children::StdinSend::Full) => Err(Error::new(
                ErrorKind::Failed,
                format!("{spec}: its stdin is full (it has not read what it was sent)"),
            )),
            _ => Err(Error::new(ErrorKind::NoFile, spec)),
        }
    }

    /// A receiver that gets a ping after the next batch of state changes.
    /// Register before checking a condition; nothing runs in between.
    fn watch(&mut self) -> Receiver<()> {
        let (tx, rx) = smol::channel::bounded(1);
        self.watchers.push(tx);
        rx
    }

    /// supervisor.shutdown / TERM: stop everything in reverse priority, then exit.
    fn shutdown(&mut self) {
        self.begin_stopping(Mood::Shutdown);
    }

    /// supervisor.restart / HUP: read the configuration first; only a valid
    /// one stops everything and starts again with it.
    fn restart(&mut self) -> Result<(), Error> {
        if self.mood == Mood::Shutdown {
            return Ok(());
        }
        let fresh = self.read_for_restart()?;
        self.pending = Some(fresh);
        self.begin_stopping(Mood::Restarting);
        Ok(())
    }

    /// Acts on a mood requested over RPC, once its reply has gone out.
    fn apply_requested(&mut self) {
        match self.requested.take() {
            Some(Mood::Shutdown) => self.shutdown(),
            Some(Mood::Restarting) => self.begin_stopping(Mood::Restarting),
            _ => {}
        }
    }

    /// clearLog: remove the main log file and start a fresh one.
    fn clear_main_log(&mut self) -> Result<(), Error> {
        use crate::log::activity::ClearError;
        self.log.clear().map_err(|e| match e {
            ClearError::NoFile => Error::bare(ErrorKind::NoFile),
            ClearError::Failed => Error::bare(ErrorKind::Failed),
        })
    }

    /// SIGUSR2: reopen the main log and every child log.
    fn reopen_logs(&mut self) {
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
    fn clear_logs(&mut self, id: ProcId) -> Result<(), Error> {
        let spec = self.namespec(id);
        let Some(slot) = self.procs.get_mut(&id) else {
            return Err(Error::new(ErrorKind::BadName, spec));
        };
        let a = slot.stdout.clear();
        let b = slot.stderr.clear();
        a.and(b).map_err(|_| Error::new(ErrorKind::Failed, spec))
    }

    /// The file behind a process's channel, if it logs to one.
    fn log_path(&self, id: ProcId, stream: Stream) -> Option<PathBuf> {
        let slot = self.procs.get(&id)?;
        match stream {
            Stream::Stdout => slot.stdout.path(),
            Stream::Stderr => slot.stderr.path(),
        }
    }

    /// The channel a follower (tail -f, /logtail) watches.
    fn channel(&mut self, id: ProcId, stream: Stream) -> Option<&mut Channel> {
        let slot = self.procs.get_mut(&id)?;
        Some(match stream {
            Stream::Stdout => &mut slot.stdout,
            Stream::Stderr => &mut slot.stderr,
        })
    }

    // ----- events -----------------------------------------------------------

    /// The timer task's entry: every deadline that has passed.
    fn fire_deadlines(&mut self) {
        for id in self.deadlines.take_due(Instant::now()) {
            self.apply(id, Event::Deadline);
        }
        self.settle();
    }

    /// Runs the state machine for one event and performs its actions; the
    /// actions may produce follow-up events (a spawn's outcome).
    fn apply(&mut self, id: ProcId, event: Event) {
        let Some(event) = self.gate_start(id, event) else {
            return;
        };
        let mut pending = vec![event];
        while let Some(event) = pending.pop() {
            let ctx = Ctx {
                jitter: fastrand::f64(),
                now: now(),
                may_start: self.mood == Mood::Running,
            };
            let Some(slot) = self.procs.get_mut(&id) else {
                return;
            };
            // 4.3 renders a state event's pid before an exit clears it.
            let pid_before = slot.rec.pid;
            let actions = state::step(&mut slot.rec, &slot.params, event, ctx);
            let mut follow = Vec::new();
            for action in actions {
                if let Action::Transition { from, to } = action {
                    self.state_changed(id, from, to, pid_before);
                    self.check_essential(id, to);
                }
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
            Action::Spawn => Some({
                if let Some(slot) = self.procs.get_mut(&id) {
                    slot.last_exit = None;
                }
                match children::spawn(self, id) {
                    Ok(pid) => Event::Spawned { pid },
                    Err(error) => Event::SpawnFailed { error },
                }
            }),
            Action::Signal { signal, group } => {
                let slot = self.procs.get(&id)?;
                let pid = slot.rec.pid;
                if pid == 0 {
                    return None;
                }
                match crate::process::kill::send(pid, signal, group) {
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

    /// After a batch of events: hand events to ready listeners, wake
    /// waiters and move a shutdown along.
    fn settle(&mut self) {
        self.dispatch_pools();
        loop {
            if self.changed {
                self.changed = false;
                self.watchers.retain(|w| {
                    !matches!(w.try_send(()), Err(smol::channel::TrySendError::Closed(_)))
                });
            }
            self.end_if_done();
            if self.stop_queue.is_some() {
                if self.has_dependencies() {
                    self.advance_stopping_by_dependencies();
                } else {
                    self.advance_stopping();
                }
            } else {
                self.release_blocked();
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
        if self.start_stopping(mood) {
            self.settle();
        }
    }

    /// `begin_stopping` without the settle (for `settle` itself); false if
    /// a stop was already under way.
    fn start_stopping(&mut self, mood: Mood) -> bool {
        if self.stop_queue.is_some() {
            // Already stopping; a shutdown request still wins over a restart.
            if mood == Mood::Shutdown {
                self.mood = Mood::Shutdown;
            }
            return false;
        }
        self.mood = mood;
        if !self.stopping_announced {
            self.stopping_announced = true;
            self.notify(events::EventKind::SupervisorStopping, String::new);
        }
        self.stop_queue = Some(self.group_names());
        true
    }

    /// A second TERM while stopping: SIGKILL every child still alive (to
    /// its process group with killasgroup), highest priority first, instead
    /// of waiting out stopwaitsecs. The stop then ends as they are reaped.
    fn kill_remaining(&mut self) {
        if self.stop_queue.is_none() {
            return;
        }
        for id in self.in_priority_order(None).into_iter().rev() {
            let alive = self.procs.get(&id).is_some_and(|p| {
                p.rec.pid != 0
                    && matches!(
                        p.rec.state,
                        State::Starting | State::Running | State::Stopping
                    )
            });
            if alive {
                self.apply(id, Event::Kill);
            }
        }
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
        let outcome = match (self.mood, self.pending.take()) {
            (Mood::Restarting, Some(fresh)) => Outcome::Restart(Box::new(fresh)),
            // A restart with no config read can only come from a bug; the
            // config in force is the safe one to start again with.
            (Mood::Restarting, None) => Outcome::Restart(Box::new(self.config.clone())),
            _ => Outcome::Shutdown {
                status: self.exit_status,
            },
        };
        let _ = self.done.try_send(outcome);
    }

    /// After a restart's stop: drop every group and take `config`; the
    /// caller adds the groups again.
    fn reset_config(&mut self, config: Config) {
        for g in std::mem::take(&mut self.groups) {
            for id in g.procs {
                self.deadlines.cancel(id);
                self.procs.remove(&id);
            }
        }
        self.server_url = config.server_url();
        self.exit_when_all_done = config.supervisord.exit_when_all_done;
        self.config = config;
        self.mood = Mood::Running;
        self.started = false;
        self.ending = None;
        self.exit_status = 0;
    }

    /// Pids of every live child, so a PID 1 reaper can leave them alone.
    fn child_pids(&self) -> Vec<u32> {
        self.procs
            .values()
            .map(|p| p.rec.pid)
            .filter(|pid| *pid != 0)
            .collect()
    }

    // ----- children ---------------------------------------------------------

    /// A child was reaped: read what is left in its pipes, then tell the machine.
    fn child_exited(&mut self, id: ProcId, generation: u64, status: state::ExitStatus) {
        let Some(slot) = self.procs.get_mut(&id) else {
            return;
        };
        if slot.generation != generation {
            return;
        }
        if let Some(io) = slot.io.take() {
            io.release(&self.log);
        }
        slot.last_exit = Some(status);
        self.apply(id, Event::Exited { status });
        // As 4.3's finish(): an event the listener held goes back to its pool.
        self.reject_held(id);
        self.settle();
    }
}

/// Sleeps until the earliest deadline (or until an earlier one is armed).
async fn timer_task(core: Weak<RefCell<Core>>, bell: Receiver<()>) {
    use smol::future::FutureExt;
    loop {
        let next = match core.upgrade() {
            Some(c) => c.try_borrow().ok().and_then(|c| c.deadlines.next()),
            None => return,
        };
        match next {
            Some(at) => {
                async {
                    async_io::Timer::at(at).await;
                }
                .or(async {
                    let _ = bell.recv().await;
                })
                .await
            }
            None => {
                if bell.recv().await.is_err() {
                    return;
                }
            }
        }
        let Some(strong) = core.upgrade() else { return };
        if let Ok(mut c) = strong.try_borrow_mut() {
            c.fire_deadlines();
        };
    }
}

#[cfg(test)]
mod tests;
