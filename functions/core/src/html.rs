//! The few pages the functions render themselves: the form again with errors, the
//! receipt, the status lookup. Plain string building: the worker must not pull in a
//! template engine, and these pages are small. They use the site's stylesheet and
//! need no JavaScript. The form's fields come from `lotse_model::markup`, the same
//! markup the theme prints on the service page.

use std::fmt::Write as _;

use lotse_model::markup::render_field;
use lotse_model::validate::{FieldErrors, Submitted};
use lotse_model::{FormField, FormSchema};

use crate::http::Response;
use crate::status_label;
use crate::store::{StatusEntry, StoredApplication};

/// The one HTML escape of the project, shared with the generator's templates.
pub use lotse_model::markup::escape;

fn shell(site: &str, title: &str, main: &str) -> String {
    shell_for(site, None, title, main)
}

/// The page frame; with a portal, in that portal's colours and linking to its home.
pub(crate) fn shell_for(site: &str, portal: Option<&str>, title: &str, main: &str) -> String {
    let portal = portal.filter(|p| lotse_model::slug::is_slug(p));
    let theme_css = portal.map_or_else(|| "/theme.css".to_string(), |p| format!("/{p}/theme.css"));
    let home = portal.map_or_else(|| "/".to_string(), |p| format!("/{p}/"));
    format!(
        r##"<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>{title} – {site}</title>
<link rel="stylesheet" href="/assets/style.css">
<link rel="stylesheet" href="/assets/vorgang.css">
<link rel="stylesheet" href="{theme_css}">
</head>
<body class="seite seite--funktion">
<a class="sprunglink" href="#inhalt">Zum Inhalt springen</a>
<header class="kopf"><div class="breite kopf__innen"><a class="marke" href="{home}"><span class="marke__name">{site}</span></a></div></header>
<main id="inhalt" class="breite inhalt">
{main}
</main>
</body>
</html>
"##,
        title = escape(title),
        site = escape(site),
    )
}

pub fn message_page(site: &str, heading: &str, text: &str) -> String {
    message_page_with_link(site, heading, text, "/", "Zur Startseite")
}

/// [`message_page`] leading on to `href` (a path of the site) instead of the home page.
pub fn message_page_with_link(
    site: &str,
    heading: &str,
    text: &str,
    href: &str,
    link: &str,
) -> String {
    shell(
        site,
        heading,
        &format!(
            "<h1>{}</h1>\n<p class=\"vorspann\">{}</p>\n<p><a href=\"{}\">{}</a></p>",
            escape(heading),
            escape(text),
            escape(href),
            escape(link)
        ),
    )
}

/// Turns a JSON error answer into an HTML page with the same status and headers.
pub fn error_from_json(site: &str, response: &Response) -> Response {
    let message = crate::api::error_message(response);
    let heading = match response.status {
        401 => "Anmeldung erforderlich",
        403 => "Anfrage abgewiesen",
        404 => "Nicht gefunden",
        413 => "Anfrage zu groß",
        415 => "Anfrage nicht lesbar",
        429 => "Zu viele Anfragen",
        503 => "Vorübergehend nicht erreichbar",
        _ => "Das hat nicht geklappt",
    };
    let mut html = Response::html(response.status, message_page(site, heading, &message));
    html.log = response.log.clone();
    for (name, value) in &response.headers {
        if name != "content-type" {
            html = html.with_header(name, value);
        }
    }
    html
}

