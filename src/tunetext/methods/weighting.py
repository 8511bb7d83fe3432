"""`class_weight="auto"`: weight classes only where it helps, judged on the validation split.

Measured on sms-spam and reuters-r8 (benchmarks/results/skew.json), balancing helped tfidf-logreg on one and
hurt the probe on the other: no fixed setting is right for every dataset. "auto" fits both and keeps the one
with the higher validation macro-F1 (the unweighted one on a tie). The test split is never an argument here;
without a validation split there is nothing to judge on, so "auto" fits unweighted.
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

import numpy as np
from sklearn.metrics import f1_score

from tunetext.data.dataset import LabeledTexts, indicator

AUTO = "auto"
Model = TypeVar("Model")


def fit_class_weight(
    class_weight,
    fit: Callable[[object], Model],
    validation_proba: Callable[[Model], np.ndarray],
    validation: LabeledTexts | None,
    classes: Sequence[str],
) -> tuple[Model, object]:
    """`fit(weight)` once for a fixed `class_weight`; for "auto", with None and "balanced", keeping the model
    whose `validation_proba` (columns in `classes` order) scores the higher macro-F1. Returns (model, weight used)."""
    if class_weight != AUTO:
        return fit(class_weight), class_weight
    if validation is None or len(validation) == 0:
        return fit(None), None
    best = None
    for weight in (None, "balanced"):
        model = fit(weight)
        score = _macro_f1(validation, validation_proba(model), classes)
        if best is None or score > best[0]:
            best = (score, model, weight)
    return best[1], best[2]


def _macro_f1(validation: LabeledTexts, proba: np.ndarray, classes: Sequence[str]) -> float:
    """Macro-F1 of the argmax; for multi-label data, of each label at its threshold tuned on the same split
    (each weighting is judged as it will be used: with tuned thresholds)."""
    if validation.is_multilabel:
        from tunetext.methods.thresholds import decide, tune_thresholds

        truth = indicator(validation.labels, classes)
        decided = decide(proba, tune_thresholds(truth, proba), at_least_one=False)
        return f1_score(truth, decided, average="macro", zero_division=0)
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    return f1_score(list(validation.labels), list(predicted), average="macro", zero_division=0)
