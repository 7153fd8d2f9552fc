//! Dependencies between processes (`depends_on=`): a start waits until
//! every process it depends on is RUNNING (ready, with `ready=`), a
//! dependency that goes FATAL leaves its dependent STOPPED with a spawnerr
//! saying so, and a shutdown stops dependents before what they depend on.
//! The blocking lives here, beside the machine: a blocked process has not
//! started, so its state stays what it was.

use super::{Core, ProcId};
use crate::config::depends;
use crate::process::state::{Event, State};

impl Core {
    /// The processes `id` depends on, among the active ones.
    pub(super) fn dependencies(&self, id: ProcId) -> Vec<ProcId> {
        let Some(slot) = self.procs.get(&id) else {
            return Vec::new();
        };
        if slot.config.lifecycle.depends_on.is_empty() {
            return Vec::new();
        }
        let active: Vec<crate::config::Group> =
            self.groups.iter().map(|g| g.config.clone()).collect();
        let mut out = Vec::new();
        for entry in &slot.config.lifecycle.depends_on {
            for (group, name) in depends::resolve(&active, entry) {
                let dep = self
                    .groups
                    .iter()
                    .find(|g| g.config.name == group)
                    .and_then(|g| {
                        g.procs
                            .iter()
                            .copied()
                            .find(|p| self.procs.get(p).is_some_and(|s| s.config.name == name))
                    });
                if let Some(dep) = dep.filter(|d| *d != id && !out.contains(d)) {
                    out.push(dep);
                }
            }
        }
        out
    }

    /// Whether any active process has a dependency (4.3's behaviour when none does).
    pub(super) fn has_dependencies(&self) -> bool {
        self.procs
            .values()
            .any(|p| !p.config.lifecycle.depends_on.is_empty())
    }

    /// A start (AutoStart or Start) of `id`: Some(event) to apply now, None
    /// when it waits for its dependencies (or one of them failed).
    pub(super) fn gate_start(&mut self, id: ProcId, event: Event) -> Option<Event> {
        if !matches!(event, Event::AutoStart | Event::Start) {
            return Some(event);
        }
        let deps = self.dependencies(id);
        if deps.is_empty() {
            return Some(event);
        }
        // AutoStart only means something for a never-started process.
        if event == Event::AutoStart {
            let fresh = self.procs.get(&id).is_some_and(|p| {
                p.params.autostart && p.rec.state == State::Stopped && p.rec.laststart.is_none()
            });
            if !fresh {
                return Some(event);
            }
        }
        match self.dependency_verdict(&deps) {
            Verdict::Ready => Some(event),
            Verdict::Failed(name) => {
                self.dependency_failed(id, &name);
                None
            }
            Verdict::Waiting => {
                if let Some(slot) = self.procs.get_mut(&id) {
                    slot.blocked = Some(event);
                    slot.rec.spawnerr = None;
                }
                self.changed = true;
                None
            }
        }
    }

    fn dependency_verdict(&self, deps: &[ProcId]) -> Verdict {
        let mut waiting = false;
        for dep in deps {
            match self.procs.get(dep).map(|p| p.rec.state) {
                Some(State::Running) => {}
                Some(State::Fatal) => return Verdict::Failed(self.namespec(*dep)),
                _ => waiting = true,
            }
        }
        if waiting {
            Verdict::Waiting
        } else {
            Verdict::Ready
        }
    }

    fn dependency_failed(&mut self, id: ProcId, dep: &str) {
        let why = format!("dependency {dep} failed");
        if let Some(slot) = self.procs.get_mut(&id) {
            slot.blocked = None;
            slot.rec.spawnerr = Some(why.clone());
            let name = slot.config.name.clone();
            self.log.log(
                crate::config::LogLevel::Warn,
                &format!("not starting {name}: {why}"),
            );
        }
        self.changed = true;
    }

    /// After state changes: blocked starts whose dependencies are now all
    /// RUNNING go ahead; those with a FATAL dependency give up.
    pub(super) fn release_blocked(&mut self) {
        self.restart_stopped_dependents();
        loop {
            let blocked: Vec<ProcId> = self
                .procs
                .iter()
                .filter(|(_, p)| p.blocked.is_some())
                .map(|(id, _)| *id)
                .collect();
            let mut released = false;
            for id in blocked {
                let deps = self.dependencies(id);
                match self.dependency_verdict(&deps) {
                    Verdict::Waiting => {}
                    Verdict::Failed(name) => self.dependency_failed(id, &name),
                    Verdict::Ready => {
                        let event = self.procs.get_mut(&id).and_then(|p| p.blocked.take());
                        if let Some(event) = event {
                            self.apply(id, event);
                            released = true;
                        }
                    }
                }
            }
            if !released {
                return;
            }
        }
    }

