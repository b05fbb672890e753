//! The appointment pages (SPEC section 8), without JavaScript: the booking page (one
//! fieldset per day, the first week open, later weeks behind `<details>`), the
//! confirmation with the calendar file and the cancel form, and the lookup by
//! Vorgangsnummer and Schlüssel.

use std::fmt::Write as _;

use lotse_model::appointment::{format_clock, BookableService, Slot};
use lotse_model::calendar::{date_in_words, parse_date, utc_ms_to_berlin};
use lotse_model::markup::render_field;
use serde_json::Value;

use crate::api::appointments::{
    booking_fields, free_slots, hand_over, office_message, open_appointment, BookingRequest,
};
use crate::api::{App, Forms};
use crate::auth::HttpClient;
use crate::html::{self, escape, shell_for};
use crate::http::{Request, Response};
use crate::store::{Store, StoredAppointment};

/// The lookup of an appointment by Vorgangsnummer and Schlüssel.
pub const STATUS_PATH: &str = "/api/termin/status";
/// How many days the booking page shows before "Weitere Termine".
const FIRST_DAYS: i64 = 7;

pub fn confirmation_location(id: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("id", id)
        .finish();
    format!("/api/termin/bestaetigung?{query}")
}

/// A JSON error as a page for browsers (`html`), else as it is.
pub(crate) fn as_page<S, F, H>(app: &App<S, F, H>, html: bool, response: Response) -> Response {
    if html && response.status >= 400 && response.header("content-type") == Some("application/json")
    {
        html::error_from_json(&app.config.site_name, &response)
    } else {
        response
    }
}

fn time_of(ms: i64) -> String {
    let (_, minutes) = utc_ms_to_berlin(ms);
    format_clock(minutes as u32)
}

/// The radio buttons of the slots, one fieldset per day.
fn day_fieldsets(out: &mut String, slots: &[Slot], chosen: &str) {
    let mut day_start = 0;
    while day_start < slots.len() {
        let (day, _) = utc_ms_to_berlin(slots[day_start].start_ms);
        let day_end = slots[day_start..]
            .iter()
            .position(|s| utc_ms_to_berlin(s.start_ms).0 != day)
            .map_or(slots.len(), |n| day_start + n);
        let _ = writeln!(
            out,
            "<fieldset class=\"termintag\">\n<legend>{}</legend>\n<div class=\"termintag__zeiten\">",
            escape(&date_in_words(day))
        );
        for slot in &slots[day_start..day_end] {
            let value = lotse_model::calendar::rfc3339_berlin(slot.start_ms);
            let id = format!("zeit-{}", slot.start_ms / 60_000);
            let checked = if value == chosen { " checked" } else { "" };
            let _ = writeln!(
                out,
                "<div class=\"termin\"><input type=\"radio\" name=\"start\" id=\"{id}\" value=\"{value}\" required{checked}><label for=\"{id}\">{} bis {} Uhr</label></div>",
                time_of(slot.start_ms),
                time_of(slot.end_ms)
            );
        }
        out.push_str("</div>\n</fieldset>\n");
        day_start = day_end;
    }
}

/// What the page says above the form: errors of the fields, or that the slot is gone.
struct Notice<'a> {
    errors: Option<&'a serde_json::Map<String, Value>>,
    taken: Option<&'a [Slot]>,
}

