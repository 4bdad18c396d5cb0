//! `Authentication-Info` and `Proxy-Authentication-Info` (RFC 7616 §3.5): the server's proof
//! that it knows the password (`rspauth`), and the next nonce to use (`nextnonce`).

use alloc::string::String;

use super::grammar::{self, Limits, Param, ParamValue, Params};
use super::known::{self, KnownParams};
use super::quoted;
use crate::error::{FormatError, ParseError};
use crate::nonce_count::NonceCount;
use crate::qop::Qop;

const KNOWN: [&str; 5] = ["nextnonce", "qop", "rspauth", "cnonce", "nc"];

/// The parameters of an `Authentication-Info` field, borrowed from the header.
///
/// The field is a bare `#auth-param` list (no scheme). Every parameter is optional.
///
/// ```
/// use httpdigest::{AuthenticationInfo, NonceCount, Qop};
///
/// // What Apache sends (qop unquoted).
/// let info = AuthenticationInfo::parse(
///     br#"rspauth="9b712497bc9f91499fbcca1dfc5f09a5", cnonce="f2/wE4q7", nc=00000001, qop=auth"#,
/// )?;
/// assert_eq!(info.rspauth().unwrap().raw(), b"9b712497bc9f91499fbcca1dfc5f09a5");
/// assert_eq!(info.qop(), Some(Qop::Auth));
/// assert_eq!(info.nc(), Some(NonceCount::FIRST));
/// assert!(info.nextnonce().is_none());
/// # Ok::<(), httpdigest::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AuthenticationInfo<'a> {
    params: Params<'a>,
    nextnonce: Option<ParamValue<'a>>,
    qop: Option<Qop>,
    rspauth: Option<ParamValue<'a>>,
    cnonce: Option<ParamValue<'a>>,
    nc: Option<NonceCount>,
}

impl<'a> AuthenticationInfo<'a> {
    /// Parses a field value with the default limits.
    ///
    /// # Errors
    ///
    /// See [`parse_with_limits`](Self::parse_with_limits).
    pub fn parse(field: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_with_limits(field, Limits::DEFAULT)
    }

    /// Parses a field value.
    ///
    /// # Errors
    ///
    /// A grammar error, [`ParseErrorKind::DuplicateParameter`](crate::ParseErrorKind::DuplicateParameter), or
    /// [`ParseErrorKind::InvalidValue`](crate::ParseErrorKind::InvalidValue) for a malformed
    /// `qop` or `nc`.
    pub fn parse_with_limits(field: &'a [u8], limits: Limits) -> Result<Self, ParseError> {
        let mut known = KnownParams::new(&KNOWN);
        let params = grammar::parse_param_list(field, limits, &mut |p| known.add(p))?;
        let [nextnonce, qop, rspauth, cnonce, nc] = known.finish()?;
        let qop = known::read_param(qop, "qop", Qop::from_token)?;
        let nc = known::read_param(nc, "nc", NonceCount::parse)?;
        Ok(AuthenticationInfo {
            params,
            nextnonce,
            qop,
            rspauth,
            cnonce,
            nc,
        })
    }

    /// `nextnonce`: the nonce the client should use from now on.
    pub const fn nextnonce(&self) -> Option<ParamValue<'a>> {
        self.nextnonce
    }

    /// `qop`, as used in the request.
    pub const fn qop(&self) -> Option<Qop> {
        self.qop
    }

    /// `rspauth`: the server's response-digest, proving it knows the password.
    pub const fn rspauth(&self) -> Option<ParamValue<'a>> {
        self.rspauth
    }

    /// `cnonce`, echoed from the request.
    pub const fn cnonce(&self) -> Option<ParamValue<'a>> {
        self.cnonce
    }

    /// `nc`, echoed from the request.
    pub const fn nc(&self) -> Option<NonceCount> {
        self.nc
    }

    /// Every parameter, in order.
    pub fn params(&self) -> Params<'a> {
        self.params.clone()
    }

    /// The parameters RFC 7616 does not define, in order.
    pub fn unknown_params(&self) -> impl Iterator<Item = Param<'a>> + use<'a> {
        known::unknown_params(self.params.clone(), &KNOWN)
    }
}

/// An `Authentication-Info` value to send, in the order of RFC 7616 §3.5.
///
/// ```
/// use httpdigest::{AuthenticationInfoParams, NonceCount, Qop};
///
/// let value = AuthenticationInfoParams {
///     qop: Some(Qop::Auth),
///     rspauth: Some("9b712497bc9f91499fbcca1dfc5f09a5"),
///     cnonce: Some("f2/wE4q7"),
///     nc: Some(NonceCount::FIRST),
///     ..AuthenticationInfoParams::default()
/// }
/// .to_header_value()?;
/// assert_eq!(
///     value,
///     r#"qop=auth, rspauth="9b712497bc9f91499fbcca1dfc5f09a5", cnonce="f2/wE4q7", nc=00000001"#
/// );
/// # Ok::<(), httpdigest::FormatError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuthenticationInfoParams<'a> {
    /// `nextnonce`.
    pub nextnonce: Option<&'a str>,
    /// `qop`.
    pub qop: Option<Qop>,
    /// `rspauth`.
    pub rspauth: Option<&'a str>,
    /// `cnonce`.
    pub cnonce: Option<&'a str>,
    /// `nc`.
    pub nc: Option<NonceCount>,
}

impl AuthenticationInfoParams<'_> {
    /// Appends the header value to `out`. On error nothing is appended.
    ///
    /// # Errors
    ///
    /// [`FormatError::ControlCharacter`] for a control character in a value.
    pub fn write(&self, out: &mut String) -> Result<(), FormatError> {
        quoted::all_or_nothing(out, |out| self.write_inner(out))
    }

    fn write_inner(&self, out: &mut String) -> Result<(), FormatError> {
        let mut sep = "";
        if let Some(n) = self.nextnonce {
            out.push_str("nextnonce=");
            quoted::write(out, "nextnonce", n)?;
            sep = ", ";
        }
        if let Some(q) = self.qop {
            out.push_str(sep);
            out.push_str("qop=");
            out.push_str(q.as_str());
            sep = ", ";
        }
        if let Some(r) = self.rspauth {
            out.push_str(sep);
            out.push_str("rspauth=");
            quoted::write(out, "rspauth", r)?;
            sep = ", ";
        }
        if let Some(c) = self.cnonce {
            out.push_str(sep);
            out.push_str("cnonce=");
            quoted::write(out, "cnonce", c)?;
            sep = ", ";
        }
        if let Some(nc) = self.nc {
            out.push_str(sep);
            out.push_str("nc=");
            nc.push_to(out);
        }
        Ok(())
    }

    /// The header value as a new string.
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    pub fn to_header_value(&self) -> Result<String, FormatError> {
        let mut out = String::new();
        self.write(&mut out)?;
        Ok(out)
    }
}
