//! The payment provider, as XBezahldienste 1.0 describes it (SPEC section 7): create a
//! transaction for an application, ask for its status. ePayBL and pmPayment speak it;
//! pmPayment wants an OAuth2 client-credentials token, cached here until it expires.
//!
//! Nothing of the application goes to the provider but the amount, the purpose
//! (Verwendungszweck, from the content) and the service's title: no field value.

use std::sync::Mutex;

use lotse_model::payment::{Cents, PaymentProvider};
use serde_json::{json, Value};

use crate::auth::{AuthError, HttpClient};

/// What the provider says about a transaction, in Lotse's words (SPEC section 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayStatus {
    Open,
    Paid,
    Failed,
    Cancelled,
}

impl PayStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayStatus::Open => "open",
            PayStatus::Paid => "paid",
            PayStatus::Failed => "failed",
            PayStatus::Cancelled => "cancelled",
        }
    }

    /// XBezahldienste's status: INITIAL, PAYED, FAILED, CANCELED.
    fn from_provider(status: &str) -> Option<PayStatus> {
        Some(match status {
            "INITIAL" => PayStatus::Open,
            "PAYED" => PayStatus::Paid,
            "FAILED" => PayStatus::Failed,
            "CANCELED" => PayStatus::Cancelled,
            _ => return None,
        })
    }
}

/// A transaction at the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub id: String,
    /// The payment page; only while the transaction is open.
    pub payment_url: Option<String>,
    /// The Kassenzeichen, at creation or only once paid.
    pub reference: Option<String>,
    pub status: PayStatus,
}

/// Why the provider gave no transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderError {
    /// Not reachable, a timeout, a 5xx: try again later.
    Unavailable(String),
    /// A transaction with this requestId exists already (PAYMENT_EXISTS).
    Exists,
    /// Refused with a problem+json `functionalCode` (VALIDATION_ERROR, CALCULATION_ERROR,
    /// …): a configuration or content problem for the operator.
    Refused { status: u16, code: String },
    /// An answer that is not XBezahldienste.
    Malformed(String),
}

impl ProviderError {
    /// For the operator's log: codes and statuses, never a field value (none is sent).
    pub fn log_reason(&self) -> String {
        match self {
            ProviderError::Unavailable(why) => format!("provider unavailable: {why}"),
            ProviderError::Exists => "PAYMENT_EXISTS".into(),
            ProviderError::Refused { status, code } => format!("refused {status} {code}"),
            ProviderError::Malformed(why) => format!("unusable answer: {why}"),
        }
    }

    /// What the citizen reads.
    pub fn message_de(&self) -> &'static str {
        match self {
            ProviderError::Unavailable(_) => "Die Bezahlseite ist gerade nicht erreichbar. Ihr Antrag ist gespeichert; bitte versuchen Sie die Bezahlung in einigen Minuten erneut.",
            _ => "Die Bezahlung kann gerade nicht begonnen werden. Ihr Antrag ist gespeichert; die Stadt ist informiert. Bitte versuchen Sie es später erneut.",
        }
    }
}

/// An OAuth2 access token with the time it expires (ms), per process or isolate.
#[derive(Default)]
pub struct TokenCache(Mutex<Option<(String, u64)>>);

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCache(<token>)")
    }
}

impl TokenCache {
    fn get(&self, now_ms: u64) -> Option<String> {
        let cached = self.0.lock().ok()?;
        cached
            .as_ref()
            .filter(|(_, expires)| *expires > now_ms)
            .map(|(token, _)| token.clone())
    }

    fn put(&self, token: String, expires_ms: u64) {
        if let Ok(mut cached) = self.0.lock() {
            *cached = Some((token, expires_ms));
        }
    }

    fn clear(&self) {
        if let Ok(mut cached) = self.0.lock() {
            *cached = None;
        }
    }
}

