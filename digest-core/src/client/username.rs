//! How the user name travels in Digest credentials (RFC 7616 §3.4, §3.4.4, §4): a question
//! only for names outside ASCII, which servers read in several dialects.
//!
//! | form | on the wire | H(A1) over | read by |
//! |---|---|---|---|
//! | [`NameForm::Utf8`] | `username="…"`, UTF-8 bytes | UTF-8 | Apache, lighttpd, Squid, Twisted, CherryPy; sent by curl, aiohttp |
//! | [`NameForm::Extended`] | `username*=UTF-8''…` (RFC 8187) | UTF-8 | lighttpd, this crate's server (RFC 7616 with `charset=UTF-8`) |
//! | [`NameForm::Latin1OnWire`] | `username="…"`, ISO-8859-1 bytes | UTF-8 | Tomcat, WSGI and Node servers; sent by python-requests, HttpClient, Node clients |
//! | [`NameForm::Latin1`] | `username="…"`, ISO-8859-1 bytes | ISO-8859-1 | servers on RFC 2617's default charset |
//! | [`NameForm::Userhash`] | `username=H(name:realm)`, `userhash=true` | UTF-8 | servers that offer `userhash=true` |
//!
//! A space tries its forms in order ([`NameForms`]): the one most servers accept for what
//! the challenge says and what the HTTP client can carry, then, after a refusal of a name
//! sent in it, the next one, once per request and within the request's bound on sends. The
//! form the server accepts is kept by the space. A policy can fix the form
//! ([`ClientConfig::name_form`](super::ClientConfig::name_form)).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// How a Digest answer carries the user name ([`ClientConfig::name_form`]). For a name in
/// ASCII every form but [`Userhash`](Self::Userhash) is the same.
///
/// [`ClientConfig::name_form`]: super::ClientConfig::name_form
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameForm {
    /// `username="…"` with the name's UTF-8 bytes, hashed as UTF-8 (what curl and aiohttp
    /// send; Apache, lighttpd, Squid, Twisted and CherryPy read it).
    Utf8,
    /// `username*=UTF-8''…` (RFC 8187), hashed as UTF-8: RFC 7616's form for a server that
    /// announces `charset=UTF-8`.
    Extended,
    /// `username="…"` with the name's ISO-8859-1 bytes, hashed as UTF-8 (what
    /// python-requests, Apache HttpClient and the Node clients send; Tomcat and the WSGI and
    /// Node servers, which read header bytes as ISO-8859-1, accept it). Only for names
    /// within ISO-8859-1.
    Latin1OnWire,
    /// `username="…"` with the name's ISO-8859-1 bytes, hashed in ISO-8859-1 too (name and
    /// password: RFC 2617's default charset). Only for names and passwords within
    /// ISO-8859-1, and not with a precomputed H(A1).
    Latin1,
    /// `username=H(name:realm)` with `userhash=true` (RFC 7616 §3.4.4), where the challenge
    /// offers it; elsewhere the default order applies.
    Userhash,
}

impl NameForm {
    /// Whether the name goes in ISO-8859-1 bytes on the wire.
    pub(crate) const fn latin1_on_wire(self) -> bool {
        matches!(self, NameForm::Latin1OnWire | NameForm::Latin1)
    }
}

/// What decides a space's forms, apart from the policy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect<'a> {
    pub(crate) name: &'a str,
    /// The challenge says `charset=UTF-8`.
    pub(crate) charset_utf8: bool,
    /// The challenge offers `userhash=true`.
    pub(crate) userhash: bool,
    /// The HTTP client carries only ASCII in header values.
    pub(crate) ascii_only: bool,
    /// The secret is a password (not a precomputed H(A1)) within ISO-8859-1.
    pub(crate) latin1_password: bool,
}

/// The forms a space tries, in order, and where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameForms {
    forms: [NameForm; 3],
    len: u8,
    at: u8,
    /// The server accepted the current form.
    settled: bool,
}

