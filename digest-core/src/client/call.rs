//! One request across its sends: what each side sent last, and what has been answered, so
//! the client bounds the retries and knows what `Authentication-Info` must prove.

use alloc::sync::Arc;

use super::cookies::ChallengeCookies;
use super::io::Failure;
use super::protection_space::Nonce;
use super::username::NameForm;
use crate::algorithm::Algorithm;
use crate::nonce_count::NonceCount;
use crate::qop::Qop;
use crate::side::{Side, Sides};

/// What was sent on one side (origin or proxy) of the last send of a request.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub(crate) space: u64,
    /// The lane of the space it went on (see `Lane::id`); 0 for Basic.
    pub(crate) lane: u32,
    /// The nonce used (shared with the lane), to tell a renewed nonce from the same one and
    /// to check `rspauth`.
    pub(crate) nonce: Option<Nonce>,
    /// The `opaque` sent, to tell a server that forgot its record of the client (it renews
    /// the nonce with another opaque) from one whose nonce went stale.
    pub(crate) opaque: Option<Arc<str>>,
    /// The space's count of fetched challenges with this send (see `DigestSpace::fetched`).
    pub(crate) fetched: u64,
    /// The lane's send count with this send (see `Lane::sends`).
    pub(crate) lane_sends: u64,
    /// Whether other sends from the lane were in flight when this one went out.
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
    /// How the user name went.
    pub(crate) form: NameForm,
}

/// One side's retry accounting.
#[derive(Debug, Clone, Default)]
pub(crate) struct SideState {
    pub(crate) sent: Option<Sent>,
    pub(crate) answered_fresh: bool,
    pub(crate) answered_stale: bool,
    /// The request stopped waiting for its turn (its wait bound passed) and went on
    /// regardless: its answer to a challenge does not hold the new nonce for itself.
    pub(crate) gave_up_waiting: bool,
    /// The space this side went without credentials to open a lane of (see
    /// `DigestSpace::opening`).
    pub(crate) opening: Option<u64>,
    /// This side went without credentials as the first request to an origin the client knew
    /// no space of: requests after it wait for what it learns.
    pub(crate) learning: bool,
    /// The origin answered this side's credentials with 403 once, and they went again.
    pub(crate) forbidden: bool,
    /// The server refused the user name in one form, and it went again in the next.
    pub(crate) renamed: bool,
}

/// The most extra sends one request may cause: one answer to a fresh challenge and one to a
/// stale nonce, or one proxy and one origin answer.
pub(crate) const MAX_EXTRA_SENDS: u8 = 2;

/// The state of one request across its sends. Created by
/// [`Client::begin`](super::Client::begin); owned by the adapter; holds no reference into
/// the client and allocates nothing, unless a challenge sets cookies.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// Unique per client: what [`Client::poll_ready`](super::Client::poll_ready) names.
    pub(crate) id: u64,
    /// Waiting for its turn, from [`Action::Wait`](super::Action::Wait) to
    /// [`resume`](super::Client::resume) or [`give_up_waiting`](super::Client::give_up_waiting).
    pub(crate) waiting: bool,
    /// The side whose credentials are to go again once the wait is over (after a challenge
    /// or a 403); `None` while waiting for the first send.
    pub(crate) resend: Option<Side>,
    pub(crate) sides: Sides<SideState>,
    pub(crate) extra_sends: u8,
    pub(crate) finished: bool,
    pub(crate) out_of_scope: bool,
    pub(crate) preemptive_failure: Option<Failure>,
    /// The cookies the request's challenges set, for its answers.
    pub(crate) cookies: ChallengeCookies,
}

impl Exchange {
    /// The exchange's id, unique per client: [`Client::poll_ready`](super::Client::poll_ready)
    /// names waiting exchanges by it.
    pub const fn id(&self) -> u64 {
        self.id
    }

    /// Whether the exchange waits for its turn ([`Action::Wait`](super::Action::Wait)).
    pub const fn waiting(&self) -> bool {
        self.waiting
    }

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