fn booking_page_for(
    site: &str,
    service: &BookableService,
    slots: &[Slot],
    booking: Option<&BookingRequest>,
    notice: Notice<'_>,
    login_link: Option<String>,
) -> String {
    let mut main = String::new();
    let _ = write!(
        main,
        "<h1>Termin vereinbaren: {}</h1>\n<p class=\"vorspann\">{} · Dauer: {} Minuten</p>\n",
        escape(&service.title),
        escape(&service.office_name),
        service.plan.duration
    );
    if let Some(address) = &service.office_address {
        let _ = writeln!(main, "<p>Ort: {}</p>", escape(address));
    }
    if let Some(alternatives) = notice.taken {
        main.push_str("<div id=\"fehler\" class=\"fehlerliste\" role=\"alert\" tabindex=\"-1\"><h2>Dieser Termin ist gerade vergeben worden</h2>\n");
        if alternatives.is_empty() {
            main.push_str("<p>Bitte wählen Sie einen anderen Termin.</p>\n");
        } else {
            main.push_str("<p>Diese Termine sind noch frei:</p>\n<ul>\n");
            for slot in alternatives {
                let (day, _) = utc_ms_to_berlin(slot.start_ms);
                let _ = writeln!(
                    main,
                    "<li><a href=\"#zeit-{}\">{}, {} Uhr</a></li>",
                    slot.start_ms / 60_000,
                    escape(&date_in_words(day)),
                    time_of(slot.start_ms)
                );
            }
            main.push_str("</ul>\n");
        }
        main.push_str("</div>\n");
    }
    let errors = notice.errors;
    if let Some(errors) = errors.filter(|e| !e.is_empty()) {
        let _ = writeln!(
            main,
            "<div id=\"fehler\" class=\"fehlerliste\" role=\"alert\" tabindex=\"-1\"><h2>Bitte korrigieren Sie {} {}</h2>\n<ul>",
            errors.len(),
            if errors.len() == 1 { "Angabe" } else { "Angaben" }
        );
        for (field, message) in errors {
            let anchor = if field == "start" {
                "termine".to_string()
            } else {
                format!("feld-{}", escape(field))
            };
            let _ = writeln!(
                main,
                "<li><a href=\"#{anchor}\">{}</a></li>",
                escape(message.as_str().unwrap_or(""))
            );
        }
        main.push_str("</ul>\n</div>\n");
    }
    if slots.is_empty() {
        main.push_str("<p class=\"hinweis\">In den nächsten Wochen sind keine Termine frei. Bitte schauen Sie später wieder vorbei oder wenden Sie sich direkt an die Dienststelle.</p>\n");
        return shell_for(site, Some(&service.portal), "Termin vereinbaren", &main);
    }
    if let Some(link) = login_link {
        let _ = writeln!(
            main,
            "<p>Sie können sich vorher anmelden; dann finden Sie den Termin auch in Mein Postfach: <a href=\"{}\">Mit BundID anmelden (freiwillig)</a></p>",
            escape(&link)
        );
    }
    let chosen = booking.map_or("", |b| b.start.as_str());
    let _ = writeln!(
        main,
        "<form method=\"post\" action=\"/api/appointments\" class=\"formular\">\n<input type=\"hidden\" name=\"portal\" value=\"{}\">\n<input type=\"hidden\" name=\"service\" value=\"{}\">\n<h2 id=\"termine\" tabindex=\"-1\">1. Termin wählen</h2>",
        escape(&service.portal),
        escape(&service.service)
    );
    let (first_day, _) = utc_ms_to_berlin(slots[0].start_ms);
    let split = slots
        .iter()
        .position(|s| utc_ms_to_berlin(s.start_ms).0 >= first_day + FIRST_DAYS)
        .unwrap_or(slots.len());
    day_fieldsets(&mut main, &slots[..split], chosen);
    if split < slots.len() {
        // A chosen later slot opens its part again.
        let open = if slots[split..]
            .iter()
            .any(|s| lotse_model::calendar::rfc3339_berlin(s.start_ms) == chosen)
        {
            " open"
        } else {
            ""
        };
        let _ = writeln!(
            main,
            "<details class=\"weitere-termine\"{open}>\n<summary>Weitere Termine</summary>"
        );
        day_fieldsets(&mut main, &slots[split..], chosen);
        main.push_str("</details>\n");
    }
    main.push_str("<h2>2. Ihre Angaben</h2>\n<p>Die Dienststelle erhält Ihren Namen und Ihre E-Mail-Adresse verschlüsselt. An die Adresse schicken wir am Tag vorher eine Erinnerung.</p>\n");
    for field in booking_fields() {
        let value = booking
            .and_then(|b| b.fields.get(&field.id))
            .map_or("", String::as_str);
        let error = errors
            .and_then(|e| e.get(&field.id))
            .and_then(Value::as_str);
        main.push_str(&render_field(&field, value, error));
        main.push('\n');
    }
    main.push_str("<button class=\"knopf knopf--senden\" type=\"submit\">Termin verbindlich buchen</button>\n</form>");
    shell_for(site, Some(&service.portal), "Termin vereinbaren", &main)
}

