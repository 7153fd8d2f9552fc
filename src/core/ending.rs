//! Container mode: a run that ends by itself. An `essential=true` program
//! that exits (or goes FATAL) ends it with its own exit status;
//! `[supervisord] exit_when_all_done=true` ends it once every program has
//! ended and none will restart. Either way the core takes the normal
//! shutdown path (reverse priority, dependents first) and hands the status
//! to the daemon in `Outcome::Shutdown`. The decisions are pure functions
//! of the process records; the core only gathers the facts and acts.

use super::{Core, Mood, ProcId};
use crate::config::LogLevel;
use crate::process::state::{decode_exit, ExitStatus, State};

/// supervisord's exit status for a child's end, as a shell reports one: the
/// child's exit code, or 128+N when signal N killed it (SIGTERM: 143). A
/// code outside 0..=255 (a wait that failed) is a plain failure, 1.
pub(super) fn exit_code(status: ExitStatus) -> u8 {
    match status {
        ExitStatus::Code(code) => u8::try_from(code).unwrap_or(1),
        ExitStatus::Signal { signal, .. } => u8::try_from(signal)
            .ok()
            .and_then(|n| n.checked_add(128))
            .unwrap_or(1),
    }
}

/// The status a FATAL program stands for: its last child's status when
/// that was a failure (a program that keeps exiting 2 at once: 2), else 1
/// (it could not be spawned, or its last start exited 0 too quickly).
pub(super) fn fatal_code(last: Option<ExitStatus>) -> u8 {
    match last.map(exit_code) {
        Some(code) if code != 0 => code,
        _ => 1,
    }
}

/// Why a run ends by itself: the main log's line and the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ending {
    pub level: LogLevel,
    pub message: String,
    pub status: u8,
}

/// An essential program (namespec `name`) reached `to`: the end of the
/// run, if `to` is EXITED or FATAL. `last` is how its last child ended
/// (None if the last start could not spawn one); `spawnerr` its spawn error.
pub(super) fn essential_end(
    name: &str,
    to: State,
    last: Option<ExitStatus>,
    spawnerr: Option<&str>,
) -> Option<Ending> {
    let (level, why, status) = match to {
        State::Exited => {
            let status = last?;
            let (_, words) = decode_exit(status);
            (
                LogLevel::Warn,
                format!("exited ({words})"),
                exit_code(status),
            )
        }
        State::Fatal => {
            let why = match spawnerr.filter(|e| !e.is_empty()) {
                Some(error) => format!("entered FATAL state ({error})"),
                None => "entered FATAL state".to_string(),
            };
            (LogLevel::Critical, why, fatal_code(last))
        }
        _ => return None,
    };
    Some(Ending {
        level,
        message: format!(
            "essential program {name} {why}; stopping everything, then exiting with status {status}"
        ),
        status,
    })
}

/// What one process contributes to exit_when_all_done's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Facts {
    /// Its namespec, for the log line.
    pub name: String,
    pub state: State,
    /// Stopped for a dependency's restart: it will start again.
    pub restart_pending: bool,
    /// How its last child ended (None if none did since its last spawn).
    pub last: Option<ExitStatus>,
    /// Its last exit status is among its exitcodes.
    pub expected: bool,
}

/// exit_when_all_done: None while any process is up or will come back (a
/// live child, a BACKOFF retry, a restart pending, an UNKNOWN child);
/// otherwise the run is over: 0 if everything ended as expected (STOPPED,
/// or EXITED with an expected status), else the highest status among the
/// failures (an unexpected exit's own status, at least 1; FATAL as
/// `fatal_code`), with the first process that has it.
pub(super) fn all_done(procs: &[Facts]) -> Option<Ending> {
    let mut worst: Option<(u8, String)> = None;
    for p in procs {
        if p.restart_pending {
            return None;
        }
        let failure = match p.state {
            State::Stopped => None,
            State::Exited if p.expected => None,
            State::Exited => {
                let status = p.last.map(exit_code).unwrap_or(1).max(1);
                let words = p
                    .last
                    .map(|s| decode_exit(s).1)
                    .unwrap_or_else(|| "unknown status".into());
                Some((status, format!("{} exited unexpectedly ({words})", p.name)))
            }
            State::Fatal => Some((
                fatal_code(p.last),
                format!("{} entered FATAL state", p.name),
            )),
            State::Starting
            | State::Running
            | State::Backoff
            | State::Stopping
            | State::Unknown => return None,
        };
        if let Some((status, why)) = failure {
            if worst.as_ref().is_none_or(|(w, _)| status > *w) {
                worst = Some((status, why));
            }
        }
    }
    const DONE: &str = "every program has ended and none will restart (exit_when_all_done)";
    Some(match worst {
        None => Ending {
            level: LogLevel::Info,
            message: format!("{DONE}; exiting with status 0"),
            status: 0,
        },
        Some((status, why)) => Ending {
            level: LogLevel::Warn,
            message: format!("{DONE}; exiting with status {status}: {why}"),
            status,
        },
    })
}

