#!/usr/bin/env python3
"""Booking race benchmark (SPEC section 8, "Concurrent bookings of one slot: exactly
`capacity` succeed"): 1,000 concurrent booking attempts on 10 slots of capacity 1, on
`lotse serve` and on `wrangler dev`. Exactly 10 must be booked (201) and 990 refused
with 409 `slot_taken`, nothing else; the office's list must then hold exactly one booking
per slot, the one whose 201 the client saw.

    python3 bench/appointments.py                          # both runtimes, 1 round
    python3 bench/appointments.py --runtime serve --rounds 3
    flock /tmp/lotse-workerd.lock python3 bench/appointments.py --runtime wrangler --no-lock
    python3 bench/appointments.py --attempts 2000 --slots 20 --concurrency 64

The service: Bottrop's "Eheschließung anmelden" (45 minutes) at the Standesamt, which has
capacity 1 in content/portals/bottrop/portal.toml (checked before the run; a setup error
if that changes). Per runtime the server starts on a free port with a fresh store; per
round the script asks the slots route (`GET /api/appointments/bottrop/
eheschliessung-anmelden/slots?days=14`, from the first bookable day) for the free slots and takes the first
`--slots` of them that no earlier round took (they never overlap: a service's slots
follow each other). Then `--concurrency` threads, each with its own keep-alive
connection opened and used once before the start, wait at a barrier and fire
`--attempts` JSON bookings (`POST /api/appointments`, attempt i on slot i mod `--slots`,
each with its own name and address and its own `cf-connecting-ip`), never retried.
Each is timed from its first byte sent to the last byte of the answer; throughput is
attempts over the time from the barrier to the last answer.

An answer counts as booked when it is 201 with the JSON `id`, `token`, `start` (the
slot asked for) and `end`; as taken when it is 409 with `"error": "slot_taken"`. Anything
else (another status, another shape, a dropped connection) is a failure. Then, per
round, the proof:

- the answers: exactly one booked per slot;
- the office's day (`GET /api/office/bottrop/standesamt/appointments?date=…` with the
  office token) for every date of the round's slots: exactly one booked appointment at
  each slot, with the id of its 201, and no other booked appointment on those days that
  this round did not book;
- the same opened with the office key by `lotse inbox appointments --json`
  (examples/office-keys/bottrop/standesamt.key): every booked appointment decrypts to
  the name and address of the attempt that got its 201 (exit 0);
- the slots route no longer offers any of the round's slots.

Printed, and written to bench/work/appointments/<runtime>.json (every run also appended
to runs.jsonl there): the counts by outcome and status, attempts/s, p50/p90/p99/max
latency (all, booked, taken), the server's CPU time during the burst, and the checks.
Exit status 1 if any check fails on any runtime (not exactly 10 × 201 and 990 × 409, a
double booking, a booking missing from the office's list or not opening), 2 on a setup
problem.

`lotse serve` runs as `target/release/lotse serve --content content --no-search` with
LOTSE_RATE_LIMIT and LOTSE_OFFICE_TOKENS; `wrangler dev` from a snapshot folder with
OFFICE_TOKENS, RATE_LIMIT_PER_MINUTE and a HASH_SECRET, after scripts/worker-build.sh,
holding /tmp/lotse-workerd.lock (--no-lock when the caller holds it): both exactly as
bench/uploads.py starts them (its helpers are imported). The rate limit is set to 10^6
per minute; `lotse serve` keys it by the peer address (127.0.0.1 for every attempt here),
the worker by `cf-connecting-ip`. Needs Python 3.11+ (tomllib; stdlib only) and, for the
wrangler part, scripts/worker-tools.sh. Results and their reading: docs/benchmarks.md,
"Booking race".
"""

import argparse
import base64
import fcntl
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uploads as U  # noqa: E402  (the servers' helpers: free_port, snapshot, stop, …)

ROOT = U.ROOT
WORK = os.path.join(ROOT, "bench", "work", "appointments")
PORTAL, SERVICE, OFFICE = "bottrop", "eheschliessung-anmelden", "standesamt"
KEY = os.path.join(ROOT, "examples", "office-keys", PORTAL, f"{OFFICE}.key")
OFFICE_TOKEN = "appointment-benchmark-office-token-0123"
LOCK = U.LOCK
log = U.log
SetupError = U.SetupError


