"""Metrics on hostile evaluation data (issue 12): classes missing from the file, and very many classes."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from rich.console import Console
from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score

from tunetext.evaluation import evaluate
from tunetext.evaluation.metrics import DENSE_CONFUSION_MAX_CLASSES, dense_confusion
from tunetext.evaluation.tables import metrics_table, per_class_table

CLASSES = ["a", "b", "c", "d", "e", "f"]


def one_hot(predicted: list[str], classes: list[str]) -> np.ndarray:
    return np.eye(len(classes), dtype=np.float32)[[classes.index(p) for p in predicted]] * 0.9 + 0.1 / len(classes)


def two_of_six():
    """An evaluation file with two of the model's six classes; four errors go to classes the file lacks."""
    labels = ["a"] * 30 + ["b"] * 10
    predicted = ["a"] * 26 + ["c"] * 3 + ["b"] + ["b"] * 9 + ["d"]
    return labels, predicted


def test_macro_averages_cover_the_classes_present_in_the_data():
    labels, predicted = two_of_six()
    result = evaluate(labels, one_hot(predicted, CLASSES), CLASSES)
    present = ["a", "b"]
    assert result["accuracy"] == pytest.approx(35 / 40)
    assert result["f1_macro"] == pytest.approx(f1_score(labels, predicted, labels=present, average="macro"))
    assert result["precision_macro"] == pytest.approx(precision_score(labels, predicted, labels=present, average="macro"))
    assert result["recall_macro"] == pytest.approx(recall_score(labels, predicted, labels=present, average="macro"))
    # Counting the four absent classes as 0 gave a third of this: 0.30 next to accuracy 0.875, as in the issue.
    as_before = f1_score(labels, predicted, labels=CLASSES, average="macro", zero_division=0)
    assert as_before == pytest.approx(0.305, abs=1e-3) and result["f1_macro"] == pytest.approx(3 * as_before)
    assert result["averaged_over"] == present
    assert result["averaging_note"] == (
        "macro averages are over the 2 of 6 classes present in the evaluation data; absent: c, d, e, f "
        "(support 0 in the per-class report)"
    )
    assert list(result["per_class"]) == CLASSES and result["per_class"]["c"]["support"] == 0


def test_no_note_when_every_class_is_present():
    result = evaluate(["a", "b", "c", "c"], np.eye(3, dtype=np.float32)[[0, 1, 2, 0]], ["a", "b", "c"])
    assert result["averaged_over"] == ["a", "b", "c"] and "averaging_note" not in result


def test_the_printed_table_says_what_the_macro_averages_cover():
    labels, predicted = two_of_six()
    result = evaluate(labels, one_hot(predicted, CLASSES), CLASSES)
    console = Console(width=100, record=True)
    console.print(metrics_table(result), per_class_table(result))
    text = console.export_text()
    assert "macro over" in text and "2 of 6 classes" in text
    assert all(re.search(rf"^│ {c} .*│\s+0 │$", text, re.M) for c in "cdef")  # listed, with support 0


def test_many_classes_store_a_sparse_confusion_matrix_that_reads_back_dense():
    classes = [f"c{i:03d}" for i in range(300)]
    rng = np.random.default_rng(0)
    labels = list(rng.choice(classes, 3000))
    predicted = [label if rng.random() < 0.8 else str(rng.choice(classes)) for label in labels]
    result = evaluate(labels, one_hot(predicted, classes), classes)
    stored = result["confusion_matrix"]
    assert "matrix" not in stored and len(stored["diagonal"]) == len(classes)
    np.testing.assert_array_equal(dense_confusion(stored), confusion_matrix(labels, predicted, labels=classes))
    counts = [count for _, _, count in stored["off_diagonal"]]
    assert counts == sorted(counts, reverse=True) and all(count > 0 for count in counts)
    # Sparse grows with the errors (about 600), dense with 300² = 90,000 cells.
    assert len(json.dumps(stored)) < len(json.dumps(confusion_matrix(labels, predicted, labels=classes).tolist())) / 5


def test_up_to_the_limit_the_confusion_matrix_stays_dense():
    classes = [f"c{i:02d}" for i in range(DENSE_CONFUSION_MAX_CLASSES)]
    labels = classes * 2
    result = evaluate(labels, one_hot(labels, classes), classes)
    assert result["confusion_matrix"]["matrix"] == (2 * np.eye(len(classes), dtype=int)).tolist()
    np.testing.assert_array_equal(dense_confusion(result["confusion_matrix"]), 2 * np.eye(len(classes)))
