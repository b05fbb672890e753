//! The cases: every row of SPEC section 5's table, the office round trip, and the
//! promise that nothing readable is stored.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use super::server::{repo, OFFICE_TOKEN, OTHER_OFFICE_TOKEN};
use super::Client;

/// A unique word in every submission, so that the store can be searched for it.
pub const MARKER: &str = "Klartextprobe";

const PORTAL: &str = "bottrop";
const SERVICE: &str = "fundsache-melden";
const OFFICE: &str = "buergerbuero";

fn valid_fields(note: &str) -> Value {
    json!({
        "meldung": "einen Fund melden",
        "kategorie": "Fahrrad",
        "datum": "2026-11-20",
        "ort": "Hauptbahnhof Bottrop",
        "beschreibung": format!("Rotes Damenrad, {MARKER} {note}"),
    })
}

/// Valid values for every field of a published form schema.
pub fn valid_fields_for(schema: &Value) -> Value {
    let mut fields = serde_json::Map::new();
    for field in schema["fields"].as_array().unwrap() {
        let value = match field["type"].as_str().unwrap() {
            "textarea" => json!("Ein kurzer Beispieltext."),
            "email" => json!("erika@example.org"),
            "tel" => json!("02041 123456"),
            "date" => json!("2026-11-20"),
            "number" => json!(field["min"]
                .as_f64()
                .unwrap_or(1.0)
                .max(field["max"].as_f64().map_or(1.0, |m| m.min(1.0)))),
            "select" | "radio" => field["options"][0].clone(),
            "checkbox" => json!("ja"),
            "postcode" => json!("46236"),
            "iban" => json!("DE89370400440532013000"),
            _ => json!("Beispiel"),
        };
        fields.insert(field["id"].as_str().unwrap().to_string(), value);
    }
    Value::Object(fields)
}

fn submission(note: &str) -> Value {
    json!({"portal": PORTAL, "service": SERVICE, "fields": valid_fields(note)})
}

/// Submits a valid application; returns (id, token).
pub fn submit(client: &Client, note: &str) -> (String, String) {
    let answer = client.post_json("/api/applications", &[], &submission(note));
    assert_eq!(answer.status, 201, "{}", answer.body);
    let body = answer.json();
    (
        body["id"].as_str().unwrap().to_string(),
        body["token"].as_str().unwrap().to_string(),
    )
}

pub fn accepted_as_json(client: &Client) {
    let answer = client.post_json("/api/applications", &[], &submission("json"));
    assert_eq!(answer.status, 201, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["status"], "received");
    let id = body["id"].as_str().unwrap();
    assert!(
        id.len() == 9
            && id.as_bytes()[4] == b'-'
            && id
                .chars()
                .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase()),
        "readable id: {id}"
    );
    let token = body["token"].as_str().unwrap();
    assert!(
        token.len() >= 26,
        "token carries at least 128 bits: {token}"
    );
}

