//! The office API as the caseworkers' workspace uses it (SPEC section 9,
//! docs/workspace.md), natively on the embedded store: staff sessions for exactly their
//! offices, the refusals across offices, pages and filters, export, and the audit log
//! that records without content and cannot be changed.

mod common;

use common::{request, Catalogue, ISSUER, NOW, OFFICE_TOKEN};
use futures_executor::block_on;
use lotse_envelope::PrivateKey;
use lotse_functions::auth::staff::{StaffLogin, StaffSession, STAFF_IDLE_MS, STAFF_MAX_MS};
use lotse_functions::auth::{NoNetwork, Oidc, OidcConfig, SessionKeys};
use lotse_functions::sqlite::SqliteStore;
use lotse_functions::{handle, App, Request, Response};
use lotse_model::{FormSchema, OfficeLoginConfig};
use serde_json::{json, Value};

type TestApp = App<SqliteStore, Catalogue, NoNetwork>;

const SITE: &str = "https://portal.example.de";
const NOTE: &str = "Notiz-Kanarienvogel-4711: bitte Ausweis mitbringen";

fn staff_keys() -> SessionKeys {
    SessionKeys {
        current: [9; 32],
        previous: None,
    }
}

fn form(portal: &str, office: &str, service: &str, key: &PrivateKey) -> FormSchema {
    FormSchema {
        portal: portal.into(),
        office: office.into(),
        service: service.into(),
        ..common::schema(service, &key.public_key().to_base64())
    }
}

/// Bottrop's Bürgerbüro and Standesamt, Gelsenkirchen's Bürgerbüro; the store in `path`
/// (a file, so the test can look at it with SQL of its own).
fn workspace_app(path: &std::path::Path) -> (TestApp, PrivateKey) {
    let key = PrivateKey::generate().0;
    let forms = Catalogue(vec![
        form("bottrop", "buergerbuero", "fundsache-melden", &key),
        form("bottrop", "buergerbuero", "meldebescheinigung", &key),
        form("bottrop", "standesamt", "geburtsurkunde", &key),
        form("gelsenkirchen", "buergerbuero", "fundsache-melden", &key),
    ]);
    let login = OfficeLoginConfig {
        issuer: ISSUER.into(),
        client_id: "lotse-arbeitsplatz".into(),
        offices_claim: "lotse_offices".into(),
    };
    let mut config = common::config();
    config.rate_limit_per_minute = 10_000;
    config.staff_login = Some(StaffLogin {
        oidc: std::sync::Arc::new(Oidc::new(
            OidcConfig::for_staff(&login, "secret", SITE).unwrap(),
        )),
        keys: staff_keys(),
        offices_claim: login.offices_claim,
    });
    let app = App {
        store: SqliteStore::open(path).unwrap(),
        forms,
        http: NoNetwork,
        config,
    };
    (app, key)
}

fn temp_db(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lotse-workspace-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("lotse.sqlite3")
}

/// The cookie header of a staff session for `offices`.
fn staff_cookie(sub: &str, name: &str, offices: &[&str]) -> String {
    let session = StaffSession {
        sub: sub.into(),
        name: name.into(),
        offices: offices.iter().map(|o| o.to_string()).collect(),
        exp: NOW + STAFF_MAX_MS,
        idle_until: NOW + STAFF_IDLE_MS,
    };
    let (_, header) = session.renewed(&staff_keys(), NOW);
    header.split(';').next().unwrap().to_string()
}

fn petra() -> String {
    staff_cookie("petra.schulte", "Petra Schulte", &["bottrop/buergerbuero"])
}

fn murat() -> String {
    staff_cookie(
        "murat.yilmaz",
        "Murat Yilmaz",
        &["gelsenkirchen/buergerbuero"],
    )
}

fn send(app: &TestApp, request: Request) -> (u16, Value, Response) {
    let response = block_on(handle(app, request));
    let json = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status, json, response)
}

fn get(app: &TestApp, cookie: &str, path: &str, query: &str) -> (u16, Value, Response) {
    send(app, request("GET", path, query, &[("cookie", cookie)]))
}

