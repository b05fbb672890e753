//! The store on Cloudflare D1 (binding `DB`), with the schema of functions/migrations/.
//! Statements are prepared with bound parameters only; multi-statement changes go through
//! `batch`, which D1 runs as one transaction.

use lotse_functions::store::{
    newest_first, retry_after_ms, sql, AuditEntry, Completion, IdempotencyRecord, OfficeCounts,
    OfficeQuery, OutboxEntry, RateSlot, StoreResult, StoredAppointment, StoredAttachment,
    StoredMessage, StoredPayment,
};
use lotse_functions::{StatusEntry, Store, StoreError, StoredApplication};
use serde::Deserialize;
use worker::{console_error, Bucket, D1Database, D1PreparedStatement, D1Result, D1Type};

/// D1 for rows, R2 (binding `FILES`) for the sealed files of messages.
pub struct D1Store {
    db: D1Database,
    files: Option<Bucket>,
}

impl D1Store {
    pub fn new(db: D1Database, files: Option<Bucket>) -> Self {
        D1Store { db, files }
    }

    fn bucket(&self) -> StoreResult<&Bucket> {
        self.files.as_ref().ok_or_else(|| {
            console_error!("R2: no bucket bound as FILES (wrangler.toml [[r2_buckets]])");
            StoreError("no R2 bucket bound as FILES".into())
        })
    }

    fn statement(&self, sql: &str, values: &[D1Type<'_>]) -> StoreResult<D1PreparedStatement> {
        self.db.prepare(sql).bind_refs(values).map_err(failed)
    }

    /// Every row a query answers, as `T`.
    async fn rows<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        values: &[D1Type<'_>],
    ) -> StoreResult<Vec<T>> {
        self.statement(sql, values)?
            .all()
            .await
            .map_err(failed)?
            .results::<T>()
            .map_err(failed)
    }
}

/// Logs the database's message (bound values never appear in it) and hands it on; the
/// functions answer 503.
fn failed(e: worker::Error) -> StoreError {
    let message = e.to_string();
    console_error!("D1: {message}");
    StoreError(message)
}

fn text(value: &str) -> D1Type<'_> {
    D1Type::Text(value)
}

fn optional_text(value: Option<&str>) -> D1Type<'_> {
    value.map_or(D1Type::Null, D1Type::Text)
}

/// Rows changed by a statement of a batch.
fn changes(result: Option<&D1Result>) -> StoreResult<usize> {
    let result = result.ok_or_else(|| StoreError("D1 batch returned too few results".into()))?;
    Ok(result
        .meta()
        .map_err(failed)?
        .and_then(|m| m.changes)
        .unwrap_or(0))
}

/// The nine values of an audit entry, in the order of `sql::INSERT_AUDIT`.
fn audit_values(e: &AuditEntry) -> Vec<D1Type<'_>> {
    vec![
        text(&e.portal),
        text(&e.office),
        text(&e.application_id),
        text(&e.actor),
        optional_text(e.actor_id.as_deref()),
        optional_text(e.actor_name.as_deref()),
        text(&e.action),
        optional_text(e.detail.as_deref()),
        text(&e.at),
    ]
}

/// An audit row as D1 returns it (`seq` is a JavaScript number).
#[derive(Deserialize)]
struct AuditRow {
    seq: f64,
    portal: String,
    office: String,
    application_id: String,
    actor: String,
    actor_id: Option<String>,
    actor_name: Option<String>,
    action: String,
    detail: Option<String>,
    at: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            seq: r.seq as i64,
            portal: r.portal,
            office: r.office,
            application_id: r.application_id,
            actor: r.actor,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            action: r.action,
            detail: r.detail,
            at: r.at,
        }
    }
}

/// A count by name (`SELECT … AS name, count(*) AS n`).
#[derive(Deserialize)]
struct CountRow {
    name: String,
    n: f64,
}

/// Milliseconds since the epoch as a JavaScript number: far inside its 53 bits.
fn millis(ms: u64) -> D1Type<'static> {
    D1Type::Real(ms as f64)
}

/// An attachment row as D1 returns it (numbers are JavaScript numbers).
#[derive(Deserialize)]
struct AttachmentRow {
    id: String,
    application_id: String,
    message_id: String,
    size: f64,
    object: String,
}

