#!/usr/bin/env python3
"""Upload benchmark of the conversation (SPEC section 6): N citizen uploads of S MiB at
concurrency C to `lotse serve` and to `wrangler dev`, then proof that none was lost:
every file is read back twice and compared with what was sent by SHA-256, once as the
citizen downloads it (`GET /api/applications/<id>/attachments/<attachment>`) and once as
the office gets it, decrypted with the office key by `lotse inbox pull --out`.

    python3 bench/uploads.py                       # both runtimes, 100 x 5 MiB, concurrency 8
    python3 bench/uploads.py --runtime serve       # only `lotse serve`
    flock /tmp/lotse-workerd.lock python3 bench/uploads.py --runtime wrangler --no-lock
    python3 bench/uploads.py --per-application 10  # 10 applications, 10 uploads each
    python3 bench/uploads.py --fresh-connections   # a new TCP connection per request

Per runtime it starts the server on a free port with a fresh store, creates the
applications (`POST /api/applications`, Bottrop's "Fundsache melden"), then sends one
multipart message per upload (a `text` part and one `file` part: "%PDF-" and random
bytes; upload i goes to application i // per-application, so with several per
application concurrent uploads append to one conversation), timing each request from its
first byte sent to the last byte of the answer. Uploads are never retried. Then it
verifies: the citizen's thread lists the file (name, size), its download matches, the
office's pulled and decrypted copy matches, and no failed upload left a message behind.

Printed, and written to bench/work/uploads/<runtime>[-fresh][-<n>per-app].json (every
run is also appended to runs.jsonl there): uploads accepted, failed (status and reason),
lost; MiB/s and uploads/s over the upload phase; p50/p90/p99/max latency; the same for
the citizen downloads; the office pull's time; the servers' resident memory before the
uploads and at its peak (VmHWM, and sampled every 0.2 s: `lotse`; workerd and wrangler's
Node processes), and any process that appeared during the run (a restarted workerd).
Exit status 1 if an upload failed, a file is lost or differs, or a failed upload was
stored; 2 on a setup problem.

`lotse` is target/release/lotse, built with `cargo build --release -p lotse` when
missing (or --lotse PATH). `lotse serve --content content --no-search` gets
LOTSE_OFFICE_TOKENS and LOTSE_RATE_LIMIT. `wrangler dev` is started the way the HTTP
suite starts it, by scripts/worker-dev.sh --no-build with OFFICE_TOKENS,
RATE_LIMIT_PER_MINUTE (and a HASH_SECRET), after scripts/worker-build.sh (a no-op when the
worker is up to date; --no-build skips it) — but from a snapshot folder (see
snapshot()), unless --in-tree: wrangler restarts the worker whenever a file under
wrangler.toml's [build] watch_dir changes, which in a working tree that others edit
fails uploads in flight. The worker build and workerd are shared with the HTTP suite, so
the wrangler part runs holding an exclusive flock(2) on /tmp/lotse-workerd.lock, the lock
`flock /tmp/lotse-workerd.lock ...` takes (--no-lock when the caller already holds it).
Needs Python 3.10+ (stdlib only) and scripts/worker-tools.sh for the wrangler part.
Results and their reading: docs/benchmarks.md, "Uploads".
"""

import argparse
import base64
import fcntl
import hashlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work", "uploads")
PORTAL, SERVICE, OFFICE = "bottrop", "fundsache-melden", "buergerbuero"
KEY = os.path.join(ROOT, "examples", "office-keys", "bottrop", "buergerbuero.key")
OFFICE_TOKEN = "upload-benchmark-office-token-0123"
LOCK = "/tmp/lotse-workerd.lock"
MIB = 1024 * 1024
BOUNDARY = "----lotse-upload-bench-Qm7xT2"


