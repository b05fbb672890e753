//! SPEC section 5 over HTTP, against `lotse serve` and against the Workers runtime.

mod common;
mod http;

use http::{appointments, cases, conversation, login, notify, payment, server, workspace, Client};

#[test]
fn lotse_serve_passes_the_http_suite() {
    let server = server::lotse_serve(1000);
    cases::all(&Client::new(&server.base), server.state());
    conversation::all(
        &Client::new(&server.base),
        server.state(),
        conversation::Runtime::Serve,
    );
    workspace::unconfigured(&Client::new(&server.base));
    appointments::all(&Client::new(&server.base), server.state());
}

/// The caseworkers' workspace (docs/workspace.md): staff log in through the test
/// provider's workspace client, on a server of its own that logs citizens in too.
#[test]
fn lotse_serve_runs_the_workspace() {
    let port = server::free_port();
    let provider = workspace::start_provider(port);
    let env = workspace::serve_env(&provider, Some(workspace::STAFF_SESSION_SECRET));
    let server = server::lotse_serve_on(port, 1000, &workspace::refs(&env));
    workspace::all(&Client::new(&server.base), server.state());
    appointments::staff_sessions(&Client::new(&server.base));
    let sealed = workspace::staff_cookie(&Client::new(&server.base));
    drop(server);
    // The keys rotated: the former one still opens a session.
    let env = workspace::serve_env(&provider, Some(workspace::ROTATED_STAFF_SESSION_SECRET));
    let rotated = server::lotse_serve_on(server::free_port(), 1000, &workspace::refs(&env));
    workspace::key_rotation(&Client::new(&rotated.base), &sealed);
    drop(rotated);
    // Without LOTSE_STAFF_SESSION_SECRET: random keys of this process.
    let env = workspace::serve_env(&provider, None);
    let random = server::lotse_serve_on(server::free_port(), 1000, &workspace::refs(&env));
    workspace::other_keys(&Client::new(&random.base), &sealed);
}

#[test]
fn lotse_serve_logs_citizens_in() {
    let port = server::free_port();
    let provider = login::start_provider(&format!("http://127.0.0.1:{port}/api/callback"), None);
    let server = server::lotse_serve_on(
        port,
        1000,
        &[
            ("LOTSE_OIDC_ISSUER", provider.issuer.as_str()),
            ("LOTSE_OIDC_CLIENT_SECRET", login::CLIENT_SECRET),
            ("LOTSE_SESSION_SECRET", login::SESSION_SECRET),
            ("LOTSE_ACCOUNT_SECRET", login::ACCOUNT_SECRET),
        ],
    );
    let client = Client::new(&server.base);
    login::flow(&client);
    login::too_low(&client);
    login::token_refusals(&client, &provider);
}

/// The office writes; the citizen who left an address gets a mail over SMTP from a
/// real server on loopback, without the text. A dead mail server never holds up the
/// message: the notification waits in the outbox and goes out when the server is back.
#[test]
fn lotse_serve_notifies_by_smtp() {
    let smtp_port = server::free_port();
    let smtp_url = format!("smtp://127.0.0.1:{smtp_port}");
    let server = server::lotse_serve_on(
        server::free_port(),
        1000,
        &[
            ("LOTSE_SMTP_URL", smtp_url.as_str()),
            (
                "LOTSE_MAIL_FROM",
                "Serviceportal Emscher-Lippe <postfach@emscher-lippe.example>",
            ),
            ("LOTSE_MAIL_INTERVAL_MS", "200"),
        ],
    );
    let client = Client::new(&server.base);
    let smtp = notify::SmtpServer::start(smtp_port);
    let id = notify::office_writes_to_a_citizen_with_an_address(&client, "erika@example.org");
    let mails = notify::wait_until(|| smtp.mails(), 1, std::time::Duration::from_secs(15));
    assert_eq!(mails.len(), 1, "{mails:?}");
    notify::check_mail(&mails[0], &id, "erika@example.org", &server.base);
    assert_eq!(mails[0]["mail_from"], "postfach@emscher-lippe.example");
    // With the mail server gone, the office's message is stored all the same.
    drop(smtp);
    let started = std::time::Instant::now();
    let second = notify::office_writes_to_a_citizen_with_an_address(&client, "max@example.org");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_ne!(second, id);
}

/// SPEC section 7 through the test payment provider; the schedule runs every 200 ms.
#[test]
fn lotse_serve_takes_payments() {
    let provider = common::payment::start_payment_provider(&[]);
    let server = server::lotse_serve_on(
        server::free_port(),
        1000,
        &[
            ("LOTSE_PAYMENT_BASE_URL", provider.base.as_str()),
            ("LOTSE_PAYMENT_INTERVAL_MS", "200"),
            ("LOTSE_PAYMENT_RECHECK_MS", "200"),
        ],
    );
    let client = Client::new(&server.base);
    payment::all(&client, &provider);
    payment::never_returned(&client, &provider);
    payment::late_and_slow_payments(&client, &provider);
    payment::no_field_value_at_rest(&client, server.state());
}

