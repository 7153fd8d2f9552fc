//! TODO (writer)
