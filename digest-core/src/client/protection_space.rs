//! Protection spaces (RFC 7616 §3.3, RFC 9110 §11.5): what the client remembers of a
//! challenge so that later requests to the same space go out with credentials at once.
//!
//! A space belongs to an origin and a realm. Its `domain` list, when the challenge sent one,
//! narrows it to URI prefixes, and may widen it to other origins, but only to origins inside
//! the client's scope.
//!
//! A Digest space holds its nonces as [`Lane`]s: a lane is one nonce at a time (the one a
//! challenge, a `stale=true` renewal or a `nextnonce` last gave it) and the last count sent
//! with it, so counts increase strictly per nonce whatever the interleaving of requests. A
//! space is *shared* (the default) or *ordered*:
//!
//! - shared: one lane, used by every request at once, but for the first count of a nonce
//!   just learned, which goes alone (other requests wait for its answer: a strict server
//!   would refuse the first count if a later one overtook it, and take the refusal for a
//!   wrong password);
//! - ordered, for servers that check counts strictly: a lane carries one request at a time,
//!   the next one waiting for the previous answer, and the space holds up to a few lanes to
//!   keep requests concurrent. The number the server keeps for the client is learned: lanes
//!   are opened while requests wait (a request sent without credentials fetches the
//!   challenge of a new one), and the bound drops when the server forgets one.
//!
//! A lane whose nonce the server refused with 403 (a camera that moved on to another one) is
//! dead: no request takes it, and it goes once its sends in flight are back, unless one of
//! their answers brings a fresh challenge, which makes it live again. Such a server keeps
//! one nonce per client: its space stays shared.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::credentials::Credentials;
use super::username::{NameForm, NameForms};
use crate::algorithm::Algorithm;
use crate::digest::{self, HexDigest, SecretDigest};
use crate::fingerprint::fingerprint;
use crate::nonce_count::NonceCount;
use crate::origin::{Origin, Scheme};
use crate::qop::QopOptions;

/// One URI prefix of a `domain` list, resolved to its origin.
#[derive(Debug, Clone)]
pub(crate) struct DomainEntry {
    pub(crate) origin: Origin,
    pub(crate) path_prefix: String,
}

/// Accepted answers in an ordered space after which its lane bound, lowered when the server
/// forgot a lane, may rise again by one (while requests wait for lanes).
const REGROW_AFTER: u32 = 256;

/// One nonce of a space at a time, the last count sent with it, and the sends in flight on
/// it. See the [module docs](self).
#[derive(Debug, Clone)]
pub(crate) struct Lane {
    /// Unique within the space.
    pub(crate) id: u32,
    pub(crate) nonce: Nonce,
    /// The challenge's `opaque`: per lane, as servers that keep a record per client name it
    /// by its opaque (Apache's mod_auth_digest).
    pub(crate) opaque: Option<Arc<str>>,
    /// The last nonce count sent with `nonce`; 0 before the first.
    pub(crate) nc: u32,
    /// Sends from this lane so far (wrapping), and answers to them (or abandoned sends):
    /// `sends - answers` are in flight. A refused send that overlapped another one (sent
    /// while another waited for its answer, or followed by another before its own answer
    /// came) was one of several in flight, which a strict server may have seen out of order.
    pub(crate) sends: u64,
    pub(crate) answers: u64,
    /// The exchange whose send carries the first count of the nonce just learned: until its
    /// answer, no other request uses the lane.
    pub(crate) first: Option<u64>,
    /// The waiting exchange this free lane is kept for (it was woken for it).
    pub(crate) reserved: Option<u64>,
    /// The server refused the nonce (403 to credentials it had accepted): no request takes
    /// the lane, which goes once its sends in flight are back, unless one of their answers
    /// brings a fresh challenge for it.
    pub(crate) dead: bool,
    /// The space's [`epoch`](DigestSpace::epoch) when the server last accepted the lane's
    /// credentials: losing a lane accepted before the last lowering of the bound is the same
    /// loss (the server forgot several lanes at once), not another.
    epoch: u32,
}

impl Lane {
    fn new(id: u32, nonce: Nonce, opaque: Option<Arc<str>>, nc: u32, epoch: u32) -> Self {
        Self {
            id,
            nonce,
            opaque,
            nc,
            sends: 0,
            answers: 0,
            first: None,
            reserved: None,
            dead: false,
            epoch,
        }
    }

    /// How many sends from the lane await their answers.
    pub(crate) const fn in_flight(&self) -> u64 {
        self.sends.wrapping_sub(self.answers)
    }

    /// Whether a request may take the lane now, in an ordered space: nothing in flight on
    /// it, and not kept for another.
    const fn is_free(&self) -> bool {
        !self.dead && self.in_flight() == 0 && self.first.is_none() && self.reserved.is_none()
    }

    /// Takes the next nonce count; `None` once the counter is spent.
    pub(crate) fn next_nc(&mut self) -> Option<NonceCount> {
        let next = NonceCount::new(self.nc).next()?;
        self.nc = next.get();
        Some(next)
    }

    /// Counts a send of credentials from this lane; returns whether others were in flight.
    pub(crate) fn begin_send(&mut self) -> bool {
        let overlapped = self.in_flight() != 0;
        self.sends = self.sends.wrapping_add(1);
        overlapped
    }

