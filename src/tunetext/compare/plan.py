"""What a comparison runs: every method × training-set size × seed, as a list of cells.

Sizes are examples *per class*, drawn as stratified subsamples of the training split, because the
question is how each method holds up with little labeled data; `None` means the whole training split.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tunetext.data.dataset import DatasetSplits, LabeledTexts
from tunetext.errors import ConfigError
from tunetext.methods import get_method_class, list_methods, make_method


FAMILY_ORDER = ("traditional", "pretrained", "fine-tuned")
"""Cheapest first, so baselines are on screen (and on disk) within seconds of starting."""


@dataclass(frozen=True)
class Budget:
    """How much of the grid to run: sizes per class, and seeds at subsampled and at full size."""

    sizes: tuple[int | None, ...]
    seeds_subsampled: int
    seeds_full: int
    every_method: bool = False
    """Run every registered method by default, not only those marked `in_fast_budget`."""
    few_label_sizes: tuple[int, ...] = ()
    """Sizes added when the data has few labels (no class over FEW_LABELS training texts): there the smallest
    sizes are the user's question, and every cell is cheap because the whole split is small."""

    def __post_init__(self) -> None:
        if not self.sizes or any(s is not None and s < 1 for s in self.sizes):
            raise ConfigError(f"sizes={self.sizes}: expected positive examples-per-class counts (or 'all').")
        if self.seeds_subsampled < 1 or self.seeds_full < 1:
            raise ConfigError("seeds must be at least 1.")


BUDGETS = {
    "fast": Budget(sizes=(16, 64, 256, None), seeds_subsampled=3, seeds_full=1, few_label_sizes=(8,)),
    "full": Budget(sizes=(8, 16, 32, 64, 256, 1024, None), seeds_subsampled=5, seeds_full=3, every_method=True),
}
"""`full` covers the few-shot range from 8 examples per class, where `contrastive` is built to lead. `fast` starts at
16 on larger data, because at 8 its fine-tuned cells cost as much as at 16 (~50 s a seed on 2 cores, min_steps) for
a curve point that says little about a large set; on few-label data it starts at 8."""

FEW_LABELS = 64
"""Data whose largest class has at most this many training texts has few labels (SetFit's 8-64 per class): the
fast budget adds its `few_label_sizes` and the methods that declare `in_fast_budget_for_few_labels`."""


FULL_SIZE_ROWS = {"traditional": 200_000, "pretrained": 20_000, "fine-tuned": 10_000}
"""At most this many training texts in a full-size cell, by method family (None: all), so a comparison on a
large file finishes in bounded time: on 2 CPU cores a fine-tuned encoder learns from ~50 texts/s and a
frozen one encodes ~100-500 texts/s, so 400k rows would take hours. The TF-IDF baselines take minutes on 400k,
but their cost grows with the distinct texts (tfidf-logreg: ~1 s per 1,000 distinct tweets), so a file of a
million distinct texts is capped too; `train` still fits the chosen method on all of them."""


EVALUATION_ROWS = {"validation": 5_000, "test": 20_000}
"""At most this many validation and test texts in a comparison (a stratified, seeded sample of each; every catalog
dataset is smaller). Every cell predicts the test split, and a fine-tuned one the validation split at each
evaluation, so on a large file scoring would cost more than the capped training: 50,000 test texts would take ~3 min a
cell on 2 cores. 20,000 still measure accuracy to within ±0.7 points (95%), and every cell scores the same texts,
so the paired tests stay paired."""


CURVE_TEST_ROWS = 5_000
"""Learning-curve cells (subsampled sizes) are scored on a stratified sample of at most this many of those test texts,
nested in the full-size cells' sample. Only full-size cells feed the paired tests and intervals; a curve point is a
mean over seeds, whose spread at 16-256 per class (1-3 points) exceeds the ±1.4 points (95%) of 5,000 texts. On a
large file scoring is most of a fine-tuned curve cell's cost: 20,000 health tweets took ~4 min (~80 texts/s)."""


def at_most(texts: LabeledTexts, cap: int | None, seed: int = 0) -> LabeledTexts:
    """`texts`, or a stratified, seeded sample of `cap` of them when there are more."""
    from tunetext.data.splits import stratified_holdout

    return texts if cap is None or len(texts) <= cap else stratified_holdout(texts, cap, seed=seed)[1]


def cap_rows(train: LabeledTexts, family: str, seed: int) -> LabeledTexts:
    """The full training split, or a stratified, seeded sample of FULL_SIZE_ROWS[family] texts of it."""
    return at_most(train, FULL_SIZE_ROWS[family], seed)


def cap_evaluation(splits: DatasetSplits) -> DatasetSplits:
    """`splits` with validation and test cut to EVALUATION_ROWS (the same sample for every cell)."""
    validation = None if splits.validation is None else at_most(splits.validation, EVALUATION_ROWS["validation"])
    return dataclasses.replace(splits, validation=validation, test=at_most(splits.test, EVALUATION_ROWS["test"]))


def curve_splits(splits: DatasetSplits) -> DatasetSplits:
    """What learning-curve cells score on: `splits` (after `cap_evaluation`) with the test split cut to CURVE_TEST_ROWS."""
    return dataclasses.replace(splits, test=at_most(splits.test, CURVE_TEST_ROWS))


