//! The client's policy: how it chooses among challenges, where credentials may go, and how
//! much it remembers.

use alloc::vec::Vec;
use core::time::Duration;

use super::selection::{BasicPolicy, SelectionOrder};
use super::username::NameForm;
use crate::algorithm::Algorithm;
use crate::origin::Origin;

/// What a [`Client`](super::Client) does beyond the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// How to choose among Digest challenges.
    pub order: SelectionOrder,
    /// Refuse algorithms weaker than this one (compared by [`Algorithm::strength`]).
    pub min_algorithm: Option<Algorithm>,
    /// When Basic may be used.
    pub basic: BasicPolicy,
    /// Fail unless the server proves it knows the password (`rspauth`). Basic is never used
    /// then. For `qop=auth-int` the proof covers the response body: the adapter checks it as
    /// it reads the body ([`ResponseBodyCheck`](super::ResponseBodyCheck)), and a body
    /// longer than the adapter reads to check it fails too
    /// ([`Failure::MutualAuthMissing`](super::Failure::MutualAuthMissing)).
    pub require_mutual_auth: bool,
    /// Answer a Digest challenge that leaves no qop to choose in RFC 2069 form (no `qop`,
    /// `nc` or `cnonce`; the default): one without `qop`, with an empty `qop=""` (what some
    /// servers write for "none"), or with a `qop` list of tokens this crate does not know.
    /// curl and python-requests do the same. `false` refuses such challenges
    /// ([`Verdict::UnsupportedQop`](super::Verdict::UnsupportedQop)): an RFC 2069 answer has
    /// no client nonce, so a server can replay it at will and guess passwords offline with
    /// a chosen nonce.
    pub rfc2069: bool,
    /// Send the cookies a 401 or 407 sets back with the answer to it, joined to the
    /// request's own `Cookie` header (the default; see
    /// [`ChallengeCookies`](super::ChallengeCookies)): some servers keep the nonce in a
    /// session cookie, and answer an answer without it with a new challenge, for ever.
    /// Nothing keeps them past the request. Turn it off when the HTTP client keeps cookies
    /// itself: reqwest with a cookie store adds its cookies only to a request without a
    /// `Cookie` header, and ureq with its `cookies` feature adds a second `Cookie` field;
    /// either store already holds the challenge's cookies and sends them with the answer.
    pub challenge_cookies: bool,
    /// How the user name goes in Digest answers; matters only for a name outside ASCII.
    /// `None` (the default): by dialect, the form most servers accept for what the challenge
    /// says and the HTTP client can carry: the name's UTF-8 bytes in `username`, then, after
    /// the server refuses a name sent so, `username*` where the challenge announces
    /// `charset=UTF-8` and otherwise the name's ISO-8859-1 bytes with H(A1) over its UTF-8
    /// form; `userhash` first wherever the challenge offers it. The form the server accepts
    /// is kept by the protection space. A form fixed here is used wherever it applies
    /// (`Userhash` where offered, the ISO-8859-1 forms for names within ISO-8859-1,
    /// [`NameForm::Latin1`] with a password within it).
    pub name_form: Option<NameForm>,
    /// The HTTP client under the adapter carries only ASCII in `Authorization` (ureq 3 checks
    /// that header, not `Proxy-Authorization`): a name outside ASCII then goes to origins as
    /// `username*` or `userhash` where the challenge allows, and is refused by the adapter
    /// elsewhere. Adapters set it
    /// ([`Client::set_ascii_only_authorization`](super::Client::set_ascii_only_authorization)).
    pub ascii_only_authorization: bool,
    /// Use `auth-int` whenever offered (and the body can be hashed), not only when it is the
    /// only qop offered.
    pub prefer_auth_int: bool,
    /// Send credentials with the first request to a known protection space (the default),
    /// rather than waiting for a challenge each time.
    pub preemptive: bool,
    /// The origins the credentials may be sent to. `None` (the default): the origin of the
    /// first request.
    pub scope: Option<Vec<Origin>>,
    /// How many protection spaces to remember, per side (origin, proxy).
    pub max_protection_spaces: usize,
    /// Whether the server checks nonce counts strictly, so that the requests on one nonce
    /// must reach it one after another.
    pub strict: Strict,
    /// How many nonces (lanes) one protection space may hold when the server checks counts
    /// strictly: each carries one request at a time, so this bounds how many requests to the
    /// space are in flight at once. The client learns how many the server keeps, below this.
    pub max_lanes: usize,
    /// How long a request waits for its turn (for a request ahead of it to learn the space,
    /// or for a lane) before it goes on as if nothing held it. The core has no clock: the
    /// driver keeps this bound (`httpdigest::http::DigestClient` does).
    pub max_wait: Duration,
}

