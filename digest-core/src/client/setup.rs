//! What an adapter's builder collects before it can make a [`Client`]: the credentials, the
//! forward proxy and the policy. One rule for all adapters decides what makes a client.

use alloc::string::String;

use super::{Client, ClientConfig, Credentials, Origin};

/// The settings an adapter's builder (`DigestAgentBuilder`, `DigestAuthLayerBuilder`, ...)
/// gathers; [`build`](Self::build) checks them and makes the [`Client`].
///
/// ```
/// use httpdigest::client::{BuildError, ClientSetup, Credentials};
///
/// let mut setup = ClientSetup::default();
/// setup.proxy = Some("http://127.0.0.1:3128".into());
/// setup.proxy_credentials = Some(Credentials::new("alice", "s3cret"));
/// let (_client, proxy) = setup.build()?;
/// assert_eq!(proxy.unwrap().port(), 3128);
///
/// assert_eq!(ClientSetup::default().build().unwrap_err(), BuildError::NoCredentials);
/// # Ok::<(), BuildError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClientSetup {
    /// Credentials for origins.
    pub credentials: Option<Credentials>,
    /// The forward proxy, `http://host[:port]`.
    pub proxy: Option<String>,
    /// Credentials for the proxy.
    pub proxy_credentials: Option<Credentials>,
    /// The policy.
    pub config: ClientConfig,
}

/// Why a [`ClientSetup`] (an adapter's builder) could not build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Neither origin nor proxy credentials were given.
    #[error("no credentials: set origin credentials, proxy credentials or both")]
    NoCredentials,
    /// Proxy credentials without a proxy.
    #[error("proxy credentials given but no proxy")]
    ProxyCredentialsWithoutProxy,
    /// The proxy is not an `http://host[:port]` URI.
    #[error("invalid proxy URI {0:?}: expected http://host[:port]")]
    InvalidProxy(String),
}

impl ClientSetup {
    /// The client, and the proxy's origin when one is set.
    ///
    /// # Errors
    ///
    /// [`BuildError`] when no credentials are set, proxy credentials come without a proxy,
    /// or the proxy is not `http://host[:port]` ([`Origin::parse_proxy`]).
    pub fn build(self) -> Result<(Client, Option<Origin>), BuildError> {
        let proxy = match &self.proxy {
            Some(uri) => Some(
                Origin::parse_proxy(uri).ok_or_else(|| BuildError::InvalidProxy(uri.clone()))?,
            ),
            None if self.proxy_credentials.is_some() => {
                return Err(BuildError::ProxyCredentialsWithoutProxy);
            }
            None => None,
        };
        if self.credentials.is_none() && self.proxy_credentials.is_none() {
            return Err(BuildError::NoCredentials);
        }
        let client = Client::build(self.credentials, self.proxy_credentials, self.config);
        Ok((client, proxy))
    }
}
