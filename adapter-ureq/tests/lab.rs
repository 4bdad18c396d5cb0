//! The ureq adapter against the real servers of the interop lab (tests/interop): Apache
//! mod_auth_digest, lighttpd, httpbin, Squid as a Digest proxy, Tomcat and Twisted.
//!
//! These tests need the lab running (`tests/interop/start-all.sh`), so they are ignored by a
//! plain `cargo test`; the README's full test command runs them with `--include-ignored`,
//! and then a lab that is down fails them (connection refused), never skips them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use httpdigest::client::Failure;
use httpdigest_ureq::{DigestAgent, Error, Event};

const ALICE: (&str, &str) = ("alice", "s3cret");
const JASON: (&str, &str) = ("Jäsøn Doe", "Secret, or not?");

const APACHE: &str = "http://127.0.0.1:18081";
const LIGHTTPD: &str = "http://127.0.0.1:18082";
const HTTPBIN: &str = "http://127.0.0.1:18083";
const SQUID: &str = "http://127.0.0.1:18084";
const SQUID_ORIGIN: &str = "http://127.0.0.1:18085/hello.txt";
const TOMCAT: &str = "http://127.0.0.1:18086";
const TWISTED: &str = "http://127.0.0.1:18087";

/// An agent that counts the requests it puts on the wire.
struct Counted {
    agent: DigestAgent,
    sends: Arc<AtomicUsize>,
}

