-- Idempotency-Keys are claimed before their application is stored, and bound to what the
-- request asked for; the rate limit counts in a sliding minute (issue 12, items 1-3).
-- Applied after 0001 by `wrangler d1 migrations apply DB` and by `lotse serve` alike.
--
-- The tables `idempotency` and `rate_limits` of 0001 go: their rows are copies of first
-- answers (stored after the application, so concurrent retries could each store one)
-- and per-minute hit counters, both under unkeyed hashes; no application, history entry
-- or account link is in them. Applications and their history stay as they are. A retry
-- of a request answered before this migration is treated as a new request.

DROP TABLE IF EXISTS idempotency;
DROP TABLE IF EXISTS rate_limits;

-- One row per Idempotency-Key, inserted (claimed) before the application is stored: the
-- primary key lets exactly one request win. `key_hash` and `fingerprint` are HMACs under
-- the edge's hash secret and the key (docs/envelope.md); `answer` is the first answer,
-- AES-256-GCM under a key derived from both, NULL while the first request is in flight.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key_hash    TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    -- A random id of the request holding the claim; only it may store the application.
    owner       TEXT NOT NULL,
    -- Milliseconds since the epoch; an unanswered claim this old may be taken over.
    claimed_at  INTEGER NOT NULL,
    answer      TEXT
);

-- The accepted submissions of each client (keyed hash of its address) in the last
-- minute, one row each; older rows are deleted as requests come in.
CREATE TABLE IF NOT EXISTS rate_hits (
    client_hash TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_hits_by_client ON rate_hits (client_hash, at);
CREATE INDEX IF NOT EXISTS rate_hits_by_time ON rate_hits (at);
