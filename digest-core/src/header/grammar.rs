//! The authentication header grammar of RFC 9110 §11, zero-copy.
//!
//! ```text
//! WWW-Authenticate = #challenge
//! challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param       = token BWS "=" BWS ( token / quoted-string )
//! token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```
//!
//! One field value may hold several challenges of several schemes. After a comma, the next
//! element is a parameter of the current challenge when it is `token BWS "="`, and the start of
//! a new challenge otherwise; this one-token lookahead is the whole disambiguation, so a realm
//! containing `Digest` or commas (inside quotes) cannot split a challenge.
//!
//! Leniency, for what real servers send: the scheme matches case-insensitively; unquoted
//! values may contain any visible byte except `"` and `,` (base64 nonces such as
//! `nonce=ab/c+d==`); empty list elements are skipped; whitespace around `=` and commas is
//! optional; obs-fold (a line break followed by whitespace) counts as whitespace outside
//! quoted-strings, as RFC 9112 §5.2 prescribes. Strictness, for what is ambiguous: unterminated quoted-strings, control characters
//! and missing separators are errors with the byte offset.
//!
//! The parser makes one pass over the input, never backtracks more than one token, and never
//! allocates. Inputs longer than [`Limits::max_field_len`] are refused before the first byte is
//! examined.

use alloc::borrow::Cow;

use super::chars::{class, is_ows, span};
use super::quoted;
use crate::error::{Found, ParseError, ParseErrorKind};

/// Bounds on what the parsers accept. Exceeding one is a [`ParseError`], never a truncation.
///
/// The defaults are generous for every server and client seen in the field (the longest
/// real values are httpbin's 128-hex-digit SHA-512 nonces and Twisted's ~100-byte opaque)
/// while keeping hostile inputs cheap to refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest header field value accepted, in bytes.
    pub max_field_len: usize,
    /// Most parameters in one challenge, one credentials or one `Authentication-Info`.
    pub max_params: usize,
    /// Longest single parameter value, in bytes, as it appears on the wire.
    pub max_value_len: usize,
}

impl Limits {
    /// The default limits: 16 KiB per field, 32 parameters, 4 KiB per value.
    pub const DEFAULT: Limits = Limits {
        max_field_len: 16 * 1024,
        max_params: 32,
        max_value_len: 4 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A parameter value as it appears in a header: a token or the inside of a quoted-string.
///
/// The value borrows from the header; escapes (`\"`, `\\`) are removed only on request, and
/// only then does anything allocate (and only if the value actually contains an escape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamValue<'a> {
    raw: &'a [u8],
    quoted: bool,
    escaped: bool,
    offset: usize,
}

impl<'a> ParamValue<'a> {
    /// The bytes as they appear between the quotes (escapes not yet removed), or the token.
    pub const fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether the value was a quoted-string.
    pub const fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// Byte offset of the value (of its opening quote, if quoted) in the field value.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The value with quoted-pair escapes removed. Borrows unless the value has escapes.
    pub fn unescaped(&self) -> Cow<'a, [u8]> {
        if self.escaped {
            Cow::Owned(quoted::unescape(self.raw))
        } else {
            Cow::Borrowed(self.raw)
        }
    }

    /// The unescaped value as text.
    ///
    /// # Errors
    ///
    /// [`ParseErrorKind::NotUtf8`] when the value holds bytes that are not UTF-8 (obs-text).
    pub fn to_str(&self) -> Result<Cow<'a, str>, ParseError> {
        let not_utf8 = || ParseError::new(ParseErrorKind::NotUtf8, self.offset);
        match self.unescaped() {
            Cow::Borrowed(b) => core::str::from_utf8(b)
                .map(Cow::Borrowed)
                .map_err(|_| not_utf8()),
            Cow::Owned(v) => alloc::string::String::from_utf8(v)
                .map(Cow::Owned)
                .map_err(|_| not_utf8()),
        }
    }

    /// Compares the unescaped value with `s`, ignoring ASCII case (for tokens such as
    /// `true`, `MD5`, `UTF-8`).
    pub fn eq_ignore_ascii_case(&self, s: &str) -> bool {
        self.unescaped().eq_ignore_ascii_case(s.as_bytes())
    }
}

/// One `name=value` auth-param.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The parameter name, as sent (compare it ignoring ASCII case).
    pub name: &'a str,
    /// Byte offset of the name in the field value.
    pub name_offset: usize,
    /// The value.
    pub value: ParamValue<'a>,
}