#[test]
fn lotse_serve_limits_the_submission_rate() {
    let server = server::lotse_serve(3);
    cases::rate_limited(&Client::new(&server.base), 3);
    // Bookings share the window: it is full.
    appointments::rate_limited(&Client::new(&server.base), 3, false);
}

#[test]
fn lotse_serve_limits_the_booking_rate() {
    let server = server::lotse_serve(3);
    appointments::rate_limited(&Client::new(&server.base), 3, true);
}

/// The appointments' mails over SMTP (tests/smtp/server.py), from the outbox on the
/// server's timer: the office's cancellation, once; nothing for the citizen's own, and no
/// reminder for a booking made within a day of its start.
#[test]
fn lotse_serve_sends_appointment_mails() {
    let smtp_port = server::free_port();
    let smtp_url = format!("smtp://127.0.0.1:{smtp_port}");
    let smtp = notify::SmtpServer::start(smtp_port);
    let server = server::lotse_serve_on(
        server::free_port(),
        1000,
        &[
            ("LOTSE_SMTP_URL", smtp_url.as_str()),
            (
                "LOTSE_MAIL_FROM",
                "Serviceportal Emscher-Lippe <termine@emscher-lippe.example>",
            ),
            ("LOTSE_MAIL_INTERVAL_MS", "200"),
        ],
    );
    let mails = || {
        smtp.mails()
            .iter()
            .map(|m| appointments::Mail {
                to: m["rcpt_tos"][0].as_str().unwrap_or("").to_string(),
                subject: m["subject"].as_str().unwrap_or("").to_string(),
                text: m["text"].as_str().unwrap_or("").to_string(),
            })
            .collect()
    };
    appointments::mails(&Client::new(&server.base), &mails, &|| {});
}

/// Slots, bookings, calendar files and the office's day across the days the clocks
/// change, on a copy of the example region that books 52 weeks ahead.
#[test]
fn lotse_serve_books_across_the_clock_changes() {
    let (_dir, content) = appointments::year_ahead_content();
    let (_server, base) = appointments::serve_content(&content, &[]);
    appointments::across_the_clock_changes(&Client::new(&base));
}

