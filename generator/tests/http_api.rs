//! SPEC section 5 over HTTP, against `lotse serve` and against the Workers runtime.

mod common;
mod http;

use http::{cases, conversation, login, server, Client};

#[test]
fn lotse_serve_passes_the_http_suite() {
    let server = server::lotse_serve(1000);
    cases::all(&Client::new(&server.base), server.state());
    conversation::all(
        &Client::new(&server.base),
        server.state(),
        conversation::Runtime::Serve,
    );
}

#[test]
fn lotse_serve_logs_citizens_in() {
    let port = server::free_port();
    let provider = login::start_provider(&format!("http://127.0.0.1:{port}/api/callback"), None);
    let server = server::lotse_serve_on(
        port,
        1000,
        &[
            ("LOTSE_OIDC_ISSUER", provider.issuer.as_str()),
            ("LOTSE_OIDC_CLIENT_SECRET", login::CLIENT_SECRET),
            ("LOTSE_SESSION_SECRET", login::SESSION_SECRET),
            ("LOTSE_ACCOUNT_SECRET", login::ACCOUNT_SECRET),
        ],
    );
    let client = Client::new(&server.base);
    login::flow(&client);
    login::too_low(&client);
    login::token_refusals(&client, &provider);
}

#[test]
fn lotse_serve_limits_the_submission_rate() {
    let server = server::lotse_serve(3);
    cases::rate_limited(&Client::new(&server.base), 3);
}

/// The same suite in the real Workers runtime. CI sets LOTSE_REQUIRE_WORKERD=1, so a
/// missing toolchain fails there instead of passing silently.
#[test]
fn workerd_passes_the_http_suite() {
    if let Err(missing) = server::worker_ready() {
        assert!(
            std::env::var("LOTSE_REQUIRE_WORKERD").is_err(),
            "LOTSE_REQUIRE_WORKERD is set but {missing}"
        );
        eprintln!("skipped: {missing}");
        return;
    }
    server::build_dist();
    {
        let server = server::wrangler_dev(1000);
        cases::all(&Client::new(&server.base), server.state());
        conversation::all(
            &Client::new(&server.base),
            server.state(),
            conversation::Runtime::Workerd,
        );
    }
    {
        let limited = server::wrangler_dev(3);
        cases::rate_limited(&Client::new(&limited.base), 3);
    }
    let port = server::free_port();
    let provider = login::start_provider(&format!("http://127.0.0.1:{port}/api/callback"), None);
    let with_login = server::wrangler_dev_on(
        port,
        1000,
        &[
            ("OIDC_ISSUER", provider.issuer.as_str()),
            ("OIDC_CLIENT_ID", login::CLIENT_ID),
            ("OIDC_CLIENT_SECRET", login::CLIENT_SECRET),
            ("SESSION_SECRET", login::SESSION_SECRET),
            ("ACCOUNT_SECRET", login::ACCOUNT_SECRET),
        ],
    );
    let client = Client::new(&with_login.base);
    login::flow(&client);
    login::too_low(&client);
    login::token_refusals(&client, &provider);
}
