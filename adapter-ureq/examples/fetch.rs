//! `fetch`: a Digest-aware command-line client for APIs and picky devices, with curl's flag
//! names where they overlap.
//!
//! ```text
//! cargo run -p httpdigest-ureq --example fetch -- [options] URL...
//! ```
//!
//! Run with `--help` for the options. The body of each final response goes to stdout; `-v`
//! and `--explain` write to stderr. The exit status is 0 only when every final response is
//! 2xx.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use http::{HeaderMap, Method, StatusCode, Uri};
use httpdigest::Algorithm;
use httpdigest::client::netrc::Netrc;
use httpdigest::client::{
    BasicPolicy, Client, ClientConfig, Credentials, Failure, SelectionOrder, Verdict,
};
use httpdigest_ureq::{DigestAgent, Error, Event};

const HELP: &str = "\
fetch: HTTP requests with Digest authentication (RFC 7616), for APIs and devices.

Usage: fetch [options] URL...

Several URLs in one run share the authentication state: a second request to a known
protection space goes out with credentials at once.

Options (curl's names where they overlap):
  -u, --user USER:PASSWORD        credentials for the server
  -n, --netrc                     take credentials from ~/.netrc (or $NETRC)
      --netrc-file FILE           take credentials from FILE
  -x, --proxy URL                 forward proxy for http:// URLs (http://host:port)
  -U, --proxy-user USER:PASSWORD  credentials for the proxy
  -X, --request METHOD            method (default GET, or POST with -d)
  -d, --data DATA                 request body; @FILE reads it from FILE
  -H, --header 'NAME: VALUE'      extra request header
  -v, --verbose                   print each request line, the Authorization (and Cookie)
                                  sent, each status and the authentication headers (and
                                  Set-Cookie) received
      --explain                   say which challenges were offered, which was chosen and
                                  why, and why the server refused, in plain words
      --min-algorithm ALG         refuse algorithms weaker than ALG (MD5, SHA-256, ...)
      --server-order              take the first usable challenge, not the strongest
      --basic                     allow Basic over https
      --basic-insecure            allow Basic over plain http too (password in clear)
      --auth-int                  protect the body too (qop=auth-int) when offered
      --require-mutual-auth       fail unless the server proves it knows the password
      --no-preemptive             wait for a challenge on every request
  -h, --help                      this text

Exit status: 0 when every final response is 2xx, 1 otherwise, 2 on a usage error.";

#[derive(Default)]
struct Options {
    user: Option<(String, String)>,
    netrc: Option<NetrcSource>,
    proxy: Option<String>,
    proxy_user: Option<(String, String)>,
    method: Option<Method>,
    data: Option<Vec<u8>>,
    headers: Vec<(String, String)>,
    verbose: bool,
    explain: bool,
    config: ClientConfig,
    urls: Vec<String>,
}

enum NetrcSource {
    Default,
    File(String),
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fetch: {message}\nTry 'fetch --help'.");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("fetch: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("option {name} needs a value"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "-u" | "--user" => o.user = Some(split_user(&value(&arg)?)?),
            "-n" | "--netrc" => o.netrc = Some(NetrcSource::Default),
            "--netrc-file" => o.netrc = Some(NetrcSource::File(value(&arg)?)),
            "-x" | "--proxy" => o.proxy = Some(value(&arg)?),
            "-U" | "--proxy-user" => o.proxy_user = Some(split_user(&value(&arg)?)?),
            "-X" | "--request" => {
                let m = value(&arg)?;
                o.method = Some(
                    Method::from_bytes(m.as_bytes())
                        .map_err(|_| format!("invalid method {m:?}"))?,
                );
            }
            "-d" | "--data" => {
                let d = value(&arg)?;
                o.data = Some(match d.strip_prefix('@') {
                    Some(path) => std::fs::read(path).map_err(|e| format!("{path}: {e}"))?,
                    None => d.into_bytes(),
                });
            }
            "-H" | "--header" => {
                let h = value(&arg)?;
                let (name, v) = h
                    .split_once(':')
                    .ok_or_else(|| format!("header {h:?} is not NAME: VALUE"))?;
                o.headers
                    .push((name.trim().to_owned(), v.trim().to_owned()));
            }
            "-v" | "--verbose" => o.verbose = true,
            "--explain" => o.explain = true,
            "--min-algorithm" => {
                let a = value(&arg)?;
                let algorithm = Algorithm::from_token(a.as_bytes())
                    .ok_or_else(|| format!("unknown algorithm {a:?}"))?;
                o.config = o.config.with_min_algorithm(algorithm);
            }
            "--server-order" => o.config = o.config.with_order(SelectionOrder::ServerOrder),
            "--basic" => o.config = o.config.with_basic(BasicPolicy::HttpsOnly),
            "--basic-insecure" => o.config = o.config.with_basic(BasicPolicy::Always),
            "--auth-int" => o.config = o.config.with_prefer_auth_int(true),
            "--require-mutual-auth" => o.config = o.config.with_require_mutual_auth(true),
            "--no-preemptive" => o.config = o.config.with_preemptive(false),
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}")),
            _ => o.urls.push(arg),
        }
    }
    if o.urls.is_empty() {
        return Err("no URL given".to_owned());
    }
    Ok(Some(o))
}

