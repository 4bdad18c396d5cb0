//! The quality of protection (`qop`, RFC 7616 §3.3): `auth` and `auth-int`.

use core::fmt;

/// A quality of protection the client chose (`qop` in credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `auth`: authentication only; A2 = method ":" request-uri.
    Auth,
    /// `auth-int`: authentication with integrity protection of the body;
    /// A2 = method ":" request-uri ":" H(entity-body).
    AuthInt,
}

impl Qop {
    /// The token (`auth`, `auth-int`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }

    /// Matches a qop token, ignoring ASCII case.
    pub fn from_token(token: &[u8]) -> Option<Qop> {
        if token.eq_ignore_ascii_case(b"auth") {
            Some(Qop::Auth)
        } else if token.eq_ignore_ascii_case(b"auth-int") {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Qop::Auth => 1,
            Qop::AuthInt => 2,
        }
    }
}

impl fmt::Display for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of qop values a challenge offers (`qop="auth, auth-int"`). Unknown values are
/// ignored, so a set can be empty although the challenge had a `qop` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct QopOptions(u8);

impl QopOptions {
    /// No qop value.
    pub const NONE: QopOptions = QopOptions(0);
    /// `auth` only.
    pub const AUTH: QopOptions = QopOptions(1);
    /// `auth-int` only.
    pub const AUTH_INT: QopOptions = QopOptions(2);
    /// `auth` and `auth-int`.
    pub const BOTH: QopOptions = QopOptions(3);

    /// Whether `qop` is in the set.
    pub const fn contains(self, qop: Qop) -> bool {
        self.0 & qop.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set with `qop` added.
    #[must_use]
    pub const fn with(self, qop: Qop) -> QopOptions {
        QopOptions(self.0 | qop.bit())
    }

    /// The members, `auth` first.
    pub fn iter(self) -> impl Iterator<Item = Qop> {
        [Qop::Auth, Qop::AuthInt]
            .into_iter()
            .filter(move |q| self.contains(*q))
    }

    /// Parses a `qop-options` list (`auth, auth-int`, RFC 7616 §3.3): tokens separated by
    /// commas with optional whitespace. Unknown tokens are skipped. An empty list (`qop=""`,
    /// which some servers write for "no qop") is the empty set. `None` when an element is not
    /// a token.
    pub fn parse(list: &[u8]) -> Option<QopOptions> {
        // The lists servers send, spelled the usual way.
        match list {
            b"auth" => return Some(QopOptions::AUTH),
            b"auth, auth-int" | b"auth,auth-int" => return Some(QopOptions::BOTH),
            b"auth-int" => return Some(QopOptions::AUTH_INT),
            _ => {}
        }
        let mut set = QopOptions::NONE;
        for element in list.split(|&b| b == b',') {
            let element = element.trim_ascii();
            if element.is_empty() {
                continue;
            }
            if !crate::header::chars::all_tchar(element) {
                return None;
            }
            if let Some(q) = Qop::from_token(element) {
                set = set.with(q);
            }
        }
        Some(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_lists() {
        assert_eq!(QopOptions::parse(b"auth"), Some(QopOptions::AUTH));
        assert_eq!(QopOptions::parse(b"auth, auth-int"), Some(QopOptions::BOTH));
        assert_eq!(QopOptions::parse(b"auth-int,auth"), Some(QopOptions::BOTH));
        assert_eq!(QopOptions::parse(b" AUTH ,, "), Some(QopOptions::AUTH));
        assert_eq!(QopOptions::parse(b"auth-conf"), Some(QopOptions::NONE));
        assert_eq!(QopOptions::parse(b""), Some(QopOptions::NONE));
        assert_eq!(QopOptions::parse(b" , "), Some(QopOptions::NONE));
        assert_eq!(QopOptions::parse(b"auth;x"), None);
        assert_eq!(
            QopOptions::BOTH.iter().collect::<Vec<_>>(),
            [Qop::Auth, Qop::AuthInt]
        );
    }
}