def caps_sentence(splits: DatasetSplits) -> str:
    """What the report says about the caps, when the data (before `cap_evaluation`) is large enough for one to apply."""
    capped = [f"{family} methods on {cap:,}" for family, cap in FULL_SIZE_ROWS.items() if cap and len(splits.train) > cap]
    sentence = f" Full-size cells capped to a stratified sample: {', '.join(capped)} texts." if capped else ""
    scored = [f"{EVALUATION_ROWS[name]:,} of its {len(split):,} {name} texts" for name, split in
              (("validation", splits.validation), ("test", splits.test))
              if split is not None and len(split) > EVALUATION_ROWS[name]]
    sentence += f" Every cell scored on a stratified sample: {' and '.join(scored)}." if scored else ""
    tested = min(len(splits.test), EVALUATION_ROWS["test"])
    return sentence + (f" Learning-curve cells scored on {CURVE_TEST_ROWS:,} of those {tested:,} test texts."
                       if tested > CURVE_TEST_ROWS else "")


@dataclass(frozen=True)
class Cell:
    """One fit-and-evaluate run of the comparison."""

    method: str
    size: int | None
    seed: int
    data: str
    """`DatasetSplits.fingerprint()` of the data the cell trains and tests on."""
    params: dict = field(default_factory=dict, compare=False, hash=False)
    encoder: str | None = None
    """The encoder this cell's method runs on when compare fans out over several (`models`); it is also in `params`."""

    @property
    def label(self) -> str:
        """The cell's row name in the report: `method@encoder` when compare runs several encoders, else the method."""
        return f"{self.method}@{Path(self.encoder).name}" if self.encoder else self.method

    @property
    def key(self) -> str:
        """The name of the cell's saved result: a finished cell is reused only for the same data and every
        hyperparameter the same, defaults included (the encoder, too, when a method's default changes)."""
        resolved = make_method(self.method, **self.params).get_params(deep=False)
        identity = json.dumps({"data": self.data, "params": resolved}, sort_keys=True, default=str)
        digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
        return f"{self.label}__{self.size or 'all'}__seed{self.seed}__{digest}"


def plan_cells(
    methods: list[str] | None,
    budget: Budget,
    train: LabeledTexts,
    params: dict[str, dict] | None = None,
    *,
    data: str,
    curve_data: str | None = None,
    encoders: list[str] | None = None,
) -> list[Cell]:
    """Every cell to run on the data fingerprinted `data`, cheapest methods first so a user sees baselines within seconds.

    Sizes that would take the whole training split anyway collapse into 'all'; methods that don't learn
    from labels (zero-shot, an untrained head) run once, at full size. On few-label data (`FEW_LABELS`) the
    budget's `few_label_sizes` and the methods built for few labels join. With `encoders`, every method that
    declares a `model` hyperparameter runs once per encoder (its cells named `method@encoder`). Subsampled cells are
    keyed to `curve_data` (the fingerprint of `curve_splits`, which they score on) when given.
    """
    counts = np.unique(class_keys(train), return_counts=True)[1]
    few_labels = counts.max() <= FEW_LABELS
    methods = methods or [m for m in list_methods() if get_method_class(m).comparable
                          and (budget.every_method or get_method_class(m).in_fast_budget
                               or (few_labels and get_method_class(m).in_fast_budget_for_few_labels))
                          and (get_method_class(m).multilabel or not train.is_multilabel)]
    single = [m for m in methods if train.is_multilabel and not get_method_class(m).multilabel]
    if single:
        raise ConfigError(f"methods={','.join(single)}: the data is multi-label, which {' and '.join(single)} cannot "
                          "learn; leave them out (the default plans only methods that can).")
    unfit = [m for m in methods if not get_method_class(m).comparable]
    if unfit:
        raise ConfigError(f"methods={','.join(unfit)}: compare runs methods on one labeled dataset, which "
                          f"{' and '.join(unfit)} cannot learn from; train it with its own command instead.")
    methods = sorted(methods, key=lambda m: FAMILY_ORDER.index(get_method_class(m).family))
    if encoders and len({Path(e).name for e in encoders}) < len(encoders):
        raise ConfigError(f"models={','.join(encoders)}: rows are named by the encoder's last path part, and two "
                          "share one; give each encoder folder a distinct name.")
    params = params or {}
    wanted = budget.sizes + (budget.few_label_sizes if few_labels else ())
    sizes = sorted({s for s in wanted if s is None or s < counts.max()}, key=lambda s: (s is None, s))
    if None not in sizes:
        sizes.append(None)
    cells = []
    for name in methods:
        cls = get_method_class(name)
        runs_on = encoders if encoders and "model" in cls().get_params() else [None]
        for encoder, size in itertools.product(runs_on, sizes if cls.learns_from_labels else [None]):
            seeds = budget.seeds_full if size is None else budget.seeds_subsampled
            method_params = params.get(name, {}) | ({"model": encoder} if encoder else {})
            scored_on = data if size is None else curve_data or data
            cells += [Cell(name, size, seed, scored_on, method_params, encoder) for seed in range(seeds)]
    return cells


def class_keys(data: LabeledTexts) -> np.ndarray:
    """Each text's class; for multi-label data its label set (joined by "|"), so curves subsample by set."""
    return np.asarray(["|".join(label) if isinstance(label, tuple) else label for label in data.labels], dtype=object)


def subsample(train: LabeledTexts, per_class: int | None, seed: int) -> LabeledTexts:
    """A stratified subsample with at most `per_class` examples of each class (all of a smaller class); for
    multi-label data, of each label set (the empty set too)."""
    if per_class is None:
        return train
    rng = np.random.default_rng(seed)
    labels = class_keys(train)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    return train.subset(np.sort(np.concatenate(chosen)))