def office_capacity():
    """The office's capacity as the content says it (the benchmark needs 1)."""
    with open(os.path.join(ROOT, "content", "portals", PORTAL, "portal.toml"), "rb") as f:
        portal = tomllib.load(f)
    for office in portal.get("offices", []):
        if office.get("id") == OFFICE:
            return office.get("capacity", 1)
    raise SetupError(f"{PORTAL}/{OFFICE} is not in content/portals/{PORTAL}/portal.toml")


def get_json(client, path, headers=None):
    status, data, _ = client.get(path, headers or {})  # tried again on a closed idle connection
    if status != 200:
        raise SetupError(f"GET {path}: {status} {data[:300]!r}")
    return json.loads(data)


def free_slots(client, first_day=None):
    """The free slots of 14 days from `first_day` (from the first bookable day without it)."""
    query = f"from={first_day}&days=14" if first_day else "days=14"
    answer = get_json(client, f"/api/appointments/{PORTAL}/{SERVICE}/slots?{query}")
    return [(s["start"], s["end"]) for s in answer["slots"]], answer


def person(i):
    return f"Bench Bürgerin {i:05d}", f"bench-{i:05d}@example.org"


def attempt(client, i, slot, idle):
    """One booking; `idle` is how long this thread's connection had been idle before it."""
    name, email = person(i)
    body = json.dumps({"portal": PORTAL, "service": SERVICE, "start": slot[0],
                       "fields": {"name": name, "email": email}})
    headers = {"content-type": "application/json",
               "cf-connecting-ip": f"198.51.{100 + i // 250}.{i % 250 + 1}"}
    start = time.perf_counter()
    try:
        status, data, elapsed = client.call("POST", "/api/appointments", body, headers)
    except (http.client.HTTPException, OSError) as e:
        return {"i": i, "slot": slot[0], "outcome": "error", "status": None, "idle": idle,
                "detail": f"{type(e).__name__}: {e}", "seconds": time.perf_counter() - start}
    outcome, detail, answer = "other", data[:300].decode("utf-8", "replace"), None
    try:
        answer = json.loads(data)
    except ValueError:
        pass
    if status == 201 and isinstance(answer, dict) and answer.get("start") == slot[0] \
            and answer.get("end") == slot[1] and answer.get("id") and answer.get("token"):
        outcome, detail = "booked", None
    elif status == 409 and isinstance(answer, dict) and answer.get("error") == "slot_taken":
        outcome, detail = "taken", None
    return {"i": i, "slot": slot[0], "outcome": outcome, "status": status, "detail": detail,
            "id": answer.get("id") if outcome == "booked" else None, "seconds": elapsed, "idle": idle}


def burst(port, slots, attempts, concurrency, fresh):
    """Every attempt, fired by `concurrency` threads released at once; (results, seconds)."""
    client = U.Client(port, timeout=300, fresh=fresh)
    results = [None] * attempts
    next_index = iter(range(attempts))
    take = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)
    warm_errors, warmed = [], []
    began = time.perf_counter()

    def worker():
        try:
            client.call("GET", "/robots.txt")  # opens this thread's connection
        except (http.client.HTTPException, OSError) as e:
            warm_errors.append(repr(e))
        last = time.perf_counter()
        warmed.append(last - began)
        barrier.wait()
        while True:
            with take:
                i = next(next_index, None)
            if i is None:
                return
            now = time.perf_counter()
            results[i] = attempt(client, i, slots[i % len(slots)], now - last)
            last = time.perf_counter()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if warm_errors:
        log(f"{len(warm_errors)} warm-up request(s) failed: {warm_errors[:3]}")
    # How long the warm-up took: the first connection waited this long, idle, for the start.
    return results, seconds, {"warm_up_seconds": max(warmed, default=0) - min(warmed, default=0),
                              "warm_up_failed": len(warm_errors)}


def latency(results):
    return U.latency_summary([r["seconds"] for r in results])


