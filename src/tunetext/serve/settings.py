"""The service's settings: one validated dataclass, passed to uvicorn's worker processes in a private file."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from tunetext.errors import ConfigError
from tunetext.io import read_json
from tunetext.prediction import BACKENDS

SETTINGS_FILE_VAR = "TUNETEXT_SERVE_SETTINGS_FILE"
"""uvicorn starts each of `--workers` processes from an import string, so they find their settings through the
environment: the path of a file only this user can read, not the settings themselves, since the API key is
among them and a process's environment is readable in /proc/PID/environ."""
JSON_BYTES_PER_CHAR = 6
"""The longest a character of a text takes in a JSON body: `\\uXXXX`, which json.dumps writes for any non-ASCII one."""


@dataclass(frozen=True)
class ServeSettings:
    """What the service serves and the limits it enforces (each checked here, once)."""

    model_dir: str
    backend: str = "auto"
    task: str | None = None
    """For a multi-task model (`train --task ...`): which task's head answers."""
    api_key: str | None = field(default=None, repr=False)
    max_batch_size: int = 32
    """Texts per model call; concurrent requests are grouped up to this."""
    max_wait_ms: float = 5.0
    """How long a batch waits for more requests once its first has arrived: latency traded for throughput."""
    max_queue: int = 1024
    """Texts waiting for the model; a request that would exceed it gets 503 instead of growing the backlog."""
    max_texts: int = 256
    """Texts per request (413 beyond)."""
    max_chars: int = 10_000
    """Characters per text (413 beyond): bounds tokenization work and request size."""
    access_log: str | None = None
    """A file for the JSON-lines access log; None writes it to stderr."""

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend={self.backend!r}; use one of {', '.join(BACKENDS)}.")
        if self.api_key is not None and not self.api_key.strip():
            raise ConfigError("the API key is empty; set a non-empty --api-key / TUNETEXT_API_KEY, or unset it to serve without one.")
        for name in ("max_batch_size", "max_queue", "max_texts", "max_chars"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)!r} must be at least 1.")
        if self.max_wait_ms < 0:
            raise ConfigError(f"max_wait_ms={self.max_wait_ms!r} must be >= 0 (0: never wait for a batch to fill).")
        if self.max_queue < self.max_texts:
            raise ConfigError(f"max_queue={self.max_queue} is below max_texts={self.max_texts}: a full request could "
                              "never be queued. Raise max_queue or lower max_texts.")

    @property
    def max_body_bytes(self) -> int:
        """The largest request body a valid request can need: `max_texts` texts of `max_chars`, escaped, plus
        quotes, commas and the braces around them. Anything larger is refused before it is read."""
        return self.max_texts * (self.max_chars * JSON_BYTES_PER_CHAR + 8) + 1024

    @classmethod
    def from_env(cls) -> "ServeSettings":
        """The settings `settings_file` wrote, in a worker process that uvicorn started."""
        if SETTINGS_FILE_VAR not in os.environ:
            raise ConfigError(f"{SETTINGS_FILE_VAR} is not set; start the service with `tunetext serve DIR`.")
        return cls(**read_json(os.environ[SETTINGS_FILE_VAR]))


@contextmanager
def settings_file(settings: ServeSettings) -> Iterator[Path]:
    """`settings` as JSON in a new temporary file readable by this user only (mkstemp makes it 0600), removed on exit."""
    fd, path = tempfile.mkstemp(prefix="tunetext-serve-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as file:
            json.dump(asdict(settings), file)
        yield Path(path)
    finally:
        Path(path).unlink(missing_ok=True)


def read_api_key_file(path: str | Path) -> str:
    """The key in `path`, without the newline an editor or `echo` leaves at its end."""
    key = Path(path).read_text().strip()
    if not key:
        raise ConfigError(f"the API key file {path} is empty; write the key into it, or leave the key file out.")
    return key
