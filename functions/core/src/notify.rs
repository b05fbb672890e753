//! Notifications without content (issue 13, item 5): when the office writes, a citizen
//! who gave an e-mail address gets "Es gibt eine neue Nachricht zu Ihrem Antrag <id>"
//! with a link, never the text. The office's message queues a row in the outbox in the
//! same transaction; [`deliver_due`] sends what is due (a Cron Trigger on Workers, a
//! timer under `lotse serve`), retries failures with growing pauses, and never holds up
//! a message.
//!
//! The address is sealed under a key derived from the edge's hash secret
//! ([`seal_contact`]); without a configured secret it is not kept at all. It is deleted
//! when the application is closed and nothing is left to send.

use crate::keyed::HashSecret;
use crate::store::{OutboxEntry, Store};

/// One notification as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// What sends mail: SMTP under `lotse serve`, an HTTP mail API on Workers.
#[allow(async_fn_in_trait)]
pub trait Mailer {
    /// Sends one mail; the error says why (without the address).
    async fn send(&self, mail: &Mail) -> Result<(), String>;
}

/// How many times a notification is tried before it is given up.
pub const MAX_ATTEMPTS: u32 = 12;
/// A notification not sent within a week (no mail server configured, or one that never
/// takes it) is dropped, with its copy of the address.
pub const MAX_AGE_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// How long a sender holds a claimed notification before another may try it.
const LEASE_MS: u64 = 10 * 60 * 1000;

/// The pause before attempt `attempts + 1`: 1, 2, 4 … minutes, at most an hour.
pub fn retry_pause_ms(attempts: u32) -> u64 {
    (60_000u64 << attempts.min(6)).min(3_600_000)
}

fn contact_key(secret: &HashSecret) -> [u8; 32] {
    secret.mac("lotse/contact-key/v1", &[])
}

/// Where a notification goes: the address, and the site the citizen applied on (the
/// link in the mail points there, not to whatever address the office used).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    pub to: String,
    pub origin: String,
    /// For an appointment: when and where, all its mails say of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
}

/// The contact sealed for the store ([`crate::keyed::seal_base64`] of its JSON,
/// associated data = the application id). `None` when the edge has no secret of its
/// own (the built-in one protects nothing).
pub fn seal_contact(secret: &HashSecret, application: &str, contact: &Contact) -> Option<String> {
    if !secret.is_configured() {
        return None;
    }
    let plaintext = zeroize::Zeroizing::new(serde_json::to_vec(contact).ok()?);
    Some(crate::keyed::seal_base64(
        &contact_key(secret),
        &plaintext,
        application.as_bytes(),
    ))
}

pub fn open_contact(secret: &HashSecret, application: &str, sealed: &str) -> Option<Contact> {
    let plaintext =
        crate::keyed::open_base64(&contact_key(secret), sealed, application.as_bytes())?;
    serde_json::from_slice(&plaintext).ok()
}

/// The mail for a new message: the id and the link, nothing of the message.
pub fn message_mail(site: &str, origin: &str, application: &str, to: &str) -> Mail {
    let link = format!(
        "{}{}",
        origin.trim_end_matches('/'),
        crate::thread_page::location(application)
    );
    Mail {
        to: to.to_string(),
        subject: format!("Neue Nachricht zu Ihrem Antrag {application}"),
        text: format!(
            "Guten Tag,\n\nEs gibt eine neue Nachricht zu Ihrem Antrag {application}.\n\nSie können sie hier lesen, mit der Vorgangsnummer und dem Schlüssel aus Ihrer Eingangsbestätigung oder angemeldet in Mein Postfach:\n{link}\n\nAus Sicherheitsgründen steht der Inhalt der Nachricht nicht in dieser E-Mail.\nBitte antworten Sie nicht auf diese E-Mail.\n\nMit freundlichen Grüßen\n{site}\n"
        ),
    }
}

