//! The server verifier fed any `Authorization` values: raw bytes, or credentials built from
//! the verifier's own nonces with the right or a wrong password and then edited.
//!
//! Input: lines, one operation each (see `httpdigest_fuzz::Ops`); digits pick among choices.
//!
//! | line | operation |
//! |---|---|
//! | `c` + 6 digits | configuration, before the first verification: algorithms, qop, userhash, opaque, nonce lifetime, nonce-count store capacity |
//! | `n` + stale digit | issue challenges (their nonce joins the known ones) |
//! | `t` + number | advance the clock by that many seconds |
//! | `a` + value | verify a raw `Authorization` value |
//! | `s` + 10 digits, then an edit | verify built credentials: user, password (right, wrong, empty), algorithm, qop, nonce, nc, uri, username form (quoted, userhash, `username*`, quoted in ISO-8859-1 bytes), realm, opaque; the edit deletes and inserts bytes at a position |
//! | `x` | the random number generator starts or stops failing |
//!
//! What must hold, whatever the client sends:
//! - success only for a known user whose right password computed the `response` (checked
//!   again here from the header, independently of the verifier's path, over the UTF-8 name),
//!   never for credentials built with a wrong password; a name sent in ISO-8859-1 bytes is
//!   the user of its UTF-8 form;
//! - never the same (nonce, user, nc) twice, never a count `CountWindow::SPAN` or more below
//!   the highest accepted with the nonce for the user (counts may come in any order within
//!   that window; each user has counts of their own on a nonce);
//! - never a nonce past its lifetime;
//! - refusals are 400 or 401, `stale` only with 401; every challenge issued parses;
//! - no panic, no hang.
#![no_main]

use std::collections::{BTreeSet, HashMap};

use httpdigest::server::{
    Authenticated, CountWindow, MemoryNonceCounts, NonceCountCheck, NonceCountStore, Rejection,
    ServerRequest, Users, Verifier, VerifierConfig,
};
use httpdigest::{
    Algorithm, AuthenticationInfo, CredentialsParams, DigestChallenge, DigestCredentials,
    HexDigest, NonceCount, Qop, QopOptions, UsernameParam, digest,
};
use httpdigest_fuzz::{FuzzRng, Op, Ops};
use libfuzzer_sys::fuzz_target;

const REALM: &str = "api@example.org";
const KEY: &[u8] = b"fuzz key: 32 bytes of secret....";
const USERS: [(&str, &str); 2] = [("alice", "s3cret"), ("Jäsøn Doe", "Secret, or not?")];
const METHOD: &str = "POST";
const TARGET: &str = "/t?x=1";
const BODY: &[u8] = b"{\"a\":1}";
const CNONCE: &str = "0a4f113b";
const START: u64 = 1_700_000_000;

/// The configuration a `c` line picks.
#[derive(Debug, Clone, Copy, Default)]
struct Setup {
    algorithms: usize,
    qop: usize,
    userhash: bool,
    opaque: bool,
    lifetime: usize,
    capacity: usize,
}

impl Setup {
    fn config(&self) -> VerifierConfig {
        use Algorithm::*;
        let algorithms: &[Algorithm] = match self.algorithms {
            0 => &[Sha256, Md5],
            1 => &[Md5],
            2 => &[Sha512_256, Sha256, Md5],
            3 => &[Md5Sess, Sha256Sess],
            _ => &Algorithm::ALL,
        };
        let qop = [
            QopOptions::NONE.with(Qop::Auth),
            QopOptions::NONE.with(Qop::AuthInt),
            QopOptions::BOTH,
            QopOptions::NONE,
        ][self.qop];
        // Only -sess algorithms and no qop: nothing to offer, a configuration
        // `Verifier::new` refuses (checked in `Server::new`); the session algorithms' plain
        // forms stand in.
        let algorithms: &[Algorithm] =
            if qop.is_empty() && algorithms.iter().all(|a| a.is_session()) {
                &[Md5, Sha256]
            } else {
                algorithms
            };
        let mut config = VerifierConfig::new(REALM)
            .with_algorithms(algorithms.iter().copied())
            .with_qop(qop)
            .with_userhash(self.userhash)
            .with_nonce_lifetime(self.lifetime());
        if self.opaque {
            config = config.with_opaque("5ccc069c403ebaf9f0171e9517f40e41");
        }
        config
    }

    fn lifetime(&self) -> u64 {
        [300, 3, 0][self.lifetime]
    }

    fn capacity(&self) -> usize {
        [1024, 1, 2][self.capacity]
    }
}

