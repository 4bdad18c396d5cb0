//! HTTP clients' side of the core, over the [`http`](https://docs.rs/http) crate's types
//! (feature `http`): [`DigestClient`], the engine every adapter drives, and the conversions
//! it is made of (routes, response fields, header names).

mod client;
mod convert;
mod error;

pub use client::{Call, DEFAULT_MAX_BUFFERED_BODY, DRAIN_LIMIT, DigestClient, Next, Wait};
pub use convert::{
    AUTHENTICATION_INFO, PROXY_AUTHENTICATION_INFO, ResponseFields, Route, absolute_target,
    challenge_fields, challenge_header, credentials_header, info_header, origin_of,
    put_auth_headers, request_target, split_userinfo, strip_userinfo,
};
pub use error::{AuthError, BadUri};
