//! Booking an appointment in Chromium (`tests/browser/appointments.mjs`): `lotse serve` on
//! the example region, JavaScript off, by keyboard only — the service page's "Termin
//! vereinbaren", the booking page, the confirmation with its calendar file (parsed with
//! Python's `icalendar`, tests/ics/check.py) and cancelling by the form; axe-core (WCAG
//! 2.1 A/AA) and reflow at 320 px on each page. Needs Node (>= 20), Chromium (`apt-get
//! install -y chromium`, or CHROMIUM=/path) and icalendar in .tools/pydeps (as
//! scripts/test.sh installs it); fails with a clear message if one is missing. `npm ci`
//! runs in tests/browser when its node_modules is missing.

mod common;

use common::browser::run_browser_script;
use common::servers::{browser_tools, free_port, lotse_serve};

#[test]
fn booking_an_appointment_without_javascript_in_chromium() {
    let chromium = browser_tools("the appointment browser test");
    let (_server, base) = lotse_serve(free_port(), &["--no-search"], &[], &["/"]);
    run_browser_script(
        "appointment browser test",
        "appointments.mjs",
        &base,
        &chromium,
        &[],
        &base,
    );
}
