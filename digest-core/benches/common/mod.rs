//! The contenders of the comparison benchmarks, on the same inputs: httpdigest, digest_auth,
//! http-auth, and the floor (the bare hash computations of each operation, nothing else).
//!
//! The operations, each for MD5, SHA-256 and SHA-512-256, on the RFC 7616 §3.9.1 challenge
//! (with the algorithm token changed) and the §3.9.1 request (`GET /dir/index.html` by
//! `Mufasa`):
//!
//! - **parse**: a `WWW-Authenticate` value into the crate's parsed challenge, with realm,
//!   nonce, opaque, algorithm and qop read out;
//! - **respond**: the `Authorization` value of a request on a known protection space (the
//!   challenge already parsed; the nonce count goes up by one per call);
//! - **first response**: parse a fresh challenge and answer it (H(A1) included);
//! - **verify**: check an `Authorization` value on the server side.
//!
//! Every contender's output is checked once ([`check_contenders`]) before anything is timed:
//! the headers each crate writes must pass httpdigest's verifier, so every row does the same
//! work.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use httpdigest::client::{
    Action, Client, ClientConfig, Credentials, Exchange, FieldValue, Request, Response,
};
use httpdigest::server::{MemoryNonceCounts, ServerRequest, Users, Verifier, VerifierConfig};
use httpdigest::{Algorithm, DigestChallenge};
use httpdigest::{OriginRef, Scheme};
use rand::SeedableRng as _;
use rand::rngs::StdRng;

pub const USERNAME: &str = "Mufasa";
pub const PASSWORD: &str = "Circle of Life";
pub const REALM: &str = "http-auth@example.org";
pub const METHOD: &str = "GET";
pub const URI: &str = "/dir/index.html";
pub const NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
pub const OPAQUE: &str = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
/// The cnonce of the floor (the crates draw their own).
pub const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
/// The verifier's time, in seconds.
pub const NOW: u64 = 1_700_000_000;
/// The verifier's nonce MAC key.
pub const KEY: &[u8] = b"benchmark nonce key, 32 bytes ok";

pub const ORIGIN: OriginRef<'static> = OriginRef {
    scheme: Scheme::Http,
    host: "www.example.org",
    port: 80,
};

/// The algorithms compared, with the token each challenge names.
pub const ALGORITHMS: [(Algorithm, &str); 3] = [
    (Algorithm::Md5, "MD5"),
    (Algorithm::Sha256, "SHA-256"),
    (Algorithm::Sha512_256, "SHA-512-256"),
];

/// The RFC 7616 §3.9.1 challenge, naming `token` as its algorithm.
pub fn challenge(token: &str) -> String {
    format!(
        r#"Digest realm="{REALM}", qop="auth, auth-int", algorithm={token}, nonce="{NONCE}", opaque="{OPAQUE}""#
    )
}

/// The client nonce generator: a user-space CSPRNG, as digest_auth and http-auth draw their
/// cnonce from rand's thread generator.
pub fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

pub fn request() -> Request<'static> {
    Request::new(METHOD, URI, ORIGIN)
}

/// httpdigest.
pub mod ours {
    use super::*;

    /// What the other crates' parsed challenges hold, read out of ours.
    pub fn parse(field: &[u8]) -> impl Sized {
        let c = DigestChallenge::parse(field).unwrap();
        (
            c.realm(),
            c.nonce(),
            c.opaque(),
            c.algorithm(),
            c.qop(),
            c.stale(),
        )
    }

    /// A client that has met the challenge once, so its protection space is known.
    pub struct Known {
        pub client: Client,
        pub rng: StdRng,
    }

    impl Known {
        pub fn new(challenge: &str) -> Self {
            let mut client = fresh_client();
            let mut rng = rng();
            let (mut exchange, _) = client.begin(&request(), &mut rng);
            let Action::Send(_) = challenged(&mut client, &mut exchange, challenge, &mut rng)
            else {
                panic!("the challenge was not answered");
            };
            let done =
                client.handle_response(&mut exchange, &request(), &Response::new(200), &mut rng);
            assert!(matches!(done, Action::Done));
            Self { client, rng }
        }

        /// The `Authorization` value of the next request: decided, then signed.
        pub fn respond(&mut self) -> FieldValue {
            let request = request();
            let (_, Action::Send(ticket)) = self.client.begin(&request, &mut self.rng) else {
                panic!("a request alone does not wait");
            };
            ticket.sign(&request).unwrap().authorization.unwrap()
        }
    }

    pub fn fresh_client() -> Client {
        Client::new(
            Credentials::new(USERNAME, PASSWORD),
            ClientConfig::default(),
        )
    }

    /// A client before its first request, and that request's exchange: what the first
    /// response starts from.
    pub fn fresh_exchange() -> (Client, Exchange, StdRng) {
        let mut client = fresh_client();
        let mut rng = rng();
        let (exchange, Action::Send(ticket)) = client.begin(&request(), &mut rng) else {
            panic!("the first request does not wait");
        };
        assert!(!ticket.has(httpdigest::Side::Origin));
        (client, exchange, rng)
    }