/// The application form again, with what was typed, an error summary that links to each
/// field, and the message at each field (GOV.UK pattern; WCAG 3.3.1 and 3.3.3).
pub fn form_with_errors(
    site: &str,
    schema: &FormSchema,
    submitted: &Submitted,
    errors: &FieldErrors,
) -> String {
    let mut main = String::new();
    let _ = write!(
        main,
        "<h1>{}</h1>\n<form method=\"post\" action=\"/api/applications\" class=\"formular\">\n<div id=\"fehler\" class=\"fehlerliste\" role=\"alert\" tabindex=\"-1\" aria-labelledby=\"fehler-titel\">\n<h2 id=\"fehler-titel\">Bitte korrigieren Sie {} {}</h2>\n<ul>\n",
        escape(&schema.title),
        errors.len(),
        if errors.len() == 1 { "Angabe" } else { "Angaben" }
    );
    // The schema's fields and the optional address for notifications every form offers.
    let notify = lotse_model::form::notify_field();
    let fields: Vec<&FormField> = schema.fields.iter().chain([&notify]).collect();
    for field in &fields {
        if let Some(message) = errors.get(&field.id) {
            let _ = writeln!(
                main,
                "<li><a href=\"#feld-{}\">{}: {}</a></li>",
                escape(&field.id),
                escape(&field.label),
                escape(message)
            );
        }
    }
    for (id, message) in errors
        .iter()
        .filter(|(id, _)| !fields.iter().any(|f| &f.id == *id))
    {
        let _ = writeln!(main, "<li>{}: {}</li>", escape(id), escape(message));
    }
    main.push_str("</ul>\n</div>\n");
    let _ = writeln!(
        main,
        "<input type=\"hidden\" name=\"portal\" value=\"{}\">\n<input type=\"hidden\" name=\"service\" value=\"{}\">",
        escape(&schema.portal),
        escape(&schema.service)
    );
    for field in &fields {
        let value = submitted.get(&field.id).map(String::as_str).unwrap_or("");
        // The same markup as the theme's form (`form_field` there), plus value and error.
        main.push_str(&render_field(
            field,
            value,
            errors.get(&field.id).map(String::as_str),
        ));
        main.push('\n');
    }
    // A paid service's form goes on to the payment, as the theme's says.
    let button = if schema.fee.is_some() {
        "Weiter zur Bezahlung"
    } else {
        "Antrag absenden"
    };
    let _ = write!(
        main,
        "<button class=\"knopf knopf--senden\" type=\"submit\">{button}</button>\n</form>"
    );
    shell_for(
        site,
        Some(&schema.portal),
        &format!("Fehler: {}", schema.title),
        &main,
    )
}

/// The payment part of the receipt: paid (amount and Kassenzeichen), open, or failed
/// with the form to pay again.
pub fn payment_block(payment: &crate::store::StoredPayment, id: &str, token: &str) -> String {
    let amount = lotse_model::payment::Cents(payment.amount).label_de();
    let again = |label: &str| {
        format!(
            "<form method=\"post\" action=\"/api/payment/retry\">\n<input type=\"hidden\" name=\"id\" value=\"{}\">\n<input type=\"hidden\" name=\"token\" value=\"{}\">\n<button class=\"knopf\" type=\"submit\">{label}</button>\n</form>\n",
            escape(id),
            escape(token)
        )
    };
    let (heading, text, form) = match payment.status.as_str() {
        "paid" => (
            "Bezahlt",
            format!(
                "Sie haben {amount} bezahlt{}. Ihr Antrag ist an die zuständige Stelle gegangen.",
                payment
                    .reference
                    .as_deref()
                    .map(|r| format!(", Kassenzeichen <strong>{}</strong>", escape(r)))
                    .unwrap_or_default()
            ),
            String::new(),
        ),
        "failed" => (
            "Bezahlung fehlgeschlagen",
            format!("Die Bezahlung von {amount} hat nicht geklappt. Ihr Antrag ist gespeichert, geht aber erst nach der Bezahlung an die Behörde."),
            again("Erneut bezahlen"),
        ),
        "cancelled" => (
            "Bezahlung abgebrochen",
            format!("Sie haben die Bezahlung von {amount} abgebrochen. Ihr Antrag ist gespeichert, geht aber erst nach der Bezahlung an die Behörde."),
            again("Jetzt bezahlen"),
        ),
        _ => (
            "Bezahlung offen",
            format!("Die Gebühr von {amount} ist noch nicht bezahlt. Ihr Antrag geht an die Behörde, sobald die Bezahlung bestätigt ist; das prüfen wir auch von selbst."),
            again("Jetzt bezahlen"),
        ),
    };
    format!(
        "<section class=\"karte\" aria-labelledby=\"bezahlung\">\n<h2 id=\"bezahlung\">{heading}</h2>\n<p>{text}</p>\n{form}</section>\n"
    )
}

