//! The parser oracle: runs a parser over any bytes and every accessor over what it returns,
//! and checks what must hold whatever the bytes. One oracle, two drivers: the property tests
//! (`tests/properties.rs`) and the fuzz targets (`fuzz/`, which include this file by path).
//!
//! What it checks:
//!
//! - errors point inside the input (or at the limit, for an oversize field) and display;
//! - every value lies in the input where its offset says, quoted or not, within the limits;
//!   a quoted value has every `"` escaped, unescaping never lengthens it;
//! - parameter names are tokens found at their offsets, never more than the limits allow;
//! - no challenge follows an error; `DigestChallenges` yields exactly the Digest challenges;
//! - the typed accessors agree with the raw parameters (algorithm, known names);
//! - [`round_trip`]: what parses and can be written again parses back to the same values,
//!   and writing it again gives the same text.
//!
//! Each check returns `Err` with a description instead of panicking, so that each driver
//! reports it its own way.

#![allow(dead_code, unreachable_pub)]

use std::borrow::Cow;

use httpdigest::{
    Algorithm, AuthenticationInfo, AuthenticationInfoParams, Challenge, ChallengeParams,
    Challenges, CredentialsParams, DigestChallenge, DigestChallenges, DigestCredentials, Limits,
    Param, ParamValue, ParseError, ParseErrorKind, QopOptions, Username, UsernameParam,
};

/// The result of a check: `Err` says what failed.
pub type Checked = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

macro_rules! ensure_eq {
    ($left:expr, $right:expr $(,)?) => {{
        match (&$left, &$right) {
            (left, right) if left != right => {
                return Err(format!(
                    "{} != {}: {:?} != {:?}",
                    stringify!($left),
                    stringify!($right),
                    left,
                    right
                ));
            }
            _ => {}
        }
    }};
}

/// Small limits that short inputs hit, for a second pass over the same bytes.
pub const SMALL_LIMITS: Limits = Limits {
    max_field_len: 256,
    max_params: 4,
    max_value_len: 32,
};

