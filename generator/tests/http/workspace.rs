//! The caseworkers' workspace over HTTP (docs/workspace.md), on every runtime: staff log
//! in through the real OpenID provider (tests/oidc-provider, its workspace client and
//! staff accounts), the staff session and its cookie, the office API for exactly the
//! offices of the `lotse_offices` claim (another office's inbox 403, another office's
//! application 404 as an unknown one), the site-only rule for changes, pages and filters
//! of the list, the counts, the export, and the audit log (who, what, never the text).
//! The office bearer token still works for machines and is recorded as `token`.
//!
//! Readings of the contract where docs/workspace.md leaves a detail open are marked
//! "Reading:" below.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::cases::{submit, valid_fields_for, walk, MARKER};
use super::server::{OFFICE_TOKEN, OTHER_OFFICE_TOKEN};
use super::{login, Answer, Client};
use crate::common::servers::{start_provider_with_staff, Provider, StaffClient};

/// The workspace's client at the provider; `[office_login] client_id` in region.toml.
pub const STAFF_CLIENT_ID: &str = "lotse-arbeitsplatz";
pub const STAFF_CLIENT_SECRET: &str = "suite-staff-client-secret-0123456789abcdef";
/// Two 32-byte keys, base64: current and previous (other keys than the citizens').
pub const STAFF_SESSION_SECRET: &str =
    "bG90c2Utc3VpdGUtc3RhZmYta2V5LWN1cnJlbnQtMDE=,bG90c2Utc3VpdGUtc3RhZmYta2V5LXByZXZpb3VzLTA=";
/// After a rotation: a new current key, the former current one as previous.
pub const ROTATED_STAFF_SESSION_SECRET: &str =
    "bG90c2Utc3VpdGUtc3RhZmYta2V5LXJvdGF0ZWQtMDI=,bG90c2Utc3VpdGUtc3RhZmYta2V5LWN1cnJlbnQtMDE=";

const BOTTROP: &str = "bottrop/buergerbuero";
const GELSENKIRCHEN: &str = "gelsenkirchen/buergerbuero";
/// Words that must never reach the audit log or rest readable in the state.
const NOTE: &str = "Vermerkprobe: Ausweis liegt vor";
const STAFF_TEXT: &str = "Amtsnachrichtprobe: bitte Foto nachreichen";
const FILE_NAME: &str = "dateinamenprobe.png";
/// Bytes that start like a PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR Arbeitsplatz-Foto";

/// The provider with both clients: the citizens' (`login::CLIENT_ID`) and the
/// workspace's, for a site on `port`.
pub fn start_provider(port: u16) -> Provider {
    let staff_callback = format!("http://127.0.0.1:{port}/api/amt/callback");
    start_provider_with_staff(
        login::CLIENT_ID,
        login::CLIENT_SECRET,
        &format!("http://127.0.0.1:{port}/api/callback"),
        None,
        Some(&StaffClient {
            client_id: STAFF_CLIENT_ID,
            client_secret: STAFF_CLIENT_SECRET,
            redirect_uri: &staff_callback,
        }),
    )
}

/// `lotse serve`'s environment for citizen and staff login against `provider`, with
/// the staff session keys `staff_secret` (`None`: random ones per process).
pub fn serve_env(provider: &Provider, staff_secret: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("LOTSE_OIDC_ISSUER", provider.issuer.clone()),
        ("LOTSE_OIDC_CLIENT_SECRET", login::CLIENT_SECRET.into()),
        ("LOTSE_SESSION_SECRET", login::SESSION_SECRET.into()),
        ("LOTSE_ACCOUNT_SECRET", login::ACCOUNT_SECRET.into()),
        ("LOTSE_OFFICE_OIDC_ISSUER", provider.issuer.clone()),
        (
            "LOTSE_OFFICE_OIDC_CLIENT_SECRET",
            STAFF_CLIENT_SECRET.into(),
        ),
    ];
    if let Some(secret) = staff_secret {
        env.push(("LOTSE_STAFF_SESSION_SECRET", secret.into()));
    }
    env
}

/// The worker's variables for the same (scripts/worker-dev.sh passes them on).
/// Without `staff_secret` the staff session key is derived from the other secrets.
pub fn worker_env(provider: &Provider, staff_secret: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("OIDC_ISSUER", provider.issuer.clone()),
        ("OIDC_CLIENT_ID", login::CLIENT_ID.into()),
        ("OIDC_CLIENT_SECRET", login::CLIENT_SECRET.into()),
        ("SESSION_SECRET", login::SESSION_SECRET.into()),
        ("ACCOUNT_SECRET", login::ACCOUNT_SECRET.into()),
        ("OFFICE_OIDC_ISSUER", provider.issuer.clone()),
        ("OFFICE_OIDC_CLIENT_SECRET", STAFF_CLIENT_SECRET.into()),
    ];
    if let Some(secret) = staff_secret {
        env.push(("STAFF_SESSION_SECRET", secret.into()));
    }
    env
}

/// Borrows an environment list as the servers take it.
pub fn refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Cookies by name, for one origin.
#[derive(Default, Clone)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn take(&mut self, answer: &Answer) {
        for (name, value) in &answer.headers {
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let pair = value.split(';').next().unwrap_or("");
            let Some((k, v)) = pair.split_once('=') else {
                continue;
            };
            let lower = value.to_ascii_lowercase();
            if v.trim().is_empty() || lower.contains("max-age=0") || lower.contains("1970") {
                self.0.remove(k.trim());
            } else {
                self.0.insert(k.trim().to_string(), v.trim().to_string());
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

/// The `Set-Cookie` header of an answer that sets `name`.
fn set_cookie<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.as_str())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// A caseworker's browser: the site's cookies and the provider's apart. Requests that
/// change something carry the site's own `Origin` and `Sec-Fetch-Site: same-origin`, as
/// the workspace's scripts in a browser do.
pub struct Staff<'a> {
    site: &'a Client,
    jar: Jar,
    provider_jar: Jar,
}

impl<'a> Staff<'a> {
    fn new(site: &'a Client) -> Self {
        Staff {
            site,
            jar: Jar::default(),
            provider_jar: Jar::default(),
        }
    }

    /// The `Cookie` header the browser sends to the site.
    pub fn cookie(&self) -> String {
        self.jar.header()
    }

