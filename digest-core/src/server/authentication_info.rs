//! The server's `Authentication-Info` (RFC 7616 §3.5): `rspauth` proves to the client that
//! the server knows the password; for `auth-int` it covers the response body
//! ([`BodyRspauth`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::digest::{self, HexDigest, QopParams};
use crate::header::authentication_info::AuthenticationInfoParams;
use crate::nonce_count::NonceCount;
use crate::qop::Qop;

/// What `Authentication-Info` is made of.
#[derive(Clone)]
pub(super) struct InfoParts {
    pub(super) algorithm: Algorithm,
    pub(super) ha1: Zeroizing<HexDigest>,
    pub(super) nonce: Vec<u8>,
    pub(super) uri: Vec<u8>,
    pub(super) qop: Option<(Qop, NonceCount, Vec<u8>)>,
    pub(super) nextnonce: Option<String>,
}

impl InfoParts {
    /// The field value; with `rspauth` over `response_body` when it is given (an empty body
    /// for `auth`, whose A2 has no body hash).
    pub(super) fn header_value(&self, response_body: Option<&[u8]>) -> String {
        let qop = self.qop.as_ref().map(|(qop, nc, cnonce)| QopParams {
            qop: *qop,
            nc: *nc,
            cnonce,
        });
        let rspauth = response_body.map(|body| {
            let body_hash = matches!(qop, Some(q) if q.qop == Qop::AuthInt)
                .then(|| digest::hash(self.algorithm, body));
            digest::rspauth(
                self.algorithm,
                &self.ha1,
                &self.nonce,
                qop,
                &self.uri,
                body_hash.as_ref(),
            )
        });
        let cnonce_text = qop.and_then(|q| core::str::from_utf8(q.cnonce).ok());
        let info = AuthenticationInfoParams {
            nextnonce: self.nextnonce.as_deref(),
            qop: qop.map(|q| q.qop),
            rspauth: rspauth.as_ref().map(HexDigest::as_str),
            cnonce: cnonce_text,
            nc: qop.map(|q| q.nc),
        };
        info.to_header_value()
            // A cnonce with control characters cannot have parsed; leave it out if it did.
            .or_else(|_| {
                AuthenticationInfoParams {
                    cnonce: None,
                    ..info
                }
                .to_header_value()
            })
            .unwrap_or_default()
    }
}

/// The `rspauth` of an `auth-int` answer, which covers the response body (RFC 7616 §3.5): a
/// server that has the body (buffered, up to a limit it chooses) sends
/// [`authentication_info`](Self::authentication_info) instead of
/// [`Authenticated::authentication_info`](super::Authenticated::authentication_info), which lacks `rspauth`. It holds the session H(A1):
/// keep it out of reach of request handlers (the layers take it out of [`Authenticated`](super::Authenticated)
/// before the request goes on).
#[derive(Clone)]
pub struct BodyRspauth(pub(super) InfoParts);

impl BodyRspauth {
    /// The `Authentication-Info` value with `rspauth` over `response_body` (the message
    /// body as sent, without transfer coding).
    pub fn authentication_info(&self, response_body: &[u8]) -> String {
        self.0.header_value(Some(response_body))
    }
}

impl fmt::Debug for BodyRspauth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BodyRspauth(<redacted>)")
    }
}

impl PartialEq for BodyRspauth {
    fn eq(&self, other: &Self) -> bool {
        self.0.algorithm == other.0.algorithm
            && self.0.ha1.ct_eq(other.0.ha1.as_bytes())
            && self.0.nonce == other.0.nonce
            && self.0.uri == other.0.uri
            && self.0.qop == other.0.qop
            && self.0.nextnonce == other.0.nextnonce
    }
}

impl Eq for BodyRspauth {}
