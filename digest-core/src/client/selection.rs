//! Choosing one challenge among all those of a 401 or 407 (RFC 9110 §11.6.1 allows several
//! fields, each with several challenges, of several schemes).
//!
//! Every challenge of every field is read. Digest challenges this client cannot answer are
//! dropped (unknown algorithm, below the minimum, `-sess` without a qop to choose, an answer
//! in RFC 2069 form that the policy refuses, a realm that is not UTF-8, credentials that do
//! not fit). A challenge whose `qop` is empty or lists neither `auth` nor `auth-int` is
//! answered as if it had none (RFC 2069 form), as curl and python-requests do. Of the
//! rest the default picks the strongest algorithm (SHA-512-256 > SHA-512 > SHA-256 > SHA-1 >
//! MD5), the first one sent among equals; [`SelectionOrder::ServerOrder`] picks the first.
//! Digest is preferred over Basic; Basic is used only when the policy enables it, and over
//! plain `http` only when it says so.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::credentials::Credentials;
use crate::algorithm::Algorithm;
use crate::error::ParseError;
use crate::header::challenge::DigestChallenge;
use crate::header::grammar::{Challenge, Challenges};
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
    /// Digest challenges that leave no qop to choose (no `qop`, an empty one, or neither
    /// `auth` nor `auth-int`) with a `-sess` algorithm, or while the policy refuses RFC 2069
    /// answers ([`ClientConfig::rfc2069`](super::ClientConfig::rfc2069)).
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

/// What the client makes of one challenge of a 401 or 407 (see [`Client::review`]).
///
/// [`Client::review`]: super::Client::review
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// This challenge is the one answered.
    Chosen,
    /// Usable, but another one was preferred (stronger, or sent earlier).
    NotChosen,
    /// A Digest algorithm this crate does not implement.
    UnsupportedAlgorithm,
    /// An algorithm below the configured minimum.
    BelowMinimum,
    /// No qop to choose (no `qop`, an empty one, or neither `auth` nor `auth-int`) with a
    /// `-sess` algorithm, or while the policy refuses RFC 2069 answers.
    UnsupportedQop,
    /// The credentials do not fit (a precomputed H(A1) for another realm or hash), or the
    /// realm is not UTF-8.
    CredentialsDoNotFit,
    /// Basic, refused by the policy (or, for lack of a password, impossible).
    BasicRefused,
    /// Another scheme (Bearer, Negotiate, ...).
    OtherScheme,
    /// Unreadable; the rest of its header field was not read.
    Malformed(ParseError),
}

/// One challenge of a 401 or 407 and the client's [`Verdict`] on it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reviewed<'a> {
    /// The auth-scheme as sent (empty when malformed).
    pub scheme: Cow<'a, str>,
    /// The `algorithm` parameter as sent, if any (Digest only).
    pub algorithm: Option<Cow<'a, str>>,
    /// The `realm` parameter, if any and readable.
    pub realm: Option<Cow<'a, str>>,
    /// The verdict.
    pub verdict: Verdict,
}

impl Reviewed<'_> {
    /// The same, owning its strings (to keep it past the response).
    pub fn into_owned(self) -> Reviewed<'static> {
        Reviewed {
            scheme: Cow::Owned(self.scheme.into_owned()),
            algorithm: self.algorithm.map(|a| Cow::Owned(a.into_owned())),
            realm: self.realm.map(|r| Cow::Owned(r.into_owned())),
            verdict: self.verdict,
        }
    }
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
    pub(crate) rfc2069: bool,
}

