//! A service as a citizen sees it in one portal, after regional text and local
//! overrides have been resolved.

use serde::{Deserialize, Serialize};

use crate::form::Form;
use crate::payment::{Cents, Fee, PaymentProvider};

/// Who provides a service: the municipality itself, the state, or the federation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    #[default]
    Kommune,
    Land,
    Bund,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Kommune, Provider::Land, Provider::Bund];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Kommune => "kommune",
            Provider::Land => "land",
            Provider::Bund => "bund",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// True for services of the state or the federation, which portals only link to.
    pub fn is_external(self) -> bool {
        self != Provider::Kommune
    }
}

/// The identity assurance a service needs before one may apply online.
///
/// Ordered: a session at `High` satisfies a service that needs `Substantial`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TrustLevel {
    #[default]
    None,
    Low,
    Substantial,
    High,
}

impl TrustLevel {
    pub const ALL: [TrustLevel; 4] = [
        TrustLevel::None,
        TrustLevel::Low,
        TrustLevel::Substantial,
        TrustLevel::High,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TrustLevel::None => "none",
            TrustLevel::Low => "low",
            TrustLevel::Substantial => "substantial",
            TrustLevel::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<TrustLevel> {
        TrustLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// How the level is named to citizens, after the BundID levels it maps to.
    pub fn label_de(self) -> &'static str {
        match self {
            TrustLevel::None => "keine Anmeldung nötig",
            TrustLevel::Low => "Basisregistrierung (Benutzername und Passwort)",
            TrustLevel::Substantial => "ELSTER-Zertifikat",
            TrustLevel::High => "Online-Ausweis (eID)",
        }
    }
}

/// A service as offered by one portal (its Markdown body is kept by the generator).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub categories: Vec<String>,
    pub office: Option<String>,
    pub provider: Provider,
    pub url: Option<String>,
    pub leika: Option<String>,
    pub keywords: Vec<String>,
    pub documents: Vec<String>,
    pub fees: Vec<String>,
    pub deadlines: Vec<String>,
    pub legal_basis: Vec<String>,
    pub processing_time: Option<String>,
    pub login: TrustLevel,
    pub form: Option<Form>,
    /// The fee paid online at the end of the application (`[payment]`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<ServicePayment>,
    /// Booked at its office (`appointment = { duration = N }`), if it can be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment: Option<crate::appointment::ServiceAppointment>,
    /// Earlier addresses of the service in this portal (`/bottrop/alter-name/`); each
    /// redirects to the current one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A service's `[payment]`: what applying online costs, paid at the end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePayment {
    pub amount: Cents,
    /// The Verwendungszweck: the content's `purpose`, else
    /// [`crate::payment::default_purpose`] of the title.
    pub purpose: String,
}

impl ServicePayment {
    /// The fee as the form schema carries it, paid through `provider`.
    pub fn fee(&self, provider: &PaymentProvider) -> Fee {
        Fee {
            amount: self.amount,
            purpose: self.purpose.clone(),
            provider: provider.clone(),
        }
    }
}
