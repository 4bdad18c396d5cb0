//! The server verifier (`httpdigest::server`): the RFC 7616 §3.9 `Authorization` lines, every
//! rejection with its exact status, `stale` and reason, the stores (users, htdigest, nonce
//! counts), and a property test that the crate's own `Client`, driven as an adapter would
//! drive it, authenticates against the `Verifier` whatever the configuration.
//!
//! The verifier's nonces are stateless HMACs under its key, and the public API has no way to
//! make it accept a nonce it did not issue (such as the RFC's). The RFC tests therefore
//! issue a real nonce and substitute it into the RFC's line, recomputing only `response`
//! (see [`with_issued_nonce`]); `rfc_nonces_are_refused_as_forged` pins the gap.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::TestRng;
use common::pair::{Call, Next, Pair};

use std::cell::{Cell, RefCell};

use httpdigest::client::{Client, ClientConfig, Credentials, Failure};
use httpdigest::digest::{self, QopParams};
use httpdigest::server::{
    Authenticated, ConfigError, CredentialStore, Htdigest, MemoryNonceCounts, NonceCountCheck,
    NonceCountStore, Reason, Rejection, ServerRequest, StoredSecret, Users, Verifier,
    VerifierConfig,
};
use httpdigest::{
    Algorithm, AuthenticationInfo, CredentialsParams, DigestCredentials, HexDigest, NonceCount,
    ParseErrorKind, Qop, QopOptions, UsernameParam,
};
use httpdigest::{OriginRef, Scheme};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Fixtures.
// ---------------------------------------------------------------------------------------------

const KEY: &[u8] = b"server_verifier tests: a key of more than 32 bytes";
const OTHER_KEY: &[u8] = b"server_verifier tests: another key, same length!!";
const NOW: u64 = 1_700_000_000;

const REALM: &str = "http-auth@example.org";
const USER: &str = "Mufasa";
const PASS: &str = "Circle of Life"; // RFC 7616 erratum 4495: lower-case "of"
const URI: &str = "/dir/index.html";
const OPAQUE: &str = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

const JASON: &str = "J\u{e4}s\u{f8}n Doe";
const JASON_PASS: &str = "Secret, or not?";
const REALM_392: &str = "api@example.org";
const OPAQUE_392: &str = "HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS";

const ORIGIN: OriginRef<'static> = OriginRef {
    scheme: Scheme::Http,
    host: "www.example.org",
    port: 80,
};

/// SHA-256 then MD5, `auth` and `auth-int`, the RFC's opaque: the §3.9.1 server.
fn config() -> VerifierConfig {
    VerifierConfig::new(REALM)
        .with_algorithms([Algorithm::Sha256, Algorithm::Md5])
        .with_qop(QopOptions::BOTH)
        .with_opaque(OPAQUE)
}

/// A verifier, its user store, its nonce-count store and its random number generator.
struct Fx {
    verifier: Verifier,
    store: Box<dyn CredentialStore>,
    counts: MemoryNonceCounts,
    rng: RefCell<TestRng>,
    /// The authority the requests name (their `Host`).
    authority: Option<&'static str>,
}

impl Fx {
    fn new(config: VerifierConfig) -> Self {
        let mut users = Users::new(config.realm.clone());
        users.insert(USER, PASS);
        users.insert(JASON, JASON_PASS);
        users.insert("alice", "s3cret");
        Self::with_store(config, Box::new(users))
    }

    fn with_store(config: VerifierConfig, store: Box<dyn CredentialStore>) -> Self {
        let lifetime = config.nonce_lifetime;
        Self {
            verifier: Verifier::new(config, KEY).unwrap(),
            store,
            counts: MemoryNonceCounts::new(1000, lifetime),
            rng: RefCell::new(TestRng::new(0x5eed)),
            authority: Some("www.example.org"),
        }
    }

    fn nonce(&self, now: u64) -> String {
        self.verifier
            .nonce(now, &mut *self.rng.borrow_mut())
            .unwrap()
    }

    fn challenges(&self, now: u64, stale: bool) -> Vec<String> {
        self.verifier
            .challenges(now, stale, &mut *self.rng.borrow_mut())
            .unwrap()
    }

    fn verify_with(
        &self,
        target: &str,
        method: &str,
        authorization: Option<&str>,
        body: Option<&[u8]>,
        now: u64,
        counts: &dyn NonceCountStore,
    ) -> Result<Authenticated, Rejection> {
        let authorization = authorization.map(str::as_bytes);
        self.verify_bytes_with(target, method, authorization, body, now, counts)
    }

    /// [`verify_with`](Self::verify_with) with an `Authorization` that need not be UTF-8.
    fn verify_bytes_with(
        &self,
        target: &str,
        method: &str,
        authorization: Option<&[u8]>,
        body: Option<&[u8]>,
        now: u64,
        counts: &dyn NonceCountStore,
    ) -> Result<Authenticated, Rejection> {
        let request = ServerRequest {
            method,
            target,
            authority: self.authority,
            authorization,
            body,
        };
        self.verifier.verify(
            &request,
            now,
            &*self.store,
            counts,
            &mut *self.rng.borrow_mut(),
        )
    }

    fn verify(
        &self,
        target: &str,
        method: &str,
        authorization: Option<&str>,
        body: Option<&[u8]>,
        now: u64,
    ) -> Result<Authenticated, Rejection> {
        self.verify_with(target, method, authorization, body, now, &self.counts)
    }

    /// Sends a hand-built request to its own `uri`, with its body.
    fn send(&self, hand: &Hand, now: u64) -> Result<Authenticated, Rejection> {
        self.send_with(hand, now, &self.counts)
    }

    /// [`send`](Self::send) with another nonce-count store.
    fn send_with(
        &self,
        hand: &Hand,
        now: u64,
        counts: &dyn NonceCountStore,
    ) -> Result<Authenticated, Rejection> {
        self.verify_bytes_with(
            &hand.uri,
            &hand.method,
            Some(&hand.wire()),
            Some(&hand.body),
            now,
            counts,
        )
    }

    /// `client` against this verifier, its stores and its generator, at [`NOW`], requests
    /// to [`ORIGIN`], the client's generator seeded `seed`.
    fn pair(self, client: Client, seed: u64) -> Pair<Store> {
        let mut pair = Pair::new(client, self.verifier, Store(self.store), self.counts);
        pair.server_rng = self.rng.into_inner();
        pair.rng = TestRng::new(seed);
        pair.now = NOW;
        pair.origin = ORIGIN;
        pair
    }
}

/// The credential store of an [`Fx`], for a [`Pair`].
struct Store(Box<dyn CredentialStore>);

impl CredentialStore for Store {
    fn lookup(&self, username: &[u8], realm: &str) -> Option<StoredSecret> {
        self.0.lookup(username, realm)
    }

    fn lookup_userhash(
        &self,
        userhash: &[u8],
        realm: &str,
        algorithm: Algorithm,
    ) -> Option<(String, StoredSecret)> {
        self.0.lookup_userhash(userhash, realm, algorithm)
    }
}

/// Sends a hand-built request to its own `uri`, with its body, to the pair's server.
fn send_hand(pair: &mut Pair<Store>, hand: &Hand) -> Result<Authenticated, Rejection> {
    pair.verify(
        &hand.method,
        &hand.uri,
        Some(&hand.header()),
        Some(&hand.body),
    )
}

#[track_caller]
fn assert_rejected(
    result: Result<Authenticated, Rejection>,
    status: u16,
    stale: bool,
    reason: Reason,
) {
    let rejection = match result {
        Ok(a) => panic!("accepted ({a:?}); expected {status} stale={stale} {reason:?}"),
        Err(r) => r,
    };
    assert_eq!(
        (rejection.status(), rejection.stale(), rejection.reason()),
        (status, stale, &reason),
    );
}

