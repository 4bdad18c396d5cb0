//! `get`: GET one or more URLs with reqwest and Digest authentication, retrying transient
//! failures, and print each status and body.
//!
//! ```text
//! cargo run -p httpdigest-reqwest --example get -- USER PASSWORD URL...
//! ```
//!
//! Try it against the example server of httpdigest-hyper:
//!
//! ```text
//! cargo run -p httpdigest-hyper --example server &
//! cargo run -p httpdigest-reqwest --example get -- alice s3cret http://127.0.0.1:8080/a http://127.0.0.1:8080/b
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use httpdigest_reqwest::{DigestAuthMiddleware, auth_error};
use reqwest_middleware::ClientBuilder;
use reqwest_retry::{RetryTransientMiddleware, policies::ExponentialBackoff};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [user, password, urls @ ..] = args.as_slice() else {
        eprintln!("usage: get USER PASSWORD URL...");
        return ExitCode::from(2);
    };
    if urls.is_empty() {
        eprintln!("usage: get USER PASSWORD URL...");
        return ExitCode::from(2);
    }
    let retry = RetryTransientMiddleware::new_with_policy(
        ExponentialBackoff::builder().build_with_max_retries(2),
    );
    // The middleware follows redirects (each hop authenticated for its own URI): reqwest
    // must not.
    let http = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(http) => http,
        Err(error) => {
            eprintln!("get: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Retry outside, Digest inside: a retried request is authenticated afresh.
    let client = ClientBuilder::new(http)
        .with(retry)
        .with(DigestAuthMiddleware::new(user.as_str(), password.as_str()))
        .build();
    let mut ok = true;
    for url in urls {
        match client.get(url).send().await {
            Ok(response) => {
                let status = response.status();
                ok &= status.is_success();
                let body = response.text().await.unwrap_or_default();
                println!("{url}: {status}\n{body}");
            }
            Err(error) => {
                ok = false;
                match auth_error(&error) {
                    Some(auth) => eprintln!("{url}: {} ({})", auth.failure(), auth.status()),
                    None => eprintln!("{url}: {error:#}"),
                }
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
