//! Who goes when: the requests that wait for their turn, and the rules that give it.
//!
//! - **Single flight while a space is learned.** The first request to an origin the client
//!   knows no space of goes without credentials and *learns*: the requests to that origin
//!   after it wait for what its challenge teaches, then go with credentials at once (one 401
//!   for all of them, where each would otherwise fetch its own). The same holds for the
//!   first count of a nonce just learned, and for a request that opens a lane or makes a
//!   fresh handshake after a 403 (none starts while sends with the refused nonce are still in
//!   flight: a server that moved on challenges one of them, and that challenge is the
//!   handshake).
//! - **Order where the server needs it.** In an ordered space (see `protection_space`), a
//!   request waits for a free lane, or opens one while the space holds fewer than its bound.
//!
//! A waiting request is woken in the order it came (FIFO per space). A free lane is kept for
//! the request woken for it, so that a request arriving meanwhile does not take it. A
//! learner that fails or is abandoned hands its role to the first request waiting for it;
//! one that learns hands its waiters to the space it learned; one whose origin answers
//! without a challenge lets them all go. A waiter that is abandoned leaves the queue and
//! gives up what was kept for it; one whose wait bound passes goes on as if nothing held it.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::protection_space::{SpaceKind, Spaces, Turn, Wakeable};
use crate::origin::{Origin, OriginRef};
use crate::side::Side;

/// What a waiting request waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum On {
    /// A turn in the space with this id.
    Space(u64),
    /// What the exchange with this id learns of the origin it went to first.
    Learner(u64),
}

#[derive(Debug, Clone, Copy)]
struct Waiter {
    exchange: u64,
    side: Side,
    on: On,
    /// When it may be woken to open a lane.
    opens: Opens,
}

/// When a waiting request may be woken to open a lane (see [`Queue::push`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opens {
    /// Whenever the space may hold another lane: a request waiting for its first send.
    Always,
    /// Only when the space has no lane left to wait for: a request to be sent again after a
    /// refusal waits for a nonce (one send) rather than open one (two), but opens one when
    /// there is none (a 403 closed the last) and no other request does.
    WithoutLanes,
    /// Never: it has not the two sends left that opening takes.
    Never,
}

/// The waiting requests, in the order they came, and those woken and not yet resumed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Queue {
    waiters: VecDeque<Waiter>,
    ready: VecDeque<u64>,
}

impl Queue {
    /// Puts `exchange` in line on `side` for `on`: at the back, or at the front for one
    /// woken whose turn was taken meanwhile. `opens`: when it may be woken to open a lane.
    pub(crate) fn push(&mut self, exchange: u64, side: Side, on: On, opens: Opens, front: bool) {
        let waiter = Waiter {
            exchange,
            side,
            on,
            opens,
        };
        if front {
            self.waiters.push_front(waiter);
        } else {
            self.waiters.push_back(waiter);
        }
    }

    /// Removes `exchange` from the queue and from the woken.
    pub(crate) fn remove(&mut self, exchange: u64) {
        self.waiters.retain(|w| w.exchange != exchange);
        self.ready.retain(|e| *e != exchange);
    }

    /// Wakes the first request waiting on `side` for `on`, or with `to_open` (`Some`: whether
    /// the space has no lane), the first that may open a lane; returns it.
    fn wake_first(&mut self, side: Side, on: On, to_open: Option<bool>) -> Option<u64> {
        let i = self.waiters.iter().position(|w| {
            w.side == side
                && w.on == on
                && match (to_open, w.opens) {
                    (None, _) | (Some(_), Opens::Always) => true,
                    (Some(no_lanes), Opens::WithoutLanes) => no_lanes,
                    (Some(_), Opens::Never) => false,
                }
        })?;
        let waiter = self.waiters.remove(i)?;
        self.ready.push_back(waiter.exchange);
        Some(waiter.exchange)
    }