/// One challenge, assessed on its own.
#[allow(
    clippy::large_enum_variant,
    reason = "a short-lived value on the 401 path"
)]
enum Assessed<'a> {
    Digest(DigestChallenge<'a>, Algorithm),
    Basic(Cow<'a, str>),
    Refused(Verdict),
}

/// The one rule that picks the challenge to answer, for [`select`] and [`review`] alike: the
/// best usable Digest challenge by the order, else the first usable Basic one. `D` and `B`
/// are what the caller keeps of each.
struct Pick<D, B> {
    order: SelectionOrder,
    digest: Option<(D, Algorithm)>,
    basic: Option<B>,
}

/// What [`Pick`] settled on.
enum Picked<D, B> {
    Digest(D),
    Basic(B),
}

impl<D, B> Pick<D, B> {
    const fn new(order: SelectionOrder) -> Self {
        Self {
            order,
            digest: None,
            basic: None,
        }
    }

    fn offer_digest(&mut self, candidate: D, algorithm: Algorithm) {
        let better = match (&self.digest, self.order) {
            (None, _) => true,
            (Some(_), SelectionOrder::ServerOrder) => false,
            (Some((_, best)), SelectionOrder::Strongest) => algorithm.strength() > best.strength(),
        };
        if better {
            self.digest = Some((candidate, algorithm));
        }
    }

    fn offer_basic(&mut self, candidate: B) {
        self.basic.get_or_insert(candidate);
    }

    fn picked(self) -> Option<Picked<D, B>> {
        match (self.digest, self.basic) {
            (Some((d, _)), _) => Some(Picked::Digest(d)),
            (None, Some(b)) => Some(Picked::Basic(b)),
            (None, None) => None,
        }
    }
}

fn assess<'a>(
    challenge: &Challenge<'a>,
    policy: Policy,
    secure: bool,
    credentials: &Credentials,
) -> Assessed<'a> {
    if challenge.scheme().eq_ignore_ascii_case("Basic") {
        let usable = match policy.basic {
            BasicPolicy::Never => false,
            BasicPolicy::HttpsOnly => secure,
            BasicPolicy::Always => true,
        } && credentials.password().is_some();
        if !usable {
            return Assessed::Refused(Verdict::BasicRefused);
        }
        return Assessed::Basic(param_of(challenge, "realm").unwrap_or(Cow::Borrowed("")));
    }
    if !challenge.is_digest() {
        return Assessed::Refused(Verdict::OtherScheme);
    }
    let digest = match DigestChallenge::from_challenge(challenge) {
        Ok(d) => d,
        Err(e) => return Assessed::Refused(Verdict::Malformed(e)),
    };
    let Some(algorithm) = digest.algorithm() else {
        return Assessed::Refused(Verdict::UnsupportedAlgorithm);
    };
    if policy
        .min_algorithm
        .is_some_and(|m| algorithm.strength() < m.strength())
    {
        return Assessed::Refused(Verdict::BelowMinimum);
    }
    // Without a qop to choose the answer takes RFC 2069 form, which has no cnonce for a
    // `-sess` H(A1).
    let qop_usable = match digest.qop().filter(|q| !q.is_empty()) {
        None => policy.rfc2069 && !algorithm.is_session(),
        Some(q) => q.contains(Qop::Auth) || q.contains(Qop::AuthInt),
    };
    if !qop_usable {
        return Assessed::Refused(Verdict::UnsupportedQop);
    }
    let fits = digest
        .realm()
        .to_str()
        .is_ok_and(|realm| credentials.fits(algorithm, &realm));
    if !fits {
        return Assessed::Refused(Verdict::CredentialsDoNotFit);
    }
    Assessed::Digest(digest, algorithm)
}

/// A parameter of a challenge, by name, if present and readable as text.
fn param_of<'a>(challenge: &Challenge<'a>, name: &str) -> Option<Cow<'a, str>> {
    challenge
        .params()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .and_then(|p| p.value.to_str().ok())
}

/// Picks the challenge to answer from every field of a 401 or 407.
pub(crate) fn select<'a>(
    fields: &[&'a [u8]],
    policy: Policy,
    secure: bool,
    credentials: &Credentials,
) -> Result<Chosen<'a>, Unanswerable> {
    let mut why = Unanswerable::default();
    let mut pick = Pick::new(policy.order);
    for field in fields {
        for challenge in Challenges::new(field) {
            let challenge = match challenge {
                Ok(c) => c,
                Err(e) => {
                    why.malformed.get_or_insert(e);
                    break;
                }
            };
            if challenge.is_digest() {
                why.digest_offered += 1;
            }
            match assess(&challenge, policy, secure, credentials) {
                Assessed::Digest(digest, algorithm) => pick.offer_digest(digest, algorithm),
                Assessed::Basic(realm) => pick.offer_basic(realm),
                Assessed::Refused(verdict) => match verdict {
                    Verdict::UnsupportedAlgorithm => why.unsupported_algorithm += 1,
                    Verdict::BelowMinimum => why.below_minimum += 1,
                    Verdict::UnsupportedQop => why.unsupported_qop += 1,
                    Verdict::CredentialsDoNotFit => why.credentials_do_not_fit += 1,
                    Verdict::BasicRefused => why.basic_refused = true,
                    Verdict::OtherScheme => why.other_schemes += 1,
                    Verdict::Malformed(e) => {
                        why.malformed.get_or_insert(e);
                    }
                    Verdict::Chosen | Verdict::NotChosen => {}
                },
            }
        }
    }
    match pick.picked() {
        Some(Picked::Digest(d)) => Ok(Chosen::Digest(d)),
        Some(Picked::Basic(realm)) => Ok(Chosen::Basic { realm }),
        None => Err(why),
    }
}

