//! Which credentials go to which origin: the client's one set of credentials and its scope,
//! credentials registered for one origin (a URL's userinfo), and a caller's per-host
//! [`CredentialsProvider`] (a `.netrc` file, a keyring), each origin its own scope.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use super::credentials::Credentials;
use crate::origin::{Origin, OriginRef};

/// The most origins the client keeps credentials registered for
/// ([`Client::set_origin_credentials`](super::Client::set_origin_credentials)); past it the
/// oldest registration is forgotten.
pub const MAX_ORIGIN_CREDENTIALS: usize = 64;

/// The most origins whose [`CredentialsProvider`] answer (credentials or none) the client
/// remembers; past it the oldest answer is forgotten, and asked for again when needed.
pub const MAX_PROVIDED: usize = 256;

/// Credentials per host, asked for by the client the first time it sends to an origin (and
/// again once it has forgotten the answer: it keeps at most [`MAX_PROVIDED`]).
///
/// What the provider gives for an origin goes to that origin only: each origin is its own
/// scope, and an origin the provider has nothing for gets no credentials (a challenge from
/// it is [`Failure::NoCredentials`](super::Failure::NoCredentials)). Implemented for
/// [`netrc::Netrc`](super::netrc::Netrc) (feature `std`) and for closures.
///
/// ```
/// use httpdigest::client::{Client, Credentials};
/// use httpdigest::OriginRef;
///
/// let client = Client::builder()
///     .credentials_provider(|origin: OriginRef<'_>| {
///         (origin.host == "camera.local").then(|| Credentials::new("admin", "s3cret"))
///     })
///     .build()?;
/// # Ok::<(), httpdigest::client::BuildError>(())
/// ```
pub trait CredentialsProvider: Send + Sync {
    /// The credentials for `origin`, if any.
    fn credentials(&self, origin: OriginRef<'_>) -> Option<Credentials>;
}

impl<F> CredentialsProvider for F
where
    F: Fn(OriginRef<'_>) -> Option<Credentials> + Send + Sync,
{
    fn credentials(&self, origin: OriginRef<'_>) -> Option<Credentials> {
        self(origin)
    }
}

/// A `.netrc` file gives the `machine` entry of the origin's host (any scheme and port, as
/// curl and Python read it), as a user name and password (empty when the entry has none);
/// nothing for an entry without `login`.
///
/// The `default` entry is skipped: it would hand the same credentials to every host,
/// whichever a link or a redirect names, and each host is to be its own scope. Use
/// [`Netrc::find`](super::netrc::Netrc::find) directly (in a closure) to take it anyway.
///
/// ```
/// use httpdigest::client::CredentialsProvider;
/// use httpdigest::client::netrc::Netrc;
/// use httpdigest::{OriginRef, Scheme};
///
/// let netrc = Netrc::parse("machine pdu.local login admin password s3cret\ndefault login anon password x\n")?;
/// let origin = |host| OriginRef { scheme: Scheme::Http, host, port: 8080 };
/// assert_eq!(netrc.credentials(origin("PDU.local")).unwrap().username(), "admin");
/// assert!(netrc.credentials(origin("elsewhere.example")).is_none()); // not `default`
/// # Ok::<(), httpdigest::client::netrc::NetrcError>(())
/// ```
#[cfg(feature = "std")]
impl CredentialsProvider for super::netrc::Netrc {
    fn credentials(&self, origin: OriginRef<'_>) -> Option<Credentials> {
        let host = origin.host;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let entry = self.find_machine(host)?;
        let login = entry.login()?;
        Some(Credentials::new(
            login,
            entry.password().unwrap_or_default(),
        ))
    }
}

impl<P: CredentialsProvider + ?Sized> CredentialsProvider for Arc<P> {
    fn credentials(&self, origin: OriginRef<'_>) -> Option<Credentials> {
        (**self).credentials(origin)
    }
}

/// A provider shared by the clones of a client (and of its builder).
#[derive(Clone)]
pub(crate) struct SharedProvider(pub(crate) Arc<dyn CredentialsProvider>);

impl fmt::Debug for SharedProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialsProvider")
    }
}