#[track_caller]
fn assert_accepted(result: Result<Authenticated, Rejection>, user: &str) -> Authenticated {
    match result {
        Ok(a) => {
            assert_eq!(a.username, user);
            a
        }
        Err(r) => panic!(
            "rejected: {} stale={} {:?}",
            r.status(),
            r.stale(),
            r.reason()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-built credentials: what a client (honest or not) sends, computed with the crate's
// digest functions.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `username="name"`.
    Plain,
    /// `username="H(name:realm)"`, `userhash=true`.
    Hashed,
    /// `username*=UTF-8''...`.
    Extended,
    /// `username="name"` with the name in ISO-8859-1 bytes (every character below U+0100),
    /// the response over its UTF-8 form: what python-requests and Apache HttpClient send.
    Latin1,
}

#[derive(Debug, Clone)]
struct Hand {
    user: String,
    form: Form,
    password: String,
    realm: String,
    uri: String,
    /// The token sent; `None` sends no `algorithm` (MD5 implied).
    algorithm: Option<String>,
    nonce: String,
    nc: Option<u32>,
    cnonce: Option<String>,
    qop: Option<Qop>,
    opaque: Option<String>,
    method: String,
    body: Vec<u8>,
}

impl Hand {
    /// Mufasa, SHA-256, `auth`, nc=1, the RFC's cnonce and opaque: what [`config`] accepts.
    fn new(nonce: &str) -> Self {
        Self {
            user: USER.into(),
            form: Form::Plain,
            password: PASS.into(),
            realm: REALM.into(),
            uri: URI.into(),
            algorithm: Some("SHA-256".into()),
            nonce: nonce.into(),
            nc: Some(1),
            cnonce: Some(CNONCE.into()),
            qop: Some(Qop::Auth),
            opaque: Some(OPAQUE.into()),
            method: "GET".into(),
            body: Vec::new(),
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }

    /// The algorithm the response is computed with (MD5 for unknown tokens).
    fn alg(&self) -> Algorithm {
        self.algorithm
            .as_deref()
            .map_or(Some(Algorithm::Md5), |t| {
                Algorithm::from_token(t.as_bytes())
            })
            .unwrap_or(Algorithm::Md5)
    }

    /// H(A1), in its session form for `-sess`.
    fn ha1(&self) -> HexDigest {
        let alg = self.alg();
        let ha1 = digest::ha1(
            alg,
            self.user.as_bytes(),
            self.realm.as_bytes(),
            self.password.as_bytes(),
        );
        if alg.is_session() {
            let cnonce = self.cnonce.as_deref().unwrap_or_default();
            digest::session_ha1(alg, &ha1, self.nonce.as_bytes(), cnonce.as_bytes())
        } else {
            ha1
        }
    }

    fn qop_params(&self) -> Option<QopParams<'_>> {
        self.qop.map(|qop| QopParams {
            qop,
            nc: NonceCount::new(self.nc.unwrap_or(0)),
            cnonce: self.cnonce.as_deref().unwrap_or_default().as_bytes(),
        })
    }

    fn response(&self) -> HexDigest {
        let alg = self.alg();
        let body_hash = (self.qop == Some(Qop::AuthInt)).then(|| digest::hash(alg, &self.body));
        let ha2 = digest::ha2(
            alg,
            self.method.as_bytes(),
            self.uri.as_bytes(),
            body_hash.as_ref(),
        );
        digest::response(
            alg,
            &self.ha1(),
            self.nonce.as_bytes(),
            self.qop_params(),
            &ha2,
        )
    }

    /// The `rspauth` the server must send for this request, computed independently.
    fn rspauth(&self) -> HexDigest {
        digest::rspauth(
            self.alg(),
            &self.ha1(),
            self.nonce.as_bytes(),
            self.qop_params(),
            self.uri.as_bytes(),
            None,
        )
    }

    fn header(&self) -> String {
        let response = self.response();
        let userhash = digest::userhash(self.alg(), self.user.as_bytes(), self.realm.as_bytes());
        let username = match self.form {
            Form::Plain | Form::Latin1 => UsernameParam::Plain(&self.user),
            Form::Hashed => UsernameParam::Hashed(userhash.as_str()),
            Form::Extended => UsernameParam::Extended(&self.user),
        };
        CredentialsParams {
            algorithm: self.algorithm.as_deref(),
            nc: self.nc.map(NonceCount::new),
            cnonce: self.cnonce.as_deref(),
            qop: self.qop,
            opaque: self.opaque.as_deref(),
            ..CredentialsParams::new(
                username,
                &self.realm,
                &self.uri,
                &self.nonce,
                response.as_str(),
            )
        }
        .to_header_value()
        .unwrap()
    }

    /// The header's bytes as sent: [`header`](Self::header), the quoted name in ISO-8859-1
    /// for [`Form::Latin1`].
    fn wire(&self) -> Vec<u8> {
        let header = self.header();
        if self.form != Form::Latin1 {
            return header.into_bytes();
        }
        let quoted = header.strip_prefix("Digest username=\"").unwrap();
        let mut out = b"Digest username=\"".to_vec();
        let mut escaped = false;
        for (i, c) in quoted.char_indices() {
            if c == '"' && !escaped {
                out.extend_from_slice(&quoted.as_bytes()[i..]);
                return out;
            }
            escaped = c == '\\' && !escaped;
            out.push(u8::try_from(u32::from(c)).expect("not an ISO-8859-1 name"));
        }
        panic!("no end to the quoted name in {header}");
    }
}

/// Checks an `Authentication-Info` value against the request it answers: `rspauth`
/// recomputed with `digest::rspauth`, `qop`, `nc` and `cnonce` echoed.
#[track_caller]
fn check_info(info: &str, hand: &Hand) {
    let parsed = AuthenticationInfo::parse(info.as_bytes()).unwrap();
    assert_eq!(
        parsed.rspauth().unwrap().to_str().unwrap(),
        hand.rspauth().as_str(),
        "rspauth of {info}"
    );
    assert_eq!(parsed.qop(), hand.qop, "qop of {info}");
    assert_eq!(
        parsed.nc(),
        hand.qop.and(hand.nc.map(NonceCount::new)),
        "nc of {info}"
    );
    assert_eq!(
        parsed.cnonce().map(|c| c.unescaped().into_owned()),
        hand.qop
            .and(hand.cnonce.as_ref().map(|c| c.as_bytes().to_vec())),
        "cnonce of {info}"
    );
}

fn nextnonce(info: &str) -> Option<String> {
    AuthenticationInfo::parse(info.as_bytes())
        .unwrap()
        .nextnonce()
        .map(|n| n.to_str().unwrap().into_owned())
}

// ---------------------------------------------------------------------------------------------
// RFC 7616 §3.9.
// ---------------------------------------------------------------------------------------------

const RFC7616_391_CHALLENGE_SHA256: &str = r#"Digest
    realm="http-auth@example.org",
    qop="auth, auth-int",
    algorithm=SHA-256,
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;

const RFC7616_391_CHALLENGE_MD5: &str = r#"Digest
    realm="http-auth@example.org",
    qop="auth, auth-int",
    algorithm=MD5,
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;

const RFC7616_391_MD5: &str = r#"Digest username="Mufasa",
    realm="http-auth@example.org",
    uri="/dir/index.html",
    algorithm=MD5,
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    nc=00000001,
    cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    qop=auth,
    response="8ca523f5e9506fed4657c9700eebdbec",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;

const RFC7616_391_SHA256: &str = r#"Digest username="Mufasa",
    realm="http-auth@example.org",
    uri="/dir/index.html",
    algorithm=SHA-256,
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    nc=00000001,
    cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    qop=auth,
    response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;

const RFC7616_392_CHALLENGE: &str = r#"Digest
    realm="api@example.org",
    qop="auth",
    algorithm=SHA-512-256,
    nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
    opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS",
    charset=UTF-8,
    userhash=true"#;

/// The corrected values of erratum 4897 (FIPS 180-4 SHA-512/256).
const RFC7616_392_USERHASH: &str = r#"Digest
    username="793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b",
    realm="api@example.org",
    uri="/doe.json",
    algorithm=SHA-512-256,
    nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
    nc=00000001,
    cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
    qop=auth,
    response="3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5",
    opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS",
    userhash=true"#;

const RFC7616_392_USERNAME_STAR: &str = r#"Digest
    username*=UTF-8''J%C3%A4s%C3%B8n%20Doe,
    realm="api@example.org",
    uri="/doe.json",
    algorithm=SHA-512-256,
    nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
    nc=00000001,
    cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
    qop=auth,
    response="3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5",
    opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS",
    userhash=false"#;

/// The §3.9.2 server: SHA-512-256 only, `auth`, `charset=UTF-8`, `userhash=true`.
fn config_392() -> VerifierConfig {
    VerifierConfig::new(REALM_392)
        .with_algorithms([Algorithm::Sha512_256])
        .with_qop(QopOptions::AUTH)
        .with_userhash(true)
        .with_opaque(OPAQUE_392)
}

/// Replaces the first (and only) `nonce="..."` value of an RFC text.
fn replace_nonce(text: &str, from: &str, to: &str) -> String {
    let pattern = format!("nonce=\"{from}\"");
    assert_eq!(text.matches(&pattern).count(), 1, "{text}");
    text.replacen(&pattern, &format!("nonce=\"{to}\""), 1)
}

/// The RFC's `Authorization` line with the RFC's nonce swapped for `issued` (a nonce the
/// verifier issued) and `response` recomputed over it; every other byte is the RFC's.
///
/// Why: the verifier only accepts nonces that carry its own HMAC, and its public API has no
/// hook to accept or inject an external nonce (no `NonceSource`/`NonceValidator`, no
/// `verify_with_nonce_check`). So the RFC's line cannot be verified as printed; this keeps
/// everything but the nonce and the response it determines. The recomputation is anchored:
/// with the RFC's own nonce it must reproduce the RFC's `response`.
fn with_issued_nonce(rfc_line: &str, user: &str, password: &str, issued: &str) -> String {
    let creds = DigestCredentials::parse(rfc_line.as_bytes()).unwrap();
    let alg = creds.algorithm().unwrap();
    let rfc_nonce = creds.nonce().to_str().unwrap().into_owned();
    let rfc_response = creds.response().to_str().unwrap().into_owned();
    let cnonce = creds.cnonce().unwrap().unescaped().into_owned();
    let qop = QopParams {
        qop: creds.qop().unwrap(),
        nc: creds.nc().unwrap(),
        cnonce: &cnonce,
    };
    let ha1 = digest::ha1(
        alg,
        user.as_bytes(),
        &creds.realm().unescaped(),
        password.as_bytes(),
    );
    let ha2 = digest::ha2(alg, b"GET", &creds.uri().unescaped(), None);
    let recompute = |nonce: &str| digest::response(alg, &ha1, nonce.as_bytes(), Some(qop), &ha2);
    assert_eq!(
        recompute(&rfc_nonce).as_str(),
        rfc_response,
        "the recomputation does not reproduce the RFC's response"
    );
    let new_response = recompute(issued);
    let line = replace_nonce(rfc_line, &rfc_nonce, issued);
    let pattern = format!("response=\"{rfc_response}\"");
    assert_eq!(line.matches(&pattern).count(), 1);
    let line = line.replacen(
        &pattern,
        &format!("response=\"{}\"", new_response.as_str()),
        1,
    );
    // Only those two values differ from the RFC's text.
    assert_eq!(
        replace_nonce(&line, issued, &rfc_nonce).replacen(new_response.as_str(), &rfc_response, 1),
        rfc_line
    );
    line
}

#[test]
fn rfc7616_391_challenges_are_the_rfcs_but_for_the_nonce() {
    let mut config = config();
    config.charset_utf8 = false; // the §3.9.1 challenges carry no charset
    let fx = Fx::new(config);
    let challenges = fx.challenges(NOW, false);
    // One fresh nonce, shared by the challenges of one 401.
    let nonce = challenge_nonce(&challenges[0]);
    assert_ne!(nonce, challenge_nonce(&fx.challenges(NOW, false)[0]));
    // The RFC folds its example over lines; on the wire (and here) a field is one line.
    let unfold = |s: &str| s.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    let expected: Vec<String> = [RFC7616_391_CHALLENGE_SHA256, RFC7616_391_CHALLENGE_MD5]
        .iter()
        .map(|c| {
            replace_nonce(
                &unfold(c),
                "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                &nonce,
            )
        })
        .collect();
    assert_eq!(challenges, expected);

    let challenges = Fx::new(config_392()).challenges(NOW, false);
    assert_eq!(
        challenges,
        [replace_nonce(
            &unfold(RFC7616_392_CHALLENGE),
            "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
            &challenge_nonce(&challenges[0])
        )]
    );
}

/// The nonce of a `WWW-Authenticate` value.
fn challenge_nonce(challenge: &str) -> String {
    httpdigest::DigestChallenge::parse(challenge.as_bytes())
        .unwrap()
        .nonce()
        .to_str()
        .unwrap()
        .into_owned()
}

#[test]
fn rfc7616_391_md5_and_sha256_lines_verify() {
    for (rfc_line, alg, rfc_rspauth) in [
        (
            RFC7616_391_MD5,
            Algorithm::Md5,
            // Derived (not printed in the RFC): rspauth over the §3.9.1 inputs.
            "9b712497bc9f91499fbcca1dfc5f09a5",
        ),
        (
            RFC7616_391_SHA256,
            Algorithm::Sha256,
            "86d3b25618d41854ca5039a5d7e53ff6355d5134a9b1fb088a78ac3c462195a0",
        ),
    ] {
        let fx = Fx::new(config());
        let issued = fx.nonce(NOW);
        let line = with_issued_nonce(rfc_line, USER, PASS, &issued);
        let ok = assert_accepted(fx.verify(URI, "GET", Some(&line), None, NOW), USER);

        // Authentication-Info: rspauth as digest::rspauth computes it (anchored on the derived
        // vector for the RFC's nonce), qop, nc and cnonce echoed, no nextnonce yet.
        let hand = Hand::new(&issued).with(|h| h.algorithm = Some(alg.name().into()));
        let with_rfc_nonce = hand
            .clone()
            .with(|h| h.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v".into());
        assert_eq!(with_rfc_nonce.rspauth().as_str(), rfc_rspauth);
        assert_eq!(hand.header(), {
            // The hand-built line is the substituted RFC line, unfolded.
            line.lines().map(str::trim).collect::<Vec<_>>().join(" ")
        });
        check_info(&ok.authentication_info, &hand);
        assert_eq!(nextnonce(&ok.authentication_info), None);

        // Sent again: the nonce count is a replay.
        assert_rejected(
            fx.verify(URI, "GET", Some(&line), None, NOW),
            401,
            false,
            Reason::ReplayedNonceCount,
        );
    }
}

#[test]
fn rfc7616_392_userhash_line_verifies() {
    let fx = Fx::new(config_392());
    let issued = fx.nonce(NOW);
    let line = with_issued_nonce(RFC7616_392_USERHASH, JASON, JASON_PASS, &issued);
    let ok = assert_accepted(fx.verify("/doe.json", "GET", Some(&line), None, NOW), JASON);
    let hand = Hand::new(&issued).with(|h| {
        h.user = JASON.into();
        h.password = JASON_PASS.into();
        h.realm = REALM_392.into();
        h.uri = "/doe.json".into();
        h.algorithm = Some("SHA-512-256".into());
        h.cnonce = Some("NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v".into());
        h.opaque = Some(OPAQUE_392.into());
        h.form = Form::Hashed;
    });
    check_info(&ok.authentication_info, &hand);
}

#[test]
fn rfc7616_392_username_star_line_verifies() {
    let fx = Fx::new(config_392());
    let issued = fx.nonce(NOW);
    let line = with_issued_nonce(RFC7616_392_USERNAME_STAR, JASON, JASON_PASS, &issued);
    let ok = assert_accepted(fx.verify("/doe.json", "GET", Some(&line), None, NOW), JASON);
    let hand = Hand::new(&issued).with(|h| {
        h.user = JASON.into();
        h.password = JASON_PASS.into();
        h.realm = REALM_392.into();
        h.uri = "/doe.json".into();
        h.algorithm = Some("SHA-512-256".into());
        h.cnonce = Some("NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v".into());
        h.opaque = Some(OPAQUE_392.into());
        h.form = Form::Extended;
    });
    check_info(&ok.authentication_info, &hand);
}

/// The RFC's lines as printed carry nonces this verifier did not issue: forged, and the
/// public API offers no way to tell the verifier otherwise (see `with_issued_nonce`).
#[test]
fn rfc_nonces_are_refused_as_forged() {
    let fx = Fx::new(config());
    for line in [RFC7616_391_MD5, RFC7616_391_SHA256] {
        assert_rejected(
            fx.verify(URI, "GET", Some(line), None, NOW),
            401,
            false,
            Reason::ForgedNonce,
        );
    }
    let fx = Fx::new(config_392());
    for line in [RFC7616_392_USERHASH, RFC7616_392_USERNAME_STAR] {
        assert_rejected(
            fx.verify("/doe.json", "GET", Some(line), None, NOW),
            401,
            false,
            Reason::ForgedNonce,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Rejections.
// ---------------------------------------------------------------------------------------------

#[test]
fn replayed_nonce_count() {
    let fx = Fx::new(config());
    let hand = Hand::new(&fx.nonce(NOW));
    assert_accepted(fx.send(&hand, NOW), USER);
    assert_rejected(fx.send(&hand, NOW), 401, false, Reason::ReplayedNonceCount);
    // With another cnonce, the same count is still a replay.
    let other_cnonce = hand.clone().with(|h| h.cnonce = Some("abcdef".into()));
    assert_rejected(
        fx.send(&other_cnonce, NOW),
        401,
        false,
        Reason::ReplayedNonceCount,
    );
    assert_accepted(fx.send(&hand.with(|h| h.nc = Some(2)), NOW), USER);
}

#[test]
fn lower_nonce_count() {
    let fx = Fx::new(config());
    let hand = Hand::new(&fx.nonce(NOW));
    assert_accepted(fx.send(&hand.clone().with(|h| h.nc = Some(70)), NOW), USER);
    // Overtaken on the way (concurrent requests): a lower count not seen yet is accepted,
    // once.
    assert_accepted(fx.send(&hand.clone().with(|h| h.nc = Some(69)), NOW), USER);
    // Seen already, or too far below the highest count (the window spans 64) to tell.
    for nc in [69, 70, 6, 1] {
        assert_rejected(
            fx.send(&hand.clone().with(|h| h.nc = Some(nc)), NOW),
            401,
            false,
            Reason::ReplayedNonceCount,
        );
    }
    // Gaps are fine (requests may be lost).
    assert_accepted(fx.send(&hand.with(|h| h.nc = Some(90)), NOW), USER);
}

#[test]
fn forged_nonce_wrong_key() {
    let fx = Fx::new(config());
    let foreign = Verifier::new(config(), OTHER_KEY)
        .unwrap()
        .nonce(NOW, &mut TestRng::new(1))
        .unwrap();
    assert_eq!(foreign.len(), fx.nonce(NOW).len());
    // The response is right for the foreign nonce: only the nonce is wrong.
    assert_rejected(
        fx.send(&Hand::new(&foreign), NOW),
        401,
        false,
        Reason::ForgedNonce,
    );
}

#[test]
fn forged_nonce_tampered() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    // 16 hex digits of issue time, 16 of salt, 32 of MAC.
    assert_eq!(nonce.len(), 64);
    let (time, rest) = nonce.split_at(16);
    assert_eq!(u64::from_str_radix(time, 16).unwrap(), NOW);
    let flip = |at: usize| {
        let mut bytes = nonce.clone().into_bytes();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        String::from_utf8(bytes).unwrap()
    };
    for tampered in [
        // Claims to be younger, or older, than it is: the MAC covers the time.
        format!("{:016x}{rest}", NOW + 100),
        format!("{:016x}{rest}", NOW - 1),
        // Another salt, or a changed MAC.
        flip(20),
        flip(63),
        nonce.to_uppercase(),
        nonce[..40].to_owned(),
        format!("{nonce}00"),
        String::new(),
    ] {
        assert_rejected(
            fx.send(&Hand::new(&tampered), NOW),
            401,
            false,
            Reason::ForgedNonce,
        );
    }
}

#[test]
fn expired_nonce_right_password_is_stale() {
    let fx = Fx::new(config());
    let hand = Hand::new(&fx.nonce(NOW));
    // Valid up to and including its lifetime (300 s), stale after.
    assert_accepted(fx.send(&hand, NOW + 300), USER);
    assert_rejected(
        fx.send(&hand.clone().with(|h| h.nc = Some(2)), NOW + 301),
        401,
        true,
        Reason::ExpiredNonce,
    );
    // A nonce from the future (beyond the clock skew) is not trusted either.
    let future = Hand::new(&fx.nonce(NOW + 60));
    assert_rejected(fx.send(&future, NOW), 401, true, Reason::ExpiredNonce);
    // The new challenges carry stale=true and a fresh nonce that works.
    let challenges = fx.challenges(NOW + 301, true);
    assert!(challenges.iter().all(|c| c.contains(", stale=true")));
    let fresh = challenge_nonce(&challenges[0]);
    assert_ne!(fresh, hand.nonce);
    assert_accepted(fx.send(&Hand::new(&fresh), NOW + 301), USER);
}

#[test]
fn expired_nonce_wrong_password_is_not_stale() {
    let fx = Fx::new(config());
    let hand = Hand::new(&fx.nonce(NOW)).with(|h| h.password = "Circle Of Life".into());
    assert_rejected(fx.send(&hand, NOW + 301), 401, false, Reason::WrongPassword);
    // Nor for an unknown user: stale would tell that the user exists.
    let nobody = Hand::new(&fx.nonce(NOW)).with(|h| h.user = "Scar".into());
    assert_rejected(fx.send(&nobody, NOW + 301), 401, false, Reason::UnknownUser);
}

#[test]
fn wrong_uri() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    // A response computed correctly, but over another URI than the one requested.
    for uri in [
        "/dir/other.html",
        "/dir/index.html?x=1",
        "/dir/index.htm",
        "dir/index.html",
        "http://www.example.org/dir/other.html",
        "*",
        "",
    ] {
        let hand = Hand::new(&nonce).with(|h| h.uri = uri.into());
        assert_rejected(
            fx.verify(URI, "GET", Some(&hand.header()), None, NOW),
            400,
            false,
            Reason::UriMismatch,
        );
    }
    // The query is part of the request-target.
    let hand = Hand::new(&nonce);
    assert_rejected(
        fx.verify(
            "/dir/index.html?x=1",
            "GET",
            Some(&hand.header()),
            None,
            NOW,
        ),
        400,
        false,
        Reason::UriMismatch,
    );
}

#[test]
fn absolute_form_uri_of_the_same_path_is_accepted() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    for (n, (uri, target)) in [
        ("http://www.example.org/dir/index.html", "/dir/index.html"),
        (
            "https://WWW.example.org:443/a/b?x=1&y=%20",
            "/a/b?x=1&y=%20",
        ),
        ("HTTP://www.example.org", "/"),
    ]
    .into_iter()
    .enumerate()
    {
        let hand = Hand::new(&nonce).with(|h| {
            h.uri = uri.into();
            h.nc = Some(u32::try_from(n).unwrap() + 1);
        });
        let ok = assert_accepted(
            fx.verify(target, "GET", Some(&hand.header()), None, NOW),
            USER,
        );
        // rspauth is over the uri as the client sent it.
        check_info(&ok.authentication_info, &hand);
    }
}

/// An absolute-form `uri` must name the request's own authority: a request for another host
/// (or port) is not this one, whatever its path; without the authority it cannot be checked.
#[test]
fn absolute_form_uri_of_another_authority_is_refused() {
    let mut fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    for (n, uri) in [
        "http://other.example.org/dir/index.html",
        "http://www.example.org:8080/dir/index.html",
        "https://www.example.org:80/dir/index.html",
    ]
    .into_iter()
    .enumerate()
    {
        let hand = Hand::new(&nonce).with(|h| {
            h.uri = uri.into();
            h.nc = Some(u32::try_from(n).unwrap() + 1);
        });
        assert_rejected(
            fx.verify("/dir/index.html", "GET", Some(&hand.header()), None, NOW),
            400,
            false,
            Reason::UriMismatch,
        );
    }
    fx.authority = None;
    let hand = Hand::new(&nonce).with(|h| h.uri = "http://www.example.org/dir/index.html".into());
    assert_rejected(
        fx.verify("/dir/index.html", "GET", Some(&hand.header()), None, NOW),
        400,
        false,
        Reason::UriMismatch,
    );
    // The origin-form needs no authority.
    assert_accepted(
        fx.send(&Hand::new(&nonce).with(|h| h.nc = Some(9)), NOW),
        USER,
    );
}

/// `nc=00000000` is no count: they start at 1.
#[test]
fn nonce_count_zero_is_refused() {
    let fx = Fx::new(config());
    let hand = Hand::new(&fx.nonce(NOW)).with(|h| h.nc = Some(0));
    assert_rejected(fx.send(&hand, NOW), 400, false, Reason::ZeroNonceCount);
}

/// `OPTIONS *` names no path: its `uri` is `*`.
#[test]
fn options_asterisk_is_verified_as_asterisk() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    let hand = Hand::new(&nonce).with(|h| {
        h.method = "OPTIONS".into();
        h.uri = "*".into();
    });
    assert_accepted(
        fx.verify("*", "OPTIONS", Some(&hand.header()), None, NOW),
        USER,
    );
    let slash = Hand::new(&nonce).with(|h| {
        h.method = "OPTIONS".into();
        h.uri = "/*".into();
        h.nc = Some(2);
    });
    assert_rejected(
        fx.verify("*", "OPTIONS", Some(&slash.header()), None, NOW),
        400,
        false,
        Reason::UriMismatch,
    );
}

/// A forward proxy receives the absolute form; curl still puts the path in `uri` (Squid
/// accepts it). Another path is still refused.
#[test]
fn path_uri_for_an_absolute_form_target_is_accepted() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    let hand = Hand::new(&nonce).with(|h| h.uri = "/hello.txt?x=1".into());
    let ok = assert_accepted(
        fx.verify(
            "http://127.0.0.1:18085/hello.txt?x=1",
            "GET",
            Some(&hand.header()),
            None,
            NOW,
        ),
        USER,
    );
    check_info(&ok.authentication_info, &hand);
    let other = Hand::new(&nonce).with(|h| {
        h.uri = "/other.txt".into();
        h.nc = Some(2);
    });
    assert_rejected(
        fx.verify(
            "http://127.0.0.1:18085/hello.txt",
            "GET",
            Some(&other.header()),
            None,
            NOW,
        ),
        400,
        false,
        Reason::UriMismatch,
    );
}

/// RFC 9112 §3.2.1: an empty path is sent as "/" in origin-form, so the absolute form
/// `http://host?q` names the request-target `/?q`.
#[test]
fn absolute_form_uri_with_empty_path_and_query_is_accepted() {
    let fx = Fx::new(config());
    let hand = Hand::new(&fx.nonce(NOW)).with(|h| h.uri = "http://www.example.org?x=1".into());
    assert_accepted(
        fx.verify("/?x=1", "GET", Some(&hand.header()), None, NOW),
        USER,
    );
}

/// A `-sess` H(A1) hashes the client's cnonce, which goes only with a qop: without qop the
/// session algorithms are neither offered nor accepted (no client could answer them).
#[test]
fn session_algorithms_need_a_qop() {
    let config = VerifierConfig::new(REALM)
        .with_algorithms([Algorithm::Md5Sess, Algorithm::Sha256Sess, Algorithm::Md5])
        .with_qop(QopOptions::NONE);
    let fx = Fx::new(config);
    let challenges = fx.challenges(NOW, false);
    assert_eq!(challenges.len(), 1, "{challenges:?}");
    assert!(
        challenges[0].contains("algorithm=MD5,") || challenges[0].ends_with("algorithm=MD5"),
        "{}",
        challenges[0]
    );
    let nonce = fx.nonce(NOW);
    let hand = Hand::new(&nonce).with(|h| {
        h.algorithm = Some("MD5-sess".into());
        h.qop = None;
        h.nc = None;
        h.cnonce = None;
    });
    assert_rejected(fx.send(&hand, NOW), 401, false, Reason::AlgorithmNotOffered);
}

#[test]
fn unknown_algorithm() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    for token in ["SHA-384", "SHA-1", "sha256", "MD5-SESSION"] {
        let hand = Hand::new(&nonce).with(|h| h.algorithm = Some(token.into()));
        assert_rejected(fx.send(&hand, NOW), 401, false, Reason::AlgorithmNotOffered);
    }
    // Tokens match ignoring case.
    let lower = Hand::new(&nonce).with(|h| h.algorithm = Some("sha-256".into()));
    assert_accepted(fx.send(&lower, NOW), USER);
}

