#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr
)]
//! The reqwest middleware against the real servers of the interop lab (tests/interop):
//! Apache mod_auth_digest, lighttpd, httpbin, Squid as a Digest proxy, Tomcat and Twisted.
//!
//! These tests need the lab running (`tests/interop/start-all.sh`), so they are ignored by a
//! plain `cargo test`; the README's full test command runs them with `--include-ignored`,
//! and then a lab that is down fails them (connection refused), never skips them.
//!
//! Every request goes through the Digest middleware and then a [`Recorder`] placed after
//! (inside) it, which sees each exchange the middleware puts on the wire: what is counted
//! below as "exchanges".

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Extensions;
use httpdigest::client::Failure;
use httpdigest_reqwest::{DigestAuthMiddleware, auth_error};
use reqwest::{Request, Response};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};

const ALICE: (&str, &str) = ("alice", "s3cret");
const JASON: (&str, &str) = ("Jäsøn Doe", "Secret, or not?");

const APACHE: &str = "http://127.0.0.1:18081";
const LIGHTTPD: &str = "http://127.0.0.1:18082";
const HTTPBIN: &str = "http://127.0.0.1:18083";
const SQUID: &str = "http://127.0.0.1:18084";
const SQUID_ORIGIN: &str = "http://127.0.0.1:18085/hello.txt";
const TOMCAT: &str = "http://127.0.0.1:18086";
const TWISTED: &str = "http://127.0.0.1:18087";

/// Held by every test while it uses Apache `/digest-stale/`. There (`AuthDigestNcCheck On`)
/// each challenge allocates a client entry, named by `opaque`, in mod_auth_digest's shared
/// memory, which holds about six (`AuthDigestShmemSize` default); when it is full, the next
/// allocation garbage-collects the oldest entry of every hash bucket, possibly one just
/// handed out. An answer whose `opaque` names a collected entry gets 401 `stale=true`: one
/// more exchange, caused by a concurrent test (seen once: apache-error.log "AH01766: gc'd 6
/// client entries" between a challenge and its answer). The tests here take turns.
static APACHE_STALE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One exchange on the wire: the credentials header sent, and what came back.
#[derive(Debug)]
struct Exchange {
    /// `Authorization` or `Proxy-Authorization` as sent (lossy UTF-8), if any.
    sent: Option<String>,
    /// The response's status, or the transport error.
    status: Result<u16, String>,
    /// The response's `WWW-Authenticate` / `Proxy-Authenticate` fields.
    challenges: Vec<String>,
}

/// Records every request that goes past it: placed after the Digest middleware, it sees each
/// send the middleware makes.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Exchange>>>);

#[async_trait::async_trait]
impl Middleware for Recorder {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let sent = [
            http::header::AUTHORIZATION,
            http::header::PROXY_AUTHORIZATION,
        ]
        .iter()
        .find_map(|name| request.headers().get(name))
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let result = next.run(request, extensions).await;
        let (status, challenges) = match &result {
            Ok(response) => (
                Ok(response.status().as_u16()),
                [
                    http::header::WWW_AUTHENTICATE,
                    http::header::PROXY_AUTHENTICATE,
                ]
                .iter()
                .flat_map(|name| response.headers().get_all(name))
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect(),
            ),
            Err(e) => (Err(e.to_string()), Vec::new()),
        };
        self.0.lock().unwrap().push(Exchange {
            sent,
            status,
            challenges,
        });
        result
    }
}

/// A client (Digest middleware, then the recorder) and the exchanges it made.
struct Lab {
    client: ClientWithMiddleware,
    log: Recorder,
}

impl Lab {
    /// Origin credentials; environment proxies ignored.
    fn origin((user, password): (&str, &str)) -> Self {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Self::with(http, DigestAuthMiddleware::new(user, password))
    }

    /// Squid as the forward proxy, with proxy credentials only.
    fn proxied((user, password): (&str, &str)) -> Self {
        let http = reqwest::Client::builder()
            .proxy(reqwest::Proxy::http(SQUID).unwrap())
            .build()
            .unwrap();
        let digest = DigestAuthMiddleware::builder()
            .proxy(SQUID)
            .proxy_credentials(user, password)
            .build()
            .unwrap();
        Self::with(http, digest)
    }

    fn with(http: reqwest::Client, digest: DigestAuthMiddleware) -> Self {
        let log = Recorder::default();
        let client = ClientBuilder::new(http)
            .with(digest)
            .with(log.clone())
            .build();
        Self { client, log }
    }

