//! Who goes when: the requests that wait for their turn, and the rules that give it.
//!
//! - **Single flight while a space is learned.** The first request to an origin the client
//!   knows no space of goes without credentials and *learns*: the requests to that origin
//!   after it wait for what its challenge teaches, then go with credentials at once (one 401
//!   for all of them, where each would otherwise fetch its own). The same holds for the
//!   first count of a nonce just learned, and for a request that opens a lane.
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

use rand_core::TryCryptoRng;

use super::call::{Exchange, MAX_EXTRA_SENDS};
use super::io::Request;
use super::protection_space::{SpaceKind, Turn, Wakeable};
use super::ticket::{Ticket, issue};
use super::{Action, Client, Party};
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
}

/// The waiting requests, in the order they came, and those woken and not yet resumed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Queue {
    waiters: VecDeque<Waiter>,
    ready: VecDeque<u64>,
}

impl Queue {
    fn push(&mut self, waiter: Waiter, front: bool) {
        if front {
            self.waiters.push_front(waiter);
        } else {
            self.waiters.push_back(waiter);
        }
    }

    /// Removes `exchange` from the queue and from the woken.
    fn remove(&mut self, exchange: u64) {
        self.waiters.retain(|w| w.exchange != exchange);
        self.ready.retain(|e| *e != exchange);
    }