impl NameForms {
    /// The forms for `dialect`, or the one `fixed` by the policy where it applies.
    pub(crate) fn new(dialect: Dialect<'_>, fixed: Option<NameForm>) -> Self {
        let mut forms = Self {
            forms: [NameForm::Utf8; 3],
            len: 0,
            at: 0,
            settled: false,
        };
        let latin1 = fits_latin1(dialect.name);
        let usable = |form: NameForm| match form {
            NameForm::Userhash => dialect.userhash,
            NameForm::Latin1OnWire => latin1,
            NameForm::Latin1 => latin1 && dialect.latin1_password,
            NameForm::Utf8 | NameForm::Extended => true,
        };
        if let Some(form) = fixed.filter(|f| usable(*f)) {
            forms.push(form);
            return forms;
        }
        if dialect.userhash {
            forms.push(NameForm::Userhash);
        }
        if dialect.name.is_ascii() {
            // Every plain form is the same bytes; a name with control characters goes as
            // `username*`, the one form that can carry it.
            if forms.len == 0 {
                forms.push(if has_ctl(dialect.name) {
                    NameForm::Extended
                } else {
                    NameForm::Utf8
                });
            }
            return forms;
        }
        if !dialect.ascii_only && !has_ctl(dialect.name) {
            forms.push(NameForm::Utf8);
        }
        if dialect.charset_utf8 || has_ctl(dialect.name) {
            forms.push(NameForm::Extended);
        } else if !dialect.ascii_only && latin1 {
            forms.push(NameForm::Latin1OnWire);
        }
        if forms.len == 0 {
            // Nothing the HTTP client can carry: the adapter says so when it sends.
            forms.push(NameForm::Utf8);
        }
        forms
    }

    fn push(&mut self, form: NameForm) {
        if let Some(slot) = self.forms.get_mut(usize::from(self.len)) {
            *slot = form;
            self.len += 1;
        }
    }

    /// The form the space's answers take now.
    pub(crate) fn current(&self) -> NameForm {
        self.forms
            .get(usize::from(self.at))
            .copied()
            .unwrap_or(NameForm::Utf8)
    }

    /// The server accepted an answer in `form`.
    pub(crate) fn accepted(&mut self, form: NameForm) {
        if form == self.current() {
            self.settled = true;
        }
    }

    /// The server refused credentials sent in `form`: moves on to the next form unless the
    /// current one is settled or is the last. Whether an answer in another form than `form`
    /// is left to try (another request may have moved the space on already).
    pub(crate) fn refused(&mut self, form: NameForm) -> bool {
        if form != self.current() {
            return true;
        }
        if self.settled || usize::from(self.at) + 1 >= usize::from(self.len) {
            return false;
        }
        self.at += 1;
        true
    }
}

impl NameForms {
    /// Every form was refused (the password is wrong, most likely): the next answer starts
    /// from the first again, unless the server accepted one before.
    pub(crate) fn restart(&mut self) {
        if !self.settled {
            self.at = 0;
        }
    }
}

/// Whether every character of `name` is in ISO-8859-1 (U+0000 to U+00FF).
fn fits_latin1(name: &str) -> bool {
    name.chars().all(|c| u32::from(c) <= 0xff)
}

/// Whether `name` cannot go in a quoted-string (the writer's own check: control characters
/// but HTAB).
fn has_ctl(name: &str) -> bool {
    crate::header::quoted::check_no_ctl("username", name).is_err()
}

/// The ISO-8859-1 bytes of text within it (what [`fits_latin1`] passed).
pub(crate) fn latin1_bytes(text: &str) -> Cow<'_, [u8]> {
    if text.is_ascii() {
        return Cow::Borrowed(text.as_bytes());
    }
    Cow::Owned(
        text.chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect(),
    )
}

