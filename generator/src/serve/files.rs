//! The static side of `lotse serve`: files from the rendered site in memory, with the
//! headers Cloudflare would send, directory redirects, the 404 page, and the live-reload
//! script injected into HTML.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;

pub(super) const RELOAD_SCRIPT: &str = r#"(function () {
  var source = new EventSource("/__lotse/livereload");
  source.addEventListener("reload", function () { location.reload(); });
})();
"#;
pub(super) const RELOAD_TAG: &str = "<script src=\"/__lotse/livereload.js\" defer></script>";

pub(super) async fn livereload_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        RELOAD_SCRIPT,
    )
}

pub(super) async fn static_file(State(state): State<AppState>, request: Request<Body>) -> Response {
    // A static site answers GET and HEAD only (hyper drops the body of a HEAD answer).
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let allow = [(header::ALLOW, "GET, HEAD")];
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            allow,
            "Methode nicht erlaubt\n",
        )
            .into_response();
    }
    let site = state
        .files
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let path = request.uri().path().trim_start_matches('/');
    if path.split('/').any(|segment| segment == "..") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let file = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.to_string()
    };
    if let Some(bytes) = site.get(&file) {
        return file_response(StatusCode::OK, &file, &bytes);
    }
    if !path.is_empty() && !path.ends_with('/') && site.has_dir(path) {
        let target = format!("/{path}/");
        return (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, target)]).into_response();
    }
    match site.get("404.html") {
        Some(bytes) => file_response(StatusCode::NOT_FOUND, "404.html", &bytes),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn file_response(status: StatusCode, path: &str, bytes: &[u8]) -> Response {
    let content_type = content_type(path);
    let body: Vec<u8> = if content_type.starts_with("text/html") {
        inject_reload(bytes)
    } else {
        bytes.to_vec()
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    for (name, value) in crate::render::extras::STATIC_HEADERS {
        if let Ok(name) = axum::http::HeaderName::from_bytes(name.as_bytes()) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if let Ok(policy) = HeaderValue::from_str(&super::content_security_policy()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

fn inject_reload(html: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(html);
    match text.rfind("</body>") {
        Some(i) => format!("{}{RELOAD_TAG}{}", &text[..i], &text[i..]).into_bytes(),
        None => html.to_vec(),
    }
}

pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}