def check_round(name, port, lotse, slots, results, booked_before):
    """The proof after a round; a list of problems (empty when all holds)."""
    problems = []
    by_slot = {s[0]: [r for r in results if r["outcome"] == "booked" and r["slot"] == s[0]] for s in slots}
    for start, won in by_slot.items():
        if len(won) != 1:
            problems.append(f"answers: {len(won)} bookings answered 201 for {start} (want 1)")
    winners = {r["id"]: r for r in results if r["outcome"] == "booked"}
    client = U.Client(port, timeout=120)
    auth = {"authorization": f"Bearer {OFFICE_TOKEN}"}
    dates = sorted({s[0][:10] for s in slots})
    listed = []
    for day in dates:
        answer = get_json(client, f"/api/office/{PORTAL}/{OFFICE}/appointments?date={day}", auth)
        listed += answer["appointments"]
    booked = [a for a in listed if a["status"] == "booked"]
    for start, won in by_slot.items():
        there = [a for a in booked if a["start"] == start]
        if len(there) != 1:
            problems.append(f"office list: {len(there)} booked appointments at {start} (want 1): "
                            f"{[a['id'] for a in there]}")
        elif won and there[0]["id"] != won[0]["id"]:
            problems.append(f"office list: {start} is held by {there[0]['id']}, "
                            f"but the 201 went to {won[0]['id']}")
    ours = {s[0] for s in slots}
    extra = [a for a in booked if a["start"] not in ours and a["id"] not in booked_before]
    if extra:
        problems.append(f"office list: {len(extra)} booked appointment(s) outside the round's slots: "
                        f"{[(a['id'], a['start']) for a in extra[:10]]}")
    unknown = [a["id"] for a in booked if a["start"] in ours and a["id"] not in winners]
    if unknown:
        problems.append(f"office list: booked appointments no 201 announced: {unknown[:10]}")
    # Opened with the office key by the caseworker's command.
    opened = 0
    for day in dates:
        out = subprocess.run(
            [lotse, "inbox", "appointments", "--server", f"http://127.0.0.1:{port}", "--portal", PORTAL,
             "--office", OFFICE, "--date", day, "--key", KEY, "--json"],
            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "LOTSE_OFFICE_TOKEN": OFFICE_TOKEN})
        if out.returncode != 0:
            problems.append(f"lotse inbox appointments --date {day}: exit {out.returncode}: "
                            f"{out.stderr.strip()[-500:]}")
            continue
        for a in json.loads(out.stdout)["appointments"]:
            won = winners.get(a["id"])
            if won is None or a["status"] != "booked":
                continue
            want = person(won["i"])
            if (a.get("name"), a.get("email")) != want:
                problems.append(f"decrypted {a['id']}: {a.get('name')!r} {a.get('email')!r}, "
                                f"but attempt {won['i']} booked it as {want}")
            else:
                opened += 1
    if opened != len(winners):
        problems.append(f"decrypted: {opened} of {len(winners)} bookings opened to the name booked")
    still_free, _ = free_slots(client, dates[0])
    offered = sorted(ours & {s[0] for s in still_free})
    if offered:
        problems.append(f"slots route: still offers booked slots {offered}")
    return problems, {"listed": len(listed), "booked_listed": len(booked), "decrypted": opened,
                      "dates": dates}


def benchmark(name, port, server_pid, lotse, args):
    client = U.Client(port, timeout=120)
    used, rounds, booked_ids = set(), [], set()
    for n in range(args.rounds):
        free, _ = free_slots(client)
        slots = [s for s in free if s[0] not in used][:args.slots]
        if len(slots) < args.slots:
            raise SetupError(f"only {len(slots)} free slots in the next 14 days")
        # A service's slots follow each other; make sure (two overlapping slots would
        # share the one seat, and a 201 on one would be a 409 on the other).
        ordered = sorted(slots)
        if any(a[1] > b[0] for a, b in zip(ordered, ordered[1:])):
            raise SetupError(f"overlapping slots: {ordered}")
        used |= {s[0] for s in slots}
        log(f"{name}, round {n + 1}: {args.attempts} attempts on {len(slots)} slots "
            f"({slots[0][0]} … {slots[-1][0]}) at concurrency {args.concurrency}")
        cpu_before = U.cpu_seconds(server_pid)
        results, seconds, warm = burst(port, slots, args.attempts, args.concurrency, args.fresh_connections)
        cpu_after = U.cpu_seconds(server_pid)
        cpu = {k: cpu_after[k] - cpu_before.get(k, 0) for k in cpu_after}
        outcomes = Counter(r["outcome"] for r in results)
        statuses = Counter(str(r["status"]) for r in results)
        problems = []
        if outcomes["booked"] != args.slots or outcomes["taken"] != args.attempts - args.slots \
                or len(outcomes) > 2:
            problems.append(f"answers: {dict(outcomes)} (want {args.slots} booked, "
                            f"{args.attempts - args.slots} taken, nothing else)")
        more, checked = check_round(name, port, lotse, slots, results, booked_ids)
        problems += more
        booked_ids |= {r["id"] for r in results if r["outcome"] == "booked"}
        failures = [r for r in results if r["outcome"] in ("other", "error")]
        for p in problems:
            log(f"{name}, round {n + 1}: FAILED: {p}")
        rounds.append({
            "round": n + 1, "slots": [s[0] for s in slots], "seconds": seconds,
            "attempts_per_s": args.attempts / seconds,
            "outcomes": dict(outcomes), "statuses": dict(statuses),
            # after_ms: the failed request's own time; idle_ms: how long its connection had
            # been idle before it was sent.
            "failures": [{k: r[k] for k in ("i", "slot", "status", "detail")} |
                         {"after_ms": round(r["seconds"] * 1000), "idle_ms": round(r["idle"] * 1000)}
                         for r in failures[:50]],
            "warm_up": warm,
            "latency": latency(results),
            "latency_booked": latency([r for r in results if r["outcome"] == "booked"]),
            "latency_taken": latency([r for r in results if r["outcome"] == "taken"]),
            "cpu_seconds": cpu, "checks": checked, "problems": problems,
        })
    return {
        "runtime": name, "portal": PORTAL, "service": SERVICE, "office": OFFICE, "capacity": 1,
        "attempts": args.attempts, "slots": args.slots, "concurrency": args.concurrency,
        "fresh_connections": args.fresh_connections, "rounds": rounds,
        "ok": all(not r["problems"] for r in rounds),
    }