    /// Wakes every request waiting on `side` for `on`.
    fn wake_all(&mut self, side: Side, on: On) {
        let ready = &mut self.ready;
        self.waiters.retain(|w| {
            let woken = w.side == side && w.on == on;
            if woken {
                ready.push_back(w.exchange);
            }
            !woken
        });
    }

    /// The requests waiting on `side` for `from` wait for `to` instead.
    fn rekey(&mut self, side: Side, from: On, to: On) {
        for w in &mut self.waiters {
            if w.side == side && w.on == from {
                w.on = to;
            }
        }
    }

    /// The next woken exchange, by id.
    pub(crate) fn pop_ready(&mut self) -> Option<u64> {
        self.ready.pop_front()
    }

    /// Wakes whom the state of `side`'s spaces lets go (see the module docs).
    pub(crate) fn schedule(&mut self, side: Side, spaces: &mut Spaces) {
        if self.waiters.is_empty() {
            return;
        }
        let mut waited_on: Vec<u64> = Vec::new();
        for w in &self.waiters {
            if let (true, On::Space(id)) = (w.side == side, w.on)
                && !waited_on.contains(&id)
            {
                waited_on.push(id);
            }
        }
        for id in waited_on {
            let on = On::Space(id);
            let waiting = self
                .waiters
                .iter()
                .filter(|w| w.side == side && w.on == on)
                .count();
            let wake = match spaces.get_mut(id).map(|s| &mut s.kind) {
                Some(SpaceKind::Digest(d)) => d.wakeable(waiting),
                _ => Wakeable::All,
            };
            match wake {
                Wakeable::None => {}
                Wakeable::All => self.wake_all(side, on),
                Wakeable::Lanes { free, open } => {
                    for _ in 0..free {
                        let Some(e) = self.wake_first(side, on, None) else {
                            break;
                        };
                        if let Some(d) = spaces.digest_mut(id) {
                            d.reserve(e);
                        }
                    }
                    let no_lanes = spaces.digest_mut(id).is_some_and(|d| d.live() == 0);
                    if open
                        && let Some(e) = self.wake_first(side, on, Some(no_lanes))
                        && let Some(d) = spaces.digest_mut(id)
                    {
                        d.opening = Some(e);
                    }
                }
            }
        }
    }
}

/// What the client knows of an origin it has no space of yet: the request learning it, or
/// that it answered a request without a challenge (it needs no single flight then).
#[derive(Debug, Clone)]
pub(crate) struct Learning {
    origin: Origin,
    leader: Option<u64>,
    open: bool,
}

/// The learning records a side keeps at most (one per origin in scope it went to).
const MAX_LEARNING: usize = 64;

/// How a learner's role ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Learned {
    /// Its challenge made (or renewed) this space.
    Space(u64),
    /// The origin answered without a challenge.
    Open,
    /// It failed or was abandoned before learning anything.
    Nothing,
}

/// What one side of a send is to carry, decided before anything is spent.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Plan {
    /// No credentials, and no role.
    Nothing,
    /// Credentials from this lane (index; 0 for a Basic space) of this space.
    Lane(u64, usize),
    /// No credentials: fetch a challenge for a new lane of this space.
    Open(u64),
    /// No credentials: learn the origin, the requests after it waiting.
    Learn,
    /// Wait.
    Wait(On),
}