    /// Counts an answer to one of the lane's sends (before the answer is acted on, so a send
    /// it leads to does not take the answered one for a send still in flight).
    pub(crate) fn answered(&mut self) {
        if self.in_flight() != 0 {
            self.answers = self.answers.wrapping_add(1);
        }
    }
}

/// What a request gets from a space when it is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Turn {
    /// Credentials from the lane at this index.
    Lane(usize),
    /// No credentials: the request fetches a fresh challenge, which opens a lane.
    Open,
    /// The request waits: the space's lanes are taken, or its first count is in flight.
    Wait,
}

/// What a Digest space remembers of its challenges.
#[derive(Debug, Clone)]
pub(crate) struct DigestSpace {
    pub(crate) algorithm: Algorithm,
    /// The `algorithm` token as the server spelled it; `None` when it sent none.
    pub(crate) algorithm_token: Option<Arc<str>>,
    /// `None`: RFC 2069 mode.
    pub(crate) qop: Option<QopOptions>,
    pub(crate) userhash: bool,
    pub(crate) charset_utf8: bool,
    /// How the user name goes in the space's answers (see [`NameForms`]).
    pub(crate) names: NameForms,
    /// The space's nonces. A shared space has one; none after the server refused the last
    /// one with 403, until a fresh challenge opens another.
    pub(crate) lanes: Vec<Lane>,
    next_lane: u32,
    /// The nonces moved away from, most recent last, with the last count sent with each (at
    /// most [`NONCE_HISTORY`]): a nonce the server hands out again continues its count
    /// instead of repeating one.
    history: Vec<(u64, u32)>,
    /// The server has accepted credentials from this space (a final answer other than
    /// 401/407 to them) since it last refused them without a race.
    pub(crate) accepted: bool,
    /// What the space's answers are signed with, made at the first one.
    pub(crate) signing: Option<Arc<Signing>>,
    /// A lane carries one request at a time (see the [module docs](self)).
    pub(crate) ordered: bool,
    /// Ordered by the policy ([`Strict::Always`](super::Strict::Always)), whatever the
    /// server does.
    always_ordered: bool,
    /// The server refuses nonces it moved on from with 403 (cameras, NVRs): it keeps one
    /// nonce per client, so a fresh challenge while requests overlap means it moved on, not
    /// that it orders counts, and opening lanes would only make it move on again.
    pub(crate) forbids: bool,
    /// Challenges of the space fetched without credentials (wrapping): a 403 to credentials
    /// sent before one of them may be the server moving on to its nonce.
    pub(crate) fetched: u64,
    /// How many lanes the space may hold: the configured bound, lowered when the server
    /// forgets lanes, raised again after [`REGROW_AFTER`] accepted answers.
    ceiling: usize,
    max_lanes: usize,
    /// The exchange sent without credentials to fetch the challenge of a new lane, until
    /// that challenge comes: one at a time, as some servers keep one nonce per client and
    /// drop the others with each challenge they send.
    pub(crate) opening: Option<u64>,
    /// Counts the lowerings of `ceiling`.
    epoch: u32,
    /// Accepted answers since `ceiling` last changed.
    accepted_since: u32,
}

/// The values of a Digest challenge that make a space, apart from its nonce and opaque.
#[derive(Debug, Clone)]
pub(crate) struct DigestParams {
    pub(crate) algorithm: Algorithm,
    pub(crate) algorithm_token: Option<Arc<str>>,
    pub(crate) qop: Option<QopOptions>,
    pub(crate) userhash: bool,
    pub(crate) charset_utf8: bool,
}

impl DigestSpace {
    /// A space of these parameters and name forms, without a lane yet; `ordered` from the
    /// start when the policy says the server checks counts strictly.
    pub(crate) fn new(
        params: DigestParams,
        names: NameForms,
        max_lanes: usize,
        ordered: bool,
    ) -> Self {
        let DigestParams {
            algorithm,
            algorithm_token,
            qop,
            userhash,
            charset_utf8,
        } = params;
        let max_lanes = max_lanes.max(1);
        Self {
            algorithm,
            algorithm_token,
            qop,
            userhash,
            charset_utf8,
            names,
            lanes: Vec::new(),
            next_lane: 0,
            history: Vec::new(),
            accepted: false,
            signing: None,
            ordered,
            always_ordered: ordered,
            forbids: false,
            fetched: 0,
            ceiling: max_lanes,
            max_lanes,
            opening: None,
            epoch: 0,
            accepted_since: 0,
        }
    }

    /// Whether a challenge with `params` continues this space (a new nonce for one of its
    /// lanes) rather than replacing it.
    pub(crate) fn continues(&self, params: &DigestParams) -> bool {
        self.algorithm == params.algorithm
            && self.algorithm_token == params.algorithm_token
            && self.qop == params.qop
            && self.userhash == params.userhash
            && self.charset_utf8 == params.charset_utf8
    }

    /// The index of the lane of a shared space: its one live lane.
    pub(crate) fn shared_lane(&self) -> Option<usize> {
        self.lanes.iter().position(|l| !l.dead)
    }

