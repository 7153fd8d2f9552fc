//! The owned views the core hands out: `ProcessInfo` with 4.3's fields and
//! its `description` text, `ConfigInfo` for getAllConfigInfo and the `Diff`
//! of a reread. Pure: the caller supplies the times and the local-time
//! formatter.

use crate::config;
use crate::process::state::State;

/// One configured process as getAllConfigInfo reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigInfo {
    pub group: String,
    pub group_priority: i32,
    /// Whether its group is active.
    pub inuse: bool,
    pub process: config::Process,
    /// `none`, `syslog`, a path, `auto`, or the AUTO file in use.
    pub stdout_logfile: String,
    pub stderr_logfile: String,
}

/// Groups that a configuration read adds, changes and removes against the
/// active ones (4.3's `diff_to_active`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// One process as getProcessInfo reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub name: String,
    pub group: String,
    /// Unix seconds of the last start, 0 if never started.
    pub start: i64,
    /// Unix seconds of the last stop, 0 if never stopped.
    pub stop: i64,
    pub now: i64,
    pub state: State,
    pub spawnerr: String,
    pub exitstatus: i32,
    pub stdout_logfile: String,
    pub stderr_logfile: String,
    pub pid: u32,
    pub description: String,
}

impl ProcessInfo {
    /// `group:name`, or `name` when both are the same.
    pub fn namespec(&self) -> String {
        super::names::make(&self.group, &self.name)
    }
}

/// 4.3 caps timestamps to XML-RPC's 32-bit int.
pub fn capped(secs: i64) -> i64 {
    secs.clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

/// Python's `str(timedelta)` for whole seconds: `0:00:05`, `1 day, 2:03:04`.
pub fn uptime_text(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let clock = format!("{}:{:02}:{:02}", rest / 3600, (rest % 3600) / 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        n => format!("{n} days, {clock}"),
    }
}

/// What the description is made from.
pub struct Facts<'a> {
    pub state: State,
    pub start: i64,
    pub stop: i64,
    pub now: i64,
    pub pid: u32,
    pub spawnerr: &'a str,
    pub name: &'a str,
}

/// The `description` field, as 4.3's `_interpretProcessInfo` words it.
/// `stamp` formats a unix time as `%b %d %I:%M %p` in local time.
pub fn describe(facts: &Facts<'_>, stamp: impl Fn(i64) -> String) -> String {
    let Facts {
        state,
        start,
        stop,
        now,
        pid,
        spawnerr,
        name,
    } = *facts;
    match state {
        State::Running => format!("pid {pid}, uptime {}", uptime_text(now - start)),
        State::Fatal | State::Backoff => {
            if spawnerr.is_empty() {
                format!("unknown error (try \"tail {name}\")")
            } else {
                spawnerr.to_string()
            }
        }
        State::Stopped | State::Exited => {
            if start != 0 {
                stamp(stop)
            } else {
                "Not started".to_string()
            }
        }
        State::Starting | State::Stopping | State::Unknown => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(_: i64) -> String {
        "Nov 23 06:59 PM".to_string()
    }

    #[test]
    fn uptime_matches_python_timedelta() {
        assert_eq!(uptime_text(5), "0:00:05");
        assert_eq!(uptime_text(3723), "1:02:03");
        assert_eq!(uptime_text(86_400 + 61), "1 day, 0:01:01");
        assert_eq!(
            uptime_text(5 * 86_400 + 7 * 3600 + 18 * 60 + 14),
            "5 days, 7:18:14"
        );
        assert_eq!(uptime_text(-3), "0:00:00");
    }

    #[test]
    fn running_shows_pid_and_uptime() {
        let d = describe(
            &Facts {
                state: State::Running,
                start: 100,
                stop: 0,
                now: 165,
                pid: 42,
                spawnerr: "",
                name: "web",
            },
            fixed,
        );
        assert_eq!(d, "pid 42, uptime 0:01:05");
    }

    #[test]
    fn fatal_and_backoff_show_spawnerr_or_hint() {
        let facts = Facts {
            state: State::Fatal,
            start: 1,
            stop: 2,
            now: 3,
            pid: 0,
            spawnerr: "Exited too quickly (process log may have details)",
            name: "web",
        };
        let d = describe(&facts, fixed);
        assert_eq!(d, "Exited too quickly (process log may have details)");
        let d = describe(
            &Facts {
                state: State::Backoff,
                start: 1,
                stop: 2,
                now: 3,
                pid: 0,
                spawnerr: "",
                name: "web",
            },
            fixed,
        );
        assert_eq!(d, "unknown error (try \"tail web\")");
    }

    #[test]
    fn stopped_shows_stop_time_or_not_started() {
        assert_eq!(
            describe(
                &Facts {
                    state: State::Stopped,
                    start: 0,
                    stop: 0,
                    now: 3,
                    pid: 0,
                    spawnerr: "",
                    name: "web"
                },
                fixed
            ),
            "Not started"
        );
        assert_eq!(
            describe(
                &Facts {
                    state: State::Exited,
                    start: 10,
                    stop: 20,
                    now: 30,
                    pid: 0,
                    spawnerr: "",
                    name: "web"
                },
                fixed
            ),
            "Nov 23 06:59 PM"
        );
    }

    #[test]
    fn transitional_states_have_no_description() {
        for state in [State::Starting, State::Stopping, State::Unknown] {
            assert_eq!(
                describe(
                    &Facts {
                        state,
                        start: 1,
                        stop: 2,
                        now: 3,
                        pid: 9,
                        spawnerr: "x",
                        name: "web"
                    },
                    fixed
                ),
                ""
            );
        }
    }

    #[test]
    fn timestamps_are_capped_to_32_bits() {
        assert_eq!(capped(1 << 40), i64::from(i32::MAX));
        assert_eq!(capped(7), 7);
    }
}