/// Every challenge of every field with the verdict [`select`] reaches on it.
pub(crate) fn review<'a>(
    fields: &[&'a [u8]],
    policy: Policy,
    secure: bool,
    credentials: Option<&Credentials>,
) -> Vec<Reviewed<'a>> {
    let mut out = Vec::new();
    // Indexes into `out`.
    let mut pick = Pick::new(policy.order);
    for field in fields {
        for challenge in Challenges::new(field) {
            let challenge = match challenge {
                Ok(c) => c,
                Err(e) => {
                    out.push(Reviewed {
                        scheme: Cow::Borrowed(""),
                        algorithm: None,
                        realm: None,
                        verdict: Verdict::Malformed(e),
                    });
                    break;
                }
            };
            let algorithm = challenge
                .is_digest()
                .then(|| param_of(&challenge, "algorithm"))
                .flatten();
            let verdict = match credentials.map(|c| assess(&challenge, policy, secure, c)) {
                None => Verdict::NotChosen,
                Some(Assessed::Digest(_, algorithm)) => {
                    pick.offer_digest(out.len(), algorithm);
                    Verdict::NotChosen
                }
                Some(Assessed::Basic(_)) => {
                    pick.offer_basic(out.len());
                    Verdict::NotChosen
                }
                Some(Assessed::Refused(v)) => v,
            };
            out.push(Reviewed {
                scheme: Cow::Borrowed(challenge.scheme()),
                algorithm,
                realm: param_of(&challenge, "realm"),
                verdict,
            });
        }
    }
    let chosen = match pick.picked() {
        Some(Picked::Digest(i) | Picked::Basic(i)) => out.get_mut(i),
        None => None,
    };
    if let Some(chosen) = chosen {
        chosen.verdict = Verdict::Chosen;
    }
    out
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
            rfc2069: true,
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
            br#"Digest realm="r", algorithm=SHA-256-sess, qop="auth-conf", nonce="n""#,
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

    #[test]
    fn no_qop_to_choose_is_answered_in_rfc2069_form_unless_refused() {
        let fields: &[&[u8]] = &[
            br#"Digest realm="r", nonce="a", qop="""#,
            br#"Digest realm="r", nonce="b", qop="auth-conf""#,
            br#"Digest realm="r", nonce="c""#,
        ];
        let mut p = policy(SelectionOrder::ServerOrder, None, BasicPolicy::Never);
        let creds = Credentials::new("u", "p");
        for field in fields {
            assert!(matches!(
                select(&[field], p, false, &creds),
                Ok(Chosen::Digest(_))
            ));
        }
        p.rfc2069 = false;
        let err = select(fields, p, false, &creds).unwrap_err();
        assert_eq!(err.unsupported_qop, 3);
        let offered: &[&[u8]] = &[br#"Digest realm="r", nonce="d", qop="auth""#];
        assert!(select(offered, p, false, &creds).is_ok());
    }

    #[test]
    fn review_gives_each_challenge_the_verdict_select_reaches() {
        let fields: &[&[u8]] = &[
            br#"Digest realm="r", algorithm=SHA-384, nonce="n""#,
            br#"Basic realm="b", Digest realm="r", algorithm=MD5, nonce="m", qop="auth""#,
            br#"Digest realm="r", algorithm=SHA-256-sess, nonce="s", qop="auth-conf""#,
            br#"Digest realm="r", algorithm=SHA-256, nonce="t", qop="auth""#,
            br#"Bearer x=, Digest realm="unterminated"#,
        ];
        let p = policy(SelectionOrder::Strongest, None, BasicPolicy::Never);
        let creds = Credentials::new("u", "p");
        let verdicts: Vec<Verdict> = review(fields, p, false, Some(&creds))
            .into_iter()
            .map(|r| r.verdict)
            .collect();
        assert!(matches!(
            verdicts.as_slice(),
            [
                Verdict::UnsupportedAlgorithm,
                Verdict::BasicRefused,
                Verdict::NotChosen,
                Verdict::UnsupportedQop,
                Verdict::Chosen,
                Verdict::OtherScheme,
                Verdict::Malformed(_),
            ]
        ));
        let Ok(Chosen::Digest(d)) = select(fields, p, false, &creds) else {
            panic!("select chose nothing");
        };
        assert_eq!(d.nonce().unescaped().as_ref(), b"t");
        let first = policy(SelectionOrder::ServerOrder, None, BasicPolicy::Always);
        let reviewed = review(fields, first, false, Some(&creds));
        assert_eq!(reviewed[2].verdict, Verdict::Chosen);
        assert_eq!(reviewed[1].verdict, Verdict::NotChosen);
        // Without credentials nothing is chosen.
        assert!(
            review(fields, p, false, None)
                .iter()
                .all(|r| r.verdict != Verdict::Chosen)
        );
    }
}