    /// Whether sends from dead lanes are still in flight: one of their answers may bring a
    /// fresh challenge (a server that moved on to another nonce challenges one request and
    /// refuses the others), so no request opens a lane meanwhile.
    fn dying(&self) -> bool {
        self.lanes.iter().any(|l| l.dead && l.in_flight() != 0)
    }

    /// How many lanes are in use (not dead).
    pub(crate) fn live(&self) -> usize {
        self.lanes.iter().filter(|l| !l.dead).count()
    }

    /// What a request, `exchange`, gets from the space now. `may_open`: whether it may go
    /// without credentials to open a lane (it has the sends left for it).
    pub(crate) fn turn(&self, exchange: u64, may_open: bool) -> Turn {
        if let Some(i) = self.lanes.iter().position(|l| l.reserved == Some(exchange)) {
            return Turn::Lane(i);
        }
        if self.opening == Some(exchange) {
            return Turn::Open;
        }
        let may_open = may_open && self.opening.is_none() && !self.dying();
        if self.ordered {
            if let Some(i) = self.lanes.iter().position(Lane::is_free) {
                return Turn::Lane(i);
            }
            if may_open && self.live() < self.ceiling {
                return Turn::Open;
            }
            return Turn::Wait;
        }
        match self
            .shared_lane()
            .and_then(|i| self.lanes.get(i).map(|l| (i, l)))
        {
            Some((_, l)) if l.first.is_some_and(|f| f != exchange) || l.reserved.is_some() => {
                Turn::Wait
            }
            Some((i, _)) => Turn::Lane(i),
            None if may_open => Turn::Open,
            None => Turn::Wait,
        }
    }

    /// The lane a request that stopped waiting takes anyway (its wait bound passed): the
    /// least busy one in use whose first count is not in flight, if any.
    pub(crate) fn any_lane(&self) -> Option<usize> {
        self.lanes
            .iter()
            .enumerate()
            .filter(|(_, l)| l.first.is_none() && !l.dead)
            .min_by_key(|(_, l)| l.in_flight())
            .map(|(i, _)| i)
    }

    /// Which lanes, free now, the waiting requests may be woken for, and whether one more
    /// may be woken to open a lane (`waiting`: how many wait for the space).
    pub(crate) fn wakeable(&mut self, waiting: usize) -> Wakeable {
        if waiting == 0 {
            return Wakeable::None;
        }
        let may_open = self.opening.is_none() && !self.dying();
        if self.ordered {
            if self.ceiling < self.max_lanes && self.accepted_since >= REGROW_AFTER {
                self.ceiling += 1;
                self.accepted_since = 0;
            }
            let free = self.lanes.iter().filter(|l| l.is_free()).count();
            let open = may_open && self.live() < self.ceiling;
            return Wakeable::Lanes { free, open };
        }
        // As `turn` decides: a lane kept for one request (or whose first count is in flight)
        // is no one else's turn yet.
        match self.shared_lane().and_then(|i| self.lanes.get(i)) {
            Some(l) if l.first.is_none() && l.reserved.is_none() => Wakeable::All,
            Some(_) => Wakeable::None,
            None if may_open => Wakeable::Lanes {
                free: 0,
                open: true,
            },
            None => Wakeable::None,
        }
    }

    /// The server refused lane `i`'s nonce: no request takes the lane any more; it goes
    /// once its sends in flight are back (see [`bury`](Self::bury)).
    pub(crate) fn kill(&mut self, i: usize) {
        if let Some(lane) = self.lanes.get_mut(i) {
            lane.dead = true;
            lane.reserved = None;
        }
        // A server that answers so keeps one nonce per client: requests share it.
        self.forbids = true;
        self.ordered = self.always_ordered;
    }

    /// Drops lane `i` if it is dead and nothing is in flight on it any more.
    pub(crate) fn bury(&mut self, i: usize) {
        if self
            .lanes
            .get(i)
            .is_some_and(|l| l.dead && l.in_flight() == 0)
        {
            self.close(i);
        }
    }

    /// Keeps the first free lane for `exchange` (woken to take it).
    pub(crate) fn reserve(&mut self, exchange: u64) {
        if let Some(lane) = self.lanes.iter_mut().find(|l| l.is_free()) {
            lane.reserved = Some(exchange);
        }
    }

    /// Ends every claim `exchange` has on the space: the lane kept for it, the first count
    /// it carried, the lane it was opening.
    pub(crate) fn release(&mut self, exchange: u64) {
        for lane in &mut self.lanes {
            if lane.reserved == Some(exchange) {
                lane.reserved = None;
            }
            if lane.first == Some(exchange) {
                lane.first = None;
            }
        }
        if self.opening == Some(exchange) {
            self.opening = None;
        }
    }

    /// The index of the lane with this id.
    pub(crate) fn lane_index(&self, id: u32) -> Option<usize> {
        self.lanes.iter().position(|l| l.id == id)
    }

    /// The index of the lane that holds `nonce`.
    fn holding(&self, nonce: &str) -> Option<usize> {
        self.lanes.iter().position(|l| *l.nonce == *nonce)
    }