impl From<AttachmentRow> for StoredAttachment {
    fn from(row: AttachmentRow) -> Self {
        StoredAttachment {
            id: row.id,
            application_id: row.application_id,
            message_id: row.message_id,
            size: row.size as u64,
            object: row.object,
        }
    }
}

/// A payment row as D1 returns it.
#[derive(Deserialize)]
struct PaymentRow {
    application_id: String,
    amount: f64,
    purpose: String,
    status: String,
    attempt: f64,
    transaction_id: Option<String>,
    return_url: String,
    payment_url: Option<String>,
    reference: Option<String>,
    created_at: f64,
    next_check_at: f64,
}

impl From<PaymentRow> for StoredPayment {
    fn from(row: PaymentRow) -> Self {
        StoredPayment {
            application_id: row.application_id,
            amount: row.amount as u64,
            purpose: row.purpose,
            status: row.status,
            attempt: row.attempt as u32,
            transaction_id: row.transaction_id,
            return_url: row.return_url,
            payment_url: row.payment_url,
            reference: row.reference,
            created_at: row.created_at as u64,
            next_check_at: row.next_check_at as u64,
        }
    }
}

/// An outbox row as D1 returns it.
#[derive(Deserialize)]
struct OutboxRow {
    id: String,
    application_id: String,
    origin: String,
    created_at: f64,
    attempts: f64,
    next_attempt_at: f64,
    contact: Option<String>,
    kind: String,
}

/// An appointment row as D1 returns it (numbers are JavaScript numbers).
#[derive(Deserialize)]
struct AppointmentRow {
    id: String,
    portal: String,
    service: String,
    office: String,
    start_ms: f64,
    end_ms: f64,
    seat: f64,
    token_hash: String,
    account_hash: Option<String>,
    envelope: String,
    citizen_key: Option<String>,
    contact: Option<String>,
    origin: String,
    status: String,
    sequence: f64,
    cancelled_by: Option<String>,
    office_message: Option<String>,
    created_ms: f64,
    updated_at: String,
}

impl From<AppointmentRow> for StoredAppointment {
    fn from(r: AppointmentRow) -> Self {
        StoredAppointment {
            id: r.id,
            portal: r.portal,
            service: r.service,
            office: r.office,
            start_ms: r.start_ms as i64,
            end_ms: r.end_ms as i64,
            seat: r.seat as u32,
            token_hash: r.token_hash,
            account_hash: r.account_hash,
            envelope: r.envelope,
            citizen_key: r.citizen_key,
            contact: r.contact,
            origin: r.origin,
            status: r.status,
            sequence: r.sequence as u32,
            cancelled_by: r.cancelled_by,
            office_message: r.office_message,
            created_ms: r.created_ms as i64,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Deserialize)]
struct SeatRow {
    unit_ms: f64,
    seat: f64,
}

/// A number of ms as a JavaScript number (appointments: signed, far inside 53 bits).
fn ms(value: i64) -> D1Type<'static> {
    D1Type::Real(value as f64)
}

#[derive(Deserialize)]
struct Oldest {
    oldest: Option<f64>,
}