/// The challenge parameters RFC 7616 §3.3 defines (the rest are "unknown").
const CHALLENGE_KNOWN: [&str; 9] = [
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

/// RFC 9110 §5.6.2 `tchar`.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `e` points inside an input of `len` bytes (or at the limit it exceeded) and displays.
pub fn check_error(e: &ParseError, len: usize) -> Checked {
    match e.kind() {
        ParseErrorKind::FieldTooLong { limit } => {
            ensure_eq!(e.offset(), *limit);
            ensure!(len > *limit, "{e:?} for an input of {len} bytes");
        }
        _ => ensure!(e.offset() <= len, "{e:?} beyond an input of {len} bytes"),
    }
    ensure!(!e.to_string().is_empty(), "{e:?} displays as nothing");
    Ok(())
}

/// `raw` (the inside of a quoted-string) has every `"` escaped by a `\`.
pub fn check_no_unescaped_quote(raw: &[u8]) -> Checked {
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => ensure!(
                bytes.next().is_some(),
                "lone backslash at the end of {raw:?}"
            ),
            b'"' => {
                return Err(format!(
                    "unescaped quote in {:?}",
                    String::from_utf8_lossy(raw)
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_value(v: ParamValue<'_>, input: &[u8], limits: &Limits) -> Checked {
    let raw = v.raw();
    let at = v.offset();
    ensure!(
        raw.len() <= limits.max_value_len,
        "{v:?} longer than {limits:?}"
    );
    if v.is_quoted() {
        ensure_eq!(input.get(at), Some(&b'"'));
        ensure_eq!(input.get(at + 1..at + 1 + raw.len()), Some(raw));
        ensure_eq!(input.get(at + 1 + raw.len()), Some(&b'"'));
        check_no_unescaped_quote(raw)?;
    } else {
        ensure!(!raw.is_empty(), "an empty token at {at}");
        ensure_eq!(input.get(at..at + raw.len()), Some(raw));
        ensure!(
            !raw.contains(&b'"') && !raw.contains(&b','),
            "a token with a quote or comma: {raw:?}"
        );
    }
    let unescaped = v.unescaped();
    ensure!(unescaped.len() <= raw.len(), "unescaping lengthened {v:?}");
    match v.to_str() {
        Ok(s) => ensure_eq!(s.as_bytes(), &*unescaped),
        Err(e) => {
            ensure_eq!(e.kind(), &ParseErrorKind::NotUtf8);
            ensure!(
                std::str::from_utf8(&unescaped).is_err(),
                "NotUtf8 for UTF-8 {unescaped:?}"
            );
            check_error(&e, input.len())?;
        }
    }
    let _ = v.eq_ignore_ascii_case("true");
    Ok(())
}

fn check_param(p: Param<'_>, input: &[u8], limits: &Limits) -> Checked {
    ensure!(!p.name.is_empty(), "an empty parameter name");
    ensure!(p.name.bytes().all(is_tchar), "name {:?}", p.name);
    ensure_eq!(
        input.get(p.name_offset..p.name_offset + p.name.len()),
        Some(p.name.as_bytes())
    );
    check_value(p.value, input, limits)
}

/// Checks every parameter; returns how many there were.
fn check_params<'a>(
    params: impl Iterator<Item = Param<'a>>,
    input: &[u8],
    limits: &Limits,
) -> Result<usize, String> {
    let mut n = 0;
    for p in params {
        check_param(p, input, limits)?;
        n += 1;
    }
    ensure!(n <= limits.max_params, "{n} parameters, {limits:?}");
    Ok(n)
}

fn check_algorithm(param: Option<ParamValue<'_>>, typed: Option<Algorithm>) -> Checked {
    let expected = match param {
        None => Some(Algorithm::Md5),
        Some(v) => Algorithm::from_token(&v.unescaped()),
    };
    ensure_eq!(typed, expected);
    Ok(())
}

fn check_digest_challenge(d: &DigestChallenge<'_>, input: &[u8], limits: &Limits) -> Checked {
    ensure!(
        d.challenge().is_digest(),
        "a Digest challenge of scheme {}",
        d.challenge().scheme()
    );
    check_value(d.realm(), input, limits)?;
    check_value(d.nonce(), input, limits)?;
    for v in [d.opaque(), d.algorithm_param(), d.charset()]
        .into_iter()
        .flatten()
    {
        check_value(v, input, limits)?;
    }
    if let Some(domain) = d.domain() {
        for u in domain.uris() {
            ensure!(
                !u.is_empty() && !u.iter().any(u8::is_ascii_whitespace),
                "domain URI {u:?}"
            );
        }
    }
    check_algorithm(d.algorithm_param(), d.algorithm())?;
    if let Some(q) = d.qop() {
        ensure!(q.iter().count() <= 2, "{q:?}");
    }
    let _ = (d.stale(), d.userhash(), d.charset_is_utf8());
    let all = check_params(d.params(), input, limits)?;
    let unknown = check_params(d.unknown_params(), input, limits)?;
    ensure!(unknown <= all, "{unknown} unknown of {all}");
    for p in d.unknown_params() {
        ensure!(
            !CHALLENGE_KNOWN
                .iter()
                .any(|k| k.eq_ignore_ascii_case(p.name)),
            "known parameter {} among the unknown",
            p.name
        );
    }
    Ok(())
}

fn check_challenge(c: &Challenge<'_>, input: &[u8], limits: &Limits) -> Checked {
    ensure!(!c.scheme().is_empty(), "an empty scheme");
    ensure!(c.scheme().bytes().all(is_tchar), "scheme {:?}", c.scheme());
    ensure_eq!(
        input.get(c.offset()..c.offset() + c.scheme().len()),
        Some(c.scheme().as_bytes())
    );
    let n = check_params(c.params(), input, limits)?;
    if let Some(t) = c.token68() {
        ensure!(!t.is_empty(), "an empty token68");
        ensure_eq!(n, 0);
    }
    if c.is_digest() {
        match DigestChallenge::from_challenge(c) {
            Ok(d) => check_digest_challenge(&d, input, limits)?,
            Err(e) => check_error(&e, input.len())?,
        }
    } else {
        let err = DigestChallenge::from_challenge(c).err();
        ensure_eq!(
            err.as_ref().map(ParseError::kind),
            Some(&ParseErrorKind::NotDigest)
        );
    }
    Ok(())
}

/// The challenge parsers (`Challenges`, `DigestChallenges`, `DigestChallenge::parse`) over
/// `input`.
pub fn check_challenges(input: &[u8], limits: Limits) -> Checked {
    let len = input.len();
    let mut digest_count = 0usize;
    let mut errors = 0usize;
    for result in Challenges::with_limits(input, limits) {
        match result {
            Ok(c) => {
                ensure_eq!(errors, 0);
                digest_count += usize::from(c.is_digest());
                check_challenge(&c, input, &limits)?;
            }
            Err(e) => {
                errors += 1;
                check_error(&e, len)?;
            }
        }
    }
    ensure!(errors <= 1, "{errors} errors");
    if len > limits.max_field_len {
        ensure!(
            errors == 1 && digest_count == 0,
            "{len} bytes accepted under {limits:?}"
        );
    }

    // Digest challenges only: one item per Digest challenge, plus the error if any.
    let mut digest_items = 0usize;
    for result in DigestChallenges::with_limits(input, limits) {
        digest_items += 1;
        match result {
            Ok(d) => check_digest_challenge(&d, input, &limits)?,
            Err(e) => check_error(&e, len)?,
        }
    }
    ensure_eq!(digest_items, digest_count + errors);
    match DigestChallenge::parse(input) {
        Ok(d) => check_digest_challenge(&d, input, &Limits::DEFAULT),
        Err(e) => check_error(&e, len),
    }
}

/// The credentials parser (`DigestCredentials`) over `input`.
pub fn check_credentials(input: &[u8], limits: Limits) -> Checked {
    let len = input.len();
    match DigestCredentials::parse_with_limits(input, limits) {
        Ok(c) => {
            ensure!(
                len <= limits.max_field_len,
                "{len} bytes accepted under {limits:?}"
            );
            ensure_eq!(Challenges::with_limits(input, limits).count(), 1);
            let bytes = c.username_bytes();
            match c.username() {
                Username::Quoted(v) => {
                    check_value(*v, input, &limits)?;
                    ensure_eq!(&*v.unescaped(), &*bytes);
                }
                Username::Extended(s) => ensure_eq!(s.as_bytes(), &*bytes),
            }
            for v in [c.realm(), c.uri(), c.nonce(), c.response()] {
                check_value(v, input, &limits)?;
            }
            for v in [c.algorithm_param(), c.cnonce(), c.opaque()]
                .into_iter()
                .flatten()
            {
                check_value(v, input, &limits)?;
            }
            check_algorithm(c.algorithm_param(), c.algorithm())?;
            let _ = (c.nc(), c.qop(), c.userhash());
            let all = check_params(c.params(), input, &limits)?;
            let unknown = check_params(c.unknown_params(), input, &limits)?;
            ensure!(unknown <= all, "{unknown} unknown of {all}");
        }
        Err(e) => check_error(&e, len)?,
    }
    if let Err(e) = DigestCredentials::parse(input) {
        check_error(&e, len)?;
    }
    Ok(())
}

/// The `Authentication-Info` parser over `input`.
pub fn check_authentication_info(input: &[u8], limits: Limits) -> Checked {
    let len = input.len();
    match AuthenticationInfo::parse_with_limits(input, limits) {
        Ok(info) => {
            ensure!(
                len <= limits.max_field_len,
                "{len} bytes accepted under {limits:?}"
            );
            for v in [info.nextnonce(), info.rspauth(), info.cnonce()]
                .into_iter()
                .flatten()
            {
                check_value(v, input, &limits)?;
            }
            let _ = (info.qop(), info.nc());
            let all = check_params(info.params(), input, &limits)?;
            let unknown = check_params(info.unknown_params(), input, &limits)?;
            ensure!(unknown <= all, "{unknown} unknown of {all}");
        }
        Err(e) => check_error(&e, len)?,
    }
    if let Err(e) = AuthenticationInfo::parse(input) {
        check_error(&e, len)?;
    }
    Ok(())
}

/// Every parser over `input`.
pub fn check_parsers(input: &[u8], limits: Limits) -> Checked {
    check_challenges(input, limits)?;
    check_credentials(input, limits)?;
    check_authentication_info(input, limits)
}

// ---------------------------------------------------------------------------------------------
// Round trips: parse, write, parse again
// ---------------------------------------------------------------------------------------------

/// A value as text, when it can be written again (UTF-8).
fn text<'a>(v: ParamValue<'a>) -> Option<Cow<'a, str>> {
    v.to_str().ok()
}

fn opt_text<'a>(v: Option<ParamValue<'a>>) -> Option<Option<Cow<'a, str>>> {
    match v {
        None => Some(None),
        Some(v) => text(v).map(Some),
    }
}

