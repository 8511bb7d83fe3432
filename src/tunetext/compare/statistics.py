"""Uncertainty: mean ± std over seeds, bootstrap intervals on the test set, paired tests on the test set and
across cross-validation folds.

Bootstrap and McNemar work from each cell's per-example predictions, so no model is re-run.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable

import numpy as np
from scipy.stats import binomtest
from scipy.stats import t as student_t

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
            values = np.array([c[key] for c in cells if c[key] is not None], dtype=float)
            if not len(values):  # not measured (curve cells' speed): no mean, no spread
                row[key] = row[f"{key}_std"] = None
                continue
            row[key] = float(values.mean())
            row[f"{key}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        rows.append(row)
    return sorted(rows, key=lambda r: (r["method"], r["n_train"]))


def _resampled_scores(t: np.ndarray, p: np.ndarray, n_classes: int) -> dict[str, np.ndarray]:
    """Accuracy and macro-F1 of each row of resampled (true, predicted) class indices."""
    f1 = np.empty(len(t))
    for i in range(len(t)):
        tp = np.bincount(t[i][t[i] == p[i]], minlength=n_classes)
        true_count = np.bincount(t[i], minlength=n_classes)
        pred_count = np.bincount(p[i], minlength=n_classes)
        denominator = true_count + pred_count
        f1[i] = np.mean(np.divide(2 * tp, denominator, out=np.zeros(n_classes), where=denominator > 0))
    return {"accuracy": (t == p).mean(axis=1), "f1_macro": f1}


def bootstrap_interval(
    true_index: np.ndarray, predicted_index: np.ndarray, n_classes: int, *, resamples: int = 1000, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of accuracy and macro-F1 over test-set resamples."""
    draws = np.random.default_rng(seed).integers(0, len(true_index), size=(resamples, len(true_index)))
    scores = _resampled_scores(true_index[draws], predicted_index[draws], n_classes)
    return {name: tuple(np.percentile(values, [2.5, 97.5]).tolist()) for name, values in scores.items()}


def paired_test(
    true_index: np.ndarray, a: np.ndarray, b: np.ndarray, n_classes: int, metric: str, *, resamples: int = 1000,
    seed: int = 0,
) -> dict:
    """The paired test of the metric the methods are ranked by, with the 95% interval of metric(a) − metric(b) over
    test-set resamples (both scored on the same resample): spanning zero, the test split cannot tell them apart.

    Accuracy: exact McNemar, which tests exactly the error rates accuracy counts. Macro-F1 (skewed data) is not a
    mean over texts, so McNemar would test the wrong quantity: a lead won on the small class can come with no more
    texts right. There the p-value is the paired bootstrap's, from the interval's own resamples.
    """
    def score(predicted: np.ndarray, draws: np.ndarray) -> np.ndarray:
        return _resampled_scores(true_index[draws], predicted[draws], n_classes)[metric]

    bootstrap = paired_bootstrap(score, a, b, len(true_index), metric, resamples=resamples, seed=seed)
    result = {"n_test": len(true_index), "difference_95": bootstrap.pop("difference_95")}
    return result | (mcnemar(true_index, a, b) if metric == "accuracy" else bootstrap)


def paired_bootstrap(score: Callable[[np.ndarray, np.ndarray], np.ndarray], a: np.ndarray, b: np.ndarray, n: int,
                     metric: str, *, resamples: int = 1000, seed: int = 0) -> dict:
    """Paired bootstrap of `metric` for predictions `a` and `b` of the same `n` test texts: both scored on the
    same resamples (`score(predicted, draws)`: the metric on each row of text indices), giving the 95% interval
    of the difference and its two-sided p-value."""
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    difference = score(a, draws) - score(b, draws)
    whole = np.arange(n)[None]
    observed = float(score(a, whole)[0] - score(b, whole)[0])
    return {"difference_95": tuple(np.percentile(difference, [2.5, 97.5]).tolist()),
            "test": f"paired bootstrap of {metric}", "difference": observed,
            "p_value": bootstrap_p_value(difference, observed), "resamples": resamples}


def paired_test_name(paired: dict) -> str:
    """McNemar, or the test the paired result names (a paired bootstrap of macro-F1 or of a multi-label metric)."""
    return paired.get("test", "McNemar")


def separates(paired: dict | None) -> bool:
    """Whether a paired result's 95% interval of the difference excludes zero: the test split told the two apart."""
    if paired is None or "difference_95" not in paired:
        return False
    low, high = paired["difference_95"]
    return not low <= 0 <= high


def bootstrap_p_value(resampled_differences: np.ndarray, observed: float) -> float:
    """Two-sided paired-bootstrap p: twice the share of resamples on which the observed leader does not lead,
    counting the observed sample among them ((1 + k) / (1 + B), Davison & Hinkley 1997), so it is never 0:
    B resamples cannot show a p below 1 / (1 + B)."""
    behind = np.sum(resampled_differences <= 0) if observed > 0 else np.sum(resampled_differences >= 0)
    return float(min(1.0, 2 * (1 + behind) / (1 + len(resampled_differences))))


def corrected_resampled_t_test(differences: np.ndarray, test_to_train: float) -> dict:
    """Nadeau & Bengio's corrected resampled t-test on per-fold score differences of two methods.

    Cross-validation folds share training data, so their differences are correlated and the plain t-test is
    overconfident; the variance is inflated by `test_to_train` (n_test / n_train of one fold, 1/(k−1) for k-fold).
    Returns the mean difference, its 95% interval and the two-sided p-value.
    """
    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        raise ValueError(f"{len(d)} fold differences; the test needs at least 2.")
    mean, variance = float(d.mean()), float(d.var(ddof=1))
    se = np.sqrt((1 / len(d) + test_to_train) * variance)
    df = len(d) - 1
    if se == 0:
        return {"mean": mean, "low": mean, "high": mean, "p_value": 1.0 if mean == 0 else 0.0, "df": df}
    half = float(student_t.ppf(0.975, df) * se)
    p = float(2 * student_t.sf(abs(mean) / se, df))
    return {"mean": mean, "low": mean - half, "high": mean + half, "p_value": p, "df": df}


def mcnemar(true_index: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict:
    """Exact McNemar test: do two classifiers err on the same test examples at different rates?"""
    a_right, b_right = a == true_index, b == true_index
    only_a, only_b = int(np.sum(a_right & ~b_right)), int(np.sum(~a_right & b_right))
    p = binomtest(only_a, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return {"only_first_right": only_a, "only_second_right": only_b, "p_value": float(p)}