/// The credentials of one side of the client, by origin.
#[derive(Clone, Default)]
pub(crate) struct Keys {
    /// The client's one set of credentials, for the origins of `scope`.
    pub(crate) single: Option<Credentials>,
    pub(crate) scope: Vec<Origin>,
    /// Per origin, oldest first.
    registered: Vec<(Origin, Credentials)>,
    provider: Option<SharedProvider>,
    /// What the provider said per origin, oldest first.
    provided: Vec<(Origin, Option<Credentials>)>,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("single", &self.single)
            .field("scope", &self.scope)
            .field(
                "registered",
                &self.registered.iter().map(|(o, _)| o).collect::<Vec<_>>(),
            )
            .field("provider", &self.provider.as_ref().map(|_| "<provider>"))
            .field("provided", &self.provided.len())
            .finish()
    }
}

impl Keys {
    pub(crate) const fn new(single: Option<Credentials>, scope: Vec<Origin>) -> Self {
        Self {
            single,
            scope,
            registered: Vec::new(),
            provider: None,
            provided: Vec::new(),
        }
    }

    pub(crate) fn with_provider(mut self, provider: Option<SharedProvider>) -> Self {
        self.provider = provider;
        self
    }

    /// Whether any credentials may exist for some origin.
    pub(crate) fn any(&self) -> bool {
        self.single.is_some() || !self.registered.is_empty() || self.provider.is_some()
    }

    /// The credentials for `origin`: the client's own for the origins of its scope, else
    /// those registered for it, else what the provider said (once
    /// [`resolve`](Self::resolve) asked it).
    pub(crate) fn get(&self, origin: OriginRef<'_>) -> Option<&Credentials> {
        if let Some(single) = &self.single
            && self.scope.iter().any(|o| origin.is(o))
        {
            return Some(single);
        }
        if let Some((_, c)) = self.registered.iter().rev().find(|(o, _)| origin.is(o)) {
            return Some(c);
        }
        self.provided
            .iter()
            .rev()
            .find(|(o, _)| origin.is(o))
            .and_then(|(_, c)| c.as_ref())
    }

    /// Whether `origin` takes the client's own credentials (it is in their scope).
    pub(crate) fn in_single_scope(&self, origin: &Origin) -> bool {
        self.single.is_some() && self.scope.contains(origin)
    }

    /// Asks the provider for `origin`, unless the answer is known or not needed.
    pub(crate) fn resolve(&mut self, origin: OriginRef<'_>) {
        let Some(provider) = &self.provider else {
            return;
        };
        if self.get(origin).is_some() || self.provided.iter().any(|(o, _)| origin.is(o)) {
            return;
        }
        let answer = provider.0.credentials(origin);
        if self.provided.len() >= MAX_PROVIDED {
            self.provided.remove(0);
        }
        self.provided.push((origin.to_origin(), answer));
    }

    /// Registers credentials for `origin`; returns whether they differ from those it had
    /// (so what was learned with the old ones is to be forgotten).
    pub(crate) fn register(&mut self, origin: Origin, credentials: Credentials) -> bool {
        if let Some(i) = self.registered.iter().position(|(o, _)| *o == origin) {
            let same = self
                .registered
                .get(i)
                .is_some_and(|(_, c)| c.same_as(&credentials));
            if same {
                return false;
            }
            self.registered.remove(i);
        } else if self.registered.len() >= MAX_ORIGIN_CREDENTIALS {
            self.registered.remove(0);
        }
        self.registered.push((origin, credentials));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Action, Client, Failure, Request, Response};
    use super::*;
    use crate::origin::Scheme;
    use core::sync::atomic::{AtomicUsize, Ordering};

    const CHALLENGE: &[u8] = br#"Digest realm="r", nonce="n", qop="auth""#;

