//! TODO (capture)
