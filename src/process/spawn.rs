//! Starting a child: the only place that builds a command and spawns it.
