//! Listeners, connections and routing.
