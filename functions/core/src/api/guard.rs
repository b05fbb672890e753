//! The checks every state-changing request passes before any work is done: size,
//! content type, cross-site origin, rate.

use crate::http::{Request, Response};
use crate::ids::hash_hex;
use crate::store::Store;

use super::{error, Config};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
}

/// 413 for bodies over the limit (by header or by bytes).
pub fn size(config: &Config, request: &Request) -> Result<(), Response> {
    let declared = request
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    if declared > config.body_limit || request.body.len() > config.body_limit {
        return Err(error(
            413,
            "too_large",
            &format!(
                "Die Anfrage ist zu groß (höchstens {} KiB).",
                config.body_limit / 1024
            ),
        ));
    }
    Ok(())
}

/// 415 for anything but JSON and form data.
pub fn content_type(request: &Request, allowed: &[BodyKind]) -> Result<BodyKind, Response> {
    let essence = request
        .header("content-type")
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let kind = match essence.as_str() {
        "application/json" => Some(BodyKind::Json),
        "application/x-www-form-urlencoded" => Some(BodyKind::Form),
        _ => None,
    };
    match kind {
        Some(kind) if allowed.contains(&kind) => Ok(kind),
        _ => Err(error(
            415,
            "unsupported_media_type",
            "Bitte senden Sie application/json oder ein HTML-Formular.",
        )),
    }
}

/// 403 for requests a browser marks as coming from another site. Clients that are not
/// browsers send neither header and pass; browsers always send Sec-Fetch-Site or Origin
/// on cross-site POSTs.
pub fn same_site(request: &Request) -> Result<(), Response> {
    let refused = || {
        error(
            403,
            "cross_site",
            "Anfragen von fremden Websites werden abgewiesen.",
        )
    };
    let fetch_site = request.header("sec-fetch-site").map(str::trim);
    if let Some(site) = fetch_site {
        if !matches!(site, "same-origin" | "none") {
            return Err(refused());
        }
    }
    if let Some(origin) = request.header("origin") {
        // Pages sent with `Referrer-Policy: no-referrer` (receipt, status) make browsers
        // post their forms with `Origin: null`; Sec-Fetch-Site still says same-origin.
        if origin == "null" {
            if fetch_site != Some("same-origin") {
                return Err(refused());
            }
        } else {
            let origin_host = origin.split_once("://").map(|(_, host)| host).unwrap_or("");
            let host = request.header("host").unwrap_or("");
            if origin_host.trim_end_matches('/') != host {
                return Err(refused());
            }
        }
    }
    Ok(())
}

/// 429 when a client exceeds the configured submissions per minute. The client address
/// is hashed before it reaches the store.
pub async fn rate<S: Store>(store: &S, config: &Config, request: &Request) -> Result<(), Response> {
    let client_hash = hash_hex(format!("lotse-rate:{}", request.client).as_bytes());
    let window = request.now_ms / 60_000;
    match store.count_hit(&client_hash, window).await {
        Ok(hits) if hits > config.rate_limit_per_minute => {
            let retry_after = 60 - (request.now_ms / 1000) % 60;
            Err(error(
                429,
                "rate_limited",
                "Zu viele Anträge in kurzer Zeit. Bitte versuchen Sie es in einer Minute erneut.",
            )
            .with_header("retry-after", &retry_after.to_string()))
        }
        Ok(_) => Ok(()),
        Err(_) => Err(unavailable()),
    }
}

pub fn unavailable() -> Response {
    error(
        503,
        "unavailable",
        "Der Dienst ist gerade nicht erreichbar. Ihr Antrag wurde nicht gespeichert; bitte versuchen Sie es in einigen Minuten erneut.",
    )
    .with_header("retry-after", "30")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        Request {
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..Request::default()
        }
    }

    #[test]
    fn same_site_rules() {
        let host = ("host", "portal.example");
        assert!(same_site(&request(&[host])).is_ok());
        assert!(same_site(&request(&[host, ("origin", "https://portal.example")])).is_ok());
        assert!(same_site(&request(&[host, ("origin", "https://evil.example")])).is_err());
        assert!(same_site(&request(&[host, ("sec-fetch-site", "cross-site")])).is_err());
        // A form on a no-referrer page: Origin null, but the browser vouches same-origin.
        assert!(same_site(&request(&[
            host,
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ]))
        .is_ok());
        assert!(same_site(&request(&[host, ("origin", "null")])).is_err());
        assert!(same_site(&request(&[
            host,
            ("origin", "null"),
            ("sec-fetch-site", "same-site")
        ]))
        .is_err());
    }
}
