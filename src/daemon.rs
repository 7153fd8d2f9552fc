//! Process-wide setup for the daemon: daemonize, pidfile, rlimits, setuid.
