"""Checkpoints that make an interrupted run finish exactly as an uninterrupted one would.

One file, `checkpoint.pt`, holds everything the loop's future depends on: weights, optimizer moments, the
step (which fixes the lr, via the pure schedule, and the data position, via the seeded batch order), the
RNG states that drive dropout, and the early-stopping state with the best weights so far. It is replaced
atomically, so a `kill -9` mid-write leaves the previous checkpoint whole.

It holds only tensors and plain values (numbers, strings, lists, dicts), so it loads with
`torch.load(weights_only=True)`: a crafted file cannot run code when a run resumes from it.
"""

from __future__ import annotations

import pickle
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tunetext.errors import ConfigError
from tunetext.io import atomic_path

CHECKPOINT_FILE = "checkpoint.pt"


@dataclass
class TrainState:
    """What the loop carries from step to step, besides model and optimizer."""

    step: int = 0
    best_score: float | None = None
    best_step: int | None = None
    best_weights: dict[str, torch.Tensor] | None = None
    evals_without_improvement: int = 0
    stopped_early: bool = False
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    """Time spent training, the runs before a resume included: the whole run's training time."""
    resumed_seconds: float = 0.0
    """Of `seconds`, what the runs before the last resume spent (0 for a run started afresh)."""


def rng_state() -> dict[str, Any]:
    """Every RNG a step may draw from, as tensors and plain values (numpy's array would need pickle to load)."""
    name, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)},
        "python": random.getstate(),  # (version, tuple of ints, None or float): plain values already
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state((numpy_state["name"], numpy_state["keys"].numpy().astype(np.uint32), numpy_state["position"],
                         numpy_state["has_gauss"], numpy_state["cached_gaussian"]))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(directory: str | Path, model: torch.nn.Module, optimizer, state: TrainState, meta: dict) -> None:
    """Write the checkpoint atomically; `meta` records what the run must match to be resumed."""
    payload = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "state": state.__dict__,
        "rng": rng_state(),
        "meta": meta,
    }
    with atomic_path(Path(directory) / CHECKPOINT_FILE) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(directory: str | Path) -> dict | None:
    """The saved payload, or None when the directory holds no checkpoint yet (a fresh start).

    Loaded with `weights_only=True`: a file holding any other Python object is refused, never executed.
    """
    path = Path(directory) / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # torch's own message suggests weights_only=False: exactly what not to do
        reason = "it holds Python objects other than tensors and plain values (refused: nothing in it was run)"
    except (RuntimeError, EOFError) as exc:
        reason = f"it is truncated or not a PyTorch file ({exc})"
    raise ConfigError(f"{path} is not a checkpoint tunetext can resume from: {reason}. It may come from an older "
                      "tunetext or elsewhere; delete it, or pass another checkpoint_dir, to start afresh.")
