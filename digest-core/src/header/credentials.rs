//! Digest credentials (`Authorization`, `Proxy-Authorization`; RFC 7616 §3.4): writing what
//! our client sends, and parsing what a client sent to our server.

use alloc::borrow::Cow;
use alloc::string::String;

use super::chars;
use super::ext_value;
use super::grammar::{self, Challenge, Limits, Param, ParamValue, Params};
use super::known::{self, KnownParams};
use super::quoted;
use crate::algorithm::Algorithm;
use crate::error::{FormatError, ParseError, ParseErrorKind};
use crate::nonce_count::NonceCount;
use crate::qop::Qop;

const KNOWN: [&str; 12] = [
    "username",
    "username*",
    "realm",
    "uri",
    "algorithm",
    "nonce",
    "nc",
    "cnonce",
    "qop",
    "response",
    "opaque",
    "userhash",
];

/// How the user is named in credentials (RFC 7616 §3.4, §3.4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Username<'a> {
    /// `username="..."`: the bytes as sent, escapes not yet removed. Non-ASCII names arrive
    /// here as raw UTF-8 (or, from some clients, ISO-8859-1) bytes.
    Quoted(ParamValue<'a>),
    /// `username*=UTF-8''...` (RFC 8187), decoded.
    Extended(String),
}

/// The parameters of Digest credentials, borrowed from the header.
///
/// Required: `username` or `username*` (not both), `realm`, `nonce`, `uri`, `response`. Other
/// checks (qop offered, nc and cnonce present with qop, the `uri` against the request-target)
/// belong to the verifier, which knows what was offered.
///
/// ```
/// use httpdigest::{Algorithm, DigestCredentials, NonceCount, Qop};
///
/// let creds = DigestCredentials::parse(
///     br#"Digest username="Mufasa", realm="testrealm@host.com",
///     nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth,
///     nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1",
///     opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
/// )?;
/// assert_eq!(&*creds.username_bytes(), b"Mufasa");
/// assert_eq!(creds.qop(), Some(Qop::Auth));
/// assert_eq!(creds.nc(), Some(NonceCount::FIRST));
/// assert_eq!(creds.algorithm(), Some(Algorithm::Md5));
/// # Ok::<(), httpdigest::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DigestCredentials<'a> {
    challenge: Challenge<'a>,
    username: Username<'a>,
    realm: ParamValue<'a>,
    uri: ParamValue<'a>,
    algorithm: Option<ParamValue<'a>>,
    nonce: ParamValue<'a>,
    nc: Option<NonceCount>,
    cnonce: Option<ParamValue<'a>>,
    qop: Option<Qop>,
    qop_param: Option<ParamValue<'a>>,
    response: ParamValue<'a>,
    opaque: Option<ParamValue<'a>>,
    userhash: bool,
}

impl<'a> DigestCredentials<'a> {
    /// Parses an `Authorization` or `Proxy-Authorization` field value with the default
    /// limits.
    ///
    /// # Errors
    ///
    /// See [`parse_with_limits`](Self::parse_with_limits).
    pub fn parse(field: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_with_limits(field, Limits::DEFAULT)
    }

