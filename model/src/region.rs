//! The umbrella region, its life-situation categories, portals and offices.

use serde::{Deserialize, Serialize};

use crate::payment::PaymentProvider;

/// The umbrella portal and the settings every portal shares (`content/region.toml`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub name: String,
    pub slug: String,
    /// Origin and path prefix of the published site, without a trailing slash.
    pub base_url: String,
    pub language: String,
    pub description: Option<String>,
    pub operator: Option<String>,
    pub theme: Theme,
    pub login: Option<LoginConfig>,
    /// Portal whose feedback office receives feedback on the umbrella's accessibility
    /// statement (region.toml `feedback_portal`); without it that page has no form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_portal: Option<String>,
    /// The payment provider of every portal that sets none itself (region.toml
    /// `[payment]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentProvider>,
    /// The identity provider caseworkers log in to the workspace with (region.toml
    /// `[office_login]`, SPEC section 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_login: Option<OfficeLoginConfig>,
    /// How many weeks ahead citizens can book appointments (region.toml
    /// `[appointments] weeks`, default [`crate::appointment::DEFAULT_HORIZON_WEEKS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment_weeks: Option<u32>,
}

impl Region {
    /// How many weeks ahead appointments can be booked.
    pub fn booking_weeks(&self) -> u32 {
        self.appointment_weeks
            .unwrap_or(crate::appointment::DEFAULT_HORIZON_WEEKS)
    }
}

/// The city's own OpenID Connect provider for staff (Keycloak, ADFS, Azure AD): the
/// workspace's login, apart from the citizens'.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeLoginConfig {
    pub issuer: String,
    pub client_id: String,
    /// The ID-token claim listing the `<portal>/<office>` ids a person works for.
    #[serde(default = "default_offices_claim")]
    pub offices_claim: String,
}

/// The claim [`OfficeLoginConfig::offices_claim`] names unless configured.
pub const DEFAULT_OFFICES_CLAIM: &str = "lotse_offices";

fn default_offices_claim() -> String {
    DEFAULT_OFFICES_CLAIM.into()
}

/// The OpenID Connect provider citizens log in with (BundID through a broker).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginConfig {
    pub issuer: String,
    pub client_id: String,
    pub acr: AcrMap,
}

/// The provider's `acr` values for each trust level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AcrMap {
    pub low: String,
    pub substantial: String,
    pub high: String,
}

impl Default for AcrMap {
    /// BundID's STORK-QAA levels: Basisregistrierung, ELSTER certificate, Online-Ausweis.
    fn default() -> Self {
        AcrMap {
            low: "STORK-QAA-Level-1".into(),
            substantial: "STORK-QAA-Level-3".into(),
            high: "STORK-QAA-Level-4".into(),
        }
    }
}

/// A life situation (Lebenslage) that groups services.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// Colours and logo of a portal.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// Brand colour as `#rrggbb`; text on it is white, so it must be dark enough.
    pub primary: Option<String>,
    /// File name of the logo next to portal.toml, published as `/<portal>/<logo>`.
    pub logo: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortalKind {
    #[default]
    City,
    District,
}

/// One city's or the district's portal (`content/portals/<slug>/portal.toml`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Portal {
    pub slug: String,
    pub name: String,
    pub short_name: String,
    pub kind: PortalKind,
    pub base_url: Option<String>,
    pub description: Option<String>,
    pub theme: Theme,
    pub offices: Vec<Office>,
    /// Office that receives feedback on the accessibility statement (portal.toml
    /// `feedback_office`); `None` means the default (docs/content-format.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_office: Option<String>,
    /// Where the portal's fees are paid: portal.toml's `[payment]`, else region.toml's
    /// (resolution fills it in); `None` when neither sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentProvider>,
}

impl Portal {
    pub fn office(&self, id: &str) -> Option<&Office> {
        self.offices.iter().find(|o| o.id == id)
    }
}

/// An office in city hall that answers questions and receives applications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Office {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub hours: Vec<String>,
    /// X25519 public key, standard base64 of 32 bytes; applications are encrypted to it.
    pub public_key: Option<String>,
    /// Its bookable hours (`[[offices.opening]]`, `capacity`, `closed`; SPEC section 2).
    #[serde(default)]
    pub appointments: crate::appointment::OfficeHours,
}
