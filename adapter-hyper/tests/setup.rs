//! The server layer as a new user sets it up and operates it:
//!
//! 1. the layer offers only what its credential store can verify (an MD5 htdigest file:
//!    MD5 only, so a client that picks the strongest challenge logs in), and refuses a
//!    store of another realm when it is built;
//! 2. under axum's `Router::nest` it verifies against the request-target the client sent
//!    (axum's `OriginalUri`), with `route_layer` or `layer`;
//! 3. every refusal reaches the operator's hook with its typed reason and the request's
//!    metadata, never a secret; a 400's body names the failed check, and a 401's is the same
//!    for an unknown user and a wrong password.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::OriginalUri;
use axum::{Extension, Router, routing::get};
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use httpdigest::server::{
    Authenticated, ConfigError, Htdigest, Reason, StoredSecret, Users, Verifier, VerifierConfig,
};
use httpdigest::{Algorithm, digest};
use httpdigest_hyper::{DigestAuthLayer, DigestBody, Refusal, RequireDigestLayer};
use httpdigest_tests::headers::params;
use httpdigest_tests::raw::Login;
use httpdigest_tests::server::{PASSWORD, REALM, USER};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use tower::{ServiceBuilder, ServiceExt};

fn key() -> [u8; 32] {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).unwrap();
    key
}

fn users() -> Users {
    let mut users = Users::new(REALM);
    users.insert(USER, PASSWORD);
    users
}

/// The default configuration: SHA-256 first, then MD5.
fn verifier() -> Verifier {
    Verifier::new(VerifierConfig::new(REALM), &key()).unwrap()
}

/// An MD5 htdigest file with [`USER`], as Apache's `htdigest` writes it.
fn md5_file() -> Htdigest {
    let ha1 = digest::ha1(
        Algorithm::Md5,
        USER.as_bytes(),
        REALM.as_bytes(),
        PASSWORD.as_bytes(),
    );
    Htdigest::parse(
        &format!("{USER}:{REALM}:{}\n", ha1.as_str()),
        Algorithm::Md5,
    )
    .unwrap()
}

