//! supervisor: a process control system for UNIX (supervisord, supervisorctl
//! and pidproxy in one binary). The library holds every mode so that
//! integration tests and fuzz targets can reach the pure parsers directly.

pub mod base64;
pub mod cli;
pub mod config;
pub mod core;
pub mod ctl;
pub mod daemon;
pub mod http;
pub mod log;
pub mod pidproxy;
pub mod process;
pub mod pytext;
pub mod rpc;
pub mod supervisord;
pub mod timefmt;
pub mod users;

/// The version we report as our own (`--version`, getSupervisorVersion).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The supervisor version string reported by `supervisor.getSupervisorVersion`
/// and printed by `supervisorctl version`. Tools compare it against 4.x, so
/// we report the Supervisor release whose behaviour we reproduce.
pub const SUPERVISOR_COMPAT_VERSION: &str = "4.3.0";

/// The XML-RPC API version (`getAPIVersion`); supervisorctl refuses any other.
pub const API_VERSION: &str = "3.0";
