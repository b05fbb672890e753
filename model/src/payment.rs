//! Fees paid online (SPEC sections 2 and 7): what a service costs, and the payment
//! provider of its portal (an XBezahldienste 1.0 service such as ePayBL or pmPayment).

use serde::{Deserialize, Serialize};

/// The longest Verwendungszweck XBezahldienste takes.
pub const PURPOSE_MAX_CHARS: usize = 27;

/// An amount in euro cents: the content's `amount = 13.5` is 1350 here, so no sum or
/// comparison ever rounds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(pub u64);

impl Cents {
    /// From euros as written in the content: `None` for a negative, non-finite or
    /// too large amount, or one with more than two decimals.
    pub fn from_euros(euros: f64) -> Option<Cents> {
        if !euros.is_finite() || !(0.0..=1_000_000.0).contains(&euros) {
            return None;
        }
        let cents = (euros * 100.0).round();
        ((euros * 100.0 - cents).abs() < 1e-6).then_some(Cents(cents as u64))
    }

    /// `13,50 €`, as German readers write it.
    pub fn label_de(self) -> String {
        let euros = self.0 / 100;
        let mut grouped = String::new();
        for (i, digit) in euros.to_string().chars().rev().enumerate() {
            if i > 0 && i % 3 == 0 {
                grouped.insert(0, '.');
            }
            grouped.insert(0, digit);
        }
        format!("{grouped},{:02} €", self.0 % 100)
    }

    /// `13.50`, the decimal XBezahldienste's amounts are sent as.
    pub fn decimal(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A service's fee, as the functions need it (part of the form schema).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub amount: Cents,
    /// The Verwendungszweck, at most [`PURPOSE_MAX_CHARS`] characters.
    pub purpose: String,
    pub provider: PaymentProvider,
}

/// A portal's payment provider (`[payment]` in portal.toml or region.toml).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentProvider {
    /// Up to the path before `/paymenttransaction/…`, e.g. `https://epaybl.example/api/v1`.
    pub base_url: String,
    pub originator_id: String,
    pub endpoint_id: String,
    /// OAuth2 client credentials (pmPayment): the token endpoint and client id; the
    /// secret is the Worker secret `PAYMENT_CLIENT_SECRET` (`LOTSE_PAYMENT_CLIENT_SECRET`
    /// under `lotse serve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// `scheme://host[:port]` of an absolute http(s) URL, lowercase; `None` for anything
/// else. A provider's origin, for the `form-action` of the pages whose forms lead there.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let valid = matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    valid.then(|| format!("{scheme}://{host}").to_ascii_lowercase())
}

/// The purpose when the content gives none: the title, cut to fit.
pub fn default_purpose(title: &str) -> String {
    title
        .chars()
        .take(PURPOSE_MAX_CHARS)
        .collect::<String>()
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_become_cents_without_rounding_errors() {
        assert_eq!(Cents::from_euros(13.5), Some(Cents(1350)));
        assert_eq!(Cents::from_euros(0.1 + 0.2), Some(Cents(30)));
        assert_eq!(Cents::from_euros(28.0), Some(Cents(2800)));
        assert_eq!(Cents::from_euros(13.001), None);
        assert_eq!(Cents::from_euros(-1.0), None);
        assert_eq!(Cents::from_euros(f64::NAN), None);
        assert_eq!(Cents(1350).label_de(), "13,50 €");
        assert_eq!(Cents(123_456_700).label_de(), "1.234.567,00 €");
        assert_eq!(Cents(5).decimal(), "0.05");
        assert_eq!(
            default_purpose("Anwohnerparkausweis beantragen oder verlängern"),
            "Anwohnerparkausweis beantra"
        );
    }
}
