//! supervisor: a process control system for UNIX (supervisord, supervisorctl,
//! pidproxy and echo_supervisord_conf in one binary), a drop-in for Python
//! Supervisor 4.3. This page is the map of the house.
//!
//! # Rooms
//! - `cli`: the mode table; the binary dispatches on `argv[0]` or its first
//!   argument and returns the mode's exit status.
//! - `supervisord`: the daemon mode. Flags become a [`config::Source`], then
//!   process-wide setup (`daemon`: privileges, rlimits, daemonizing, pidfile),
//!   the main log, the listeners and the signal task, all on one
//!   single-threaded executor, until a shutdown; a restart loops with the
//!   configuration the core hands back.
//! - `config`: INI text to a typed, validated `Config`, or one error naming
//!   file, line, section, key and value. Values only: no sockets, no
//!   spawning, no globals. `Source` (the file plus typed command-line
//!   overrides) is the one way the daemon reads it, at start, on SIGHUP, on
//!   `restart` and on `reloadConfig`.
//! - `process`: `state`, the pure state machine (record, params, event, now
//!   -> actions), which never reads the clock, calls the system or logs;
//!   `ready`, the parsed `ready=` check; `signals`, signal names; `spawn`,
//!   the one place that starts a child (clone without a general fork, only
//!   raw syscalls in the child); `kill`, the one place that signals one.
//! - `core`: the only owner of process records. It feeds events to the
//!   machine and performs the actions (spawn, signal, arm a deadline, log,
//!   announce a change). Its one door is `core::Handle`: typed requests in,
//!   owned views (`ProcessInfo`, `ConfigInfo`, `Diff`) or a `core::Error`
//!   out; waiting requests are async methods woken by the core's change
//!   announcements. It never parses XML, HTTP or INI and never imports `rpc`.
//!   Beside it: `notify` (the event hub: pools, listeners' protocol, event
//!   payloads), `depends` (starts gated on dependencies, stops in reverse),
//!   `readiness` (one task per `ready=` check: fd pipe, sd_notify socket,
//!   probes, watchdog; each reports an event), `fcgi` (shared sockets),
//!   `ending` (container mode: an essential program's end or
//!   exit_when_all_done ends the run, with the status `Outcome` carries),
//!   `forward` (`forward_to_stdout` lines to the outlets).
//! - `log`: capture (pipe pumps), rotating writers, byte-range reads, line
//!   prefixes, the non-blocking outlets to supervisord's own stdout/stderr
//!   and the main activity log; owned by the core, reached through the
//!   handle.
//! - `rpc`: the XML-RPC value model and codec (shared with supervisorctl),
//!   Supervisor's fault table, and the method table, which only maps
//!   arguments to handle requests and core errors to faults.
//! - `http`: a pure request parser with limits, basic auth, the listeners
//!   (`server`) and the web page (`ui`); both hold a `Handle` and nothing
//!   else of the core.
//! - `ctl`: supervisorctl, a client only: it shares `rpc`'s value and codec
//!   and `config`, never `core`, never spawns.
//! - `pidproxy` stands alone; `echo` prints the sample configuration.
//!   `timefmt`, `pytext`, `base64`, `users`: small pure helpers (local
//!   time, Python's text rules, base64, passwd/group).
//!
//! # Data flow
//! ```text
//! tasks (child exit, output, timers)   signals, rpc/, http/, web page
//!        | one I/O fact = one event           | typed request
//!        v                                    v
//!   Core (weak ref, core-internal)  <---  core::Handle (cloneable)
//!        |  state::step(record, params, event, now) -> actions
//!        v
//!   spawn / signal / deadline / log / "something changed" -> waiters
//! ```
//! Nothing wakes an idle daemon: every timer is a deadline a process is
//! waiting for, and no borrow of the core outlives one synchronous call.
//!
//! The library is the binary's body; it exports only what the binary, the
//! integration tests and the fuzz targets reach (the parsers, the codec).

pub mod base64;
pub mod cli;
pub mod config;
mod core;
mod ctl;
mod daemon;
mod echo;
pub mod http;
mod log;
mod pidproxy;
pub mod process;
mod pytext;
pub mod rpc;
mod supervisord;
mod timefmt;
pub mod users;

/// The version we report as our own (`--version`, getSupervisorVersion).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The supervisor version string reported by `supervisor.getSupervisorVersion`
/// and printed by `supervisorctl version`. Tools compare it against 4.x, so
/// we report the Supervisor release whose behaviour we reproduce.
pub const SUPERVISOR_COMPAT_VERSION: &str = "4.3.0";

/// The XML-RPC API version (`getAPIVersion`); supervisorctl refuses any other.
pub const API_VERSION: &str = "3.0";