/// Everything one input drives.
struct Server {
    setup: Setup,
    verifier: Verifier,
    users: Users,
    counts: MemoryNonceCounts,
    now: u64,
    /// Nonces issued (challenges and nextnonce), with their issue time.
    issued: Vec<(String, u64)>,
    /// The counts accepted per nonce and user.
    accepted: HashMap<(Vec<u8>, Vec<u8>), BTreeSet<u32>>,
    /// The count an `s` line sends next per nonce, by default.
    next_nc: HashMap<String, u32>,
    /// Whether the next verification goes through the steps (`begin` … `finish`, with the
    /// read-only look at the count before the body) rather than `verify`: they alternate.
    steps_next: bool,
}

impl Server {
    fn new(setup: Setup) -> Self {
        let mut users = Users::new(REALM);
        for (name, password) in USERS {
            users.insert(name, password);
        }
        Self {
            setup,
            verifier: Verifier::new(setup.config(), KEY)
                .unwrap_or_else(|e| panic!("the setup's configuration was refused: {e}")),
            users,
            counts: MemoryNonceCounts::new(setup.capacity(), setup.lifetime()),
            now: START,
            issued: Vec::new(),
            accepted: HashMap::new(),
            next_nc: HashMap::new(),
            steps_next: false,
        }
    }

    fn issue(&mut self, stale: bool, rng: &mut FuzzRng) {
        let Ok(challenges) = self.verifier.challenges(self.now, stale, rng) else {
            return;
        };
        for value in &challenges {
            let parsed = DigestChallenge::parse(value.as_bytes())
                .unwrap_or_else(|e| panic!("our own challenge does not parse: {e}: {value}"));
            assert_eq!(&*parsed.realm().unescaped(), REALM.as_bytes());
            assert_eq!(parsed.stale(), stale);
            let nonce = parsed.nonce().to_str().unwrap().into_owned();
            if self.issued.len() < 8 && !self.issued.iter().any(|(n, _)| *n == nonce) {
                self.issued.push((nonce, self.now));
            }
        }
    }

    /// Builds credentials as an `s` line says; returns them and whether they used the right
    /// password of a known user.
    fn build(&mut self, op: &Op<'_>) -> (Vec<u8>, bool) {
        let user = op.choice(0, 3);
        let (name, right_password) = USERS.get(user).copied().unwrap_or(("mallory", "guess"));
        let password = match op.choice(1, 3) {
            0 => right_password,
            1 => "wrong password",
            _ => "",
        };
        let honest = user < USERS.len() && password == right_password;
        let algorithm = Algorithm::ALL[op.choice(2, Algorithm::ALL.len())];
        let qop = [Some(Qop::Auth), Some(Qop::AuthInt), None][op.choice(3, 3)];
        let nonce = match self.issued.get(op.choice(4, 10)) {
            Some((n, _)) => n.clone(),
            None => String::from("deadbeefdeadbeefdeadbeef"),
        };
        let next = self.next_nc.entry(nonce.clone()).or_insert(1);
        let nc = match op.choice(5, 4) {
            0 => {
                let nc = *next;
                *next = next.saturating_add(1);
                nc
            }
            1 => 1,
            2 => next.saturating_sub(1).max(1),
            _ => u32::MAX,
        };
        let nc = NonceCount::new(nc);
        let uri = ["/t?x=1", "http://h.test/t?x=1", "/other"][op.choice(6, 3)];
        let realm = if op.choice(8, 2) == 0 {
            REALM
        } else {
            "other realm"
        };
        let userhash_value;
        let form = op.choice(7, 4);
        let username = match form {
            // 3: the same quoted name, sent below as ISO-8859-1 bytes.
            0 | 3 => UsernameParam::Plain(name),
            1 => {
                userhash_value = digest::userhash(algorithm, name.as_bytes(), realm.as_bytes());
                UsernameParam::Hashed(userhash_value.as_str())
            }
            _ => UsernameParam::Extended(name),
        };
        let opaque = match op.choice(9, 3) {
            0 => self.verifier.config().opaque.clone(),
            1 => None,
            _ => Some(String::from("not the opaque")),
        };

        let qop_params = qop.map(|qop| digest::QopParams {
            qop,
            nc,
            cnonce: CNONCE.as_bytes(),
        });
        let response = response(
            algorithm,
            name,
            realm,
            password,
            nonce.as_bytes(),
            uri.as_bytes(),
            qop_params,
        );
        let header = CredentialsParams {
            algorithm: Some(algorithm.name()),
            nc: qop.map(|_| nc),
            cnonce: qop.map(|_| CNONCE),
            qop,
            opaque: opaque.as_deref(),
            ..CredentialsParams::new(username, realm, uri, &nonce, response.as_str())
        }
        .to_header_value()
        .unwrap_or_default();
        let header = if form == 3 {
            latin1_name(header, name)
        } else {
            header.into_bytes()
        };
        (edit(header, op.rest(10)), honest)
    }

