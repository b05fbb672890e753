//! SPEC section 5 over HTTP, against `lotse serve` and against the Workers runtime.

mod http;

use http::{cases, server, Client};

#[test]
fn lotse_serve_passes_the_http_suite() {
    let server = server::lotse_serve(1000);
    cases::all(&Client::new(&server.base), server.state());
}

#[test]
fn lotse_serve_limits_the_submission_rate() {
    let server = server::lotse_serve(3);
    cases::rate_limited(&Client::new(&server.base), 3);
}
