//! A redirect policy for tower-http's `FollowRedirect` above the client layer (feature
//! `follow-redirect`): [`RedirectPolicy`] takes a `Location`'s userinfo off every hop.
//!
//! The client layer takes a request URI's userinfo (`http://user:password@host/`) as the
//! Digest credentials of that origin. `FollowRedirect` sends each hop to the layer as a new
//! request whose URI is the resolved `Location`, so a server that redirects to
//! `http://name:password@other-host/` would choose credentials for the client to log in
//! to another host with. Under this policy a hop never carries userinfo: a `Location`'s
//! credentials are dropped, as the reqwest and ureq adapters drop them, and only the
//! caller's first request can name credentials.

use http::Request;
use tower_http::follow_redirect::policy::{Action, Attempt, Policy, Standard};

/// Wraps a tower-http redirect policy (by default its `Standard`: up to 20 hops, no
/// redirects from https to http) so that no hop carries userinfo. Give it to
/// `FollowRedirectLayer::with_policy`, above [`DigestAuthLayer`](crate::DigestAuthLayer):
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use httpdigest_hyper::{DigestAuthLayer, DigestBody, RedirectPolicy};
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use tower::ServiceBuilder;
/// use tower_http::follow_redirect::FollowRedirectLayer;
///
/// let client = Client::builder(TokioExecutor::new()).build_http::<DigestBody<Full<Bytes>>>();
/// let service = ServiceBuilder::new()
///     .layer(FollowRedirectLayer::with_policy(RedirectPolicy::default()))
///     .layer(DigestAuthLayer::new("alice", "s3cret"))
///     .service(client);
/// # drop(service);
/// ```
///
/// The wrapped policy decides which redirects are followed; this one only rewrites the
/// hops' URIs. Each request gets its own copy (tower-http clones the policy per request),
/// so the first send of every request keeps its URI as the caller wrote it.
#[derive(Debug, Clone)]
pub struct RedirectPolicy<P = Standard> {
    inner: P,
    /// Sends of this request so far: the first is the caller's, the others are hops.
    sends: usize,
}

impl Default for RedirectPolicy<Standard> {
    /// tower-http's `Standard` policy, with a `Location`'s userinfo taken off every hop.
    fn default() -> Self {
        Self::new(Standard::default())
    }
}

impl<P> RedirectPolicy<P> {
    /// `inner`, with a `Location`'s userinfo taken off every hop.
    pub const fn new(inner: P) -> Self {
        Self { inner, sends: 0 }
    }
}

impl<B, E, P: Policy<B, E>> Policy<B, E> for RedirectPolicy<P> {
    fn redirect(&mut self, attempt: &Attempt<'_>) -> Result<Action, E> {
        // A Location whose userinfo cannot be taken off is not followed (this does not
        // happen for a URI the http crate parsed, but the hop must never keep it).
        if httpdigest::http::strip_userinfo(attempt.location()).is_none() {
            return Ok(Action::Stop);
        }
        self.inner.redirect(attempt)
    }

    fn on_request(&mut self, request: &mut Request<B>) {
        self.inner.on_request(request);
        if self.sends > 0
            && let Some(uri) = httpdigest::http::strip_userinfo(request.uri())
        {
            *request.uri_mut() = uri;
        }
        self.sends = self.sends.saturating_add(1);
    }

    fn clone_body(&self, body: &B) -> Option<B> {
        self.inner.clone_body(body)
    }
}