    /// Wakes the first request waiting on `side` for `on`; returns it.
    fn wake_first(&mut self, side: Side, on: On) -> Option<u64> {
        let i = self
            .waiters
            .iter()
            .position(|w| w.side == side && w.on == on)?;
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
enum Plan {
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

impl Party {
    fn learning(&self, origin: OriginRef<'_>) -> Option<&Learning> {
        self.learning.iter().find(|l| origin.is(&l.origin))
    }
}

impl Client {
    /// Decides one side of the next send of `exchange` without changing anything. `resend`:
    /// the send answers a refusal on this side (it may not open a lane unless it has the two
    /// sends that takes left). `gave_up`: its wait bound passed; it waits no more.
    fn plan(
        &self,
        side: Side,
        exchange: &Exchange,
        request: &Request<'_>,
        resend: bool,
        gave_up: bool,
    ) -> Plan {
        let Some(origin) = self.side_origin(side, request) else {
            return Plan::Nothing;
        };
        let party = &self.parties[side];
        if party.credentials.is_none() {
            return Plan::Nothing;
        }
        let id = exchange.id;
        // A proxy space covers every request through the proxy.
        let path = match side {
            Side::Origin => crate::origin::target_path(request.target),
            Side::Proxy => None,
        };
        let Some(space) = party.spaces.covering(origin.scheme, origin.host, origin.port, path)
        else {
            if party.spaces.knows(origin) {
                return Plan::Nothing;
            }
            return match party.learning(origin) {
                Some(l) if l.open => Plan::Nothing,
                Some(Learning {
                    leader: Some(leader),
                    ..
                }) if *leader != id => {
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
        let may_open = !resend || exchange.extra_sends + 2 <= MAX_EXTRA_SENDS;
        match d.turn(id, may_open) {
            Turn::Lane(i) => Plan::Lane(space.id, i),
            Turn::Open => Plan::Open(space.id),
            Turn::Wait if gave_up => d
                .any_lane()
                .map_or(Plan::Nothing, |i| Plan::Lane(space.id, i)),
            Turn::Wait => Plan::Wait(On::Space(space.id)),
        }
    }

    /// Decides and issues the next send of `exchange` from what the client knows: its first
    /// send, or (with `exchange.resend`) the send again of a request refused on that side,
    /// once its wait is over. Returns [`Action::Wait`] when one side must wait.
    pub(crate) fn start<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        rng: &mut R,
        gave_up: bool,
    ) -> Action {
        let resend = exchange.resend;
        let plans = Side::BOTH.map(|side| {
            if !self.config.preemptive && resend != Some(side) {
                return (side, Plan::Nothing);
            }
            (
                side,
                self.plan(side, exchange, request, resend == Some(side), gave_up),
            )
        });
        if let Some((side, on)) = plans.iter().find_map(|(side, p)| match p {
            Plan::Wait(on) => Some((*side, *on)),
            _ => None,
        }) {
            // What was kept for it on the other side goes to the next in line meanwhile.
            self.release_claims(exchange.id);
            self.queue.remove(exchange.id);
            self.queue.push(
                Waiter {
                    exchange: exchange.id,
                    side,
                    on,
                },
                exchange.waiting,
            );
            exchange.waiting = true;
            return Action::Wait;
        }
        exchange.waiting = false;
        self.queue.remove(exchange.id);
        let mut ticket = Ticket::default();
        let prefer_auth_int = self.config.prefer_auth_int;
        for (side, plan) in plans {
            let state = &mut exchange.sides[side];
            state.gave_up_waiting |= gave_up;
            let party = &mut self.parties[side];
            match plan {
                Plan::Nothing | Plan::Wait(_) => {}
                Plan::Lane(space, lane) => {
                    let (Some(credentials), Some(space)) =
                        (&party.credentials, party.spaces.touch(space))
                    else {
                        continue;
                    };
                    match issue(space, lane, credentials, request, rng, prefer_auth_int) {
                        Ok((signer, sent)) => {
                            state.sent = Some(sent);
                            ticket.set(side, signer);
                        }
                        // A failure here means no credentials; the exchange records why.
                        Err(f) => exchange.preemptive_failure = Some(f),
                    }
                }
                Plan::Open(space) => {
                    if let Some(d) = party.spaces.digest_mut(space) {
                        d.opening = Some(exchange.id);
                        state.opening = Some(space);
                    }
                }
                Plan::Learn => {
                    if let Some(origin) = self.side_origin(side, request) {
                        self.parties[side].lead(origin, exchange.id);
                        exchange.sides[side].learning = true;
                    }
                }
            }
        }
        if resend.is_some() {
            exchange.resend = None;
            exchange.extra_sends += 1;
        }
        Action::Send(ticket)
    }

    /// Takes up a waiting exchange that [`poll_ready`](Self::poll_ready) named: its turn has
    /// come. Returns the send to make ([`Action::Send`]), or [`Action::Wait`] again when the
    /// turn was taken meanwhile. An exchange that is not waiting is left as it is
    /// ([`Action::Done`]).
    pub fn resume<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        rng: &mut R,
    ) -> Action {
        self.after(exchange, request, rng, false)
    }

    /// Ends the wait of an exchange whose wait bound ([`ClientConfig::max_wait`]) passed:
    /// the request goes on as if nothing held it (with credentials from a lane in use, or
    /// without). Never [`Action::Wait`]. An exchange that is not waiting is left as it is
    /// ([`Action::Done`]).
    ///
    /// [`ClientConfig::max_wait`]: super::ClientConfig::max_wait
    pub fn give_up_waiting<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        rng: &mut R,
    ) -> Action {
        self.after(exchange, request, rng, true)
    }

    fn after<R: TryCryptoRng + ?Sized>(
        &mut self,
        exchange: &mut Exchange,
        request: &Request<'_>,
        rng: &mut R,
        gave_up: bool,
    ) -> Action {
        if exchange.finished || !exchange.waiting {
            return Action::Done;
        }
        let action = self.start(exchange, request, rng, gave_up);
        self.schedule();
        action
    }

    /// The next waiting exchange whose turn has come, by its [`Exchange::id`]: take it up with
    /// [`resume`](Self::resume). Drain this after every call that returns or ends an
    /// exchange's send (`handle_response`, `abandon`, `resume`, `give_up_waiting`): each may
    /// let others go.
    pub fn poll_ready(&mut self) -> Option<u64> {
        self.queue.ready.pop_front()
    }

    /// Wakes whom the spaces' state lets go (see the module docs).
    pub(crate) fn schedule(&mut self) {
        if self.queue.waiters.is_empty() {
            return;
        }
        for side in Side::BOTH {
            let mut spaces: Vec<u64> = Vec::new();
            for w in &self.queue.waiters {
                if let (true, On::Space(id)) = (w.side == side, w.on)
                    && !spaces.contains(&id)
                {
                    spaces.push(id);
                }
            }
            for id in spaces {
                let on = On::Space(id);
                let waiting = self
                    .queue
                    .waiters
                    .iter()
                    .filter(|w| w.side == side && w.on == on)
                    .count();
                let wake = match self.parties[side].spaces.get_mut(id).map(|s| &mut s.kind) {
                    Some(SpaceKind::Digest(d)) => d.wakeable(waiting),
                    _ => Wakeable::All,
                };
                match wake {
                    Wakeable::None => {}
                    Wakeable::All => self.queue.wake_all(side, on),
                    Wakeable::Lanes { free, open } => {
                        for _ in 0..free {
                            let Some(e) = self.queue.wake_first(side, on) else {
                                break;
                            };
                            if let Some(d) = self.parties[side].spaces.digest_mut(id) {
                                d.reserve(e);
                            }
                        }
                        if open && let Some(e) = self.queue.wake_first(side, on) {
                            if let Some(d) = self.parties[side].spaces.digest_mut(id) {
                                d.opening = Some(e);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Ends the role of `leader`, learning on `side`, and moves its waiters on.
    pub(crate) fn end_learning(&mut self, side: Side, leader: u64, learned: Learned) {
        let party = &mut self.parties[side];
        let Some(record) = party
            .learning
            .iter_mut()
            .find(|l| l.leader == Some(leader))
        else {
            return;
        };
        let from = On::Learner(leader);
        match learned {
            Learned::Space(space) => {
                record.leader = None;
                self.queue.rekey(side, from, On::Space(space));
            }
            Learned::Open => {
                record.leader = None;
                record.open = true;
                self.queue.wake_all(side, from);
            }
            Learned::Nothing => {
                // The first in line takes the role over.
                record.leader = self.queue.wake_first(side, from);
                if let Some(next) = record.leader {
                    self.queue.rekey(side, from, On::Learner(next));
                }
            }
        }
    }

    /// Gives up what `exchange` holds or has kept for it in every space (a lane kept for it,
    /// a first count, a lane it was opening), for the next in line.
    pub(crate) fn release_claims(&mut self, exchange: u64) {
        for side in Side::BOTH {
            self.parties[side].spaces.release(exchange);
        }
    }

    /// Everything an exchange that is over still holds goes to the next in line: its place
    /// in the queue, its claims, its role as a learner.
    pub(crate) fn finish(&mut self, exchange: &mut Exchange) {
        exchange.finished = true;
        exchange.resend = None;
        let id = exchange.id;
        if core::mem::take(&mut exchange.waiting) {
            self.queue.remove(id);
        }
        self.release_claims(id);
        for side in Side::BOTH {
            if core::mem::take(&mut exchange.sides[side].learning) {
                self.end_learning(side, id, Learned::Nothing);
            }
            exchange.sides[side].opening = None;
        }
    }

    /// A request refused on `side` (its credentials there are void) goes again with
    /// credentials from the space, now or when its turn comes.
    pub(crate) fn resend<R: TryCryptoRng + ?Sized>(
        &mut self,
        side: Side,
        exchange: &mut Exchange,
        request: &Request<'_>,
        rng: &mut R,
    ) -> Action {
        exchange.resend = Some(side);
        exchange.sides[side].sent = None;
        self.start(exchange, request, rng, false)
    }
}

impl Party {
    /// Records `exchange` as the learner of `origin`.
    fn lead(&mut self, origin: OriginRef<'_>, exchange: u64) {
        if let Some(record) = self.learning.iter_mut().find(|l| origin.is(&l.origin)) {
            record.leader = Some(exchange);
            return;
        }
        if self.learning.len() >= MAX_LEARNING
            && let Some(i) = self.learning.iter().position(|l| l.leader.is_none())
        {
            self.learning.remove(i);
        }
        self.learning.push(Learning {
            origin: origin.to_origin(),
            leader: Some(exchange),
            open: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_wakes_in_order_and_forgets_the_abandoned() {
        let mut q = Queue::default();
        let on = On::Space(7);
        for e in 1..=3 {
            q.push(
                Waiter {
                    exchange: e,
                    side: Side::Origin,
                    on,
                },
                false,
            );
        }
        q.push(
            Waiter {
                exchange: 4,
                side: Side::Proxy,
                on,
            },
            false,
        );
        q.remove(2);
        assert_eq!(q.wake_first(Side::Origin, on), Some(1));
        q.wake_all(Side::Origin, on);
        assert_eq!(Vec::from(q.ready.clone()), [1, 3]);
        assert_eq!(q.waiters.len(), 1, "the proxy side's waiter stays");
        q.remove(3);
        assert_eq!(Vec::from(q.ready), [1]);
    }
}