/// `header` with the name that begins it (`Digest username="` and the quoted name, as
/// [`CredentialsParams`](crate::CredentialsParams) writes a plain one) in ISO-8859-1 bytes:
/// the rest of the header is left as written.
pub(crate) fn with_latin1_name(header: String, name: &str) -> Vec<u8> {
    const PREFIX: &str = "Digest username=\"";
    // The quoted name as written: `"` and `\` escaped, one byte each.
    let quoted_len = name.len() + name.bytes().filter(|b| matches!(b, b'"' | b'\\')).count();
    let end = PREFIX.len() + quoted_len;
    match (header.get(..PREFIX.len()), header.get(PREFIX.len()..end)) {
        (Some(PREFIX), Some(quoted)) => {
            let mut out = Vec::with_capacity(header.len());
            out.extend_from_slice(PREFIX.as_bytes());
            out.extend_from_slice(&latin1_bytes(quoted));
            out.extend_from_slice(header.as_bytes().get(end..).unwrap_or_default());
            out
        }
        _ => header.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JASON: &str = "J\u{e4}s\u{f8}n Doe";

    fn dialect(name: &str) -> Dialect<'_> {
        Dialect {
            name,
            charset_utf8: false,
            userhash: false,
            ascii_only: false,
            latin1_password: true,
        }
    }

    fn order(forms: NameForms) -> Vec<NameForm> {
        let mut forms = forms;
        let mut out = vec![forms.current()];
        while forms.refused(forms.current()) {
            out.push(forms.current());
        }
        out
    }

    #[test]
    fn the_order_follows_the_challenge_and_the_transport() {
        use NameForm::*;
        assert_eq!(order(NameForms::new(dialect("alice"), None)), [Utf8]);
        assert_eq!(order(NameForms::new(dialect("a\u{1}b"), None)), [Extended]);
        assert_eq!(
            order(NameForms::new(dialect(JASON), None)),
            [Utf8, Latin1OnWire]
        );
        let charset = Dialect {
            charset_utf8: true,
            ..dialect(JASON)
        };
        assert_eq!(order(NameForms::new(charset, None)), [Utf8, Extended]);
        let ascii_only = Dialect {
            ascii_only: true,
            ..charset
        };
        assert_eq!(order(NameForms::new(ascii_only, None)), [Extended]);
        let hashed = Dialect {
            userhash: true,
            ..ascii_only
        };
        assert_eq!(order(NameForms::new(hashed, None)), [Userhash, Extended]);
        // Nothing ureq can carry: the first form, refused by the adapter.
        let nothing = Dialect {
            ascii_only: true,
            ..dialect(JASON)
        };
        assert_eq!(order(NameForms::new(nothing, None)), [Utf8]);
        // Beyond ISO-8859-1.
        assert_eq!(
            order(NameForms::new(dialect("\u{5f20}\u{4f1f}"), None)),
            [Utf8]
        );
    }

    #[test]
    fn a_fixed_form_applies_where_it_can() {
        use NameForm::*;
        assert_eq!(
            order(NameForms::new(dialect(JASON), Some(Latin1))),
            [Latin1]
        );
        let ha1 = Dialect {
            latin1_password: false,
            ..dialect(JASON)
        };
        assert_eq!(
            order(NameForms::new(ha1, Some(Latin1))),
            [Utf8, Latin1OnWire]
        );
        assert_eq!(
            order(NameForms::new(dialect(JASON), Some(Userhash))),
            [Utf8, Latin1OnWire]
        );
    }

    #[test]
    fn a_settled_form_stays_and_a_late_refusal_follows_the_space() {
        let mut forms = NameForms::new(dialect(JASON), None);
        assert!(forms.refused(NameForm::Utf8));
        // Another request's answer in the old form: the space has moved on already.
        assert!(forms.refused(NameForm::Utf8));
        assert_eq!(forms.current(), NameForm::Latin1OnWire);
        forms.accepted(NameForm::Latin1OnWire);
        assert!(!forms.refused(NameForm::Latin1OnWire));
        assert_eq!(forms.current(), NameForm::Latin1OnWire);
    }

    #[test]
    fn the_name_alone_goes_in_latin1() {
        let header = format!("Digest username=\"{JASON}\", realm=\"r\u{e4}\"");
        let bytes = with_latin1_name(header, JASON);
        assert_eq!(
            bytes,
            b"Digest username=\"J\xe4s\xf8n Doe\", realm=\"r\xc3\xa4\"".to_vec()
        );
        let quoted = "a\"\u{e4}";
        let header = String::from("Digest username=\"a\\\"\u{e4}\", x");
        assert_eq!(
            with_latin1_name(header, quoted),
            b"Digest username=\"a\\\"\xe4\", x".to_vec()
        );
    }
}
