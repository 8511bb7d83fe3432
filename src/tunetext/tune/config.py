"""The config file `tune` writes and `train --config` reads: a method name and the parameters that differ."""

from __future__ import annotations

from pathlib import Path

from tunetext.errors import ConfigError
from tunetext.io import read_json

KEYS = {"method", "params", "tuned"}
"""`tuned` records where the parameters came from (study, scores); `train` ignores it."""


def read_config(path: str | Path) -> tuple[str, dict]:
    """(method, params) from a config file, with unknown keys rejected so a typo never goes unnoticed."""
    config = read_json(path)
    if not isinstance(config, dict) or "method" not in config:
        raise ConfigError(f"{path} is not a tunetext config: expected a JSON object with \"method\" and \"params\", "
                          "as written by `tunetext tune`.")
    unknown = sorted(set(config) - KEYS)
    if unknown:
        raise ConfigError(f"unknown keys {unknown} in {path}; valid keys are: {', '.join(sorted(KEYS))}.")
    return config["method"], dict(config.get("params", {}))
