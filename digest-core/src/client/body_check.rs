//! The `rspauth` of a `qop=auth-int` exchange, which covers the response body (RFC 7616
//! §3.5): checked by the adapter as it reads the body, after the core has seen the headers.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use super::io::Failure;
use crate::algorithm::Algorithm;
use crate::digest::{self, BodyHash, QopParams, SecretDigest};
use crate::nonce_count::NonceCount;
use crate::qop::Qop;
use crate::side::Side;

/// The check of an `rspauth` that covers the response body, handed out with
/// [`Action::CheckBody`](super::Action::CheckBody) when the final response of a
/// `qop=auth-int` exchange carries one: for `auth-int`, A2 is `":" request-uri ":"
/// H(entity-body)` of the *response* (RFC 7616 §3.5), so the headers alone prove nothing.
///
/// It holds what the `rspauth` is computed from (the session H(A1), which is wiped when the
/// check is dropped; the nonce, `nc`, `cnonce` and `uri` that were sent; the `rspauth` the
/// server sent) and the hash of the body so far. It borrows nothing from the
/// [`Client`](super::Client): the adapter keeps it while it reads the body, with the client's
/// lock released.
///
/// Feed the body to [`update`](Self::update) as it comes, exactly as the HTTP client hands it
/// over, then [`finish`](Self::finish): `Ok(())` when the server proved it knows the password
/// and the body is the one it sent, [`Failure::MutualAuthFailed`] otherwise (the response,
/// body included, is then not to be handed over as authenticated). Or, with the body in
/// memory, [`check`](Self::check). A body the adapter does not read whole (it is longer than
/// the adapter buffers) goes to [`skip`](Self::skip), which says what the policy makes of an
/// unchecked response: [`Failure::MutualAuthMissing`] when it
/// [requires](super::ClientConfig::require_mutual_auth) mutual authentication, `Ok(())` (hand
/// it on unchecked) otherwise.
///
/// The body is hashed as the adapter reads it: a body the HTTP client decompresses
/// (`Content-Encoding: gzip` with reqwest's or ureq's decompression on) is hashed
/// decompressed, and does not match an `rspauth` computed over the bytes the server sent.
///
/// ```
/// use httpdigest::client::{Action, Client, ClientConfig, Credentials, Request, Response};
/// use httpdigest::{OriginRef, Scheme, ThreadRng};
///
/// let mut rng = ThreadRng::default();
/// let config = ClientConfig::default().with_require_mutual_auth(true);
/// let mut client = Client::new(Credentials::new("Mufasa", "Circle of Life"), config);
/// let origin = OriginRef { scheme: Scheme::Http, host: "www.example.org", port: 80 };
/// let request = Request::new("GET", "/dir/index.html", origin);
/// let (mut exchange, _) = client.begin(&request, &mut rng);
/// let challenge: &[u8] = br#"Digest realm="r", qop="auth-int", nonce="n""#;
/// let response = Response { www_authenticate: &[challenge], ..Response::new(401) };
/// let Action::Send(ticket) = client.handle_response(&mut exchange, &request, &response, &mut rng) else {
///     panic!("expected an answer");
/// };
/// let _headers = ticket.sign(&request)?;
///
/// // A 200 whose rspauth covers its body (this one is forged): the check comes with it.
/// let info: &[u8] = br#"qop=auth-int, rspauth="00000000000000000000000000000000""#;
/// let response = Response { authentication_info: Some(info), ..Response::new(200) };
/// let Action::CheckBody(mut check) = client.handle_response(&mut exchange, &request, &response, &mut rng) else {
///     panic!("expected a check of the body");
/// };
/// check.update(b"the body, ");
/// check.update(b"as it comes");
/// assert_eq!(check.finish(), Err(httpdigest::client::Failure::MutualAuthFailed));
/// # Ok::<(), httpdigest::client::Failure>(())
/// ```
#[derive(Clone)]
#[must_use = "the response is proven only once its body passes the check"]
pub struct ResponseBodyCheck {
    /// One per side whose `rspauth` covers the body (origin, proxy): at most two.
    expected: Vec<Expected>,
    /// Whether the policy requires mutual authentication: what [`skip`](Self::skip) says.
    required: bool,
}

