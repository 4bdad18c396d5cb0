//! What one send carries, in two steps: [`issue`] decides under the client's lock (the
//! nonce, the next nonce count, a cnonce, the qop, the secret digest), and [`Ticket::sign`]
//! computes without it (H(A2), the request-digest, the `auth-int` body hash, the header
//! text): the hashing of a send never holds up other requests. (Checking a final response's
//! `rspauth`, two hashes, happens under the lock, in `Client::handle_response`.)

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use super::call::{Sent, SentDigest};
use super::cookies::ChallengeCookies;
use super::credentials::Credentials;
use super::io::{AuthHeaders, BodySource, Failure, Request};
use super::protection_space::{Name, ProtectionSpace, Signing, SpaceKind};
use super::username::{NameForm, with_latin1_name};
use crate::algorithm::Algorithm;
use crate::digest::{self, HexDigest, QopParams, SecretDigest};
use crate::header::FieldValue;
use crate::header::credentials::{CredentialsParams, UsernameParam};
use crate::header::quoted::check_no_ctl;
use crate::nonce_count::NonceCount;
use crate::qop::Qop;
use crate::side::{Side, Sides};

/// The credentials decided for the next send of a request, per side, ready to be
/// [signed](Self::sign) into its headers. It holds a copy of the secret digest (zeroized on
/// drop) and no reference into the client: sign it after releasing the client's lock.
///
/// A ticket is for the request it was issued for, and spends its nonce count: sign it and
/// send, or the server sees a count skipped (harmless) but never one repeated. A request
/// given up after its ticket was issued (the ticket dropped, the send failed) is to be
/// [abandoned](super::Client::abandon): until then, the nonce it answers a challenge with
/// stays held for it.
#[must_use = "a ticket holds the credentials of the next send: sign it into its headers"]
#[derive(Default)]
pub struct Ticket {
    sides: Sides<Option<Signer>>,
    /// The cookies the request's challenges set, for the headers.
    pub(crate) cookies: ChallengeCookies,
}

/// One side's part of a ticket.
#[allow(
    clippy::large_enum_variant,
    reason = "a ticket lives on the stack for one send; boxing would cost an allocation per request"
)]
pub(crate) enum Signer {
    /// A `Basic` header, complete (RFC 7617: nothing to compute per request). It is the
    /// password in base64: wiped unless it goes out.
    Basic(Zeroizing<String>),
    Digest(DigestSigner),
}

/// What a Digest answer is computed from: the space's signing material, shared, and what
/// this send adds to it.
pub(crate) struct DigestSigner {
    signing: Arc<Signing>,
    nonce: Arc<str>,
    opaque: Option<Arc<str>>,
    nc: NonceCount,
    cnonce: [u8; 32],
    qop: Option<Qop>,
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = |s: &Option<Signer>| match s {
            None => "none",
            Some(Signer::Basic(_)) => "Basic",
            Some(Signer::Digest(_)) => "Digest",
        };
        f.debug_struct("Ticket")
            .field("origin", &kind(&self.sides.origin))
            .field("proxy", &kind(&self.sides.proxy))
            .finish_non_exhaustive()
    }
}

impl Ticket {
    pub(crate) fn set(&mut self, side: Side, signer: Signer) {
        self.sides[side] = Some(signer);
    }

    /// Whether the ticket carries credentials for `side`.
    pub fn has(&self, side: Side) -> bool {
        self.sides[side].is_some()
    }

    /// The hash function (as its algorithm) an `auth-int` answer needs the body hashed
    /// with, for a request whose body is [`BodySource::Replayable`] (not in memory); `None`
    /// when no side answers with `auth-int`. When both the origin and the proxy do, this is
    /// the origin's: [`sign_with`](Self::sign_with) asks for each.
    pub fn body_hash(&self) -> Option<Algorithm> {
        self.sides.iter().find_map(|(_, s)| match s {
            Some(Signer::Digest(d)) if d.qop == Some(Qop::AuthInt) => Some(d.signing.algorithm),
            _ => None,
        })
    }

    /// The headers of the send: each side's `Authorization` (or `Proxy-Authorization`)
    /// computed for `request`, the same request the ticket was issued for. An `auth-int`
    /// answer hashes the body of a [`BodySource::Bytes`] request here.
    ///
    /// # Errors
    ///
    /// [`Failure::AuthIntNeedsReplayableBody`] when an `auth-int` answer needs the hash of a
    /// body that is not in memory: sign with [`sign_with`](Self::sign_with) instead.
    pub fn sign(self, request: &Request<'_>) -> Result<AuthHeaders, Failure> {
        self.sign_inner(request, &mut None::<fn(Algorithm) -> HexDigest>)
    }

