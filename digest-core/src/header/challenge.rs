//! Digest challenges (`WWW-Authenticate`, `Proxy-Authenticate`; RFC 7616 §3.3): parsing what
//! a server sent, and writing what our server sends.

use alloc::borrow::Cow;
use alloc::string::String;

use super::grammar::{Challenge, Challenges, Limits, Param, ParamValue, Params};
use super::known::{self, KnownParams};
use super::quoted;
use crate::algorithm::Algorithm;
use crate::error::{FormatError, ParseError, ParseErrorKind};
use crate::qop::QopOptions;

const KNOWN: [&str; 9] = [
    "realm",
    "domain",
    "nonce",
    "opaque",
    "stale",
    "algorithm",
    "qop",
    "charset",
    "userhash",
];

/// The parameters of one Digest challenge, borrowed from the header.
///
/// Accepts what servers send in the field: any case of `Digest`, quoted or bare values
/// (`algorithm="md5"`), `stale=False`, unknown parameters (kept, see
/// [`unknown_params`](Self::unknown_params)). Refuses what is ambiguous or unusable:
/// duplicate parameters, a missing `realm` or `nonce`, a malformed `qop` list.
///
/// ```
/// use httpdigest::{Algorithm, DigestChallenge, Qop};
///
/// let field = br#"Digest realm="http-auth@example.org", qop="auth, auth-int",
///     algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
///     opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
/// let challenge = DigestChallenge::parse(field)?;
/// assert_eq!(challenge.realm().to_str()?, "http-auth@example.org");
/// assert_eq!(challenge.algorithm(), Some(Algorithm::Sha256));
/// assert!(challenge.qop().unwrap().contains(Qop::AuthInt));
/// assert!(!challenge.stale());
/// # Ok::<(), httpdigest::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DigestChallenge<'a> {
    challenge: Challenge<'a>,
    realm: ParamValue<'a>,
    domain: Option<ParamValue<'a>>,
    nonce: ParamValue<'a>,
    opaque: Option<ParamValue<'a>>,
    stale: bool,
    algorithm: Option<ParamValue<'a>>,
    qop: Option<QopOptions>,
    charset: Option<ParamValue<'a>>,
    userhash: bool,
}

impl<'a> DigestChallenge<'a> {
    /// Reads the Digest parameters of a challenge found by [`Challenges`].
    ///
    /// # Errors
    ///
    /// [`ParseErrorKind::NotDigest`] for another scheme, [`ParseErrorKind::Token68`],
    /// [`ParseErrorKind::DuplicateParameter`], [`ParseErrorKind::MissingParameter`] for
    /// `realm` or `nonce`, [`ParseErrorKind::InvalidValue`] for a malformed `qop` list.
    pub fn from_challenge(challenge: &Challenge<'a>) -> Result<Self, ParseError> {
        let mut known = KnownParams::new(&KNOWN);
        for p in challenge.params() {
            known.add(&p);
        }
        Self::from_known(challenge, &known)
    }

    /// The challenge from its parameters, gathered by `known`.
    fn from_known(
        challenge: &Challenge<'a>,
        known: &KnownParams<'a, { KNOWN.len() }>,
    ) -> Result<Self, ParseError> {
        if !challenge.is_digest() {
            return Err(ParseError::new(
                ParseErrorKind::NotDigest,
                challenge.offset(),
            ));
        }
        if challenge.token68().is_some() {
            return Err(ParseError::new(ParseErrorKind::Token68, challenge.offset()));
        }
        let [
            realm,
            domain,
            nonce,
            opaque,
            stale,
            algorithm,
            qop,
            charset,
            userhash,
        ] = known.finish()?;
        let missing =
            |name| ParseError::new(ParseErrorKind::MissingParameter(name), challenge.offset());
        let qop = known::read_param(qop, "qop", QopOptions::parse)?;
        Ok(DigestChallenge {
            challenge: *challenge,
            realm: realm.ok_or_else(|| missing("realm"))?,
            domain,
            nonce: nonce.ok_or_else(|| missing("nonce"))?,
            opaque,
            stale: stale.is_some_and(|v| v.eq_ignore_ascii_case("true")),
            algorithm,
            qop,
            charset,
            userhash: userhash.is_some_and(|v| v.eq_ignore_ascii_case("true")),
        })
    }