#[test]
fn algorithm_not_offered() {
    let fx = Fx::new(config()); // SHA-256 and MD5
    let nonce = fx.nonce(NOW);
    for alg in Algorithm::ALL {
        if matches!(alg, Algorithm::Sha256 | Algorithm::Md5) {
            continue;
        }
        let hand = Hand::new(&nonce).with(|h| h.algorithm = Some(alg.name().into()));
        assert_rejected(fx.send(&hand, NOW), 401, false, Reason::AlgorithmNotOffered);
    }
    // No algorithm parameter means MD5, which a SHA-256-only server did not offer.
    let fx = Fx::new(config().with_algorithms([Algorithm::Sha256]));
    let hand = Hand::new(&fx.nonce(NOW)).with(|h| h.algorithm = None);
    assert_rejected(fx.send(&hand, NOW), 401, false, Reason::AlgorithmNotOffered);
    let md5 = Hand::new(&fx.nonce(NOW)).with(|h| h.algorithm = Some("MD5".into()));
    assert_rejected(fx.send(&md5, NOW), 401, false, Reason::AlgorithmNotOffered);
    // Where MD5 is offered, the absent parameter is MD5.
    let fx = Fx::new(config());
    let hand = Hand::new(&fx.nonce(NOW)).with(|h| h.algorithm = None);
    assert_accepted(fx.send(&hand, NOW), USER);
}

#[test]
fn qop_not_offered() {
    let fx = Fx::new(config().with_qop(QopOptions::AUTH));
    let nonce = fx.nonce(NOW);
    let auth_int = Hand::new(&nonce).with(|h| {
        h.qop = Some(Qop::AuthInt);
        h.method = "POST".into();
        h.body = b"{}".to_vec();
    });
    assert_rejected(fx.send(&auth_int, NOW), 401, false, Reason::QopNotOffered);
    // No qop at all (RFC 2069 style) where a qop was offered.
    let none = Hand::new(&nonce).with(|h| {
        h.qop = None;
        h.nc = None;
        h.cnonce = None;
    });
    assert_rejected(fx.send(&none, NOW), 401, false, Reason::QopNotOffered);
    let fx = Fx::new(config().with_qop(QopOptions::AUTH_INT));
    let auth = Hand::new(&fx.nonce(NOW));
    assert_rejected(fx.send(&auth, NOW), 401, false, Reason::QopNotOffered);
}

/// `qop-value = "auth" / "auth-int" / token` (RFC 7616 §3.4): a qop token this crate does
/// not implement is well-formed credentials with a qop not offered, 401 (not 400, which is
/// for credentials that do not parse), with a qop offered or none (RFC 2069).
#[test]
fn unknown_qop_token_is_not_offered() {
    for qop in [QopOptions::AUTH, QopOptions::BOTH, QopOptions::NONE] {
        let fx = Fx::new(config().with_algorithms([Algorithm::Sha256]).with_qop(qop));
        let hand = Hand::new(&fx.nonce(NOW));
        let header = hand.header().replace("qop=auth", "qop=auth-conf");
        assert!(
            header.contains("qop=auth-conf,") || header.ends_with("qop=auth-conf"),
            "{header}"
        );
        let got = fx.verify_bytes_with(
            &hand.uri,
            &hand.method,
            Some(header.as_bytes()),
            None,
            NOW,
            &fx.counts,
        );
        assert_rejected(got, 401, false, Reason::QopNotOffered);
    }
}

/// The body of an `auth-int` request is asked for only after its nonce proved ours: a
/// forged nonce is refused without it, so an attacker's uploads are not buffered.
#[test]
fn auth_int_with_a_forged_nonce_is_refused_before_the_body() {
    let fx = Fx::new(config());
    let foreign = Verifier::new(config(), OTHER_KEY)
        .unwrap()
        .nonce(NOW, &mut TestRng::new(1))
        .unwrap();
    let hand = Hand::new(&foreign).with(|h| {
        h.qop = Some(Qop::AuthInt);
        h.method = "PUT".into();
        h.body = b"the body".to_vec();
    });
    assert_rejected(
        fx.verify(URI, "PUT", Some(&hand.header()), None, NOW),
        401,
        false,
        Reason::ForgedNonce,
    );
}

