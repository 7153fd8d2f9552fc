//! The process state machine, pure: `step` takes a record, the program's
//! parameters, an event and the time, and returns the actions to perform.
//! It never reads the clock, calls the system, logs or touches a channel, so
//! every edge of Supervisor's state graph can be tested exhaustively.

use std::time::{Duration, Instant, SystemTime};

use super::signals;

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
        matches!(
            self,
            State::Stopped | State::Exited | State::Fatal | State::Unknown
        )
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
    /// `ready=` other than startsecs: what STARTING waits for (e.g. `tcp
    /// 127.0.0.1:8080`); RUNNING comes with a `Ready` event, not startsecs.
    pub ready: Option<String>,
    /// Seconds a `ready` process may take before its start fails.
    pub ready_timeout: u64,
    /// `watchdog_sec=`: a RUNNING process is killed when its watchdog runs out.
    pub watchdog_sec: Option<u64>,
    /// `startretries=infinite`: never FATAL.
    pub infinite_retries: bool,
    /// `backoff_max=`: exponential delays (1, 2, 4 ... s) up to this, with jitter.
    pub backoff_max: Option<u64>,
    /// `essential=true`: its exit ends the daemon's run (the core begins
    /// the shutdown), so the machine never restarts it after RUNNING.
    pub essential: bool,
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
    /// The readiness check failed and the child was killed: its exit is a
    /// failed start.
    pub ready_failed: bool,
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
            ready_failed: false,
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
    /// The `ready=` check passed.
    Ready,
    /// The `ready=` check failed for good (why, for spawnerr).
    NotReady { why: String },
    /// A `watchdog_sec=` process let its watchdog run out (no `WATCHDOG=1`
    /// in time): it is hung, so it is killed and its exit is unexpected.
    WatchdogExpired,
    /// SIGKILL now, without waiting for stopwaitsecs (to the process group
    /// with killasgroup): a second TERM while supervisord stops.
    Kill,
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
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ctx {
    pub now: Now,
    pub may_start: bool,
    /// A random number in [0, 1) for backoff jitter (the machine has no
    /// randomness of its own).
    pub jitter: f64,
}

/// Applies one event to one process record and returns the actions.
///
/// One row per (state, event) cell, "nothing happens" included, so the whole
/// of 4.3's state graph can be read and reviewed in one place. Where 4.3
/// re-checks on its one-second poll, this machine keeps a single deadline in
/// `Record::deadline` and reacts when `Event::Deadline` arrives for it.
///
/// A `Deadline` that is not due (none armed, or `now` before it) is stale: it
/// was queued before an event that replaced the timer, and is ignored.
pub fn step(rec: &mut Record, params: &Params, event: Event, ctx: Ctx) -> Vec<Action> {
    if event == Event::Deadline && !take_due_deadline(rec, ctx.now.mono) {
        return Vec::new();
    }
    let mut m = Machine {
        rec,
        params,
        ctx,
        actions: Vec::new(),
    };
    use Event as E;
    use State as S;
    match (m.rec.state, event) {
        // STOPPED: never started, stopped by an operator, or stopped from BACKOFF.
        (S::Stopped, E::AutoStart) => m.autostart(),
        (S::Stopped, E::Start) => m.spawn(),
        (S::Stopped, E::Stop) => {} // refused as NOT_RUNNING before it gets here
        (S::Stopped, E::Shutdown) => {}
        (S::Stopped, E::Spawned { .. }) => {} // no spawn pending
        (S::Stopped, E::SpawnFailed { .. }) => {}
        (S::Stopped, E::Exited { .. }) => {} // no child
        (S::Stopped, E::SignalFailed { .. }) => {}
        (S::Stopped, E::Deadline) => {}
        (S::Stopped, E::Ready) => {}
        (S::Stopped, E::NotReady { .. }) => {}
        (S::Stopped, E::WatchdogExpired) => {}
        (S::Stopped, E::Kill) => {}

        // STARTING: spawned (or about to be), waiting for startsecs.
        (S::Starting, E::AutoStart) => {}
        (S::Starting, E::Start) => {} // ALREADY_STARTED
        (S::Starting, E::Stop) => m.stop(),
        (S::Starting, E::Shutdown) => m.stop(),
        (S::Starting, E::Spawned { pid }) => m.spawned(pid),
        (S::Starting, E::SpawnFailed { error }) => m.spawn_failed(error),
        (S::Starting, E::Exited { status }) => m.exited_while_starting(status),
        (S::Starting, E::SignalFailed { error }) => m.signal_failed(error),
        (S::Starting, E::Deadline) => m.starting_deadline(),
        (S::Starting, E::Ready) => m.ready(),
        (S::Starting, E::NotReady { why }) => m.not_ready(why),
        (S::Starting, E::WatchdogExpired) => {}
        (S::Starting, E::Kill) => m.kill_now(),

        // RUNNING: stayed up for startsecs.
        (S::Running, E::AutoStart) => {}
        (S::Running, E::Start) => {} // ALREADY_STARTED
        (S::Running, E::Stop) => m.stop(),
        (S::Running, E::Shutdown) => m.stop(),
        (S::Running, E::Spawned { .. }) => {}
        (S::Running, E::SpawnFailed { .. }) => {}
        (S::Running, E::Exited { status }) => m.exited_on_its_own(status),
        (S::Running, E::SignalFailed { error }) => m.signal_failed(error),
        (S::Running, E::Deadline) => {}
        (S::Running, E::Ready) => {} // readiness came after RUNNING (startsecs)
        (S::Running, E::NotReady { .. }) => {}
        (S::Running, E::WatchdogExpired) => m.watchdog_expired(),
        (S::Running, E::Kill) => m.kill_now(),

        // BACKOFF: the last start failed; retry at the deadline.
        (S::Backoff, E::AutoStart) => {}
        (S::Backoff, E::Start) => m.spawn(), // 4.3's spawn() accepts BACKOFF
        (S::Backoff, E::Stop) => m.stop(),
        (S::Backoff, E::Shutdown) => m.give_up(),
        (S::Backoff, E::Spawned { .. }) => {}
        (S::Backoff, E::SpawnFailed { .. }) => {}
        (S::Backoff, E::Exited { .. }) => {} // no child
        (S::Backoff, E::SignalFailed { .. }) => {}
        (S::Backoff, E::Deadline) => m.retry_after_backoff(),
        (S::Backoff, E::Ready) => {}
        (S::Backoff, E::NotReady { .. }) => {}
        (S::Backoff, E::WatchdogExpired) => {}
        (S::Backoff, E::Kill) => {} // no child to kill

        // STOPPING: the stop signal went out; SIGKILL at the deadline.
        (S::Stopping, E::AutoStart) => {}
        (S::Stopping, E::Start) => {}    // refused before it gets here
        (S::Stopping, E::Stop) => {}     // NOT_RUNNING: the signal is already out
        (S::Stopping, E::Shutdown) => {} // stop_all leaves STOPPING alone
        (S::Stopping, E::Spawned { .. }) => {}
        (S::Stopping, E::SpawnFailed { .. }) => {}
        (S::Stopping, E::Exited { status }) => m.exited_after_kill(status),
        (S::Stopping, E::SignalFailed { error }) => m.signal_failed(error),
        (S::Stopping, E::Deadline) => m.kill_after_stopwaitsecs(),
        (S::Stopping, E::Ready) => {}
        (S::Stopping, E::NotReady { .. }) => {}
        (S::Stopping, E::WatchdogExpired) => {}
        (S::Stopping, E::Kill) => m.kill_now(),

        // EXITED: ended on its own after reaching RUNNING.
        (S::Exited, E::AutoStart) => {} // started before
        (S::Exited, E::Start) => m.spawn(),
        (S::Exited, E::Stop) => {}
        (S::Exited, E::Shutdown) => {}
        (S::Exited, E::Spawned { .. }) => {}
        (S::Exited, E::SpawnFailed { .. }) => {}
        (S::Exited, E::Exited { .. }) => {}
        (S::Exited, E::SignalFailed { .. }) => {}
        (S::Exited, E::Deadline) => {}
        (S::Exited, E::Ready) => {}
        (S::Exited, E::NotReady { .. }) => {}
        (S::Exited, E::WatchdogExpired) => {}
        (S::Exited, E::Kill) => {}

        // FATAL: gave up after too many failed starts.
        (S::Fatal, E::AutoStart) => {}
        (S::Fatal, E::Start) => m.spawn(),
        (S::Fatal, E::Stop) => {}
        (S::Fatal, E::Shutdown) => {}
        (S::Fatal, E::Spawned { .. }) => {}
        (S::Fatal, E::SpawnFailed { .. }) => {}
        (S::Fatal, E::Exited { .. }) => {}
        (S::Fatal, E::SignalFailed { .. }) => {}
        (S::Fatal, E::Deadline) => {}
        (S::Fatal, E::Ready) => {}
        (S::Fatal, E::NotReady { .. }) => {}
        (S::Fatal, E::WatchdogExpired) => {}
        (S::Fatal, E::Kill) => {}

        // UNKNOWN: a signal could not be sent; the child may still live.
        (S::Unknown, E::AutoStart) => {}
        (S::Unknown, E::Start) => {} // FAILED "in an unknown process state"
        (S::Unknown, E::Stop) => {}
        (S::Unknown, E::Shutdown) => {}
        (S::Unknown, E::Spawned { .. }) => {}
        (S::Unknown, E::SpawnFailed { .. }) => {}
        (S::Unknown, E::Exited { status }) => m.exited_while_unknown(status),
        (S::Unknown, E::SignalFailed { .. }) => {}
        (S::Unknown, E::Deadline) => {}
        (S::Unknown, E::Ready) => {}
        (S::Unknown, E::NotReady { .. }) => {}
        (S::Unknown, E::WatchdogExpired) => {}
        (S::Unknown, E::Kill) => {} // we lost track of the child
    }
    m.actions
}

