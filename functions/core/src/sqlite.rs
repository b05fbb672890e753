//! The embedded store of `lotse serve`: SQLite in the data folder, with the same
//! migrations as D1 on Cloudflare.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::{
    newest_first, retry_after_ms, sql, AuditEntry, Completion, IdempotencyRecord, OfficeCounts,
    OfficeQuery, OutboxEntry, RateSlot, StatusEntry, Store, StoreError, StoreResult,
    StoredApplication, StoredAppointment, StoredAttachment, StoredMessage, StoredPayment,
};

/// The migrations, in order. D1 applies the same files with `wrangler d1 migrations`
/// (and records them in its `d1_migrations` table); here `PRAGMA user_version` counts
/// the ones applied.
const MIGRATIONS: [&str; 9] = [
    include_str!("../../migrations/0001_applications.sql"),
    include_str!("../../migrations/0002_idempotency_claims.sql"),
    include_str!("../../migrations/0003_messages.sql"),
    include_str!("../../migrations/0004_notifications.sql"),
    include_str!("../../migrations/0005_outbox_claims.sql"),
    include_str!("../../migrations/0006_payments.sql"),
    include_str!("../../migrations/0007_workspace.sql"),
    include_str!("../../migrations/0008_appointments.sql"),
    include_str!("../../migrations/0009_inbox_services.sql"),
];

pub struct SqliteStore {
    connection: Mutex<Connection>,
    objects: Objects,
}

/// Where the sealed files go: a folder next to the database, or memory for tests.
enum Objects {
    Folder(PathBuf),
    Memory(Mutex<HashMap<String, Vec<u8>>>),
}

/// Object names are made by the functions (`<application>/<attachment>`); anything
/// else is refused, so that no name can reach outside the folder.
fn checked_name(name: &str) -> StoreResult<&str> {
    let valid = !name.is_empty()
        && name.split('/').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    valid
        .then_some(name)
        .ok_or_else(|| StoreError(format!("invalid object name {name:?}")))
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl SqliteStore {
    /// Opens (or creates) the database file and brings its schema up to date.
    /// Sealed files go into the folder `files` next to it.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let connection = Connection::open(path).map_err(failed)?;
        let folder = path.parent().unwrap_or(Path::new(".")).join("files");
        Self::with_connection(connection, Objects::Folder(folder))
    }

    /// A store in memory, for tests.
    pub fn in_memory() -> StoreResult<SqliteStore> {
        Self::with_connection(
            Connection::open_in_memory().map_err(failed)?,
            Objects::Memory(Mutex::default()),
        )
    }

    fn with_connection(mut connection: Connection, objects: Objects) -> StoreResult<SqliteStore> {
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
            .map_err(failed)?;
        migrate(&mut connection).map_err(failed)?;
        Ok(SqliteStore {
            connection: Mutex::new(connection),
            objects,
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> StoreResult<T> {
        let mut connection = self
            .connection
            .lock()
            .map_err(|_| StoreError("store lock poisoned".into()))?;
        f(&mut connection).map_err(failed)
    }
}

/// Applies the migrations not yet applied, each in its own transaction with the count.
/// A database of a `lotse serve` from before the count (user_version 0, with 0001
/// applied) runs 0001 again, which only creates what is missing, then the rest.
fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let applied: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, migration) in MIGRATIONS.iter().enumerate() {
        if (index as i64) < applied {
            continue;
        }
        let tx = connection.transaction()?;
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn record_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        fingerprint: row.get("fingerprint")?,
        owner: row.get("owner")?,
        answer: row.get("answer")?,
    })
}

fn message_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredMessage> {
    Ok(StoredMessage {
        id: row.get("id")?,
        application_id: row.get("application_id")?,
        sender: row.get("sender")?,
        envelope: row.get("envelope")?,
        at: row.get("at")?,
    })
}

fn attachment_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredAttachment> {
    Ok(StoredAttachment {
        id: row.get("id")?,
        application_id: row.get("application_id")?,
        message_id: row.get("message_id")?,
        size: row.get::<_, i64>("size")? as u64,
        object: row.get("object")?,
    })
}

fn payment_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredPayment> {
    Ok(StoredPayment {
        application_id: row.get("application_id")?,
        amount: row.get::<_, i64>("amount")? as u64,
        purpose: row.get("purpose")?,
        status: row.get("status")?,
        attempt: row.get("attempt")?,
        transaction_id: row.get("transaction_id")?,
        return_url: row.get("return_url")?,
        payment_url: row.get("payment_url")?,
        reference: row.get("reference")?,
        created_at: row.get::<_, i64>("created_at")? as u64,
        next_check_at: row.get::<_, i64>("next_check_at")? as u64,
    })
}

