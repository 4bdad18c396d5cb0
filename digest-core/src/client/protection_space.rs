//! Protection spaces (RFC 7616 §3.3, RFC 9110 §11.5): what the client remembers of a
//! challenge so that later requests to the same space go out with credentials at once.
//!
//! A space belongs to an origin and a realm. Its `domain` list, when the challenge sent one,
//! narrows it to URI prefixes, and may widen it to other origins, but only to origins inside
//! the client's scope. Each space holds one nonce at a time and the last nonce count sent
//! with it, so counts increase strictly per nonce whatever the interleaving of requests.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::credentials::Credentials;
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

/// What a Digest space remembers of its challenge.
#[derive(Debug, Clone)]
pub(crate) struct DigestSpace {
    pub(crate) algorithm: Algorithm,
    /// The `algorithm` token as the server spelled it; `None` when it sent none.
    pub(crate) algorithm_token: Option<Arc<str>>,
    pub(crate) nonce: Nonce,
    /// The nonce before the current one, to verify `rspauth` for requests sent with it.
    pub(crate) previous_nonce: Option<Nonce>,
    pub(crate) opaque: Option<Arc<str>>,
    /// `None`: RFC 2069 mode.
    pub(crate) qop: Option<QopOptions>,
    pub(crate) userhash: bool,
    pub(crate) charset_utf8: bool,
    /// The last nonce count sent with `nonce`; 0 before the first.
    pub(crate) nc: u32,
    /// The nonces moved away from, most recent last, with the last count sent with each (at
    /// most [`NONCE_HISTORY`]): a nonce the server hands out again continues its count
    /// instead of repeating one.
    pub(crate) history: Vec<(u64, u32)>,
    /// The fingerprint of a nonce just learned from a challenge, while the request that
    /// answers it with `nc=00000001` is in flight. Other requests do not use that nonce
    /// meanwhile: a strict server would refuse the first count if a later one overtook it,
    /// and take the refusal for a wrong password. Released when that request ends.
    pub(crate) held: Option<u64>,
    /// The server has accepted credentials from this space (a final answer other than
    /// 401/407 to them) since it last refused them without a race.
    pub(crate) accepted: bool,
    /// Credentials sent from this space so far (wrapping): a refused send that overlapped
    /// another one (sent while another waited for its answer, or followed by another before
    /// its own answer came) was one of several in flight, which a strict server may have
    /// seen out of order ([`Failure::OutOfOrder`](super::Failure::OutOfOrder)).
    pub(crate) sends: u64,
    /// Answers received to those sends (wrapping); `sends - answers` were in flight (or
    /// abandoned by the caller, which counts the same).
    pub(crate) answers: u64,
    /// What the space's answers are signed with, made at the first one.
    pub(crate) signing: Option<Arc<Signing>>,
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
    pub(crate) opaque: Option<Arc<str>>,
    pub(crate) username: Name,
    /// H(A1) in its non-session form (wiped when the last ticket that shares it is gone).
    pub(crate) ha1: SecretDigest,
}

/// The `username` a Digest answer carries.
#[derive(Debug, Clone)]
pub(crate) enum Name {
    /// `userhash=true`: H(username:realm).
    Hashed(HexDigest),
    Plain {
        name: Arc<str>,
        charset_utf8: bool,
    },
}

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

impl DigestSpace {
    /// Whether the current nonce is held by the request answering its challenge.
    pub(crate) fn is_held(&self) -> bool {
        self.held == Some(self.nonce.fingerprint())
    }

    /// Moves to a new nonce: the count restarts at 1 with it, or continues where it was if
    /// the nonce is one of the last [`NONCE_HISTORY`] this space used.
    pub(crate) fn set_nonce(&mut self, nonce: &str) {
        if *nonce != *self.nonce {
            let old = core::mem::replace(&mut self.nonce, Nonce::new(nonce));
            self.remember(&old, self.nc);
            self.previous_nonce = Some(old);
            self.nc = self.recall(&self.nonce);
        }
    }