    /// Adds a lane for a nonce just learned; returns its index. A nonce that one of the
    /// lanes holds already stays on it: counts are per nonce.
    pub(crate) fn add_lane(&mut self, nonce: &str, opaque: Option<Arc<str>>) -> usize {
        if let Some(i) = self.holding(nonce) {
            return i;
        }
        let nonce = Nonce::new(nonce);
        let nc = self.recall(&nonce);
        let id = self.next_lane;
        self.next_lane = self.next_lane.wrapping_add(1);
        self.lanes
            .push(Lane::new(id, nonce, opaque, nc, self.epoch));
        self.lanes.len() - 1
    }

    /// Moves lane `i` to a new nonce: the count restarts at 1 with it, or continues where it
    /// was if the nonce is one of the last [`NONCE_HISTORY`] this space used. Returns the
    /// index of the lane that now holds the nonce (another lane, if one held it already:
    /// counts are per nonce, and lane `i` closes if nothing is in flight on it), and whether
    /// the server has forgotten the lane: it renewed it with another opaque, the name of its
    /// record of the client.
    pub(crate) fn renew(
        &mut self,
        i: usize,
        nonce: &str,
        opaque: Option<Arc<str>>,
    ) -> (usize, bool) {
        let Some(lane) = self.lanes.get(i) else {
            return (i, false);
        };
        let forgotten = opaque.is_some() && lane.opaque.is_some() && opaque != lane.opaque;
        if let Some(j) = self.holding(nonce).filter(|j| *j != i) {
            if self.lanes.get(i).is_some_and(|l| l.in_flight() == 0) {
                self.close(i);
                return (if j > i { j - 1 } else { j }, forgotten);
            }
            return (j, forgotten);
        }
        let old = (lane.nonce.fingerprint(), lane.nc);
        if *nonce != *lane.nonce {
            self.remember(old);
            let nonce = Nonce::new(nonce);
            let nc = self.recall(&nonce);
            if let Some(lane) = self.lanes.get_mut(i) {
                lane.nonce = nonce;
                lane.nc = nc;
            }
        }
        if let Some(lane) = self.lanes.get_mut(i) {
            lane.opaque = opaque;
            // A fresh challenge for a dead lane gives it a live nonce.
            lane.dead = false;
        }
        (i, forgotten)
    }

    /// Adopts a `nextnonce` for lane `i` (its opaque stays).
    pub(crate) fn next_nonce(&mut self, i: usize, nonce: &str) {
        let opaque = self.lanes.get(i).and_then(|l| l.opaque.clone());
        self.renew(i, nonce, opaque);
    }

    /// Drops lane `i`, keeping the count of its nonce.
    pub(crate) fn close(&mut self, i: usize) {
        if i < self.lanes.len() {
            let lane = self.lanes.remove(i);
            self.remember((lane.nonce.fingerprint(), lane.nc));
        }
    }

    /// Whether the space holds more lanes than its bound.
    pub(crate) fn over_bound(&self) -> bool {
        self.lanes.len() > self.ceiling
    }

    /// Drops lane `i` if it is free and the space holds more lanes than its bound.
    pub(crate) fn trim(&mut self, i: usize) {
        if self.over_bound() && self.lanes.get(i).is_some_and(Lane::is_free) {
            self.close(i);
        }
    }

    /// The server accepted credentials from lane `i` (`None`: from a lane closed since).
    pub(crate) fn accept(&mut self, i: Option<usize>) {
        self.accepted = true;
        self.accepted_since = self.accepted_since.saturating_add(1);
        if let Some(lane) = i.and_then(|i| self.lanes.get_mut(i)) {
            lane.epoch = self.epoch;
        }
    }

    /// The server forgot lane `i` (it answered its credentials with `stale=true` and a new
    /// opaque, or with 403): while the space holds several lanes, it keeps fewer records of
    /// the client than the space has lanes, so the bound drops below their number, once
    /// for all the lanes it forgot together.
    pub(crate) fn forgot(&mut self, i: usize) {
        let Some(lane) = self.lanes.get(i) else {
            return;
        };
        if self.ordered && self.lanes.len() > 1 && lane.epoch == self.epoch {
            self.ceiling = self.ceiling.min(self.lanes.len()).saturating_sub(1).max(1);
            self.epoch = self.epoch.wrapping_add(1);
            self.accepted_since = 0;
        }
    }

    /// What the space's answers are signed with (made at the first, with `credentials`, and
    /// again when the space moves on to another form of the user name); `None` when the
    /// credentials do not fit the space (an H(A1) for another realm or algorithm).
    pub(crate) fn signing(
        &mut self,
        realm: &Arc<str>,
        credentials: &Credentials,
    ) -> Option<Arc<Signing>> {
        let form = self.names.current();
        if let Some(signing) = &self.signing
            && signing.username.form() == form
        {
            return Some(Arc::clone(signing));
        }
        let ha1 = credentials.ha1(self.algorithm, realm, form)?;
        let username = match form {
            NameForm::Userhash => Name::Hashed(digest::userhash(
                self.algorithm,
                credentials.username().as_bytes(),
                realm.as_bytes(),
            )),
            form => Name::Plain {
                name: credentials.shared_username(),
                form,
            },
        };
        Some(self.make_signing(Arc::clone(realm), username, ha1))
    }

    /// Makes (and keeps) the space's signing material from its challenge's values and these
    /// secret-derived ones.
    fn make_signing(&mut self, realm: Arc<str>, username: Name, ha1: SecretDigest) -> Arc<Signing> {
        let signing = Arc::new(Signing {
            algorithm: self.algorithm,
            algorithm_token: self.algorithm_token.clone(),
            realm,
            username,
            ha1,
        });
        self.signing = Some(Arc::clone(&signing));
        signing
    }

