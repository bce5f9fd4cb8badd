//! A limit on the recursive resolutions running at once (Unbound's `num-queries-per-thread`,
//! BIND's `recursive-clients`), so that a flood of questions for slow or silent servers
//! cannot hold every resource. Half the slots let their resolutions run to completion; a
//! question arriving when all are taken replaces the oldest resolution of the other half if
//! that one has run longer than the jostle time (Unbound's `jostle-timeout`: about one round
//! trip), and is dropped otherwise. A replaced resolution's client gets no answer and asks
//! again, as after a lost packet.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

#[derive(Debug)]
pub struct RecursionSlots {
    max: usize,
    jostle_millis: u64,
    running: Mutex<Running>,
}

#[derive(Debug, Default)]
struct Running {
    next_id: u64,
    /// In the order they were admitted.
    slots: Vec<Slot>,
}

#[derive(Debug)]
struct Slot {
    id: u64,
    started: u64,
    /// In the half that runs to completion.
    protected: bool,
    cancel: CancellationToken,
}

/// A resolution's slot, given back when dropped; `cancel` fires when a newer question took it.
#[derive(Debug)]
pub struct SlotGuard {
    slots: Arc<RecursionSlots>,
    id: u64,
    pub cancel: CancellationToken,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut running = self.slots.running.lock().unwrap_or_else(|e| e.into_inner());
        running.slots.retain(|s| s.id != self.id);
    }
}

impl RecursionSlots {
    /// `max` resolutions at once (at least one).
    pub fn new(max: usize, jostle_millis: u64) -> Arc<RecursionSlots> {
        Arc::new(RecursionSlots { max: max.max(1), jostle_millis, running: Mutex::default() })
    }

    /// A slot for a resolution starting at `now` (milliseconds), or `None` when every slot is
    /// taken by resolutions that may keep it (the question is dropped).
    pub fn admit(self: &Arc<Self>, now: u64) -> Option<SlotGuard> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let protected = if running.slots.len() < self.max {
            running.slots.iter().filter(|s| s.protected).count() < self.max / 2
        } else {
            let jostled = running
                .slots
                .iter()
                .position(|s| !s.protected && now.saturating_sub(s.started) > self.jostle_millis)?;
            let old = running.slots.remove(jostled);
            old.cancel.cancel();
            false
        };
        let id = running.next_id;
        running.next_id += 1;
        let cancel = CancellationToken::new();
        running.slots.push(Slot { id, started: now, protected, cancel: cancel.clone() });
        Some(SlotGuard { slots: self.clone(), id, cancel })
    }

    /// Resolutions running now.
    pub fn in_use(&self) -> usize {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_drops_the_new_question_or_replaces_one_that_ran_too_long() {
        // One slot: the second question is dropped while the first is young.
        let one = RecursionSlots::new(1, 200);
        let first = one.admit(0).expect("a free slot");
        assert!(one.admit(100).is_none());
        // Once it has run past the jostle time, a new question takes its place.
        let second = one.admit(300).expect("the old one is replaced");
        assert!(first.cancel.is_cancelled() && !second.cancel.is_cancelled());
        drop(first);
        assert_eq!(one.in_use(), 1);

        // Two slots: the first runs to completion, the second may be replaced.
        let two = RecursionSlots::new(2, 200);
        let a = two.admit(0).expect("a slot");
        let b = two.admit(0).expect("a slot");
        assert!(two.admit(100).is_none(), "both young: the new one is dropped");
        let c = two.admit(300).expect("b has run too long");
        assert!(!a.cancel.is_cancelled() && b.cancel.is_cancelled());
        drop(b);
        drop(a);
        assert_eq!(two.in_use(), 1);
        // A slot given back is free again, in the protected half.
        let d = two.admit(400).expect("a free slot");
        let e = two.admit(1000).expect("c has run too long");
        assert!(c.cancel.is_cancelled() && !d.cancel.is_cancelled() && !e.cancel.is_cancelled());
        drop((c, d, e));
        assert_eq!(two.in_use(), 0);
    }
}