impl Core {
    /// After a transition of `id`: an essential program that exited or
    /// went FATAL while the daemon runs ends the run (an operator's stop
    /// ends in STOPPED, and a shutdown is not RUNNING: neither counts).
    pub(super) fn check_essential(&mut self, id: ProcId, to: State) {
        if self.mood != Mood::Running || self.stop_queue.is_some() || self.ending.is_some() {
            return;
        }
        let Some(slot) = self.procs.get(&id) else {
            return;
        };
        if !slot.config.lifecycle.essential {
            return;
        }
        let name = self.namespec(id);
        self.ending = essential_end(&name, to, slot.last_exit, slot.rec.spawnerr.as_deref());
    }

    /// exit_when_all_done's facts: every process of every group but the
    /// event listeners' pools (they serve the others and never end). None
    /// at once while one of them is still up (the common case, kept cheap).
    fn done_facts(&self) -> Option<Vec<Facts>> {
        let ids: Vec<ProcId> = self
            .groups
            .iter()
            .filter(|g| g.pool.is_none())
            .flat_map(|g| g.procs.iter().copied())
            .collect();
        let up = ids.iter().any(|id| {
            self.procs.get(id).is_some_and(|p| {
                !matches!(p.rec.state, State::Stopped | State::Exited | State::Fatal)
            })
        });
        if up {
            return None;
        }
        let facts = ids
            .iter()
            .filter_map(|id| {
                let p = self.procs.get(id)?;
                Some(Facts {
                    name: self.namespec(*id),
                    state: p.rec.state,
                    restart_pending: p.restart_pending,
                    last: p.last_exit,
                    expected: p
                        .rec
                        .exitstatus
                        .is_some_and(|code| p.params.exitcodes.contains(&code)),
                })
            })
            .collect();
        Some(facts)
    }

