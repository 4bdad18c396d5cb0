//! A forward-proxy connector for hyper-util's client: every connection goes to the proxy,
//! and is marked as proxied, so the client writes requests in absolute form
//! (`GET http://host/path`), which is what a forward proxy such as Squid expects, and what
//! lets the proxy's 407 reach `DigestAuthLayer`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower::Service;

/// Connects to `proxy` whatever the destination.
#[derive(Clone, Debug)]
pub struct ProxyConnector {
    /// The proxy's address.
    pub proxy: SocketAddr,
}

impl Service<Uri> for ProxyConnector {
    type Response = ProxiedStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<ProxiedStream>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _destination: Uri) -> Self::Future {
        let proxy = self.proxy;
        Box::pin(async move {
            let stream = TcpStream::connect(proxy).await?;
            stream.set_nodelay(true)?;
            Ok(ProxiedStream(TokioIo::new(stream)))
        })
    }
}

/// A TCP connection to the proxy.
#[derive(Debug)]
pub struct ProxiedStream(TokioIo<TcpStream>);

impl Connection for ProxiedStream {
    fn connected(&self) -> Connected {
        Connected::new().proxy(true)
    }
}

impl hyper::rt::Read for ProxiedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for ProxiedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