    /// Verifies `authorization`. `honest` says, for built credentials, whether they used the
    /// right password of a known user; raw values make no claim (they may replay credentials
    /// built before, which is fine while the nonce and count are fresh).
    fn verify(&mut self, authorization: &[u8], honest: Option<bool>, rng: &mut FuzzRng) {
        let request = ServerRequest {
            method: METHOD,
            target: TARGET,
            authority: None,
            authorization: Some(authorization),
            body: Some(BODY),
        };
        self.steps_next = !self.steps_next;
        let result = if self.steps_next {
            self.verify_in_steps(&request, rng)
        } else {
            self.verifier
                .verify(&request, self.now, &self.users, &self.counts, rng)
        };
        let authenticated = match result {
            Ok(a) => a,
            Err(rejection) => {
                assert!(matches!(rejection.status(), 400 | 401), "{rejection:?}");
                assert!(
                    !rejection.stale() || rejection.status() == 401,
                    "{rejection:?}"
                );
                let _ = rejection.reason().to_string();
                return;
            }
        };
        let value = String::from_utf8_lossy(authorization);
        assert_ne!(
            honest,
            Some(false),
            "accepted without the right password: {value}"
        );
        let creds = DigestCredentials::parse(authorization)
            .unwrap_or_else(|e| panic!("accepted what does not parse ({e}): {value}"));

        // The response, computed again from the header with the user's real password.
        let (name, password) = USERS
            .iter()
            .find(|(n, _)| n.as_bytes() == authenticated.username_bytes)
            .unwrap_or_else(|| panic!("accepted an unknown user: {value}"));
        let algorithm = creds.algorithm().expect("accepted an unknown algorithm");
        let nonce = creds.nonce().unescaped();
        let cnonce = creds.cnonce().map(|c| c.unescaped().into_owned());
        let qop_params = match (creds.qop(), creds.nc(), &cnonce) {
            (Some(qop), Some(nc), Some(cnonce)) => Some(digest::QopParams { qop, nc, cnonce }),
            (None, _, _) => None,
            _ => panic!("accepted a qop without nc or cnonce: {value}"),
        };
        let uri = creds.uri().unescaped();
        let expected = response(algorithm, name, REALM, password, &nonce, &uri, qop_params);
        assert!(
            expected.ct_eq(&creds.response().unescaped()),
            "accepted a response the password does not give: {value}"
        );

        // Never a replay, never an expired nonce.
        if let Some(nc) = creds.nc().filter(|_| creds.qop().is_some()) {
            let key = (nonce.to_vec(), authenticated.username_bytes.clone());
            let seen = self.accepted.entry(key).or_default();
            let highest = seen.last().copied().unwrap_or(0);
            assert!(
                nc.get() > highest.saturating_sub(CountWindow::SPAN),
                "accepted nc {} after {highest}: {value}",
                nc.get(),
            );
            assert!(
                seen.insert(nc.get()),
                "accepted nc {} twice: {value}",
                nc.get()
            );
        }
        if let Some((_, issued_at)) = self.issued.iter().find(|(n, _)| n.as_bytes() == &*nonce) {
            assert!(
                self.now - issued_at <= self.setup.lifetime(),
                "accepted a nonce issued at {issued_at} at {}: {value}",
                self.now
            );
        }

        // auth-int: rspauth over a response body, only through `BodyRspauth`.
        let with_body = authenticated
            .body_rspauth
            .as_ref()
            .map(|b| b.authentication_info(BODY));
        assert_eq!(
            with_body.is_some(),
            creds.qop() == Some(Qop::AuthInt),
            "BodyRspauth for exactly the auth-int answers: {value}"
        );
        let info = AuthenticationInfo::parse(authenticated.authentication_info.as_bytes())
            .unwrap_or_else(|e| panic!("our own Authentication-Info does not parse: {e}"));
        assert_eq!(
            info.rspauth().is_some(),
            creds.qop() != Some(Qop::AuthInt),
            "rspauth in the field for all but auth-int: {value}"
        );
        if let Some(with_body) = with_body {
            let parsed = AuthenticationInfo::parse(with_body.as_bytes())
                .unwrap_or_else(|e| panic!("BodyRspauth's field does not parse: {e}"));
            assert!(
                parsed.rspauth().is_some(),
                "no rspauth over the body: {with_body}"
            );
        }
        if let Some(next) = info.nextnonce() {
            let next = next.to_str().unwrap().into_owned();
            if self.issued.len() < 8 {
                self.issued.push((next, self.now));
            }
        }
    }
}

