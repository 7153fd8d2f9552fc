//! One supervised process: the pure state machine that decides what happens
//! (`state`), the signal names it may use (`signals`), and the only two
//! places that act on a child: `spawn` starts one and `kill` signals one.

pub mod kill;
pub mod signals;
pub mod spawn;
pub(crate) mod state;
// Wired into the config and the core by the readiness work.
#[allow(dead_code)]
pub(crate) mod ready;
