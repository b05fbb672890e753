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
    /// The application's citizen key (public, base64), see [`crate::conversation`].
    #[serde(default)]
    pub citizen_key: Option<String>,
    /// The private citizen key wrapped for the citizen's account (Mein Postfach).
    #[serde(default)]
    pub citizen_key_wrapped: Option<String>,
    /// When the citizen last opened the conversation (RFC 3339).
    #[serde(default)]
    pub citizen_seen_at: Option<String>,
    /// The citizen's e-mail address for notifications, sealed (see [`crate::notify`]).
    #[serde(default)]
    pub contact: Option<String>,
}

/// The payment of an application of a paid service (SPEC section 7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPayment {
    pub application_id: String,
    /// Euro cents.
    pub amount: u64,
    pub purpose: String,
    /// `open`, `paid`, `failed` or `cancelled`.
    pub status: String,
    /// The try (1, 2, …): the provider's requestId is the id, then `<id>-<attempt>`.
    pub attempt: u32,
    pub transaction_id: Option<String>,
    /// Where the provider sends the citizen back.
    pub return_url: String,
    /// The provider's payment page.
    pub payment_url: Option<String>,
    /// The Kassenzeichen (`transactionReference`).
    pub reference: Option<String>,
    pub created_at: u64,
    pub next_check_at: u64,
}

/// A notification to send: that application `application_id` has a new message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: String,
    pub application_id: String,
    /// The site the mail links to, `https://…`.
    pub origin: String,
    /// Milliseconds since the epoch.
    pub created_at: u64,
    pub attempts: u32,
    pub next_attempt_at: u64,
    /// The sealed address, copied from the application (see [`crate::notify`]).
    #[serde(default)]
    pub contact: Option<String>,
    /// What it is about: `message` (then `application_id` is an application's), or
    /// `reminder` / `cancelled` (an appointment's id).
    #[serde(default = "message_kind")]
    pub kind: String,
}

fn message_kind() -> String {
    "message".into()
}

/// A booked (or cancelled) appointment (SPEC section 8): when and where in clear, who
/// sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAppointment {
    pub id: String,
    pub portal: String,
    pub service: String,
    pub office: String,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Which of the office's seats it holds.
    pub seat: u32,
    pub token_hash: String,
    pub account_hash: Option<String>,
    /// Name and address, an envelope sealed to the office's key.
    pub envelope: String,
    /// The appointment's citizen key (public, base64), as for applications.
    pub citizen_key: Option<String>,
    /// The address for the reminder, sealed (see [`crate::notify::seal_contact`]).
    pub contact: Option<String>,
    /// The site it was booked on.
    pub origin: String,
    /// `booked` or `cancelled`.
    pub status: String,
    /// Raised with every change (RFC 5545 SEQUENCE).
    pub sequence: u32,
    /// `citizen` or `office`, once cancelled.
    pub cancelled_by: Option<String>,
    /// The office's word on cancelling, a sealed message envelope.
    pub office_message: Option<String>,
    pub created_ms: i64,
    pub updated_at: String,
}

/// One message of the conversation on an application: who and when in clear, what in
/// a sealed message envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub id: String,
    pub application_id: String,
    /// `citizen` or `office`.
    pub sender: String,
    /// The message envelope as JSON (lotse-envelope's `MessageEnvelope`).
    pub envelope: String,
    pub at: String,
}

/// A sealed file of a message; its bytes are the object `object`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAttachment {
    pub id: String,
    pub application_id: String,
    pub message_id: String,
    /// The sealed size in bytes.
    pub size: u64,
    /// The object's name in R2 or the data folder.
    pub object: String,
}

/// One entry of the audit log (SPEC section 9, docs/workspace.md): who did what to which
/// application, when. Never content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its place in the log (0 for an entry not yet stored).
    #[serde(default)]
    pub seq: i64,
    pub portal: String,
    pub office: String,
    pub application_id: String,
    /// `staff` or `token`.
    pub actor: String,
    /// The staff member's subject at the city's provider.
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    /// `status`, `message`, `export`, `download` or `delete`.
    pub action: String,
    pub detail: Option<String>,
    pub at: String,
}

