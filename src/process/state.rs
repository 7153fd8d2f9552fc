//! The process state machine, pure: `step` takes a record, the program's
//! parameters, an event and the time, and returns the actions to perform.
//! It never reads the clock, calls the system, logs or touches a channel, so
//! every edge of Supervisor's state graph can be tested exhaustively.
//!
//! CONTRACT (filled in by the state-machine work; core is written against it):
//! the types below are the interface and must keep their names and meaning.

use std::time::{Instant, SystemTime};

/// Supervisor's process states, with the numbers clients depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Stopped = 0,
    Starting = 10,
    Running = 20,
    Backoff = 30,
    Stopping = 40,
    Exited = 100,
    Fatal = 200,
    Unknown = 1000,
}

impl State {
    pub fn code(self) -> i32 {
        self as i32
    }
    pub fn name(self) -> &'static str {
        match self {
            State::Stopped => "STOPPED",
            State::Starting => "STARTING",
            State::Running => "RUNNING",
            State::Backoff => "BACKOFF",
            State::Stopping => "STOPPING",
            State::Exited => "EXITED",
            State::Fatal => "FATAL",
            State::Unknown => "UNKNOWN",
        }
    }
    /// RUNNING_STATES in 4.3: a start request is refused (ALREADY_STARTED).
    pub fn is_running(self) -> bool {
        matches!(self, State::Running | State::Backoff | State::Starting)
    }
    /// STOPPED_STATES in 4.3: a stop request is refused (NOT_RUNNING).
    pub fn is_stopped(self) -> bool {
        matches!(self, State::Stopped | State::Exited | State::Fatal | State::Unknown)
    }
    /// SIGNALLABLE_STATES in 4.3.
    pub fn is_signallable(self) -> bool {
        matches!(self, State::Running | State::Starting | State::Stopping)
    }
}

/// `autorestart=`: false, unexpected (the 4.x default) or true.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRestart {
    Never,
    Unexpected,
    Always,
}

/// The parts of a program's configuration the state machine needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub name: String,
    pub autostart: bool,
    pub autorestart: AutoRestart,
    pub startsecs: u64,
    pub startretries: u32,
    pub exitcodes: Vec<i32>,
    pub stopsignal: i32,
    pub stopwaitsecs: u64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
}

/// A moment, as both clocks see it: deadlines use the monotonic one, the
/// start/stop times that clients read use the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub mono: Instant,
    pub wall: SystemTime,
}

/// How a child ended, as waitpid reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Code(i32),
    Signal { signal: i32, core_dumped: bool },
}

/// Everything the machine remembers about one process between events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub state: State,
    /// Pid of the live child; 0 when none.
    pub pid: u32,
    /// Consecutive failed starts (4.3's `backoff` counter).
    pub backoff: u32,
    /// The one pending deadline, if any (startsecs, backoff delay, stopwaitsecs).
    pub deadline: Option<Instant>,
    pub laststart: Option<Now>,
    pub laststop: Option<Now>,
    /// 4.3's `exitstatus`: the last exit code (-1 when killed by a signal).
    pub exitstatus: Option<i32>,
    pub spawnerr: Option<String>,
    /// A stop signal was sent and not yet answered by an exit (4.3's `killing`).
    pub killing: bool,
    pub administrative_stop: bool,
}

impl Record {
    pub fn new() -> Self {
        Record {
            state: State::Stopped,
            pid: 0,
            backoff: 0,
            deadline: None,
            laststart: None,
            laststop: None,
            exitstatus: None,
            spawnerr: None,
            killing: false,
            administrative_stop: false,
        }
    }
}

impl Default for Record {
    fn default() -> Self {
        Self::new()
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// supervisord started or the group was added: start if `autostart`.
    AutoStart,
    /// An operator asked for a start (startProcess, start all, web page).
    Start,
    /// An operator asked for a stop (stopProcess, stop all).
    Stop,
    /// supervisord is shutting down or restarting: like Stop, but a process
    /// in BACKOFF gives up (FATAL) instead of stopping, as 4.3's stop_all.
    Shutdown,
    /// The child was forked and exec'd.
    Spawned { pid: u32 },
    /// The child could not be started (command missing, fork failed, ...).
    SpawnFailed { error: String },
    /// The child was reaped.
    Exited { status: ExitStatus },
    /// Sending a signal failed for a reason other than "no such process".
    SignalFailed { error: String },
    /// The pending deadline passed.
    Deadline,
}

/// Log levels the machine asks for (mapped onto the main log's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Critical,
    Warn,
    Info,
    Debug,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start the child now; core answers with `Spawned` or `SpawnFailed`.
    Spawn,
    /// Send `signal` to the child's pid, or to its process group when `group`.
    Signal { signal: i32, group: bool },
    /// Make `Record::deadline` the one pending timer (already stored in the record).
    ArmDeadline(Instant),
    /// Drop the pending timer.
    CancelDeadline,
    /// A line for the main log, in 4.3's words.
    Log { level: LogLevel, message: String },
    /// The state changed; core wakes waiters and refreshes views.
    Transition { from: State, to: State },
}

/// Whether the daemon lets processes (re)start: false while it shuts down or
/// restarts, as 4.3's `mood > RESTARTING` check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    pub now: Now,
    pub may_start: bool,
}

/// Applies one event to one process record and returns the actions.
pub fn step(_rec: &mut Record, _params: &Params, _event: Event, _ctx: Ctx) -> Vec<Action> {
    todo!("state machine")
}
