"""`tunetext serve` as a child process on 127.0.0.1, for load tests and benchmarks: started, awaited, always stopped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class LocalServer:
    url: str
    process: subprocess.Popen
    """The `tunetext serve` process (with --workers 1, the one that answers: benchmarks read its memory)."""


@contextmanager
def local_server(
    model_dir: str | Path,
    log_path: str | Path,
    *,
    options: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout_s: float = 60,
) -> Iterator[LocalServer]:
    """Yield the server (its base URL and process) once /health answers; the process is terminated (then killed) on exit.

    Its output goes to `log_path`, a file rather than a pipe: a full pipe would stall the server.
    """
    import httpx

    port = free_port()
    command = [sys.executable, "-c", "from tunetext.cli import app, deploy; app()",
               "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port), *options]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"tunetext serve exited with {process.returncode}:\n{Path(log_path).read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"tunetext serve did not answer /health within {timeout_s} s; log: {log_path}")
            time.sleep(0.2)
        yield LocalServer(url, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