    /// What the space's answers are signed with (made at the first, with `credentials`);
    /// `None` when the credentials do not fit the space (an H(A1) for another realm or
    /// algorithm).
    pub(crate) fn signing(
        &mut self,
        realm: &Arc<str>,
        credentials: &Credentials,
    ) -> Option<Arc<Signing>> {
        if let Some(signing) = &self.signing {
            return Some(Arc::clone(signing));
        }
        let ha1 = credentials.ha1(self.algorithm, realm)?;
        let username = if self.userhash {
            Name::Hashed(digest::userhash(
                self.algorithm,
                credentials.username().as_bytes(),
                realm.as_bytes(),
            ))
        } else {
            Name::Plain {
                name: credentials.shared_username(),
                charset_utf8: self.charset_utf8,
            }
        };
        Some(self.make_signing(Arc::clone(realm), username, ha1))
    }

    /// Makes (and keeps) the space's signing material from its challenge's values and these
    /// secret-derived ones; a plain user name takes the challenge's charset.
    fn make_signing(&mut self, realm: Arc<str>, username: Name, ha1: SecretDigest) -> Arc<Signing> {
        let username = match username {
            Name::Plain { name, .. } => Name::Plain {
                name,
                charset_utf8: self.charset_utf8,
            },
            hashed @ Name::Hashed(_) => hashed,
        };
        let signing = Arc::new(Signing {
            algorithm: self.algorithm,
            algorithm_token: self.algorithm_token.clone(),
            realm,
            opaque: self.opaque.clone(),
            username,
            ha1,
        });
        self.signing = Some(Arc::clone(&signing));
        signing
    }

    /// Takes over what an older state of the same space knew: the secret-derived values when
    /// the algorithm and the form of the user name are the same (the answers of requests
    /// still in flight are checked with that H(A1)), and the nonce counts.
    pub(crate) fn inherit(&mut self, old: &DigestSpace) {
        if let Some(signing) = &old.signing
            && self.algorithm == old.algorithm
            && self.userhash == old.userhash
        {
            self.make_signing(
                Arc::clone(&signing.realm),
                signing.username.clone(),
                signing.ha1.clone(),
            );
        }
        self.history.clone_from(&old.history);
        self.accepted = old.accepted;
        self.sends = old.sends;
        self.answers = old.answers;
        if self.nonce == old.nonce {
            self.nc = self.nc.max(old.nc);
            self.previous_nonce.clone_from(&old.previous_nonce);
        } else {
            self.remember(&old.nonce, old.nc);
            self.previous_nonce = Some(old.nonce.clone());
            self.nc = self.recall(&self.nonce);
        }
    }

    fn remember(&mut self, nonce: &str, nc: u32) {
        let fp = fingerprint(nonce.as_bytes());
        self.history.retain(|(f, _)| *f != fp);
        if self.history.len() >= NONCE_HISTORY {
            self.history.remove(0);
        }
        self.history.push((fp, nc));
    }

    fn recall(&self, nonce: &str) -> u32 {
        let fp = fingerprint(nonce.as_bytes());
        self.history
            .iter()
            .find(|(f, _)| *f == fp)
            .map_or(0, |(_, nc)| *nc)
    }

    /// Takes the next nonce count for the current nonce; `None` once the counter is spent.
    pub(crate) fn next_nc(&mut self) -> Option<NonceCount> {
        let next = NonceCount::new(self.nc).next()?;
        self.nc = next.get();
        Some(next)
    }

    /// Counts a send of credentials from this space; returns whether others were in flight.
    pub(crate) fn begin_send(&mut self) -> bool {
        let overlapped = self.sends != self.answers;
        self.sends = self.sends.wrapping_add(1);
        overlapped
    }

    /// Counts an answer to one of the space's sends (before the answer is acted on, so a
    /// send it leads to does not take the answered one for a send still in flight).
    pub(crate) fn answered(&mut self) {
        self.answers = self.answers.wrapping_add(1);
    }

