"""Uncertainty: mean ± std over seeds, bootstrap intervals on the test set, and a paired test.

Bootstrap and McNemar work from each cell's per-example predictions, so no model is re-run.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.stats import binomtest

METRICS = ("accuracy", "f1_macro")


def aggregate(results: list[dict]) -> list[dict]:
    """One row per (method, size): mean and std over seeds of the metrics and costs."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in results:
        groups[r["method"], r["size_per_class"]].append(r)
    rows = []
    for (method, size), cells in groups.items():
        row = {"method": method, "family": cells[0]["family"], "reference": cells[0].get("reference", False),
               "size_per_class": size, "seeds": len(cells),
               "n_train": float(np.mean([c["n_train"] for c in cells]))}
        multilabel = ("f1_micro",) if "f1_micro" in cells[0] else ()  # multi-label cells rank by it by default
        for key in METRICS + multilabel + ("train_seconds", "predict_texts_per_second", "peak_memory_mb", "size_mb"):
            values = np.array([c[key] for c in cells], dtype=float)
            row[key] = float(values.mean())
            row[f"{key}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        rows.append(row)
    return sorted(rows, key=lambda r: (r["method"], r["n_train"]))


def bootstrap_interval(
    true_index: np.ndarray, predicted_index: np.ndarray, n_classes: int, *, resamples: int = 1000, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of accuracy and macro-F1 over test-set resamples."""
    rng = np.random.default_rng(seed)
    n = len(true_index)
    draws = rng.integers(0, n, size=(resamples, n))
    t, p = true_index[draws], predicted_index[draws]
    accuracy = (t == p).mean(axis=1)
    f1 = np.empty(resamples)
    for i in range(resamples):
        tp = np.bincount(t[i][t[i] == p[i]], minlength=n_classes)
        true_count = np.bincount(t[i], minlength=n_classes)
        pred_count = np.bincount(p[i], minlength=n_classes)
        denominator = true_count + pred_count
        f1[i] = np.mean(np.divide(2 * tp, denominator, out=np.zeros(n_classes), where=denominator > 0))
    return {
        "accuracy": tuple(np.percentile(accuracy, [2.5, 97.5]).tolist()),
        "f1_macro": tuple(np.percentile(f1, [2.5, 97.5]).tolist()),
    }


def mcnemar(true_index: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict:
    """Exact McNemar test: do two classifiers err on the same test examples at different rates?"""
    a_right, b_right = a == true_index, b == true_index
    only_a, only_b = int(np.sum(a_right & ~b_right)), int(np.sum(~a_right & b_right))
    p = binomtest(only_a, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return {"only_first_right": only_a, "only_second_right": only_b, "p_value": float(p)}
