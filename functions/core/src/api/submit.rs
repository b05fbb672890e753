//! `POST /api/applications`: validate, encrypt to the office, store, answer with a
//! receipt (201 JSON or 303 to the receipt page).

use lotse_envelope::{PublicKey, Routing};
use lotse_model::form::NOTIFY_FIELD;
use lotse_model::slug::is_slug;
use lotse_model::validate::{check_email, validate, Accepted, FieldErrors, Submitted};
use lotse_model::{FormSchema, TrustLevel};
use serde_json::{json, Map, Value};

use super::guard::{self, BodyKind};
use super::{error, App, Forms};
use crate::auth::HttpClient;
use crate::conversation;
use crate::html;
use crate::http::{Request, Response};
use crate::idempotency::{self, Asked, IdempotencyKey, SavedAnswer};
use crate::ids::{hash_hex, new_id, new_token};
use crate::store::{Completion, IdempotencyRecord, Store, StoredApplication};
use crate::time::rfc3339;

/// What was sent, whatever the encoding.
struct Submission {
    portal: String,
    service: String,
    fields: Submitted,
    /// The optional address for notifications ([`lotse_model::form::NOTIFY_FIELD`]).
    notify_email: Option<String>,
}

/// Browsers navigating with a form accept HTML; they get pages, API clients get JSON.
pub(crate) fn wants_html(request: &Request) -> bool {
    request
        .header("accept")
        .is_some_and(|accept| accept.contains("text/html"))
}

pub async fn submit<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let html = wants_html(request);
    match accept(app, request, html).await {
        Ok(response) if response.status == 303 => {
            super::status::hand_over_receipt(&app.config, request.now_ms, response)
        }
        Ok(response) | Err(response) => {
            if html
                && response.status >= 400
                && response.header("content-type") == Some("application/json")
            {
                html::error_from_json(&app.config.site_name, &response)
            } else {
                response
            }
        }
    }
}

