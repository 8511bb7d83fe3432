"""The service's settings: one validated dataclass, passed to uvicorn's worker processes as JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from tunetext.errors import ConfigError
from tunetext.prediction import BACKENDS

ENV_VAR = "TUNETEXT_SERVE_SETTINGS"
"""uvicorn starts each of `--workers` processes from an import string, so the settings travel in the environment."""


@dataclass(frozen=True)
class ServeSettings:
    """What the service serves and the limits it enforces (each checked here, once)."""

    model_dir: str
    backend: str = "auto"
    task: str | None = None
    """For a multi-task model (`train --task ...`): which task's head answers."""
    api_key: str | None = None
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

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> "ServeSettings":
        if ENV_VAR not in os.environ:
            raise ConfigError(f"{ENV_VAR} is not set; start the service with `tunetext serve DIR`.")
        return cls(**json.loads(os.environ[ENV_VAR]))