/// The reminder of an appointment the day before: time and place, and how to cancel.
pub fn reminder_mail(site: &str, contact: &Contact, appointment: &str) -> Mail {
    let link = format!(
        "{}{}",
        contact.origin.trim_end_matches('/'),
        crate::appointment_page::STATUS_PATH
    );
    let about = contact.about.as_deref().unwrap_or("");
    Mail {
        to: contact.to.clone(),
        subject: format!("Erinnerung an Ihren Termin {appointment}"),
        text: format!(
            "Guten Tag,\n\nwir erinnern Sie an Ihren Termin {appointment}:\n{about}\n\nWenn Sie nicht kommen können, sagen Sie den Termin bitte ab, mit der Vorgangsnummer und dem Schlüssel aus Ihrer Terminbestätigung:\n{link}\n\nBitte antworten Sie nicht auf diese E-Mail.\n\nMit freundlichen Grüßen\n{site}\n"
        ),
    }
}

/// The office cancelled an appointment: time and place, and where to read its message.
pub fn cancelled_mail(site: &str, contact: &Contact, appointment: &str) -> Mail {
    let link = format!(
        "{}{}",
        contact.origin.trim_end_matches('/'),
        crate::appointment_page::STATUS_PATH
    );
    let about = contact.about.as_deref().unwrap_or("");
    Mail {
        to: contact.to.clone(),
        subject: format!("Ihr Termin {appointment} wurde abgesagt"),
        text: format!(
            "Guten Tag,\n\nleider musste die Dienststelle Ihren Termin {appointment} absagen:\n{about}\n\nDie Nachricht der Dienststelle lesen Sie hier, mit der Vorgangsnummer und dem Schlüssel aus Ihrer Terminbestätigung; dort können Sie auch einen neuen Termin buchen:\n{link}\n\nAus Sicherheitsgründen steht der Inhalt der Nachricht nicht in dieser E-Mail.\nBitte antworten Sie nicht auf diese E-Mail.\n\nMit freundlichen Grüßen\n{site}\n"
        ),
    }
}

/// The mail of an outbox entry, by its kind.
fn mail_for(site: &str, entry: &OutboxEntry, contact: &Contact) -> Mail {
    let id = &entry.application_id;
    match entry.kind.as_str() {
        "reminder" => reminder_mail(site, contact, id),
        "cancelled" => cancelled_mail(site, contact, id),
        _ => message_mail(site, &contact.origin, id, &contact.to),
    }
}

/// What a round of [`deliver_due`] did, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: u32,
    pub failed: u32,
    /// Given up: too many attempts, or nothing to send to any more.
    pub dropped: u32,
    /// Lines for the operator's log: ids and reasons, never an address or a text.
    pub log: Vec<String>,
}

/// Sends the notifications due at `now_ms` (at most `limit`).
pub async fn deliver_due<S: Store, M: Mailer>(
    store: &S,
    secret: &HashSecret,
    site: &str,
    mailer: &M,
    now_ms: u64,
    limit: u32,
) -> Delivery {
    let mut delivery = Delivery::default();
    if let Err(e) = store
        .prune_notifications(now_ms.saturating_sub(MAX_AGE_MS))
        .await
    {
        delivery
            .log
            .push(format!("notifications: cannot drop old ones: {e}"));
    }
    // Appointments starting within a day get their reminder into the outbox first.
    if let Err(e) = store.queue_reminders(now_ms as i64).await {
        delivery
            .log
            .push(format!("notifications: cannot queue reminders: {e}"));
    }
    let due = match store.due_notifications(now_ms, limit).await {
        Ok(due) => due,
        Err(e) => {
            delivery.log.push(format!("notifications: {e}"));
            return delivery;
        }
    };
    for entry in due {
        deliver_one(store, secret, site, mailer, now_ms, &entry, &mut delivery).await;
    }
    delivery
}