impl Store for D1Store {
    async fn insert_application(
        &self,
        a: &StoredApplication,
        idempotency: Option<Completion<'_>>,
        payment: Option<&StoredPayment>,
    ) -> StoreResult<bool> {
        // A taken id (or, with a claim, a claim no longer ours) leaves the first INSERT
        // without effect. The later statements only write when the application row is
        // the one just inserted (same id and the fresh token's hash), so a collision
        // writes nothing at all, and any failure rolls the whole batch back.
        let mut row = vec![
            text(&a.id),
            text(&a.portal),
            text(&a.service),
            text(&a.office),
            text(&a.token_hash),
            optional_text(a.account_hash.as_deref()),
            text(&a.envelope),
            text(&a.status),
            text(&a.created_at),
            text(&a.updated_at),
            optional_text(a.citizen_key.as_deref()),
            optional_text(a.citizen_key_wrapped.as_deref()),
            optional_text(a.contact.as_deref()),
        ];
        let insert = match idempotency {
            None => sql::INSERT_APPLICATION,
            Some(claim) => {
                row.extend([text(claim.key_hash), text(claim.owner)]);
                sql::INSERT_CLAIMED_APPLICATION
            }
        };
        let mut batch = vec![
            self.statement(insert, &row)?,
            self.statement(
                sql::INSERT_FIRST_STATUS,
                &[
                    text(&a.id),
                    text(&a.status),
                    text(&a.created_at),
                    text(&a.token_hash),
                ],
            )?,
        ];
        if let Some(p) = payment {
            batch.push(self.statement(
                sql::INSERT_PAYMENT,
                &[
                    text(&p.application_id),
                    D1Type::Real(p.amount as f64),
                    text(&p.purpose),
                    text(&p.status),
                    optional_text(p.transaction_id.as_deref()),
                    optional_text(p.payment_url.as_deref()),
                    optional_text(p.reference.as_deref()),
                    millis(p.created_at),
                    millis(p.next_check_at),
                    text(&a.token_hash),
                    text(&p.return_url),
                ],
            )?);
        }
        if let Some(claim) = idempotency {
            batch.push(self.statement(
                sql::COMPLETE_IDEMPOTENCY,
                &[
                    text(claim.key_hash),
                    text(claim.owner),
                    text(claim.answer),
                    text(&a.id),
                    text(&a.token_hash),
                ],
            )?);
        }
        let results = self.db.batch(batch).await.map_err(failed)?;
        Ok(changes(results.first())? == 1)
    }

    async fn application(&self, id: &str) -> StoreResult<Option<StoredApplication>> {
        self.statement(sql::APPLICATION, &[text(id)])?
            .first::<StoredApplication>(None)
            .await
            .map_err(failed)
    }

    async fn history(&self, id: &str) -> StoreResult<Vec<StatusEntry>> {
        self.rows::<StatusEntry>(sql::HISTORY, &[text(id)]).await
    }

    async fn account_applications(
        &self,
        account_hashes: &[String],
    ) -> StoreResult<Vec<StoredApplication>> {
        let mut out = Vec::new();
        for hash in account_hashes {
            let rows = self
                .rows::<StoredApplication>(sql::ACCOUNT_APPLICATIONS, &[text(hash)])
                .await?;
            out.extend(rows);
        }
        newest_first(&mut out);
        Ok(out)
    }

    async fn office_applications(
        &self,
        portal: &str,
        office: &str,
    ) -> StoreResult<Vec<StoredApplication>> {
        self.rows::<StoredApplication>(sql::OFFICE_APPLICATIONS, &[text(portal), text(office)])
            .await
    }

    async fn office_page(&self, query: &OfficeQuery) -> StoreResult<Vec<StoredApplication>> {
        let (statement, values) = sql::office_page(query);
        let values: Vec<D1Type<'_>> = values.iter().map(|v| text(v)).collect();
        self.rows::<StoredApplication>(&statement, &values).await
    }

    async fn office_counts(&self, portal: &str, office: &str) -> StoreResult<OfficeCounts> {
        let mut counts = OfficeCounts::default();
        for (statement, into) in [
            (sql::OFFICE_STATUS_COUNTS, &mut counts.statuses),
            (sql::OFFICE_SERVICE_COUNTS, &mut counts.services),
        ] {
            let rows = self
                .rows::<CountRow>(statement, &[text(portal), text(office)])
                .await?;
            into.extend(rows.into_iter().map(|r| (r.name, r.n as u64)));
        }
        Ok(counts)
    }