fn split_user(s: &str) -> Result<(String, String), String> {
    let (user, password) = s
        .split_once(':')
        .ok_or_else(|| format!("credentials {s:?} are not USER:PASSWORD"))?;
    Ok((user.to_owned(), password.to_owned()))
}

/// The last request sent: method, URI, whether it carried `Authorization`, and
/// `Proxy-Authorization`.
type Sent = (Method, Uri, bool, bool);

/// One response seen by the observer, kept for `--explain`.
struct Seen {
    method: Method,
    uri: Uri,
    status: StatusCode,
    headers: HeaderMap,
    /// Whether the request carried credentials for the side that answered.
    answered: bool,
}

fn run(options: Options) -> Result<bool, String> {
    let first: Uri = options
        .urls
        .first()
        .map(|u| u.parse())
        .transpose()
        .map_err(|e| format!("invalid URL: {e}"))?
        .ok_or("no URL")?;
    let user = match (&options.user, &options.netrc) {
        (Some(user), _) => Some(user.clone()),
        (None, Some(source)) => netrc_user(source, first.host().unwrap_or_default())?,
        (None, None) => None,
    };

    let verbose = options.verbose;
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let record = seen.clone();
    let last_request: Arc<Mutex<Option<Sent>>> = Arc::default();
    let mut client = Client::builder().config(options.config.clone());
    if let Some((u, p)) = user {
        client = client.credentials(Credentials::new(u, p));
    }
    if let Some(proxy) = &options.proxy {
        client = client.proxy(proxy.clone());
    }
    if let Some((u, p)) = &options.proxy_user {
        client = client.proxy_credentials(Credentials::new(u.clone(), p.clone()));
    }
    let agent = DigestAgent::builder()
        .client(client.build().map_err(|e| e.to_string())?)
        .ureq_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build(),
        )
        .observer(move |event| observe(event, verbose, &record, &last_request))
        .build()
        .map_err(|e| e.to_string())?;

    let mut all_ok = true;
    for url in &options.urls {
        let method = options.method.clone().unwrap_or(if options.data.is_some() {
            Method::POST
        } else {
            Method::GET
        });
        let mut request = agent.request(method, url.as_str());
        for (name, value) in &options.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let result = match &options.data {
            Some(data) => request.send(data.clone()),
            None => request.call(),
        };
        if options.explain {
            explain_challenges(
                &agent,
                &seen.lock().unwrap_or_else(|e| e.into_inner()),
                options.config.order == SelectionOrder::ServerOrder,
            );
        }
        seen.lock().unwrap_or_else(|e| e.into_inner()).clear();
        match result {
            Ok(mut response) => {
                let status = response.status();
                if options.explain {
                    explain_success(status, response.headers());
                }
                all_ok &= status.is_success();
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(u64::MAX)
                    .read_to_vec()
                    .map_err(|e| format!("{url}: reading the body: {e}"))?;
                std::io::stdout()
                    .write_all(&body)
                    .map_err(|e| format!("writing to stdout: {e}"))?;
            }
            Err(error) => {
                all_ok = false;
                eprintln!("fetch: {url}: {error}");
                if options.explain {
                    explain_error(&error, options.user.is_some() || options.netrc.is_some());
                }
            }
        }
    }
    Ok(all_ok)
}