pub fn receipt(
    site: &str,
    portal: Option<&str>,
    title: Option<&str>,
    id: &str,
    token: &str,
    payment: Option<&crate::store::StoredPayment>,
) -> String {
    let what = title
        .map(|t| format!("<p>Eingegangen: <strong>{}</strong></p>\n", escape(t)))
        .unwrap_or_default();
    let unpaid = payment.is_some_and(|p| p.status != "paid");
    let main = format!(
        r#"<h1>{heading}</h1>
<p class="vorspann">{lead}</p>
{what}{paid}
<section class="karte" aria-labelledby="zugang">
<h2 id="zugang">Ihre Zugangsdaten</h2>
<p>Notieren Sie sich beides oder drucken Sie diese Seite aus. Damit können Sie den Stand Ihres Antrags jederzeit abfragen. Den Schlüssel können wir Ihnen nicht erneut zusenden.</p>
<dl class="zugang">
<dt>Vorgangsnummer</dt><dd><strong class="vorgang">{id}</strong></dd>
<dt>Schlüssel</dt><dd><code class="schluessel">{token}</code></dd>
</dl>
</section>
<form method="post" action="/api/status">
<input type="hidden" name="id" value="{id}">
<input type="hidden" name="token" value="{token}">
<button class="knopf" type="submit">Stand jetzt abfragen</button>
</form>
<p>Später finden Sie die Abfrage unter <a href="/api/status">Stand eines Antrags abfragen</a>.</p>"#,
        id = escape(id),
        token = escape(token),
        lead = match payment.map(|p| p.status.as_str()) {
            None | Some("paid") => "Vielen Dank. Ihr Antrag wurde verschlüsselt an die zuständige Stelle übermittelt.",
            Some(_) => "Vielen Dank. Ihr Antrag ist verschlüsselt gespeichert und geht an die zuständige Stelle, sobald die Gebühr bezahlt ist.",
        },
        paid = payment.map(|p| payment_block(p, id, token)).unwrap_or_default(),
        heading = if unpaid {
            "Ihr Antrag ist gespeichert"
        } else {
            "Ihr Antrag ist eingegangen"
        },
    );
    let title = if unpaid {
        "Antrag gespeichert, Bezahlung offen"
    } else {
        "Eingangsbestätigung"
    };
    shell_for(site, portal, title, &main)
}

pub fn status_form(site: &str, problem: Option<&str>) -> String {
    status_form_for(site, problem, "")
}

/// The lookup form with the id filled in (the link of a notification e-mail).
pub fn status_form_for(site: &str, problem: Option<&str>, id: &str) -> String {
    let notice = problem
        .map(|p| {
            format!(
                "<div class=\"fehlerliste\" role=\"alert\"><p>{}</p></div>\n",
                escape(p)
            )
        })
        .unwrap_or_default();
    let main = format!(
        r#"<h1>Stand eines Antrags abfragen</h1>
<p class="vorspann">Geben Sie die Vorgangsnummer und den Schlüssel aus Ihrer Eingangsbestätigung ein.</p>
{notice}<form method="post" action="/api/status">
<div class="feld"><label for="feld-id">Vorgangsnummer <span class="pflicht">(Pflichtfeld)</span></label>
<p class="feld__hilfe" id="hilfe-id">Zum Beispiel 7K3M-9QPX</p>
<input type="text" id="feld-id" name="id" value="{id}" required aria-required="true" aria-describedby="hilfe-id" autocomplete="off" spellcheck="false" maxlength="12"></div>
<div class="feld"><label for="feld-token">Schlüssel <span class="pflicht">(Pflichtfeld)</span></label>
<input type="text" id="feld-token" name="token" required aria-required="true" autocomplete="off" spellcheck="false" maxlength="40"></div>
<button class="knopf" type="submit">Stand abfragen</button>
</form>"#,
        id = escape(id),
    );
    shell(site, "Stand abfragen", &main)
}

