//! The background work of `lotse serve`: the payment schedule, and notification mail: the functions' outbox, sent over SMTP
//! (`LOTSE_SMTP_URL`, e.g. `smtp://127.0.0.1:2525` or
//! `smtp://user:pass@mail.example.de:587?tls=required`) from `LOTSE_MAIL_FROM`, every
//! `LOTSE_MAIL_INTERVAL_MS` (default 2000). Without `LOTSE_SMTP_URL` notifications wait
//! in the outbox.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use lettre::message::{header::ContentType, Mailbox};
use lettre::{SmtpTransport, Transport as _};
use lotse_functions::notify::{deliver_due, Mail, Mailer};

use crate::functions::LocalApp;

pub struct SmtpMailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl SmtpMailer {
    /// From the environment; `None` when `LOTSE_SMTP_URL` is not set.
    pub fn from_env(site_name: &str) -> Result<Option<SmtpMailer>> {
        let Ok(url) = std::env::var("LOTSE_SMTP_URL") else {
            return Ok(None);
        };
        let transport = SmtpTransport::from_url(url.trim())
            .context("LOTSE_SMTP_URL is not an SMTP address (smtp://host:port or smtps://…)")?
            .timeout(Some(Duration::from_secs(10)))
            .build();
        let from = std::env::var("LOTSE_MAIL_FROM")
            .unwrap_or_else(|_| format!("{site_name} <noreply@localhost>"));
        let from = from
            .parse::<Mailbox>()
            .with_context(|| format!("LOTSE_MAIL_FROM is not a mail address: {from}"))?;
        Ok(Some(SmtpMailer { transport, from }))
    }
}

impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| "the stored address is not a mail address".to_string())?;
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|e| format!("cannot build the mail: {e}"))?;
        // The server's answer may quote the address; only its code goes to the log.
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| match e.status() {
                Some(code) => format!("SMTP {code}"),
                None if e.is_transient() => "SMTP: temporary failure".to_string(),
                None => "SMTP: cannot reach or talk to the server".to_string(),
            })
    }
}

/// Asks the payment providers about open payments (SPEC section 7) on a thread of its
/// own, every `LOTSE_PAYMENT_INTERVAL_MS` (default 10000), until the process ends.
pub fn start_payments(app: Arc<LocalApp>) -> Result<()> {
    let interval = match std::env::var("LOTSE_PAYMENT_INTERVAL_MS") {
        Ok(ms) => ms
            .trim()
            .parse()
            .context("LOTSE_PAYMENT_INTERVAL_MS must be a whole number of milliseconds")?,
        Err(_) => 10_000,
    };
    std::thread::Builder::new()
        .name("lotse-payments".into())
        .spawn(move || loop {
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            for line in
                futures_executor::block_on(lotse_functions::reconcile_payments(&app, now_ms))
            {
                eprintln!("{line}");
            }
            std::thread::sleep(Duration::from_millis(interval));
        })
        .context("cannot start the payment thread")?;
    Ok(())
}

/// Sends the due notifications on a thread of its own, until the process ends.
pub fn start(app: Arc<LocalApp>, mailer: SmtpMailer) -> Result<()> {
    let interval = match std::env::var("LOTSE_MAIL_INTERVAL_MS") {
        Ok(ms) => ms
            .trim()
            .parse()
            .context("LOTSE_MAIL_INTERVAL_MS must be a whole number of milliseconds")?,
        Err(_) => 2000,
    };
    std::thread::Builder::new()
        .name("lotse-mail".into())
        .spawn(move || loop {
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let delivery = futures_executor::block_on(deliver_due(
                &app.store,
                &app.config.hash_secret,
                &app.config.site_name,
                &mailer,
                now_ms,
                50,
            ));
            for line in &delivery.log {
                eprintln!("{line}");
            }
            if delivery.sent > 0 {
                eprintln!("sent {} notification(s)", delivery.sent);
            }
            std::thread::sleep(Duration::from_millis(interval));
        })
        .context("cannot start the mail thread")?;
    Ok(())
}
