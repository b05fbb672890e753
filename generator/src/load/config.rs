//! Reads region.toml, categories.toml and portal.toml.

use std::collections::HashMap;

use lotse_model::payment::PaymentProvider;
use lotse_model::region::DEFAULT_OFFICES_CLAIM;
use lotse_model::{
    AcrMap, Category, LoginConfig, Office, OfficeLoginConfig, Portal, PortalKind, Region, Theme,
};

use super::fields::{Fields, Located, TomlDoc};
use crate::diagnostics::{Diagnostics, Loc};
use crate::source::SourceText;

/// Where region.toml sets keys that rules spanning files report about.
#[derive(Default)]
pub struct RegionLocs {
    pub feedback_portal: Option<Loc>,
    /// The `[payment]` table, also when it was invalid (and so left out of the region).
    pub payment: Option<Loc>,
}

/// region.toml, with the positions of keys for messages about them.
pub fn parse_region(src: &SourceText, diags: &Diagnostics) -> Option<(Region, RegionLocs)> {
    let doc = TomlDoc { src, base: 0 };
    let table = doc.parse(&src.text, diags)?;
    let mut f = Fields::new(&table, "region.toml", &doc, diags);
    let name = f.required_str("name");
    let slug = f.required_str("slug");
    let base_url = f.required_str("base_url");
    let language = f.required_str("language");
    if let Some(url) = &base_url {
        check_base_url(url, diags);
    }
    let feedback_portal = f.str("feedback_portal");
    let feedback_loc = feedback_portal.as_ref().map(|p| p.loc.clone());
    let payment_fields = f.table("payment", "[payment]");
    let payment_loc = payment_fields.as_ref().map(|p| p.loc().clone());
    let region = Region {
        name: name.map(|s| s.value).unwrap_or_default(),
        slug: slug.map(|s| s.value).unwrap_or_default(),
        base_url: base_url
            .map(|s| s.value.trim_end_matches('/').to_string())
            .unwrap_or_default(),
        language: language.map(|s| s.value).unwrap_or_default(),
        description: f.str("description").map(|s| s.value),
        operator: f.str("operator").map(|s| s.value),
        theme: f
            .table("theme", "[theme]")
            .map(parse_theme)
            .unwrap_or_default(),
        login: f.table("login", "[login]").and_then(parse_login),
        feedback_portal: feedback_portal.map(|p| p.value),
        payment: payment_fields.and_then(parse_payment_provider),
        office_login: f
            .table("office_login", "[office_login]")
            .and_then(parse_office_login),
        appointment_weeks: f
            .table("appointments", "[appointments]")
            .and_then(super::appointments::parse_region_appointments),
    };
    f.finish();
    let locs = RegionLocs {
        feedback_portal: feedback_loc,
        payment: payment_loc,
    };
    Some((region, locs))
}

fn check_base_url(url: &Located<String>, diags: &Diagnostics) {
    if !(url.value.starts_with("https://") || url.value.starts_with("http://")) {
        diags.error(
            url.loc.clone(),
            "`base_url` must be an absolute http(s) address",
        );
    }
}

/// A `[payment]` table of portal.toml or region.toml: an XBezahldienste 1.0 provider.
/// `None` when a key is missing or invalid (reported).
fn parse_payment_provider(mut f: Fields<'_, '_, '_>) -> Option<PaymentProvider> {
    let diags = f.diags();
    let base_url = f.required_str("base_url");
    let originator_id = f.required_str("originator_id");
    let endpoint_id = f.required_str("endpoint_id");
    let token_url = f.str("token_url");
    let client_id = f.str("client_id");
    f.finish();

    let mut valid = true;
    for (key, url) in [("base_url", &base_url), ("token_url", &token_url)] {
        let Some(url) = url else { continue };
        match http_host(&url.value) {
            None => {
                diags.error(
                    url.loc.clone(),
                    format!("`{key}` must be an absolute http(s) address"),
                );
                valid = false;
            }
            Some(host) if url.value.starts_with("http://") && !is_loopback(host) => {
                diags.warning(
                    url.loc.clone(),
                    format!(
                        "`{key}` is not https: payments and credentials would cross the network unencrypted (http:// is for a test provider on this computer only)"
                    ),
                );
            }
            Some(_) => {}
        }
    }
    for (key, id) in [
        ("originator_id", &originator_id),
        ("endpoint_id", &endpoint_id),
    ] {
        if let Some(id) = id {
            if !id.value.bytes().all(is_unreserved) {
                diags.error(
                    id.loc.clone(),
                    format!(
                        "`{key}` is a part of the provider's addresses: use only letters, digits, `-`, `_`, `.` and `~`, found `{}`",
                        id.value
                    ),
                );
                valid = false;
            }
        }
    }
    match (&token_url, &client_id) {
        (Some(set), None) | (None, Some(set)) => {
            let (key, missing) = if token_url.is_some() {
                ("token_url", "client_id")
            } else {
                ("client_id", "token_url")
            };
            diags.error(
                set.loc.clone(),
                format!(
                    "`{key}` needs `{missing}` too: OAuth2 client credentials take both (or leave out both)"
                ),
            );
            valid = false;
        }
        _ => {}
    }
    if let Some(id) = client_id.as_ref().filter(|c| c.value.is_empty()) {
        diags.error(id.loc.clone(), "`client_id` must not be empty");
        valid = false;
    }
    if !valid {
        return None;
    }
    Some(PaymentProvider {
        base_url: base_url?.value.trim_end_matches('/').to_string(),
        originator_id: originator_id?.value,
        endpoint_id: endpoint_id?.value,
        token_url: token_url.map(|u| u.value),
        client_id: client_id.map(|c| c.value),
    })
}