    /// Takes over what an older state of the same space knew: how the server reads the user
    /// name, when the challenge says the same of it; the secret-derived values when the
    /// algorithm and the form of the user name are the same (the answers of requests still
    /// in flight are checked with that H(A1)); the nonce counts; and what was learned of the
    /// server (whether it orders counts, how many lanes it keeps).
    pub(crate) fn inherit(&mut self, old: &DigestSpace) {
        if self.userhash == old.userhash && self.charset_utf8 == old.charset_utf8 {
            self.names = old.names;
        }
        if let Some(signing) = &old.signing
            && self.algorithm == old.algorithm
            && signing.username.form() == self.names.current()
        {
            self.make_signing(
                Arc::clone(&signing.realm),
                signing.username.clone(),
                signing.ha1.clone(),
            );
        }
        self.history.clone_from(&old.history);
        for lane in &old.lanes {
            self.remember((lane.nonce.fingerprint(), lane.nc));
        }
        for i in 0..self.lanes.len() {
            let recalled = self.lanes.get(i).map_or(0, |l| self.recall(&l.nonce));
            if let Some(lane) = self.lanes.get_mut(i) {
                lane.nc = lane.nc.max(recalled);
            }
        }
        self.accepted = old.accepted;
        self.ordered |= old.ordered;
        self.forbids |= old.forbids;
        self.fetched = old.fetched.wrapping_add(1);
        self.ceiling = old.ceiling.min(self.max_lanes);
        self.epoch = old.epoch;
        // New ids, so that the answers to sends from the old lanes are not taken for answers
        // to sends from these.
        self.next_lane = old.next_lane;
        for lane in &mut self.lanes {
            lane.id = self.next_lane;
            self.next_lane = self.next_lane.wrapping_add(1);
        }
    }

    fn remember(&mut self, (fp, nc): (u64, u32)) {
        self.history.retain(|(f, _)| *f != fp);
        if self.history.len() >= NONCE_HISTORY {
            self.history.remove(0);
        }
        self.history.push((fp, nc));
    }

    fn recall(&self, nonce: &Nonce) -> u32 {
        let fp = nonce.fingerprint();
        self.history
            .iter()
            .find(|(f, _)| *f == fp)
            .map_or(0, |(_, nc)| *nc)
    }

    /// Whether a send on lane `lane` (by id) overlapped another send on it: it went while
    /// others were in flight (`overlapped`), or another followed it before its answer came
    /// (the lane's send count moved on from `lane_sends`, the count with it).
    pub(crate) fn overlapped(&self, lane: u32, overlapped: bool, lane_sends: u64) -> bool {
        overlapped
            || self
                .lane_index(lane)
                .and_then(|i| self.lanes.get(i))
                .is_some_and(|l| l.sends != lane_sends)
    }

    /// Whether a refused send on lane `lane` (by id) with `nonce` and count `nc` was fewer
    /// than [`COUNT_WINDOW`] behind the newest count sent with that nonce (which the lane
    /// still holds): a server that accepts counts in any
    /// order within a window refuses only counts further behind, a strict one any count that
    /// is not the one it expects.
    pub(crate) fn refused_near_newest(&self, lane: u32, nonce: &Nonce, nc: u32) -> bool {
        self.lane_index(lane)
            .and_then(|i| self.lanes.get(i))
            .is_some_and(|l| l.nonce == *nonce && l.nc.saturating_sub(nc) < COUNT_WINDOW)
    }

    /// Judges a refusal of credentials the client will not answer again: `true` when the
    /// server had accepted the space's credentials before and the refused send
    /// [overlapped](Self::overlapped) another: a race a strict server loses
    /// ([`Failure::OutOfOrder`](super::io::Failure::OutOfOrder)). Otherwise the space is no
    /// longer taken as accepted.
    pub(crate) fn refusal_was_race(
        &mut self,
        lane: u32,
        overlapped: bool,
        lane_sends: u64,
    ) -> bool {
        if self.accepted && self.overlapped(lane, overlapped, lane_sends) {
            return true;
        }
        self.accepted = false;
        false
    }
}

/// What the waiting requests of a space may be woken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wakeable {
    /// Nothing yet.
    None,
    /// Every one (a shared space whose first count came back).
    All,
    /// One per free lane, and one more to open a lane when `open`.
    Lanes { free: usize, open: bool },
}

/// What every answer from a Digest space is computed from, but for its nonce and count:
/// made once per space (H(A1) and the userhash are computed then), and shared by the
/// tickets of its sends instead of copied into each.
#[derive(Debug)]
pub(crate) struct Signing {
    pub(crate) algorithm: Algorithm,
    /// The `algorithm` token as the server spelled it; `None` when it sent none.
    pub(crate) algorithm_token: Option<Arc<str>>,
    pub(crate) realm: Arc<str>,
    pub(crate) username: Name,
    /// H(A1) in its non-session form (wiped when the last ticket that shares it is gone).
    pub(crate) ha1: SecretDigest,
}

