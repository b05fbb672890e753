#!/usr/bin/env python3
"""Office inbox benchmark (docs/workspace.md): the caseworkers' list of one office with
100,000 applications, in pages of 50 with a cursor, on `lotse serve` (SQLite) and on
`wrangler dev` (workerd, local D1), and the same SQL timed directly on the SQLite file
with and without the indexes of functions/migrations/0007_workspace.sql.

    python3 bench/office_list.py                        # sql, serve and wrangler
    python3 bench/office_list.py --runtime sql          # only the SQL on the file (no server)
    python3 bench/office_list.py --runtime serve
    flock /tmp/lotse-workerd.lock python3 bench/office_list.py --runtime wrangler --no-lock
    python3 bench/office_list.py --rows 20000 --repeat 20   # smaller, quicker

The store is filled with SQL, not over HTTP (each application would be HPKE-sealed):
`--rows` applications (default 100,000) in bottrop/buergerbuero plus `--others` (default
5,000) in four other offices, in order of arrival over the two years before
2026-12-01 (fixed seed: the same rows every run). Statuses follow age: of the last 30
days about a third each received and in progress, 10 % needs_info; older ones almost
all completed (94 %) or rejected; a few of the paid service awaiting_payment (not listed).
Six services with shares from 40 % down to 0.5 %, one of them paid (a payments row each).
Each row has an envelope-like JSON object of the real shape and about the real size
(routing fields in clear, random base64 `enc` and `ciphertext`, 0.8-1.2 KB; it is never
decrypted here), a random token hash, and its status history (received, then the
current status).

- `lotse serve` (target/release/lotse, `--content content --no-search`,
  LOTSE_OFFICE_TOKENS as bench/uploads.py passes it): started once on a fresh data
  folder to create and migrate `<data>/lotse.sqlite3`, stopped, filled in one
  transaction, started again.
- `wrangler dev`: from a snapshot folder as bench/uploads.py makes it (snapshot()),
  holding /tmp/lotse-workerd.lock (--no-lock when the caller holds it), after
  scripts/worker-build.sh (--no-build skips it); `wrangler d1 migrations apply DB --local
  --persist-to <state>` creates the local D1 database, its SQLite file under
  `<state>/v3/d1/` is filled the same way, then scripts/worker-dev.sh --no-build starts
  wrangler dev on that state with OFFICE_TOKENS.
- SQL: the statements the functions run (sql::office_page mirrored here and checked
  against functions/core/src/store.rs; OFFICE_STATUS_COUNTS, OFFICE_SERVICE_COUNTS,
  APPLICATION and PAYMENT read from it), each with its EXPLAIN QUERY PLAN and timed with
  apsw (SQLite 3.54.1, the version rusqlite bundles for lotse serve; Python's sqlite3
  when apsw is missing), on copies of the filled file: as migrated; without the two 0007
  indexes; without any office index (0001's applications_by_office dropped too); as
  migrated after ANALYZE; and as migrated plus the index this benchmark suggests for the
  service filter and counts (SUGGESTED_INDEX). The plans on D1 come from `wrangler d1
  execute --local "EXPLAIN QUERY PLAN …"` (workerd's SQLite), on its filled database.
- With the suggested index: after the first run each server is stopped, the index added
  to its store (D1: by `wrangler d1 execute`), and the service shapes, /counts and the
  first page measured again (--no-suggested skips this).

Every query shape is asked `--repeat` times (default 50) after 3 unmeasured ones, one
request at a time on one keep-alive connection, timed from the request's first byte to
the answer's last; p50 and p95 (nearest rank), min, max. Shapes: the first page (all,
newest first), page 21 (after following 20 cursors), each workspace tab (received,
in_progress, needs_info oldest first; completed,rejected newest first), page 21 of
"completed,rejected", a common, a rare and an unused service, tabs with a service, a
Vorgangsnummer, /counts, pages of 1 and 10 (the cost per listed row: the handler looks
up each row's payment), and a refused request (limit=0, 400) as the floor. Every HTTP
answer is checked against the SQL's on the same rows (ids in order, `next`, counts).

Results: bench/work/office_list/{sql,serve,wrangler}.json (every run also appended to
runs.jsonl there). Exit status 1 when an HTTP answer differs from the SQL's, 2 on a
setup problem. Needs Python 3.10+ (apsw optional: `pip install apsw==3.54.1.0`) and, for
the wrangler part, scripts/worker-tools.sh. Results and their reading: docs/benchmarks.md,
"Office inbox at 100,000 applications".
"""

import argparse
import base64
import fcntl
import glob
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing uploads.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uploads as U  # noqa: E402  (the servers' helpers: Client, snapshot, stop, …)

try:
    import apsw
except ImportError:  # the standard library's SQLite (its planner may differ)
    apsw = None
import sqlite3

ROOT = U.ROOT
WORK = os.path.join(ROOT, "bench", "work", "office_list")
STORE_RS = os.path.join(ROOT, "functions", "core", "src", "store.rs")
MIGRATIONS = os.path.join(ROOT, "functions", "migrations")
PORTAL, OFFICE = "bottrop", "buergerbuero"
OFFICE_TOKEN = "office-list-benchmark-token-0123"
LOCK = U.LOCK
END = 1796083200  # 2026-12-01T00:00:00Z: the newest application is from just before
SPAN = 2 * 365 * 86400
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SAMPLE_AT, LARGE_AT = 0.5, 0.6  # which completed applications the id shapes ask for (oldest = 0)
LARGE_KB = 56  # the large envelope: about a page of 50
UNKNOWN_ID = "ZZZZ-ZZZ0"  # never drawn: generate() skips it
SUITE = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM"

# The office's services and their shares; anwohnerparkausweis is paid (a payments row).
SERVICES = [("wohnsitz-anmelden", 0.40), ("fundsache-melden", 0.25), ("wohnsitz-abmelden", 0.20),
            ("briefwahl-beantragen", 0.10), ("anwohnerparkausweis", 0.045), ("hund-anmelden", 0.005)]