    /// The user name the client answers a 401 from `host` with, or why it does not.
    fn answer(client: &mut Client, host: &str) -> Result<String, Failure> {
        let mut rng = crate::ThreadRng::default();
        let origin = OriginRef {
            scheme: Scheme::Http,
            host,
            port: 80,
        };
        let request = Request::new("GET", "/", origin);
        let (mut exchange, _) = client.begin(&request, &mut rng);
        let response = Response {
            www_authenticate: &[CHALLENGE],
            ..Response::new(401)
        };
        let action = client.handle_response(&mut exchange, &request, &response, &mut rng);
        // The answer is not sent: the next request does not wait for it.
        client.abandon(&mut exchange);
        match action {
            Action::Send(ticket) => {
                let authorization = ticket.sign(&request)?.authorization.unwrap();
                let text = authorization.text().into_owned();
                let name = text.split('"').nth(1).unwrap_or_default();
                Ok(name.to_owned())
            }
            Action::Fail(f) => Err(f),
            other => panic!("{other:?}"),
        }
    }

    fn by_host(host: &'static str, user: &'static str) -> impl CredentialsProvider {
        move |o: OriginRef<'_>| (o.host == host).then(|| Credentials::new(user, "pw"))
    }

    #[test]
    fn each_host_gets_its_own_and_a_host_without_entry_nothing() {
        let netrc = super::super::netrc::Netrc::parse(
            "machine a.example login alice password 1\nmachine b.example login bob password 2\ndefault login anon password 3\n",
        )
        .unwrap();
        let mut client = Client::builder().netrc(netrc).build().unwrap();
        assert_eq!(answer(&mut client, "a.example").unwrap(), "alice");
        assert_eq!(answer(&mut client, "b.example").unwrap(), "bob");
        assert_eq!(answer(&mut client, "A.EXAMPLE").unwrap(), "alice");
        // Not the `default` entry.
        assert_eq!(
            answer(&mut client, "c.example").unwrap_err(),
            Failure::NoCredentials
        );
    }

    #[test]
    fn the_clients_own_credentials_win_in_their_scope_registered_ones_over_the_provider() {
        let mut client = Client::builder()
            .credentials(Credentials::new("own", "pw"))
            .credentials_provider(by_host("p.example", "provided"))
            .origin_credentials(
                Origin::new(Scheme::Http, "p.example", 80),
                Credentials::new("registered", "pw"),
            )
            .origin_credentials(
                Origin::new(Scheme::Http, "first.example", 80),
                Credentials::new("registered", "pw"),
            )
            .build()
            .unwrap();
        // The first request's origin is the scope of the client's own credentials.
        assert_eq!(answer(&mut client, "first.example").unwrap(), "own");
        assert_eq!(answer(&mut client, "p.example").unwrap(), "registered");
        // Another origin is out of the own credentials' scope, and has no others.
        assert_eq!(
            answer(&mut client, "other.example").unwrap_err(),
            Failure::OutOfScope
        );
    }

    #[test]
    fn new_credentials_for_an_origin_replace_what_was_learned() {
        let origin = Origin::new(Scheme::Http, "cam.example", 80);
        let mut client = Client::builder()
            .origin_credentials(origin.clone(), Credentials::new("old", "pw"))
            .build()
            .unwrap();
        assert_eq!(answer(&mut client, "cam.example").unwrap(), "old");
        client.set_origin_credentials(origin, Credentials::new("new", "pw2"));
        // Nothing preemptive from the old space: the space was forgotten.
        let mut rng = crate::ThreadRng::default();
        let request = Request::new(
            "GET",
            "/",
            OriginRef {
                scheme: Scheme::Http,
                host: "cam.example",
                port: 80,
            },
        );
        let (mut exchange, Action::Send(ticket)) = client.begin(&request, &mut rng) else {
            panic!("no wait");
        };
        assert!(ticket.sign(&request).unwrap().authorization.is_none());
        client.abandon(&mut exchange);
        assert_eq!(answer(&mut client, "cam.example").unwrap(), "new");
    }

