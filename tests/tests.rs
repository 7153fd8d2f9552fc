//! One integration-test crate (one binary to build and link): each module
//! drives the real `supervisor` binary through its mode names, or hammers
//! the public parsers.

mod ctl_util;
mod util;

mod container;
mod ctl_compare;
mod ctl_shell;
mod ctl_stream;
mod daemon;
mod depends;
mod events;
mod fcgi;
mod fuzz_parsers;
mod http;
mod identity;
mod init;
mod logfmt;
mod logs;
mod modes;
mod pidproxy;
mod reload;
mod rpc;
mod superlance;
mod syslog;
mod web;