def log(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


class SetupError(Exception):
    pass


# --- HTTP -----------------------------------------------------------------------------

class Client:
    """One keep-alive connection per thread (or a new one per request, `fresh`)."""

    def __init__(self, port, timeout=600, fresh=False):
        self.port, self.timeout, self.fresh = port, timeout, fresh
        self.local = threading.local()

    def get(self, path, headers):
        """A GET, tried again (up to twice) when the connection fails: verification reads
        must not count a dropped connection as a lost file."""
        for attempt in range(3):
            try:
                return self.call("GET", path, headers=headers)
            except (http.client.HTTPException, OSError):
                if attempt == 2:
                    raise

    def call(self, method, path, body=None, headers=None):
        """(status, body bytes, seconds from the request's first byte to the answer's last)."""
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            self.local.conn = None
            raise
        elapsed = time.perf_counter() - start
        if self.fresh or response.getheader("connection", "").lower() == "close":
            conn.close()
            self.local.conn = None
        return response.status, data, elapsed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port, process, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SetupError(f"the server exited with status {process.returncode} before it answered")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/robots.txt")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.25)
    raise SetupError(f"nothing answered on port {port} within {seconds} s")


# --- processes ------------------------------------------------------------------------

def proc_status(pid):
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        pass
    return fields


def kib(value):
    return int(value.split()[0]) if value else 0


def descendants(pid):
    """pid and every process below it, as {pid: command name}."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append((int(entry), name))
    found, todo = {pid: proc_status(pid).get("Name", "?")}, [pid]
    while todo:
        for child, name in children.get(todo.pop(), []):
            found[child] = name
            todo.append(child)
    return found


def cpu_seconds(pid):
    """{name: user + system CPU seconds} of pid and the processes below it."""
    out, tick = {}, os.sysconf("SC_CLK_TCK")
    for child, name in descendants(pid).items():
        try:
            with open(f"/proc/{child}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def memory(pid, names):
    """{name: (VmRSS MiB, VmHWM MiB)} of the processes under pid whose name is in names
    (all but shells and sleep when names is None; the largest of each name)."""
    out = {}
    for child, name in descendants(pid).items():
        if (name in names) if names else name not in ("bash", "sh", "sleep", "curl", "seq"):
            status = proc_status(child)
            rss, hwm = kib(status.get("VmRSS")) / 1024, kib(status.get("VmHWM")) / 1024
            old = out.get(name, (0, 0))
            out[name] = (max(old[0], rss), max(old[1], hwm))
    return out


class Sampler(threading.Thread):
    """Samples the server's processes every 0.2 s: the largest VmRSS of each process
    name, and the processes that appear after the start (a new workerd is a restart)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.pids = pid, {}, {}
        self.initial = set(descendants(pid))
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.2):
            for child, name in descendants(self.pid).items():
                if child not in self.initial and name not in ("bash", "sh", "sleep", "curl", "seq"):
                    self.pids.setdefault(name, set()).add(child)
                if name in ("bash", "sh", "sleep", "curl", "seq"):
                    continue
                status = proc_status(child)
                rss = max(kib(status.get("VmRSS")), kib(status.get("VmHWM"))) / 1024
                self.peak[name] = max(self.peak.get(name, 0), rss)

    def stop(self):
        self.done.set()
        self.join()


def stop(process):
    """SIGTERM to the process we started (worker-dev.sh stops wrangler and workerd on it),
    then SIGKILL to its process group (its own session) if anything is left."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def run(command, **kwargs):
    log(" ".join(command))
    result = subprocess.run(command, cwd=ROOT, **kwargs)
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip()[-3000:] if isinstance(result.stderr, bytes) else ""
        raise SetupError(f"{command[0]} failed with status {result.returncode}" + (f":\n{detail}" if detail else ""))
    return result


# --- the benchmark --------------------------------------------------------------------

def percentile(values, p):
    """Nearest rank on the sorted values (as bench/load.py)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def latency_summary(seconds):
    if not seconds:
        return {}
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": statistics.median(ms), "p90_ms": percentile(ms, 90),
            "p99_ms": percentile(ms, 99), "max_ms": max(ms), "min_ms": min(ms)}


def make_file(n, size):
    """%PDF- and random bytes, `size` bytes in all, never containing the boundary."""
    while True:
        data = b"%PDF-" + os.urandom(size - 5)
        if BOUNDARY.encode() not in data:
            return data


def multipart(text, name, data):
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{text}\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def create_application(client, n):
    body = json.dumps({"portal": PORTAL, "service": SERVICE, "fields": {
        "meldung": "einen Fund melden", "kategorie": "Fahrrad", "datum": "2026-11-20",
        "ort": "Hauptbahnhof Bottrop", "beschreibung": f"Upload-Benchmark, Antrag {n}",
    }})
    status, data, _ = client.call("POST", "/api/applications", body, {
        "content-type": "application/json", "idempotency-key": f"upload-bench-{os.getpid()}-{n:05d}"})
    if status != 201:
        raise SetupError(f"application {n}: {status} {data[:300]!r}")
    answer = json.loads(data)
    return answer["id"], answer["token"]


