-- Appointments at an office (SPEC section 8). Applied after 0007 by `wrangler d1
-- migrations apply DB` and by `lotse serve` alike.
--
-- A booking is a row here and one row in `appointment_seats` per 5-minute unit it holds
-- at one seat of its office (an office serves `capacity` citizens at once: seats 0 …
-- capacity-1). The seats' primary key is the guarantee against double booking: a booking
-- is its row and all its seat rows in one transaction (a D1 batch), and a seat someone
-- else holds fails the whole of it. Never check-then-insert.
--
-- The citizen's name and address are in `envelope`, sealed to the office's key like an
-- application; `contact` is the address for the reminder, sealed under the edge's secret
-- (as for notifications); `citizen_key` (public) lets the office's word on a
-- cancellation be sealed so that it opens with the citizen's token.
CREATE TABLE IF NOT EXISTS appointments (
    id             TEXT PRIMARY KEY,
    portal         TEXT NOT NULL,
    service        TEXT NOT NULL,
    office         TEXT NOT NULL,
    start_ms       INTEGER NOT NULL,
    end_ms         INTEGER NOT NULL,
    seat           INTEGER NOT NULL,
    token_hash     TEXT NOT NULL,
    account_hash   TEXT,
    envelope       TEXT NOT NULL,
    citizen_key    TEXT,
    contact        TEXT,
    -- The site the citizen booked on (links in mails go there).
    origin         TEXT NOT NULL,
    -- booked, cancelled
    status         TEXT NOT NULL,
    -- RFC 5545 SEQUENCE: raised with every change (a cancellation).
    sequence       INTEGER NOT NULL DEFAULT 0,
    -- citizen, office
    cancelled_by   TEXT,
    -- The office's message on cancelling, a sealed message envelope.
    office_message TEXT,
    reminded       INTEGER NOT NULL DEFAULT 0,
    created_ms     INTEGER NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS appointments_by_office ON appointments (portal, office, start_ms);
CREATE INDEX IF NOT EXISTS appointments_by_account ON appointments (account_hash, start_ms);
CREATE INDEX IF NOT EXISTS appointments_to_remind ON appointments (status, reminded, start_ms);

CREATE TABLE IF NOT EXISTS appointment_seats (
    portal         TEXT NOT NULL,
    office         TEXT NOT NULL,
    unit_ms        INTEGER NOT NULL,
    seat           INTEGER NOT NULL,
    appointment_id TEXT NOT NULL,
    PRIMARY KEY (portal, office, unit_ms, seat)
);
CREATE INDEX IF NOT EXISTS appointment_seats_by_appointment ON appointment_seats (appointment_id);

-- The outbox now also carries mails about appointments: `kind` says what a row is about
-- (a new message on an application, all of them until now; an appointment's reminder; its
-- cancellation by the office), and `application_id` names an application or an
-- appointment, so it can no longer reference `applications`. SQLite cannot drop a
-- foreign key, so the table is built anew with its rows.
CREATE TABLE outbox_rebuilt (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL,
    origin          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    contact         TEXT,
    kind            TEXT NOT NULL DEFAULT 'message'
);
INSERT INTO outbox_rebuilt (id, application_id, origin, created_at, attempts, next_attempt_at, contact, kind)
    SELECT id, application_id, origin, created_at, attempts, next_attempt_at, contact, 'message' FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_by_application ON outbox (application_id);
