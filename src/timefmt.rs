//! Local time for log lines and descriptions, from the TZif zone files (no libc).
