//! The authentication headers on the wire (RFC 9110 §11, RFC 7616 §3.3–§3.5, RFC 8187):
//! parsing what the other side sent, zero-copy, and writing what this side sends. The types
//! are re-exported at the crate root.
//!
//! From the bottom up: [`chars`] (the byte classes), [`quoted`] and [`ext_value`] (the two
//! value encodings), [`grammar`] (challenges and auth-params of every scheme) and
//! [`known`] (gathering the parameters a Digest header names), then one module per header:
//! [`challenge`], [`credentials`], [`authentication_info`]; [`field_value`] is what a written
//! header is.

pub(crate) mod authentication_info;
pub(crate) mod challenge;
pub(crate) mod chars;
pub(crate) mod credentials;
pub(crate) mod ext_value;
pub(crate) mod field_value;
pub(crate) mod grammar;
pub(crate) mod known;
pub(crate) mod quoted;

pub use authentication_info::{AuthenticationInfo, AuthenticationInfoParams};
pub use challenge::{ChallengeParams, DigestChallenge, DigestChallenges, Domain};
pub use credentials::{CredentialsParams, DigestCredentials, Username, UsernameParam};
pub use field_value::FieldValue;
pub use grammar::{Challenge, Challenges, Limits, Param, ParamValue, Params};
