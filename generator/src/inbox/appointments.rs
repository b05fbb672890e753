//! `lotse inbox appointments` and `lotse inbox cancel-appointment`: the office's day of
//! appointments (SPEC section 8), `GET /api/office/<portal>/<office>/appointments?date=…`,
//! with the citizens' names and addresses opened with the office's key, and cancelling
//! one with a message to the citizen, `POST /api/office/appointments/<id>/cancel`.
//! docs/inbox.md, "Appointments".

use std::path::Path;

use anyhow::{bail, Context as _, Result};
use lotse_envelope::{Envelope, PrivateKey};
use serde_json::{json, Value};

use super::folder::safe_id;
use super::{agent, get_text, read_key, read_limited, server_refusal, Unreadable};

/// A day's list is small: at most a few hundred appointments of a few KiB each.
const DAY_LIMIT: u64 = 64 * 1024 * 1024;

/// One appointment of the day, as the server lists it and as far as it opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub id: String,
    pub service: String,
    /// RFC 3339 with the German offset, as listed.
    pub start: String,
    pub end: String,
    /// `booked` or `cancelled`.
    pub status: String,
    /// `citizen` or `office` when cancelled.
    pub cancelled_by: Option<String>,
    /// The citizen's data, when the envelope opened.
    pub opened: Option<Opened>,
}

/// What the sealed envelope holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub service_title: String,
    pub name: String,
    pub email: String,
    pub submitted_at: String,
}

/// The office's day: every appointment the server lists, in its order (by start), and
/// what could not be read (named on standard error; exit code 3).
#[derive(Debug, Default)]
pub struct Day {
    pub portal: String,
    pub office: String,
    pub date: String,
    pub appointments: Vec<Appointment>,
    pub unreadable: Vec<Unreadable>,
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Opens one entry's envelope and checks that it is the appointment it is listed as:
/// the same id, portal and office (bound to the ciphertext), and the same start and end
/// as the citizen booked (the sealed ones; the listed ones travel in the clear).
fn open_entry(
    key: &PrivateKey,
    portal: &str,
    office: &str,
    entry: &Value,
) -> std::result::Result<Opened, String> {
    let id = text(entry, "id").unwrap_or_default();
    let envelope = entry.get("envelope").cloned().unwrap_or(Value::Null);
    if let Some(reason) = text(&envelope, "unreadable") {
        return Err(format!("the server cannot read it: {reason}"));
    }
    let envelope: Envelope =
        serde_json::from_value(envelope).map_err(|_| "not a Lotse envelope".to_string())?;
    let routing = &envelope.routing;
    if routing.id != id || routing.portal != portal || routing.office != office {
        return Err(format!(
            "its envelope belongs to {} of {}/{}, not to this appointment",
            routing.id, routing.portal, routing.office
        ));
    }
    let plaintext = lotse_envelope::open(key, &envelope)
        .map_err(|e| format!("cannot be decrypted with this key: {e}"))?;
    let sealed: Value =
        serde_json::from_slice(&plaintext).map_err(|_| "its content is not JSON".to_string())?;
    for when in ["start", "end"] {
        let (listed, booked) = (text(entry, when), text(&sealed, when));
        if listed != booked {
            return Err(format!(
                "listed with {when} {}, but booked for {}",
                listed.as_deref().unwrap_or("none"),
                booked.as_deref().unwrap_or("none")
            ));
        }
    }
    let field = |name: &str| {
        sealed
            .get("fields")
            .and_then(|f| f.get(name))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    Ok(Opened {
        service_title: text(&sealed, "service_title").unwrap_or_default(),
        name: field("name"),
        email: field("email"),
        submitted_at: text(&sealed, "submitted_at").unwrap_or_default(),
    })
}

/// Turns the server's answer into the day, opening every envelope.
pub fn open_day(key: &PrivateKey, portal: &str, office: &str, answer: &Value) -> Result<Day> {
    let Some(Value::Array(entries)) = answer.get("appointments") else {
        bail!("the answer has no list `appointments`");
    };
    let mut day = Day {
        portal: portal.to_string(),
        office: office.to_string(),
        date: text(answer, "date").unwrap_or_default(),
        ..Day::default()
    };
    for entry in entries {
        let id = text(entry, "id").unwrap_or_else(|| "?".into());
        let opened = match open_entry(key, portal, office, entry) {
            Ok(opened) => Some(opened),
            Err(reason) => {
                day.unreadable.push(Unreadable {
                    what: format!("appointment {id}"),
                    reason,
                });
                None
            }
        };
        day.appointments.push(Appointment {
            id,
            service: text(entry, "service").unwrap_or_default(),
            start: text(entry, "start").unwrap_or_default(),
            end: text(entry, "end").unwrap_or_default(),
            status: text(entry, "status").unwrap_or_default(),
            cancelled_by: text(entry, "cancelled_by"),
            opened,
        });
    }
    Ok(day)
}

/// `lotse inbox appointments`: fetches the office's day (`date` YYYY-MM-DD; the
/// server's today in Germany without it) and opens it.
pub fn fetch_day(
    server: &str,
    portal: &str,
    office: &str,
    date: Option<&str>,
    token: &str,
    key_file: &Path,
) -> Result<Day> {
    let key = read_key(key_file)?;
    let (Some(portal), Some(office)) = (safe_id(portal), safe_id(office)) else {
        bail!("`{portal}/{office}` is no portal and office (like bottrop/buergerbuero)");
    };
    let mut url = format!(
        "{}/api/office/{portal}/{office}/appointments",
        server.trim_end_matches('/')
    );
    if let Some(date) = date {
        url.push_str("?date=");
        url.push_str(date);
    }
    let body = get_text(&url, token, DAY_LIMIT)?;
    let answer: Value = serde_json::from_str(&body)
        .with_context(|| format!("{url} answered with something other than JSON"))?;
    open_day(&key, portal, office, &answer).with_context(|| url.clone())
}

/// `09:30` of an RFC 3339 time; the whole text when it is none.
fn clock(time: &str) -> &str {
    time.get(11..16).unwrap_or(time)
}

impl Appointment {
    fn status_text(&self) -> String {
        match (self.status.as_str(), &self.cancelled_by) {
            ("cancelled", Some(by)) => format!("cancelled by {by}"),
            (status, _) => status.to_string(),
        }
    }

    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "id": self.id, "service": self.service, "start": self.start, "end": self.end,
            "status": self.status,
        });
        if let Some(by) = &self.cancelled_by {
            value["cancelled_by"] = json!(by);
        }
        match &self.opened {
            Some(o) => {
                value["service_title"] = json!(o.service_title);
                value["name"] = json!(o.name);
                value["email"] = json!(o.email);
                value["booked_at"] = json!(o.submitted_at);
            }
            None => value["unreadable"] = json!(true),
        }
        value
    }
}

