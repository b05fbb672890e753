//! The OpenID provider over the Workers `fetch`, and the login configuration from the
//! Worker's variables and secrets.

use std::cell::RefCell;
use std::sync::Arc;

use lotse_functions::auth::staff::StaffLogin;
use lotse_functions::auth::{
    basic_authorization, AccountKey, AuthError, HttpClient, Oidc, OidcConfig, SessionKeys,
};
use lotse_functions::LoginSetup;
use lotse_model::{AcrMap, LoginConfig};
use worker::{Env, Fetch, Headers, Method, RequestInit};

pub struct FetchHttp;

fn provider_error(url: &str, e: impl std::fmt::Display) -> AuthError {
    AuthError::Provider(format!("{url}: {e}"))
}

impl HttpClient for FetchHttp {
    async fn get_json(&self, url: &str) -> Result<serde_json::Value, AuthError> {
        let request = worker::Request::new(url, Method::Get).map_err(|e| provider_error(url, e))?;
        let mut response = Fetch::Request(request)
            .send()
            .await
            .map_err(|e| provider_error(url, e))?;
        if response.status_code() != 200 {
            return Err(provider_error(
                url,
                format!("answered {}", response.status_code()),
            ));
        }
        response.json().await.map_err(|e| provider_error(url, e))
    }

    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic_auth: Option<(&str, &str)>,
    ) -> Result<(u16, serde_json::Value), AuthError> {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().copied())
            .finish();
        let headers = Headers::new();
        let set =
            |name: &str, value: &str| headers.set(name, value).map_err(|e| provider_error(url, e));
        set("content-type", "application/x-www-form-urlencoded")?;
        set("accept", "application/json")?;
        if let Some((id, secret)) = basic_auth {
            set("authorization", &basic_authorization(id, secret))?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(body.into()));
        let request =
            worker::Request::new_with_init(url, &init).map_err(|e| provider_error(url, e))?;
        let mut response = Fetch::Request(request)
            .send()
            .await
            .map_err(|e| provider_error(url, e))?;
        let status = response.status_code();
        let json = response.json().await.unwrap_or(serde_json::Value::Null);
        Ok((status, json))
    }

    async fn send_json(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), AuthError> {
        let all = Headers::new();
        let set =
            |name: &str, value: &str| all.set(name, value).map_err(|e| provider_error(url, e));
        set("accept", "application/json, application/problem+json")?;
        for (name, value) in headers {
            set(name, value)?;
        }
        let method = match method {
            "POST" => Method::Post,
            "PUT" => Method::Put,
            _ => Method::Get,
        };
        if body.is_some() {
            set("content-type", "application/json")?;
        }
        let mut init = RequestInit::new();
        init.with_method(method).with_headers(all);
        if let Some(json) = body {
            init.with_body(Some(json.to_string().into()));
        }
        let request =
            worker::Request::new_with_init(url, &init).map_err(|e| provider_error(url, e))?;
        let mut response = Fetch::Request(request)
            .send()
            .await
            .map_err(|e| provider_error(url, e))?;
        let status = response.status_code();
        let json = response.json().await.unwrap_or(serde_json::Value::Null);
        Ok((status, json))
    }
}

/// A provider with the configuration it was made for.
type ProviderCell = RefCell<Option<(String, Arc<Oidc>)>>;

thread_local! {
    /// One provider (and its metadata and key cache) per isolate, rebuilt only when the
    /// configuration changes.
    static PROVIDER: ProviderCell = const { RefCell::new(None) };
    /// The same for the staff's provider.
    static STAFF_PROVIDER: ProviderCell = const { RefCell::new(None) };
}

/// The provider of `cell` for this configuration: the cached one, or a new one.
fn cached_provider(
    cell: &'static std::thread::LocalKey<ProviderCell>,
    key: String,
    make: impl FnOnce() -> Result<OidcConfig, AuthError>,
) -> Option<Arc<Oidc>> {
    cell.with(|cell| {
        if let Some((cached_key, oidc)) = cell.borrow().as_ref() {
            if *cached_key == key {
                return Some(oidc.clone());
            }
        }
        let config = match make() {
            Ok(config) => config,
            Err(e) => {
                worker::console_error!("login configuration ignored: {}", e.log_reason());
                return None;
            }
        };
        let oidc = Arc::new(Oidc::new(config));
        *cell.borrow_mut() = Some((key, oidc.clone()));
        Some(oidc)
    })
}

