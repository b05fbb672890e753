//! Paying a fee online (SPEC section 7): the transaction at the provider when a paid
//! service is applied for, the citizen's return (which proves nothing: the provider is
//! asked), paying again, and the schedule that settles what nobody came back for.
//! An application is delivered to the office (`awaiting_payment` → `received`) exactly
//! once, by the store, whichever of these learns first that it is paid.

use lotse_model::payment::Fee;
use serde_json::json;

use super::guard::{self, BodyKind};
use super::{bearer, error, App, Config, Forms};
use crate::auth::HttpClient;
use crate::http::{Request, Response};
use crate::ids::{normalize_id, token_matches};
use crate::payment::{Client, PayStatus, ProviderError, Transaction};
use crate::store::{Store, StoredPayment};
use crate::time::rfc3339;

const MINUTE_MS: u64 = 60_000;
/// After this long an open payment is no longer asked about: the citizen left it.
const GIVE_UP_AFTER_MS: u64 = 7 * 24 * 60 * MINUTE_MS;
/// Failed and cancelled payments are asked about this long more: a late PAYED wins.
const LATE_PAID_MS: u64 = 60 * MINUTE_MS;
/// "Never again" for `next_check_at` (a JavaScript number in D1, so not u64::MAX).
const NEVER: u64 = 1 << 52;

/// The provider of a fee, with the configured test override of its address.
fn provider_client<'a, H: HttpClient>(
    config: &'a Config,
    http: &'a H,
    provider: &'a lotse_model::payment::PaymentProvider,
    now_ms: u64,
) -> Client<'a, H> {
    Client {
        http,
        provider,
        client_secret: config.payment_client_secret.as_deref(),
        tokens: &config.payment_tokens,
        now_ms,
    }
}

/// The fee's provider, with `base_url` replaced when the configuration says so.
fn provider_of(config: &Config, fee: &Fee) -> lotse_model::payment::PaymentProvider {
    let mut provider = fee.provider.clone();
    if let Some(base) = &config.payment_base_url {
        provider.base_url = base.clone();
    }
    provider
}

/// The origins a page's forms may lead to for this fee and payment: the provider's
/// API and its payment page (see `content_security_policy`).
pub(crate) fn form_targets(
    config: &Config,
    fee: Option<&Fee>,
    payment: Option<&StoredPayment>,
) -> Vec<String> {
    let mut origins: Vec<String> = fee
        .map(|fee| provider_of(config, fee).base_url)
        .into_iter()
        .chain(payment.and_then(|p| p.payment_url.clone()))
        .filter_map(|url| lotse_model::payment::origin_of(&url))
        .collect();
    origins.sort();
    origins.dedup();
    origins
}

/// Where the provider sends the citizen back: the return route, naming the id only.
pub(crate) fn return_url(request: &Request, id: &str) -> String {
    format!("{}/api/payment/return?id={id}", request.site_origin())
}

/// The provider's requestId of a try: the id, then `<id>-2`, `<id>-3` ….
fn request_id(application: &str, attempt: u32) -> String {
    match attempt {
        0 | 1 => application.to_string(),
        n => format!("{application}-{n}"),
    }
}

/// When to ask the provider next about a payment in `status`, created at `created_ms`;
/// `base` is the first pause (a minute unless configured).
fn next_check(status: PayStatus, created_ms: u64, now_ms: u64, base: u64) -> u64 {
    let age = now_ms.saturating_sub(created_ms);
    match status {
        PayStatus::Paid => NEVER,
        PayStatus::Failed | PayStatus::Cancelled if age > LATE_PAID_MS => NEVER,
        PayStatus::Failed | PayStatus::Cancelled => now_ms + 5 * base,
        PayStatus::Open if age > GIVE_UP_AFTER_MS => NEVER,
        PayStatus::Open if age > 24 * 60 * MINUTE_MS => now_ms + 60 * base,
        PayStatus::Open if age > 60 * MINUTE_MS => now_ms + 15 * base,
        PayStatus::Open => now_ms + base,
    }
}

/// Creates the transaction of an application's first try, for the submission.
pub(crate) async fn create_first<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
    fee: &Fee,
    title: &str,
) -> Result<Transaction, ProviderError> {
    let provider = provider_of(&app.config, fee);
    let client = provider_client(&app.config, &app.http, &provider, request.now_ms);
    client
        .create(
            &request_id(id, 1),
            fee.amount,
            &fee.purpose,
            title,
            &return_url(request, id),
            &rfc3339(request.now_ms),
        )
        .await
}

/// The payment row of a new application, with what creating its transaction gave.
pub(crate) fn first_payment(
    config: &Config,
    request: &Request,
    id: &str,
    fee: &Fee,
    created: &Result<Transaction, ProviderError>,
) -> StoredPayment {
    let transaction = created.as_ref().ok();
    StoredPayment {
        application_id: id.to_string(),
        amount: fee.amount.0,
        purpose: fee.purpose.clone(),
        status: "open".into(),
        attempt: 1,
        transaction_id: transaction.map(|t| t.id.clone()),
        return_url: return_url(request, id),
        payment_url: transaction.and_then(|t| t.payment_url.clone()),
        reference: transaction.and_then(|t| t.reference.clone()),
        created_at: request.now_ms,
        // The schedule asks soon (or, when the provider was unreachable, creates it).
        next_check_at: request.now_ms + config.payment_recheck_ms,
    }
}