/// The same suite in the real Workers runtime. CI sets LOTSE_REQUIRE_WORKERD=1, so a
/// missing toolchain fails there instead of passing silently.
#[test]
fn workerd_passes_the_http_suite() {
    if let Err(missing) = server::worker_ready() {
        assert!(
            std::env::var("LOTSE_REQUIRE_WORKERD").is_err(),
            "LOTSE_REQUIRE_WORKERD is set but {missing}"
        );
        eprintln!("skipped: {missing}");
        return;
    }
    server::build_dist();
    {
        let server = server::wrangler_dev(1000);
        cases::all(&Client::new(&server.base), server.state());
        conversation::all(
            &Client::new(&server.base),
            server.state(),
            conversation::Runtime::Workerd,
        );
        workspace::unconfigured(&Client::new(&server.base));
        appointments::all(&Client::new(&server.base), server.state());
    }
    {
        let limited = server::wrangler_dev(3);
        cases::rate_limited(&Client::new(&limited.base), 3);
        // Bookings share the window: it is full.
        appointments::rate_limited(&Client::new(&limited.base), 3, false);
    }
    {
        // The days the clocks change, on the year-ahead copy of the content.
        let (_dir, dist) = appointments::year_ahead_dist();
        let (_server, base) = appointments::wrangler_dev_on_dist(&dist);
        appointments::across_the_clock_changes(&Client::new(&base));
    }
    let port = server::free_port();
    let provider = login::start_provider(&format!("http://127.0.0.1:{port}/api/callback"), None);
    let with_login = server::wrangler_dev_on(
        port,
        1000,
        &[
            ("OIDC_ISSUER", provider.issuer.as_str()),
            ("OIDC_CLIENT_ID", login::CLIENT_ID),
            ("OIDC_CLIENT_SECRET", login::CLIENT_SECRET),
            ("SESSION_SECRET", login::SESSION_SECRET),
            ("ACCOUNT_SECRET", login::ACCOUNT_SECRET),
        ],
    );
    let client = Client::new(&with_login.base);
    login::flow(&client);
    login::too_low(&client);
    login::token_refusals(&client, &provider);
    drop(with_login);

    // The caseworkers' workspace: staff login (OFFICE_OIDC_* and STAFF_SESSION_SECRET,
    // passed by scripts/worker-dev.sh); after a rotation of STAFF_SESSION_SECRET; and
    // with the staff session key derived from the other secrets.
    let port = server::free_port();
    let provider = workspace::start_provider(port);
    let env = workspace::worker_env(&provider, Some(workspace::STAFF_SESSION_SECRET));
    let with_staff = server::wrangler_dev_on(port, 1000, &workspace::refs(&env));
    workspace::all(&Client::new(&with_staff.base), with_staff.state());
    appointments::staff_sessions(&Client::new(&with_staff.base));
    let sealed = workspace::staff_cookie(&Client::new(&with_staff.base));
    drop(with_staff);
    let env = workspace::worker_env(&provider, Some(workspace::ROTATED_STAFF_SESSION_SECRET));
    let rotated = server::wrangler_dev_on(server::free_port(), 1000, &workspace::refs(&env));
    workspace::key_rotation(&Client::new(&rotated.base), &sealed);
    drop(rotated);
    let port = server::free_port();
    let provider = workspace::start_provider(port);
    let env = workspace::worker_env(&provider, None);
    let derived = server::wrangler_dev_on(port, 1000, &workspace::refs(&env));
    workspace::derived_keys(&Client::new(&derived.base), &sealed);
    drop(derived);

    // Notifications: right after the office writes, the worker sends what its message
    // queued through the HTTP mail API on loopback (wrangler dev cannot fire the Cron
    // Trigger of a workers-rs worker, see functions/worker/src/lib.rs).
    let mail_api = notify::MailApi::start();
    let with_mail = server::wrangler_dev_on(
        server::free_port(),
        1000,
        &[
            ("MAIL_API_URL", mail_api.url.as_str()),
            ("MAIL_API_TOKEN", "mail-api-token-4711"),
            (
                "MAIL_FROM",
                "Serviceportal <postfach@emscher-lippe.example>",
            ),
            (
                "HASH_SECRET",
                "bG90c2UtdGVzdC1oYXNoLXNlY3JldC0zMi1ieXRlcyE=",
            ),
        ],
    );
    let client = Client::new(&with_mail.base);
    let id = notify::office_writes_to_a_citizen_with_an_address(&client, "erika@example.org");
    let received = notify::wait_until(
        || mail_api.received(),
        1,
        std::time::Duration::from_secs(15),
    );
    assert_eq!(received.len(), 1, "{received:?}");
    let (authorization, mail) = &received[0];
    assert_eq!(authorization, "Bearer mail-api-token-4711");
    assert_eq!(mail["to"], serde_json::json!(["erika@example.org"]));
    assert_eq!(
        mail["subject"],
        format!("Neue Nachricht zu Ihrem Antrag {id}")
    );
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains(&format!("Es gibt eine neue Nachricht zu Ihrem Antrag {id}")));
    assert!(text.contains(&format!("{}/api/vorgang?id={id}", with_mail.base)));
    assert!(!mail.to_string().contains("Vertraulicher Inhalt"));
    // Sent once: another office message to an application without an address sends
    // nothing, and the first is not sent again.
    let (other, _) = cases::submit(&client, "ohne-adresse");
    let written = client.post_json(
        &format!("/api/office/applications/{other}/messages"),
        &[("authorization", &format!("Bearer {}", server::OFFICE_TOKEN))],
        &serde_json::json!({"text": "Hallo"}),
    );
    assert_eq!(written.status, 201);
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(mail_api.received().len(), 1);
    // The appointments' mails: the office's cancellation, sent after the office's
    // request like the message's notification.
    let mails = || {
        mail_api
            .received()
            .iter()
            .map(|(_, m)| appointments::Mail {
                to: m["to"][0].as_str().unwrap_or("").to_string(),
                subject: m["subject"].as_str().unwrap_or("").to_string(),
                text: m["text"].as_str().unwrap_or("").to_string(),
            })
            .collect()
    };
    appointments::mails(&client, &mails, &|| appointments::office_round(&client));
    drop(with_mail);

    // Payments through the test provider. The citizen who never comes back is settled
    // by requests' sweeps here (wrangler dev cannot fire a workers-rs worker's Cron
    // Trigger, which runs the same reconcile_payments on Cloudflare).
    let provider = common::payment::start_payment_provider(&[]);
    let with_payments = server::wrangler_dev_on(
        server::free_port(),
        1000,
        &[
            ("PAYMENT_BASE_URL", provider.base.as_str()),
            ("PAYMENT_RECHECK_MS", "200"),
        ],
    );
    let client = Client::new(&with_payments.base);
    payment::all(&client, &provider);
    payment::never_returned(&client, &provider);
    payment::late_and_slow_payments(&client, &provider);
    payment::no_field_value_at_rest(&client, with_payments.state());
}