/// One page of an office's inbox: which applications, in which order, from where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OfficeQuery {
    pub portal: String,
    pub office: String,
    /// Only these statuses (none: every status but `awaiting_payment`).
    pub statuses: Vec<String>,
    pub service: Option<String>,
    /// Newest first instead of oldest first.
    pub newest_first: bool,
    /// After (in the page's order) this `(created_at, id)`.
    pub after: Option<(String, String)>,
    /// At most this many (the caller asks one more to know whether a page follows).
    pub limit: u32,
}

/// How many applications of an office have each status, and each service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeCounts {
    pub statuses: Vec<(String, u64)>,
    pub services: Vec<(String, u64)>,
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

/// The claim of an Idempotency-Key, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// What the first request asked for (keyed hashes, see `idempotency::Asked`).
    pub fingerprint: String,
    /// The random id of the request that holds the claim.
    pub owner: String,
    /// The sealed first answer; `None` while the first request is in flight.
    pub answer: Option<String>,
}

/// The answer to store with an application, for the claim its request holds.
#[derive(Clone, Copy, Debug)]
pub struct Completion<'a> {
    pub key_hash: &'a str,
    pub owner: &'a str,
    /// The sealed answer.
    pub answer: &'a str,
}

/// Whether a submission fits into a client's sliding window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateSlot {
    /// Counted: the submission may go on.
    Taken,
    /// The window is full; the oldest counted submission leaves it in this many ms.
    Full { retry_after_ms: u64 },
}