PAID = "anwohnerparkausweis"
COMMON, RARE, UNUSED = "wohnsitz-anmelden", "hund-anmelden", "kirchenaustritt"
OTHER_OFFICES = [("bottrop", "standesamt", "geburtsurkunde"), ("bottrop", "steueramt", "grundsteuer-bescheid-fragen"),
                 ("gladbeck", "buergerbuero", "wohnsitz-anmelden"), ("marl", "buergerbuero", "fundsache-melden")]


def log(message):
    U.log(message)


SetupError = U.SetupError


# --- the rows -------------------------------------------------------------------------

def rfc3339(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def status_for(rng, age_days):
    """The status of an application `age_days` old: open ones are recent."""
    r = rng.random()
    if r < 0.003:
        return "awaiting_payment"  # abandoned payments stay unpaid (and unlisted)
    if age_days < 30:
        table = [("received", 0.30), ("in_progress", 0.35), ("needs_info", 0.10), ("completed", 0.20), ("rejected", 0.05)]
    elif age_days < 90:
        table = [("in_progress", 0.10), ("needs_info", 0.03), ("completed", 0.80), ("rejected", 0.07)]
    else:
        table = [("needs_info", 0.002), ("in_progress", 0.003), ("completed", 0.94), ("rejected", 0.055)]
    r = rng.random()
    for status, share in table:
        if r < share:
            return status
        r -= share
    return table[-1][0]


def pick_service(rng):
    r = rng.random()
    for service, share in SERVICES:
        if r < share:
            return service
        r -= share
    return SERVICES[0][0]


def generate(rows, others, seed):
    """The applications in order of arrival: dicts of the table's columns, plus
    `history` and `payment`. The ids are unique."""
    rng = random.Random(seed)
    offices = [(PORTAL, OFFICE, None)] * rows + [OTHER_OFFICES[i % len(OTHER_OFFICES)] for i in range(others)]
    times = sorted(END - 1 - rng.randrange(SPAN) for _ in offices)
    rng.shuffle(offices)
    ids = set()
    for created, (portal, office, fixed_service) in zip(times, offices):
        while True:
            s = "".join(rng.choices(CROCKFORD, k=8))
            app_id = f"{s[:4]}-{s[4:]}"
            if app_id not in ids and app_id != UNKNOWN_ID:
                ids.add(app_id)
                break
        service = fixed_service or pick_service(rng)
        age = (END - created) / 86400
        status = status_for(rng, age)
        if service != PAID and status == "awaiting_payment":
            status = "completed"
        if status in ("completed", "rejected"):
            updated = min(END - 1, created + rng.randrange(3600, 30 * 86400))
        elif status in ("in_progress", "needs_info"):
            updated = min(END - 1, created + rng.randrange(600, 10 * 86400))
        else:
            updated = created
        created_at, updated_at = rfc3339(created), rfc3339(updated)
        envelope = json.dumps({
            "format": "lotse-envelope-v1", "suite": SUITE, "id": app_id, "portal": portal,
            "service": service, "office": office, "created_at": created_at,
            "enc": base64.b64encode(rng.randbytes(32)).decode(),
            "ciphertext": base64.b64encode(rng.randbytes(rng.randrange(450, 750))).decode(),
        }, separators=(",", ":"))
        history = [("received", created_at)] if status != "awaiting_payment" else [("awaiting_payment", created_at)]
        if status not in ("received", "awaiting_payment"):
            history.append((status, updated_at))
        payment = None
        if service == PAID:
            paid = status != "awaiting_payment"
            payment = {
                "application_id": app_id, "amount": 3050, "purpose": f"Anwohnerparkausweis {app_id}",
                "status": "paid" if paid else "cancelled", "attempt": 1,
                "transaction_id": rng.randbytes(8).hex(),
                "return_url": f"https://bottrop.example/api/payment/return?id={app_id}",
                "payment_url": "https://epay.example/pay/" + rng.randbytes(8).hex(),
                "reference": f"KZ{rng.randrange(10**9):09d}" if paid else None,
                "created_at": created * 1000,
                # Never due: the schedule must not ask a provider during the benchmark.
                "next_check_at": 4102444800000,
            }
        yield {
            "id": app_id, "portal": portal, "service": service, "office": office,
            "token_hash": rng.randbytes(32).hex(),
            "account_hash": rng.randbytes(32).hex() if rng.random() < 0.3 else None,
            "envelope": envelope, "status": status, "created_at": created_at, "updated_at": updated_at,
            "history": history, "payment": payment,
        }


class Db:
    """apsw or sqlite3 behind one small interface (apsw: SQLite 3.54.1 as lotse serve)."""

    def __init__(self, path, readonly=False):
        self.path = path
        if apsw:
            flags = apsw.SQLITE_OPEN_READONLY if readonly else apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
            self.conn = apsw.Connection(path, flags=flags)
        else:
            self.conn = sqlite3.connect(f"file:{path}{'?mode=ro' if readonly else ''}", uri=True,
                                        isolation_level=None)
        self.execute("PRAGMA busy_timeout = 5000")

    @staticmethod
    def version():
        return (f"apsw {apsw.apsw_version()}, SQLite {apsw.sqlite_lib_version()}" if apsw
                else f"Python sqlite3, SQLite {sqlite3.sqlite_version}")

    def execute(self, sql, params=()):
        return list(self.conn.execute(sql, params) if apsw else self.conn.execute(sql, params).fetchall())

    def executemany(self, sql, rows):
        self.conn.executemany(sql, rows)

    def close(self):
        self.conn.close()


def fill(path, rows, others, seed):
    """Inserts the generated applications, their history and payments into the migrated
    SQLite file at `path`, in one transaction. Returns facts about what went in."""
    db = Db(path)
    have = db.execute("SELECT count(*) FROM applications")[0][0]
    if have:
        raise SetupError(f"{path} already holds {have} applications")
    columns = [r[1] for r in db.execute("PRAGMA table_info(applications)")]
    started = time.perf_counter()
    db.execute("BEGIN")
    apps, history, payments = [], [], []
    statuses, services, envelope_bytes = {}, {}, 0
    for a in generate(rows, others, seed):
        apps.append((a["id"], a["portal"], a["service"], a["office"], a["token_hash"], a["account_hash"],
                     a["envelope"], a["status"], a["created_at"], a["updated_at"]))
        history.extend((a["id"], s, None, at) for s, at in a["history"])
        if a["payment"]:
            p = a["payment"]
            payments.append(tuple(p[k] for k in ("application_id", "amount", "purpose", "status", "attempt",
                                                 "transaction_id", "return_url", "payment_url", "reference",
                                                 "created_at", "next_check_at")))
        if (a["portal"], a["office"]) == (PORTAL, OFFICE):
            statuses[a["status"]] = statuses.get(a["status"], 0) + 1
            services[a["service"]] = services.get(a["service"], 0) + 1
            envelope_bytes += len(a["envelope"])
    db.executemany("INSERT INTO applications (id, portal, service, office, token_hash, account_hash, envelope, "
                   "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", apps)
    db.executemany("INSERT INTO status_history (application_id, status, note, at) VALUES (?, ?, ?, ?)", history)
    db.executemany("INSERT INTO payments (application_id, amount, purpose, status, attempt, transaction_id, "
                   "return_url, payment_url, reference, created_at, next_check_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", payments)
    # One application gets an envelope as large as a page of 50 (the id_large shape).
    large = db.execute("SELECT id, envelope FROM applications WHERE id = ?", [completed_at(db, LARGE_AT)])
    if large:
        envelope = json.loads(large[0][1])
        envelope["ciphertext"] = base64.b64encode(random.Random(seed + 1).randbytes(LARGE_KB * 768)).decode()
        db.execute("UPDATE applications SET envelope = ? WHERE id = ?",
                   [json.dumps(envelope, separators=(",", ":")), large[0][0]])
    db.execute("COMMIT")
    seconds = time.perf_counter() - started
    mode = db.execute("PRAGMA journal_mode")[0][0]
    if mode == "wal":
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    office_rows = sum(statuses.values())
    log(f"filled {path}: {len(apps)} applications ({office_rows} in {PORTAL}/{OFFICE}), "
        f"{len(history)} history rows, {len(payments)} payments in {seconds:.1f} s")
    return {"applications": len(apps), "office_applications": office_rows, "other_offices": len(apps) - office_rows,
            "history_rows": len(history), "payments": len(payments), "office_statuses": dict(sorted(statuses.items())),
            "office_services": dict(sorted(services.items(), key=lambda kv: -kv[1])),
            "envelope_bytes_mean": round(envelope_bytes / max(office_rows, 1)), "fill_seconds": round(seconds, 2),
            "file_mib": round(os.path.getsize(path) / 2**20, 1), "columns": columns}


def migrate_file(path):
    """A fresh SQLite file with functions/migrations applied in order (as SqliteStore
    does), for --runtime sql without a server."""
    db = Db(path)
    db.execute("PRAGMA journal_mode = WAL")
    for n, name in enumerate(sorted(glob.glob(os.path.join(MIGRATIONS, "*.sql"))), 1):
        with open(name) as f:
            text = f.read()
        if apsw:
            db.conn.execute(text)
        else:
            db.conn.executescript(text)
        db.execute(f"PRAGMA user_version = {n}")
    db.close()


# --- the statements -------------------------------------------------------------------

def rust_const(name):
    """A `pub const NAME: &str = "…";` of store.rs's `sql` module, with Rust's `\\`
    line continuations joined."""
    with open(STORE_RS) as f:
        text = f.read()
    match = re.search(rf'pub const {name}: &str =\s*"((?:[^"\\]|\\.)*)"', text, re.S)
    if not match:
        raise SetupError(f"{name} not found in {STORE_RS}")
    return re.sub(r"\\\n\s*", "", match.group(1))


def check_office_page_mirror():
    """office_page_sql below copies sql::office_page; fail if the Rust text moved on."""
    with open(STORE_RS) as f:
        text = f.read()
    for fragment in ['"SELECT * FROM applications WHERE portal = ?1 AND office = ?2"',
                     '" AND status != \'awaiting_payment\'"', '" AND status IN ({})"', '" AND service = {slot}"',
                     '("<", "DESC")', '(">", "ASC")', '" AND (created_at, id) {compare} ({at}, {id})"',
                     '" ORDER BY created_at {order}, id {order} LIMIT {}"', "asked.limit = query.limit + 1"]:
        if fragment not in text and fragment not in open(os.path.join(ROOT, "functions/core/src/api/workspace.rs")).read():
            raise SetupError(f"sql::office_page changed ({fragment} not found): update office_page_sql()")


def office_page_sql(statuses=(), service=None, newest=False, after=None, limit=51):
    """sql::office_page (functions/core/src/store.rs) in Python: the statement and its
    parameters. The handler asks for limit + 1 rows to know whether a next page exists."""
    params = [PORTAL, OFFICE]
    sql = "SELECT * FROM applications WHERE portal = ?1 AND office = ?2"
    if not statuses:
        sql += " AND status != 'awaiting_payment'"
    else:
        slots = []
        for status in statuses:
            params.append(status)
            slots.append(f"?{len(params)}")
        sql += f" AND status IN ({', '.join(slots)})"
    if service:
        params.append(service)
        sql += f" AND service = ?{len(params)}"
    compare, order = ("<", "DESC") if newest else (">", "ASC")
    if after:
        params.append(after[0])
        at = f"?{len(params)}"
        params.append(after[1])
        sql += f" AND (created_at, id) {compare} ({at}, ?{len(params)})"
    sql += f" ORDER BY created_at {order}, id {order} LIMIT {limit}"
    return sql, params


def shapes(sample_id):
    """The query shapes: name -> {"query": the HTTP query string's parameters, "page":
    the office_page arguments (or None), "depth": cursors followed before the measured
    page, "what": a line for the report}. The workspace's tabs (themes/default/static/amt/
    posteingang.js): Neu = received, In Bearbeitung = in_progress, Rückfrage =
    needs_info (oldest first), Erledigt = completed,rejected (newest first)."""
    def page(what, statuses=(), service=None, newest=False, depth=0, limit=50):
        query = {"limit": str(limit), "order": "newest" if newest else "oldest"}
        if statuses:
            query["status"] = ",".join(statuses)
        if service:
            query["service"] = service
        return {"what": what, "query": query, "depth": depth,
                "page": {"statuses": list(statuses), "service": service, "newest": newest, "limit": limit + 1}}
    return {
        "first_newest": page("all, newest first, page 1", newest=True),
        "deep_newest": page("all, newest first, page 21 (20 cursors followed)", newest=True, depth=20),
        "first_oldest": page("all, oldest first, page 1"),
        "tab_received": page("Neu: status=received, oldest first", ["received"]),
        "tab_in_progress": page("In Bearbeitung: status=in_progress, oldest first", ["in_progress"]),
        "tab_needs_info": page("Rückfrage: status=needs_info (rare), oldest first", ["needs_info"]),
        "tab_closed": page("Erledigt: status=completed,rejected, newest first", ["completed", "rejected"], newest=True),
        "tab_closed_deep": page("Erledigt, page 21", ["completed", "rejected"], newest=True, depth=20),
        "service_common": page(f"service={COMMON} (40 %), newest first", service=COMMON, newest=True),
        "service_rare": page(f"service={RARE} (0.5 %), newest first", service=RARE, newest=True),
        "service_unused": page(f"service={UNUSED} (none in this office), newest first", service=UNUSED, newest=True),
        "tab_closed_service_rare": page(f"Erledigt + service={RARE}", ["completed", "rejected"], RARE, newest=True),
        "tab_closed_service_common": page(f"Erledigt + service={COMMON}", ["completed", "rejected"], COMMON,
                                          newest=True),
        "tab_received_service": page(f"Neu + service={COMMON}", ["received"], COMMON),
        "id": {"what": "id=<Vorgangsnummer> (one of the office's)", "query": {"limit": "50", "id": sample_id["sample"]},
               "depth": 0, "page": None},
        "id_large": {"what": f"id=<Vorgangsnummer> of the one application with a {LARGE_KB} KB envelope: "
                             "the bytes of a page, the queries of one application",
                     "query": {"limit": "50", "id": sample_id["large"]}, "depth": 0, "page": None},
        "id_unknown": {"what": "id=<unknown Vorgangsnummer>: one query, no row, no payment lookup",
                       "query": {"limit": "50", "id": UNKNOWN_ID}, "depth": 0, "page": None},
        "counts": {"what": "/counts (statuses and services)", "query": None, "depth": 0, "page": None},
        "limit_1": page("all, newest first, limit=1 (floor with one row)", newest=True, limit=1),
        "limit_10": page("all, newest first, limit=10", newest=True, limit=10),
        "limit_25": page("all, newest first, limit=25", newest=True, limit=25),
        "refused": {"what": "limit=0: 400 before any query (the runtime's floor)", "query": {"limit": "0"},
                    "depth": 0, "page": None},
    }


def statements_of(shape, after):
    """[(sql, params)] the store runs for a shape (without the per-row payment lookups)."""
    if shape["page"] is not None:
        return [office_page_sql(**{**shape["page"], "after": after})]
    if shape["query"] is None:
        return [(rust_const(name), [PORTAL, OFFICE]) for name in ("OFFICE_STATUS_COUNTS", "OFFICE_SERVICE_COUNTS")]
    if "id" in shape["query"]:
        return [(rust_const("APPLICATION"), [shape["query"]["id"]])]
    return []


def cursor_of(row):
    return f"{row['created_at']}_{row['id']}"


class Sql:
    """The statements of each shape on one SQLite file."""

    def __init__(self, path):
        self.db = Db(path, readonly=True)
        self.counts_sql = [rust_const("OFFICE_STATUS_COUNTS"), rust_const("OFFICE_SERVICE_COUNTS")]
        self.payment_sql = rust_const("PAYMENT")

    def rows(self, sql, params):
        cursor = self.db.conn.execute(sql, params)
        if apsw:
            try:
                names = [d[0] for d in cursor.getdescription()]
            except apsw.ExecutionCompleteError:
                return []  # no rows
        else:
            names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor]

    def cursor_at(self, spec, depth):
        """The cursor after `depth` pages of 50 (as the handler makes it), or None."""
        after = None
        for _ in range(depth):
            sql, params = office_page_sql(**{**spec, "after": after})
            rows = self.rows(sql, params)
            if len(rows) <= spec["limit"] - 1:
                return None
            after = (rows[spec["limit"] - 2]["created_at"], rows[spec["limit"] - 2]["id"])
        return after

    def plan(self, sql, params):
        rows = self.db.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [r[3] for r in rows]

    def time(self, statements, repeat, listed=None):
        """Seconds per run of the statements (all rows fetched), `repeat` runs after 3;
        with `listed`, also the handler's payment lookup for each of the first `listed`
        rows (the page it lists; the last row only tells that there is a next page)."""
        out = []
        for n in range(repeat + 3):
            started = time.perf_counter()
            for sql, params in statements:
                rows = self.rows(sql, params)
                if listed:
                    for r in rows[:listed]:
                        self.rows(self.payment_sql, [r["id"]])
            if n >= 3:
                out.append(time.perf_counter() - started)
        return out


