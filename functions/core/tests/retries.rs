//! Idempotent retries and the rate limit, natively on SQLite with a fake clock
//! (`Request::now_ms`): one application per Idempotency-Key under concurrency, keys
//! bound to their request, replays outside the rate limit, the sliding window, and the
//! migration of a database written before these tables changed.

mod common;

use std::sync::Barrier;

use common::{config, post, schema, Catalogue, NOW};
use futures_executor::block_on;
use lotse_functions::auth::NoNetwork;
use lotse_functions::sqlite::SqliteStore;
use lotse_functions::{handle, App, Config, HashSecret, Request, Store};
use serde_json::Value;

type TestApp = App<SqliteStore, Catalogue, NoNetwork>;

fn app_with(store: SqliteStore, rate_limit: u32) -> TestApp {
    let (_, public) = lotse_envelope::PrivateKey::generate();
    let key = public.to_base64();
    App {
        store,
        forms: Catalogue(vec![
            schema("hund-anmelden", &key),
            schema("katze-anmelden", &key),
        ]),
        http: NoNetwork,
        config: Config {
            rate_limit_per_minute: rate_limit,
            hash_secret: HashSecret::from_bytes([9; 32]),
            ..config()
        },
    }
}

fn app(rate_limit: u32) -> TestApp {
    app_with(SqliteStore::in_memory().unwrap(), rate_limit)
}

const T0: u64 = NOW;

fn body(service: &str, name: &str) -> String {
    format!(
        r#"{{"portal":"musterstadt","service":"{service}","fields":{{"name":"{name}","iban":"DE89 3704 0044 0532 0130 00"}}}}"#
    )
}

fn send(app: &TestApp, request: Request) -> (u16, Value, Option<String>) {
    let answer = block_on(handle(app, request));
    let json = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    (
        answer.status,
        json,
        answer.header("retry-after").map(str::to_string),
    )
}

fn stored(app: &TestApp) -> usize {
    block_on(app.store.office_applications("musterstadt", "steueramt"))
        .unwrap()
        .len()
}

#[test]
fn twenty_concurrent_retries_store_one_application() {
    for round in 0..5 {
        let app = app(1000);
        let key = format!("parallel-key-{round}");
        let barrier = Barrier::new(20);
        let answers: Vec<(u16, Value, Option<String>)> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..20)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        send(&app, post(T0, Some(&key), &body("hund-anmelden", "Erika")))
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert_eq!(stored(&app), 1, "round {round}: applications for one key");
        let first = answers
            .iter()
            .find(|(status, _, _)| *status == 201)
            .expect("one 201")
            .1
            .clone();
        for (status, json, retry_after) in answers {
            match status {
                201 => assert_eq!(json, first),
                409 => {
                    assert_eq!(json["error"], "idempotency_in_flight");
                    assert_eq!(retry_after.as_deref(), Some("1"));
                }
                other => panic!("round {round}: {other} {json}"),
            }
        }
        // Every retry now gets the first answer.
        let (status, again, _) = send(
            &app,
            post(T0 + 5, Some(&key), &body("hund-anmelden", "Erika")),
        );
        assert_eq!((status, again), (201, first));
        assert_eq!(stored(&app), 1);
    }
}