/// Decides one side of the next send of request `exchange` to `origin` (`path`: the target's
/// path, for an origin side), without changing anything. `resend`: `None` for a first send;
/// for a send again after a refusal, whether it has the two sends left that opening a lane
/// takes (it opens one only when the space has none: waiting for a nonce costs one send).
/// `gave_up`: its wait bound passed; it waits no more.
pub(crate) fn plan(
    spaces: &Spaces,
    learning: &[Learning],
    origin: OriginRef<'_>,
    path: Option<&str>,
    exchange: u64,
    resend: Option<bool>,
    gave_up: bool,
) -> Plan {
    let Some(space) = spaces.covering(origin.scheme, origin.host, origin.port, path) else {
        if spaces.knows(origin) {
            return Plan::Nothing;
        }
        return match learning.iter().find(|l| origin.is(&l.origin)) {
            Some(l) if l.open => Plan::Nothing,
            Some(Learning {
                leader: Some(leader),
                ..
            }) if *leader != exchange => {
                if gave_up {
                    Plan::Nothing
                } else {
                    Plan::Wait(On::Learner(*leader))
                }
            }
            _ => Plan::Learn,
        };
    };
    let SpaceKind::Digest(d) = &space.kind else {
        return Plan::Lane(space.id, 0);
    };
    let may_open = resend.is_none_or(|sends_left| sends_left && d.live() == 0);
    match d.turn(exchange, may_open) {
        Turn::Lane(i) => Plan::Lane(space.id, i),
        Turn::Open => Plan::Open(space.id),
        Turn::Wait if gave_up => d
            .any_lane()
            .map_or(Plan::Nothing, |i| Plan::Lane(space.id, i)),
        Turn::Wait => Plan::Wait(On::Space(space.id)),
    }
}

/// Records `exchange` as the learner of `origin`.
pub(crate) fn lead(learning: &mut Vec<Learning>, origin: OriginRef<'_>, exchange: u64) {
    if let Some(record) = learning.iter_mut().find(|l| origin.is(&l.origin)) {
        record.leader = Some(exchange);
        return;
    }
    if learning.len() >= MAX_LEARNING
        && let Some(i) = learning.iter().position(|l| l.leader.is_none())
    {
        learning.remove(i);
    }
    learning.push(Learning {
        origin: origin.to_origin(),
        leader: Some(exchange),
        open: false,
    });
}

/// Ends the role of `leader`, learning on `side`, and moves its waiters on.
pub(crate) fn end_learning(
    learning: &mut [Learning],
    queue: &mut Queue,
    side: Side,
    leader: u64,
    learned: Learned,
) {
    let Some(record) = learning.iter_mut().find(|l| l.leader == Some(leader)) else {
        return;
    };
    let from = On::Learner(leader);
    match learned {
        Learned::Space(space) => {
            record.leader = None;
            queue.rekey(side, from, On::Space(space));
        }
        Learned::Open => {
            record.leader = None;
            record.open = true;
            queue.wake_all(side, from);
        }
        Learned::Nothing => {
            // The first in line takes the role over.
            record.leader = queue.wake_first(side, from, None);
            if let Some(next) = record.leader {
                queue.rekey(side, from, On::Learner(next));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_wakes_in_order_and_forgets_the_abandoned() {
        let mut q = Queue::default();
        let on = On::Space(7);
        let opens = |e| {
            if e == 1 {
                Opens::WithoutLanes
            } else {
                Opens::Always
            }
        };
        for e in 1..=3 {
            q.push(e, Side::Origin, on, opens(e), false);
        }
        q.push(4, Side::Proxy, on, Opens::Always, false);
        q.remove(2);
        let open_with_lanes = Some(false);
        assert_eq!(
            q.wake_first(Side::Origin, on, open_with_lanes),
            Some(3),
            "1 waits for a lane"
        );
        q.push(5, Side::Origin, on, Opens::Never, false);
        assert_eq!(
            q.wake_first(Side::Origin, on, Some(true)),
            Some(1),
            "no lane is left"
        );
        assert_eq!(
            q.wake_first(Side::Origin, on, Some(true)),
            None,
            "5 cannot open"
        );
        q.push(6, Side::Origin, on, Opens::Never, true);
        assert_eq!(q.wake_first(Side::Origin, on, None), Some(6), "first come");
        q.wake_all(Side::Origin, on);
        assert_eq!(Vec::from(q.ready.clone()), [3, 1, 6, 5]);
        assert_eq!(q.waiters.len(), 1, "the proxy side's waiter stays");
        q.remove(3);
        assert_eq!(Vec::from(q.ready), [1, 6, 5]);
    }
}