#[test]
fn auth_int_needs_the_body() {
    let fx = Fx::new(config());
    let hand = Hand::new(&fx.nonce(NOW)).with(|h| {
        h.qop = Some(Qop::AuthInt);
        h.method = "PUT".into();
        h.body = b"the body".to_vec();
    });
    assert_rejected(
        fx.verify(URI, "PUT", Some(&hand.header()), None, NOW),
        401,
        false,
        Reason::BodyUnavailable,
    );
    // Another body than the one the response covers.
    assert_rejected(
        fx.verify(URI, "PUT", Some(&hand.header()), Some(b"the b0dy"), NOW),
        401,
        false,
        Reason::WrongPassword,
    );
    let ok = assert_accepted(fx.send(&hand, NOW), USER);
    assert_eq!(
        AuthenticationInfo::parse(ok.authentication_info.as_bytes())
            .unwrap()
            .qop(),
        Some(Qop::AuthInt)
    );
}

/// RFC 7616 §3.5: for `auth-int`, rspauth's A2 is `":" request-uri ":" H(entity-body)` of
/// the *response* body, which the verifier cannot know when it verifies the request.
#[test]
fn auth_int_rspauth_is_not_the_auth_formula() {
    let fx = Fx::new(config());
    let hand = Hand::new(&fx.nonce(NOW)).with(|h| {
        h.qop = Some(Qop::AuthInt);
        h.method = "PUT".into();
        h.body = b"the body".to_vec();
    });
    let ok = assert_accepted(fx.send(&hand, NOW), USER);
    let info = AuthenticationInfo::parse(ok.authentication_info.as_bytes()).unwrap();
    if let Some(rspauth) = info.rspauth() {
        // Whatever the response body, H(A2) includes its hash: never this value.
        assert!(
            !hand.rspauth().ct_eq(rspauth.raw()),
            "rspauth computed without H(response body): {}",
            ok.authentication_info
        );
    }
}

#[test]
fn username_and_username_star_together_are_malformed() {
    let fx = Fx::new(config());
    let header = Hand::new(&fx.nonce(NOW)).header();
    let both = header.replacen("Digest ", "Digest username*=UTF-8''Mufasa, ", 1);
    let rejection = fx
        .verify(URI, "GET", Some(&both), None, NOW)
        .expect_err("accepted both username and username*");
    assert_eq!((rejection.status(), rejection.stale()), (400, false));
    match rejection.reason() {
        Reason::Malformed(e) => assert_eq!(e.kind(), &ParseErrorKind::AmbiguousUsername),
        other => panic!("{other:?}"),
    }
}

#[test]
fn username_forms_are_all_accepted() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    for (nc, (user, password, form)) in [
        (USER, PASS, Form::Extended),
        (JASON, JASON_PASS, Form::Extended),
        // Raw UTF-8 in the quoted string (obs-text), as Apache and Squid accept it.
        (JASON, JASON_PASS, Form::Plain),
        // ISO-8859-1 bytes in the quoted string, the response over the UTF-8 form.
        (JASON, JASON_PASS, Form::Latin1),
    ]
    .into_iter()
    .enumerate()
    {
        let hand = Hand::new(&nonce).with(|h| {
            h.user = user.into();
            h.password = password.into();
            h.form = form;
            h.nc = Some(u32::try_from(nc).unwrap() + 1);
        });
        assert_accepted(fx.send(&hand, NOW), user);
    }
}

/// A [`CredentialStore`] that records every name it is asked for.
struct Asked {
    users: Users,
    names: RefCell<Vec<Vec<u8>>>,
}

impl CredentialStore for Asked {
    fn lookup(&self, username: &[u8], realm: &str) -> Option<StoredSecret> {
        self.names.borrow_mut().push(username.to_vec());
        self.users.lookup(username, realm)
    }
}

/// The users of [`Fx::new`] behind an [`Asked`], and the names it was asked for.
fn asked_fx() -> (Fx, std::rc::Rc<Asked>) {
    let mut users = Users::new(REALM);
    users.insert(USER, PASS);
    users.insert(JASON, JASON_PASS);
    let asked = std::rc::Rc::new(Asked {
        users,
        names: RefCell::new(Vec::new()),
    });
    struct Shared(std::rc::Rc<Asked>);
    impl CredentialStore for Shared {
        fn lookup(&self, username: &[u8], realm: &str) -> Option<StoredSecret> {
            self.0.lookup(username, realm)
        }
    }
    let fx = Fx::with_store(config(), Box::new(Shared(asked.clone())));
    (fx, asked)
}

/// The response of `hand` computed over the ISO-8859-1 bytes of its name instead of the
/// UTF-8 form: a client that hashes what it sends.
fn hashed_as_latin1(hand: &Hand) -> Vec<u8> {
    let latin1: Vec<u8> = hand
        .user
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let alg = hand.alg();
    let ha1 = digest::ha1(
        alg,
        &latin1,
        hand.realm.as_bytes(),
        hand.password.as_bytes(),
    );
    let ha2 = digest::ha2(alg, hand.method.as_bytes(), hand.uri.as_bytes(), None);
    let response = digest::response(alg, &ha1, hand.nonce.as_bytes(), hand.qop_params(), &ha2);
    let wire = hand.wire();
    let right = hand.response();
    let at = wire
        .windows(right.as_str().len())
        .position(|w| w == right.as_bytes())
        .unwrap();
    let mut out = wire[..at].to_vec();
    out.extend_from_slice(response.as_bytes());
    out.extend_from_slice(&wire[at + right.as_str().len()..]);
    out
}

#[test]
fn latin1_user_name_verifies_as_its_utf8_form() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    for (nc, algorithm) in [(1, "SHA-256"), (2, "MD5")] {
        let hand = Hand::new(&nonce).with(|h| {
            h.user = JASON.into();
            h.password = JASON_PASS.into();
            h.form = Form::Latin1;
            h.algorithm = Some(algorithm.into());
            h.nc = Some(nc);
        });
        let wire = hand.wire();
        assert!(
            wire.starts_with(b"Digest username=\"J\xe4s\xf8n Doe\""),
            "{}",
            String::from_utf8_lossy(&wire)
        );
        assert!(std::str::from_utf8(&wire).is_err());
        let ok = assert_accepted(fx.send(&hand, NOW), JASON);
        assert_eq!(ok.username_bytes, JASON.as_bytes());
        check_info(&ok.authentication_info, &hand);
        // Replay protection as for any name.
        assert_rejected(fx.send(&hand, NOW), 401, false, Reason::ReplayedNonceCount);
    }
}

#[test]
fn latin1_wrong_password_is_refused_as_an_unknown_user_is() {
    let (fx, asked) = asked_fx();
    let nonce = fx.nonce(NOW);
    let latin1 = |user: &str, password: &str, nc: u32| {
        Hand::new(&nonce).with(|h| {
            h.user = user.into();
            h.password = password.into();
            h.form = Form::Latin1;
            h.nc = Some(nc);
        })
    };
    let wrong = fx.send(&latin1(JASON, "not it", 1), NOW).unwrap_err();
    // An unknown name of the same length, in ISO-8859-1 too.
    let unknown = fx
        .send(&latin1("J\u{e4}s\u{f8}n Dof", JASON_PASS, 2), NOW)
        .unwrap_err();
    assert_eq!((wrong.status(), wrong.stale()), (401, false));
    assert_eq!(
        (unknown.status(), unknown.stale()),
        (wrong.status(), wrong.stale())
    );
    assert_eq!(wrong.reason(), &Reason::WrongPassword);
    assert_eq!(unknown.reason(), &Reason::UnknownUser);
    // The store was asked once each, for the UTF-8 form of the name: the same work.
    assert_eq!(
        *asked.names.borrow(),
        [JASON.as_bytes(), "J\u{e4}s\u{f8}n Dof".as_bytes()]
    );

    // A client that hashes the ISO-8859-1 bytes it sends proves no password: refused as a
    // wrong one, and the counts it used stay free.
    let hand = latin1(JASON, JASON_PASS, 3);
    let header = hashed_as_latin1(&hand);
    assert_rejected(
        fx.verify_bytes_with(URI, "GET", Some(&header), None, NOW, &fx.counts),
        401,
        false,
        Reason::WrongPassword,
    );
    assert_accepted(fx.send(&hand, NOW), JASON);
}

#[test]
fn utf8_names_and_username_star_and_userhash_are_read_as_before() {
    let mut users = Users::new(REALM);
    users.insert(JASON, JASON_PASS);
    // Two UTF-8 names whose ISO-8859-1 readings would be each other.
    users.insert("\u{e9}", "e-acute");
    users.insert("\u{c3}\u{a9}", "A-tilde copyright");
    let fx = Fx::with_store(config().with_userhash(true), Box::new(users));
    let nonce = fx.nonce(NOW);
    let mut nc = 0;
    let mut hand = |user: &str, password: &str, form: Form| {
        nc += 1;
        Hand::new(&nonce).with(|h| {
            h.user = user.into();
            h.password = password.into();
            h.form = form;
            h.nc = Some(nc);
        })
    };
    // Valid UTF-8 is UTF-8: raw "é" is é, not "Ã©".
    assert_accepted(
        fx.send(&hand("\u{e9}", "e-acute", Form::Plain), NOW),
        "\u{e9}",
    );
    assert_accepted(
        fx.send(&hand("\u{c3}\u{a9}", "A-tilde copyright", Form::Plain), NOW),
        "\u{c3}\u{a9}",
    );
    // "Ã©" in ISO-8859-1 is the bytes C3 A9, which are UTF-8 for "é": read as é, so the
    // response over "Ã©" does not match. UTF-8 is tried first, and wins.
    let ambiguous = hand("\u{c3}\u{a9}", "A-tilde copyright", Form::Latin1);
    assert_eq!(&ambiguous.wire()[..20], b"Digest username=\"\xc3\xa9\"");
    assert_rejected(fx.send(&ambiguous, NOW), 401, false, Reason::WrongPassword);
    // username*, in UTF-8 or ISO-8859-1, and userhash: as before.
    assert_accepted(
        fx.send(&hand(JASON, JASON_PASS, Form::Extended), NOW),
        JASON,
    );
    let star = hand(JASON, JASON_PASS, Form::Extended);
    let latin1_star = star.header().replacen(
        "username*=UTF-8''J%C3%A4s%C3%B8n%20Doe",
        "username*=ISO-8859-1''J%E4s%F8n%20Doe",
        1,
    );
    assert_ne!(latin1_star, star.header());
    assert_accepted(fx.verify(URI, "GET", Some(&latin1_star), None, NOW), JASON);
    assert_accepted(fx.send(&hand(JASON, JASON_PASS, Form::Hashed), NOW), JASON);
    // A userhash is matched as sent: one over the ISO-8859-1 bytes names nobody.
    let hashed = hand(JASON, JASON_PASS, Form::Hashed);
    let utf8_hash = digest::userhash(Algorithm::Sha256, JASON.as_bytes(), REALM.as_bytes());
    let latin1_hash = digest::userhash(Algorithm::Sha256, b"J\xe4s\xf8n Doe", REALM.as_bytes());
    let header = hashed
        .header()
        .replacen(utf8_hash.as_str(), latin1_hash.as_str(), 1);
    assert_rejected(
        fx.verify(URI, "GET", Some(&header), None, NOW),
        401,
        false,
        Reason::UnknownUser,
    );
}

#[test]
fn opaque_tampered_or_missing() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    for opaque in [
        Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdT"),
        Some(""),
        None,
    ] {
        let hand = Hand::new(&nonce).with(|h| h.opaque = opaque.map(Into::into));
        assert_rejected(fx.send(&hand, NOW), 401, false, Reason::OpaqueMismatch);
    }
    // An escaped but equal opaque is the same value.
    let header = Hand::new(&nonce).header().replacen(
        &format!("opaque=\"{OPAQUE}\""),
        &format!("opaque=\"\\{}\"", OPAQUE),
        1,
    );
    assert_accepted(fx.verify(URI, "GET", Some(&header), None, NOW), USER);
}

#[test]
fn unknown_user_looks_like_a_wrong_password() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    let wrong = fx
        .send(&Hand::new(&nonce).with(|h| h.password = "x".into()), NOW)
        .unwrap_err();
    let unknown = fx
        .send(&Hand::new(&nonce).with(|h| h.user = "Scar".into()), NOW)
        .unwrap_err();
    assert_eq!((wrong.status(), wrong.stale()), (401, false));
    assert_eq!(
        (unknown.status(), unknown.stale()),
        (wrong.status(), wrong.stale())
    );
    assert_eq!(wrong.reason(), &Reason::WrongPassword);
    assert_eq!(unknown.reason(), &Reason::UnknownUser);
    // The user name is case-sensitive.
    assert_rejected(
        fx.send(&Hand::new(&nonce).with(|h| h.user = "mufasa".into()), NOW),
        401,
        false,
        Reason::UnknownUser,
    );
}

#[test]
fn missing_or_non_digest_credentials() {
    let fx = Fx::new(config());
    assert_rejected(
        fx.verify(URI, "GET", None, None, NOW),
        401,
        false,
        Reason::MissingCredentials,
    );
    for other in [
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "basic TXVmYXNhOkNpcmNsZSBvZiBMaWZl",
        "Bearer mF_9.B5f-4.1JqM",
    ] {
        assert_rejected(
            fx.verify(URI, "GET", Some(other), None, NOW),
            401,
            false,
            Reason::NotDigest,
        );
    }
}

