//! TODO (read)