/// A staff POST from the workspace (same origin).
fn staff_post(app: &TestApp, cookie: &str, path: &str, body: &Value) -> (u16, Value, Response) {
    let mut r = request(
        "POST",
        path,
        "",
        &[
            ("cookie", cookie),
            ("content-type", "application/json"),
            ("origin", SITE),
            ("host", "portal.example.de"),
        ],
    );
    r.body = body.to_string().into_bytes();
    send(app, r)
}

/// Submits to `portal`/`service` at `now_ms`; returns the id.
fn submit(app: &TestApp, portal: &str, service: &str, now_ms: u64) -> String {
    let body = json!({"portal": portal, "service": service, "fields": {"name": "Erika Klartext"}});
    let mut r = common::post(now_ms, None, &body.to_string());
    r.client = format!("192.0.2.{}", now_ms % 200);
    let (status, json, _) = send(app, r);
    assert_eq!(status, 201, "{json}");
    json["id"].as_str().unwrap().to_string()
}

#[test]
fn staff_see_exactly_their_offices_whatever_the_request() {
    let db = temp_db("scope");
    let (app, _) = workspace_app(&db);
    let bottrop = submit(&app, "bottrop", "fundsache-melden", NOW);
    let standesamt = submit(&app, "bottrop", "geburtsurkunde", NOW);
    let gelsenkirchen = submit(&app, "gelsenkirchen", "fundsache-melden", NOW);

    let (status, list, response) = get(
        &app,
        &petra(),
        "/api/office/bottrop/buergerbuero/applications",
        "",
    );
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![bottrop.as_str()]);
    // The answer renews the staff session.
    assert!(response.headers.iter().any(|(n, v)| n == "set-cookie"
        && v.starts_with("lotse_amt=")
        && v.contains("SameSite=Strict")));

    for (cookie, own, foreign_office, foreign_ids) in [
        (
            petra(),
            "bottrop/buergerbuero",
            "gelsenkirchen/buergerbuero",
            vec![gelsenkirchen.clone(), standesamt.clone()],
        ),
        (
            murat(),
            "gelsenkirchen/buergerbuero",
            "bottrop/buergerbuero",
            vec![bottrop.clone(), standesamt.clone()],
        ),
    ] {
        for route in ["applications", "counts", "audit"] {
            let (status, _, _) = get(&app, &cookie, &format!("/api/office/{own}/{route}"), "");
            assert_eq!(status, 200, "{own} {route}");
            let (status, json, _) = get(
                &app,
                &cookie,
                &format!("/api/office/{foreign_office}/{route}"),
                "",
            );
            assert_eq!(status, 403, "{foreign_office} {route}: {json}");
            assert_eq!(
                json["message"],
                "Sie arbeiten nicht für diese Dienststelle."
            );
        }
        // The standesamt of the same city is another office too.
        let (status, _, _) = get(
            &app,
            &cookie,
            "/api/office/bottrop/standesamt/applications",
            "limit=50",
        );
        assert_eq!(status, 403);
        for id in &foreign_ids {
            for path in [
                format!("/api/office/applications/{id}"),
                format!("/api/office/applications/{id}/messages"),
                format!("/api/office/applications/{id}/export"),
                format!("/api/office/applications/{id}/attachments/x1"),
            ] {
                let (status, _, _) = get(&app, &cookie, &path, "");
                assert_eq!(status, 404, "{path}");
            }
            for (path, body) in [
                (
                    format!("/api/office/applications/{id}/status"),
                    json!({"status": "completed"}),
                ),
                (
                    format!("/api/office/applications/{id}/messages"),
                    json!({"text": "Hallo"}),
                ),
            ] {
                let (status, _, _) = staff_post(&app, &cookie, &path, &body);
                assert_eq!(status, 404, "{path}");
            }
            let mut delete = request(
                "DELETE",
                &format!("/api/office/applications/{id}"),
                "",
                &[
                    ("cookie", &cookie),
                    ("origin", SITE),
                    ("host", "portal.example.de"),
                ],
            );
            delete.now_ms = NOW;
            assert_eq!(send(&app, delete).0, 404);
            // Searching for it by number in one's own inbox finds nothing.
            let (status, page, _) = get(
                &app,
                &cookie,
                &format!("/api/office/{own}/applications"),
                &format!("limit=50&id={id}"),
            );
            assert_eq!(status, 200);
            assert_eq!(page["applications"], json!([]));
        }
    }
    // Nothing of the foreign offices changed.
    let token = format!("Bearer {OFFICE_TOKEN}");
    let (_, all, _) = send(
        &app,
        request(
            "GET",
            "/api/office/gelsenkirchen/buergerbuero/applications",
            "",
            &[("authorization", &token)],
        ),
    );
    assert_eq!(all["applications"][0]["status"], "received");
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

