//! Request bodies on the client side: read into memory (up to a limit) so a request can be
//! sent again after a challenge and hashed for `auth-int`, or streamed once when longer.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use httpdigest::client::BodySource;

/// A body either in memory or streamed from an inner body `B`.
///
/// - **Client responses:** [`DigestAuth`](crate::DigestAuth) hands back the wrapped
///   service's response body in one: streamed as it comes, or, when an `auth-int` `rspauth`
///   covered it and it was checked, in memory.
/// - **Client:** [`DigestAuth`](crate::DigestAuth) hands the service it wraps the caller's
///   body read into memory, so it can be sent again (or, past the layer's
///   [`max_buffered_body`](crate::DigestAuthLayer::max_buffered_body), streamed
///   once). That service therefore takes `http::Request<DigestBody<B>>` where the caller
///   sends `http::Request<B>`: a hyper-util client is built for `DigestBody<Full<Bytes>>`,
///   say.
/// - **Server:** with `qop=auth-int`, [`RequireDigestLayer`](crate::RequireDigestLayer)
///   reads the body and hands on a new one built from the bytes (`From<Bytes>`). Under
///   hyper directly, map `Incoming` into a `DigestBody` with [`DigestBody::streamed`] first.
pub struct DigestBody<B> {
    kind: Kind<B>,
}

enum Kind<B> {
    /// In memory: the data (taken when polled) and the trailers.
    Buffered {
        data: Option<Bytes>,
        trailers: Option<HeaderMap>,
    },
    /// The part read before the limit was passed, then the rest of the caller's body.
    Streamed {
        prefix: Option<Bytes>,
        rest: Pin<Box<B>>,
    },
}

impl<B> DigestBody<B> {
    /// The body `inner`, streamed as it comes.
    pub fn streamed(inner: B) -> Self {
        Self {
            kind: Kind::Streamed {
                prefix: None,
                rest: Box::pin(inner),
            },
        }
    }

    fn buffered(data: Bytes, trailers: Option<HeaderMap>) -> Self {
        Self {
            kind: Kind::Buffered {
                data: (!data.is_empty()).then_some(data),
                trailers,
            },
        }
    }
}

impl<B> From<Bytes> for DigestBody<B> {
    fn from(data: Bytes) -> Self {
        Self::buffered(data, None)
    }
}

impl<B> fmt::Debug for DigestBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Buffered { data, .. } => write!(
                f,
                "DigestBody::Buffered({} bytes)",
                data.as_ref().map_or(0, Bytes::len)
            ),
            Kind::Streamed { .. } => f.write_str("DigestBody::Streamed"),
        }
    }
}

impl<B> Body for DigestBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match &mut self.get_mut().kind {
            Kind::Buffered { data, trailers } => Poll::Ready(
                data.take()
                    .map(Frame::data)
                    .or_else(|| trailers.take().map(Frame::trailers))
                    .map(Ok),
            ),
            Kind::Streamed { prefix, rest } => match prefix.take() {
                Some(prefix) => Poll::Ready(Some(Ok(Frame::data(prefix)))),
                None => rest.as_mut().poll_frame(cx),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Buffered { data, trailers } => data.is_none() && trailers.is_none(),
            Kind::Streamed { prefix, rest } => prefix.is_none() && rest.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Buffered { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Kind::Streamed { prefix, rest } => {
                let extra = prefix.as_ref().map_or(0, |p| p.len() as u64);
                let hint = rest.size_hint();
                let mut sum = SizeHint::new();
                sum.set_lower(hint.lower().saturating_add(extra));
                if let Some(upper) = hint.upper() {
                    sum.set_upper(upper.saturating_add(extra));
                }
                sum
            }
        }
    }
}

/// A body read into memory up to a limit, or streamed past it: a request body ready for one
/// or more sends, or a response body whose `rspauth` is checked over it.
pub(crate) enum Prepared<B> {
    /// In memory: sent as often as needed.
    Buffered {
        data: Bytes,
        trailers: Option<HeaderMap>,
    },
    /// Longer than the limit: sent once (`None` once taken).
    Streamed(Option<(Bytes, Pin<Box<B>>)>),
}

impl<B: Body<Data = Bytes>> Prepared<B> {
    /// Reads `body` into memory up to `limit` bytes; past that it stays a stream, with what
    /// was read so far sent first.
    pub(crate) async fn read(body: B, limit: usize) -> Result<Self, B::Error> {
        if body.is_end_stream() {
            return Ok(Self::Buffered {
                data: Bytes::new(),
                trailers: None,
            });
        }
        let mut body = Box::pin(body);
        if body.size_hint().lower() > limit as u64 {
            return Ok(Self::Streamed(Some((Bytes::new(), body))));
        }
        // One chunk (the common case: `Full`) is kept as it is; more are joined.
        let mut first: Option<Bytes> = None;
        let mut joined = BytesMut::new();
        let mut len = 0usize;
        let mut trailers = None;
        while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            let frame = match frame?.into_data() {
                Ok(data) => data,
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        trailers = Some(t);
                    }
                    continue;
                }
            };
            len = len.saturating_add(frame.len());
            if first.is_none() && joined.is_empty() {
                first = Some(frame);
            } else {
                if let Some(previous) = first.take() {
                    joined.extend_from_slice(&previous);
                }
                joined.extend_from_slice(&frame);
            }
            if len > limit {
                let prefix = first.take().unwrap_or_else(|| joined.split().freeze());
                return Ok(Self::Streamed(Some((prefix, body))));
            }
        }
        let data = first.unwrap_or_else(|| joined.freeze());
        Ok(Self::Buffered { data, trailers })
    }

    /// What the core needs to know of the body.
    pub(crate) fn source(&self) -> BodySource<'_> {
        match self {
            Self::Buffered { data, .. } => BodySource::Bytes(data),
            Self::Streamed(_) => BodySource::NotReplayable,
        }
    }

    /// The data, when it is all in memory.
    pub(crate) fn buffered(&self) -> Option<&[u8]> {
        match self {
            Self::Buffered { data, .. } => Some(data),
            Self::Streamed(_) => None,
        }
    }

    /// The body for the next send; `None` when a streamed body was already sent.
    pub(crate) fn next_send(&mut self) -> Option<DigestBody<B>> {
        match self {
            Self::Buffered { data, trailers } => {
                Some(DigestBody::buffered(data.clone(), trailers.clone()))
            }
            Self::Streamed(stream) => stream.take().map(|(prefix, rest)| DigestBody {
                kind: Kind::Streamed {
                    prefix: (!prefix.is_empty()).then_some(prefix),
                    rest,
                },
            }),
        }
    }
}

/// Reads and drops up to `limit` bytes of `body`: whether it ended within them.
pub(crate) async fn drain<B: Body>(body: B, limit: usize) -> bool {
    let mut body = std::pin::pin!(body);
    let mut read = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let Ok(frame) = frame else { return false };
        if let Some(data) = frame.data_ref() {
            read = read.saturating_add(bytes::Buf::remaining(data));
            if read > limit {
                return false;
            }
        }
    }
    true
}