    /// GET `url`: the status (body read) or the error, and the exchanges it took.
    async fn get(&self, url: &str) -> (reqwest_middleware::Result<u16>, Vec<Exchange>) {
        let result = match self.client.get(url).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                response.bytes().await.unwrap();
                Ok(status)
            }
            Err(e) => Err(e),
        };
        let exchanges = std::mem::take(&mut *self.log.0.lock().unwrap());
        (result, exchanges)
    }
}

/// Two GETs with one client: 401 then 200 (two exchanges), then 200 at once (one exchange).
async fn authenticates(url: &str, user: (&str, &str)) {
    authenticates_with(&Lab::origin(user), url, user.0).await;
}

/// The same through Squid, with proxy credentials.
async fn authenticates_via_proxy(user: (&str, &str)) {
    authenticates_with(&Lab::proxied(user), SQUID_ORIGIN, user.0).await;
}

async fn authenticates_with(lab: &Lab, url: &str, user: &str) {
    let (first, exchanges) = lab.get(url).await;
    assert_eq!(
        first.unwrap(),
        200,
        "{url} as {user}, first request: {exchanges:#?}"
    );
    assert_eq!(
        exchanges.len(),
        2,
        "{url} as {user}: challenge, then answer: {exchanges:#?}"
    );
    assert!(exchanges[0].sent.is_none(), "{exchanges:#?}");
    let (second, exchanges) = lab.get(url).await;
    assert_eq!(
        second.unwrap(),
        200,
        "{url} as {user}, second request: {exchanges:#?}"
    );
    assert_eq!(
        exchanges.len(),
        1,
        "{url} as {user}: the second request goes out authenticated: {exchanges:#?}"
    );
}

/// A success; then, past the location's 3 s nonce lifetime, another request: the
/// preemptive send gets 401 `stale=true` and the middleware answers the new nonce without
/// asking the caller. Exactly one retry: two exchanges.
async fn renews_stale_nonce(url: &str) {
    let lab = Lab::origin(ALICE);
    let (first, exchanges) = lab.get(url).await;
    assert_eq!(first.unwrap(), 200, "{url}: {exchanges:#?}");
    assert_eq!(exchanges.len(), 2, "{url}: {exchanges:#?}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (second, exchanges) = lab.get(url).await;
    assert_eq!(second.unwrap(), 200, "{url}: {exchanges:#?}");
    assert_eq!(
        exchanges.len(),
        2,
        "{url}: stale nonce, then the new one: {exchanges:#?}"
    );
    let stale = &exchanges[0];
    assert!(stale.sent.is_some(), "{url}: preemptive: {exchanges:#?}");
    assert_eq!(stale.status, Ok(401), "{url}: {exchanges:#?}");
    assert!(
        stale
            .challenges
            .iter()
            .any(|c| c.to_ascii_lowercase().contains("stale=true")),
        "{url}: the 401 says stale=true: {exchanges:#?}"
    );
}

/// The credentials are answered once and refused: a typed error after exactly two
/// exchanges (challenge, answer), no third.
async fn rejected_with(lab: &Lab, url: &str, user: &str) {
    let (result, exchanges) = lab.get(url).await;
    let err = result.expect_err(url);
    let auth = auth_error(&err).unwrap_or_else(|| panic!("{url}: not an AuthError: {err}"));
    assert_eq!(
        auth.failure(),
        &Failure::CredentialsRejected,
        "{url} as {user}: {err}: {exchanges:#?}"
    );
    assert_eq!(
        exchanges.len(),
        2,
        "{url} as {user}: one answer, no more: {exchanges:#?}"
    );
    assert!(exchanges[1].sent.is_some(), "{exchanges:#?}");
}

/// A wrong password at an origin.
async fn rejects_wrong_password(url: &str, user: &str) {
    rejected_with(&Lab::origin((user, "wrong password")), url, user).await;
}

/// The right credentials, refused by the server (how it reads the user name).
async fn rejects(url: &str, user: (&str, &str)) {
    rejected_with(&Lab::origin(user), url, user.0).await;
}

#[tokio::test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn apache() {
    let _turn = APACHE_STALE.lock().await;
    for location in ["/digest/", "/digest-stale/"] {
        authenticates(&format!("{APACHE}{location}"), ALICE).await;
        // Apache announces no charset; it takes the raw UTF-8 name in `username="…"`, which
        // the core writes there and reqwest (unlike ureq) puts on the wire.
        authenticates(&format!("{APACHE}{location}"), JASON).await;
    }
    for user in ["alice", JASON.0] {
        rejects_wrong_password(&format!("{APACHE}/digest/"), user).await;
    }
}