/// Parses `input` as each kind of header; whatever parses and can be written again (text
/// values, known algorithm) is written, parsed again, and must carry the same values; writing
/// the second parse gives the same text as the first write.
pub fn round_trip(input: &[u8]) -> Checked {
    round_trip_as::<ChallengeValues>(input)?;
    round_trip_as::<CredentialsValues>(input)?;
    round_trip_as::<InfoValues>(input)
}

/// The values of one kind of header that its `*Params` can write.
trait Values: Sized + PartialEq + core::fmt::Debug {
    /// Parses `field`; `Ok(None)` when it parses but holds values that cannot be written
    /// (not text, an unknown algorithm).
    fn read(field: &[u8]) -> Result<Option<Self>, ParseError>;

    /// The header value; `None` when the values have no written form (control characters).
    fn write(&self) -> Option<String>;
}

fn round_trip_as<V: Values>(input: &[u8]) -> Checked {
    let Ok(Some(first)) = V::read(input) else {
        return Ok(());
    };
    let Some(written) = first.write() else {
        return Ok(());
    };
    let second = V::read(written.as_bytes())
        .map_err(|e| format!("{written:?} does not parse again: {e}"))?
        .ok_or_else(|| format!("{written:?} parses to values that cannot be written"))?;
    ensure_eq!(first, second);
    ensure_eq!(second.write().as_deref(), Some(written.as_str()));
    Ok(())
}