async fn deliver_one<S: Store, M: Mailer>(
    store: &S,
    secret: &HashSecret,
    site: &str,
    mailer: &M,
    now_ms: u64,
    entry: &OutboxEntry,
    delivery: &mut Delivery,
) {
    let id = &entry.application_id;
    // Of two senders reading the same row (the Cron Trigger and a request's, two
    // threads), only the one whose claim lands sends it.
    match store
        .claim_notification(&entry.id, entry.next_attempt_at, now_ms + LEASE_MS)
        .await
    {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            delivery
                .log
                .push(format!("notification for {id}: cannot claim it: {e}"));
            return;
        }
    }
    let contact = entry
        .contact
        .as_deref()
        .and_then(|sealed| open_contact(secret, id, sealed));
    let Some(contact) = contact else {
        // No address it can be sent to (sealed under another secret, say).
        delivery.dropped += 1;
        delivery
            .log
            .push(format!("notification for {id}: no address to send to"));
        done(store, entry, delivery).await;
        return;
    };
    let mail = mail_for(site, entry, &contact);
    match mailer.send(&mail).await {
        Ok(()) => {
            delivery.sent += 1;
            done(store, entry, delivery).await;
        }
        Err(reason) => {
            let attempts = entry.attempts + 1;
            if attempts >= MAX_ATTEMPTS {
                delivery.dropped += 1;
                delivery.log.push(format!(
                    "notification for {id}: given up after {attempts} attempts: {reason}"
                ));
                done(store, entry, delivery).await;
            } else {
                delivery.failed += 1;
                delivery.log.push(format!(
                    "notification for {id}: attempt {attempts} failed: {reason}"
                ));
                let next = now_ms + retry_pause_ms(entry.attempts);
                if let Err(e) = store.notification_failed(&entry.id, attempts, next).await {
                    delivery.log.push(format!(
                        "notification for {id}: cannot note the failed attempt: {e}"
                    ));
                }
            }
        }
    }
}

async fn done<S: Store>(store: &S, entry: &OutboxEntry, delivery: &mut Delivery) {
    if let Err(e) = store.notification_done(entry).await {
        delivery.log.push(format!(
            "notification for {}: cannot remove it from the outbox (it may go out again): {e}",
            entry.application_id
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_open_only_for_their_application_and_secret() {
        let secret = HashSecret::from_bytes([9; 32]);
        let contact = Contact {
            to: "erika@example.org".into(),
            origin: "https://bottrop.example".into(),
            about: None,
        };
        let sealed = seal_contact(&secret, "7K3M-9QPX", &contact).unwrap();
        assert!(!sealed.contains("erika"));
        assert!(open_contact(&secret, "7K3M-9QPX", &sealed) == Some(contact.clone()));
        assert!(open_contact(&secret, "7K3M-9QPY", &sealed).is_none());
        let other = HashSecret::from_bytes([8; 32]);
        assert!(open_contact(&other, "7K3M-9QPX", &sealed).is_none());
        assert_eq!(
            seal_contact(&HashSecret::unconfigured(), "7K3M-9QPX", &contact),
            None
        );
    }

    #[test]
    fn pauses_grow_to_an_hour() {
        assert_eq!(retry_pause_ms(0), 60_000);
        assert_eq!(retry_pause_ms(1), 120_000);
        assert_eq!(retry_pause_ms(5), 1_920_000);
        assert_eq!(retry_pause_ms(6), 3_600_000);
        assert_eq!(retry_pause_ms(40), 3_600_000);
    }

    #[test]
    fn the_mail_names_the_id_and_link_only() {
        let mail = message_mail(
            "Serviceportal Bottrop",
            "https://bottrop.example",
            "7K3M-9QPX",
            "a@b.de",
        );
        assert_eq!(mail.subject, "Neue Nachricht zu Ihrem Antrag 7K3M-9QPX");
        assert!(mail
            .text
            .contains("Es gibt eine neue Nachricht zu Ihrem Antrag 7K3M-9QPX"));
        assert!(mail
            .text
            .contains("https://bottrop.example/api/vorgang?id=7K3M-9QPX"));
    }
}
