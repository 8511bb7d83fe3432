"""Hostile request bodies against `tunetext serve`: does the server's memory stay flat?

    python benchmarks/serve_hostile.py                      # 20 bodies of 50 MB per arm
    python benchmarks/serve_hostile.py --requests 5 --mb 10 # a smoke run

Starts `tunetext serve` with an API key on a small TF-IDF model (trained here on tests/data/trec6-train.csv),
on 127.0.0.1 only, and sends it oversized POST /predict bodies over raw sockets, one at a time:
  no-key/length    no API key, Content-Length declared                  -> 401 before any of the body is read
  no-key/chunked   no API key, chunked (no Content-Length)              -> 401 before any of the body is read
  key/length       the right key, Content-Length over the limit         -> 413 before any of the body is read
  key/chunked      the right key, chunked, over the limit               -> 413 once the limit (15 MB) is passed
The client stops sending as soon as the server has answered; "closed" counts answers lost because the server
closed the connection with unread body bytes in its socket buffer, which makes the kernel reset it.
The server's resident memory (VmRSS, Linux) is read before and after each arm, after a second's rest, and
sampled every 20 ms during it (peak).
Bounded: --requests per arm, a --timeout per request, and --max-seconds for the whole run; the server is
always stopped. Results: a table on stdout and JSON in benchmarks/results/serve_hostile.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import select
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
ARMS = {"no-key/length": (False, False), "no-key/chunked": (False, True),
        "key/length": (True, False), "key/chunked": (True, True)}
"""name: (send the key, chunked)."""
CHUNK = 1 << 16


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


class PeakRss:
    """The largest RSS of `pid` seen while the block runs, sampled every 20 ms in a thread."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def hostile_post(port: int, size: int, *, chunked: bool, key: str | None, timeout: float) -> dict:
    """POST `size` bytes of junk to /predict; stop sending once the server answers. Returns status and bytes sent."""
    head = ["POST /predict HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
            "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"]
    if key:
        head.append(f"X-API-Key: {key}")
    sent, response = 0, b""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            piece = b"x" * CHUNK
            while sent < size and not select.select([sock], [], [], 0)[0]:
                body = piece[: min(CHUNK, size - sent)]
                sock.sendall(b"%x\r\n%s\r\n" % (len(body), body) if chunked else body)
                sent += len(body)
            if chunked and sent == size:
                sock.sendall(b"0\r\n\r\n")
            while b"\r\n" not in response:
                data = sock.recv(65536)
                if not data:
                    break
                response += data
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection; what it answered before is in `response`
    status = response.split(b" ", 2)[1].decode() if response.startswith(b"HTTP/") else "closed"
    return {"status": status, "sent_mb": sent / 1e6, "seconds": time.monotonic() - start}


def train_model(into: Path) -> Path:
    import pandas as pd

    from tunetext.methods import make_method

    frame = pd.read_csv(ROOT / "tests/data/trec6-train.csv", dtype=str, keep_default_na=False)
    return make_method("tfidf-logreg").fit(frame["text"].tolist(), frame["label"].tolist()).save(into)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="Bodies per arm.")
    parser.add_argument("--mb", type=float, default=50, help="Size of each body in MB.")
    parser.add_argument("--timeout", type=float, default=30, help="Seconds per request.")
    parser.add_argument("--max-seconds", type=float, default=300, help="The whole run stops sending after this.")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/serve_hostile.json")
    args = parser.parse_args()

    import httpx

    from tunetext.serve.local import local_server

    key = secrets.token_hex(16)
    size = int(args.mb * 1e6)
    deadline = time.monotonic() + args.max_seconds
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = train_model(Path(tmp) / "model")
        with local_server(model_dir, Path(tmp) / "server.log", options=["--access-log", os.devnull],
                                  env={"TUNETEXT_API_KEY": key}) as server:
            pid, port = server.process.pid, urlparse(server.url).port
            with httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as client:
                for _ in range(20):  # warm the code paths, so what is measured is the attack, not the first requests
                    assert client.post("/predict", json={"texts": ["What is the capital of Peru?"] * 8}).status_code == 200
                limits = client.get("/metadata").json()["limits"]
            time.sleep(1)
            idle = rss_mb(pid)
            for arm, (with_key, chunked) in ARMS.items():
                before = rss_mb(pid)
                results = []
                with PeakRss(pid) as peak:
                    for _ in range(args.requests):
                        if time.monotonic() > deadline:
                            break
                        results.append(hostile_post(port, size, chunked=chunked, key=key if with_key else None,
                                                    timeout=args.timeout))
                time.sleep(1)
                after = rss_mb(pid)
                rows.append({
                    "arm": arm, "requests": len(results), "body_mb": args.mb,
                    "statuses": dict(Counter(r["status"] for r in results).most_common()),
                    "max_sent_mb": round(max((r["sent_mb"] for r in results), default=0), 2),
                    "max_seconds": round(max((r["seconds"] for r in results), default=0), 3),
                    "rss_before_mb": round(before, 1), "rss_peak_mb": round(max(peak.peak, before), 1),
                    "rss_after_mb": round(after, 1), "rss_change_mb": round(after - before, 1),
                })
            alive = httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    report = {"server_rss_idle_mb": round(idle, 1), "max_body_bytes": limits["max_body_bytes"],
              "server_alive_after": alive, "python": sys.version.split()[0], "results": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"server idle RSS {idle:.1f} MB; body limit {limits['max_body_bytes']:,} bytes; alive after: {alive}\n")
    columns = ["arm", "requests", "body_mb", "statuses", "max_sent_mb", "rss_before_mb", "rss_peak_mb",
               "rss_after_mb", "rss_change_mb"]
    print("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for row in rows:
        cells = [", ".join(f"{n}x {s}" for s, n in v.items()) if isinstance(v, dict) else str(v) for v in map(row.get, columns)]
        print("| " + " | ".join(cells) + " |")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
