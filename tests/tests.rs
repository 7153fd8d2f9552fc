//! One integration-test crate (one binary to build and link): each module
//! drives the real `supervisor` binary through its mode names, or hammers
//! the public parsers.

mod util;

mod daemon;
mod fuzz_parsers;
mod http;
mod pidproxy;
mod rpc;
