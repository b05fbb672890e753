#!/usr/bin/env python3
"""Measures the edit-to-reload latency of `lotse serve`.

Copies a region (the example, or `--content`, e.g. the benchmark corpus of
bench/gen_corpus.py) to a temporary folder, starts `lotse serve` on it, listens to the
live-reload event stream like a browser does, edits a service file and measures the
time from the write until (a) the reload event arrives and (b) the edited page is
served with the change. Two kinds of edit: the body of the service (its pages in every
portal that shows it) and its title (also every list page that shows it).

Usage: bench/serve_reload.py [--lotse target/release/lotse] [--rounds 20]
           [--content DIR [--service portals/bottrop/services/x.md] [--page /bottrop/x/]]
"""

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICE = "services/hund-anmelden.md"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("lotse serve did not start")


def listen_for_reloads(port, events):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/__lotse/livereload")
    response = conn.getresponse()
    while True:
        line = response.fp.readline()
        if not line:
            return
        if line.startswith(b"event: reload"):
            events.append(time.perf_counter())


def cpu_seconds(pid):
    """User and system time of process `pid` so far (Linux), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def wait_idle(pid, timeout=120):
    """Waits until process `pid` has used under 2 % of a core for half a second (the
    search index of the last edit, or of the start, is made in the background)."""
    deadline = time.time() + timeout
    last = cpu_seconds(pid)
    while last is not None and time.time() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now is None or now - last < 0.01:
            return
        last = now


def measure(port, page, path, edit, marker, rounds, events, pid=None):
    signal, visible = [], []
    for i in range(rounds):
        with open(path, encoding="utf-8") as f:
            original = f.read()
        seen = len(events)
        new_text, expected = edit(original, f"{marker}{i}")
        start = time.perf_counter()
        with open(path, "w", encoding="utf-8") as f:
            f.write(new_text)
        while len(events) == seen:
            if time.perf_counter() - start > 5:
                raise SystemExit("no reload event within 5 s")
            time.sleep(0.001)
        signal.append((events[seen] - start) * 1000)
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}{page}").read().decode()
        visible.append((time.perf_counter() - start) * 1000)
        if expected not in body:
            raise SystemExit(f"edited page does not show `{expected}`")
        time.sleep(0.1)
        if pid is not None:
            wait_idle(pid)
    return signal, visible


def edit_body(text, token):
    return text.rstrip("\n") + f"\n\nMessmarke {token}\n", f"Messmarke {token}"


def edit_title(text, token):
    lines = text.split("\n")
    for n, line in enumerate(lines):
        match = re.match(r'title = "(.*?)(?: titel\d+)?"$', line)
        if match:
            title = f"{match.group(1)} {token}"
            lines[n] = f'title = "{title}"'
            return "\n".join(lines), title
    raise SystemExit("the service file has no `title = \"…\"` line")


def first_portal(content):
    portals = sorted(os.listdir(os.path.join(content, "portals")))
    return "bottrop" if "bottrop" in portals else portals[0]


def page_of(content, service):
    """The address of the service's page: in its portal, or a regional one's in Bottrop."""
    parts = service.split("/")
    slug = parts[-1].removesuffix(".md")
    portal = parts[1] if parts[0] == "portals" else first_portal(content)
    return f"/{portal}/{slug}/"


def report(name, signal, visible, cpu=None):
    def p95(values):
        return sorted(values)[max(0, int(len(values) * 0.95) - 1)]
    line = (f"{name:<28} reload event: median {statistics.median(signal):6.1f} ms, p95 {p95(signal):6.1f} ms;"
            f"  page served: median {statistics.median(visible):6.1f} ms, p95 {p95(visible):6.1f} ms")
    if cpu is not None:
        line += f";  CPU {cpu:6.1f} ms a reload"
    print(line)


def measured(name, server, rounds, run):
    """Runs `run` and reports it with lotse serve's CPU time per reload (user + system,
    all threads: on a busy machine the wall-clock figures wait for other processes)."""
    before = cpu_seconds(server.pid)
    signal, visible = run()
    after = cpu_seconds(server.pid)
    cpu = None if before is None or after is None else (after - before) * 1000 / rounds
    report(name, signal, visible, cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lotse", default=os.path.join(ROOT, "target/release/lotse"))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--content", default=os.path.join(ROOT, "content"),
                        help="the region's content folder (its sibling themes/ is copied too)")
    parser.add_argument("--service", help="the service file to edit, relative to the content "
                        "folder (default: the example's hund-anmelden, else Bottrop's first)")
    parser.add_argument("--page", help="the edited service's address (default: from --service)")
    parser.add_argument("--search", action="store_true",
                        help="let lotse serve rebuild the search index in the background after "
                        "each edit (left out by default: on 2 cores it competes with the reload)")
    parser.add_argument("--log", help="write lotse serve's messages (its timings) to this file")
    args = parser.parse_args()
    content = os.path.abspath(args.content)
    service = args.service
    if service is None:
        if os.path.exists(os.path.join(content, SERVICE)):
            service = SERVICE
        else:
            portal = first_portal(content)
            files = sorted(os.listdir(os.path.join(content, "portals", portal, "services")))
            service = f"portals/{portal}/services/{files[0]}"
    page = args.page or page_of(content, service)
    themes = os.path.join(os.path.dirname(content), "themes")
    if not os.path.isdir(themes):
        themes = os.path.join(ROOT, "themes")

    work = tempfile.mkdtemp(prefix="lotse-serve-bench-")
    try:
        shutil.copytree(content, os.path.join(work, "content"))
        shutil.copytree(themes, os.path.join(work, "themes"))
        port = free_port()
        log = open(args.log, "w") if args.log else subprocess.DEVNULL
        command = [args.lotse, "serve", "--content", "content", "--port", str(port),
                   "--data", ".lotse"] + ([] if args.search else ["--no-search"])
        server = subprocess.Popen(
            command,
            cwd=work, stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_ready(port)
            events = []
            threading.Thread(target=listen_for_reloads, args=(port, events), daemon=True).start()
            time.sleep(1.0)
            wait_idle(server.pid)
            path = os.path.join(work, "content", service)
            # With the index, each edit's index is made in the background: let it end
            # before the next edit, so that each reload is measured on its own.
            idle = server.pid if args.search else None
            print(f"editing {service}, watching {page}")
            measured("body edit", server, args.rounds,
                     lambda: measure(port, page, path, edit_body, "body", args.rounds, events, idle))
            measured("title edit (+ list pages)", server, args.rounds,
                     lambda: measure(port, page, path, edit_title, "titel", args.rounds, events, idle))
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
