//! The client's policy: how it chooses among challenges, where credentials may go, and how
//! much it remembers.

use alloc::vec::Vec;

use super::selection::{BasicPolicy, SelectionOrder};
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
    /// then.
    pub require_mutual_auth: bool,
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
    pub const fn with_mutual_auth_required(mut self, required: bool) -> Self {
        self.require_mutual_auth = required;
        self
    }

    /// Sets [`prefer_auth_int`](Self::prefer_auth_int).
    #[must_use]
    pub const fn with_auth_int_preferred(mut self, preferred: bool) -> Self {
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
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            order: SelectionOrder::Strongest,
            min_algorithm: None,
            basic: BasicPolicy::Never,
            require_mutual_auth: false,
            prefer_auth_int: false,
            preemptive: true,
            scope: None,
            max_protection_spaces: 32,
        }
    }
}