/// `/digest-stale/` has a 3 s nonce lifetime: past it, the preemptive request gets
/// `stale=true` and the middleware answers the new nonce, without asking the caller.
#[tokio::test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn apache_stale_nonce() {
    let _turn = APACHE_STALE.lock().await;
    renews_stale_nonce(&format!("{APACHE}/digest-stale/")).await;
}

#[tokio::test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn lighttpd() {
    for location in [
        "/digest-md5/",
        "/digest-sha256/",
        "/digest-sha512-256/",
        "/digest-userhash/",
        "/digest-multi/",
    ] {
        // lighttpd announces `charset="UTF-8"`: the UTF-8 name goes as `username*`
        // (or hashed, on /digest-userhash/).
        for user in [ALICE, JASON] {
            authenticates(&format!("{LIGHTTPD}{location}"), user).await;
        }
    }
    for user in ["alice", JASON.0] {
        rejects_wrong_password(&format!("{LIGHTTPD}/digest-sha256/"), user).await;
    }
}

/// httpbin takes the password from the URL (and never compares the URL's user with the
/// header's). GET only, so auth-int hashes an empty body.
#[tokio::test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn httpbin() {
    for qop in ["auth", "auth-int"] {
        for algorithm in ["MD5", "SHA-256", "SHA-512"] {
            authenticates(
                &format!("{HTTPBIN}/digest-auth/{qop}/alice/s3cret/{algorithm}/never"),
                ALICE,
            )
            .await;
        }
    }
    // Both qops offered: auth is the default choice.
    authenticates(
        &format!("{HTTPBIN}/digest-auth/both/alice/s3cret/MD5/never"),
        ALICE,
    )
    .await;
    for algorithm in ["MD5", "SHA-256", "SHA-512"] {
        rejects_wrong_password(
            &format!("{HTTPBIN}/digest-auth/auth/alice/s3cret/{algorithm}/never"),
            "alice",
        )
        .await;
    }
}

/// httpbin has no lab users: the password comes from the URL, whose path must not be
/// percent-encoded (httpbin compares `uri` with the decoded path), so "Secret, or not?"
/// cannot be used there. With the URL's password, the UTF-8 name still fails: httpbin gets
/// the header as a WSGI string (bytes decoded as ISO-8859-1) and hashes that string's UTF-8,
/// i.e. "JÃ¤sÃ¸n Doe" (any ASCII name passes with this URL, since the URL's user is not
/// compared). The right password is rejected.
#[tokio::test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn httpbin_non_ascii_user_name() {
    rejects(
        &format!("{HTTPBIN}/digest-auth/auth/jason/s3cret/MD5/never"),
        (JASON.0, "s3cret"),
    )
    .await;
}

/// Squid as a forward proxy (407, `Proxy-Authenticate`): proxy credentials only, the origin
/// behind it needs none. Squid takes the raw UTF-8 name.
#[tokio::test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn squid_proxy() {
    for user in [ALICE, JASON] {
        authenticates_via_proxy(user).await;
    }
    for user in ["alice", JASON.0] {
        rejected_with(&Lab::proxied((user, "wrong password")), SQUID_ORIGIN, user).await;
    }
}

#[tokio::test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn tomcat() {
    for location in ["/md5/", "/sha256/", "/sha512-256/", "/multi/", "/stale/"] {
        authenticates(&format!("{TOMCAT}{location}"), ALICE).await;
    }
    rejects_wrong_password(&format!("{TOMCAT}/md5/"), "alice").await;
}

/// Tomcat decodes the user name in the header as ISO-8859-1 (and hashes it as UTF-8): only
/// raw ISO-8859-1 bytes would work there. The core sends the UTF-8 bytes (as curl and
/// aiohttp do), Tomcat looks up "JÃ¤sÃ¸n Doe", finds no such user and answers a plain 401:
/// the right password is rejected, on every location.
#[tokio::test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn tomcat_non_ascii_user_name() {
    for location in ["/md5/", "/sha256/", "/sha512-256/", "/multi/", "/stale/"] {
        rejects(&format!("{TOMCAT}{location}"), JASON).await;
    }
}

/// `/stale/` has a 3 s nonce validity.
#[tokio::test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn tomcat_stale_nonce() {
    renews_stale_nonce(&format!("{TOMCAT}/stale/")).await;
}

#[tokio::test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
async fn twisted() {
    for location in ["/md5/", "/md5-sess/", "/sha/"] {
        authenticates(&format!("{TWISTED}{location}"), ALICE).await;
        // No charset announced; Twisted takes the raw UTF-8 name.
        authenticates(&format!("{TWISTED}{location}"), JASON).await;
    }
    for user in ["alice", JASON.0] {
        rejects_wrong_password(&format!("{TWISTED}/md5/"), user).await;
    }
}
