"""Learning-rate schedules as small pure functions of the step: `factor(step, warmup, total) -> [0, 1]`.

The loop multiplies each parameter group's peak lr by the factor, so the peak lr is always the `lr`
hyperparameter (times the group's layer-decay scale). Steps count from 0; warm-up reaches the peak at
step `warmup - 1`, so no step is wasted at lr 0.
"""

from __future__ import annotations

import math
from typing import Callable

from tunetext.errors import ConfigError

Schedule = Callable[[int, int, int], float]


def _warmup(step: int, warmup: int) -> float:
    return (step + 1) / warmup


def constant(step: int, warmup: int, total: int) -> float:
    """Warm up linearly, then hold the peak."""
    return _warmup(step, warmup) if step < warmup else 1.0


def linear(step: int, warmup: int, total: int) -> float:
    """Warm up linearly, then decay linearly to 0 at `total` (BERT's schedule)."""
    if step < warmup:
        return _warmup(step, warmup)
    return max(0.0, (total - step) / max(1, total - warmup))


def cosine(step: int, warmup: int, total: int) -> float:
    """Warm up linearly, then follow half a cosine down to 0 at `total`."""
    if step < warmup:
        return _warmup(step, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def inverse_sqrt(step: int, warmup: int, total: int) -> float:
    """The Transformer paper's `d^-0.5 · min(s^-0.5, s · w^-1.5)`, scaled by `sqrt(w)` so its peak (s = w) is 1.

    `d^-0.5` is a constant and cancels in that normalisation; `s` counts from 1.
    """
    s, w = step + 1, max(1, warmup)
    return math.sqrt(w) * min(s**-0.5, s * w**-1.5)


SCHEDULES: dict[str, Schedule] = {
    "linear": linear,
    "cosine": cosine,
    "constant": constant,
    "inverse_sqrt": inverse_sqrt,
}


def get_schedule(name: str) -> Schedule:
    try:
        return SCHEDULES[name]
    except KeyError:
        raise ConfigError(f"unknown lr schedule {name!r}; choose one of: {', '.join(SCHEDULES)}.") from None


def warmup_steps(warmup: float | int, total_steps: int) -> int:
    """Warm-up given as a ratio of training (a float in [0, 1)) or as a number of steps (an int)."""
    if isinstance(warmup, float):
        return int(round(warmup * total_steps))
    return min(int(warmup), total_steps)
