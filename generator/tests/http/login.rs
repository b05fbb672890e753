//! Login with the certified `oidc-provider` (npm) on loopback, through the real redirect
//! chain, against a running Lotse server.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Answer, Client};

pub const CLIENT_ID: &str = "lotse-emscher-lippe";
pub const CLIENT_SECRET: &str = "suite-client-secret-0123456789abcdef";
/// Two 32-byte keys, base64: current and previous.
pub const SESSION_SECRET: &str =
    "bG90c2Utc3VpdGUtc2Vzc2lvbi1rZXktMDEyMzQ1Njc=,bG90c2Utc3VpdGUtcHJldmlvdXMta2V5LTAxMjM0NTY=";

/// The account secret (base64 of 32 bytes), which links applications to Mein Postfach.
pub const ACCOUNT_SECRET: &str = "bG90c2Utc3VpdGUtYWNjb3VudC1rZXktMDEyMzQ1Njc=";

pub use crate::common::servers::Provider;

/// Starts the provider for a site whose callback is `redirect_uri`. `force_acr` makes
/// every login happen at that level, whatever was asked for.
pub fn start_provider(redirect_uri: &str, force_acr: Option<&str>) -> Provider {
    crate::common::servers::start_provider(CLIENT_ID, CLIENT_SECRET, redirect_uri, force_acr)
}

/// Cookies by name, for one origin (enough for these flows).
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn take(&mut self, answer: &Answer) {
        for (name, value) in &answer.headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                let pair = value.split(';').next().unwrap_or("");
                if let Some((k, v)) = pair.split_once('=') {
                    if v.is_empty() || value.to_ascii_lowercase().contains("max-age=0") {
                        self.0.remove(k.trim());
                    } else {
                        self.0.insert(k.trim().to_string(), v.trim().to_string());
                    }
                }
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A citizen's browser: the site's cookies and the provider's cookies apart.
pub struct Browser<'a> {
    site: &'a Client,
    site_jar: Jar,
    provider_jar: Jar,
}

impl<'a> Browser<'a> {
    pub fn new(site: &'a Client) -> Self {
        Browser {
            site,
            site_jar: Jar::default(),
            provider_jar: Jar::default(),
        }
    }

    pub fn cookie(&self) -> String {
        self.site_jar.header()
    }

    pub fn get(&mut self, path: &str) -> Answer {
        let cookie = self.site_jar.header();
        let answer = self
            .site
            .get(path, &[("cookie", &cookie), ("accept", "text/html")]);
        self.site_jar.take(&answer);
        answer
    }

    /// Starts a login and follows the provider's redirects until it sends the browser
    /// back to the site's callback; returns that callback path (not yet visited).
    pub fn login_until_callback(&mut self, query: &str) -> String {
        let start = self.get(&format!("/api/login?{query}"));
        assert_eq!(start.status, 303, "{}", start.body);
        assert!(start
            .header("set-cookie")
            .is_some_and(|c| c.contains("HttpOnly") && c.contains("SameSite=Lax")));
        let mut location = start.header("location").unwrap().to_string();
        for _ in 0..10 {
            if location.starts_with(&self.site.base) || location.starts_with("/api/callback") {
                return location.trim_start_matches(&self.site.base).to_string();
            }
            let provider = Client::new(&origin(&location));
            let path = location.trim_start_matches(&provider.base).to_string();
            let cookie = self.provider_jar.header();
            let answer = provider.get(&path, &[("cookie", &cookie)]);
            self.provider_jar.take(&answer);
            assert!(
                (300..400).contains(&answer.status),
                "provider answered {}: {}",
                answer.status,
                answer.body
            );
            let next = answer.header("location").unwrap().to_string();
            location = if next.starts_with('/') {
                format!("{}{next}", provider.base)
            } else {
                next
            };
        }
        panic!("the provider did not send the browser back");
    }

    /// A full login; returns where the site sent the browser afterwards.
    pub fn login(&mut self, query: &str) -> String {
        let callback = self.login_until_callback(query);
        let back = self.get(&callback);
        assert_eq!(back.status, 303, "callback: {}", back.body);
        assert!(
            self.site_jar.0.contains_key("lotse_session"),
            "session cookie set"
        );
        assert!(
            !self.site_jar.0.contains_key("lotse_login"),
            "login cookie cleared"
        );
        back.header("location").unwrap().to_string()
    }
}

fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    format!("{scheme}://{}", rest.split('/').next().unwrap())
}

fn gewerbe(fields: serde_json::Value) -> serde_json::Value {
    json!({"portal": "bottrop", "service": "gewerbe-anmelden", "fields": fields})
}

