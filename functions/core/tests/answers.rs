//! What the answers show: the receipt page only what the store confirms (issue 12 item
//! 4), and nothing that vanishes quietly when a stored row or the store fails (item 6).
//! The store is a real SQLite file, damaged with plain SQL where a case needs it.

mod common;

use common::{login_setup, post, request, session_cookie, OneForm, NOW, OFFICE_TOKEN, TITLE};
use futures_executor::block_on;
use lotse_functions::auth::NoNetwork;
use lotse_functions::sqlite::SqliteStore;
use lotse_functions::{handle, App, Response};
use lotse_model::TrustLevel;
use serde_json::Value;

/// The app with the one form and login on.
fn app(store: SqliteStore) -> App<SqliteStore, OneForm, NoNetwork> {
    let (mut app, _) = common::app(store);
    app.config.login = Some(login_setup());
    app
}

/// Submits the form as a browser does: with a session cookie when given.
fn submit_form(app: &App<SqliteStore, OneForm, NoNetwork>, cookie: Option<&str>) -> Response {
    let mut headers = vec![
        ("content-type", "application/x-www-form-urlencoded"),
        ("accept", "text/html"),
        ("sec-fetch-site", "same-origin"),
    ];
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    let mut submit = request("POST", "/api/applications", "", &headers);
    submit.body = b"portal=musterstadt&service=hund-anmelden&name=Erika+Klartext".to_vec();
    block_on(handle(app, submit))
}

fn submit_json(app: &App<SqliteStore, OneForm, NoNetwork>) -> (String, String) {
    let submit = post(
        NOW,
        None,
        r#"{"portal":"musterstadt","service":"hund-anmelden","fields":{"name":"Erika"}}"#,
    );
    let answer = block_on(handle(app, submit));
    assert_eq!(answer.status, 201);
    let body: Value = serde_json::from_slice(&answer.body).unwrap();
    (
        body["id"].as_str().unwrap().into(),
        body["token"].as_str().unwrap().into(),
    )
}

fn text(answer: &Response) -> String {
    String::from_utf8_lossy(&answer.body).into_owned()
}

/// A store in a file of its own, so that a second connection can damage it.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

fn temp_store(name: &str) -> (TempFile, std::path::PathBuf, SqliteStore) {
    let path = std::env::temp_dir().join(format!(
        "lotse-answers-{name}-{}.sqlite3",
        std::process::id()
    ));
    let file = TempFile(path.clone());
    drop(TempFile(path.clone()));
    let store = SqliteStore::open(&path).unwrap();
    (file, path, store)
}