/// The optional login's link back to this page, when login is configured and the
/// citizen is not logged in.
fn login_link<S, F, H>(
    app: &App<S, F, H>,
    request: &Request,
    service: &BookableService,
) -> Option<String> {
    app.config.login.as_ref()?;
    if crate::api::login::current_session(app.config.login.as_ref(), request).is_some() {
        return None;
    }
    let back: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("portal", &service.portal)
        .append_pair("service", &service.service)
        .finish();
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("portal", &service.portal)
        .append_pair("return", &format!("/api/termin?{back}"))
        .finish();
    Some(format!("/api/login?{query}"))
}

/// `GET /api/termin?portal=…&service=…&from=YYYY-MM-DD`.
pub async fn booking_page<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let site = &app.config.site_name;
    let portal = request.query_param("portal").unwrap_or_default();
    let service = request.query_param("service").unwrap_or_default();
    let Some(bookable) = app.forms.appointment(&portal, &service).await else {
        return Response::html(
            404,
            html::message_page(
                site,
                "Kein Termin möglich",
                "Für diese Leistung können keine Termine gebucht werden.",
            ),
        );
    };
    let now = request.now_ms as i64;
    let (first, last) = bookable.plan.bookable_days(now);
    let from = request
        .query_param("from")
        .and_then(|d| parse_date(&d))
        .unwrap_or(first);
    match free_slots(&app.store, &bookable, from, last, now).await {
        Ok(slots) => Response::html(
            200,
            booking_page_for(
                site,
                &bookable,
                &slots,
                None,
                Notice {
                    errors: None,
                    taken: None,
                },
                login_link(app, request, &bookable),
            ),
        ),
        Err(response) => as_page(app, true, response),
    }
}

/// The booking page again after a refused booking: with the field errors of `refused`
/// (a 400) or the news that the slot was taken and what is still free.
pub async fn booking_again<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    booking: &BookingRequest,
    refused: Option<&Response>,
    taken: Option<&[Slot]>,
) -> Response {
    let site = &app.config.site_name;
    let Some(bookable) = app
        .forms
        .appointment(&booking.portal, &booking.service)
        .await
    else {
        return as_page(
            app,
            true,
            crate::api::error(
                404,
                "not_found",
                "Für diese Leistung können keine Termine gebucht werden.",
            ),
        );
    };
    let now = request.now_ms as i64;
    let (first, last) = bookable.plan.bookable_days(now);
    let slots = match free_slots(&app.store, &bookable, first, last, now).await {
        Ok(slots) => slots,
        Err(response) => return as_page(app, true, response),
    };
    let body: Option<Value> = refused.and_then(|r| serde_json::from_slice(&r.body).ok());
    let errors = body
        .as_ref()
        .and_then(|b| b.get("fields"))
        .and_then(Value::as_object);
    let status = if taken.is_some() { 409 } else { 400 };
    Response::html(
        status,
        booking_page_for(
            site,
            &bookable,
            &slots,
            Some(booking),
            Notice { errors, taken },
            login_link(app, request, &bookable),
        ),
    )
}