/// The whole citizen path with login, and the refusals, against one server.
pub fn flow(site: &Client) {
    let schema: serde_json::Value =
        serde_json::from_str(&site.get("/forms/bottrop/gewerbe-anmelden.json", &[]).body).unwrap();
    assert_eq!(schema["login"], "substantial");
    let fields = super::cases::valid_fields_for(&schema);

    // Not logged in: 401.
    assert_eq!(
        site.post_json("/api/applications", &[], &gewerbe(fields.clone()))
            .status,
        401
    );

    // Logged in at `substantial`: back to the form, the application is accepted and is
    // in the mailbox.
    let mut browser = Browser::new(site);
    let back =
        browser.login("portal=bottrop&return=%2Fbottrop%2Fgewerbe-anmelden%2F&level=substantial");
    assert_eq!(back, "/bottrop/gewerbe-anmelden/");
    let session = site
        .get("/api/session", &[("cookie", &browser.cookie())])
        .json();
    assert_eq!(session["logged_in"], true);
    assert_eq!(session["level"], "substantial");
    assert_eq!(session["given_name"], "Erika");
    let cookie = browser.cookie();
    let accepted = site.post_json(
        "/api/applications",
        &[("cookie", &cookie)],
        &gewerbe(fields.clone()),
    );
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    let id = accepted.json()["id"].as_str().unwrap().to_string();
    let mailbox = site.get("/api/applications", &[("cookie", &cookie)]);
    assert_eq!(mailbox.status, 200);
    assert!(mailbox.json()["applications"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == id.as_str()));
    let page = browser.get("/api/postfach?portal=bottrop");
    assert!(
        page.body.contains(&id),
        "Mein Postfach lists the application"
    );
    assert_eq!(site.get("/api/applications", &[]).status, 401);

    // A tampered session cookie is no session.
    let tampered = cookie.replacen("lotse_session=", "lotse_session=x", 1);
    assert_eq!(
        site.post_json(
            "/api/applications",
            &[("cookie", &tampered)],
            &gewerbe(fields.clone())
        )
        .status,
        401
    );

    // A foreign return address is refused before anything else happens.
    for bad in [
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fevil.example%2F",
        "javascript%3Aalert(1)",
    ] {
        let answer = site.get(
            &format!("/api/login?portal=bottrop&return={bad}&level=low"),
            &[],
        );
        assert_eq!(answer.status, 400, "return={bad}");
    }

    // Wrong state: the callback is refused.
    let mut other = Browser::new(site);
    let callback = other.login_until_callback("portal=bottrop&level=low");
    let forged = callback.replacen("state=", "state=x", 1);
    assert!(other.get(&forged).status >= 400);
    // Missing state: refused too.
    let mut fourth = Browser::new(site);
    let callback = fourth.login_until_callback("portal=bottrop&level=low");
    let (path, query) = callback.split_once('?').unwrap();
    let without_state: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with("state="))
        .collect();
    assert!(
        fourth
            .get(&format!("{path}?{}", without_state.join("&")))
            .status
            >= 400
    );
    assert!(!fourth.cookie().contains("lotse_session"));
    let mut third = Browser::new(site);
    let callback = third.login_until_callback("portal=bottrop&level=low");
    let login_cookie = third.cookie();
    assert_eq!(third.get(&callback).status, 303);
    // Replaying the same code with the same login cookie is refused.
    let replay = site.get(&callback, &[("cookie", &login_cookie)]);
    assert!(replay.status >= 400, "replayed code: {}", replay.status);

    // Logout ends the session.
    let out = site.request("POST", "/api/logout", &[("cookie", &cookie)], None);
    assert_eq!(out.status, 200);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
}

/// With the provider forcing `low`, a service that needs `substantial` answers 403.
pub fn too_low(site: &Client) {
    let schema: serde_json::Value =
        serde_json::from_str(&site.get("/forms/bottrop/gewerbe-anmelden.json", &[]).body).unwrap();
    let fields = super::cases::valid_fields_for(&schema);
    let mut browser = Browser::new(site);
    browser.login("portal=bottrop&level=low");
    let answer = site.post_json(
        "/api/applications",
        &[("cookie", &browser.cookie())],
        &gewerbe(fields),
    );
    assert_eq!(answer.status, 403, "{}", answer.body);
}

/// ID tokens the provider signs wrongly (or not at all), or with the wrong claims: the
/// callback refuses every one and no session is set.
pub fn token_refusals(site: &Client, provider: &Provider) {
    let control = Client::new(&provider.issuer);
    for mode in ["none", "hs256", "expired", "audience", "issuer", "nonce"] {
        assert_eq!(control.get(&format!("/__mischief/{mode}"), &[]).status, 204);
        let mut browser = Browser::new(site);
        let callback = browser.login_until_callback("portal=bottrop&level=low");
        let answer = browser.get(&callback);
        assert!(
            answer.status >= 400,
            "{mode}: callback answered {}",
            answer.status
        );
        assert!(
            !browser.cookie().contains("lotse_session"),
            "{mode}: no session"
        );
    }
    assert_eq!(control.get("/__mischief/off", &[]).status, 204);
}
