//! The Lotse edge functions as plain Rust: accept an application, encrypt it to the
//! office's public key, store it, answer receipts and status lookups, and serve the
//! office inbox. The Cloudflare Worker (functions/worker) and `lotse serve` are thin
//! adapters around [`handle`]; everything here is tested natively.

mod api;
mod appointment_page;
pub mod auth;
pub mod conversation;
mod html;
pub mod http;
pub mod ics;
mod idempotency;
mod ids;
pub mod keyed;
pub mod notify;
pub mod payment;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod store;
mod thread_page;
mod time;

pub use api::{
    body_limit, handle, offices_path, reconcile_payments, App, Config, Forms, LoginSetup,
    OfficeList, OfficeScope, OfficeTokens, OFFICE_LOGIN_ASSET,
};
/// The form shown again with errors; public so the generator's tests can compare its
/// fields with the theme's.
pub use html::form_with_errors;
pub use http::{Request, Response};
pub use ids::{hash_hex, new_id, new_token};
pub use keyed::HashSecret;
pub use store::{StatusEntry, Store, StoreError, StoredApplication};

/// Status values an application can have (SPEC section 5).
pub const STATUSES: [&str; 5] = [
    "received",
    "in_progress",
    "needs_info",
    "completed",
    "rejected",
];

/// German name of a status, for the citizen's pages.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "received" => "Eingegangen",
        "in_progress" => "In Bearbeitung",
        "needs_info" => "Rückfrage – bitte melden Sie sich",
        "completed" => "Abgeschlossen",
        "rejected" => "Abgelehnt",
        _ => "Unbekannt",
    }
}
