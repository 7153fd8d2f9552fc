//! The one door into the core. Everything outside it (the RPC, the web
//! page, the signal task, the daemon's run loop) holds a cloneable `Handle`
//! and calls its methods: typed requests in, owned views or an `Error` out.
//! Each method borrows the core once and lets go before it returns, so no
//! borrow can cross an await or meet another; waiting requests re-borrow
//! after every wake-up.

use std::path::PathBuf;

use smol::channel::Receiver;

use super::wait::{self, Verb};
use super::{
    Config, ConfigInfo, Core, Diff, Error, ErrorKind, Mood, Outcome, ProcId, ProcessInfo, Setup,
    Shared, Stream, Target,
};
use crate::config::LogLevel;
use crate::log::activity::MainLog;
use crate::log::read::{self, ReadError, Tail};

/// The way into the core; cheap to clone.
#[derive(Clone)]
pub struct Handle {
    core: Shared,
}

/// What a request on a namespec did: one process, or each process of the
/// group a `group:*` spec named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    One,
    Each(Vec<ProcResult>),
}

/// One process's result in a group or all-process request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcResult {
    pub name: String,
    pub group: String,
    pub error: Option<Error>,
}

/// A log someone wants to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRef<'a> {
    Main,
    Process(&'a str, Stream),
}

/// What a second borrow would meet; unreachable while every method borrows
/// once and awaits nothing, and an error rather than a panic if it ever is.
fn busy() -> Error {
    Error::new(ErrorKind::Failed, "the daemon's core is busy")
}

impl Handle {
    /// Builds the core (no groups yet) and starts its timer; the receiver
    /// hears how the run ends.
    pub fn new(setup: Setup) -> (Handle, Receiver<Outcome>) {
        let (core, done) = Core::new(setup);
        (Handle { core }, done)
    }

    /// Runs `f` on the core; Err only if the core is already borrowed.
    pub(super) fn with<R>(
        &self,
        f: impl FnOnce(&mut Core) -> Result<R, Error>,
    ) -> Result<R, Error> {
        match self.core.try_borrow_mut() {
            Ok(mut core) => f(&mut core),
            Err(_) => Err(busy()),
        }
    }

    /// Like `with` for requests that cannot fail; `fallback` if busy.
    fn get<R>(&self, fallback: R, f: impl FnOnce(&mut Core) -> R) -> R {
        match self.core.try_borrow_mut() {
            Ok(mut core) => f(&mut core),
            Err(_) => fallback,
        }
    }

    // ----- the daemon -------------------------------------------------------

    pub fn mood(&self) -> Mood {
        self.get(Mood::Running, |c| c.mood)
    }

    /// SHUTDOWN_STATE while the daemon stops or restarts.
    pub fn check_running(&self) -> Result<(), Error> {
        self.with(|c| c.check_mood())
    }

    pub fn identification(&self) -> String {
        self.get(String::new(), |c| c.config.supervisord.identifier.clone())
    }

    /// The time zone local times are shown in.
    pub fn zone(&self) -> crate::timefmt::Zone {
        self.get(crate::timefmt::Zone::utc(), |c| c.zone.clone())
    }

    /// A line in the main log.
    pub fn log(&self, level: LogLevel, message: &str) {
        self.get((), |c| c.log.log(level, message))
    }

    pub fn read_main_log(&self, offset: i64, length: i64) -> Result<Vec<u8>, Error> {
        let path = self.with(|c| Ok(c.log.path()))?;
        read_file(path, offset, length)
    }

    pub fn clear_main_log(&self) -> Result<(), Error> {
        self.with(|c| c.clear_main_log())
    }

    /// SIGUSR2: reopen every log.
    pub fn reopen_logs(&self) {
        self.get((), |c| c.reopen_logs())
    }

    /// TERM, INT, QUIT: stop everything, then end the run.
    pub fn shutdown(&self) {
        self.get((), |c| c.shutdown())
    }

    /// A second TERM/INT/QUIT while stopping: SIGKILL what is left.
    pub fn kill_remaining(&self) {
        self.get((), |c| c.kill_remaining())
    }

    /// HUP: read the configuration; if it is valid, stop everything and
    /// start again with it. An invalid one is logged and changes nothing.
    pub fn restart(&self) -> Result<(), Error> {
        self.with(|c| c.restart())
    }

    /// supervisor.shutdown: takes effect once `after_reply` is called, so the
    /// client hears its answer before the daemon starts to go away.
    pub fn request_shutdown(&self) {
        self.get((), |c| c.requested = Some(Mood::Shutdown))
    }

    /// supervisor.restart: the configuration is read and checked now; an
    /// invalid one is refused and nothing stops.
    pub fn request_restart(&self) -> Result<(), Error> {
        self.with(|c| {
            let fresh = c.read_for_restart()?;
            c.pending = Some(fresh);
            c.requested = Some(Mood::Restarting);
            Ok(())
        })
    }

    /// Acts on a shutdown or restart requested over RPC.
    pub fn after_reply(&self) {
        self.get((), |c| c.apply_requested())
    }