    /// Parses the first Digest challenge of a field value, skipping challenges of other
    /// schemes.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] from the field's grammar or from the Digest challenge;
    /// [`ParseErrorKind::NotDigest`] when the field holds no Digest challenge.
    pub fn parse(field: &'a [u8]) -> Result<Self, ParseError> {
        match DigestChallenges::new(field).next() {
            Some(result) => result,
            None => Err(ParseError::new(ParseErrorKind::NotDigest, 0)),
        }
    }

    /// `realm` (required).
    pub const fn realm(&self) -> ParamValue<'a> {
        self.realm
    }

    /// `nonce` (required).
    pub const fn nonce(&self) -> ParamValue<'a> {
        self.nonce
    }

    /// `opaque`, to be echoed unchanged (even when empty).
    pub const fn opaque(&self) -> Option<ParamValue<'a>> {
        self.opaque
    }

    /// `domain`: the URIs of the protection space (RFC 7616 §3.3).
    pub fn domain(&self) -> Option<Domain<'a>> {
        self.domain.map(|v| Domain(v.unescaped()))
    }

    /// `stale=true` (in any case, quoted or not); anything else is `false` (RFC 7616 §3.3).
    pub const fn stale(&self) -> bool {
        self.stale
    }

    /// The algorithm: `MD5` when the challenge names none, `None` when it names one this
    /// crate does not implement.
    pub fn algorithm(&self) -> Option<Algorithm> {
        match &self.algorithm {
            None => Some(Algorithm::Md5),
            Some(v) => Algorithm::from_token(&v.unescaped()),
        }
    }

    /// The `algorithm` parameter as sent, for echoing it in the server's spelling; `None`
    /// when absent (then no `algorithm` must be sent back).
    pub const fn algorithm_param(&self) -> Option<ParamValue<'a>> {
        self.algorithm
    }

    /// The qop values offered; `None` when the challenge has no `qop` (RFC 2069 mode).
    pub const fn qop(&self) -> Option<QopOptions> {
        self.qop
    }

    /// `charset` as sent.
    pub const fn charset(&self) -> Option<ParamValue<'a>> {
        self.charset
    }

    /// Whether `charset=UTF-8` (the only value RFC 7616 allows) was sent.
    pub fn charset_is_utf8(&self) -> bool {
        self.charset
            .is_some_and(|v| v.eq_ignore_ascii_case("UTF-8"))
    }

    /// Whether the server supports `userhash` (RFC 7616 §3.4.4).
    pub const fn userhash(&self) -> bool {
        self.userhash
    }

    /// Every parameter, in order, known or not.
    pub fn params(&self) -> Params<'a> {
        self.challenge.params()
    }

    /// The parameters RFC 7616 does not define, in order.
    pub fn unknown_params(&self) -> impl Iterator<Item = Param<'a>> + use<'a> {
        known::unknown_params(self.challenge.params(), &KNOWN)
    }

    /// The challenge this was read from (scheme, offset).
    pub const fn challenge(&self) -> &Challenge<'a> {
        &self.challenge
    }
}

/// The unescaped `domain` list: URIs separated by spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain<'a>(Cow<'a, [u8]>);

impl Domain<'_> {
    /// The URIs (absolute, or absolute paths), in order; empty entries are skipped.
    pub fn uris(&self) -> impl Iterator<Item = &[u8]> {
        self.0
            .split(|b| b.is_ascii_whitespace())
            .filter(|u| !u.is_empty())
    }
}

/// Iterator over the Digest challenges of a field value, skipping other schemes.
///
/// A Digest challenge with a missing, duplicate or invalid parameter yields its error and the
/// iteration goes on with the next challenge (a client may still answer another one). A
/// grammar error ends the iteration: the rest of the field cannot be delimited (see
/// [`Challenges`]).
///
/// ```
/// use httpdigest::{DigestChallenges, ParseErrorKind};
///
/// let mut it = DigestChallenges::new(br#"Digest realm="a", Digest realm="b", nonce="n""#);
/// assert_eq!(it.next().unwrap().unwrap_err().kind(), &ParseErrorKind::MissingParameter("nonce"));
/// assert_eq!(it.next().unwrap()?.realm().raw(), b"b");
/// assert!(it.next().is_none());
/// # Ok::<(), httpdigest::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DigestChallenges<'a>(Challenges<'a>);

impl<'a> DigestChallenges<'a> {
    /// Parses `field` with the default limits.
    pub fn new(field: &'a [u8]) -> Self {
        Self(Challenges::new(field))
    }

    /// Parses `field` with the given limits.
    pub fn with_limits(field: &'a [u8], limits: Limits) -> Self {
        Self(Challenges::with_limits(field, limits))
    }
}

