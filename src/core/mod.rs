//! The daemon's core: it alone owns the process records, applies the state
//! machine's actions and answers requests from the RPC and web tasks.
