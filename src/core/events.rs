//! Supervisor's events as 4.3 names, nests and renders them: the event
//! types, which subscription receives which type (a base type receives its
//! subtypes, EVENT receives all), each payload's `key:value` text and the
//! envelope a listener reads. Pure: the core decides when an event happens.

use crate::process::state::State;

/// A concrete event type (4.3's abstract types only appear in `events=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    ProcessState(State),
    ProcessLogStdout,
    ProcessLogStderr,
    ProcessCommunicationStdout,
    ProcessCommunicationStderr,
    RemoteCommunication,
    SupervisorRunning,
    SupervisorStopping,
    Tick(u64),
    ProcessGroupAdded,
    ProcessGroupRemoved,
}

/// The tick periods 4.3 knows, in seconds.
pub const TICK_PERIODS: [u64; 3] = [5, 60, 3600];

impl EventKind {
    /// 4.3's `eventname:` for this type.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::ProcessState(state) => match state {
                State::Stopped => "PROCESS_STATE_STOPPED",
                State::Starting => "PROCESS_STATE_STARTING",
                State::Running => "PROCESS_STATE_RUNNING",
                State::Backoff => "PROCESS_STATE_BACKOFF",
                State::Stopping => "PROCESS_STATE_STOPPING",
                State::Exited => "PROCESS_STATE_EXITED",
                State::Fatal => "PROCESS_STATE_FATAL",
                State::Unknown => "PROCESS_STATE_UNKNOWN",
            },
            EventKind::ProcessLogStdout => "PROCESS_LOG_STDOUT",
            EventKind::ProcessLogStderr => "PROCESS_LOG_STDERR",
            EventKind::ProcessCommunicationStdout => "PROCESS_COMMUNICATION_STDOUT",
            EventKind::ProcessCommunicationStderr => "PROCESS_COMMUNICATION_STDERR",
            EventKind::RemoteCommunication => "REMOTE_COMMUNICATION",
            EventKind::SupervisorRunning => "SUPERVISOR_STATE_CHANGE_RUNNING",
            EventKind::SupervisorStopping => "SUPERVISOR_STATE_CHANGE_STOPPING",
            EventKind::Tick(5) => "TICK_5",
            EventKind::Tick(60) => "TICK_60",
            EventKind::Tick(_) => "TICK_3600",
            EventKind::ProcessGroupAdded => "PROCESS_GROUP_ADDED",
            EventKind::ProcessGroupRemoved => "PROCESS_GROUP_REMOVED",
        }
    }

    /// The abstract type this one belongs to (besides EVENT).
    fn base(self) -> Option<&'static str> {
        match self {
            EventKind::ProcessState(_) => Some("PROCESS_STATE"),
            EventKind::ProcessLogStdout | EventKind::ProcessLogStderr => Some("PROCESS_LOG"),
            EventKind::ProcessCommunicationStdout | EventKind::ProcessCommunicationStderr => {
                Some("PROCESS_COMMUNICATION")
            }
            EventKind::SupervisorRunning | EventKind::SupervisorStopping => {
                Some("SUPERVISOR_STATE_CHANGE")
            }
            EventKind::Tick(_) => Some("TICK"),
            EventKind::ProcessGroupAdded | EventKind::ProcessGroupRemoved => Some("PROCESS_GROUP"),
            EventKind::RemoteCommunication => None,
        }
    }

    /// Whether a pool subscribed to `name` (upper case, as config keeps it)
    /// receives this type: 4.3's `isinstance`.
    pub fn is_a(self, name: &str) -> bool {
        name == "EVENT" || name == self.name() || self.base() == Some(name)
    }
}

/// Whether any of `subscriptions` receives the tick of `period` seconds.
pub fn wants_tick(subscriptions: &[String], period: u64) -> bool {
    subscriptions
        .iter()
        .any(|s| EventKind::Tick(period).is_a(s))
}

/// One event as pools buffer it: its type, its payload text and the global
/// serial 4.3 gives it when the first pool accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub payload: String,
    pub serial: u64,
}

/// What a PROCESS_STATE payload is made of.
pub struct StateChange<'a> {
    pub name: &'a str,
    pub group: &'a str,
    pub from: State,
    pub to: State,
    /// 4.3's `backoff` counter when the state changed.
    pub tries: u32,
    /// Whether an exit was expected (EXITED only).
    pub expected: bool,
    pub pid: u32,
}

/// `processname:x groupname:g from_state:S` and the extras 4.3 adds for the
/// new state (tries, expected, pid).
pub fn process_state(change: &StateChange<'_>) -> String {
    let mut out = format!(
        "processname:{} groupname:{} from_state:{}",
        change.name,
        change.group,
        change.from.name()
    );
    match change.to {
        State::Starting | State::Backoff => out.push_str(&format!(" tries:{}", change.tries)),
        State::Exited => out.push_str(&format!(
            " expected:{} pid:{}",
            i32::from(change.expected),
            change.pid
        )),
        State::Running | State::Stopping | State::Stopped => {
            out.push_str(&format!(" pid:{}", change.pid))
        }
        State::Fatal | State::Unknown => {}
    }
    out
}

