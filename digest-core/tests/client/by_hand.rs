//! Driving the client by hand, one response at a time, for the tests that hold several
//! requests in flight and answer them in an order of their own.

use httpdigest::client::{Action, Client, Exchange, Request, Response};

use crate::common::TestRng;

/// The origin's `Authorization` a send carries, if any (panics unless `action` is a send).
pub(crate) fn sent(action: Action, request: &Request<'_>) -> Option<String> {
    let Action::Send(ticket) = action else {
        panic!("expected a send, got {action:?}");
    };
    ticket
        .sign(request)
        .unwrap()
        .authorization
        .map(|v| v.text().into_owned())
}

/// Hands the client a response of `status` to the last send of `exchange`, with one
/// `WWW-Authenticate` field if `www` is given.
pub(crate) fn respond(
    client: &mut Client,
    exchange: &mut Exchange,
    request: &Request<'_>,
    status: u16,
    www: Option<&str>,
    rng: &mut TestRng,
) -> Action {
    let fields: Vec<&[u8]> = www.map(str::as_bytes).into_iter().collect();
    let response = Response {
        www_authenticate: &fields,
        ..Response::new(status)
    };
    client.handle_response(exchange, request, &response, rng)
}
