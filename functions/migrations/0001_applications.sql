-- Applications, their status history, idempotent retries and rate limits.
-- Applied by `wrangler d1 migrations apply DB` on Cloudflare and by `lotse serve`
-- (embedded SQLite) alike. No column holds a plaintext form value: `envelope` is HPKE
-- ciphertext to the office's key; tokens and client addresses are stored as hashes.

CREATE TABLE IF NOT EXISTS applications (
    id           TEXT PRIMARY KEY,
    portal       TEXT NOT NULL,
    service      TEXT NOT NULL,
    office       TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    account_hash TEXT,
    envelope     TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS applications_by_office ON applications (portal, office, created_at);
CREATE INDEX IF NOT EXISTS applications_by_account ON applications (account_hash, created_at);

CREATE TABLE IF NOT EXISTS status_history (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id TEXT NOT NULL REFERENCES applications (id),
    status         TEXT NOT NULL,
    note           TEXT,
    at             TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS status_history_by_application ON status_history (application_id, seq);

-- The first answer to a request with an Idempotency-Key, encrypted under a key derived
-- from the Idempotency-Key itself (it contains the citizen's token).
CREATE TABLE IF NOT EXISTS idempotency (
    key_hash   TEXT PRIMARY KEY,
    answer     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS rate_limits (
    client_hash TEXT NOT NULL,
    window      INTEGER NOT NULL,
    hits        INTEGER NOT NULL,
    PRIMARY KEY (client_hash, window)
);
