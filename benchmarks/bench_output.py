"""The JSON report every speed benchmark ends with, on stdout and in --out, with the CPU threads it ran on.

Benchmarks run as scripts (`python benchmarks/NAME.py`), so this folder is on their import path.
"""

import json
import os
from pathlib import Path


def emit(report: dict, out: str | None) -> None:
    output = json.dumps(report | {"cpu_threads": len(os.sched_getaffinity(0))}, indent=2)
    print(output)
    if out:
        Path(out).write_text(output + "\n")