pub fn html_form_redirects_to_a_receipt(client: &Client) {
    let fields = valid_fields("html");
    let mut pairs: Vec<(&str, &str)> = vec![("portal", PORTAL), ("service", SERVICE)];
    let values: Vec<(String, String)> = fields
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    pairs.extend(values.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let answer = client.post_form("/api/applications", &pairs);
    assert_eq!(answer.status, 303, "{}", answer.body);
    let (receipt, id, token) = follow_receipt(client, &answer);
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    assert_eq!(receipt.header("referrer-policy"), Some("no-referrer"));
    assert!(receipt
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(receipt.body.contains("Ihr Antrag ist eingegangen"));
    assert!(
        receipt
            .body
            .contains("Eingegangen: <strong>Fundsache melden oder Verlust anzeigen</strong>"),
        "the receipt names what was sent"
    );
    assert!(receipt
        .body
        .contains("<meta name=\"referrer\" content=\"no-referrer\">"));
    let (id, token) = (&id, &token);

    // The status page works with a plain form too.
    let status = client.post_form("/api/status", &[("id", id), ("token", token)]);
    assert_eq!(status.status, 200, "{}", status.body);
    assert!(status.body.contains("Eingegangen"));
}

/// Follows the 303 of an accepted HTML form as a browser does, sending the receipt
/// cookie it set. The address names the id only; the cookie is sealed, short-lived and
/// for the receipt page alone. Returns the receipt page and the id and token it shows.
pub fn follow_receipt(client: &Client, answer: &super::Answer) -> (super::Answer, String, String) {
    let location = answer.header("location").expect("303 has a Location");
    let id = location
        .strip_prefix("/api/receipt?id=")
        .unwrap_or_else(|| panic!("the receipt address names more than the id: {location}"))
        .to_string();
    assert!(id.len() == 9 && id.as_bytes()[4] == b'-', "{location}");
    let cookie = answer
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.as_str())
        .find(|v| v.starts_with("lotse_receipt_"))
        .unwrap_or_else(|| panic!("no receipt cookie with the 303: {:?}", answer.headers));
    for attribute in [
        "Path=/api/receipt",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Max-Age=900",
    ] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    let pair = cookie.split(';').next().unwrap();
    let receipt = client.get(location, &[("accept", "text/html"), ("cookie", pair)]);
    let between = |start: &str| {
        let from = receipt.body.find(start).map(|at| at + start.len());
        from.and_then(|at| Some(receipt.body[at..receipt.body[at..].find('<')? + at].to_string()))
            .unwrap_or_default()
    };
    let shown_id = between("<strong class=\"vorgang\">");
    let token = between("<code class=\"schluessel\">");
    if receipt.status == 200 {
        assert_eq!(shown_id, id, "the receipt shows another id");
        assert!(
            token.len() >= 26,
            "the receipt shows no token: {}",
            receipt.body
        );
        assert!(
            !cookie.contains(&token),
            "the receipt cookie carries the token in clear"
        );
    }
    (receipt, id, token)
}

/// The receipt page shows only what the store confirms: an id and a token in the
/// address (made up, or even real ones) confirm nothing; the receipt cookie opens only
/// for its own id, and not when changed.
pub fn receipt_confirms_only_what_the_store_knows(client: &Client) {
    let refused = |answer: &super::Answer, what: &str| {
        assert_eq!(answer.status, 404, "{what}: {}", answer.body);
        assert!(
            !answer.body.contains("Ihr Antrag ist eingegangen"),
            "{what}: the receipt confirms an application: {}",
            answer.body
        );
        assert!(
            answer.body.contains("Stand eines Antrags abfragen"),
            "{what}: not the status lookup form"
        );
    };
    let html = [("accept", "text/html")];
    let made_up = client.get(
        &format!(
            "/api/receipt?id=AAAA-AAAA&token=ABCDEFGHJKMNPQRSTVWXYZ2345&portal={PORTAL}&service={SERVICE}"
        ),
        &html,
    );
    refused(&made_up, "a made-up id and token");
    assert!(
        !made_up.body.contains("Fundsache melden"),
        "{}",
        made_up.body
    );

    let (id, token) = submit(client, "receipt");
    let real = client.get(&format!("/api/receipt?id={id}&token={token}"), &html);
    refused(&real, "a real id and token in the address");
    assert!(!real.body.contains(&token));

    let pairs = [
        ("portal", PORTAL),
        ("service", SERVICE),
        ("meldung", "einen Fund melden"),
        ("kategorie", "Fahrrad"),
        ("datum", "2026-11-20"),
        ("ort", "Hauptbahnhof Bottrop"),
        ("beschreibung", "Quittung"),
    ];
    let answer = client.post_form("/api/applications", &pairs);
    assert_eq!(answer.status, 303, "{}", answer.body);
    let (receipt, own_id, _) = follow_receipt(client, &answer);
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    let cookie = answer
        .headers
        .iter()
        .find(|(n, v)| n.eq_ignore_ascii_case("set-cookie") && v.starts_with("lotse_receipt_"))
        .map(|(_, v)| v.split(';').next().unwrap().to_string())
        .unwrap();
    let value = cookie.split_once('=').unwrap().1;
    // Under another id's name and address.
    let other = format!("lotse_receipt_{}={value}", id.replace('-', ""));
    refused(
        &client.get(
            &format!("/api/receipt?id={id}"),
            &[("accept", "text/html"), ("cookie", &other)],
        ),
        "a receipt cookie under another id",
    );
    // Changed.
    let flipped = if value.ends_with('A') { "B" } else { "A" };
    let changed = format!("{}{flipped}", &cookie[..cookie.len() - 1]);
    refused(
        &client.get(
            &format!("/api/receipt?id={own_id}"),
            &[("accept", "text/html"), ("cookie", &changed)],
        ),
        "a changed receipt cookie",
    );
    // Without the cookie (another browser, or after 15 minutes).
    refused(
        &client.get(&format!("/api/receipt?id={own_id}"), &html),
        "no receipt cookie",
    );
}

pub fn validation_errors(client: &Client) {
    let mut fields = valid_fields("invalid");
    fields["datum"] = json!("2026-02-30");
    fields["unerwartet"] = json!("x");
    fields.as_object_mut().unwrap().remove("ort");
    let answer = client.post_json(
        "/api/applications",
        &[],
        &json!({"portal": PORTAL, "service": SERVICE, "fields": fields}),
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["error"], "validation");
    for field in ["datum", "ort", "unerwartet"] {
        assert!(
            body["fields"][field].is_string(),
            "message for {field}: {body}"
        );
    }
    assert!(body["fields"].get("kategorie").is_none());
}

/// Values are checked strictly, whatever the runtime: a date with signs, a required text
/// of invisible characters, a bidi override; and a body that is not UTF-8 is 400 as a
/// form as it is as JSON, instead of being stored with U+FFFD in place of the bytes.
pub fn strict_values_and_encodings(client: &Client) {
    let mut fields = valid_fields("strict");
    fields["datum"] = json!("2026-+1-+5");
    fields["ort"] = json!("\u{200B}\u{3164}");
    fields["beschreibung"] = json!("Rotes Damenrad \u{202E}dranrevo");
    let answer = client.post_json(
        "/api/applications",
        &[],
        &json!({"portal": PORTAL, "service": SERVICE, "fields": fields}),
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["error"], "validation");
    assert_eq!(
        body["fields"]["ort"], "Bitte füllen Sie dieses Pflichtfeld aus.",
        "{body}"
    );
    for field in ["datum", "beschreibung"] {
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }

    let form = |beschreibung: &str| {
        format!(
            "portal={PORTAL}&service={SERVICE}&meldung=einen+Fund+melden&kategorie=Fahrrad\
             &datum=2026-11-20&ort=Hauptbahnhof&beschreibung={beschreibung}"
        )
    };
    let post = |body: &[u8], content_type: &str, accept: &str| {
        client.request(
            "POST",
            "/api/applications",
            &[
                ("content-type", content_type),
                ("accept", accept),
                ("sec-fetch-site", "same-origin"),
            ],
            Some(body),
        )
    };
    let form_type = "application/x-www-form-urlencoded";
    let ok = post(
        form("R%C3%BCcklicht+fehlt").as_bytes(),
        form_type,
        "application/json",
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    for bad in ["Rad+%FF%FE", "Rad+%C3", "Rad+%ED%A0%80"] {
        let answer = post(form(bad).as_bytes(), form_type, "application/json");
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
        assert_eq!(answer.json()["error"], "invalid_form", "{bad}");
    }
    let mut raw = form("Rad+").into_bytes();
    raw.push(0xff);
    let answer = post(&raw, form_type, "application/json");
    assert_eq!(answer.status, 400, "raw byte: {}", answer.body);
    // The plain HTML form gets the 400 as a page.
    let page = post(form("Rad+%FF").as_bytes(), form_type, "text/html");
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    // And JSON, as before.
    let mut json_body =
        format!("{{\"portal\":\"{PORTAL}\",\"service\":\"{SERVICE}\",\"fields\":{{\"ort\":\"")
            .into_bytes();
    json_body.extend_from_slice(b"\xff\"}}");
    let answer = post(&json_body, "application/json", "application/json");
    assert_eq!(answer.status, 400, "{}", answer.body);
}

pub fn html_validation_errors_keep_what_was_typed(client: &Client) {
    let answer = client.post_form(
        "/api/applications",
        &[
            ("portal", PORTAL),
            ("service", SERVICE),
            ("meldung", "einen Fund melden"),
            ("ort", "Am Pferdemarkt <b>7</b>"),
            ("datum", "gestern"),
        ],
    );
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("role=\"alert\""), "error summary");
    assert!(
        answer.body.contains("href=\"#feld-datum\""),
        "summary links to the field"
    );
    assert!(answer.body.contains("aria-invalid=\"true\""));
    assert!(
        answer
            .body
            .contains("value=\"Am Pferdemarkt &lt;b&gt;7&lt;/b&gt;\""),
        "typed value kept, escaped"
    );
    assert!(!answer.body.contains("<b>7</b>"));
}

pub fn login_required(client: &Client) {
    let answer = client.post_json(
        "/api/applications",
        &[],
        &json!({"portal": PORTAL, "service": "gewerbe-anmelden", "fields": {}}),
    );
    assert_eq!(answer.status, 401, "{}", answer.body);
}

pub fn cross_site_refused(client: &Client) {
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "null")],
    ] {
        let answer = client.post_json("/api/applications", &headers, &submission("cross"));
        assert_eq!(answer.status, 403, "{headers:?}: {}", answer.body);
    }
    // The origin is scheme, host and port: the site's host under another scheme or
    // port is another site.
    let (_, authority) = client.base.split_once("://").unwrap();
    let (host, _) = authority.rsplit_once(':').unwrap();
    for origin in [
        format!("evil://{authority}"),
        format!("https://{authority}"),
        format!("http://{host}:1"),
        format!("http://{authority}.evil.example"),
    ] {
        let headers = [("origin", origin.as_str())];
        let answer = client.post_json("/api/applications", &headers, &submission("cross"));
        assert_eq!(answer.status, 403, "{origin}: {}", answer.body);
    }
    let own = [("origin", client.base.as_str())];
    let answer = client.post_json("/api/applications", &own, &submission("eigene"));
    assert_eq!(answer.status, 201, "own origin: {}", answer.body);
}