/// "Mein Postfach" before login: what it is and the login button.
pub fn mailbox_login(site: &str, portal: Option<&str>, return_path: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("portal", portal.unwrap_or(""))
        .append_pair("return", return_path)
        .append_pair("level", "low")
        .finish();
    let main = format!(
        r#"<h1>Mein Postfach</h1>
<p class="vorspann">Im Postfach sehen Sie alle Anträge, die Sie angemeldet gestellt haben, mit ihrem aktuellen Stand und den Hinweisen der Behörde.</p>
<p><a class="knopf" href="/api/login?{query}">Anmelden mit BundID</a></p>
<p>Anträge ohne Anmeldung fragen Sie mit Vorgangsnummer und Schlüssel ab: <a href="/api/status">Stand eines Antrags abfragen</a>.</p>"#,
        query = escape(&query)
    );
    shell_for(site, portal, "Mein Postfach", &main)
}

/// One application in "Mein Postfach".
pub struct MailboxEntry {
    pub application: StoredApplication,
    pub history: Vec<StatusEntry>,
    /// The service's title, when its form still exists (else its slug is shown).
    pub title: Option<String>,
    /// Messages in its conversation, and of those written by the office since the
    /// citizen last opened it.
    pub messages: usize,
    pub new_messages: usize,
}

/// "Mein Postfach": the citizen's applications with status and the office's notes.
pub fn mailbox(
    site: &str,
    portal: Option<&str>,
    session: &crate::auth::Session,
    applications: &[MailboxEntry],
    appointments: &str,
) -> String {
    let mut main = String::from("<h1>Mein Postfach</h1>\n");
    if let Some(name) = session.display_name() {
        let _ = writeln!(
            main,
            "<p class=\"vorspann\">Angemeldet als {}.</p>",
            escape(&name)
        );
    }
    if applications.is_empty() {
        main.push_str(
            "<p>Sie haben noch keine Anträge gestellt, während Sie angemeldet waren.</p>\n",
        );
    }
    for MailboxEntry {
        application,
        history,
        title,
        messages,
        new_messages,
    } in applications
    {
        let note = history
            .iter()
            .rev()
            .find_map(|h| h.note.as_deref())
            .map(|n| format!("<p>Hinweis der Behörde: {}</p>\n", escape(n)))
            .unwrap_or_default();
        let thread = format!(
            "<p><a href=\"{href}\">{label}</a>{new}</p>\n",
            href = escape(&crate::thread_page::location(&application.id)),
            label = match messages {
                0 => "Nachricht an die Behörde schreiben".to_string(),
                1 => "Eine Nachricht lesen und antworten".to_string(),
                n => format!("{n} Nachrichten lesen und antworten"),
            },
            new = match new_messages {
                0 => String::new(),
                1 => " <strong class=\"nachricht__neu\">1 neue Nachricht</strong>".to_string(),
                n => format!(" <strong class=\"nachricht__neu\">{n} neue Nachrichten</strong>"),
            },
        );
        let note = note + &thread;
        let _ = write!(
            main,
            "<section class=\"karte\" aria-labelledby=\"antrag-{id}\">\n<h2 id=\"antrag-{id}\">Vorgang {id}</h2>\n<p>{service} · eingegangen am {created}</p>\n<p class=\"status status--{class}\">Stand: <strong>{status}</strong></p>\n{note}</section>\n",
            id = escape(&application.id),
            service = escape(title.as_deref().unwrap_or(&application.service)),
            created = escape(&application.created_at[..10.min(application.created_at.len())]),
            class = escape(&application.status),
            status = escape(status_label(&application.status)),
        );
    }
    main.push_str(appointments);
    let return_path = portal.map_or_else(|| "/".to_string(), |p| format!("/{p}/"));
    let _ = write!(
        main,
        "<form method=\"post\" action=\"/api/logout\"><input type=\"hidden\" name=\"return\" value=\"{}\"><button class=\"knopf knopf--zweit\" type=\"submit\">Abmelden</button></form>",
        escape(&return_path)
    );
    shell_for(site, portal, "Mein Postfach", &main)
}
