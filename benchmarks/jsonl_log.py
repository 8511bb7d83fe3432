"""An experiment's JSONL file of finished runs, looked up by their key so that a rerun skips what is done."""

from __future__ import annotations

import json
from pathlib import Path


class Log:
    """Rows of `path`, one JSON object per finished run; `run(key, work)` runs `work` only for a new key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def run(self, key: dict, work) -> None:
        if any(all(row.get(k) == v for k, v in key.items()) for row in self.rows):
            return
        row = {**key, **work()}
        print(json.dumps(row), flush=True)
        with open(self.path, "a") as handle:
            handle.write(json.dumps(row) + "\n")
        self.rows.append(row)
