//! Logs: capture files for child output with rotation (`writer`, `rotate`),
//! byte-range reads for the RPC (`read`), the pipe pump (`capture`) and
//! supervisord's own levelled activity log (`activity`).
//!
//! Everything here lives on the daemon's one thread. A child channel is wired
//! as: `LogFile` in an `Rc<RefCell<_>>` shared by core (clear, reopen, path)
//! and one `capture::pump` task whose `on_data` writes each chunk, hands any
//! `Notice` to the `MainLog`, and returns `log.congestion()`. Followers
//! (`tail -f`, `/logtail`) `subscribe()` and re-read with `read::tail`.
//! `syslog` sends output and main log lines to the local syslog daemon.
//! `lines` prefixes captured lines and joins pieces into whole lines;
//! `outlet` writes whole lines to supervisord's own stdout and stderr
//! (forwarded output, the nodaemon echo) without ever blocking.

pub mod activity;
pub mod capture;
pub mod lines;
pub mod outlet;
pub mod read;
pub mod rotate;
pub mod syslog;
pub mod writer;