/// What one side's `rspauth` is checked against.
#[derive(Clone)]
pub(crate) struct Expected {
    pub(crate) side: Side,
    pub(crate) algorithm: Algorithm,
    /// The H(A1) the request was signed with (the session one for `-sess`).
    pub(crate) ha1: SecretDigest,
    pub(crate) nonce: Arc<str>,
    pub(crate) nc: NonceCount,
    pub(crate) cnonce: [u8; 32],
    /// The `uri` parameter sent.
    pub(crate) uri: String,
    /// The `rspauth` the server sent.
    pub(crate) rspauth: Vec<u8>,
    /// H(body so far).
    pub(crate) body: BodyHash,
}

impl ResponseBodyCheck {
    pub(crate) fn new(expected: Vec<Expected>, required: bool) -> Self {
        Self { expected, required }
    }

    /// Hashes the next part of the response body.
    pub fn update(&mut self, chunk: &[u8]) {
        for e in &mut self.expected {
            e.body.update(chunk);
        }
    }

    /// The body has been read whole: whether every `rspauth` matches it.
    ///
    /// # Errors
    ///
    /// [`Failure::MutualAuthFailed`]: the `rspauth` does not match this body (the server
    /// does not know the password, or the body is not the one it sent).
    pub fn finish(self) -> Result<(), Failure> {
        let mut matched = true;
        for e in self.expected {
            let body = e.body.finish();
            let qop = QopParams {
                qop: Qop::AuthInt,
                nc: e.nc,
                cnonce: &e.cnonce,
            };
            let computed = digest::rspauth(
                e.algorithm,
                &e.ha1.0,
                e.nonce.as_bytes(),
                Some(qop),
                e.uri.as_bytes(),
                Some(&body),
            );
            // Constant time, and every side checked whatever the first one gave.
            matched &= computed.ct_eq(&e.rspauth);
        }
        if matched {
            Ok(())
        } else {
            Err(Failure::MutualAuthFailed)
        }
    }

    /// [`update`](Self::update) with the whole body, then [`finish`](Self::finish).
    ///
    /// # Errors
    ///
    /// As for [`finish`](Self::finish).
    pub fn check(mut self, body: &[u8]) -> Result<(), Failure> {
        self.update(body);
        self.finish()
    }

    /// The body is not read whole (longer than the adapter reads to check it): what the
    /// policy makes of a response whose `rspauth` goes unchecked.
    ///
    /// # Errors
    ///
    /// [`Failure::MutualAuthMissing`] when the policy requires mutual authentication; the
    /// response is then not to be handed over. `Ok(())` otherwise: hand it on, unchecked, as
    /// a response without `rspauth` would be.
    pub fn skip(self) -> Result<(), Failure> {
        if self.required {
            Err(Failure::MutualAuthMissing)
        } else {
            Ok(())
        }
    }

    /// Whether the policy requires mutual authentication: a body that is not checked fails
    /// ([`skip`](Self::skip)).
    pub const fn required(&self) -> bool {
        self.required
    }

    /// The sides whose `rspauth` covers the body: the origin's (`Authentication-Info`), the
    /// proxy's (`Proxy-Authentication-Info`), or both.
    pub fn sides(&self) -> impl Iterator<Item = Side> + '_ {
        self.expected.iter().map(|e| e.side)
    }
}

