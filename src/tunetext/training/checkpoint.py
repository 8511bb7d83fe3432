"""Checkpoints that make an interrupted run finish exactly as an uninterrupted one would.

One file, `checkpoint.pt`, holds everything the loop's future depends on: weights, optimizer moments, the
step (which fixes the lr, via the pure schedule, and the data position, via the seeded batch order), the
RNG states that drive dropout, and the early-stopping state with the best weights so far. It is replaced
atomically, so a `kill -9` mid-write leaves the previous checkpoint whole.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

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


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
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
    """The saved payload, or None when the directory holds no checkpoint yet (a fresh start)."""
    path = Path(directory) / CHECKPOINT_FILE
    if not path.exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=False)
