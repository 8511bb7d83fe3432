"""Uncertainty for multi-label comparisons: bootstrap intervals over texts and a paired bootstrap test.

McNemar counts texts one classifier gets right and the other wrong, which has no clear meaning when a text
has several labels; resampling texts and recomputing the metric for both methods on the same resample does.
"""

from __future__ import annotations

import numpy as np

from tunetext.compare import statistics

METRICS = ("f1_micro", "f1_macro", "accuracy")
"""What compare ranks multi-label data by (see `evaluation.skew.MULTILABEL_METRICS`); `accuracy` is subset accuracy."""


def _scores(truth: np.ndarray, predicted: np.ndarray, draws: np.ndarray, block: int = 50) -> dict[str, np.ndarray]:
    """Each metric on every resample (rows of `draws` index texts): arrays of shape (resamples,); `block`
    resamples at a time bound the memory (resamples × texts × labels booleans at once would not be)."""
    if len(draws) > block:
        parts = [_scores(truth, predicted, draws[i : i + block], block) for i in range(0, len(draws), block)]
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    t, p = truth[draws].astype(bool), predicted[draws].astype(bool)  # (resamples, texts, labels)
    tp, fp, fn = (t & p).sum(axis=1), (~t & p).sum(axis=1), (t & ~p).sum(axis=1)  # (resamples, labels)
    micro_denominator = 2 * tp.sum(axis=1) + fp.sum(axis=1) + fn.sum(axis=1)
    per_label_denominator = 2 * tp + fp + fn
    per_label = np.divide(2 * tp, per_label_denominator, out=np.zeros(tp.shape), where=per_label_denominator > 0)
    return {
        "f1_micro": np.divide(2 * tp.sum(axis=1), micro_denominator, out=np.zeros(len(draws)), where=micro_denominator > 0),
        "f1_macro": per_label.mean(axis=1),
        "accuracy": (t == p).all(axis=2).mean(axis=1),
    }


def _draws(n: int, resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_interval(truth: np.ndarray, predicted: np.ndarray, *, resamples: int = 1000, seed: int = 0) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of micro-F1, macro-F1 and subset accuracy over resamples of the test texts."""
    scores = _scores(np.asarray(truth), np.asarray(predicted), _draws(len(truth), resamples, seed))
    return {name: tuple(np.percentile(values, [2.5, 97.5]).tolist()) for name, values in scores.items()}


def paired_bootstrap(truth: np.ndarray, a: np.ndarray, b: np.ndarray, metric: str, *, resamples: int = 1000,
                     seed: int = 0) -> dict:
    """Two-sided paired bootstrap test of `metric` (`statistics.paired_bootstrap`), on label sets."""
    truth = np.asarray(truth)

    def score(predicted: np.ndarray, draws: np.ndarray) -> np.ndarray:
        return _scores(truth, np.asarray(predicted), draws)[metric]

    result = statistics.paired_bootstrap(score, a, b, len(truth), metric, resamples=resamples, seed=seed)
    del result["difference_95"]  # compare cross-validates on a spanning interval; multi-label data has no folds yet
    return result
