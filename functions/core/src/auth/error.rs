//! Why a login failed: a German sentence for the citizen, an English reason for the log.

use std::fmt;

use lotse_model::TrustLevel;

/// Everything that can go wrong between `/api/login` and the session cookie.
///
/// [`AuthError::user_message`] is safe to show (it never contains provider output);
/// [`AuthError::log_reason`] (also `Display`) is for the operator's log and never
/// contains a token, a code or personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// Login is not set up (no `[login]` in region.toml, no client secret, no session
    /// secret), or the configuration is invalid.
    NotConfigured(String),
    /// `/api/login` was called with something unusable: a foreign `return` URL, an
    /// unknown trust level, a malformed portal.
    BadRequest(String),
    /// The provider could not be reached or answered something unusable (discovery,
    /// JWKS, token endpoint transport).
    Provider(String),
    /// The login cookie is missing, expired or does not open: the login was started too
    /// long ago, in another browser, or the cookie was tampered with.
    LoginExpired,
    /// The `state` of the callback does not match the login cookie (or is missing).
    StateMismatch,
    /// The provider sent the citizen back with an `error` (e.g. `access_denied` when the
    /// citizen cancelled).
    Denied { error: String },
    /// The token endpoint refused the code (expired, already used, wrong verifier).
    TokenExchange(String),
    /// The ID token failed verification (signature, algorithm, iss, aud, exp, iat,
    /// nonce, sub).
    InvalidIdToken(String),
    /// No key in the provider's JWKS matches the ID token, even after refetching.
    UnknownKey(String),
    /// The `acr` of the ID token is missing or not one of the configured values.
    UnknownAcr(String),
    /// The citizen logged in at a lower trust level than the service needs.
    LevelTooLow {
        required: TrustLevel,
        actual: TrustLevel,
    },
    /// A staff member's ID token names no office they work for (SPEC section 9).
    NoOffice,
}

impl AuthError {
    /// The HTTP status the router should answer with.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::NotConfigured(_) => 503,
            AuthError::BadRequest(_) | AuthError::LoginExpired | AuthError::StateMismatch => 400,
            AuthError::Provider(_)
            | AuthError::TokenExchange(_)
            | AuthError::InvalidIdToken(_)
            | AuthError::UnknownKey(_)
            | AuthError::UnknownAcr(_) => 502,
            AuthError::Denied { .. } | AuthError::LevelTooLow { .. } | AuthError::NoOffice => 403,
        }
    }

    /// A short machine-readable code, e.g. for `{"error": code}` answers.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::NotConfigured(_) => "login_not_configured",
            AuthError::BadRequest(_) => "login_bad_request",
            AuthError::Provider(_) => "login_provider_unavailable",
            AuthError::LoginExpired => "login_expired",
            AuthError::StateMismatch => "login_state_mismatch",
            AuthError::Denied { .. } => "login_denied",
            AuthError::TokenExchange(_) => "login_token_exchange",
            AuthError::InvalidIdToken(_) | AuthError::UnknownKey(_) => "login_invalid_token",
            AuthError::UnknownAcr(_) => "login_unknown_acr",
            AuthError::LevelTooLow { .. } => "login_level_too_low",
            AuthError::NoOffice => "login_no_office",
        }
    }

    /// What the citizen reads (German).
    pub fn user_message(&self) -> String {
        match self {
            AuthError::NotConfigured(_) => {
                "Die Anmeldung ist für dieses Portal nicht eingerichtet.".into()
            }
            AuthError::BadRequest(_) => {
                "Die Anmeldung wurde mit ungültigen Angaben aufgerufen. Bitte starten Sie sie erneut von der Seite der Leistung aus.".into()
            }
            AuthError::Provider(_) => {
                "Der Anmeldedienst ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut.".into()
            }
            AuthError::LoginExpired | AuthError::StateMismatch => {
                "Ihre Anmeldung ist abgelaufen oder wurde in einem anderen Fenster begonnen. Bitte melden Sie sich erneut an.".into()
            }
            AuthError::Denied { .. } => {
                "Die Anmeldung wurde abgebrochen. Sie können es jederzeit erneut versuchen.".into()
            }
            AuthError::TokenExchange(_) | AuthError::InvalidIdToken(_) | AuthError::UnknownKey(_) => {
                "Ihre Anmeldung konnte nicht bestätigt werden. Bitte melden Sie sich erneut an.".into()
            }
            AuthError::UnknownAcr(_) => {
                "Das Vertrauensniveau Ihrer Anmeldung ist unbekannt. Bitte melden Sie sich erneut an.".into()
            }
            AuthError::LevelTooLow { required, .. } => format!(
                "Für diese Leistung ist eine Anmeldung mit „{}“ nötig. Bitte melden Sie sich damit erneut an.",
                required.label_de()
            ),
            AuthError::NoOffice => {
                "Ihr Konto ist keiner Dienststelle zugeordnet. Bitte wenden Sie sich an die Stelle, die Ihre Zugänge verwaltet.".into()
            }
        }
    }

    /// What the operator's log gets (English).
    pub fn log_reason(&self) -> String {
        match self {
            AuthError::NotConfigured(why) => format!("login not configured: {why}"),
            AuthError::BadRequest(why) => format!("bad login request: {why}"),
            AuthError::Provider(why) => format!("OpenID provider unusable: {why}"),
            AuthError::LoginExpired => "login cookie missing, expired or not authentic".into(),
            AuthError::StateMismatch => {
                "state of the callback does not match the login cookie".into()
            }
            AuthError::Denied { error } => format!("provider returned error `{error}`"),
            AuthError::TokenExchange(why) => format!("token exchange failed: {why}"),
            AuthError::InvalidIdToken(why) => format!("ID token refused: {why}"),
            AuthError::UnknownKey(why) => format!("ID token key not in JWKS: {why}"),
            AuthError::UnknownAcr(acr) => format!("acr `{acr}` is not mapped to a trust level"),
            AuthError::LevelTooLow { required, actual } => format!(
                "trust level {} below the required {}",
                actual.as_str(),
                required.as_str()
            ),
            AuthError::NoOffice => "the ID token's offices claim names no office".into(),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.log_reason())
    }
}

impl std::error::Error for AuthError {}