fn confirmation_page(
    site: &str,
    a: &StoredAppointment,
    token: &str,
    service: Option<&BookableService>,
    now_ms: i64,
) -> String {
    let (day, _) = utc_ms_to_berlin(a.start_ms);
    let title = service.map_or(a.service.as_str(), |s| s.title.as_str());
    let place = service.map(|s| match &s.office_address {
        Some(address) => format!("{}, {address}", s.office_name),
        None => s.office_name.clone(),
    });
    let booked = a.status == "booked";
    let mut main = String::new();
    let _ = writeln!(
        main,
        "<h1>{}</h1>\n<p class=\"vorspann\">{}</p>",
        if booked {
            "Ihr Termin ist gebucht"
        } else {
            "Ihr Termin ist abgesagt"
        },
        escape(title)
    );
    if !booked {
        let by = match a.cancelled_by.as_deref() {
            Some("office") => "Die Dienststelle hat den Termin abgesagt.",
            _ => "Sie haben den Termin abgesagt. Der Termin ist wieder frei.",
        };
        let _ = writeln!(
            main,
            "<div class=\"hinweis\" role=\"status\"><p>{by}</p></div>"
        );
        if let Some(message) = office_message(a, token) {
            let _ = writeln!(
                main,
                "<section class=\"karte\" aria-labelledby=\"nachricht\"><h2 id=\"nachricht\">Nachricht der Dienststelle</h2><p>{}</p></section>",
                escape(&message)
            );
        }
    }
    let _ = writeln!(
        main,
        "<dl class=\"zugang\">\n<dt>Wann</dt><dd>{}, {} bis {} Uhr</dd>",
        escape(&date_in_words(day)),
        time_of(a.start_ms),
        time_of(a.end_ms)
    );
    if let Some(place) = &place {
        let _ = writeln!(main, "<dt>Wo</dt><dd>{}</dd>", escape(place));
    }
    let _ = writeln!(
        main,
        "<dt>Vorgangsnummer</dt><dd><strong class=\"vorgang\">{}</strong></dd>\n<dt>Schlüssel</dt><dd><code class=\"schluessel\">{}</code></dd>\n</dl>",
        escape(&a.id),
        escape(token)
    );
    if booked {
        let _ = writeln!(
            main,
            "<p>Notieren Sie sich Vorgangsnummer und Schlüssel oder drucken Sie diese Seite aus: damit können Sie den Termin später absagen.</p>\n<p><a class=\"knopf\" href=\"/api/appointments/{id}/ics\" download=\"termin-{id}.ics\">Termin in den Kalender übernehmen (.ics)</a></p>",
            id = escape(&a.id)
        );
        if now_ms < a.start_ms {
            let _ = writeln!(
                main,
                "<form method=\"post\" action=\"/api/appointments/{id}/cancel\">\n<input type=\"hidden\" name=\"token\" value=\"{token}\">\n<button class=\"knopf knopf--zweitrangig\" type=\"submit\">Termin absagen</button>\n</form>",
                id = escape(&a.id),
                token = escape(token)
            );
        }
    } else {
        let _ = writeln!(
            main,
            "<p><a href=\"/api/termin?portal={}&amp;service={}\">Einen neuen Termin buchen</a></p>",
            escape(&a.portal),
            escape(&a.service)
        );
    }
    let _ = writeln!(
        main,
        "<p>Später finden Sie diesen Termin unter <a href=\"{STATUS_PATH}\">Termin abfragen oder absagen</a>.</p>"
    );
    shell_for(
        site,
        Some(&a.portal),
        if booked {
            "Terminbestätigung"
        } else {
            "Termin abgesagt"
        },
        &main,
    )
}

/// `GET /api/termin/bestaetigung?id=…`: opened by the confirmation cookie.
pub async fn confirmation<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let id = request.query_param("id").unwrap_or_default();
    match open_appointment(app, request, &id).await {
        Ok((a, token)) => {
            let service = app.forms.appointment(&a.portal, &a.service).await;
            Response::html(
                200,
                confirmation_page(
                    &app.config.site_name,
                    &a,
                    &token,
                    service.as_ref(),
                    request.now_ms as i64,
                ),
            )
        }
        Err(response) if response.status == 404 => {
            Response::html(404, lookup_form(&app.config.site_name, None))
        }
        Err(response) => as_page(app, true, response),
    }
}

