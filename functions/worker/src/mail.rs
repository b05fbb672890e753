//! Notification mail on Cloudflare: right after the office writes (`ctx.wait_until`)
//! and every minute from the Cron Trigger (`[triggers] crons` in wrangler.toml, for the
//! retries), what the outbox holds goes out through an HTTP mail API:
//! `POST MAIL_API_URL` with `Authorization: Bearer MAIL_API_TOKEN` and the JSON
//! `{"from", "to": [address], "subject", "text"}`; any 2xx is sent. The relay (a
//! provider's API or a small forwarder of the city) is the operator's choice.

use lotse_functions::notify::{deliver_due, Mail, Mailer};
use worker::{console_error, console_log, Env, Fetch, Headers, Method, RequestInit};

use crate::{config, string_binding, D1Store};

pub struct HttpMailer {
    url: String,
    token: Option<String>,
    from: String,
}

impl HttpMailer {
    /// From `MAIL_API_URL`, `MAIL_API_TOKEN` and `MAIL_FROM`; `None` without a URL.
    pub fn from_env(env: &Env, site_name: &str) -> Option<HttpMailer> {
        let url = string_binding(env, "MAIL_API_URL").filter(|u| !u.trim().is_empty())?;
        Some(HttpMailer {
            url: url.trim().to_string(),
            token: string_binding(env, "MAIL_API_TOKEN").filter(|t| !t.trim().is_empty()),
            from: string_binding(env, "MAIL_FROM")
                .unwrap_or_else(|| format!("{site_name} <noreply@localhost>")),
        })
    }
}

impl Mailer for HttpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        let body = serde_json::json!({
            "from": self.from,
            "to": [mail.to],
            "subject": mail.subject,
            "text": mail.text,
        });
        let headers = Headers::new();
        let set = |name: &str, value: &str| {
            headers
                .set(name, value)
                .map_err(|_| "cannot set a header".to_string())
        };
        set("content-type", "application/json")?;
        if let Some(token) = &self.token {
            set("authorization", &format!("Bearer {token}"))?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(body.to_string().into()));
        let request = worker::Request::new_with_init(&self.url, &init)
            .map_err(|_| "MAIL_API_URL is not a valid address".to_string())?;
        let response = Fetch::Request(request)
            .send()
            .await
            .map_err(|_| "the mail API cannot be reached".to_string())?;
        match response.status_code() {
            200..=299 => Ok(()),
            status => Err(format!("the mail API answered {status}")),
        }
    }
}

/// One round of the Cron Trigger: what is due in the outbox.
pub async fn deliver(env: &Env, now_ms: u64) {
    let config = config(env);
    let Some(mailer) = HttpMailer::from_env(env, &config.site_name) else {
        console_log!("MAIL_API_URL is not set; notifications wait in the outbox");
        return;
    };
    let store = match env.d1("DB") {
        Ok(db) => D1Store::new(db, None),
        Err(e) => {
            console_error!("notifications: no D1 database bound as DB: {e}");
            return;
        }
    };
    let delivery = deliver_due(
        &store,
        &config.hash_secret,
        &config.site_name,
        &mailer,
        now_ms,
        50,
    )
    .await;
    for line in &delivery.log {
        console_error!("{line}");
    }
    if delivery.sent > 0 {
        console_log!("sent {} notification(s)", delivery.sent);
    }
}
