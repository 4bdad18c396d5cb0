//! The two parties a request can authenticate to (RFC 9110 §11.6, §11.7): the origin, which
//! challenges with `401` and `WWW-Authenticate`, and a forward proxy, which challenges with
//! `407` and `Proxy-Authenticate`. The same machinery serves both, with its state kept apart.

use core::ops::{Index, IndexMut};

/// Which party a challenge, a credentials header or a protection space belongs to.
///
/// ```
/// use httpdigest::Side;
///
/// assert_eq!(Side::from_challenge_status(407), Some(Side::Proxy));
/// assert_eq!(Side::Origin.challenge_status(), 401);
/// assert_eq!(Side::Proxy.credentials_header(), "proxy-authorization");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The origin server: `401`, `WWW-Authenticate`, `Authorization`, `Authentication-Info`.
    Origin,
    /// A forward proxy: `407`, `Proxy-Authenticate`, `Proxy-Authorization`,
    /// `Proxy-Authentication-Info`.
    Proxy,
}

impl Side {
    /// Both sides, origin first.
    pub const BOTH: [Side; 2] = [Side::Origin, Side::Proxy];

    /// The other side.
    pub const fn other(self) -> Side {
        match self {
            Side::Origin => Side::Proxy,
            Side::Proxy => Side::Origin,
        }
    }

    /// The status of this side's challenge: 401 or 407.
    pub const fn challenge_status(self) -> u16 {
        match self {
            Side::Origin => 401,
            Side::Proxy => 407,
        }
    }

    /// The side a challenge status belongs to; `None` for other statuses.
    pub const fn from_challenge_status(status: u16) -> Option<Side> {
        match status {
            401 => Some(Side::Origin),
            407 => Some(Side::Proxy),
            _ => None,
        }
    }

    /// The challenge header's name, lower case: `www-authenticate` or `proxy-authenticate`.
    pub const fn challenge_header(self) -> &'static str {
        match self {
            Side::Origin => "www-authenticate",
            Side::Proxy => "proxy-authenticate",
        }
    }

    /// The credentials header's name, lower case: `authorization` or `proxy-authorization`.
    pub const fn credentials_header(self) -> &'static str {
        match self {
            Side::Origin => "authorization",
            Side::Proxy => "proxy-authorization",
        }
    }

    /// The name of the header that proves the server knows the password, lower case:
    /// `authentication-info` or `proxy-authentication-info` (RFC 7615).
    pub const fn info_header(self) -> &'static str {
        match self {
            Side::Origin => "authentication-info",
            Side::Proxy => "proxy-authentication-info",
        }
    }
}

/// One value per [`Side`], indexed by it.
///
/// ```
/// use httpdigest::{Side, Sides};
///
/// let mut sent = Sides::<u32>::default();
/// sent[Side::Proxy] += 1;
/// assert_eq!((sent.origin, sent.proxy), (0, 1));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sides<T> {
    /// The origin's.
    pub origin: T,
    /// The proxy's.
    pub proxy: T,
}

impl<T> Sides<T> {
    /// Both values, origin first, with their side.
    pub fn iter(&self) -> impl Iterator<Item = (Side, &T)> {
        [(Side::Origin, &self.origin), (Side::Proxy, &self.proxy)].into_iter()
    }
}

impl<T> Index<Side> for Sides<T> {
    type Output = T;

    fn index(&self, side: Side) -> &T {
        match side {
            Side::Origin => &self.origin,
            Side::Proxy => &self.proxy,
        }
    }
}

impl<T> IndexMut<Side> for Sides<T> {
    fn index_mut(&mut self, side: Side) -> &mut T {
        match side {
            Side::Origin => &mut self.origin,
            Side::Proxy => &mut self.proxy,
        }
    }
}