def benchmark(name, port, server_pid, mem_names, lotse, args):
    client = Client(port, fresh=args.fresh_connections)
    count, size = args.uploads, int(args.size_mib * MIB)
    apps_needed = -(-count // args.per_application)

    log(f"{name}: {apps_needed} applications")
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        apps = list(pool.map(lambda n: create_application(client, n), range(apps_needed)))
    apps_seconds = time.perf_counter() - started

    log(f"{name}: preparing {count} files of {args.size_mib:g} MiB")
    # Upload i goes to application i // per_application: with several uploads per
    # application, concurrent requests append to the same conversation.
    uploads = []
    for i in range(count):
        app_id, token = apps[i // args.per_application]
        data = make_file(i, size)
        file_name = f"beleg-{i:03d}.pdf"
        uploads.append({
            "n": i, "application": app_id, "token": token, "name": file_name, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "body": multipart(f"Beleg {i} zum Antrag", file_name, data),
        })
    rss_before = memory(server_pid, mem_names)
    sampler = Sampler(server_pid)
    sampler.start()

    def upload(u):
        headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}",
                   "authorization": f"Bearer {u['token']}"}
        start = time.perf_counter()
        try:
            status, data, elapsed = client.call("POST", f"/api/applications/{u['application']}/messages",
                                                u["body"], headers)
        except (http.client.HTTPException, OSError) as e:
            return {"ok": False, "error": f"{type(e).__name__}: {e}", "seconds": time.perf_counter() - start}
        if status != 201:
            return {"ok": False, "error": f"{status} {data[:300].decode('utf-8', 'replace')}", "seconds": elapsed}
        return {"ok": True, "message": json.loads(data)["id"], "seconds": elapsed}

    log(f"{name}: uploading {count} x {args.size_mib:g} MiB at concurrency {args.concurrency}")
    cpu_before = cpu_seconds(server_pid)
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        outcomes = list(pool.map(upload, uploads))
    upload_seconds = time.perf_counter() - started
    cpu_after = cpu_seconds(server_pid)
    upload_cpu = {k: v - cpu_before.get(k, 0) for k, v in cpu_after.items()
                  if k not in ("bash", "sh", "sleep", "curl", "seq")}
    for u, outcome in zip(uploads, outcomes):
        del u["body"]
        u.update(outcome)
    accepted = [u for u in uploads if u["ok"]]
    failed = [u for u in uploads if not u["ok"]]
    for u in failed:
        log(f"{name}: upload {u['n']} to {u['application']} FAILED after {u['seconds'] * 1000:.0f} ms: {u['error']}")

    # The citizen's way back: the thread names the attachment, the download gives the file.
    log(f"{name}: citizen downloads")
    problems = {}

    def citizen_check(u):
        try:
            return read_back(u)
        except (http.client.HTTPException, OSError) as e:
            return f"{type(e).__name__}: {e}", None

    def read_back(u):
        status, data, _ = client.get(f"/api/applications/{u['application']}/messages",
                                     headers={"authorization": f"Bearer {u['token']}"})
        if status != 200:
            return f"thread: {status} {data[:200]!r}", None
        message = next((m for m in json.loads(data)["messages"] if m["id"] == u["message"]), None)
        if message is None:
            return "the message is not in the thread", None
        if len(message.get("attachments", [])) != 1:
            return f"the message lists {len(message.get('attachments', []))} attachments", None
        attachment = message["attachments"][0]
        if attachment.get("name") != u["name"] or attachment.get("size") != u["size"]:
            return f"listed as {attachment.get('name')!r}, {attachment.get('size')} bytes", None
        status, data, elapsed = client.get(
            f"/api/applications/{u['application']}/attachments/{attachment['id']}",
            headers={"authorization": f"Bearer {u['token']}"})
        if status != 200:
            return f"download: {status} {data[:200]!r}", elapsed
        if hashlib.sha256(data).hexdigest() != u["sha256"]:
            return f"download differs ({len(data)} bytes, SHA-256 {hashlib.sha256(data).hexdigest()[:16]}…)", elapsed
        return None, elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        citizen = list(pool.map(citizen_check, accepted))
    download_seconds = time.perf_counter() - started
    download_latencies = [s for _, s in citizen if s is not None]
    for u, (problem, _) in zip(accepted, citizen):
        if problem:
            problems.setdefault(u["n"], []).append(f"citizen: {problem}")

    # The office's way: every file decrypted with the office key, checked by lotse
    # against the size and SHA-256 inside the sealed message, and here against what was sent.
    log(f"{name}: lotse inbox pull --out")
    out = tempfile.mkdtemp(prefix="pull-", dir=args.scratch)
    started = time.perf_counter()
    pulled = subprocess.run(
        [lotse, "inbox", "pull", "--server", f"http://127.0.0.1:{port}", "--portal", PORTAL,
         "--office", OFFICE, "--key", KEY, "--out", out],
        env={**os.environ, "LOTSE_OFFICE_TOKEN": OFFICE_TOKEN}, capture_output=True, text=True)
    pull_seconds = time.perf_counter() - started
    if pulled.returncode != 0:
        log(f"{name}: inbox pull exited {pulled.returncode}: {pulled.stderr.strip()[:2000]}")
    threads = {}
    for u in accepted:
        app = u["application"]
        if app not in threads:
            try:
                with open(os.path.join(out, app, "messages.json")) as f:
                    threads[app] = {m["id"]: m for m in json.load(f)}
            except (OSError, ValueError) as e:
                threads[app] = {}
                log(f"{name}: {app}/messages.json: {e}")
        message = threads[app].get(u["message"])
        if message is None:
            problems.setdefault(u["n"], []).append("office: the message is not in the pulled thread")
            continue
        files = message.get("attachments", [])
        if len(files) != 1 or "file" not in files[0]:
            problems.setdefault(u["n"], []).append(f"office: attachment not written: {files}")
            continue
        try:
            with open(os.path.join(out, app, files[0]["file"]), "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        except OSError as e:
            problems.setdefault(u["n"], []).append(f"office: {e}")
            continue
        if digest != u["sha256"]:
            problems.setdefault(u["n"], []).append("office: the decrypted file differs")
    # A failed upload must have stored nothing (a retry would store it twice): every
    # citizen message the office sees is one the client was told about.
    acknowledged = {u["message"] for u in accepted}
    unacknowledged = []
    for app in sorted(os.listdir(out)):
        try:
            with open(os.path.join(out, app, "messages.json")) as f:
                messages = json.load(f)
        except (OSError, ValueError):
            continue
        unacknowledged += [f"{app}/{m['id']}" for m in messages
                           if m.get("from") == "citizen" and m["id"] not in acknowledged]
    if unacknowledged:
        log(f"{name}: {len(unacknowledged)} message(s) stored although the client saw a failure: "
            f"{', '.join(unacknowledged[:10])}")
    subprocess.run(["rm", "-rf", out])

    mem = memory(server_pid, mem_names)
    sampler.stop()
    for n, what in sorted(problems.items()):
        log(f"{name}: upload {n} LOST or wrong: {'; '.join(what)}")
    latencies = [u["seconds"] for u in accepted]
    mib_sent = sum(u["size"] for u in uploads) / MIB
    result = {
        "runtime": name,
        "uploads": count, "size_mib": args.size_mib, "concurrency": args.concurrency,
        "fresh_connections": args.fresh_connections,
        "applications": apps_needed, "uploads_per_application": args.per_application,
        "applications_seconds": apps_seconds,
        "accepted": len(accepted), "failed": len(failed),
        "failures": [{"n": u["n"], "application": u["application"], "error": u["error"],
                      "after_ms": round(u["seconds"] * 1000)} for u in failed],
        "lost": len(problems), "problems": {str(n): p for n, p in sorted(problems.items())},
        "verified": len(accepted) - len(problems),
        "stored_unacknowledged": unacknowledged,
        "upload_seconds": upload_seconds,
        # CPU time (user + system) of the server's processes during the upload phase.
        "upload_cpu_seconds": upload_cpu,
        "mib_per_s": sum(u["size"] for u in accepted) / MIB / upload_seconds,
        "uploads_per_s": len(accepted) / upload_seconds,
        "latency": latency_summary(latencies),
        "download_seconds": download_seconds,
        "download_mib_per_s": len(download_latencies) and sum(u["size"] for u in accepted) / MIB / download_seconds,
        "download_latency": latency_summary(download_latencies),
        "pull_seconds": pull_seconds, "pull_status": pulled.returncode,
        "memory_mib": {k: {"rss_before_uploads": rss_before.get(k, (0, 0))[0], "rss_end": v[0],
                           "peak": max(v[1], sampler.peak.get(k, 0))}
                       for k, v in mem.items()},
        # Processes that appeared after the uploads began (a restarted workerd, say).
        "new_processes": {k: sorted(v) for k, v in sampler.pids.items()},
        "mib_sent": mib_sent,
    }
    return result


def report(result):
    lat, dl = result["latency"], result["download_latency"]
    lines = [
        f"--- {result['runtime']}: {result['uploads']} uploads x {result['size_mib']:g} MiB, concurrency "
        f"{result['concurrency']}, {result['applications']} applications x {result['uploads_per_application']}, "
        f"{'a new connection per request' if result['fresh_connections'] else 'keep-alive connections'}",
        f"uploads ok {result['accepted']}, failed {result['failed']}, lost {result['lost']} "
        f"(verified by SHA-256, citizen download and office pull: {result['verified']}); "
        f"stored although failed: {len(result['stored_unacknowledged'])}",
    ]
    if lat:
        lines.append(f"upload:   {result['upload_seconds']:.1f} s, {result['mib_per_s']:.1f} MiB/s, "
                     f"{result['uploads_per_s']:.2f} uploads/s, p50 {lat['p50_ms']:.0f} ms, "
                     f"p90 {lat['p90_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms, max {lat['max_ms']:.0f} ms")
    if result["upload_cpu_seconds"]:
        lines.append("server CPU during the uploads: " + ", ".join(
            f"{k} {v:.1f} s" for k, v in sorted(result["upload_cpu_seconds"].items(), key=lambda kv: -kv[1]) if v >= 0.05))
    if dl:
        lines.append(f"download: {result['download_seconds']:.1f} s (citizen, with the thread), "
                     f"{result['download_mib_per_s']:.1f} MiB/s, p50 {dl['p50_ms']:.0f} ms, p99 {dl['p99_ms']:.0f} ms")
    lines.append(f"office pull (decrypt all to disk): {result['pull_seconds']:.1f} s, exit {result['pull_status']}")
    for name, m in result["memory_mib"].items():
        lines.append(f"{name}: RSS {m['rss_before_uploads']:.0f} MiB before the uploads, "
                     f"{m['rss_end']:.0f} MiB at the end, peak {m['peak']:.0f} MiB (VmHWM)")
    for name, pids in result["new_processes"].items():
        lines.append(f"{name}: {len(pids)} new process(es) after the uploads began (restarted?): {pids}")
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
    if result["uploads_per_application"] > 1:
        name += f"-{result['uploads_per_application']}per-app"
    path = os.path.join(WORK, f"{name}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(WORK, "runs.jsonl"), "a") as f:
        f.write(json.dumps(result) + "\n")
    log(f"written {os.path.relpath(path, ROOT)} (and appended to runs.jsonl)")


def office_tokens():
    return json.dumps({f"{PORTAL}/{OFFICE}": OFFICE_TOKEN})


def run_serve(lotse, args):
    port = free_port()
    data = tempfile.mkdtemp(prefix="serve-", dir=args.scratch)
    os.makedirs(WORK, exist_ok=True)
    errors = open(os.path.join(WORK, "serve.log"), "w")
    env = {**os.environ, "LOTSE_RATE_LIMIT": "1000000", "LOTSE_OFFICE_TOKENS": office_tokens()}
    for unset in ("LOTSE_OFFICE_TOKEN", "LOTSE_OIDC_CLIENT_SECRET"):
        env.pop(unset, None)
    log(f"lotse serve on 127.0.0.1:{port}, data {data}")
    process = subprocess.Popen(
        [lotse, "serve", "--content", "content", "--port", str(port), "--data", data, "--no-search"],
        cwd=ROOT, env=env, stdout=errors, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(port, process, 120)
        return benchmark("lotse serve", port, process.pid, {"lotse"}, lotse, args)
    finally:
        stop(process)
        errors.close()
        subprocess.run(["rm", "-rf", data])


def snapshot(lotse, into):
    """A folder to run `wrangler dev` from: the repository's wrangler.toml without its
    [build] table, scripts/worker-dev.sh, the migrations and the worker build as they are
    now, dist/ built fresh into it, and a link to the installed wrangler. wrangler dev
    watches its [build] watch_dir (the Rust sources) and restarts the worker whenever
    one of them changes, failing the requests in flight; in a working tree others edit,
    that happens during a run. Nothing in the snapshot changes while it runs."""
    run([lotse, "build", "--content", "content", "--out", os.path.join(into, "dist")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for folder in ("scripts", "functions/worker", "functions/migrations"):
        os.makedirs(os.path.join(into, folder), exist_ok=True)
    for path in ("scripts/worker-dev.sh",):
        subprocess.run(["cp", "-p", os.path.join(ROOT, path), os.path.join(into, path)], check=True)
    subprocess.run(["cp", "-rp", os.path.join(ROOT, "functions/worker/build"),
                    os.path.join(into, "functions/worker/build")], check=True)
    subprocess.run(f"cp -p {ROOT}/functions/migrations/*.sql {into}/functions/migrations/", shell=True, check=True)
    os.symlink(os.path.join(ROOT, "functions/worker/node_modules"), os.path.join(into, "functions/worker/node_modules"))
    kept, skipping = [], False
    with open(os.path.join(ROOT, "wrangler.toml")) as f:
        for line in f:
            if line.strip().startswith("["):
                skipping = line.strip() == "[build]"
            if not skipping:
                kept.append(line)
    with open(os.path.join(into, "wrangler.toml"), "w") as f:
        f.writelines(kept)


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
    for old in os.listdir(WORK) if os.path.isdir(WORK) else []:
        if old.startswith("wrangler-") and old.endswith(".log"):
            os.remove(os.path.join(WORK, old))
    try:
        if not args.no_build:
            env = {k: v for k, v in os.environ.items() if k not in ("LOTSE_WORKER_PREBUILT", "LOTSE_WORKER_FORCE")}
            run([os.path.join(ROOT, "scripts", "worker-build.sh")], env=env)
        wasm = os.path.join(ROOT, "functions", "worker", "build", "index_bg.wasm")
        log(f"worker: {os.path.getsize(wasm)} bytes of wasm built "
            f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(wasm)))}")
        if args.in_tree:
            if not args.no_build:
                run([lotse, "build", "--content", "content", "--out", "dist"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            root = ROOT
        else:
            snap = root = tempfile.mkdtemp(prefix="wrangler-root-", dir=args.scratch)
            log(f"snapshot for wrangler dev: {snap}")
            snapshot(lotse, snap)
        port = free_port()
        state = tempfile.mkdtemp(prefix="wrangler-", dir=args.scratch)
        os.makedirs(WORK, exist_ok=True)
        errors = open(os.path.join(WORK, "wrangler.log"), "w")
        env = {**os.environ, "OFFICE_TOKENS": office_tokens(), "RATE_LIMIT_PER_MINUTE": "1000000",
               "HASH_SECRET": base64.b64encode(os.urandom(32)).decode()}
        log(f"wrangler dev on 127.0.0.1:{port}, state {state}")
        process = subprocess.Popen(
            [os.path.join(root, "scripts", "worker-dev.sh"), "--no-build", "--port", str(port), "--state", state],
            cwd=root, env=env, stdout=errors, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until_up(port, process, 180)
            return benchmark("wrangler dev", port, process.pid, None, lotse, args)
        finally:
            stop(process)
            errors.close()
            # wrangler's own log (workerd's messages) is kept next to the results.
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
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--size-mib", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--per-application", type=int, default=1,
                        help="uploads per application (default 1: one application per upload)")
    parser.add_argument("--fresh-connections", action="store_true",
                        help="a new TCP connection for every request (default: one keep-alive connection per worker thread)")
    parser.add_argument("--lotse", help="the lotse binary (default target/release/lotse, built when missing)")
    parser.add_argument("--no-build", action="store_true",
                        help="wrangler: skip scripts/worker-build.sh (and, with --in-tree, lotse build)")
    parser.add_argument("--in-tree", action="store_true",
                        help="wrangler: run in the repository itself (dist/ rebuilt there, wrangler.toml's [build] "
                             "watcher on) instead of a snapshot of it")
    parser.add_argument("--no-lock", action="store_true", help=f"do not take {LOCK} (the caller holds it)")
    parser.add_argument("--scratch", default=None, help="where the stores and pulls go (default: the system's temp)")
    args = parser.parse_args()
    # A SIGTERM (timeout, Ctrl-C's cousin) still stops the servers this started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    lotse = args.lotse or os.path.join(ROOT, "target", "release", "lotse")
    try:
        if not os.access(lotse, os.X_OK):
            if args.lotse:
                raise SetupError(f"{lotse} is not an executable")
            run(["cargo", "build", "--release", "-p", "lotse"])
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
    bad = [r["runtime"] for r in results if r["failed"] or r["lost"] or r["stored_unacknowledged"]]
    if bad:
        print(f"FAILED: uploads failed or lost on {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