#[test]
fn qop_without_nc_or_cnonce() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    for hand in [
        Hand::new(&nonce).with(|h| h.nc = None),
        Hand::new(&nonce).with(|h| h.cnonce = None),
        Hand::new(&nonce).with(|h| {
            h.nc = None;
            h.cnonce = None;
        }),
    ] {
        assert_rejected(
            fx.send(&hand, NOW),
            400,
            false,
            Reason::MissingNonceCountOrCnonce,
        );
    }
}

#[test]
fn userhash_not_offered() {
    let fx = Fx::new(config());
    let hand = Hand::new(&fx.nonce(NOW)).with(|h| h.form = Form::Hashed);
    assert_rejected(fx.send(&hand, NOW), 401, false, Reason::UserhashNotOffered);
    // Offered, the same request is fine; an unknown userhash is an unknown user.
    let fx = Fx::new(config().with_userhash(true));
    let hand = Hand::new(&fx.nonce(NOW)).with(|h| h.form = Form::Hashed);
    assert_accepted(fx.send(&hand, NOW), USER);
    let nobody = hand.with(|h| {
        h.user = "Scar".into();
        h.nc = Some(2);
    });
    assert_rejected(fx.send(&nobody, NOW), 401, false, Reason::UnknownUser);
}

/// `count` users, `user0` to `user{count - 1}`, in the realm of [`config`].
fn many_users(count: usize) -> Users {
    let mut users = Users::new(REALM);
    for i in 0..count {
        users.insert(format!("user{i}"), format!("password {i}"));
    }
    users
}

/// Among 3,000 users, every hash function finds each user by the userhash of its own, and
/// nobody by another realm's, another function's or a truncated one. (That the lookup costs
/// the same among 3,000 users as among one, known or not, is measured in
/// `benches/stores.rs`: speed is a benchmark's matter, not a test's.)
#[test]
fn userhash_lookups_find_each_user_among_many() {
    let hash_functions = [
        Algorithm::Md5,
        Algorithm::Sha1Sess,
        Algorithm::Sha256,
        Algorithm::Sha512,
        Algorithm::Sha512_256Sess,
    ];
    for count in [1, 3_000] {
        let users = many_users(count);
        for i in [0, count / 2, count - 1] {
            let name = format!("user{i}");
            for algorithm in hash_functions {
                let hash = digest::userhash(algorithm, name.as_bytes(), REALM.as_bytes());
                let (found, secret) = users
                    .lookup_userhash(hash.as_bytes(), REALM, algorithm)
                    .unwrap_or_else(|| panic!("{name} {algorithm}"));
                assert_eq!(found, name);
                let StoredSecret::Password(password) = secret else {
                    panic!("{secret:?}")
                };
                assert_eq!(password.as_str(), format!("password {i}"));
                // Another realm's, another hash function's or a truncated userhash: nobody.
                assert!(
                    users
                        .lookup_userhash(hash.as_bytes(), "other", algorithm)
                        .is_none()
                );
                let other = match algorithm.hex_len() {
                    64 => Algorithm::Md5,
                    _ => Algorithm::Sha256,
                };
                assert!(
                    users
                        .lookup_userhash(hash.as_bytes(), REALM, other)
                        .is_none()
                );
                let short = &hash.as_bytes()[..hash.as_bytes().len() - 1];
                assert!(users.lookup_userhash(short, REALM, algorithm).is_none());
            }
        }
    }
}

#[test]
fn wrong_realm() {
    let fx = Fx::new(config());
    let nonce = fx.nonce(NOW);
    for realm in [
        "api@example.org",
        "http-auth@example.org ",
        "HTTP-AUTH@example.org",
    ] {
        let hand = Hand::new(&nonce).with(|h| h.realm = realm.into());
        assert_rejected(fx.send(&hand, NOW), 401, false, Reason::WrongRealm);
    }
}

#[test]
fn nextnonce_only_near_the_end_of_the_nonce_lifetime() {
    // 300 s lifetime, nextnonce in the last tenth (30 s) by default.
    let fx = Fx::new(config());
    assert_eq!(fx.verifier.config().nextnonce_within, None);
    let hand = Hand::new(&fx.nonce(NOW));
    for (nc, at, expect_next) in [
        (1, NOW, false),
        (2, NOW + 269, false),
        (3, NOW + 270, true),
        (4, NOW + 300, true),
    ] {
        let hand = hand.clone().with(|h| h.nc = Some(nc));
        let ok = assert_accepted(fx.send(&hand, at), USER);
        check_info(&ok.authentication_info, &hand);
        let next = nextnonce(&ok.authentication_info);
        assert_eq!(next.is_some(), expect_next, "at +{}", at - NOW);
        if let Some(next) = next {
            // A nonce of this verifier, issued now, and usable at once.
            assert_ne!(next, hand.nonce);
            assert_eq!(u64::from_str_radix(&next[..16], 16).unwrap(), at);
            let ok = assert_accepted(
                fx.send(&Hand::new(&next).with(|h| h.nc = Some(nc)), at),
                USER,
            );
            assert_eq!(nextnonce(&ok.authentication_info), None);
        }
    }
    assert_rejected(
        fx.send(&hand.with(|h| h.nc = Some(9)), NOW + 301),
        401,
        true,
        Reason::ExpiredNonce,
    );
}

