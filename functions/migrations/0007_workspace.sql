-- The caseworkers' workspace (SPEC section 9): the audit log of what staff did, and the
-- indexes of the inbox's pages. Applied after 0006 by `wrangler d1 migrations apply DB`
-- and by `lotse serve` alike.
--
-- One row per status change, message, export, file download and deletion: who (the
-- staff member's subject at the city's provider and their name, or `token` for the
-- office's bearer token), what (`action`, and `detail`: the new status, the export's
-- format, the file's id, the number of files), when, and which application. Never a
-- note, a message, a file name or a field value. The rows outlive their application.
CREATE TABLE IF NOT EXISTS audit_log (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    portal         TEXT NOT NULL,
    office         TEXT NOT NULL,
    application_id TEXT NOT NULL,
    -- `staff` or `token`
    actor          TEXT NOT NULL,
    actor_id       TEXT,
    actor_name     TEXT,
    -- `status`, `message`, `export`, `download`, `delete`
    action         TEXT NOT NULL,
    detail         TEXT,
    at             TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_by_office ON audit_log (portal, office, seq);

-- Append-only, whatever the client: no statement may change or remove an entry.
CREATE TRIGGER IF NOT EXISTS audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER IF NOT EXISTS audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- The inbox's pages: an office's applications in order of arrival (ties by id), all of
-- them or of some statuses, without sorting (bench/office_list.py measures them).
CREATE INDEX IF NOT EXISTS applications_office_pages ON applications (portal, office, created_at, id);
CREATE INDEX IF NOT EXISTS applications_office_status ON applications (portal, office, status, created_at, id);
