//! HTTP/1.1 framing for the test server: reading request heads and bodies (`Content-Length`
//! or `Transfer-Encoding: chunked`) from a keep-alive connection, and writing responses.
//!
//! Nothing here panics on what a client sends: bad input is a [`ReadError::Bad`] that the
//! server answers (400, 413, 431) before closing the connection.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use super::{MAX_BODY_BYTES, MAX_HEAD_BYTES};

/// The most header fields a request may have.
const MAX_HEADERS: usize = 128;
/// The longest chunk-size line (size, extensions) accepted.
const MAX_CHUNK_LINE: usize = 4096;

/// A request as read from the wire.
#[derive(Debug, Clone)]
pub(crate) struct WireRequest {
    pub(crate) method: String,
    pub(crate) target: String,
    /// The minor version: `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub(crate) version: u8,
    /// Field names in lower case, values as sent, in order.
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Vec<u8>,
    /// Whether the request had body framing (`Content-Length` or `Transfer-Encoding`), even
    /// for an empty body.
    pub(crate) has_body: bool,
}

impl WireRequest {
    /// Every value of the field `name` (lower case).
    pub(crate) fn header_values(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    /// Whether the connection is to be closed after the response.
    pub(crate) fn wants_close(&self) -> bool {
        let tokens = |token: &str| {
            self.header_values("connection").iter().any(|v| {
                v.split(|b| *b == b',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
            })
        };
        if self.version == 0 {
            !tokens("keep-alive")
        } else {
            tokens("close")
        }
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed or the socket failed: close without answering.
    Closed,
    /// Bad input: answer with this status and reason, then close.
    Bad(u16, &'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Closed
    }
}

/// A response to write.
#[derive(Debug, Clone)]
pub(crate) struct WireResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl WireResponse {
    /// A `text/plain` response.
    pub(crate) fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![(
                "Content-Type".to_owned(),
                "text/plain; charset=utf-8".to_owned(),
            )],
            body: body.into().into_bytes(),
        }
    }

    /// Adds a header field.
    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// One client connection with the bytes read but not yet consumed.
pub(crate) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads more bytes into the buffer; [`ReadError::Closed`] at end of stream.
    fn fill(&mut self) -> Result<(), ReadError> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        self.buf
            .extend_from_slice(chunk.get(..n).unwrap_or_default());
        Ok(())
    }

    /// The next request, or `None` when the client closed cleanly between requests.
    pub(crate) fn read_request(&mut self) -> Result<Option<WireRequest>, ReadError> {
        let mut request = loop {
            // Empty lines before a request line are ignored (RFC 9112 §2.2).
            let blank = self
                .buf
                .iter()
                .take_while(|b| **b == b'\r' || **b == b'\n')
                .count();
            self.buf.drain(..blank);
            if !self.buf.is_empty()
                && let Some((request, len)) = parse_head(&self.buf)?
            {
                self.buf.drain(..len);
                break request;
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(ReadError::Bad(431, "request head too large"));
            }
            match self.fill() {
                Err(ReadError::Closed) if self.buf.is_empty() => return Ok(None),
                other => other?,
            }
        };

        let expects_continue = request
            .header_values("expect")
            .iter()
            .any(|v| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"));
        let transfer_encoding = request.header_values("transfer-encoding");
        let content_length = request.header_values("content-length");
        let framing = if !transfer_encoding.is_empty() {
            let codings: Vec<Vec<u8>> = transfer_encoding
                .iter()
                .flat_map(|v| v.split(|b| *b == b','))
                .map(|t| t.trim_ascii().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect();
            if codings != [b"chunked".to_vec()] {
                return Err(ReadError::Bad(400, "unsupported transfer-coding"));
            }
            Some(None)
        } else if !content_length.is_empty() {
            Some(Some(parse_content_length(&content_length)?))
        } else {
            None
        };
        if let Some(length) = framing {
            if expects_continue && request.version == 1 {
                self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            }
            request.has_body = true;
            request.body = match length {
                Some(n) => self.take(n)?,
                None => self.read_chunked()?,
            };
        }
        Ok(Some(request))
    }

    /// Exactly `n` bytes.
    fn take(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < n {
            self.fill()?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// One line without its line ending; [`ReadError::Bad`] if longer than `max`.
    fn read_line(&mut self, max: usize) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > max {
                    return Err(ReadError::Bad(400, "line too long"));
                }
                return Ok(line);
            }
            if self.buf.len() > max.saturating_add(2) {
                return Err(ReadError::Bad(400, "line too long"));
            }
            self.fill()?;
        }
    }

    /// A chunked body (RFC 9112 §7.1); trailer fields are read and dropped.
    fn read_chunked(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(MAX_CHUNK_LINE)?;
            let size = line.split(|b| *b == b';').next().unwrap_or_default();
            let size = parse_chunk_size(size.trim_ascii())?;
            if size == 0 {
                let mut trailers = 0usize;
                loop {
                    let trailer = self.read_line(MAX_HEAD_BYTES)?;
                    if trailer.is_empty() {
                        return Ok(body);
                    }
                    trailers = trailers.saturating_add(trailer.len());
                    if trailers > MAX_HEAD_BYTES {
                        return Err(ReadError::Bad(431, "trailer section too large"));
                    }
                }
            }
            if body.len().saturating_add(size) > MAX_BODY_BYTES {
                return Err(ReadError::Bad(413, "request body too large"));
            }
            let data = self.take(size)?;
            body.extend_from_slice(&data);
            if !self.read_line(0)?.is_empty() {
                return Err(ReadError::Bad(400, "chunk data not followed by CRLF"));
            }
        }
    }