    /// Parses an `Authorization` or `Proxy-Authorization` field value.
    ///
    /// # Errors
    ///
    /// A grammar error; [`ParseErrorKind::NotDigest`], [`ParseErrorKind::Token68`],
    /// [`ParseErrorKind::TrailingCredentials`], [`ParseErrorKind::DuplicateParameter`],
    /// [`ParseErrorKind::MissingParameter`], [`ParseErrorKind::AmbiguousUsername`], or
    /// [`ParseErrorKind::InvalidValue`] for a malformed `username*`, `nc` or `qop`.
    pub fn parse_with_limits(field: &'a [u8], limits: Limits) -> Result<Self, ParseError> {
        let mut known = KnownParams::new(&KNOWN);
        let challenge = grammar::parse_single(field, limits, &mut |p| known.add(p))?;
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
            username,
            username_ext,
            realm,
            uri,
            algorithm,
            nonce,
            nc,
            cnonce,
            qop,
            response,
            opaque,
            userhash,
        ] = known.finish()?;
        let missing =
            |name| ParseError::new(ParseErrorKind::MissingParameter(name), challenge.offset());
        let invalid = |name, v: ParamValue<'_>| {
            ParseError::new(ParseErrorKind::InvalidValue(name), v.offset())
        };
        let username = match (username, username_ext) {
            (Some(_), Some(ext)) => {
                return Err(ParseError::new(
                    ParseErrorKind::AmbiguousUsername,
                    ext.offset(),
                ));
            }
            (Some(u), None) => Username::Quoted(u),
            (None, Some(ext)) => Username::Extended(
                ext_value::decode(&ext.unescaped()).map_err(|_| invalid("username*", ext))?,
            ),
            (None, None) => return Err(missing("username")),
        };
        let nc = known::read_param(nc, "nc", NonceCount::parse)?;
        // `qop-value = "auth" / "auth-int" / token` (RFC 7616 §3.4): a token this crate does
        // not implement is well-formed, and a qop not offered (401), not malformed (400).
        let qop_param = qop;
        known::read_param(qop, "qop", |v| {
            (!v.is_empty() && chars::all_tchar(v)).then_some(())
        })?;
        let qop = qop.and_then(|v| Qop::from_token(&v.unescaped()));
        Ok(DigestCredentials {
            challenge,
            username,
            realm: realm.ok_or_else(|| missing("realm"))?,
            uri: uri.ok_or_else(|| missing("uri"))?,
            algorithm,
            nonce: nonce.ok_or_else(|| missing("nonce"))?,
            nc,
            cnonce,
            qop,
            qop_param,
            response: response.ok_or_else(|| missing("response"))?,
            opaque,
            userhash: userhash.is_some_and(|v| v.eq_ignore_ascii_case("true")),
        })
    }

    /// The user as named in the credentials.
    pub const fn username(&self) -> &Username<'a> {
        &self.username
    }

    /// The user name's bytes (unescaped, or decoded from `username*`). With
    /// [`userhash`](Self::userhash) this is the hex userhash, not the name.
    pub fn username_bytes(&self) -> Cow<'_, [u8]> {
        match &self.username {
            Username::Quoted(v) => v.unescaped(),
            Username::Extended(s) => Cow::Borrowed(s.as_bytes()),
        }
    }

    /// `realm`.
    pub const fn realm(&self) -> ParamValue<'a> {
        self.realm
    }

    /// `uri`: the request-target the client says it requested.
    pub const fn uri(&self) -> ParamValue<'a> {
        self.uri
    }

    /// The algorithm: MD5 when absent, `None` when not implemented by this crate.
    pub fn algorithm(&self) -> Option<Algorithm> {
        match &self.algorithm {
            None => Some(Algorithm::Md5),
            Some(v) => Algorithm::from_token(&v.unescaped()),
        }
    }

    /// The `algorithm` parameter as sent.
    pub const fn algorithm_param(&self) -> Option<ParamValue<'a>> {
        self.algorithm
    }

    /// `nonce`.
    pub const fn nonce(&self) -> ParamValue<'a> {
        self.nonce
    }

    /// `nc`.
    pub const fn nc(&self) -> Option<NonceCount> {
        self.nc
    }

    /// `cnonce`.
    pub const fn cnonce(&self) -> Option<ParamValue<'a>> {
        self.cnonce
    }

    /// `qop`: `None` in RFC 2069 mode (no `qop`), and for a qop token this crate does not
    /// implement (see [`qop_param`](Self::qop_param)).
    pub const fn qop(&self) -> Option<Qop> {
        self.qop
    }

    /// The `qop` parameter as sent (a token: `auth`, `auth-int`, or one this crate does not
    /// implement, for which [`qop`](Self::qop) is `None`).
    pub const fn qop_param(&self) -> Option<ParamValue<'a>> {
        self.qop_param
    }

    /// `response`: the request-digest, as hex.
    pub const fn response(&self) -> ParamValue<'a> {
        self.response
    }

    /// `opaque`.
    pub const fn opaque(&self) -> Option<ParamValue<'a>> {
        self.opaque
    }

    /// `userhash=true`: `username` holds H(username:realm).
    pub const fn userhash(&self) -> bool {
        self.userhash
    }

    /// Every parameter, in order.
    pub fn params(&self) -> Params<'a> {
        self.challenge.params()
    }

    /// The parameters RFC 7616 does not define, in order.
    pub fn unknown_params(&self) -> impl Iterator<Item = Param<'a>> + use<'a> {
        known::unknown_params(self.challenge.params(), &KNOWN)
    }
}