#[test]
fn a_key_is_bound_to_its_request() {
    let app = app(1000);
    let key = Some("bound-key-0001");
    let (status, first, _) = send(&app, post(T0, key, &body("hund-anmelden", "Erika")));
    assert_eq!(status, 201, "{first}");
    let token = first["token"].as_str().unwrap().to_string();

    // The same request, spaced differently and as a form with a JSON answer: the same.
    let (status, again, _) = send(
        &app,
        post(
            T0 + 1,
            key,
            &body("hund-anmelden", "Erika").replace("DE89 3704", "DE893704"),
        ),
    );
    assert_eq!((status, &again), (201, &first));
    let mut form = post(
        T0 + 2,
        key,
        "portal=musterstadt&service=hund-anmelden&name=Erika&iban=DE89370400440532013000",
    );
    form.headers[0].1 = "application/x-www-form-urlencoded".into();
    let (status, again, _) = send(&app, form.clone());
    assert_eq!((status, &again), (201, &first));

    for (request, reason) in [
        (post(T0 + 3, key, &body("hund-anmelden", "Max")), "fields"),
        (
            post(T0 + 4, key, &body("katze-anmelden", "Erika")),
            "service",
        ),
        (
            Request {
                headers: [
                    form.headers.clone(),
                    vec![("accept".into(), "text/html".into())],
                ]
                .concat(),
                ..form.clone()
            },
            "answer",
        ),
    ] {
        let answer = block_on(handle(&app, request));
        let text = String::from_utf8_lossy(&answer.body).to_string();
        assert_eq!(answer.status, 422, "{reason}: {text}");
        assert!(!text.contains(&token), "{reason}: the token leaks");
        if reason != "answer" {
            let json: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(json["error"], "idempotency_mismatch");
            assert_eq!(json["reason"], reason);
        } else {
            assert!(text.contains("Idempotency-Key"), "{text}");
        }
    }
    assert_eq!(stored(&app), 1);

    // Keys that are not 8 to 200 visible ASCII characters, or two keys: 400, never ignored.
    let long = "k".repeat(201);
    for bad in [
        "kurz",
        long.as_str(),
        "mit leerzeichen",
        "schl\u{fc}ssel-01",
        "",
    ] {
        let (status, json, _) = send(&app, post(T0 + 5, Some(bad), &body("hund-anmelden", "Bad")));
        assert_eq!(status, 400, "{bad:?}: {json}");
        assert_eq!(json["error"], "invalid_idempotency_key");
    }
    let mut two = post(
        T0 + 6,
        Some("first-key-0001"),
        &body("hund-anmelden", "Zwei"),
    );
    two.headers
        .push(("Idempotency-Key".into(), "second-key-0002".into()));
    assert_eq!(send(&app, two).0, 400);
    assert_eq!(stored(&app), 1, "a refused key stores nothing");
}

#[test]
fn replays_are_not_counted_and_not_limited() {
    let app = app(3);
    let key = Some("rate-key-000001");
    let (status, first, _) = send(&app, post(T0, key, &body("hund-anmelden", "Erika")));
    assert_eq!(status, 201);
    for i in 1..=10 {
        let (status, again, _) = send(&app, post(T0 + i, key, &body("hund-anmelden", "Erika")));
        assert_eq!((status, &again), (201, &first), "replay {i}");
    }
    // Two more new submissions fit (the replays did not count), the third does not.
    for i in 0..2 {
        assert_eq!(
            send(
                &app,
                post(T0 + 100 + i, None, &body("hund-anmelden", "Neu"))
            )
            .0,
            201
        );
    }
    let (status, _, retry_after) = send(&app, post(T0 + 200, None, &body("hund-anmelden", "Neu")));
    assert_eq!(status, 429);
    assert_eq!(retry_after.as_deref(), Some("60"));
    // The limited client still gets its replay.
    let (status, again, _) = send(&app, post(T0 + 300, key, &body("hund-anmelden", "Erika")));
    assert_eq!((status, again), (201, first));
    // A new key is a new submission, and limited.
    let (status, _, _) = send(
        &app,
        post(
            T0 + 400,
            Some("rate-key-000002"),
            &body("hund-anmelden", "Erika"),
        ),
    );
    assert_eq!(status, 429);
    // Another client is not.
    let mut other = post(T0 + 500, None, &body("hund-anmelden", "Nachbar"));
    other.client = "192.0.2.2".into();
    assert_eq!(send(&app, other).0, 201);
}

#[test]
fn the_rate_window_slides() {
    let app = app(3);
    let submit = |at: u64| send(&app, post(at, None, &body("hund-anmelden", "Erika")));
    // Three just before a minute turns, and none more just after it: a calendar minute
    // would let three more through.
    let minute = T0 - T0 % 60_000 + 60_000;
    for at in [minute - 300, minute - 200, minute - 100] {
        assert_eq!(submit(at).0, 201);
    }
    let (status, _, retry_after) = submit(minute + 100);
    assert_eq!(status, 429);
    // The oldest leaves the window at minute + 59.7 s.
    assert_eq!(retry_after.as_deref(), Some("60"));
    assert_eq!(submit(minute + 59_699).0, 429);
    assert_eq!(
        submit(minute + 59_700).0,
        201,
        "exactly 60 s later the oldest has left the window, and one fits"
    );
    let (status, _, retry_after) = submit(minute + 59_701);
    assert_eq!(status, 429);
    assert_eq!(
        retry_after.as_deref(),
        Some("1"),
        "the next leaves 99 ms later"
    );
    // Refused requests were not counted: at most three in any 60 seconds.
    assert_eq!(submit(minute + 59_800).0, 201);
    assert_eq!(submit(minute + 59_900).0, 201);
    assert_eq!(submit(minute + 59_950).0, 429);
    assert_eq!(stored(&app), 6);
}

