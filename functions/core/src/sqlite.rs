//! The embedded store of `lotse serve`: SQLite in the data folder, with the same
//! migrations as D1 on Cloudflare.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::{StatusEntry, Store, StoreError, StoreResult, StoredApplication};

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
                "INSERT OR IGNORE INTO applications (id, portal, service, office, token_hash, account_hash, envelope, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![a.id, a.portal, a.service, a.office, a.token_hash, a.account_hash, a.envelope, a.status, a.created_at, a.updated_at],
            )?;
            if inserted == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO status_history (application_id, status, note, at) VALUES (?1, ?2, NULL, ?3)",
                params![a.id, a.status, a.created_at],
            )?;
            if let Some((key_hash, answer)) = idempotency {
                tx.execute(
                    "INSERT OR IGNORE INTO idempotency (key_hash, answer, created_at) VALUES (?1, ?2, ?3)",
                    params![key_hash, answer, a.created_at],
                )?;
            }
            tx.commit()?;
            Ok(true)
        })
    }

    async fn application(&self, id: &str) -> StoreResult<Option<StoredApplication>> {
        self.with(|c| {
            c.query_row(
                "SELECT * FROM applications WHERE id = ?1",
                params![id],
                application_from_row,
            )
            .optional()
        })
    }

    async fn history(&self, id: &str) -> StoreResult<Vec<StatusEntry>> {
        self.with(|c| {
            let mut statement = c.prepare("SELECT status, note, at FROM status_history WHERE application_id = ?1 ORDER BY seq")?;
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
            let mut statement = c.prepare(
                "SELECT * FROM applications WHERE account_hash = ?1 ORDER BY created_at DESC, id",
            )?;
            let mut out = Vec::new();
            for hash in account_hashes {
                let rows = statement.query_map(params![hash], application_from_row)?;
                for row in rows {
                    out.push(row?);
                }
            }
            out.sort_by(|a, b| {
                b.created_at
                    .cmp(&a.created_at)
                    .then_with(|| a.id.cmp(&b.id))
            });
            Ok(out)
        })
    }

    async fn office_applications(
        &self,
        portal: &str,
        office: &str,
    ) -> StoreResult<Vec<StoredApplication>> {
        self.with(|c| {
            let mut statement = c.prepare("SELECT * FROM applications WHERE portal = ?1 AND office = ?2 ORDER BY created_at, id")?;
            let rows = statement.query_map(params![portal, office], application_from_row)?;
            rows.collect()
        })
    }

    async fn set_status(&self, id: &str, entry: &StatusEntry) -> StoreResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            let updated = tx.execute(
                "UPDATE applications SET status = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, entry.status, entry.at],
            )?;
            if updated == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO status_history (application_id, status, note, at) VALUES (?1, ?2, ?3, ?4)",
                params![id, entry.status, entry.note, entry.at],
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    async fn idempotent_answer(&self, key_hash: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            c.query_row(
                "SELECT answer FROM idempotency WHERE key_hash = ?1",
                params![key_hash],
                |row| row.get(0),
            )
            .optional()
        })
    }

    async fn count_hit(&self, client_hash: &str, window: u64) -> StoreResult<u32> {
        self.with(|c| {
            // Old windows are useless; dropping them keeps the table small.
            c.execute(
                "DELETE FROM rate_limits WHERE window < ?1",
                params![window as i64 - 1],
            )?;
            c.query_row(
                "INSERT INTO rate_limits (client_hash, window, hits) VALUES (?1, ?2, 1)
                 ON CONFLICT (client_hash, window) DO UPDATE SET hits = hits + 1
                 RETURNING hits",
                params![client_hash, window as i64],
                |row| row.get(0),
            )
        })
    }
}