/// What the functions need from a database. Futures need not be `Send`: the Workers
/// runtime is single-threaded, and the SQLite store answers synchronously.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// Stores a new application with its first history entry and, when given, the
    /// encrypted first answer into its Idempotency-Key's claim — all or nothing. With a
    /// claim, nothing is stored unless `owner` still holds it unanswered. Returns `false`
    /// when nothing was stored: the id is taken (the caller draws a new one) or the claim
    /// was lost (the caller reads it again).
    /// With a payment, its row is stored in the same transaction.
    async fn insert_application(
        &self,
        application: &StoredApplication,
        idempotency: Option<Completion<'_>>,
        payment: Option<&StoredPayment>,
    ) -> StoreResult<bool>;

    async fn payment(&self, application_id: &str) -> StoreResult<Option<StoredPayment>>;

    /// The payments of several applications at once (an inbox page: one query, not one
    /// per row), at most [`sql::MAX_IDS`] ids.
    async fn payments(&self, application_ids: &[String]) -> StoreResult<Vec<StoredPayment>>;

    /// Payments the schedule should ask the provider about at `now_ms` (open ones, and
    /// failed or cancelled ones a while longer: a late PAYED wins).
    async fn due_payments(&self, now_ms: u64, limit: u32) -> StoreResult<Vec<StoredPayment>>;

    /// Records the transaction created at the provider (only while none is recorded).
    async fn set_payment_transaction(
        &self,
        application_id: &str,
        transaction_id: &str,
        payment_url: &str,
        reference: Option<&str>,
    ) -> StoreResult<()>;

    /// Starts a new try after try `attempt` failed or was cancelled. Returns whether it
    /// did (false: another request started it, or it is paid after all).
    async fn retry_payment(
        &self,
        application_id: &str,
        attempt: u32,
        now_ms: u64,
    ) -> StoreResult<bool>;

    /// Records what the provider says. `paid` also delivers the application to the
    /// office (status `received`, one history entry), exactly once however often it is
    /// reported: returns whether this call delivered it.
    async fn set_payment_status(
        &self,
        application_id: &str,
        status: &str,
        reference: Option<&str>,
        next_check_at: u64,
        at: &str,
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

    /// One page of an office's inbox (see [`OfficeQuery`]).
    async fn office_page(&self, query: &OfficeQuery) -> StoreResult<Vec<StoredApplication>>;

    /// The office's applications counted by status and by service (unpaid ones left out).
    async fn office_counts(&self, portal: &str, office: &str) -> StoreResult<OfficeCounts>;

    /// Sets the status and appends to the history, with its audit entry when given, all
    /// or nothing. Returns `false` for an unknown id.
    async fn set_status(
        &self,
        id: &str,
        entry: &StatusEntry,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool>;

    /// Appends an entry to the audit log (an export or a download, before it is handed
    /// out).
    async fn record_audit(&self, entry: &AuditEntry) -> StoreResult<()>;

    /// An office's audit log, newest first, entries before `before_seq` (all without),
    /// at most `limit`.
    async fn audit_log(
        &self,
        portal: &str,
        office: &str,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;

    /// The claim of an Idempotency-Key hash, if any.
    async fn idempotency_record(&self, key_hash: &str) -> StoreResult<Option<IdempotencyRecord>>;

    /// Claims an Idempotency-Key atomically (insert-or-get on its hash): inserts the
    /// claim for `owner` unless there is one; takes over an unanswered claim with the
    /// same fingerprint made before `stale_before_ms`. Returns the claim as it stands
    /// afterwards: `owner` holds it exactly when its `owner` is ours.
    async fn claim_idempotency(
        &self,
        key_hash: &str,
        fingerprint: &str,
        owner: &str,
        now_ms: u64,
        stale_before_ms: u64,
    ) -> StoreResult<IdempotencyRecord>;

    /// Gives up an unanswered claim held by `owner` (its request failed before storing).
    async fn release_idempotency(&self, key_hash: &str, owner: &str) -> StoreResult<()>;

    /// Appends a message and its attachment rows (their objects are stored before) and,
    /// with a status, sets it and appends it to the history, all or nothing. Returns
    /// `false` for an unknown application.
    /// With `notify`, the notification is queued in the same transaction, if the
    /// application has a contact address; with `audit`, the entry is recorded in it.
    async fn insert_message(
        &self,
        message: &StoredMessage,
        attachments: &[StoredAttachment],
        status: Option<&StatusEntry>,
        notify: Option<&OutboxEntry>,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool>;

    /// Notifications due at `now_ms`, oldest first, at most `limit`.
    async fn due_notifications(&self, now_ms: u64, limit: u32) -> StoreResult<Vec<OutboxEntry>>;

    /// Claims a due notification for one sender: moves its next attempt to
    /// `lease_until` only if it is still `seen_next_attempt_at` (one statement, so of
    /// two senders exactly one wins). Returns whether this sender holds it.
    async fn claim_notification(
        &self,
        id: &str,
        seen_next_attempt_at: u64,
        lease_until: u64,
    ) -> StoreResult<bool>;

    /// A notification was sent (or can never be): its row goes.
    async fn notification_done(&self, entry: &OutboxEntry) -> StoreResult<()>;

    /// Drops notifications queued before `before_ms` that were never sent.
    async fn prune_notifications(&self, before_ms: u64) -> StoreResult<()>;

    /// A send failed: try again at `next_attempt_at`.
    async fn notification_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: u64,
    ) -> StoreResult<()>;

    /// The conversation on an application, oldest first.
    async fn messages(&self, application_id: &str) -> StoreResult<Vec<StoredMessage>>;

    async fn attachment(
        &self,
        application_id: &str,
        attachment_id: &str,
    ) -> StoreResult<Option<StoredAttachment>>;

    /// Stores the citizen key of an application that has none yet (stored before the
    /// conversation existed).
    async fn set_citizen_key(&self, id: &str, public_key: &str) -> StoreResult<()>;

    /// Records when the citizen last opened the conversation.
    async fn set_citizen_seen(&self, id: &str, at: &str) -> StoreResult<()>;

    /// Deletes an application with its history, messages and attachment rows, all or
    /// nothing (the caller deletes the attachments' objects first), and records `audit`
    /// in the same transaction. The audit log keeps its entries.
    async fn delete_application(&self, id: &str, audit: Option<&AuditEntry>) -> StoreResult<()>;

    /// All attachment rows of an application.
    async fn attachments(&self, application_id: &str) -> StoreResult<Vec<StoredAttachment>>;

    /// Stores a sealed file (R2 on Cloudflare, the data folder under `lotse serve`).
    async fn put_object(&self, name: &str, bytes: &[u8]) -> StoreResult<()>;

    async fn object(&self, name: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Deletes a sealed file; deleting one that is not there is no error.
    async fn delete_object(&self, name: &str) -> StoreResult<()>;

    /// Books an appointment: its row and one seat row per unit in `units` (at its seat),
    /// all or nothing. `false` when a seat row is taken (another booking holds it).
    async fn book_appointment(
        &self,
        appointment: &StoredAppointment,
        units: &[i64],
    ) -> StoreResult<bool>;

    async fn appointment(&self, id: &str) -> StoreResult<Option<StoredAppointment>>;

    /// The seats held at an office in `[from_ms, to_ms)`: (unit start, seat).
    async fn seats_taken(
        &self,
        portal: &str,
        office: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<(i64, u32)>>;

    /// Cancels a booked appointment and frees its seats at once, with the office's
    /// sealed message and a notification when given, all or nothing. `false` when it
    /// was not booked (any more).
    async fn cancel_appointment(
        &self,
        id: &str,
        by: &str,
        at: &str,
        office_message: Option<&str>,
        notify: Option<&OutboxEntry>,
    ) -> StoreResult<bool>;

    /// An office's appointments starting in `[from_ms, to_ms)`, booked and cancelled, by
    /// start.
    async fn office_appointments(
        &self,
        portal: &str,
        office: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<StoredAppointment>>;

    /// A logged-in citizen's appointments (any of the keyed hashes), by start.
    async fn account_appointments(
        &self,
        account_hashes: &[String],
    ) -> StoreResult<Vec<StoredAppointment>>;

    /// Queues the reminders of appointments starting within a day of `now_ms` (booked
    /// more than a day before their start, with an address), each once.
    async fn queue_reminders(&self, now_ms: i64) -> StoreResult<()>;

    /// Counts a submission of a client if fewer than `limit` were counted in the
    /// `window_ms` before `now_ms` (a sliding window; submissions refused are not
    /// counted), dropping what left every window.
    async fn take_rate_slot(
        &self,
        client_hash: &str,
        now_ms: u64,
        window_ms: u64,
        limit: u32,
    ) -> StoreResult<RateSlot>;
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
        (id, portal, service, office, token_hash, account_hash, envelope, status, created_at, updated_at, citizen_key, citizen_key_wrapped, contact) \
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
    /// ?1 id, ?2 status, ?3 at, ?4 the new application's token hash.
    pub const INSERT_FIRST_STATUS: &str =
        "INSERT INTO status_history (application_id, status, note, at) \
        SELECT ?1, ?2, NULL, ?3 \
        WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?1 AND token_hash = ?4)";
    /// [`INSERT_APPLICATION`] for a request holding an Idempotency-Key's claim: only
    /// while ?14 (key hash) is claimed by ?15 (owner) and unanswered.
    pub const INSERT_CLAIMED_APPLICATION: &str = "INSERT OR IGNORE INTO applications \
        (id, portal, service, office, token_hash, account_hash, envelope, status, created_at, updated_at, citizen_key, citizen_key_wrapped, contact) \
        SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 \
        WHERE EXISTS (SELECT 1 FROM idempotency_keys WHERE key_hash = ?14 AND owner = ?15 AND answer IS NULL)";
    /// ?1 key hash, ?2 owner, ?3 answer, ?4 application id, ?5 its token hash: stores the
    /// answer once the application is the one just inserted.
    pub const COMPLETE_IDEMPOTENCY: &str = "UPDATE idempotency_keys SET answer = ?3 \
        WHERE key_hash = ?1 AND owner = ?2 AND answer IS NULL \
        AND EXISTS (SELECT 1 FROM applications WHERE id = ?4 AND token_hash = ?5)";
    /// ?1 key hash, ?2 fingerprint, ?3 owner, ?4 now (ms), ?5 stale before (ms). The
    /// primary key makes the insert the atomic claim; the update takes over a claim whose
    /// request died.
    pub const CLAIM_IDEMPOTENCY: &str =
        "INSERT INTO idempotency_keys (key_hash, fingerprint, owner, claimed_at, answer) \
        VALUES (?1, ?2, ?3, ?4, NULL) \
        ON CONFLICT (key_hash) DO UPDATE SET owner = excluded.owner, claimed_at = excluded.claimed_at \
        WHERE idempotency_keys.answer IS NULL AND idempotency_keys.fingerprint = excluded.fingerprint \
        AND idempotency_keys.claimed_at < ?5";
    pub const IDEMPOTENCY_RECORD: &str =
        "SELECT fingerprint, owner, answer FROM idempotency_keys WHERE key_hash = ?1";
    pub const RELEASE_IDEMPOTENCY: &str =
        "DELETE FROM idempotency_keys WHERE key_hash = ?1 AND owner = ?2 AND answer IS NULL";
    pub const APPLICATION: &str = "SELECT * FROM applications WHERE id = ?1";
    /// ?1..?9, ?11 the payment's columns: only with the application just inserted (?10
    /// its token hash).
    pub const INSERT_PAYMENT: &str = "INSERT INTO payments \
        (application_id, amount, purpose, status, transaction_id, payment_url, reference, created_at, next_check_at, return_url, attempt) \
        SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11, 1 \
        WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?1 AND token_hash = ?10)";
    /// ?1 application, ?2 the try that failed, ?3 now (ms): a new try, its transaction
    /// still to be created.
    pub const RETRY_PAYMENT: &str = "UPDATE payments \
        SET attempt = attempt + 1, status = 'open', transaction_id = NULL, payment_url = NULL, next_check_at = ?3 \
        WHERE application_id = ?1 AND attempt = ?2 AND status IN ('failed', 'cancelled')";
    pub const PAYMENT: &str = "SELECT * FROM payments WHERE application_id = ?1";
    /// The most ids one statement binds (D1 binds at most 100 parameters).
    pub const MAX_IDS: usize = 100;
    /// The payments of `count` applications, ?1..?count.
    pub fn payments(count: usize) -> String {
        let slots: Vec<String> = (1..=count).map(|i| format!("?{i}")).collect();
        format!(
            "SELECT * FROM payments WHERE application_id IN ({})",
            slots.join(", ")
        )
    }
    /// ?1 now (ms), ?2 limit.
    pub const DUE_PAYMENTS: &str = "SELECT * FROM payments \
        WHERE status != 'paid' AND next_check_at <= ?1 ORDER BY next_check_at LIMIT ?2";
    /// ?1 application, ?2 transaction id, ?3 payment page, ?4 reference.
    pub const SET_PAYMENT_TRANSACTION: &str = "UPDATE payments \
        SET transaction_id = ?2, payment_url = ?3, reference = coalesce(?4, reference) \
        WHERE application_id = ?1 AND transaction_id IS NULL";
    /// ?1 application, ?2 status, ?3 reference, ?4 next check (ms). A paid payment stays paid.
    pub const SET_PAYMENT_STATUS: &str = "UPDATE payments \
        SET status = ?2, reference = coalesce(?3, reference), next_check_at = ?4 \
        WHERE application_id = ?1 AND status != 'paid'";
    /// ?1 application, ?2 at: delivery to the office, once.
    pub const DELIVER_PAID: &str = "UPDATE applications SET status = 'received', updated_at = ?2 \
        WHERE id = ?1 AND status = 'awaiting_payment' \
        AND EXISTS (SELECT 1 FROM payments WHERE application_id = ?1 AND status = 'paid')";
    /// ?1 application, ?2 at: the history entry of the delivery, once (a paid
    /// application's history starts with `awaiting_payment`).
    pub const HISTORY_PAID: &str = "INSERT INTO status_history (application_id, status, note, at) \
        SELECT ?1, 'received', NULL, ?2 \
        WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?1 AND status = 'received') \
        AND NOT EXISTS (SELECT 1 FROM status_history WHERE application_id = ?1 AND status = 'received')";
    pub const HISTORY: &str =
        "SELECT status, note, at FROM status_history WHERE application_id = ?1 ORDER BY seq";
    pub const ACCOUNT_APPLICATIONS: &str =
        "SELECT * FROM applications WHERE account_hash = ?1 ORDER BY created_at DESC, id";
    /// Unpaid applications are not in the office's inbox yet.
    pub const OFFICE_APPLICATIONS: &str = "SELECT * FROM applications \
        WHERE portal = ?1 AND office = ?2 AND status != 'awaiting_payment' ORDER BY created_at, id";
    pub const UPDATE_STATUS: &str =
        "UPDATE applications SET status = ?2, updated_at = ?3 WHERE id = ?1";
    /// ?1 id, ?2 status, ?3 note, ?4 at.
    pub const INSERT_STATUS: &str =
        "INSERT INTO status_history (application_id, status, note, at) \
        SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?1)";
    /// ?1 id, ?2 application, ?3 sender, ?4 envelope, ?5 at.
    pub const INSERT_MESSAGE: &str =
        "INSERT INTO messages (id, application_id, sender, envelope, at) \
        SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?2)";
    /// ?1 id, ?2 application, ?3 message, ?4 size, ?5 object: only with its message.
    pub const INSERT_ATTACHMENT: &str =
        "INSERT INTO attachments (id, application_id, message_id, size, object) \
        SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?3 AND application_id = ?2)";
    /// ?1 application, ?2 status, ?3 at, ?4 message: only with its message.
    pub const UPDATE_STATUS_WITH_MESSAGE: &str =
        "UPDATE applications SET status = ?2, updated_at = ?3 WHERE id = ?1 \
        AND EXISTS (SELECT 1 FROM messages WHERE id = ?4 AND application_id = ?1)";
    /// ?1 application, ?2 status, ?3 at, ?4 message.
    pub const INSERT_STATUS_WITH_MESSAGE: &str =
        "INSERT INTO status_history (application_id, status, note, at) \
        SELECT ?1, ?2, NULL, ?3 WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?4 AND application_id = ?1)";
    /// ?1 id, ?2 application, ?3 origin, ?4 created (ms), ?5 message: only with the
    /// message and an address to write to.
    pub const QUEUE_NOTIFICATION: &str =
        "INSERT INTO outbox (id, application_id, origin, created_at, attempts, next_attempt_at, contact) \
        SELECT ?1, ?2, ?3, ?4, 0, ?4, contact FROM applications \
        WHERE id = ?2 AND contact IS NOT NULL \
        AND EXISTS (SELECT 1 FROM messages WHERE id = ?5 AND application_id = ?2)";
    /// ?1 now (ms), ?2 limit.
    pub const DUE_NOTIFICATIONS: &str =
        "SELECT id, application_id, origin, created_at, attempts, next_attempt_at, contact, kind FROM outbox \
        WHERE next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2";
    /// ?1 id, ?2 the next attempt as read, ?3 the lease's end.
    pub const CLAIM_NOTIFICATION: &str =
        "UPDATE outbox SET next_attempt_at = ?3 WHERE id = ?1 AND next_attempt_at = ?2";
    /// ?1 queued before (ms).
    pub const PRUNE_NOTIFICATIONS: &str = "DELETE FROM outbox WHERE created_at < ?1";
    pub const NOTIFICATION_DONE: &str = "DELETE FROM outbox WHERE id = ?1";
    /// ?1 id, ?2 attempts, ?3 next attempt (ms).
    pub const NOTIFICATION_FAILED: &str =
        "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3 WHERE id = ?1";
    /// ?1 application: a closed application forgets its address (a notification queued
    /// before keeps its own sealed copy until it is sent or dropped).
    pub const FORGET_CLOSED_CONTACT: &str = "UPDATE applications SET contact = NULL \
        WHERE id = ?1 AND contact IS NOT NULL AND status IN ('completed', 'rejected')";
    pub const MESSAGES: &str = "SELECT id, application_id, sender, envelope, at FROM messages \
        WHERE application_id = ?1 ORDER BY seq";
    pub const ATTACHMENT: &str =
        "SELECT id, application_id, message_id, size, object FROM attachments \
        WHERE application_id = ?1 AND id = ?2";
    pub const ATTACHMENTS: &str =
        "SELECT id, application_id, message_id, size, object FROM attachments \
        WHERE application_id = ?1 ORDER BY id";
    pub const SET_CITIZEN_KEY: &str =
        "UPDATE applications SET citizen_key = ?2 WHERE id = ?1 AND citizen_key IS NULL";
    pub const SET_CITIZEN_SEEN: &str = "UPDATE applications SET citizen_seen_at = ?2 WHERE id = ?1";
    /// Deleting an application, in this order (children first), each with ?1 = id.
    pub const DELETE_APPLICATION: [&str; 6] = [
        "DELETE FROM payments WHERE application_id = ?1",
        "DELETE FROM outbox WHERE application_id = ?1",
        "DELETE FROM attachments WHERE application_id = ?1",
        "DELETE FROM messages WHERE application_id = ?1",
        "DELETE FROM status_history WHERE application_id = ?1",
        "DELETE FROM applications WHERE id = ?1",
    ];
    /// ?1..?9 the entry's columns (portal, office, application, actor, actor id, actor
    /// name, action, detail, at).
    pub const INSERT_AUDIT: &str = "INSERT INTO audit_log \
        (portal, office, application_id, actor, actor_id, actor_name, action, detail, at) \
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
    /// [`INSERT_AUDIT`] only when the application exists (a status change to an unknown
    /// id records nothing).
    pub const INSERT_AUDIT_FOR_APPLICATION: &str = "INSERT INTO audit_log \
        (portal, office, application_id, actor, actor_id, actor_name, action, detail, at) \
        SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS (SELECT 1 FROM applications WHERE id = ?3)";
    /// [`INSERT_AUDIT`] only with the message ?10 of the application.
    pub const INSERT_AUDIT_FOR_MESSAGE: &str = "INSERT INTO audit_log \
        (portal, office, application_id, actor, actor_id, actor_name, action, detail, at) \
        SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 \
        WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?10 AND application_id = ?3)";
    const AUDIT_COLUMNS: &str =
        "seq, portal, office, application_id, actor, actor_id, actor_name, action, detail, at";
    /// ?1 portal, ?2 office, ?3 before this seq, ?4 limit.
    pub fn audit_log() -> String {
        format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE portal = ?1 AND office = ?2 AND seq < ?3 \
            ORDER BY seq DESC LIMIT ?4"
        )
    }
    /// ?1 portal, ?2 office.
    pub const OFFICE_STATUS_COUNTS: &str = "SELECT status AS name, count(*) AS n FROM applications \
        WHERE portal = ?1 AND office = ?2 AND status != 'awaiting_payment' GROUP BY status ORDER BY status";
    pub const OFFICE_SERVICE_COUNTS: &str = "SELECT service AS name, count(*) AS n FROM applications \
        WHERE portal = ?1 AND office = ?2 AND status != 'awaiting_payment' GROUP BY service ORDER BY service";

    /// The statement of an inbox page and its parameters, all text: ?1 portal, ?2 office,
    /// then the statuses, the service and the cursor as the query has them. The limit is
    /// a number and goes into the text.
    pub fn office_page(query: &super::OfficeQuery) -> (String, Vec<String>) {
        let mut params = vec![query.portal.clone(), query.office.clone()];
        let mut sql = String::from("SELECT * FROM applications WHERE portal = ?1 AND office = ?2");
        let next = |value: &str, params: &mut Vec<String>| {
            params.push(value.to_string());
            format!("?{}", params.len())
        };
        if query.statuses.is_empty() {
            sql.push_str(" AND status != 'awaiting_payment'");
        } else {
            let slots: Vec<String> = query
                .statuses
                .iter()
                .map(|status| next(status, &mut params))
                .collect();
            sql.push_str(&format!(" AND status IN ({})", slots.join(", ")));
        }
        if let Some(service) = &query.service {
            let slot = next(service, &mut params);
            sql.push_str(&format!(" AND service = {slot}"));
        }
        let (compare, order) = if query.newest_first {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        if let Some((created_at, id)) = &query.after {
            let at = next(created_at, &mut params);
            let id = next(id, &mut params);
            sql.push_str(&format!(" AND (created_at, id) {compare} ({at}, {id})"));
        }
        sql.push_str(&format!(
            " ORDER BY created_at {order}, id {order} LIMIT {}",
            query.limit
        ));
        (sql, params)
    }

    /// The appointment's columns ?1..?20, see [`StoredAppointment`].
    pub const INSERT_APPOINTMENT: &str = "INSERT INTO appointments \
        (id, portal, service, office, start_ms, end_ms, seat, token_hash, account_hash, envelope, \
        citizen_key, contact, origin, status, sequence, cancelled_by, office_message, reminded, created_ms, updated_at) \
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 0, ?18, ?19)";
    /// ?1 portal, ?2 office, ?3 unit, ?4 seat, ?5 appointment. A plain insert: a seat
    /// someone holds fails it, and with it the booking's whole transaction.
    pub const INSERT_SEAT: &str =
        "INSERT INTO appointment_seats (portal, office, unit_ms, seat, appointment_id) \
        VALUES (?1, ?2, ?3, ?4, ?5)";
    pub const APPOINTMENT: &str = "SELECT * FROM appointments WHERE id = ?1";
    /// ?1 portal, ?2 office, ?3 from, ?4 to (ms).
    pub const SEATS_TAKEN: &str = "SELECT unit_ms, seat FROM appointment_seats \
        WHERE portal = ?1 AND office = ?2 AND unit_ms >= ?3 AND unit_ms < ?4";
    /// ?1 id, ?2 by, ?3 at, ?4 the office's message.
    pub const CANCEL_APPOINTMENT: &str = "UPDATE appointments \
        SET status = 'cancelled', sequence = sequence + 1, cancelled_by = ?2, updated_at = ?3, \
        office_message = ?4, contact = CASE WHEN ?4 IS NULL THEN NULL ELSE contact END \
        WHERE id = ?1 AND status = 'booked'";
    /// ?1 id: only once it is cancelled.
    pub const FREE_SEATS: &str = "DELETE FROM appointment_seats WHERE appointment_id = ?1 \
        AND EXISTS (SELECT 1 FROM appointments WHERE id = ?1 AND status = 'cancelled')";
    /// ?1 id: a cancelled appointment is not reminded of.
    pub const DROP_REMINDER: &str =
        "DELETE FROM outbox WHERE application_id = ?1 AND kind = 'reminder'";
    /// ?1 id, ?2 appointment, ?3 origin, ?4 created (ms), ?5 kind: with the address the
    /// appointment has.
    pub const QUEUE_APPOINTMENT_MAIL: &str =
        "INSERT OR IGNORE INTO outbox (id, application_id, origin, created_at, attempts, next_attempt_at, contact, kind) \
        SELECT ?1, ?2, ?3, ?4, 0, ?4, contact, ?5 FROM appointments WHERE id = ?2 AND contact IS NOT NULL";
    /// After [`CANCEL_APPOINTMENT`] with an office message (which keeps the address for
    /// this one mail): the address goes.
    pub const FORGET_APPOINTMENT_CONTACT: &str =
        "UPDATE appointments SET contact = NULL WHERE id = ?1 AND status = 'cancelled'";
    /// ?1 portal, ?2 office, ?3 from, ?4 to (ms).
    pub const OFFICE_APPOINTMENTS: &str = "SELECT * FROM appointments \
        WHERE portal = ?1 AND office = ?2 AND start_ms >= ?3 AND start_ms < ?4 ORDER BY start_ms, id";
    pub const ACCOUNT_APPOINTMENTS: &str =
        "SELECT * FROM appointments WHERE account_hash = ?1 ORDER BY start_ms, id";
    /// ?1 now (ms). Deterministic outbox ids: two sweeps queue one reminder.
    pub const QUEUE_REMINDERS: &str =
        "INSERT OR IGNORE INTO outbox (id, application_id, origin, created_at, attempts, next_attempt_at, contact, kind) \
        SELECT 'reminder-' || id, id, origin, ?1, 0, ?1, contact, 'reminder' FROM appointments \
        WHERE status = 'booked' AND reminded = 0 AND contact IS NOT NULL \
        AND start_ms > ?1 AND start_ms <= ?1 + 86400000 AND created_ms < start_ms - 86400000";
    pub const MARK_REMINDED: &str = "UPDATE appointments SET reminded = 1 \
        WHERE status = 'booked' AND reminded = 0 AND start_ms > ?1 AND start_ms <= ?1 + 86400000";

    /// ?1 the window's start (ms): hits at or before it count for nobody any more.
    pub const DROP_OLD_HITS: &str = "DELETE FROM rate_hits WHERE at <= ?1";
    /// ?1 client hash, ?2 now (ms), ?3 the window's start (ms), ?4 limit: counts the hit
    /// only while fewer than the limit are in the window (one statement: atomic).
    pub const TAKE_RATE_SLOT: &str = "INSERT INTO rate_hits (client_hash, at) SELECT ?1, ?2 \
        WHERE (SELECT count(*) FROM rate_hits WHERE client_hash = ?1 AND at > ?3) < ?4";
    /// ?1 client hash, ?2 the window's start (ms).
    pub const OLDEST_HIT: &str =
        "SELECT min(at) AS oldest FROM rate_hits WHERE client_hash = ?1 AND at > ?2";
}

/// The wait a full window gives: until its oldest hit leaves it.
pub fn retry_after_ms(oldest_hit_ms: Option<u64>, now_ms: u64, window_ms: u64) -> u64 {
    oldest_hit_ms
        .map(|oldest| (oldest + window_ms).saturating_sub(now_ms))
        .unwrap_or(window_ms)
        .max(1)
}
