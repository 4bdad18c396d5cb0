//! Choosing one challenge among all those of a 401 or 407 (RFC 9110 §11.6.1 allows several
//! fields, each with several challenges, of several schemes).
//!
//! Every challenge of every field is read. Digest challenges this client cannot answer are
//! dropped (unknown algorithm, below the minimum, `-sess` without qop, a qop list with neither
//! `auth` nor `auth-int`, a realm that is not UTF-8, credentials that do not fit). Of the
//! rest the default picks the strongest algorithm (SHA-512-256 > SHA-512 > SHA-256 > SHA-1 >
//! MD5), the first one sent among equals; [`SelectionOrder::ServerOrder`] picks the first.
//! Digest is preferred over Basic; Basic is used only when the policy enables it, and over
//! plain `http` only when it says so.

use alloc::borrow::Cow;

use super::credentials::Credentials;
use crate::algorithm::Algorithm;
use crate::challenge::DigestChallenge;
use crate::error::ParseError;
use crate::grammar::Challenges;
use crate::qop::Qop;

/// How to choose among the Digest challenges a server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelectionOrder {
    /// The strongest algorithm (the default); among equals, the first sent.
    #[default]
    Strongest,
    /// The first usable challenge, in the order the server sent them (RFC 7616 §3.7's
    /// reading: servers list challenges in order of preference).
    ServerOrder,
}

/// When Basic may answer a challenge. Digest is always preferred when both are offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BasicPolicy {
    /// Never send Basic (the default): an attacker who strips Digest from a challenge must
    /// not obtain the password in clear.
    #[default]
    Never,
    /// Basic over `https` only.
    HttpsOnly,
    /// Basic over `https` and plain `http` (the password crosses the network in clear).
    Always,
}

/// Why no challenge could be answered: what was offered and why each kind was dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unanswerable {
    /// Digest challenges seen.
    pub digest_offered: usize,
    /// Digest challenges with an algorithm this crate does not implement.
    pub unsupported_algorithm: usize,
    /// Digest challenges below the configured minimum algorithm.
    pub below_minimum: usize,
    /// Digest challenges whose qop list has neither `auth` nor `auth-int`, or `-sess` without
    /// qop.
    pub unsupported_qop: usize,
    /// Digest challenges the credentials do not fit (a precomputed H(A1) for another realm or
    /// hash), or whose realm is not UTF-8.
    pub credentials_do_not_fit: usize,
    /// Basic was offered but the policy refused it.
    pub basic_refused: bool,
    /// Challenges of other schemes (Bearer, Negotiate, ...).
    pub other_schemes: usize,
    /// The first malformed challenge, if any (the rest of that field was unreadable).
    pub malformed: Option<ParseError>,
}

/// The challenge chosen.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "a short-lived value on the 401 path"
)]
pub(crate) enum Chosen<'a> {
    Digest(DigestChallenge<'a>),
    Basic { realm: Cow<'a, str> },
}

/// The policy parts selection needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub(crate) order: SelectionOrder,
    pub(crate) min_algorithm: Option<Algorithm>,
    pub(crate) basic: BasicPolicy,
}

