"""Are the probabilities honest? Expected calibration error, the Brier score, a reliability table, and
temperature scaling: users act on probabilities (a person reviews below 0.7), not only on the argmax."""

from __future__ import annotations

import numpy as np

ECE_BINS = 15
"""Equal-width bins of the top-class confidence, as Guo et al. (2017) and most papers report ECE."""


def reliability(proba: np.ndarray, true_index: np.ndarray, n_bins: int = ECE_BINS) -> dict[str, list]:
    """Per confidence bin ((0, 1/n], ..., ((n-1)/n, 1]): the number of texts, their mean top-class confidence
    and their accuracy (both None in an empty bin). JSON-ready: compare draws its reliability diagram from it."""
    proba, true_index = np.asarray(proba, dtype=np.float64), np.asarray(true_index)
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == true_index
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    conf_sum = np.bincount(bins, weights=confidence, minlength=n_bins)
    right = np.bincount(bins, weights=correct, minlength=n_bins)
    mean = lambda total: [float(t / c) if c else None for t, c in zip(total, counts)]  # noqa: E731
    return {"count": counts.tolist(), "confidence": mean(conf_sum), "accuracy": mean(right)}


def expected_calibration_error(proba: np.ndarray, true_index: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Σ over bins of (share of texts) · |accuracy − mean confidence|: 0 when "90% sure" is right 90% of the time."""
    table = reliability(proba, true_index, n_bins)
    n = max(sum(table["count"]), 1)
    return float(sum(c / n * abs(a - p) for c, a, p in zip(table["count"], table["accuracy"], table["confidence"]) if c))


def brier_score(proba: np.ndarray, true_index: np.ndarray) -> float:
    """Multi-class Brier score: the mean over texts of Σ_k (p_k − [k is the label])², from 0 (perfect) to 2."""
    proba = np.asarray(proba, dtype=np.float64)
    onehot = np.zeros_like(proba)
    onehot[np.arange(len(proba)), np.asarray(true_index)] = 1.0
    return float(((proba - onehot) ** 2).sum(axis=1).mean())


def calibration_metrics(proba: np.ndarray, true_index: np.ndarray) -> dict:
    """`ece`, `brier` and the `reliability` table, for the metrics dictionary."""
    return {"ece": expected_calibration_error(proba, true_index), "brier": brier_score(proba, true_index),
            "reliability": reliability(proba, true_index)}


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, true_index: np.ndarray) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(logits / T) (Guo et al., 2017).

    One scalar, so it never changes which class is largest: it only sharpens (T < 1) or softens (T > 1)
    the probabilities. Searched over log T in [-3, 3] (T from 0.05 to 20): bounded, deterministic.
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import logsumexp

    z = np.asarray(logits, dtype=np.float64)
    true_index = np.asarray(true_index)

    def nll(log_t: float) -> float:
        scaled = z / np.exp(log_t)
        return float((logsumexp(scaled, axis=1) - scaled[np.arange(len(z)), true_index]).mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x))


def choose_temperature(logits: np.ndarray, true_index: np.ndarray) -> float:
    """The NLL-fitted temperature if it lowers the ECE of these (validation) logits, else 1 (no change)."""
    temperature = fit_temperature(logits, true_index)
    before = expected_calibration_error(softmax(logits), true_index)
    after = expected_calibration_error(softmax(logits, temperature), true_index)
    return temperature if after < before else 1.0