/// What follows the auth-scheme of a challenge (or credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body<'a> {
    /// A token68 (Basic, Negotiate, Bearer credentials ...).
    Token68(&'a [u8], usize),
    /// A list of auth-params: the slice of the field that holds them, and its offset.
    Params(&'a [u8], usize),
}

/// One challenge (or credentials): an auth-scheme and its token68 or parameters.
///
/// Obtained from [`Challenges`]; the parameters were validated when the challenge was
/// delimited, so iterating them cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    scheme: &'a str,
    offset: usize,
    body: Body<'a>,
    limits: Limits,
}

impl<'a> Challenge<'a> {
    /// The auth-scheme as sent (`Digest`, `digest`, `Basic`, ...).
    pub const fn scheme(&self) -> &'a str {
        self.scheme
    }

    /// Whether the scheme is `Digest`, in any case.
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    /// Byte offset of the scheme in the field value.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The token68, when the challenge carries one instead of parameters.
    pub const fn token68(&self) -> Option<&'a [u8]> {
        match self.body {
            Body::Token68(t, _) => Some(t),
            Body::Params(..) => None,
        }
    }

    /// The auth-params, in order (empty for a token68 challenge).
    pub fn params(&self) -> Params<'a> {
        match self.body {
            Body::Params(slice, base) => Params::new(slice, base, self.limits),
            Body::Token68(_, base) => Params::new(&[], base, self.limits),
        }
    }
}

/// Iterator over the auth-params of one challenge.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    cur: Cursor<'a>,
    limits: Limits,
}

impl<'a> Params<'a> {
    fn new(input: &'a [u8], base: usize, limits: Limits) -> Self {
        Self {
            cur: Cursor {
                input,
                pos: 0,
                base,
            },
            limits,
        }
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        // The slice was validated by `Challenges`, so an error cannot occur here; should one
        // ever occur, the iteration simply ends.
        match next_param(&mut self.cur, &self.limits, Lookahead::ParamsOnly) {
            Ok(Some(p)) => Some(p),
            Ok(None) | Err(_) => None,
        }
    }
}

/// Iterator over every challenge in a `WWW-Authenticate` or `Proxy-Authenticate` field value
/// (RFC 9110 §11.6.1), of every scheme, in order.
///
/// After an error the iterator ends: the grammar gives no safe way to find where the next
/// challenge begins.
///
/// After a comma, the next element is a parameter of the current challenge when it is
/// `token BWS "="`, and the start of a new challenge otherwise: a realm containing `Digest`
/// or commas (inside quotes) cannot split a challenge. Lenient where real servers need it:
/// the scheme matches ignoring case; unquoted values may hold any visible byte but `"` and
/// `,` (base64 nonces); empty list elements are skipped; whitespace around `=` and commas
/// is optional; obs-fold counts as whitespace outside quoted-strings (RFC 9112 §5.2).
/// Strict where the input is ambiguous: unterminated quoted-strings, control characters and
/// missing separators are errors with their byte offset. One pass, no allocation; a field
/// longer than [`Limits::max_field_len`] is refused before its first byte is read.
///
/// ```
/// use httpdigest::Challenges;
///
/// let field = r#"Basic realm="x", Digest realm="Digest, with commas", nonce="abc", qop="auth""#;
/// let schemes: Vec<_> = Challenges::new(field.as_bytes())
///     .map(|c| c.map(|c| c.scheme()))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(schemes, ["Basic", "Digest"]);
/// # Ok::<(), httpdigest::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Challenges<'a> {
    cur: Cursor<'a>,
    limits: Limits,
    done: bool,
}

impl<'a> Challenges<'a> {
    /// Parses `field` with the [default limits](Limits::DEFAULT).
    pub fn new(field: &'a [u8]) -> Self {
        Self::with_limits(field, Limits::DEFAULT)
    }

    /// Parses `field` with the given limits.
    pub fn with_limits(field: &'a [u8], limits: Limits) -> Self {
        Self {
            cur: Cursor {
                input: field,
                pos: 0,
                base: 0,
            },
            limits,
            done: false,
        }
    }

    fn parse_next(
        &mut self,
        visit: &mut impl FnMut(&Param<'a>),
    ) -> Result<Option<Challenge<'a>>, ParseError> {
        if self.cur.input.len() > self.limits.max_field_len {
            return Err(ParseError::new(
                ParseErrorKind::FieldTooLong {
                    limit: self.limits.max_field_len,
                },
                self.limits.max_field_len,
            ));
        }
        parse_challenge(&mut self.cur, self.limits, visit)
    }

