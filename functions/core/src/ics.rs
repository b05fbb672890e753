//! The calendar file of an appointment (RFC 5545): times in UTC, a UID that stays the
//! same for the appointment, SEQUENCE raised with every change, and METHOD:CANCEL with
//! STATUS:CANCELLED once it is cancelled, so calendars that imported it remove it.

use lotse_model::appointment::BookableService;

use crate::store::StoredAppointment;

/// `20270329T073000Z`.
fn utc_stamp(ms: i64) -> String {
    let text = crate::time::rfc3339(ms.max(0) as u64);
    // 2027-03-29T07:30:00Z
    format!(
        "{}{}{}T{}{}{}Z",
        &text[0..4],
        &text[5..7],
        &text[8..10],
        &text[11..13],
        &text[14..16],
        &text[17..19]
    )
}

/// A TEXT value (RFC 5545 section 3.3.11): backslash, semicolon, comma and newlines
/// escaped, other control characters dropped.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded after 75 octets without splitting a character (section
/// 3.1), ended with CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// The calendar of one appointment; `origin` names the site (its host makes the UID
/// unique), `now_ms` is the DTSTAMP.
pub fn calendar(
    a: &StoredAppointment,
    service: Option<&BookableService>,
    origin: &str,
    now_ms: u64,
) -> String {
    let host = origin
        .split("://")
        .nth(1)
        .unwrap_or(origin)
        .trim_end_matches('/');
    let cancelled = a.status == "cancelled";
    let title = service.map_or(a.service.as_str(), |s| s.title.as_str());
    let location = service.map(|s| match &s.office_address {
        Some(address) => format!("{}, {address}", s.office_name),
        None => s.office_name.clone(),
    });
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Lotse//Terminvereinbarung//DE");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(
        &mut out,
        if cancelled {
            "METHOD:CANCEL"
        } else {
            "METHOD:PUBLISH"
        },
    );
    line(&mut out, "BEGIN:VEVENT");
    line(&mut out, &format!("UID:termin-{}@{}", a.id, text(host)));
    line(&mut out, &format!("DTSTAMP:{}", utc_stamp(now_ms as i64)));
    line(&mut out, &format!("SEQUENCE:{}", a.sequence));
    line(&mut out, &format!("DTSTART:{}", utc_stamp(a.start_ms)));
    line(&mut out, &format!("DTEND:{}", utc_stamp(a.end_ms)));
    line(
        &mut out,
        &format!("SUMMARY:{}", text(&format!("Termin: {title}"))),
    );
    if let Some(location) = &location {
        line(&mut out, &format!("LOCATION:{}", text(location)));
    }
    line(
        &mut out,
        &format!(
            "DESCRIPTION:{}",
            text(&format!(
                "Vorgangsnummer {}. Absagen oder den Stand abfragen: {}{}",
                a.id,
                origin.trim_end_matches('/'),
                crate::appointment_page::STATUS_PATH
            ))
        ),
    );
    line(
        &mut out,
        if cancelled {
            "STATUS:CANCELLED"
        } else {
            "STATUS:CONFIRMED"
        },
    );
    line(&mut out, "END:VEVENT");
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_lines_fold_between_characters() {
        assert_eq!(text("a;b,c\\d\ne\u{7}"), "a\\;b\\,c\\\\d\\ne");
        let mut out = String::new();
        line(&mut out, &format!("SUMMARY:{}", "Ä".repeat(60)));
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{physical:?}");
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", "Ä".repeat(60)));
        assert_eq!(utc_stamp(1_795_462_200_000), "20261123T193000Z");
    }
}