    /// Holds the nonce `fingerprint` for the request answering its challenge: other requests
    /// do not use it until [`release`](Self::release).
    pub(crate) fn hold(&mut self, fingerprint: u64) {
        self.held = Some(fingerprint);
    }

    /// Ends the hold on `fingerprint`, if it is held.
    pub(crate) fn release(&mut self, fingerprint: u64) {
        if self.held == Some(fingerprint) {
            self.held = None;
        }
    }

    /// Whether the current nonce is held for another request than the one that holds
    /// `own_hold`.
    pub(crate) fn held_for_other(&self, own_hold: Option<u64>) -> bool {
        self.is_held() && self.held != own_hold
    }

    /// The server accepted credentials from this space.
    pub(crate) fn accept(&mut self) {
        self.accepted = true;
    }

    /// Judges a refusal of credentials the client will not answer again: `true` when the
    /// server had accepted the space's credentials before and the refused send overlapped
    /// another (sent while others were in flight, or followed by one before its answer
    /// came): a race a strict server loses ([`Failure::OutOfOrder`](super::io::Failure::OutOfOrder)).
    /// Otherwise the space is no longer taken as accepted.
    pub(crate) fn refusal_was_race(&mut self, overlapped: bool, space_sends: u64) -> bool {
        if self.accepted && (overlapped || self.sends != space_sends) {
            return true;
        }
        self.accepted = false;
        false
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
    /// recently used. Marks it used.
    pub(crate) fn find(
        &mut self,
        scheme: Scheme,
        host: &str,
        port: u16,
        path: Option<&str>,
    ) -> Option<&mut ProtectionSpace> {
        let best = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                s.coverage(scheme, host, port, path)
                    .map(|c| (c, s.last_used, i))
            })
            .max()
            .map(|(_, _, i)| i)?;
        let now = self.tick();
        let space = self.entries.get_mut(best)?;
        space.last_used = now;
        Some(space)
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
                .find(Scheme::Http, "h", 80, Some("/a/b/c"))
                .unwrap()
                .id,
            b
        );
        assert_eq!(
            spaces.find(Scheme::Http, "h", 80, Some("/a/x")).unwrap().id,
            a
        );
        assert!(spaces.find(Scheme::Http, "h", 80, Some("/z")).is_none());
        assert!(spaces.find(Scheme::Http, "h", 80, None).is_none());
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
                .find(Scheme::Http, "other", 80, Some("/y/1"))
                .unwrap()
                .id,
            id
        );
        assert!(
            spaces
                .find(Scheme::Http, "other", 80, Some("/x/1"))
                .is_none()
        );
        assert!(
            spaces
                .find(Scheme::Https, "other", 80, Some("/y/1"))
                .is_none()
        );
    }

    #[test]
    fn nonce_counts_restart_per_nonce() {
        let mut d = DigestSpace {
            algorithm: Algorithm::Md5,
            algorithm_token: None,
            nonce: Nonce::new("n1"),
            previous_nonce: None,
            opaque: None,
            qop: Some(QopOptions::AUTH),
            userhash: false,
            charset_utf8: false,
            nc: 0,
            history: Vec::new(),
            held: None,
            accepted: false,
            sends: 0,
            answers: 0,
            signing: None,
        };
        assert_eq!(d.next_nc(), Some(NonceCount::new(1)));
        assert_eq!(d.next_nc(), Some(NonceCount::new(2)));
        d.set_nonce("n2");
        assert_eq!(d.previous_nonce.as_deref(), Some("n1"));
        assert_eq!(d.next_nc(), Some(NonceCount::new(1)));
        // Back to n1: its count continues.
        d.set_nonce("n1");
        assert_eq!(d.next_nc(), Some(NonceCount::new(3)));
        d.nc = u32::MAX;
        assert_eq!(d.next_nc(), None);
    }
}