/// A 405 says which methods the route takes; HEAD answers like GET.
pub fn methods_and_head(client: &Client) {
    for (method, path, allow) in [
        ("PUT", "/api/applications", "GET, HEAD, POST"),
        ("DELETE", "/api/status", "GET, HEAD, POST"),
        ("GET", "/api/logout", "POST"),
        ("TRACE", "/api/session", "GET, HEAD"),
        ("PATCH", "/api/office/applications/AAAA-AAAA/status", "POST"),
    ] {
        let answer = client.request(method, path, &[], None);
        assert_eq!(answer.status, 405, "{method} {path}");
        assert_eq!(answer.header("allow"), Some(allow), "{method} {path}");
        assert!(answer.header("content-security-policy").is_some());
    }
    let head = client.request("HEAD", "/api/status", &[("accept", "text/html")], None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD has no body");
    assert!(head
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
}

pub fn unknown_targets(client: &Client) {
    for (portal, service) in [
        ("atlantis", SERVICE),
        (PORTAL, "mondlandung"),
        (PORTAL, "bafoeg"),
        ("../x", "y"),
    ] {
        let answer = client.post_json(
            "/api/applications",
            &[],
            &json!({"portal": portal, "service": service, "fields": {}}),
        );
        assert_eq!(answer.status, 404, "{portal}/{service}: {}", answer.body);
    }
}

pub fn body_limit(client: &Client) {
    let big = "x".repeat(70 * 1024);
    let answer = client.post_json(
        "/api/applications",
        &[],
        &json!({"portal": PORTAL, "service": SERVICE, "fields": {"beschreibung": big}}),
    );
    assert_eq!(answer.status, 413, "{}", answer.body);
}

pub fn content_types(client: &Client) {
    for content_type in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
    ] {
        let answer = client.request(
            "POST",
            "/api/applications",
            &[("content-type", content_type)],
            Some(b"portal=bottrop"),
        );
        assert_eq!(answer.status, 415, "{content_type}");
    }
    let none = client.request("POST", "/api/applications", &[], Some(b"{}"));
    assert_eq!(none.status, 415);
}

pub fn status_lookup(client: &Client) {
    let (id, token) = submit(client, "status");
    let auth = format!("Bearer {token}");
    let answer = client.get(
        &format!("/api/applications/{id}"),
        &[("authorization", &auth)],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["portal"], PORTAL);
    assert_eq!(body["service"], SERVICE);
    assert_eq!(body["status"], "received");
    assert_eq!(body["history"][0]["status"], "received");
    assert!(body["history"][0]["at"].as_str().unwrap().ends_with('Z'));

    let (_, other_token) = submit(client, "other");
    let wrong = client.get(
        &format!("/api/applications/{id}"),
        &[("authorization", &format!("Bearer {other_token}"))],
    );
    let unknown = client.get("/api/applications/ZZZZ-ZZZZ", &[("authorization", &auth)]);
    let missing = client.get(&format!("/api/applications/{id}"), &[]);
    for answer in [wrong, unknown, missing] {
        assert_eq!(answer.status, 404);
    }
}

pub fn idempotent_retries(client: &Client) {
    let key = format!("suite-{}", std::process::id());
    let first = client.post_json(
        "/api/applications",
        &[("idempotency-key", &key)],
        &submission("idem"),
    );
    let again = client.post_json(
        "/api/applications",
        &[("idempotency-key", &key)],
        &submission("idem"),
    );
    assert_eq!(first.status, 201);
    assert_eq!(again.status, 201);
    assert_eq!(first.json()["id"], again.json()["id"]);
    assert_eq!(first.json()["token"], again.json()["token"]);
    let other = client.post_json(
        "/api/applications",
        &[("idempotency-key", &format!("{key}-2"))],
        &submission("idem"),
    );
    assert_ne!(first.json()["id"], other.json()["id"]);
}

/// Twenty retries with one key, released together, store exactly one application: every
/// answer is the first one (201 with the same id and token) or, while the first is still
/// being stored, 409 with Retry-After, whose retry then gets the first answer.
pub fn concurrent_retries_store_one_application(client: &Client) {
    let key = format!("parallel-{}-{}", std::process::id(), client.base.len());
    let note = format!("parallel {key}");
    let body = submission(&note);
    let barrier = std::sync::Barrier::new(20);
    let answers: Vec<(u16, Value, Option<String>)> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..20)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let answer =
                        client.post_json("/api/applications", &[("idempotency-key", &key)], &body);
                    let retry_after = answer.header("retry-after").map(str::to_string);
                    let json = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
                    (answer.status, json, retry_after)
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let mut ids = std::collections::BTreeSet::new();
    let mut tokens = std::collections::BTreeSet::new();
    for (status, json, retry_after) in answers {
        let json = match status {
            201 => json,
            409 => {
                assert_eq!(json["error"], "idempotency_in_flight", "{json}");
                assert!(retry_after.is_some(), "409 without Retry-After");
                // Retry as the client would, until the first answer is there.
                let mut again = None;
                for _ in 0..50 {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    let answer =
                        client.post_json("/api/applications", &[("idempotency-key", &key)], &body);
                    if answer.status == 201 {
                        again = Some(answer.json());
                        break;
                    }
                    assert_eq!(answer.status, 409, "{}", answer.body);
                }
                again.expect("the first answer after the 409")
            }
            other => panic!("unexpected {other}: {json}"),
        };
        ids.insert(json["id"].as_str().unwrap().to_string());
        tokens.insert(json["token"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1, "one id for one key: {ids:?}");
    assert_eq!(tokens.len(), 1, "one token for one key");
    let stored = inbox_pull(client, OFFICE)
        .into_iter()
        .filter(|a| {
            a["fields"]["beschreibung"]
                .as_str()
                .unwrap_or("")
                .ends_with(&note)
        })
        .count();
    assert_eq!(stored, 1, "applications stored for one Idempotency-Key");
}

/// A key is bound to its request: another body, another service, the HTML form instead
/// of JSON or a malformed key never gets the first answer.
pub fn idempotency_keys_are_bound_to_their_request(client: &Client) {
    let key = format!("bound-{}-{}", std::process::id(), client.base.len());
    let with_key = [("idempotency-key", key.as_str())];
    let first = client.post_json("/api/applications", &with_key, &submission("gebunden"));
    assert_eq!(first.status, 201, "{}", first.body);
    let first = first.json();

    let mismatch = |answer: super::Answer, what: &str| {
        assert_eq!(answer.status, 422, "{what}: {}", answer.body);
        assert!(
            !answer.body.contains(first["token"].as_str().unwrap()),
            "{what}: the token leaks"
        );
        answer
    };
    let other_body = mismatch(
        client.post_json("/api/applications", &with_key, &submission("anders")),
        "other fields",
    );
    let body = other_body.json();
    assert_eq!(body["error"], "idempotency_mismatch");
    assert_eq!(body["reason"], "fields", "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));

    let feedback = json!({"portal": PORTAL, "service": "barrierefreiheit", "fields": {
        "seite": "/bottrop/", "beschreibung": "Zu kleine Schrift"}});
    let other_service = mismatch(
        client.post_json("/api/applications", &with_key, &feedback),
        "other service",
    );
    assert_eq!(other_service.json()["reason"], "service");

    let fields = valid_fields("gebunden");
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("portal", PORTAL)
        .append_pair("service", SERVICE);
    for (name, value) in fields.as_object().unwrap() {
        form.append_pair(name, value.as_str().unwrap());
    }
    let html_form = client.request(
        "POST",
        "/api/applications",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "text/html"),
            ("sec-fetch-site", "same-origin"),
            ("idempotency-key", &key),
        ],
        Some(form.finish().as_bytes()),
    );
    let html_form = mismatch(html_form, "HTML form");
    assert!(html_form
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));

    // The same request again still gets the first answer.
    let again = client.post_json("/api/applications", &with_key, &submission("gebunden"));
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.json()["token"], first["token"]);

    let long = "x".repeat(201);
    for bad in [
        "kurz",
        long.as_str(),
        "mit leerzeichen drin",
        "schl\u{fc}ssel-0123456",
        "tab\tim-schluessel",
    ] {
        let answer = client.request(
            "POST",
            "/api/applications",
            &[
                ("content-type", "application/json"),
                ("idempotency-key", bad),
            ],
            Some(submission("schluessel").to_string().as_bytes()),
        );
        assert_eq!(answer.status, 400, "{bad:?}: {}", answer.body);
        assert_eq!(answer.json()["error"], "invalid_idempotency_key", "{bad:?}");
    }
}