impl Day {
    pub fn booked(&self) -> usize {
        self.appointments
            .iter()
            .filter(|a| a.status == "booked")
            .count()
    }

    /// `{"portal", "office", "date", "appointments": [...]}`, each appointment with its
    /// citizen's `name` and `email` (or `"unreadable": true`).
    pub fn to_json(&self) -> String {
        let value = json!({
            "portal": self.portal, "office": self.office, "date": self.date,
            "appointments": self.appointments.iter().map(Appointment::to_json).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }

    /// A heading and one aligned line per appointment: time, status, service, name,
    /// e-mail, id.
    pub fn to_text(&self) -> String {
        let cancelled = self.appointments.len() - self.booked();
        let mut out = format!(
            "{}/{} on {}: {} appointment(s), {} booked, {} cancelled\n",
            self.portal,
            self.office,
            self.date,
            self.appointments.len(),
            self.booked(),
            cancelled
        );
        let rows: Vec<[String; 6]> = self
            .appointments
            .iter()
            .map(|a| {
                let (service, name, email) = match &a.opened {
                    Some(o) => (
                        if o.service_title.is_empty() {
                            a.service.clone()
                        } else {
                            o.service_title.clone()
                        },
                        o.name.clone(),
                        o.email.clone(),
                    ),
                    None => (a.service.clone(), "(unreadable)".into(), String::new()),
                };
                [
                    format!("{}–{}", clock(&a.start), clock(&a.end)),
                    a.status_text(),
                    service,
                    name,
                    email,
                    a.id.clone(),
                ]
            })
            .collect();
        let mut widths = [0usize; 6];
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in &rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = widths[i] - cell.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `lotse inbox cancel-appointment`: cancels for the office, with a message the citizen
/// reads with their token (the mail says only that it was cancelled). The server's
/// answer (`{"id", "status": "cancelled"}`).
pub fn cancel(server: &str, id: &str, message: &str, token: &str) -> Result<Value> {
    let Some(id) = safe_id(id) else {
        bail!("`{id}` is not an appointment id (like 7K3M-9QPX)");
    };
    if message.trim().is_empty() {
        bail!("the message is empty; tell the citizen why the appointment is cancelled");
    }
    let url = format!(
        "{}/api/office/appointments/{id}/cancel",
        server.trim_end_matches('/')
    );
    let mut response = agent()
        .post(&url)
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .send(json!({ "message": message }).to_string())
        .with_context(|| format!("cannot reach {url}"))?;
    let code = response.status().as_u16();
    let body = read_limited(response.body_mut(), 1 << 20)?;
    if code != 200 {
        return Err(server_refusal(
            &url,
            code,
            &body,
            "the appointment was not cancelled",
        ));
    }
    serde_json::from_str(&body)
        .with_context(|| format!("{url} answered {code} with something other than JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lotse_envelope::Routing;

    fn entry(key: &lotse_envelope::PublicKey, id: &str, start: &str, sealed_start: &str) -> Value {
        let routing = Routing {
            id: id.into(),
            portal: "bottrop".into(),
            service: "personalausweis-beantragen".into(),
            office: "buergerbuero".into(),
            created_at: "2026-12-01T10:00:00Z".into(),
        };
        let plaintext = json!({
            "id": id, "kind": "appointment", "service_title": "Personalausweis beantragen",
            "start": sealed_start, "end": "2026-12-02T09:30:00+01:00",
            "submitted_at": "2026-12-01T10:00:00Z",
            "fields": {"name": "Erika Mustermann", "email": "erika@example.org"},
        });
        let envelope =
            lotse_envelope::seal(key, routing, plaintext.to_string().as_bytes()).unwrap();
        json!({
            "id": id, "service": "personalausweis-beantragen", "start": start,
            "end": "2026-12-02T09:30:00+01:00", "status": "booked", "seat": 0,
            "cancelled_by": null, "envelope": serde_json::from_str::<Value>(&envelope.to_json()).unwrap(),
        })
    }

    #[test]
    fn a_day_opens_and_a_tampered_entry_is_named() {
        let (key, public) = PrivateKey::generate();
        let answer = json!({"portal": "bottrop", "office": "buergerbuero", "date": "2026-12-02",
        "appointments": [
            entry(&public, "AAAA-1111", "2026-12-02T09:00:00+01:00", "2026-12-02T09:00:00+01:00"),
            // The clear start moved by the server: refused as not what was booked.
            entry(&public, "BBBB-2222", "2026-12-02T08:00:00+01:00", "2026-12-02T09:00:00+01:00"),
            {"id": "CCCC-3333", "start": "x", "status": "booked", "envelope": {"unreadable": "broken"}},
        ]});
        let day = open_day(&key, "bottrop", "buergerbuero", &answer).unwrap();
        assert_eq!(day.appointments.len(), 3);
        assert_eq!(
            day.appointments[0].opened.as_ref().unwrap().name,
            "Erika Mustermann"
        );
        assert!(day.appointments[1].opened.is_none());
        assert_eq!(day.unreadable.len(), 2);
        assert!(day.unreadable[0].reason.contains("booked for"));
        let text = day.to_text();
        assert!(text.contains("09:00–09:30  booked  Personalausweis beantragen  Erika Mustermann  erika@example.org  AAAA-1111"), "{text}");
        assert!(text.contains("(unreadable)"));
        // Another office's key opens nothing; an envelope of another office is refused.
        let (other, _) = PrivateKey::generate();
        let day = open_day(&other, "bottrop", "buergerbuero", &answer).unwrap();
        assert_eq!(day.unreadable.len(), 3);
        let day = open_day(&key, "bottrop", "standesamt", &answer).unwrap();
        assert!(day.unreadable[0].reason.contains("belongs to"));
    }
}
