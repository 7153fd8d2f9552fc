//! The daemon's XML-RPC method table (supervisor.* and system.*).
