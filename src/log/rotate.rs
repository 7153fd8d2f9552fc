//! TODO (rotate)
