//! The history of one partition as a time-ordered list of call and return events, from
//! which the search removes an operation's two events while it holds the operation
//! linearized, and puts them back when it backtracks.

/// Marks the absence of a neighbour.
const NIL: u32 = u32::MAX;
/// The index of the list's sentinel head; real events follow it.
const HEAD: u32 = 0;

/// One event: the call or the return of an operation (numbered within the partition).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    /// The operation was issued; `ret` is the index of its return event.
    Call { op: u32, ret: u32 },
    /// The operation's response arrived.
    Return { op: u32 },
}

/// A doubly linked list of events in time order, with removal and restoration in
/// constant time ("dancing links"): restoring in the reverse order of removal gives back
/// the very same list.
#[derive(Debug)]
pub(crate) struct EventList {
    events: Vec<Event>,
    next: Vec<u32>,
    prev: Vec<u32>,
}

impl EventList {
    /// Builds the list for operations given as `(call, ret)` intervals.
    ///
    /// Events sort by time; at equal times calls come first, so that operations whose
    /// intervals only touch count as concurrent.
    pub(crate) fn new(intervals: &[(u64, u64)]) -> EventList {
        let n = intervals.len();
        // (time, 0 for call / 1 for return, op): the tuple order is the list order.
        let mut order: Vec<(u64, u8, u32)> = Vec::with_capacity(2 * n);
        for (op, &(call, ret)) in intervals.iter().enumerate() {
            let op = u32::try_from(op).expect("fewer than 2^31 operations in a partition");
            order.push((call, 0, op));
            order.push((ret, 1, op));
        }
        order.sort_unstable();

        // Slot 0 is the head; event k of `order` goes to slot k + 1.
        let mut events = vec![Event::Return { op: NIL }; 2 * n + 1];
        let mut ret_slot = vec![NIL; n];
        for (k, &(_, kind, op)) in order.iter().enumerate() {
            if kind == 1 {
                ret_slot[op as usize] = slot(k);
            }
        }
        for (k, &(_, kind, op)) in order.iter().enumerate() {
            events[slot(k) as usize] = if kind == 0 {
                Event::Call {
                    op,
                    ret: ret_slot[op as usize],
                }
            } else {
                Event::Return { op }
            };
        }
        let len = events.len() as u32;
        let next = (0..len)
            .map(|i| if i + 1 < len { i + 1 } else { NIL })
            .collect();
        let prev = (0..len).map(|i| if i == 0 { NIL } else { i - 1 }).collect();
        EventList { events, next, prev }
    }

    /// The first event still in the list, if any.
    pub(crate) fn first(&self) -> Option<u32> {
        self.after(HEAD)
    }

    /// The event after `at`, if any.
    pub(crate) fn after(&self, at: u32) -> Option<u32> {
        let next = self.next[at as usize];
        (next != NIL).then_some(next)
    }

    /// The event stored at `at`.
    pub(crate) fn event(&self, at: u32) -> Event {
        self.events[at as usize]
    }

    /// Removes the call event at `call` and its return event.
    pub(crate) fn lift(&mut self, call: u32) {
        let Event::Call { ret, .. } = self.event(call) else {
            unreachable!("only calls are lifted")
        };
        self.unlink(call);
        self.unlink(ret);
    }

    /// Puts back what [`EventList::lift`] removed; lifts must be undone last-first.
    pub(crate) fn unlift(&mut self, call: u32) {
        let Event::Call { ret, .. } = self.event(call) else {
            unreachable!("only calls are lifted")
        };
        self.relink(ret);
        self.relink(call);
    }

    fn unlink(&mut self, at: u32) {
        let (prev, next) = (self.prev[at as usize], self.next[at as usize]);
        self.next[prev as usize] = next;
        if next != NIL {
            self.prev[next as usize] = prev;
        }
    }

    /// Relinks `at` between the neighbours it still remembers.
    fn relink(&mut self, at: u32) {
        let (prev, next) = (self.prev[at as usize], self.next[at as usize]);
        self.next[prev as usize] = at;
        if next != NIL {
            self.prev[next as usize] = at;
        }
    }
}

/// The list slot of the `k`-th event in time order.
fn slot(k: usize) -> u32 {
    u32::try_from(k + 1).expect("fewer than 2^31 events")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(list: &EventList) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = list.first();
        while let Some(i) = at {
            out.push(match list.event(i) {
                Event::Call { op, .. } => format!("c{op}"),
                Event::Return { op } => format!("r{op}"),
            });
            at = list.after(i);
        }
        out
    }

    #[test]
    fn calls_sort_before_returns_at_equal_times() {
        let list = EventList::new(&[(0, 5), (5, 9)]);
        assert_eq!(walk(&list), ["c0", "c1", "r0", "r1"]);
    }

    #[test]
    fn lift_and_unlift_restore_the_list() {
        let mut list = EventList::new(&[(0, 1), (2, 6), (3, 4)]);
        let before = walk(&list);
        let c1 = 3; // slots: head, c0, r0, c1, c2, r2, r1
        list.lift(c1);
        assert_eq!(walk(&list), ["c0", "r0", "c2", "r2"]);
        list.lift(1);
        assert_eq!(walk(&list), ["c2", "r2"]);
        list.unlift(1);
        list.unlift(c1);
        assert_eq!(walk(&list), before);
    }
}
