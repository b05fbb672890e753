//! Booking an appointment in Chromium (`tests/browser/appointments.mjs`): `lotse serve` on
//! the example region, JavaScript off, by keyboard only — the service page's "Termin
//! vereinbaren", the booking page, the confirmation with its calendar file (parsed with
//! Python's `icalendar`, tests/ics/check.py) and cancelling by the form; axe-core (WCAG
//! 2.1 A/AA) and reflow at 320 px on each page. Needs Node (>= 20), Chromium (`apt-get
//! install -y chromium`, or CHROMIUM=/path) and icalendar in .tools/pydeps (as
//! scripts/test.sh installs it); fails with a clear message if one is missing. `npm ci`
//! runs in tests/browser when its node_modules is missing.

mod common;

use std::process::Command;
use std::time::Instant;

use common::servers::{browser_tools, free_port, lotse_serve, repo};

#[test]
fn booking_an_appointment_without_javascript_in_chromium() {
    let chromium = browser_tools("the appointment browser test");
    let (_server, base) = lotse_serve(free_port(), &["--no-search"], &[], &["/"]);
    let mut command = Command::new("node");
    command
        .arg(repo().join("tests/browser/appointments.mjs"))
        .arg(&base)
        .env("CHROMIUM", &chromium)
        .current_dir(repo());
    if let Ok(shots) = std::env::var("LOTSE_SCREENSHOTS") {
        command.args(["--screenshots", &shots]);
    }
    let started = Instant::now();
    let status = command.status().expect("node runs");
    eprintln!(
        "appointment browser test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        status.success(),
        "tests/browser/appointments.mjs failed against {base} (exit {status}); see its output above"
    );
}