async fn me(Extension(user): Extension<Authenticated>) -> String {
    user.username
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// GET `url` through the project's client layer as [`USER`] (it answers the strongest
/// challenge, as curl does): the status and the body.
async fn login(url: &str, password: &str) -> (StatusCode, String) {
    let client = HyperClient::builder(TokioExecutor::new()).build_http::<DigestBody<Full<Bytes>>>();
    let service = ServiceBuilder::new()
        .layer(DigestAuthLayer::new(USER, password))
        .service(client);
    let request = Request::get(url).body(Full::new(Bytes::new())).unwrap();
    match service.oneshot(request).await {
        Ok(response) => {
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
        Err(httpdigest_hyper::Error::Auth(e)) => (e.status(), String::new()),
        Err(e) => panic!("{e}"),
    }
}

/// The `WWW-Authenticate` values of a bare GET.
async fn challenges(url: &str) -> Vec<String> {
    let client = HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = client
        .request(Request::get(url).body(Full::new(Bytes::new())).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. The store decides what is offered
// ---------------------------------------------------------------------------------------

/// With the default configuration (SHA-256, MD5) over an MD5 htdigest file, the layer used
/// to offer SHA-256 first: a client that picks it (curl, this crate's) was refused for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_md5_htdigest_file_is_offered_md5_only_and_the_client_logs_in() {
    let layer = RequireDigestLayer::new(verifier(), md5_file()).unwrap();
    assert_eq!(layer.verifier().config().algorithms, [Algorithm::Md5]);
    let addr = serve(Router::new().route("/me", get(me)).route_layer(layer)).await;
    let url = format!("http://{addr}/me");

    let offered = challenges(&url).await;
    assert_eq!(offered.len(), 1, "{offered:?}");
    assert_eq!(params(&offered[0])["algorithm"], "MD5");
    assert_eq!(
        login(&url, PASSWORD).await,
        (StatusCode::OK, USER.to_owned())
    );
    assert_eq!(
        login(&url, "not the password").await.0,
        StatusCode::UNAUTHORIZED
    );
}

/// The realm is given to the store and to the verifier; a mismatch used to make every user
/// "unknown" at run time. Now the layer is not built.
#[test]
fn a_store_of_another_realm_is_refused_when_the_layer_is_built() {
    let other = Users::new("another realm");
    let refused = RequireDigestLayer::new(verifier(), other).unwrap_err();
    assert_eq!(
        refused,
        ConfigError::RealmMismatch {
            realm: REALM.into()
        }
    );
    let sha256_only = VerifierConfig::new(REALM).with_algorithms([Algorithm::Sha256]);
    let verifier = Verifier::new(sha256_only, &key()).unwrap();
    assert_eq!(
        RequireDigestLayer::new(verifier, md5_file()).unwrap_err(),
        ConfigError::NoAlgorithmForStore
    );
}

// ---------------------------------------------------------------------------------------
// 2. axum's nest
// ---------------------------------------------------------------------------------------

/// `Router::nest("/api", ..)` hands the nested router `/me` for the client's `/api/me`,
/// whose `uri` the credentials carry: the layer used to answer 400 with an empty body to
/// the right password. With the request-target hook (or the `axum` feature's default) it
/// verifies what the client sent, and `route_layer` leaves unknown paths a 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_nest_the_layer_verifies_the_target_the_client_sent() {
    let hooked = RequireDigestLayer::new(verifier(), users())
        .unwrap()
        .with_request_target(|parts| parts.extensions.get::<OriginalUri>().map(|o| o.0.clone()));
    let plain = RequireDigestLayer::new(verifier(), users()).unwrap();
    let mut layers = vec![("hook", hooked)];
    if cfg!(feature = "axum") {
        layers.push(("axum feature", plain.clone()));
    }
    for (name, layer) in layers {
        let api = Router::new().route("/me", get(me)).route_layer(layer);
        let addr = serve(Router::new().nest("/api", api)).await;
        let url = format!("http://{addr}/api/me?x=1");
        assert_eq!(
            login(&url, PASSWORD).await,
            (StatusCode::OK, USER.to_owned()),
            "{name}"
        );
        let missing = HyperClient::builder(TokioExecutor::new())
            .build_http::<Full<Bytes>>()
            .request(
                Request::get(format!("http://{addr}/api/nothing"))
                    .body(Full::new(Bytes::new()))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{name}");
    }

    // Without the hook or the feature, the nested layer sees `/me` and says why it refuses.
    if !cfg!(feature = "axum") {
        let api = Router::new()
            .route("/me", get(me))
            .route_layer(plain.clone());
        let addr = serve(Router::new().nest("/api", api)).await;
        let url = format!("http://{addr}/api/me");
        assert_eq!(
            login(&url, PASSWORD).await,
            (
                StatusCode::BAD_REQUEST,
                "bad Digest credentials: uri does not match the request-target\n".to_owned()
            )
        );
    }

    // Outside the nest (`.layer` on the outer router) the request is the client's as sent.
    let api = Router::new().route("/me", get(me));
    let addr = serve(Router::new().nest("/api", api).layer(plain)).await;
    let url = format!("http://{addr}/api/me");
    assert_eq!(
        login(&url, PASSWORD).await,
        (StatusCode::OK, USER.to_owned())
    );
}

// ---------------------------------------------------------------------------------------
// 3. Refusals: the hook and the bodies
// ---------------------------------------------------------------------------------------

/// What the hook was told, as owned values.
#[derive(Debug, Clone)]
struct Told {
    status: StatusCode,
    reason: Option<Reason>,
    method: String,
    target: String,
    source: Option<std::net::IpAddr>,
    peer: Option<SocketAddr>,
    username: Option<String>,
    all: String,
}

/// A request to the layer alone (no network), from `peer`, with `authorization`.
async fn ask(
    layer: &RequireDigestLayer,
    target: &str,
    authorization: Option<&str>,
) -> (StatusCode, http::HeaderMap, Bytes) {
    let service = tower::Layer::layer(
        layer,
        tower::service_fn(|_request: Request<Full<Bytes>>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("ok"))))
        }),
    );
    let mut builder = Request::get(target).header(header::HOST, "127.0.0.1");
    if let Some(a) = authorization {
        builder = builder.header(header::AUTHORIZATION, a);
    }
    let mut request = builder.body(Full::new(Bytes::new())).unwrap();
    let peer: SocketAddr = "192.0.2.7:4711".parse().unwrap();
    request.extensions_mut().insert(peer);
    let response = service.oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, body)
}

