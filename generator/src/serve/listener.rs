//! The HTTP side of `lotse serve`: hyper with a header read timeout and a cap on open
//! connections, so that a slow or stuck client cannot hold the server; limits on the
//! request line and headers answered by the server itself (414, 431); and the site's
//! security headers on every answer, the server's own included.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// A client gets this long to send a request's headers, on every request of a
/// connection; then the connection is closed.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A client gets this long to send a request's body (64 KiB at most, the functions'
/// limit); then it gets 408.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(20);
/// Connections open at once; the next one waits until one closes.
pub const MAX_CONNECTIONS: usize = 256;
/// The longest request target (path and query) the server reads; longer is 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// All request headers together; more is 431.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// hyper's read buffer, and so the largest request head it parses at all. A head past
/// it gets hyper's own bare 431 (no body, nothing a browser could render).
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let app = app.layer(axum::middleware::from_fn(limits_and_headers));
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            permit = permits.clone().acquire_owned() => permit?,
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a moment, keep serving.
                Err(e) => {
                    eprintln!("warning: cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |mut request: Request<_>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                app.clone().oneshot(request)
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(READ_BUFFER_BYTES)
                .serve_connection(TokioIo::new(stream), service);
            // A client that goes away mid-request is no error of the server's.
            let _ = connection.await;
        });
    }
}

/// 414 and 431 for request heads over the limits, and the security headers on every
/// answer that does not set its own (the functions set theirs).
async fn limits_and_headers(request: Request<Body>, next: Next) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let response = if target > MAX_URI_BYTES {
        (StatusCode::URI_TOO_LONG, "Adresse zu lang\n").into_response()
    } else if headers > MAX_HEADER_BYTES {
        let status = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
        (status, "Kopfzeilen zu groß\n").into_response()
    } else {
        next.run(request).await
    };
    with_static_headers(response)
}

pub fn with_static_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in crate::render::extras::STATIC_HEADERS {
        // `from_bytes` accepts the spelling of `_headers` and stores it in lowercase.
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if !headers.contains_key(axum::http::header::CONTENT_SECURITY_POLICY) {
        if let Ok(policy) = HeaderValue::from_str(&super::content_security_policy()) {
            headers.insert(axum::http::header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    response
}