    fn challenged(
        client: &mut Client,
        exchange: &mut Exchange,
        challenge: &str,
        rng: &mut StdRng,
    ) -> Action {
        let fields = [challenge.as_bytes()];
        let response = Response {
            www_authenticate: &fields,
            ..Response::new(401)
        };
        client.handle_response(exchange, &request(), &response, rng)
    }

    /// Answers a fresh challenge: the 401 goes to the client, the `Authorization` comes out.
    pub fn first_response(
        (client, exchange, rng): &mut (Client, Exchange, StdRng),
        challenge: &str,
    ) -> FieldValue {
        match challenged(client, exchange, challenge, rng) {
            Action::Send(ticket) => ticket.sign(&request()).unwrap().authorization.unwrap(),
            other => panic!("expected a send, got {other:?}"),
        }
    }

    /// A server with one user, offering one algorithm.
    pub struct Server {
        pub verifier: Verifier,
        pub users: Users,
        pub counts: MemoryNonceCounts,
        pub rng: StdRng,
    }

    impl Server {
        pub fn new(algorithm: Algorithm) -> Self {
            let config = VerifierConfig::new(REALM)
                .with_algorithms([algorithm])
                .with_opaque(OPAQUE);
            let verifier = Verifier::new(config, KEY).unwrap();
            let mut users = Users::new(REALM);
            users.insert(USERNAME, PASSWORD);
            let counts = MemoryNonceCounts::new(1024, verifier.config().nonce_lifetime);
            Self {
                verifier,
                users,
                counts,
                rng: rng(),
            }
        }

        /// The server's challenge, as a client would receive it.
        pub fn challenge(&mut self) -> String {
            let mut challenges = self.verifier.challenges(NOW, false, &mut self.rng).unwrap();
            challenges.remove(0)
        }

        /// Verifies one `Authorization` value; the `Authentication-Info` to send back.
        pub fn verify(&mut self, authorization: impl AsRef<[u8]>) -> Result<String, String> {
            let request = ServerRequest {
                method: METHOD,
                target: URI,
                authority: None,
                authorization: Some(authorization.as_ref()),
                body: None,
            };
            self.verifier
                .verify(&request, NOW, &self.users, &self.counts, &mut self.rng)
                .map(|a| a.authentication_info)
                .map_err(|r| format!("{:?}", r.reason()))
        }
    }

    /// A client answering `server`'s challenge: each [`Known::respond`] is a fresh
    /// `Authorization` (the next nonce count) for the server to verify.
    pub fn client_of(server: &mut Server) -> Known {
        Known::new(&server.challenge())
    }
}

/// digest_auth 0.3.
pub mod digest_auth_crate {
    use super::*;
    use digest_auth::{AuthContext, AuthorizationHeader, WwwAuthenticateHeader};

    pub fn parse(field: &str) -> WwwAuthenticateHeader {
        WwwAuthenticateHeader::parse(field).unwrap()
    }

    pub fn context() -> AuthContext<'static> {
        AuthContext::new(USERNAME, PASSWORD, URI)
    }

    /// The `Authorization` value of the next request on a parsed challenge.
    pub fn respond(prompt: &mut WwwAuthenticateHeader, context: &AuthContext<'_>) -> String {
        prompt.respond(context).unwrap().to_header_string()
    }

    pub fn first_response(field: &str, context: &AuthContext<'_>) -> String {
        respond(&mut parse(field), context)
    }

    /// The server side digest_auth offers: parse the credentials and compute the response
    /// again from the password (no nonce, nonce count, realm or opaque checks, no rspauth).
    pub fn verify(authorization: &str) -> bool {
        let mut header = AuthorizationHeader::parse(authorization).unwrap();
        let received = std::mem::take(&mut header.response);
        let context = AuthContext::new(USERNAME, PASSWORD, header.uri.clone());
        header.digest(&context);
        header.response == received
    }
}

/// http-auth 0.1 (a client only: no server side).
pub mod http_auth_crate {
    use super::*;
    use http_auth::{ChallengeParser, DigestClient, PasswordParams};

    pub fn parse(field: &str) -> DigestClient {
        let challenge = ChallengeParser::new(field).next().unwrap().unwrap();
        DigestClient::try_from(&challenge).unwrap()
    }

    pub const PARAMS: PasswordParams<'static> = PasswordParams {
        username: USERNAME,
        password: PASSWORD,
        uri: URI,
        method: METHOD,
        body: None,
    };

    pub fn respond(client: &mut DigestClient) -> String {
        client.respond(&PARAMS).unwrap()
    }

    pub fn first_response(field: &str) -> String {
        respond(&mut parse(field))
    }
}

/// The floor: only the hash computations each operation cannot do without, each written as
/// lower-case hex (the form Digest hashes are used in), with md-5 and sha2 called directly.
pub mod floor {
    use super::*;
    use hmac::{Hmac, KeyInit as _, Mac as _};

    /// Hex digits of a hash, on the stack.
    pub struct Hex {
        buf: [u8; 128],
        len: usize,
    }

