#!/usr/bin/env python3
"""Load benchmark for the functions: N applications at concurrency C, then proof that
nothing was lost (every id's status is readable with its token, and every application
decrypts with the office key via `lotse inbox pull`).

Usage: bench/load.py --url http://127.0.0.1:8080 [--count 1000] [--concurrency 32]
       [--lotse target/release/lotse] [--office-token TOKEN]

The server must allow the rate (LOTSE_RATE_LIMIT / RATE_LIMIT_PER_MINUTE) and know the
office token (LOTSE_OFFICE_TOKEN / OFFICE_TOKENS). bench/load.sh starts both runtimes.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORTAL, SERVICE, OFFICE = "bottrop", "fundsache-melden", "buergerbuero"
KEY = os.path.join(ROOT, "examples/office-keys/bottrop/buergerbuero.key")

local = threading.local()


def connection(url):
    if not hasattr(local, "conn"):
        parts = urllib.parse.urlsplit(url)
        local.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    return local.conn


def call(url, method, path, body=None, headers=None):
    for attempt in range(2):
        conn = connection(url)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            del local.conn
            if attempt:
                raise


def submit(url, n):
    body = json.dumps({
        "portal": PORTAL, "service": SERVICE,
        "fields": {
            "meldung": "einen Fund melden", "kategorie": "Schlüssel", "datum": "2026-11-20",
            "ort": "Rathausplatz", "beschreibung": f"Lastprobe {n}",
        },
    })
    start = time.perf_counter()
    status, data = call(url, "POST", "/api/applications", body,
                        {"content-type": "application/json", "idempotency-key": f"load-{os.getpid()}-{n:06d}"})
    elapsed = time.perf_counter() - start
    if status != 201:
        raise SystemExit(f"submission {n}: {status} {data[:200]!r}")
    answer = json.loads(data)
    return n, answer["id"], answer["token"], elapsed


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--name", default="server")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--lotse", default=os.path.join(ROOT, "target/release/lotse"))
    parser.add_argument("--office-token", default=os.environ.get("LOTSE_OFFICE_TOKEN", ""))
    args = parser.parse_args()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        results = list(pool.map(lambda n: submit(args.url, n), range(args.count)))
    wall = time.perf_counter() - started
    latencies = [r[3] * 1000 for r in results]

    # Nothing lost: every status readable with its token ...
    def check_status(result):
        n, app_id, token, _ = result
        status, data = call(args.url, "GET", f"/api/applications/{app_id}", headers={"authorization": f"Bearer {token}"})
        if status != 200 or json.loads(data)["status"] != "received":
            raise SystemExit(f"status of {app_id}: {status} {data[:200]!r}")
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(check_status, results))

    # ... and every application in the office inbox, decrypting to what was sent.
    pulled = subprocess.run(
        [args.lotse, "inbox", "pull", "--server", args.url, "--portal", PORTAL, "--office", OFFICE, "--key", KEY],
        env={**os.environ, "LOTSE_OFFICE_TOKEN": args.office_token}, capture_output=True, check=True)
    decrypted = {a["id"]: a for a in json.loads(pulled.stdout)}
    for n, app_id, _, _ in results:
        application = decrypted.get(app_id)
        if application is None or application["fields"]["beschreibung"] != f"Lastprobe {n}":
            raise SystemExit(f"application {app_id} missing or wrong in the inbox")

    print(f"{args.name:<14} {args.count} applications, concurrency {args.concurrency}: "
          f"{args.count / wall:7.1f} req/s, p50 {statistics.median(latencies):6.1f} ms, "
          f"p99 {percentile(latencies, 99):6.1f} ms; lost 0, all {len(results)} decrypt and show their status")


if __name__ == "__main__":
    main()
