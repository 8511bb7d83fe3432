"""What a method costs: time, throughput, memory and disk — measured, so the comparison can weigh it."""

from __future__ import annotations

import os
import resource
import threading
import time
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def current_rss_bytes() -> int:
    """Resident memory of this process now (Linux /proc; falls back to the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakMemory:
    """Peak resident memory above the starting level while the block runs, sampled every `interval` s.

    The process-wide high-water mark can't be reset between methods, so a sampler thread is the
    honest per-method figure within one process.
    """

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak_bytes = 0

    def __enter__(self) -> "PeakMemory":
        self._start = current_rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_bytes = max(self.peak_bytes, current_rss_bytes() - self._start)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, current_rss_bytes() - self._start)


class ReusedWork:
    """Seconds of work the block reused from an earlier run instead of doing it (a frozen encoder's cached
    features, at what encoding them first cost), as `charge_reused` reports them. `Method.fit` adds them to
    `train_seconds_`, so a warm cache does not make a method look cheaper than its first run did."""

    _open: list["ReusedWork"] = []

    def __enter__(self) -> "ReusedWork":
        self.seconds = 0.0
        ReusedWork._open.append(self)
        return self

    def __exit__(self, *exc) -> None:
        ReusedWork._open.remove(self)


def charge_reused(seconds: float) -> None:
    """Add `seconds` of reused work to every open `ReusedWork` block."""
    for block in ReusedWork._open:
        block.seconds += seconds


class Stopwatch:
    def __enter__(self) -> "Stopwatch":
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._start


def directory_size_bytes(directory: str | Path) -> int:
    return sum(f.stat().st_size for f in Path(directory).rglob("*") if f.is_file())