def plan_flags(plan):
    """What a plan does that does not scale: a full scan of the table (or of an index
    without a range) and a temporary B-tree for ORDER BY / GROUP BY."""
    flags = []
    for line in plan:
        if line.startswith("SCAN applications"):
            flags.append(f"{'scan of a whole index' if 'INDEX' in line else 'full table scan'}: {line}")
        if "TEMP B-TREE" in line:
            flags.append(f"temporary B-tree: {line}")
    return flags


def summary(seconds):
    ms = sorted(s * 1000 for s in seconds)
    if not ms:
        return {}
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 3), "p95_ms": round(U.percentile(ms, 95), 3),
            "min_ms": round(ms[0], 3), "max_ms": round(ms[-1], 3), "mean_ms": round(statistics.fmean(ms), 3)}


# --- SQL directly ---------------------------------------------------------------------

SUGGESTED_INDEX = ("CREATE INDEX applications_office_service "
                   "ON applications (portal, office, service, created_at, id, status)")
VARIANTS = {
    "indexed": ("as migrated (0001-0007)", []),
    "without_0007": ("without the 0007 indexes (0001's applications_by_office (portal, office, created_at) left)",
                     ["DROP INDEX applications_office_pages", "DROP INDEX applications_office_status"]),
    "no_office_index": ("without any office index (0007's and 0001's applications_by_office dropped)",
                        ["DROP INDEX applications_office_pages", "DROP INDEX applications_office_status",
                         "DROP INDEX applications_by_office"]),
    "indexed_analyzed": ("as migrated, after ANALYZE (planner statistics; lotse serve and D1 do not run it)",
                         ["ANALYZE"]),
    # Not in the migrations: what this benchmark suggests for the service filter and the
    # service counts (docs/benchmarks.md).
    "suggested": ("as migrated plus " + SUGGESTED_INDEX, [SUGGESTED_INDEX]),
}
# The shapes measured again over HTTP with the suggested index (the first page as a control).
SUGGESTED_SHAPES = ("first_newest", "service_common", "service_rare", "service_unused", "tab_closed_service_rare",
                    "tab_closed_service_common", "tab_received_service", "counts")