/// What `ChallengeParams` can carry of a parsed challenge, as owned text.
#[derive(Debug, PartialEq, Eq)]
struct ChallengeValues {
    realm: String,
    nonce: String,
    opaque: Option<String>,
    domain: Vec<String>,
    stale: bool,
    algorithm: Option<Algorithm>,
    qop: QopOptions,
    charset_utf8: bool,
    userhash: bool,
}

impl Values for ChallengeValues {
    fn read(field: &[u8]) -> Result<Option<Self>, ParseError> {
        DigestChallenge::parse(field).map(|c| Self::of(&c))
    }

    fn write(&self) -> Option<String> {
        let domain: Vec<&str> = self.domain.iter().map(String::as_str).collect();
        ChallengeParams {
            realm: &self.realm,
            domain: &domain,
            nonce: &self.nonce,
            opaque: self.opaque.as_deref(),
            stale: self.stale,
            algorithm: self.algorithm,
            qop: self.qop,
            charset_utf8: self.charset_utf8,
            userhash: self.userhash,
        }
        // Control characters (a tab inside a quoted-string parses, but is never written).
        .to_header_value()
        .ok()
    }
}

impl ChallengeValues {
    fn of(c: &DigestChallenge<'_>) -> Option<Self> {
        let algorithm = match c.algorithm_param() {
            None => None,
            Some(_) => Some(c.algorithm()?),
        };
        let domain = match c.domain() {
            None => Vec::new(),
            Some(d) => d
                .uris()
                .map(|u| std::str::from_utf8(u).ok().map(str::to_owned))
                .collect::<Option<_>>()?,
        };
        Some(Self {
            realm: text(c.realm())?.into_owned(),
            nonce: text(c.nonce())?.into_owned(),
            opaque: opt_text(c.opaque())?.map(Cow::into_owned),
            domain,
            stale: c.stale(),
            algorithm,
            qop: c.qop().unwrap_or(QopOptions::NONE),
            charset_utf8: c.charset_is_utf8(),
            userhash: c.userhash(),
        })
    }
}