    /// The next challenge, handing each of its parameters to `visit` as it is read: the
    /// callers that want the parameters get them in the same pass.
    pub(crate) fn next_visiting(
        &mut self,
        visit: &mut impl FnMut(&Param<'a>),
    ) -> Option<Result<Challenge<'a>, ParseError>> {
        if self.done {
            return None;
        }
        match self.parse_next(visit) {
            Ok(Some(c)) => Some(Ok(c)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl<'a> Iterator for Challenges<'a> {
    type Item = Result<Challenge<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_visiting(&mut |_| {})
    }
}

impl core::iter::FusedIterator for Challenges<'_> {}

/// Parses a field that holds exactly one credentials (`Authorization`,
/// `Proxy-Authorization`): an auth-scheme and its token68 or parameters, nothing after.
/// Each of its parameters goes to `visit` as it is read.
pub(crate) fn parse_single<'a>(
    field: &'a [u8],
    limits: Limits,
    visit: &mut impl FnMut(&Param<'a>),
) -> Result<Challenge<'a>, ParseError> {
    let mut it = Challenges::with_limits(field, limits);
    let first = match it.next_visiting(visit) {
        Some(r) => r?,
        None => {
            return Err(ParseError::new(
                ParseErrorKind::Unexpected {
                    expected: "an auth-scheme",
                    found: Found::End,
                },
                field.len(),
            ));
        }
    };
    match it.next() {
        None => Ok(first),
        Some(Err(e)) => Err(e),
        Some(Ok(extra)) => Err(ParseError::new(
            ParseErrorKind::TrailingCredentials,
            extra.offset,
        )),
    }
}

/// Parses a bare `#auth-param` list, as in `Authentication-Info` (RFC 9110 §11.6.3): every
/// element must be a parameter, and goes to `visit` as it is read. Returns the validated
/// params iterator.
pub(crate) fn parse_param_list<'a>(
    field: &'a [u8],
    limits: Limits,
    visit: &mut impl FnMut(&Param<'a>),
) -> Result<Params<'a>, ParseError> {
    if field.len() > limits.max_field_len {
        return Err(ParseError::new(
            ParseErrorKind::FieldTooLong {
                limit: limits.max_field_len,
            },
            limits.max_field_len,
        ));
    }
    let mut cur = Cursor {
        input: field,
        pos: 0,
        base: 0,
    };
    let mut count = 0usize;
    while let Some(p) = next_param(&mut cur, &limits, Lookahead::ParamsOnly)? {
        count += 1;
        if count > limits.max_params {
            return Err(ParseError::new(
                ParseErrorKind::TooManyParameters {
                    limit: limits.max_params,
                },
                p.name_offset,
            ));
        }
        visit(&p);
    }
    Ok(Params::new(field, 0, limits))
}

#[derive(Debug, Clone)]
struct Cursor<'a> {
    input: &'a [u8],
    pos: usize,
    /// Offset of `input[0]` in the whole field value, for error offsets.
    base: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn found(&self) -> Found {
        self.peek().map_or(Found::End, Found::Byte)
    }

    const fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn err_here(&self, expected: &'static str) -> ParseError {
        ParseError::new(
            ParseErrorKind::Unexpected {
                expected,
                found: self.found(),
            },
            self.offset(),
        )
    }

    /// Skips OWS, and obs-fold (`[CR] LF 1*( SP / HTAB )`), which RFC 9112 §5.2 says to read
    /// as SP (field values copied from RFC examples or from raw HTTP/1.0 traffic carry it).
    /// Most calls find none, so that check is inlined and the run is read out of line.
    #[inline]
    fn skip_ows(&mut self) {
        if matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.skip_ows_run();
        }
    }

    fn skip_ows_run(&mut self) {
        loop {
            match self.peek() {
                Some(b) if is_ows(b) => self.pos += 1,
                Some(b'\r' | b'\n') => {
                    let rest = self.rest();
                    let fold = match rest {
                        [b'\r', b'\n', next, ..] | [b'\n', next, ..] if is_ows(*next) => {
                            if rest.first() == Some(&b'\r') { 2 } else { 1 }
                        }
                        _ => return,
                    };
                    self.pos += fold;
                }
                _ => return,
            }
        }
    }

    /// Takes the bytes in the classes of `mask`.
    #[inline]
    fn take(&mut self, mask: u8) -> &'a [u8] {
        let rest = self.rest();
        let n = span(mask, rest);
        self.pos += n;
        rest.get(..n).unwrap_or_default()
    }

    #[inline]
    fn token(&mut self) -> &'a str {
        // tchar is ASCII, so this cannot fail; an empty str is returned otherwise.
        core::str::from_utf8(self.take(class::TCHAR)).unwrap_or_default()
    }

    #[inline]
    fn rest(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or_default()
    }
}

