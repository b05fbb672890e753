-- The workspace's inbox filtered by service, and its counts by service, without reading
-- every application of the office (bench/office_list.py at 100,000: a service with few
-- or no applications read all rows, 87 ms; /counts grouped them in a temporary B-tree,
-- 140 ms). With this index both are index searches (under a millisecond; counts 34 ms,
-- a covering scan). Applied after 0008 by `wrangler d1 migrations apply DB` and by
-- `lotse serve` alike.
CREATE INDEX IF NOT EXISTS applications_office_service ON applications (portal, office, service, created_at, id, status);