/// One call's view of the provider.
pub struct Client<'a, H> {
    pub http: &'a H,
    pub provider: &'a PaymentProvider,
    /// The OAuth2 client secret, when the provider has a `token_url`.
    pub client_secret: Option<&'a str>,
    pub tokens: &'a TokenCache,
    pub now_ms: u64,
}

/// Characters XBezahldienste takes in a purpose (`[\w\d\s-]`, ASCII word characters):
/// umlauts are written out, anything else becomes a space.
pub fn provider_text(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'Ä' => out.push_str("Ae"),
            'Ö' => out.push_str("Oe"),
            'Ü' => out.push_str("Ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphanumeric() || c == '-' || c == '_' => out.push(c),
            _ => out.push(' '),
        }
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .chars()
        .take(max_chars)
        .collect::<String>()
        .trim_end()
        .to_string()
}

impl<H: HttpClient> Client<'_, H> {
    fn transactions_url(&self) -> String {
        format!(
            "{}/paymenttransaction/{}/{}",
            self.provider.base_url.trim_end_matches('/'),
            self.provider.originator_id,
            self.provider.endpoint_id
        )
    }

    /// The bearer token, when the provider wants one (fetched and cached).
    async fn token(&self, fresh: bool) -> Result<Option<String>, ProviderError> {
        let (Some(token_url), Some(client_id)) =
            (&self.provider.token_url, &self.provider.client_id)
        else {
            return Ok(None);
        };
        if !fresh {
            if let Some(token) = self.tokens.get(self.now_ms) {
                return Ok(Some(token));
            }
        }
        let secret = self.client_secret.ok_or_else(|| ProviderError::Refused {
            status: 0,
            code: "no client secret configured (PAYMENT_CLIENT_SECRET)".into(),
        })?;
        let (status, answer) = self
            .http
            .post_form(
                token_url,
                &[("grant_type", "client_credentials")],
                Some((client_id, secret)),
            )
            .await
            .map_err(transport)?;
        let token = answer["access_token"].as_str().filter(|_| status == 200);
        let Some(token) = token else {
            return Err(if status >= 500 {
                ProviderError::Unavailable(format!("token endpoint answered {status}"))
            } else {
                ProviderError::Refused {
                    status,
                    code: "token refused".into(),
                }
            });
        };
        // A minute early, so no token expires on its way.
        let lifetime_s = answer["expires_in"].as_u64().unwrap_or(300);
        let expires = self.now_ms + lifetime_s.saturating_sub(60).max(1) * 1000;
        self.tokens.put(token.to_string(), expires);
        Ok(Some(token.to_string()))
    }

    /// One call, with the token; a refused token is fetched anew once.
    async fn call(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ProviderError> {
        for fresh in [false, true] {
            let token = self.token(fresh).await?;
            let authorization = token.map(|t| format!("Bearer {t}"));
            let headers: Vec<(&str, &str)> = authorization
                .as_deref()
                .map(|a| vec![("authorization", a)])
                .unwrap_or_default();
            let (status, answer) = self
                .http
                .send_json(method, url, &headers, body)
                .await
                .map_err(transport)?;
            let token_refused = matches!(status, 401 | 403) && authorization.is_some();
            if token_refused && !fresh {
                self.tokens.clear();
                continue;
            }
            return Ok((status, answer));
        }
        unreachable!("the loop returns on its second pass")
    }

    /// Creates the transaction: `requestId` as given (the application id, or
    /// `<id>-<try>`), one item with the whole amount, no tax.
    pub async fn create(
        &self,
        request_id: &str,
        amount: Cents,
        purpose: &str,
        description: &str,
        redirect_url: &str,
        timestamp: &str,
    ) -> Result<Transaction, ProviderError> {
        // Amounts are JSON numbers with at most two decimals; cents / 100 prints so.
        let euros = amount.0 as f64 / 100.0;
        let description = provider_text(description, 250);
        let body = json!({
            "requestId": request_id,
            "requestTimestamp": timestamp,
            "currency": "EUR",
            "grosAmount": euros,
            "purpose": provider_text(purpose, lotse_model::payment::PURPOSE_MAX_CHARS),
            "description": description,
            "redirectUrl": redirect_url,
            "items": [{
                "id": "1",
                "reference": request_id,
                "description": description,
                "taxRate": 0,
                "quantity": 1,
                "totalNetAmount": euros,
                "totalTaxAmount": 0,
                "singleNetAmount": euros,
                "singleTaxAmount": 0,
            }],
        });
        let (status, answer) = self
            .call("POST", &self.transactions_url(), Some(&body))
            .await?;
        match status {
            200 | 201 => transaction(&answer),
            _ => Err(problem(status, &answer)),
        }
    }

    /// The transaction as it stands: the return to the site proves nothing, this does.
    pub async fn status(&self, transaction_id: &str) -> Result<Transaction, ProviderError> {
        let url = format!("{}/{}", self.transactions_url(), transaction_id);
        let (status, answer) = self.call("GET", &url, None).await?;
        match status {
            200 => transaction(&answer),
            _ => Err(problem(status, &answer)),
        }
    }
}