    /// As [`sign`](Self::sign), for a request whose body is not in memory
    /// ([`BodySource::Replayable`]): `hash_body` gives H(body) with the hash of the algorithm
    /// it is handed (`digest::hash(algorithm, body)`), once for each side that answers with
    /// `auth-int`, and is not called otherwise.
    ///
    /// # Errors
    ///
    /// As [`sign`](Self::sign), never [`Failure::AuthIntNeedsReplayableBody`].
    pub fn sign_with(
        self,
        request: &Request<'_>,
        hash_body: impl FnMut(Algorithm) -> HexDigest,
    ) -> Result<AuthHeaders, Failure> {
        self.sign_inner(request, &mut Some(hash_body))
    }

    fn sign_inner(
        self,
        request: &Request<'_>,
        hash_body: &mut Option<impl FnMut(Algorithm) -> HexDigest>,
    ) -> Result<AuthHeaders, Failure> {
        let mut headers = AuthHeaders {
            cookies: self.cookies,
            ..AuthHeaders::default()
        };
        let Sides { origin, proxy } = self.sides;
        for (side, signer) in [(Side::Origin, origin), (Side::Proxy, proxy)] {
            headers[side] = match signer {
                None => None,
                Some(Signer::Basic(mut value)) => {
                    Some(FieldValue::from(core::mem::take(&mut *value)))
                }
                Some(Signer::Digest(d)) => {
                    Some(d.sign(request, uri_param(side, request), hash_body)?)
                }
            };
        }
        Ok(headers)
    }
}

impl DigestSigner {
    fn sign(
        &self,
        request: &Request<'_>,
        uri: &str,
        hash_body: &mut Option<impl FnMut(Algorithm) -> HexDigest>,
    ) -> Result<FieldValue, Failure> {
        let signing = &*self.signing;
        let algorithm = signing.algorithm;
        let body_hash = match self.qop {
            Some(Qop::AuthInt) => Some(match (request.body, hash_body) {
                (BodySource::Bytes(bytes), _) => digest::hash(algorithm, bytes),
                (_, Some(hash_body)) => hash_body(algorithm),
                (_, None) => return Err(Failure::AuthIntNeedsReplayableBody),
            }),
            _ => None,
        };
        let nonce = self.nonce.as_bytes();
        let ha1 = request_ha1(algorithm, &signing.ha1, nonce, &self.cnonce);
        let ha2 = digest::ha2(
            algorithm,
            request.method.as_bytes(),
            uri.as_bytes(),
            body_hash.as_ref(),
        );
        let qop = self.qop.map(|qop| QopParams {
            qop,
            nc: self.nc,
            cnonce: &self.cnonce,
        });
        let response = digest::response(algorithm, &ha1.0, nonce, qop, &ha2);
        let (username, form) = match &signing.username {
            Name::Hashed(h) => (UsernameParam::Hashed(h.as_str()), NameForm::Userhash),
            Name::Plain {
                name,
                form: NameForm::Extended,
            } => (UsernameParam::Extended(name), NameForm::Extended),
            Name::Plain { name, form } => (UsernameParam::Plain(name), *form),
        };
        let cnonce = core::str::from_utf8(&self.cnonce).unwrap_or_default();
        let header = CredentialsParams {
            username,
            realm: &signing.realm,
            uri,
            algorithm: signing.algorithm_token.as_deref(),
            nonce: &self.nonce,
            nc: self.qop.map(|_| self.nc),
            cnonce: self.qop.map(|_| cnonce),
            qop: self.qop,
            response: response.as_str(),
            opaque: self.opaque.as_deref(),
        }
        .to_header_value()
        .map_err(Failure::Format)?;
        Ok(match (form.latin1_on_wire(), username) {
            (true, UsernameParam::Plain(name)) => {
                FieldValue::from_bytes(with_latin1_name(header, name))
            }
            _ => FieldValue::from(header),
        })
    }
}

/// The `uri` parameter of `side`'s credentials: the request-target as on the wire, but
/// through a plain forward proxy the origin's is the origin-form target (path and query), as
/// the proxy forwards it and curl sends it (origins that compare `uri` with their
/// request-target refuse the absolute form); the proxy's stays the absolute form it
/// receives.
pub(crate) fn uri_param<'r>(side: Side, request: &Request<'r>) -> &'r str {
    match side {
        Side::Origin if request.proxy.is_some() => origin_form(request.target),
        _ => request.target,
    }
}

/// The origin-form of an absolute-form request-target (`http://host/p?q` → `/p?q`, `/` for
/// an empty path); any other target as it is.
fn origin_form(target: &str) -> &str {
    let Some((scheme, rest)) = target.split_once("://") else {
        return target;
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return target;
    }
    match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes().get(i) == Some(&b'/') => rest.get(i..).unwrap_or("/"),
        // `http://host?q`: the path is empty, which the origin-form writes as `/`; such a
        // target keeps its absolute form rather than lose its query.
        Some(_) => target,
        None => "/",
    }
}