    /// The value of the staff session cookie.
    pub fn session_value(&self) -> String {
        self.jar.0.get("lotse_amt").cloned().unwrap_or_default()
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Answer {
        let cookie = self.jar.header();
        let origin = self.site.base.clone();
        let mut headers = vec![("cookie", cookie.as_str())];
        if method != "GET" && method != "HEAD" {
            headers.push(("origin", origin.as_str()));
            headers.push(("sec-fetch-site", "same-origin"));
        }
        headers.extend_from_slice(extra);
        let answer = self.site.request(method, path, &headers, body);
        self.jar.take(&answer);
        answer
    }

    pub fn get(&mut self, path: &str) -> Answer {
        self.request("GET", path, &[], None)
    }

    pub fn post_json(&mut self, path: &str, body: &Value) -> Answer {
        self.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        )
    }

    pub fn delete(&mut self, path: &str) -> Answer {
        self.request("DELETE", path, &[], None)
    }

    pub fn session(&mut self) -> Value {
        let answer = self.get("/api/amt/session");
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    }

    /// Starts a staff login (`query` of /api/amt/login) and follows the provider until it
    /// sends the browser back to the callback; returns that path (not yet visited).
    pub fn login_until_callback(&mut self, query: &str) -> String {
        let start = self.site.get(
            &format!("/api/amt/login?{query}"),
            &[("accept", "text/html")],
        );
        assert_eq!(start.status, 303, "/api/amt/login?{query}: {}", start.body);
        let pending = set_cookie(&start, "lotse_amt_login")
            .unwrap_or_else(|| panic!("no lotse_amt_login cookie: {:?}", start.headers));
        for attribute in ["HttpOnly", "SameSite=Lax"] {
            assert!(pending.contains(attribute), "{attribute}: {pending}");
        }
        self.jar.take(&start);
        let mut location = start.header("location").unwrap().to_string();
        assert!(
            location.contains("login_hint=") == query.contains("login_hint="),
            "login_hint is passed on: {location}"
        );
        for _ in 0..12 {
            if location.starts_with(&self.site.base) || location.starts_with("/api/amt/callback") {
                return location.trim_start_matches(&self.site.base).to_string();
            }
            let provider = Client::new(&origin(&location));
            let path = location.trim_start_matches(&provider.base).to_string();
            let cookie = self.provider_jar.header();
            let mut answer = provider.get(&path, &[("cookie", &cookie)]);
            self.provider_jar.take(&answer);
            if answer.status == 200 && answer.body.contains("/session/end/confirm") {
                // The provider ends another account's session with a self-submitting form.
                answer = self.submit_provider_form(&provider, &answer.body);
            }
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

    fn submit_provider_form(&mut self, provider: &Client, html: &str) -> Answer {
        let tags = crate::common::tags(html);
        let action = tags
            .iter()
            .find(|t| t.name == "form")
            .and_then(|t| t.get("action"))
            .expect("the provider's form has an action")
            .to_string();
        let pairs: Vec<(String, String)> = tags
            .iter()
            .filter(|t| t.name == "input")
            .filter_map(|t| Some((t.get("name")?.to_string(), t.get("value")?.to_string())))
            .collect();
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let cookie = self.provider_jar.header();
        let answer = provider.request(
            "POST",
            action.trim_start_matches(&provider.base),
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("cookie", &cookie),
            ],
            Some(body.as_bytes()),
        );
        self.provider_jar.take(&answer);
        answer
    }

    /// A whole staff login; the callback's answer.
    pub fn login(&mut self, query: &str) -> Answer {
        let callback = self.login_until_callback(query);
        let answer = self.site.get(
            &callback,
            &[("cookie", &self.jar.header()), ("accept", "text/html")],
        );
        self.jar.take(&answer);
        answer
    }
}

fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    format!("{scheme}://{}", rest.split('/').next().unwrap())
}

/// Logs `hint` in and checks the callback: 303 to `/amt/`, the staff session cookie set
/// with its attributes, the pending login's cookie cleared.
pub fn logged_in<'a>(site: &'a Client, hint: &str) -> Staff<'a> {
    let mut staff = Staff::new(site);
    let back = staff.login(&format!("return=%2Famt%2F&login_hint={hint}"));
    assert_eq!(back.status, 303, "{hint}: callback: {}", back.body);
    assert_eq!(back.header("location"), Some("/amt/"), "{hint}");
    let cookie = set_cookie(&back, "lotse_amt").unwrap_or_else(|| {
        panic!("{hint}: no lotse_amt cookie: {:?}", back.headers);
    });
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{hint}: {attribute}: {cookie}");
    }
    assert!(!staff.session_value().is_empty(), "{hint}: session set");
    assert!(
        !staff.jar.0.contains_key("lotse_amt_login"),
        "{hint}: the pending login's cookie is cleared"
    );
    staff
}

/// Submits a valid application to `portal`'s `service` (its fields from the published
/// schema, the marker in the description); returns (id, token).
fn submit_to(site: &Client, portal: &str, service: &str, note: &str) -> (String, String) {
    let schema = site
        .get(&format!("/forms/{portal}/{service}.json"), &[])
        .json();
    assert_eq!(
        schema["office"], "buergerbuero",
        "{portal}/{service} goes to the Bürgerbüro"
    );
    let mut fields = valid_fields_for(&schema);
    fields["beschreibung"] = json!(format!("{MARKER} {note}"));
    let answer = site.post_json(
        "/api/applications",
        &[],
        &json!({"portal": portal, "service": service, "fields": fields}),
    );
    assert_eq!(answer.status, 201, "{portal}/{service}: {}", answer.body);
    let body = answer.json();
    (
        body["id"].as_str().unwrap().to_string(),
        body["token"].as_str().unwrap().to_string(),
    )
}

/// A multipart body of (name, file name, bytes) parts.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----lotse-workspace-Qm4Zx8";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        let disposition = match file {
            Some(file) => format!(
                "form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream"
            ),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The citizen sends a photo on application `id`; returns the attachment's id.