#[test]
fn the_receipt_page_shows_only_what_the_store_confirms() {
    let app = app(SqliteStore::in_memory().unwrap());
    let page = |query: &str, cookie: Option<&str>| {
        let mut headers = vec![("accept", "text/html")];
        if let Some(cookie) = cookie {
            headers.push(("cookie", cookie));
        }
        block_on(handle(
            &app,
            request("GET", "/api/receipt", query, &headers),
        ))
    };
    let refused = |answer: &Response, what: &str| {
        assert_eq!(answer.status, 404, "{what}: {}", text(answer));
        assert!(
            !text(answer).contains("Ihr Antrag ist eingegangen"),
            "{what}"
        );
        assert!(!text(answer).contains(TITLE), "{what}");
    };
    refused(
        &page(
            "id=AAAA-AAAA&token=ABCDEFGHJKMNPQRSTVWXYZ2345&portal=musterstadt&service=hund-anmelden",
            None,
        ),
        "made up",
    );
    let (id, token) = submit_json(&app);
    refused(
        &page(&format!("id={id}&token={token}"), None),
        "a real pair in the address",
    );

    let answer = submit_form(&app, None);
    assert_eq!(answer.status, 303, "{}", text(&answer));
    let location = answer.header("location").unwrap().to_string();
    let own = location
        .strip_prefix("/api/receipt?id=")
        .unwrap()
        .to_string();
    assert_eq!(own.len(), 9, "the address names only the id: {location}");
    assert!(answer.body.is_empty());
    let set_cookie = answer.header("set-cookie").unwrap().to_string();
    let pair = set_cookie.split(';').next().unwrap().to_string();
    assert!(pair.starts_with(&format!("lotse_receipt_{}=", own.replace('-', ""))));
    let receipt = page(&format!("id={own}"), Some(&pair));
    assert_eq!(receipt.status, 200, "{}", text(&receipt));
    let body = text(&receipt);
    assert!(body.contains("Ihr Antrag ist eingegangen") && body.contains(TITLE));
    assert!(body.contains(&own));
    let shown = body
        .split("<code class=\"schluessel\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap();
    assert_eq!(shown.len(), 26);
    assert!(
        !pair.contains(shown),
        "the cookie carries the token in clear"
    );
    // The shown token opens the status page: it is the stored one.
    let mut status = request(
        "GET",
        &format!("/api/applications/{own}"),
        "",
        &[("authorization", &format!("Bearer {shown}"))],
    );
    status.now_ms = NOW;
    assert_eq!(block_on(handle(&app, status)).status, 200);

    refused(&page(&format!("id={own}"), None), "no cookie");
    refused(&page(&format!("id={id}"), Some(&pair)), "another id");
    let value = pair.split_once('=').unwrap().1;
    let renamed = format!("lotse_receipt_{}={value}", id.replace('-', ""));
    refused(&page(&format!("id={id}"), Some(&renamed)), "renamed cookie");
    let mut late = request(
        "GET",
        "/api/receipt",
        &format!("id={own}"),
        &[("cookie", &pair)],
    );
    late.now_ms = NOW + 16 * 60 * 1000;
    refused(&block_on(handle(&app, late)), "after 16 minutes");
    // Another process, another receipt key: the cookie no longer opens.
    let other = self::app(SqliteStore::in_memory().unwrap());
    let elsewhere = block_on(handle(
        &other,
        request(
            "GET",
            "/api/receipt",
            &format!("id={own}"),
            &[("cookie", &pair)],
        ),
    ));
    assert_eq!(elsewhere.status, 404);
}

/// An envelope that cannot be read is listed, marked unreadable, and its id logged.
#[test]
fn the_office_inbox_lists_an_unreadable_envelope_and_logs_its_id() {
    let (_file, path, store) = temp_store("office");
    let app = app(store);
    let (first, _) = submit_json(&app);
    let (damaged, token) = submit_json(&app);
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute(
        "UPDATE applications SET envelope = 'kaputt' WHERE id = ?1",
        [&damaged],
    )
    .unwrap();
    let list = block_on(handle(
        &app,
        request(
            "GET",
            "/api/office/musterstadt/steueramt/applications",
            "",
            &[("authorization", &format!("Bearer {OFFICE_TOKEN}"))],
        ),
    ));
    assert_eq!(list.status, 200);
    let body: Value = serde_json::from_slice(&list.body).unwrap();
    let entries = body["applications"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{body}");
    let entry = entries
        .iter()
        .find(|e| e["id"] == damaged.as_str())
        .unwrap();
    assert!(entry["unreadable"].is_string(), "{entry}");
    assert_eq!(entry["status"], "received");
    assert!(entries
        .iter()
        .any(|e| e["id"] == first.as_str() && e["ciphertext"].is_string()));
    assert_eq!(list.log.len(), 1, "{:?}", list.log);
    assert!(list.log[0].contains(&damaged));
    assert!(!list.log[0].contains(&token) && !list.log[0].contains("kaputt"));
}

/// When the history cannot be read, Mein Postfach answers 503 (HTML and JSON), logged
/// with the id, instead of a page that shows less than there is.
#[test]
fn mein_postfach_answers_503_when_a_history_cannot_be_read() {
    let (_file, path, store) = temp_store("mailbox");
    let app = app(store);
    let cookie = session_cookie(TrustLevel::Low, &app.config.login.as_ref().unwrap().keys);
    let answer = submit_form(&app, Some(&cookie));
    assert_eq!(answer.status, 303, "{}", text(&answer));
    let id = answer
        .header("location")
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .to_string();
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch("DROP TABLE status_history").unwrap();
    for (path, accept) in [
        ("/api/postfach", "text/html"),
        ("/api/applications", "application/json"),
    ] {
        let answer = block_on(handle(
            &app,
            request("GET", path, "", &[("cookie", &cookie), ("accept", accept)]),
        ));
        assert_eq!(answer.status, 503, "{path}: {}", text(&answer));
        assert!(answer.header("retry-after").is_some(), "{path}");
        assert!(
            answer.log.iter().any(|line| line.contains(&id)),
            "{path}: {:?}",
            answer.log
        );
    }
}