# Variants whose timing also includes the handler's payment lookup per listed row.
WITH_PAYMENTS = ("indexed", "suggested")


def run_sql(base, args, sample_id, facts):
    """Times each shape's statements on copies of the filled file `base`."""
    result = {"runtime": "sql", "sqlite": Db.version(), "rows": facts, "repeat": args.repeat, "variants": {}}
    shape_list = shapes(sample_id)
    for variant, (description, statements) in VARIANTS.items():
        if args.variants and variant not in args.variants:
            continue
        path = base if not statements else os.path.join(os.path.dirname(base), f"{variant}.sqlite3")
        if statements:
            shutil.copyfile(base, path)
            db = Db(path)
            for statement in statements:
                db.execute(statement)
            db.close()
        log(f"sql: {variant}: {description}")
        sql = Sql(path)
        shapes_out = {}
        for name, shape in shape_list.items():
            if shape["page"] is None and shape["query"] is not None and "id" not in shape["query"]:
                continue  # the refused request runs no SQL
            after = sql.cursor_at(shape["page"], shape["depth"]) if shape["depth"] else None
            stmts = statements_of(shape, after)
            plans = [sql.plan(s, p) for s, p in stmts]
            flags = [f for p in plans for f in plan_flags(p)]
            rows = [len(sql.rows(s, p)) for s, p in stmts]
            entry = {"what": shape["what"], "sql": [s for s, _ in stmts], "params": [p for _, p in stmts],
                     "plan": plans, "flags": flags, "rows": rows,
                     "timing": summary(sql.time(stmts, args.repeat))}
            if len(stmts) > 1:
                entry["timing_per_statement"] = [summary(sql.time([st], args.repeat)) for st in stmts]
            if shape["page"] is not None and variant in WITH_PAYMENTS:
                # What the handler runs in all: the page and a payment lookup per listed row.
                entry["timing_with_payment_lookups"] = summary(sql.time(stmts, args.repeat, shape["page"]["limit"] - 1))
            shapes_out[name] = entry
            t = entry["timing"]
            log(f"sql {variant:16} {name:25} p50 {t['p50_ms']:8.2f} ms  p95 {t['p95_ms']:8.2f} ms  "
                f"rows {rows}{'  ' + '; '.join(flags) if flags else ''}")
        sql.db.close()
        result["variants"][variant] = {"description": description, "file_mib": round(os.path.getsize(path) / 2**20, 1),
                                       "shapes": shapes_out}
        if path != base:
            os.remove(path)
    return result