fn citizen_sends_a_photo(site: &Client, id: &str, token: &str) -> String {
    let (content_type, body) = multipart(&[
        ("text", None, b"Anbei das Foto."),
        ("file", Some(FILE_NAME), PNG),
    ]);
    let auth = format!("Bearer {token}");
    let sent = site.request(
        "POST",
        &format!("/api/applications/{id}/messages"),
        &[("content-type", &content_type), ("authorization", &auth)],
        Some(&body),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    let thread = site.get(
        &format!("/api/applications/{id}/messages"),
        &[("authorization", &auth)],
    );
    assert_eq!(thread.status, 200, "{}", thread.body);
    thread.json()["messages"][0]["attachments"][0]["id"]
        .as_str()
        .expect("the attachment has an id")
        .to_string()
}

fn list_path(office: &str) -> String {
    format!("/api/office/{office}/applications")
}

fn ids_of(list: &Value) -> Vec<String> {
    list["applications"]
        .as_array()
        .unwrap_or_else(|| panic!("no applications array: {list}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The applications the cases work on, on a server of their own (so that counts are
/// exact).
struct World {
    /// Bottrop's Bürgerbüro: five Fundsachen; the first has the citizen's photo.
    bottrop: Vec<(String, String)>,
    bottrop_file: String,
    /// Gelsenkirchen's Bürgerbüro: three Fundsachen and one accessibility feedback (its
    /// `feedback_office` is the Bürgerbüro); the first has the citizen's photo.
    gelsenkirchen: Vec<(String, String)>,
    gelsenkirchen_feedback: String,
    gelsenkirchen_file: String,
}

impl World {
    fn new(site: &Client) -> World {
        let bottrop: Vec<_> = (0..5)
            .map(|i| submit(site, &format!("arbeitsplatz-bottrop-{i}")))
            .collect();
        let gelsenkirchen: Vec<_> = (0..3)
            .map(|i| {
                submit_to(
                    site,
                    "gelsenkirchen",
                    "fundsache-melden",
                    &format!("arbeitsplatz-gelsenkirchen-{i}"),
                )
            })
            .collect();
        let (feedback, _) = submit_to(site, "gelsenkirchen", "barrierefreiheit", "rueckmeldung");
        let bottrop_file = citizen_sends_a_photo(site, &bottrop[0].0, &bottrop[0].1);
        let gelsenkirchen_file =
            citizen_sends_a_photo(site, &gelsenkirchen[0].0, &gelsenkirchen[0].1);
        World {
            bottrop,
            bottrop_file,
            gelsenkirchen,
            gelsenkirchen_feedback: feedback,
            gelsenkirchen_file,
        }
    }

    fn bottrop_ids(&self) -> Vec<String> {
        self.bottrop.iter().map(|(id, _)| id.clone()).collect()
    }

    fn gelsenkirchen_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .gelsenkirchen
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        ids.push(self.gelsenkirchen_feedback.clone());
        ids
    }
}

/// Without staff login configured: the login page is HTML 503 and the session answer
/// says so. For the servers of the main suite.
pub fn unconfigured(site: &Client) {
    let login = site.get(
        "/api/amt/login?return=%2Famt%2F",
        &[("accept", "text/html")],
    );
    assert_eq!(login.status, 503, "{}", login.body);
    assert!(
        login
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        login.header("content-type")
    );
    let session = site.get("/api/amt/session", &[]);
    assert_eq!(session.status, 200, "{}", session.body);
    assert_eq!(
        session.json(),
        json!({"logged_in": false, "configured": false})
    );
}

/// The session answer for each kind of claim, its lifetimes and its renewal.
pub fn sessions(site: &Client) {
    let anonymous = site.get("/api/amt/session", &[]);
    assert_eq!(anonymous.status, 200, "{}", anonymous.body);
    assert_eq!(
        anonymous.json(),
        json!({"logged_in": false, "configured": true})
    );

    let before = now_ms();
    let mut petra = logged_in(site, "petra.schulte");
    let session = petra.session();
    assert_eq!(session["logged_in"], true, "{session}");
    assert_eq!(session["name"], "Petra Schulte", "{session}");
    assert_eq!(session["offices"], json!([BOTTROP]), "{session}");
    let idle = session["idle_expires_at"]
        .as_i64()
        .expect("idle_expires_at in ms");
    let absolute = session["expires_at"].as_i64().expect("expires_at in ms");
    let after = now_ms();
    let minute = 60_000;
    assert!(
        idle >= before + 14 * minute && idle <= after + 15 * minute + 5_000,
        "idle_expires_at {idle}: 15 minutes from now ({before}..{after})"
    );
    assert!(
        absolute >= before + 10 * 60 * minute - minute
            && absolute <= after + 10 * 60 * minute + 5_000,
        "expires_at {absolute}: 10 hours from the login ({before}..{after})"
    );
    assert!(idle <= absolute);

    // Every staff request renews the session: a later request moves the idle end on,
    // never the end of the day.
    std::thread::sleep(Duration::from_millis(1_100));
    let list = petra.get(&list_path(BOTTROP));
    assert_eq!(list.status, 200, "{}", list.body);
    let renewed = set_cookie(&list, "lotse_amt")
        .unwrap_or_else(|| panic!("no renewed lotse_amt cookie: {:?}", list.headers));
    assert!(renewed.contains("HttpOnly") && renewed.contains("SameSite=Strict"));
    let later = petra.session();
    assert!(
        later["idle_expires_at"].as_i64().unwrap() >= idle + 1_000,
        "renewed: {later} after {session}"
    );
    assert_eq!(later["expires_at"], session["expires_at"], "{later}");

    // Without login_hint the provider logs in Petra Schulte; `return` is honoured.
    let mut default = Staff::new(site);
    let back = default.login("return=%2Famt%2Fprotokoll%2F");
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(back.header("location"), Some("/amt/protokoll/"));
    assert_eq!(default.session()["name"], "Petra Schulte");
    // Without `return`: the workspace's start page.
    let mut plain = Staff::new(site);
    let back = plain.login("login_hint=murat.yilmaz");
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(back.header("location"), Some("/amt/"));

    // Two offices; and a space-separated claim, one of whose ids is not <portal>/<office>,
    // is ignored.
    let mut jana = logged_in(site, "jana.kowalski");
    let session = jana.session();
    assert_eq!(session["name"], "Jana Kowalski");
    let offices: BTreeSet<&str> = session["offices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    assert_eq!(
        offices,
        BTreeSet::from([BOTTROP, "bottrop/standesamt"]),
        "{session}"
    );
    for office in [BOTTROP, "bottrop/standesamt"] {
        assert_eq!(jana.get(&list_path(office)).status, 200, "Jana: {office}");
    }
    assert_eq!(jana.get(&list_path(GELSENKIRCHEN)).status, 403);
    let mut lena = logged_in(site, "lena.berg");
    assert_eq!(
        lena.session()["offices"],
        json!(["gelsenkirchen/standesamt"])
    );
    assert_eq!(lena.get(&list_path("gelsenkirchen/standesamt")).status, 200);
    assert_eq!(lena.get(&list_path(GELSENKIRCHEN)).status, 403);

    // One provider session switching accounts: the named account logs in.
    let mut shared = Staff::new(site);
    assert_eq!(shared.login("login_hint=petra.schulte").status, 303);
    assert_eq!(shared.login("login_hint=murat.yilmaz").status, 303);
    assert_eq!(shared.session()["name"], "Murat Yilmaz");
}

/// People whose claim names no office cannot log in (403 page, no session); an
/// unknown account, a forged state and a replayed code neither.
pub fn refused_logins(site: &Client) {
    for hint in ["ohne.amt", "falsch.amt"] {
        let mut staff = Staff::new(site);
        let answer = staff.login(&format!("login_hint={hint}"));
        assert_eq!(answer.status, 403, "{hint}: {}", answer.body);
        assert!(
            answer
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{hint}: an HTML page"
        );
        assert!(staff.session_value().is_empty(), "{hint}: no staff session");
        assert_eq!(staff.session()["logged_in"], false);
    }
    // The provider refuses an unknown account (error=access_denied): a page with the
    // reason, no session.
    let mut nobody = Staff::new(site);
    let answer = nobody.login("login_hint=niemand");
    assert!(answer.status >= 400, "unknown account: {}", answer.status);
    assert!(nobody.session_value().is_empty());

    let mut forged = Staff::new(site);
    let callback = forged.login_until_callback("login_hint=petra.schulte");
    let answer = forged.site.get(
        &callback.replacen("state=", "state=x", 1),
        &[("cookie", &forged.cookie())],
    );
    assert!(answer.status >= 400, "forged state: {}", answer.status);
    assert!(set_cookie(&answer, "lotse_amt").is_none());

    let mut replayed = Staff::new(site);
    let callback = replayed.login_until_callback("login_hint=petra.schulte");
    let pending = replayed.cookie();
    let first = site.get(&callback, &[("cookie", &pending)]);
    assert_eq!(first.status, 303, "{}", first.body);
    let again = site.get(&callback, &[("cookie", &pending)]);
    assert!(again.status >= 400, "replayed code: {}", again.status);
    assert!(set_cookie(&again, "lotse_amt").is_none());

    // Reading: a foreign `return` never leads off the site (refused at the start, or
    // the login ends on a path of the site).
    for bad in ["https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example%2F"] {
        let start = site.get(
            &format!("/api/amt/login?return={bad}&login_hint=petra.schulte"),
            &[],
        );
        if start.status == 303 {
            let mut staff = Staff::new(site);
            let back = staff.login(&format!("return={bad}&login_hint=petra.schulte"));
            let location = back.header("location").unwrap_or("");
            assert!(
                location.starts_with('/') && !location.starts_with("//"),
                "return={bad} led to {location}"
            );
        } else {
            assert_eq!(start.status, 400, "return={bad}: {}", start.body);
        }
    }
}

/// What one caseworker may not see of another office: its inbox, counts and audit log
/// are 403; its application is 404 on every route, exactly as an unknown one; nothing
/// is changed. `own` is the caseworker's office, `foreign` the other; `foreign_apps` and
/// `foreign_file` are the other office's.
fn offices_apart(
    site: &Client,
    staff: &mut Staff,
    own: &str,
    own_apps: &[String],
    foreign: &str,
    foreign_apps: &[String],
    foreign_file: &str,
) {
    let list = staff.get(&list_path(own));
    assert_eq!(list.status, 200, "{own}: {}", list.body);
    let listed = ids_of(&list.json());
    for id in own_apps {
        assert!(listed.contains(id), "{own} lists {id}");
    }
    for id in foreign_apps {
        assert!(!listed.contains(id), "{own} lists {foreign}'s {id}");
    }
    for route in ["applications", "counts", "audit"] {
        let answer = staff.get(&format!("/api/office/{foreign}/{route}"));
        assert_eq!(
            answer.status, 403,
            "{own} -> {foreign} {route}: {}",
            answer.body
        );
        assert!(answer.json()["error"].is_string(), "{}", answer.body);
        for id in foreign_apps {
            assert!(!answer.body.contains(id.as_str()));
        }
    }
    // Reading: an office that does not exist is 404 as for the bearer token, or 403 as
    // any office outside the claim.
    let unknown = staff.get("/api/office/bottrop/gibt-es-nicht/applications");
    assert!(
        matches!(unknown.status, 403 | 404),
        "unknown office: {}",
        unknown.status
    );

    let id = &foreign_apps[0];
    // Every route of one application, for `target`.
    let probes = |target: &str| -> Vec<(&'static str, String, Option<Value>)> {
        let base = format!("/api/office/applications/{target}");
        vec![
            ("GET", base.clone(), None),
            ("GET", format!("{base}/messages"), None),
            ("GET", format!("{base}/attachments/{foreign_file}"), None),
            ("GET", format!("{base}/export?format=json"), None),
            ("GET", format!("{base}/export?format=print"), None),
            (
                "POST",
                format!("{base}/status"),
                Some(json!({"status": "rejected", "note": NOTE})),
            ),
            (
                "POST",
                format!("{base}/messages"),
                Some(json!({"text": STAFF_TEXT})),
            ),
            ("DELETE", base, None),
        ]
    };
    for ((method, path, body), (_, unknown_path, _)) in
        probes(id).into_iter().zip(probes("AAAA-AAAA"))
    {
        let send = |staff: &mut Staff, path: &str| match &body {
            Some(body) => staff.post_json(path, body),
            None => staff.request(method, path, &[], None),
        };
        let foreign_answer = send(staff, &path);
        assert_eq!(
            foreign_answer.status, 404,
            "{own}: {method} {path} ({foreign}'s): {}",
            foreign_answer.body
        );
        let unknown_answer = send(staff, &unknown_path);
        assert_eq!(unknown_answer.status, 404, "{method} {unknown_path}");
        assert_eq!(
            foreign_answer.json(),
            unknown_answer.json(),
            "{method} {path}: another office's application answers as an unknown one"
        );
        assert!(!foreign_answer.body.contains(MARKER));
    }
    // The other office's application is untouched and still there.
    let other_token = if foreign == GELSENKIRCHEN {
        OTHER_OFFICE_TOKEN
    } else {
        OFFICE_TOKEN
    };
    let detail = site.get(
        &format!("/api/office/applications/{id}"),
        &[("authorization", &bearer(other_token))],
    );
    assert_eq!(detail.status, 200, "{}", detail.body);
    assert_eq!(detail.json()["status"], "received", "{}", detail.body);
    let thread = site.get(
        &format!("/api/office/applications/{id}/messages"),
        &[("authorization", &bearer(other_token))],
    );
    assert_eq!(thread.json()["messages"].as_array().unwrap().len(), 1);
}

/// Tampered, forged and swapped cookies: no staff session from any, and the staff and
/// citizen sessions do not stand in for each other.
fn cookies_apart(site: &Client, petra: &mut Staff) {
    let list = list_path(BOTTROP);
    assert_eq!(site.get(&list, &[]).status, 401, "no cookie");
    let value = petra.session_value();
    assert!(value.len() > 20, "a sealed value: {value}");
    let mut tampered = value.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for (what, cookie) in [
        ("tampered", format!("lotse_amt={tampered}")),
        ("cut", format!("lotse_amt={}", &value[..value.len() - 4])),
        ("made up", "lotse_amt=eyJzdWIiOiJtYS0xMDAxIn0".to_string()),
        ("empty", "lotse_amt=".to_string()),
    ] {
        let answer = site.get(&list, &[("cookie", &cookie)]);
        assert_eq!(answer.status, 401, "{what} cookie: {}", answer.body);
        let change = site.post_json(
            "/api/office/applications/AAAA-AAAA/status",
            &[("cookie", &cookie), ("origin", &site.base)],
            &json!({"status": "completed"}),
        );
        assert_eq!(change.status, 401, "{what} cookie changes nothing");
        let session = site.get("/api/amt/session", &[("cookie", &cookie)]).json();
        assert_eq!(session["logged_in"], false, "{what}: {session}");
    }

    // The staff session is no citizen session, under either name.
    for cookie in [petra.cookie(), format!("lotse_session={value}")] {
        let session = site.get("/api/session", &[("cookie", &cookie)]).json();
        assert_eq!(session["logged_in"], false, "{cookie}: {session}");
        let mailbox = site.get("/api/applications", &[("cookie", &cookie)]);
        assert_eq!(mailbox.status, 401, "the mailbox with the staff cookie");
    }

    // The citizen's session opens no office, under either name.
    let mut citizen = login::Browser::new(site);
    citizen.login("portal=bottrop&level=low");
    let citizen_cookie = citizen.cookie();
    let citizen_value = citizen_cookie
        .split("; ")
        .find_map(|c| c.strip_prefix("lotse_session="))
        .expect("the citizen's session cookie")
        .to_string();
    for cookie in [citizen_cookie.clone(), format!("lotse_amt={citizen_value}")] {
        let answer = site.get(&list, &[("cookie", &cookie)]);
        assert_eq!(answer.status, 401, "{cookie}: {}", answer.body);
        let session = site.get("/api/amt/session", &[("cookie", &cookie)]).json();
        assert_eq!(session["logged_in"], false, "{session}");
    }
    assert_eq!(
        site.get("/api/session", &[("cookie", &citizen_cookie)])
            .json()["logged_in"],
        true
    );
}

/// A change with the staff cookie from another site is refused before anything happens.
fn foreign_origin_refused(site: &Client, petra: &mut Staff, id: &str) {
    let cookie = petra.cookie();
    let status = format!("/api/office/applications/{id}/status");
    let messages = format!("/api/office/applications/{id}/messages");
    let delete = format!("/api/office/applications/{id}");
    for (what, headers) in [
        ("foreign Origin", vec![("origin", "https://evil.example")]),
        (
            "foreign Origin, same-origin claimed",
            vec![
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "same-origin"),
            ],
        ),
        ("cross-site fetch", vec![("sec-fetch-site", "cross-site")]),
    ] {
        let mut all = vec![
            ("cookie", cookie.as_str()),
            ("content-type", "application/json"),
        ];
        all.extend(headers.iter().copied());
        for (method, path, body) in [
            ("POST", &status, json!({"status": "rejected"}).to_string()),
            ("POST", &messages, json!({"text": STAFF_TEXT}).to_string()),
            ("DELETE", &delete, String::new()),
        ] {
            let answer = site.request(method, path, &all, Some(body.as_bytes()));
            assert_eq!(
                answer.status, 403,
                "{what}: {method} {path}: {}",
                answer.body
            );
        }
    }
    let detail = petra.get(&format!("/api/office/applications/{id}"));
    assert_eq!(detail.status, 200, "{}", detail.body);
    assert_eq!(detail.json()["status"], "received", "nothing changed");
}

/// Walks every page of `path` (which carries its query, with `limit`); the ids in order.
fn all_pages(staff: &mut Staff, path: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let page_path = match &cursor {
            Some(c) => format!(
                "{path}&cursor={}",
                form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            ),
            None => path.to_string(),
        };
        let page = staff.get(&page_path);
        assert_eq!(page.status, 200, "{page_path}: {}", page.body);
        let page = page.json();
        ids.extend(ids_of(&page));
        match &page["next"] {
            Value::Null => return ids,
            Value::String(next) => cursor = Some(next.clone()),
            other => panic!("{page_path}: next is {other}"),
        }
    }
    panic!("{path}: more than 100 pages");
}

/// Pages (`limit`, `cursor`, `order`) and filters (`status`, `service`, `id`) of the list,
/// and the counts.
fn pages_filters_counts(petra: &mut Staff, murat: &mut Staff, world: &World) {
    let everything = petra.get(&list_path(BOTTROP));
    assert_eq!(everything.status, 200);
    let everything = everything.json();
    let oldest_first = ids_of(&everything);
    assert_eq!(oldest_first.len(), world.bottrop.len(), "{everything}");
    assert_eq!(sorted(&oldest_first), sorted(&world.bottrop_ids()));
    // Oldest first: by the time of receipt (to the second), then by id.
    let keys: Vec<(String, String)> = everything["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["created_at"].as_str().unwrap().to_string(),
                a["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {keys:?}"
    );

    for limit in [1, 2, 3, 100] {
        let paged = all_pages(petra, &format!("{}?limit={limit}", list_path(BOTTROP)));
        assert_eq!(paged, oldest_first, "limit={limit}");
    }
    let first = petra.get(&format!("{}?limit=2", list_path(BOTTROP))).json();
    assert_eq!(ids_of(&first).len(), 2);
    assert!(first["next"].is_string(), "{first}");
    let newest = all_pages(
        petra,
        &format!("{}?limit=2&order=newest", list_path(BOTTROP)),
    );
    let mut reversed = oldest_first.clone();
    reversed.reverse();
    assert_eq!(newest, reversed, "order=newest");
    // Reading: a limit outside 1..100 and a cursor the server did not hand out are 400.
    for bad in [
        "limit=0",
        "limit=101",
        "limit=zwei",
        "limit=2&cursor=kein-cursor",
    ] {
        let answer = petra.get(&format!("{}?{bad}", list_path(BOTTROP)));
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
    }
    // A cursor of another office's list shows nothing of that office.
    let theirs = murat
        .get(&format!("{}?limit=1", list_path(GELSENKIRCHEN)))
        .json();
    if let Some(next) = theirs["next"].as_str() {
        let answer = petra.get(&format!(
            "{}?limit=1&cursor={}",
            list_path(BOTTROP),
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ));
        for id in world.gelsenkirchen_ids() {
            assert!(!answer.body.contains(&id), "{}", answer.body);
        }
    }

    // Statuses set by Petra: 0 in progress, 1 needs info, 2 completed.
    let ids = world.bottrop_ids();
    for (id, status) in [
        (&ids[0], "in_progress"),
        (&ids[1], "needs_info"),
        (&ids[2], "completed"),
    ] {
        let set = petra.post_json(
            &format!("/api/office/applications/{id}/status"),
            &json!({"status": status}),
        );
        assert_eq!(set.status, 200, "{status}: {}", set.body);
    }
    let filtered = all_pages(
        petra,
        &format!("{}?limit=1&status=received,in_progress", list_path(BOTTROP)),
    );
    let expected: Vec<String> = oldest_first
        .iter()
        .filter(|id| [&ids[0], &ids[3], &ids[4]].contains(id))
        .cloned()
        .collect();
    assert_eq!(filtered, expected, "status=received,in_progress");
    // Reading: filters come with pages ("without `limit`: every application"); the
    // filtered page of completed ones.
    let completed = petra
        .get(&format!(
            "{}?limit=100&status=completed",
            list_path(BOTTROP)
        ))
        .json();
    assert_eq!(ids_of(&completed), vec![ids[2].clone()], "{completed}");
    let by_id = petra
        .get(&format!("{}?limit=10&id={}", list_path(BOTTROP), ids[3]))
        .json();
    assert_eq!(ids_of(&by_id), vec![ids[3].clone()], "{by_id}");
    assert!(by_id["next"].is_null());
    // Another office's Vorgangsnummer is not found in one's own list.
    let foreign = petra
        .get(&format!(
            "{}?limit=10&id={}",
            list_path(BOTTROP),
            world.gelsenkirchen[0].0
        ))
        .json();
    assert_eq!(ids_of(&foreign), Vec::<String>::new(), "{foreign}");
    let service = murat
        .get(&format!(
            "{}?limit=10&service=barrierefreiheit",
            list_path(GELSENKIRCHEN)
        ))
        .json();
    assert_eq!(
        ids_of(&service),
        vec![world.gelsenkirchen_feedback.clone()],
        "{service}"
    );
    let fundsachen = all_pages(
        murat,
        &format!(
            "{}?limit=2&service=fundsache-melden",
            list_path(GELSENKIRCHEN)
        ),
    );
    let theirs = ids_of(&murat.get(&list_path(GELSENKIRCHEN)).json());
    let expected: Vec<String> = theirs
        .into_iter()
        .filter(|id| *id != world.gelsenkirchen_feedback)
        .collect();
    assert_eq!(fundsachen, expected, "service=fundsache-melden");
    assert_eq!(fundsachen.len(), 3);

    // Counts by status and by service.
    let counts = petra.get(&format!("/api/office/{BOTTROP}/counts"));
    assert_eq!(counts.status, 200, "{}", counts.body);
    let counts = counts.json();
    let count =
        |group: &str, key: &str| counts[group].get(key).and_then(Value::as_u64).unwrap_or(0);
    for (status, n) in [
        ("received", 2),
        ("in_progress", 1),
        ("needs_info", 1),
        ("completed", 1),
        ("rejected", 0),
    ] {
        assert_eq!(count("statuses", status), n, "{status}: {counts}");
    }
    assert_eq!(count("services", "fundsache-melden"), 5, "{counts}");
    let counts = murat
        .get(&format!("/api/office/{GELSENKIRCHEN}/counts"))
        .json();
    assert_eq!(counts["statuses"]["received"], 4, "{counts}");
    assert_eq!(counts["services"]["fundsache-melden"], 3, "{counts}");
    assert_eq!(counts["services"]["barrierefreiheit"], 1, "{counts}");
}

/// One application's detail (the list entry plus history) and its export.
fn detail_and_export(petra: &mut Staff, world: &World) {
    let id = &world.bottrop[3].0;
    let list = petra
        .get(&format!("{}?limit=10&id={id}", list_path(BOTTROP)))
        .json();
    let entry = &list["applications"][0];
    let detail = petra.get(&format!("/api/office/applications/{id}"));
    assert_eq!(detail.status, 200, "{}", detail.body);
    let detail = detail.json();
    for (key, value) in entry.as_object().unwrap() {
        assert_eq!(&detail[key], value, "detail[{key}] as in the list");
    }
    let history = detail["history"].as_array().expect("history");
    assert_eq!(history[0]["status"], "received", "{detail}");
    assert!(!detail.to_string().contains(MARKER), "the detail is sealed");

    let export = petra.get(&format!("/api/office/applications/{id}/export?format=json"));
    assert_eq!(export.status, 200, "{}", export.body);
    let export = export.json();
    assert_eq!(export["application"]["id"], id.as_str(), "{export}");
    assert_eq!(export["application"]["history"], detail["history"]);
    assert!(export["messages"].is_array(), "{export}");
    assert!(!export.to_string().contains(MARKER));
    let with_photo = &world.bottrop[0].0;
    let export = petra
        .get(&format!(
            "/api/office/applications/{with_photo}/export?format=print"
        ))
        .json();
    let thread = petra
        .get(&format!("/api/office/applications/{with_photo}/messages"))
        .json();
    assert_eq!(export["messages"], thread["messages"], "{export}");
    // A caseworker's messages list names each file by its address only, never inline.
    let file = &thread["messages"][0]["attachments"][0];
    assert_eq!(file["id"], world.bottrop_file.as_str(), "{thread}");
    assert!(file["href"].is_string(), "{file}");
    assert!(
        file.get("ciphertext").is_none(),
        "no file inline for staff: {file}"
    );
    // Reading: another format is 400.
    let bad = petra.get(&format!("/api/office/applications/{id}/export?format=docx"));
    assert_eq!(bad.status, 400, "{}", bad.body);
}

fn audit_entries(staff: &mut Staff, office: &str) -> Vec<Value> {
    let answer = staff.get(&format!("/api/office/{office}/audit?limit=50"));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert!(body["next"].is_null(), "fewer than 50 entries: {body}");
    body["entries"].as_array().expect("entries").clone()
}

/// The audit log: Petra's status change, message, download and export with her subject
/// and name, the bearer token's as `token`, a deletion that keeps the entries, newest
/// first, in pages; never a note, a message, a file name or a field value.
fn audit(site: &Client, petra: &mut Staff, murat: &mut Staff, world: &World, state: &Path) {
    let id = &world.bottrop[4].0;
    let with_photo = &world.bottrop[0].0;
    let set = petra.post_json(
        &format!("/api/office/applications/{id}/status"),
        &json!({"status": "in_progress", "note": NOTE}),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    let written = petra.post_json(
        &format!("/api/office/applications/{id}/messages"),
        &json!({"text": STAFF_TEXT}),
    );
    assert_eq!(written.status, 201, "{}", written.body);
    // The file by the address the messages list names.
    let thread = petra
        .get(&format!("/api/office/applications/{with_photo}/messages"))
        .json();
    let href = thread["messages"][0]["attachments"][0]["href"]
        .as_str()
        .expect("the file's address")
        .to_string();
    let download = petra.get(href.trim_start_matches(&site.base));
    assert_eq!(download.status, 200, "{href}: {}", download.body);
    let export = petra.get(&format!("/api/office/applications/{id}/export?format=json"));
    assert_eq!(export.status, 200, "{}", export.body);
    // The machine's token: a status change, recorded as `token`.
    let by_token = site.post_json(
        &format!("/api/office/applications/{}/status", world.bottrop[3].0),
        &[("authorization", &bearer(OFFICE_TOKEN))],
        &json!({"status": "rejected", "note": NOTE}),
    );
    assert_eq!(by_token.status, 200, "{}", by_token.body);

    let entries = audit_entries(petra, BOTTROP);
    let find = |action: &str, application: &str| -> (usize, Value) {
        entries
            .iter()
            .enumerate()
            .find(|(_, e)| e["action"] == action && e["application"] == application)
            .map(|(i, e)| (i, e.clone()))
            .unwrap_or_else(|| panic!("no {action} entry for {application}: {entries:?}"))
    };
    let (at_status, status) = find("status", id);
    assert_eq!(status["detail"], "in_progress", "{status}");
    assert_eq!(status["actor"], "staff", "{status}");
    assert_eq!(
        status["actor_id"], "ma-1001",
        "the provider's subject: {status}"
    );
    assert_eq!(status["actor_name"], "Petra Schulte", "{status}");
    let (at_message, message) = find("message", id);
    assert_eq!(message["actor"], "staff", "{message}");
    assert_eq!(message["actor_id"], "ma-1001", "{message}");
    let (at_download, downloaded) = find("download", with_photo);
    assert_eq!(
        downloaded["detail"],
        world.bottrop_file.as_str(),
        "{downloaded}"
    );
    let (at_export, exported) = find("export", id);
    assert_eq!(exported["detail"], "json", "{exported}");
    assert_eq!(exported["actor_name"], "Petra Schulte");
    let (at_token, token) = find("status", &world.bottrop[3].0);
    assert_eq!(token["actor"], "token", "{token}");
    assert_eq!(token["detail"], "rejected");
    // Newest first.
    assert!(
        at_token < at_export
            && at_export < at_download
            && at_download < at_message
            && at_message < at_status,
        "newest first: {entries:?}"
    );
    for entry in &entries {
        for key in ["at", "actor", "action", "application"] {
            assert!(!entry[key].is_null(), "{key} in {entry}");
        }
        for other in world.gelsenkirchen_ids() {
            assert_ne!(
                entry["application"],
                other.as_str(),
                "another office's entry"
            );
        }
    }
    // Earlier in the cases: Petra's three status changes and two exports of Bottrop's.
    assert!(entries.len() >= 10, "{entries:?}");
    let text = serde_json::to_string(&entries).unwrap();
    for secret in [NOTE, STAFF_TEXT, FILE_NAME, MARKER, "Hauptbahnhof"] {
        assert!(!text.contains(secret), "the audit log holds {secret}");
    }
    // Pages of one.
    let mut paged = Vec::new();
    let mut path = format!("/api/office/{BOTTROP}/audit?limit=1");
    for _ in 0..100 {
        let page = petra.get(&path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let page = page.json();
        let list = page["entries"].as_array().unwrap();
        assert!(list.len() <= 1);
        paged.extend(list.iter().cloned());
        match page["next"].as_str() {
            Some(next) => {
                path = format!(
                    "/api/office/{BOTTROP}/audit?limit=1&cursor={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                )
            }
            None => break,
        }
    }
    assert_eq!(paged, entries, "pages of one give the same log");
    // The token reads the log too.
    let by_machine = site.get(
        &format!("/api/office/{BOTTROP}/audit?limit=50"),
        &[("authorization", &bearer(OFFICE_TOKEN))],
    );
    assert_eq!(by_machine.status, 200, "{}", by_machine.body);
    assert_eq!(by_machine.json()["entries"], json!(entries));

    // Murat: a download, a status change, then the deletion; the entries stay.
    let gone = &world.gelsenkirchen[0].0;
    let download = murat.get(&format!(
        "/api/office/applications/{gone}/attachments/{}",
        world.gelsenkirchen_file
    ));
    assert_eq!(download.status, 200, "{}", download.body);
    let set = murat.post_json(
        &format!("/api/office/applications/{gone}/status"),
        &json!({"status": "completed", "note": NOTE}),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    let deleted = murat.delete(&format!("/api/office/applications/{gone}"));
    assert!(
        (200..300).contains(&deleted.status),
        "{}: {}",
        deleted.status,
        deleted.body
    );
    assert_eq!(
        murat
            .get(&format!("/api/office/applications/{gone}"))
            .status,
        404
    );
    let entries = audit_entries(murat, GELSENKIRCHEN);
    let actions: Vec<&str> = entries
        .iter()
        .filter(|e| e["application"] == gone.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // Newest first: the deletion, then the status change, the download first of all.
    assert_eq!(actions.first(), Some(&"delete"), "{entries:?}");
    assert_eq!(actions.last(), Some(&"download"), "{entries:?}");
    assert!(actions.contains(&"status"), "{entries:?}");
    for entry in entries.iter().filter(|e| e["application"] == gone.as_str()) {
        assert_eq!(entry["actor"], "staff", "{entry}");
        assert_eq!(entry["actor_id"], "ma-1002", "{entry}");
        assert_eq!(entry["actor_name"], "Murat Yilmaz", "{entry}");
    }
    for entry in &entries {
        for other in world.bottrop_ids() {
            assert_ne!(entry["application"], other.as_str());
        }
    }
    let text = serde_json::to_string(&entries).unwrap();
    for secret in [NOTE, FILE_NAME, MARKER] {
        assert!(!text.contains(secret), "the audit log holds {secret}");
    }

    // Nothing of it rests readable in the state (database, files, the server's log).
    let mut checked = 0;
    for file in walk(state) {
        let bytes = std::fs::read(&file).unwrap();
        checked += 1;
        for needle in [NOTE, STAFF_TEXT, FILE_NAME, MARKER] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} contains {needle}",
                file.display()
            );
        }
    }
    assert!(checked > 0);
}

/// The bearer token still opens its office's API for machines, the staff session aside.
fn bearer_still_works(site: &Client, world: &World) {
    let auth = bearer(OFFICE_TOKEN);
    let list = site.get(&list_path(BOTTROP), &[("authorization", &auth)]);
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(sorted(&ids_of(&list.json())), sorted(&world.bottrop_ids()));
    let paged = site.get(
        &format!("{}?limit=2", list_path(BOTTROP)),
        &[("authorization", &auth)],
    );
    assert_eq!(paged.status, 200);
    assert_eq!(ids_of(&paged.json()).len(), 2);
    for path in [
        format!("/api/office/{BOTTROP}/counts"),
        format!("/api/office/applications/{}", world.bottrop[0].0),
    ] {
        let answer = site.get(&path, &[("authorization", &auth)]);
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    }
    // The machine's export is recorded as `token`.
    let id = &world.bottrop[1].0;
    let export = site.get(
        &format!("/api/office/applications/{id}/export?format=json"),
        &[("authorization", &auth)],
    );
    assert_eq!(export.status, 200, "{}", export.body);
    let log = site
        .get(
            &format!("/api/office/{BOTTROP}/audit?limit=1"),
            &[("authorization", &auth)],
        )
        .json();
    let newest = &log["entries"][0];
    assert_eq!(newest["action"], "export", "{log}");
    assert_eq!(newest["application"], id.as_str());
    assert_eq!(newest["actor"], "token", "{newest}");
    // So is the machine's download.
    let with_photo = &world.bottrop[0].0;
    let download = site.get(
        &format!(
            "/api/office/applications/{with_photo}/attachments/{}",
            world.bottrop_file
        ),
        &[("authorization", &auth)],
    );
    assert_eq!(download.status, 200, "{}", download.body);
    let log = site
        .get(
            &format!("/api/office/{BOTTROP}/audit?limit=1"),
            &[("authorization", &auth)],
        )
        .json();
    let newest = &log["entries"][0];
    assert_eq!(newest["action"], "download", "{log}");
    assert_eq!(newest["application"], with_photo.as_str());
    assert_eq!(newest["detail"], world.bottrop_file.as_str());
    assert_eq!(newest["actor"], "token", "{newest}");
    // Another city's token: the same refusals as before.
    let other = bearer(OTHER_OFFICE_TOKEN);
    assert_eq!(
        site.get(&list_path(BOTTROP), &[("authorization", &other)])
            .status,
        403
    );
    assert_eq!(
        site.get(
            &format!("/api/office/applications/{id}"),
            &[("authorization", &other)]
        )
        .status,
        404
    );
}

/// Logout clears the cookie; the browser has no session afterwards. (The session is a
/// sealed cookie: one kept from before the logout is not revoked by the contract; what
/// it answers is printed for the record.)
fn logout(site: &Client, staff: &mut Staff) {
    let kept = staff.cookie();
    let out = staff.request("POST", "/api/amt/logout", &[], None);
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(out.json(), json!({"logged_in": false}));
    let cleared = set_cookie(&out, "lotse_amt").expect("the logout clears the cookie");
    assert!(
        cleared.contains("Max-Age=0") || cleared.contains("1970"),
        "{cleared}"
    );
    assert!(staff.session_value().is_empty());
    assert_eq!(staff.session()["logged_in"], false);
    assert_eq!(staff.get(&list_path(BOTTROP)).status, 401);
    let replayed = site.get(&list_path(BOTTROP), &[("cookie", &kept)]);
    eprintln!(
        "workspace: a staff cookie kept from before the logout answers {}",
        replayed.status
    );
}

/// The whole workspace suite against one server with citizen and staff login.
pub fn all(site: &Client, state: &Path) {
    sessions(site);
    refused_logins(site);
    let world = World::new(site);
    let mut petra = logged_in(site, "petra.schulte");
    let mut murat = logged_in(site, "murat.yilmaz");
    offices_apart(
        site,
        &mut petra,
        BOTTROP,
        &world.bottrop_ids(),
        GELSENKIRCHEN,
        &world.gelsenkirchen_ids(),
        &world.gelsenkirchen_file,
    );
    offices_apart(
        site,
        &mut murat,
        GELSENKIRCHEN,
        &world.gelsenkirchen_ids(),
        BOTTROP,
        &world.bottrop_ids(),
        &world.bottrop_file,
    );
    cookies_apart(site, &mut petra);
    foreign_origin_refused(site, &mut petra, &world.bottrop[3].0);
    pages_filters_counts(&mut petra, &mut murat, &world);
    detail_and_export(&mut petra, &world);
    audit(site, &mut petra, &mut murat, &world, state);
    bearer_still_works(site, &world);
    logout(site, &mut petra);
}

/// Petra Schulte's staff session cookie (`Cookie` header), to try elsewhere.
pub fn staff_cookie(site: &Client) -> String {
    let mut petra = logged_in(site, "petra.schulte");
    assert_eq!(petra.get(&list_path(BOTTROP)).status, 200);
    petra.cookie()
}

/// After a rotation of the staff session keys (the former key now the previous one):
/// a cookie sealed before still opens the session, so nobody is logged out by it.
pub fn key_rotation(site: &Client, sealed_before: &str) {
    let answer = site.get(&list_path(BOTTROP), &[("cookie", sealed_before)]);
    assert_eq!(
        answer.status, 200,
        "the previous key opens: {}",
        answer.body
    );
    let renewed = set_cookie(&answer, "lotse_amt").expect("a renewed cookie");
    let session = site
        .get(
            "/api/amt/session",
            &[("cookie", renewed.split(';').next().unwrap())],
        )
        .json();
    assert_eq!(session["name"], "Petra Schulte", "{session}");
}

/// A server with other staff session keys (random ones under `lotse serve` without
/// LOTSE_STAFF_SESSION_SECRET): a cookie sealed elsewhere is no session.
pub fn other_keys(site: &Client, sealed_elsewhere: &str) {
    let answer = site.get(&list_path(BOTTROP), &[("cookie", sealed_elsewhere)]);
    assert_eq!(answer.status, 401, "{}", answer.body);
}

/// With the staff session key derived from the other secrets (no STAFF_SESSION_SECRET
/// on Workers): staff login works, and the citizen's and the staff's cookies still do
/// not stand in for each other. `sealed_elsewhere` is a staff cookie of a server with
/// the same other secrets and STAFF_SESSION_SECRET set: another key, so no session.
pub fn derived_keys(site: &Client, sealed_elsewhere: &str) {
    other_keys(site, sealed_elsewhere);
    let mut petra = logged_in(site, "petra.schulte");
    assert_eq!(petra.session()["offices"], json!([BOTTROP]));
    assert_eq!(petra.get(&list_path(BOTTROP)).status, 200);
    cookies_apart(site, &mut petra);
    logout(site, &mut petra);
}
