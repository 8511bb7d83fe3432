"""Evaluation with power: when the test split is too small to separate the two leaders, cross-validate them.

A test split of a few hundred texts gives intervals of ±3–4 points, wider than most gaps worth deciding on;
the rest of the labeled data can decide instead. Only the two leaders (best fine-tuned against best of the
rest, the pair the verdict weighs) are re-run, on repeated stratified k folds, through compare's own cell
runner, so folds resume like any other cell. A test split the data came with is kept out of the folds: its
score stays an honest, separate figure.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.model_selection import StratifiedKFold

from tunetext.compare.plan import Cell
from tunetext.compare.runner import run_cells
from tunetext.compare.statistics import corrected_resampled_t_test, separates
from tunetext.data.dataset import DatasetSplits, LabeledTexts
from tunetext.errors import ConfigError

SMALL_TEST = 2000
"""`cv="auto"` cross-validates only when the test split has fewer texts than this (and cannot separate the
leaders): a larger split that cannot separate them says they are level."""

CV_DIR = "cv"
"""The report folder's subfolder holding the fold cells (apart from the learning-curve cells)."""


@dataclass(frozen=True)
class CrossValidation:
    """`folds`-fold stratified cross-validation, repeated `repeats` times with a fresh shuffle (seed = repeat)."""

    folds: int = 5
    repeats: int = 1

    def __post_init__(self) -> None:
        if self.folds < 2 or self.repeats < 1:
            raise ConfigError(f"cv={self.folds}x{self.repeats}: expected at least 2 folds and 1 repeat, e.g. 5 or 5x2.")

    @property
    def name(self) -> str:
        return f"{self.folds}-fold" + (f" × {self.repeats} repeats" if self.repeats > 1 else "")


AUTO = CrossValidation(5, 1)
"""What `cv="auto"` runs when the test split cannot decide: 5 extra training runs per leader."""


def parse_cv(cv: str | CrossValidation | None) -> tuple[str, CrossValidation | None]:
    """`cv` as (mode, plan): "auto" (cross-validate the leaders when the test split cannot separate them),
    "off", or "K" / "KxR" (always: K folds, R repeats)."""
    if isinstance(cv, CrossValidation):
        return "always", cv
    value = (cv or "auto").strip().lower()
    if value in ("auto", "off"):
        return value, AUTO if value == "auto" else None
    match = re.fullmatch(r"(\d+)(?:x(\d+))?", value)
    if not match:
        raise ConfigError(f"cv={cv!r}; use auto, off, K (folds) or KxR (folds × repeats), e.g. 5 or 5x2.")
    return "always", CrossValidation(int(match[1]), int(match[2] or 1))


def needs_cross_validation(mode: str, paired: dict | None, n_test: int) -> bool:
    """Whether to cross-validate: always when asked for folds; under "auto", when the leaders' paired difference on
    the test split has an interval spanning zero and the split is small."""
    if mode == "off" or paired is None or "difference_95" not in paired:  # multi-label data: no folds yet
        return False
    if mode == "always":
        return True
    return not separates(paired) and n_test < SMALL_TEST


def estimated_seconds(leader_seconds: list[float], plan: CrossValidation, n_pool: int, n_train: int) -> float:
    """Training time the folds would take: each leader's full-size run, scaled to a fold's training set, per fold."""
    fold_train = n_pool * (plan.folds - 1) / plan.folds
    return plan.folds * plan.repeats * sum(leader_seconds) * fold_train / max(n_train, 1)


def within_auto_budget(estimate: float, spent: float) -> bool:
    """`cv="auto"` may at most double the comparison's training time; beyond that the user asks for folds by name,
    so a default run never turns a 10-minute comparison into an hour without saying so first."""
    return estimate <= spent


def labeled_pool(splits: DatasetSplits) -> tuple[LabeledTexts, str]:
    """All labeled data the folds may use, and a phrase saying which: train and validation, plus the test split
    unless the data came with it (an official test split is never trained on)."""
    parts = [splits.train] + ([splits.validation] if splits.validation is not None else [])
    if not given_test_split(splits):
        parts.append(splits.test)
        used = "train, validation and test splits pooled (the test split was carved by tunetext)"
    else:
        used = "train and validation splits only (the test split came with the data and stays held out)"
    texts = [t for part in parts for t in part.texts]
    labels = [label for part in parts for label in part.labels]
    return LabeledTexts(texts, labels, f"{splits.name} (cross-validation pool)"), used


def given_test_split(splits: DatasetSplits) -> bool:
    """Whether the test split came with the data (an official split) rather than being carved out by tunetext.

    Unknown provenance counts as given: the safe side is never to train on a test split.
    """
    if "official_split" in splits.info:  # catalog datasets
        return bool(splits.info["official_split"])
    carved = splits.info.get("split", "").partition("carved")[0]  # files: "test, validation carved from train ..."
    return "split" not in splits.info or "test" not in carved


def fold_splits(pool: LabeledTexts, plan: CrossValidation, name: str) -> list[tuple[int, DatasetSplits]]:
    """(repeat, fold) for every fold of the plan: stratified, shuffled with seed = repeat."""
    counts = np.unique(pool.labels, return_counts=True)[1]
    if counts.min() < plan.folds:
        raise ConfigError(f"cv={plan.folds}: the smallest class has {counts.min()} labeled texts, fewer than the "
                          f"folds; pass fewer folds (cv={max(2, int(counts.min()))}) or cv=off.")
    folds = []
    for repeat in range(plan.repeats):
        splitter = StratifiedKFold(plan.folds, shuffle=True, random_state=repeat)
        for k, (train, test) in enumerate(splitter.split(np.zeros(len(pool)), pool.labels)):
            folds.append((repeat, DatasetSplits(f"{name} (cv repeat {repeat} fold {k})", pool.subset(train), pool.subset(test))))
    return folds


def cross_validate(leaders: list[Cell], splits: DatasetSplits, plan: CrossValidation, out: Path, metric: str, *,
                   on_start: Callable[[Cell, bool, int], None] | None = None) -> dict:
    """Run `leaders` (two full-size cells: first minus second is the difference tested) on every fold; each fold's
    results are saved under `out/cv/` as they finish, so a killed run resumes.

    Returns each leader's per-fold scores, the corrected resampled t-test of their difference, which data the
    folds used, and the extra runs and training time they cost. `on_start` is as for `run_cells`.
    """
    pool, used = labeled_pool(splits)
    scores: dict[str, list[float]] = {cell.label: [] for cell in leaders}
    seconds = 0.0
    for repeat, fold in fold_splits(pool, plan, splits.name):
        cells = [dataclasses.replace(cell, size=None, seed=repeat, data=fold.fingerprint()) for cell in leaders]
        for cell, result in zip(cells, run_cells(cells, fold, out / CV_DIR, on_start=on_start)):
            scores[cell.label].append(float(result[metric]))
            seconds += float(result["train_seconds"])
    first, second = (cell.label for cell in leaders)
    test = corrected_resampled_t_test(np.array(scores[first]) - np.array(scores[second]), 1 / (plan.folds - 1))
    return {"folds": plan.folds, "repeats": plan.repeats, "plan": plan.name, "data": used, "n_pool": len(pool),
            "first": first, "second": second,
            "scores": {m: {"mean": float(np.mean(s)), "std": float(np.std(s, ddof=1)), "folds": s} for m, s in scores.items()},
            "difference": test, "extra_runs": len(leaders) * plan.folds * plan.repeats, "extra_train_seconds": seconds}