def expected(base, sample_id):
    """What each HTTP answer must hold, from the SQL on the filled file: {shape: {"ids",
    "next", "after"}} and the counts."""
    sql = Sql(base)
    out = {}
    for name, shape in shapes(sample_id).items():
        if shape["page"] is None:
            continue
        after = sql.cursor_at(shape["page"], shape["depth"]) if shape["depth"] else None
        page_sql, params = office_page_sql(**{**shape["page"], "after": after})
        rows = sql.rows(page_sql, params)
        limit = shape["page"]["limit"] - 1
        out[name] = {"ids": [r["id"] for r in rows[:limit]],
                     "next": cursor_of(rows[limit - 1]) if len(rows) > limit else None,
                     "after": f"{after[0]}_{after[1]}" if after else None}
    counts = [dict(sql.db.execute(s, [PORTAL, OFFICE])) for s in sql.counts_sql]
    out["counts"] = {"statuses": counts[0], "services": counts[1]}
    sql.db.close()
    return out


# --- over HTTP ------------------------------------------------------------------------

def measure_http(name, port, pid, args, sample_id, want, only=None):
    client = U.Client(port, timeout=120)
    auth = {"authorization": f"Bearer {OFFICE_TOKEN}"}
    base = f"/api/office/{PORTAL}/{OFFICE}"
    out, problems = {}, []
    for shape_name, shape in shapes(sample_id).items():
        if only and shape_name not in only:
            continue
        query = dict(shape["query"] or {})
        walk = None
        if shape["depth"]:
            # Follow the cursors as the workspace does, page by page.
            started, cursor = time.perf_counter(), None
            for _ in range(shape["depth"]):
                q = {**query, **({"cursor": cursor} if cursor else {})}
                status, data, _ = client.call("GET", f"{base}/applications?{urllib.parse.urlencode(q)}", headers=auth)
                if status != 200:
                    raise SetupError(f"{name}: {shape_name}: {status} {data[:300]!r}")
                cursor = json.loads(data)["next"]
            walk = {"pages": shape["depth"], "seconds": round(time.perf_counter() - started, 3)}
            if cursor != want[shape_name]["after"]:
                problems.append(f"{shape_name}: cursor after {shape['depth']} pages is {cursor}, "
                                f"the SQL's {want[shape_name]['after']}")
            query["cursor"] = cursor
        path = f"{base}/counts" if shape["query"] is None else f"{base}/applications?{urllib.parse.urlencode(query)}"
        seconds, sizes, statuses = [], set(), set()
        answer = None
        cpu_before = U.cpu_seconds(pid)
        for n in range(args.repeat + 3):
            status, data, elapsed = client.call("GET", path, headers=auth)
            statuses.add(status)
            sizes.add(len(data))
            if n >= 3:
                seconds.append(elapsed)
            answer = data
        expected_status = 400 if shape_name == "refused" else 200
        if statuses != {expected_status}:
            problems.append(f"{shape_name}: statuses {sorted(statuses)}: {answer[:300]!r}")
        body = json.loads(answer)
        if shape_name in want and shape_name != "counts":
            ids = [a["id"] for a in body["applications"]]
            if ids != want[shape_name]["ids"] or body["next"] != want[shape_name]["next"]:
                problems.append(f"{shape_name}: {len(ids)} ids (next {body['next']}), the SQL's "
                                f"{len(want[shape_name]['ids'])} (next {want[shape_name]['next']})")
        elif shape_name == "counts":
            got_statuses = {k: v for k, v in body["statuses"].items() if v}
            if got_statuses != want["counts"]["statuses"] or body["services"] != want["counts"]["services"]:
                problems.append(f"counts: {body} differ from the SQL's {want['counts']}")
        elif shape_name == "id":
            if [a["id"] for a in body["applications"]] != [sample_id["sample"]]:
                problems.append(f"id: {answer[:300]!r}")
        elif shape_name == "id_large":
            if [a["id"] for a in body["applications"]] != [sample_id["large"]]:
                problems.append(f"id_large: {answer[:300]!r}")
        elif shape_name == "id_unknown":
            if body["applications"] != [] or body["next"] is not None:
                problems.append(f"id_unknown: {answer[:300]!r}")
        cpu_after = U.cpu_seconds(pid)
        # CPU (user + system) of the server's processes per request, by process name.
        cpu = {k: round((v - cpu_before.get(k, 0)) / (args.repeat + 3) * 1000, 2) for k, v in cpu_after.items()
               if k not in ("bash", "sh", "sleep", "curl", "seq", "python3") and v - cpu_before.get(k, 0) > 0}
        t = summary(seconds)
        out[shape_name] = {"what": shape["what"], "path": path, "timing": t, "cpu_ms_per_request": cpu,
                           "bytes": sorted(sizes),
                           "listed": len(body.get("applications", [])) if isinstance(body, dict) else None}
        if walk:
            out[shape_name]["walk"] = walk
        log(f"{name} {shape_name:25} p50 {t['p50_ms']:8.2f} ms  p95 {t['p95_ms']:8.2f} ms  "
            f"{max(sizes)} bytes, CPU {cpu} ms{'  (walk of ' + str(walk['pages']) + ' pages: ' + str(walk['seconds']) + ' s)' if walk else ''}")
    for p in problems:
        log(f"{name}: MISMATCH {p}")
    return out, problems