/// What `CredentialsParams` can carry of parsed credentials, as owned text.
#[derive(Debug, PartialEq, Eq)]
struct CredentialsValues {
    username: String,
    extended: bool,
    userhash: bool,
    realm: String,
    uri: String,
    algorithm: Option<String>,
    nonce: String,
    nc: Option<httpdigest::NonceCount>,
    cnonce: Option<String>,
    qop: Option<httpdigest::Qop>,
    response: String,
    opaque: Option<String>,
}

impl Values for CredentialsValues {
    fn read(field: &[u8]) -> Result<Option<Self>, ParseError> {
        DigestCredentials::parse(field).map(|c| Self::of(&c))
    }

    fn write(&self) -> Option<String> {
        let username = match (self.extended, self.userhash) {
            // `username*` with `userhash=true` has no written form (a userhash is quoted).
            (true, true) => return None,
            (true, false) => UsernameParam::Extended(&self.username),
            (false, true) => UsernameParam::Hashed(&self.username),
            (false, false) => UsernameParam::Plain(&self.username),
        };
        CredentialsParams {
            username,
            realm: &self.realm,
            uri: &self.uri,
            algorithm: self.algorithm.as_deref(),
            nonce: &self.nonce,
            nc: self.nc,
            cnonce: self.cnonce.as_deref(),
            qop: self.qop,
            response: &self.response,
            opaque: self.opaque.as_deref(),
        }
        .to_header_value()
        .ok()
    }
}

impl CredentialsValues {
    fn of(c: &DigestCredentials<'_>) -> Option<Self> {
        let (username, extended) = match c.username() {
            Username::Quoted(v) => (text(*v)?.into_owned(), false),
            Username::Extended(s) => (s.to_string(), true),
        };
        Some(Self {
            username,
            extended,
            userhash: c.userhash(),
            realm: text(c.realm())?.into_owned(),
            uri: text(c.uri())?.into_owned(),
            algorithm: opt_text(c.algorithm_param())?.map(Cow::into_owned),
            nonce: text(c.nonce())?.into_owned(),
            nc: c.nc(),
            cnonce: opt_text(c.cnonce())?.map(Cow::into_owned),
            qop: c.qop(),
            response: text(c.response())?.into_owned(),
            opaque: opt_text(c.opaque())?.map(Cow::into_owned),
        })
    }
}

/// What `AuthenticationInfoParams` can carry of a parsed `Authentication-Info`.
#[derive(Debug, PartialEq, Eq)]
struct InfoValues {
    nextnonce: Option<String>,
    qop: Option<httpdigest::Qop>,
    rspauth: Option<String>,
    cnonce: Option<String>,
    nc: Option<httpdigest::NonceCount>,
}

impl Values for InfoValues {
    fn read(field: &[u8]) -> Result<Option<Self>, ParseError> {
        AuthenticationInfo::parse(field).map(|i| Self::of(&i))
    }

    fn write(&self) -> Option<String> {
        AuthenticationInfoParams {
            nextnonce: self.nextnonce.as_deref(),
            qop: self.qop,
            rspauth: self.rspauth.as_deref(),
            cnonce: self.cnonce.as_deref(),
            nc: self.nc,
        }
        .to_header_value()
        .ok()
    }
}

impl InfoValues {
    fn of(i: &AuthenticationInfo<'_>) -> Option<Self> {
        Some(Self {
            nextnonce: opt_text(i.nextnonce())?.map(Cow::into_owned),
            qop: i.qop(),
            rspauth: opt_text(i.rspauth())?.map(Cow::into_owned),
            cnonce: opt_text(i.cnonce())?.map(Cow::into_owned),
            nc: i.nc(),
        })
    }
}
