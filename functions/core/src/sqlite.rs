//! The embedded store of `lotse serve`: SQLite in the data folder, with the same
//! migrations as D1 on Cloudflare.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::{
    newest_first, sql, StatusEntry, Store, StoreError, StoreResult, StoredApplication,
};

/// The migrations, in order. D1 applies the same files with `wrangler d1 migrations`.
const MIGRATIONS: [&str; 1] = [include_str!("../../migrations/0001_applications.sql")];

pub struct SqliteStore {
    connection: Mutex<Connection>,
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl SqliteStore {
    /// Opens (or creates) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let connection = Connection::open(path).map_err(failed)?;
        Self::with_connection(connection)
    }

    /// A store in memory, for tests.
    pub fn in_memory() -> StoreResult<SqliteStore> {
        Self::with_connection(Connection::open_in_memory().map_err(failed)?)
    }

    fn with_connection(connection: Connection) -> StoreResult<SqliteStore> {
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
            .map_err(failed)?;
        for migration in MIGRATIONS {
            connection.execute_batch(migration).map_err(failed)?;
        }
        Ok(SqliteStore {
            connection: Mutex::new(connection),
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
    })
}

impl Store for SqliteStore {
    async fn insert_application(
        &self,
        a: &StoredApplication,
        idempotency: Option<(&str, &str)>,
    ) -> StoreResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            let inserted = tx.execute(
                sql::INSERT_APPLICATION,
                params![
                    a.id,
                    a.portal,
                    a.service,
                    a.office,
                    a.token_hash,
                    a.account_hash,
                    a.envelope,
                    a.status,
                    a.created_at,
                    a.updated_at
                ],
            )?;
            if inserted == 0 {
                return Ok(false);
            }
            tx.execute(
                sql::INSERT_FIRST_STATUS,
                params![a.id, a.status, a.created_at, a.token_hash],
            )?;
            if let Some((key_hash, answer)) = idempotency {
                tx.execute(
                    sql::INSERT_IDEMPOTENCY,
                    params![key_hash, answer, a.created_at, a.id, a.token_hash],
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

    async fn set_status(&self, id: &str, entry: &StatusEntry) -> StoreResult<bool> {
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
            tx.commit()?;
            Ok(true)
        })
    }

    async fn idempotent_answer(&self, key_hash: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            c.query_row(sql::IDEMPOTENT_ANSWER, params![key_hash], |row| row.get(0))
                .optional()
        })
    }

    async fn count_hit(&self, client_hash: &str, window: u64) -> StoreResult<u32> {
        self.with(|c| {
            c.execute(sql::DROP_OLD_WINDOWS, params![window as i64 - 1])?;
            c.query_row(sql::COUNT_HIT, params![client_hash, window as i64], |row| {
                row.get(0)
            })
        })
    }
}
