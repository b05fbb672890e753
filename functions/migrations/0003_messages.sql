-- The conversation on an application (SPEC section 6, issue 13): messages both ways and
-- the files sent with them. Applied after 0002 by `wrangler d1 migrations apply DB` and
-- by `lotse serve` alike. No column holds a message text, a file name or file content:
-- `envelope` is a message envelope (docs/envelope.md) sealed to the office and to the
-- application's citizen key; files are sealed and kept outside the database (R2 on
-- Cloudflare, the data folder under `lotse serve`), so no row comes near D1's limits.

-- The application's citizen key: the public half of the X25519 key pair derived from the
-- citizen's token (only the citizen can derive the private half); NULL for applications
-- stored before this migration until their citizen next shows the token.
ALTER TABLE applications ADD COLUMN citizen_key TEXT;
-- For an application sent while logged in: the private citizen key, AES-256-GCM under a
-- key derived from the account secret and the citizen's subject (Mein Postfach opens it
-- with the session; a copy of the store alone does not).
ALTER TABLE applications ADD COLUMN citizen_key_wrapped TEXT;
-- When the citizen last looked at the conversation, to mark what is new.
ALTER TABLE applications ADD COLUMN citizen_seen_at TEXT;

CREATE TABLE IF NOT EXISTS messages (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    application_id TEXT NOT NULL REFERENCES applications (id),
    sender         TEXT NOT NULL CHECK (sender IN ('citizen', 'office')),
    envelope       TEXT NOT NULL,
    at             TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_application ON messages (application_id, seq);

-- One row per sealed file; `size` is the sealed size in bytes, `object` the name it is
-- stored under.
CREATE TABLE IF NOT EXISTS attachments (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    message_id     TEXT NOT NULL REFERENCES messages (id),
    size           INTEGER NOT NULL,
    object         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_by_application ON attachments (application_id);