/// How 4.3's `decode_wait_status` reports an exit: the status it stores
/// (-1 for a signal) and the words it logs.
pub fn decode_exit(status: ExitStatus) -> (i32, String) {
    match status {
        ExitStatus::Code(code) => (code, format!("exit status {code}")),
        ExitStatus::Signal {
            signal,
            core_dumped,
        } => {
            let core = if core_dumped { " (core dumped)" } else { "" };
            (-1, format!("terminated by {}{core}", signals::name(signal)))
        }
    }
}

/// The spawnerr 4.3 records when a child dies before startsecs.
pub const EXITED_TOO_QUICKLY: &str = "Exited too quickly (process log may have details)";

/// SIGKILL, the signal that follows an unanswered stop signal.
const SIGKILL: i32 = 9;

/// 4.3 repeats an unanswered SIGKILL on its one-second poll; with
/// `stopwaitsecs=0` an event-driven repeat would spin, so repeats wait at
/// least this long.
const MIN_KILL_REPEAT: Duration = Duration::from_secs(1);

/// Clears the deadline if it is due and says so; a fired timer is spent.
fn take_due_deadline(rec: &mut Record, now: Instant) -> bool {
    match rec.deadline {
        Some(at) if now >= at => {
            rec.deadline = None;
            true
        }
        _ => false,
    }
}

/// One `step` in progress: the record, what it needs to decide, and the
/// actions decided so far. Method names follow 4.3's where they match one.
struct Machine<'a> {
    rec: &'a mut Record,
    params: &'a Params,
    ctx: Ctx,
    actions: Vec<Action>,
}