/// Staff login to the workspace (SPEC section 9): region.toml's `[office_login]` (from
/// the asset `lotse build` writes; `OFFICE_OIDC_ISSUER` replaces the issuer, for local
/// tests), the secret `OFFICE_OIDC_CLIENT_SECRET`, and the keys of the staff cookie:
/// `STAFF_SESSION_SECRET`, else derived from the first of `SESSION_SECRET`,
/// `OFFICE_TOKENS`, `ACCOUNT_SECRET` (isolates share no memory, so a random key would
/// log caseworkers out whenever another isolate answers). Missing pieces mean no staff
/// login; the bearer tokens still work.
pub fn staff_setup(
    env: &Env,
    site_origin: &str,
    binding: impl Fn(&Env, &str) -> Option<String>,
    office_login: Option<lotse_model::OfficeLoginConfig>,
) -> Option<StaffLogin> {
    let mut login = office_login?;
    let Some(secret) = binding(env, "OFFICE_OIDC_CLIENT_SECRET") else {
        // Said once per isolate: the office API still works with the bearer tokens.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            worker::console_log!(
                "OFFICE_OIDC_CLIENT_SECRET not set: staff login off, office tokens only"
            )
        });
        return None;
    };
    if let Some(issuer) = binding(env, "OFFICE_OIDC_ISSUER") {
        login.issuer = issuer;
    }
    let keys = match binding(env, "STAFF_SESSION_SECRET") {
        Some(text) => match SessionKeys::parse(&text) {
            Ok(keys) => keys,
            Err(e) => {
                worker::console_error!(
                    "STAFF_SESSION_SECRET ignored, staff login off: {}",
                    e.log_reason()
                );
                return None;
            }
        },
        None => {
            let Some(text) = ["SESSION_SECRET", "OFFICE_TOKENS", "ACCOUNT_SECRET"]
                .iter()
                .find_map(|name| binding(env, name).filter(|t| !t.trim().is_empty()))
            else {
                worker::console_error!("no STAFF_SESSION_SECRET (nor SESSION_SECRET, OFFICE_TOKENS, ACCOUNT_SECRET): staff login off");
                return None;
            };
            SessionKeys::derive("lotse/staff-session/v1", text.trim().as_bytes())
        }
    };
    let key = format!("{}|{}|{}", login.issuer, login.client_id, site_origin);
    let oidc = cached_provider(&STAFF_PROVIDER, key, || {
        OidcConfig::for_staff(&login, &secret, site_origin)
    })?;
    Some(StaffLogin {
        oidc,
        keys,
        offices_claim: login.offices_claim,
    })
}

/// Login from `OIDC_ISSUER`, `OIDC_CLIENT_ID` (variables, as in region.toml's `[login]`),
/// optional `OIDC_ACR_LOW`/`_SUBSTANTIAL`/`_HIGH`, and the secrets `OIDC_CLIENT_SECRET`,
/// `SESSION_SECRET` ("base64 key[,previous key]") and `ACCOUNT_SECRET` (base64 key, never
/// rotated: it links applications to accounts). Missing pieces mean no login.
pub fn login_setup(
    env: &Env,
    site_origin: &str,
    binding: impl Fn(&Env, &str) -> Option<String>,
) -> Option<LoginSetup> {
    let issuer = binding(env, "OIDC_ISSUER")?;
    let client_id = binding(env, "OIDC_CLIENT_ID")?;
    let secret = binding(env, "OIDC_CLIENT_SECRET")?;
    let keys = match SessionKeys::parse(&binding(env, "SESSION_SECRET")?) {
        Ok(keys) => keys,
        Err(e) => {
            worker::console_error!("SESSION_SECRET ignored, login off: {}", e.log_reason());
            return None;
        }
    };
    let Some(account_secret) = binding(env, "ACCOUNT_SECRET") else {
        worker::console_error!("ACCOUNT_SECRET missing, login off");
        return None;
    };
    let accounts = match AccountKey::parse(&account_secret) {
        Ok(key) => key,
        Err(e) => {
            worker::console_error!("ACCOUNT_SECRET ignored, login off: {}", e.log_reason());
            return None;
        }
    };
    let defaults = AcrMap::default();
    let login = LoginConfig {
        issuer,
        client_id,
        acr: AcrMap {
            low: binding(env, "OIDC_ACR_LOW").unwrap_or(defaults.low),
            substantial: binding(env, "OIDC_ACR_SUBSTANTIAL").unwrap_or(defaults.substantial),
            high: binding(env, "OIDC_ACR_HIGH").unwrap_or(defaults.high),
        },
    };
    let key = format!(
        "{}|{}|{}|{:?}",
        login.issuer, login.client_id, site_origin, login.acr
    );
    let oidc = cached_provider(&PROVIDER, key, || {
        OidcConfig::new(&login, &secret, site_origin)
    })?;
    Some(LoginSetup {
        oidc,
        keys,
        accounts,
    })
}