/// How to treat a token after a comma that is not followed by `=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookahead {
    /// It starts the next challenge: stop before it.
    ChallengeMayFollow,
    /// Only parameters are allowed (`Authentication-Info`, or a validated slice).
    ParamsOnly,
}

fn parse_challenge<'a>(
    cur: &mut Cursor<'a>,
    limits: Limits,
    visit: &mut impl FnMut(&Param<'a>),
) -> Result<Option<Challenge<'a>>, ParseError> {
    // Skip empty list elements and whitespace before the scheme.
    loop {
        cur.skip_ows();
        if cur.peek() != Some(b',') {
            break;
        }
        cur.pos += 1;
    }
    if cur.peek().is_none() {
        return Ok(None);
    }
    let offset = cur.offset();
    let scheme = cur.token();
    if scheme.is_empty() {
        return Err(cur.err_here("an auth-scheme (token)"));
    }
    match cur.peek() {
        None | Some(b',') => {
            return Ok(Some(params_challenge(
                scheme, offset, cur, limits, cur.pos, visit,
            )?));
        }
        Some(b) if is_ows(b) || b == b'\r' || b == b'\n' => {}
        Some(_) => return Err(cur.err_here("a space after the auth-scheme")),
    }
    cur.skip_ows();

    // token68: `1*t68char *"="` followed by the end of the element.
    let start = cur.pos;
    let t68 = cur.take(class::TOKEN68);
    if !t68.is_empty() {
        let padding = cur.rest().iter().take_while(|&&b| b == b'=').count();
        cur.pos += padding;
        let end = cur.pos;
        cur.skip_ows();
        if matches!(cur.peek(), None | Some(b',')) {
            let token = cur.input.get(start..end).unwrap_or_default();
            return Ok(Some(Challenge {
                scheme,
                offset,
                body: Body::Token68(token, cur.base + start),
                limits,
            }));
        }
    }
    cur.pos = start;
    Ok(Some(params_challenge(
        scheme, offset, cur, limits, start, visit,
    )?))
}

/// Consumes the auth-params of the current challenge, validating them and stopping before the
/// next challenge's scheme.
fn params_challenge<'a>(
    scheme: &'a str,
    offset: usize,
    cur: &mut Cursor<'a>,
    limits: Limits,
    start: usize,
    visit: &mut impl FnMut(&Param<'a>),
) -> Result<Challenge<'a>, ParseError> {
    let mut count = 0usize;
    while let Some(p) = next_param(cur, &limits, Lookahead::ChallengeMayFollow)? {
        count += 1;
        if count > limits.max_params {
            return Err(ParseError::new(
                ParseErrorKind::TooManyParameters {
                    limit: limits.max_params,
                },
                p.name_offset,
            ));
        }
        visit(&p);
    }
    let slice = cur.input.get(start..cur.pos).unwrap_or_default();
    Ok(Challenge {
        scheme,
        offset,
        body: Body::Params(slice, cur.base + start),
        limits,
    })
}