def report(result):
    lines = [f"--- {result['runtime']}: {result['attempts']} attempts on {result['slots']} slots of capacity 1 "
             f"({result['portal']}/{result['service']} at {result['office']}), concurrency {result['concurrency']}, "
             f"{'a new connection per request' if result['fresh_connections'] else 'keep-alive connections'}"]
    for r in result["rounds"]:
        lat, b, t = r["latency"], r["latency_booked"], r["latency_taken"]
        status = ", ".join(f"{n} x {s}" for s, n in sorted(r["statuses"].items()))
        lines.append(f"round {r['round']}: {status}; {r['attempts_per_s']:.0f} attempts/s ({r['seconds']:.2f} s); "
                     f"p50 {lat['p50_ms']:.0f} ms, p90 {lat['p90_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms, "
                     f"max {lat['max_ms']:.0f} ms (warm-up of the connections {r['warm_up']['warm_up_seconds']:.1f} s)")
        if b and t:
            lines.append(f"  201: p50 {b['p50_ms']:.0f} ms, p99 {b['p99_ms']:.0f} ms; "
                         f"409: p50 {t['p50_ms']:.0f} ms, p99 {t['p99_ms']:.0f} ms")
        cpu = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(r["cpu_seconds"].items(), key=lambda kv: -kv[1])
                        if v >= 0.05)
        lines.append(f"  server CPU: {cpu or '-'}; office list: {r['checks']['booked_listed']} booked listed, "
                     f"{r['checks']['decrypted']} decrypted to the booked name")
        lines += [f"  FAILED: {p}" for p in r["problems"]]
        for f in r["failures"][:5]:
            lines.append(f"  e.g. attempt {f['i']} ({f['slot']}): {f['status']} {f['detail']} "
                         f"(after {f['after_ms']} ms; its connection idle {f['idle_ms']} ms before)")
    lines.append("all checks hold" if result["ok"] else "CHECKS FAILED")
    print("\n".join(lines), flush=True)