#[test]
fn only_a_live_staff_cookie_opens_the_office_api() {
    let db = temp_db("cookies");
    let (app, _) = workspace_app(&db);
    let path = "/api/office/bottrop/buergerbuero/applications";
    let good = petra();
    let value = good.strip_prefix("lotse_amt=").unwrap();
    // Tampered, under other keys, under the citizen's cookie name, idle too long, none.
    let mut flipped = value.as_bytes().to_vec();
    flipped[20] = if flipped[20] == b'A' { b'B' } else { b'A' };
    let other_keys = {
        let session = StaffSession {
            sub: "x".into(),
            name: "x".into(),
            offices: vec!["bottrop/buergerbuero".into()],
            exp: NOW + STAFF_MAX_MS,
            idle_until: NOW + STAFF_IDLE_MS,
        };
        let (_, header) = session.renewed(&SessionKeys::random(), NOW);
        header.split(';').next().unwrap().to_string()
    };
    for cookie in [
        format!("lotse_amt={}", String::from_utf8(flipped).unwrap()),
        other_keys,
        format!("lotse_session={value}"),
        String::new(),
    ] {
        let (status, json, _) = get(&app, &cookie, path, "");
        assert_eq!(status, 401, "{cookie}: {json}");
    }
    let mut idle = request("GET", path, "", &[("cookie", &good)]);
    idle.now_ms = NOW + STAFF_IDLE_MS + 1;
    assert_eq!(send(&app, idle).0, 401);
    // A wrong bearer token is 401 even with a good cookie.
    let (status, _, _) = send(
        &app,
        request(
            "GET",
            path,
            "",
            &[
                ("cookie", &good),
                ("authorization", "Bearer falsch-falsch-falsch"),
            ],
        ),
    );
    assert_eq!(status, 401);
    // The session answer names the offices; logged out it says so.
    let (_, session, _) = get(&app, &good, "/api/amt/session", "");
    assert_eq!(session["logged_in"], true);
    assert_eq!(session["name"], "Petra Schulte");
    assert_eq!(session["offices"], json!(["bottrop/buergerbuero"]));
    let (_, session, _) = get(&app, "", "/api/amt/session", "");
    assert_eq!(session, json!({"logged_in": false, "configured": true}));
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

#[test]
fn staff_changes_come_from_the_site_only() {
    let db = temp_db("origin");
    let (app, _) = workspace_app(&db);
    let id = submit(&app, "bottrop", "fundsache-melden", NOW);
    let path = format!("/api/office/applications/{id}/status");
    let mut foreign = request(
        "POST",
        &path,
        "",
        &[
            ("cookie", &petra()),
            ("content-type", "application/json"),
            ("origin", "https://evil.example"),
            ("host", "portal.example.de"),
        ],
    );
    foreign.body = br#"{"status":"completed"}"#.to_vec();
    let (status, json, _) = send(&app, foreign);
    assert_eq!(status, 403, "{json}");
    let (status, json, _) = staff_post(&app, &petra(), &path, &json!({"status": "in_progress"}));
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["status"], "in_progress");
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

#[test]
fn the_audit_log_records_who_did_what_never_content_and_cannot_change() {
    let db = temp_db("audit");
    let (app, _) = workspace_app(&db);
    let id = submit(&app, "bottrop", "fundsache-melden", NOW);
    // Petra sets a status with a note, writes with a file, exports, downloads the file.
    let (status, _, _) = staff_post(
        &app,
        &petra(),
        &format!("/api/office/applications/{id}/status"),
        &json!({"status": "needs_info", "note": NOTE}),
    );
    assert_eq!(status, 200);
    let (status, json, _) = get(
        &app,
        &petra(),
        &format!("/api/office/applications/{id}/export"),
        "format=print",
    );
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["application"]["id"], id.as_str());
    assert_eq!(json["application"]["history"].as_array().unwrap().len(), 2);
    assert_eq!(json["messages"].as_array().unwrap().len(), 1);
    let (status, json, _) = get(
        &app,
        &petra(),
        &format!("/api/office/applications/{id}/export"),
        "format=pdf",
    );
    assert_eq!(status, 400, "{json}");
    // The machine's token is recorded as such.
    let token = format!("Bearer {OFFICE_TOKEN}");
    let mut by_token = request(
        "POST",
        &format!("/api/office/applications/{id}/status"),
        "",
        &[
            ("authorization", &token),
            ("content-type", "application/json"),
        ],
    );
    by_token.body = br#"{"status":"completed"}"#.to_vec();
    assert_eq!(send(&app, by_token).0, 200);

    let (status, log, _) = get(&app, &petra(), "/api/office/bottrop/buergerbuero/audit", "");
    assert_eq!(status, 200, "{log}");
    let entries = log["entries"].as_array().unwrap();
    let summary: Vec<(String, String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
                e["detail"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("token".into(), "status".into(), "completed".into()),
            ("staff".into(), "export".into(), "print".into()),
            ("staff".into(), "status".into(), "needs_info".into()),
        ],
        "newest first"
    );
    assert_eq!(entries[1]["actor_name"], "Petra Schulte");
    assert_eq!(entries[1]["actor_id"], "petra.schulte");
    assert_eq!(entries[1]["application"], id.as_str());
    assert!(!log.to_string().contains("Kanarienvogel"));
    // Murat's office log shows none of it.
    let (_, other, _) = get(
        &app,
        &murat(),
        "/api/office/gelsenkirchen/buergerbuero/audit",
        "",
    );
    assert_eq!(other["entries"], json!([]));

    // Nothing of the note rests in the audit log, and no statement changes it.
    let raw = rusqlite::Connection::open(&db).unwrap();
    let texts: Vec<String> = raw
        .prepare("SELECT coalesce(detail, '') || ' ' || action FROM audit_log")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        texts.iter().all(|t| !t.contains("Kanarienvogel")),
        "{texts:?}"
    );
    for statement in [
        "UPDATE audit_log SET actor_name = 'jemand'",
        "DELETE FROM audit_log",
    ] {
        let error = raw.execute(statement, []).unwrap_err().to_string();
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
    // Deleting the application keeps its entries and adds one.
    let mut delete = request(
        "DELETE",
        &format!("/api/office/applications/{id}"),
        "",
        &[("authorization", &token)],
    );
    delete.now_ms = NOW;
    assert_eq!(send(&app, delete).0, 204);
    let (_, log, _) = get(&app, &petra(), "/api/office/bottrop/buergerbuero/audit", "");
    assert_eq!(log["entries"].as_array().unwrap().len(), 4);
    assert_eq!(log["entries"][0]["action"], "delete");
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

#[test]
fn staff_fetch_files_by_address_and_every_download_is_recorded() {
    let db = temp_db("files");
    let (app, _) = workspace_app(&db);
    let id = submit(&app, "bottrop", "fundsache-melden", NOW);
    let boundary = "b0815";
    let pdf = b"%PDF-1.7\n% Bescheid\n%%EOF\n";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nIhr Bescheid\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bescheid.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let length = body.len().to_string();
    let mut post = request(
        "POST",
        &format!("/api/office/applications/{id}/messages"),
        "",
        &[
            ("cookie", &petra()),
            ("content-type", &content_type),
            ("content-length", &length),
            ("origin", SITE),
            ("host", "portal.example.de"),
        ],
    );
    post.body = body;
    let (status, json, _) = send(&app, post);
    assert_eq!(status, 201, "{json}");
    let (_, thread, _) = get(
        &app,
        &petra(),
        &format!("/api/office/applications/{id}/messages"),
        "",
    );
    let file = &thread["messages"][0]["attachments"][0];
    assert!(file.get("ciphertext").is_none(), "{file}");
    let href = file["href"].as_str().unwrap();
    let (status, _, response) = get(&app, &petra(), href, "");
    assert_eq!(status, 200);
    assert!(!response.body.is_empty());
    let (_, log, _) = get(&app, &petra(), "/api/office/bottrop/buergerbuero/audit", "");
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["download", "message"]);
    assert_eq!(log["entries"][0]["detail"], file["id"]);
    assert_eq!(log["entries"][1]["detail"], "1 Dateien");
    assert!(!log.to_string().contains("bescheid.pdf"));
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

#[test]
fn pages_walk_the_whole_inbox_once_with_filters_and_counts() {
    let db = temp_db("pages");
    let (app, _) = workspace_app(&db);
    let mut ids = Vec::new();
    for i in 0..130u64 {
        let service = if i % 3 == 0 {
            "meldebescheinigung"
        } else {
            "fundsache-melden"
        };
        // Some share a second, so ties are broken by id.
        ids.push(submit(&app, "bottrop", service, NOW + (i / 2) * 1000));
    }
    submit(&app, "gelsenkirchen", "fundsache-melden", NOW);
    let token = format!("Bearer {OFFICE_TOKEN}");
    for id in ids.iter().take(10) {
        let mut r = request(
            "POST",
            &format!("/api/office/applications/{id}/status"),
            "",
            &[
                ("authorization", &token),
                ("content-type", "application/json"),
            ],
        );
        r.body = br#"{"status":"in_progress"}"#.to_vec();
        assert_eq!(send(&app, r).0, 200);
    }
    let path = "/api/office/bottrop/buergerbuero/applications";
    let walk = |query: &str| -> Vec<String> {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let q = format!("limit=50&{query}&cursor={cursor}");
            let (status, page, _) = get(&app, &petra(), path, &q);
            assert_eq!(status, 200, "{q}: {page}");
            let batch = page["applications"].as_array().unwrap();
            assert!(batch.len() <= 50);
            seen.extend(batch.iter().map(|a| a["id"].as_str().unwrap().to_string()));
            match page["next"].as_str() {
                Some(next) => cursor = next.to_string(),
                None => break,
            }
        }
        seen
    };
    let oldest = walk("order=oldest");
    assert_eq!(oldest.len(), 130);
    let mut unique = oldest.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 130, "no application twice");
    let mut newest = walk("order=newest");
    newest.reverse();
    assert_eq!(newest, oldest);
    assert_eq!(walk("status=in_progress").len(), 10);
    assert_eq!(walk("status=received,in_progress").len(), 130);
    assert_eq!(walk("service=meldebescheinigung").len(), 44);
    assert_eq!(
        walk("status=in_progress&service=meldebescheinigung").len(),
        4
    );
    let (_, found, _) = get(
        &app,
        &petra(),
        path,
        &format!("limit=50&id={}", ids[7].to_lowercase()),
    );
    assert_eq!(found["applications"][0]["id"], ids[7].as_str());
    for bad in [
        "limit=0",
        "limit=101",
        "limit=50&status=awaiting_payment",
        "limit=50&order=random",
        "limit=50&cursor=x",
        "limit=50&id=kein",
        "limit=50&service=Ä",
    ] {
        let (status, json, _) = get(&app, &petra(), path, bad);
        assert_eq!(status, 400, "{bad}: {json}");
        assert!(json["message"].is_string());
    }
    let (_, counts, _) = get(
        &app,
        &petra(),
        "/api/office/bottrop/buergerbuero/counts",
        "",
    );
    assert_eq!(counts["statuses"]["received"], 120);
    assert_eq!(counts["statuses"]["in_progress"], 10);
    assert_eq!(counts["statuses"]["completed"], 0);
    assert_eq!(
        counts["services"],
        json!({"fundsache-melden": 86, "meldebescheinigung": 44})
    );
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}
