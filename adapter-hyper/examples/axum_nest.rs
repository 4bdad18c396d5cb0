//! `axum_nest`: an axum application whose `/api` routes require Digest authentication,
//! with the users of an htdigest file written by Apache's `htdigest` tool.
//!
//! ```text
//! htdigest -c users.htdigest 'api@example.org' alice
//! cargo run -p httpdigest-hyper --example axum_nest -- --htdigest users.htdigest
//! curl --digest -u alice:PASSWORD http://127.0.0.1:8080/api/me
//! ```
//!
//! What it shows:
//!
//! - **`nest` and `route_layer`.** The protected routes are a router nested under `/api`,
//!   with the layer added by `route_layer`: only requests that match one of its routes are
//!   verified (`/api/nothing` is a plain 404, not a challenge), and `/` stays public. A
//!   nested router sees `/me` for the client's `/api/me`, while the client's credentials
//!   name `/api/me`: the layer reads the target the client sent from axum's `OriginalUri`
//!   ([`RequireDigestLayer::with_request_target`]; the `axum` feature makes that the
//!   default).
//! - **The realm once.** The realm is the file's (each line is `user:realm:H(A1)`); a
//!   verifier of another realm is refused when the layer is built.
//! - **Only what the file can verify.** Its H(A1)s are MD5: the layer offers MD5 only,
//!   although the verifier's default is SHA-256 then MD5, so curl (which picks SHA-256 when
//!   offered) logs in.
//! - **Refusals for the operator.** Each refused request is a line on stderr with its
//!   typed reason, method, target, source address and user name as sent (the layer's
//!   `on_refusal` hook); the client's 400 says which check failed, its 401 says nothing
//!   about why.
//!
//! The first line on stdout is `listening on http://ADDRESS/`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::extract::{ConnectInfo, OriginalUri};
use axum::routing::get;
use axum::{Extension, Router};
use httpdigest::Algorithm;
use httpdigest::server::{Authenticated, Htdigest, Reason, Verifier, VerifierConfig};
use httpdigest_hyper::RequireDigestLayer;

const HELP: &str = "\
axum_nest: an axum app with Digest-protected routes under /api (users from an htdigest file).

Usage: axum_nest --htdigest FILE [--listen ADDRESS] [--realm REALM]

  --htdigest FILE    users, as written by Apache's htdigest tool (MD5 H(A1)s)
  --listen ADDRESS   where to listen (default 127.0.0.1:8080; port 0 picks one)
  --realm REALM      the realm (default: the file's, when it names one)

Routes: GET / (public), GET /api/me (the user's name), GET /api/time (seconds since 1970).";

struct Options {
    htdigest: String,
    listen: SocketAddr,
    realm: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let (mut htdigest, mut realm) = (None, None);
    let mut listen = SocketAddr::from(([127, 0, 0, 1], 8080));
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--htdigest" => htdigest = Some(value()?),
            "--realm" => realm = Some(value()?),
            "--listen" => {
                let v = value()?;
                listen = v
                    .parse()
                    .map_err(|_| format!("--listen: not an address: {v}"))?;
            }
            other => return Err(format!("unknown option {other:?} (see --help)")),
        }
    }
    let htdigest = htdigest.ok_or("--htdigest FILE is required (see --help)")?;
    Ok(Some(Options {
        htdigest,
        listen,
        realm,
    }))
}

async fn me(Extension(user): Extension<Authenticated>) -> String {
    format!("{}\n", user.username)
}

async fn time() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{now}\n")
}

/// The application: `/` public, `/api/*` behind the Digest layer.
fn app(layer: RequireDigestLayer) -> Router {
    let api = Router::new()
        .route("/me", get(me))
        .route("/time", get(time))
        .route_layer(layer);
    Router::new()
        .route("/", get(|| async { "public; try /api/me\n" }))
        .nest("/api", api)
}

fn layer(o: &Options) -> Result<RequireDigestLayer, String> {
    let file =
        Htdigest::load(&o.htdigest, Algorithm::Md5).map_err(|e| format!("{}: {e}", o.htdigest))?;
    let realm = match &o.realm {
        Some(realm) => realm.clone(),
        None => {
            let realms: Vec<&str> = file.realms().collect();
            match realms.as_slice() {
                [realm] => (*realm).to_owned(),
                _ => {
                    return Err(format!(
                        "{}: name the realm with --realm (the file has {})",
                        o.htdigest,
                        if realms.is_empty() {
                            "no entry".to_owned()
                        } else {
                            realms.join(", ")
                        }
                    ));
                }
            }
        }
    };
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| format!("no randomness for the nonce key: {e}"))?;
    let verifier = Verifier::new(VerifierConfig::new(realm), &key).map_err(|e| e.to_string())?;
    let layer = RequireDigestLayer::new(verifier, file)
        .map_err(|e| format!("{}: {e}", o.htdigest))?
        // Under `nest`: the target the client sent (the default with the `axum` feature).
        .with_request_target(|parts| parts.extensions.get::<OriginalUri>().map(|o| o.0.clone()))
        // The client's address, as axum's `ConnectInfo` holds it: the guess limiter's key.
        .with_source(|parts| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        })
        .on_refusal(|event| {
            // Every client's first request comes without credentials: not worth a line.
            if matches!(event.refusal.reason(), Some(Reason::MissingCredentials)) {
                return;
            }
            let source = event
                .source
                .map_or_else(|| "-".to_owned(), |s| s.to_string());
            eprintln!(
                "refused {} {} {} from {source} user {:?}: {}",
                event.status.as_u16(),
                event.method,
                event.target,
                event.username.unwrap_or("-"),
                event.refusal,
            );
        });
    Ok(layer)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("axum_nest: {message}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("axum_nest: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(o: Options) -> Result<(), String> {
    let layer = layer(&o)?;
    let config = layer.verifier().config();
    let offered: Vec<&str> = config.algorithms.iter().map(|a| a.name()).collect();
    let realm = config.realm.clone();
    let listener = tokio::net::TcpListener::bind(o.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", o.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{address}/");
    println!("realm {realm:?}, algorithms {}", offered.join(","));
    let service = app(layer).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .await
        .map_err(|e| format!("serving: {e}"))
}