async fn accept<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    html: bool,
) -> Result<Response, Response> {
    guard::size(&app.config, request)?;
    let kind = guard::content_type(request, &[BodyKind::Json, BodyKind::Form])?;
    guard::same_site(request)?;
    let idempotency_key = idempotency_key(&app.config, request)?;
    // A retry of a key already claimed is answered from the store (the first answer, or
    // 409 or 422) and does not count against the rate: only new submissions do.
    let retry = match &idempotency_key {
        Some(key) => app
            .store
            .idempotency_record(key.hash())
            .await
            .map_err(|_| guard::unavailable())?
            .is_some(),
        None => false,
    };
    if !retry {
        guard::rate(&app.store, &app.config, request).await?;
    }

    let submission = parse(kind, &request.body)?;
    let slugs_valid = is_slug(&submission.portal) && is_slug(&submission.service);
    let schema = match slugs_valid {
        true => {
            app.forms
                .schema(&submission.portal, &submission.service)
                .await
        }
        false => None,
    };
    let schema = schema.ok_or_else(|| {
            error(
                404,
                "not_found",
                "Diesen Antrag gibt es nicht: unbekanntes Portal, unbekannte Leistung oder eine Leistung ohne Online-Antrag.",
            )
        })?;
    let session = super::login::current_session(app.config.login.as_ref(), request);
    if schema.login != TrustLevel::None {
        match &session {
            None => {
                return Err(error(
                    401,
                    "login_required",
                    &format!(
                        "Für diesen Antrag müssen Sie sich anmelden ({}).",
                        schema.login.label_de()
                    ),
                ))
            }
            Some(s) if s.level < schema.login => {
                return Err(error(
                    403,
                    "level_too_low",
                    &format!(
                        "Für diesen Antrag reicht Ihre Anmeldung nicht aus. Nötig ist: {}.",
                        schema.login.label_de()
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    let account_hash = match (&session, &app.config.login) {
        (Some(s), Some(setup)) => Some(setup.accounts.account_hash(&s.sub)),
        _ => None,
    };
    let notify_email = submission
        .notify_email
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(check_email)
        .transpose();
    let accepted = match (validate(&schema.fields, &submission.fields), notify_email) {
        (Ok(accepted), Ok(notify_email)) => (accepted, notify_email),
        (fields, address) => {
            let mut errors = fields.err().unwrap_or_default();
            if let Err(message) = address {
                errors.insert(NOTIFY_FIELD.into(), message);
            }
            if !html {
                return Err(validation_error(&errors));
            }
            let mut typed = submission.fields.clone();
            if let Some(address) = &submission.notify_email {
                typed.insert(NOTIFY_FIELD.into(), address.clone());
            }
            let targets = super::payment::form_targets(&app.config, schema.fee.as_ref(), None);
            return Err(Response::html(
                400,
                html::form_with_errors(&app.config.site_name, &schema, &typed, &errors),
            )
            .with_header(
                "content-security-policy",
                &super::content_security_policy(&targets),
            ));
        }
    };
    let (accepted, notify_email) = accepted;

    let recipient = PublicKey::from_base64(&schema.public_key).map_err(|_| guard::unavailable())?;
    // Claim the key before anything is stored: of concurrent requests with one key,
    // exactly one goes on; the others get the first answer, 409 or 422.
    let claim = match &idempotency_key {
        None => None,
        Some(key) => {
            let fingerprint = key.fingerprint(&Asked {
                portal: &schema.portal,
                service: &schema.service,
                fields: &accepted,
                html,
                account: account_hash.as_deref(),
            });
            let owner = idempotency::new_owner();
            let record = app
                .store
                .claim_idempotency(
                    key.hash(),
                    &fingerprint,
                    &owner,
                    request.now_ms,
                    request.now_ms.saturating_sub(idempotency::STALE_CLAIM_MS),
                )
                .await
                .map_err(|_| guard::unavailable())?;
            if record.owner != owner {
                return settle(key, &fingerprint, &record);
            }
            Some((key, fingerprint, owner))
        }
    };
    let outcome = store_new(
        app,
        request,
        &schema,
        &accepted,
        account_hash,
        notify_email.as_deref(),
        session
            .as_ref()
            .zip(app.config.login.as_ref())
            .map(|(s, setup)| (&setup.accounts, s.sub.as_str())),
        html,
        &recipient,
        &claim,
    )
    .await;
    if let (Err(_), Some((key, _, owner))) = (&outcome, &claim) {
        // Let a retry try again at once rather than wait for the claim to go stale.
        let _ = app.store.release_idempotency(key.hash(), owner).await;
    }
    outcome
}

/// The answer to a request whose key another request claimed: the first answer when
/// the requests match, 422 when they do not, 409 while the first is in flight.
fn settle(
    key: &IdempotencyKey,
    fingerprint: &str,
    record: &IdempotencyRecord,
) -> Result<Response, Response> {
    if let Some(reason) = idempotency::mismatch(&record.fingerprint, fingerprint) {
        let what = match reason {
            "service" => "Sie galt einem Antrag auf eine andere Leistung",
            "fields" => "Sie enthielt andere Angaben",
            "answer" => {
                "Sie erwartete die Antwort in anderer Form (als Webseite statt als JSON oder umgekehrt)"
            }
            "account" => "Sie wurde mit einer anderen Anmeldung gesendet",
            _ => "Sie unterschied sich von dieser",
        };
        return Err(Response::json(
            422,
            &json!({
                "error": "idempotency_mismatch",
                "reason": reason,
                "message": format!(
                    "Dieser Idempotency-Key wurde schon für eine andere Anfrage verwendet. {what}. \
                     Für einen neuen Antrag verwenden Sie bitte einen neuen Schlüssel."
                ),
            }),
        ));
    }
    match &record.answer {
        Some(sealed) => key
            .open(sealed)
            .map(replay)
            .ok_or_else(guard::unavailable),
        None => Err(error(
            409,
            "idempotency_in_flight",
            "Ihr Antrag mit diesem Idempotency-Key wird gerade noch gespeichert. Bitte senden Sie ihn in einer Sekunde noch einmal; Sie erhalten dann dieselbe Antwort.",
        )
        .with_header("retry-after", "1")),
    }
}

/// The `Idempotency-Key` header: none, one valid key, or 400 (a malformed key, or more
/// than one, is never ignored).
fn idempotency_key(
    config: &super::Config,
    request: &Request,
) -> Result<Option<IdempotencyKey>, Response> {
    let mut values = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"))
        .map(|(_, value)| value.trim());
    let (first, second) = (values.next(), values.next());
    match (first, second) {
        (None, _) => Ok(None),
        (Some(key), None) if idempotency::valid_key(key) => {
            Ok(Some(IdempotencyKey::new(&config.hash_secret, key)))
        }
        _ => Err(error(
            400,
            "invalid_idempotency_key",
            &format!(
                "Der Idempotency-Key muss ein einzelner Wert aus {} bis {} sichtbaren ASCII-Zeichen sein (ohne Leerzeichen und Umlaute), zum Beispiel eine UUID.",
                idempotency::MIN_KEY_LEN,
                idempotency::MAX_KEY_LEN
            ),
        )),
    }
}

/// Seals and stores a new application (for the claim, if the request holds one).
#[allow(clippy::too_many_arguments)]
async fn store_new<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    schema: &FormSchema,
    accepted: &Accepted,
    account_hash: Option<String>,
    notify_email: Option<&str>,
    account: Option<(&crate::auth::AccountKey, &str)>,
    html: bool,
    recipient: &PublicKey,
    claim: &Option<(&IdempotencyKey, String, String)>,
) -> Result<Response, Response> {
    let token = new_token();
    let created_at = rfc3339(request.now_ms);
    for _attempt in 0..3 {
        let id = new_id();
        let routing = Routing {
            id: id.clone(),
            portal: schema.portal.clone(),
            service: schema.service.clone(),
            office: schema.office.clone(),
            created_at: created_at.clone(),
        };
        // A fee: the transaction first, so that the office's envelope names the amount
        // and, when the provider gives it now, the Kassenzeichen.
        let created = match &schema.fee {
            Some(fee) => {
                Some(super::payment::create_first(app, request, &id, fee, &schema.title).await)
            }
            None => None,
        };
        let mut plaintext = json!({
            "id": id,
            "portal": schema.portal,
            "service": schema.service,
            "service_title": schema.title,
            "office": schema.office,
            "submitted_at": created_at,
            "fields": accepted,
        });
        if let (Some(fee), Some(created)) = (&schema.fee, &created) {
            plaintext["payment"] = json!({
                "amount": fee.amount.decimal(),
                "purpose": fee.purpose,
                "reference": created.as_ref().ok().and_then(|t| t.reference.clone()),
            });
        }
        let envelope = lotse_envelope::seal(recipient, routing, plaintext.to_string().as_bytes())
            .map_err(|_| guard::unavailable())?;
        let citizen = conversation::citizen_key(&token, &id);
        let stored = StoredApplication {
            id: id.clone(),
            portal: schema.portal.clone(),
            service: schema.service.clone(),
            office: schema.office.clone(),
            token_hash: hash_hex(token.as_bytes()),
            account_hash: account_hash.clone(),
            envelope: envelope.to_json(),
            status: if schema.fee.is_some() {
                "awaiting_payment"
            } else {
                "received"
            }
            .into(),
            created_at: created_at.clone(),
            updated_at: created_at.clone(),
            citizen_key: Some(citizen.public_key().to_base64()),
            citizen_key_wrapped: account.map(|(accounts, sub)| {
                conversation::wrap_for_account(accounts, sub, &id, &citizen)
            }),
            citizen_seen_at: None,
            contact: notify_email.and_then(|address| {
                // The link in a notification points to the site the citizen applied on.
                let contact = crate::notify::Contact {
                    to: address.to_string(),
                    origin: request.site_origin(),
                    about: None,
                };
                crate::notify::seal_contact(&app.config.hash_secret, &id, &contact)
            }),
        };
        let payment = schema
            .fee
            .as_ref()
            .zip(created.as_ref())
            .map(|(fee, created)| {
                super::payment::first_payment(&app.config, request, &id, fee, created)
            });
        let answer = receipt_answer(
            &id,
            &token,
            html,
            payment.as_ref().map(|p| p.payment_url.as_deref()),
        );
        let sealed = claim.as_ref().map(|(key, _, _)| key.seal(&answer));
        let completion = claim
            .as_ref()
            .zip(sealed.as_deref())
            .map(|((key, _, owner), answer)| Completion {
                key_hash: key.hash(),
                owner,
                answer,
            });
        match app
            .store
            .insert_application(&stored, completion, payment.as_ref())
            .await
        {
            Ok(true) => return Ok(replay(answer)),
            Ok(false) => {}
            Err(_) => return Err(guard::unavailable()),
        }
        // Nothing stored: the id was taken (draw another), or the claim went to a retry
        // after this request was held up for longer than a claim lasts.
        if let Some((key, fingerprint, owner)) = claim {
            match app.store.idempotency_record(key.hash()).await {
                Ok(Some(record)) if record.owner == *owner && record.answer.is_none() => {}
                Ok(Some(record)) => return settle(key, fingerprint, &record),
                Ok(None) | Err(_) => return Err(guard::unavailable()),
            }
        }
    }
    Err(guard::unavailable())
}

/// The first answer, as saved for idempotent replays. For the HTML form it is a 303 to
/// the receipt page whose address names the id only; its saved body, the id and token,
/// becomes the sealed receipt cookie when it is sent ([`super::status::hand_over_receipt`]).
fn receipt_answer(id: &str, token: &str, html: bool, payment: Option<Option<&str>>) -> SavedAnswer {
    // A paid service's form goes on to the provider's page (or, when it cannot be
    // reached, to the receipt, which offers to pay later).
    let status = if payment.is_some() {
        "awaiting_payment"
    } else {
        "received"
    };
    if html {
        let location = match payment {
            Some(Some(url)) => url.to_string(),
            _ => super::status::receipt_location(id),
        };
        SavedAnswer {
            status: 303,
            content_type: "application/json".into(),
            location: Some(location),
            body: json!({"id": id, "token": token}).to_string(),
        }
    } else {
        let mut body = json!({"id": id, "token": token, "status": status});
        if let Some(url) = payment {
            body["payment_url"] = json!(url);
        }
        SavedAnswer {
            status: 201,
            content_type: "application/json".into(),
            location: None,
            body: body.to_string(),
        }
    }
}

fn replay(answer: SavedAnswer) -> Response {
    let mut response = Response::new(answer.status, &answer.content_type, answer.body);
    if let Some(location) = answer.location {
        response = response.with_header("location", &location);
    }
    response
}

fn validation_error(errors: &FieldErrors) -> Response {
    Response::json(400, &json!({"error": "validation", "fields": errors}))
}

fn parse(kind: BodyKind, body: &[u8]) -> Result<Submission, Response> {
    match kind {
        BodyKind::Form => {
            let mut portal = String::new();
            let mut service = String::new();
            let mut fields = Submitted::new();
            // Strict, as for JSON: bytes that are not UTF-8 are refused, not stored as
            // U+FFFD in place of what the citizen typed.
            let pairs = crate::http::parse_form_strict(body).ok_or_else(|| {
                error(
                    400,
                    "invalid_form",
                    "Die Formulardaten sind nicht gültig kodiert (erwartet wird UTF-8). Bitte senden Sie das Formular erneut ab.",
                )
            })?;
            for (key, value) in pairs {
                match key.as_str() {
                    "portal" => portal = value,
                    "service" => service = value,
                    _ => {
                        fields.entry(key).or_insert(value);
                    }
                }
            }
            let notify_email = fields.remove(NOTIFY_FIELD);
            Ok(Submission {
                portal,
                service,
                fields,
                notify_email,
            })
        }
        BodyKind::Json => {
            let value: Value = serde_json::from_slice(body)
                .map_err(|_| error(400, "invalid_json", "Der Inhalt ist kein gültiges JSON."))?;
            let object = value.as_object().ok_or_else(|| {
                error(
                    400,
                    "invalid_json",
                    "Erwartet wird ein JSON-Objekt mit portal, service und fields.",
                )
            })?;
            let text = |key: &str| {
                object
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let empty = Map::new();
            let raw_fields = match object.get("fields") {
                None => &empty,
                Some(Value::Object(map)) => map,
                Some(_) => {
                    return Err(error(
                        400,
                        "invalid_json",
                        "`fields` muss ein JSON-Objekt sein.",
                    ))
                }
            };
            let mut fields = Submitted::new();
            let mut errors = FieldErrors::new();
            for (key, value) in raw_fields {
                match value {
                    Value::String(s) => {
                        fields.insert(key.clone(), s.clone());
                    }
                    Value::Number(n) => {
                        fields.insert(key.clone(), n.to_string());
                    }
                    Value::Bool(b) => {
                        fields.insert(key.clone(), if *b { "ja" } else { "nein" }.into());
                    }
                    Value::Null => {}
                    _ => {
                        errors.insert(
                            key.clone(),
                            "Bitte geben Sie einen einzelnen Wert an.".into(),
                        );
                    }
                }
            }
            if !errors.is_empty() {
                return Err(validation_error(&errors));
            }
            let notify_email = match object.get(NOTIFY_FIELD) {
                None | Some(Value::Null) => None,
                Some(Value::String(address)) => Some(address.clone()),
                Some(_) => {
                    let mut errors = FieldErrors::new();
                    errors.insert(
                        NOTIFY_FIELD.into(),
                        "Bitte geben Sie die E-Mail-Adresse als Text an.".into(),
                    );
                    return Err(validation_error(&errors));
                }
            };
            Ok(Submission {
                portal: text("portal"),
                service: text("service"),
                fields,
                notify_email,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_and_json_bodies_with_invalid_utf8_are_both_400() {
        let form = parse(
            BodyKind::Form,
            b"portal=bottrop&service=fundsache-melden&ort=%FF",
        );
        let json = parse(
            BodyKind::Json,
            b"{\"portal\":\"bottrop\",\"service\":\"fundsache-melden\",\"fields\":{\"ort\":\"\xff\"}}",
        );
        for (kind, answer) in [("form", form), ("json", json)] {
            let response = answer.err().unwrap_or_else(|| panic!("{kind} accepted"));
            assert_eq!(response.status, 400, "{kind}");
        }
        let form = parse(BodyKind::Form, b"portal=bottrop&ort=%C3%BCber")
            .ok()
            .unwrap();
        assert_eq!(form.fields["ort"], "über");
    }
}
