//! The daemon's HTTP side: a pure request parser with limits (`request`),
//! basic authentication (`auth`), the listeners and routing (`server`).

pub mod auth;
pub mod request;
pub(crate) mod server;
pub(crate) mod ui;
