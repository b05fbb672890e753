//! Outputs that are not templates: JSON-LD, robots.txt, per-portal theme CSS (the
//! sitemap is in `sitemap.rs`).

use std::fmt::Write as _;

use lotse_model::{Portal, PortalKind, Provider, Region, Service};
use serde_json::json;

use crate::load::parse_hex_color;

/// schema.org GovernmentService for a service page, as JSON safe to embed in a
/// `<script type="application/ld+json">` element.
pub fn service_jsonld(
    region: &Region,
    portal: &Portal,
    service: &Service,
    canonical: &str,
    categories: &[String],
) -> String {
    let provider_name = match service.provider {
        Provider::Kommune => portal.name.as_str(),
        Provider::Land => "Land Nordrhein-Westfalen",
        Provider::Bund => "Bundesrepublik Deutschland",
    };
    let office = service.office.as_deref().and_then(|id| portal.office(id));
    let mut channel = json!({
        "@type": "ServiceChannel",
        "serviceUrl": service.url.as_deref().unwrap_or(canonical),
    });
    if let Some(office) = office {
        if let Some(phone) = &office.phone {
            channel["servicePhone"] = json!({"@type": "ContactPoint", "telephone": phone});
        }
        if let Some(address) = &office.address {
            channel["serviceLocation"] =
                json!({"@type": "Place", "name": office.name, "address": address});
        }
    }
    let area_type = match portal.kind {
        PortalKind::City => "City",
        PortalKind::District => "AdministrativeArea",
    };
    let mut value = json!({
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "name": service.title,
        "description": service.summary,
        "url": canonical,
        "serviceType": categories,
        "provider": {"@type": "GovernmentOrganization", "name": provider_name},
        "areaServed": {"@type": area_type, "name": portal.short_name},
        "availableChannel": channel,
        "isPartOf": {"@type": "WebSite", "name": region.name, "url": format!("{}/", region.base_url)},
    });
    if let Some(leika) = &service.leika {
        value["identifier"] =
            json!({"@type": "PropertyValue", "propertyID": "LeiKa", "value": leika});
    }
    // Inside a script element, `</script` ends it and `<!--` changes how it is parsed;
    // JSON allows `<`, `>` and `&` as \u escapes, so none of them appears literally.
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Security headers of the static site: served by Cloudflare from `_headers`, and by
/// `lotse serve` for every static file. No inline script or style anywhere, so the
/// policy can be strict. `'wasm-unsafe-eval'` lets the search (Pagefind) compile its
/// WebAssembly; it allows no `eval` of script text (docs/search.md). The
/// Content-Security-Policy comes from [`content_security_policy`].
pub const STATIC_HEADERS: [(&str, &str); 5] = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    (
        "Strict-Transport-Security",
        "max-age=31536000; includeSubDomains",
    ),
    ("X-Frame-Options", "DENY"),
    (
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
];

/// The static site's Content-Security-Policy. `form_targets` are the origins a form may
/// lead to besides the site: the payment providers, whose page the 303 of a paid
/// service's form goes to (browsers hold `form-action` to the redirects too).
pub fn content_security_policy(form_targets: &[String]) -> String {
    let mut targets = String::from("'self'");
    for origin in form_targets {
        targets.push(' ');
        targets.push_str(origin);
    }
    format!("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; media-src 'self'; connect-src 'self'; form-action {targets}; frame-ancestors 'none'; base-uri 'none'")
}

pub use lotse_model::payment::origin_of;

/// The payment providers' origins of a site, for [`content_security_policy`].
pub fn payment_origins(site: &crate::resolve::Site) -> Vec<String> {
    let mut origins: Vec<String> = site
        .region
        .payment
        .iter()
        .chain(
            site.portals
                .iter()
                .filter_map(|p| p.portal.payment.as_ref()),
        )
        .filter_map(|provider| origin_of(&provider.base_url))
        .collect();
    origins.sort();
    origins.dedup();
    origins
}

/// Cloudflare's `_headers` file with the policy and [`STATIC_HEADERS`] for every path.
pub fn headers_file(form_targets: &[String]) -> String {
    let mut out = String::from("/*\n");
    let _ = writeln!(
        out,
        "  Content-Security-Policy: {}",
        content_security_policy(form_targets)
    );
    for (name, value) in STATIC_HEADERS {
        let _ = writeln!(out, "  {name}: {value}");
    }
    out
}

pub fn robots_txt(base_url: &str) -> String {
    format!("User-agent: *\nAllow: /\nDisallow: /api/\n\nSitemap: {base_url}/sitemap.xml\n")
}

/// The brand colours of one portal as CSS custom properties. Kept out of the HTML so
/// that the Content-Security-Policy can forbid inline styles.
pub fn theme_css(primary: Option<&str>) -> String {
    let brand = primary
        .and_then(parse_hex_color)
        .unwrap_or([0x00, 0x4b, 0x87]);
    let dark = brand.map(|c| (c as f64 * 0.75).round() as u8);
    format!(
        ":root{{--brand:#{:02x}{:02x}{:02x};--brand-dark:#{:02x}{:02x}{:02x}}}\n",
        brand[0], brand[1], brand[2], dark[0], dark[1], dark[2]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_file_applies_a_strict_policy_to_every_path() {
        let file = headers_file(&["https://epaybl.example".into()]);
        assert!(file.starts_with("/*\n"));
        assert!(file.contains("form-action 'self' https://epaybl.example;"));
        assert_eq!(
            origin_of("https://ePayBL.example:8443/api/v1?x"),
            Some("https://epaybl.example:8443".into())
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert!(file.contains(
            "  Content-Security-Policy: default-src 'none'; script-src 'self' 'wasm-unsafe-eval';"
        ));
        assert!(!file.contains("unsafe-inline"));
        assert!(file.contains("  X-Content-Type-Options: nosniff\n"));
    }

    #[test]
    fn theme_css_darkens_the_brand_colour() {
        assert_eq!(
            theme_css(Some("#804020")),
            ":root{--brand:#804020;--brand-dark:#603018}\n"
        );
    }

    #[test]
    fn jsonld_cannot_close_its_script_element() {
        let service = Service {
            title: "</script><script>alert(1)</script>".into(),
            ..Service::default()
        };
        let out = service_jsonld(
            &Region::default(),
            &Portal::default(),
            &service,
            "https://x.de/",
            &[],
        );
        assert!(!out.contains("</script"));
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["@type"], "GovernmentService");
        assert_eq!(parsed["name"], "</script><script>alert(1)</script>");
    }
}
