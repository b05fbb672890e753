-- Notifications (issue 13 review): each outbox row carries the sealed address it goes
-- to, copied from the application when the office writes, so that closing an
-- application forgets its address at once while its last notification can still go
-- out; rows older than a week are dropped unsent. Applied after 0004 by `wrangler d1
-- migrations apply DB` and by `lotse serve` alike.
ALTER TABLE outbox ADD COLUMN contact TEXT;
