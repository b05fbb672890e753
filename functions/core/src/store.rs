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

/// Sorts a citizen's applications from several account hashes into one list, newest
/// first (ties by id), as [`Store::account_applications`] promises.
pub fn newest_first(applications: &mut [StoredApplication]) {
    applications.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// The statements both stores run (SQLite under `lotse serve`, D1 on Cloudflare), so the
/// two cannot drift apart. The follow-up writes of a submission and a status change only
/// write when their application row exists (and, for a submission, is the one just
/// inserted): D1 runs them as a batch without branching, SQLite in a transaction.
pub mod sql {
    pub const INSERT_APPLICATION: &str = "INSERT OR IGNORE INTO applications \
        (id, portal, service, office, token_hash, account_hash, envelope, status, created_at, updated_at) \
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
    /// ?1 id, ?2 status, ?3 at, ?4 the new application's token hash.
    pub const INSERT_FIRST_STATUS: &str =
        "INSERT INTO status_history (application_id, status, note, at) \
        SELECT ?1, ?2, NULL, ?3 \
        WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?1 AND token_hash = ?4)";
    /// ?1 key hash, ?2 answer, ?3 created at, ?4 application id, ?5 its token hash.
    pub const INSERT_IDEMPOTENCY: &str =
        "INSERT OR IGNORE INTO idempotency (key_hash, answer, created_at) \
        SELECT ?1, ?2, ?3 \
        WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?4 AND token_hash = ?5)";
    pub const APPLICATION: &str = "SELECT * FROM applications WHERE id = ?1";
    pub const HISTORY: &str =
        "SELECT status, note, at FROM status_history WHERE application_id = ?1 ORDER BY seq";
    pub const ACCOUNT_APPLICATIONS: &str =
        "SELECT * FROM applications WHERE account_hash = ?1 ORDER BY created_at DESC, id";
    pub const OFFICE_APPLICATIONS: &str =
        "SELECT * FROM applications WHERE portal = ?1 AND office = ?2 ORDER BY created_at, id";
    pub const UPDATE_STATUS: &str =
        "UPDATE applications SET status = ?2, updated_at = ?3 WHERE id = ?1";
    /// ?1 id, ?2 status, ?3 note, ?4 at.
    pub const INSERT_STATUS: &str =
        "INSERT INTO status_history (application_id, status, note, at) \
        SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?1)";
    pub const IDEMPOTENT_ANSWER: &str = "SELECT answer FROM idempotency WHERE key_hash = ?1";
    /// Old windows are useless; dropping them keeps the table small.
    pub const DROP_OLD_WINDOWS: &str = "DELETE FROM rate_limits WHERE window < ?1";
    pub const COUNT_HIT: &str =
        "INSERT INTO rate_limits (client_hash, window, hits) VALUES (?1, ?2, 1) \
        ON CONFLICT (client_hash, window) DO UPDATE SET hits = hits + 1 \
        RETURNING hits";
}