pub fn security_headers(client: &Client) {
    let answer = client.post_json("/api/applications", &[], &json!({}));
    for header in [
        "content-security-policy",
        "strict-transport-security",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert!(answer.header(header).is_some(), "{header} missing");
    }
    assert!(answer
        .header("content-security-policy")
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

/// Submit, list as the office, decrypt with `lotse inbox pull`, set a status with a
/// note, and see it as the citizen.
pub fn office_round_trip(client: &Client) {
    let (id, token) = submit(client, "rundreise");
    let list_path = format!("/api/office/{PORTAL}/{OFFICE}/applications");
    assert_eq!(client.get(&list_path, &[]).status, 401);
    assert_eq!(
        client
            .get(
                &list_path,
                &[("authorization", "Bearer falsch-falsch-falsch")]
            )
            .status,
        401
    );
    let office_auth = format!("Bearer {OFFICE_TOKEN}");
    let list = client.get(&list_path, &[("authorization", &office_auth)]);
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        !list.body.contains(MARKER),
        "the inbox lists envelopes, not plaintext"
    );
    assert!(list.body.contains(&id));

    let applications = inbox_pull(client, OFFICE);
    let mine = applications
        .iter()
        .find(|a| a["id"] == id.as_str())
        .expect("the new application is in the inbox");
    assert!(mine["fields"]["beschreibung"]
        .as_str()
        .unwrap()
        .contains("rundreise"));
    assert_eq!(mine["fields"]["kategorie"], "Fahrrad");

    let status_path = format!("/api/office/applications/{id}/status");
    let bad = client.post_json(
        &status_path,
        &[("authorization", &office_auth)],
        &json!({"status": "vergessen"}),
    );
    assert_eq!(bad.status, 400);
    let unauthorized = client.post_json(&status_path, &[], &json!({"status": "completed"}));
    assert_eq!(unauthorized.status, 401);
    let set = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args([
            "inbox",
            "status",
            "--server",
            &client.base,
            "--id",
            &id,
            "--status",
            "needs_info",
            "--note",
            "Bitte ein Foto nachreichen.",
        ])
        .env("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN)
        .output()
        .unwrap();
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );

    let citizen = client.get(
        &format!("/api/applications/{id}"),
        &[("authorization", &format!("Bearer {token}"))],
    );
    let body = citizen.json();
    assert_eq!(body["status"], "needs_info");
    assert_eq!(body["history"][1]["status"], "needs_info");
    // The note is a sealed message of the office, not a plaintext history entry.
    assert!(body["history"][1]["note"].is_null());
    let thread = client
        .get(
            &format!("/api/applications/{id}/messages"),
            &[("authorization", &format!("Bearer {token}"))],
        )
        .json();
    assert_eq!(thread["messages"][0]["from"], "office");
    assert_eq!(thread["messages"][0]["text"], "Bitte ein Foto nachreichen.");
    assert_eq!(thread["messages"][0]["status"], "needs_info");
    let page = client.post_form("/api/status", &[("id", &id), ("token", &token)]);
    assert!(page.body.contains("Bitte ein Foto nachreichen."));
}

/// Office tokens: authentication comes before any lookup (a wrong token gets 401 for an
/// unknown and an existing application alike), and a token opens only its own offices
/// (another city's application is as unknown as none, another office's inbox is 403,
/// an office that does not exist is 404).
pub fn office_tokens_are_scoped(client: &Client) {
    let (id, _) = submit(client, "zustaendigkeit");
    let bearer = |token: &str| format!("Bearer {token}");
    let set = |id: &str, auth: &str| {
        client
            .post_json(
                &format!("/api/office/applications/{id}/status"),
                &[("authorization", auth)],
                &json!({"status": "completed"}),
            )
            .status
    };
    let wrong = bearer("falsch-falsch-falsch-falsch");
    assert_eq!(set(&id, &wrong), 401, "existing id, wrong token");
    assert_eq!(set("AAAA-AAAA", &wrong), 401, "unknown id, wrong token");
    let other = bearer(OTHER_OFFICE_TOKEN);
    assert_eq!(set(&id, &other), 404, "another city's application");
    assert_eq!(set("AAAA-AAAA", &other), 404, "unknown id");
    let list = |path: &str, auth: &str| client.get(path, &[("authorization", auth)]);
    let ours = bearer(OFFICE_TOKEN);
    let bottrop = format!("/api/office/{PORTAL}/{OFFICE}/applications");
    assert_eq!(list(&bottrop, &other).status, 403);
    assert!(!list(&bottrop, &other).body.contains(&id));
    assert_eq!(
        list(
            "/api/office/gelsenkirchen/buergerbuero/applications",
            &other
        )
        .status,
        200
    );
    for unknown in [
        "/api/office/bottrop/gibt-es-nicht/applications",
        "/api/office/nirgendwo/buergerbuero/applications",
    ] {
        assert_eq!(list(unknown, &ours).status, 404, "{unknown}");
        assert_eq!(
            list(unknown, &wrong).status,
            401,
            "{unknown} without a valid token"
        );
    }
    // The application is still untouched, and its own office may change it.
    assert_eq!(set(&id, &ours), 200);
}

/// The accessibility statement's feedback form is submitted like an application and
/// reaches the office `feedback_office` names (Bottrop: the Inklusionsbeauftragte),
/// decryptable with that office's key only.
pub fn accessibility_feedback_reaches_its_office(client: &Client) {
    let text = format!("Kontrast der Knöpfe zu gering, {MARKER} Rückmeldung");
    let answer = client.post_form(
        "/api/applications",
        &[
            ("portal", PORTAL),
            ("service", "barrierefreiheit"),
            ("seite", "/bottrop/a-z/"),
            ("beschreibung", &text),
            ("name", ""),
            ("email", "leserin@example.org"),
        ],
    );
    assert_eq!(answer.status, 303, "{}", answer.body);
    let (receipt, id, _) = follow_receipt(client, &answer);
    assert!(
        receipt.body.contains("Rückmeldung zur Barrierefreiheit"),
        "{}",
        receipt.body
    );

    let empty = client.post_form(
        "/api/applications",
        &[("portal", PORTAL), ("service", "barrierefreiheit")],
    );
    assert_eq!(empty.status, 400, "the description is required");

    let feedback = inbox_pull(client, "inklusion");
    let mine = feedback
        .iter()
        .find(|a| a["id"] == id.as_str())
        .expect("the feedback is in the Inklusionsbeauftragte's inbox");
    assert_eq!(mine["service"], "barrierefreiheit");
    assert_eq!(mine["fields"]["beschreibung"], text.as_str());
    assert!(
        !inbox_pull(client, OFFICE)
            .iter()
            .any(|a| a["id"] == id.as_str()),
        "feedback must not reach the Bürgerbüro"
    );
}

/// `lotse inbox pull` for one of Bottrop's offices, with its demo key: the decrypted
/// applications.
fn inbox_pull(client: &Client, office: &str) -> Vec<Value> {
    let pulled = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args([
            "inbox",
            "pull",
            "--server",
            &client.base,
            "--portal",
            PORTAL,
        ])
        .args(["--office", office, "--key"])
        .arg(repo().join(format!("examples/office-keys/bottrop/{office}.key")))
        .env("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN)
        .output()
        .unwrap();
    assert!(
        pulled.status.success(),
        "{}",
        String::from_utf8_lossy(&pulled.stderr)
    );
    serde_json::from_slice(&pulled.stdout).unwrap()
}

/// No file of the server's state contains a submitted value or a token in clear.
pub fn nothing_readable_at_rest(client: &Client, state: &Path) {
    let (_, token) = submit(client, "ruhend");
    let mut checked = 0;
    for file in walk(state) {
        let bytes = std::fs::read(&file).unwrap();
        checked += 1;
        for needle in [MARKER.as_bytes(), token.as_bytes(), b"Hauptbahnhof Bottrop"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} contains {}",
                file.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    assert!(checked > 0, "no state files found in {}", state.display());
    // The rate limit's client hash is keyed under a secret: the unkeyed SHA-256 of the
    // address (reversible for IPv4 by trying them all) is nowhere.
    use sha2::{Digest, Sha256};
    let unkeyed: String = Sha256::digest(b"lotse-rate:127.0.0.1")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for file in walk(state) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes
                .windows(unkeyed.len())
                .any(|w| w == unkeyed.as_bytes()),
            "{} holds the unkeyed hash of the client address",
            file.display()
        );
    }
}

pub fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// An application whose stored envelope cannot be read does not vanish: the office list
/// marks it unreadable (the server logs its id), and `lotse inbox pull` lists it, names it
/// on standard error and exits 3. The envelope is damaged in the store's database file
/// (SQLite under `lotse serve`, local D1's under `wrangler dev`), then restored.
pub fn unreadable_envelopes_are_listed_and_reported(client: &Client, state: &Path) {
    let (id, _) = submit(client, "beschaedigt");
    let database = walk(state)
        .into_iter()
        .filter(|f| {
            let name = f.to_string_lossy();
            name.ends_with(".sqlite") || name.ends_with(".sqlite3")
        })
        .find_map(|file| {
            let db = rusqlite::Connection::open(&file).ok()?;
            db.busy_timeout(std::time::Duration::from_secs(10)).ok()?;
            let original: String = db
                .query_row(
                    "SELECT envelope FROM applications WHERE id = ?1",
                    [&id],
                    |row| row.get(0),
                )
                .ok()?;
            Some((db, original))
        });
    let (db, original) =
        database.unwrap_or_else(|| panic!("no database in {} holds {id}", state.display()));
    let damage = |envelope: &str| {
        db.execute(
            "UPDATE applications SET envelope = ?2 WHERE id = ?1",
            [id.as_str(), envelope],
        )
        .unwrap()
    };
    assert_eq!(damage("{\"routing\": beschädigt"), 1);

    let list = client.get(
        &format!("/api/office/{PORTAL}/{OFFICE}/applications"),
        &[("authorization", &format!("Bearer {OFFICE_TOKEN}"))],
    );
    assert_eq!(list.status, 200, "{}", list.body);
    let listed = list.json()["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{id} vanished from the office list: {}", list.body));
    assert!(listed["unreadable"].is_string(), "{listed}");
    assert_eq!(listed["status"], "received");
    assert_eq!(listed["service"], SERVICE);

    let pulled = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args([
            "inbox",
            "pull",
            "--server",
            &client.base,
            "--portal",
            PORTAL,
        ])
        .args(["--office", OFFICE, "--key"])
        .arg(repo().join(format!("examples/office-keys/bottrop/{OFFICE}.key")))
        .env("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&pulled.stderr);
    assert_eq!(pulled.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&id), "pull does not name {id}: {stderr}");
    let applications: Vec<Value> = serde_json::from_slice(&pulled.stdout).unwrap();
    assert!(
        applications
            .iter()
            .any(|a| a["id"] == id.as_str() && a["unreadable"].is_string()),
        "pull dropped {id}"
    );
    assert!(
        applications.iter().any(|a| a["fields"].is_object()),
        "pull no longer decrypts the readable applications"
    );
    assert_eq!(damage(&original), 1);
}

