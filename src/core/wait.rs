//! Requests that wait: startProcess and stopProcess with wait=true and their
//! group and all-process forms, built as 4.3 builds them (make_allfunc and
//! onwait). A waiting request re-checks its condition after each batch of
//! state changes the core announces; nothing polls and no borrow of the core
//! is held while it waits.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use smol::future::FutureExt;

use super::handle::{result_of, Applied, Handle, ProcResult};
use super::{Core, Error, ErrorKind, ProcId, Target};
use crate::config::LogLevel;
use crate::process::state::State;

/// startProcess or stopProcess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verb {
    Start,
    Stop,
}

impl Verb {
    /// 4.3's predicate for the group forms: isNotRunning / isRunning.
    fn applies(self, state: State) -> bool {
        match self {
            Verb::Start => !state.is_running(),
            Verb::Stop => state.is_running(),
        }
    }

    /// The immediate part; Ok(true) when the caller should then wait.
    fn now(self, core: &mut Core, id: ProcId, wait: bool) -> Result<bool, Error> {
        match self {
            Verb::Start => {
                core.start(id)?;
                Ok(wait && core.state(id) != Some(State::Running))
            }
            Verb::Stop => {
                core.stop(id)?;
                Ok(wait && core.state(id).is_some_and(|s| !s.is_stopped()))
            }
        }
    }

    /// How a wait ends (4.3's onwait); None while it goes on.
    fn outcome(self, core: &Core, id: ProcId) -> Option<Result<(), Error>> {
        match self {
            Verb::Start => {
                let spec = core.namespec(id);
                let slot = core.procs.get(&id)?;
                if slot.blocked.is_some() {
                    return None; // waiting for its dependencies
                }
                if slot.rec.spawnerr.is_some() {
                    return Some(Err(Error::new(ErrorKind::SpawnError, spec)));
                }
                match slot.rec.state {
                    State::Running => Some(Ok(())),
                    State::Starting => None,
                    _ => Some(Err(Error::new(ErrorKind::AbnormalTermination, spec))),
                }
            }
            Verb::Stop => match core.state(id) {
                Some(state) if !state.is_stopped() => None,
                _ => Some(Ok(())),
            },
        }
    }
}

/// How often a waiting stop repeats "waiting for X to stop" (4.3's stop_report).
const STOP_REPORT: Duration = Duration::from_secs(2);

/// Waits until every id's outcome is known; results in completion order.
/// A stop that finds its process still STOPPING says so in the main log,
/// then again every 2 s while it stays so, as 4.3's stop_report does; that
/// is the only timer, and only while such a request waits.
async fn wait_all(
    handle: &Handle,
    verb: Verb,
    mut pending: Vec<ProcId>,
) -> Vec<(ProcId, Result<(), Error>)> {
    let mut done = Vec::new();
    let mut reported: HashMap<ProcId, Instant> = HashMap::new();
    loop {
        let bell = handle.with(|c| {
            pending.retain(|id| match verb.outcome(c, *id) {
                Some(result) => {
                    done.push((*id, result));
                    false
                }
                None => true,
            });
            let mut next_report = None;
            if verb == Verb::Stop {
                let now = Instant::now();
                for id in &pending {
                    if c.state(*id) != Some(State::Stopping) {
                        continue;
                    }
                    let due = reported.get(id).is_none_or(|at| now >= *at + STOP_REPORT);
                    if due {
                        let name = c.names_of(*id).0;
                        c.log
                            .log(LogLevel::Info, &format!("waiting for {name} to stop"));
                        reported.insert(*id, now);
                    }
                    let at = reported.get(id).map_or(now, |at| *at + STOP_REPORT);
                    next_report = Some(next_report.map_or(at, |n: Instant| n.min(at)));
                }
            }
            Ok((!pending.is_empty()).then(|| (c.watch(), next_report)))
        });
        let Ok(Some((bell, next_report))) = bell else {
            return done;
        };
        let closed = match next_report {
            Some(at) => {
                async { bell.recv().await.is_err() }
                    .or(async {
                        async_io::Timer::at(at).await;
                        false
                    })
                    .await
            }
            None => bell.recv().await.is_err(),
        };
        if closed {
            return done;
        }
    }
}

/// startProcess / stopProcess: one process, or a whole group for `g:*`.
pub(super) async fn one(
    handle: &Handle,
    verb: Verb,
    spec: &str,
    wait: bool,
) -> Result<Applied, Error> {
    let target = handle.with(|c| {
        Ok(match c.lookup(spec)? {
            Target::Process(id) => Ok(id),
            Target::Group(g) => Err(c.in_priority_order(Some(g))),
        })
    })?;
    let id = match target {
        Ok(id) => id,
        Err(group) => return Ok(Applied::Each(many(handle, verb, group, wait).await)),
    };
    if handle.with(|c| verb.now(c, id, wait))? {
        for (_, result) in wait_all(handle, verb, vec![id]).await {
            result?;
        }
    }
    Ok(Applied::One)
}

/// The group and all-process forms: a result per process it applied to,
/// failures first, then the rest as they finish.
pub(super) async fn many(
    handle: &Handle,
    verb: Verb,
    ids: Vec<ProcId>,
    wait: bool,
) -> Vec<ProcResult> {
    let mut results = Vec::new();
    // With dependencies, a waiting stop goes in waves: a process stops only
    // once the processes of this request that depend on it have stopped.
    let waves = handle
        .with(|c| {
            Ok(if verb == Verb::Stop && wait && c.has_dependencies() {
                c.stop_waves(&ids)
            } else {
                vec![ids.clone()]
            })
        })
        .unwrap_or_else(|_| vec![ids]);
    for wave in waves {
        let mut pending = Vec::new();
        let _ = handle.with(|c| {
            for id in wave {
                if !c.state(id).is_some_and(|s| verb.applies(s)) {
                    continue;
                }
                match verb.now(c, id, wait) {
                    Err(error) => results.push(result_of(c, id, Some(error))),
                    Ok(true) => pending.push(id),
                    Ok(false) => results.push(result_of(c, id, None)),
                }
            }
            Ok(())
        });
        let finished = wait_all(handle, verb, pending).await;
        let _ = handle.with(|c| {
            for (id, outcome) in finished {
                results.push(result_of(c, id, outcome.err()));
            }
            Ok(())
        });
    }
    results
}