    /// What a blocked process waits for, as its description shows it.
    pub(super) fn waiting_for(&self, id: ProcId) -> Option<String> {
        self.procs.get(&id)?.blocked.as_ref()?;
        let names: Vec<String> = self
            .dependencies(id)
            .into_iter()
            .filter(|d| self.procs.get(d).map(|p| p.rec.state) != Some(State::Running))
            .map(|d| self.namespec(d))
            .collect();
        Some(format!("waiting for {}", names.join(", ")))
    }

    /// `start c` starts c's dependencies first (systemd's Requires): each
    /// not running and not already started is started (or blocked on its
    /// own dependencies) before c.
    pub(super) fn start_dependencies(&mut self, id: ProcId) {
        let mut order = Vec::new();
        self.collect_dependencies(id, &mut order);
        for dep in order {
            let startable = self.procs.get(&dep).is_some_and(|p| {
                p.blocked.is_none()
                    && matches!(
                        p.rec.state,
                        State::Stopped | State::Exited | State::Fatal | State::Backoff
                    )
            });
            if startable {
                if let Some(event) = self.gate_start(dep, Event::Start) {
                    self.apply(dep, event);
                }
            }
        }
    }

    /// Dependencies, deepest first (the config has no cycles).
    fn collect_dependencies(&self, id: ProcId, out: &mut Vec<ProcId>) {
        for dep in self.dependencies(id) {
            if !out.contains(&dep) {
                self.collect_dependencies(dep, out);
                if !out.contains(&dep) {
                    out.push(dep);
                }
            }
        }
    }

    /// A shutdown with dependencies: every process none of whose dependents
    /// is still up gets its Shutdown, in reverse priority; the run ends when
    /// all are stopped.
    pub(super) fn advance_stopping_by_dependencies(&mut self) {
        loop {
            let order: Vec<ProcId> = self.in_priority_order(None).into_iter().rev().collect();
            if self.unstopped(&order).is_empty() {
                self.finish_stopping();
                return;
            }
            let mut acted = false;
            for id in &order {
                let Some(slot) = self.procs.get_mut(id) else {
                    continue;
                };
                slot.blocked = None;
                let state = slot.rec.state;
                if state.is_stopped() || state == State::Stopping {
                    continue;
                }
                let dependents_up = order.iter().any(|other| {
                    other != id
                        && self.dependencies(*other).contains(id)
                        && self
                            .procs
                            .get(other)
                            .is_some_and(|p| !p.rec.state.is_stopped())
                });
                if !dependents_up {
                    self.apply(*id, Event::Shutdown);
                    acted = true;
                }
            }
            if !acted {
                return;
            }
        }
    }
}

impl Core {
    /// `ids` (in their order) split into waves for stopping: each wave holds
    /// the processes none of whose dependents among `ids` is in a later one.
    pub(super) fn stop_waves(&self, ids: &[ProcId]) -> Vec<Vec<ProcId>> {
        let mut left: Vec<ProcId> = ids.to_vec();
        let mut waves = Vec::new();
        while !left.is_empty() {
            let wave: Vec<ProcId> = left
                .iter()
                .copied()
                .filter(|id| {
                    !left
                        .iter()
                        .any(|other| other != id && self.dependencies(*other).contains(id))
                })
                .collect();
            // No cycles are possible (the config refuses them); be safe anyway.
            let wave = if wave.is_empty() { left.clone() } else { wave };
            left.retain(|id| !wave.contains(id));
            waves.push(wave);
        }
        waves
    }

    /// A dependency left RUNNING: dependents with `restart_dependents=true`
    /// are stopped and start again once it is RUNNING again.
    pub(super) fn dependency_went_down(&mut self, id: ProcId) {
        let dependents: Vec<ProcId> = self
            .procs
            .iter()
            .filter(|(other, p)| {
                p.config.lifecycle.restart_dependents && p.rec.state.is_running() && **other != id
            })
            .map(|(other, _)| *other)
            .filter(|other| self.dependencies(*other).contains(&id))
            .collect();
        for dependent in dependents {
            if let Some(slot) = self.procs.get_mut(&dependent) {
                slot.restart_pending = true;
            }
            self.apply(dependent, Event::Stop);
        }
    }

    /// Dependents stopped for a restart start again (gated on their
    /// dependencies like any start).
    pub(super) fn restart_stopped_dependents(&mut self) {
        let ready: Vec<ProcId> = self
            .procs
            .iter()
            .filter(|(_, p)| p.restart_pending && p.rec.state.is_stopped())
            .map(|(id, _)| *id)
            .collect();
        for id in ready {
            if let Some(slot) = self.procs.get_mut(&id) {
                slot.restart_pending = false;
            }
            self.apply(id, Event::Start);
        }
    }
}

enum Verdict {
    Ready,
    Waiting,
    Failed(String),
}