    async fn record_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        self.statement(sql::INSERT_AUDIT, &audit_values(entry))?
            .run()
            .await
            .map_err(failed)
            .map(|_| ())
    }

    async fn audit_log(
        &self,
        portal: &str,
        office: &str,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        // A JavaScript number holds every seq; "before none" is before the largest.
        let before = before_seq.map_or(9.0e15, |seq| seq as f64);
        let rows = self
            .rows::<AuditRow>(
                &sql::audit_log(),
                &[
                    text(portal),
                    text(office),
                    D1Type::Real(before),
                    D1Type::Real(f64::from(limit)),
                ],
            )
            .await?;
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    async fn set_status(
        &self,
        id: &str,
        entry: &StatusEntry,
        audit: Option<&AuditEntry>,
    ) -> StoreResult<bool> {
        let mut batch = vec![
            self.statement(
                sql::UPDATE_STATUS,
                &[text(id), text(&entry.status), text(&entry.at)],
            )?,
            self.statement(
                sql::INSERT_STATUS,
                &[
                    text(id),
                    text(&entry.status),
                    optional_text(entry.note.as_deref()),
                    text(&entry.at),
                ],
            )?,
            self.statement(sql::FORGET_CLOSED_CONTACT, &[text(id)])?,
        ];
        if let Some(audit) = audit {
            batch.push(self.statement(sql::INSERT_AUDIT_FOR_APPLICATION, &audit_values(audit))?);
        }
        let results = self.db.batch(batch).await.map_err(failed)?;
        Ok(changes(results.first())? == 1)
    }

    async fn idempotency_record(&self, key_hash: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.statement(sql::IDEMPOTENCY_RECORD, &[text(key_hash)])?
            .first::<IdempotencyRecord>(None)
            .await
            .map_err(failed)
    }

    async fn claim_idempotency(
        &self,
        key_hash: &str,
        fingerprint: &str,
        owner: &str,
        now_ms: u64,
        stale_before_ms: u64,
    ) -> StoreResult<IdempotencyRecord> {
        // One batch, one transaction: the claim (the primary key lets one request win)
        // and the claim as it stands afterwards.
        let batch = vec![
            self.statement(
                sql::CLAIM_IDEMPOTENCY,
                &[
                    text(key_hash),
                    text(fingerprint),
                    text(owner),
                    millis(now_ms),
                    millis(stale_before_ms),
                ],
            )?,
            self.statement(sql::IDEMPOTENCY_RECORD, &[text(key_hash)])?,
        ];
        let results = self.db.batch(batch).await.map_err(failed)?;
        results
            .get(1)
            .ok_or_else(|| StoreError("D1 batch returned too few results".into()))?
            .results::<IdempotencyRecord>()
            .map_err(failed)?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError("the Idempotency-Key claim returned no row".into()))
    }

    async fn release_idempotency(&self, key_hash: &str, owner: &str) -> StoreResult<()> {
        self.statement(sql::RELEASE_IDEMPOTENCY, &[text(key_hash), text(owner)])?
            .run()
            .await
            .map_err(failed)
            .map(|_| ())
    }

    async fn take_rate_slot(
        &self,
        client_hash: &str,
        now_ms: u64,
        window_ms: u64,
        limit: u32,
    ) -> StoreResult<RateSlot> {
        let start = now_ms.saturating_sub(window_ms);
        let batch = vec![
            self.statement(sql::DROP_OLD_HITS, &[millis(start)])?,
            self.statement(
                sql::TAKE_RATE_SLOT,
                &[
                    text(client_hash),
                    millis(now_ms),
                    millis(start),
                    D1Type::Real(f64::from(limit)),
                ],
            )?,
            self.statement(sql::OLDEST_HIT, &[text(client_hash), millis(start)])?,
        ];
        let results = self.db.batch(batch).await.map_err(failed)?;
        if changes(results.get(1))? == 1 {
            return Ok(RateSlot::Taken);
        }
        let oldest = results
            .get(2)
            .ok_or_else(|| StoreError("D1 batch returned too few results".into()))?
            .results::<Oldest>()
            .map_err(failed)?
            .first()
            .and_then(|row| row.oldest);
        Ok(RateSlot::Full {
            retry_after_ms: retry_after_ms(oldest.map(|o| o as u64), now_ms, window_ms),
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
        // One batch, one transaction; every later statement writes only with the
        // message row of the first, so an unknown application writes nothing.
        let mut batch = vec![self.statement(
            sql::INSERT_MESSAGE,
            &[
                text(&message.id),
                text(&message.application_id),
                text(&message.sender),
                text(&message.envelope),
                text(&message.at),
            ],
        )?];
        for a in attachments {
            batch.push(self.statement(
                sql::INSERT_ATTACHMENT,
                &[
                    text(&a.id),
                    text(&a.application_id),
                    text(&a.message_id),
                    D1Type::Real(a.size as f64),
                    text(&a.object),
                ],
            )?);
        }
        if let Some(entry) = status {
            let values = [
                text(&message.application_id),
                text(&entry.status),
                text(&entry.at),
                text(&message.id),
            ];
            batch.push(self.statement(sql::UPDATE_STATUS_WITH_MESSAGE, &values)?);
            batch.push(self.statement(sql::INSERT_STATUS_WITH_MESSAGE, &values)?);
        }
        if let Some(n) = notify {
            batch.push(self.statement(
                sql::QUEUE_NOTIFICATION,
                &[
                    text(&n.id),
                    text(&n.application_id),
                    text(&n.origin),
                    millis(n.created_at),
                    text(&message.id),
                ],
            )?);
        }
        if let Some(audit) = audit {
            let mut values = audit_values(audit);
            values.push(text(&message.id));
            batch.push(self.statement(sql::INSERT_AUDIT_FOR_MESSAGE, &values)?);
        }
        batch.push(self.statement(sql::FORGET_CLOSED_CONTACT, &[text(&message.application_id)])?);
        let results = self.db.batch(batch).await.map_err(failed)?;
        Ok(changes(results.first())? == 1)
    }

    async fn payment(&self, application_id: &str) -> StoreResult<Option<StoredPayment>> {
        Ok(self
            .statement(sql::PAYMENT, &[text(application_id)])?
            .first::<PaymentRow>(None)
            .await
            .map_err(failed)?
            .map(StoredPayment::from))
    }

    async fn payments(&self, application_ids: &[String]) -> StoreResult<Vec<StoredPayment>> {
        if application_ids.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<D1Type<'_>> = application_ids.iter().map(|id| text(id)).collect();
        Ok(self
            .rows::<PaymentRow>(&sql::payments(application_ids.len()), &values)
            .await?
            .into_iter()
            .map(StoredPayment::from)
            .collect())
    }

    async fn due_payments(&self, now_ms: u64, limit: u32) -> StoreResult<Vec<StoredPayment>> {
        Ok(self
            .rows::<PaymentRow>(
                sql::DUE_PAYMENTS,
                &[millis(now_ms), D1Type::Real(f64::from(limit))],
            )
            .await?
            .into_iter()
            .map(StoredPayment::from)
            .collect())
    }

    async fn set_payment_transaction(
        &self,
        application_id: &str,
        transaction_id: &str,
        payment_url: &str,
        reference: Option<&str>,
    ) -> StoreResult<()> {
        self.statement(
            sql::SET_PAYMENT_TRANSACTION,
            &[
                text(application_id),
                text(transaction_id),
                text(payment_url),
                optional_text(reference),
            ],
        )?
        .run()
        .await
        .map_err(failed)
        .map(|_| ())
    }

    async fn retry_payment(
        &self,
        application_id: &str,
        attempt: u32,
        now_ms: u64,
    ) -> StoreResult<bool> {
        let result = self
            .statement(
                sql::RETRY_PAYMENT,
                &[
                    text(application_id),
                    D1Type::Real(f64::from(attempt)),
                    millis(now_ms),
                ],
            )?
            .run()
            .await
            .map_err(failed)?;
        Ok(changes(Some(&result))? == 1)
    }

    async fn set_payment_status(
        &self,
        application_id: &str,
        status: &str,
        reference: Option<&str>,
        next_check_at: u64,
        at: &str,
    ) -> StoreResult<bool> {
        let batch = vec![
            self.statement(
                sql::SET_PAYMENT_STATUS,
                &[
                    text(application_id),
                    text(status),
                    optional_text(reference),
                    millis(next_check_at),
                ],
            )?,
            self.statement(sql::DELIVER_PAID, &[text(application_id), text(at)])?,
            self.statement(sql::HISTORY_PAID, &[text(application_id), text(at)])?,
        ];
        let results = self.db.batch(batch).await.map_err(failed)?;
        Ok(changes(results.get(1))? == 1)
    }

    async fn due_notifications(&self, now_ms: u64, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        let rows = self
            .rows::<OutboxRow>(
                sql::DUE_NOTIFICATIONS,
                &[millis(now_ms), D1Type::Real(f64::from(limit))],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| OutboxEntry {
                id: row.id,
                application_id: row.application_id,
                origin: row.origin,
                created_at: row.created_at as u64,
                attempts: row.attempts as u32,
                next_attempt_at: row.next_attempt_at as u64,
                contact: row.contact,
                kind: row.kind,
            })
            .collect())
    }

    async fn claim_notification(
        &self,
        id: &str,
        seen_next_attempt_at: u64,
        lease_until: u64,
    ) -> StoreResult<bool> {
        let result = self
            .statement(
                sql::CLAIM_NOTIFICATION,
                &[text(id), millis(seen_next_attempt_at), millis(lease_until)],
            )?
            .run()
            .await
            .map_err(failed)?;
        Ok(changes(Some(&result))? == 1)
    }

    async fn notification_done(&self, entry: &OutboxEntry) -> StoreResult<()> {
        self.statement(sql::NOTIFICATION_DONE, &[text(&entry.id)])?
            .run()
            .await
            .map_err(failed)
            .map(|_| ())
    }

    async fn prune_notifications(&self, before_ms: u64) -> StoreResult<()> {
        self.statement(sql::PRUNE_NOTIFICATIONS, &[millis(before_ms)])?
            .run()
            .await
            .map_err(failed)
            .map(|_| ())
    }

    async fn notification_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: u64,
    ) -> StoreResult<()> {
        self.statement(
            sql::NOTIFICATION_FAILED,
            &[
                text(id),
                D1Type::Real(f64::from(attempts)),
                millis(next_attempt_at),
            ],
        )?
        .run()
        .await
        .map_err(failed)
        .map(|_| ())
    }

    async fn messages(&self, application_id: &str) -> StoreResult<Vec<StoredMessage>> {
        self.rows::<StoredMessage>(sql::MESSAGES, &[text(application_id)])
            .await
    }

    async fn attachment(
        &self,
        application_id: &str,
        attachment_id: &str,
    ) -> StoreResult<Option<StoredAttachment>> {
        Ok(self
            .statement(
                sql::ATTACHMENT,
                &[text(application_id), text(attachment_id)],
            )?
            .first::<AttachmentRow>(None)
            .await
            .map_err(failed)?
            .map(StoredAttachment::from))
    }

    async fn attachments(&self, application_id: &str) -> StoreResult<Vec<StoredAttachment>> {
        Ok(self
            .rows::<AttachmentRow>(sql::ATTACHMENTS, &[text(application_id)])
            .await?
            .into_iter()
            .map(StoredAttachment::from)
            .collect())
    }

    async fn set_citizen_key(&self, id: &str, public_key: &str) -> StoreResult<()> {
        self.statement(sql::SET_CITIZEN_KEY, &[text(id), text(public_key)])?
            .run()
            .await
            .map_err(failed)
            .map(|_| ())
    }

    async fn set_citizen_seen(&self, id: &str, at: &str) -> StoreResult<()> {
        self.statement(sql::SET_CITIZEN_SEEN, &[text(id), text(at)])?
            .run()
            .await
            .map_err(failed)
            .map(|_| ())
    }

    async fn delete_application(&self, id: &str, audit: Option<&AuditEntry>) -> StoreResult<()> {
        let mut batch = Vec::new();
        if let Some(audit) = audit {
            batch.push(self.statement(sql::INSERT_AUDIT, &audit_values(audit))?);
        }
        for statement in sql::DELETE_APPLICATION {
            batch.push(self.statement(statement, &[text(id)])?);
        }
        self.db.batch(batch).await.map_err(failed).map(|_| ())
    }

    async fn book_appointment(&self, a: &StoredAppointment, units: &[i64]) -> StoreResult<bool> {
        let mut batch = vec![self.statement(
            sql::INSERT_APPOINTMENT,
            &[
                text(&a.id),
                text(&a.portal),
                text(&a.service),
                text(&a.office),
                ms(a.start_ms),
                ms(a.end_ms),
                D1Type::Real(f64::from(a.seat)),
                text(&a.token_hash),
                optional_text(a.account_hash.as_deref()),
                text(&a.envelope),
                optional_text(a.citizen_key.as_deref()),
                optional_text(a.contact.as_deref()),
                text(&a.origin),
                text(&a.status),
                D1Type::Real(f64::from(a.sequence)),
                optional_text(a.cancelled_by.as_deref()),
                optional_text(a.office_message.as_deref()),
                ms(a.created_ms),
                text(&a.updated_at),
            ],
        )?];
        for unit in units {
            batch.push(self.statement(
                sql::INSERT_SEAT,
                &[
                    text(&a.portal),
                    text(&a.office),
                    ms(*unit),
                    D1Type::Real(f64::from(a.seat)),
                    text(&a.id),
                ],
            )?);
        }
        // A batch is one transaction: a seat someone holds fails it, and D1 rolls the
        // whole of it back.
        match self.db.batch(batch).await {
            Ok(_) => Ok(true),
            Err(e) if e.to_string().contains("UNIQUE constraint failed") => Ok(false),
            Err(e) => Err(failed(e)),
        }
    }

    async fn appointment(&self, id: &str) -> StoreResult<Option<StoredAppointment>> {
        Ok(self
            .statement(sql::APPOINTMENT, &[text(id)])?
            .first::<AppointmentRow>(None)
            .await
            .map_err(failed)?
            .map(StoredAppointment::from))
    }

    async fn seats_taken(
        &self,
        portal: &str,
        office: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<(i64, u32)>> {
        let rows = self
            .rows::<SeatRow>(
                sql::SEATS_TAKEN,
                &[text(portal), text(office), ms(from_ms), ms(to_ms)],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.unit_ms as i64, r.seat as u32))
            .collect())
    }

    async fn cancel_appointment(
        &self,
        id: &str,
        by: &str,
        at: &str,
        office_message: Option<&str>,
        notify: Option<&OutboxEntry>,
    ) -> StoreResult<bool> {
        let mut batch = vec![
            self.statement(
                sql::CANCEL_APPOINTMENT,
                &[text(id), text(by), text(at), optional_text(office_message)],
            )?,
            self.statement(sql::FREE_SEATS, &[text(id)])?,
            self.statement(sql::DROP_REMINDER, &[text(id)])?,
        ];
        if let Some(n) = notify {
            batch.push(self.statement(
                sql::QUEUE_APPOINTMENT_MAIL,
                &[
                    text(&n.id),
                    text(id),
                    text(&n.origin),
                    millis(n.created_at),
                    text(&n.kind),
                ],
            )?);
        }
        batch.push(self.statement(sql::FORGET_APPOINTMENT_CONTACT, &[text(id)])?);
        let results = self.db.batch(batch).await.map_err(failed)?;
        Ok(changes(results.first())? == 1)
    }

    async fn office_appointments(
        &self,
        portal: &str,
        office: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<StoredAppointment>> {
        let rows = self
            .rows::<AppointmentRow>(
                sql::OFFICE_APPOINTMENTS,
                &[text(portal), text(office), ms(from_ms), ms(to_ms)],
            )
            .await?;
        Ok(rows.into_iter().map(StoredAppointment::from).collect())
    }

    async fn account_appointments(
        &self,
        account_hashes: &[String],
    ) -> StoreResult<Vec<StoredAppointment>> {
        let mut out: Vec<StoredAppointment> = Vec::new();
        for hash in account_hashes {
            let rows = self
                .rows::<AppointmentRow>(sql::ACCOUNT_APPOINTMENTS, &[text(hash)])
                .await?;
            out.extend(rows.into_iter().map(StoredAppointment::from));
        }
        out.sort_by(|a, b| (a.start_ms, &a.id).cmp(&(b.start_ms, &b.id)));
        Ok(out)
    }

    async fn queue_reminders(&self, now_ms: i64) -> StoreResult<()> {
        let batch = vec![
            self.statement(sql::QUEUE_REMINDERS, &[ms(now_ms)])?,
            self.statement(sql::MARK_REMINDED, &[ms(now_ms)])?,
        ];
        self.db.batch(batch).await.map_err(failed).map(|_| ())
    }

    async fn put_object(&self, name: &str, bytes: &[u8]) -> StoreResult<()> {
        self.bucket()?
            .put(name, bytes.to_vec())
            .execute()
            .await
            .map_err(r2_failed)
            .map(|_| ())
    }

    async fn object(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        let Some(object) = self
            .bucket()?
            .get(name)
            .execute()
            .await
            .map_err(r2_failed)?
        else {
            return Ok(None);
        };
        match object.body() {
            Some(body) => body.bytes().await.map(Some).map_err(r2_failed),
            None => Ok(None),
        }
    }

    async fn delete_object(&self, name: &str) -> StoreResult<()> {
        self.bucket()?.delete(name).await.map_err(r2_failed)
    }
}

fn r2_failed(e: worker::Error) -> StoreError {
    let message = e.to_string();
    console_error!("R2: {message}");
    StoreError(message)
}
