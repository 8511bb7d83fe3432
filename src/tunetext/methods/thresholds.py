"""Multi-label decisions: one probability threshold per label, tuned on the validation split.

One-vs-rest at a fixed 0.5 leaves many texts with no label at all when a label is rare (its probabilities
rarely reach 0.5), so each label gets the threshold that maximises its own F1 on the validation split.
The test split is never an argument here. Without validation data, or for a label with no validation
example, the threshold stays at 0.5.
"""

from __future__ import annotations

import numpy as np

DEFAULT_THRESHOLD = 0.5


def tune_thresholds(truth: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Per-label thresholds (float32, one per column) maximising each label's F1 on (truth, proba).

    Candidates are the midpoints between consecutive distinct probabilities, so a threshold never sits on
    a validation score; ties go to the candidate nearest 0.5 (the least tuned one).
    """
    truth, proba = np.asarray(truth, dtype=bool), np.asarray(proba, dtype=np.float64)
    thresholds = np.full(truth.shape[1], DEFAULT_THRESHOLD, dtype=np.float32)
    for j in range(truth.shape[1]):
        if truth[:, j].any():
            thresholds[j] = _best_threshold(truth[:, j], proba[:, j])
    return thresholds


def _best_threshold(truth: np.ndarray, scores: np.ndarray) -> float:
    values = np.unique(scores)
    candidates = np.concatenate([[values[0] / 2], (values[1:] + values[:-1]) / 2, [(values[-1] + 1) / 2]])
    predicted = scores[None, :] >= candidates[:, None]  # (candidates, texts)
    tp = (predicted & truth).sum(axis=1)
    f1 = 2 * tp / np.maximum(predicted.sum(axis=1) + truth.sum(), 1)
    best = np.flatnonzero(np.isclose(f1, f1.max()))
    return float(candidates[best[np.argmin(np.abs(candidates[best] - DEFAULT_THRESHOLD))]])


def decide(proba: np.ndarray, thresholds: np.ndarray, *, at_least_one: bool) -> np.ndarray:
    """0/1 decisions (uint8, the shape of `proba`): a label where its probability reaches its threshold; with
    `at_least_one`, a text with none gets the label whose probability is furthest above (or nearest) its threshold."""
    proba = np.asarray(proba, dtype=np.float64)
    decided = proba >= np.asarray(thresholds, dtype=np.float64)[None, :]
    if at_least_one and len(proba):
        empty = ~decided.any(axis=1)
        best = (proba - np.asarray(thresholds)[None, :]).argmax(axis=1)
        decided[empty, best[empty]] = True
    return decided.astype(np.uint8)


def to_label_sets(decided: np.ndarray, classes) -> np.ndarray:
    """An object array of label tuples, one per row of a 0/1 matrix with columns in `classes` order."""
    classes = list(classes)
    out = np.empty(len(decided), dtype=object)
    out[:] = [tuple(classes[j] for j in np.flatnonzero(row)) for row in decided]
    return out


def predict_labels(proba: np.ndarray, classes, thresholds: np.ndarray | None = None, *, at_least_one: bool = False) -> np.ndarray:
    """What a model predicts from its probabilities: the argmax class (`thresholds` None), or the label sets
    `decide` gives. Methods and ONNX exports share it, so both decide alike."""
    classes = np.asarray(classes, dtype=object)
    if thresholds is None:
        return classes[np.asarray(proba).argmax(axis=1)] if len(proba) else np.array([], dtype=object)
    return to_label_sets(decide(proba, thresholds, at_least_one=at_least_one), classes)