/// Picks the challenge to answer from every field of a 401 or 407.
pub(crate) fn select<'a>(
    fields: &[&'a [u8]],
    policy: Policy,
    secure: bool,
    credentials: &Credentials,
) -> Result<Chosen<'a>, Unanswerable> {
    let mut why = Unanswerable::default();
    let mut best: Option<(DigestChallenge<'a>, Algorithm)> = None;
    let mut basic: Option<Cow<'a, str>> = None;
    for field in fields {
        for challenge in Challenges::new(field) {
            let challenge = match challenge {
                Ok(c) => c,
                Err(e) => {
                    why.malformed.get_or_insert(e);
                    break;
                }
            };
            if challenge.scheme().eq_ignore_ascii_case("Basic") {
                let usable = match policy.basic {
                    BasicPolicy::Never => false,
                    BasicPolicy::HttpsOnly => secure,
                    BasicPolicy::Always => true,
                } && credentials.password().is_some();
                if usable {
                    let realm = challenge
                        .params()
                        .find(|p| p.name.eq_ignore_ascii_case("realm"))
                        .and_then(|p| p.value.to_str().ok())
                        .unwrap_or(Cow::Borrowed(""));
                    basic.get_or_insert(realm);
                } else {
                    why.basic_refused = true;
                }
                continue;
            }
            if !challenge.is_digest() {
                why.other_schemes += 1;
                continue;
            }
            why.digest_offered += 1;
            let digest = match DigestChallenge::from_challenge(&challenge) {
                Ok(d) => d,
                Err(e) => {
                    why.malformed.get_or_insert(e);
                    continue;
                }
            };
            let Some(algorithm) = digest.algorithm() else {
                why.unsupported_algorithm += 1;
                continue;
            };
            if policy
                .min_algorithm
                .is_some_and(|m| algorithm.strength() < m.strength())
            {
                why.below_minimum += 1;
                continue;
            }
            let qop_usable = match digest.qop() {
                None => !algorithm.is_session(),
                Some(q) => q.contains(Qop::Auth) || q.contains(Qop::AuthInt),
            };
            if !qop_usable {
                why.unsupported_qop += 1;
                continue;
            }
            let fits = digest
                .realm()
                .to_str()
                .is_ok_and(|realm| credentials.fits(algorithm, &realm));
            if !fits {
                why.credentials_do_not_fit += 1;
                continue;
            }
            let better = match (&best, policy.order) {
                (None, _) => true,
                (Some(_), SelectionOrder::ServerOrder) => false,
                (Some((_, b)), SelectionOrder::Strongest) => algorithm.strength() > b.strength(),
            };
            if better {
                best = Some((digest, algorithm));
            }
        }
    }
    match (best, basic) {
        (Some((d, _)), _) => Ok(Chosen::Digest(d)),
        (None, Some(realm)) => Ok(Chosen::Basic { realm }),
        (None, None) => Err(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTI: [&[u8]; 3] = [
        br#"Digest realm="r", algorithm=MD5, nonce="n1", qop="auth""#,
        br#"Digest realm="r", algorithm=SHA-512-256, nonce="n2", qop="auth""#,
        br#"Digest realm="r", algorithm=SHA-256, nonce="n3", qop="auth""#,
    ];

    fn policy(order: SelectionOrder, min: Option<Algorithm>, basic: BasicPolicy) -> Policy {
        Policy {
            order,
            min_algorithm: min,
            basic,
        }
    }

    fn chosen_algorithm(fields: &[&[u8]], p: Policy) -> Option<Algorithm> {
        match select(fields, p, false, &Credentials::new("u", "p")) {
            Ok(Chosen::Digest(d)) => d.algorithm(),
            _ => None,
        }
    }

    #[test]
    fn strongest_or_server_order() {
        let strongest = policy(SelectionOrder::Strongest, None, BasicPolicy::Never);
        assert_eq!(
            chosen_algorithm(&MULTI, strongest),
            Some(Algorithm::Sha512_256)
        );
        let first = policy(SelectionOrder::ServerOrder, None, BasicPolicy::Never);
        assert_eq!(chosen_algorithm(&MULTI, first), Some(Algorithm::Md5));
    }

    #[test]
    fn minimum_refuses_md5_only() {
        let p = policy(
            SelectionOrder::Strongest,
            Some(Algorithm::Sha256),
            BasicPolicy::Never,
        );
        let err = select(&MULTI[..1], p, false, &Credentials::new("u", "p")).unwrap_err();
        assert_eq!(err.below_minimum, 1);
        assert_eq!(err.digest_offered, 1);
    }

    #[test]
    fn basic_only_when_enabled_and_digest_preferred() {
        let field: &[&[u8]] = &[br#"Basic realm="b""#];
        let never = policy(SelectionOrder::Strongest, None, BasicPolicy::Never);
        assert!(
            select(field, never, true, &Credentials::new("u", "p"))
                .unwrap_err()
                .basic_refused
        );
        let https = policy(SelectionOrder::Strongest, None, BasicPolicy::HttpsOnly);
        assert!(select(field, https, false, &Credentials::new("u", "p")).is_err());
        assert!(matches!(
            select(field, https, true, &Credentials::new("u", "p")),
            Ok(Chosen::Basic { .. })
        ));
        let both: &[&[u8]] = &[br#"Basic realm="b", Digest realm="d", nonce="n""#];
        let always = policy(SelectionOrder::ServerOrder, None, BasicPolicy::Always);
        assert!(matches!(
            select(both, always, false, &Credentials::new("u", "p")),
            Ok(Chosen::Digest(_))
        ));
    }

    #[test]
    fn unusable_challenges_are_counted() {
        let fields: &[&[u8]] = &[
            br#"Digest realm="r", algorithm=SHA-384, nonce="n""#,
            br#"Digest realm="r", qop="auth-conf", nonce="n""#,
            br#"Digest realm="r", algorithm=MD5-sess, nonce="n""#,
            br#"Bearer realm="x", Digest realm="r""#,
        ];
        let err = select(
            fields,
            policy(SelectionOrder::Strongest, None, BasicPolicy::Never),
            false,
            &Credentials::new("u", "p"),
        )
        .unwrap_err();
        assert_eq!(err.unsupported_algorithm, 1);
        assert_eq!(err.unsupported_qop, 2);
        assert_eq!(err.other_schemes, 1);
        assert_eq!(err.digest_offered, 4);
        assert!(err.malformed.is_some());
    }
}