def sample_id_of(base):
    """Two Vorgangsnummern of the office from the middle of its history, far from every
    measured page: {"sample": an ordinary one, "large": the one fill() gave a large
    envelope}."""
    db = Db(base, readonly=True)
    out = {"sample": completed_at(db, SAMPLE_AT), "large": completed_at(db, LARGE_AT)}
    db.close()
    return out


def completed_at(db, fraction):
    """The id of the office's completed application at `fraction` of them by age."""
    n = db.execute("SELECT count(*) FROM applications WHERE portal = ? AND office = ? AND status = 'completed'",
                   [PORTAL, OFFICE])[0][0]
    return db.execute("SELECT id FROM applications WHERE portal = ? AND office = ? AND status = 'completed' "
                      "ORDER BY created_at, id LIMIT 1 OFFSET ?", [PORTAL, OFFICE, int(n * fraction)])[0][0]


def office_tokens():
    return json.dumps({f"{PORTAL}/{OFFICE}": OFFICE_TOKEN})


def start_serve(lotse, port, data, errors):
    env = {**os.environ, "LOTSE_RATE_LIMIT": "1000000", "LOTSE_OFFICE_TOKENS": office_tokens()}
    for unset in ("LOTSE_OFFICE_TOKEN", "LOTSE_OIDC_CLIENT_SECRET", "LOTSE_OFFICE_OIDC_CLIENT_SECRET"):
        env.pop(unset, None)
    process = subprocess.Popen(
        [lotse, "serve", "--content", "content", "--port", str(port), "--data", data, "--no-search"],
        cwd=ROOT, env=env, stdout=errors, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        U.wait_until_up(port, process, 120)
    except BaseException:
        U.stop(process)
        raise
    return process


def run_serve(lotse, args, base_copy):
    """Fills lotse serve's own store, measures over HTTP; leaves a copy of the filled file
    at base_copy for the SQL part."""
    data = tempfile.mkdtemp(prefix="serve-", dir=args.scratch)
    os.makedirs(WORK, exist_ok=True)
    errors = open(os.path.join(WORK, "serve.log"), "w")
    try:
        port = U.free_port()
        log(f"lotse serve on 127.0.0.1:{port}, data {data}: creating the store")
        U.stop(start_serve(lotse, port, data, errors))
        store = os.path.join(data, "lotse.sqlite3")
        facts = fill(store, args.rows, args.others, args.seed)
        shutil.copyfile(store, base_copy)
        sample_id = sample_id_of(store)
        want = expected(store, sample_id)
        log(f"lotse serve on 127.0.0.1:{port}: measuring")
        process = start_serve(lotse, port, data, errors)
        try:
            shapes_out, problems = measure_http("serve", port, process.pid, args, sample_id, want)
        finally:
            U.stop(process)
        result = {"runtime": "lotse serve", "rows": facts, "repeat": args.repeat, "sample_id": sample_id,
                  "shapes": shapes_out, "mismatches": problems}
        if not args.no_suggested:
            log(f"lotse serve: adding {SUGGESTED_INDEX}")
            db = Db(store)
            db.execute(SUGGESTED_INDEX)
            db.close()
            process = start_serve(lotse, port, data, errors)
            try:
                again, more = measure_http("serve+index", port, process.pid, args, sample_id, want, SUGGESTED_SHAPES)
            finally:
                U.stop(process)
            result["with_suggested_index"] = {"index": SUGGESTED_INDEX, "shapes": again}
            result["mismatches"] += [f"with the suggested index: {p}" for p in more]
        return result, facts, sample_id
    finally:
        errors.close()
        subprocess.run(["rm", "-rf", data])


def run_in(folder, command, **kwargs):
    """uploads.run() in another folder than the repository."""
    log(" ".join(command))
    result = subprocess.run(command, cwd=folder, **kwargs)
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip()[-3000:] if isinstance(result.stderr, bytes) else ""
        raise SetupError(f"{command[0]} failed with status {result.returncode}" + (f":\n{detail}" if detail else ""))
    return result


def runtime_versions(wrangler, root, env):
    """wrangler's version, and the SQLite inside workerd (D1 refuses sqlite_version()):
    its source id, found in the binary."""
    out = {"wrangler": subprocess.run([wrangler, "--version"], cwd=root, env=env, capture_output=True,
                                      text=True).stdout.strip().splitlines()[-1:]}
    binaries = glob.glob(os.path.join(ROOT, "functions", "worker", "node_modules", "@cloudflare", "workerd-*", "bin",
                                      "workerd"))
    if binaries:
        with open(binaries[0], "rb") as f:
            found = re.search(rb"(20\d\d-\d\d-\d\d \d\d:\d\d:\d\d [0-9a-f]{40,})", f.read())
        out["workerd_sqlite_source_id"] = found.group(1).decode() if found else None
        out["workerd"] = subprocess.run([binaries[0], "--version"], capture_output=True, text=True).stdout.strip()
    out["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return out


def d1_file(state):
    files = [f for f in glob.glob(os.path.join(state, "v3", "d1", "**", "*.sqlite"), recursive=True)]
    found = []
    for f in files:
        db = Db(f, readonly=True)
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'applications'"):
            found.append(f)
        db.close()
    if len(found) != 1:
        raise SetupError(f"expected one D1 SQLite file with `applications` under {state}/v3/d1, found {found or files}")
    return found[0]


def d1_plans(wrangler, root, state, sample_id, only=None):
    """EXPLAIN QUERY PLAN of each shape through `wrangler d1 execute --local` (workerd's
    own SQLite)."""
    out = {}
    env = {**os.environ, "CI": "true", "WRANGLER_SEND_METRICS": "false", "CLOUDFLARE_CF_FETCH_ENABLED": "false"}

    def execute(sql):
        done = subprocess.run([wrangler, "d1", "execute", "DB", "--local", "--persist-to", state, "--json",
                               "--command", sql], cwd=root, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            return None, (done.stderr or done.stdout).strip()[-500:]
        return json.loads(done.stdout)[0]["results"], None

    for name, shape in shapes(sample_id).items():
        if only and name not in only:
            continue
        # Any cursor gives the plan of a page after one.
        statements = statements_of(shape, ("2025-06-01T00:00:00Z", "0000-0000") if shape["depth"] else None)
        plans = []
        for statement, params in statements:
            # wrangler d1 execute --command takes no parameters: the values go in as literals.
            literal = statement
            for n in range(len(params), 0, -1):
                literal = literal.replace(f"?{n}", "'" + params[n - 1].replace("'", "''") + "'")
            rows, error = execute("EXPLAIN QUERY PLAN " + literal)
            plans.append([r.get("detail") for r in rows] if rows is not None else [f"error: {error}"])
        if plans:
            out[name] = {"plan": plans, "flags": [f for p in plans for f in plan_flags(p)]}
    return out


def run_wrangler(lotse, args, sample_id_hint):
    wrangler = os.path.join(ROOT, "functions", "worker", "node_modules", ".bin", "wrangler")
    if not os.access(wrangler, os.X_OK):
        raise SetupError(f"{wrangler} is missing: run scripts/worker-tools.sh")
    lock = None
    if not args.no_lock:
        lock = open(LOCK, "a")
        log(f"waiting for {LOCK}")
        fcntl.flock(lock, fcntl.LOCK_EX)
        log(f"holding {LOCK}")
    snap = state = None
    try:
        if not args.no_build:
            env = {k: v for k, v in os.environ.items() if k not in ("LOTSE_WORKER_PREBUILT", "LOTSE_WORKER_FORCE")}
            U.run([os.path.join(ROOT, "scripts", "worker-build.sh")], env=env)
        wasm = os.path.join(ROOT, "functions", "worker", "build", "index_bg.wasm")
        built = time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(wasm)))
        log(f"worker: {os.path.getsize(wasm)} bytes of wasm built {built}")
        snap = tempfile.mkdtemp(prefix="wrangler-root-", dir=args.scratch)
        log(f"snapshot for wrangler dev: {snap}")
        U.snapshot(lotse, snap)
        state = tempfile.mkdtemp(prefix="wrangler-", dir=args.scratch)
        quiet = {**os.environ, "CI": "true", "WRANGLER_SEND_METRICS": "false", "CLOUDFLARE_CF_FETCH_ENABLED": "false",
                 "WRANGLER_LOG_PATH": os.path.join(state, "logs")}
        versions = runtime_versions(wrangler, snap, quiet)
        log(f"versions: {versions}")
        run_in(snap, [wrangler, "d1", "migrations", "apply", "DB", "--local", "--persist-to", state],
               env=quiet, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        store = d1_file(state)
        log(f"D1 file: {store}")
        facts = fill(store, args.rows, args.others, args.seed)
        sample_id = sample_id_of(store)
        want = expected(store, sample_id)
        plans = d1_plans(wrangler, snap, state, sample_id) if not args.no_d1_plans else {}
        if plans:
            for name, p in plans.items():
                if p["flags"]:
                    log(f"D1 plan {name}: {'; '.join(p['flags'])}")
        port = U.free_port()
        os.makedirs(WORK, exist_ok=True)
        errors = open(os.path.join(WORK, "wrangler.log"), "w")
        env = {**os.environ, "OFFICE_TOKENS": office_tokens(), "RATE_LIMIT_PER_MINUTE": "1000000",
               "HASH_SECRET": base64.b64encode(os.urandom(32)).decode()}
        log(f"wrangler dev on 127.0.0.1:{port}, state {state}")

        def start():
            process = subprocess.Popen(
                [os.path.join(snap, "scripts", "worker-dev.sh"), "--no-build", "--port", str(port), "--state", state],
                cwd=snap, env=env, stdout=errors, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                U.wait_until_up(port, process, 180)
            except BaseException:
                U.stop(process)
                raise
            return process

        try:
            process = start()
            try:
                shapes_out, problems = measure_http("wrangler", port, process.pid, args, sample_id, want)
            finally:
                U.stop(process)
            result = {"runtime": "wrangler dev", "rows": facts, "repeat": args.repeat, "sample_id": sample_id,
                      "worker_wasm_bytes": os.path.getsize(wasm), "worker_built": built, "versions": versions,
                      "d1_plans": plans, "shapes": shapes_out, "mismatches": problems}
            if not args.no_suggested:
                log(f"D1: adding {SUGGESTED_INDEX} (wrangler d1 execute)")
                run_in(snap, [wrangler, "d1", "execute", "DB", "--local", "--persist-to", state, "--command",
                              SUGGESTED_INDEX], env=quiet, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                plans_after = d1_plans(wrangler, snap, state, sample_id, SUGGESTED_SHAPES) if not args.no_d1_plans else {}
                process = start()
                try:
                    again, more = measure_http("wrangler+index", port, process.pid, args, sample_id, want, SUGGESTED_SHAPES)
                finally:
                    U.stop(process)
                result["with_suggested_index"] = {"index": SUGGESTED_INDEX, "d1_plans": plans_after, "shapes": again}
                result["mismatches"] += [f"with the suggested index: {p}" for p in more]
            return result
        finally:
            errors.close()
    finally:
        for folder in (snap, state):
            if folder:
                subprocess.run(["rm", "-rf", folder])
        if lock:
            lock.close()


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
    return {"cpu": cpu, "cpus": os.cpu_count(), "mem_gib": round(int(mem) / 2**20, 1), "kernel": os.uname().release}


def save(name, result):
    os.makedirs(WORK, exist_ok=True)
    result["commit"] = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                      capture_output=True, text=True).stdout.strip()
    result["date"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    result["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    result["python"] = sys.version.split()[0]
    result["machine"] = machine()
    path = os.path.join(WORK, f"{name}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
    with open(os.path.join(WORK, "runs.jsonl"), "a") as f:
        f.write(json.dumps(result, ensure_ascii=False) + "\n")
    log(f"written {os.path.relpath(path, ROOT)} (and appended to runs.jsonl)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--runtime", choices=["sql", "serve", "wrangler", "all"], default="all")
    parser.add_argument("--rows", type=int, default=100_000, help="applications in bottrop/buergerbuero")
    parser.add_argument("--others", type=int, default=5_000, help="applications in four other offices")
    parser.add_argument("--repeat", type=int, default=50, help="measured requests per query shape")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--variants", nargs="*", choices=list(VARIANTS), help="SQL: only these variants")
    parser.add_argument("--lotse", help="the lotse binary (default target/release/lotse, built when missing)")
    parser.add_argument("--no-build", action="store_true", help="wrangler: skip scripts/worker-build.sh")
    parser.add_argument("--no-lock", action="store_true", help=f"do not take {LOCK} (the caller holds it)")
    parser.add_argument("--no-d1-plans", action="store_true", help="skip EXPLAIN QUERY PLAN through wrangler d1 execute")
    parser.add_argument("--no-suggested", action="store_true",
                        help="do not measure again over HTTP with the suggested index")
    parser.add_argument("--scratch", default=None, help="where the stores go (default: the system's temp)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not apsw:
        log(f"apsw is missing: the SQL part runs on Python's SQLite {sqlite3.sqlite_version}, not lotse serve's")

    lotse = args.lotse or os.path.join(ROOT, "target", "release", "lotse")
    scratch = tempfile.mkdtemp(prefix="office-list-", dir=args.scratch)
    problems = []
    try:
        check_office_page_mirror()
        base = os.path.join(scratch, "base.sqlite3")
        facts = sample_id = None
        if args.runtime in ("serve", "all"):
            if not os.access(lotse, os.X_OK):
                if args.lotse:
                    raise SetupError(f"{lotse} is not an executable")
                U.run(["cargo", "build", "--release", "-p", "lotse"])
            result, facts, sample_id = run_serve(lotse, args, base)
            problems += [f"serve: {p}" for p in result["mismatches"]]
            save("serve", result)
        if args.runtime in ("sql", "all"):
            if facts is None:
                migrate_file(base)
                facts = fill(base, args.rows, args.others, args.seed)
                sample_id = sample_id_of(base)
            save("sql", run_sql(base, args, sample_id, facts))
        if args.runtime in ("wrangler", "all"):
            if not os.access(lotse, os.X_OK):
                U.run(["cargo", "build", "--release", "-p", "lotse"])
            result = run_wrangler(lotse, args, sample_id)
            problems += [f"wrangler: {p}" for p in result["mismatches"]]
            save("wrangler", result)
    except SetupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        subprocess.run(["rm", "-rf", scratch])
    if problems:
        print("FAILED: answers differ from the SQL's:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
