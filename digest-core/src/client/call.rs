//! One request across its sends: what each side sent last, and what has been answered, so
//! the client bounds the retries and knows what `Authentication-Info` must prove.

use super::io::Failure;
use crate::algorithm::Algorithm;
use crate::nonce_count::NonceCount;
use crate::qop::Qop;
use crate::side::Sides;

/// What was sent on one side (origin or proxy) of the last send of a request.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub(crate) space: u64,
    /// Fingerprint of the nonce used, to tell a renewed nonce from the same one.
    pub(crate) nonce: u64,
    /// The space's send count with this send (see `DigestSpace::sends`).
    pub(crate) space_sends: u64,
    /// Whether other sends from the space were in flight when this one went out.
    pub(crate) overlapped: bool,
    pub(crate) digest: Option<SentDigest>,
}

/// What `rspauth` is checked against, with the space's H(A1) (which is why this record of a
/// send holds no copy of the secret; the send's ticket does, until it is signed).
#[derive(Debug, Clone)]
pub(crate) struct SentDigest {
    pub(crate) algorithm: Algorithm,
    pub(crate) nc: NonceCount,
    pub(crate) cnonce: [u8; 32],
    pub(crate) qop: Option<Qop>,
}

/// One side's retry accounting.
#[derive(Debug, Clone, Default)]
pub(crate) struct SideState {
    pub(crate) sent: Option<Sent>,
    pub(crate) answered_fresh: bool,
    pub(crate) answered_stale: bool,
    /// The first send went without credentials because another request held the space's
    /// nonce (see `DigestSpace::held`).
    pub(crate) waited_on_hold: bool,
}

/// The most extra sends one request may cause: one answer to a fresh challenge and one to a
/// stale nonce, or one proxy and one origin answer.
pub(crate) const MAX_EXTRA_SENDS: u8 = 2;

/// The state of one request across its sends. Created by
/// [`Client::begin`](super::Client::begin); owned by the adapter; holds no reference into
/// the client and allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub(crate) sides: Sides<SideState>,
    pub(crate) extra_sends: u8,
    pub(crate) finished: bool,
    pub(crate) out_of_scope: bool,
    pub(crate) preemptive_failure: Option<Failure>,
}

impl Exchange {
    /// Whether the request's origin is outside the credentials' scope: nothing derived from
    /// the credentials goes with it, and a 401 from it is [`Failure::OutOfScope`].
    pub const fn out_of_scope(&self) -> bool {
        self.out_of_scope
    }

    /// Why `begin` issued no credentials although a protection space covers the request (an
    /// `auth-int` space and a streamed body, or a request-target that cannot go into a
    /// header); `None` when it issued them or knew no space.
    pub const fn preemptive_failure(&self) -> Option<&Failure> {
        self.preemptive_failure.as_ref()
    }

    /// Whether the exchange is over: a final answer was handled, or it failed, or it was
    /// [abandoned](super::Client::abandon).
    pub const fn finished(&self) -> bool {
        self.finished
    }

    /// How many times the request has been sent again so far (at most 2).
    pub const fn extra_sends(&self) -> u8 {
        self.extra_sends
    }

    /// Whether another send is within the bound.
    pub(crate) const fn may_send_again(&self) -> bool {
        self.extra_sends < MAX_EXTRA_SENDS
    }
}
