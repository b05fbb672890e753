//! The storage interface: D1 on Cloudflare, embedded SQLite under `lotse serve`. Both
//! run the SQL in functions/migrations/.

use serde::{Deserialize, Serialize};

/// A stored application: routing data, hashes and the encrypted envelope, never a
/// plaintext field value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredApplication {
    pub id: String,
    pub portal: String,
    pub service: String,
    pub office: String,
    /// SHA-256 (hex) of the citizen's token.
    pub token_hash: String,
    /// Keyed hash of the logged-in citizen's subject, for the mailbox.
    pub account_hash: Option<String>,
    /// The envelope as JSON (see lotse-envelope).
    pub envelope: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEntry {
    pub status: String,
    pub note: Option<String>,
    pub at: String,
}

/// The storage failed (unreachable, full, corrupt). Answered with 503.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "storage error: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;

/// What the functions need from a database. Futures need not be `Send`: the Workers
/// runtime is single-threaded, and the SQLite store answers synchronously.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// Stores a new application with its first history entry and, when given, the
    /// encrypted first answer for its Idempotency-Key — all or nothing. Returns `false`
    /// when the id is taken (the caller draws a new one).
    async fn insert_application(
        &self,
        application: &StoredApplication,
        idempotency: Option<(&str, &str)>,
    ) -> StoreResult<bool>;

    async fn application(&self, id: &str) -> StoreResult<Option<StoredApplication>>;

    async fn history(&self, id: &str) -> StoreResult<Vec<StatusEntry>>;

    /// Applications linked to a citizen's account (any of the given keyed hashes),
    /// newest first.
    async fn account_applications(
        &self,
        account_hashes: &[String],
    ) -> StoreResult<Vec<StoredApplication>>;

    /// Applications of one office, oldest first.
    async fn office_applications(
        &self,
        portal: &str,
        office: &str,
    ) -> StoreResult<Vec<StoredApplication>>;

    /// Sets the status and appends to the history. Returns `false` for an unknown id.
    async fn set_status(&self, id: &str, entry: &StatusEntry) -> StoreResult<bool>;

    /// The stored (encrypted) first answer for an Idempotency-Key hash.
    async fn idempotent_answer(&self, key_hash: &str) -> StoreResult<Option<String>>;

    /// Counts one hit for a client in a time window and returns the hits so far.
    async fn count_hit(&self, client_hash: &str, window: u64) -> StoreResult<u32>;
}