fn appointment_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredAppointment> {
    Ok(StoredAppointment {
        id: row.get("id")?,
        portal: row.get("portal")?,
        service: row.get("service")?,
        office: row.get("office")?,
        start_ms: row.get("start_ms")?,
        end_ms: row.get("end_ms")?,
        seat: row.get("seat")?,
        token_hash: row.get("token_hash")?,
        account_hash: row.get("account_hash")?,
        envelope: row.get("envelope")?,
        citizen_key: row.get("citizen_key")?,
        contact: row.get("contact")?,
        origin: row.get("origin")?,
        status: row.get("status")?,
        sequence: row.get("sequence")?,
        cancelled_by: row.get("cancelled_by")?,
        office_message: row.get("office_message")?,
        created_ms: row.get("created_ms")?,
        updated_at: row.get("updated_at")?,
    })
}

/// Whether a statement failed on a constraint (a seat someone holds).
fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn audit_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.get("seq")?,
        portal: row.get("portal")?,
        office: row.get("office")?,
        application_id: row.get("application_id")?,
        actor: row.get("actor")?,
        actor_id: row.get("actor_id")?,
        actor_name: row.get("actor_name")?,
        action: row.get("action")?,
        detail: row.get("detail")?,
        at: row.get("at")?,
    })
}

fn record_audit(c: &Connection, statement: &str, e: &AuditEntry) -> rusqlite::Result<usize> {
    c.execute(
        statement,
        params![
            e.portal,
            e.office,
            e.application_id,
            e.actor,
            e.actor_id,
            e.actor_name,
            e.action,
            e.detail,
            e.at
        ],
    )
}

fn counts(
    c: &Connection,
    statement: &str,
    portal: &str,
    office: &str,
) -> rusqlite::Result<Vec<(String, u64)>> {
    let mut statement = c.prepare(statement)?;
    let rows = statement.query_map(params![portal, office], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64))
    })?;
    rows.collect()
}

fn application_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredApplication> {
    Ok(StoredApplication {
        id: row.get("id")?,
        portal: row.get("portal")?,
        service: row.get("service")?,
        office: row.get("office")?,
        token_hash: row.get("token_hash")?,
        account_hash: row.get("account_hash")?,
        envelope: row.get("envelope")?,
        status: row.get("status")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        citizen_key: row.get("citizen_key")?,
        citizen_key_wrapped: row.get("citizen_key_wrapped")?,
        citizen_seen_at: row.get("citizen_seen_at")?,
        contact: row.get("contact")?,
    })
}