fn netrc_user(source: &NetrcSource, host: &str) -> Result<Option<(String, String)>, String> {
    let netrc = match source {
        NetrcSource::File(path) => Netrc::load(path).map_err(|e| format!("{path}: {e}"))?,
        NetrcSource::Default => {
            let path = Netrc::default_path().ok_or("no home directory for ~/.netrc")?;
            Netrc::load(&path).map_err(|e| format!("{}: {e}", path.display()))?
        }
    };
    Ok(netrc.find(host).and_then(|entry| {
        Some((
            entry.login()?.to_owned(),
            entry.password().unwrap_or_default().to_owned(),
        ))
    }))
}

fn observe(
    event: &Event<'_>,
    verbose: bool,
    seen: &Mutex<Vec<Seen>>,
    last_request: &Mutex<Option<Sent>>,
) {
    match event {
        Event::Request {
            method,
            uri,
            authorization,
            proxy_authorization,
            cookie,
            ..
        } => {
            if verbose {
                eprintln!("> {method} {uri}");
                if let Some(value) = authorization {
                    eprintln!("> Authorization: {value}");
                }
                if let Some(value) = proxy_authorization {
                    eprintln!("> Proxy-Authorization: {value}");
                }
                if let Some(value) = cookie {
                    eprintln!("> Cookie: {}", String::from_utf8_lossy(value.as_bytes()));
                }
            }
            *last_request.lock().unwrap_or_else(|e| e.into_inner()) = Some((
                (*method).clone(),
                (*uri).clone(),
                authorization.is_some(),
                proxy_authorization.is_some(),
            ));
        }
        Event::Response { status, headers } => {
            if verbose {
                eprintln!("< {status}");
                for name in [
                    "www-authenticate",
                    "proxy-authenticate",
                    "authentication-info",
                    "proxy-authentication-info",
                    "set-cookie",
                    "location",
                ] {
                    for value in headers.get_all(name) {
                        eprintln!("< {name}: {}", String::from_utf8_lossy(value.as_bytes()));
                    }
                }
            }
            if let Some((method, uri, www, proxy)) = last_request
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                seen.lock().unwrap_or_else(|e| e.into_inner()).push(Seen {
                    method,
                    uri,
                    status: *status,
                    headers: (*headers).clone(),
                    answered: if *status == 407 { proxy } else { www },
                });
            }
        }
        _ => {}
    }
}

/// For each 401 and 407 of the request: what was offered and the client's verdict on each.
fn explain_challenges(agent: &DigestAgent, seen: &[Seen], server_order: bool) {
    for s in seen {
        let who = match s.status.as_u16() {
            401 => "the server",
            407 => "the proxy",
            _ => continue,
        };
        let field = if s.status == 407 {
            "proxy-authenticate"
        } else {
            "www-authenticate"
        };
        let stale = s.headers.get_all(field).iter().any(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .to_ascii_lowercase()
                .contains("stale=true")
        });
        if s.answered && !stale {
            eprintln!(
                "* {} {}: {who} answered {}: it refused the credentials sent",
                s.method, s.uri, s.status
            );
            continue;
        }
        let reviewed = agent.review(&s.method, &s.uri, s.status, &s.headers);
        eprintln!(
            "* {} {}: {who} answered {} and offered {} challenge(s):",
            s.method,
            s.uri,
            s.status,
            reviewed.len()
        );
        for r in &reviewed {
            let name = match (&r.algorithm, r.scheme.eq_ignore_ascii_case("Digest")) {
                (Some(a), true) => format!("{} {a}", r.scheme),
                (None, true) => format!("{} (no algorithm: MD5)", r.scheme),
                _ => r.scheme.to_string(),
            };
            let realm = r
                .realm
                .as_deref()
                .map(|realm| format!(" realm=\"{realm}\""))
                .unwrap_or_default();
            eprintln!(
                "*   {name}{realm}: {}",
                verdict_words(&r.verdict, server_order)
            );
        }
        if stale {
            eprintln!(
                "*   stale=true: the nonce expired, the password was right; answering the new nonce"
            );
        }
    }
}