    /// Pids of every live child (a PID 1 reaper leaves them alone).
    pub fn child_pids(&self) -> Vec<u32> {
        self.get(Vec::new(), |c| c.child_pids())
    }

    /// After a restart's stop: forget every group and take `config` (and a
    /// new main log if its settings changed); `add_all_groups` follows.
    pub fn reset(&self, config: Config, log: Option<MainLog>) {
        self.get((), |c| {
            if let Some(log) = log {
                c.log = log;
            }
            c.reset_config(config);
        })
    }

    /// Adds and starts every group of the configuration.
    pub fn add_all_groups(&self) {
        self.get((), |c| c.add_all_groups())
    }

    // ----- configuration and groups -------------------------------------------

    /// reloadConfig: read the configuration again, keep it for add/update,
    /// and say how it differs from the active groups.
    pub fn reread(&self) -> Result<Diff, Error> {
        self.with(|c| {
            c.reread()?;
            Ok(c.diff_to_active())
        })
    }

    pub fn add_group(&self, name: &str) -> Result<(), Error> {
        self.with(|c| c.add_group(name))
    }

    pub fn remove_group(&self, name: &str) -> Result<(), Error> {
        self.with(|c| c.remove_group(name))
    }

    pub fn config_info(&self) -> Vec<ConfigInfo> {
        self.get(Vec::new(), |c| c.config_info())
    }

    // ----- process views ------------------------------------------------------

    pub fn process_info(&self, spec: &str) -> Result<ProcessInfo, Error> {
        self.with(|c| {
            let id = c.lookup_process(spec)?;
            c.info(id)
                .ok_or_else(|| Error::new(ErrorKind::BadName, spec))
        })
    }

    /// Every process, by group name and then process name.
    pub fn all_process_info(&self) -> Vec<ProcessInfo> {
        self.get(Vec::new(), |c| {
            c.in_lexical_order()
                .into_iter()
                .filter_map(|id| c.info(id))
                .collect()
        })
    }

    // ----- starting and stopping ------------------------------------------------

    /// startProcess: one process, or each of a group for `group:*`; with
    /// `wait`, completes once each has reached RUNNING or failed.
    pub async fn start(&self, spec: &str, wait: bool) -> Result<Applied, Error> {
        wait::one(self, Verb::Start, spec, wait).await
    }

    pub async fn start_group(&self, name: &str, wait: bool) -> Result<Vec<ProcResult>, Error> {
        let ids = self.with(|c| c.group_ids(name))?;
        Ok(wait::many(self, Verb::Start, ids, wait).await)
    }

    pub async fn start_all(&self, wait: bool) -> Vec<ProcResult> {
        let ids = self.get(Vec::new(), |c| c.in_priority_order(None));
        wait::many(self, Verb::Start, ids, wait).await
    }

    /// stopProcess: like `start`, waiting for a stopped state.
    pub async fn stop(&self, spec: &str, wait: bool) -> Result<Applied, Error> {
        wait::one(self, Verb::Stop, spec, wait).await
    }

    pub async fn stop_group(&self, name: &str, wait: bool) -> Result<Vec<ProcResult>, Error> {
        let ids = self.with(|c| c.group_ids(name))?;
        Ok(wait::many(self, Verb::Stop, ids, wait).await)
    }

    pub async fn stop_all(&self, wait: bool) -> Vec<ProcResult> {
        let ids = self.get(Vec::new(), |c| c.in_priority_order(None));
        wait::many(self, Verb::Stop, ids, wait).await
    }

    // ----- signals --------------------------------------------------------------

    /// signalProcess: `signal` is a name (`HUP`, `SIGHUP`) or a number.
    pub fn signal(&self, spec: &str, signal: &str) -> Result<Applied, Error> {
        let target = self.with(|c| {
            Ok(match c.lookup(spec)? {
                Target::Process(id) => Ok(id),
                Target::Group(g) => Err(c.group_ids(g)?),
            })
        })?;
        match target {
            Ok(id) => {
                let number = parse_signal(signal)?;
                self.with(|c| c.signal(id, number))?;
                Ok(Applied::One)
            }
            Err(ids) => Ok(Applied::Each(self.signal_each(ids, signal))),
        }
    }

    pub fn signal_group(&self, name: &str, signal: &str) -> Result<Vec<ProcResult>, Error> {
        let ids = self.with(|c| c.group_ids(name))?;
        Ok(self.signal_each(ids, signal))
    }

    pub fn signal_all(&self, signal: &str) -> Vec<ProcResult> {
        let ids = self.get(Vec::new(), |c| c.in_priority_order(None));
        self.signal_each(ids, signal)
    }

    /// Signals each process that can take one; a bad signal is each one's error.
    fn signal_each(&self, ids: Vec<ProcId>, signal: &str) -> Vec<ProcResult> {
        self.get(Vec::new(), |c| {
            let mut results = Vec::new();
            for id in ids {
                if !c.state(id).is_some_and(|s| s.is_signallable()) {
                    continue;
                }
                let outcome = parse_signal(signal).and_then(|n| c.signal(id, n));
                results.push(result_of(c, id, outcome.err()));
            }
            results
        })
    }