def save(result):
    os.makedirs(WORK, exist_ok=True)
    result["commit"] = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                      capture_output=True, text=True).stdout.strip()
    result["date"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    result["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    name = {"lotse serve": "serve", "wrangler dev": "wrangler"}[result["runtime"]]
    if result["fresh_connections"]:
        name += "-fresh"
    path = os.path.join(WORK, f"{name}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(WORK, "runs.jsonl"), "a") as f:
        f.write(json.dumps(result) + "\n")
    log(f"written {os.path.relpath(path, ROOT)} (and appended to runs.jsonl)")


def office_tokens():
    return json.dumps({f"{PORTAL}/{OFFICE}": OFFICE_TOKEN})


def run_serve(lotse, args):
    port = U.free_port()
    data = tempfile.mkdtemp(prefix="serve-", dir=args.scratch)
    os.makedirs(WORK, exist_ok=True)
    errors = open(os.path.join(WORK, "serve.log"), "w")
    env = {**os.environ, "LOTSE_RATE_LIMIT": "1000000", "LOTSE_OFFICE_TOKENS": office_tokens()}
    for unset in ("LOTSE_OFFICE_TOKEN", "LOTSE_OIDC_CLIENT_SECRET", "LOTSE_OFFICE_OIDC_CLIENT_SECRET"):
        env.pop(unset, None)
    log(f"lotse serve on 127.0.0.1:{port}, data {data}")
    process = subprocess.Popen(
        [lotse, "serve", "--content", "content", "--port", str(port), "--data", data, "--no-search"],
        cwd=ROOT, env=env, stdout=errors, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        U.wait_until_up(port, process, 120)
        return benchmark("lotse serve", port, process.pid, lotse, args)
    finally:
        U.stop(process)
        errors.close()
        subprocess.run(["rm", "-rf", data])


def run_wrangler(lotse, args):
    wrangler = os.path.join(ROOT, "functions", "worker", "node_modules", ".bin", "wrangler")
    if not os.access(wrangler, os.X_OK):
        raise SetupError(f"{wrangler} is missing: run scripts/worker-tools.sh")
    lock = None
    if not args.no_lock:
        lock = open(LOCK, "a")
        log(f"waiting for {LOCK}")
        fcntl.flock(lock, fcntl.LOCK_EX)
        log(f"holding {LOCK}")
    snap = None
    try:
        if not args.no_build:
            env = {k: v for k, v in os.environ.items() if k not in ("LOTSE_WORKER_PREBUILT", "LOTSE_WORKER_FORCE")}
            U.run([os.path.join(ROOT, "scripts", "worker-build.sh")], env=env)
        wasm = os.path.join(ROOT, "functions", "worker", "build", "index_bg.wasm")
        log(f"worker: {os.path.getsize(wasm)} bytes of wasm built "
            f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(wasm)))}")
        snap = tempfile.mkdtemp(prefix="wrangler-root-", dir=args.scratch)
        log(f"snapshot for wrangler dev: {snap}")
        U.snapshot(lotse, snap)
        port = U.free_port()
        state = tempfile.mkdtemp(prefix="wrangler-", dir=args.scratch)
        os.makedirs(WORK, exist_ok=True)
        errors = open(os.path.join(WORK, "wrangler.log"), "w")
        env = {**os.environ, "OFFICE_TOKENS": office_tokens(), "RATE_LIMIT_PER_MINUTE": "1000000",
               "HASH_SECRET": base64.b64encode(os.urandom(32)).decode()}
        log(f"wrangler dev on 127.0.0.1:{port}, state {state}")
        process = subprocess.Popen(
            [os.path.join(snap, "scripts", "worker-dev.sh"), "--no-build", "--port", str(port), "--state", state],
            cwd=snap, env=env, stdout=errors, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            U.wait_until_up(port, process, 180)
            return benchmark("wrangler dev", port, process.pid, lotse, args)
        finally:
            U.stop(process)
            errors.close()
            subprocess.run(f"cp {state}/logs/*.log {WORK}/ 2>/dev/null", shell=True)
            subprocess.run(["rm", "-rf", state])
    finally:
        if snap:
            subprocess.run(["rm", "-rf", snap])
        if lock:
            lock.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--runtime", choices=["serve", "wrangler", "both"], default="both")
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1, help="rounds per runtime, each on 10 slots of its own")
    parser.add_argument("--fresh-connections", action="store_true",
                        help="a new TCP connection for every request (default: one keep-alive connection per thread)")
    parser.add_argument("--lotse", help="the lotse binary (default target/release/lotse, built when missing)")
    parser.add_argument("--no-build", action="store_true", help="wrangler: skip scripts/worker-build.sh")
    parser.add_argument("--no-lock", action="store_true", help=f"do not take {LOCK} (the caller holds it)")
    parser.add_argument("--scratch", default=None, help="where the stores go (default: the system's temp)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.slots < 1 or args.attempts < args.slots or args.concurrency < 1:
        parser.error("need --slots >= 1, --attempts >= --slots and --concurrency >= 1")

    lotse = args.lotse or os.path.join(ROOT, "target", "release", "lotse")
    try:
        capacity = office_capacity()
        if capacity != 1:
            raise SetupError(f"{PORTAL}/{OFFICE} has capacity {capacity} in portal.toml; this benchmark needs 1")
        if not os.access(lotse, os.X_OK):
            if args.lotse:
                raise SetupError(f"{lotse} is not an executable")
            U.run(["cargo", "build", "--release", "-p", "lotse"])
        results = []
        if args.runtime in ("serve", "both"):
            results.append(run_serve(lotse, args))
            report(results[-1])
            save(results[-1])
        if args.runtime in ("wrangler", "both"):
            results.append(run_wrangler(lotse, args))
            report(results[-1])
            save(results[-1])
    except SetupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    bad = [r["runtime"] for r in results if not r["ok"]]
    if bad:
        print(f"FAILED: the booking race did not end as it must on {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
