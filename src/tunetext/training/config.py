"""The fine-tuning settings, one small validated dataclass per concern.

Methods keep their hyperparameters as plain keyword arguments (scikit-learn's contract) and build these
before `fit` does any work, so a bad value fails at once with a message naming the value, the expectation
and the fix. The fields have no defaults: a method fills them from its hyperparameters of the same names,
whose defaults are the only ones, and the MLM adaptation states its own (`training/mlm.py`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from tunetext.errors import ConfigError
from tunetext.training.schedules import get_schedule

METRICS = {"accuracy": "max", "f1_macro": "max", "loss": "min"}
"""Validation metrics early stopping can watch, and the direction that counts as better."""

PRECISIONS = ("auto", "bf16", "fp32")

BOOKKEEPING = ("checkpoint_dir", "checkpoint_every", "resume", "log_path", "progress")
"""LoopConfig fields that change where a run is saved, logged and shown, not what it learns: the only ones
a checkpoint may be resumed under new values of."""


@dataclass(frozen=True)
class OptimConfig:
    """What is trained and how fast: AdamW, the lr schedule, clipping, freezing, layer-wise lr decay."""

    lr: float
    weight_decay: float
    schedule: str
    warmup: float | int
    max_grad_norm: float | None
    layer_lr_decay: float
    freeze_embeddings: bool
    freeze_layers: int | str

    def __post_init__(self) -> None:
        _check(self.lr > 0, f"lr={self.lr!r} must be > 0; typical fine-tuning values are 2e-5 to 1e-4.")
        _check(self.weight_decay >= 0, f"weight_decay={self.weight_decay!r} must be >= 0 (0.01 is usual).")
        get_schedule(self.schedule)
        if isinstance(self.warmup, float):
            _check(0 <= self.warmup < 1, f"warmup={self.warmup!r}: a float is a ratio of training, in [0, 1); "
                   "pass an int for a number of steps.")
        else:
            _check(isinstance(self.warmup, int) and self.warmup >= 0,
                   f"warmup={self.warmup!r} must be a ratio in [0, 1) or a number of steps >= 0.")
        _check(self.max_grad_norm is None or self.max_grad_norm > 0,
               f"max_grad_norm={self.max_grad_norm!r} must be > 0, or None to turn clipping off.")
        _check(0 < self.layer_lr_decay <= 1, f"layer_lr_decay={self.layer_lr_decay!r} must be in (0, 1]; "
               "1 turns it off, 0.8-0.95 is usual.")
        _check(self.freeze_layers in ("half", "all") or (isinstance(self.freeze_layers, int) and self.freeze_layers >= 0),
               f"freeze_layers={self.freeze_layers!r} must be a number of lower layers >= 0, 'half' or 'all' "
               "('all' also freezes the embeddings: only the head trains).")


@dataclass(frozen=True)
class LoopConfig:
    """How the loop runs: epochs and batches, precision, evaluation and early stopping, checkpoints, logging."""

    epochs: float
    min_steps: int
    """Train at least this many optimizer steps: a few epochs of a tiny training set are too few updates."""
    batch_size: int
    grad_accum_steps: int
    precision: str
    seed: int
    eval_every: int | None
    eval_batch_size: int
    metric: str
    patience: int | None
    checkpoint_dir: str | Path | None
    checkpoint_every: int
    resume: bool
    log_path: str | Path | None
    progress: bool

    def __post_init__(self) -> None:
        _check(self.epochs > 0, f"epochs={self.epochs!r} must be > 0.")
        _check(isinstance(self.min_steps, int) and self.min_steps >= 0, f"min_steps={self.min_steps!r} must be an int >= 0.")
        _check(isinstance(self.batch_size, int) and self.batch_size >= 1, f"batch_size={self.batch_size!r} must be an int >= 1.")
        _check(isinstance(self.grad_accum_steps, int) and self.grad_accum_steps >= 1,
               f"grad_accum_steps={self.grad_accum_steps!r} must be an int >= 1.")
        _check(self.precision in PRECISIONS, f"precision={self.precision!r}; choose one of: {', '.join(PRECISIONS)}.")
        _check(self.eval_every is None or self.eval_every >= 1,
               f"eval_every={self.eval_every!r} must be a number of steps >= 1, or None for once per epoch.")
        _check(self.eval_batch_size >= 1, f"eval_batch_size={self.eval_batch_size!r} must be >= 1.")
        _check(self.metric in METRICS, f"metric={self.metric!r}; choose one of: {', '.join(METRICS)}.")
        _check(self.patience is None or self.patience >= 1,
               f"patience={self.patience!r} must be >= 1 evaluations, or None to never stop early.")
        _check(self.checkpoint_every >= 1, f"checkpoint_every={self.checkpoint_every!r} must be >= 1 steps.")
        _check(not self.resume or self.checkpoint_dir is not None,
               "resume=True needs checkpoint_dir: the folder the interrupted run wrote its checkpoints to.")

    def run_settings(self) -> dict:
        """The fields that decide what the run learns: all but BOOKKEEPING."""
        return {key: value for key, value in asdict(self).items() if key not in BOOKKEEPING}


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)
