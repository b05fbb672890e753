//! The store on Cloudflare D1 (binding `DB`), with the schema of functions/migrations/.
//! Statements are prepared with bound parameters only; multi-statement changes go through
//! `batch`, which D1 runs as one transaction.

use lotse_functions::store::{newest_first, sql, StoreResult};
use lotse_functions::{StatusEntry, Store, StoreError, StoredApplication};
use serde::Deserialize;
use worker::{console_error, D1Database, D1PreparedStatement, D1Result, D1Type};

pub struct D1Store {
    db: D1Database,
}

impl D1Store {
    pub fn new(db: D1Database) -> Self {
        D1Store { db }
    }

    fn statement(&self, sql: &str, values: &[D1Type<'_>]) -> StoreResult<D1PreparedStatement> {
        self.db.prepare(sql).bind_refs(values).map_err(failed)
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

#[derive(Deserialize)]
struct Answer {
    answer: String,
}

#[derive(Deserialize)]
struct Hits {
    hits: u32,
}

impl Store for D1Store {
    async fn insert_application(
        &self,
        a: &StoredApplication,
        idempotency: Option<(&str, &str)>,
    ) -> StoreResult<bool> {
        // A taken id leaves the first INSERT without effect. The later statements only
        // write when the application row is the one just inserted (same id and the fresh
        // token's hash), so a collision writes nothing at all, and any failure rolls the
        // whole batch back.
        let mut batch = vec![
            self.statement(
                sql::INSERT_APPLICATION,
                &[
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
                ],
            )?,
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
        if let Some((key_hash, answer)) = idempotency {
            batch.push(self.statement(
                sql::INSERT_IDEMPOTENCY,
                &[
                    text(key_hash),
                    text(answer),
                    text(&a.created_at),
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
        self.statement(sql::HISTORY, &[text(id)])?
            .all()
            .await
            .map_err(failed)?
            .results::<StatusEntry>()
            .map_err(failed)
    }

    async fn account_applications(
        &self,
        account_hashes: &[String],
    ) -> StoreResult<Vec<StoredApplication>> {
        let mut out = Vec::new();
        for hash in account_hashes {
            let rows = self
                .statement(sql::ACCOUNT_APPLICATIONS, &[text(hash)])?
                .all()
                .await
                .map_err(failed)?
                .results::<StoredApplication>()
                .map_err(failed)?;
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
        self.statement(sql::OFFICE_APPLICATIONS, &[text(portal), text(office)])?
            .all()
            .await
            .map_err(failed)?
            .results::<StoredApplication>()
            .map_err(failed)
    }

    async fn set_status(&self, id: &str, entry: &StatusEntry) -> StoreResult<bool> {
        let batch = vec![
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
        ];
        let results = self.db.batch(batch).await.map_err(failed)?;
        Ok(changes(results.first())? == 1)
    }

    async fn idempotent_answer(&self, key_hash: &str) -> StoreResult<Option<String>> {
        Ok(self
            .statement(sql::IDEMPOTENT_ANSWER, &[text(key_hash)])?
            .first::<Answer>(None)
            .await
            .map_err(failed)?
            .map(|row| row.answer))
    }

    async fn count_hit(&self, client_hash: &str, window: u64) -> StoreResult<u32> {
        // Minutes since the epoch: far inside the 53 bits a JavaScript number holds.
        let window = window as f64;
        let batch = vec![
            self.statement(sql::DROP_OLD_WINDOWS, &[D1Type::Real(window - 1.0)])?,
            self.statement(sql::COUNT_HIT, &[text(client_hash), D1Type::Real(window)])?,
        ];
        let results = self.db.batch(batch).await.map_err(failed)?;
        let rows = results
            .get(1)
            .ok_or_else(|| StoreError("D1 batch returned too few results".into()))?
            .results::<Hits>()
            .map_err(failed)?;
        rows.first()
            .map(|row| row.hits)
            .ok_or_else(|| StoreError("rate limit upsert returned no row".into()))
    }
}