/// Whether a server checks nonce counts strictly ([`ClientConfig::strict`]).
///
/// A server that does (Apache's mod_auth_digest with `AuthDigestNcCheck On`, many cameras
/// and PDUs) refuses a count that is not the next one it expects, so requests that overtake
/// each other on the network fail. For such a server the client sends the requests on one
/// nonce one after another, each waiting for the previous answer, and holds up to
/// [`max_lanes`](ClientConfig::max_lanes) nonces to keep several in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strict {
    /// Take the server as strict once it shows it is: it rotates nonces with every answer
    /// (a `nextnonce` in the answer to a nonce's first count), or it refused credentials it
    /// had accepted while requests overlapped, with a count close to the newest one sent (a
    /// server that accepts counts in any order within a window refuses only counts far
    /// behind). The default.
    #[default]
    Learned,
    /// Take every server as strict, from the first request.
    Always,
    /// Never: requests share a nonce at once, with increasing counts, whatever the server
    /// does (a refusal it explains is [`Failure::OutOfOrder`](super::Failure::OutOfOrder)).
    Never,
}

impl ClientConfig {
    /// Sets [`order`](Self::order).
    #[must_use]
    pub const fn with_order(mut self, order: SelectionOrder) -> Self {
        self.order = order;
        self
    }

    /// Sets [`min_algorithm`](Self::min_algorithm).
    #[must_use]
    pub const fn with_min_algorithm(mut self, min: Algorithm) -> Self {
        self.min_algorithm = Some(min);
        self
    }

    /// Sets [`basic`](Self::basic).
    #[must_use]
    pub const fn with_basic(mut self, basic: BasicPolicy) -> Self {
        self.basic = basic;
        self
    }

    /// Sets [`require_mutual_auth`](Self::require_mutual_auth).
    #[must_use]
    pub const fn with_require_mutual_auth(mut self, required: bool) -> Self {
        self.require_mutual_auth = required;
        self
    }

    /// Sets [`challenge_cookies`](Self::challenge_cookies).
    #[must_use]
    pub const fn with_challenge_cookies(mut self, send: bool) -> Self {
        self.challenge_cookies = send;
        self
    }

    /// Sets [`name_form`](Self::name_form).
    #[must_use]
    pub const fn with_name_form(mut self, form: NameForm) -> Self {
        self.name_form = Some(form);
        self
    }

    /// Sets [`rfc2069`](Self::rfc2069).
    #[must_use]
    pub const fn with_rfc2069(mut self, allowed: bool) -> Self {
        self.rfc2069 = allowed;
        self
    }

    /// Sets [`prefer_auth_int`](Self::prefer_auth_int).
    #[must_use]
    pub const fn with_prefer_auth_int(mut self, preferred: bool) -> Self {
        self.prefer_auth_int = preferred;
        self
    }

    /// Sets [`preemptive`](Self::preemptive).
    #[must_use]
    pub const fn with_preemptive(mut self, preemptive: bool) -> Self {
        self.preemptive = preemptive;
        self
    }

    /// Sets [`scope`](Self::scope): the origins the credentials may go to.
    #[must_use]
    pub fn with_scope(mut self, origins: impl IntoIterator<Item = Origin>) -> Self {
        self.scope = Some(origins.into_iter().collect());
        self
    }

    /// Sets [`max_protection_spaces`](Self::max_protection_spaces).
    #[must_use]
    pub const fn with_max_protection_spaces(mut self, max: usize) -> Self {
        self.max_protection_spaces = max;
        self
    }

    /// Sets [`strict`](Self::strict).
    #[must_use]
    pub const fn with_strict(mut self, strict: Strict) -> Self {
        self.strict = strict;
        self
    }

    /// Sets [`max_lanes`](Self::max_lanes) (at least 1).
    #[must_use]
    pub const fn with_max_lanes(mut self, max: usize) -> Self {
        self.max_lanes = if max == 0 { 1 } else { max };
        self
    }

    /// Sets [`max_wait`](Self::max_wait).
    #[must_use]
    pub const fn with_max_wait(mut self, max: Duration) -> Self {
        self.max_wait = max;
        self
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            order: SelectionOrder::Strongest,
            min_algorithm: None,
            basic: BasicPolicy::Never,
            require_mutual_auth: false,
            rfc2069: true,
            challenge_cookies: true,
            name_form: None,
            ascii_only_authorization: false,
            prefer_auth_int: false,
            preemptive: true,
            scope: None,
            max_protection_spaces: 32,
            strict: Strict::Learned,
            max_lanes: 4,
            max_wait: Duration::from_secs(5),
        }
    }
}
