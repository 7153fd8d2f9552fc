//! One supervised process: the pure state machine that decides what happens
//! (`state`), what its `ready=` check is (`ready`), the signal names it may
//! use (`signals`), and the only two places that act on a child: `spawn`
//! starts one and `kill` signals one.

pub mod kill;
pub(crate) mod ready;
pub mod signals;
pub mod spawn;
pub(crate) mod state;