#[test]
fn authentication_info_for_every_algorithm() {
    let fx = Fx::new(
        config()
            .with_algorithms(Algorithm::ALL)
            .with_opaque(r#"o"p\aque"#),
    );
    let nonce = fx.nonce(NOW);
    for (i, alg) in Algorithm::ALL.into_iter().enumerate() {
        let hand = Hand::new(&nonce).with(|h| {
            h.algorithm = Some(alg.name().into());
            h.nc = Some(u32::try_from(i).unwrap() + 1);
            // A cnonce that must be quoted with escapes when echoed.
            h.cnonce = Some(format!(r#"c"n\once-{i}"#));
            h.opaque = Some(r#"o"p\aque"#.into());
        });
        let ok = assert_accepted(fx.send(&hand, NOW), USER);
        // rspauth is over the session H(A1) for -sess: Hand::rspauth computes it so.
        check_info(&ok.authentication_info, &hand);
        // rspauth is not the request's own response (A2 has no method).
        let info = AuthenticationInfo::parse(ok.authentication_info.as_bytes()).unwrap();
        assert_ne!(
            info.rspauth().unwrap().raw(),
            hand.response().as_bytes(),
            "{alg}"
        );
        assert_eq!(info.rspauth().unwrap().raw().len(), alg.hex_len());
    }
}

/// A [`NonceCountStore`] that counts the calls.
struct Recording {
    inner: MemoryNonceCounts,
    calls: Cell<usize>,
}

impl NonceCountStore for Recording {
    fn record(
        &self,
        nonce: &[u8],
        user: &[u8],
        issued_at: u64,
        nc: NonceCount,
        now: u64,
    ) -> NonceCountCheck {
        self.calls.set(self.calls.get() + 1);
        self.inner.record(nonce, user, issued_at, nc, now)
    }
}

#[test]
fn nonce_counts_are_not_touched_by_a_wrong_response() {
    let fx = Fx::new(config());
    let counts = Recording {
        inner: MemoryNonceCounts::new(100, 300),
        calls: Cell::new(0),
    };
    let nonce = fx.nonce(NOW);
    let right = Hand::new(&nonce);
    let send = |hand: &Hand, now: u64| {
        fx.verify_with(
            &hand.uri,
            &hand.method,
            Some(&hand.header()),
            Some(&hand.body),
            now,
            &counts,
        )
    };

    // A forged request with a high count cannot burn the client's counts.
    let forged = right.clone().with(|h| {
        h.password = "guess".into();
        h.nc = Some(5);
    });
    assert_rejected(send(&forged, NOW), 401, false, Reason::WrongPassword);
    let unknown = right.clone().with(|h| {
        h.user = "Scar".into();
        h.nc = Some(6);
    });
    assert_rejected(send(&unknown, NOW), 401, false, Reason::UnknownUser);
    let expired = right.clone().with(|h| h.nc = Some(7));
    assert_rejected(send(&expired, NOW + 301), 401, true, Reason::ExpiredNonce);
    let opaque = right.clone().with(|h| {
        h.opaque = None;
        h.nc = Some(8);
    });
    assert_rejected(send(&opaque, NOW), 401, false, Reason::OpaqueMismatch);
    assert_eq!(
        counts.calls.get(),
        0,
        "a count was recorded before the proof"
    );

    assert_accepted(send(&right, NOW), USER);
    assert_eq!(counts.calls.get(), 1);
    assert_accepted(send(&right.clone().with(|h| h.nc = Some(2)), NOW), USER);
    assert_rejected(send(&right, NOW), 401, false, Reason::ReplayedNonceCount);
}

/// Counts are kept per nonce and user. A nonce is not secret (it travels in every challenge
/// and request), so bob, a valid user, can send alice's nonce with the highest count and a
/// response right for his own password: that must not spend alice's counts on the nonce
/// (each of her next requests would be refused as a replay, a round trip each).
#[test]
fn another_user_cannot_spend_a_users_counts_on_her_nonce() {
    let mut users = Users::new(REALM);
    users.insert("alice", "s3cret");
    users.insert("bob", "hunter2");
    let fx = Fx::with_store(config().with_userhash(true), Box::new(users));
    let nonce = fx.nonce(NOW);
    let alice = |nc: u32| {
        Hand::new(&nonce).with(|h| {
            h.user = "alice".into();
            h.password = "s3cret".into();
            h.nc = Some(nc);
        })
    };
    let bob = Hand::new(&nonce).with(|h| {
        h.user = "bob".into();
        h.password = "hunter2".into();
        h.nc = Some(u32::MAX);
    });
    assert_accepted(fx.send(&alice(1), NOW), "alice");
    assert_accepted(fx.send(&bob, NOW), "bob");
    // Alice's next count on her nonce is still hers.
    assert_accepted(fx.send(&alice(2), NOW), "alice");
    // Each user's replays are still refused...
    assert_rejected(fx.send(&bob, NOW), 401, false, Reason::ReplayedNonceCount);
    assert_rejected(
        fx.send(&alice(2), NOW),
        401,
        false,
        Reason::ReplayedNonceCount,
    );
    // ...whichever form of the name carries them: the counts are the resolved user's.
    let hashed = alice(2).with(|h| h.form = Form::Hashed);
    assert_rejected(
        fx.send(&hashed, NOW),
        401,
        false,
        Reason::ReplayedNonceCount,
    );
    let extended = alice(2).with(|h| h.form = Form::Extended);
    assert_rejected(
        fx.send(&extended, NOW),
        401,
        false,
        Reason::ReplayedNonceCount,
    );
    assert_accepted(
        fx.send(&alice(3).with(|h| h.form = Form::Hashed), NOW),
        "alice",
    );
}

#[test]
fn evicted_nonce_counts_are_stale_not_replayable() {
    let mut fx = Fx::new(config());
    fx.counts = MemoryNonceCounts::new(1, 300);
    let client = Client::new(
        Credentials::new(USER, PASS),
        ClientConfig::default().with_require_mutual_auth(true),
    );
    let mut pair = fx.pair(client, 7);

    // The client authenticates with the nonce of NOW.
    let first = pair.get(URI);
    first.assert_done(2);
    let replay = first.sends[1]
        .authorization
        .clone()
        .unwrap()
        .text()
        .into_owned();

    // Another request, with a later nonce, takes the only slot.
    pair.now = NOW + 10;
    let nonce = pair.verifier.nonce(pair.now, &mut pair.server_rng).unwrap();
    let other = Hand::new(&nonce).with(|h| h.user = "alice".into());
    let other = other.with(|h| h.password = "s3cret".into());
    assert_accepted(send_hand(&mut pair, &other), "alice");

    // The replay of the client's request is not accepted: its history is gone, so stale.
    pair.now = NOW + 11;
    assert_rejected(
        pair.verify("GET", URI, Some(&replay), None),
        401,
        true,
        Reason::NonceCountForgotten,
    );
    // The client's next request (nc=2 on the forgotten nonce) is stale too, and the client
    // moves to the fresh nonce of the stale challenge.
    pair.now = NOW + 12;
    let next = pair.get(URI);
    next.assert_done(2);
    assert_rejected(
        next.verdicts[0].clone(),
        401,
        true,
        Reason::NonceCountForgotten,
    );
}

/// Nonces are salted now, so many share an issue second. When `MemoryNonceCounts` is full
/// and its oldest entries are from the current second, it drops them all and forgets every
/// nonce issued "at or before" that second: a nonce handed out this second and never used is
/// refused as `Forgotten` although the store has room, and so is the nonce of the stale
/// challenge that follows (same second): the client gives up (`RetriesExhausted`).
#[test]
fn eviction_does_not_lock_out_nonces_issued_in_the_same_second() {
    let mut fx = Fx::new(config());
    fx.counts = MemoryNonceCounts::new(2, 300);
    let nobody = Client::new(Credentials::new("", ""), ClientConfig::default());
    let mut pair = fx.pair(nobody, 13);
    // The third client fills the store (dropping the first two); the fourth is locked out.
    for (user, password) in [
        (USER, PASS),
        ("alice", "s3cret"),
        (JASON, JASON_PASS),
        (USER, PASS),
    ] {
        pair.client = Client::new(Credentials::new(user, password), ClientConfig::default());
        pair.get(URI).assert_done(2);
    }
}

#[test]
fn verifiers_sharing_the_key_accept_each_others_nonces() {
    let a = Fx::new(config());
    let b = Verifier::new(config(), KEY).unwrap();
    let c = Verifier::new(config(), OTHER_KEY).unwrap();
    let hand = Hand::new(&a.nonce(NOW));
    let counts = MemoryNonceCounts::new(100, 300);
    let mut rng = TestRng::new(2);
    let mut verify = |v: &Verifier, hand: &Hand| {
        let header = hand.header();
        let request = ServerRequest {
            method: "GET",
            target: URI,
            authority: None,
            authorization: Some(header.as_bytes()),
            body: None,
        };
        v.verify(&request, NOW, &*a.store, &counts, &mut rng)
    };
    assert_accepted(verify(&a.verifier, &hand), USER);
    // With a shared count store, a replay on the other instance is caught.
    assert_rejected(verify(&b, &hand), 401, false, Reason::ReplayedNonceCount);
    assert_accepted(verify(&b, &hand.clone().with(|h| h.nc = Some(2))), USER);
    // Another key: forged.
    assert_rejected(
        verify(&c, &hand.clone().with(|h| h.nc = Some(3))),
        401,
        false,
        Reason::ForgedNonce,
    );
    // Same key, another realm: forged too (the MAC covers the realm).
    let mut other_config = config();
    other_config.realm = "other@example.org".into();
    let other_realm = Verifier::new(other_config, KEY).unwrap();
    assert_rejected(
        verify(
            &other_realm,
            &hand.with(|h| {
                h.realm = "other@example.org".into();
                h.nc = Some(4);
            }),
        ),
        401,
        false,
        Reason::ForgedNonce,
    );
}

#[test]
fn htdigest_store() {
    let ha1 = digest::ha1(
        Algorithm::Md5,
        USER.as_bytes(),
        REALM.as_bytes(),
        PASS.as_bytes(),
    );
    let other = digest::ha1(Algorithm::Md5, b"alice", b"elsewhere", b"s3cret");
    let file = format!(
        "# htdigest -c .htdigest '{REALM}' Mufasa\n{USER}:{REALM}:{}\r\nalice:elsewhere:{}\n",
        ha1.as_str(),
        other.as_str()
    );
    let store = Htdigest::parse(&file, Algorithm::Md5).unwrap();
    assert_eq!(store.len(), 2);
    let config = config()
        .with_algorithms([Algorithm::Md5, Algorithm::Md5Sess, Algorithm::Sha256])
        .with_userhash(true);
    let fx = Fx::with_store(config, Box::new(store));
    let nonce = fx.nonce(NOW);

    for (nc, (alg, form)) in [
        ("MD5", Form::Plain),
        ("MD5-sess", Form::Plain),
        ("MD5", Form::Hashed),
        ("MD5-sess", Form::Extended),
    ]
    .into_iter()
    .enumerate()
    {
        let hand = Hand::new(&nonce).with(|h| {
            h.algorithm = Some(alg.into());
            h.form = form;
            h.nc = Some(u32::try_from(nc).unwrap() + 1);
        });
        let ok = assert_accepted(fx.send(&hand, NOW), USER);
        check_info(&ok.authentication_info, &hand);
    }

    // An MD5 H(A1) cannot answer SHA-256: refused as a wrong password is (401, the same
    // work), even with the password, but logged as what it is, not as a wrong password.
    let sha = Hand::new(&nonce).with(|h| h.nc = Some(10));
    assert_rejected(
        fx.send(&sha, NOW),
        401,
        false,
        Reason::StoredHashMismatch {
            stored: Algorithm::Md5,
            used: Algorithm::Sha256,
        },
    );
    // Wrong password, and a user of another realm.
    let wrong = Hand::new(&nonce).with(|h| {
        h.algorithm = Some("MD5".into());
        h.password = "Circle Of Life".into();
        h.nc = Some(11);
    });
    assert_rejected(fx.send(&wrong, NOW), 401, false, Reason::WrongPassword);
    let elsewhere = Hand::new(&nonce).with(|h| {
        h.algorithm = Some("MD5".into());
        h.user = "alice".into();
        h.password = "s3cret".into();
        h.nc = Some(12);
    });
    assert_rejected(fx.send(&elsewhere, NOW), 401, false, Reason::UnknownUser);
}

/// A verifier fitted to an MD5 htdigest file offers MD5 only: configured SHA-256 first, it
/// used to challenge with SHA-256, which curl picks, and every login failed. Fitted, the
/// crate's client (which picks the strongest challenge, as curl does) logs in.
#[test]
fn a_verifier_fitted_to_an_md5_file_offers_md5_only() {
    let ha1 = digest::ha1(
        Algorithm::Md5,
        USER.as_bytes(),
        REALM.as_bytes(),
        PASS.as_bytes(),
    );
    let file = format!("{USER}:{REALM}:{}\n", ha1.as_str());
    let store = Htdigest::parse(&file, Algorithm::Md5).unwrap();
    let unfitted = Verifier::new(config(), KEY).unwrap();
    let challenges = |v: &Verifier| {
        v.challenges(NOW, false, &mut TestRng::new(7))
            .unwrap()
            .iter()
            .map(|c| {
                let after = c.split_once("algorithm=").unwrap().1;
                after.split(',').next().unwrap().to_owned()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(challenges(&unfitted), ["SHA-256", "MD5"]);
    let fitted = unfitted.clone().for_store(&store).unwrap();
    assert_eq!(challenges(&fitted), ["MD5"]);
    assert_eq!(fitted.config().algorithms, [Algorithm::Md5]);

    // The client against each: strongest first, it answers SHA-256 where offered.
    for (verifier, expected) in [
        (
            unfitted,
            Err(Reason::StoredHashMismatch {
                stored: Algorithm::Md5,
                used: Algorithm::Sha256,
            }),
        ),
        (fitted, Ok(())),
    ] {
        let fx = Fx::with_store(verifier.config().clone(), Box::new(store.clone()));
        let fx = Fx { verifier, ..fx };
        let nonce = fx.nonce(NOW);
        let algorithm = fx.verifier.config().algorithms[0];
        let hand = Hand::new(&nonce).with(|h| h.algorithm = Some(algorithm.name().into()));
        match (fx.send(&hand, NOW), expected) {
            (Ok(user), Ok(())) => assert_eq!(user.username, USER),
            (Err(rejection), Err(reason)) => assert_eq!(rejection.reason(), &reason),
            (got, expected) => panic!("{got:?}, expected {expected:?}"),
        }
    }

    // The -sess variant of the file's hash is kept; a file of another hash than every
    // algorithm configured is refused where the verifier is set up.
    let sess = Verifier::new(
        config().with_algorithms([Algorithm::Sha256Sess, Algorithm::Md5Sess]),
        KEY,
    )
    .unwrap()
    .for_store(&store)
    .unwrap();
    assert_eq!(sess.config().algorithms, [Algorithm::Md5Sess]);
    let sha_only = Verifier::new(config().with_algorithms([Algorithm::Sha256]), KEY).unwrap();
    assert_eq!(
        sha_only.for_store(&store).unwrap_err(),
        ConfigError::NoAlgorithmForStore
    );
}

/// The realm given to the store and to the verifier: a mismatch used to call every user
/// unknown; now the verifier refuses to be set up with it.
#[test]
fn a_store_of_another_realm_is_refused_where_the_verifier_is_set_up() {
    let mut users = Users::new("api@example.org");
    users.insert(USER, PASS);
    let verifier = Verifier::new(config(), KEY).unwrap();
    assert_eq!(
        verifier.clone().for_store(&users).unwrap_err(),
        ConfigError::RealmMismatch {
            realm: REALM.into()
        }
    );
    let same = Verifier::new(VerifierConfig::new(users.realm()), KEY).unwrap();
    assert!(same.for_store(&users).is_ok());

    let ha1 = digest::ha1(Algorithm::Md5, b"alice", b"lab", b"s3cret");
    let file = Htdigest::parse(&format!("alice:lab:{}\n", ha1.as_str()), Algorithm::Md5).unwrap();
    assert_eq!(
        verifier.for_store(&file).unwrap_err(),
        ConfigError::RealmMismatch {
            realm: REALM.into()
        }
    );
    // A store that says nothing of realms (the trait's default) is taken at its word.
    let custom = Store(Box::new(users));
    assert!(
        Verifier::new(config(), KEY)
            .unwrap()
            .for_store(&custom)
            .is_ok()
    );
}

/// A store written without the `zeroize` crate: `StoredSecret::password` and
/// `StoredSecret::ha1` build its secrets, and an H(A1) store says what it verifies.
#[test]
fn custom_stores_build_secrets_without_zeroize() {
    struct Passwords;
    impl CredentialStore for Passwords {
        fn lookup(&self, username: &[u8], _realm: &str) -> Option<StoredSecret> {
            (username == USER.as_bytes()).then(|| StoredSecret::password(PASS))
        }
    }
    struct Hashes(String);
    impl CredentialStore for Hashes {
        fn lookup(&self, username: &[u8], _realm: &str) -> Option<StoredSecret> {
            (username == USER.as_bytes())
                .then(|| StoredSecret::ha1(Algorithm::Sha256, &self.0).unwrap())
        }
        fn verifies(&self, algorithm: Algorithm) -> bool {
            algorithm.without_session() == Algorithm::Sha256
        }
    }
    let ha1 = digest::ha1(
        Algorithm::Sha256,
        USER.as_bytes(),
        REALM.as_bytes(),
        PASS.as_bytes(),
    );
    let hashes = Hashes(ha1.as_str().to_ascii_uppercase());
    let fitted = Verifier::new(config(), KEY)
        .unwrap()
        .for_store(&hashes)
        .unwrap();
    assert_eq!(fitted.config().algorithms, [Algorithm::Sha256]);
    for store in [
        Box::new(Passwords) as Box<dyn CredentialStore>,
        Box::new(hashes),
    ] {
        let fx = Fx::with_store(config(), store);
        let nonce = fx.nonce(NOW);
        let hand = Hand::new(&nonce).with(|h| h.algorithm = Some("SHA-256".into()));
        assert_accepted(fx.send(&hand, NOW), USER);
    }
    assert_eq!(
        StoredSecret::ha1(Algorithm::Md5, "not hex")
            .unwrap_err()
            .expected,
        32
    );
}

#[test]
fn htdigest_store_with_the_client() {
    let ha1 = digest::ha1(
        Algorithm::Md5,
        USER.as_bytes(),
        REALM.as_bytes(),
        PASS.as_bytes(),
    );
    let store = Htdigest::parse(
        &format!("{USER}:{REALM}:{}\n", ha1.as_str()),
        Algorithm::Md5,
    )
    .unwrap();
    let config = config()
        .with_algorithms([Algorithm::Md5Sess])
        .with_qop(QopOptions::AUTH);
    let fx = Fx::with_store(config, Box::new(store));
    let client = Client::new(
        Credentials::new(USER, PASS),
        ClientConfig::default().with_require_mutual_auth(true),
    );
    let mut pair = fx.pair(client, 3);
    pair.get(URI).assert_done(2);
    pair.advance(1);
    pair.get("/x?y").assert_done(1);
}

#[test]
fn rfc2069_mode() {
    let fx = Fx::new(
        config()
            .with_algorithms([Algorithm::Md5])
            .with_qop(QopOptions::NONE),
    );
    let nonce = fx.nonce(NOW);
    let hand = Hand::new(&nonce).with(|h| {
        h.algorithm = None;
        h.qop = None;
        h.nc = None;
        h.cnonce = None;
    });
    let ok = assert_accepted(fx.send(&hand, NOW), USER);
    check_info(&ok.authentication_info, &hand);
    let info = AuthenticationInfo::parse(ok.authentication_info.as_bytes()).unwrap();
    assert!(info.qop().is_none() && info.nc().is_none() && info.cnonce().is_none());
    // No qop, no counts: RFC 2069 has no replay protection (documented).
    assert_accepted(fx.send(&hand, NOW), USER);
    // The challenge offers no qop.
    assert!(fx.challenges(NOW, false).iter().all(|c| !c.contains("qop")));

    // A request with a qop is refused: none was offered.
    for qop in [Qop::Auth, Qop::AuthInt] {
        let qopd = Hand::new(&nonce).with(|h| {
            h.algorithm = Some("MD5".into());
            h.qop = Some(qop);
        });
        assert_rejected(fx.send(&qopd, NOW), 401, false, Reason::QopNotOffered);
    }
    assert_rejected(
        fx.send(&hand.with(|h| h.password = "CircleOfLife".into()), NOW),
        401,
        false,
        Reason::WrongPassword,
    );

    // The client speaks it, and checks rspauth.
    let client = Client::new(
        Credentials::new(USER, PASS),
        ClientConfig::default().with_require_mutual_auth(true),
    );
    let mut pair = fx.pair(client, 1);
    pair.get(URI).assert_done(2);
    pair.advance(1);
    let again = pair.get("/other");
    again.assert_done(1);
    let sent = again.sends[0]
        .authorization
        .clone()
        .unwrap()
        .text()
        .into_owned();
    assert!(!sent.contains("qop=") && !sent.contains("nc=") && !sent.contains("cnonce="));
}

/// Regression (fixed in e04eded): nonces depended only on the key, the realm and the second,
/// so clients challenged in the same second shared one, and the second client's nc=1 was
/// refused as a replay.
#[test]
fn two_clients_challenged_in_the_same_second_both_authenticate() {
    let fx = Fx::new(config());
    let mufasa = Client::new(Credentials::new(USER, PASS), ClientConfig::default());
    let alice = Client::new(Credentials::new("alice", "s3cret"), ClientConfig::default());
    let mut pair = fx.pair(mufasa, 11);
    pair.get(URI).assert_done(2);
    pair.client = alice;
    pair.get(URI).assert_done(2);
}

// ---------------------------------------------------------------------------------------------
// The client against the verifier (through `common::pair`).
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Req {
    method: &'static str,
    target: String,
    body: Vec<u8>,
    /// Seconds since the previous request, before reduction to the nextnonce window.
    step: u64,
}

#[derive(Debug, Clone)]
struct Case {
    user: String,
    password: String,
    realm: &'static str,
    algorithms: Vec<Algorithm>,
    qop: QopOptions,
    prefer_auth_int: bool,
    userhash: bool,
    charset_utf8: bool,
    opaque: Option<String>,
    lifetime: u64,
    within: u64,
    seed: u64,
    requests: Vec<Req>,
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._-]{1,12}",
        // Quote, backslash and colon: escaped in username, ambiguous in A1 (fine).
        r#"[a-z"\\: ]{1,10}"#,
        "[a-zäöüøéß漢字😀 ]{1,8}",
        // Anything, control characters included (those go as username*).
        prop::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter),
    ]
}

fn target() -> impl Strategy<Value = String> {
    let segment = r"([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-F]{2}){0,8}";
    let query = r"(\?([A-Za-z0-9._~=&/?:-]|%[0-9A-Fa-f]{2}){0,12})?";
    prop::collection::vec(segment, 1..4).prop_flat_map(move |segments| {
        query.prop_map(move |q| format!("/{}{q}", segments.join("/")))
    })
}

fn req() -> impl Strategy<Value = Req> {
    (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE"]),
        target(),
        prop::collection::vec(any::<u8>(), 0..48),
        any::<u64>(),
    )
        .prop_map(|(method, target, body, step)| Req {
            method,
            target,
            body,
            step,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        (name(), prop::collection::vec(any::<char>(), 0..16)),
        prop::sample::select(vec![
            "api@example.org",
            r#"we"ird\realm: yes"#,
            "r\u{e4}alm",
            "",
        ]),
        prop::sample::subsequence(Algorithm::ALL.to_vec(), 1..=4).prop_shuffle(),
        prop::sample::select(vec![
            QopOptions::AUTH,
            QopOptions::AUTH_INT,
            QopOptions::BOTH,
            QopOptions::NONE,
        ]),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::option::of("[ -~]{0,16}"),
        (10u64..=120, any::<u64>(), any::<u64>()),
        prop::collection::vec(req(), 4..=8),
    )
        .prop_map(
            |(
                (user, password),
                realm,
                algorithms,
                qop,
                (prefer_auth_int, userhash, charset_utf8),
                opaque,
                (lifetime, within, seed),
                requests,
            )| {
                // RFC 2069 mode has no cnonce: the -sess algorithms need a qop.
                let algorithms = if qop.is_empty() {
                    let mut plain: Vec<Algorithm> = Vec::new();
                    for a in algorithms.into_iter().map(Algorithm::without_session) {
                        if !plain.contains(&a) {
                            plain.push(a);
                        }
                    }
                    plain
                } else {
                    algorithms
                };
                Case {
                    // Users are registered as RFC 7616 §4 has it, in NFC, the form the client
                    // sends a name in (its `Credentials` normalise it).
                    user: Credentials::new(user, "").username().to_owned(),
                    password: password.into_iter().collect(),
                    realm,
                    algorithms,
                    qop,
                    prefer_auth_int,
                    userhash,
                    charset_utf8,
                    opaque,
                    lifetime,
                    within: 1 + within % (lifetime / 2),
                    seed,
                    requests,
                }
            },
        )
}

fn round_trip(case: &Case) {
    let mut config = VerifierConfig::new(case.realm)
        .with_algorithms(case.algorithms.iter().copied())
        .with_qop(case.qop)
        .with_userhash(case.userhash)
        .with_nonce_lifetime(case.lifetime)
        .with_nextnonce_within(case.within)
        .with_charset_utf8(case.charset_utf8);
    if let Some(o) = &case.opaque {
        config = config.with_opaque(o.clone());
    }
    let mut users = Users::new(case.realm);
    users.insert(case.user.clone(), case.password.clone());
    users.insert(format!("{}x", case.user), "another password");
    let fx = Fx::with_store(config, Box::new(users));

    // The qop the client picks; it can check rspauth unless that is auth-int.
    let chosen = if case.qop.is_empty() {
        None
    } else if case.qop.contains(Qop::AuthInt)
        && (case.prefer_auth_int || !case.qop.contains(Qop::Auth))
    {
        Some(Qop::AuthInt)
    } else {
        Some(Qop::Auth)
    };
    let client_config = ClientConfig::default()
        .with_prefer_auth_int(case.prefer_auth_int)
        .with_require_mutual_auth(chosen != Some(Qop::AuthInt));
    let client = Client::new(
        Credentials::new(case.user.clone(), case.password.clone()),
        client_config,
    );
    let mut pair = fx.pair(client, case.seed);

    // (nonce, last nc) in use, and the nextnonce the server last sent.
    let mut current: Option<(String, u32)> = None;
    let mut next: Option<String> = None;
    for (i, req) in case.requests.iter().enumerate() {
        // Steps within the nextnonce window: the nonce never expires between requests.
        pair.advance(req.step % (case.within + 1));
        let out: Call = pair.request(req.method, &req.target, &req.body);
        if i == 0 {
            assert_rejected(
                out.verdicts[0].clone(),
                401,
                false,
                Reason::MissingCredentials,
            );
            out.assert_done(2);
        } else {
            out.assert_done(1);
        }
        assert_eq!(out.authenticated().username, case.user);

        let header = out
            .sends
            .last()
            .unwrap()
            .authorization
            .clone()
            .unwrap()
            .text()
            .into_owned();
        let creds = DigestCredentials::parse(header.as_bytes()).unwrap();
        assert_eq!(creds.userhash(), case.userhash);
        assert_eq!(creds.qop(), chosen, "{header}");
        assert!(case.algorithms.contains(&creds.algorithm().unwrap()));
        let nonce = creds.nonce().to_str().unwrap().into_owned();
        if let Some(next) = next.take() {
            assert_eq!(nonce, next, "the client did not adopt nextnonce");
        }
        let info =
            AuthenticationInfo::parse(out.authenticated().authentication_info.as_bytes()).unwrap();
        // For auth-int, rspauth would cover the response body: the verifier sends none.
        assert_eq!(info.rspauth().is_some(), chosen != Some(Qop::AuthInt));
        assert_eq!(info.qop(), chosen);
        if chosen.is_some() {
            let nc = creds.nc().unwrap().get();
            let expected = match &current {
                Some((n, last)) if *n == nonce => last + 1,
                _ => 1,
            };
            assert_eq!(nc, expected, "{header}");
            assert_eq!(info.nc(), creds.nc());
            assert_eq!(
                info.cnonce().unwrap().unescaped(),
                creds.cnonce().unwrap().unescaped()
            );
            current = Some((nonce, nc));
        }
        next = info.nextnonce().map(|n| n.to_str().unwrap().into_owned());

        // Replay protection: the same request again is refused.
        if chosen.is_some() {
            assert_rejected(
                pair.verify(req.method, &req.target, Some(&header), Some(&req.body)),
                401,
                false,
                Reason::ReplayedNonceCount,
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// The crate's client authenticates against the verifier at the first retry, then
    /// preemptively in one exchange per request, checking rspauth where it can.
    #[test]
    fn client_and_verifier_agree(case in case()) {
        round_trip(&case);
    }
}

#[test]
fn failure_is_reported_when_the_password_is_wrong() {
    // The negative of the property: the client gives up after one answer.
    let fx = Fx::new(config());
    let client = Client::new(
        Credentials::new(USER, "wrong"),
        ClientConfig::default().with_require_mutual_auth(true),
    );
    let out = fx.pair(client, 5).get(URI);
    assert_eq!(out.action, Next::Fail(Failure::CredentialsRejected));
    assert_eq!(out.verdicts.len(), 2);
    assert_rejected(out.verdicts[1].clone(), 401, false, Reason::WrongPassword);
}

/// The RFC 7616 §3.9.1 `Authorization` lines exactly as printed (unfolded), with the RFC's
/// own nonce injected through `verify_with_nonce_check`.
#[test]
fn rfc7616_391_lines_verify_with_the_rfc_nonce_injected() {
    const RFC_NONCE: &[u8] = b"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const MD5_LINE: &str = concat!(
        r#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", "#,
        r#"algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, "#,
        r#"cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, "#,
        r#"response="8ca523f5e9506fed4657c9700eebdbec", "#,
        r#"opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
    );
    let sha256_line = MD5_LINE
        .replace("algorithm=MD5", "algorithm=SHA-256")
        .replace(
            "8ca523f5e9506fed4657c9700eebdbec",
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        );
    let verifier = Verifier::new(
        VerifierConfig::new("http-auth@example.org")
            .with_algorithms([Algorithm::Sha256, Algorithm::Md5])
            .with_opaque("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
        b"any key: the nonce is judged by the injected check",
    )
    .unwrap();
    let mut users = Users::new("http-auth@example.org");
    users.insert("Mufasa", "Circle of Life");
    for line in [MD5_LINE, sha256_line.as_str()] {
        let counts = MemoryNonceCounts::new(10, 300);
        let request = ServerRequest {
            method: "GET",
            target: "/dir/index.html",
            authority: None,
            authorization: Some(line.as_bytes()),
            body: None,
        };
        let check = |nonce: &[u8]| {
            if nonce == RFC_NONCE {
                httpdigest::server::NonceStatus::Valid { issued_at: 0 }
            } else {
                httpdigest::server::NonceStatus::Forged
            }
        };
        let ok = verifier
            .verify_with_nonce_check(&request, 0, &users, &counts, &mut TestRng::new(1), check)
            .unwrap();
        assert_eq!(ok.username, "Mufasa");
        // The same line again is a replay.
        let again = verifier
            .verify_with_nonce_check(&request, 0, &users, &counts, &mut TestRng::new(1), check)
            .unwrap_err();
        assert_eq!(again.reason(), &Reason::ReplayedNonceCount);
    }
}

/// The RFC 7616 §3.9.2 `Authorization` lines (erratum 4897 values), userhash and
/// `username*` forms, exactly as printed (unfolded), with the RFC's nonce injected.
#[test]
fn rfc7616_392_lines_verify_with_the_rfc_nonce_injected() {
    const RFC_NONCE: &[u8] = b"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK";
    const REST: &str = concat!(
        r#"realm="api@example.org", uri="/doe.json", algorithm=SHA-512-256, "#,
        r#"nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", nc=00000001, "#,
        r#"cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", qop=auth, "#,
        r#"response="3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5", "#,
        r#"opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS""#
    );
    let userhash_line = format!(
        r#"Digest username="793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b", {REST}, userhash=true"#
    );
    let star_line =
        format!("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, {REST}, userhash=false");
    let verifier = Verifier::new(
        VerifierConfig::new("api@example.org")
            .with_algorithms([Algorithm::Sha512_256])
            .with_userhash(true)
            .with_opaque("HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS"),
        b"any key: the nonce is judged by the injected check",
    )
    .unwrap();
    let mut users = Users::new("api@example.org");
    users.insert("J\u{e4}s\u{f8}n Doe", "Secret, or not?");
    for line in [userhash_line, star_line] {
        let counts = MemoryNonceCounts::new(10, 300);
        let request = ServerRequest {
            method: "GET",
            target: "/doe.json",
            authority: None,
            authorization: Some(line.as_bytes()),
            body: None,
        };
        let check = |nonce: &[u8]| {
            if nonce == RFC_NONCE {
                httpdigest::server::NonceStatus::Valid { issued_at: 0 }
            } else {
                httpdigest::server::NonceStatus::Forged
            }
        };
        let ok = verifier
            .verify_with_nonce_check(&request, 0, &users, &counts, &mut TestRng::new(2), check)
            .unwrap();
        assert_eq!(ok.username, "J\u{e4}s\u{f8}n Doe", "{line}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// No password but the user's is ever accepted, whatever the algorithm, qop, user-name
    /// form and nonce count; the user's is accepted once per count, and its replay refused.
    #[test]
    fn only_the_right_password_is_accepted(
        password in prop_oneof![Just(PASS.to_owned()), "\\PC{0,24}"],
        algorithm in prop::sample::select(Algorithm::ALL.to_vec()),
        qop in prop::sample::select(vec![Qop::Auth, Qop::AuthInt]),
        form in prop::sample::select(vec![Form::Plain, Form::Hashed, Form::Extended]),
        nc in 1u32..,
    ) {
        let fx = Fx::new(
            config()
                .with_algorithms(Algorithm::ALL)
                .with_userhash(true),
        );
        let nonce = fx.nonce(NOW);
        let hand = Hand::new(&nonce).with(|h| {
            h.algorithm = Some(algorithm.name().into());
            h.qop = Some(qop);
            h.form = form;
            h.nc = Some(nc);
            h.password.clone_from(&password);
        });
        let result = fx.send(&hand, NOW);
        if password == PASS {
            assert_accepted(result, USER);
            assert_rejected(fx.send(&hand, NOW), 401, false, Reason::ReplayedNonceCount);
        } else {
            assert_rejected(result, 401, false, Reason::WrongPassword);
        }
    }
}

/// A name of ISO-8859-1 characters with at least one outside ASCII whose ISO-8859-1 bytes are
/// not UTF-8 (those that are, such as "Ã©", are read as UTF-8: see
/// `utf8_names_and_username_star_and_userhash_are_read_as_before`).
fn latin1_name() -> impl Strategy<Value = String> {
    (
        "[ -~]{0,6}",
        prop::char::range('\u{80}', '\u{ff}'),
        prop::collection::vec(prop::char::range(' ', '\u{ff}'), 0..6),
    )
        .prop_map(|(head, c, tail)| {
            let mut name = head;
            name.push(c);
            name.extend(tail.into_iter().filter(|c| !c.is_control()));
            name
        })
        .prop_filter("ISO-8859-1 bytes that are UTF-8", |name| {
            let bytes: Vec<u8> = name
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap())
                .collect();
            std::str::from_utf8(&bytes).is_err()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A name sent as its ISO-8859-1 bytes is the user of its UTF-8 form: the right password
    /// is accepted as that user, a wrong one refused as `WrongPassword`, and the same bytes
    /// naming nobody get the same answer as `UnknownUser`, whatever the algorithm and qop.
    #[test]
    fn latin1_names_are_their_users(
        name in latin1_name(),
        password in "\\PC{0,16}",
        wrong in "\\PC{0,16}",
        algorithm in prop::sample::select(Algorithm::ALL.to_vec()),
        qop in prop::sample::select(vec![Qop::Auth, Qop::AuthInt]),
    ) {
        prop_assume!(wrong != password);
        let mut users = Users::new(REALM);
        users.insert(name.clone(), password.clone());
        let fx = Fx::with_store(config().with_algorithms(Algorithm::ALL), Box::new(users));
        let nonce = fx.nonce(NOW);
        let hand = |password: &str, nc: u32| Hand::new(&nonce).with(|h| {
            h.user.clone_from(&name);
            h.password = password.into();
            h.form = Form::Latin1;
            h.algorithm = Some(algorithm.name().into());
            h.qop = Some(qop);
            h.nc = Some(nc);
            h.method = "POST".into();
            h.body = b"body".to_vec();
        });
        let ok = assert_accepted(fx.send(&hand(&password, 1), NOW), &name);
        prop_assert_eq!(ok.username_bytes, name.as_bytes());
        let refused = fx.send(&hand(&wrong, 2), NOW).unwrap_err();
        prop_assert_eq!(
            (refused.status(), refused.stale(), refused.reason()),
            (401, false, &Reason::WrongPassword)
        );
        let nobody = Fx::with_store(
            config().with_algorithms(Algorithm::ALL),
            Box::new(Users::new(REALM)),
        );
        let unknown = nobody.send(&hand(&password, 3), NOW).unwrap_err();
        prop_assert_eq!(
            (unknown.status(), unknown.stale(), unknown.reason()),
            (401, false, &Reason::UnknownUser)
        );
    }
}

/// A configured value no header can carry, or no algorithm to offer, is refused when the
/// verifier is built: before, a realm with CR LF was taken, and no one could log in.
#[test]
fn a_configuration_no_challenge_can_carry_is_refused() {
    use httpdigest::server::ConfigError;
    let build = |config: VerifierConfig| Verifier::new(config, KEY).map(|_| ());
    assert_eq!(
        build(VerifierConfig::new("api\r\nX-Injected: 1")),
        Err(ConfigError::ControlCharacter("realm"))
    );
    assert_eq!(
        build(config().with_domain(["/ok", "/a\u{7f}b"])),
        Err(ConfigError::ControlCharacter("domain"))
    );
    assert_eq!(
        build(config().with_opaque("o\u{0}")),
        Err(ConfigError::ControlCharacter("opaque"))
    );
    assert_eq!(
        build(config().with_algorithms([])),
        Err(ConfigError::NoAlgorithm)
    );
    assert_eq!(
        build(
            config()
                .with_algorithms([Algorithm::Md5Sess])
                .with_qop(QopOptions::NONE)
        ),
        Err(ConfigError::NoAlgorithm)
    );
    assert_eq!(
        build(config().with_opaque("a \"quoted\" \\ tab\tok")),
        Ok(())
    );
}

// ---------------------------------------------------------------------------------------------
// Verification in steps (`Verifier::begin` ... `Proven::finish`), as a server with awaited
// stores drives it, against `Verifier::verify`.
// ---------------------------------------------------------------------------------------------

/// `hand` verified in steps, as an async server would (each store call is where it awaits),
/// against `fx`'s users and `counts`: begin, look the user up, prove, record the count,
/// finish.
fn in_steps(
    fx: &Fx,
    hand: &Hand,
    now: u64,
    counts: &MemoryNonceCounts,
) -> Result<Authenticated, Rejection> {
    in_steps_with_body(fx, hand, &hand.body, now, counts)
}

/// [`in_steps`] with `body` as the request's body (the response may cover another).
fn in_steps_with_body(
    fx: &Fx,
    hand: &Hand,
    body: &[u8],
    now: u64,
    counts: &MemoryNonceCounts,
) -> Result<Authenticated, Rejection> {
    let wire = hand.wire();
    let request = ServerRequest {
        method: &hand.method,
        target: &hand.uri,
        authority: fx.authority,
        authorization: Some(&wire),
        body: Some(body),
    };
    let verification = fx.verifier.begin(&request, now)?;
    let user = verification
        .lookup()
        .in_store(&*fx.store, &fx.verifier.config().realm);
    // The body only for auth-int, as a server reads it only then.
    let body = verification.needs_body().then_some(body);
    let proven = verification.prove(user, body)?;
    let recorded = match proven.nonce_count() {
        Some(count) => counts.record(count.nonce, proven.user(), count.issued_at, count.nc, now),
        None => NonceCountCheck::Fresh,
    };
    proven.finish(recorded, &mut *fx.rng.borrow_mut())
}

/// The same request through `verify` (on `fx`'s own count store) and in steps (on a count
/// store of their own, `steps`): the same answer, accepted or refused alike.
#[track_caller]
fn same_both_ways(
    fx: &Fx,
    hand: &Hand,
    now: u64,
    steps: &MemoryNonceCounts,
) -> Result<Authenticated, Rejection> {
    let verified = fx.send(hand, now);
    let stepped = in_steps(fx, hand, now, steps);
    assert_eq!(stepped, verified, "in steps vs verify for {hand:?}");
    stepped
}

#[test]
fn verification_in_steps_answers_as_verify_does() {
    let fx = Fx::new(config().with_userhash(true));
    let steps = MemoryNonceCounts::new(1000, 300);
    let nonce = fx.nonce(NOW);
    let hand = Hand::new(&nonce);

    // Success, then the same count again: a replay both ways.
    let ok = assert_accepted(same_both_ways(&fx, &hand, NOW, &steps), USER);
    check_info(&ok.authentication_info, &hand);
    assert_rejected(
        same_both_ways(&fx, &hand, NOW, &steps),
        401,
        false,
        Reason::ReplayedNonceCount,
    );

    // A wrong password, an unknown user.
    let wrong = hand.clone().with(|h| {
        h.nc = Some(2);
        h.password = "Circle Of Life".into();
    });
    assert_rejected(
        same_both_ways(&fx, &wrong, NOW, &steps),
        401,
        false,
        Reason::WrongPassword,
    );
    let nobody = hand.clone().with(|h| {
        h.nc = Some(2);
        h.user = "Scar".into();
    });
    assert_rejected(
        same_both_ways(&fx, &nobody, NOW, &steps),
        401,
        false,
        Reason::UnknownUser,
    );

    // A userhash: the store resolves the name, and the count is the name's.
    let hashed = hand.clone().with(|h| {
        h.nc = Some(3);
        h.form = Form::Hashed;
    });
    let ok = assert_accepted(same_both_ways(&fx, &hashed, NOW, &steps), USER);
    assert_eq!(ok.username_bytes, USER.as_bytes());
    assert_rejected(
        same_both_ways(
            &fx,
            &hashed.clone().with(|h| h.form = Form::Plain),
            NOW,
            &steps,
        ),
        401,
        false,
        Reason::ReplayedNonceCount,
    );

    // An expired nonce with the right password: stale, before any count is recorded.
    let late = hand.clone().with(|h| h.nc = Some(4));
    assert_rejected(
        same_both_ways(&fx, &late, NOW + 301, &steps),
        401,
        true,
        Reason::ExpiredNonce,
    );
    assert_eq!(
        steps.seen(
            nonce.as_bytes(),
            USER.as_bytes(),
            NOW,
            NonceCount::new(4),
            NOW
        ),
        NonceCountCheck::Fresh,
        "a stale answer recorded nothing"
    );

    // auth-int with its body: the same answer, and the same rspauth over a response body.
    let int = hand.clone().with(|h| {
        h.nc = Some(5);
        h.qop = Some(Qop::AuthInt);
        h.method = "PUT".into();
        h.body = b"the request body".to_vec();
    });
    let ok = assert_accepted(same_both_ways(&fx, &int, NOW, &steps), USER);
    let body_rspauth = ok.body_rspauth.expect("auth-int answers carry BodyRspauth");
    let info = body_rspauth.authentication_info(b"the response body");
    let parsed = AuthenticationInfo::parse(info.as_bytes()).unwrap();
    let expected = digest::rspauth(
        int.alg(),
        &int.ha1(),
        int.nonce.as_bytes(),
        int.qop_params(),
        int.uri.as_bytes(),
        Some(&digest::hash(int.alg(), b"the response body")),
    );
    assert_eq!(
        parsed.rspauth().unwrap().to_str().unwrap(),
        expected.as_str(),
        "{info}"
    );
    // Another body than the one the response covers: a wrong password both ways.
    let tampered = int.clone().with(|h| h.nc = Some(6));
    let other_body = b"the request b0dy";
    let verified = fx.verify(URI, "PUT", Some(&tampered.header()), Some(other_body), NOW);
    let stepped = in_steps_with_body(&fx, &tampered, other_body, NOW, &steps);
    assert_eq!(stepped, verified);
    assert_rejected(stepped, 401, false, Reason::WrongPassword);
}

/// The read-only look at the count store before work that costs: `seen` tells a used count
/// and records nothing, and `Verification::replayed` is the refusal of a used one (401, or
/// 407 for a proxy).
#[test]
fn a_used_count_is_refused_before_the_body_without_recording() {
    for (config, status) in [(config(), 401), (config().for_proxy(), 407)] {
        let fx = Fx::new(config);
        let counts = MemoryNonceCounts::new(1000, 300);
        let hand = Hand::new(&fx.nonce(NOW)).with(|h| {
            h.qop = Some(Qop::AuthInt);
            h.method = "PUT".into();
            h.body = b"a body worth not reading twice".to_vec();
        });
        let wire = hand.wire();
        let request = ServerRequest {
            method: "PUT",
            target: URI,
            authority: fx.authority,
            authorization: Some(&wire),
            body: None,
        };
        let verification = fx.verifier.begin(&request, NOW).unwrap();
        let count = verification.nonce_count().unwrap();
        assert_eq!(count.nc, NonceCount::new(1));
        // Looking, twice, records nothing.
        for _ in 0..2 {
            assert_eq!(
                counts.seen(count.nonce, USER.as_bytes(), count.issued_at, count.nc, NOW),
                NonceCountCheck::Fresh
            );
        }
        assert_accepted(in_steps(&fx, &hand, NOW, &counts), USER);
        // Now the count is used: the look says so, and the refusal is a replay's.
        assert_eq!(
            counts.seen(count.nonce, USER.as_bytes(), count.issued_at, count.nc, NOW),
            NonceCountCheck::Replayed
        );
        let replayed = verification.replayed();
        assert_eq!(
            (replayed.status(), replayed.stale(), replayed.reason()),
            (status, false, &Reason::ReplayedNonceCount)
        );
        assert!(replayed.challenges());
        // And the full verification of it says the same.
        assert_rejected(
            in_steps(&fx, &hand, NOW, &counts),
            status,
            false,
            Reason::ReplayedNonceCount,
        );
    }
}

/// A store that keeps names in lower case and finds them whatever their case.
struct CaseInsensitive(Users);

impl CredentialStore for CaseInsensitive {
    fn lookup(&self, username: &[u8], realm: &str) -> Option<StoredSecret> {
        self.0.lookup(&username.to_ascii_lowercase(), realm)
    }
}

/// The verifier hashes the name the client hashed (as sent), not the form a store keeps
/// it in: a store that finds `MUFASA` under `mufasa` answers for the client's `MUFASA`,
/// and the counts go under that name, in `verify` and in the steps alike.
#[test]
fn a_store_that_finds_names_in_another_form_answers_for_the_name_as_sent() {
    let mut users = Users::new(REALM);
    users.insert("mufasa", PASS);
    let fx = Fx::with_store(config(), Box::new(CaseInsensitive(users)));
    let nonce = fx.nonce(NOW);
    let hand = Hand::new(&nonce).with(|h| h.user = "MUFASA".into());
    let ok = assert_accepted(fx.send(&hand, NOW), "MUFASA");
    assert_eq!(ok.username_bytes, b"MUFASA");
    assert_rejected(fx.send(&hand, NOW), 401, false, Reason::ReplayedNonceCount);
    let next = hand.clone().with(|h| h.nc = Some(2));
    let steps = MemoryNonceCounts::new(1000, 300);
    assert_accepted(same_both_ways(&fx, &next, NOW, &steps), "MUFASA");
}
