//! XML-RPC: the data model (`value`), the wire codec (`codec`), Supervisor's
//! fault table (`faults`) and, on the daemon side, the method table (`methods`).
//! supervisorctl shares `value`, `codec` and `faults`.

pub(crate) mod catalog;
pub mod codec;
pub(crate) mod faults;
pub(crate) mod methods;
pub mod value;