/// Asks the provider about a payment (creating its transaction if it has none yet) and
/// records the answer. Returns the payment as it now stands, and lines for the log.
async fn settle<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    payment: StoredPayment,
    now_ms: u64,
) -> Result<StoredPayment, (StoredPayment, ProviderError)> {
    let id = payment.application_id.clone();
    let Some((fee, title)) = fee_of(app, &id).await else {
        return Err((
            payment,
            ProviderError::Malformed("the service has no fee (any more)".into()),
        ));
    };
    let provider = provider_of(&app.config, &fee);
    let client = provider_client(&app.config, &app.http, &provider, now_ms);
    let asked = match &payment.transaction_id {
        Some(transaction) => client.status(transaction).await,
        None => {
            let created = client
                .create(
                    &request_id(&id, payment.attempt),
                    lotse_model::payment::Cents(payment.amount),
                    &payment.purpose,
                    &title,
                    &payment.return_url,
                    &rfc3339(now_ms),
                )
                .await;
            if let Ok(t) = &created {
                let url = t.payment_url.as_deref().unwrap_or("");
                let stored = app
                    .store
                    .set_payment_transaction(&id, &t.id, url, t.reference.as_deref())
                    .await;
                if let Err(e) = stored {
                    return Err((payment, ProviderError::Unavailable(e.to_string())));
                }
            }
            created
        }
    };
    let transaction = match asked {
        Ok(transaction) => transaction,
        Err(ProviderError::Exists) => {
            // The requestId is taken (a creation whose answer was lost): this try is
            // over, the citizen starts a new one.
            let _ = app
                .store
                .set_payment_status(&id, "failed", None, NEVER, &rfc3339(now_ms))
                .await;
            return Err((payment, ProviderError::Exists));
        }
        Err(e) => {
            let _ = app
                .store
                .set_payment_status(
                    &id,
                    &payment.status,
                    None,
                    now_ms + app.config.payment_recheck_ms,
                    &rfc3339(now_ms),
                )
                .await;
            return Err((payment, e));
        }
    };
    let status = transaction.status;
    let recorded = app
        .store
        .set_payment_status(
            &id,
            status.as_str(),
            transaction.reference.as_deref(),
            next_check(
                status,
                payment.created_at,
                now_ms,
                app.config.payment_recheck_ms,
            ),
            &rfc3339(now_ms),
        )
        .await;
    if let Err(e) = recorded {
        return Err((payment, ProviderError::Unavailable(e.to_string())));
    }
    match app.store.payment(&id).await {
        Ok(Some(now)) => Ok(now),
        _ => Err((
            payment,
            ProviderError::Unavailable("the payment vanished".into()),
        )),
    }
}

/// The fee and title of an application's service, from its form schema.
async fn fee_of<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    id: &str,
) -> Option<(Fee, String)> {
    let application = app.store.application(id).await.ok()??;
    let schema = app
        .forms
        .schema(&application.portal, &application.service)
        .await?;
    Some((schema.fee?, schema.title))
}

/// `GET /api/payment/return?id=…`: the citizen is back from the provider. The return
/// carries nothing that counts; the provider is asked, then the receipt page shows what
/// it said (or, without the receipt cookie, the status lookup).
pub async fn return_from_provider<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let Some(id) = request.query_param("id").and_then(|id| normalize_id(&id)) else {
        return crate::html::error_from_json(
            &app.config.site_name,
            &error(404, "not_found", "Diesen Antrag gibt es nicht."),
        );
    };
    let receipt = super::status::receipt_location(&id);
    let payment = match app.store.payment(&id).await {
        Ok(Some(payment)) => payment,
        Ok(None) => return Response::redirect(&receipt),
        Err(e) => {
            return crate::html::error_from_json(
                &app.config.site_name,
                &guard::unavailable().logged(format!("payment return {id}: {e}")),
            )
        }
    };
    let mut response = Response::redirect(&receipt);
    if payment.status != "paid" {
        if let Err((_, e)) = settle(app, payment, request.now_ms).await {
            response = response.logged(format!("payment return {id}: {}", e.log_reason()));
        }
    }
    response
}