/// Output as 4.3 renders it in an event: the text, or `Undecodable: b'...'`.
fn output_text(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) => text.to_string(),
        Err(_) => format!("Undecodable: {}", crate::pytext::repr_bytes(data)),
    }
}

/// PROCESS_LOG_STDOUT / _STDERR.
pub fn process_log(name: &str, group: &str, pid: u32, channel: &str, data: &[u8]) -> String {
    format!(
        "processname:{name} groupname:{group} pid:{pid} channel:{channel}\n{}",
        output_text(data)
    )
}

/// PROCESS_COMMUNICATION_STDOUT / _STDERR.
pub fn process_communication(name: &str, group: &str, pid: u32, data: &[u8]) -> String {
    format!(
        "processname:{name} groupname:{group} pid:{pid}\n{}",
        output_text(data)
    )
}

/// REMOTE_COMMUNICATION.
pub fn remote_communication(kind: &str, data: &str) -> String {
    format!("type:{kind}\n{data}")
}

/// PROCESS_GROUP_ADDED / _REMOVED.
pub fn process_group(group: &str) -> String {
    format!("groupname:{group}\n")
}

/// TICK_n: the start of the period that just began.
pub fn tick(when: u64) -> String {
    format!("when:{when}")
}

/// 4.3's `timeslice`: the start of the `period` that `now` falls in.
pub fn timeslice(period: u64, now: u64) -> u64 {
    now - now % period.max(1)
}

/// The header line and payload a listener reads. `len` counts characters,
/// as 4.3's `len()` of a str does (its listeners read characters too).
pub fn envelope(identifier: &str, pool: &str, pool_serial: u64, event: &Event) -> String {
    format!(
        "ver:3.0 server:{identifier} serial:{} pool:{pool} poolserial:{pool_serial} \
         eventname:{} len:{}\n{}",
        event.serial,
        event.kind.name(),
        event.payload.chars().count(),
        event.payload
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtypes_reach_base_and_event_subscriptions() {
        let exited = EventKind::ProcessState(State::Exited);
        assert!(exited.is_a("PROCESS_STATE_EXITED"));
        assert!(exited.is_a("PROCESS_STATE"));
        assert!(exited.is_a("EVENT"));
        assert!(!exited.is_a("PROCESS_STATE_RUNNING"));
        assert!(!exited.is_a("PROCESS_LOG"));
        assert!(EventKind::Tick(60).is_a("TICK"));
        assert!(!EventKind::Tick(60).is_a("TICK_5"));
        assert!(EventKind::RemoteCommunication.is_a("EVENT"));
        assert!(!EventKind::RemoteCommunication.is_a("PROCESS_GROUP"));
        assert!(wants_tick(&["EVENT".into()], 3600));
        assert!(!wants_tick(&["PROCESS_STATE".into(), "TICK_60".into()], 5));
    }

    #[test]
    fn state_payloads_carry_43s_extras() {
        let change = |to| StateChange {
            name: "web",
            group: "g",
            from: State::Starting,
            to,
            tries: 2,
            expected: false,
            pid: 42,
        };
        assert_eq!(
            process_state(&change(State::Backoff)),
            "processname:web groupname:g from_state:STARTING tries:2"
        );
        assert_eq!(
            process_state(&change(State::Exited)),
            "processname:web groupname:g from_state:STARTING expected:0 pid:42"
        );
        assert_eq!(
            process_state(&change(State::Running)),
            "processname:web groupname:g from_state:STARTING pid:42"
        );
        assert_eq!(
            process_state(&change(State::Fatal)),
            "processname:web groupname:g from_state:STARTING"
        );
    }

    #[test]
    fn other_payloads_and_the_envelope() {
        assert_eq!(
            process_log("web", "g", 7, "stderr", b"oops\n"),
            "processname:web groupname:g pid:7 channel:stderr\noops\n"
        );
        assert_eq!(
            process_communication("web", "g", 7, b"\xff"),
            "processname:web groupname:g pid:7\nUndecodable: b'\\xff'"
        );
        assert_eq!(remote_communication("t", "d"), "type:t\nd");
        assert_eq!(process_group("g"), "groupname:g\n");
        assert_eq!(tick(1_700_000_000), "when:1700000000");
        assert_eq!(timeslice(60, 1_700_000_059), 1_700_000_040);
        let event = Event {
            kind: EventKind::ProcessGroupAdded,
            payload: "groupname:é\n".into(),
            serial: 3,
        };
        assert_eq!(
            envelope("sv", "pool", 1, &event),
            "ver:3.0 server:sv serial:3 pool:pool poolserial:1 eventname:PROCESS_GROUP_ADDED len:12\ngroupname:é\n"
        );
    }
}