impl Counted {
    fn new((user, password): (&str, &str), proxy: bool) -> Self {
        let sends = Arc::new(AtomicUsize::new(0));
        let counter = sends.clone();
        let mut builder = DigestAgent::builder().observer(move |event| {
            if let Event::Request { .. } = event {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        builder = if proxy {
            builder.proxy(SQUID).proxy_credentials(user, password)
        } else {
            builder.credentials(user, password)
        };
        Self {
            agent: builder.build().unwrap(),
            sends,
        }
    }

    /// GET `url`: the status or the error, and how many sends it took.
    fn get(&self, url: &str) -> (Result<u16, Error>, usize) {
        let before = self.sends.load(Ordering::SeqCst);
        let result = self.agent.get(url).call().map(|mut r| {
            r.body_mut().read_to_vec().unwrap();
            r.status().as_u16()
        });
        (result, self.sends.load(Ordering::SeqCst) - before)
    }
}

/// Two GETs with one agent: 401 then 200 (two sends), then 200 at once (one send).
fn authenticates(url: &str, user: (&str, &str)) {
    authenticates_via(url, user, false);
}

fn authenticates_via(url: &str, user: (&str, &str), proxy: bool) {
    let agent = Counted::new(user, proxy);
    let (first, sends) = agent.get(url);
    assert_eq!(first.unwrap(), 200, "{url} as {}", user.0);
    assert_eq!(sends, 2, "{url}: challenge, then answer");
    let (second, sends) = agent.get(url);
    assert_eq!(second.unwrap(), 200, "{url} as {}, second request", user.0);
    assert_eq!(sends, 1, "{url}: the second request goes out authenticated");
}

/// A success, then past the location's 3 s nonce lifetime another request: the preemptive
/// send gets `stale=true` and the client answers the new nonce without asking the caller.
fn renews_stale_nonce(url: &str) {
    let agent = Counted::new(ALICE, false);
    assert_eq!(agent.get(url).0.unwrap(), 200);
    std::thread::sleep(Duration::from_secs(4));
    let (result, sends) = agent.get(url);
    assert_eq!(result.unwrap(), 200);
    assert_eq!(sends, 2, "{url}: stale nonce, then the new one");
}

/// A wrong password: one answer, then a typed error.
fn rejects_wrong_password(url: &str, user: &str, proxy: bool) {
    let agent = Counted::new((user, "wrong password"), proxy);
    let (result, sends) = agent.get(url);
    let err = result.unwrap_err();
    assert_eq!(
        err.failure(),
        Some(&Failure::CredentialsRejected),
        "{url}: {err}"
    );
    assert_eq!(sends, 2, "{url}: one answer, no more");
}

/// ureq refuses to send an `Authorization` value with bytes outside visible ASCII. A
/// non-ASCII user name goes as `username*` to servers that announce `charset=UTF-8`
/// (lighttpd); Apache, Tomcat and Twisted do not, and want the raw bytes (UTF-8 for Apache and
/// Twisted, ISO-8859-1 for Tomcat), which ureq cannot send. The agent says so with its own
/// error. (Squid: `Proxy-Authorization` is not checked by ureq, and raw UTF-8 works.)
fn non_ascii_name_is_refused_by_ureq(url: &str) {
    let agent = Counted::new(JASON, false);
    let (result, sends) = agent.get(url);
    assert!(
        matches!(result, Err(Error::NonAsciiAuthorization)),
        "{url}: {result:?}"
    );
    assert_eq!(sends, 1, "{url}: the answer was never sent");
}

/// Held by every test while it uses Apache `/digest-stale/`. There (`AuthDigestNcCheck On`)
/// each challenge allocates a client entry, named by `opaque`, in mod_auth_digest's shared
/// memory, which holds about six; when it is full, the next allocation garbage-collects the
/// oldest entries, possibly one just handed out, and an answer naming it gets 401
/// `stale=true`: one more exchange, caused by a concurrent test. The tests take turns.
static APACHE_STALE: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn apache() {
    let _turn = APACHE_STALE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    authenticates(&format!("{APACHE}/digest/"), ALICE);
    non_ascii_name_is_refused_by_ureq(&format!("{APACHE}/digest/"));
    authenticates(&format!("{APACHE}/digest-stale/"), ALICE);
    rejects_wrong_password(&format!("{APACHE}/digest/"), "alice", false);
}

/// `/digest-stale/` has a 3 s nonce lifetime: past it, the preemptive request gets
/// `stale=true` and the client answers the new nonce, without asking the caller.
#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn apache_stale_nonce() {
    let _turn = APACHE_STALE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    renews_stale_nonce(&format!("{APACHE}/digest-stale/"));
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn lighttpd() {
    for location in [
        "/digest-md5/",
        "/digest-sha256/",
        "/digest-sha512-256/",
        "/digest-userhash/",
        "/digest-multi/",
    ] {
        for user in [ALICE, JASON] {
            authenticates(&format!("{LIGHTTPD}{location}"), user);
        }
    }
    rejects_wrong_password(&format!("{LIGHTTPD}/digest-sha256/"), "alice", false);
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn httpbin() {
    for qop in ["auth", "auth-int"] {
        for algorithm in ["MD5", "SHA-256", "SHA-512"] {
            authenticates(
                &format!("{HTTPBIN}/digest-auth/{qop}/alice/s3cret/{algorithm}/never"),
                ALICE,
            );
        }
    }
    // Both qops offered: auth is the default choice.
    authenticates(
        &format!("{HTTPBIN}/digest-auth/both/alice/s3cret/MD5/never"),
        ALICE,
    );
    rejects_wrong_password(
        &format!("{HTTPBIN}/digest-auth/auth/alice/s3cret/SHA-256/never"),
        "alice",
        false,
    );
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn squid_proxy() {
    for user in [ALICE, JASON] {
        authenticates_via(SQUID_ORIGIN, user, true);
    }
    rejects_wrong_password(SQUID_ORIGIN, "alice", true);
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn tomcat() {
    for location in ["/md5/", "/sha256/", "/sha512-256/", "/multi/", "/stale/"] {
        authenticates(&format!("{TOMCAT}{location}"), ALICE);
    }
    rejects_wrong_password(&format!("{TOMCAT}/md5/"), "alice", false);
}

/// Tomcat reads the user name in the header as ISO-8859-1 (and hashes it as UTF-8): only
/// raw ISO-8859-1 bytes work there, which ureq cannot send.
#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn tomcat_non_ascii_user_name() {
    non_ascii_name_is_refused_by_ureq(&format!("{TOMCAT}/md5/"));
}

/// `/stale/` has a 3 s nonce validity.
#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn tomcat_stale_nonce() {
    renews_stale_nonce(&format!("{TOMCAT}/stale/"));
}

#[test]
#[ignore = "needs the interop lab: tests/interop/start-all.sh"]
fn twisted() {
    for location in ["/md5/", "/md5-sess/", "/sha/"] {
        authenticates(&format!("{TWISTED}{location}"), ALICE);
    }
    non_ascii_name_is_refused_by_ureq(&format!("{TWISTED}/md5/"));
    rejects_wrong_password(&format!("{TWISTED}/md5/"), "alice", false);
}
