//! Deadlines without ticks: every process has at most one pending deadline
//! (startsecs, backoff delay or stopwaitsecs), all of them kept in one ordered
//! set, and one task sleeps until the earliest. Arming an earlier deadline
//! wakes that task; with no deadline pending it sleeps until woken.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use smol::channel::{Receiver, Sender};

use super::ProcId;

/// The pending deadlines and the bell that wakes the timer task.
pub struct Deadlines {
    queue: BTreeSet<(Instant, ProcId)>,
    armed: HashMap<ProcId, Instant>,
    bell: Sender<()>,
}

impl Deadlines {
    /// The set and the receiver the timer task listens on.
    pub fn new() -> (Deadlines, Receiver<()>) {
        let (bell, rx) = smol::channel::bounded(1);
        let deadlines = Deadlines {
            queue: BTreeSet::new(),
            armed: HashMap::new(),
            bell,
        };
        (deadlines, rx)
    }

    /// Makes `at` the one deadline of `id`, replacing any earlier one.
    pub fn arm(&mut self, id: ProcId, at: Instant) {
        self.cancel(id);
        self.queue.insert((at, id));
        self.armed.insert(id, at);
        if self.queue.first() == Some(&(at, id)) {
            // The timer task may be sleeping towards a later deadline.
            let _ = self.bell.try_send(());
        }
    }

    pub fn cancel(&mut self, id: ProcId) {
        if let Some(old) = self.armed.remove(&id) {
            self.queue.remove(&(old, id));
        }
    }

    pub fn next(&self) -> Option<Instant> {
        self.queue.first().map(|(at, _)| *at)
    }

    /// Removes and returns the processes whose deadline is at or before `now`.
    pub fn take_due(&mut self, now: Instant) -> Vec<ProcId> {
        let mut due = Vec::new();
        while let Some(&(at, id)) = self.queue.first() {
            if at > now {
                break;
            }
            self.queue.remove(&(at, id));
            self.armed.remove(&id);
            due.push(id);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rearming_replaces_the_old_deadline() {
        let (mut d, _rx) = Deadlines::new();
        let t0 = Instant::now();
        d.arm(1, t0 + Duration::from_secs(5));
        d.arm(1, t0 + Duration::from_secs(1));
        assert_eq!(d.next(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(d.take_due(t0 + Duration::from_secs(10)), vec![1]);
        assert_eq!(d.next(), None);
    }

    #[test]
    fn only_due_deadlines_are_taken_in_order() {
        let (mut d, _rx) = Deadlines::new();
        let t0 = Instant::now();
        d.arm(1, t0 + Duration::from_secs(3));
        d.arm(2, t0 + Duration::from_secs(1));
        d.arm(3, t0 + Duration::from_secs(9));
        assert_eq!(d.take_due(t0 + Duration::from_secs(3)), vec![2, 1]);
        assert_eq!(d.next(), Some(t0 + Duration::from_secs(9)));
    }

    #[test]
    fn cancel_forgets_the_deadline() {
        let (mut d, _rx) = Deadlines::new();
        let t0 = Instant::now();
        d.arm(7, t0);
        d.cancel(7);
        assert!(d.take_due(t0 + Duration::from_secs(1)).is_empty());
    }

    #[test]
    fn an_earlier_deadline_rings_the_bell() {
        let (mut d, rx) = Deadlines::new();
        let t0 = Instant::now();
        d.arm(1, t0 + Duration::from_secs(5));
        assert!(rx.try_recv().is_ok());
        d.arm(2, t0 + Duration::from_secs(9));
        assert!(rx.try_recv().is_err(), "a later deadline needs no wake-up");
    }
}