    /// In `settle`: a run that ends by itself begins its shutdown here, with
    /// its line in the main log and the status the daemon will exit with.
    /// Only while running, and never before the groups were added.
    pub(super) fn end_if_done(&mut self) {
        if self.mood != Mood::Running || self.stop_queue.is_some() || !self.started {
            self.ending = None;
            return;
        }
        let ending = match self.ending.take() {
            Some(ending) => Some(ending),
            None if self.exit_when_all_done => self.done_facts().and_then(|facts| all_done(&facts)),
            None => None,
        };
        if let Some(ending) = ending {
            self.log.log(ending.level, &ending.message);
            self.exit_status = ending.status;
            self.start_stopping(Mood::Shutdown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TERM: ExitStatus = ExitStatus::Signal {
        signal: 15,
        core_dumped: false,
    };

    #[test]
    fn exit_statuses_map_as_a_shell_reports_them() {
        assert_eq!(exit_code(ExitStatus::Code(0)), 0);
        assert_eq!(exit_code(ExitStatus::Code(42)), 42);
        assert_eq!(exit_code(ExitStatus::Code(255)), 255);
        assert_eq!(exit_code(ExitStatus::Code(-1)), 1, "a failed wait");
        assert_eq!(exit_code(TERM), 143);
        assert_eq!(
            exit_code(ExitStatus::Signal {
                signal: 9,
                core_dumped: true
            }),
            137
        );
        assert_eq!(fatal_code(None), 1, "never spawned");
        assert_eq!(
            fatal_code(Some(ExitStatus::Code(0))),
            1,
            "exited 0 too quickly"
        );
        assert_eq!(fatal_code(Some(ExitStatus::Code(2))), 2);
        assert_eq!(fatal_code(Some(TERM)), 143);
    }

    #[test]
    fn an_essential_exit_or_fatal_ends_the_run_with_its_status() {
        assert_eq!(
            essential_end("web", State::Exited, Some(ExitStatus::Code(42)), None),
            Some(Ending {
                level: LogLevel::Warn,
                message: "essential program web exited (exit status 42); stopping everything, \
                          then exiting with status 42"
                    .into(),
                status: 42,
            })
        );
        let killed = essential_end("g:web", State::Exited, Some(TERM), None).expect("an end");
        assert_eq!(killed.status, 143);
        assert!(
            killed
                .message
                .starts_with("essential program g:web exited (terminated by SIGTERM);"),
            "{}",
            killed.message
        );
        let fatal = essential_end("web", State::Fatal, None, Some("can't find command 'nope'"))
            .expect("an end");
        assert_eq!((fatal.level, fatal.status), (LogLevel::Critical, 1));
        assert_eq!(
            fatal.message,
            "essential program web entered FATAL state (can't find command 'nope'); \
             stopping everything, then exiting with status 1"
        );
        for state in [
            State::Stopped,
            State::Running,
            State::Backoff,
            State::Stopping,
        ] {
            assert_eq!(
                essential_end("web", state, Some(ExitStatus::Code(1)), None),
                None,
                "{state:?}"
            );
        }
    }

    fn fact(name: &str, state: State, last: Option<ExitStatus>, expected: bool) -> Facts {
        Facts {
            name: name.into(),
            state,
            restart_pending: false,
            last,
            expected,
        }
    }

    #[test]
    fn all_done_waits_for_anything_that_is_up_or_will_come_back() {
        let done = fact("a", State::Exited, Some(ExitStatus::Code(0)), true);
        for state in [
            State::Starting,
            State::Running,
            State::Backoff,
            State::Stopping,
            State::Unknown,
        ] {
            let other = fact("b", state, None, false);
            assert_eq!(all_done(&[done.clone(), other]), None, "{state:?}");
        }
        let pending = Facts {
            restart_pending: true,
            ..fact("b", State::Stopped, None, false)
        };
        assert_eq!(all_done(&[done.clone(), pending]), None);
    }

    #[test]
    fn all_done_is_0_when_everything_ended_as_expected() {
        let never_started = fact("idle", State::Stopped, None, false);
        let ok = fact("job", State::Exited, Some(ExitStatus::Code(0)), true);
        let end = all_done(&[never_started, ok]).expect("done");
        assert_eq!((end.status, end.level), (0, LogLevel::Info));
        assert_eq!(
            end.message,
            "every program has ended and none will restart (exit_when_all_done); \
             exiting with status 0"
        );
        assert_eq!(all_done(&[]).map(|e| e.status), Some(0), "nothing to run");
    }

    #[test]
    fn all_done_reports_the_highest_failure() {
        let procs = [
            fact("a", State::Exited, Some(ExitStatus::Code(3)), false),
            fact("b", State::Fatal, None, false),
            fact("c", State::Exited, Some(ExitStatus::Code(7)), false),
            fact("d", State::Exited, Some(ExitStatus::Code(9)), true),
        ];
        let end = all_done(&procs).expect("done");
        assert_eq!((end.status, end.level), (7, LogLevel::Warn));
        assert!(
            end.message
                .ends_with("exiting with status 7: c exited unexpectedly (exit status 7)"),
            "{}",
            end.message
        );
        // An unexpected 0 (exitcodes=1) is still a failure; FATAL alone is 1.
        let zero = fact("z", State::Exited, Some(ExitStatus::Code(0)), false);
        assert_eq!(all_done(&[zero]).map(|e| e.status), Some(1));
        let fatal = fact("f", State::Fatal, Some(ExitStatus::Code(0)), false);
        assert_eq!(all_done(&[fatal]).map(|e| e.status), Some(1));
        let killed = fact("k", State::Exited, Some(TERM), false);
        assert_eq!(all_done(&[killed]).map(|e| e.status), Some(143));
    }
}
