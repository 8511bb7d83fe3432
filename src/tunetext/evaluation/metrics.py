"""Classification metrics from predicted probabilities: one dictionary, JSON-ready, the same for every method."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    log_loss,
    precision_recall_fscore_support,
)

from tunetext.data.dataset import Text


def evaluate(
    labels: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    texts: Sequence[Text] | None = None,
    positive_label: str | None = None,
    n_errors: int = 10,
) -> dict:
    """Accuracy, precision/recall/F1 (macro, weighted, and binary for two classes), log-loss,
    per-class report, confusion matrix and — given `texts` — the most confidently wrong examples.

    `positive_label` for binary F1 defaults to the second class in sorted order (e.g. 'spam' of ham/spam).
    """
    classes = [str(c) for c in classes]
    labels = np.asarray([str(label) for label in labels], dtype=object)
    proba = np.asarray(proba, dtype=np.float64)
    proba /= proba.sum(axis=1, keepdims=True)  # float32 rows sum to 1 only within 1e-7; log_loss checks tighter
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    result: dict = {"n": int(len(labels)), "accuracy": float(accuracy_score(labels, predicted))}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(labels, predicted, labels=classes, average=average, zero_division=0)
        result |= {f"precision_{average}": float(p), f"recall_{average}": float(r), f"f1_{average}": float(f)}
    if len(classes) == 2:
        positive = positive_label or classes[1]
        p, r, f, _ = precision_recall_fscore_support(
            labels, predicted, labels=classes, pos_label=positive, average="binary", zero_division=0
        )
        result |= {"positive_label": positive, "precision": float(p), "recall": float(r), "f1": float(f)}
    result["log_loss"] = float(log_loss(labels, proba, labels=classes))
    p, r, f, support = precision_recall_fscore_support(labels, predicted, labels=classes, zero_division=0)
    result["per_class"] = {
        c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
        for i, c in enumerate(classes)
    }
    result["confusion_matrix"] = {"labels": classes, "matrix": confusion_matrix(labels, predicted, labels=classes).tolist()}
    if texts is not None:
        result["confident_errors"] = confident_errors(texts, labels, proba, classes, n_errors)
    return result


def confident_errors(texts: Sequence[Text], labels: np.ndarray, proba: np.ndarray, classes: Sequence[str], n: int) -> list[dict]:
    """The wrong predictions the model was surest of: usually label noise or a systematic blind spot."""
    predicted_index = proba.argmax(axis=1)
    wrong = np.flatnonzero(np.asarray(classes, dtype=object)[predicted_index] != labels)
    wrong = wrong[np.argsort(-proba[wrong, predicted_index[wrong]], kind="stable")][:n]
    return [
        {
            "index": int(i),
            "text": texts[i] if isinstance(texts[i], str) else " ||| ".join(texts[i]),
            "label": str(labels[i]),
            "predicted": classes[predicted_index[i]],
            "confidence": float(proba[i, predicted_index[i]]),
        }
        for i in wrong
    ]