    #[test]
    fn the_provider_is_asked_once_per_origin_and_its_answers_are_bounded() {
        static ASKED: AtomicUsize = AtomicUsize::new(0);
        let mut client = Client::builder()
            .credentials_provider(|o: OriginRef<'_>| {
                ASKED.fetch_add(1, Ordering::Relaxed);
                o.host.starts_with('h').then(|| Credentials::new("u", "p"))
            })
            .build()
            .unwrap();
        for _ in 0..3 {
            answer(&mut client, "h.example").unwrap();
            let _ = answer(&mut client, "nobody.example");
        }
        assert_eq!(ASKED.load(Ordering::Relaxed), 2);
        for i in 0..MAX_PROVIDED + 10 {
            let host = std::format!("n{i}.example");
            let _ = answer(&mut client, &host);
        }
        let keys = &client.parties.origin.keys;
        assert!(keys.provided.len() <= MAX_PROVIDED);
    }

    #[test]
    fn registrations_are_bounded() {
        let mut client = Client::builder()
            .credentials_provider(|_: OriginRef<'_>| None)
            .build()
            .unwrap();
        for i in 0..MAX_ORIGIN_CREDENTIALS + 5 {
            let host = std::format!("h{i}.example");
            client.set_origin_credentials(
                Origin::new(Scheme::Http, &host, 80),
                Credentials::new("u", "p"),
            );
        }
        assert_eq!(
            client.parties.origin.keys.registered.len(),
            MAX_ORIGIN_CREDENTIALS
        );
        // The newest is kept, the oldest forgotten.
        let newest = std::format!("h{}.example", MAX_ORIGIN_CREDENTIALS + 4);
        assert!(answer(&mut client, &newest).is_ok());
        assert_eq!(
            answer(&mut client, "h0.example").unwrap_err(),
            Failure::NoCredentials
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let client = Client::builder()
            .credentials(Credentials::new("own", "s3cret-own"))
            .origin_credentials(
                Origin::new(Scheme::Http, "x", 80),
                Credentials::new("reg", "s3cret-reg"),
            )
            .credentials_provider(by_host("p", "q"))
            .build()
            .unwrap();
        let debug = std::format!("{client:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
    }

    proptest::proptest! {
        /// Whatever the order of requests to a few hosts, each answer names the user of
        /// its own host (the client's own credentials for the first origin, registered
        /// ones, then the provider's), and a host with none gets nothing.
        #[test]
        fn each_host_answers_with_its_own(
            order in proptest::collection::vec(0usize..5, 1..24),
            own in proptest::bool::ANY,
            registered in proptest::option::of(0usize..5),
        ) {
            const HOSTS: [&str; 5] = ["h0.example", "h1.example", "h2.example", "h3.example", "h4.example"];
            // The provider knows h0, h1 and h2.
            let mut builder = Client::builder().credentials_provider(|o: OriginRef<'_>| {
                HOSTS[..3]
                    .iter()
                    .position(|h| *h == o.host)
                    .map(|i| Credentials::new(std::format!("provided{i}"), "pw"))
            });
            if own {
                builder = builder.credentials(Credentials::new("own", "pw"));
            }
            if let Some(i) = registered {
                builder = builder.origin_credentials(
                    Origin::new(Scheme::Http, HOSTS[i], 80),
                    Credentials::new(std::format!("registered{i}"), "pw"),
                );
            }
            let mut client = builder.build().unwrap();
            let first = order[0];
            for &i in &order {
                let want = if own && i == first {
                    Some(std::string::String::from("own"))
                } else if registered == Some(i) {
                    Some(std::format!("registered{i}"))
                } else if i < 3 {
                    Some(std::format!("provided{i}"))
                } else {
                    None
                };
                match (answer(&mut client, HOSTS[i]), want) {
                    (Ok(name), Some(want)) => proptest::prop_assert_eq!(name, want),
                    (Err(Failure::NoCredentials | Failure::OutOfScope), None) => {}
                    (got, want) => proptest::prop_assert!(false, "{}: {got:?}, want {want:?}", HOSTS[i]),
                }
            }
        }
    }
}