    // ----- events -------------------------------------------------------------------

    /// sendRemoteCommEvent: a REMOTE_COMMUNICATION event for the pools
    /// that subscribe to it.
    pub fn send_remote_comm(&self, kind: &str, data: &str) {
        self.get((), |c| c.remote_communication(kind, data))
    }

    // ----- stdin and logs ---------------------------------------------------------

    pub fn send_stdin(&self, spec: &str, data: Vec<u8>) -> Result<(), Error> {
        self.with(|c| {
            let id = c.lookup_process(spec)?;
            c.send_stdin(id, data)
        })
    }

    /// readProcessStdoutLog / readProcessStderrLog.
    pub fn read_log(
        &self,
        spec: &str,
        stream: Stream,
        offset: i64,
        length: i64,
    ) -> Result<Vec<u8>, Error> {
        let path = self.with(|c| {
            let id = c.lookup_process(spec)?;
            Ok(c.log_path(id, stream))
        })?;
        read_file(path, offset, length)
    }

    /// tailProcessStdoutLog / tailProcessStderrLog: a missing file is an
    /// empty tail, as in 4.3.
    pub fn tail_log(
        &self,
        spec: &str,
        stream: Stream,
        offset: i64,
        length: i64,
    ) -> Result<Tail, Error> {
        let path = self.with(|c| {
            let id = c.lookup_process(spec)?;
            Ok(c.log_path(id, stream))
        })?;
        Ok(match path.filter(|p| p.exists()) {
            Some(path) => read::tail(&path, offset, length),
            None => Tail {
                bytes: Vec::new(),
                offset: 0,
                overflow: false,
            },
        })
    }

    pub fn clear_logs(&self, spec: &str) -> Result<(), Error> {
        self.with(|c| {
            let id = c.lookup_process(spec)?;
            c.clear_logs(id)
        })
    }

    pub fn clear_all_logs(&self) -> Vec<ProcResult> {
        self.get(Vec::new(), |c| {
            c.in_priority_order(None)
                .into_iter()
                .map(|id| {
                    let outcome = c.clear_logs(id);
                    result_of(c, id, outcome.err())
                })
                .collect()
        })
    }

    /// The file behind a log and a bell that rings when it grows (tail -f,
    /// /logtail); None when there is no such log.
    pub fn follow(&self, log: LogRef<'_>) -> Option<(PathBuf, Receiver<()>)> {
        self.get(None, |c| match log {
            LogRef::Main => c.log.path().zip(c.log.subscribe()),
            LogRef::Process(spec, stream) => {
                let id = c.lookup_process(spec).ok()?;
                let file = c.log_path(id, stream);
                let bell = c.channel(id, stream).and_then(|ch| ch.subscribe());
                file.zip(bell)
            }
        })
    }
}

/// 4.3's per-process result in group and all-process answers.
pub(super) fn result_of(core: &Core, id: ProcId, error: Option<Error>) -> ProcResult {
    let (name, group) = core.names_of(id);
    ProcResult { name, group, error }
}

fn parse_signal(text: &str) -> Result<i32, Error> {
    crate::process::signals::number(text).ok_or_else(|| Error::new(ErrorKind::BadSignal, text))
}

/// A byte range of a log file, with 4.3's faults: a log that is not
/// configured is a bare NO_FILE, a missing file names its path.
fn read_file(path: Option<PathBuf>, offset: i64, length: i64) -> Result<Vec<u8>, Error> {
    let Some(path) = path else {
        return Err(Error::bare(ErrorKind::NoFile));
    };
    if !path.exists() {
        return Err(Error::new(ErrorKind::NoFile, path.to_string_lossy()));
    }
    read::read_range(&path, offset, length).map_err(|e| match e {
        ReadError::BadArguments => Error::bare(ErrorKind::BadArguments),
        _ => Error::bare(ErrorKind::Failed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bug: a process without a log (stderr_logfile=NONE, redirect_stderr)
    /// answered `NO_FILE: None`; 4.3 answers a bare `NO_FILE`.
    #[test]
    fn reading_a_log_that_is_not_configured_is_a_bare_no_file() {
        assert_eq!(read_file(None, 0, 0), Err(Error::bare(ErrorKind::NoFile)));
        let missing = PathBuf::from("/nonexistent/supervisor-test.log");
        assert_eq!(
            read_file(Some(missing), 0, 0),
            Err(Error::new(
                ErrorKind::NoFile,
                "/nonexistent/supervisor-test.log"
            ))
        );
    }

    #[test]
    fn signals_are_parsed_by_name_or_number() {
        assert_eq!(parse_signal("HUP"), Ok(1));
        assert_eq!(parse_signal("9"), Ok(9));
        assert_eq!(
            parse_signal("NOPE"),
            Err(Error::new(ErrorKind::BadSignal, "NOPE"))
        );
    }
}
