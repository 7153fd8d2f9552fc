//! One supervised process: the pure state machine that decides what happens
//! (`state`), the signal table (`signals`) and the single place that starts a
//! child (`spawn`). Only `spawn` performs I/O.

pub mod signals;
pub mod spawn;
pub(crate) mod state;