/// The `username` a Digest answer carries.
#[derive(Debug, Clone)]
pub(crate) enum Name {
    /// `userhash=true`: H(username:realm).
    Hashed(HexDigest),
    /// The name, in any other form.
    Plain { name: Arc<str>, form: NameForm },
}

impl Name {
    pub(crate) const fn form(&self) -> NameForm {
        match self {
            Name::Hashed(_) => NameForm::Userhash,
            Name::Plain { form, .. } => *form,
        }
    }
}

/// The window of counts a server that accepts them in any order is taken to keep: a refusal
/// of a count this far behind the newest one is the window's, not a strict server's.
pub(crate) const COUNT_WINDOW: u32 = 64;

/// How many earlier nonces a space remembers the counts of.
pub(crate) const NONCE_HISTORY: usize = 16;

/// A server nonce, with its [`fingerprint`] computed once rather than on every request.
/// Shared, not copied, with the tickets that send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Nonce {
    text: Arc<str>,
    fingerprint: u64,
}

impl Nonce {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            fingerprint: fingerprint(text.as_bytes()),
            text: text.into(),
        }
    }

    pub(crate) const fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    pub(crate) fn shared(&self) -> Arc<str> {
        Arc::clone(&self.text)
    }
}

impl core::ops::Deref for Nonce {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

/// The scheme a space answers with.
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "spaces are few and Basic ones rare; boxing would cost an allocation per space"
)]
pub(crate) enum SpaceKind {
    Digest(DigestSpace),
    Basic,
}

/// A protection space.
#[derive(Debug, Clone)]
pub(crate) struct ProtectionSpace {
    pub(crate) id: u64,
    pub(crate) origin: Origin,
    /// Shared, not copied, with the tickets that send it.
    pub(crate) realm: Arc<str>,
    /// Empty: the whole origin.
    pub(crate) domain: Vec<DomainEntry>,
    pub(crate) kind: SpaceKind,
    last_used: u64,
    /// Retired after a failure: not used for preemptive credentials until a new challenge
    /// for it arrives, but its nonce counts are kept.
    retired: bool,
}

impl ProtectionSpace {
    pub(crate) fn new(
        origin: Origin,
        realm: Arc<str>,
        domain: Vec<DomainEntry>,
        kind: SpaceKind,
    ) -> Self {
        Self {
            id: 0,
            origin,
            realm,
            domain,
            kind,
            last_used: 0,
            retired: false,
        }
    }

    /// How well the space covers a request: `None` when it does not, otherwise the length of
    /// the matching prefix (0 for a space that covers its whole origin).
    fn coverage(&self, scheme: Scheme, host: &str, port: u16, path: Option<&str>) -> Option<usize> {
        if self.retired {
            return None;
        }
        if self.domain.is_empty() {
            return self.origin.matches(scheme, host, port).then_some(0);
        }
        let path = path?;
        self.domain
            .iter()
            .filter(|d| {
                d.origin.matches(scheme, host, port) && path.starts_with(d.path_prefix.as_str())
            })
            .map(|d| d.path_prefix.len())
            .max()
    }
}

/// The spaces a client knows, bounded: the least recently used is forgotten first.
#[derive(Debug, Clone)]
pub(crate) struct Spaces {
    entries: Vec<ProtectionSpace>,
    capacity: usize,
    clock: u64,
}

impl Spaces {
    pub(crate) const fn new(capacity: usize) -> Self {
        Self {
            entries: Vec::new(),
            capacity,
            clock: 0,
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock = self.clock.wrapping_add(1);
        self.clock
    }

    /// The space covering a request: the longest matching `domain` prefix, then the most
    /// recently used.
    pub(crate) fn covering(
        &self,
        scheme: Scheme,
        host: &str,
        port: u16,
        path: Option<&str>,
    ) -> Option<&ProtectionSpace> {
        self.entries
            .iter()
            .filter_map(|s| {
                s.coverage(scheme, host, port, path)
                    .map(|c| (c, s.last_used, s))
            })
            .max_by_key(|(c, used, _)| (*c, *used))
            .map(|(_, _, s)| s)
    }

    /// Whether a space in use belongs to `origin` (whatever paths it covers).
    pub(crate) fn knows(&self, origin: crate::origin::OriginRef<'_>) -> bool {
        self.entries
            .iter()
            .any(|s| !s.retired && origin.is(&s.origin))
    }

    /// Forgets every space of `origin` (its credentials changed: what was learned with the
    /// old ones, an H(A1) say, must not sign for the new ones).
    pub(crate) fn forget_origin(&mut self, origin: &Origin) {
        self.entries.retain(|s| s.origin != *origin);
    }

    /// The space with this id, marked used.
    pub(crate) fn touch(&mut self, id: u64) -> Option<&mut ProtectionSpace> {
        let now = self.tick();
        let space = self.get_mut(id)?;
        space.last_used = now;
        Some(space)
    }

    /// Ends every claim `exchange` has on the spaces (see [`DigestSpace::release`]).
    pub(crate) fn release(&mut self, exchange: u64) {
        for space in &mut self.entries {
            if let SpaceKind::Digest(d) = &mut space.kind {
                d.release(exchange);
            }
        }
    }

    /// The space with this id.
    pub(crate) fn get(&self, id: u64) -> Option<&ProtectionSpace> {
        self.entries.iter().find(|s| s.id == id)
    }

    /// The space of `origin` and `realm`.
    pub(crate) fn find_realm(
        &mut self,
        origin: &Origin,
        realm: &str,
    ) -> Option<&mut ProtectionSpace> {
        self.entries
            .iter_mut()
            .find(|s| s.origin == *origin && *s.realm == *realm)
    }

    /// Takes a retired space back into use (a challenge for it came), marked used.
    pub(crate) fn revive(&mut self, id: u64) {
        if let Some(space) = self.touch(id) {
            space.retired = false;
        }
    }

    /// The space with this id.
    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut ProtectionSpace> {
        self.entries.iter_mut().find(|s| s.id == id)
    }

    /// The Digest state of space `id`, if it is a Digest space.
    pub(crate) fn digest_mut(&mut self, id: u64) -> Option<&mut DigestSpace> {
        match self.get_mut(id).map(|s| &mut s.kind) {
            Some(SpaceKind::Digest(d)) => Some(d),
            _ => None,
        }
    }

    /// Inserts a space, replacing the one of the same origin and realm. Returns its id.
    pub(crate) fn upsert(&mut self, mut space: ProtectionSpace) -> u64 {
        let now = self.tick();
        space.last_used = now;
        if let Some(existing) = self
            .entries
            .iter_mut()
            .find(|s| s.origin == space.origin && s.realm == space.realm)
        {
            space.id = existing.id;
            if let (SpaceKind::Digest(new), SpaceKind::Digest(old)) =
                (&mut space.kind, &existing.kind)
            {
                new.inherit(old);
            }
            *existing = space;
            return existing.id;
        }
        space.id = now;
        if self.entries.len() >= self.capacity.max(1)
            && let Some(lru) = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(i, _)| i)
        {
            self.entries.swap_remove(lru);
        }
        let id = space.id;
        self.entries.push(space);
        id
    }

