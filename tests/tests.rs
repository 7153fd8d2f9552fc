//! One integration-test crate (one binary to build and link): each module
//! drives the real `supervisor` binary through its mode names.

mod util;

mod daemon;