#[tokio::test]
async fn refusals_reach_the_hook_with_reason_and_metadata_and_explain_a_400() {
    let told = Arc::new(Mutex::new(Vec::<Told>::new()));
    let log = Arc::clone(&told);
    let layer = RequireDigestLayer::new(verifier(), users())
        .unwrap()
        .on_refusal(move |event| {
            log.lock().unwrap().push(Told {
                status: event.status,
                reason: event.refusal.reason().cloned(),
                method: event.method.to_string(),
                target: event.target.to_owned(),
                source: event.source,
                peer: event.peer,
                username: event.username.map(str::to_owned),
                all: format!("{event:?} {}", event.refusal),
            });
            assert!(matches!(
                event.refusal,
                Refusal::Rejected(_) | Refusal::Throttled { .. }
            ));
        });

    let (status, headers, first) = ask(&layer, "/h?q=1", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let challenge = headers[header::WWW_AUTHENTICATE].to_str().unwrap();
    let nonce = params(challenge)["nonce"].clone();
    let login = |user: &'static str, password: &'static str, uri: &'static str, nc: u32| {
        let mut login = Login::new(Algorithm::Sha256, user, REALM, password, &nonce).nc(nc);
        login.uri = uri;
        login.authorization()
    };
    let wrong = login(USER, "not the password", "/h?q=1", 1);
    let unknown = login("mallory", PASSWORD, "/h?q=1", 2);
    let elsewhere = login(USER, PASSWORD, "/other", 3);

    let (wrong_status, wrong_headers, wrong_body) = ask(&layer, "/h?q=1", Some(&wrong)).await;
    let (unknown_status, unknown_headers, unknown_body) =
        ask(&layer, "/h?q=1", Some(&unknown)).await;
    // A 401 tells no unknown user from a wrong password: status, fields, body.
    assert_eq!(
        (wrong_status, &wrong_body),
        (StatusCode::UNAUTHORIZED, &first)
    );
    assert_eq!((unknown_status, &unknown_body), (wrong_status, &wrong_body));
    let names = |h: &http::HeaderMap| {
        let mut names: Vec<String> = h.keys().map(ToString::to_string).collect();
        names.sort();
        names
    };
    assert_eq!(names(&wrong_headers), names(&unknown_headers));
    assert_eq!(&first[..], b"Digest authentication required\n");

    // A 400 names the failed check.
    let (status, headers, body) = ask(&layer, "/h?q=1", Some(&elsewhere)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        &body[..],
        b"bad Digest credentials: uri does not match the request-target\n"
    );
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    let (status, _, body) = ask(&layer, "/h", Some("Digest username=\"alice\", realm=")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        body.starts_with("bad Digest credentials: malformed credentials: "),
        "{body}"
    );

    let told = told.lock().unwrap().clone();
    let reasons: Vec<_> = told.iter().map(|t| (t.status, t.reason.clone())).collect();
    assert_eq!(
        reasons,
        [
            (StatusCode::UNAUTHORIZED, Some(Reason::MissingCredentials)),
            (StatusCode::UNAUTHORIZED, Some(Reason::WrongPassword)),
            (StatusCode::UNAUTHORIZED, Some(Reason::UnknownUser)),
            (StatusCode::BAD_REQUEST, Some(Reason::UriMismatch)),
            (told[4].status, told[4].reason.clone()),
        ]
    );
    assert!(matches!(told[4].reason, Some(Reason::Malformed(_))));
    let users: Vec<_> = told.iter().map(|t| t.username.as_deref()).collect();
    assert_eq!(users, [None, Some(USER), Some("mallory"), Some(USER), None]);
    for t in &told {
        assert_eq!(t.method, "GET");
        assert_eq!(t.source, Some("192.0.2.7".parse().unwrap()));
        assert_eq!(t.peer, Some("192.0.2.7:4711".parse().unwrap()));
        // No secret: neither password, nor the response, nor the cnonce or a header value.
        for secret in [
            PASSWORD,
            "not the password",
            "response",
            "0a4f113b",
            "Digest ",
        ] {
            assert!(!t.all.contains(secret), "{secret} in {}", t.all);
        }
    }
    assert_eq!(told[0].target, "/h?q=1");
}

/// A store that says nothing of its hashes (the trait's default: "every algorithm") but
/// holds an MD5 H(A1): a SHA-256 answer is refused as `StoredHashMismatch`, never as a wrong
/// password, and a client stuck on it is not throttled as a guesser would be.
#[tokio::test]
async fn a_stored_hash_of_another_algorithm_is_its_own_reason_and_no_guess() {
    struct Md5Only;
    impl httpdigest::server::CredentialStore for Md5Only {
        fn lookup(&self, username: &[u8], realm: &str) -> Option<StoredSecret> {
            let ha1 = digest::ha1(
                Algorithm::Md5,
                username,
                realm.as_bytes(),
                PASSWORD.as_bytes(),
            );
            (username == USER.as_bytes())
                .then(|| StoredSecret::ha1(Algorithm::Md5, ha1.as_str()).unwrap())
        }
    }
    let told = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&told);
    let layer = RequireDigestLayer::new(verifier(), Md5Only)
        .unwrap()
        .on_refusal(move |event| log.lock().unwrap().push(event.refusal.reason().cloned()));
    let (_, headers, _) = ask(&layer, "/h", None).await;
    let challenge = headers[header::WWW_AUTHENTICATE].to_str().unwrap();
    assert_eq!(params(challenge)["algorithm"], "SHA-256");
    let nonce = params(challenge)["nonce"].clone();
    // Past the default limit of failed guesses per user and source (10).
    for nc in 1..=12 {
        let mut login = Login::new(Algorithm::Sha256, USER, REALM, PASSWORD, &nonce).nc(nc);
        login.uri = "/h";
        let (status, _, body) = ask(&layer, "/h", Some(&login.authorization())).await;
        assert_eq!(
            (status, &body[..]),
            (
                StatusCode::UNAUTHORIZED,
                &b"Digest authentication required\n"[..]
            ),
            "{nc}"
        );
    }
    let mismatch = Reason::StoredHashMismatch {
        stored: Algorithm::Md5,
        used: Algorithm::Sha256,
    };
    let told = told.lock().unwrap().clone();
    assert_eq!(told.len(), 13);
    assert!(
        told[1..].iter().all(|r| r.as_ref() == Some(&mismatch)),
        "{told:?}"
    );
    // The MD5 answer from the same store is accepted.
    let mut login = Login::new(Algorithm::Md5, USER, REALM, PASSWORD, &nonce).nc(13);
    login.uri = "/h";
    let (status, _, body) = ask(&layer, "/h", Some(&login.authorization())).await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"ok"[..]));
}