fn lookup_form(site: &str, problem: Option<&str>) -> String {
    let notice = problem
        .map(|p| {
            format!(
                "<div class=\"fehlerliste\" role=\"alert\"><p>{}</p></div>\n",
                escape(p)
            )
        })
        .unwrap_or_default();
    let main = format!(
        r#"<h1>Termin abfragen oder absagen</h1>
<p class="vorspann">Geben Sie die Vorgangsnummer und den Schlüssel aus Ihrer Terminbestätigung ein.</p>
{notice}<form method="post" action="{STATUS_PATH}">
<div class="feld"><label for="feld-id">Vorgangsnummer <span class="pflicht">(Pflichtfeld)</span></label>
<p class="feld__hilfe" id="hilfe-id">Zum Beispiel 7K3M-9QPX</p>
<input type="text" id="feld-id" name="id" required aria-required="true" aria-describedby="hilfe-id" autocomplete="off" spellcheck="false" maxlength="12"></div>
<div class="feld"><label for="feld-token">Schlüssel <span class="pflicht">(Pflichtfeld)</span></label>
<input type="text" id="feld-token" name="token" required aria-required="true" autocomplete="off" spellcheck="false" maxlength="40"></div>
<button class="knopf" type="submit">Termin anzeigen</button>
</form>"#
    );
    shell_for(site, None, "Termin abfragen", &main)
}

/// `GET /api/termin/status`.
pub fn lookup<S, F, H>(app: &App<S, F, H>) -> Response {
    Response::html(200, lookup_form(&app.config.site_name, None))
}

/// `POST /api/termin/status` with `id` and `token`: on to the confirmation page.
pub async fn lookup_post<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    use crate::api::guard::{self, BodyKind};
    if let Err(response) = guard::size(&app.config, request)
        .and_then(|_| guard::content_type(request, &[BodyKind::Form]))
        .and_then(|_| guard::same_site(request))
    {
        return as_page(app, true, response);
    }
    let id = form_urlencoded::parse(&request.body)
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    match open_appointment(app, request, &id).await {
        Ok((a, token)) => hand_over(app, request.now_ms, &a.id, &token),
        Err(response) if response.status == 404 => Response::html(
            404,
            lookup_form(
                &app.config.site_name,
                Some("Zu dieser Vorgangsnummer und diesem Schlüssel haben wir keinen Termin gefunden. Bitte prüfen Sie Ihre Eingaben."),
            ),
        ),
        Err(response) => as_page(app, true, response),
    }
}

/// The appointments of Mein Postfach, as a section of its page.
/// With each appointment the service's title, where the site still offers it.
pub fn mailbox_section(
    appointments: &[(StoredAppointment, Option<String>)],
    now_ms: i64,
) -> String {
    if appointments.is_empty() {
        return String::new();
    }
    let mut out = String::from("<section aria-labelledby=\"termine\"><h2 id=\"termine\">Ihre Termine</h2>\n<table>\n<caption>Gebuchte und abgesagte Termine</caption>\n<thead><tr><th scope=\"col\">Wann</th><th scope=\"col\">Leistung</th><th scope=\"col\">Vorgangsnummer</th><th scope=\"col\">Stand</th></tr></thead>\n<tbody>\n");
    for (a, title) in appointments {
        let (day, _) = utc_ms_to_berlin(a.start_ms);
        let state = match (a.status.as_str(), a.start_ms <= now_ms) {
            ("booked", true) => "vorbei",
            ("booked", false) => "gebucht",
            _ => "abgesagt",
        };
        let _ = writeln!(
            out,
            "<tr><td>{}, {} Uhr</td><td>{}</td><td>{}</td><td>{state}</td></tr>",
            escape(&date_in_words(day)),
            time_of(a.start_ms),
            escape(title.as_deref().unwrap_or(&a.service)),
            escape(&a.id)
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
    out
}