#[test]
fn an_answered_key_replays_an_hour_later() {
    let app = app(1000);
    let key = Some("answered-key-01");
    let (status, first, _) = send(&app, post(T0, key, &body("hund-anmelden", "Erika")));
    assert_eq!(status, 201, "{first}");
    let (status, again, _) = send(
        &app,
        post(T0 + 3_600_000, key, &body("hund-anmelden", "Erika")),
    );
    assert_eq!((status, again), (201, first));
    assert_eq!(stored(&app), 1);
}

#[test]
fn an_unanswered_claim_answers_409_then_goes_stale() {
    let path = tempdir().join("lotse.sqlite3");
    let key = "stale-key-00002";
    // A request in flight: its claim is there, its application is not. Make it by
    // letting one request through, then turning its claim back into an unanswered one
    // of another owner (what a request that died after claiming leaves behind).
    {
        let app = app_with(SqliteStore::open(&path).unwrap(), 1000);
        let (status, _, _) = send(&app, post(T0, Some(key), &body("hund-anmelden", "Erika")));
        assert_eq!(status, 201);
    }
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute(
            "UPDATE idempotency_keys SET answer = NULL, owner = 'dead', claimed_at = ?1",
            [T0 as i64],
        )
        .unwrap();
    connection
        .execute("DELETE FROM status_history", [])
        .unwrap();
    connection.execute("DELETE FROM applications", []).unwrap();
    drop(connection);

    let app = app_with(SqliteStore::open(&path).unwrap(), 1000);
    let (status, json, retry_after) = send(
        &app,
        post(T0 + 29_999, Some(key), &body("hund-anmelden", "Erika")),
    );
    assert_eq!(status, 409, "{json}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    // A different request with the key is 422 even while the first is in flight.
    assert_eq!(
        send(
            &app,
            post(T0 + 29_999, Some(key), &body("hund-anmelden", "Max"))
        )
        .0,
        422
    );
    assert_eq!(stored(&app), 0);
    let (status, first, _) = send(
        &app,
        post(T0 + 30_001, Some(key), &body("hund-anmelden", "Erika")),
    );
    assert_eq!(status, 201, "{first}");
    let (status, again, _) = send(
        &app,
        post(T0 + 30_002, Some(key), &body("hund-anmelden", "Erika")),
    );
    assert_eq!((status, again), (201, first));
    assert_eq!(stored(&app), 1);
}

#[test]
fn a_database_from_before_keeps_its_applications() {
    let path = tempdir().join("lotse.sqlite3");
    {
        // The schema of 0001 alone, as every `lotse serve` before this one left it, with
        // an application, an idempotent answer and a rate window.
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .execute_batch(include_str!("../../migrations/0001_applications.sql"))
            .unwrap();
        connection
            .execute_batch(
                "INSERT INTO applications VALUES ('AAAA-BBBB', 'musterstadt', 'hund-anmelden', 'steueramt', 'hash', NULL, '{}', 'received', '2026-11-23T19:56:04Z', '2026-11-23T19:56:04Z');
                 INSERT INTO status_history (application_id, status, note, at) VALUES ('AAAA-BBBB', 'received', NULL, '2026-11-23T19:56:04Z');
                 INSERT INTO idempotency VALUES ('k', 'a', '2026-11-23T19:56:04Z');
                 INSERT INTO rate_limits VALUES ('c', 1, 1);",
            )
            .unwrap();
    }
    for _ in 0..2 {
        let store = SqliteStore::open(&path).unwrap();
        let kept = block_on(store.application("AAAA-BBBB")).unwrap();
        let kept = kept.expect("the application survives the migration");
        assert_eq!(
            kept.citizen_key, None,
            "no citizen key until the token is shown"
        );
        assert_eq!(block_on(store.history("AAAA-BBBB")).unwrap().len(), 1);
        let app = app_with(store, 1000);
        let (status, json, _) = send(
            &app,
            post(T0, Some("after-migration"), &body("hund-anmelden", "Erika")),
        );
        assert_eq!(status, 201, "{json}");
    }
    let connection = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 9);
    let old_tables: i64 = connection
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('idempotency', 'rate_limits')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(old_tables, 0);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "lotse-retries-{}-{}",
        std::process::id(),
        lotse_functions::new_token()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
