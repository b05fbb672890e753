//! The office's appointments in the terminal (SPEC section 8), against `lotse serve` on
//! the example region: two citizens book by HTTP, `lotse inbox appointments` lists the
//! day with their names and addresses opened with the office key (table and `--json`),
//! `lotse inbox cancel-appointment` cancels one with a message, and a wrong key, a
//! wrong token and a second cancellation end in exit code 3.

mod common;
#[allow(dead_code)]
mod http;

use std::process::{Command, Output};

use serde_json::{json, Value};

use http::server::{repo, OFFICE_TOKEN};
use http::{server, Client};

const KEY: &str = "examples/office-keys/bottrop/buergerbuero.key";
const OTHER_KEY: &str = "examples/office-keys/bottrop/standesamt.key";

fn lotse(args: &[&str], token: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lotse"))
        .current_dir(repo())
        .args(args)
        .env("LOTSE_OFFICE_TOKEN", token)
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Books `start`; the appointment's id, end and token.
fn book(client: &Client, start: &str, name: &str, email: &str) -> (String, String, String) {
    let body = json!({
        "portal": "bottrop", "service": "personalausweis-beantragen", "start": start,
        "fields": {"name": name, "email": email},
    });
    let answer = client.request(
        "POST",
        "/api/appointments",
        &[("content-type", "application/json")],
        Some(body.to_string().as_bytes()),
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    let json = answer.json();
    assert_eq!(json["start"], start);
    (
        json["id"].as_str().unwrap().to_string(),
        json["end"].as_str().unwrap().to_string(),
        json["token"].as_str().unwrap().to_string(),
    )
}

/// `09:30` of an RFC 3339 time.
fn clock(time: &str) -> &str {
    &time[11..16]
}

#[test]
fn the_office_lists_its_day_decrypted_and_cancels_with_a_message() {
    let server = server::lotse_serve(1000);
    let client = Client::new(&server.base);
    let slots = client.request(
        "GET",
        "/api/appointments/bottrop/personalausweis-beantragen/slots",
        &[],
        None,
    );
    assert_eq!(slots.status, 200, "{}", slots.body);
    let slots: Vec<String> = slots.json()["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_string())
        .collect();
    let date = slots[0][..10].to_string();
    let day: Vec<&String> = slots.iter().filter(|s| s.starts_with(&date)).collect();
    assert!(day.len() >= 2, "{slots:?}");
    // Booked in the other order: the list is by start.
    let (erika, erika_end, erika_token) =
        book(&client, day[1], "Erika Mustermann", "erika@example.org");
    let (max, max_end, _) = book(
        &client,
        day[0],
        "Max Müller-Lüdenscheidt",
        "max@example.org",
    );

    let list = |key: &str, json: bool, token: &str| {
        let mut args = vec![
            "inbox",
            "appointments",
            "--server",
            &server.base,
            "--portal",
            "bottrop",
            "--office",
            "buergerbuero",
            "--date",
            &date,
            "--key",
            key,
        ];
        if json {
            args.push("--json");
        }
        lotse(&args, token)
    };

    // The table: a heading, then one line per appointment by start, decrypted.
    let table = ok(&list(KEY, false, OFFICE_TOKEN));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        format!("bottrop/buergerbuero on {date}: 2 appointment(s), 2 booked, 0 cancelled"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "{table}");
    for (line, (start, end, name, email, id)) in lines[1..].iter().zip([
        (
            day[0],
            &max_end,
            "Max Müller-Lüdenscheidt",
            "max@example.org",
            &max,
        ),
        (
            day[1],
            &erika_end,
            "Erika Mustermann",
            "erika@example.org",
            &erika,
        ),
    ]) {
        assert!(
            line.starts_with(&format!("{}–{}  booked", clock(start), clock(end))),
            "{table}"
        );
        for part in ["Personalausweis beantragen", name, email, id] {
            assert!(line.contains(part), "{part} in {table}");
        }
    }

    // The same as JSON.
    let answer: Value = serde_json::from_str(&ok(&list(KEY, true, OFFICE_TOKEN))).unwrap();
    assert_eq!(answer["portal"], "bottrop");
    assert_eq!(answer["date"], date.as_str());
    let entries = answer["appointments"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["id"], max.as_str());
    assert_eq!(entries[0]["start"], day[0].as_str());
    assert_eq!(entries[0]["end"], max_end.as_str());
    assert_eq!(entries[0]["name"], "Max Müller-Lüdenscheidt");
    assert_eq!(entries[0]["email"], "max@example.org");
    assert_eq!(entries[0]["service"], "personalausweis-beantragen");
    assert_eq!(entries[0]["service_title"], "Personalausweis beantragen");
    assert_eq!(entries[0]["status"], "booked");
    assert_eq!(entries[1]["name"], "Erika Mustermann");
    assert_eq!(entries[1]["email"], "erika@example.org");

    // Another office's key opens nothing: listed, named on standard error, exit 3.
    let wrong_key = list(OTHER_KEY, false, OFFICE_TOKEN);
    assert_eq!(wrong_key.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&wrong_key.stdout);
    assert_eq!(stdout.matches("(unreadable)").count(), 2, "{stdout}");
    assert!(!stdout.contains("Erika"));
    let stderr = String::from_utf8_lossy(&wrong_key.stderr);
    assert!(
        stderr.contains(&format!("appointment {erika} could not be read")),
        "{stderr}"
    );
    // A wrong token: the server refuses, exit 3.
    let wrong_token = list(KEY, false, "not-the-office-token-0000000000");
    assert_eq!(wrong_token.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&wrong_token.stderr).contains("answered 40"),
        "{}",
        String::from_utf8_lossy(&wrong_token.stderr)
    );

    // The office cancels Erika's with a message; the day shows it cancelled by the
    // office, and the citizen reads the message with her token.
    let cancel = |token: &str| {
        lotse(
            &[
                "inbox",
                "cancel-appointment",
                "--server",
                &server.base,
                "--id",
                &erika,
                "--message",
                "Das Bürgerbüro bleibt an diesem Tag geschlossen. Bitte buchen Sie neu.",
            ],
            token,
        )
    };
    assert_eq!(ok(&cancel(OFFICE_TOKEN)).trim(), erika);
    let table = ok(&list(KEY, false, OFFICE_TOKEN));
    assert!(
        table.starts_with(&format!(
            "bottrop/buergerbuero on {date}: 2 appointment(s), 1 booked, 1 cancelled\n"
        )),
        "{table}"
    );
    let erika_line = table.lines().find(|l| l.contains(&erika)).unwrap();
    assert!(
        erika_line.contains("cancelled by office") && erika_line.contains("Erika Mustermann"),
        "{table}"
    );
    let answer: Value = serde_json::from_str(&ok(&list(KEY, true, OFFICE_TOKEN))).unwrap();
    assert_eq!(answer["appointments"][1]["status"], "cancelled");
    assert_eq!(answer["appointments"][1]["cancelled_by"], "office");
    assert_eq!(answer["appointments"][0]["status"], "booked");
    let hers = client.request(
        "GET",
        &format!("/api/appointments/{erika}"),
        &[("authorization", &format!("Bearer {erika_token}"))],
        None,
    );
    assert_eq!(hers.status, 200, "{}", hers.body);
    assert_eq!(hers.json()["status"], "cancelled");
    assert_eq!(
        hers.json()["message"],
        "Das Bürgerbüro bleibt an diesem Tag geschlossen. Bitte buchen Sie neu."
    );
    // Twice is refused with the server's reason.
    let again = cancel(OFFICE_TOKEN);
    assert_eq!(again.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("answered 409") && stderr.contains("schon abgesagt"),
        "{stderr}"
    );
    // A bad date never reaches the server.
    let bad = lotse(
        &[
            "inbox",
            "appointments",
            "--server",
            &server.base,
            "--portal",
            "bottrop",
            "--office",
            "buergerbuero",
            "--date",
            "2027-02-30",
            "--key",
            KEY,
        ],
        OFFICE_TOKEN,
    );
    assert_eq!(bad.status.code(), Some(2));
}