/// Shows the sides and algorithms, never the H(A1).
impl fmt::Debug for ResponseBodyCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sides: Vec<(Side, Algorithm)> = self
            .expected
            .iter()
            .map(|e| (e.side, e.algorithm))
            .collect();
        f.debug_struct("ResponseBodyCheck")
            .field("sides", &sides)
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const CNONCE: &[u8; 32] = b"0a4f113b0a4f113b0a4f113b0a4f113b";
    const BODY: &[u8] = br#"{"outlets": [1, 2, 3]}"#;

    /// The `rspauth` values below were computed apart from this crate, with Python's hashlib
    /// (H = hashlib.md5 or hashlib.sha256, hex digests):
    ///
    /// ```text
    /// ha1 = H(b"Mufasa:http-auth@example.org:Circle of Life")
    /// ha2 = H(b":/dir/index.html:" + H(body))
    /// rspauth = H(ha1 + b":" + nonce + b":00000001:" + cnonce + b":auth-int:" + ha2)
    /// ```
    ///
    /// with `nonce`, `cnonce` and `body` as in the constants above.
    fn check(algorithm: Algorithm, rspauth: &str, required: bool) -> ResponseBodyCheck {
        let ha1 = digest::ha1(
            algorithm,
            b"Mufasa",
            b"http-auth@example.org",
            b"Circle of Life",
        );
        ResponseBodyCheck::new(
            alloc::vec![Expected {
                side: Side::Origin,
                algorithm,
                ha1: SecretDigest(ha1),
                nonce: NONCE.into(),
                nc: NonceCount::FIRST,
                cnonce: *CNONCE,
                uri: "/dir/index.html".into(),
                rspauth: rspauth.as_bytes().to_vec(),
                body: BodyHash::new(algorithm),
            }],
            required,
        )
    }

    const MD5_RSPAUTH: &str = "e6665bc6882ae48f09c8ab4c765c3c4c";
    const SHA256_RSPAUTH: &str = "a64fecf8cc6d9394dffa9d76036738c58f8e28aef3dbd9a899d49e623f081c7d";

    #[test]
    fn the_right_body_passes_whole_or_in_parts() {
        for (algorithm, rspauth) in [
            (Algorithm::Md5, MD5_RSPAUTH),
            (Algorithm::Sha256, SHA256_RSPAUTH),
        ] {
            assert_eq!(check(algorithm, rspauth, true).check(BODY), Ok(()));
            let mut parts = check(algorithm, rspauth, true);
            for part in BODY.chunks(3) {
                parts.update(part);
            }
            assert_eq!(parts.finish(), Ok(()), "{algorithm}");
        }
    }

    #[test]
    fn another_body_fails() {
        let mut tampered = BODY.to_vec();
        tampered[13] = b'9';
        for (algorithm, rspauth) in [
            (Algorithm::Md5, MD5_RSPAUTH),
            (Algorithm::Sha256, SHA256_RSPAUTH),
        ] {
            let fails = Err(Failure::MutualAuthFailed);
            assert_eq!(check(algorithm, rspauth, false).check(&tampered), fails);
            assert_eq!(check(algorithm, rspauth, false).check(b""), fails);
            // A prefix of the body is another body.
            assert_eq!(check(algorithm, rspauth, false).check(&BODY[..10]), fails);
        }
    }

    #[test]
    fn an_rspauth_not_computed_so_fails() {
        // Upper-case hex, a truncated value, the other algorithm's value, garbage.
        let upper = MD5_RSPAUTH.to_ascii_uppercase();
        for rspauth in [upper.as_str(), &MD5_RSPAUTH[..31], SHA256_RSPAUTH, "\"", ""] {
            let result = check(Algorithm::Md5, rspauth, false).check(BODY);
            assert_eq!(result, Err(Failure::MutualAuthFailed), "{rspauth:?}");
        }
    }

    #[test]
    fn every_side_must_match() {
        let mut both = check(Algorithm::Md5, MD5_RSPAUTH, false);
        let mut proxy = check(Algorithm::Sha256, "0", false).expected.remove(0);
        proxy.side = Side::Proxy;
        both.expected.push(proxy);
        assert_eq!(
            both.sides().collect::<Vec<_>>(),
            [Side::Origin, Side::Proxy]
        );
        assert_eq!(both.check(BODY), Err(Failure::MutualAuthFailed));
    }

    #[test]
    fn an_unread_body_fails_only_when_mutual_auth_is_required() {
        let required = check(Algorithm::Md5, MD5_RSPAUTH, true);
        assert!(required.required());
        assert_eq!(required.skip(), Err(Failure::MutualAuthMissing));
        assert_eq!(check(Algorithm::Md5, MD5_RSPAUTH, false).skip(), Ok(()));
    }

    #[test]
    fn debug_shows_no_secret() {
        let check = check(Algorithm::Md5, MD5_RSPAUTH, true);
        let shown = alloc::format!("{check:?}");
        assert!(
            !shown.contains("3d78807defe7de2157e2b0b6573a855f"),
            "{shown}"
        );
        assert!(!shown.contains(MD5_RSPAUTH), "{shown}");
        assert!(shown.contains("Origin"), "{shown}");
    }
}
