//! Request bodies: kept in memory so they can be sent again (after a challenge, on a 307)
//! and hashed for `auth-int`; or streamed when larger than the agent's buffering limit.

use std::fmt;
use std::io::{self, Cursor, Read};

use httpdigest::client::BodySource;

/// The body of a request sent through a [`DigestAgent`](crate::DigestAgent).
///
/// Bytes and strings are sent as they are, again if the server challenges. A reader is read
/// into memory up to the agent's [`max_buffered_body`](crate::DigestAgentBuilder::max_buffered_body);
/// a longer one is streamed, and then can be sent only once: it goes out authenticated when
/// the agent already knows the protection space, and a challenge to it ends in
/// [`Failure::BodyNotReplayable`](httpdigest::client::Failure::BodyNotReplayable).
pub struct Body(Kind);

enum Kind {
    Bytes(Vec<u8>),
    Reader(Box<dyn Read + Send>),
}

impl Body {
    /// No body.
    pub fn empty() -> Self {
        Body(Kind::Bytes(Vec::new()))
    }

    /// A body read from `reader` when the request is sent.
    pub fn from_reader(reader: impl Read + Send + 'static) -> Self {
        Body(Kind::Reader(Box::new(reader)))
    }

    /// Reads a reader body into memory up to `limit` bytes; past that it stays a stream.
    pub(crate) fn prepare(self, limit: usize) -> Result<Prepared, io::Error> {
        match self.0 {
            Kind::Bytes(bytes) => Ok(Prepared::Bytes(bytes)),
            Kind::Reader(reader) => {
                let mut buffered = Vec::new();
                let mut reader = reader.take(limit as u64 + 1);
                reader.read_to_end(&mut buffered)?;
                if buffered.len() <= limit {
                    return Ok(Prepared::Bytes(buffered));
                }
                let rest = reader.into_inner();
                Ok(Prepared::Stream(Some(Box::new(
                    Cursor::new(buffered).chain(rest),
                ))))
            }
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Bytes(b) => write!(f, "Body({} bytes)", b.len()),
            Kind::Reader(_) => f.write_str("Body(reader)"),
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body(Kind::Bytes(bytes))
    }
}

impl From<&[u8]> for Body {
    fn from(bytes: &[u8]) -> Self {
        Body(Kind::Bytes(bytes.to_vec()))
    }
}

impl<const N: usize> From<&[u8; N]> for Body {
    fn from(bytes: &[u8; N]) -> Self {
        Body(Kind::Bytes(bytes.to_vec()))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body(Kind::Bytes(text.into_bytes()))
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Self {
        Body(Kind::Bytes(text.as_bytes().to_vec()))
    }
}

impl From<()> for Body {
    fn from((): ()) -> Self {
        Self::empty()
    }
}

/// A body ready to send: in memory (any number of times) or a stream (once).
pub(crate) enum Prepared {
    Bytes(Vec<u8>),
    Stream(Option<Box<dyn Read + Send>>),
}

impl Prepared {
    /// What the core needs to know of the body.
    pub(crate) fn source(&self) -> BodySource<'_> {
        match self {
            Prepared::Bytes(bytes) => BodySource::Bytes(bytes),
            Prepared::Stream(_) => BodySource::NotReplayable,
        }
    }

    /// Whether the body can be sent (again).
    pub(crate) fn is_available(&self) -> bool {
        match self {
            Prepared::Bytes(_) => true,
            Prepared::Stream(reader) => reader.is_some(),
        }
    }
}