    impl Hex {
        pub fn as_bytes(&self) -> &[u8] {
            &self.buf[..self.len]
        }
    }

    fn hex(bytes: &[u8]) -> Hex {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 128];
        for (i, b) in bytes.iter().enumerate() {
            buf[2 * i] = DIGITS[usize::from(b >> 4)];
            buf[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
        }
        Hex {
            buf,
            len: 2 * bytes.len(),
        }
    }

    fn h_with<D: sha2::Digest>(parts: &[&[u8]]) -> Hex {
        let mut d = D::new();
        for p in parts {
            d.update(p);
        }
        hex(&d.finalize())
    }

    /// H(concatenation of `parts`).
    pub fn h(algorithm: Algorithm, parts: &[&[u8]]) -> Hex {
        match algorithm {
            Algorithm::Md5 => h_with::<md5::Md5>(parts),
            Algorithm::Sha256 => h_with::<sha2::Sha256>(parts),
            Algorithm::Sha512_256 => h_with::<sha2::Sha512_256>(parts),
            other => panic!("no floor for {other:?}"),
        }
    }

    pub fn ha1(algorithm: Algorithm) -> Hex {
        let (u, r, p) = (USERNAME.as_bytes(), REALM.as_bytes(), PASSWORD.as_bytes());
        h(algorithm, &[u, b":", r, b":", p])
    }

    /// KD(H(A1), nonce:nc:cnonce:auth:H(method:uri)).
    fn request_digest(algorithm: Algorithm, ha1: &Hex, method: &[u8], nc: &[u8]) -> Hex {
        let ha2 = h(algorithm, &[method, b":", URI.as_bytes()]);
        let (n, c) = (NONCE.as_bytes(), CNONCE.as_bytes());
        let (a, b) = (ha1.as_bytes(), ha2.as_bytes());
        h(algorithm, &[a, b":", n, b":", nc, b":", c, b":auth:", b])
    }

    /// Respond on a known protection space: H(A2) and the response (H(A1) is known).
    pub fn respond(algorithm: Algorithm, ha1: &Hex) -> Hex {
        request_digest(algorithm, ha1, METHOD.as_bytes(), b"00000001")
    }

    /// The first response: H(A1), H(A2) and the response.
    pub fn first_response(algorithm: Algorithm) -> Hex {
        respond(algorithm, &ha1(algorithm))
    }

    /// Verify, as httpdigest's verifier does it with a password store: the nonce's MAC
    /// (HMAC-SHA-256), H(A1), H(A2), the response, and rspauth (its H(A2) and digest).
    pub fn verify(algorithm: Algorithm) -> (Hex, Hex, [u8; 32]) {
        let mut mac = <Hmac<sha2::Sha256>>::new_from_slice(KEY).unwrap();
        mac.update(b"httpdigest nonce v2\0");
        mac.update(&NOW.to_be_bytes());
        mac.update(&[7; 8]);
        mac.update(REALM.as_bytes());
        let tag: [u8; 32] = mac.finalize().into_bytes().into();
        let ha1 = ha1(algorithm);
        let response = request_digest(algorithm, &ha1, METHOD.as_bytes(), b"00000001");
        let rspauth = request_digest(algorithm, &ha1, b"", b"00000001");
        (response, rspauth, tag)
    }
}

/// Checks, before anything is timed, that every contender does the work it is timed for:
/// each crate's `Authorization` passes httpdigest's verifier (so the hashes are right), the
/// floor gives the RFC 7616 §3.9.1 response, and the digest_auth "server" accepts ours.
pub fn check_contenders() {
    let floor_md5 = floor::first_response(Algorithm::Md5);
    assert_eq!(
        floor_md5.as_bytes(),
        b"8ca523f5e9506fed4657c9700eebdbec",
        "RFC 7616 §3.9.1 (MD5)"
    );
    let floor_sha256 = floor::first_response(Algorithm::Sha256);
    assert_eq!(
        floor_sha256.as_bytes(),
        b"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        "RFC 7616 §3.9.1 (SHA-256)"
    );
    for (algorithm, _) in ALGORITHMS {
        // Each contender answers a challenge of its own: a nonce count is accepted once.
        let mut server = ours::Server::new(algorithm);
        let mut known = ours::client_of(&mut server);
        let ours = known.respond();
        server.verify(&ours).unwrap();
        assert!(
            digest_auth_crate::verify(ours.to_str().unwrap()),
            "{algorithm:?}"
        );
        let context = digest_auth_crate::context();
        let theirs = digest_auth_crate::first_response(&server.challenge(), &context);
        server.verify(&theirs).unwrap();
        let mut prompt = digest_auth_crate::parse(&server.challenge());
        for _ in 0..2 {
            server
                .verify(digest_auth_crate::respond(&mut prompt, &context))
                .unwrap();
        }
        let mut client = http_auth_crate::parse(&server.challenge());
        for _ in 0..2 {
            server
                .verify(http_auth_crate::respond(&mut client))
                .unwrap();
        }
        black_box(floor::verify(algorithm));
    }
}
