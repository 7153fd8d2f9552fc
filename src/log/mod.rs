//! Logs: capture files for child output with rotation (`writer`, `rotate`),
//! byte-range reads for the RPC (`read`), the pipe pump (`capture`) and
//! supervisord's own levelled activity log (`activity`).

pub mod activity;
pub mod capture;
pub mod read;
pub mod rotate;
pub mod writer;