    /// Writes a response with `Content-Length` (of the body it would have, for `HEAD`).
    pub(crate) fn write_response(
        &mut self,
        response: &WireResponse,
        head_only: bool,
        close: bool,
    ) -> io::Result<()> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\n",
            response.status,
            reason_phrase(response.status)
        );
        for (name, value) in &response.headers {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        out.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
        out.push_str(if close {
            "Connection: close\r\n\r\n"
        } else {
            "Connection: keep-alive\r\n\r\n"
        });
        let mut bytes = out.into_bytes();
        if !head_only {
            bytes.extend_from_slice(&response.body);
        }
        self.stream.write_all(&bytes)?;
        self.stream.flush()
    }

    /// Closes gracefully: the client gets the last response before the connection ends
    /// even if it sent more (unread bytes at close would make the kernel send a reset).
    pub(crate) fn close(mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(500)));
        let mut sink = [0u8; 16 * 1024];
        let mut drained = 0usize;
        while let Ok(n) = self.stream.read(&mut sink) {
            drained = drained.saturating_add(n);
            if n == 0 || drained > MAX_BODY_BYTES {
                break;
            }
        }
    }
}

/// Parses a complete request head: the request and its length, `None` if incomplete.
fn parse_head(buf: &[u8]) -> Result<Option<(WireRequest, usize)>, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ReadError::Bad(431, "too many header fields"));
        }
        Err(_) => return Err(ReadError::Bad(400, "malformed request head")),
    };
    if len > MAX_HEAD_BYTES {
        return Err(ReadError::Bad(431, "request head too large"));
    }
    let (Some(method), Some(target), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(ReadError::Bad(400, "malformed request line"));
    };
    let headers = parsed
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
        .collect();
    Ok(Some((
        WireRequest {
            method: method.to_owned(),
            target: target.to_owned(),
            version,
            headers,
            body: Vec::new(),
            has_body: false,
        },
        len,
    )))
}

/// One `Content-Length` (repeated fields, or a list, must all agree).
fn parse_content_length(values: &[&[u8]]) -> Result<usize, ReadError> {
    let mut length = None;
    for value in values {
        for item in value.split(|b| *b == b',') {
            let item = item.trim_ascii();
            if item.is_empty() || item.len() > 12 || !item.iter().all(u8::is_ascii_digit) {
                return Err(ReadError::Bad(400, "invalid Content-Length"));
            }
            let n = std::str::from_utf8(item)
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or(ReadError::Bad(400, "invalid Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(ReadError::Bad(400, "conflicting Content-Length"));
            }
            length = Some(n);
        }
    }
    let n = length.ok_or(ReadError::Bad(400, "invalid Content-Length"))?;
    if n > MAX_BODY_BYTES {
        return Err(ReadError::Bad(413, "request body too large"));
    }
    Ok(n)
}

/// A chunk size: 1 to 8 hex digits.
fn parse_chunk_size(digits: &[u8]) -> Result<usize, ReadError> {
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(ReadError::Bad(400, "invalid chunk size"));
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| usize::from_str_radix(s, 16).ok())
        .ok_or(ReadError::Bad(400, "invalid chunk size"))
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        407 => "Proxy Authentication Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}