impl Server {
    /// The verification in steps, as an async server drives it: the body is handed over
    /// only after a read-only look at the count, and a count seen before is refused there.
    fn verify_in_steps(
        &self,
        request: &ServerRequest<'_>,
        rng: &mut FuzzRng,
    ) -> Result<Authenticated, Rejection> {
        let verification = self.verifier.begin(request, self.now)?;
        let user = verification.lookup().in_store(&self.users, REALM);
        if verification.needs_body()
            && let (Some(user), Some(count)) = (&user, verification.nonce_count())
            && self.counts.seen(
                count.nonce,
                verification.counted_name(user),
                count.issued_at,
                count.nc,
                self.now,
            ) == NonceCountCheck::Replayed
        {
            return Err(verification.replayed());
        }
        let proven = verification.prove(user, request.body)?;
        let recorded = match proven.nonce_count() {
            Some(count) => self.counts.record(
                count.nonce,
                proven.user(),
                count.issued_at,
                count.nc,
                self.now,
            ),
            None => NonceCountCheck::Fresh,
        };
        proven.finish(recorded, rng)
    }
}

/// The `response` of a `METHOD` request to `uri` with `BODY` (RFC 7616 §3.4.1), for the
/// credentials built by `s` lines and for checking those the verifier accepted.
fn response(
    algorithm: Algorithm,
    name: &str,
    realm: &str,
    password: &str,
    nonce: &[u8],
    uri: &[u8],
    qop: Option<digest::QopParams<'_>>,
) -> HexDigest {
    let ha1 = digest::ha1(
        algorithm,
        name.as_bytes(),
        realm.as_bytes(),
        password.as_bytes(),
    );
    let ha1 = match (algorithm.is_session(), &qop) {
        // Without a qop there is no cnonce: the verifier hashes an empty one.
        (true, Some(q)) => digest::session_ha1(algorithm, &ha1, nonce, q.cnonce),
        (true, None) => digest::session_ha1(algorithm, &ha1, nonce, b""),
        (false, _) => ha1,
    };
    let body_hash = qop
        .as_ref()
        .is_some_and(|q| q.qop == Qop::AuthInt)
        .then(|| digest::hash(algorithm, BODY));
    let ha2 = digest::ha2(algorithm, METHOD.as_bytes(), uri, body_hash.as_ref());
    digest::response(algorithm, &ha1, nonce, qop, &ha2)
}

/// `header` with the quoted `username="name"` at its start written in ISO-8859-1 bytes, as
/// python-requests and Apache HttpClient send it (the response stays over the UTF-8 form; the
/// verifier reads bytes that are not UTF-8 as ISO-8859-1). The lab's names have no character
/// above U+00FF, no quote and no backslash.
fn latin1_name(header: String, name: &str) -> Vec<u8> {
    let prefix = format!("Digest username=\"{name}\"");
    let Some(rest) = header.strip_prefix(&prefix) else {
        return header.into_bytes();
    };
    let mut out = b"Digest username=\"".to_vec();
    out.extend(
        name.chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')),
    );
    out.push(b'"');
    out.extend_from_slice(rest.as_bytes());
    out
}

/// Applies an edit to `bytes`: the first byte of `edit` picks the position, the second how
/// many bytes to delete there (0–3), the rest is inserted.
fn edit(mut bytes: Vec<u8>, edit: &[u8]) -> Vec<u8> {
    let [at, delete, insert @ ..] = edit else {
        return bytes;
    };
    let at = usize::from(*at) * bytes.len() / 256;
    let end = (at + usize::from(delete % 4)).min(bytes.len());
    bytes.splice(at..end, insert.iter().copied());
    bytes
}

fuzz_target!(|data: &[u8]| {
    let mut rng = FuzzRng::new(0x5e4e4);
    let mut setup = Setup::default();
    let mut server: Option<Server> = None;

    for op in Ops::new(data, 12) {
        match op.code {
            b'c' if server.is_none() => {
                setup = Setup {
                    algorithms: op.choice(0, 5),
                    qop: op.choice(1, 4),
                    userhash: op.choice(2, 2) == 1,
                    opaque: op.choice(3, 2) == 1,
                    lifetime: op.choice(4, 3),
                    capacity: op.choice(5, 3),
                };
            }
            b'n' => server
                .get_or_insert_with(|| Server::new(setup))
                .issue(op.choice(0, 2) == 1, &mut rng),
            b't' => {
                let server = server.get_or_insert_with(|| Server::new(setup));
                let seconds = std::str::from_utf8(op.args)
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok())
                    .unwrap_or(1);
                server.now += u64::from(seconds);
            }
            b'a' => server
                .get_or_insert_with(|| Server::new(setup))
                .verify(op.args, None, &mut rng),
            b's' => {
                let server = server.get_or_insert_with(|| Server::new(setup));
                let (authorization, honest) = server.build(&op);
                server.verify(&authorization, Some(honest), &mut rng);
            }
            b'x' => rng.failing = !rng.failing,
            _ => {}
        }
    }
});
