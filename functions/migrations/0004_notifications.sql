-- Notifications without content (issue 13, item 5): when the office writes, a citizen who
-- gave an e-mail address is told that there is a new message, never what it says.
-- Applied after 0003 by `wrangler d1 migrations apply DB` and by `lotse serve` alike.

-- The citizen's e-mail address for notifications: AES-256-GCM under a key derived from
-- the edge's hash secret (docs/envelope.md), never in clear; NULL once the application
-- is closed and nothing is left to send.
ALTER TABLE applications ADD COLUMN contact TEXT;

-- Notifications to send, written in the same transaction as the office's message. The
-- row names the application, not the address (read, and opened, only when sending);
-- `origin` is the site the link in the mail points to. Sent rows are deleted.
CREATE TABLE IF NOT EXISTS outbox (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications (id),
    origin          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_by_application ON outbox (application_id);