/// Decides the credentials of a send in `space`, on its lane `lane` for a Digest space:
/// takes the lane's next nonce count and draws a cnonce (under the client's lock; nothing
/// here hashes, but for the H(A1) and userhash a space computes once).
pub(crate) fn issue<R: TryCryptoRng + ?Sized>(
    space: &mut ProtectionSpace,
    lane: usize,
    credentials: &Credentials,
    request: &Request<'_>,
    rng: &mut R,
    prefer_auth_int: bool,
) -> Result<(Signer, Sent), Failure> {
    let id = space.id;
    let SpaceKind::Digest(d) = &mut space.kind else {
        let password = credentials.password().ok_or(Failure::NoCredentials)?;
        let sent = Sent {
            space: id,
            lane: 0,
            nonce: None,
            opaque: None,
            fetched: 0,
            lane_sends: 0,
            overlapped: false,
            digest: None,
        };
        return Ok((
            Signer::Basic(Zeroizing::new(basic_header(
                credentials.username(),
                password,
            ))),
            sent,
        ));
    };
    let algorithm = d.algorithm;
    // The one value of the header that no challenge checked: refused here, before anything
    // is spent, so that signing cannot fail on it.
    check_no_ctl("uri", request.target).map_err(Failure::Format)?;

    // qop: auth when offered, auth-int when it is the only one (or preferred and possible).
    let qop = match d.qop {
        None => None,
        Some(offered) => {
            let auth_int =
                offered.contains(Qop::AuthInt) && (prefer_auth_int || !offered.contains(Qop::Auth));
            match (auth_int, request.body.is_replayable()) {
                (true, true) => Some(Qop::AuthInt),
                (true, false) if !offered.contains(Qop::Auth) => {
                    return Err(Failure::AuthIntNeedsReplayableBody);
                }
                _ => Some(Qop::Auth),
            }
        }
    };

    let signing = d
        .signing(&space.realm, credentials)
        .ok_or(Failure::NoCredentials)?;
    let lane = d.lanes.get_mut(lane).ok_or(Failure::NoCredentials)?;
    let nc = lane.next_nc().ok_or(Failure::RetriesExhausted)?;
    let mut cnonce = [0u8; 32];
    if qop.is_some() {
        let mut raw = [0u8; 16];
        rng.try_fill_bytes(&mut raw)
            .map_err(|_| Failure::Randomness)?;
        let hex = HexDigest::from_bytes(&raw);
        cnonce.copy_from_slice(hex.as_bytes().get(..32).unwrap_or(&[0; 32]));
    }
    let overlapped = lane.begin_send();
    lane.reserved = None;
    let sent = Sent {
        space: id,
        lane: lane.id,
        nonce: Some(lane.nonce.clone()),
        opaque: lane.opaque.clone(),
        fetched: d.fetched,
        lane_sends: lane.sends,
        overlapped,
        digest: Some(SentDigest {
            algorithm,
            nc,
            cnonce,
            qop,
            form: signing.username.form(),
        }),
    };
    let signer = DigestSigner {
        signing,
        nonce: lane.nonce.shared(),
        opaque: lane.opaque.clone(),
        nc,
        cnonce,
        qop,
    };
    Ok((Signer::Digest(signer), sent))
}

/// The H(A1) a request's digests take (RFC 7616 §3.4.2): the space's, or for a `-sess`
/// algorithm H(H(A1):nonce:cnonce) with the request's nonce and cnonce.
pub(crate) fn request_ha1<'a>(
    algorithm: Algorithm,
    ha1: &'a SecretDigest,
    nonce: &[u8],
    cnonce: &[u8],
) -> alloc::borrow::Cow<'a, SecretDigest> {
    if algorithm.is_session() {
        alloc::borrow::Cow::Owned(SecretDigest(digest::session_ha1(
            algorithm, &ha1.0, nonce, cnonce,
        )))
    } else {
        alloc::borrow::Cow::Borrowed(ha1)
    }
}

/// `Basic base64(user:password)` (RFC 7617).
fn basic_header(username: &str, password: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut input = Zeroizing::new(Vec::with_capacity(username.len() + 1 + password.len()));
    input.extend_from_slice(username.as_bytes());
    input.push(b':');
    input.extend_from_slice(password.as_bytes());
    let mut out = String::with_capacity(6 + input.len().div_ceil(3) * 4);
    out.push_str("Basic ");
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                let idx = usize::try_from((n >> shift) & 63).unwrap_or(0);
                out.push(char::from(TABLE.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_form_of_absolute_targets() {
        assert_eq!(origin_form("http://h:8080/a/b?x=1"), "/a/b?x=1");
        assert_eq!(origin_form("http://h"), "/");
        assert_eq!(origin_form("HTTP://h/"), "/");
        assert_eq!(origin_form("http://h?x"), "http://h?x");
        assert_eq!(origin_form("/a?b://c"), "/a?b://c");
        assert_eq!(origin_form("h:443"), "h:443");
        assert_eq!(origin_form("*"), "*");
    }

    #[test]
    fn basic_header_rfc7617_example() {
        assert_eq!(
            basic_header("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic_header("a", ""), "Basic YTo=");
        assert_eq!(basic_header("ab", "c"), "Basic YWI6Yw==");
    }
}