impl Store for SqliteStore {
    async fn insert_application(
        &self,
        a: &StoredApplication,
        idempotency: Option<Completion<'_>>,
        payment: Option<&StoredPayment>,
    ) -> StoreResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            let row = params![
                a.id,
                a.portal,
                a.service,
                a.office,
                a.token_hash,
                a.account_hash,
                a.envelope,
                a.status,
                a.created_at,
                a.updated_at,
                a.citizen_key,
                a.citizen_key_wrapped,
                a.contact
            ];
            let inserted = match idempotency {
                None => tx.execute(sql::INSERT_APPLICATION, row)?,
                Some(claim) => {
                    let mut values = row.to_vec();
                    values.extend([&claim.key_hash as &dyn rusqlite::ToSql, &claim.owner]);
                    tx.execute(sql::INSERT_CLAIMED_APPLICATION, values.as_slice())?
                }
            };
            if inserted == 0 {
                return Ok(false);
            }
            tx.execute(
                sql::INSERT_FIRST_STATUS,
                params![a.id, a.status, a.created_at, a.token_hash],
            )?;
            if let Some(p) = payment {
                tx.execute(
                    sql::INSERT_PAYMENT,
                    params![
                        p.application_id,
                        p.amount as i64,
                        p.purpose,
                        p.status,
                        p.transaction_id,
                        p.payment_url,
                        p.reference,
                        p.created_at as i64,
                        p.next_check_at as i64,
                        a.token_hash,
                        p.return_url
                    ],
                )?;
            }
            if let Some(claim) = idempotency {
                tx.execute(
                    sql::COMPLETE_IDEMPOTENCY,
                    params![
                        claim.key_hash,
                        claim.owner,
                        claim.answer,
                        a.id,
                        a.token_hash
                    ],
                )?;
            }
            tx.commit()?;
            Ok(true)
        })
    }

    async fn application(&self, id: &str) -> StoreResult<Option<StoredApplication>> {
        self.with(|c| {
            c.query_row(sql::APPLICATION, params![id], application_from_row)
                .optional()
        })
    }

    async fn history(&self, id: &str) -> StoreResult<Vec<StatusEntry>> {
        self.with(|c| {
            let mut statement = c.prepare(sql::HISTORY)?;
            let rows = statement.query_map(params![id], |row| {
                Ok(StatusEntry {
                    status: row.get(0)?,
                    note: row.get(1)?,
                    at: row.get(2)?,
                })
            })?;
            rows.collect()
        })
    }

    async fn account_applications(
        &self,
        account_hashes: &[String],
    ) -> StoreResult<Vec<StoredApplication>> {
        self.with(|c| {
            let mut statement = c.prepare(sql::ACCOUNT_APPLICATIONS)?;
            let mut out = Vec::new();
            for hash in account_hashes {
                let rows = statement.query_map(params![hash], application_from_row)?;
                for row in rows {
                    out.push(row?);
                }
            }
            newest_first(&mut out);
            Ok(out)
        })
    }

    async fn office_applications(
        &self,
        portal: &str,
        office: &str,
    ) -> StoreResult<Vec<StoredApplication>> {
        self.with(|c| {
            let mut statement = c.prepare(sql::OFFICE_APPLICATIONS)?;
            let rows = statement.query_map(params![portal, office], application_from_row)?;
            rows.collect()
        })
    }

    async fn office_page(&self, query: &OfficeQuery) -> StoreResult<Vec<StoredApplication>> {
        let (statement, values) = sql::office_page(query);
        self.with(|c| {
            let mut statement = c.prepare(&statement)?;
            let rows = statement.query_map(
                rusqlite::params_from_iter(values.iter()),
                application_from_row,
            )?;
            rows.collect()
        })
    }

    async fn office_counts(&self, portal: &str, office: &str) -> StoreResult<OfficeCounts> {
        self.with(|c| {
            Ok(OfficeCounts {
                statuses: counts(c, sql::OFFICE_STATUS_COUNTS, portal, office)?,
                services: counts(c, sql::OFFICE_SERVICE_COUNTS, portal, office)?,
            })
        })
    }

    async fn record_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        self.with(|c| record_audit(c, sql::INSERT_AUDIT, entry).map(|_| ()))
    }

    async fn audit_log(
        &self,
        portal: &str,
        office: &str,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.with(|c| {
            let mut statement = c.prepare(&sql::audit_log())?;
            let before = before_seq.unwrap_or(i64::MAX);
            let rows =
                statement.query_map(params![portal, office, before, limit], audit_from_row)?;
            rows.collect()
        })
    }

    async fn set_status(
        &self,
        id: &str,
        entry: &StatusEntry,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            let updated = tx.execute(sql::UPDATE_STATUS, params![id, entry.status, entry.at])?;
            if updated == 0 {
                return Ok(false);
            }
            tx.execute(
                sql::INSERT_STATUS,
                params![id, entry.status, entry.note, entry.at],
            )?;
            if let Some(audit) = audit {
                record_audit(&tx, sql::INSERT_AUDIT, audit)?;
            }
            tx.execute(sql::FORGET_CLOSED_CONTACT, params![id])?;
            tx.commit()?;
            Ok(true)
        })
    }

    async fn idempotency_record(&self, key_hash: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.with(|c| {
            c.query_row(sql::IDEMPOTENCY_RECORD, params![key_hash], record_from_row)
                .optional()
        })
    }

    async fn claim_idempotency(
        &self,
        key_hash: &str,
        fingerprint: &str,
        owner: &str,
        now_ms: u64,
        stale_before_ms: u64,
    ) -> StoreResult<IdempotencyRecord> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                sql::CLAIM_IDEMPOTENCY,
                params![
                    key_hash,
                    fingerprint,
                    owner,
                    now_ms as i64,
                    stale_before_ms as i64
                ],
            )?;
            let record =
                tx.query_row(sql::IDEMPOTENCY_RECORD, params![key_hash], record_from_row)?;
            tx.commit()?;
            Ok(record)
        })
    }

    async fn release_idempotency(&self, key_hash: &str, owner: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute(sql::RELEASE_IDEMPOTENCY, params![key_hash, owner])
                .map(|_| ())
        })
    }

    async fn book_appointment(&self, a: &StoredAppointment, units: &[i64]) -> StoreResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            let booked = (|| -> rusqlite::Result<()> {
                tx.execute(
                    sql::INSERT_APPOINTMENT,
                    params![
                        a.id,
                        a.portal,
                        a.service,
                        a.office,
                        a.start_ms,
                        a.end_ms,
                        a.seat,
                        a.token_hash,
                        a.account_hash,
                        a.envelope,
                        a.citizen_key,
                        a.contact,
                        a.origin,
                        a.status,
                        a.sequence,
                        a.cancelled_by,
                        a.office_message,
                        a.created_ms,
                        a.updated_at
                    ],
                )?;
                for unit in units {
                    tx.execute(
                        sql::INSERT_SEAT,
                        params![a.portal, a.office, unit, a.seat, a.id],
                    )?;
                }
                Ok(())
            })();
            match booked {
                Ok(()) => tx.commit().map(|_| true),
                // Dropping the transaction rolls the row and every seat back.
                Err(e) if is_constraint(&e) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    async fn appointment(&self, id: &str) -> StoreResult<Option<StoredAppointment>> {
        self.with(|c| {
            c.query_row(sql::APPOINTMENT, params![id], appointment_from_row)
                .optional()
        })
    }

    async fn seats_taken(
        &self,
        portal: &str,
        office: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<(i64, u32)>> {
        self.with(|c| {
            let mut statement = c.prepare(sql::SEATS_TAKEN)?;
            let rows = statement.query_map(params![portal, office, from_ms, to_ms], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
            rows.collect()
        })
    }

    async fn cancel_appointment(
        &self,
        id: &str,
        by: &str,
        at: &str,
        office_message: Option<&str>,
        notify: Option<&OutboxEntry>,
    ) -> StoreResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            if tx.execute(sql::CANCEL_APPOINTMENT, params![id, by, at, office_message])? == 0 {
                return Ok(false);
            }
            tx.execute(sql::FREE_SEATS, params![id])?;
            tx.execute(sql::DROP_REMINDER, params![id])?;
            if let Some(n) = notify {
                tx.execute(
                    sql::QUEUE_APPOINTMENT_MAIL,
                    params![n.id, id, n.origin, n.created_at as i64, n.kind],
                )?;
            }
            tx.execute(sql::FORGET_APPOINTMENT_CONTACT, params![id])?;
            tx.commit()?;
            Ok(true)
        })
    }

    async fn office_appointments(
        &self,
        portal: &str,
        office: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<StoredAppointment>> {
        self.with(|c| {
            let mut statement = c.prepare(sql::OFFICE_APPOINTMENTS)?;
            let rows = statement.query_map(
                params![portal, office, from_ms, to_ms],
                appointment_from_row,
            )?;
            rows.collect()
        })
    }

    async fn account_appointments(
        &self,
        account_hashes: &[String],
    ) -> StoreResult<Vec<StoredAppointment>> {
        self.with(|c| {
            let mut out = Vec::new();
            let mut statement = c.prepare(sql::ACCOUNT_APPOINTMENTS)?;
            for hash in account_hashes {
                let rows = statement.query_map(params![hash], appointment_from_row)?;
                for row in rows {
                    out.push(row?);
                }
            }
            out.sort_by(|a, b| (a.start_ms, &a.id).cmp(&(b.start_ms, &b.id)));
            Ok(out)
        })
    }

    async fn queue_reminders(&self, now_ms: i64) -> StoreResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(sql::QUEUE_REMINDERS, params![now_ms])?;
            tx.execute(sql::MARK_REMINDED, params![now_ms])?;
            tx.commit()
        })
    }

    async fn take_rate_slot(
        &self,
        client_hash: &str,
        now_ms: u64,
        window_ms: u64,
        limit: u32,
    ) -> StoreResult<RateSlot> {
        let start = now_ms.saturating_sub(window_ms) as i64;
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(sql::DROP_OLD_HITS, params![start])?;
            let taken = tx.execute(
                sql::TAKE_RATE_SLOT,
                params![client_hash, now_ms as i64, start, limit],
            )?;
            let slot = if taken == 1 {
                RateSlot::Taken
            } else {
                let oldest: Option<i64> =
                    tx.query_row(sql::OLDEST_HIT, params![client_hash, start], |row| {
                        row.get(0)
                    })?;
                RateSlot::Full {
                    retry_after_ms: retry_after_ms(oldest.map(|o| o as u64), now_ms, window_ms),
                }
            };
            tx.commit()?;
            Ok(slot)
        })
    }

    async fn insert_message(
        &self,
        message: &StoredMessage,
        attachments: &[StoredAttachment],
        status: Option<&StatusEntry>,
        notify: Option<&OutboxEntry>,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            let inserted = tx.execute(
                sql::INSERT_MESSAGE,
                params![
                    message.id,
                    message.application_id,
                    message.sender,
                    message.envelope,
                    message.at
                ],
            )?;
            if inserted == 0 {
                return Ok(false);
            }
            for a in attachments {
                tx.execute(
                    sql::INSERT_ATTACHMENT,
                    params![
                        a.id,
                        a.application_id,
                        a.message_id,
                        a.size as i64,
                        a.object
                    ],
                )?;
            }
            if let Some(entry) = status {
                let values = params![message.application_id, entry.status, entry.at, message.id];
                tx.execute(sql::UPDATE_STATUS_WITH_MESSAGE, values)?;
                tx.execute(sql::INSERT_STATUS_WITH_MESSAGE, values)?;
            }
            if let Some(n) = notify {
                tx.execute(
                    sql::QUEUE_NOTIFICATION,
                    params![
                        n.id,
                        n.application_id,
                        n.origin,
                        n.created_at as i64,
                        message.id
                    ],
                )?;
            }
            if let Some(audit) = audit {
                record_audit(&tx, sql::INSERT_AUDIT, audit)?;
            }
            tx.execute(sql::FORGET_CLOSED_CONTACT, params![message.application_id])?;
            tx.commit()?;
            Ok(true)
        })
    }

    async fn payment(&self, application_id: &str) -> StoreResult<Option<StoredPayment>> {
        self.with(|c| {
            c.query_row(sql::PAYMENT, params![application_id], payment_from_row)
                .optional()
        })
    }

    async fn payments(&self, application_ids: &[String]) -> StoreResult<Vec<StoredPayment>> {
        if application_ids.is_empty() {
            return Ok(Vec::new());
        }
        self.with(|c| {
            let mut statement = c.prepare(&sql::payments(application_ids.len()))?;
            let rows = statement.query_map(
                rusqlite::params_from_iter(application_ids.iter()),
                payment_from_row,
            )?;
            rows.collect()
        })
    }

    async fn due_payments(&self, now_ms: u64, limit: u32) -> StoreResult<Vec<StoredPayment>> {
        self.with(|c| {
            let mut statement = c.prepare(sql::DUE_PAYMENTS)?;
            let rows = statement.query_map(params![now_ms as i64, limit], payment_from_row)?;
            rows.collect()
        })
    }

    async fn set_payment_transaction(
        &self,
        application_id: &str,
        transaction_id: &str,
        payment_url: &str,
        reference: Option<&str>,
    ) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                sql::SET_PAYMENT_TRANSACTION,
                params![application_id, transaction_id, payment_url, reference],
            )
            .map(|_| ())
        })
    }

    async fn retry_payment(
        &self,
        application_id: &str,
        attempt: u32,
        now_ms: u64,
    ) -> StoreResult<bool> {
        self.with(|c| {
            c.execute(
                sql::RETRY_PAYMENT,
                params![application_id, attempt, now_ms as i64],
            )
            .map(|changed| changed == 1)
        })
    }

    async fn set_payment_status(
        &self,
        application_id: &str,
        status: &str,
        reference: Option<&str>,
        next_check_at: u64,
        at: &str,
    ) -> StoreResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                sql::SET_PAYMENT_STATUS,
                params![application_id, status, reference, next_check_at as i64],
            )?;
            let delivered = tx.execute(sql::DELIVER_PAID, params![application_id, at])?;
            tx.execute(sql::HISTORY_PAID, params![application_id, at])?;
            tx.commit()?;
            Ok(delivered == 1)
        })
    }

    async fn due_notifications(&self, now_ms: u64, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        self.with(|c| {
            let mut statement = c.prepare(sql::DUE_NOTIFICATIONS)?;
            let rows = statement.query_map(params![now_ms as i64, limit], |row| {
                Ok(OutboxEntry {
                    id: row.get(0)?,
                    application_id: row.get(1)?,
                    origin: row.get(2)?,
                    created_at: row.get::<_, i64>(3)? as u64,
                    attempts: row.get(4)?,
                    next_attempt_at: row.get::<_, i64>(5)? as u64,
                    contact: row.get(6)?,
                    kind: row.get(7)?,
                })
            })?;
            rows.collect()
        })
    }

    async fn claim_notification(
        &self,
        id: &str,
        seen_next_attempt_at: u64,
        lease_until: u64,
    ) -> StoreResult<bool> {
        self.with(|c| {
            c.execute(
                sql::CLAIM_NOTIFICATION,
                params![id, seen_next_attempt_at as i64, lease_until as i64],
            )
            .map(|changed| changed == 1)
        })
    }

    async fn notification_done(&self, entry: &OutboxEntry) -> StoreResult<()> {
        self.with(|c| {
            c.execute(sql::NOTIFICATION_DONE, params![entry.id])
                .map(|_| ())
        })
    }

    async fn prune_notifications(&self, before_ms: u64) -> StoreResult<()> {
        self.with(|c| {
            c.execute(sql::PRUNE_NOTIFICATIONS, params![before_ms as i64])
                .map(|_| ())
        })
    }

    async fn notification_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: u64,
    ) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                sql::NOTIFICATION_FAILED,
                params![id, attempts, next_attempt_at as i64],
            )
            .map(|_| ())
        })
    }

    async fn messages(&self, application_id: &str) -> StoreResult<Vec<StoredMessage>> {
        self.with(|c| {
            let mut statement = c.prepare(sql::MESSAGES)?;
            let rows = statement.query_map(params![application_id], message_from_row)?;
            rows.collect()
        })
    }

    async fn attachment(
        &self,
        application_id: &str,
        attachment_id: &str,
    ) -> StoreResult<Option<StoredAttachment>> {
        self.with(|c| {
            c.query_row(
                sql::ATTACHMENT,
                params![application_id, attachment_id],
                attachment_from_row,
            )
            .optional()
        })
    }

    async fn attachments(&self, application_id: &str) -> StoreResult<Vec<StoredAttachment>> {
        self.with(|c| {
            let mut statement = c.prepare(sql::ATTACHMENTS)?;
            let rows = statement.query_map(params![application_id], attachment_from_row)?;
            rows.collect()
        })
    }

    async fn set_citizen_key(&self, id: &str, public_key: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute(sql::SET_CITIZEN_KEY, params![id, public_key])
                .map(|_| ())
        })
    }

    async fn set_citizen_seen(&self, id: &str, at: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute(sql::SET_CITIZEN_SEEN, params![id, at])
                .map(|_| ())
        })
    }

    async fn delete_application(&self, id: &str, audit: Option<&AuditEntry>) -> StoreResult<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            if let Some(audit) = audit {
                record_audit(&tx, sql::INSERT_AUDIT, audit)?;
            }
            for statement in sql::DELETE_APPLICATION {
                tx.execute(statement, params![id])?;
            }
            tx.commit()
        })
    }

    async fn put_object(&self, name: &str, bytes: &[u8]) -> StoreResult<()> {
        let name = checked_name(name)?;
        match &self.objects {
            Objects::Memory(map) => {
                map.lock()
                    .map_err(|_| StoreError("object lock poisoned".into()))?
                    .insert(name.to_string(), bytes.to_vec());
                Ok(())
            }
            Objects::Folder(folder) => {
                // Written aside and renamed, so a crash never leaves half a file under
                // the name.
                let path = folder.join(name);
                let parent = path.parent().unwrap_or(folder);
                std::fs::create_dir_all(parent).map_err(failed)?;
                let aside = parent.join(format!(
                    ".{}.part",
                    path.file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or("object")
                ));
                std::fs::write(&aside, bytes).map_err(failed)?;
                std::fs::rename(&aside, &path).map_err(failed)
            }
        }
    }

    async fn object(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        let name = checked_name(name)?;
        match &self.objects {
            Objects::Memory(map) => Ok(map
                .lock()
                .map_err(|_| StoreError("object lock poisoned".into()))?
                .get(name)
                .cloned()),
            Objects::Folder(folder) => match std::fs::read(folder.join(name)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(failed(e)),
            },
        }
    }

    async fn delete_object(&self, name: &str) -> StoreResult<()> {
        let name = checked_name(name)?;
        match &self.objects {
            Objects::Memory(map) => {
                map.lock()
                    .map_err(|_| StoreError("object lock poisoned".into()))?
                    .remove(name);
                Ok(())
            }
            Objects::Folder(folder) => {
                let path = folder.join(name);
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        // The application's folder goes with its last file.
                        if let Some(parent) = path.parent().filter(|p| *p != folder) {
                            let _ = std::fs::remove_dir(parent);
                        }
                        Ok(())
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(failed(e)),
                }
            }
        }
    }
}