/// How to send the user name (RFC 7616 §3.4, §3.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernameParam<'a> {
    /// `username="name"`. Non-ASCII names go as raw UTF-8 (obs-text): what Apache, Squid and
    /// Twisted accept. Names with control characters are refused; use
    /// [`Extended`](Self::Extended) for them.
    Plain(&'a str),
    /// `username="hex"` and `userhash=true`: the value of [`crate::digest::userhash`].
    Hashed(&'a str),
    /// `username*=UTF-8''name` (RFC 8187), percent-encoded: any name fits.
    Extended(&'a str),
}

impl<'a> UsernameParam<'a> {
    /// The form RFC 7616 asks for when not hashing: `username*` when the name cannot go in a
    /// quoted-string (control characters), or when it is not ASCII and the challenge sent
    /// `charset=UTF-8`; `username` otherwise.
    ///
    /// ```
    /// use httpdigest::UsernameParam;
    ///
    /// assert_eq!(UsernameParam::for_name("alice", true), UsernameParam::Plain("alice"));
    /// assert_eq!(UsernameParam::for_name("Jäsøn", true), UsernameParam::Extended("Jäsøn"));
    /// assert_eq!(UsernameParam::for_name("Jäsøn", false), UsernameParam::Plain("Jäsøn"));
    /// assert_eq!(UsernameParam::for_name("a\nb", false), UsernameParam::Extended("a\nb"));
    /// ```
    pub fn for_name(name: &'a str, charset_utf8: bool) -> Self {
        if quoted::check_no_ctl("username", name).is_err() || (charset_utf8 && !name.is_ascii()) {
            UsernameParam::Extended(name)
        } else {
            UsernameParam::Plain(name)
        }
    }
}

/// Digest credentials to send, in the parameter order of RFC 7616 §3.9.1.
///
/// Quotes username, realm, uri, nonce, cnonce, response and opaque (escaping `"` and `\`);
/// never quotes algorithm, qop or nc; refuses control characters in every value; echoes
/// `opaque` even when empty; writes `nc` as 8 lower-case hex digits.
///
/// ```
/// use httpdigest::{CredentialsParams, NonceCount, Qop, UsernameParam};
///
/// let value = CredentialsParams {
///     algorithm: Some("MD5"),
///     qop: Some(Qop::Auth),
///     nc: Some(NonceCount::FIRST),
///     cnonce: Some("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"),
///     opaque: Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
///     ..CredentialsParams::new(
///         UsernameParam::Plain("Mufasa"),
///         "http-auth@example.org",
///         "/dir/index.html",
///         "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
///         "8ca523f5e9506fed4657c9700eebdbec",
///     )
/// }
/// .to_header_value()?;
/// assert_eq!(
///     value,
///     "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", \
///      algorithm=MD5, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, \
///      cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, \
///      response=\"8ca523f5e9506fed4657c9700eebdbec\", \
///      opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
/// );
/// # Ok::<(), httpdigest::FormatError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialsParams<'a> {
    /// `username`, `username*`, or a userhash.
    pub username: UsernameParam<'a>,
    /// `realm`, echoed from the challenge.
    pub realm: &'a str,
    /// `uri`: the request-target exactly as on the wire.
    pub uri: &'a str,
    /// `algorithm`, echoed as the server spelled it; `None` when the challenge had none.
    pub algorithm: Option<&'a str>,
    /// `nonce`, echoed from the challenge.
    pub nonce: &'a str,
    /// `nc`; sent with a qop.
    pub nc: Option<NonceCount>,
    /// `cnonce`; sent with a qop.
    pub cnonce: Option<&'a str>,
    /// `qop`; `None` in RFC 2069 mode.
    pub qop: Option<Qop>,
    /// `response`: the request-digest.
    pub response: &'a str,
    /// `opaque`, echoed from the challenge (even when empty).
    pub opaque: Option<&'a str>,
}

impl<'a> CredentialsParams<'a> {
    /// Credentials with the required parameters only (RFC 2069 form).
    pub const fn new(
        username: UsernameParam<'a>,
        realm: &'a str,
        uri: &'a str,
        nonce: &'a str,
        response: &'a str,
    ) -> Self {
        Self {
            username,
            realm,
            uri,
            algorithm: None,
            nonce,
            nc: None,
            cnonce: None,
            qop: None,
            response,
            opaque: None,
        }
    }

    /// Appends the header value to `out` (no allocation when `out` has the capacity). On
    /// error nothing is appended.
    ///
    /// # Errors
    ///
    /// [`FormatError::ControlCharacter`] for a control character in a quoted value,
    /// [`FormatError::NotAToken`] for an `algorithm` that is not a token.
    pub fn write(&self, out: &mut String) -> Result<(), FormatError> {
        quoted::all_or_nothing(out, |out| self.write_inner(out))
    }

    fn write_inner(&self, out: &mut String) -> Result<(), FormatError> {
        match self.username {
            UsernameParam::Plain(name) | UsernameParam::Hashed(name) => {
                out.push_str("Digest username=");
                quoted::write(out, "username", name)?;
            }
            UsernameParam::Extended(name) => {
                out.push_str("Digest username*=");
                ext_value::write_utf8(out, name);
            }
        }
        out.push_str(", realm=");
        quoted::write(out, "realm", self.realm)?;
        out.push_str(", uri=");
        quoted::write(out, "uri", self.uri)?;
        if let Some(a) = self.algorithm {
            quoted::check_token("algorithm", a)?;
            out.push_str(", algorithm=");
            out.push_str(a);
        }
        out.push_str(", nonce=");
        quoted::write(out, "nonce", self.nonce)?;
        if let Some(nc) = self.nc {
            out.push_str(", nc=");
            nc.push_to(out);
        }
        if let Some(c) = self.cnonce {
            out.push_str(", cnonce=");
            quoted::write(out, "cnonce", c)?;
        }
        if let Some(q) = self.qop {
            out.push_str(", qop=");
            out.push_str(q.as_str());
        }
        out.push_str(", response=");
        quoted::write(out, "response", self.response)?;
        if let Some(o) = self.opaque {
            out.push_str(", opaque=");
            quoted::write(out, "opaque", o)?;
        }
        if matches!(self.username, UsernameParam::Hashed(_)) {
            out.push_str(", userhash=true");
        }
        Ok(())
    }

    /// The header value as a new string, allocated once at its final size.
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    pub fn to_header_value(&self) -> Result<String, FormatError> {
        let mut out = String::with_capacity(self.estimated_len());
        self.write(&mut out)?;
        Ok(out)
    }

    /// An upper bound of the written length for values without escapes, used to size the
    /// output once.
    fn estimated_len(&self) -> usize {
        let name_len = match self.username {
            UsernameParam::Plain(n) | UsernameParam::Hashed(n) => n.len(),
            UsernameParam::Extended(n) => 7 + 3 * n.len(),
        };
        // Parameter names, quotes, separators, nc and qop come to under 128 bytes.
        128 + name_len
            + self.realm.len()
            + self.uri.len()
            + self.algorithm.map_or(0, str::len)
            + self.nonce.len()
            + self.cnonce.map_or(0, str::len)
            + self.response.len()
            + self.opaque.map_or(0, str::len)
    }
}
