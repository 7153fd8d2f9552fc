//! TODO (activity)
