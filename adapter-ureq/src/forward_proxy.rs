//! Plain-`http` requests through a forward proxy, in absolute form (RFC 9112 §3.2.2).
//!
//! ureq 3 reaches every proxy with `CONNECT`, which it sends itself: a proxy's Digest
//! challenge to the `CONNECT` never reaches this crate, and proxies commonly refuse `CONNECT`
//! to anything but port 443 (Squid's default configuration does). For `http://` targets this
//! module does what curl and browsers do instead: open the connection to the proxy and send
//! `GET http://host:port/path HTTP/1.1` on it, so the proxy's 407 comes back like any response
//! and the client answers it with `Proxy-Authorization`.
//!
//! ureq writes the request line in origin form (`GET /path`). [`AbsoluteForm`] wraps the
//! connection to the proxy and rewrites the target of each request line to the absolute form
//! as it is transmitted. `https://` targets are not touched: ureq tunnels them with `CONNECT`
//! through the proxy the agent sets on each request.
//!
//! The origin's host name is never resolved here: only the proxy may know it (a name on the
//! proxy's network), and looking it up would go around the proxy. [`ForwardResolver`]
//! answers ureq's lookup of a forwarded request's origin with no addresses, and the
//! connector resolves the proxy's name instead. Hosts of the `no_proxy` list go direct, as
//! the core routed them.

use std::fmt;
use std::sync::Arc;

use http::Uri;
use httpdigest::client::NoProxy;
use ureq::config::Config;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport,
};

/// Whether a request to `uri` goes to the forward proxy in absolute form: plain `http`, no
/// ureq proxy set for it (the agent sets none for plain `http`), and a host the `no_proxy`
/// list does not name.
fn forwards(uri: &Uri, config: &Config, no_proxy: &NoProxy) -> bool {
    uri.scheme() == Some(&http::uri::Scheme::HTTP)
        && config.proxy().is_none()
        && uri
            .host()
            .is_some_and(|host| !no_proxy.matches(host, uri.port_u16().unwrap_or(80)))
}

/// The connector of a [`DigestAgent`](crate::DigestAgent) with a proxy: `http://` targets
/// connect to the proxy (unless `no_proxy` names their host), everything else goes through
/// ureq's default connector.
pub(crate) struct ProxyConnector {
    pub(crate) proxy: Arc<Uri>,
    pub(crate) no_proxy: NoProxy,
    pub(crate) inner: DefaultConnector,
}

/// The resolver of a [`DigestAgent`](crate::DigestAgent) with a proxy: the origin of a
/// request that goes to the proxy is not looked up (the proxy resolves it); every other
/// name, the proxy's included, is resolved by ureq's default resolver.
pub(crate) struct ForwardResolver {
    pub(crate) proxy: Arc<Uri>,
    pub(crate) no_proxy: NoProxy,
    pub(crate) inner: DefaultResolver,
}

impl fmt::Debug for ForwardResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForwardResolver")
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl Resolver for ForwardResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let is_proxy = uri.authority() == self.proxy.authority();
        if !is_proxy && forwards(uri, config, &self.no_proxy) {
            // The connector connects to the proxy, resolving its name itself.
            return Ok(self.inner.empty());
        }
        self.inner.resolve(uri, config, timeout)
    }
}

impl fmt::Debug for ProxyConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyConnector")
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl Connector<()> for ProxyConnector {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if !forwards(details.uri, details.config, &self.no_proxy) {
            return self.inner.connect(details, chained);
        }
        let prefix = origin_prefix(details.uri)
            .ok_or_else(|| ureq::Error::BadUri(format!("{} has no host", details.uri)))?;
        let addrs = details
            .resolver
            .resolve(&self.proxy, details.config, details.timeout)?;
        let to_proxy = ConnectionDetails {
            uri: &self.proxy,
            addrs,
            config: details.config,
            request_level: details.request_level,
            resolver: details.resolver,
            now: details.now,
            timeout: details.timeout,
            current_time: details.current_time.clone(),
            run_connector: details.run_connector.clone(),
            register_shutdown: details.register_shutdown.clone(),
        };
        let Some(transport) = self.inner.connect(&to_proxy, chained)? else {
            return Ok(None);
        };
        Ok(Some(Box::new(AbsoluteForm {
            inner: transport,
            prefix,
            at_request_line: true,
        })))
    }
}

/// `http://host:port`, the part the absolute form adds in front of the path.
fn origin_prefix(uri: &Uri) -> Option<String> {
    let authority = uri.authority()?;
    Some(format!("http://{}", authority.as_str()))
}

/// A connection to a forward proxy that turns each request line's origin-form target into
/// the absolute form.
///
/// ureq writes a request's head in one transmission, before the body, and reads the response
/// before it writes the next request on the same connection. So the first transmission on
/// the connection, and the first after each read, start with a request line. (A request with
/// `Expect: 100-continue` would read between head and body; the agent removes that header
/// from requests sent this way.)
struct AbsoluteForm {
    inner: Box<dyn Transport>,
    prefix: String,
    at_request_line: bool,
}

impl fmt::Debug for AbsoluteForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbsoluteForm")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Transport for AbsoluteForm {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let mut amount = amount;
        if self.at_request_line {
            self.at_request_line = false;
            amount = insert_prefix(self.inner.buffers().output(), amount, &self.prefix)?;
        }
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.at_request_line = true;
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// Rewrites `METHOD /path HTTP/1.1` at the start of `buf[..len]` into
/// `METHOD http://host:port/path HTTP/1.1`, in place; returns the new length.
fn insert_prefix(buf: &mut [u8], len: usize, prefix: &str) -> Result<usize, ureq::Error> {
    let head = buf.get(..len).unwrap_or_default();
    let Some(space) = head.iter().position(|&b| b == b' ') else {
        return Err(transport_error("request line without a target"));
    };
    let target = space + 1;
    if head.get(target) != Some(&b'/') {
        // Already absolute (or authority form): nothing to do.
        return Ok(len);
    }
    let new_len = len + prefix.len();
    if new_len > buf.len() {
        return Err(transport_error(
            "request head too large for the output buffer in absolute form",
        ));
    }
    buf.copy_within(target..len, target + prefix.len());
    if let Some(slot) = buf.get_mut(target..target + prefix.len()) {
        slot.copy_from_slice(prefix.as_bytes());
    }
    Ok(new_len)
}

fn transport_error(message: &'static str) -> ureq::Error {
    ureq::Error::Other(Box::new(std::io::Error::other(message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line_gets_the_origin() {
        let mut buf = [0u8; 128];
        let head = b"GET /hello.txt?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8085\r\n\r\n";
        buf[..head.len()].copy_from_slice(head);
        let n = insert_prefix(&mut buf, head.len(), "http://127.0.0.1:8085").unwrap();
        assert_eq!(
            &buf[..n],
            b"GET http://127.0.0.1:8085/hello.txt?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8085\r\n\r\n"
        );
    }

    #[test]
    fn no_room_is_an_error_not_a_truncation() {
        let mut buf = *b"GET / HTTP/1.1\r\n\r\n";
        let len = buf.len();
        assert!(insert_prefix(&mut buf, len, "http://example.org").is_err());
    }

    #[test]
    fn absolute_targets_are_left_alone() {
        let mut buf = *b"GET http://a/ HTTP/1.1\r\n\r\n......";
        assert_eq!(insert_prefix(&mut buf, 26, "http://a").unwrap(), 26);
    }
}
