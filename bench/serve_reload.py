#!/usr/bin/env python3
"""Measures the edit-to-reload latency of `lotse serve`.

Copies the example region to a temporary folder, starts `lotse serve` on it, listens to
the live-reload event stream like a browser does, edits a service file and measures
the time from the write until (a) the reload event arrives and (b) the edited page is
served with the change. Two kinds of edit: the body of a regional service (its pages
in every portal) and its title (also every list page that shows it).

Usage: bench/serve_reload.py [--lotse target/release/lotse] [--rounds 20]
"""

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICE = "content/services/hund-anmelden.md"
PAGE = "/bottrop/hund-anmelden/"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, timeout=30):
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


def measure(port, path, edit, marker, rounds, events):
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
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}{PAGE}").read().decode()
        visible.append((time.perf_counter() - start) * 1000)
        if expected not in body:
            raise SystemExit(f"edited page does not show `{expected}`")
        time.sleep(0.1)
    return signal, visible


def edit_body(text, token):
    return text.rstrip("\n") + f"\n\nMessmarke {token}\n", f"Messmarke {token}"


def edit_title(text, token):
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if line.startswith("title = "):
            lines[n] = f'title = "Hund anmelden {token}"'
            break
    return "\n".join(lines), f"Hund anmelden {token}"


def report(name, signal, visible):
    def p95(values):
        return sorted(values)[max(0, int(len(values) * 0.95) - 1)]
    print(f"{name:<28} reload event: median {statistics.median(signal):6.1f} ms, p95 {p95(signal):6.1f} ms;"
          f"  page served: median {statistics.median(visible):6.1f} ms, p95 {p95(visible):6.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lotse", default=os.path.join(ROOT, "target/release/lotse"))
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="lotse-serve-bench-")
    try:
        shutil.copytree(os.path.join(ROOT, "content"), os.path.join(work, "content"))
        shutil.copytree(os.path.join(ROOT, "themes"), os.path.join(work, "themes"))
        port = free_port()
        server = subprocess.Popen(
            [args.lotse, "serve", "--content", "content", "--port", str(port), "--data", ".lotse"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(port)
            events = []
            threading.Thread(target=listen_for_reloads, args=(port, events), daemon=True).start()
            time.sleep(0.3)
            path = os.path.join(work, SERVICE)
            report("body edit (11 pages)", *measure(port, path, edit_body, "body", args.rounds, events))
            report("title edit (+ list pages)", *measure(port, path, edit_title, "titel", args.rounds, events))
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