/// Against a server limited to `limit` submissions a minute: replays of an
/// Idempotency-Key answer from the store without counting, exactly `limit` new
/// submissions pass in the sliding minute (no second window's worth when a minute turns),
/// then 429 with Retry-After; and the limited client still gets its replay.
pub fn rate_limited(client: &Client, limit: u32) {
    let key = format!("rate-{}-{}", std::process::id(), client.base.len());
    let with_key = [("idempotency-key", key.as_str())];
    let first = client.post_json("/api/applications", &with_key, &submission("rate"));
    assert_eq!(first.status, 201, "{}", first.body);
    let first = first.json();
    for _ in 0..(limit + 2) {
        let replay = client.post_json("/api/applications", &with_key, &submission("rate"));
        assert_eq!(
            replay.status, 201,
            "a replay is not limited: {}",
            replay.body
        );
        assert_eq!(replay.json()["token"], first["token"]);
    }
    let mut accepted = 1;
    for _ in 0..(limit * 2 + 4) {
        let answer = client.post_json("/api/applications", &[], &submission("rate"));
        match answer.status {
            201 => accepted += 1,
            429 => {
                let retry_after: u64 = answer
                    .header("retry-after")
                    .expect("429 has Retry-After")
                    .parse()
                    .unwrap();
                assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
                assert_eq!(
                    accepted, limit,
                    "accepted before 429 (replays do not count)"
                );
                let replay = client.post_json("/api/applications", &with_key, &submission("rate"));
                assert_eq!(
                    replay.status, 201,
                    "the limited client's replay: {}",
                    replay.body
                );
                assert_eq!(replay.json()["id"], first["id"]);
                return;
            }
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    panic!("no 429 after {accepted} submissions with a limit of {limit}");
}

/// Every case, in an order that keeps each independent.
pub fn all(client: &Client, state: &Path) {
    accepted_as_json(client);
    html_form_redirects_to_a_receipt(client);
    validation_errors(client);
    strict_values_and_encodings(client);
    html_validation_errors_keep_what_was_typed(client);
    login_required(client);
    cross_site_refused(client);
    methods_and_head(client);
    unknown_targets(client);
    body_limit(client);
    content_types(client);
    status_lookup(client);
    idempotent_retries(client);
    concurrent_retries_store_one_application(client);
    idempotency_keys_are_bound_to_their_request(client);
    security_headers(client);
    office_round_trip(client);
    office_tokens_are_scoped(client);
    accessibility_feedback_reaches_its_office(client);
    receipt_confirms_only_what_the_store_knows(client);
    nothing_readable_at_rest(client, state);
    unreadable_envelopes_are_listed_and_reported(client, state);
}