/// A character allowed unescaped in a path segment (RFC 3986 "unreserved").
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// The host of an absolute http(s) address (`[::1]` without brackets), `None` for
/// anything else.
fn http_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    (!host.is_empty() && !host.contains('@')).then_some(host)
}

/// This computer: `localhost`, `127.x.x.x`, `::1`.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn parse_login(mut f: Fields<'_, '_, '_>) -> Option<LoginConfig> {
    let issuer = f.required_str("issuer");
    let client_id = f.required_str("client_id");
    let acr = f.table("acr", "[login.acr]").map(|mut acr| {
        let defaults = AcrMap::default();
        let map = AcrMap {
            low: acr.str("low").map_or(defaults.low, |s| s.value),
            substantial: acr
                .str("substantial")
                .map_or(defaults.substantial, |s| s.value),
            high: acr.str("high").map_or(defaults.high, |s| s.value),
        };
        acr.finish();
        map
    });
    f.finish();
    Some(LoginConfig {
        issuer: issuer?.value,
        client_id: client_id?.value,
        acr: acr.unwrap_or_default(),
    })
}

/// `[office_login]`: the staff's provider. The claim must be a plain claim name.
fn parse_office_login(mut f: Fields<'_, '_, '_>) -> Option<OfficeLoginConfig> {
    let issuer = f.required_str("issuer");
    let client_id = f.required_str("client_id");
    let claim = f.str("offices_claim");
    if let Some(claim) = &claim {
        let plain = !claim.value.is_empty()
            && claim.value.len() <= 64
            && claim.value.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/')
            });
        if !plain {
            f.diags().error(
                claim.loc.clone(),
                format!(
                    "`offices_claim` must be a claim name like `{DEFAULT_OFFICES_CLAIM}`, found `{}`",
                    claim.value
                ),
            );
        }
    }
    if let Some(issuer) = &issuer {
        let loopback_http = issuer.value.starts_with("http://")
            && http_host(&issuer.value).is_some_and(is_loopback);
        if !(issuer.value.starts_with("https://") || loopback_http) {
            f.diags().error(
                issuer.loc.clone(),
                "`issuer` must be an https address (http only on 127.0.0.1 or localhost)",
            );
        }
    }
    f.finish();
    Some(OfficeLoginConfig {
        issuer: issuer?.value,
        client_id: client_id?.value,
        offices_claim: claim.map_or_else(|| DEFAULT_OFFICES_CLAIM.to_string(), |c| c.value),
    })
}

fn parse_theme(mut f: Fields<'_, '_, '_>) -> Theme {
    let primary = f.str("primary");
    if let Some(p) = &primary {
        match parse_hex_color(&p.value) {
            None => f.diags().error(
                p.loc.clone(),
                format!(
                    "`primary` must be a colour like `#00639c`, found `{}`",
                    p.value
                ),
            ),
            Some(rgb) => {
                let ratio = contrast_ratio(rgb, [255, 255, 255]);
                if ratio < 4.5 {
                    f.diags().error(
                        p.loc.clone(),
                        format!(
                            "`primary` {} has a contrast of {ratio:.2}:1 against white; at least 4.5:1 is needed for readable text (WCAG 1.4.3)",
                            p.value
                        ),
                    );
                }
            }
        }
    }
    let theme = Theme {
        primary: primary.map(|p| p.value),
        logo: f.str("logo").map(|s| s.value),
    };
    f.finish();
    theme
}