/// `POST /api/payment/retry` with `id` and `token` (the receipt page's form) or JSON
/// `{"id"}` with the bearer token: to the provider's page, starting a new try after a
/// failed or cancelled one. 303 for the form, 200 `{"payment_url"}` for JSON.
pub async fn pay_again<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let site = &app.config.site_name;
    let kind = match guard::size(&app.config, request)
        .and_then(|_| guard::content_type(request, &[BodyKind::Form, BodyKind::Json]))
        .and_then(|kind| guard::same_site(request).map(|_| kind))
    {
        Ok(kind) => kind,
        Err(response) => return crate::html::error_from_json(site, &response),
    };
    let (id, token) = match kind {
        BodyKind::Form => {
            let pairs = crate::http::parse_form_strict(&request.body).unwrap_or_default();
            let get = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default()
            };
            (get("id"), get("token"))
        }
        BodyKind::Json => {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
            (
                body["id"].as_str().unwrap_or("").to_string(),
                bearer(request).unwrap_or("").to_string(),
            )
        }
    };
    let html = kind == BodyKind::Form;
    let answer = |response: Response| {
        if html {
            crate::html::error_from_json(site, &response)
        } else {
            response
        }
    };
    let not_found = || {
        error(
            404,
            "not_found",
            "Zu dieser Vorgangsnummer und diesem Schlüssel gibt es keinen Antrag.",
        )
    };
    let Some(id) = normalize_id(&id) else {
        return answer(not_found());
    };
    let application = match app.store.application(&id).await {
        Ok(Some(a)) if token_matches(&token, &a.token_hash) => a,
        Ok(_) => return answer(not_found()),
        Err(_) => return answer(guard::unavailable()),
    };
    let mut payment = match app.store.payment(&application.id).await {
        Ok(Some(payment)) => payment,
        Ok(None) => {
            return answer(error(
                409,
                "no_payment",
                "Für diesen Antrag ist nichts zu bezahlen.",
            ))
        }
        Err(_) => return answer(guard::unavailable()),
    };
    if matches!(payment.status.as_str(), "failed" | "cancelled") {
        let started = app
            .store
            .retry_payment(&id, payment.attempt, request.now_ms)
            .await;
        if started.is_err() {
            return answer(guard::unavailable());
        }
        match app.store.payment(&id).await {
            Ok(Some(now)) => payment = now,
            _ => return answer(guard::unavailable()),
        }
    }
    if payment.status == "paid" {
        return Response::redirect(&super::status::receipt_location(&id));
    }
    if payment.payment_url.is_none() || payment.transaction_id.is_none() {
        match settle(app, payment, request.now_ms).await {
            Ok(now) => payment = now,
            Err((_, e)) => {
                let response = error(503, "payment_unavailable", e.message_de())
                    .with_header("retry-after", "60")
                    .logged(format!("payment retry {id}: {}", e.log_reason()));
                return answer(response);
            }
        }
    }
    match (payment.payment_url, html) {
        (Some(url), true) => Response::redirect(&url),
        (Some(url), false) => Response::json(200, &json!({"id": id, "payment_url": url})),
        (None, _) => answer(
            error(
                503,
                "payment_unavailable",
                ProviderError::Unavailable(String::new()).message_de(),
            )
            .with_header("retry-after", "60"),
        ),
    }
}

/// The schedule (a Cron Trigger on Workers, a timer under `lotse serve`): asks the
/// provider about every payment due, so that a citizen who paid and never came back is
/// delivered all the same. Returns lines for the operator's log.
pub async fn reconcile_payments<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    now_ms: u64,
) -> Vec<String> {
    let due = match app.store.due_payments(now_ms, 50).await {
        Ok(due) => due,
        Err(e) => return vec![format!("payments: {e}")],
    };
    let mut log = Vec::new();
    for payment in due {
        let id = payment.application_id.clone();
        match settle(app, payment, now_ms).await {
            Ok(now) if now.status == "paid" => log.push(format!("payment {id}: paid")),
            Ok(_) => {}
            Err((_, e)) => log.push(format!("payment {id}: {}", e.log_reason())),
        }
    }
    log
}

/// The `payment` of the status answer (SPEC section 7).
pub(crate) fn payment_json(payment: &StoredPayment) -> serde_json::Value {
    json!({
        "status": payment.status,
        "amount": payment.amount as f64 / 100.0,
        "reference": payment.reference,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payments_are_asked_about_less_often_as_they_age() {
        let (t0, m) = (1_000_000, MINUTE_MS);
        let next = |status, now| next_check(status, t0, now, m);
        assert_eq!(next(PayStatus::Open, t0 + 1), t0 + 1 + m);
        assert_eq!(next(PayStatus::Open, t0 + 120 * m), t0 + 120 * m + 15 * m);
        assert_eq!(next(PayStatus::Paid, t0), NEVER);
        assert_eq!(next(PayStatus::Failed, t0 + 1), t0 + 1 + 5 * m);
        assert_eq!(next(PayStatus::Failed, t0 + 2 * LATE_PAID_MS), NEVER);
        assert_eq!(next(PayStatus::Open, t0 + 2 * GIVE_UP_AFTER_MS), NEVER);
        assert_eq!(request_id("7K3M-9QPX", 1), "7K3M-9QPX");
        assert_eq!(request_id("7K3M-9QPX", 3), "7K3M-9QPX-3");
    }
}