fn verdict_words(verdict: &Verdict, server_order: bool) -> String {
    match verdict {
        Verdict::Chosen if server_order => {
            "CHOSEN: the first usable one (--server-order)".to_owned()
        }
        Verdict::Chosen => "CHOSEN: the strongest usable one".to_owned(),
        Verdict::NotChosen if server_order => "usable, but an earlier one was chosen".to_owned(),
        Verdict::NotChosen => "usable, but a stronger or earlier equal one was chosen".to_owned(),
        Verdict::UnsupportedAlgorithm => "skipped: algorithm not implemented".to_owned(),
        Verdict::BelowMinimum => "skipped: weaker than --min-algorithm".to_owned(),
        Verdict::UnsupportedQop => {
            "skipped: no qop to choose (neither auth nor auth-int), and a -sess algorithm needs one"
                .to_owned()
        }
        Verdict::CredentialsDoNotFit => "skipped: the credentials do not fit this realm".to_owned(),
        Verdict::BasicRefused => {
            "skipped: Basic sends the password in clear (allow with --basic over https)".to_owned()
        }
        Verdict::OtherScheme => "skipped: not a scheme this client speaks".to_owned(),
        Verdict::Malformed(e) => format!("unreadable ({e}); the rest of that header was ignored"),
        _ => format!("{verdict:?}"),
    }
}

fn explain_success(status: StatusCode, headers: &HeaderMap) {
    let proven = headers
        .get("authentication-info")
        .is_some_and(|v| String::from_utf8_lossy(v.as_bytes()).contains("rspauth"));
    let how = if proven {
        "the server proved it knows the password (rspauth checked)"
    } else {
        "the server sent no rspauth, so it did not prove it knows the password"
    };
    eprintln!("* final status {status}; {how}");
}

/// The most likely reason for a failure, in plain words.
fn explain_error(error: &Error, had_credentials: bool) {
    let words = match error {
        Error::Auth(auth) => match auth.failure() {
            Failure::CredentialsRejected => {
                "the server refused the answer to its own fresh challenge. Most likely the user \
                 name or password is wrong. Otherwise: the password is stored for another realm \
                 than the one in the challenge, or the user name is not ASCII and the server \
                 decodes it differently (Tomcat reads ISO-8859-1), or the server wants the \
                 uri written another way (absolute vs path)."
            }
            Failure::NoSupportedChallenge(_) => {
                "none of the challenges could be answered (see the list above): the server \
                 offers only algorithms or schemes this policy refuses."
            }
            Failure::StaleNonceNotRenewed => {
                "the server calls the nonce stale but offers the same one again: a server bug, \
                 or its clock is wrong."
            }
            Failure::OutOfScope => {
                "the challenge came from an origin the credentials are not for (after a \
                 redirect): the password is not sent there."
            }
            Failure::NoCredentials => {
                if had_credentials {
                    "the challenge came from a side (server or proxy) with no credentials: use \
                     -u for the server, -U for the proxy."
                } else {
                    "the server asks for credentials and none were given: use -u USER:PASSWORD \
                     or -n."
                }
            }
            Failure::ProxyChallengeWithoutProxy => {
                "a 407 came although no proxy was set: something between you and the server \
                 intercepts traffic; set it with -x and -U."
            }
            Failure::AuthIntNeedsReplayableBody | Failure::BodyNotReplayable => {
                "the body could not be sent again or hashed for auth-int."
            }
            Failure::MutualAuthFailed => {
                "the server's rspauth is wrong: it does not know the password, or something \
                 between you changed the response. Do not trust it."
            }
            Failure::MutualAuthMissing => {
                "--require-mutual-auth is set and the server sent no rspauth (many servers \
                 never do: Tomcat, Twisted, httpbin, lighttpd), or, for auth-int, the \
                 response body was too long to check."
            }
            Failure::RetriesExhausted => {
                "the server kept challenging after two answers (stale, then refused)."
            }
            _ => "the exchange failed (see the error above).",
        },
        Error::NonAsciiAuthorization => {
            "the user name is not ASCII and the server did not offer charset=UTF-8, so it \
             would have to go as raw bytes, which ureq refuses to send."
        }
        Error::Ureq(ureq::Error::ConnectionFailed) | Error::Ureq(ureq::Error::Io(_)) => {
            "the server could not be reached."
        }
        _ => return,
    };
    eprintln!("* why: {words}");
}
