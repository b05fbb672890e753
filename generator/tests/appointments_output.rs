//! Appointments in the build output of the example region (SPEC sections 2 and 8,
//! docs/content-format.md "Appointments"): `appointments/<portal>/<service>.json` for
//! exactly the bookable services, with the office's hours, capacity and closed days,
//! the duration and the region's horizon, and the service page's "Termin vereinbaren"
//! with a plain link to the functions' booking page.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use lotse::build::{self, BuildOutcome};
use lotse_model::appointment::{
    appointment_path, AppointmentPlan, BookableService, OfficeHours, Opening,
};
use lotse_model::calendar::{parse_date, rfc3339_berlin};
use lotse_model::TrustLevel;

fn content_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../content")
}

/// The example region, built once (without the search index).
fn dist() -> &'static Path {
    static DIST: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, out) = DIST.get_or_init(|| {
        let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let out = tmp.path().join("dist");
        let options = build::BuildOptions {
            progress: false,
            search: false,
        };
        match build::build_with(&content_dir(), &theme_dir(), &out, options)
            .expect("the example region builds")
        {
            BuildOutcome::Built(..) => {}
            BuildOutcome::Invalid(d) => panic!("{}", lines(&d).join("\n")),
        }
        (tmp, out)
    });
    out
}

fn read(rel: &str) -> String {
    fs::read_to_string(dist().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn bookable(portal: &str, service: &str) -> BookableService {
    serde_json::from_str(&read(&appointment_path(portal, service)))
        .unwrap_or_else(|e| panic!("{portal}/{service}: {e}"))
}

/// The public key of an office as portal.toml has it.
fn public_key(portal: &str, office: &str) -> String {
    let (site, _) = build::check(&content_dir());
    let site = site.unwrap();
    let ps = site
        .portals
        .iter()
        .find(|p| p.portal.slug == portal)
        .unwrap();
    ps.portal
        .office(office)
        .unwrap()
        .public_key
        .clone()
        .unwrap()
}

const CITIES: [&str; 12] = [
    "bottrop",
    "castrop-rauxel",
    "datteln",
    "dorsten",
    "gelsenkirchen",
    "gladbeck",
    "haltern-am-see",
    "herten",
    "marl",
    "oer-erkenschwick",
    "recklinghausen",
    "waltrop",
];

const BOOKABLE: [(&str, u32, &str); 5] = [
    ("eheschliessung-anmelden", 45, "standesamt"),
    ("meldebescheinigung", 15, "buergerbuero"),
    ("personalausweis-beantragen", 30, "buergerbuero"),
    ("reisepass-beantragen", 30, "buergerbuero"),
    ("wohnsitz-anmelden", 20, "buergerbuero"),
];

const CLOSED: [&str; 6] = [
    "2026-12-24",
    "2026-12-31",
    "2027-05-07",
    "2027-05-28",
    "2027-12-24",
    "2027-12-31",
];

fn opening(days: &[u32], from: &str, to: &str) -> Opening {
    let minutes = |t: &str| lotse_model::appointment::parse_clock(t).unwrap();
    Opening {
        days: days.to_vec(),
        from: minutes(from),
        to: minutes(to),
    }
}

#[test]
fn every_bookable_service_of_every_city_has_its_asset_and_nothing_else_does() {
    let root = dist().join("appointments");
    let mut written = BTreeSet::new();
    for portal in fs::read_dir(&root).unwrap().flatten() {
        for file in fs::read_dir(portal.path()).unwrap().flatten() {
            written.insert(format!(
                "appointments/{}/{}",
                portal.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            ));
        }
    }
    let expected: BTreeSet<String> = CITIES
        .iter()
        .flat_map(|p| BOOKABLE.iter().map(move |(s, ..)| appointment_path(p, s)))
        .collect();
    assert_eq!(written, expected);
    // The district offers none of them and has no Bürgerbüro.
    assert!(!root.join("kreis-recklinghausen").exists());
    for portal in CITIES {
        for (service, duration, office) in BOOKABLE {
            let b = bookable(portal, service);
            assert_eq!((b.portal.as_str(), b.service.as_str()), (portal, service));
            assert_eq!(b.office, office);
            assert_eq!(b.plan.duration, duration);
            assert_eq!(b.plan.horizon_weeks, 8, "region.toml [appointments] weeks");
            assert_eq!(b.plan.hours.closed, CLOSED);
            assert!(!b.plan.hours.opening.is_empty());
            assert_eq!(b.public_key, public_key(portal, office));
        }
    }
}

#[test]
fn the_asset_carries_the_office_hours_duration_and_horizon() {
    let b = bookable("bottrop", "personalausweis-beantragen");
    assert_eq!(
        b,
        BookableService {
            portal: "bottrop".into(),
            portal_name: "Stadt Bottrop".into(),
            service: "personalausweis-beantragen".into(),
            title: "Personalausweis beantragen".into(),
            office: "buergerbuero".into(),
            office_name: "Bürgerbüro im Rathaus".into(),
            office_address: Some("Ernst-Wilczok-Platz 1, 46236 Bottrop".into()),
            public_key: "8R/uBR3oSQSr48CV6+rrDJTXLDydHBm+YbWpL5YOWjc=".into(),
            login: TrustLevel::None,
            plan: AppointmentPlan {
                duration: 30,
                hours: OfficeHours {
                    opening: vec![
                        opening(&[0, 1, 2], "08:00", "12:00"),
                        opening(&[0, 1, 2], "13:00", "15:30"),
                        opening(&[3], "08:00", "12:00"),
                        opening(&[3], "14:00", "18:00"),
                        opening(&[4], "08:00", "12:00"),
                    ],
                    capacity: 3,
                    closed: CLOSED.iter().map(|d| d.to_string()).collect(),
                },
                horizon_weeks: 8,
            },
        }
    );
    // The plan gives the slots the functions offer: a Thursday in Bottrop has eight in
    // the morning and eight in the afternoon; Heiligabend (a Thursday) none.
    let thursday = b.plan.day_slots(parse_date("2027-01-07").unwrap());
    assert_eq!(thursday.len(), 16);
    assert_eq!(
        rfc3339_berlin(thursday[0].start_ms),
        "2027-01-07T08:00:00+01:00"
    );
    assert_eq!(
        rfc3339_berlin(thursday[15].start_ms),
        "2027-01-07T17:30:00+01:00"
    );
    assert!(b
        .plan
        .day_slots(parse_date("2026-12-24").unwrap())
        .is_empty());

    let wedding = bookable("gelsenkirchen", "eheschliessung-anmelden");
    assert_eq!(wedding.office_name, "Standesamt Gelsenkirchen");
    assert_eq!(wedding.portal_name, "Stadt Gelsenkirchen");
    assert_eq!(wedding.plan.duration, 45);
    assert_eq!(wedding.plan.hours.capacity, 2);
    assert_eq!(
        wedding.plan.hours.opening,
        vec![
            opening(&[0, 1, 2, 3, 4], "08:00", "12:00"),
            opening(&[3], "14:00", "17:00"),
        ]
    );
    // 08:00–12:00 in steps of 45 minutes: 08:00, 08:45, 09:30, 10:15, 11:00.
    let monday = wedding.plan.day_slots(parse_date("2027-01-11").unwrap());
    assert_eq!(monday.len(), 5);

    // Haltern am See books on Saturday mornings too.
    let haltern = bookable("haltern-am-see", "reisepass-beantragen");
    assert!(haltern
        .plan
        .hours
        .opening
        .contains(&opening(&[5], "09:00", "12:00")));

    // Booking needs no login, even where applying online needs the Online-Ausweis:
    // those who come to the office are the ones without it.
    assert_eq!(
        bookable("marl", "wohnsitz-anmelden").login,
        TrustLevel::None
    );
    assert_eq!(
        bookable("marl", "meldebescheinigung").login,
        TrustLevel::None
    );
}

#[test]
fn the_service_page_links_to_the_booking_page_without_javascript() {
    let html = read("bottrop/personalausweis-beantragen/index.html");
    let main = main_part(&html);
    let all = tags(main);
    let section = all
        .iter()
        .find(|t| t.name == "section" && t.get("id") == Some("termin"))
        .expect("a section \"Termin vereinbaren\"");
    assert_eq!(section.get("aria-labelledby"), Some("s-termin"));
    let heading = all
        .iter()
        .find(|t| t.get("id") == Some("s-termin"))
        .unwrap();
    assert_eq!(
        heading.name, "h2",
        "a section like the others, under the h1"
    );
    assert_eq!(inner(main, heading), "Termin vereinbaren");
    let text = unescape(inner(main, section));
    assert!(text.contains("<p>Dauer: 30 Minuten</p>"), "{text}");
    assert!(
        text.contains("<p>Ort: Bürgerbüro im Rathaus, Ernst-Wilczok-Platz 1, 46236 Bottrop</p>"),
        "{text}"
    );
    assert!(text.contains("bis zu 8 Wochen im Voraus"), "{text}");
    let links: Vec<_> = all
        .iter()
        .filter(|t| t.name == "a" && t.at > section.at)
        .filter(|t| inner(main, t) == "Termin buchen")
        .collect();
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0].get("href"),
        Some("/api/termin?portal=bottrop&service=personalausweis-beantragen")
    );
    assert!(!links[0].attrs.keys().any(|a| a.starts_with("on")));

    let wedding = read("gelsenkirchen/eheschliessung-anmelden/index.html");
    assert!(unescape(&wedding).contains("<p>Dauer: 45 Minuten</p>"));
    assert!(unescape(&wedding)
        .contains("/api/termin?portal=gelsenkirchen&service=eheschliessung-anmelden"));

    // A service without `appointment`, and the district, have no such section.
    for page in [
        "bottrop/hund-anmelden/index.html",
        "kreis-recklinghausen/jagdschein-verlaengern/index.html",
    ] {
        let html = read(page);
        assert!(!html.contains("Termin vereinbaren"), "{page}");
        assert!(!html.contains("/api/termin"), "{page}");
    }
}

/// The check stage knows the assets (links to them pass) and the booking page.
#[test]
fn checked_addresses_include_the_assets() {
    let (site, _) = build::check(&content_dir());
    let addresses = lotse::check::addresses::Addresses::of(&site.unwrap());
    let assets: Vec<&String> = addresses
        .files
        .iter()
        .filter(|f| f.starts_with("/appointments/"))
        .collect();
    assert_eq!(assets.len(), CITIES.len() * BOOKABLE.len());
    for file in assets {
        assert!(dist().join(&file[1..]).is_file(), "{file} is not written");
    }
    assert!(addresses.leads_somewhere("/api/termin"));
}