    /// Stops using a space for preemptive credentials (after the server rejected them, or
    /// its nonce died). It keeps its nonce counts, so a nonce the server hands out again
    /// never repeats a count; the next challenge for the space revives it.
    pub(crate) fn retire(&mut self, id: u64) {
        if let Some(space) = self.get_mut(id) {
            space.retired = true;
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(host: &str, realm: &str, domain: &[(&str, &str)]) -> ProtectionSpace {
        let origin = Origin::new(Scheme::Http, host, 80);
        let domain = domain
            .iter()
            .map(|(h, p)| DomainEntry {
                origin: Origin::new(Scheme::Http, h, 80),
                path_prefix: (*p).into(),
            })
            .collect();
        ProtectionSpace::new(origin, realm.into(), domain, SpaceKind::Basic)
    }

    #[test]
    fn longest_prefix_wins_and_lru_evicts() {
        let mut spaces = Spaces::new(2);
        let a = spaces.upsert(space("h", "a", &[("h", "/a/")]));
        let b = spaces.upsert(space("h", "b", &[("h", "/a/b/")]));
        assert_eq!(
            spaces
                .covering(Scheme::Http, "h", 80, Some("/a/b/c"))
                .unwrap()
                .id,
            b
        );
        assert_eq!(
            spaces
                .covering(Scheme::Http, "h", 80, Some("/a/x"))
                .unwrap()
                .id,
            a
        );
        spaces.touch(a);
        assert!(spaces.covering(Scheme::Http, "h", 80, Some("/z")).is_none());
        assert!(spaces.covering(Scheme::Http, "h", 80, None).is_none());
        // `a` was used last; a third space evicts `b`.
        spaces.upsert(space("h", "c", &[]));
        assert_eq!(spaces.len(), 2);
        assert!(spaces.get_mut(b).is_none());
        assert!(spaces.get_mut(a).is_some());
    }

    #[test]
    fn domain_can_name_another_origin() {
        let mut spaces = Spaces::new(4);
        let id = spaces.upsert(space("h", "r", &[("h", "/x/"), ("other", "/y/")]));
        assert_eq!(
            spaces
                .covering(Scheme::Http, "other", 80, Some("/y/1"))
                .unwrap()
                .id,
            id
        );
        assert!(
            spaces
                .covering(Scheme::Http, "other", 80, Some("/x/1"))
                .is_none()
        );
        assert!(
            spaces
                .covering(Scheme::Https, "other", 80, Some("/y/1"))
                .is_none()
        );
    }

    fn digest_space(ordered: bool, max_lanes: usize) -> DigestSpace {
        let dialect = crate::client::username::Dialect {
            name: "u",
            charset_utf8: false,
            userhash: false,
            ascii_only: false,
            latin1_password: true,
        };
        DigestSpace::new(
            DigestParams {
                algorithm: Algorithm::Md5,
                algorithm_token: None,
                qop: Some(QopOptions::AUTH),
                userhash: false,
                charset_utf8: false,
            },
            NameForms::new(dialect, None),
            max_lanes,
            ordered,
        )
    }

    /// A lane kept for a request in an ordered space stays kept when a 403 makes the space
    /// shared again: the others are not woken for it (they were, and `turn` sent them back
    /// to wait, again and again: a livelock the client fuzz target found).
    #[test]
    fn a_kept_lane_wakes_no_one_else_once_the_space_is_shared() {
        let mut d = digest_space(false, 4);
        d.ordered = true;
        let kept = d.add_lane("n1", None);
        let refused = d.add_lane("n2", None);
        d.reserve(7);
        assert_eq!(d.lanes.get(kept).unwrap().reserved, Some(7));
        d.kill(refused);
        assert!(!d.ordered);
        assert!(matches!(d.turn(8, true), Turn::Wait));
        assert!(matches!(d.wakeable(1), Wakeable::None));
        assert!(matches!(d.turn(7, true), Turn::Lane(i) if i == kept));
        // Once the request it was kept for lets it go, everyone's turn has come.
        d.release(7);
        assert!(matches!(d.wakeable(1), Wakeable::All));
        assert!(matches!(d.turn(8, true), Turn::Lane(_)));
    }

    #[test]
    fn nonce_counts_restart_per_nonce() {
        let mut d = digest_space(false, 4);
        let i = d.add_lane("n1", None);
        let lane = |d: &mut DigestSpace| d.lanes.get_mut(i).unwrap().next_nc();
        assert_eq!(lane(&mut d), Some(NonceCount::new(1)));
        assert_eq!(lane(&mut d), Some(NonceCount::new(2)));
        d.next_nonce(i, "n2");
        assert_eq!(lane(&mut d), Some(NonceCount::new(1)));
        // Back to n1: its count continues.
        d.next_nonce(i, "n1");
        assert_eq!(lane(&mut d), Some(NonceCount::new(3)));
        d.lanes.get_mut(i).unwrap().nc = u32::MAX;
        assert_eq!(lane(&mut d), None);
    }

    #[test]
    fn a_shared_space_lets_everyone_in_but_during_a_first_count() {
        let mut d = digest_space(false, 4);
        assert_eq!(d.turn(1, true), Turn::Open);
        d.opening = Some(1);
        assert_eq!(d.turn(2, true), Turn::Wait, "one opening at a time");
        let i = d.add_lane("n", None);
        d.lanes.get_mut(i).unwrap().first = Some(1);
        d.release(1);
        assert_eq!(d.turn(2, true), Turn::Lane(0));
        d.lanes.get_mut(i).unwrap().first = Some(1);
        assert_eq!(d.turn(1, true), Turn::Lane(0));
        assert_eq!(d.turn(2, true), Turn::Wait);
        assert_eq!(d.wakeable(3), Wakeable::None);
        d.release(1);
        assert_eq!(d.wakeable(3), Wakeable::All);
    }

    #[test]
    fn an_ordered_space_gives_each_lane_to_one_request_and_opens_lanes_up_to_its_bound() {
        let mut d = digest_space(true, 2);
        let i = d.add_lane("n1", None);
        assert_eq!(d.turn(1, true), Turn::Lane(i));
        d.lanes.get_mut(i).unwrap().begin_send();
        assert_eq!(d.turn(2, false), Turn::Wait, "no sends left to open a lane");
        assert_eq!(d.turn(2, true), Turn::Open);
        d.opening = Some(2);
        assert_eq!(d.turn(3, true), Turn::Wait);
        d.opening = None;
        let j = d.add_lane("n2", None);
        d.lanes.get_mut(j).unwrap().begin_send();
        assert_eq!(
            d.turn(3, true),
            Turn::Wait,
            "two lanes, both taken, at the bound"
        );
        d.lanes.get_mut(j).unwrap().answered();
        d.lanes.get_mut(i).unwrap().answered();
        assert_eq!(
            d.wakeable(1),
            Wakeable::Lanes {
                free: 2,
                open: false
            }
        );
        d.reserve(3);
        assert_eq!(d.turn(4, true), Turn::Lane(1));
        assert_eq!(d.turn(3, true), Turn::Lane(0), "the lane kept for it");
    }

    #[test]
    fn a_forgotten_lane_lowers_the_bound_once_per_loss() {
        let mut d = digest_space(true, 4);
        for n in ["a", "b", "c", "d"] {
            let i = d.add_lane(n, Some("1".into()));
            d.accept(Some(i));
        }
        assert!(
            d.renew(0, "a2", Some("2".into())).1,
            "a new opaque: the server forgot it"
        );
        assert!(
            !d.renew(1, "b2", Some("1".into())).1,
            "the same opaque: a stale nonce"
        );
        d.forgot(0);
        assert_eq!(d.ceiling, 3);
        // The other lanes it forgot at the same time do not lower it again.
        d.forgot(1);
        d.forgot(2);
        assert_eq!(d.ceiling, 3);
        d.trim(3);
        assert_eq!(d.lanes.len(), 3);
        // A lane accepted since is another loss.
        d.accept(Some(0));
        d.forgot(0);
        assert_eq!(d.ceiling, 2);
        for _ in 0..REGROW_AFTER {
            d.accept(Some(1));
        }
        d.wakeable(1);
        assert_eq!(d.ceiling, 3);
        // One lane per nonce: a nonce another lane holds moves the request there.
        assert_eq!(d.lanes.len(), 3);
        assert_eq!(d.renew(2, "a2", None), (0, false));
        assert_eq!(d.lanes.len(), 2, "the lane it left, idle, closed");
        assert_eq!(d.add_lane("a2", None), 0);
    }
}