impl<'a> Iterator for DigestChallenges<'a> {
    type Item = Result<DigestChallenge<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // The parameters are gathered as the grammar reads them: one pass over the field.
            let mut known = KnownParams::new(&KNOWN);
            match self.0.next_visiting(&mut |p| known.add(p))? {
                Err(e) => return Some(Err(e)),
                Ok(c) if c.is_digest() => return Some(DigestChallenge::from_known(&c, &known)),
                Ok(_) => {}
            }
        }
    }
}

/// A Digest challenge to send, in the parameter order of RFC 7616 §3.9.
///
/// ```
/// use httpdigest::{Algorithm, ChallengeParams, QopOptions};
///
/// let value = ChallengeParams {
///     algorithm: Some(Algorithm::Sha256),
///     qop: QopOptions::AUTH,
///     opaque: Some("FQhe"),
///     ..ChallengeParams::new("api@example.org", "7ypf/xlj9XXw")
/// }
/// .to_header_value()?;
/// assert_eq!(
///     value,
///     r#"Digest realm="api@example.org", qop="auth", algorithm=SHA-256, nonce="7ypf/xlj9XXw", opaque="FQhe""#
/// );
/// # Ok::<(), httpdigest::FormatError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeParams<'a> {
    /// `realm`.
    pub realm: &'a str,
    /// `domain`: URIs of the protection space; empty sends no `domain`.
    pub domain: &'a [&'a str],
    /// `nonce`.
    pub nonce: &'a str,
    /// `opaque`.
    pub opaque: Option<&'a str>,
    /// `stale=true` when set; nothing otherwise.
    pub stale: bool,
    /// `algorithm`; `None` sends none (MD5 implied).
    pub algorithm: Option<Algorithm>,
    /// `qop` values offered; empty sends no `qop` (RFC 2069 mode).
    pub qop: QopOptions,
    /// `charset=UTF-8` when set.
    pub charset_utf8: bool,
    /// `userhash=true` when set.
    pub userhash: bool,
}

impl<'a> ChallengeParams<'a> {
    /// A challenge with `realm` and `nonce` and nothing else.
    pub const fn new(realm: &'a str, nonce: &'a str) -> Self {
        Self {
            realm,
            domain: &[],
            nonce,
            opaque: None,
            stale: false,
            algorithm: None,
            qop: QopOptions::NONE,
            charset_utf8: false,
            userhash: false,
        }
    }

    /// Appends the header value to `out`. On error nothing is appended.
    ///
    /// # Errors
    ///
    /// [`FormatError::ControlCharacter`] for a control character in any value,
    /// [`FormatError::InvalidDomain`] for an empty or space-containing `domain` URI.
    pub fn write(&self, out: &mut String) -> Result<(), FormatError> {
        quoted::all_or_nothing(out, |out| self.write_inner(out))
    }

    fn write_inner(&self, out: &mut String) -> Result<(), FormatError> {
        out.push_str("Digest realm=");
        quoted::write(out, "realm", self.realm)?;
        if !self.domain.is_empty() {
            out.push_str(", domain=\"");
            for (i, uri) in self.domain.iter().enumerate() {
                if uri.is_empty() || uri.bytes().any(|b| b.is_ascii_whitespace()) {
                    return Err(FormatError::InvalidDomain);
                }
                quoted::check_no_ctl("domain", uri)?;
                if i > 0 {
                    out.push(' ');
                }
                quoted::push_escaped(out, uri);
            }
            out.push('"');
        }
        if !self.qop.is_empty() {
            out.push_str(", qop=\"");
            for (i, q) in self.qop.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(q.as_str());
            }
            out.push('"');
        }
        if let Some(a) = self.algorithm {
            out.push_str(", algorithm=");
            out.push_str(a.name());
        }
        out.push_str(", nonce=");
        quoted::write(out, "nonce", self.nonce)?;
        if let Some(o) = self.opaque {
            out.push_str(", opaque=");
            quoted::write(out, "opaque", o)?;
        }
        if self.stale {
            out.push_str(", stale=true");
        }
        if self.charset_utf8 {
            out.push_str(", charset=UTF-8");
        }
        if self.userhash {
            out.push_str(", userhash=true");
        }
        Ok(())
    }

    /// The header value as a new string.
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    pub fn to_header_value(&self) -> Result<String, FormatError> {
        let mut out = String::with_capacity(128 + self.realm.len() + self.nonce.len());
        self.write(&mut out)?;
        Ok(out)
    }
}