/// Parses `#rrggbb` (or `#rgb`).
pub fn parse_hex_color(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    let expanded: String = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        6 => hex.to_string(),
        _ => return None,
    };
    let value = u32::from_str_radix(&expanded, 16).ok()?;
    Some([(value >> 16) as u8, (value >> 8) as u8, value as u8])
}

/// WCAG 2.1 contrast ratio between two sRGB colours.
pub fn contrast_ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    fn luminance(rgb: [u8; 3]) -> f64 {
        let channel = |c: u8| {
            let c = c as f64 / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])
    }
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// Categories in file order, with where each id was written.
pub fn parse_categories(src: &SourceText, diags: &Diagnostics) -> Vec<(Category, Loc)> {
    let doc = TomlDoc { src, base: 0 };
    let Some(table) = doc.parse(&src.text, diags) else {
        return Vec::new();
    };
    let mut f = Fields::new(&table, "categories.toml", &doc, diags);
    let mut seen: HashMap<String, Loc> = HashMap::new();
    let mut out = Vec::new();
    for mut entry in f.tables("categories", "[[categories]]") {
        let id = entry.required_str("id");
        let title = entry.required_str("title");
        let description = entry.str("description").map(|s| s.value);
        entry.finish();
        let (Some(id), Some(title)) = (id, title) else {
            continue;
        };
        if !lotse_model::slug::is_slug(&id.value) {
            diags.error(
                id.loc.clone(),
                format!(
                    "category id `{}` must be a slug (lowercase a-z, 0-9 and -), e.g. `{}`",
                    id.value,
                    lotse_model::slugify(&id.value)
                ),
            );
            continue;
        }
        if let Some(first) = seen.get(&id.value) {
            diags.error(
                id.loc.clone(),
                format!(
                    "duplicate category id `{}` (first defined at {first})",
                    id.value
                ),
            );
            continue;
        }
        seen.insert(id.value.clone(), id.loc.clone());
        out.push((
            Category {
                id: id.value,
                title: title.value,
                description,
            },
            id.loc,
        ));
    }
    if !f.has("categories") {
        diags.error(src.start(), "categories.toml defines no `[[categories]]`");
    }
    f.finish();
    out
}

/// A portal with the positions of its office ids, for messages about them.
pub struct PortalConfig {
    pub portal: Portal,
    pub office_locs: HashMap<String, Loc>,
    pub logo_loc: Option<Loc>,
    /// The `[payment]` table, also when it was invalid (and so left out of the portal).
    pub payment_loc: Option<Loc>,
}