fn transport(e: AuthError) -> ProviderError {
    ProviderError::Unavailable(match e {
        AuthError::Provider(why) => why,
        other => format!("{other:?}"),
    })
}

fn transaction(answer: &Value) -> Result<Transaction, ProviderError> {
    let info = &answer["paymentInformation"];
    let text = |key: &str| {
        info[key]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let id = text("transactionId")
        .ok_or_else(|| ProviderError::Malformed("no paymentInformation.transactionId".into()))?;
    let status = info["status"]
        .as_str()
        .and_then(PayStatus::from_provider)
        .ok_or_else(|| ProviderError::Malformed("no known paymentInformation.status".into()))?;
    Ok(Transaction {
        id,
        payment_url: text("transactionRedirectUrl"),
        reference: text("transactionReference"),
        status,
    })
}

/// A problem+json refusal, or an outage for 5xx and anything unreadable at 5xx.
fn problem(status: u16, answer: &Value) -> ProviderError {
    let code = answer["functionalCode"]
        .as_str()
        .or_else(|| answer["code"].as_str())
        .unwrap_or("")
        .to_string();
    match (status, code.as_str()) {
        (_, "PAYMENT_EXISTS") => ProviderError::Exists,
        (500.., _) => ProviderError::Unavailable(format!("answered {status} {code}")),
        _ => ProviderError::Refused { status, code },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_fit_what_the_provider_takes() {
        assert_eq!(provider_text("Führungszeugnis", 27), "Fuehrungszeugnis");
        assert_eq!(
            provider_text("Anwohnerparkausweis (Zone A): 30,70 €", 27),
            "Anwohnerparkausweis Zone A"
        );
        assert_eq!(
            provider_text("Straßenfest anmelden/genehmigen", 27),
            "Strassenfest anmelden geneh"
        );
    }

    #[test]
    fn provider_answers_are_read_strictly() {
        let ok = json!({"paymentInformation": {"transactionId": "T1", "status": "PAYED", "transactionReference": "KZ-1"}});
        let t = transaction(&ok).unwrap();
        assert_eq!(
            (t.status, t.reference.as_deref()),
            (PayStatus::Paid, Some("KZ-1"))
        );
        assert!(transaction(
            &json!({"paymentInformation": {"transactionId": "T1", "status": "WEIRD"}})
        )
        .is_err());
        assert_eq!(
            problem(409, &json!({"functionalCode": "PAYMENT_EXISTS"})),
            ProviderError::Exists
        );
        assert!(matches!(
            problem(503, &Value::Null),
            ProviderError::Unavailable(_)
        ));
        assert_eq!(
            problem(400, &json!({"functionalCode": "CALCULATION_ERROR"})),
            ProviderError::Refused {
                status: 400,
                code: "CALCULATION_ERROR".into()
            }
        );
    }
}
