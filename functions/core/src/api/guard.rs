//! The checks every state-changing request passes before any work is done: size,
//! content type, cross-site origin, rate.

use crate::http::{Request, Response};
use crate::store::{RateSlot, Store};

use super::{error, Config};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
}

/// 413 for bodies over the limit (by header or by bytes).
pub fn size(config: &Config, request: &Request) -> Result<(), Response> {
    size_up_to(request, config.body_limit)
}

/// 413 for bodies over `limit` bytes, by the declared length before any byte is read
/// (the adapters read no further than the limit), or by the bytes.
pub fn size_up_to(request: &Request, limit: usize) -> Result<(), Response> {
    let declared = request
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    if declared > limit || request.body.len() > limit {
        let most = if limit >= 1024 * 1024 {
            format!("{} MiB", limit / (1024 * 1024))
        } else {
            format!("{} KiB", limit / 1024)
        };
        return Err(error(
            413,
            "too_large",
            &format!("Die Anfrage ist zu groß (höchstens {most})."),
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
        } else if crate::http::normalize_origin(origin) != request.site_origin() {
            // Scheme, host and port, exactly: `evil://portal.example` is another origin.
            return Err(refused());
        }
    }
    Ok(())
}

/// The rate limit's window: a sliding minute.
pub const RATE_WINDOW_MS: u64 = 60_000;

/// 429 when a client has sent the configured number of submissions within the last
/// minute (a sliding window: never more than the limit in any 60 seconds, also across
/// the turn of a minute); Retry-After says when its oldest one leaves the window. The
/// client address reaches the store only as a keyed hash (HMAC under the hash secret).
pub async fn rate<S: Store>(store: &S, config: &Config, request: &Request) -> Result<(), Response> {
    let client_hash = config.hash_secret.client_hash(&request.client);
    let slot = store
        .take_rate_slot(
            &client_hash,
            request.now_ms,
            RATE_WINDOW_MS,
            config.rate_limit_per_minute,
        )
        .await;
    match slot {
        Ok(RateSlot::Taken) => Ok(()),
        Ok(RateSlot::Full { retry_after_ms }) => {
            let seconds = retry_after_ms.div_ceil(1000).max(1);
            let wait = match seconds {
                1 => "einer Sekunde".to_string(),
                n => format!("{n} Sekunden"),
            };
            Err(error(
                429,
                "rate_limited",
                &format!(
                    "Zu viele Anträge in kurzer Zeit. Bitte versuchen Sie es in {wait} erneut."
                ),
            )
            .with_header("retry-after", &seconds.to_string()))
        }
        Err(_) => Err(unavailable()),
    }
}

pub fn unavailable() -> Response {
    unavailable_because("Der Dienst ist gerade nicht erreichbar. Ihr Antrag wurde nicht gespeichert; bitte versuchen Sie es in einigen Minuten erneut.")
}

/// 503 with a message of its own (a message not stored, a file not readable).
pub fn unavailable_because(message: &str) -> Response {
    error(503, "unavailable", message).with_header("retry-after", "30")
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
        // The host alone is not the origin: scheme and port count too.
        for other in [
            "evil://portal.example",
            "http://portal.example",
            "https://portal.example:8443",
            "https://portal.example/",
            "https://portal.example.evil.example",
        ] {
            assert!(
                same_site(&request(&[host, ("origin", other)])).is_err(),
                "{other}"
            );
        }
        assert!(same_site(&request(&[host, ("origin", "HTTPS://Portal.Example:443")])).is_ok());
        let local = Request {
            origin: "http://127.0.0.1:8080".into(),
            ..request(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080"),
            ])
        };
        assert!(same_site(&local).is_ok());
        let spoofed = Request {
            origin: "http://127.0.0.1:8080".into(),
            ..request(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "evil://127.0.0.1:8080"),
            ])
        };
        assert!(same_site(&spoofed).is_err());
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