pub fn parse_portal(src: &SourceText, slug: String, diags: &Diagnostics) -> Option<PortalConfig> {
    let doc = TomlDoc { src, base: 0 };
    let table = doc.parse(&src.text, diags)?;
    let mut f = Fields::new(&table, "portal.toml", &doc, diags);
    let name = f.required_str("name");
    let short_name = f.required_str("short_name");
    let kind = f.required_str("kind").and_then(|k| match k.value.as_str() {
        "city" => Some(PortalKind::City),
        "district" => Some(PortalKind::District),
        other => {
            diags.error(
                k.loc.clone(),
                format!("unknown portal kind `{other}`; expected `city` or `district`"),
            );
            None
        }
    });
    let base_url = f.str("base_url");
    if let Some(url) = &base_url {
        check_base_url(url, diags);
    }
    let description = f.str("description").map(|s| s.value);
    let feedback_office = f.str("feedback_office");
    let theme_fields = f.table("theme", "[theme]");
    let logo_loc = theme_fields
        .as_ref()
        .filter(|t| t.has("logo"))
        .map(|t| t.loc().clone());
    let theme = theme_fields.map(parse_theme).unwrap_or_default();
    let payment_fields = f.table("payment", "[payment]");
    let payment_loc = payment_fields.as_ref().map(|p| p.loc().clone());
    let payment = payment_fields.and_then(parse_payment_provider);

    let mut office_locs = HashMap::new();
    let mut offices = Vec::new();
    for mut entry in f.tables("offices", "[[offices]]") {
        let id = entry.required_str("id");
        let office_name = entry.required_str("name");
        let public_key = entry.str("public_key");
        let appointments = super::appointments::parse_office_hours(&mut entry);
        let office = Office {
            id: String::new(),
            name: String::new(),
            email: entry.str("email").map(|s| s.value),
            phone: entry.str("phone").map(|s| s.value),
            address: entry.str("address").map(|s| s.value),
            hours: entry.text_list("hours").unwrap_or_default(),
            public_key: public_key.as_ref().map(|k| k.value.clone()),
            appointments,
        };
        entry.finish();
        if let Some(key) = &public_key {
            if decode_base64_len(&key.value) != Some(32) {
                diags.error(
                    key.loc.clone(),
                    "`public_key` must be a 32-byte X25519 public key in base64 (as printed by `lotse keys new`)",
                );
            }
        }
        let (Some(id), Some(office_name)) = (id, office_name) else {
            continue;
        };
        if !lotse_model::slug::is_slug(&id.value) {
            diags.error(
                id.loc.clone(),
                format!(
                    "office id `{}` must be a slug (lowercase a-z, 0-9 and -)",
                    id.value
                ),
            );
        }
        if let Some(first) = office_locs.get(&id.value) {
            diags.error(
                id.loc.clone(),
                format!(
                    "duplicate office id `{}` (first defined at {first})",
                    id.value
                ),
            );
            continue;
        }
        office_locs.insert(id.value.clone(), id.loc.clone());
        offices.push(Office {
            id: id.value,
            name: office_name.value,
            ..office
        });
    }
    f.finish();
    if let Some(id) = &feedback_office {
        match offices.iter().find(|o| o.id == id.value) {
            None => diags.error(
                id.loc.clone(),
                format!(
                    "`feedback_office` names no office of this portal: `{}`{}",
                    id.value,
                    crate::diagnostics::hint(
                        &id.value,
                        &offices.iter().map(|o| o.id.as_str()).collect::<Vec<_>>()
                    )
                ),
            ),
            Some(o) if o.public_key.is_none() => diags.error(
                id.loc.clone(),
                format!(
                    "office `{}` has no `public_key`, so it cannot receive feedback",
                    id.value
                ),
            ),
            Some(_) => {}
        }
    }
    Some(PortalConfig {
        portal: Portal {
            slug,
            name: name?.value,
            short_name: short_name?.value,
            kind: kind?,
            base_url: base_url.map(|u| u.value.trim_end_matches('/').to_string()),
            description,
            theme,
            offices,
            feedback_office: feedback_office.map(|id| id.value),
            payment,
        },
        office_locs,
        logo_loc,
        payment_loc,
    })
}

/// Length in bytes of standard base64 text, or `None` when it is not valid base64.
fn decode_base64_len(s: &str) -> Option<usize> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .map(|bytes| bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_wcag_examples() {
        assert!((contrast_ratio([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 0.01);
        assert!(contrast_ratio([0x76, 0x76, 0x76], [255, 255, 255]) >= 4.5);
        assert!(contrast_ratio([0x77, 0x77, 0x77], [255, 255, 255]) < 4.5);
    }

    #[test]
    fn parses_hex_colours() {
        assert_eq!(parse_hex_color("#00639c"), Some([0, 0x63, 0x9c]));
        assert_eq!(parse_hex_color("#fff"), Some([255, 255, 255]));
        assert_eq!(parse_hex_color("00639c"), None);
        assert_eq!(parse_hex_color("#12345"), None);
    }

    #[test]
    fn payment_addresses_need_a_host_and_http_only_to_this_computer() {
        assert_eq!(http_host("https://pay.example/api"), Some("pay.example"));
        assert_eq!(http_host("http://127.0.0.1:8090"), Some("127.0.0.1"));
        assert_eq!(http_host("http://[::1]:8090/x"), Some("::1"));
        assert_eq!(http_host("http://"), None);
        assert_eq!(http_host("https://user@pay.example"), None);
        assert_eq!(http_host("ftp://pay.example"), None);
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("LOCALHOST"));
        assert!(!is_loopback("127.pay.example") && !is_loopback("10.0.0.1"));
    }

    #[test]
    fn measures_base64_keys() {
        assert_eq!(
            decode_base64_len("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            Some(32)
        );
        assert_eq!(decode_base64_len("not base64!"), None);
        // empty text is valid base64 of zero bytes; the caller rejects any length but 32
        assert_eq!(decode_base64_len(""), Some(0));
    }
}
