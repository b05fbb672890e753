//! Citizen login with OpenID Connect: authorization code flow with PKCE (S256), `state`
//! and `nonce`, against BundID through a broker or any standard OpenID provider.
//!
//! Plain, runtime-neutral Rust: the network is reached through [`HttpClient`], which the
//! Worker (fetch) and `lotse serve` implement; time comes in as `now_ms`; nothing is kept
//! on the server except a cache of the provider's metadata and keys. The flow functions
//! return plain data the router turns into responses:
//!
//! * `GET /api/login` → [`begin_login`] → 303 to the authorization URL, with
//!   `Set-Cookie: ` [`set_cookie`]`(`[`LOGIN_COOKIE`]`, cookie, `[`LOGIN_TTL_MS`]`)`.
//! * `GET /api/callback` → [`CallbackParams::from_query`], [`finish_login`] → clear the
//!   login cookie, set [`SESSION_COOKIE`] to [`Session::seal`], 303 to the return path.
//! * `GET /api/session` → [`Session::from_cookie_header`].
//! * `POST /api/logout` → [`clear_cookie`]`(`[`SESSION_COOKIE`]`)`.
//!
//! See docs/login.md for operators.

mod error;
mod flow;
mod provider;
mod session;
pub mod staff;
mod token;

pub use error::AuthError;
pub use flow::{
    acr_for_level, begin_login, finish_login, level_from_acr, safe_return_path, CallbackParams,
    PendingLogin, CLOCK_SKEW_S,
};
pub use provider::{
    basic_authorization, HttpClient, NoNetwork, Oidc, OidcConfig, ProviderMetadata, CACHE_TTL_MS,
    DEFAULT_SCOPE, STAFF_CALLBACK_PATH,
};
pub use session::{
    clear_cookie, cookie_value, open_cookie, seal_cookie, set_cookie, AccountKey, Address, Session,
    SessionKeys, LOGIN_COOKIE, LOGIN_TTL_MS, SESSION_COOKIE, SESSION_TTL_MS,
};
pub use token::{verify_id_token, IdClaims, ALLOWED_ALGORITHMS};