/// Parses the next auth-param. Returns `Ok(None)` at the end of the input or, with
/// [`Lookahead::ChallengeMayFollow`], before a token that starts the next challenge (the
/// cursor is then left on that token).
fn next_param<'a>(
    cur: &mut Cursor<'a>,
    limits: &Limits,
    lookahead: Lookahead,
) -> Result<Option<Param<'a>>, ParseError> {
    let mut after_comma = false;
    loop {
        cur.skip_ows();
        match cur.peek() {
            None => return Ok(None),
            Some(b',') => {
                cur.pos += 1;
                after_comma = true;
            }
            Some(_) => break,
        }
    }
    let name_start = cur.pos;
    let name_offset = cur.offset();
    let name = cur.token();
    if name.is_empty() {
        return Err(cur.err_here("a parameter name (token)"));
    }
    cur.skip_ows();
    if cur.peek() != Some(b'=') {
        if lookahead == Lookahead::ChallengeMayFollow && after_comma {
            // `, token` not followed by `=`: the next challenge's auth-scheme.
            cur.pos = name_start;
            return Ok(None);
        }
        return Err(cur.err_here("'=' after the parameter name"));
    }
    cur.pos += 1;
    cur.skip_ows();
    let value = if cur.peek() == Some(b'"') {
        quoted_string(cur, limits)?
    } else {
        let value_offset = cur.offset();
        let raw = cur.take(class::BARE_VALUE);
        if raw.is_empty() {
            return Err(cur.err_here("a parameter value (token or quoted-string)"));
        }
        if raw.len() > limits.max_value_len {
            return Err(ParseError::new(
                ParseErrorKind::ValueTooLong {
                    limit: limits.max_value_len,
                },
                value_offset,
            ));
        }
        ParamValue {
            raw,
            quoted: false,
            escaped: false,
            offset: value_offset,
        }
    };
    cur.skip_ows();
    match cur.peek() {
        None | Some(b',') => Ok(Some(Param {
            name,
            name_offset,
            value,
        })),
        Some(_) => Err(cur.err_here("',' or the end after a parameter value")),
    }
}

/// Parses a quoted-string at the cursor (RFC 9110 §5.6.4), returning its inside.
fn quoted_string<'a>(cur: &mut Cursor<'a>, limits: &Limits) -> Result<ParamValue<'a>, ParseError> {
    let offset = cur.offset();
    let rest = cur.rest();
    let (len, escaped) = quoted::scan(rest).map_err(|e| match e {
        quoted::ScanError::Unterminated => {
            ParseError::new(ParseErrorKind::UnterminatedQuotedString, offset)
        }
        quoted::ScanError::Control { at, byte } => {
            ParseError::new(ParseErrorKind::ControlCharacter { byte }, offset + at)
        }
    })?;
    // `len` counts both quotes.
    let raw = rest.get(1..len.saturating_sub(1)).unwrap_or_default();
    if raw.len() > limits.max_value_len {
        return Err(ParseError::new(
            ParseErrorKind::ValueTooLong {
                limit: limits.max_value_len,
            },
            offset,
        ));
    }
    cur.pos += len;
    Ok(ParamValue {
        raw,
        quoted: true,
        escaped,
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parsed = Vec<(String, Vec<(String, String)>)>;

    fn schemes(field: &str) -> Result<Parsed, ParseError> {
        Challenges::new(field.as_bytes())
            .map(|c| {
                c.map(|c| {
                    let params = c
                        .params()
                        .map(|p| (p.name.into(), p.value.to_str().unwrap().into_owned()))
                        .collect();
                    (c.scheme().into(), params)
                })
            })
            .collect()
    }

    #[test]
    fn mixed_schemes_and_token68() {
        let got =
            schemes(r#"Negotiate abc+/==, Basic realm="b", Digest realm="d", nonce=n"#).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, "Negotiate");
        assert!(got[0].1.is_empty());
        assert_eq!(got[1].1, [("realm".into(), "b".into())]);
        assert_eq!(
            got[2].1,
            [("realm".into(), "d".into()), ("nonce".into(), "n".into())]
        );
    }

    #[test]
    fn token68_is_reported() {
        let c = Challenges::new(b"Bearer abc.def~==")
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(c.token68(), Some(&b"abc.def~=="[..]));
    }

    #[test]
    fn scheme_without_params_then_another() {
        let got = schemes("Basic, Digest realm=r").unwrap();
        assert_eq!(got.len(), 2);
        assert!(got[0].1.is_empty());
    }

    #[test]
    fn empty_elements_are_skipped() {
        let got = schemes(" , ,Digest ,, realm=r ,, nonce=\"n\" ,").unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.len(), 2);
    }

    #[test]
    fn params_iterator_stops_at_next_challenge() {
        let c = Challenges::new(b"Digest a=1, b=2, Basic c=3")
            .next()
            .unwrap()
            .unwrap();
        let names: Vec<_> = c.params().map(|p| p.name).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn field_too_long() {
        let limits = Limits {
            max_field_len: 4,
            ..Limits::DEFAULT
        };
        let err = Challenges::with_limits(b"Digest a=b", limits)
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), &ParseErrorKind::FieldTooLong { limit: 4 });
    }
}