impl Machine<'_> {
    fn log(&mut self, level: LogLevel, message: String) {
        self.actions.push(Action::Log { level, message });
    }

    fn name(&self) -> &str {
        &self.params.name
    }

    fn at(&self, wait: Duration) -> Option<Instant> {
        // A wait too long to represent is a wait forever: no timer at all.
        self.ctx.now.mono.checked_add(wait)
    }

    fn set_deadline(&mut self, deadline: Option<Instant>) {
        if self.rec.deadline == deadline {
            return;
        }
        self.rec.deadline = deadline;
        self.actions.push(match deadline {
            Some(at) => Action::ArmDeadline(at),
            None => Action::CancelDeadline,
        });
    }

    /// 4.3's change_state: entering BACKOFF counts a failed start. STARTING,
    /// RUNNING and the stopped states own no deadline; BACKOFF and STOPPING
    /// arm theirs where they are entered.
    fn change_state(&mut self, to: State) {
        let from = self.rec.state;
        if from == to {
            return;
        }
        self.rec.state = to;
        match to {
            State::Backoff => self.rec.backoff = self.rec.backoff.saturating_add(1),
            State::Stopping => {}
            _ => self.set_deadline(None),
        }
        self.actions.push(Action::Transition { from, to });
    }

    /// 4.3's transition() for a never-started STOPPED process.
    fn autostart(&mut self) {
        if self.params.autostart && self.rec.laststart.is_none() && self.ctx.may_start {
            self.spawn();
        }
    }

    /// 4.3's spawn() up to the fork: core performs the fork and answers.
    fn spawn(&mut self) {
        self.rec.killing = false;
        self.rec.ready_failed = false;
        self.rec.spawnerr = None;
        self.rec.exitstatus = None;
        self.rec.administrative_stop = false;
        self.rec.laststart = Some(self.ctx.now);
        self.change_state(State::Starting);
        self.actions.push(Action::Spawn);
    }

    /// 4.3's _spawn_as_parent, plus the STARTING -> RUNNING step its next
    /// transition() takes at once when startsecs is 0.
    fn spawned(&mut self, pid: u32) {
        self.rec.pid = pid;
        let message = format!("spawned: '{}' with pid {pid}", self.name());
        self.log(LogLevel::Info, message);
        self.rec.spawnerr = None;
        // Measured from laststart, as 4.3's transition() measures it.
        let started = self.rec.laststart.map_or(self.ctx.now.mono, |at| at.mono);
        if self.params.ready.is_some() {
            let deadline = started.checked_add(Duration::from_secs(self.params.ready_timeout));
            self.set_deadline(deadline);
            return;
        }
        if self.params.startsecs == 0 {
            self.enter_running();
            return;
        }
        let deadline = started.checked_add(Duration::from_secs(self.params.startsecs));
        self.set_deadline(deadline);
    }

    /// STARTING's deadline: startsecs passed (RUNNING), or, with `ready=`,
    /// the ready timeout did (a failed start).
    fn starting_deadline(&mut self) {
        match &self.params.ready {
            None => self.enter_running(),
            Some(label) => {
                let why = format!(
                    "not ready within {} seconds ({label})",
                    self.params.ready_timeout
                );
                self.not_ready(why);
            }
        }
    }

    /// The `ready=` check passed: RUNNING, as startsecs would have made it.
    fn ready(&mut self) {
        let Some(label) = self.params.ready.clone() else {
            return;
        };
        if self.rec.ready_failed {
            return;
        }
        self.rec.backoff = 0;
        self.change_state(State::Running);
        let message = format!(
            "success: {} entered RUNNING state, process is ready ({label})",
            self.name()
        );
        self.log(LogLevel::Info, message);
    }

    /// The `ready=` check failed: the child is killed and its exit is a
    /// failed start (BACKOFF, the usual retries), with `why` as spawnerr.
    fn not_ready(&mut self, why: String) {
        if self.params.ready.is_none() || self.rec.ready_failed {
            return;
        }
        self.rec.ready_failed = true;
        self.rec.spawnerr = Some(why.clone());
        self.log(LogLevel::Warn, format!("{}: {why}", self.name()));
        self.set_deadline(None);
        self.actions.push(Action::Signal {
            signal: 9,
            group: self.params.killasgroup,
        });
    }

    /// The watchdog ran out on a RUNNING process: SIGKILL (a hung process
    /// may not heed anything else); the exit that follows is unexpected, so
    /// autorestart decides what comes next, as systemd's Restart=on-watchdog.
    fn watchdog_expired(&mut self) {
        let Some(seconds) = self.params.watchdog_sec else {
            return;
        };
        let message = format!(
            "{}: watchdog timeout (no WATCHDOG=1 within {seconds} seconds)",
            self.name()
        );
        self.log(LogLevel::Warn, message);
        self.actions.push(Action::Signal {
            signal: 9,
            group: self.params.killasgroup,
        });
    }

    /// 4.3's record_spawnerr followed by STARTING -> BACKOFF.
    fn spawn_failed(&mut self, error: String) {
        self.log(LogLevel::Info, format!("spawnerr: {error}"));
        self.rec.spawnerr = Some(error);
        self.change_state(State::Backoff);
        self.settle_backoff();
    }

    /// After entering BACKOFF: wait `backoff` seconds for the retry, or give
    /// up at once when the retries are used up (4.3 does so on its next poll).
    fn settle_backoff(&mut self) {
        if !self.params.infinite_retries && self.rec.backoff > self.params.startretries {
            self.give_up();
            let message = format!(
                "gave up: {} entered FATAL state, too many start retries too quickly",
                self.name()
            );
            self.log(LogLevel::Info, message);
        } else {
            let deadline = self.at(self.backoff_delay());
            self.set_deadline(deadline);
        }
    }

    /// 4.3's ladder (n seconds after the n-th failure); with `backoff_max`,
    /// 1, 2, 4 ... seconds up to it, less up to a quarter at random, so a
    /// fleet does not retry in lockstep.
    fn backoff_delay(&self) -> Duration {
        let n = self.rec.backoff;
        let Some(max) = self.params.backoff_max else {
            return Duration::from_secs(u64::from(n));
        };
        let exponent = n.saturating_sub(1).min(62);
        let base = (1u64 << exponent).min(max.max(1));
        let jitter = self.ctx.jitter.clamp(0.0, 1.0);
        Duration::from_secs(base).mul_f64(1.0 - 0.25 * jitter)
    }

    /// The BACKOFF deadline passed: 4.3's transition() spawns again unless
    /// supervisord is stopping (then stop_all's Shutdown makes it FATAL).
    fn retry_after_backoff(&mut self) {
        let retries_left =
            self.params.infinite_retries || self.rec.backoff <= self.params.startretries;
        if self.ctx.may_start && retries_left {
            self.spawn();
        }
    }

    /// 4.3's give_up: BACKOFF -> FATAL, the counter starts over.
    fn give_up(&mut self) {
        self.rec.backoff = 0;
        self.change_state(State::Fatal);
    }

    /// The startsecs deadline passed with the child alive.
    fn enter_running(&mut self) {
        self.rec.backoff = 0;
        self.change_state(State::Running);
        let message = format!(
            "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
            self.name(),
            self.params.startsecs
        );
        self.log(LogLevel::Info, message);
    }

    /// 4.3's stop(): an administrative kill with the stop signal.
    fn stop(&mut self) {
        self.rec.administrative_stop = true;
        self.kill(self.params.stopsignal, self.stop_wait());
    }

    fn stop_wait(&self) -> Duration {
        Duration::from_secs(self.params.stopwaitsecs)
    }

    /// The stopwaitsecs deadline passed with the child alive.
    fn kill_after_stopwaitsecs(&mut self) {
        let message = format!("killing '{}' ({}) with SIGKILL", self.name(), self.rec.pid);
        self.log(LogLevel::Warn, message);
        self.kill(SIGKILL, self.stop_wait().max(MIN_KILL_REPEAT));
    }

    /// Event::Kill: SIGKILL at once, as the stopwaitsecs deadline would,
    /// to the process group with killasgroup; repeated if unanswered.
    fn kill_now(&mut self) {
        if self.rec.pid == 0 {
            return;
        }
        let as_group = if self.params.killasgroup {
            "process group "
        } else {
            ""
        };
        let message = format!(
            "killing {} (pid {}) {as_group}with signal SIGKILL",
            self.name(),
            self.rec.pid
        );
        self.log(LogLevel::Warn, message);
        self.rec.administrative_stop = true;
        self.rec.killing = true;
        let deadline = self.at(self.stop_wait().max(MIN_KILL_REPEAT));
        self.set_deadline(deadline);
        self.change_state(State::Stopping);
        self.actions.push(Action::Signal {
            signal: SIGKILL,
            group: self.params.killasgroup,
        });
    }

    /// 4.3's kill(): BACKOFF stops at once; otherwise signal the child (or
    /// its group) and wait `wait` for it to exit.
    fn kill(&mut self, signal: i32, wait: Duration) {
        let signame = signals::name(signal);
        if self.rec.state == State::Backoff {
            let message = format!(
                "Attempted to kill {}, which is in BACKOFF state.",
                self.name()
            );
            self.log(LogLevel::Debug, message);
            self.change_state(State::Stopped);
            return;
        }
        if self.rec.pid == 0 {
            let message = format!(
                "attempted to kill {} with sig {signame} but it wasn't running",
                self.name()
            );
            self.log(LogLevel::Debug, message);
            return;
        }
        // The first signal is the stop signal; once STOPPING, it is SIGKILL.
        let group = if self.rec.state == State::Stopping {
            self.params.killasgroup
        } else {
            self.params.stopasgroup
        };
        let as_group = if group { "process group " } else { "" };
        let message = format!(
            "killing {} (pid {}) {as_group}with signal {signame}",
            self.name(),
            self.rec.pid
        );
        self.log(LogLevel::Debug, message);
        self.rec.killing = true;
        let deadline = self.at(wait);
        self.set_deadline(deadline);
        self.change_state(State::Stopping);
        self.actions.push(Action::Signal { signal, group });
    }

    /// 4.3's kill()/signal() failure branch: we no longer know the child.
    fn signal_failed(&mut self, error: String) {
        let what = if self.rec.state == State::Stopping {
            "killing"
        } else {
            "sending sig"
        };
        let message = format!(
            "unknown problem {what} {} ({}):{error}",
            self.name(),
            self.rec.pid
        );
        self.log(LogLevel::Critical, message);
        self.change_state(State::Unknown);
        self.rec.killing = false;
    }

    /// The parts of 4.3's finish() every reaped child goes through.
    fn reaped(&mut self, status: ExitStatus) -> (i32, String, bool) {
        let (exitstatus, words) = decode_exit(status);
        self.rec.laststop = Some(self.ctx.now);
        self.rec.pid = 0;
        let expected = self.params.exitcodes.contains(&exitstatus);
        (exitstatus, words, expected)
    }

    /// finish() with `killing` set: STOPPING -> STOPPED.
    fn exited_after_kill(&mut self, status: ExitStatus) {
        let (exitstatus, words, expected) = self.reaped(status);
        self.rec.killing = false;
        self.rec.exitstatus = Some(exitstatus);
        self.change_state(State::Stopped);
        let level = if expected {
            LogLevel::Info
        } else {
            LogLevel::Warn
        };
        let message = format!("stopped: {} ({words})", self.name());
        self.log(level, message);
    }

    /// finish() for a STARTING child: before startsecs it is a failed start
    /// (BACKOFF); after, the exit of a process that made it (4.3 passes
    /// through RUNNING without the "success" line).
    fn exited_while_starting(&mut self, status: ExitStatus) {
        if self.params.ready.is_none() && !self.exited_too_quickly() {
            self.rec.backoff = 0;
            self.change_state(State::Running);
            self.exited_on_its_own(status);
            return;
        }
        let (_, words, _) = self.reaped(status);
        self.rec.exitstatus = None;
        if !self.rec.ready_failed {
            // Before it was ready, or within startsecs.
            self.rec.spawnerr = Some(EXITED_TOO_QUICKLY.to_string());
        }
        self.rec.killing = false;
        self.change_state(State::Backoff);
        let message = format!("exited: {} ({words}; not expected)", self.name());
        self.log(LogLevel::Warn, message);
        self.settle_backoff();
    }

    fn exited_too_quickly(&self) -> bool {
        let Some(laststart) = self.rec.laststart else {
            return false;
        };
        let lived = self.ctx.now.mono.saturating_duration_since(laststart.mono);
        lived < Duration::from_secs(self.params.startsecs)
    }

    /// finish() for a RUNNING child: RUNNING -> EXITED, then 4.3's
    /// transition() restarts it as autorestart says, unless supervisord is
    /// stopping.
    fn exited_on_its_own(&mut self, status: ExitStatus) {
        self.record_exit(status);
        let restart = match self.params.autorestart {
            AutoRestart::Always => true,
            AutoRestart::Unexpected => self
                .rec
                .exitstatus
                .is_some_and(|code| !self.params.exitcodes.contains(&code)),
            AutoRestart::Never => false,
        };
        if restart && self.ctx.may_start && !self.params.essential {
            self.spawn();
        }
    }

    /// The child of an UNKNOWN process ended. 4.3 would fail an assertion
    /// here; we record the exit (-> EXITED, so it can be started again) but
    /// do not restart what we lost track of.
    fn exited_while_unknown(&mut self, status: ExitStatus) {
        self.rec.killing = false;
        self.record_exit(status);
    }

    fn record_exit(&mut self, status: ExitStatus) {
        let (exitstatus, words, expected) = self.reaped(status);
        self.rec.backoff = 0;
        self.rec.exitstatus = Some(exitstatus);
        if expected {
            self.change_state(State::Exited);
            let message = format!("exited: {} ({words}; expected)", self.name());
            self.log(LogLevel::Info, message);
        } else {
            self.rec.spawnerr = Some(format!("Bad exit code {exitstatus}"));
            self.change_state(State::Exited);
            let message = format!("exited: {} ({words}; not expected)", self.name());
            self.log(LogLevel::Warn, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;
    use std::time::UNIX_EPOCH;

    // ---- fixtures -------------------------------------------------------

    /// The one real Instant the tests use; every other moment is built from
    /// it, so no test depends on how long it runs.
    fn base() -> Instant {
        static BASE: OnceLock<Instant> = OnceLock::new();
        *BASE.get_or_init(Instant::now)
    }

    /// The moment `ms` milliseconds after the base (the wall clock agrees).
    fn at_ms(ms: u64) -> Now {
        Now {
            mono: base() + Duration::from_millis(ms),
            wall: UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(ms),
        }
    }

    fn at(secs: u64) -> Now {
        at_ms(secs * 1000)
    }

    fn mono_ms(ms: u64) -> Instant {
        at_ms(ms).mono
    }

    fn ctx(now: Now) -> Ctx {
        Ctx {
            now,
            may_start: true,
            jitter: 0.0,
        }
    }

    fn params() -> Params {
        Params {
            name: "web".to_string(),
            autostart: true,
            autorestart: AutoRestart::Unexpected,
            startsecs: 1,
            startretries: 3,
            exitcodes: vec![0],
            stopsignal: 15,
            stopwaitsecs: 10,
            stopasgroup: false,
            killasgroup: false,
            ready: None,
            ready_timeout: 60,
            watchdog_sec: Some(5),
            infinite_retries: false,
            backoff_max: None,
            essential: false,
        }
    }

    const SIGTERM: i32 = 15;

    fn spawned(pid: u32) -> Event {
        Event::Spawned { pid }
    }

    fn exited(code: i32) -> Event {
        Event::Exited {
            status: ExitStatus::Code(code),
        }
    }

    fn killed_by(signal: i32) -> Event {
        Event::Exited {
            status: ExitStatus::Signal {
                signal,
                core_dumped: false,
            },
        }
    }

    fn log(level: LogLevel, message: &str) -> Action {
        Action::Log {
            level,
            message: message.to_string(),
        }
    }

    fn transition(from: State, to: State) -> Action {
        Action::Transition { from, to }
    }

    fn states_passed(actions: &[Action]) -> Vec<State> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Transition { to, .. } => Some(*to),
                _ => None,
            })
            .collect()
    }

    fn logs(actions: &[Action]) -> Vec<(LogLevel, String)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Log { level, message } => Some((*level, message.clone())),
                _ => None,
            })
            .collect()
    }

    /// Drives one record through events, like core would.
    struct Sim {
        rec: Record,
        params: Params,
        may_start: bool,
    }

    impl Sim {
        fn new(params: Params) -> Self {
            Sim {
                rec: Record::new(),
                params,
                may_start: true,
            }
        }

        fn at(&mut self, now: Now, event: Event) -> Vec<Action> {
            let ctx = Ctx {
                jitter: 0.0,
                now,
                may_start: self.may_start,
            };
            step(&mut self.rec, &self.params, event, ctx)
        }

        /// Fires the armed deadline at exactly its moment.
        fn fire(&mut self) -> Vec<Action> {
            let due = self.rec.deadline.expect("a deadline is armed");
            let now = Now {
                mono: due,
                wall: UNIX_EPOCH + due.duration_since(base()),
            };
            self.at(now, Event::Deadline)
        }

        /// Start at `t` seconds and report the child spawned with `pid`.
        fn start(&mut self, secs: u64, pid: u32) {
            let actions = self.at(at(secs), Event::Start);
            assert!(actions.contains(&Action::Spawn), "{actions:?}");
            self.at(at(secs), spawned(pid));
        }

        fn running(params: Params, pid: u32) -> Self {
            let mut sim = Sim::new(params);
            sim.start(0, pid);
            if sim.rec.state == State::Starting {
                sim.fire();
            }
            assert_eq!(sim.rec.state, State::Running);
            sim
        }
    }

    // ---- container mode (keys beyond 4.3) --------------------------------------

    #[test]
    fn an_essential_program_is_never_restarted_after_running() {
        for autorestart in [AutoRestart::Always, AutoRestart::Unexpected] {
            let mut sim = Sim::running(
                Params {
                    essential: true,
                    autorestart,
                    ..params()
                },
                7,
            );
            let actions = sim.at(at(100), exited(1));
            assert_eq!(sim.rec.state, State::Exited, "{autorestart:?}");
            assert!(!actions.contains(&Action::Spawn), "{actions:?}");
            assert_eq!(sim.rec.exitstatus, Some(1));
        }
        // A failed start is still retried: only FATAL ends the run.
        let mut sim = Sim::new(Params {
            essential: true,
            ..params()
        });
        sim.start(0, 7);
        sim.at(at_ms(100), exited(1));
        assert_eq!(sim.rec.state, State::Backoff);
    }

    #[test]
    fn kill_sends_sigkill_at_once_to_the_group_with_killasgroup() {
        let mut sim = Sim::running(
            Params {
                stopasgroup: true,
                killasgroup: true,
                stopwaitsecs: 60,
                ..params()
            },
            7,
        );
        sim.at(at(100), Event::Stop);
        assert_eq!(sim.rec.state, State::Stopping);
        let actions = sim.at(at(101), Event::Kill);
        assert!(
            actions.contains(&Action::Signal {
                signal: SIGKILL,
                group: true
            }),
            "{actions:?}"
        );
        assert!(actions.contains(&log(
            LogLevel::Warn,
            "killing web (pid 7) process group with signal SIGKILL"
        )));
        // The kill is repeated if unanswered; the exit is a stop.
        assert_eq!(sim.rec.deadline, Some(at(161).mono));
        sim.at(
            at(102),
            Event::Exited {
                status: ExitStatus::Signal {
                    signal: SIGKILL,
                    core_dumped: false,
                },
            },
        );
        assert_eq!(sim.rec.state, State::Stopped);
        // Without killasgroup, the pid alone.
        let mut sim = Sim::running(params(), 8);
        let actions = sim.at(at(100), Event::Kill);
        assert_eq!(sim.rec.state, State::Stopping);
        assert!(actions.contains(&Action::Signal {
            signal: SIGKILL,
            group: false
        }));
    }

    // ---- readiness and the restart policy (keys beyond 4.3) -------------------

    fn ready_params() -> Params {
        Params {
            ready: Some("tcp 127.0.0.1:8080".into()),
            ready_timeout: 5,
            ..params()
        }
    }

    #[test]
    fn a_ready_process_waits_for_its_check_not_startsecs() {
        let mut sim = Sim::new(ready_params());
        sim.start(10, 42);
        assert_eq!(sim.rec.state, State::Starting);
        assert_eq!(
            sim.rec.deadline,
            Some(mono_ms(15_000)),
            "ready_timeout, not startsecs"
        );
        let actions = sim.at(at(11), Event::Ready);
        assert_eq!(
            summary(&actions),
            "cancel, STARTING->RUNNING, info success:"
        );
        assert_eq!(sim.rec.state, State::Running);
        assert!(
            sim.at(at(12), Event::Ready).is_empty(),
            "RUNNING ignores it"
        );
    }

    #[test]
    fn a_ready_timeout_kills_the_child_and_its_exit_is_a_failed_start() {
        let mut sim = Sim::new(ready_params());
        sim.start(10, 42);
        let actions = sim.fire();
        assert_eq!(summary(&actions), "warn web:, sig 9");
        assert_eq!(
            sim.rec.spawnerr.as_deref(),
            Some("not ready within 5 seconds (tcp 127.0.0.1:8080)")
        );
        assert!(sim.at(at(16), Event::Ready).is_empty(), "too late");
        let actions = sim.at(at(16), killed_by(9));
        assert!(
            summary(&actions).starts_with("STARTING->BACKOFF"),
            "{actions:?}"
        );
        assert_eq!(sim.rec.state, State::Backoff);
        assert_eq!(
            sim.rec.spawnerr.as_deref(),
            Some("not ready within 5 seconds (tcp 127.0.0.1:8080)")
        );
    }

    #[test]
    fn a_failed_check_and_an_early_exit_are_failed_starts() {
        let mut sim = Sim::new(ready_params());
        sim.start(10, 42);
        let actions = sim.at(
            at(11),
            Event::NotReady {
                why: "fd 3 closed before the newline".into(),
            },
        );
        assert_eq!(summary(&actions), "warn web:, cancel, sig 9");
        sim.at(at(11), killed_by(9));
        assert_eq!(
            sim.rec.spawnerr.as_deref(),
            Some("fd 3 closed before the newline")
        );

        // Exiting while not ready yet is "exited too quickly", whatever startsecs.
        let mut sim = Sim::new(Params {
            startsecs: 0,
            ..ready_params()
        });
        sim.start(10, 42);
        assert_eq!(
            sim.rec.state,
            State::Starting,
            "startsecs=0 does not make it RUNNING"
        );
        sim.at(at(30), exited(0));
        assert_eq!(sim.rec.state, State::Backoff);
        assert_eq!(sim.rec.spawnerr.as_deref(), Some(EXITED_TOO_QUICKLY));
    }

    #[test]
    fn infinite_retries_never_give_up_and_backoff_max_bounds_exponential_delays() {
        let mut sim = Sim::new(Params {
            infinite_retries: true,
            startretries: 0,
            backoff_max: Some(8),
            ..params()
        });
        let mut delays = Vec::new();
        sim.start(0, 1);
        let mut now_ms = 0;
        for _ in 0..8 {
            sim.at(at_ms(now_ms), exited(1));
            assert_eq!(sim.rec.state, State::Backoff, "never FATAL");
            let due = sim.rec.deadline.expect("a retry is armed");
            delays.push(due.duration_since(mono_ms(now_ms)).as_millis());
            sim.fire();
            now_ms = due.duration_since(base()).as_millis() as u64;
            sim.at(at_ms(now_ms), spawned(1));
        }
        assert_eq!(delays, [1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000]);
        // Jitter takes up to a quarter off, never adds.
        let rec = &mut Record::new();
        rec.state = State::Starting;
        rec.laststart = Some(at(0));
        rec.pid = 1;
        let params = Params {
            infinite_retries: true,
            backoff_max: Some(8),
            startretries: 0,
            ..params()
        };
        let actions = step(
            rec,
            &params,
            exited(1),
            Ctx {
                now: at(0),
                may_start: true,
                jitter: 1.0,
            },
        );
        assert!(
            actions.contains(&Action::ArmDeadline(mono_ms(750))),
            "{actions:?}"
        );
    }

    #[test]
    fn without_the_new_keys_the_43_ladder_stays() {
        let mut sim = Sim::new(Params {
            startretries: 2,
            ..params()
        });
        sim.start(0, 1);
        sim.at(at(0), exited(1));
        assert_eq!(sim.rec.deadline, Some(mono_ms(1000)));
        sim.fire();
        sim.at(at(1), spawned(1));
        sim.at(at(1), exited(1));
        assert_eq!(sim.rec.deadline, Some(mono_ms(3000)));
        sim.fire();
        sim.at(at(3), spawned(1));
        sim.at(at(3), exited(1));
        assert_eq!(sim.rec.state, State::Fatal);
    }

    // ---- the whole table, one row per cell --------------------------------

    /// The moment every table event happens, except Deadline, which comes
    /// exactly when the fixture's deadline is due.
    const T: u64 = 100_000;

    /// A record as it would be in `state`, with a deadline armed where the
    /// state has one.
    fn fixture(state: State) -> Record {
        let mut rec = Record::new();
        rec.state = state;
        match state {
            State::Stopped => {}
            State::Starting => {
                rec.pid = 100;
                rec.laststart = Some(at_ms(T - 500));
                rec.deadline = Some(mono_ms(T + 500));
            }
            State::Running => {
                rec.pid = 100;
                rec.laststart = Some(at_ms(T - 60_000));
            }
            State::Backoff => {
                rec.backoff = 1;
                rec.laststart = Some(at_ms(T - 2000));
                rec.spawnerr = Some(EXITED_TOO_QUICKLY.to_string());
                rec.deadline = Some(mono_ms(T + 1000));
            }
            State::Stopping => {
                rec.pid = 100;
                rec.laststart = Some(at_ms(T - 60_000));
                rec.killing = true;
                rec.administrative_stop = true;
                rec.deadline = Some(mono_ms(T + 5000));
            }
            State::Exited => {
                rec.laststart = Some(at_ms(T - 60_000));
                rec.laststop = Some(at_ms(T - 1000));
                rec.exitstatus = Some(0);
            }
            State::Fatal => {
                rec.laststart = Some(at_ms(T - 10_000));
                rec.spawnerr = Some(EXITED_TOO_QUICKLY.to_string());
            }
            State::Unknown => {
                rec.pid = 100;
                rec.laststart = Some(at_ms(T - 60_000));
            }
        }
        rec
    }

    fn table_events() -> Vec<(&'static str, Event)> {
        vec![
            ("AutoStart", Event::AutoStart),
            ("Start", Event::Start),
            ("Stop", Event::Stop),
            ("Shutdown", Event::Shutdown),
            ("Spawned", spawned(200)),
            (
                "SpawnFailed",
                Event::SpawnFailed {
                    error: "boom".into(),
                },
            ),
            ("Exited", exited(1)),
            (
                "SignalFailed",
                Event::SignalFailed {
                    error: "EPERM".into(),
                },
            ),
            ("Deadline", Event::Deadline),
            ("Ready", Event::Ready),
            (
                "NotReady",
                Event::NotReady {
                    why: "tcp refused".into(),
                },
            ),
            ("WatchdogExpired", Event::WatchdogExpired),
            ("Kill", Event::Kill),
        ]
    }

    /// Actions in a compact form: deadlines as offsets from T, logs as
    /// level and first word.
    fn summary(actions: &[Action]) -> String {
        let words: Vec<String> = actions
            .iter()
            .map(|action| match action {
                Action::Spawn => "spawn".to_string(),
                Action::Signal { signal, group } => {
                    format!("sig {signal}{}", if *group { " group" } else { "" })
                }
                Action::ArmDeadline(when) => {
                    format!("arm +{}ms", when.duration_since(mono_ms(T)).as_millis())
                }
                Action::CancelDeadline => "cancel".to_string(),
                Action::Log { level, message } => {
                    let first = message.split(' ').next().unwrap_or("");
                    format!("{level:?} {first}").to_lowercase()
                }
                Action::Transition { from, to } => format!("{}->{}", from.name(), to.name()),
            })
            .collect();
        words.join(", ")
    }

    /// Every (state, event) cell: the state after and the actions.
    /// An empty action list also means the record is left untouched.
    #[rustfmt::skip]
    const TABLE: &[(State, &str, State, &str)] = {
        use State::*;
        &[
            (Stopped, "AutoStart", Starting, "STOPPED->STARTING, spawn"),
            (Stopped, "Start", Starting, "STOPPED->STARTING, spawn"),
            (Stopped, "Stop", Stopped, ""),
            (Stopped, "Shutdown", Stopped, ""),
            (Stopped, "Spawned", Stopped, ""),
            (Stopped, "SpawnFailed", Stopped, ""),
            (Stopped, "Exited", Stopped, ""),
            (Stopped, "SignalFailed", Stopped, ""),
            (Stopped, "Deadline", Stopped, ""),
            (Stopped, "Ready", Stopped, ""), // without ready=, readiness means nothing
            (Stopped, "NotReady", Stopped, ""),
            (Stopped, "WatchdogExpired", Stopped, ""),
            (Stopped, "Kill", Stopped, ""),
            //
            (Starting, "AutoStart", Starting, ""),
            (Starting, "Start", Starting, ""),
            (Starting, "Stop", Stopping, "debug killing, arm +10000ms, STARTING->STOPPING, sig 15"),
            (Starting, "Shutdown", Stopping, "debug killing, arm +10000ms, STARTING->STOPPING, sig 15"),
            // The fixture already waits for laststart + startsecs: nothing to re-arm.
            (Starting, "Spawned", Starting, "info spawned:"),
            (Starting, "SpawnFailed", Backoff, "info spawnerr:, STARTING->BACKOFF, arm +1000ms"),
            (Starting, "Exited", Backoff, "STARTING->BACKOFF, warn exited:, arm +1000ms"),
            (Starting, "SignalFailed", Unknown, "critical unknown, cancel, STARTING->UNKNOWN"),
            (Starting, "Deadline", Running, "STARTING->RUNNING, info success:"),
            (Starting, "Ready", Starting, ""), // without ready=, readiness means nothing
            (Starting, "NotReady", Starting, ""),
            (Starting, "WatchdogExpired", Starting, ""),
            (Starting, "Kill", Stopping, "warn killing, arm +10000ms, STARTING->STOPPING, sig 9"),
            //
            (Running, "AutoStart", Running, ""),
            (Running, "Start", Running, ""),
            (Running, "Stop", Stopping, "debug killing, arm +10000ms, RUNNING->STOPPING, sig 15"),
            (Running, "Shutdown", Stopping, "debug killing, arm +10000ms, RUNNING->STOPPING, sig 15"),
            (Running, "Spawned", Running, ""),
            (Running, "SpawnFailed", Running, ""),
            (Running, "Exited", Starting, "RUNNING->EXITED, warn exited:, EXITED->STARTING, spawn"),
            (Running, "SignalFailed", Unknown, "critical unknown, RUNNING->UNKNOWN"),
            (Running, "Deadline", Running, ""),
            (Running, "Ready", Running, ""), // without ready=, readiness means nothing
            (Running, "NotReady", Running, ""),
            (Running, "WatchdogExpired", Running, "warn web:, sig 9"), // SIGKILL; the exit restarts
            (Running, "Kill", Stopping, "warn killing, arm +10000ms, RUNNING->STOPPING, sig 9"),
            //
            (Backoff, "AutoStart", Backoff, ""),
            (Backoff, "Start", Starting, "cancel, BACKOFF->STARTING, spawn"),
            (Backoff, "Stop", Stopped, "debug attempted, cancel, BACKOFF->STOPPED"),
            (Backoff, "Shutdown", Fatal, "cancel, BACKOFF->FATAL"),
            (Backoff, "Spawned", Backoff, ""),
            (Backoff, "SpawnFailed", Backoff, ""),
            (Backoff, "Exited", Backoff, ""),
            (Backoff, "SignalFailed", Backoff, ""),
            (Backoff, "Deadline", Starting, "BACKOFF->STARTING, spawn"),
            (Backoff, "Ready", Backoff, ""), // without ready=, readiness means nothing
            (Backoff, "NotReady", Backoff, ""),
            (Backoff, "WatchdogExpired", Backoff, ""),
            (Backoff, "Kill", Backoff, ""),
            //
            (Stopping, "AutoStart", Stopping, ""),
            (Stopping, "Start", Stopping, ""),
            (Stopping, "Stop", Stopping, ""),
            (Stopping, "Shutdown", Stopping, ""),
            (Stopping, "Spawned", Stopping, ""),
            (Stopping, "SpawnFailed", Stopping, ""),
            (Stopping, "Exited", Stopped, "cancel, STOPPING->STOPPED, warn stopped:"),
            (Stopping, "SignalFailed", Unknown, "critical unknown, cancel, STOPPING->UNKNOWN"),
            (Stopping, "Deadline", Stopping, "warn killing, debug killing, arm +15000ms, sig 9"),
            (Stopping, "Ready", Stopping, ""), // without ready=, readiness means nothing
            (Stopping, "NotReady", Stopping, ""),
            (Stopping, "WatchdogExpired", Stopping, ""),
            (Stopping, "Kill", Stopping, "warn killing, arm +10000ms, sig 9"),
            //
            (Exited, "AutoStart", Exited, ""),
            (Exited, "Start", Starting, "EXITED->STARTING, spawn"),
            (Exited, "Stop", Exited, ""),
            (Exited, "Shutdown", Exited, ""),
            (Exited, "Spawned", Exited, ""),
            (Exited, "SpawnFailed", Exited, ""),
            (Exited, "Exited", Exited, ""),
            (Exited, "SignalFailed", Exited, ""),
            (Exited, "Deadline", Exited, ""),
            (Exited, "Ready", Exited, ""), // without ready=, readiness means nothing
            (Exited, "NotReady", Exited, ""),
            (Exited, "WatchdogExpired", Exited, ""),
            (Exited, "Kill", Exited, ""),
            //
            (Fatal, "AutoStart", Fatal, ""),
            (Fatal, "Start", Starting, "FATAL->STARTING, spawn"),
            (Fatal, "Stop", Fatal, ""),
            (Fatal, "Shutdown", Fatal, ""),
            (Fatal, "Spawned", Fatal, ""),
            (Fatal, "SpawnFailed", Fatal, ""),
            (Fatal, "Exited", Fatal, ""),
            (Fatal, "SignalFailed", Fatal, ""),
            (Fatal, "Deadline", Fatal, ""),
            (Fatal, "Ready", Fatal, ""), // without ready=, readiness means nothing
            (Fatal, "NotReady", Fatal, ""),
            (Fatal, "WatchdogExpired", Fatal, ""),
            (Fatal, "Kill", Fatal, ""),
            //
            (Unknown, "AutoStart", Unknown, ""),
            (Unknown, "Start", Unknown, ""),
            (Unknown, "Stop", Unknown, ""),
            (Unknown, "Shutdown", Unknown, ""),
            (Unknown, "Spawned", Unknown, ""),
            (Unknown, "SpawnFailed", Unknown, ""),
            (Unknown, "Exited", Exited, "UNKNOWN->EXITED, warn exited:"),
            (Unknown, "SignalFailed", Unknown, ""),
            (Unknown, "Deadline", Unknown, ""),
            (Unknown, "Ready", Unknown, ""), // without ready=, readiness means nothing
            (Unknown, "NotReady", Unknown, ""),
            (Unknown, "WatchdogExpired", Unknown, ""),
            (Unknown, "Kill", Unknown, ""),
        ]
    };

    #[test]
    fn every_cell_of_the_table() {
        let all_states = [
            State::Stopped,
            State::Starting,
            State::Running,
            State::Backoff,
            State::Stopping,
            State::Exited,
            State::Fatal,
            State::Unknown,
        ];
        let mut failures = Vec::new();
        let mut checked = 0;
        for state in all_states {
            for (event_name, event) in table_events() {
                let Some((_, _, want_state, want_actions)) = TABLE
                    .iter()
                    .find(|(s, e, _, _)| *s == state && *e == event_name)
                else {
                    failures.push(format!("no row for ({state:?}, {event_name})"));
                    continue;
                };
                let mut rec = fixture(state);
                let before = rec.clone();
                let now = match (&event, rec.deadline) {
                    (Event::Deadline, Some(due)) => Now {
                        mono: due,
                        wall: at_ms(T).wall,
                    },
                    _ => at_ms(T),
                };
                let actions = step(&mut rec, &params(), event, ctx(now));
                let got = summary(&actions);
                checked += 1;
                if rec.state != *want_state || got != *want_actions {
                    failures.push(format!(
                        "({state:?}, {event_name}): want {want_state:?} [{want_actions}], got {:?} [{got}]",
                        rec.state
                    ));
                }
                if actions.is_empty() && rec != before {
                    failures.push(format!(
                        "({state:?}, {event_name}): record changed silently"
                    ));
                }
                if want_actions.is_empty() && !actions.is_empty() {
                    failures.push(format!("({state:?}, {event_name}): acted"));
                }
            }
        }
        assert_eq!(checked, 104);
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn the_record_deadline_always_equals_the_armed_timer() {
        // Replays every table cell and checks that the actions leave the
        // timer core keeps where the record says it is.
        for state in [
            State::Stopped,
            State::Starting,
            State::Running,
            State::Backoff,
            State::Stopping,
            State::Exited,
            State::Fatal,
            State::Unknown,
        ] {
            for (event_name, event) in table_events() {
                let mut rec = fixture(state);
                let is_deadline = event == Event::Deadline;
                let mut timer = if is_deadline { None } else { rec.deadline };
                let now = match (is_deadline, rec.deadline) {
                    (true, Some(due)) => Now {
                        mono: due,
                        wall: at_ms(T).wall,
                    },
                    _ => at_ms(T),
                };
                if is_deadline && rec.deadline.is_none() {
                    timer = None;
                }
                for action in step(&mut rec, &params(), event, ctx(now)) {
                    match action {
                        Action::ArmDeadline(when) => timer = Some(when),
                        Action::CancelDeadline => timer = None,
                        _ => {}
                    }
                }
                assert_eq!(rec.deadline, timer, "({state:?}, {event_name})");
            }
        }
    }

    // ---- starting -------------------------------------------------------

    #[test]
    fn start_resets_the_last_run_and_asks_for_a_spawn() {
        let mut rec = fixture(State::Exited);
        rec.spawnerr = Some("Bad exit code 3".into());
        rec.exitstatus = Some(3);
        rec.administrative_stop = true;
        let actions = step(&mut rec, &params(), Event::Start, ctx(at(5)));
        assert_eq!(
            actions,
            vec![transition(State::Exited, State::Starting), Action::Spawn]
        );
        assert_eq!(rec.laststart, Some(at(5)));
        assert_eq!(rec.spawnerr, None);
        assert_eq!(rec.exitstatus, None);
        assert!(!rec.administrative_stop);
        assert!(!rec.killing);
        assert_eq!(rec.deadline, None);
    }

    #[test]
    fn spawned_logs_the_pid_and_waits_startsecs_from_laststart() {
        let mut sim = Sim::new(Params {
            startsecs: 5,
            ..params()
        });
        sim.at(at(10), Event::Start);
        let actions = sim.at(at_ms(10_200), spawned(4242));
        assert_eq!(
            actions,
            vec![
                log(LogLevel::Info, "spawned: 'web' with pid 4242"),
                Action::ArmDeadline(mono_ms(15_000)),
            ]
        );
        assert_eq!(sim.rec.pid, 4242);
        assert_eq!(sim.rec.state, State::Starting);
        let actions = sim.fire();
        assert_eq!(
            actions,
            vec![
                transition(State::Starting, State::Running),
                log(
                    LogLevel::Info,
                    "success: web entered RUNNING state, process has stayed up for > than 5 seconds (startsecs)"
                ),
            ]
        );
        assert_eq!(sim.rec.deadline, None);
    }

    #[test]
    fn startsecs_zero_is_running_as_soon_as_spawned() {
        let mut sim = Sim::new(Params {
            startsecs: 0,
            ..params()
        });
        sim.at(at(1), Event::Start);
        let actions = sim.at(at(1), spawned(7));
        assert_eq!(
            actions,
            vec![
                log(LogLevel::Info, "spawned: 'web' with pid 7"),
                transition(State::Starting, State::Running),
                log(
                    LogLevel::Info,
                    "success: web entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)"
                ),
            ]
        );
        assert_eq!(sim.rec.deadline, None);
        // An exit in the same instant is not "too quickly" with startsecs=0.
        let actions = sim.at(at(1), exited(0));
        assert_eq!(states_passed(&actions), vec![State::Exited]);
    }

    #[test]
    fn autostart_only_when_configured_never_started_and_allowed() {
        let mut sim = Sim::new(params());
        sim.may_start = false;
        assert!(sim.at(at(0), Event::AutoStart).is_empty());
        sim.may_start = true;
        assert_eq!(sim.at(at(0), Event::AutoStart).last(), Some(&Action::Spawn));

        let mut off = Sim::new(Params {
            autostart: false,
            ..params()
        });
        assert!(off.at(at(0), Event::AutoStart).is_empty());

        // Stopped again after a run: autostart does not apply any more.
        let mut sim = Sim::running(params(), 10);
        sim.at(at(20), Event::Stop);
        sim.at(at(21), killed_by(SIGTERM));
        assert_eq!(sim.rec.state, State::Stopped);
        assert!(sim.at(at(22), Event::AutoStart).is_empty());
    }

    #[test]
    fn a_manual_start_is_an_order_even_when_restarts_are_off() {
        // 4.3's RPC layer refuses starts while stopping; the machine obeys.
        let mut sim = Sim::new(params());
        sim.may_start = false;
        assert_eq!(sim.at(at(0), Event::Start).last(), Some(&Action::Spawn));
    }

    // ---- backoff and fatal ---------------------------------------------

    #[test]
    fn startretries_3_means_4_spawns_with_delays_of_1_2_3_seconds_then_fatal() {
        let mut sim = Sim::new(params()); // startretries = 3, startsecs = 1
        let mut spawns = 0;
        let mut now_ms = 0;
        assert_eq!(
            sim.at(at_ms(now_ms), Event::Start).last(),
            Some(&Action::Spawn)
        );
        spawns += 1;
        let mut delays = Vec::new();
        loop {
            sim.at(at_ms(now_ms), spawned(100 + spawns));
            now_ms += 100; // dies after 0.1 s: too quickly
            let actions = sim.at(at_ms(now_ms), exited(1));
            assert_eq!(
                logs(&actions).first(),
                Some(&(
                    LogLevel::Warn,
                    "exited: web (exit status 1; not expected)".to_string()
                ))
            );
            assert_eq!(sim.rec.spawnerr.as_deref(), Some(EXITED_TOO_QUICKLY));
            if sim.rec.state == State::Fatal {
                assert_eq!(states_passed(&actions), vec![State::Backoff, State::Fatal]);
                assert_eq!(
                    logs(&actions).last(),
                    Some(&(
                        LogLevel::Info,
                        "gave up: web entered FATAL state, too many start retries too quickly"
                            .to_string()
                    ))
                );
                break;
            }
            assert_eq!(sim.rec.state, State::Backoff);
            let due = sim.rec.deadline.expect("backoff deadline");
            delays.push(due.duration_since(mono_ms(now_ms)).as_secs());
            // A deadline event before its time is stale and ignored.
            assert!(sim.at(at_ms(now_ms + 1), Event::Deadline).is_empty());
            let actions = sim.fire();
            assert_eq!(actions.last(), Some(&Action::Spawn));
            spawns += 1;
            now_ms = u64::try_from(due.duration_since(base()).as_millis()).unwrap_or(0);
        }
        assert_eq!(spawns, 4);
        assert_eq!(delays, vec![1, 2, 3]);
        assert_eq!(sim.rec.backoff, 0);
        assert_eq!(sim.rec.deadline, None);
        assert_eq!(sim.rec.pid, 0);
    }

    #[test]
    fn startretries_0_gives_up_after_the_first_failure() {
        let mut sim = Sim::new(Params {
            startretries: 0,
            ..params()
        });
        sim.at(at(0), Event::Start);
        let actions = sim.at(
            at(0),
            Event::SpawnFailed {
                error: "can't find command 'nope'".into(),
            },
        );
        assert_eq!(
            actions,
            vec![
                log(LogLevel::Info, "spawnerr: can't find command 'nope'"),
                transition(State::Starting, State::Backoff),
                transition(State::Backoff, State::Fatal),
                log(
                    LogLevel::Info,
                    "gave up: web entered FATAL state, too many start retries too quickly"
                ),
            ]
        );
        assert_eq!(
            sim.rec.spawnerr.as_deref(),
            Some("can't find command 'nope'")
        );
    }

    #[test]
    fn reaching_running_resets_the_backoff_counter() {
        let mut sim = Sim::new(params());
        sim.start(0, 1);
        sim.at(at_ms(100), exited(1));
        assert_eq!(sim.rec.backoff, 1);
        sim.fire(); // spawn again at 1.1 s
        sim.at(at_ms(1100), spawned(2));
        sim.fire(); // stayed up 1 s
        assert_eq!(sim.rec.state, State::Running);
        assert_eq!(sim.rec.backoff, 0);
    }

    #[test]
    fn a_backoff_deadline_while_stopping_does_not_spawn() {
        let mut sim = Sim::new(params());
        sim.start(0, 1);
        sim.at(at_ms(100), exited(1));
        sim.may_start = false;
        let actions = sim.fire();
        assert!(actions.is_empty(), "{actions:?}");
        assert_eq!(sim.rec.state, State::Backoff);
        assert_eq!(sim.rec.deadline, None);
        // ...and the shutdown that follows gives up on it.
        let actions = sim.at(at(5), Event::Shutdown);
        assert_eq!(actions, vec![transition(State::Backoff, State::Fatal)]);
    }

    #[test]
    fn stop_from_backoff_stops_at_once_and_keeps_the_counter() {
        let mut sim = Sim::new(params());
        sim.start(0, 1);
        sim.at(at_ms(100), exited(1));
        let actions = sim.at(at_ms(200), Event::Stop);
        assert_eq!(
            actions,
            vec![
                log(
                    LogLevel::Debug,
                    "Attempted to kill web, which is in BACKOFF state."
                ),
                Action::CancelDeadline,
                transition(State::Backoff, State::Stopped),
            ]
        );
        assert!(sim.rec.administrative_stop);
        // 4.3's spawn() does not reset the counter, so it carries over.
        assert_eq!(sim.rec.backoff, 1);
    }

    #[test]
    fn shutdown_from_backoff_gives_up_silently() {
        let mut rec = fixture(State::Backoff);
        let actions = step(&mut rec, &params(), Event::Shutdown, ctx(at_ms(T)));
        assert_eq!(
            actions,
            vec![
                Action::CancelDeadline,
                transition(State::Backoff, State::Fatal)
            ]
        );
        assert_eq!(rec.backoff, 0);
    }

    #[test]
    fn start_from_backoff_keeps_counting_failures() {
        let mut rec = fixture(State::Backoff);
        step(&mut rec, &params(), Event::Start, ctx(at_ms(T)));
        assert_eq!(rec.backoff, 1);
        assert_eq!(rec.state, State::Starting);
        step(
            &mut rec,
            &params(),
            Event::SpawnFailed { error: "x".into() },
            ctx(at_ms(T)),
        );
        assert_eq!(rec.backoff, 2);
        assert_eq!(rec.deadline, Some(mono_ms(T + 2000)));
    }

    // ---- exits ----------------------------------------------------------

    fn exit_after_running(autorestart: AutoRestart, event: Event, may_start: bool) -> Sim {
        let mut sim = Sim::running(
            Params {
                autorestart,
                exitcodes: vec![0, 2],
                ..params()
            },
            50,
        );
        sim.may_start = may_start;
        sim.at(at(30), event);
        sim
    }

    #[test]
    fn expected_and_unexpected_exits_with_each_autorestart_mode() {
        use AutoRestart::*;
        // (mode, exit, restarted?)
        let cases = [
            (Never, exited(0), false),
            (Never, exited(1), false),
            (Unexpected, exited(0), false),
            (Unexpected, exited(2), false),
            (Unexpected, exited(1), true),
            (Unexpected, killed_by(SIGTERM), true),
            (Always, exited(0), true),
            (Always, exited(1), true),
        ];
        for (mode, event, restarted) in cases {
            let sim = exit_after_running(mode, event.clone(), true);
            let want = if restarted {
                State::Starting
            } else {
                State::Exited
            };
            assert_eq!(sim.rec.state, want, "{mode:?} {event:?}");
            assert_eq!(sim.rec.laststop, Some(at(30)));
            assert_eq!(sim.rec.pid, 0);
            // With restarts off (supervisord stopping), nothing restarts.
            let sim = exit_after_running(mode, event.clone(), false);
            assert_eq!(sim.rec.state, State::Exited, "{mode:?} {event:?} stopping");
        }
    }

    #[test]
    fn an_expected_exit_is_info_and_keeps_no_spawnerr() {
        let mut sim = Sim::running(params(), 50);
        let actions = sim.at(at(30), exited(0));
        assert_eq!(
            actions,
            vec![
                transition(State::Running, State::Exited),
                log(LogLevel::Info, "exited: web (exit status 0; expected)"),
            ]
        );
        assert_eq!(sim.rec.exitstatus, Some(0));
        assert_eq!(sim.rec.spawnerr, None);
    }

    #[test]
    fn an_unexpected_exit_records_bad_exit_code_and_restarts() {
        let mut sim = Sim::running(params(), 50);
        let actions = sim.at(at(30), exited(3));
        assert_eq!(
            actions,
            vec![
                transition(State::Running, State::Exited),
                log(LogLevel::Warn, "exited: web (exit status 3; not expected)"),
                transition(State::Exited, State::Starting),
                Action::Spawn,
            ]
        );
        // spawn() cleared what the exit recorded, as 4.3's does.
        assert_eq!(sim.rec.exitstatus, None);
        assert_eq!(sim.rec.spawnerr, None);
        let mut sim = Sim::running(
            Params {
                autorestart: AutoRestart::Never,
                ..params()
            },
            50,
        );
        sim.at(at(30), exited(3));
        assert_eq!(sim.rec.exitstatus, Some(3));
        assert_eq!(sim.rec.spawnerr.as_deref(), Some("Bad exit code 3"));
    }

    #[test]
    fn killed_by_a_signal_is_exit_status_minus_one() {
        let mut sim = Sim::running(
            Params {
                autorestart: AutoRestart::Never,
                ..params()
            },
            50,
        );
        let actions = sim.at(
            at(30),
            Event::Exited {
                status: ExitStatus::Signal {
                    signal: 11,
                    core_dumped: true,
                },
            },
        );
        assert_eq!(
            logs(&actions),
            vec![(
                LogLevel::Warn,
                "exited: web (terminated by SIGSEGV (core dumped); not expected)".to_string()
            )]
        );
        assert_eq!(sim.rec.exitstatus, Some(-1));
        assert_eq!(sim.rec.spawnerr.as_deref(), Some("Bad exit code -1"));
    }

    #[test]
    fn an_exit_after_startsecs_but_before_the_deadline_event_passes_running() {
        let mut sim = Sim::new(Params {
            autorestart: AutoRestart::Never,
            ..params()
        });
        sim.start(0, 9);
        let actions = sim.at(at_ms(1000), exited(0));
        assert_eq!(
            actions,
            vec![
                Action::CancelDeadline,
                transition(State::Starting, State::Running),
                transition(State::Running, State::Exited),
                log(LogLevel::Info, "exited: web (exit status 0; expected)"),
            ]
        );
    }

    #[test]
    fn an_exit_before_startsecs_is_not_expected_even_with_an_expected_code() {
        let mut sim = Sim::new(params());
        sim.start(0, 9);
        let actions = sim.at(at_ms(999), exited(0));
        assert_eq!(
            actions,
            vec![
                transition(State::Starting, State::Backoff),
                log(LogLevel::Warn, "exited: web (exit status 0; not expected)"),
                Action::ArmDeadline(mono_ms(1999)),
            ]
        );
        assert_eq!(sim.rec.exitstatus, None);
        assert_eq!(sim.rec.laststop, Some(at_ms(999)));
    }

    #[test]
    fn decode_exit_matches_4_3_wording() {
        assert_eq!(
            decode_exit(ExitStatus::Code(0)),
            (0, "exit status 0".into())
        );
        assert_eq!(
            decode_exit(ExitStatus::Signal {
                signal: 9,
                core_dumped: false
            }),
            (-1, "terminated by SIGKILL".into())
        );
        assert_eq!(
            decode_exit(ExitStatus::Signal {
                signal: 40,
                core_dumped: true
            }),
            (-1, "terminated by signal 40 (core dumped)".into())
        );
    }

    // ---- stopping -------------------------------------------------------

    #[test]
    fn stop_sends_the_stopsignal_and_waits_stopwaitsecs() {
        let mut sim = Sim::running(
            Params {
                stopsignal: 2,
                ..params()
            },
            77,
        );
        let actions = sim.at(at(50), Event::Stop);
        assert_eq!(
            actions,
            vec![
                log(LogLevel::Debug, "killing web (pid 77) with signal SIGINT"),
                Action::ArmDeadline(mono_ms(60_000)),
                transition(State::Running, State::Stopping),
                Action::Signal {
                    signal: 2,
                    group: false
                },
            ]
        );
        assert!(sim.rec.killing);
        assert!(sim.rec.administrative_stop);
        let actions = sim.at(at(52), killed_by(2));
        assert_eq!(
            actions,
            vec![
                Action::CancelDeadline,
                transition(State::Stopping, State::Stopped),
                log(LogLevel::Warn, "stopped: web (terminated by SIGINT)"),
            ]
        );
        assert!(!sim.rec.killing);
        assert_eq!(sim.rec.exitstatus, Some(-1));
        assert_eq!(sim.rec.laststop, Some(at(52)));
        assert_eq!(sim.rec.pid, 0);
    }

    #[test]
    fn exit_while_stopping_is_stopped_and_never_restarts() {
        for autorestart in [AutoRestart::Always, AutoRestart::Unexpected] {
            let mut sim = Sim::running(
                Params {
                    autorestart,
                    ..params()
                },
                77,
            );
            sim.at(at(50), Event::Stop);
            let actions = sim.at(at(51), exited(0));
            assert_eq!(
                logs(&actions),
                vec![(LogLevel::Info, "stopped: web (exit status 0)".to_string())]
            );
            assert_eq!(sim.rec.state, State::Stopped);
            assert!(!actions.contains(&Action::Spawn));
        }
    }

    #[test]
    fn stopwaitsecs_then_sigkill_then_sigkill_again() {
        let mut sim = Sim::running(
            Params {
                stopwaitsecs: 5,
                ..params()
            },
            77,
        );
        sim.at(at(50), Event::Stop);
        assert_eq!(sim.rec.deadline, Some(mono_ms(55_000)));
        for round in 1..=3u64 {
            let actions = sim.fire();
            assert_eq!(
                actions,
                vec![
                    log(LogLevel::Warn, "killing 'web' (77) with SIGKILL"),
                    log(LogLevel::Debug, "killing web (pid 77) with signal SIGKILL"),
                    Action::ArmDeadline(mono_ms(55_000 + round * 5000)),
                    Action::Signal {
                        signal: 9,
                        group: false
                    },
                ],
                "round {round}"
            );
            assert_eq!(sim.rec.state, State::Stopping);
        }
        let actions = sim.at(at(71), killed_by(9));
        assert_eq!(
            logs(&actions),
            vec![(
                LogLevel::Warn,
                "stopped: web (terminated by SIGKILL)".to_string()
            )]
        );
    }

    #[test]
    fn stopwaitsecs_zero_kills_at_once_then_repeats_each_second() {
        let mut sim = Sim::running(
            Params {
                stopwaitsecs: 0,
                ..params()
            },
            77,
        );
        sim.at(at(50), Event::Stop);
        assert_eq!(sim.rec.deadline, Some(mono_ms(50_000)));
        let actions = sim.fire();
        assert!(actions.contains(&Action::Signal {
            signal: 9,
            group: false
        }));
        assert_eq!(sim.rec.deadline, Some(mono_ms(51_000)));
    }

    #[test]
    fn stopasgroup_and_killasgroup_pick_the_target_of_each_signal() {
        for (stopasgroup, killasgroup) in
            [(false, false), (true, false), (false, true), (true, true)]
        {
            let mut sim = Sim::running(
                Params {
                    stopasgroup,
                    killasgroup,
                    ..params()
                },
                77,
            );
            let actions = sim.at(at(50), Event::Stop);
            assert!(actions.contains(&Action::Signal {
                signal: SIGTERM,
                group: stopasgroup
            }));
            let as_group = if stopasgroup { "process group " } else { "" };
            assert!(actions.contains(&log(
                LogLevel::Debug,
                &format!("killing web (pid 77) {as_group}with signal SIGTERM")
            )));
            let actions = sim.fire();
            assert!(actions.contains(&Action::Signal {
                signal: 9,
                group: killasgroup
            }));
        }
    }

    #[test]
    fn stop_before_the_child_is_known_only_logs() {
        let mut sim = Sim::new(params());
        sim.at(at(0), Event::Start);
        let actions = sim.at(at(0), Event::Stop);
        assert_eq!(
            actions,
            vec![log(
                LogLevel::Debug,
                "attempted to kill web with sig SIGTERM but it wasn't running"
            )]
        );
        assert_eq!(sim.rec.state, State::Starting);
    }

    #[test]
    fn shutdown_stops_starting_and_running_like_stop() {
        for state in [State::Starting, State::Running] {
            let mut by_stop = fixture(state);
            let mut by_shutdown = fixture(state);
            let a = step(&mut by_stop, &params(), Event::Stop, ctx(at_ms(T)));
            let b = step(&mut by_shutdown, &params(), Event::Shutdown, ctx(at_ms(T)));
            assert_eq!(a, b);
            assert_eq!(by_stop, by_shutdown);
        }
    }

    #[test]
    fn a_huge_stopwaitsecs_means_no_sigkill_timer() {
        let mut sim = Sim::running(
            Params {
                stopwaitsecs: u64::MAX,
                ..params()
            },
            77,
        );
        let actions = sim.at(at(50), Event::Stop);
        assert!(!actions.iter().any(|a| matches!(a, Action::ArmDeadline(_))));
        assert_eq!(sim.rec.deadline, None);
        assert_eq!(sim.rec.state, State::Stopping);
    }

    #[test]
    fn a_huge_startsecs_never_reaches_running_by_timer() {
        let mut sim = Sim::new(Params {
            startsecs: u64::MAX,
            ..params()
        });
        sim.start(0, 3);
        assert_eq!(sim.rec.deadline, None);
        assert_eq!(sim.rec.state, State::Starting);
    }

    // ---- signal failures and unknown -----------------------------------

    #[test]
    fn a_failed_stop_signal_is_unknown() {
        let mut sim = Sim::running(params(), 77);
        sim.at(at(50), Event::Stop);
        let actions = sim.at(
            at(50),
            Event::SignalFailed {
                error: "Operation not permitted (os error 1)".into(),
            },
        );
        assert_eq!(
            actions,
            vec![
                log(
                    LogLevel::Critical,
                    "unknown problem killing web (77):Operation not permitted (os error 1)"
                ),
                Action::CancelDeadline,
                transition(State::Stopping, State::Unknown),
            ]
        );
        assert!(!sim.rec.killing);
        assert_eq!(sim.rec.pid, 77);
        // The child exits later: it is EXITED (startable again), not restarted.
        let actions = sim.at(at(60), exited(1));
        assert_eq!(states_passed(&actions), vec![State::Exited]);
        assert_eq!(sim.rec.pid, 0);
    }

    #[test]
    fn a_failed_signal_while_running_uses_4_3_signal_wording() {
        let mut sim = Sim::running(params(), 77);
        let actions = sim.at(at(50), Event::SignalFailed { error: "E".into() });
        assert_eq!(
            logs(&actions),
            vec![(
                LogLevel::Critical,
                "unknown problem sending sig web (77):E".to_string()
            )]
        );
    }

    #[test]
    fn stale_deadlines_are_ignored() {
        // Queued before an exit replaced the STARTING timer with a backoff one.
        let mut sim = Sim::new(params());
        sim.start(0, 1);
        sim.at(at_ms(100), exited(1));
        let before = sim.rec.clone();
        assert!(sim.at(at_ms(1000), Event::Deadline).is_empty());
        assert_eq!(sim.rec, before);
        // No deadline armed at all.
        let mut sim = Sim::running(params(), 1);
        assert!(sim.at(at(99), Event::Deadline).is_empty());
    }

    #[test]
    fn states_keep_their_4_3_numbers() {
        let codes: Vec<i32> = [
            State::Stopped,
            State::Starting,
            State::Running,
            State::Backoff,
            State::Stopping,
            State::Exited,
            State::Fatal,
            State::Unknown,
        ]
        .iter()
        .map(|s| s.code())
        .collect();
        assert_eq!(codes, vec![0, 10, 20, 30, 40, 100, 200, 1000]);
    }
}
