"""Classification metrics from predicted probabilities: one dictionary, JSON-ready, the same for every method."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    hamming_loss,
    log_loss,
    precision_recall_fscore_support,
)

from tunetext.data.dataset import Text, indicator, is_multilabel, label_set
from tunetext.evaluation.calibration import calibration_metrics

DENSE_CONFUSION_MAX_CLASSES = 50
"""Above this many classes the confusion matrix is stored sparsely: a dense one grows with the square of
the classes (4,842 classes made a 258 MB metrics.json), the errors only with the evaluated rows."""
_NOTE_CLASSES = 10  # absent classes named in the averaging note


def evaluate(
    labels: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    texts: Sequence[Text] | None = None,
    positive_label: str | None = None,
    n_errors: int = 10,
    predicted: Sequence | None = None,
) -> dict:
    """Accuracy, precision/recall/F1 (macro, weighted, and binary for two classes), log-loss,
    calibration (`ece`, `brier`, `reliability`: see `evaluation.calibration`), per-class report, confusion
    matrix and — given `texts` — the most confidently wrong examples.

    Macro and weighted averages are over the classes present in `labels` (listed in `averaged_over`),
    as scikit-learn's `labels=` does: a class the data has no example of cannot be measured, and
    counting it as 0 would make macro-F1 depend on which classes the file happens to lack. Predicted
    classes absent from the data do not count either (scikit-learn's default would add them): those
    errors already lower the recall of the true classes, and one stray prediction of an absent class
    would otherwise add a class with F1 0 to the average.
    `per_class` still lists every class, with support 0 where absent.

    `positive_label` for binary F1 defaults to the second class in sorted order (e.g. 'spam' of ham/spam).
    Multi-label `labels` (tuples of names) are scored by `evaluate_multilabel`, on the label sets
    `predicted` (the method's `decide(proba)`; each label at 0.5 when not given).
    """
    if is_multilabel(labels):
        return evaluate_multilabel(labels, proba, classes, predicted=predicted)
    classes = [str(c) for c in classes]
    labels = np.asarray([str(label) for label in labels], dtype=object)
    proba = np.asarray(proba, dtype=np.float64)
    proba /= proba.sum(axis=1, keepdims=True)  # float32 rows sum to 1 only within 1e-7; log_loss checks tighter
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    present = set(labels)
    averaged_over = [c for c in classes if c in present]
    result: dict = {"n": int(len(labels)), "accuracy": float(accuracy_score(labels, predicted))}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            labels, predicted, labels=averaged_over, average=average, zero_division=0
        )
        result |= {f"precision_{average}": float(p), f"recall_{average}": float(r), f"f1_{average}": float(f)}
    result["averaged_over"] = averaged_over
    if len(averaged_over) < len(classes):
        absent = [c for c in classes if c not in present]
        more = len(absent) - _NOTE_CLASSES
        named = ", ".join(absent[:_NOTE_CLASSES]) + (f" and {more} more" if more > 0 else "")
        result["averaging_note"] = (
            f"macro averages are over the {len(averaged_over)} of {len(classes)} classes present in the "
            f"evaluation data; absent: {named} (support 0 in the per-class report)"
        )
    if len(classes) == 2:
        positive = positive_label or classes[1]
        p, r, f, _ = precision_recall_fscore_support(
            labels, predicted, labels=classes, pos_label=positive, average="binary", zero_division=0
        )
        result |= {"positive_label": positive, "precision": float(p), "recall": float(r), "f1": float(f)}
    result["log_loss"] = float(log_loss(labels, proba, labels=classes))
    index = {c: i for i, c in enumerate(classes)}
    result |= calibration_metrics(proba, np.asarray([index[label] for label in labels]))
    p, r, f, support = precision_recall_fscore_support(labels, predicted, labels=classes, zero_division=0)
    result["per_class"] = {
        c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
        for i, c in enumerate(classes)
    }
    result["confusion_matrix"] = _confusion(labels, predicted, classes)
    if texts is not None:
        result["confident_errors"] = confident_errors(texts, labels, proba, classes, n_errors)
    return result


def evaluate_multilabel(labels: Sequence, proba: np.ndarray, classes: Sequence[str], *, predicted: Sequence | None = None) -> dict:
    """Multi-label metrics of predicted label sets against true ones (scikit-learn's definitions):
    precision/recall/F1 micro (over every text-label decision), macro (mean over labels) and weighted (by
    support); `subset_accuracy` (the whole set right; also reported as `accuracy`, as scikit-learn's
    `accuracy_score` does), `hamming_loss` (share of wrong text-label decisions), per-label report,
    and from the probabilities: `log_loss` (mean binary cross-entropy per text and label), and `brier`
    and `ece` over the text-label probabilities taken as binary predictions.
    """
    from tunetext.evaluation.calibration import brier_score, expected_calibration_error, reliability

    classes = [str(c) for c in classes]
    truth = indicator([label_set(names) for names in labels], classes)
    proba = np.clip(np.asarray(proba, dtype=np.float64), 1e-15, 1 - 1e-15)
    decided = (proba >= 0.5).astype(np.uint8) if predicted is None else indicator([label_set(p) for p in predicted], classes)
    result: dict = {"n": int(len(truth)), "multilabel": True}
    result["subset_accuracy"] = result["accuracy"] = float(accuracy_score(truth, decided))
    result["hamming_loss"] = float(hamming_loss(truth, decided))
    for average in ("micro", "macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(truth, decided, average=average, zero_division=0)
        result |= {f"precision_{average}": float(p), f"recall_{average}": float(r), f"f1_{average}": float(f)}
    result["empty_true"] = int((truth.sum(axis=1) == 0).sum())
    result["empty_predicted"] = int((decided.sum(axis=1) == 0).sum())
    result["log_loss"] = float(-(truth * np.log(proba) + (1 - truth) * np.log(1 - proba)).mean()) if truth.size else 0.0
    binary = np.stack([1 - proba.ravel(), proba.ravel()], axis=1)
    result["ece"] = expected_calibration_error(binary, truth.ravel())
    result["brier"] = brier_score(binary, truth.ravel()) / 2  # the binary Brier score (p − y)², per text-label
    result["reliability"] = reliability(binary, truth.ravel())
    p, r, f, support = precision_recall_fscore_support(truth, decided, average=None, zero_division=0)
    result["per_class"] = {
        c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i]),
            "predicted": int(decided[:, i].sum())}
        for i, c in enumerate(classes)
    }
    return result


def _confusion(labels: np.ndarray, predicted: np.ndarray, classes: list[str]) -> dict:
    """`{"labels", "matrix"}` up to DENSE_CONFUSION_MAX_CLASSES classes; beyond, `{"labels", "diagonal",
    "off_diagonal"}`: the correct counts in `labels` order, and `[true, predicted, count]` for every pair
    confused at least once, most frequent first. `dense_confusion` reads both."""
    if len(classes) <= DENSE_CONFUSION_MAX_CLASSES:
        return {"labels": classes, "matrix": confusion_matrix(labels, predicted, labels=classes).tolist()}
    right = Counter(labels[labels == predicted])
    wrong = Counter(zip(labels[labels != predicted], predicted[labels != predicted]))
    return {
        "labels": classes,
        "diagonal": [right[c] for c in classes],
        "off_diagonal": [[true, guess, count] for (true, guess), count in wrong.most_common()],
    }


def dense_confusion(confusion: dict) -> np.ndarray:
    """The counts of a stored confusion matrix, dense or sparse, as an array: rows true, columns predicted."""
    if "matrix" in confusion:
        return np.asarray(confusion["matrix"])
    index = {label: i for i, label in enumerate(confusion["labels"])}
    matrix = np.diag(np.asarray(confusion["diagonal"], dtype=np.int64))
    for true, guess, count in confusion["off_diagonal"]:
        matrix[index[true], index[guess]] = count
    return matrix


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
